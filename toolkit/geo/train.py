"""Train the country classifier (seed 001, sec. 7.3) on a VIPPGeo-layout dataset; resumable.

Dataset layouts
---------------
* CSV (VIPPGeo style): one row per image, a path column (``path``/``image``/
  ``IMG_ID``/``file``, relative to ``--root``) and either a country column
  (``country``/``country_code``/``cc``: ISO alpha-2/alpha-3 or English name) or
  GPS columns (``lat``/``latitude``/``LAT`` and ``lon``/``longitude``/``LON``),
  mapped to a country offline (``toolkit.geo.groups.gps_to_country``). An
  optional ``split`` column (train/val/test) fixes the split.
* folder: ``root/<country code>/*.jpg``.

Recipe (seed): SGD lr 1e-2, momentum 0.9, weight decay 1e-4, 25 epochs, loss
weighted by 1/sqrt(class frequency), ImageNet start (``--pretrained auto|yes|no``, via the
weights registry), augmentation = random flips + random crop of >= 2/3 of the
area resized to 224, ImageNet normalisation. A checkpoint (model, optimiser,
epoch, history) is written after every epoch; ``--resume`` continues from it.

Examples
--------
Train the shipped CPU demo model (synthetic data, see the model card)::

    python -m toolkit.geo.train --demo-data /tmp/geo_demo --arch tiny --epochs 12 \
        --batch-size 32 --out /tmp/geo_country_demo.pt --register geo/country_demo
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from toolkit.geo import groups
from toolkit.geo._common import to_tensor
from toolkit.geo.country import (
    CROP_NAMES,
    CountryModel,
    build_model,
    evaluate,
    five_crops,
    fuse,
    save_checkpoint,
    weighted_cross_entropy,
)
from toolkit.geo.image import load_image

__all__ = [
    "read_dataset",
    "split_items",
    "augment",
    "train",
    "predict_items",
    "make_demo_dataset",
    "main",
    "DEMO_PHOTOS",
]

_PATH_COLS = ("path", "image", "img_id", "file", "filename")
_CC_COLS = ("country", "country_code", "cc", "iso2")
_LAT_COLS = ("lat", "latitude")
_LON_COLS = ("lon", "lng", "longitude")


def _col(columns, names):
    low = {c.lower(): c for c in columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def read_dataset(data: str | os.PathLike, root: str | os.PathLike | None = None) -> list[dict]:
    """Items ``{'path', 'country', 'label', 'split'}`` from a CSV or a ``root/<CC>/*`` folder.

    ``label`` is the class index in :func:`toolkit.geo.groups.class_names`.

    >>> import tempfile
    >>> DEMO = {"china": "CN", "coffee": "IT"}
    >>> csv = make_demo_dataset(tempfile.mkdtemp(), n_train=1, n_test=1, photos={"china": "CN"})
    >>> [(it["country"], it["split"]) for it in read_dataset(csv)]
    [('CN', 'train'), ('CN', 'test')]
    """
    import pandas as pd

    data = Path(data)
    c2g = groups.country_to_group()
    names = groups.class_names()
    items = []
    if data.is_dir():
        for sub in sorted(p for p in data.iterdir() if p.is_dir()):
            cc = groups.resolve_country(sub.name)
            for f in sorted(sub.iterdir()):
                if f.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"):
                    items.append({"path": str(f), "country": cc, "split": ""})
    elif data.is_file():
        df = pd.read_csv(data)
        pc = _col(df.columns, _PATH_COLS)
        if pc is None:
            raise ValueError(f"{data} has no image path column (one of {', '.join(_PATH_COLS)})")
        cc_col = _col(df.columns, _CC_COLS)
        lat_col, lon_col = _col(df.columns, _LAT_COLS), _col(df.columns, _LON_COLS)
        if cc_col is None and (lat_col is None or lon_col is None):
            raise ValueError(f"{data} needs a country column ({', '.join(_CC_COLS)}) or lat/lon columns")
        split_col = _col(df.columns, ("split",))
        base = Path(root) if root else data.parent
        for _, row in df.iterrows():
            if cc_col is not None and isinstance(row[cc_col], str) and row[cc_col].strip():
                cc = groups.resolve_country(row[cc_col])
            else:
                cc = groups.gps_to_country(row[lat_col], row[lon_col])
            p = Path(str(row[pc]))
            items.append(
                {
                    "path": str(p if p.is_absolute() else base / p),
                    "country": cc,
                    "split": str(row[split_col]) if split_col else "",
                }
            )
    else:
        raise FileNotFoundError(f"no dataset at {str(data)!r} (expected a CSV file or a folder)")
    if not items:
        raise ValueError(f"no images found in {data}")
    for it in items:
        it["label"] = names.index(c2g[it["country"]])
    return items


def split_items(items: list[dict], val_fraction: float = 0.2, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(train, val): the CSV's ``split`` column when present, else a per-country random split.

    >>> items = [{"country": "IT", "split": ""} for _ in range(10)]
    >>> [len(x) for x in split_items(items, val_fraction=0.2)]
    [8, 2]
    """
    if any(it.get("split") for it in items):
        tr = [it for it in items if it["split"] == "train"]
        va = [it for it in items if it["split"] in ("val", "test")]
        return tr, va
    rng = np.random.default_rng(seed)
    tr, va = [], []
    by_cc: dict[str, list[dict]] = {}
    for it in items:
        by_cc.setdefault(it["country"], []).append(it)
    for cc in sorted(by_cc):
        lst = by_cc[cc]
        idx = rng.permutation(len(lst))
        n_val = int(round(len(lst) * val_fraction))
        va += [lst[i] for i in idx[:n_val]]
        tr += [lst[i] for i in idx[n_val:]]
    return tr, va


def augment(
    image: np.ndarray, rng: np.random.Generator, size: int = 224, min_area: float = 2 / 3
) -> np.ndarray:
    """Seed's geometric augmentation: random h/v flips, random crop of >= ``min_area`` of the area
    (aspect 3/4..4/3), resized to ``size`` x ``size``.

    Written with an explicit ``numpy`` generator (instead of torchvision's global-RNG
    transforms) so that a resumed run draws exactly the crops a continuous run draws.

    >>> augment(np.zeros((240, 320, 3), np.uint8), np.random.default_rng(0)).shape
    (224, 224, 3)
    """
    from PIL import Image

    img = image
    if rng.random() < 0.5:
        img = img[:, ::-1]
    if rng.random() < 0.5:
        img = img[::-1]
    h, w = img.shape[:2]
    for _ in range(10):
        area = h * w * rng.uniform(min_area, 1.0)
        ar = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = int(round(math.sqrt(area * ar))), int(round(math.sqrt(area / ar)))
        if 0 < cw <= w and 0 < ch <= h:
            break
    else:
        ch, cw = h, w
    top = int(rng.integers(0, h - ch + 1))
    left = int(rng.integers(0, w - cw + 1))
    crop = np.ascontiguousarray(img[top : top + ch, left : left + cw])
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.BILINEAR))


def predict_items(
    model: CountryModel, items: list[dict], fusion: str = "mean", device: str = "auto", progress: bool = False
) -> np.ndarray:
    """N x K fused probabilities of images (5-crop; ``fusion`` as in :func:`toolkit.geo.country.fuse`).

    >>> predict_items(build_model("tiny"), [{"path": np.zeros((240, 320, 3), np.uint8)}]).shape
    (1, 61)
    """
    import torch
    from tqdm.auto import tqdm

    from toolkit._util import resolve_device

    dev = resolve_device(device)
    model = model.to(dev).eval()
    out = []
    with torch.no_grad():
        for it in tqdm(items, disable=not progress, desc="evaluate"):
            crops = five_crops(it["path"])
            p = torch.softmax(model(to_tensor(crops).to(dev)), dim=1).cpu().numpy()
            out.append(fuse(p, fusion))
    return np.asarray(out)


def _set_rng_state(seed: int, epoch: int):
    import torch

    g = torch.Generator()
    g.manual_seed(seed * 100003 + epoch)
    return g


def train(
    train_items: list[dict],
    val_items: list[dict] | None = None,
    *,
    arch: str = "resnet101",
    epochs: int = 25,
    batch_size: int = 32,
    lr: float = 1e-2,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    pretrained: bool | str = "auto",
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    class_names: list[str] | None = None,
    eval_fusions: tuple[str, ...] = ("mean",),
) -> tuple[CountryModel, list[dict]]:
    """Train (or resume training) a :class:`CountryModel`; returns (model, per-epoch history).

    Loss: :func:`toolkit.geo.country.weighted_cross_entropy` with the training
    class counts. After each epoch the checkpoint (model, optimiser, epoch,
    history) is written to ``checkpoint``; with ``resume=True`` and an existing
    checkpoint, training continues after its last epoch (identical to an
    uninterrupted run: per-epoch seeded shuffling and augmentation). The checkpoint is written by
    :func:`toolkit.geo.country.save_checkpoint` and read back with ``toolkit.weights.load_checkpoint``
    (``weights_only=True``); its ``extra`` holds ``optimizer``, ``epoch`` and ``history``.

    >>> import tempfile
    >>> DEMO = {"china": "CN", "coffee": "IT"}
    >>> csv = make_demo_dataset(tempfile.mkdtemp(), n_train=2, n_test=1, photos=DEMO)
    >>> tr, va = split_items(read_dataset(csv))
    >>> model, history = train(tr, arch="tiny", epochs=1, batch_size=2, progress=False)
    >>> history[0]["epoch"], model.training
    (1, False)
    """
    import torch
    from tqdm.auto import tqdm

    from toolkit._util import resolve_device

    if not train_items:
        raise ValueError("no training images")
    if epochs < 1:
        raise ValueError("epochs must be >= 1")
    dev = resolve_device(device)
    names = class_names or groups.class_names()
    model = build_model(arch, names, pretrained=pretrained, seed=seed).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    counts = np.bincount([it["label"] for it in train_items], minlength=len(names))
    history: list[dict] = []
    start = 0
    ck_path = Path(checkpoint) if checkpoint else None
    if resume and ck_path is not None and ck_path.is_file():
        from toolkit.geo._common import resume as load_training_state

        history, start = load_training_state(
            ck_path, model, opt, kind="geo.country", key="arch", expected=arch
        )
    pretrained_used = model.meta.get("pretrained", False)
    model.meta.update(
        {
            "arch": arch,
            "train_counts": counts.tolist(),
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "batch_size": batch_size,
            "seed": seed,
            "pretrained": pretrained_used,
        }
    )
    cache: dict[str, np.ndarray] = {}

    def image(path):
        if path not in cache:
            cache[path] = load_image(path)
        return cache[path]

    for epoch in range(start, epochs):
        t0 = time.time()
        model.train()
        order = torch.randperm(len(train_items), generator=_set_rng_state(seed, epoch)).tolist()
        total, n = 0.0, 0
        bar = tqdm(range(0, len(order), batch_size), disable=not progress, desc=f"epoch {epoch + 1}/{epochs}")
        for b in bar:
            idx = order[b : b + batch_size]
            crops = [
                augment(image(train_items[i]["path"]), np.random.default_rng([seed, epoch, i])) for i in idx
            ]
            x = to_tensor(crops).to(dev)
            y = torch.tensor([train_items[i]["label"] for i in idx], device=dev)
            loss = weighted_cross_entropy(model(x), y, counts, reduction="mean")
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            n += len(idx)
        rec = {"epoch": epoch + 1, "train_loss": total / max(n, 1), "seconds": round(time.time() - t0, 2)}
        if val_items:
            probs = predict_items(model, val_items, "mean", device=device)
            labels = [it["label"] for it in val_items]
            rec["val"] = evaluate(labels, probs)
        history.append(rec)
        model.meta["history"] = history
        if ck_path is not None:
            save_checkpoint(model, ck_path, optimizer=opt.state_dict(), epoch=epoch + 1, history=history)
        if progress:
            print(json.dumps(rec))
    model.eval()
    return model, history


# --- demo data ---------------------------------------------------------------------
#: photo (toolkit.synth.sources) -> stand-in country label for the demo model. Except
#: 'china' (a photo of a Chinese temple), these labels are ARBITRARY: the demo
#: learns to tell these photos apart, not where pictures were taken.
DEMO_PHOTOS = {
    "china": "CN",
    "astronaut": "US",
    "coffee": "IT",
    "chelsea": "GB",
    "motorcycle_left": "JP",
    "flower": "NL",
    "brick_rgb": "DE",
    "camera_rgb": "FR",
}


def make_demo_dataset(
    out: str | os.PathLike,
    n_train: int = 40,
    n_test: int = 15,
    seed: int = 0,
    size: tuple[int, int] = (240, 320),
    photos: dict[str, str] | None = None,
) -> Path:
    """Write a small synthetic VIPPGeo-layout dataset (JPEGs + ``dataset.csv``) from shipped photos.

    Each photo of :data:`DEMO_PHOTOS` is one 'place'. Training views are random
    crops (scale, flip, brightness, noise) from the left 60% of the photo, test
    views from the right 40%: test images show parts of the place never seen in
    training. Returns the CSV path.

    >>> import tempfile
    >>> make_demo_dataset(tempfile.mkdtemp(), n_train=1, n_test=1, photos={"coffee": "IT"}).name
    'dataset.csv'
    """
    from PIL import Image

    from toolkit.synth.sources import photo

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    h_out, w_out = size
    for name, cc in (photos or DEMO_PHOTOS).items():
        img = photo(name)
        H, W = img.shape[:2]
        cut = int(W * 0.6)
        for split, n, (x0, x1) in (("train", n_train, (0, cut)), ("test", n_test, (cut, W))):
            for i in range(n):
                region_w = x1 - x0
                ch = int(rng.uniform(0.45, 0.9) * H)
                cw = min(region_w, int(ch * w_out / h_out * rng.uniform(0.8, 1.2)))
                ch = min(ch, H)
                top = int(rng.integers(0, H - ch + 1))
                left = x0 + int(rng.integers(0, region_w - cw + 1))
                view = img[top : top + ch, left : left + cw].astype(np.float64)
                view = view * rng.uniform(0.8, 1.2) + rng.normal(0, 3.0, view.shape)
                view = np.clip(view, 0, 255).astype(np.uint8)
                pil = Image.fromarray(view).resize((w_out, h_out), Image.BILINEAR)
                rel = f"{split}/{cc}_{name}_{i:03d}.jpg"
                (out / split).mkdir(exist_ok=True)
                pil.save(out / rel, quality=90)
                rows.append({"path": rel, "country": cc, "split": split, "photo": name})
    import pandas as pd

    csv = out / "dataset.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    return csv


DEMO_CARD = """Country classifier DEMO ({arch}, {n_params} parameters, 61-way head). NOT a geolocation model.
Data: {n_train} synthetic training images = random crops of {n_photos} photos shipped by
scikit-image/scikit-learn (toolkit.geo.train.DEMO_PHOTOS), each photo given a stand-in country label
({mapping}). Only 'china' shows a place in that country; the other labels are arbitrary.
The 53 other classes never appear in training.
Training: python -m toolkit.geo.train (seed recipe: SGD lr 1e-2, momentum 0.9, wd 1e-4,
1/sqrt(n) weighted loss, flip + >=2/3-area random crop), {epochs} epochs, batch {batch},
from scratch (no ImageNet weights offline).
Held-out test: {n_test} crops from the right 40% of each photo (never seen in training), 5-crop mean fusion:
top-1 {top1:.3f}, top-3 {top3:.3f}, balanced accuracy {bal:.3f} (chance among the 8 trained classes: 0.125).
Meaning of its predictions: which of the 8 demo photos an image looks like. On real photographs
its output says nothing about where they were taken. Use it to exercise the pipeline
(5 crops, top-k, map, EXIF check) only; for real use obtain 'geo/vippgeo_resnet101' or train on VIPPGeo."""


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point (``python -m toolkit.geo.train --help``); returns the metrics dict.

    >>> main("--demo-data /tmp/d --arch tiny --epochs 1 --out /tmp/ck.pt".split())  # doctest: +SKIP
    """
    ap = argparse.ArgumentParser(description="Train the country classifier (seed 001, chapter 7).")
    ap.add_argument("--data", help="CSV (VIPPGeo layout) or root/<CC>/ folder")
    ap.add_argument("--root", help="folder the CSV paths are relative to (default: the CSV's folder)")
    ap.add_argument(
        "--demo-data", help="generate the synthetic demo dataset into this folder and train on it"
    )
    ap.add_argument("--demo-n-train", type=int, default=40, help="demo images per photo for training")
    ap.add_argument("--demo-n-test", type=int, default=15, help="demo images per photo for testing")
    ap.add_argument("--arch", default="resnet101", choices=["resnet101", "resnet50", "resnet18", "tiny"])
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--val-fraction", type=float, default=0.02)
    ap.add_argument(
        "--pretrained",
        default="auto",
        choices=["auto", "yes", "no"],
        help="start from ImageNet weights found through the weights registry (auto: when present)",
    )
    ap.add_argument("--out", required=True, help="checkpoint file (written every epoch)")
    ap.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--register", help="register the result as shipped weights under this name (geo/...)")
    ap.add_argument("--results", help="write the final metrics JSON here")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(max(1, args.threads))
    if args.demo_data:
        csv = make_demo_dataset(args.demo_data, args.demo_n_train, args.demo_n_test, seed=args.seed)
        items = read_dataset(csv)
    elif args.data:
        items = read_dataset(args.data, args.root)
    else:
        ap.error("give --data or --demo-data")
    tr, va = split_items(items, args.val_fraction, args.seed)
    model, history = train(
        tr,
        va,
        arch=args.arch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        pretrained={"yes": True, "no": False}.get(args.pretrained, "auto"),
        checkpoint=args.out,
        resume=args.resume,
        seed=args.seed,
        device=args.device,
    )
    res = {"n_train": len(tr), "n_val": len(va), "history": history}
    if va:
        labels = [it["label"] for it in va]
        res["fusions"] = {}
        probs5 = None
        for fusion in ("mean", "max") + CROP_NAMES:
            p = predict_items(model, va, fusion, device=args.device)
            probs5 = p if fusion == "mean" else probs5
            res["fusions"][fusion] = evaluate(labels, p)
        res["val"] = res["fusions"]["mean"]
        trained = sorted({it["label"] for it in tr})
        res["chance_top1_trained_classes"] = 1.0 / max(1, len(trained))
    print(json.dumps({k: v for k, v in res.items() if k != "history"}, indent=1))
    if args.results:
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        Path(args.results).write_text(json.dumps(res, indent=1) + "\n")
    if args.register:
        from toolkit import weights

        v = res.get("val", {})
        n_params = sum(p.numel() for p in model.parameters())
        card = DEMO_CARD.format(
            arch=args.arch,
            n_params=f"{n_params:,}",
            n_train=len(tr),
            n_photos=len(DEMO_PHOTOS),
            mapping=", ".join(f"{k}->{c}" for k, c in DEMO_PHOTOS.items()),
            epochs=args.epochs,
            batch=args.batch_size,
            n_test=len(va),
            top1=v.get("top1", float("nan")),
            top3=v.get("top3", float("nan")),
            bal=v.get("balanced", float("nan")),
        )
        if not args.demo_data:
            card = (
                f"Country classifier ({args.arch}) trained by `python -m toolkit.geo.train` on {args.data} "
                f"({len(tr)} training images, {args.epochs} epochs). "
                f"Held-out ({len(va)} images, 5-crop mean): "
                f"{json.dumps(v)}."
            )
        model.meta["name"] = args.register
        fname = Path(args.out).with_name(args.register.replace("/", "_") + ".pt")
        save_checkpoint(model, fname)  # without optimiser state: smaller shipped file
        cmd = "python -m toolkit.geo.train " + " ".join(a for a in (argv or []) if a)
        s = weights.register_file(
            args.register, fname, train_command=cmd.strip(), card=card, extra={"metrics": v}
        )
        print(f"registered {s.name}: {s.filename} {s.size_bytes} bytes sha256 {s.sha256[:12]}")
    return res


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
