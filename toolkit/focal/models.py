"""The shipped FOCAL networks: names, loading and saving through :mod:`toolkit.weights`.

``load_model("codec")`` / ``load_model("quality")`` read the registry's
``focal/codec`` / ``focal/quality`` checkpoints (SHA-256 checked, read with
``weights_only=True``); ``save_model`` writes the toolkit's one checkpoint format.

>>> net = load_model("codec", device="cpu")
>>> net.classes, net.weights_name
(('mpeg2', 'mpeg4', 'h264', 'h265'), 'focal/codec')
"""

from __future__ import annotations

import os
from pathlib import Path

from toolkit import weights
from toolkit.focal.model import FocalNet

__all__ = ["MODEL_NAMES", "CHECKPOINT_KIND", "train_command", "load_model", "save_model", "model_params"]

#: shipped model name -> weights registry name
MODEL_NAMES = {"codec": "focal/codec", "quality": "focal/quality"}
#: the ``kind`` of a FOCAL checkpoint in :func:`toolkit.weights.save`
CHECKPOINT_KIND = "focal"


def train_command(name: str) -> str:
    """The documented command that trains and registers the shipped model ``name``.

    >>> train_command("codec")
    'python -m toolkit.focal.train codec --register'
    """
    return f"python -m toolkit.focal.train {name} --register"


def save_model(net: FocalNet, file: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write ``net`` in the toolkit's checkpoint format (kind ``"focal"``); returns the file.

    Parameters
    ----------
    net : FocalNet
    file : path
        The checkpoint to write (its parent folder is created when missing).
    meta : dict, optional
        Model card (plain JSON types: task, test metrics, training parameters);
        :func:`load_model` gives it back as ``net.meta``.

    >>> import tempfile, pathlib
    >>> f = save_model(FocalNet(4), pathlib.Path(tempfile.mkdtemp()) / "net.pt", meta={"note": "demo"})
    >>> load_model(f, device="cpu").meta
    {'note': 'demo'}
    """
    return weights.save(
        net,
        file,
        kind=CHECKPOINT_KIND,
        config={"num_classes": int(net.num_classes), "classes": list(net.classes)},
        card=dict(meta or {}),
    )


def _registry_name(name: str) -> str | None:
    if name in MODEL_NAMES:
        return MODEL_NAMES[name]
    if name in MODEL_NAMES.values():
        return name
    return None


def load_model(name: str | os.PathLike, device: str = "auto") -> FocalNet:
    """Shipped FOCAL network ``'codec'`` or ``'quality'`` in eval mode, from the weights registry,
    or a checkpoint file of your own (``python -m toolkit.focal.train ... --out FILE``).

    Parameters
    ----------
    name : {'codec', 'quality'}, registry name or path
        Codec classifier (MPEG-2, MPEG-4, H.264, H.265) or quality classifier
        (quantisation step Δ = 5, 10, 20, 40); ``'focal/codec'`` / ``'focal/quality'``;
        or a checkpoint path (a ``Path``, an existing file, or a string ending in ``.pt``).
    device : str
        'auto' (CUDA when present), 'cpu' or 'cuda'.

    Returns
    -------
    FocalNet
        In eval mode, with ``weights_name`` (registry name, None for a file),
        ``weights_sha256`` and ``meta`` (the model card).

    Raises
    ------
    toolkit.weights.UnknownWeightsError
        An unknown model name (a ``KeyError`` and a ``ValueError``).
    toolkit.weights.WeightsNotFoundError
        The weights are not shipped/cached (the message gives the training command),
        or a checkpoint path that does not exist.
    toolkit.weights.WeightsFormatError
        A file that is not a FOCAL checkpoint (a ``ValueError``).

    >>> load_model("quality", device="cpu").classes
    ('delta5', 'delta10', 'delta20', 'delta40')
    """
    if isinstance(name, str) and _registry_name(name) is not None:
        reg = _registry_name(name)
        if reg not in weights.available():
            short = reg.split("/", 1)[1]
            raise weights.WeightsNotFoundError(
                f"weights {reg!r} are not registered in this installation (file focal_{short}.pt). "
                f"Train and register them with the project's own script: {train_command(short)}"
            )
        return weights.load(reg, device=device, kind=CHECKPOINT_KIND)
    is_path = isinstance(name, os.PathLike) or (
        isinstance(name, str) and (name.endswith((".pt", ".pth")) or Path(name).is_file())
    )
    if not is_path:
        raise weights.UnknownWeightsError(
            f"unknown FOCAL model {name!r}: choose one of {', '.join(MODEL_NAMES)} "
            "or give a .pt checkpoint path"
        )
    try:
        return weights.load(name, device=device, kind=CHECKPOINT_KIND)
    except weights.WeightsFormatError as e:
        raise weights.WeightsFormatError(
            f"{os.fspath(name)} is not a FOCAL checkpoint written by toolkit.focal.save_model "
            f"/ toolkit.focal.train ({e})"
        ) from None


def model_params(net) -> dict:
    """``{'weights_name', 'weights_sha256'}`` of a network (None for one not loaded from weights).

    >>> model_params(load_model("codec", device="cpu"))["weights_name"]
    'focal/codec'
    """
    return {
        "weights_name": getattr(net, "weights_name", None),
        "weights_sha256": getattr(net, "weights_sha256", None),
    }
