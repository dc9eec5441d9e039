"""What FOCAL's temporal and spatial localisation share: feature sets, networks, ROI, patch features.

Used by :mod:`toolkit.focal.temporal` and :mod:`toolkit.focal.spatial`; the
names are public here (not ``_private``) so that both import them from one place.

>>> feature_set("both")
('codec', 'quality')
>>> check_focal_roi((8, 16, 64, 64), (96, 128))
(8, 16, 64, 64)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from toolkit.focal.features import check_focal_roi, features, patch_grid
from toolkit.focal.model import PATCH
from toolkit.focal.models import load_model, model_params
from toolkit.video import FrameSource

__all__ = [
    "PATCH",
    "FEATURE_SETS",
    "feature_set",
    "resolve_models",
    "models_params",
    "check_focal_roi",
    "is_torch",
    "num_classes",
    "class_names",
    "split_dims",
    "dense_probs",
    "iter_probs",
]

#: which CNNs each feature choice uses (seed: codec f_C, quality f_Q, concatenated f)
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "codec": ("codec",),
    "quality": ("quality",),
    "both": ("codec", "quality"),
}


def feature_set(features: str) -> tuple[str, ...]:
    """The CNN names of a feature choice ``'codec'``, ``'quality'`` or ``'both'``; ``ValueError`` otherwise.

    >>> feature_set("codec")
    ('codec',)
    """
    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {', '.join(FEATURE_SETS)}, got {features!r}")
    return FEATURE_SETS[features]


def is_torch(net) -> bool:
    """True for a ``torch.nn.Module`` (a FocalNet), False for another callable extractor.

    >>> is_torch(len)
    False
    """
    import torch

    return isinstance(net, torch.nn.Module)


def resolve_models(names: Sequence[str], models: Mapping | None, device: str) -> dict:
    """The extractor of each name: from ``models`` when given, else the shipped weights
    (:func:`toolkit.focal.load_model`, ``WeightsNotFoundError`` when missing).

    A ``torch.nn.Module`` is moved to ``device`` and put in eval mode; any other value
    must be a callable ``extractor(luma T x H x W, stride) -> T x P_U x P_V x K``.

    >>> resolve_models(["codec"], None, "cpu")["codec"].classes
    ('mpeg2', 'mpeg4', 'h264', 'h265')
    """
    out = {}
    for name in names:
        if models is not None and name in models:
            net = models[name]
            if is_torch(net):
                from toolkit._util import resolve_device

                net = net.to(resolve_device(device)).eval()
            elif not callable(net):
                raise ValueError(f"models[{name!r}] must be a FocalNet or a callable extractor")
            out[name] = net
        elif models is not None:
            raise ValueError(f"models has no {name!r} network (it has {', '.join(models) or 'none'})")
        else:
            out[name] = load_model(name, device=device)
    return out


def models_params(nets: Mapping) -> dict:
    """``{name: {'weights_name', 'weights_sha256'}}`` of each network (None for unregistered ones).

    >>> models_params({"codec": len})
    {'codec': {'weights_name': None, 'weights_sha256': None}}
    """
    return {name: model_params(net) for name, net in nets.items()}


def num_classes(net) -> int:
    """K, the number of outputs of a network or extractor (its ``num_classes``, else its last Linear).

    >>> from toolkit.focal.model import FocalNet
    >>> num_classes(FocalNet(3))
    3
    """
    k = getattr(net, "num_classes", None)
    if k is None and is_torch(net):
        import torch

        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        k = last.out_features
    if k is None:
        raise ValueError("a callable extractor needs a num_classes attribute (its K)")
    return int(k)


def class_names(nets: Mapping, dims: Sequence[int] | None = None) -> list[str]:
    """``'<name>:<class>'`` of every output of the networks, in order (``'<name>:<k>'`` without names).

    >>> from toolkit.focal.model import FocalNet
    >>> class_names({"codec": FocalNet(2, classes=("a", "b"))})
    ['codec:a', 'codec:b']
    """
    names = []
    for j, (key, net) in enumerate(nets.items()):
        classes = getattr(net, "classes", None)
        k = num_classes(net) if dims is None else dims[j]
        if classes is None or len(classes) != k:
            classes = [str(c) for c in range(k)]
        names += [f"{key}:{c}" for c in classes]
    return names


def split_dims(nets: Mapping, total: int) -> list[int] | None:
    """K of each extractor when they can be known and add up to ``total``; None otherwise.

    >>> from toolkit.focal.model import FocalNet
    >>> split_dims({"a": FocalNet(4), "b": FocalNet(2)}, 6)
    [4, 2]
    """
    if len(nets) == 1:
        return [total]
    try:
        dims = [num_classes(n) for n in nets.values()]
    except ValueError:
        return None
    return dims if sum(dims) == total else None


def dense_probs(chunk: np.ndarray, nets: Mapping, stride: int) -> np.ndarray:
    """T x P_U x P_V x K patch features of every extractor, concatenated in ``nets`` order.

    A ``torch.nn.Module`` (a FocalNet) gives its softmax outputs through
    :func:`toolkit.focal.features`; any other callable ``extractor(luma, stride)``
    must return a T x P_U x P_V x K array on the same patch grid (the seed's framework
    takes any vector-valued patch descriptor).

    >>> from toolkit.focal.model import FocalNet
    >>> dense_probs(np.zeros((2, 64, 72), np.uint8), {"codec": FocalNet(4).eval()}, 8).shape
    (2, 1, 2, 4)
    """
    grid = patch_grid(chunk.shape[1], chunk.shape[2], stride)
    out = []
    for name, net in nets.items():
        if is_torch(net):
            p = features(chunk, net, stride=stride, progress=False).probs
        else:
            p = net(chunk, stride)
        p = np.asarray(p, dtype=np.float32)
        if p.ndim != 4 or p.shape[:3] != (len(chunk), *grid):
            raise ValueError(
                f"extractor {name!r} returned shape {p.shape}, expected {(len(chunk), *grid)} x K"
            )
        out.append(p)
    return np.concatenate(out, axis=-1)


def iter_probs(
    source: FrameSource,
    nets: Mapping,
    stride: int,
    roi: tuple[int, int, int, int],
    batch: int,
    progress: bool = False,
    desc: str = "FOCAL",
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Yield ``(indices, full luma frames, patch features of the roi)`` for ``batch`` frames at a time.

    >>> from toolkit.focal.model import FocalNet
    >>> src = FrameSource(np.zeros((3, 64, 72), np.uint8))
    >>> [(i, p.shape) for i, _, p in iter_probs(src, {"c": FocalNet(4).eval()}, 8, (0, 0, 64, 72), 2)]
    [([0, 1], (2, 1, 2, 4)), ([2], (1, 1, 2, 4))]
    """
    from tqdm.auto import tqdm

    top, left, rh, rw = roi
    bar = tqdm(total=len(source.indices), desc=desc, disable=not progress, unit="frame")
    idx: list[int] = []
    chunk: list[np.ndarray] = []

    def flush():
        a = np.stack(chunk)
        return (
            idx,
            a,
            dense_probs(np.ascontiguousarray(a[:, top : top + rh, left : left + rw]), nets, stride),
        )

    try:
        for i, y in source:
            idx.append(i)
            chunk.append(y)
            if len(chunk) == batch:
                yield flush()
                bar.update(len(chunk))
                idx, chunk = [], []
        if chunk:
            yield flush()
            bar.update(len(chunk))
    finally:
        bar.close()
