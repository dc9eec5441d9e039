"""Train the Siamese city verifier on image pairs (seed 001, sec. 8.3.2); resumable.

Data: a CSV with an image path column and a ``city`` column (optional
``country``, ``split`` train/val/test). Each epoch samples ``--pairs-per-epoch``
balanced pairs (seed: 16,384; half same-city, negatives spread over city pairs,
>= 50 % of negatives country-plausible when ``--country-model`` is given);
loss BCE (target 1 = different cities); SGD lr 1e-2, momentum 0.9, weight
decay 1e-4, batch 32 pairs; augmentation: shorter side 256, flips, random crop
>= 2/3 area -> 224. The checkpoint is written after every epoch; ``--resume``
continues.

Demo (shipped ``geo/city_demo``; the 'cities' are photos, see its model card)::

    python -m toolkit.geo.city_train --demo-data /tmp/geo_demo --backbone tiny --epochs 6 \
        --pairs-per-epoch 1024 --out /tmp/geo_city_demo_ck.pt --register geo/city_demo
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from toolkit.geo._common import to_tensor
from toolkit.geo.city import (
    SiameseNet,
    build_siamese,
    decide,
    pair_probabilities,
    sample_pairs,
    save_siamese,
    scene_similarity,
)
from toolkit.geo.country import resize_shorter
from toolkit.geo.image import load_image
from toolkit.geo.train import augment

__all__ = ["read_city_dataset", "train_siamese", "evaluate_pairs", "verification_rates", "main"]


def read_city_dataset(csv: str | os.PathLike, root: str | os.PathLike | None = None) -> list[dict]:
    """Items ``{'path', 'city', 'label', 'split', 'country'}`` from a CSV with path and city columns.

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "c.csv"
    >>> _ = f.write_text(chr(10).join(["path,city", "a.jpg,Rome", "b.jpg,Paris"]))
    >>> [(it["city"], it["label"]) for it in read_city_dataset(f)]
    [('Rome', 1), ('Paris', 0)]
    """
    import pandas as pd

    csv = Path(csv)
    if not csv.is_file():
        raise FileNotFoundError(f"no dataset CSV at {str(csv)!r}")
    df = pd.read_csv(csv)
    low = {c.lower(): c for c in df.columns}
    pc = next((low[c] for c in ("path", "image", "file", "filename") if c in low), None)
    cc = low.get("city")
    if pc is None or cc is None:
        raise ValueError(f"{csv} needs an image path column and a 'city' column")
    base = Path(root) if root else csv.parent
    cities = sorted(df[cc].astype(str).unique())
    items = []
    for _, r in df.iterrows():
        p = Path(str(r[pc]))
        items.append(
            {
                "path": str(p if p.is_absolute() else base / p),
                "city": str(r[cc]),
                "label": cities.index(str(r[cc])),
                "split": str(r[low["split"]]) if "split" in low else "",
                "country": str(r[low["country"]]) if "country" in low else "",
            }
        )
    return items


def train_siamese(
    items: list[dict],
    *,
    backbone: str = "vit_l_16",
    epochs: int = 50,
    pairs_per_epoch: int = 16384,
    batch_size: int = 32,
    lr: float = 1e-2,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    pretrained: bool = False,
    top2=None,
    init_from=None,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
) -> tuple[SiameseNet, list[dict]]:
    """Train (or resume) a :class:`SiameseNet` with BCE on freshly sampled pairs each epoch.

    ``top2``: optional N x 2 predicted country classes per item for the seed's
    country-plausible negatives. ``init_from``: a 'tiny' country classifier (model or
    checkpoint) whose backbone initialises the branches (the CPU demo's stand-in for
    the seed's ImageNet start). Returns (net, history). The checkpoint is written by
    :func:`toolkit.geo.city.save_siamese` and resumed with ``toolkit.weights.load_checkpoint``
    (``weights_only=True``); its ``extra`` holds ``optimizer``, ``epoch`` and ``history``.

    >>> import tempfile
    >>> from toolkit.geo.train import make_demo_dataset, read_dataset
    >>> DEMO = {"china": "CN", "coffee": "IT"}
    >>> csv = make_demo_dataset(tempfile.mkdtemp(), n_train=2, n_test=0, photos=DEMO)
    >>> items = read_dataset(csv)
    >>> net, history = train_siamese(items, backbone="tiny", epochs=1, pairs_per_epoch=4, progress=False)
    >>> len(history), net.backbone_name
    (1, 'tiny')
    """
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from toolkit._util import resolve_device

    if epochs < 1 or pairs_per_epoch < 2:
        raise ValueError("epochs must be >= 1 and pairs_per_epoch >= 2")
    dev = resolve_device(device)
    net = build_siamese(backbone, pretrained=pretrained, seed=seed)
    if init_from is not None:
        from toolkit.geo.country import load_model

        cm = load_model(init_from, device="cpu") if isinstance(init_from, (str, os.PathLike)) else init_from
        if backbone != "tiny" or cm.arch != "tiny":
            raise ValueError("init_from needs a 'tiny' country model and the 'tiny' backbone")
        net.branch[0].load_state_dict(cm.backbone.state_dict())
        net.meta["init_from"] = cm.meta.get("name", str(init_from))
    net = net.to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    history: list[dict] = []
    start = 0
    ck = Path(checkpoint) if checkpoint else None
    if resume and ck is not None and ck.is_file():
        from toolkit.geo._common import resume as load_training_state

        history, start = load_training_state(ck, net, opt, kind="geo.city", key="backbone", expected=backbone)
    labels = np.array([it["label"] for it in items])
    cache: dict[str, np.ndarray] = {}

    def img(i):
        p = items[i]["path"]
        if p not in cache:
            cache[p] = resize_shorter(load_image(p), 256)
        return cache[p]

    net.meta.update(
        {
            "backbone": backbone,
            "pairs_per_epoch": pairs_per_epoch,
            "lr": lr,
            "seed": seed,
            "n_images": len(items),
            "n_cities": int(len(np.unique(labels))),
        }
    )
    for epoch in range(start, epochs):
        t0 = time.time()
        net.train()
        rng = np.random.default_rng([seed, epoch])
        pairs = sample_pairs(labels, pairs_per_epoch, rng, top2=top2)
        total, correct = 0.0, 0
        for b in tqdm(
            range(0, len(pairs), batch_size), disable=not progress, desc=f"epoch {epoch + 1}/{epochs}"
        ):
            chunk = pairs[b : b + batch_size]
            xa = to_tensor(
                [
                    augment(img(i), np.random.default_rng([seed, epoch, b, k, 0]))
                    for k, (i, _, _) in enumerate(chunk)
                ]
            ).to(dev)
            xb = to_tensor(
                [
                    augment(img(j), np.random.default_rng([seed, epoch, b, k, 1]))
                    for k, (_, j, _) in enumerate(chunk)
                ]
            ).to(dev)
            t = torch.tensor(chunk[:, 2], dtype=torch.float32, device=dev)
            logit = net(xa, xb)
            loss = F.binary_cross_entropy_with_logits(logit, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(chunk)
            correct += int(((logit.detach() > 0).float() == t).sum())
        rec = {
            "epoch": epoch + 1,
            "train_loss": total / len(pairs),
            "train_pair_acc": correct / len(pairs),
            "seconds": round(time.time() - t0, 2),
        }
        history.append(rec)
        net.meta["history"] = history
        if ck is not None:
            save_siamese(net, ck, optimizer=opt.state_dict(), epoch=epoch + 1, history=history)
        if progress:
            print(json.dumps(rec))
    net.eval()
    return net, history


def evaluate_pairs(
    net: SiameseNet, items: list[dict], n_pairs: int = 256, seed: int = 1, device: str = "auto"
) -> dict:
    """Pair accuracy / confusion on balanced test pairs (seed Fig. 8.2).

    >>> from toolkit.geo.city import build_siamese
    >>> items = [{"path": np.full((96, 128, 3), 80 * (i % 2), np.uint8), "label": i % 2} for i in range(4)]
    >>> evaluate_pairs(build_siamese("tiny"), items, n_pairs=4, device="cpu")["n_pairs"]
    4
    """
    rng = np.random.default_rng(seed)
    labels = np.array([it["label"] for it in items])
    pairs = sample_pairs(labels, n_pairs, rng)
    p1 = np.array(
        [pair_probabilities(net, items[i]["path"], [items[j]["path"]], device=device)[0] for i, j, _ in pairs]
    )
    pred = (p1 > 0.5).astype(int)
    y = pairs[:, 2]
    return {
        "pair_accuracy": float((pred == y).mean()),
        "n_pairs": int(len(y)),
        "same_as_same": float((pred[y == 0] == 0).mean()),
        "diff_as_diff": float((pred[y == 1] == 1).mean()),
    }


def verification_rates(
    net: SiameseNet,
    items: list[dict],
    m: int = 10,
    n_queries: int = 5,
    scene_model=None,
    seed: int = 2,
    device: str = "auto",
) -> dict:
    """Eqs. 8.3-8.4: TP = mean diagonal, FP = mean off-diagonal of the fraction of verified claims.

    For every (claimed city, query city), ``n_queries`` query images are verified
    against ``m`` references of the claimed city (the query itself excluded).

    >>> from toolkit.geo.city import build_siamese
    >>> items = [{"path": np.full((96, 128, 3), 80 * (i % 2), np.uint8), "label": i % 2} for i in range(4)]
    >>> sorted(verification_rates(build_siamese("tiny"), items, m=1, n_queries=1, device="cpu"))
    ['FP', 'TP', 'm', 'matrix', 'n_queries']
    """
    rng = np.random.default_rng(seed)
    labels = np.array([it["label"] for it in items])
    cities = np.unique(labels)
    C = len(cities)
    a = np.zeros((C, C))
    ref_p1 = {}
    for ci, c in enumerate(cities):
        for qi, qc in enumerate(cities):
            qs = rng.choice(
                np.flatnonzero(labels == qc), min(n_queries, int((labels == qc).sum())), replace=False
            )
            ok = 0
            for q in qs:
                pool = [i for i in np.flatnonzero(labels == c) if i != q]
                refs = rng.choice(pool, min(m, len(pool)), replace=False)
                p1 = pair_probabilities(
                    net, items[q]["path"], [items[r]["path"] for r in refs], device=device
                )
                if scene_model is not None:
                    u = scene_model(items[q]["path"])
                    s = np.array([scene_similarity(u, scene_model(items[r]["path"])) for r in refs])
                else:
                    s = None
                ok += decide(p1, s)["verified"]
                ref_p1[(ci, qi)] = float(np.mean(p1))
            a[ci, qi] = ok / len(qs)
    tp = float(np.trace(a) / C)
    fp = float((a.sum() - np.trace(a)) / (C * (C - 1)))
    return {"TP": tp, "FP": fp, "matrix": a.round(3).tolist(), "m": m, "n_queries": n_queries}


CITY_CARD = """Siamese city verifier DEMO ({backbone} branches, {n_params} parameters; 64-d embeddings,
concat 128 -> ReLU -> 64 -> ReLU -> 1 -> sigmoid). NOT a city verifier for real photographs.
Data: {n_train} synthetic training images; each 'city' is one photo shipped by scikit-image/scikit-learn
({cities}); images are random crops of the left 60% of each photo.
Training: python -m toolkit.geo.city_train, BCE, SGD lr 1e-2 momentum 0.9 wd 1e-4,
{epochs} epochs x {ppe} balanced pairs (seed: 50 x 16,384); branches initialised from {init}.
Held-out ({n_test} crops from the right 40% of each photo): pair accuracy {pair_acc:.3f}
on {n_pairs} balanced pairs; verification (m={m} references, no country gate, unweighted)
TP {tp:.3f}, FP {fp:.3f} (eqs. 8.3-8.4).
Meaning: whether two images come from the same demo photo. Use it only to exercise the pipeline."""


def main(argv: list[str] | None = None) -> dict:
    """Command line (``python -m toolkit.geo.city_train --help``); returns the metrics dict.

    >>> main("--demo-data /tmp/d --backbone tiny --epochs 1 --out /tmp/s.pt".split())  # doctest: +SKIP
    """
    ap = argparse.ArgumentParser(description="Train the Siamese city verifier (seed 001, chapter 8).")
    ap.add_argument("--data", help="CSV with path, city (and optional split, country) columns")
    ap.add_argument("--root")
    ap.add_argument(
        "--demo-data", help="use (or create) the synthetic demo set in this folder; cities = photos"
    )
    ap.add_argument("--backbone", default="vit_l_16", choices=["vit_l_16", "vit_b_16", "tiny"])
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--pairs-per-epoch", type=int, default=16384)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--pretrained", action="store_true", help="ImageNet ViT-L/16 start (weights registry)")
    ap.add_argument("--init-from", help="'tiny' country checkpoint/registry name initialising the branches")
    ap.add_argument("--out", required=True)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--register")
    ap.add_argument("--results")
    args = ap.parse_args(argv)

    import pandas as pd
    import torch

    torch.set_num_threads(max(1, args.threads))
    if args.demo_data:
        from toolkit.geo.train import make_demo_dataset

        csv = Path(args.demo_data) / "dataset.csv"
        if not csv.is_file():
            csv = make_demo_dataset(args.demo_data, seed=args.seed)
        df = pd.read_csv(csv)
        df["city"] = df["photo"]
        csv = Path(args.demo_data) / "cities.csv"
        df.to_csv(csv, index=False)
        items = read_city_dataset(csv)
    elif args.data:
        items = read_city_dataset(args.data, args.root)
    else:
        ap.error("give --data or --demo-data")
    tr = [it for it in items if it["split"] in ("train", "")]
    te = [it for it in items if it["split"] in ("test", "val")]
    net, history = train_siamese(
        tr,
        backbone=args.backbone,
        epochs=args.epochs,
        pairs_per_epoch=args.pairs_per_epoch,
        batch_size=args.batch_size,
        lr=args.lr,
        pretrained=args.pretrained,
        init_from=args.init_from,
        checkpoint=args.out,
        resume=args.resume,
        seed=args.seed,
        device=args.device,
    )
    res = {"n_train": len(tr), "n_test": len(te), "history": history}
    if te:
        res["pairs"] = evaluate_pairs(net, te, device=args.device)
        res["verification"] = verification_rates(net, te, device=args.device)
    print(json.dumps({k: v for k, v in res.items() if k != "history"}, indent=1))
    if args.results:
        Path(args.results).write_text(json.dumps(res, indent=1) + "\n")
    if args.register:
        from toolkit import weights

        n_params = sum(p.numel() for p in net.parameters())
        card = CITY_CARD.format(
            init=f"the demo country model's backbone ({args.init_from})" if args.init_from else "scratch",
            backbone=args.backbone,
            n_params=f"{n_params:,}",
            n_train=len(tr),
            cities=", ".join(sorted({it["city"] for it in tr})),
            epochs=args.epochs,
            ppe=args.pairs_per_epoch,
            n_test=len(te),
            pair_acc=res.get("pairs", {}).get("pair_accuracy", float("nan")),
            n_pairs=res.get("pairs", {}).get("n_pairs", 0),
            m=10,
            tp=res.get("verification", {}).get("TP", float("nan")),
            fp=res.get("verification", {}).get("FP", float("nan")),
        )
        net.meta["name"] = args.register
        fname = Path(args.out).with_name(args.register.replace("/", "_") + ".pt")
        save_siamese(net, fname)
        cmd = "python -m toolkit.geo.city_train " + " ".join(argv or [])
        s = weights.register_file(
            args.register,
            fname,
            train_command=cmd.strip(),
            card=card,
            extra={
                "pairs": res.get("pairs"),
                "verification": {k: v for k, v in res.get("verification", {}).items() if k != "matrix"},
            },
        )
        print(f"registered {s.name}: {s.filename} {s.size_bytes} bytes sha256 {s.sha256[:12]}")
    return res


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
