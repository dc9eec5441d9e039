"""Train the FOCAL codec / quality CNNs (seed 000, sections 6.1-6.2) and ship them.

Recipes (the seed's):

* codec: Adam (PyTorch defaults, lr 1e-3), cross-entropy, batch 256 patches;
* quality: SGD with momentum 0.9, lr 5e-3 halved every 5 epochs, batch 256 patches.

Model selection keeps the epoch with the lowest validation loss. Data come from
:mod:`toolkit.focal.data` (source-disjoint splits). Everything is seeded.

Speed-up (same network, same per-patch loss): a batch holds grid-aligned crops
of ``crop`` x ``crop`` pixels (default 96: 5x5 = 25 patches at stride 8), the
trunk (conv1-4) runs once per crop and the 13x13 conv4 windows of its patches are
unfolded and sent through conv5 / FC exactly as single patches would be. On 2
CPU cores this trains ~8x more patches per second than cutting 64x64 patches.
The only difference from per-patch training is that conv1-4's batch-norm
statistics are taken over crops instead of patches.

Precision: ``precision='bf16'`` runs the training forward pass under bfloat16
autocast (conv1 stays float32, see :meth:`toolkit.focal.model.FocalNet.trunk`);
on this project's 2-core AMX CPU a crop-96 step takes ~155 ms instead of ~300 ms,
with the same loss curve over the first 300 steps within noise. Validation, test
and the shipped weights are float32.

Initialisation: conv1 starts from 4x4 DCT high-pass filters
(:func:`toolkit.focal.model.highpass_init_`); from PyTorch's default
initialisation the networks stayed at chance on this CPU budget.

Command line (the shipped models)::

    python -m toolkit.focal.train codec --register
    python -m toolkit.focal.train quality --register
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from toolkit.focal.data import DATA_VERSION, Split, build_dataset, load_split
from toolkit.focal.model import GRID, PATCH, FocalNet, count_parameters, highpass_init_
from toolkit.focal.models import load_model, save_model

__all__ = [
    "RECIPES",
    "TrainResult",
    "train",
    "evaluate",
    "source_bootstrap_ci",
    "crop_logits",
    "model_card",
    "register_weights",
    "main",
]

RECIPES = {
    "codec": dict(optimizer="adam", lr=1e-3, lr_step=0, batch_size=256, epochs=20, crops_per_epoch=2500),
    "quality": dict(optimizer="sgdm", lr=5e-3, lr_step=5, batch_size=256, epochs=20, crops_per_epoch=2500),
}
DEFAULT_DATA_DIR = (
    Path(os.environ.get("TOOLKIT_CACHE", Path.home() / ".cache" / "forensics-toolkit")) / "focal_data"
)


def crop_logits(net: FocalNet, crops: torch.Tensor) -> torch.Tensor:
    """Logits of every stride-8 patch of crops ``B x 1 x S x S``: ``B x n x n x K``, n = (S-64)/8+1.

    conv1-4 run once on each crop; each patch's 13x13 conv4 window then goes
    through conv5 (with its own zero padding), FC-1 and FC-2 like a single patch.
    """
    b, _, s, s2 = crops.shape
    if s != s2 or s < PATCH or (s - PATCH) % GRID:
        raise ValueError(f"crops must be square with side 64 + 8k, got {s}x{s2}")
    n = (s - PATCH) // GRID + 1
    a = net.trunk(crops)
    w = a.unfold(2, 13, 2).unfold(3, 13, 2)  # B x C x n x n x 13 x 13
    w = w.permute(0, 2, 3, 1, 4, 5).reshape(b * n * n, a.shape[1], 13, 13)
    z = torch.relu(net.bn5(net.conv5(w)))
    return net.fc2(net.fc1(z.flatten(1))).view(b, n, n, -1)


class CropSampler:
    """Seeded grid-aligned crops of a :class:`Split` with per-patch validity masks."""

    def __init__(self, split: Split, crop: int = 96):
        if crop < PATCH or (crop - PATCH) % GRID:
            raise ValueError(f"crop must be 64 + a multiple of 8 pixels, got {crop}")
        self.split, self.crop = split, crop
        self.n = (crop - PATCH) // GRID + 1
        pu, pv = split.valid.shape[1:]
        if pu < self.n or pv < self.n:
            raise ValueError(f"frames hold {pu}x{pv} patch positions, fewer than a {crop}px crop needs")
        self.pos = np.argwhere(split.valid)  # (frame, u, v) of every valid patch position
        if len(self.pos) == 0:
            raise ValueError("the split has no valid patches (all below the variance threshold?)")
        # balance classes: weight each position by 1 / (valid positions of its class)
        lab = split.labels[self.pos[:, 0]]
        counts = np.bincount(lab, minlength=len(split.classes)).astype(float)
        w = 1.0 / counts[lab]
        self.p = w / w.sum()
        # what Generator.choice(len, p=p) does, with the O(N) cumulative sum taken once here
        # instead of on every batch (a million positions: ~10 ms a call); same draws, bit for bit
        self._cdf = self.p.cumsum()
        self._cdf /= self._cdf[-1]

    def sample(self, count: int, rng: np.random.Generator):
        """``(crops count x 1 x S x S float, labels count, mask count x n x n bool)``."""
        n, pu, pv = self.n, *self.split.valid.shape[1:]
        pick = self.pos[self._cdf.searchsorted(rng.random(count), side="right")]
        crops = np.empty((count, 1, self.crop, self.crop), np.float32)
        masks = np.empty((count, n, n), bool)
        for k, (f, u, v) in enumerate(pick):
            u0 = int(np.clip(u - rng.integers(0, n), 0, pu - n))
            v0 = int(np.clip(v - rng.integers(0, n), 0, pv - n))
            y0, x0 = u0 * GRID, v0 * GRID
            crops[k, 0] = self.split.frames[f, y0 : y0 + self.crop, x0 : x0 + self.crop]
            masks[k] = self.split.valid[f, u0 : u0 + n, v0 : v0 + n]
        return (
            torch.from_numpy(crops),
            torch.from_numpy(self.split.labels[pick[:, 0]]),
            torch.from_numpy(masks),
        )


@torch.no_grad()
def _init_bn_stats(net: FocalNet, fn, x: torch.Tensor) -> None:
    """Set every BN layer's running statistics to those of one batch ``fn(net, x)`` in train mode."""
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    old = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 1.0
    net.train()
    fn(net, x)
    for m, mom in zip(bns, old):
        m.momentum = mom


def _eval_patches(split: Split, max_patches: int | None, seed: int):
    """Non-overlapping (stride 64) valid patch positions of a split, optionally subsampled."""
    pos = np.argwhere(split.valid[:, ::8, ::8])
    pos[:, 1:] *= 8
    if max_patches is not None and len(pos) > max_patches:
        pos = pos[np.sort(np.random.default_rng(seed).choice(len(pos), max_patches, replace=False))]
    return pos


@torch.no_grad()
def _predict(net: FocalNet, split: Split, pos: np.ndarray, batch: int = 256) -> np.ndarray:
    dev = next(net.parameters()).device
    net.eval()
    out = []
    for i in range(0, len(pos), batch):
        p = pos[i : i + batch]
        x = np.stack(
            [split.frames[f, u * GRID : u * GRID + PATCH, v * GRID : v * GRID + PATCH] for f, u, v in p]
        )
        out.append(torch.softmax(net(torch.from_numpy(x).float()[:, None].to(dev)), -1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, net.num_classes), np.float32)


def source_bootstrap_ci(
    correct: np.ndarray, source: np.ndarray, level: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> list[float] | None:
    """Percentile bootstrap interval of an accuracy when whole *sources* are resampled.

    Frames of one source are strongly correlated (same content, same encodes), so the
    uncertainty of a held-out accuracy comes from the few sources, not the many frames.
    ``correct``: per-item booleans; ``source``: per-item source names. Returns
    ``[low, high]`` (None with fewer than 2 sources). Uses :func:`scipy.stats.bootstrap`
    on the paired per-source (correct count, item count) sums.

    >>> source_bootstrap_ci(np.array([1, 1, 0, 1, 0, 0], bool), np.array(list("aabbcc")))
    [0.0, 1.0]
    """
    from scipy.stats import bootstrap

    correct, source = np.asarray(correct, bool), np.asarray(source)
    if correct.shape != source.shape:
        raise ValueError(
            f"correct and source must have the same shape, got {correct.shape} and {source.shape}"
        )
    names = sorted(set(source.tolist()))
    if len(names) < 2:
        return None
    hits = np.array([correct[source == n].sum() for n in names], float)
    count = np.array([(source == n).sum() for n in names], float)
    res = bootstrap(
        (hits, count),
        lambda h, c, axis=-1: h.sum(axis) / c.sum(axis),
        paired=True,
        vectorized=True,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return [float(res.confidence_interval.low), float(res.confidence_interval.high)]


def evaluate(
    net: FocalNet, split: Split, max_patches: int | None = None, seed: int = 0, per_frame: bool = False
) -> dict:
    """Patch- and frame-level accuracy of ``net`` on a split (non-overlapping valid patches).

    Frame level: the argmax of the mean patch probabilities ('mean') and the most
    voted patch class ('majority') of each frame. Returns a dict with accuracies,
    the 'mean' frame accuracy per source and its bootstrap interval over sources
    (:func:`source_bootstrap_ci`), confusion matrices (rows = true class), loss and counts.
    ``per_frame=True`` adds ``'frames'`` (indices into the split, F) and ``'frame_probs'``
    (F x K mean patch probabilities) as numpy arrays, for breakdowns of the errors.
    """
    from sklearn.metrics import confusion_matrix

    from toolkit.metrics import balanced_accuracy

    pos = _eval_patches(split, max_patches, seed)
    probs = _predict(net, split, pos)
    y = split.labels[pos[:, 0]]
    pred = probs.argmax(1)
    k = len(split.classes)
    loss = float(F.nll_loss(torch.log(torch.from_numpy(probs).clamp_min(1e-12)), torch.from_numpy(y)))
    frames = np.unique(pos[:, 0])
    fprob, fvote = [], []
    for f in frames:
        sel = pos[:, 0] == f
        fprob.append(probs[sel].mean(0))
        fvote.append(np.bincount(pred[sel], minlength=k).argmax())
    fprob = np.stack(fprob) if len(frames) else np.zeros((0, k), np.float32)
    fmean, fvote, fy = fprob.argmax(1), np.asarray(fvote), split.labels[frames]
    src = np.asarray([str(split.videos[split.video[f]]["source"]) for f in frames])
    by_source = {str(s): float((fmean[src == s] == fy[src == s]).mean()) for s in sorted(set(src))}
    out = {
        "loss": loss,
        "patch_accuracy": float((pred == y).mean()),
        "patch_balanced_accuracy": float(balanced_accuracy(y, pred)),
        "frame_accuracy_mean": float((fmean == fy).mean()),
        "frame_accuracy_majority": float((fvote == fy).mean()),
        "n_patches": int(len(y)),
        "n_frames": int(len(frames)),
        "n_sources": len(split.sources),
        "classes": list(split.classes),
        "frame_accuracy_by_source": by_source,
        "frame_accuracy_ci95_over_sources": source_bootstrap_ci(fmean == fy, src),
        "confusion_patch": confusion_matrix(y, pred, labels=list(range(k))).tolist(),
        "confusion_frame": confusion_matrix(fy, fmean, labels=list(range(k))).tolist(),
    }
    if per_frame:
        out.update(frames=frames, frame_probs=fprob)
    return out


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`: the selected network, its history and test metrics."""

    net: FocalNet
    task: str
    history: list
    best_epoch: int
    test: dict
    params: dict
    seconds: float
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "history": self.history,
            "best_epoch": self.best_epoch,
            "test": self.test,
            "params": self.params,
            "seconds": self.seconds,
            "data": self.data,
        }

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.history)

    def plot(self):
        """Plotly figure: training and validation loss per epoch."""
        import plotly.graph_objects as go

        df = self.table()
        fig = go.Figure()
        for col in ("train_loss", "val_loss", "val_accuracy"):
            fig.add_scatter(x=df["epoch"], y=df[col], name=col, mode="lines+markers")
        fig.update_layout(
            title=f"FOCAL {self.task} training (best epoch {self.best_epoch})", xaxis_title="epoch"
        )
        return fig


def train(
    task: str,
    data_dir: str | os.PathLike | None = None,
    *,
    epochs: int | None = None,
    crops_per_epoch: int | None = None,
    crop: int = 96,
    batch_size: int | None = None,
    lr: float | None = None,
    frames_per_video: int = 6,
    train_segments: int = 1,
    train_frames_per_video: int | None = None,
    val_patches: int = 2000,
    test_patches: int | None = None,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = 2,
    sources: dict | None = None,
    max_minutes: float | None = None,
    splits: dict[str, Split] | None = None,
    init: str = "highpass",
    init_from: str | os.PathLike | None = None,
    precision: str = "fp32",
    progress: bool = True,
) -> TrainResult:
    """Train the ``task`` ('codec' or 'quality') network with the seed's recipe.

    Parameters
    ----------
    task : {'codec', 'quality'}
    data_dir : path
        Where the splits are built/reused (default ``$TOOLKIT_CACHE/focal_data``).
    epochs, crops_per_epoch, batch_size, lr : optional
        Override :data:`RECIPES` (an epoch = ``crops_per_epoch`` crops, i.e. x25 patches at crop 96).
    crop : int
        Crop side in pixels (64 + 8k); 64 is plain per-patch training.
    frames_per_video : int
        Decoded frames kept per encode (evenly spaced over the GOP).
    train_segments, train_frames_per_video : int
        Enlarge the training split only: encodes per source and frames per encode
        (:func:`toolkit.focal.data.build_dataset`); validation and test are unchanged.
    val_patches, test_patches : int
        Validation patches per epoch (fixed subset) and test patches (None = all).
    splits : dict, optional
        Ready ``{'train', 'val', 'test'}`` :class:`~toolkit.focal.data.Split` objects (skip building).
    init : {'highpass', 'default'}
        conv1 initialisation: DCT high-pass filters (:func:`~toolkit.focal.model.highpass_init_`)
        or PyTorch's default.
    init_from : path, optional
        Continue from a checkpoint written by this trainer (``--out``): a second stage
        with a lower learning rate. Its classes must match; ``init`` is then ignored and
        the checkpoint's identity (SHA-256, stage-1 recipe) is recorded in ``params``.
    precision : {'fp32', 'bf16'}
        'bf16': the training forward pass runs under bfloat16 autocast with channels-last
        tensors (weights, optimizer and loss stay float32; validation, test and the shipped
        model run in float32). About 2x faster on CPUs with AMX / AVX-512-BF16 units and on
        recent GPUs; 'fp32' (default) reproduces the earlier runs bit for bit.
    max_minutes : float, optional
        Safety stop: no new epoch starts after this many minutes (recorded in ``params``).
    sources : dict, optional
        ``{'train': [...], 'val': [...], 'test': [...]}`` :class:`~toolkit.focal.data.SourceSpec`
        lists (default: :func:`toolkit.focal.data.split_sources`).

    Returns
    -------
    TrainResult
        ``.net`` (best validation loss, eval mode), ``.history``, ``.test`` metrics.

    >>> res = train("quality", epochs=1)  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from toolkit._util import resolve_device

    if task not in RECIPES:
        raise ValueError(f"task must be 'codec' or 'quality', got {task!r}")
    r = dict(RECIPES[task])
    for k, v in (
        ("epochs", epochs),
        ("crops_per_epoch", crops_per_epoch),
        ("batch_size", batch_size),
        ("lr", lr),
    ):
        if v is not None:
            r[k] = v
    if init not in ("highpass", "default"):
        raise ValueError(f"init must be 'highpass' or 'default', got {init!r}")
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    if r["epochs"] < 1 or r["crops_per_epoch"] < 1 or r["batch_size"] < 1:
        raise ValueError("epochs, crops_per_epoch and batch_size must be >= 1")
    if threads:
        torch.set_num_threads(int(threads))
    t0 = time.time()
    data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    built = splits is None
    if splits is None:
        files = build_dataset(
            task,
            data_dir,
            frames_per_video=frames_per_video,
            seed=seed,
            sources=sources,
            train_segments=train_segments,
            train_frames_per_video=train_frames_per_video,
            progress=progress,
        )
        splits = {k: load_split(f) for k, f in files.items()}
    elif set(splits) != {"train", "val", "test"}:
        raise ValueError(f"splits must have 'train', 'val' and 'test', got {sorted(splits)}")
    t_data = time.time() - t0
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = resolve_device(device)
    classes = splits["train"].classes
    net = FocalNet(len(classes), classes=classes)
    stage1 = None
    if init_from is not None:
        stage1 = _load_stage1(net, init_from)
    elif init == "highpass":
        highpass_init_(net, generator=torch.Generator().manual_seed(seed))
    net = net.to(dev)
    bf16 = precision == "bf16"
    if bf16:
        net = net.to(memory_format=torch.channels_last)
    if r["optimizer"] == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=r["lr"])
    else:
        opt = torch.optim.SGD(net.parameters(), lr=r["lr"], momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, r["lr_step"], 0.5) if r["lr_step"] else None
    sampler = CropSampler(splits["train"], crop)
    crops_per_batch = max(1, round(r["batch_size"] / sampler.n**2))
    steps = max(1, r["crops_per_epoch"] // crops_per_batch)
    history, best, best_state, best_epoch = [], np.inf, None, 0
    # batch-norm running statistics start at mean 0 / var 1, far from this network's activations
    # (var ~1e-2): take them from a first batch so that eval-mode validation is meaningful from
    # epoch 1 on (afterwards the usual momentum 0.1 tracks them)
    if stage1 is None:
        first = sampler.sample(crops_per_batch, np.random.default_rng(seed + 1))[0].to(dev)
        _init_bn_stats(net, crop_logits, first)
    stopped_early = False
    for epoch in range(1, r["epochs"] + 1):
        if max_minutes is not None and epoch > 1 and time.time() - t0 > 60 * max_minutes:
            stopped_early = True
            break
        net.train()
        losses = []
        bar = tqdm(range(steps), desc=f"{task} epoch {epoch}/{r['epochs']}", disable=not progress)
        for _ in bar:
            x, y, m = sampler.sample(crops_per_batch, rng)
            x, y, m = x.to(dev), y.to(dev), m.to(dev)
            if bf16:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                logits = crop_logits(net, x)
            logits = logits.float()
            n = sampler.n
            yy = y[:, None, None].expand(-1, n, n)
            loss = F.cross_entropy(logits[m], yy[m])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            if len(losses) % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        if sched is not None:
            sched.step()
        val = evaluate(net, splits["val"], max_patches=val_patches, seed=seed)
        history.append(
            {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)),
                "val_loss": val["loss"],
                "val_accuracy": val["patch_accuracy"],
                "lr": opt.param_groups[0]["lr"],
                "seconds": time.time() - t0,
            }
        )
        # one line per epoch, also in the logs of --no-progress runs
        print(
            f"epoch {epoch}: train loss {history[-1]['train_loss']:.4f}, val loss {val['loss']:.4f}, "
            f"val acc {val['patch_accuracy']:.3f}",
            flush=True,
        )
        if val["loss"] < best:
            best, best_epoch = val["loss"], epoch
            best_state = copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    net = net.to(memory_format=torch.contiguous_format)
    net.eval()
    test = evaluate(net, splits["test"], max_patches=test_patches, seed=seed)
    data = {
        k: {
            "sources": s.sources,
            "frames": int(len(s.frames)),
            "videos": len(s.videos),
            "patches_stride64": s.n_patches(),
        }
        for k, s in splits.items()
    }
    version = DATA_VERSION[task] if sources is None and built else None  # None: caller's own data
    params = {
        "task": task,
        **r,
        "data_version": version,
        "crop": crop,
        "patches_per_crop": sampler.n**2,
        "crops_per_batch": crops_per_batch,
        "steps_per_epoch": steps,
        "frames_per_video": frames_per_video,
        "train_segments": train_segments,
        "train_frames_per_video": train_frames_per_video or frames_per_video,
        "val_patches": val_patches,
        "test_patches": test_patches,
        "seed": seed,
        "init": "checkpoint" if stage1 else init,
        "init_from": stage1,
        "device": str(dev),
        "threads": threads,
        "precision": precision,
        "parameters": count_parameters(net),
        "data_seconds": t_data,
        "max_minutes": max_minutes,
        "epochs_run": len(history),
        "stopped_early": stopped_early,
    }
    return TrainResult(
        net=net,
        task=task,
        history=history,
        best_epoch=best_epoch,
        test=test,
        params=params,
        seconds=time.time() - t0,
        data=data,
    )


def _load_stage1(net: FocalNet, file) -> dict:
    """Load a trainer checkpoint into ``net``; return what the model card says about it.

    The file is read by :func:`toolkit.focal.load_model` (:func:`toolkit.weights.load`,
    ``weights_only=True``): a file that is not a FOCAL checkpoint is a ``ValueError``
    (``toolkit.weights.WeightsFormatError``) naming it, and nothing in it is executed.
    """
    file = Path(file)
    if not file.is_file():
        raise FileNotFoundError(f"init_from checkpoint not found: {file}")
    src = load_model(file, device="cpu")
    if tuple(src.classes) != tuple(net.classes):
        raise ValueError(f"{file} has classes {list(src.classes)}, this task needs {list(net.classes)}")
    net.load_state_dict(src.state_dict())
    info = {"file": file.name, "sha256": src.weights_sha256}
    side = file.with_suffix(".json")  # the stage-1 results the CLI writes next to its weights
    run = json.loads(side.read_text()) if side.is_file() else src.meta
    p = run.get("params", {})
    info.update(
        {
            k: p.get(k)
            for k in (
                "optimizer",
                "lr",
                "lr_step",
                "epochs_run",
                "steps_per_epoch",
                "seed",
                "threads",
                "init",
                "data_version",
                "train_segments",
                "crop",
                "precision",
            )
        }
    )
    info.update(
        {
            "best_epoch": run.get("best_epoch"),
            "seconds": run.get("seconds"),
            "test": {
                k: v
                for k, v in run.get("test", {}).items()
                if k.endswith("accuracy_mean") or k == "patch_accuracy"
            },
        }
    )
    return info


def model_card(res: TrainResult | dict, command: str) -> str:
    """Model-card text of a training run (data, recipe, measured accuracy)."""
    r = res.to_dict() if isinstance(res, TrainResult) else res
    t, p, d, task = r["test"], r["params"], r["data"], r["task"]
    what = (
        "codec classifier: MPEG-2 / MPEG-4 / H.264 / H.265"
        if task == "codec"
        else "quality classifier: quantisation step Δ = 5 / 10 / 20 / 40 (MPEG-2, MPEG-4, H.264; "
        "MPEG's smallest step is 8, so its 'Δ=5' class is qscale 1)"
    )
    return "\n".join(
        [
            f"FOCAL {what} (seed 000 CNN, {p['parameters']:,} parameters, "
            "64x64 luma patches on the 8x8 grid).",
            f"Data (toolkit.focal.data{_version_text(p)}, frames 240x320, GOP 30, {p['frames_per_video']} "
            "frames per encode): "
            f"train {len(d['train']['sources'])} sources / {d['train']['videos']} encodes"
            + _train_extra(p)
            + ", "
            f"val {len(d['val']['sources'])} / {d['val']['videos']}, test {len(d['test']['sources'])} / "
            f"{d['test']['videos']} (source-disjoint). Sources: photo sequences over scikit-image/"
            "scikit-learn photos and real H.264 clips downscaled by 2 (CC-BY, ../shared/real_video)."
            + (" Patches with luma variance <= 10^3 excluded." if task == "quality" else ""),
            f"Training: {p['optimizer']} lr {p['lr']}"
            + (f" halved every {p['lr_step']} epochs" if p["lr_step"] else "")
            + f", cross-entropy, batch {p['crops_per_batch']} crops x {p['patches_per_crop']} patches, "
            f"{p['epochs_run']} epochs x {p['steps_per_epoch']} steps, "
            f"best val loss at epoch {r['best_epoch']}, "
            f"seed {p['seed']}, {r['seconds'] / 60:.0f} min on {p['device']} ({p['threads']} threads"
            + (", bfloat16 autocast" if p.get("precision") == "bf16" else "")
            + ")."
            + _stage1_line(p.get("init_from")),
            f"Held-out test ({t['n_sources']} sources, {t['n_patches']} non-overlapping patches, "
            f"{t['n_frames']} frames): patch accuracy {t['patch_accuracy']:.3f}, frame accuracy "
            f"{t['frame_accuracy_mean']:.3f} (mean) / {t['frame_accuracy_majority']:.3f} (majority)"
            + _ci_text(t)
            + ". "
            "The seed reports no patch-classification accuracy (only splicing-localisation results).",
            _goal_line(task, t),
            f"Reproduce: {command}",
        ]
    )


def _version_text(p: dict) -> str:
    v = p.get("data_version", 1)
    if v is None or v == 1:  # None: the caller's own splits
        return ""
    text = (
        f" version {v}: an explicit encoder thread count per encode, 1 or 4, and 1 for x264/x265 "
        "under CBR/VBR"
    )
    if v >= 3:
        return text + "; x264/x265 capped at AVX2, so that every encode is bit-exact"
    return text + "; all but the x264 CBR/VBR encodes are bit-exact"


def _ci_text(t: dict) -> str:
    ci = t.get("frame_accuracy_ci95_over_sources")
    if not ci:
        return ""
    worst = min(t["frame_accuracy_by_source"].items(), key=lambda kv: kv[1])
    return (
        f"; 95 % bootstrap interval over the {t['n_sources']} sources {ci[0]:.3f}-{ci[1]:.3f}, "
        f"hardest source {worst[0]} {worst[1]:.3f}"
    )


def _train_extra(p: dict) -> str:
    segs, fpv = p.get("train_segments", 1), p.get("train_frames_per_video", p["frames_per_video"])
    if segs == 1 and fpv == p["frames_per_video"]:
        return ""
    return f" ({segs} takes per source, {fpv} frames per encode)"


def _stage1_line(s: dict | None) -> str:
    if not s:
        return ""
    mins = f", {s['seconds'] / 60:.0f} min" if s.get("seconds") else ""
    return (
        f" This was a second stage, started from checkpoint {s['file']} (sha256 {s['sha256'][:12]}): "
        f"stage 1 = {s.get('optimizer')} lr {s.get('lr')}"
        + (f" halved every {s['lr_step']} epochs" if s.get("lr_step") else "")
        + f", {s.get('epochs_run')} epochs x {s.get('steps_per_epoch')} steps from the {s.get('init')} "
        f"initialisation{mins}, best epoch {s.get('best_epoch')}, test patch accuracy "
        f"{s.get('test', {}).get('patch_accuracy', float('nan')):.3f}."
    )


def _goal_line(task: str, t: dict) -> str:
    goal, key = (0.90, "frame_accuracy_mean") if task == "codec" else (0.80, "patch_accuracy")
    met = t[key] >= goal
    return f"Project goal ({key.replace('_', ' ')} >= {goal:.2f} on held-out sources): " + (
        "met."
        if met
        else f"NOT met ({t[key]:.3f}); "
        "treat its outputs as weak coding descriptors, not as a reliable classifier."
    )


def register_weights(
    task: str, weights_file: str | os.PathLike, results: TrainResult | dict | str | Path, command: str
):
    """Ship ``weights_file`` as ``focal/<task>`` with a model card built from the run's results."""
    from toolkit.weights import register_file

    if isinstance(results, (str, Path)):
        results = json.loads(Path(results).read_text())
    r = results.to_dict() if isinstance(results, TrainResult) else results
    src = Path(weights_file)
    named = src.with_name(f"focal_{task}.pt")
    if src.resolve() != named.resolve():
        import shutil

        shutil.copyfile(src, named)
    return register_file(
        f"focal/{task}",
        named,
        train_command=command,
        card=model_card(r, command),
        extra={"metrics": r["test"], "history": r["history"], "params": r["params"], "data": r["data"]},
    )


def main(argv: list[str] | None = None) -> TrainResult:
    ap = argparse.ArgumentParser(prog="python -m toolkit.focal.train", description=__doc__.split("\n")[0])
    ap.add_argument("task", choices=sorted(RECIPES))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--crops-per-epoch", type=int)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--frames-per-video", type=int, default=6)
    ap.add_argument(
        "--train-segments",
        type=int,
        default=1,
        help="encode each training source this many times (other camera paths / clip segments)",
    )
    ap.add_argument(
        "--train-frames-per-video",
        type=int,
        default=None,
        help="frames kept per training encode (default --frames-per-video)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--init", choices=("highpass", "default"), default="highpass")
    ap.add_argument("--val-patches", type=int, default=2000)
    ap.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="bf16: bfloat16 autocast for the training forward pass (~2x faster on AMX CPUs)",
    )
    ap.add_argument("--init-from", default=None, help="continue from this checkpoint (a second stage)")
    ap.add_argument("--out", default=None, help="weights file (default /tmp/focal_<task>.pt)")
    ap.add_argument("--results", default=None, help="JSON with history and test metrics")
    ap.add_argument("--register", action="store_true", help="ship the weights as focal/<task>")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    res = train(
        a.task,
        a.data_dir,
        epochs=a.epochs,
        crops_per_epoch=a.crops_per_epoch,
        crop=a.crop,
        batch_size=a.batch_size,
        lr=a.lr,
        frames_per_video=a.frames_per_video,
        train_segments=a.train_segments,
        train_frames_per_video=a.train_frames_per_video,
        seed=a.seed,
        device=a.device,
        threads=a.threads,
        max_minutes=a.max_minutes,
        init=a.init,
        val_patches=a.val_patches,
        init_from=a.init_from,
        precision=a.precision,
        progress=not a.no_progress,
    )
    out = Path(a.out or f"/tmp/focal_{a.task}.pt")
    if a.register:
        out = out.with_name(f"focal_{a.task}.pt")
    save_model(
        res.net,
        out,
        meta={
            "task": a.task,
            "test": res.test,
            "params": res.params,
            "best_epoch": res.best_epoch,
            "seconds": res.seconds,
        },
    )
    results = Path(a.results or out.with_suffix(".json"))
    results.write_text(json.dumps(res.to_dict(), indent=1))
    print(json.dumps({k: v for k, v in res.test.items() if not k.startswith("confusion")}, indent=1))
    if a.register:
        cmd = "python -m toolkit.focal.train " + " ".join(argv if argv is not None else sys.argv[1:])
        register_weights(a.task, out, res, cmd)
        print(f"registered focal/{a.task} -> {out.name}")
    return res


if __name__ == "__main__":
    main()
