"""Pieces shared by the country classifier, the city verifier and their training scripts.

* :func:`to_tensor` — uint8 RGB views -> ImageNet-normalised N x 3 x H x W float batch;
* :func:`tiny_backbone` — the small CNN of the CPU demo models and the tests;
* :func:`weights_id` — (name, SHA-256) of a model's weights, for a result's ``params``;
* :func:`resume` — model and optimiser state from a training checkpoint (``weights_only=True``).

>>> import numpy as np
>>> to_tensor([np.zeros((224, 224, 3), np.uint8)] * 2).shape
torch.Size([2, 3, 224, 224])
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "to_tensor",
    "tiny_backbone",
    "weights_id",
    "state_dict_sha256",
    "resume",
]

#: ImageNet channel means and standard deviations (RGB, on 0..1 values)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_tensor(views: list[np.ndarray]):
    """ImageNet-normalised float32 batch (N x 3 x H x W) from N uint8 RGB arrays of equal size (H x W x 3).

    >>> x = to_tensor([np.full((4, 4, 3), 255, np.uint8)])
    >>> round(float(x[0, 0, 0, 0]), 4)  # (1 - 0.485) / 0.229
    2.2489
    """
    import torch

    x = torch.from_numpy(np.stack(views)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def tiny_backbone(width: int = 32):
    """(feature extractor N x 3 x H x W -> N x D, D): five stride-2 conv + BN + ReLU blocks, global pooling.

    About 0.25 M parameters for ``width=32`` (D = 128); the backbone of the demo models.

    >>> import torch
    >>> net, dim = tiny_backbone()
    >>> net(torch.zeros(1, 3, 224, 224)).shape, dim
    (torch.Size([1, 128]), 128)
    """
    import torch.nn as nn

    def block(cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    return nn.Sequential(
        block(3, width // 2),
        block(width // 2, width),
        block(width, width * 2),
        block(width * 2, width * 4),
        block(width * 4, width * 4),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    ), width * 4


def state_dict_sha256(model) -> str:
    """SHA-256 of a model's state dict (names, shapes, dtypes and values), via ``toolkit._util``.

    Equal for two models with equal weights; used for in-memory models that were not loaded
    from a checkpoint.

    >>> import torch
    >>> a = torch.nn.Linear(2, 1)
    >>> b = torch.nn.Linear(2, 1)
    >>> _ = b.load_state_dict(a.state_dict())
    >>> state_dict_sha256(a) == state_dict_sha256(b), len(state_dict_sha256(a))
    (True, 64)
    """
    from toolkit._util import array_sha256, input_sha256

    parts = []
    for name, t in model.state_dict().items():
        t = t.detach().cpu()
        try:
            a = t.numpy()
        except TypeError:  # bfloat16 and other dtypes numpy lacks
            a = t.float().numpy()
        parts.append(f"{name}={array_sha256(a)}")
    return input_sha256("\n".join(parts).encode())


def weights_id(model) -> tuple[str, str]:
    """(name, SHA-256) of a model's weights for a result's ``params``.

    A model from :func:`toolkit.weights.load` gives its registry name (or checkpoint file) and the
    checkpoint file's SHA-256; an in-memory model gives ``"in-memory model"`` and
    :func:`state_dict_sha256`.

    >>> import torch
    >>> weights_id(torch.nn.Linear(2, 1))[0]
    'in-memory model'
    """
    sha = getattr(model, "weights_sha256", None)
    if sha:
        name = getattr(model, "weights_name", None) or getattr(model, "weights_file", None) or "checkpoint"
        return str(name), str(sha)
    return "in-memory model", state_dict_sha256(model)


def resume(file, model, optimizer, *, kind: str, key: str, expected) -> tuple[list, int]:
    """Load a training checkpoint written by ``toolkit.weights.save`` into ``model`` and ``optimizer``.

    The checkpoint must be of ``kind`` and hold ``config[key] == expected`` (the
    architecture) plus ``extra["optimizer"]`` and ``extra["epoch"]``; it is read
    with ``weights_only=True``. Returns ``(history, epoch)``; ``ValueError``
    with a sentence otherwise.

    >>> resume("no-such.pt", None, None, kind="geo.country", key="arch", expected="tiny")  # doctest: +SKIP
    """
    from toolkit import weights

    ck = weights.load_checkpoint(file, kind=kind)
    if ck.config.get(key) != expected:
        raise weights.WeightsFormatError(
            f"checkpoint {file} holds {key} {ck.config.get(key)!r}, not {expected!r}"
        )
    if "optimizer" not in ck.extra or "epoch" not in ck.extra:
        raise weights.WeightsFormatError(f"checkpoint {file} has no optimiser state / epoch to resume from")
    try:
        model.load_state_dict(ck.state_dict)
        optimizer.load_state_dict(ck.extra["optimizer"])
        history, epoch = list(ck.extra.get("history", [])), int(ck.extra["epoch"])
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise weights.WeightsFormatError(
            f"checkpoint {file} does not fit this model / optimiser ({first[:300]})"
        ) from None
    return history, epoch
