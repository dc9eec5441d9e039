"""Train the face FCN as seed 003 does: ``L = λ·L_seg + (1 − λ)·L_cls``, Adam (lr 1e-3, decay 0.90 per
epoch, L2 1e-5), keeping the weights of the best validation accuracy; a sweep over λ.

Data: the project's generated manipulations (:mod:`toolkit.synth.faces`, identity-disjoint splits:
train on identities A and B, validate on D, test on C), or FaceForensics++ through
:func:`toolkit.faces.ffpp.load_ffpp` (``--ffpp ROOT``).

::

    python -m toolkit.faces.train --lams 0,0.2,0.3,0.4,0.5,0.6,0.7,1 --epochs 6 --threads 1 \
        --out runs/faces --register

Seeded; a tqdm bar per epoch; ``--max-minutes`` stops the sweep cleanly (the models finished so
far are kept); a run folder is resumable (``--resume``: finished λ are skipped, an interrupted one
continues from its last epoch). On CPU the forward/backward pass runs under bfloat16 autocast
when the CPU supports it (``--no-bf16`` turns it off).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from toolkit.faces.model import CLASSES, INPUT_SIZE, KIND, FaceFCN, output_centres, to_tensor

__all__ = [
    "SEED_LAMBDAS",
    "split",
    "seg_targets",
    "train_one",
    "evaluate",
    "sweep",
    "register_best",
    "recalibrate_bn",
    "prediction_scores",
    "subset_scores",
    "main",
    "MODEL_NAME",
]

#: the seed's λ grid: classification models and the segmentation-only model (1.0)
SEED_LAMBDAS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
#: registry name of the shipped model
MODEL_NAME = "faces/fcn"
#: train on identities A, B and D's clip "milk", select on D's clip "thanks", test on the unseen identity C
_DEFAULT_SPLIT = {"train": ("A", "B", "milk"), "val": ("thanks",), "test": ("C",)}


def split(ds, train=("A", "B"), val=("D",), test=("C",)) -> dict:
    """``{"train", "val", "test"}`` subsets of a :class:`~toolkit.synth.faces.FaceDataset`.

    Each group lists identities or clip names; a crop belongs to a group when its identity or its
    clip is listed. A name may be in one group only, and the test identities never appear in
    training or validation (``ValueError`` otherwise).
    """
    groups = {"train": tuple(train), "val": tuple(val), "test": tuple(test)}
    seen = [i for g in groups.values() for i in g]
    if len(seen) != len(set(seen)):
        raise ValueError(f"a name must be in one split only, got {groups}")
    out = {k: ds.select(np.isin(ds.identity, v) | np.isin(ds.clip, v)) for k, v in groups.items()}
    test_ids = set(out["test"].identity.tolist())
    if test_ids & (set(out["train"].identity.tolist()) | set(out["val"].identity.tolist())):
        raise ValueError(f"the test identities {sorted(test_ids)} also appear in training or validation")
    return out


def seg_targets(masks: np.ndarray) -> np.ndarray:
    """N x 49 x 49 int64 segmentation labels: the N x 128 x 128 masks at the receptive-field centres.

    >>> m = np.zeros((1, 128, 128), bool); m[0, 111, 15] = True
    >>> t = seg_targets(m); t.shape, int(t[0, 48, 0])
    ((1, 49, 49), 1)
    """
    c = output_centres()
    m = np.asarray(masks)
    if m.ndim != 3 or m.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"expected N x {INPUT_SIZE} x {INPUT_SIZE} masks, got {m.shape}")
    return (m[:, c][:, :, c] > 0).astype(np.int64)


def _autocast(device, bf16: bool):
    import torch

    if device.type == "cpu" and bf16:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    import contextlib

    return contextlib.nullcontext()


def evaluate(model, ds, *, batch: int = 32, device=None, bf16: bool = True, keep_maps: bool = False) -> dict:
    """Classification accuracy, segmentation pixel accuracy and IoU (manipulated class) on ``ds``.

    Returns ``{"n", "accuracy", "pixel_accuracy", "iou", "prob"}`` (``prob``: N fake probabilities;
    with ``keep_maps`` also ``"seg_pred"``, N x 49 x 49 predicted labels).
    """
    import torch

    device = device or next(model.parameters()).device
    model.eval()
    probs, seg_pred = [], []
    with torch.no_grad(), _autocast(device, bf16):
        for i in range(0, len(ds), batch):
            cls, seg = model(to_tensor(ds.crops[i : i + batch]).to(device))
            probs.append(torch.softmax(cls.float(), 1)[:, 1].cpu().numpy())
            seg_pred.append(seg.float().argmax(1).cpu().numpy())
    prob = np.concatenate(probs) if probs else np.zeros(0)
    pred = np.concatenate(seg_pred) if seg_pred else np.zeros((0, 49, 49), np.int64)
    out = {**prediction_scores(prob, pred, ds.labels, ds.masks), "prob": prob}
    if keep_maps:
        out["seg_pred"] = pred
    return out


def recalibrate_bn(model, ds, *, n: int = 96, batch: int = 16, seed: int = 0, bf16: bool = True) -> None:
    """Re-estimate the batch-norm running statistics on ``n`` crops of ``ds`` ("precise BN").

    After few optimiser steps the running averages (momentum 0.1) still lag the weights, and the
    eval-mode network then sees other statistics than in training; an exact average over a few
    batches with the final weights removes that mismatch. Weights are not changed.
    """
    import torch

    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not bns or len(ds) == 0:
        return
    dev = next(model.parameters()).device
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    idx = np.sort(np.random.default_rng(seed).permutation(len(ds))[: min(n, len(ds))])
    model.train()
    with torch.no_grad(), _autocast(dev, bf16):
        for i in range(0, len(idx), batch):
            model(to_tensor(ds.crops[idx[i : i + batch]]).to(dev))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


def _save(net, file, *, lam, card, extra=None):
    from toolkit import weights

    cfg = {
        "arch": "tarasiou2019-tableI",
        "lam": float(lam),
        "classes": list(CLASSES),
        "input_size": INPUT_SIZE,
    }
    return weights.save(net, file, kind=KIND, config=cfg, card=card, extra=extra or {})


def train_one(
    train_ds,
    val_ds,
    lam: float,
    *,
    epochs: int = 6,
    per_epoch: int | None = None,
    batch: int = 16,
    seed: int = 0,
    device: str = "auto",
    bf16: bool = True,
    deadline: float | None = None,
    resume: str | Path | None = None,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    jitter: float = 0.2,
):
    """Train one FCN with weight ``lam`` on the segmentation loss; the best-validation-accuracy model.

    Parameters
    ----------
    per_epoch : crops drawn (without replacement, seeded) per epoch; default all of ``train_ds``.
    jitter : amplitude of the per-crop colour augmentation (gain 1 ± jitter per channel, offset ± jitter / 2).
    deadline : ``time.time()`` after which training stops at the next batch (the best model so far is kept).
    resume / checkpoint : a checkpoint to continue from / to write after every epoch.

    Returns
    -------
    (model, history): the :class:`FaceFCN` with the best validation accuracy and a list of per-epoch dicts.
    """
    import torch
    from torch.nn import functional as F
    from tqdm.auto import tqdm

    from toolkit._util import resolve_device

    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"λ must be in [0, 1], got {lam}")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = FaceFCN().to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.90)
    history, start, best = [], 0, (-1.0, None)
    if resume is not None and Path(resume).is_file():
        from toolkit import weights

        ck = weights.load_checkpoint(resume, kind=KIND)
        net.load_state_dict(ck.state_dict)
        opt.load_state_dict(ck.extra["optimizer"])
        sched.load_state_dict(ck.extra["scheduler"])
        history = json.loads(ck.extra["history"])
        start = len(history)
        best = (float(ck.extra["best_acc"]), ck.extra["best_state"])
        rng = np.random.default_rng(seed + start)
    targets_all = seg_targets(train_ds.masks)
    n = len(train_ds)
    per_epoch = min(per_epoch or n, n)
    for epoch in range(start, epochs):
        t0 = time.time()
        net.train()
        order = rng.permutation(n)[:per_epoch]
        losses = []
        stopped = False
        for i in tqdm(
            range(0, per_epoch, batch), disable=not progress, desc=f"λ={lam:g} epoch {epoch + 1}/{epochs}"
        ):
            if deadline is not None and time.time() > deadline:
                stopped = True
                break
            idx = order[i : i + batch]
            x, y, m = train_ds.crops[idx], train_ds.labels[idx], targets_all[idx]
            flip = rng.random(len(idx)) < 0.5  # horizontal flips (mask flipped with the image)
            x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
            m = np.where(flip[:, None, None], m[:, :, ::-1], m)
            xt = to_tensor(x).to(dev)
            if jitter:  # per-crop colour gain and offset: the decision must not rest on a person's skin tone
                g = torch.as_tensor(rng.uniform(1 - jitter, 1 + jitter, (len(idx), 3, 1, 1)), dtype=xt.dtype)
                b = torch.as_tensor(rng.uniform(-jitter / 2, jitter / 2, (len(idx), 1, 1, 1)), dtype=xt.dtype)
                xt = (xt * g.to(dev) + b.to(dev)).clamp_(0, 1)
            xt = xt.contiguous(memory_format=torch.channels_last)
            with _autocast(dev, bf16):
                cls, seg = net(xt)
            loss_cls = F.cross_entropy(cls.float(), torch.as_tensor(y, device=dev))
            loss_seg = F.cross_entropy(seg.float(), torch.as_tensor(m, device=dev))
            loss = lam * loss_seg + (1 - lam) * loss_cls
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        if stopped and not losses:
            break
        sched.step()
        recalibrate_bn(net, train_ds, seed=seed + epoch, bf16=bf16)
        ev = evaluate(net, val_ds, device=dev, bf16=bf16)
        # λ = 1 trains no classifier; its models are chosen on segmentation pixel accuracy (as in the seed)
        key = ev["pixel_accuracy"] if lam >= 1.0 else ev["accuracy"]
        history.append(
            {
                "epoch": epoch + 1,
                "loss": float(np.mean(losses)) if losses else math.nan,
                "val_accuracy": ev["accuracy"],
                "val_pixel_accuracy": ev["pixel_accuracy"],
                "val_iou": ev["iou"],
                "seconds": round(time.time() - t0, 1),
                "partial": stopped,
            }
        )
        if key is not None and key > best[0]:
            best = (key, {k: v.detach().cpu().clone() for k, v in net.state_dict().items()})
        if checkpoint is not None:
            _save(
                net,
                checkpoint,
                lam=lam,
                card={"partial": True},
                extra={
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "history": json.dumps(history),
                    "best_acc": best[0],
                    "best_state": best[1],
                },
            )
        if stopped:
            break
    out = FaceFCN()
    out.load_state_dict(best[1] if best[1] is not None else {k: v.cpu() for k, v in net.state_dict().items()})
    out.lam = float(lam)
    return out.eval(), history


def prediction_scores(prob: np.ndarray, pred: np.ndarray, labels: np.ndarray, masks: np.ndarray) -> dict:
    """``{"n", "accuracy", "pixel_accuracy", "iou"}`` of fake probabilities ``prob`` (N) and predicted
    49 x 49 labels ``pred`` (N x 49 x 49) against ``labels`` (N) and 128 x 128 ``masks``.

    >>> m = np.zeros((2, 128, 128), bool); m[1] = True
    >>> prediction_scores(np.array([0.1, 0.9]), seg_targets(m), np.array([0, 1]), m)["iou"]
    1.0
    """
    tgt = seg_targets(masks)
    inter = np.logical_and(pred == 1, tgt == 1).sum()
    union = np.logical_or(pred == 1, tgt == 1).sum()
    return {
        "n": int(len(labels)),
        "accuracy": float(((prob >= 0.5).astype(int) == labels).mean()) if len(labels) else None,
        "pixel_accuracy": float((pred == tgt).mean()) if len(labels) else None,
        "iou": float(inter / union) if union else None,
    }


def subset_scores(model, ds) -> dict:
    """Per compression and per manipulation type: accuracy, pixel accuracy, IoU (one forward pass per crop).

    A type's ``accuracy`` is measured on its crops together with the pristine crops of the same
    compression level; ``detected`` is the share of its crops called manipulated.
    """
    ev = evaluate(model, ds, keep_maps=True)
    prob, pred = ev["prob"], ev["seg_pred"]
    out = {}
    for comp in sorted(set(ds.compression.tolist())):
        c = ds.compression == comp
        row = prediction_scores(prob[c], pred[c], ds.labels[c], ds.masks[c])
        for kind in sorted(set(ds.kinds[c].tolist()) - {"pristine"}):
            sel = c & ((ds.kinds == kind) | (ds.kinds == "pristine"))
            fake = c & (ds.kinds == kind)
            row[kind] = {
                **prediction_scores(prob[sel], pred[sel], ds.labels[sel], ds.masks[sel]),
                "n_fake": int(fake.sum()),
                "detected": float((prob[fake] >= 0.5).mean()),
                "pixel_accuracy_fake": prediction_scores(
                    prob[fake], pred[fake], ds.labels[fake], ds.masks[fake]
                )["pixel_accuracy"],
            }
        out[comp] = row
    return out


def sweep(
    ds,
    lams=SEED_LAMBDAS,
    *,
    out: str | Path,
    epochs: int = 6,
    per_epoch: int | None = None,
    batch: int = 16,
    seed: int = 0,
    device: str = "auto",
    bf16: bool = True,
    max_minutes: float | None = None,
    train_compression: str = "c23",
    progress: bool = True,
    splits: dict | None = None,
    max_val: int | None = None,
) -> dict:
    """Train one model per λ (in the order given) and measure each on the held-out identity.

    Writes ``out/lam_<λ>.pt`` (final, best-validation model), ``out/lam_<λ>.partial.pt`` while
    training and ``out/sweep.json`` (per λ: history, test scores per compression and type, seconds).
    Returns the sweep dict.
    """
    import torch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = split(ds, **(splits or _DEFAULT_SPLIT))
    train_ds = parts["train"].select(parts["train"].compression == train_compression)
    val_ds = parts["val"].select(parts["val"].compression == train_compression)
    if max_val and len(val_ds) > max_val:  # a seeded subset keeps the per-epoch validation cheap
        val_ds = val_ds.select(np.sort(np.random.default_rng(seed).permutation(len(val_ds))[:max_val]))
    deadline = time.time() + 60 * max_minutes if max_minutes else None
    summary_file = out / "sweep.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {"models": {}}
    summary.update(
        {
            "train_identities": sorted(set(parts["train"].identity.tolist())),
            "train_clips": sorted(set(parts["train"].clip.tolist())),
            "val_clips": sorted(set(parts["val"].clip.tolist())),
            "val_identities": sorted(set(parts["val"].identity.tolist())),
            "test_identities": sorted(set(parts["test"].identity.tolist())),
            "train_compression": train_compression,
            "n_train": len(train_ds),
            "n_val": len(val_ds),
            "epochs": epochs,
            "per_epoch": per_epoch or len(train_ds),
            "batch": batch,
            "seed": seed,
            "threads": torch.get_num_threads(),
        }
    )
    for lam in lams:
        key = f"{float(lam):g}"
        final = out / f"lam_{key}.pt"
        if key in summary["models"] and final.is_file() and not summary["models"][key].get("partial"):
            continue
        if deadline is not None and time.time() > deadline:
            break
        t0 = time.time()
        model, hist = train_one(
            train_ds,
            val_ds,
            float(lam),
            epochs=epochs,
            per_epoch=per_epoch,
            batch=batch,
            seed=seed,
            device=device,
            bf16=bf16,
            deadline=deadline,
            resume=out / f"lam_{key}.partial.pt",
            checkpoint=out / f"lam_{key}.partial.pt",
            progress=progress,
        )
        seconds = time.time() - t0 + sum(h["seconds"] for h in hist[:0])
        partial = len(hist) < epochs or any(h.get("partial") for h in hist)
        test = subset_scores(model, parts["test"])
        summary["models"][key] = {
            "lam": float(lam),
            "history": hist,
            "train_seconds": round(seconds, 1),
            "partial": partial,
            "test": test,
        }
        card = {
            "lam": float(lam),
            "data": "toolkit.synth.faces generated manipulations of the signer clips",
            "train_identities": summary["train_identities"],
            "test_identities": summary["test_identities"],
            "epochs_done": len(hist),
            "test": test,
        }
        _save(model, final, lam=lam, card=card)
        summary_file.write_text(json.dumps(summary, indent=1))
    return summary


def _card_text(entry: dict, summary: dict) -> str:
    t = entry["test"]
    acc = ", ".join(f"{c} {t[c]['accuracy']:.3f}" for c in ("raw", "c23", "c40") if c in t)
    return (
        f"Face FCN of seed 003 (Table I, 1.17 M parameters), λ = {entry['lam']:g}, trained by the project on "
        f"its generated face manipulations (toolkit.synth.faces: FaceSwap-, Deepfakes-, Face2Face-like and "
        f"local blur/noise/JPEG) of the Intel signer clips (CC BY 4.0), H.264 QP 23 (c23) crops; "
        f"clips {'+'.join(summary.get('train_clips', summary['train_identities']))} train, "
        f"{'+'.join(summary.get('val_clips', summary['val_identities']))} validation, identity "
        f"{'+'.join(summary['test_identities'])} held-out test. {len(entry['history'])} epochs of "
        f"{summary['per_epoch']} crops (batch {summary['batch']}), "
        f"{entry['train_seconds'] / 60:.1f} minutes wall clock on {summary['threads']} CPU thread(s) of a "
        f"shared machine. Held-out-identity classification accuracy (threshold 0.5): {acc}. "
        "Far too little training to be useful (the seed trains 50 epochs on 102k FaceForensics++ frames): "
        "a demonstration of the pipeline only; do not use it on real cases."
    )


def register_best(out: str | Path, *, lam: float | None = None, train_command: str = ""):
    """Ship the sweep's classification model (λ < 1) with the best validation accuracy (ties: the best
    mean validation accuracy over epochs), or λ = ``lam``, as ``faces/fcn``.

    Copies ``out/lam_<λ>.pt`` to ``faces_fcn.pt`` and registers it with a model card written from
    ``out/sweep.json``. Returns the :class:`toolkit.weights.WeightSpec`.
    """
    from toolkit import weights

    out = Path(out)
    summary = json.loads((out / "sweep.json").read_text())
    models = summary["models"]
    if lam is not None:
        key = f"{float(lam):g}"
    else:
        cls_models = {k: m for k, m in models.items() if m["lam"] < 1.0} or models

        def rank(k):  # best validation accuracy; ties broken by the mean over epochs
            val = [h["val_accuracy"] or 0.0 for h in cls_models[k]["history"]] or [0.0]
            return (max(val), float(np.mean(val)))

        key = max(cls_models, key=rank)
    entry = models[key]
    ship = out / "faces_fcn.pt"
    # float16 storage halves the file (4.7 -> 2.4 MB); the builder loads it into float32 parameters
    ck = weights.load_checkpoint(out / f"lam_{key}.pt", kind=KIND)
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in ck.state_dict.items()}
    weights.save(half, ship, kind=KIND, config=ck.config, card={**ck.card, "storage": "float16"})
    return weights.register_file(
        MODEL_NAME,
        ship,
        train_command=train_command or "python -m toolkit.faces.train --register",
        card=_card_text(entry, summary),
        extra={"lam": entry["lam"]},
        ship=True,
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Train the seed-003 face FCN (λ sweep).")
    p.add_argument(
        "--data", default="faces_dataset.npz", help="dataset .npz (built when absent, see --build-step)"
    )
    p.add_argument(
        "--ffpp", default=None, help="FaceForensics++ root (see toolkit.faces.ffpp) instead of --data"
    )
    p.add_argument("--ffpp-method", default="Deepfakes")
    p.add_argument("--lams", default=",".join(f"{v:g}" for v in SEED_LAMBDAS))
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--per-epoch", type=int, default=None)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--max-val", type=int, default=None, help="validation crops per epoch (seeded subset)")
    p.add_argument("--ffpp-compression", default="c23")
    p.add_argument("--build-step", type=int, default=2, help="frame step when building the dataset")
    p.add_argument("--ae-steps", type=int, default=600)
    p.add_argument("--no-bf16", action="store_true")
    p.add_argument("--out", default="runs/faces")
    p.add_argument("--register", action="store_true", help="ship the best model as faces/fcn")
    p.add_argument("--register-lam", type=float, default=None, help="ship this λ instead of the best")
    a = p.parse_args(argv)
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    splits = None
    if a.ffpp:
        from toolkit.faces.ffpp import load_ffpp

        ds = load_ffpp(a.ffpp, methods=(a.ffpp_method,), compression=a.ffpp_compression, progress=True)
        splits = {"train": ("train",), "val": ("val",), "test": ("test",)}
    else:
        data = Path(a.data)
        if data.is_file():
            from toolkit.synth.faces import FaceDataset

            ds = FaceDataset.load(data)
        else:
            from toolkit.synth.faces import build_dataset, load_clips

            clips = load_clips(step=a.build_step, progress=True)
            ds = build_dataset(clips, seed=a.seed, ae_steps=a.ae_steps, progress=True)
            ds.save(data)
    lams = [float(v) for v in a.lams.split(",") if v.strip()]
    summary = sweep(
        ds,
        lams,
        out=a.out,
        epochs=a.epochs,
        per_epoch=a.per_epoch,
        batch=a.batch,
        seed=a.seed,
        device=a.device,
        bf16=not a.no_bf16,
        max_minutes=a.max_minutes,
        splits=splits,
        max_val=a.max_val,
        train_compression=a.ffpp_compression if a.ffpp else "c23",
    )
    for key, m in summary["models"].items():
        t = m["test"]
        print(
            f"λ={key}: "
            + ", ".join(f"{c} acc {t[c]['accuracy']:.3f} pix {t[c]['pixel_accuracy']:.3f}" for c in t)
        )
    if a.register and summary["models"]:
        cmd = (
            f"python -m toolkit.faces.train --lams {a.lams} --epochs {a.epochs} --per-epoch {a.per_epoch} "
            f"--batch {a.batch} --threads {a.threads or 1} --register"
        )
        s = register_best(a.out, lam=a.register_lam, train_command=cmd)
        print("registered", s.name, s.sha256[:12])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
