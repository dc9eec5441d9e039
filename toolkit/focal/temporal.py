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

>>> from toolkit.focal.temporal import detect
>>> r = detect("sample_data/temporal/temporal_splice.mp4", features="quality", start=56, count=6,
...            stride=64, device="cpu")     # 6 frames around the splice after frame 59
>>> r.verdict, r.cuts, r.score > r.threshold
('forged', [59], True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from toolkit._util import check_stride
from toolkit.focal._common import (
    FEATURE_SETS,
    PATCH,
    check_focal_roi,
    class_names,
    feature_set,
    iter_probs,
    models_params,
    resolve_models,
    split_dims,
)
from toolkit.focal.features import open_frames
from toolkit.focal.model import GRID
from toolkit.result import INCONCLUSIVE, NOT_DETECTED, Result

__all__ = [
    "FEATURE_SETS",
    "DEFAULT_THRESHOLD",
    "MIN_PAIRS",
    "SUPPRESS_MODES",
    "TemporalResult",
    "detect",
    "frame_descriptors",
    "distance_signal",
    "suppress_iframes",
    "find_cuts",
]

DEFAULT_THRESHOLD = 20.0
SUPPRESS_MODES = ("bridge", "discard")
#: fewest frame pairs whose median Δf is a background a splice can stand out of: with 1 or 2
#: pairs the score (Δf / median) is at most 1 or 2, so no cut can reach a threshold > 2
MIN_PAIRS = 3


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
class TemporalResult(Result):
    """Temporal splicing localization of one video (seed 000, section 5.2); a :class:`toolkit.result.Result`.

    Decision: ``verdict`` is ``'forged'`` when a cut is found, ``'not_detected'`` when none
    is, ``'inconclusive'`` (with ``reason``) when fewer than :data:`MIN_PAIRS` frame pairs
    were analysed; ``score`` is the largest per-pair score, ``threshold`` the decision threshold.

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
    scores : array, T − 1
        ``distance`` divided by its median (the background): unit-free, one per pair.
    background : float
        The median of ``distance``.
    threshold : float
        Decision threshold on ``scores``; ``cuts`` are the local maxima above it.
    cuts : list of int
        Frame numbers n such that a splice is detected between frame n and the next
        analysed frame (n + 1 when every frame is analysed).
    i_frames : tuple of int
        Frame numbers of the I-frames used for the suppression.
    suppressed : array of bool, T − 1
        Pairs changed by the suppression.
    path, sha256, params, toolkit_version
        See :class:`toolkit.result.Result`; ``params['models']`` names the networks with
        their ``weights_name`` and ``weights_sha256``.
    """

    method = "focal.temporal"

    frame_index: np.ndarray
    descriptors: np.ndarray
    feature_names: tuple[str, ...]
    raw_distance: np.ndarray
    distance: np.ndarray
    scores: np.ndarray
    background: float
    threshold: float
    cuts: list[int]
    i_frames: tuple[int, ...]
    suppressed: np.ndarray

    def __repr__(self) -> str:
        return (
            f"TemporalResult(frames={len(self.frame_index)}, cuts={self.cuts}, "
            f"threshold={self.threshold:g}, i_frames={len(self.i_frames)}, "
            f"features={self.params.get('features')})"
        )

    # --- decision --------------------------------------------------------------------------
    @property
    def score(self) -> float:
        """The largest per-pair score (``max(scores)``), the number compared with ``threshold``."""
        s = np.asarray(self.scores, dtype=np.float64)
        s = s[np.isfinite(s)]
        return float(s.max()) if s.size else float("nan")

    @property
    def reason(self) -> str | None:
        """Why the result is inconclusive (None when it is not)."""
        n = len(self.distance)
        if n < MIN_PAIRS:
            return (
                f"only {n} pair(s) of consecutive analysed frames: the median background of Δf needs "
                f"at least {MIN_PAIRS} for a splice to stand out (analyse more frames)"
            )
        return None

    @property
    def verdict(self) -> str:
        """``'forged'`` (cuts found), ``'not_detected'``, or ``'inconclusive'`` (see ``reason``)."""
        if self.reason is not None:
            return INCONCLUSIVE
        return "forged" if self.cuts else NOT_DETECTED

    @property
    def pairs(self) -> np.ndarray:
        """Frame number n of each pair (n, next analysed frame): ``frame_index[:-1]``."""
        return self.frame_index[:-1]

    def cuts_at(self, threshold: float) -> list[int]:
        """The cuts (frame numbers) this result would give at another ``threshold`` (same signal).

        >>> r = TemporalResult(frame_index=np.arange(4), descriptors=np.zeros((4, 1)), feature_names=("f",),
        ...     raw_distance=np.ones(3), distance=np.ones(3), scores=np.array([1.0, 9.0, 1.0]),
        ...     background=1.0, threshold=20.0, cuts=[], i_frames=(), suppressed=np.zeros(3, bool))
        >>> r.cuts_at(20.0), r.cuts_at(5.0)
        ([], [1])
        """
        if not threshold > 0 or not np.isfinite(threshold):
            raise ValueError(f"threshold must be a positive number, got {threshold!r}")
        return [int(self.frame_index[k]) for k in find_cuts(self.scores, float(threshold))]

    def summary(self) -> str:
        """One line: verdict, largest score vs threshold, and the cuts."""
        text = super().summary()
        if self.verdict == INCONCLUSIVE:
            return text
        where = f"; cuts after frame(s) {self.cuts[:10]}{' ...' if len(self.cuts) > 10 else ''}"
        return text + (where if self.cuts else f"; no cut in {len(self.frame_index)} frames")

    def table(self):
        """One row per pair of consecutive analysed frames (pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "frame": self.pairs,
                "next_frame": self.frame_index[1:],
                "raw_distance": self.raw_distance,
                "distance": self.distance,
                "score": self.scores,
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
        ``verdict`` ('forged' when a cut is found), ``score`` (largest Δf / median),
        ``cuts``, the signals, ``.plot()``, ``.table()``.

    Examples
    --------
    >>> from toolkit.focal.model import FocalNet
    >>> still = np.full((5, 64, 64), 128, np.uint8)            # five identical frames: nothing to find
    >>> r = detect(still, models={"codec": FocalNet(4)}, features="codec", device="cpu")
    >>> r.verdict, r.cuts, r.distance.shape
    ('not_detected', [], (4,))
    >>> detect(still[:3], models={"codec": FocalNet(4)}, features="codec").reason[:25]
    'only 2 pair(s) of consecu'

    On a video with the shipped models (``models=None``), see the module's example.
    """
    names = feature_set(features)
    stride = check_stride(stride, multiple_of=GRID)
    if not isinstance(threshold, (int, float, np.number)) or not (threshold > 0 and np.isfinite(threshold)):
        raise ValueError("threshold must be a positive number (multiples of the median distance)")
    if batch < 1:
        raise ValueError("batch must be >= 1")
    source = open_frames(video, start=start, count=count, step=step)
    box = check_focal_roi(roi, source.shape)
    if len(source.indices) < 2:
        raise ValueError(
            "temporal analysis needs at least 2 frames, the selection has "
            f"{len(source.indices)} "
            f"(video of {source.n_total} frames)"
        )
    nets = resolve_models(names, models, device)
    idx_all: list[int] = []
    desc: list[np.ndarray] = []
    for idx, _, probs in iter_probs(source, nets, stride, box, batch, progress, "FOCAL temporal"):
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
    scores = dist / background
    cut_pos = find_cuts(scores, threshold)
    cuts = [int(frame_index[k]) for k in cut_pos]
    params = {
        "features": features,
        "models": list(names),
        "weights": models_params(nets),
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
        feature_names=tuple(class_names(nets, split_dims(nets, f.shape[1]))),
        raw_distance=raw,
        distance=dist,
        scores=scores,
        background=background,
        threshold=float(threshold),
        cuts=cuts,
        i_frames=tuple(int(i) for i in iframes),
        suppressed=suppressed,
        sha256=source.sha256,
        path=source.path,
        params=params,
    )
