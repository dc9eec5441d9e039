"""Train a frame-level detector: :func:`fit` (in process) and ``python -m toolkit.framecls.train``.

:func:`fit` takes lists of ``(video path, label)`` (label 0 / ``"real"``, 1 / ``"fake"``), decodes the
first ``max_frames`` frames of each (sampled at ``fps`` when given), and trains the backbone with Adam
(β 0.9 / 0.999, ε 1e-8) and cross-entropy on single frames (frame models) or on windows of
``seq_len`` consecutive frames with the loss on every frame (sequence models), with the seed's recipe
of :data:`toolkit.framecls.BACKBONES` unless overridden. Training stops after ``epochs``, after
``patience`` epochs without a lower validation loss (the best epoch's weights are kept), or when
``max_minutes`` have passed. The decision threshold is then recalibrated on the validation videos'
soft votes (:func:`toolkit.framecls.recalibrate_threshold`). Seeded; ``checkpoint=`` saves after every
epoch (optimizer state, epoch, history in the checkpoint's ``extra``) and resumes from it.

The command line trains on a data family of :mod:`toolkit.synth.synthetic_video`, measures the test
split and writes a checkpoint with its model card::

    python -m toolkit.framecls.train --family cityvid --quality hq --backbone tiny --max-minutes 5
    python -m toolkit.framecls.train --backbone xception --size 512 1024 --n-sources 200 --device auto

>>> from toolkit.framecls.train import fit                              # doctest: +SKIP
>>> net = fit([("r.mp4", 0), ("f.mp4", 1)], [("r2.mp4", 0), ("f2.mp4", 1)], max_minutes=1)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from toolkit._util import resolve_device
from toolkit.framecls.backbones import BACKBONES, FrameClassifier, build, count_parameters
from toolkit.framecls.core import KIND, predict_resized
from toolkit.framecls.voting import fps_indices, recalibrate_threshold, sample_windows

__all__ = ["fit", "clips", "video_scores", "evaluate", "label_of", "refresh_batchnorm", "main"]

_CLIP_CACHE: dict = {}
_CACHE_MAX = 4096


def label_of(label) -> int:
    """0 for a real video (``0``, ``"real"``), 1 for a fake one (``1``, ``"fake"``, ``"synthetic"``).

    >>> label_of("fake"), label_of(0)
    (1, 0)
    """
    if isinstance(label, str):
        key = label.strip().lower()
        if key in ("real", "pristine", "0"):
            return 0
        if key in ("fake", "synthetic", "1"):
            return 1
    elif label in (0, 1) and not isinstance(label, float | complex):
        return int(label)
    raise ValueError(f"labels must be 0 / 'real' or 1 / 'fake', got {label!r}")


def clips(videos, model: FrameClassifier, max_frames: int | None = 30, fps: float | None = None) -> list:
    """The resized uint8 frames (``T x 3 x H x W`` tensors) of each video, as the trainer sees them.

    ``videos``: paths, or ``(path, label)`` pairs. Decoded once per process (cached by path, file size,
    modification time, input size, ``max_frames`` and ``fps``). Videos whose frames are smaller than
    :data:`toolkit.framecls.core.MIN_SIDE` raise ``ValueError``.
    """
    from toolkit.framecls.core import MIN_SIDE
    from toolkit.video import FrameSource, VideoReadError

    out = []
    for v in videos:
        p = v[0] if isinstance(v, tuple | list) else v
        st = os.stat(p)
        key = (str(p), st.st_size, st.st_mtime_ns, model.input_size, max_frames, fps)
        if key not in _CLIP_CACHE:
            src = FrameSource(p, fmt="rgb")
            if min(src.shape) < MIN_SIDE:
                raise ValueError(f"{p}: frames are {src.shape[1]}x{src.shape[0]}, smaller than {MIN_SIDE} px")
            idx = fps_indices(src.n_total, src.info.fps, fps)[: max_frames or None].tolist()
            frames = [f for _, f in FrameSource(p, indices=idx, fmt="rgb")] if idx else []
            if not frames:
                raise VideoReadError(f"{str(p)!r}: no frame could be decoded")
            if len(_CLIP_CACHE) >= _CACHE_MAX:
                _CLIP_CACHE.clear()
            _CLIP_CACHE[key] = model.resize(np.stack(frames))
        out.append(_CLIP_CACHE[key])
    return out


def _samples(clip_list, labels, seq_len):
    """(video, start) pairs: every frame (frame models) or every window start (sequence models)."""
    pairs = []
    for v, c in enumerate(clip_list):
        if seq_len is None:
            pairs += [(v, t) for t in range(len(c))]
        else:
            if len(c) < seq_len:
                raise ValueError(
                    f"a training video has {len(c)} frames, fewer than the sequence length {seq_len}"
                )
            pairs += [(v, int(w[0])) for w in sample_windows(len(c), seq_len)]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _batch(clip_list, labels, pairs, seq_len, device):
    if seq_len is None:
        x = torch.stack([clip_list[v][t] for v, t in pairs])
    else:
        x = torch.stack([clip_list[v][t : t + seq_len] for v, t in pairs])
    y = torch.as_tensor([labels[v] for v, _ in pairs], dtype=torch.long)
    return x.to(device), y.to(device)


def _loss(model, x, y, criterion):
    logits = model(model.normalize(x))
    if logits.ndim == 3:  # sequence model: loss on every frame of the window
        return criterion(logits.reshape(-1, 2), y.repeat_interleave(logits.shape[1]))
    return criterion(logits, y)


@torch.no_grad()
def refresh_batchnorm(model: nn.Module, batches) -> int:
    """Re-estimate every BatchNorm layer's running mean / variance as the plain average over
    ``batches`` (normalised network inputs), with the weights fixed ("precise BN").

    After a short training the running statistics (an exponential average over the changing
    weights) lag the weights, and the eval-mode network scores every frame about the same; the
    trainer calls this before each validation and at the end. Returns the number of batches used.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    was_training = model.training
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    n = 0
    for x in batches:
        model(x)
        n += 1
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.train(was_training)
    return n


def _bn_batches(model, clip_list, labels, pairs, seq_len, batch_size, device, max_batches=16):
    order = np.random.default_rng(0).permutation(len(pairs))
    for k in range(0, min(len(order), max_batches * batch_size), batch_size):
        x, _ = _batch(clip_list, labels, pairs[order[k : k + batch_size]], seq_len, device)
        yield model.normalize(x)


@torch.no_grad()
def _val_loss(model, clip_list, labels, seq_len, batch_size, device, criterion) -> float:
    pairs = _samples(clip_list, labels, seq_len)
    model.eval()
    total, n = 0.0, 0
    for k in range(0, len(pairs), batch_size):
        x, y = _batch(clip_list, labels, pairs[k : k + batch_size], seq_len, device)
        total += float(_loss(model, x, y, criterion)) * len(y)
        n += len(y)
    return total / max(n, 1)


def video_scores(model: FrameClassifier, clip_list) -> np.ndarray:
    """Soft vote (mean frame fake probability) of each clip from :func:`clips`.

    >>> m = build("tiny").eval()
    >>> video_scores(m, [m.resize(np.zeros((2, 16, 16, 3), np.uint8))]).shape
    (1,)
    """
    out = []
    L = model.seq_len
    for c in clip_list:
        if L is None:
            s = predict_resized(model, c)
        else:
            if len(c) < L:
                out.append(float("nan"))
                continue
            s = predict_resized(model, torch.stack([c[w[0] : w[0] + L] for w in sample_windows(len(c), L)]))
        out.append(float(s.mean()))
    return np.asarray(out, dtype=np.float64)


def evaluate(model: FrameClassifier, videos, threshold: float | None = None, **clip_kw) -> dict:
    """Video-level accuracy (soft vote > threshold; default the model's), AUC and scores on
    ``(path, label)`` pairs."""
    from toolkit.metrics import roc

    y = np.array([label_of(lab) for _, lab in videos])
    s = video_scores(model, clips(videos, model, **clip_kw))
    thr = float(model.threshold if threshold is None else threshold)
    out = {"n": int(len(y)), "threshold": thr, "accuracy": float(((s > thr).astype(int) == y).mean())}
    try:
        out["auc"] = float(roc(y, s).auc) if len(set(y.tolist())) == 2 else float("nan")
    except Exception:  # metrics may refuse degenerate inputs; AUC is then unknown
        out["auc"] = float("nan")
    out["scores"] = [round(float(v), 5) for v in s]
    out["labels"] = y.tolist()
    return out


def _restore(model, opt, ck) -> dict:
    ex = ck.extra
    model.load_state_dict(ex.get("last_state", ck.state_dict))  # continue from the last epoch's weights
    if "optimizer" in ex:
        opt.load_state_dict(ex["optimizer"])
    if "torch_rng" in ex:
        torch.set_rng_state(ex["torch_rng"])
    return ex


def fit(
    train_videos,
    val_videos=(),
    backbone: str = "tiny",
    *,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    patience: int | None = -1,
    max_frames: int | None = 30,
    fps: float | None = -1.0,
    device: str = "auto",
    seed: int = 0,
    max_minutes: float | None = None,
    progress: bool = True,
    pretrained: str | os.PathLike | None = None,
    checkpoint: str | os.PathLike | None = None,
    threads: int | None = None,
    recalibrate: bool = True,
) -> nn.Module:
    """Train a :class:`~toolkit.framecls.FrameClassifier` on ``(path, label)`` lists; return it (eval mode).

    Parameters
    ----------
    train_videos, val_videos : lists of ``(video path, label)``; label 0 / "real", 1 / "fake".
        Validation drives early stopping and the threshold recalibration (may be empty).
    backbone : a key of :data:`toolkit.framecls.BACKBONES` (``"tiny"`` on CPU).
    epochs, lr, batch_size, patience, fps : the backbone's recipe unless given (``patience=None``:
        no early stopping; ``fps=None``: every frame).
    max_frames : frames decoded per video (the seed: the first N = 30).
    device : ``"auto"``, ``"cpu"``, ``"cuda"``. seed : torch / numpy seed of the run.
    max_minutes : stop training after this many minutes (wall clock; checked after every batch).
    pretrained : backbone weights (registry name, file or ``"imagenet"``; see :func:`toolkit.framecls.build`).
    checkpoint : file saved after every epoch and resumed from when it exists.
    threads : ``torch.set_num_threads`` for the run.
    recalibrate : set ``threshold`` to the value maximising validation accuracy (needs both classes).

    Returns
    -------
    FrameClassifier with ``threshold``, ``history`` (per-epoch train / validation loss) and
    ``train_info`` (epochs, frames, seconds, why it stopped, parameters).
    """
    from tqdm.auto import tqdm

    from toolkit import weights

    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose from {', '.join(BACKBONES)}")
    spec = BACKBONES[backbone]
    epochs = spec.epochs if epochs is None else int(epochs)
    lr = spec.lr if lr is None else float(lr)
    batch_size = spec.batch_size if batch_size is None else int(batch_size)
    patience = spec.patience if patience == -1 else patience
    fps = spec.fps if fps == -1.0 else fps
    train_videos, val_videos = list(train_videos), list(val_videos)
    if not train_videos:
        raise ValueError("fit needs at least one training video")
    y_train = [label_of(lab) for _, lab in train_videos]
    y_val = [label_of(lab) for _, lab in val_videos]
    if set(y_train) != {0, 1}:
        raise ValueError("fit needs training videos of both classes (real and fake)")
    if threads is not None:
        torch.set_num_threads(int(threads))
    torch.manual_seed(int(seed))
    dev = resolve_device(device)
    model = build(backbone, pretrained=pretrained).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    criterion = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    tr_clips = clips(train_videos, model, max_frames, fps)
    va_clips = clips(val_videos, model, max_frames, fps) if val_videos else []
    pairs = _samples(tr_clips, y_train, spec.seq_len)
    decode_s = time.perf_counter() - t0
    history: list = []
    state = {"epoch": 0, "best_val": math.inf, "bad_epochs": 0}
    best = None
    ck_file = Path(checkpoint) if checkpoint is not None else None
    if ck_file is not None and ck_file.is_file():
        ck = weights.load_checkpoint(ck_file, kind=KIND)
        ex = _restore(model, opt, ck)
        history = list(ex.get("history", []))
        state.update({k: ex[k] for k in ("epoch", "best_val", "bad_epochs") if k in ex})
        best = ex.get("best_state")
    stop = "epochs"
    t_train = time.perf_counter()
    budget = None if max_minutes is None else float(max_minutes) * 60.0
    bar = tqdm(total=epochs, initial=int(state["epoch"]), desc=f"train {backbone}", disable=not progress)
    try:
        while state["epoch"] < epochs:
            model.train()
            order = np.random.default_rng([int(seed), int(state["epoch"])]).permutation(len(pairs))
            total, n = 0.0, 0
            out_of_time = False
            for k in range(0, len(order), batch_size):
                x, y = _batch(tr_clips, y_train, pairs[order[k : k + batch_size]], spec.seq_len, dev)
                opt.zero_grad(set_to_none=True)
                loss = _loss(model, x, y, criterion)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(y)
                n += len(y)
                if budget is not None and time.perf_counter() - t_train > budget:
                    out_of_time = True
                    break
            state["epoch"] += 1
            row = {"epoch": state["epoch"], "train_loss": total / max(n, 1)}
            refresh_batchnorm(
                model, _bn_batches(model, tr_clips, y_train, pairs, spec.seq_len, batch_size, dev)
            )
            if va_clips:
                row["val_loss"] = _val_loss(model, va_clips, y_val, spec.seq_len, batch_size, dev, criterion)
                if row["val_loss"] < state["best_val"] - 1e-6:
                    state["best_val"], state["bad_epochs"] = row["val_loss"], 0
                    best = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                else:
                    state["bad_epochs"] += 1
            history.append(row)
            bar.update(1)
            bar.set_postfix({k: round(v, 4) for k, v in row.items() if k != "epoch"})
            if ck_file is not None:
                extra = {
                    "optimizer": opt.state_dict(),
                    "history": history,
                    "torch_rng": torch.get_rng_state(),
                    **state,
                }
                if best is not None:
                    extra["best_state"] = best
                weights.save(model, ck_file, kind=KIND, config=model.config(), extra=extra)
            if out_of_time:
                stop = "max_minutes"
                break
            if patience is not None and va_clips and state["bad_epochs"] >= patience:
                stop = "patience"
                break
    finally:
        bar.close()
    last = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if best is not None:
        model.load_state_dict(best)
    model.eval()
    threshold = 0.5
    if recalibrate and va_clips and set(y_val) == {0, 1}:
        threshold = recalibrate_threshold(video_scores(model, va_clips), y_val)
    model.threshold = float(threshold)
    model.history = history
    model.train_info = {
        "backbone": backbone,
        "epochs": int(state["epoch"]),
        "stopped_by": stop,
        "lr": lr,
        "batch_size": batch_size,
        "patience": patience,
        "max_frames": max_frames,
        "fps": fps,
        "seed": int(seed),
        "train_videos": len(train_videos),
        "val_videos": len(val_videos),
        "train_samples": int(len(pairs)),
        "decode_s": round(decode_s, 3),
        "train_s": round(time.perf_counter() - t_train, 3),
        "parameters": count_parameters(model.net),
        "threshold": float(threshold),
        "device": str(dev),
        "pretrained": None if pretrained is None else str(pretrained),
    }
    if ck_file is not None:  # the best weights, with what a later call needs to continue the run
        extra = {
            "optimizer": opt.state_dict(),
            "history": history,
            "torch_rng": torch.get_rng_state(),
            **state,
        }
        if best is not None:
            extra["best_state"], extra["last_state"] = best, last
        weights.save(model, ck_file, kind=KIND, config=model.config(), extra=extra)
    return model


# --------------------------------------------------------------------------- command line
def model_card(report: dict, command: str) -> str:
    """Model card text: data seen, training, measured test accuracy, what it means."""
    t, d = report["train_info"], report["data"]
    return (
        f"Frame-level detector ({t['backbone']} backbone, {t['parameters']} parameters; seed 001 ch. 3-5: "
        "per-frame fake probability, video decision by soft vote).\n"
        f"Data: ONLY SIMULATED DeepStreets-like videos (toolkit.synth.synthetic_video family "
        f"{d['family']!r}, {d['quality'].upper()}, {d['size'][1]}x{d['size'][0]}, {d['n_frames']} frames; "
        f"no GAN, no real data set): {d['train_videos']} training / {d['val_videos']} validation videos "
        f"(split by source, seed {d['seed']}).\n"
        f"Training: {t['epochs']} epochs (stopped by {t['stopped_by']}), Adam lr {t['lr']:g}, batch "
        f"{t['batch_size']}, {t['train_samples']} training samples, {t['train_s']:.0f} s on {t['device']}; "
        f"threshold {t['threshold']:.4f} recalibrated on the validation videos.\n"
        f"Held-out test ({report['test']['n']} videos of other sources): accuracy "
        f"{report['test']['accuracy']:.3f}, AUC {report['test']['auc']:.3f}.\n"
        "Meaning: whether the frames resemble this simulation's fakes; it has never seen real GAN output. "
        "Train on your own real and synthetic videos before drawing conclusions.\n"
        f"Reproduce: {command}"
    )


def main(argv=None) -> dict:
    """Command line: build a data family, train, measure on the test split, save (and register)."""
    import tempfile

    from toolkit import weights
    from toolkit._util import command_line
    from toolkit.synth import synthetic_video as sv

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="cityvid", choices=sorted(sv.FAMILIES))
    ap.add_argument("--quality", default="raw", choices=list(sv.QUALITIES))
    ap.add_argument("--backbone", default="tiny", choices=sorted(BACKBONES))
    ap.add_argument("--n-sources", type=int, default=20, help="pristine sources (one real + one fake each)")
    ap.add_argument("--size", type=int, nargs=2, default=list(sv.DEFAULT_SIZE), metavar=("H", "W"))
    ap.add_argument("--data", default=None, help="folder of the data family (default: the cache)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pretrained", default=None, help="'imagenet' (user-registered) or a state-dict file")
    ap.add_argument("--out", default=None, help="checkpoint file (resumed from when it exists)")
    ap.add_argument("--register", default=None, metavar="NAME", help="ship the result under this name")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    size = tuple(args.size)
    root = Path(args.data) if args.data else sv.cache_dir() / f"{size[0]}x{size[1]}_seed{args.seed}"
    manifest = sv.make_family(
        root, args.family, n_sources=args.n_sources, size=size, seed=args.seed, progress=not args.no_progress
    )
    split = {k: sv.videos(manifest, k, args.quality) for k in ("train", "val", "test")}
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / f"framecls_{args.backbone}.pt"
    model = fit(
        split["train"],
        split["val"],
        args.backbone,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
        max_minutes=args.max_minutes,
        progress=not args.no_progress,
        pretrained=args.pretrained,
        checkpoint=out,
        threads=args.threads,
    )
    report = {
        "train_info": model.train_info,
        "history": model.history,
        "data": {
            "family": args.family,
            "quality": args.quality,
            "size": list(size),
            "n_frames": manifest["n_frames"],
            "seed": args.seed,
            "train_videos": len(split["train"]),
            "val_videos": len(split["val"]),
            "test_videos": len(split["test"]),
        },
        "test": evaluate(model, split["test"]),
    }
    defaults = {
        "family": "cityvid",
        "quality": "raw",
        "backbone": "tiny",
        "n_sources": 20,
        "seed": 0,
        "epochs": None,
        "max_minutes": None,
    }
    command = command_line("python -m toolkit.framecls.train", args, defaults)
    if list(size) != list(sv.DEFAULT_SIZE):
        command += f" --size {size[0]} {size[1]}"
    card = model_card(report, command + (f" --register {args.register}" if args.register else ""))
    card_dict = {
        "text": card,
        **{k: report[k] for k in ("train_info", "data")},
        "test": {k: v for k, v in report["test"].items() if k in ("n", "accuracy", "auc", "threshold")},
    }
    weights.save(model, out, kind=KIND, config=model.config(), card=card_dict)
    report["file"] = str(out)
    if args.register:
        spec = weights.register_file(
            args.register,
            out,
            train_command=command,
            card=card,
            extra={"test": card_dict["test"], "backbone": args.backbone},
        )
        report["registered"], report["sha256"] = spec.name, spec.sha256
    print(card)
    print(json.dumps({"test": card_dict["test"], "train_s": model.train_info["train_s"]}, indent=1))
    return report


if __name__ == "__main__":
    main()
