"""FOCAL coding-trace CNNs (seed 000): codec and quality classifiers and dense patch features.

>>> from toolkit.focal import FocalNet, features
>>> import numpy as np
>>> features(np.zeros((64, 64), np.uint8), FocalNet(4)).probs.shape
(1, 1, 1, 4)

``toolkit.focal.temporal`` and ``toolkit.focal.spatial`` (splicing localisation) are
imported on their own; this package does not import them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from toolkit.focal.features import FeatureMap, features, features_patchwise, patch_grid, to_luma
from toolkit.focal.model import (
    CODEC_CLASSES,
    PATCH,
    QUALITY_CLASSES,
    QUALITY_DELTAS,
    FocalNet,
    count_parameters,
)

__all__ = [
    "FocalNet",
    "FeatureMap",
    "features",
    "features_patchwise",
    "load_model",
    "classify",
    "save_model",
    "patch_grid",
    "to_luma",
    "CODEC_CLASSES",
    "QUALITY_CLASSES",
    "QUALITY_DELTAS",
    "PATCH",
    "MODEL_NAMES",
    "count_parameters",
    "train_command",
]

#: shipped model name -> weights registry name
MODEL_NAMES = {"codec": "focal/codec", "quality": "focal/quality"}


def train_command(name: str) -> str:
    """The documented command that trains and registers the shipped model ``name``."""
    return f"python -m toolkit.focal.train {name} --register"


def save_model(net: FocalNet, file: str | os.PathLike, meta: dict | None = None) -> None:
    """Save ``net`` (state dict, classes, metadata) in the format :func:`load_model` reads;
    the parent folder is created when missing."""
    import torch

    Path(file).parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    torch.save(
        {
            "state_dict": state,
            "num_classes": net.num_classes,
            "classes": list(net.classes),
            "meta": dict(meta or {}),
        },
        file,
    )


def _load_file(file, device) -> FocalNet:
    """Read a checkpoint written by :func:`save_model`; clear errors for a missing or foreign file."""
    import torch

    file = Path(file)
    if not file.is_file():
        raise FileNotFoundError(f"FOCAL checkpoint not found: {file}")
    try:
        ck = torch.load(file, map_location="cpu", weights_only=True)
        net = FocalNet(ck["num_classes"], classes=ck["classes"])
        net.load_state_dict(ck["state_dict"])
    except Exception as e:  # pickle / zip / key errors from deep inside torch.load
        raise ValueError(
            f"{file} is not a FOCAL checkpoint written by toolkit.focal.save_model "
            f"/ toolkit.focal.train ({e})"
        ) from e
    net.meta = ck.get("meta", {})
    return net.to(device).eval()


def load_model(name: str | os.PathLike, device: str = "auto") -> FocalNet:
    """Shipped FOCAL network ``'codec'`` or ``'quality'`` in eval mode, from the weights registry,
    or a checkpoint file of your own (``python -m toolkit.focal.train ... --out FILE``).

    Parameters
    ----------
    name : {'codec', 'quality'} or path
        Codec classifier (MPEG-2, MPEG-4, H.264, H.265) or quality classifier
        (quantisation step Δ = 5, 10, 20, 40); or a ``.pt`` checkpoint path.
    device : str
        'auto' (CUDA when present), 'cpu' or 'cuda'.

    Raises
    ------
    toolkit.weights.WeightsNotFoundError
        When the weight file is not shipped/cached (the message gives the training command).
    FileNotFoundError, ValueError
        A checkpoint path that does not exist or is not a FOCAL checkpoint.

    >>> net = load_model("codec")  # doctest: +SKIP
    >>> net.classes  # doctest: +SKIP
    ('mpeg2', 'mpeg4', 'h264', 'h265')
    """
    from toolkit import weights
    from toolkit._util import resolve_device

    if isinstance(name, os.PathLike) or (isinstance(name, str) and name.endswith(".pt")):
        return _load_file(name, resolve_device(device))
    if name not in MODEL_NAMES:
        raise ValueError(
            f"unknown FOCAL model {name!r}: choose one of {', '.join(MODEL_NAMES)} "
            "or give a .pt checkpoint path"
        )
    reg = MODEL_NAMES[name]
    if reg not in weights.available():
        raise weights.WeightsNotFoundError(
            f"weights {reg!r} are not registered in this installation (file focal_{name}.pt). "
            f"Train and register them with the project's own script: {train_command(name)}"
        )
    net = _load_file(weights.path(reg), resolve_device(device))
    net.weights_name = reg
    return net


def classify(
    path,
    model: str | FocalNet = "codec",
    stride: int = 8,
    *,
    count: int | None = None,
    step: int = 1,
    device: str = "auto",
    progress: bool = False,
) -> dict:
    """Frame-level class probabilities of a video: mean softmax over all patches and frames.

    Parameters
    ----------
    path : path or uint8 array
        Video file or frames (see :func:`features`).
    model : {'codec', 'quality'} or FocalNet
    stride : int
        Patch stride in pixels (multiple of 8).
    count, step : int
        Analyse at most ``count`` frames, every ``step``-th.

    Returns
    -------
    dict
        class name -> probability (sums to 1), ordered by the model's classes.

    >>> classify("clip.mp4")  # doctest: +SKIP
    {'mpeg2': 0.01, 'mpeg4': 0.02, 'h264': 0.95, 'h265': 0.02}
    """
    from toolkit._util import resolve_device

    net = load_model(model, device=device) if isinstance(model, str) else model.to(resolve_device(device))
    fm = features(path, net, stride=stride, count=count, step=step, progress=progress)
    p = fm.frame_probs.mean(axis=0)
    p = p / p.sum()
    return {c: float(v) for c, v in zip(fm.classes, np.asarray(p))}
