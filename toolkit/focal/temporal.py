"""FOCAL temporal splicing localization (seed 000, section 5.2).

Every frame gets an 8-element descriptor: the mean over its 64x64 patches of
the codec CNN's and the quality CNN's softmax outputs (eqs. 9-11). A splice
between two differently coded shots shows as a peak of the squared Euclidean
distance between consecutive descriptors, Δf(n) = ||f(n) − f(n+1)||² (eq. 12).

The current encoding's I-frames also make peaks, once per GOP (seed, Fig. 4b):
an I-frame is coded at another quality than the P-frames around it. Their
positions are known from the bitstream (:func:`toolkit.video.frame_types`), so
:func:`suppress_iframes` replaces the two distances touching each I-frame by
the distance *across* it (f(i−1) to f(i+1)) and the local background, which
removes the periodic false peaks but still sees a splice that falls on an
I-frame.

>>> from toolkit.focal.temporal import detect                 # doctest: +SKIP
>>> r = detect("sample_data/temporal/temporal_splice.mp4")     # doctest: +SKIP
>>> r.cuts                                                     # doctest: +SKIP
[99]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "FEATURE_SETS",
    "TemporalResult",
    "detect",
    "frame_descriptors",
    "distance_signal",
    "suppress_iframes",
    "find_cuts",
]

PATCH = 64
#: which CNNs each feature choice uses (seed: codec f_C, quality f_Q, concatenated f)
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "codec": ("codec",),
    "quality": ("quality",),
    "both": ("codec", "quality"),
}
DEFAULT_THRESHOLD = 20.0
SUPPRESS_MODES = ("bridge", "discard")


# --------------------------------------------------------------------------------------
# shared helpers (also used by toolkit.focal.spatial)
def _feature_set(features: str) -> tuple[str, ...]:
    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {', '.join(FEATURE_SETS)}, got {features!r}")
    return FEATURE_SETS[features]


def _models(names: Sequence[str], models: Mapping | None, device: str):
    """The CNN of each name: from ``models`` when given, else the shipped weights."""
    out = {}
    for name in names:
        if models is not None and name in models:
            net = models[name]
            if _is_torch(net):
                from toolkit._util import resolve_device

                net = net.to(resolve_device(device)).eval()
            elif not callable(net):
                raise ValueError(f"models[{name!r}] must be a FocalNet or a callable extractor")
            out[name] = net
        elif models is not None:
            raise ValueError(f"models has no {name!r} network (it has {', '.join(models) or 'none'})")
        else:
            from toolkit.focal import load_model

            out[name] = load_model(name, device=device)
    return out


def _check_roi(roi, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Validate ``roi = (top, left, height, width)`` against a frame ``shape`` (H, W)."""
    h, w = shape
    if roi is None:
        return (0, 0, h, w)
    if len(roi) != 4:
        raise ValueError("roi must be (top, left, height, width) in pixels")
    top, left, rh, rw = (int(v) for v in roi)
    if top % 8 or left % 8:
        raise ValueError(
            f"roi top/left must be multiples of 8 pixels (the coding block grid), got {top}, {left}"
        )
    if top < 0 or left < 0 or top + rh > h or left + rw > w:
        raise ValueError(f"roi {tuple(roi)} does not fit in a {h}x{w} frame")
    if rh < PATCH or rw < PATCH:
        raise ValueError(f"roi {rh}x{rw} is smaller than one {PATCH}x{PATCH} patch")
    return (top, left, rh, rw)


def _check_frame_size(shape: tuple[int, int]) -> None:
    if shape[0] < PATCH or shape[1] < PATCH:
        raise ValueError(
            f"frames are {shape[0]}x{shape[1]} pixels, smaller than one "
            f"{PATCH}x{PATCH} patch: FOCAL cannot analyse them"
        )


def _check_stride(stride: int) -> int:
    stride = int(stride)
    if stride < 8 or stride % 8:
        raise ValueError(f"stride must be a positive multiple of 8 pixels (the coding grid), got {stride}")
    return stride


def _as_luma_array(frames) -> np.ndarray:
    """T x H x W uint8 luma from a frame or frames (grey H x W, RGB H x W x 3, or stacks)."""
    from toolkit.focal import to_luma

    return to_luma(frames)


class _Source:
    """A video path or an array of frames, read as luma planes with a known index."""

    def __init__(
        self,
        video,
        start: int = 0,
        count: int | None = None,
        step: int = 1,
        indices: Sequence[int] | None = None,
    ):
        if start < 0 or step < 1 or (count is not None and count < 0):
            raise ValueError("start must be >= 0, step >= 1 and count >= 0 (or None)")
        self.path: str | None = None
        self.array: np.ndarray | None = None
        if isinstance(video, (str, os.PathLike, Path)):
            from toolkit._util import as_path
            from toolkit.video import probe

            p = as_path(video)
            info = probe(p)
            self.path, self.sha256 = str(p), info.sha256
            self.shape = (info.height, info.width)
            self.n_total = info.n_frames
            self.codec = info.codec
        else:
            import hashlib

            self.array = _as_luma_array(video)
            self.sha256 = hashlib.sha256(np.ascontiguousarray(self.array).tobytes()).hexdigest()
            self.shape = tuple(self.array.shape[1:3])
            self.n_total = len(self.array)
            self.codec = None
        if indices is not None:
            idx = sorted({int(i) for i in indices})
            if not idx:
                raise ValueError("frames must name at least one frame index")
            if idx[0] < 0:
                raise ValueError("frame indices must be >= 0")
            self.indices = idx
        else:
            stop = self.n_total if count is None else min(self.n_total, start + count * step)
            self.indices = list(range(start, stop, step))

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        wanted = set(self.indices)
        last = max(self.indices) if self.indices else -1
        if self.array is not None:
            for i in self.indices:
                if i < len(self.array):
                    yield i, self.array[i]
            return
        from toolkit.video import iter_luma

        for i, y in enumerate(iter_luma(self.path)):
            if i > last:
                break
            if i in wanted:
                yield i, y


def _dense_probs(chunk: np.ndarray, nets: Mapping, stride: int) -> np.ndarray:
    """T x P_U x P_V x K patch features of every extractor, concatenated in ``nets`` order.

    A ``torch.nn.Module`` (a FocalNet) gives its softmax outputs through
    :func:`toolkit.focal.features`; any other callable ``extractor(luma, stride)``
    must return a T x P_U x P_V x K array on the same patch grid (the seed's framework
    takes any vector-valued patch descriptor).
    """
    from toolkit.focal import features, patch_grid

    grid = patch_grid(chunk.shape[1], chunk.shape[2], stride)
    out = []
    for name, net in nets.items():
        if _is_torch(net):
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


def _is_torch(net) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(net, torch.nn.Module)


def _class_names(nets: Mapping, dims: Sequence[int] | None = None) -> list[str]:
    names = []
    for j, (key, net) in enumerate(nets.items()):
        classes = getattr(net, "classes", None)
        k = _num_classes(net) if dims is None else dims[j]
        if classes is None or len(classes) != k:
            classes = [str(c) for c in range(k)]
        names += [f"{key}:{c}" for c in classes]
    return names


def _split_dims(nets: Mapping, total: int) -> list[int] | None:
    """K of each extractor when they can be known; None lets _class_names ask the nets."""
    if len(nets) == 1:
        return [total]
    try:
        dims = [_num_classes(n) for n in nets.values()]
    except ValueError:
        return None
    return dims if sum(dims) == total else None


def _num_classes(net) -> int:
    k = getattr(net, "num_classes", None)
    if k is None and _is_torch(net):
        import torch

        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        k = last.out_features
    if k is None:
        raise ValueError("a callable extractor needs a num_classes attribute (its K)")
    return int(k)


def _iter_probs(
    source: _Source, nets: Mapping, stride: int, roi, batch: int, progress: bool, desc: str
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Yield ``(indices, full luma frames, probs of the roi)`` for ``batch`` frames at a time."""
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
            _dense_probs(np.ascontiguousarray(a[:, top : top + rh, left : left + rw]), nets, stride),
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


# --------------------------------------------------------------------------------------
# the method's steps as plain functions on arrays
def frame_descriptors(probs: np.ndarray) -> np.ndarray:
    """Frame descriptors f(n): the mean of the patch descriptors (seed eqs. 9-11).

    Parameters
    ----------
    probs : array, T x P_U x P_V x K
        Per-patch softmax outputs (codec and/or quality, concatenated on the last axis).

    Returns
    -------
    array, T x K (float64)

    >>> frame_descriptors(np.ones((2, 3, 4, 8)) / 4).shape
    (2, 8)
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 4:
        raise ValueError(f"probs must be T x P_U x P_V x K, got shape {p.shape}")
    return p.mean(axis=(1, 2))


def distance_signal(descriptors: np.ndarray) -> np.ndarray:
    """Δf(n) = ||f(n) − f(n+1)||², one value per pair of consecutive frames (seed eq. 12).

    Parameters
    ----------
    descriptors : array, T x K

    Returns
    -------
    array, T − 1

    >>> distance_signal(np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]))
    array([0., 2.])
    """
    f = np.asarray(descriptors, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError("descriptors must be T x K with T >= 2 frames")
    return np.sum(np.diff(f, axis=0) ** 2, axis=1)


def _background(values: np.ndarray) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 1e-12
    return float(max(np.median(v), 1e-12))


def suppress_iframes(
    distance: np.ndarray,
    descriptors: np.ndarray,
    i_frames: Iterable[int],
    window: int = 15,
    mode: str = "bridge",
) -> tuple[np.ndarray, np.ndarray]:
    """Remove the GOP-periodic peaks that the current encoding's I-frames cause.

    For every I-frame ``i`` that sits between two non-I frames, the pair
    ``(i−1, i)`` gets the distance across the I-frame, ||f(i−1) − f(i+1)||²
    (so a splice at the I-frame is still seen), and the pair ``(i, i+1)`` gets
    the local background (median of the untouched distances within
    ``window`` pairs): it carries no evidence that the I-frame itself does not
    spoil. An I-frame at the first or last frame only resets its single pair
    to the background. Runs of consecutive I-frames (all-intra video) are left
    as they are: there is no I/P quality contrast there.

    ``mode='discard'`` resets both pairs to the background instead (the seed's
    evaluation, which discards the GOP false positives): simpler, but blind to a
    splice that falls exactly on an I-frame.

    Parameters
    ----------
    distance : array, T − 1
        Δf(n) between frames n and n+1.
    descriptors : array, T x K
        The frame descriptors that gave ``distance``.
    i_frames : iterable of int
        Positions (0-based, in the analysed sequence) of the I-frames.
    window : int
        Half-width, in pairs, of the local background.
    mode : {'bridge', 'discard'}

    Returns
    -------
    (suppressed, touched) : (array T − 1, bool array T − 1)

    >>> f = np.zeros((7, 2)); f[3] = [1, 0]              # an I-frame spike at frame 3
    >>> d = distance_signal(f); d
    array([0., 0., 1., 1., 0., 0.])
    >>> s, touched = suppress_iframes(d, f, [0, 3]); s
    array([0., 0., 0., 0., 0., 0.])
    """
    if mode not in SUPPRESS_MODES:
        raise ValueError(f"mode must be one of {', '.join(SUPPRESS_MODES)}, got {mode!r}")
    d = np.asarray(distance, dtype=np.float64)
    f = np.asarray(descriptors, dtype=np.float64)
    t = len(f)
    if d.shape != (t - 1,):
        raise ValueError(f"distance must have one value per pair ({t - 1}), got {d.shape}")
    iset = {int(i) for i in i_frames if 0 <= int(i) < t}
    touched = np.zeros(t - 1, bool)
    across: dict[int, float] = {}
    reset: list[int] = []
    for i in sorted(iset):
        if (i - 1) in iset or (i + 1) in iset:
            continue  # all-intra stretch: no I/P contrast to remove
        if 0 < i < t - 1:
            if mode == "bridge":
                across[i - 1] = float(np.sum((f[i - 1] - f[i + 1]) ** 2))
            else:
                reset.append(i - 1)
            reset.append(i)
            touched[[i - 1, i]] = True
        elif i == 0 and t > 1:
            reset.append(0)
            touched[0] = True
        elif i == t - 1:
            reset.append(t - 2)
            touched[t - 2] = True
    out = d.copy()
    clean = np.where(touched, np.nan, d)
    for n, v in across.items():
        out[n] = v
    for n in reset:
        lo, hi = max(0, n - window), min(t - 1, n + window + 1)
        local = clean[lo:hi]
        if not np.isfinite(local).any():
            local = clean
        out[n] = float(np.nanmedian(local)) if np.isfinite(local).any() else 0.0
    return out, touched


def find_cuts(score: np.ndarray, threshold: float) -> list[int]:
    """Pairs whose ``score`` exceeds ``threshold`` and is a local maximum.

    >>> find_cuts(np.array([1.0, 30.0, 25.0, 1.0, 50.0]), 20.0)
    [1, 4]
    """
    s = np.asarray(score, dtype=np.float64)
    cuts = []
    for n in np.flatnonzero(s > threshold):
        left = s[n - 1] if n > 0 else -np.inf
        right = s[n + 1] if n + 1 < len(s) else -np.inf
        if s[n] >= left and s[n] > right:
            cuts.append(int(n))
    return cuts


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemporalResult:
    """Temporal splicing localization of one video (seed 000, section 5.2).

    Attributes
    ----------
    frame_index : array, T
        Frame numbers (display order) of the analysed frames.
    descriptors : array, T x K
        Frame descriptors f(n) (mean patch softmax outputs), ``feature_names`` name the columns.
    raw_distance : array, T − 1
        Δf(n) = ||f(n) − f(n+1)||² before I-frame suppression.
    distance : array, T − 1
        The detector's distance signal: ``raw_distance`` after I-frame
        suppression (equal to it when suppression is off or no I-frame is known).
    score : array, T − 1
        ``distance`` divided by its median (the background): unit-free.
    threshold : float
        Decision threshold on ``score``; ``cuts`` are the local maxima above it.
    cuts : list of int
        Frame numbers n such that a splice is detected between frame n and the next
        analysed frame (n + 1 when every frame is analysed).
    i_frames : tuple of int
        Frame numbers of the I-frames used for the suppression.
    suppressed : array of bool, T − 1
        Pairs changed by the suppression.
    """

    frame_index: np.ndarray
    descriptors: np.ndarray
    feature_names: tuple[str, ...]
    raw_distance: np.ndarray
    distance: np.ndarray
    score: np.ndarray
    background: float
    threshold: float
    cuts: list[int]
    i_frames: tuple[int, ...]
    suppressed: np.ndarray
    sha256: str
    path: str | None = None
    params: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"TemporalResult(frames={len(self.frame_index)}, cuts={self.cuts}, "
            f"threshold={self.threshold:g}, i_frames={len(self.i_frames)}, "
            f"features={self.params.get('features')})"
        )

    @property
    def pairs(self) -> np.ndarray:
        """Frame number n of each pair (n, next analysed frame): ``frame_index[:-1]``."""
        return self.frame_index[:-1]

    def to_dict(self) -> dict:
        """JSON-ready dict of every array (as lists), the decision and the parameters."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "frame_index": self.frame_index.tolist(),
            "feature_names": list(self.feature_names),
            "descriptors": self.descriptors.tolist(),
            "raw_distance": self.raw_distance.tolist(),
            "distance": self.distance.tolist(),
            "score": self.score.tolist(),
            "background": self.background,
            "threshold": self.threshold,
            "cuts": list(self.cuts),
            "i_frames": list(self.i_frames),
            "suppressed": self.suppressed.tolist(),
            "params": dict(self.params),
        }

    def table(self):
        """One row per pair of consecutive analysed frames (pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "frame": self.pairs,
                "next_frame": self.frame_index[1:],
                "raw_distance": self.raw_distance,
                "distance": self.distance,
                "score": self.score,
                "i_frame_adjacent": self.suppressed,
                "cut": np.isin(self.pairs, self.cuts),
            }
        )

    def plot(self, show_raw: bool = True):
        """Plotly figure: Δf (log scale) with detected cuts, threshold and I-frames; descriptors below."""
        from plotly.subplots import make_subplots

        fig = make_subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            row_heights=[0.62, 0.38],
            vertical_spacing=0.06,
            subplot_titles=("distance Δf(n) = ||f(n) − f(n+1)||²", "frame descriptors f(n)"),
        )
        x = self.pairs + 0.5
        floor = max(self.background * 1e-3, 1e-12)
        if show_raw and self.suppressed.any():
            fig.add_scatter(
                x=x,
                y=np.maximum(self.raw_distance, floor),
                mode="lines",
                name="Δf before I-frame suppression",
                line=dict(color="lightgrey"),
                row=1,
                col=1,
            )
        fig.add_scatter(
            x=x,
            y=np.maximum(self.distance, floor),
            mode="lines+markers",
            marker=dict(size=3),
            name="Δf (I-frames suppressed)" if self.params.get("suppress_iframes") else "Δf",
            line=dict(color="#1f77b4"),
            row=1,
            col=1,
        )
        thr = self.threshold * self.background
        fig.add_scatter(
            x=[x[0], x[-1]],
            y=[thr, thr],
            mode="lines",
            name=f"threshold ({self.threshold:g} x median)",
            line=dict(color="#d62728", dash="dash"),
            row=1,
            col=1,
        )
        if self.cuts:
            sel = np.isin(self.pairs, self.cuts)
            fig.add_scatter(
                x=x[sel],
                y=np.maximum(self.distance[sel], floor),
                mode="markers",
                name="detected cut",
                marker=dict(symbol="x", size=12, color="#d62728"),
                row=1,
                col=1,
            )
        for k, i in enumerate(self.i_frames):
            fig.add_vline(x=i, line=dict(color="#2ca02c", width=1, dash="dot"), row=1, col=1)
            if k == 0:
                fig.add_scatter(
                    x=[None],
                    y=[None],
                    mode="lines",
                    name="I-frame",
                    line=dict(color="#2ca02c", dash="dot"),
                    row=1,
                    col=1,
                )
        for k, name in enumerate(self.feature_names):
            fig.add_scatter(
                x=self.frame_index,
                y=self.descriptors[:, k],
                mode="lines",
                name=name,
                legendgroup="descriptors",
                row=2,
                col=1,
            )
        fig.update_yaxes(type="log", title_text="Δf", row=1, col=1)
        fig.update_yaxes(title_text="mean softmax", range=[0, 1], row=2, col=1)
        fig.update_xaxes(title_text="frame", row=2, col=1)
        fig.update_layout(height=560, width=900, margin=dict(t=40, l=60, r=20, b=40))
        return fig


def detect(
    video,
    *,
    features: str = "both",
    models: Mapping | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    suppress: str | bool | None = "bridge",
    i_frames: Sequence[int] | None = None,
    stride: int = 32,
    step: int = 1,
    start: int = 0,
    count: int | None = None,
    roi: Sequence[int] | None = None,
    batch: int = 8,
    device: str = "auto",
    progress: bool = False,
) -> TemporalResult:
    """Detect temporal splices: peaks of the frame-descriptor distance Δf(n).

    Parameters
    ----------
    video : path or array
        A video file, or frames (T x H x W luma / T x H x W x 3 RGB uint8).
    features : {'both', 'codec', 'quality'}
        Which CNN outputs make the descriptor: 4 codec + 4 quality values ('both', seed eq. 11).
    models : mapping, optional
        ``{'codec': net, 'quality': net}`` (``toolkit.focal.FocalNet``, or any callable
        ``extractor(luma T x H x W, stride) -> T x P_U x P_V x K`` with a ``num_classes``);
        default: the shipped models from ``toolkit.focal.load_model`` (WeightsNotFoundError
        when missing).
    threshold : float
        A cut is declared where ``distance / median(distance)`` exceeds this and is a local maximum.
    suppress : {'bridge', 'discard'}, True or None/False
        How to suppress the I-frame peaks (see :func:`suppress_iframes`; True = 'bridge');
        None/False keeps the raw Δf. The I-frames come from ``i_frames`` when given, else
        from the bitstream of a video file (``toolkit.video.frame_types``).
    i_frames : sequence of int, optional
        I-frame positions (frame numbers) to use instead of reading them from the file.
    stride : int
        Patch stride in pixels (multiple of 8). The frame descriptor is a mean over patches,
        so a coarse stride (32, 64) costs 16-64x less than 8 for nearly the same mean.
    step, start, count : int
        Analyse frames ``start, start+step, ...`` (at most ``count``). With ``step > 1`` a
        cut n lies between frames n and n + step, and the suppression is skipped unless every
        I-frame is analysed.
    roi : (top, left, height, width), optional
        Region of interest in pixels (top/left multiples of 8); the rest of the frame is ignored.
    batch : int
        Frames per forward pass (memory bound).
    device : str
        'auto' (CUDA when present), 'cpu' or 'cuda'.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    TemporalResult

    Examples
    --------
    >>> r = detect("spliced.mp4")                    # doctest: +SKIP
    >>> r.cuts, r.distance.shape                      # doctest: +SKIP
    ([99], (199,))
    """
    names = _feature_set(features)
    stride = _check_stride(stride)
    if threshold <= 0 or not np.isfinite(threshold):
        raise ValueError("threshold must be a positive number (multiples of the median distance)")
    if batch < 1:
        raise ValueError("batch must be >= 1")
    source = _Source(video, start=start, count=count, step=step)
    _check_frame_size(source.shape)
    box = _check_roi(roi, source.shape)
    if len(source.indices) < 2:
        raise ValueError(
            "temporal analysis needs at least 2 frames, the selection has "
            f"{len(source.indices)} "
            f"(video of {source.n_total} frames)"
        )
    nets = _models(names, models, device)
    idx_all: list[int] = []
    desc: list[np.ndarray] = []
    for idx, _, probs in _iter_probs(source, nets, stride, box, batch, progress, "FOCAL temporal"):
        idx_all += idx
        desc.append(frame_descriptors(probs))
    if len(idx_all) < 2:
        raise ValueError(f"temporal analysis needs at least 2 decodable frames, got {len(idx_all)}")
    f = np.concatenate(desc)
    frame_index = np.asarray(idx_all, dtype=int)
    raw = distance_signal(f)

    # I-frames of the current encoding, in the analysed sequence's positions
    mode = "bridge" if suppress is True else (suppress or None)
    if mode is not None and mode not in SUPPRESS_MODES:
        raise ValueError(f"suppress must be one of {', '.join(SUPPRESS_MODES)}, True, False or None")
    iframes: tuple[int, ...] = ()
    if i_frames is not None:
        iframes = tuple(sorted(int(i) for i in i_frames))
    elif source.path is not None:
        from toolkit.video import gop_structure

        iframes = gop_structure(source.path).i_frames
    suppressed = np.zeros(len(raw), bool)
    dist = raw.copy()
    skipped_reason = None
    if mode is not None and iframes:
        pos = {int(n): k for k, n in enumerate(frame_index)}
        if not bool(np.all(np.diff(frame_index) == 1)):
            skipped_reason = "frames are not contiguous (step > 1): an I-frame's neighbours are not analysed"
        else:
            local = [pos[i] for i in iframes if i in pos]
            dist, suppressed = suppress_iframes(raw, f, local, mode=mode)
    background = _background(dist)
    score = dist / background
    cut_pos = find_cuts(score, threshold)
    cuts = [int(frame_index[k]) for k in cut_pos]
    params = {
        "features": features,
        "models": list(names),
        "threshold": float(threshold),
        "suppress": mode,
        "suppress_iframes": bool(suppressed.any()),
        "suppression_skipped": skipped_reason,
        "stride": stride,
        "step": int(step),
        "start": int(start),
        "count": None if count is None else int(count),
        "roi": list(box),
        "batch": int(batch),
        "device": str(device),
        "patch": PATCH,
        "frame_size": list(source.shape),
        "codec": source.codec,
    }
    return TemporalResult(
        frame_index=frame_index,
        descriptors=f,
        feature_names=tuple(_class_names(nets, _split_dims(nets, f.shape[1]))),
        raw_distance=raw,
        distance=dist,
        score=score,
        background=background,
        threshold=float(threshold),
        cuts=cuts,
        i_frames=tuple(int(i) for i in iframes),
        suppressed=suppressed,
        sha256=source.sha256,
        path=source.path,
        params=params,
    )
