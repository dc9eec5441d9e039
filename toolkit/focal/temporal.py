"""FOCAL temporal splicing localization (seed 000, section 5.2).

Every frame gets an 8-element descriptor: the mean over its 64x64 patches of
the codec CNN's and the quality CNN's softmax outputs (eqs. 9-11). A splice
between two differently coded shots shows as a peak of the squared Euclidean
distance between consecutive descriptors, Δf(n) = ||f(n) − f(n+1)||² (eq. 12).

The current encoding's I-frames also make peaks, once per GOP (seed, Fig. 4b):
an I-frame is coded at another quality than the P-frames around it, and a
camera's rate control often steps the quality on the frames right after it.
Their positions are known from the bitstream (:func:`toolkit.video.gop_structure`),
so :func:`suppress_iframes` sets the pairs they disturb to the local background
(the seed's evaluation discards these GOP false positives), with any frame step.

A cut is a local maximum of Δf above ``threshold`` times the video's background:
its median Δf, never below a floor calibrated for the shipped models on pristine
videos (:func:`calibrated_floor`), so that the small quality fluctuations of a
steady camera clip are not called splices. With a frame step, each candidate is
confirmed on the frames in between (a splice is abrupt; a rate-control ramp is not).

>>> from toolkit.focal.temporal import detect
>>> r = detect("sample_data/single/single_h264.mp4", count=16, stride=64, device="cpu")  # pristine
>>> r.verdict, r.params["floor_rule"], r.score < r.threshold
('not_detected', 'calibrated', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    "DEFAULT_DISTURBED",
    "CALIBRATION_FILE",
    "calibrated_floor",
    "disturbed_pairs",
    "confirm_cuts",
    "persistent_distance",
    "background",
    "detector_distance",
    "MIN_PAIRS",
    "SUPPRESS_MODES",
    "TemporalResult",
    "detect",
    "frame_descriptors",
    "distance_signal",
    "suppress_iframes",
    "find_cuts",
]

#: a cut's Δf must exceed this many times the video's background (median Δf, floored)
DEFAULT_THRESHOLD = 20.0
SUPPRESS_MODES = ("discard", "bridge")
#: frames disturbed from each I-frame on (the I-frame and the P-frame after it, see disturbed_pairs)
DEFAULT_DISTURBED = 2
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
    try:
        f = np.asarray(descriptors, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("descriptors must be a T x K array of numbers") from None
    if f.ndim != 2 or len(f) < 2 or f.shape[1] < 1:
        raise ValueError("descriptors must be T x K with T >= 2 frames")
    if not np.isfinite(f).all():
        raise ValueError("descriptors hold NaN or infinite values")
    with np.errstate(over="ignore"):
        return np.sum(np.diff(f, axis=0) ** 2, axis=1)


def persistent_distance(distance: np.ndarray, descriptors: np.ndarray) -> np.ndarray:
    """Δf(n) kept only where the change persists: min of Δf(n), ||f(n) − f(n+2)||², ||f(n−1) − f(n+1)||².

    A splice between frames n and n+1 changes every frame after it, so the distances that
    cross the cut from one frame further away are as large as Δf(n); a single frame that the
    networks see differently (a one-frame outlier) makes two peaks, each of which has a small
    crossing distance. Missing neighbours at the ends are ignored.

    >>> f = np.array([[0.0], [0.0], [1.0], [0.0], [0.0]])        # frame 2 is an outlier
    >>> persistent_distance(distance_signal(f), f)
    array([0., 0., 0., 0.])
    >>> g = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]])        # a step between 1 and 2
    >>> persistent_distance(distance_signal(g), g)
    array([0., 1., 0., 0.])
    """
    d = np.asarray(distance, dtype=np.float64).copy()
    f = np.asarray(descriptors, dtype=np.float64)
    if d.shape != (len(f) - 1,):
        raise ValueError(f"distance must have one value per pair ({len(f) - 1}), got {d.shape}")
    if len(f) >= 3:
        ahead = np.sum((f[:-2] - f[2:]) ** 2, axis=1)  # f(n) to f(n+2), n = 0 .. T-3
        d[:-1] = np.minimum(d[:-1], ahead)
        d[1:] = np.minimum(d[1:], ahead)  # f(n-1) to f(n+1), n = 1 .. T-2
    return d


def background(distance: np.ndarray, floor: float = 0.0) -> float:
    """The background a cut must stand out of: the median of the finite ``distance`` values,
    never below ``floor`` (nor 1e-12).

    >>> background(np.array([0.0, 1.0, 3.0])), background(np.array([0.0, 1.0, 3.0]), floor=2.0)
    (1.0, 2.0)
    """
    v = np.asarray(distance, dtype=np.float64)
    v = v[np.isfinite(v)]
    median = float(np.median(v)) if v.size else 0.0
    return float(max(median, 1e-12, floor))


def detector_distance(
    descriptors: np.ndarray,
    frame_index: np.ndarray | None = None,
    i_frames: Iterable[int] = (),
    mode: str | None = "discard",
    disturbed: int = DEFAULT_DISTURBED,
    persist: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(raw Δf, the detector's distance, disturbed pairs)`` of a descriptor sequence.

    The distance is Δf after :func:`suppress_iframes` (``mode`` None: none) and, with
    ``persist``, :func:`persistent_distance`: what :func:`detect` thresholds.

    >>> f = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]])
    >>> raw, d, touched = detector_distance(f)
    >>> d, touched.any()
    (array([0., 1., 0., 0.]), np.False_)
    """
    f = np.asarray(descriptors, dtype=np.float64)
    raw = distance_signal(f)
    iset = tuple(int(i) for i in i_frames)
    dist, touched = raw.copy(), np.zeros(len(raw), bool)
    if mode is not None and iset:
        dist, touched = suppress_iframes(
            raw, f, iset, mode=mode, frame_index=frame_index, disturbed=disturbed
        )
    if persist:
        dist = persistent_distance(dist, f)
    return raw, dist, touched


def disturbed_pairs(
    frame_index: np.ndarray, i_frames: Iterable[int], disturbed: int = DEFAULT_DISTURBED
) -> list[np.ndarray]:
    """The pairs of analysed frames that each I-frame of the current encoding disturbs.

    An I-frame ``i`` is coded at another quality than the P-frames around it, and an
    encoder's rate control often steps the quality on the frames right after it, so the
    frames ``i, ..., i + disturbed − 1`` are disturbed. A pair of consecutive analysed
    frames (a, b) is disturbed when it spans one of the transitions (j, j + 1) for
    j = i − 1, ..., i + disturbed − 1, i.e. when ``b >= i`` and ``a <= i + disturbed − 1``.
    With ``step > 1`` a pair can span an I-frame that is not analysed; it is disturbed
    too. I-frames next to another I-frame (an all-intra stretch) disturb nothing: there
    is no I/P quality contrast there.

    Parameters
    ----------
    frame_index : array of int, T
        Frame numbers of the analysed frames (increasing).
    i_frames : iterable of int
        Frame numbers of the I-frames.
    disturbed : int
        How many frames from an I-frame on are disturbed (>= 1).

    Returns
    -------
    list of int arrays
        For each I-frame that disturbs an analysed pair (in increasing order), the indices of
        its pairs (contiguous, into the T − 1 pairs).

    >>> disturbed_pairs(np.arange(10), [0, 4], disturbed=2)
    [array([0, 1]), array([3, 4, 5])]
    >>> disturbed_pairs(np.arange(0, 20, 5), [10], disturbed=2)   # step 5: pair (5, 10), (10, 15)
    [array([1, 2])]
    """
    if int(disturbed) != disturbed or disturbed < 1:
        raise ValueError(f"disturbed must be a whole number >= 1, got {disturbed!r}")
    idx = np.asarray(frame_index, dtype=np.int64)
    if idx.ndim != 1 or (len(idx) > 1 and np.any(np.diff(idx) <= 0)):
        raise ValueError("frame_index must be a 1-D increasing sequence of frame numbers")
    iset = sorted({int(i) for i in i_frames})
    a, b = idx[:-1], idx[1:]
    out = []
    for i in iset:
        if (i - 1) in iset or (i + 1) in iset:
            continue  # all-intra stretch
        hit = np.flatnonzero((b >= i) & (a <= i + int(disturbed) - 1))
        if hit.size:
            out.append(hit)
    return out


def suppress_iframes(
    distance: np.ndarray,
    descriptors: np.ndarray,
    i_frames: Iterable[int],
    window: int = 15,
    mode: str = "discard",
    *,
    frame_index: np.ndarray | None = None,
    disturbed: int = DEFAULT_DISTURBED,
) -> tuple[np.ndarray, np.ndarray]:
    """Remove the GOP-periodic peaks that the current encoding's I-frames cause.

    The pairs each I-frame disturbs (:func:`disturbed_pairs`: the pair into the I-frame and
    the pairs across the ``disturbed`` frames from it on) carry no evidence of a splice that
    the I-frame itself does not spoil. ``mode='discard'`` (the seed's evaluation, which
    discards the GOP false positives) sets each of them to the local background, the median
    of the undisturbed distances within ``window`` pairs. It is blind to a splice inside the
    disturbed frames, but it is the mode that keeps a camera's rate control, which steps the
    quality right after its I-frames, from looking like a splice.

    ``mode='bridge'`` gives the first disturbed pair the distance *across* the disturbed
    frames (from the frame before the I-frame to the first undisturbed analysed frame) and
    the others the background, so a splice that falls on an I-frame is still seen, and so is
    a quality step that an encoder makes at its I-frames. A disturbed stretch that reaches the
    first or last analysed frame has nothing to bridge to and is set to the background.

    Parameters
    ----------
    distance : array, T − 1
        Δf(n) between analysed frames n and n+1.
    descriptors : array, T x K
        The frame descriptors that gave ``distance``.
    i_frames : iterable of int
        The I-frames: frame numbers when ``frame_index`` is given, else positions (0-based)
        in the analysed sequence.
    window : int
        Half-width, in pairs, of the local background.
    mode : {'discard', 'bridge'}
    frame_index : array of int, T, optional
        Frame numbers of the analysed frames (default ``0 .. T−1``; with ``step > 1``,
        ``start, start + step, ...``).
    disturbed : int
        Frames disturbed from each I-frame on (see :func:`disturbed_pairs`).

    Returns
    -------
    (suppressed, touched) : (array T − 1, bool array T − 1)

    >>> f = np.zeros((7, 2)); f[3] = [1, 0]              # an I-frame spike at frame 3
    >>> d = distance_signal(f); d
    array([0., 0., 1., 1., 0., 0.])
    >>> s, touched = suppress_iframes(d, f, [0, 3]); s
    array([0., 0., 0., 0., 0., 0.])
    >>> touched.astype(int)
    array([1, 1, 1, 1, 1, 0])
    """
    if mode not in SUPPRESS_MODES:
        raise ValueError(f"mode must be one of {', '.join(SUPPRESS_MODES)}, got {mode!r}")
    d = np.asarray(distance, dtype=np.float64)
    f = np.asarray(descriptors, dtype=np.float64)
    t = len(f)
    if d.shape != (t - 1,):
        raise ValueError(f"distance must have one value per pair ({t - 1}), got {d.shape}")
    idx = np.arange(t) if frame_index is None else np.asarray(frame_index, dtype=np.int64)
    if idx.shape != (t,):
        raise ValueError(f"frame_index must have one frame number per descriptor ({t}), got {idx.shape}")
    groups = disturbed_pairs(idx, i_frames, disturbed)
    touched = np.zeros(t - 1, bool)
    for g in groups:
        touched[g] = True
    clean = np.where(touched, np.nan, d)
    out = d.copy()
    for g in groups:
        bridge = mode == "bridge" and g[0] > 0 and g[-1] < t - 2
        for n in g:
            lo, hi = max(0, n - window), min(t - 1, n + window + 1)
            local = clean[lo:hi]
            if not np.isfinite(local).any():
                local = clean
            out[n] = float(np.nanmedian(local)) if np.isfinite(local).any() else 0.0
        if bridge:
            out[g[0]] = float(np.sum((f[g[0]] - f[g[-1] + 1]) ** 2))
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


def confirm_cuts(
    scores: np.ndarray,
    frame_index: np.ndarray,
    threshold: float,
    fine: Callable[[int, int], tuple[np.ndarray, np.ndarray]],
    floor: float = 0.0,
    i_frames: Iterable[int] = (),
    mode: str | None = "discard",
    disturbed: int = DEFAULT_DISTURBED,
    persist: bool = True,
) -> tuple[list[int], list[dict]]:
    """Confirm the candidates of a coarse (``step > 1``) analysis on every frame in between.

    For each pair (a, b) of analysed frames whose score exceeds ``threshold``, ``fine(a, b)``
    gives the frame numbers a..b and their descriptors; the single-frame pairs there are
    scored against their local background (their median Δf, never below ``floor``), after
    the same I-frame suppression. The candidate is kept, at its exact frame, only if one of
    them exceeds ``threshold``: a splice is abrupt, a rate-control ramp is not.

    Returns
    -------
    (cuts, log) : frame numbers n (a cut between n and n + 1), and one dict per candidate.

    >>> f = np.r_[np.zeros(5), np.ones(4)][:, None]             # a step between frames 4 and 5
    >>> fine = lambda a, b: (np.arange(a, b + 1), f[a : b + 1])
    >>> confirm_cuts(np.array([0.0, 30.0, 0.0]), np.array([0, 3, 6, 8]), 20.0, fine, floor=1e-3)[0]
    [4]
    """
    cuts: list[int] = []
    log: list[dict] = []
    s_ = np.asarray(scores, dtype=np.float64)
    iset = tuple(int(i) for i in i_frames)
    for k in np.flatnonzero(s_ > threshold):
        a, b = int(frame_index[k]), int(frame_index[k + 1])
        sub, g = fine(a, b)
        sub = np.asarray(sub, dtype=np.int64)
        _, d, _ = detector_distance(g, sub, iset, mode, disturbed, persist)
        s = d / background(d, floor)
        j = int(np.argmax(s))
        log.append(
            {"pair": [a, b], "coarse_score": float(s_[k]), "fine_score": float(s[j]), "at": int(sub[j])}
        )
        if s[j] > threshold:
            cuts.append(int(sub[j]))
    return sorted(set(cuts)), log


def _descriptors(source, nets, stride, box, batch, progress=False) -> tuple[np.ndarray, np.ndarray]:
    """(frame numbers, T x K descriptors) of the decodable frames of ``source``."""
    idx: list[int] = []
    desc: list[np.ndarray] = []
    for i, _, probs in iter_probs(source, nets, stride, box, batch, progress, "FOCAL temporal"):
        idx += i
        desc.append(frame_descriptors(probs))
    return np.asarray(idx, dtype=np.int64), (np.concatenate(desc) if desc else np.zeros((0, 0)))


def _fine_descriptors(video, nets, stride, box, batch) -> Callable[[int, int], tuple[np.ndarray, np.ndarray]]:
    def fine(a: int, b: int):
        return _descriptors(open_frames(video, indices=list(range(a, b + 1))), nets, stride, box, batch)

    return fine


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemporalResult(Result):
    """Temporal splicing localization of one video (seed 000, section 5.2); a :class:`toolkit.result.Result`.

    Decision: ``verdict`` is ``'forged'`` when a cut is found, ``'not_detected'`` when none
    is, ``'inconclusive'`` (with ``reason``) when fewer than :data:`MIN_PAIRS` frame pairs
    were analysed or the frames read came from a damaged stream (``params['decode']``, see
    :class:`toolkit.video.FrameSource`'s ``health``: the cuts are still listed);
    ``score`` is the largest per-pair score, ``threshold`` the decision threshold.

    Attributes
    ----------
    frame_index : array, T
        Frame numbers (display order) of the analysed frames.
    descriptors : array, T x K
        Frame descriptors f(n) (mean patch softmax outputs), ``feature_names`` name the columns.
    raw_distance : array, T − 1
        Δf(n) = ||f(n) − f(n+1)||² before I-frame suppression.
    distance : array, T − 1
        The detector's distance signal: ``raw_distance`` after I-frame suppression and,
        with ``persist``, :func:`persistent_distance` (equal to it when both are off).
    scores : array, T − 1
        ``distance`` divided by ``background``: unit-free, one per pair.
    background : float
        The median of ``distance``, but never below the floor (``params['floor']``, in Δf
        units, calibrated on pristine videos for the shipped models; ``params['median_distance']``
        is the median itself).
    threshold : float
        Decision threshold on ``scores``; ``cuts`` are the local maxima above it (with
        ``step > 1``, confirmed on the frames in between, see ``detect``'s ``refine``).
    cuts : list of int
        Frame numbers n such that a splice is detected between frame n and the next
        analysed frame (n + 1 when every frame is analysed).
    i_frames : tuple of int
        Frame numbers of the I-frames used for the suppression.
    suppressed : array of bool, T − 1
        Pairs disturbed by an I-frame (changed by the suppression).
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
        decode = self.params.get("decode") or {}
        if decode.get("complete") is False:
            found = f"the {len(self.cuts)} cut(s) found" if self.cuts else "finding no cut"
            return (
                f"the stream is damaged ({decode.get('error')}): decoding errors change the coding "
                f"traces from frame to frame as a splice does, so {found} decides nothing"
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
                "i_frame_disturbed": self.suppressed,
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
            name="Δf (I-frames suppressed)" if self.suppressed.any() else "Δf",
            line=dict(color="#1f77b4"),
            row=1,
            col=1,
        )
        thr = self.threshold * self.background
        fig.add_scatter(
            x=[x[0], x[-1]],
            y=[thr, thr],
            mode="lines",
            name=f"threshold ({self.threshold:g} x background)",
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


#: the thresholds calibrated for the shipped models (written by ``python -m toolkit.focal.calibrate``)
CALIBRATION_FILE = Path(__file__).with_name("temporal_threshold.json")


def calibrated_floor(
    nets: Mapping,
    names: Sequence[str],
    mode: str | None = "discard",
    disturbed: int = 2,
    persist: bool = True,
):
    """The background floor calibrated for these models and settings, or None.

    It applies when ``CALIBRATION_FILE`` was made with the same weights (the SHA-256 of each
    model), feature set, I-frame suppression mode, ``disturbed`` and ``persist`` (a floor
    measured on the persistent Δf does not hold for the raw one).

    Returns
    -------
    dict or None
        ``{"floor": float (Δf units), "features": ..., "file": ..., "file_sha256": ...}``.

    >>> calibrated_floor({"codec": object()}, ["codec"]) is None    # weights it was not made for
    True
    """
    if not CALIBRATION_FILE.exists():
        return None
    import json

    from toolkit._util import sha256_file

    cal = json.loads(CALIBRATION_FILE.read_text())
    for n in names:
        sha = getattr(nets[n], "weights_sha256", None)
        if sha is None or cal.get("weights", {}).get(n) != sha:
            return None
    if mode != cal.get("suppress") or int(disturbed) != int(cal.get("disturbed", -1)):
        return None
    if bool(persist) != bool(cal.get("persist", True)):
        return None
    key = "+".join(sorted(names))
    if key not in cal.get("floors", {}):
        return None
    return {
        "floor": float(cal["floors"][key]),
        "features": key,
        "file": CALIBRATION_FILE.name,
        "file_sha256": sha256_file(CALIBRATION_FILE),
    }


def detect(
    video,
    *,
    features: str = "both",
    models: Mapping | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    floor: float | str | None = "calibrated",
    suppress: str | bool | None = "discard",
    disturbed: int = DEFAULT_DISTURBED,
    i_frames: Sequence[int] | None = None,
    stride: int = 32,
    step: int = 1,
    refine: bool = True,
    persist: bool = True,
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
        A cut is declared where ``distance / background`` exceeds this and is a local
        maximum; ``background`` is the video's median Δf, but never below ``floor``.
    floor : float, 'calibrated' or None
        The smallest background, in Δf units. A steady video (a static camera) has a tiny
        median Δf, so a multiple of it alone would call small quality fluctuations splices;
        the floor sets the smallest Δf that can be a cut (``threshold`` x ``floor``).
        'calibrated' (default) takes the floor calibrated for the shipped models on pristine
        videos (:func:`calibrated_floor`, ``toolkit/focal/temporal_threshold.json``), and none
        for other models; ``params['floor_rule']`` says which.
    suppress : {'discard', 'bridge'}, True or None/False
        How to suppress the peaks at the current encoding's I-frames (see
        :func:`suppress_iframes`; True = 'discard'); None/False keeps the raw Δf. The I-frames
        come from ``i_frames`` when given, else from the bitstream of a video file
        (``toolkit.video.gop_structure``). Works with any ``step``.
    disturbed : int
        Frames disturbed from each I-frame on (the I-frame and what the rate control does
        right after it; see :func:`disturbed_pairs`).
    i_frames : sequence of int, optional
        I-frame positions (frame numbers) to use instead of reading them from the file.
    stride : int
        Patch stride in pixels (multiple of 8). The frame descriptor is a mean over patches,
        so a coarse stride (32, 64) costs 16-64x less than 8 for nearly the same mean.
    step, start, count : int
        Analyse frames ``start, start+step, ...`` (at most ``count``).
    persist : bool
        Keep Δf(n) only where the change persists (:func:`persistent_distance`): a splice
        changes every frame after it, a frame the networks see differently does not.
    refine : bool
        With ``step > 1``, analyse every frame between the two of each pair whose Δf exceeds
        the threshold and keep the candidate only if one single-frame pair there exceeds the
        one-frame threshold: a splice is abrupt, whereas a camera's rate control can ramp the
        quality over several frames, which a coarse step sees as one large jump. A cut n is
        then between frames n and n + 1, as with ``step=1``; ``params['refined']`` lists the
        candidates and what the frames between them gave. ``refine=False`` keeps the coarse
        cuts (a cut n then lies between frames n and n + step).
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
        ``verdict`` ('forged' when a cut is found), ``score`` (largest Δf, against ``threshold``),
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
    if floor is not None and floor != "calibrated":
        if not isinstance(floor, (int, float, np.number)) or not (floor >= 0 and np.isfinite(floor)):
            raise ValueError(
                f"floor must be a number >= 0 (in Δf units), 'calibrated' or None, got {floor!r}"
            )
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"step must be a whole number >= 1, got {step!r}")
    if isinstance(disturbed, bool) or not isinstance(disturbed, (int, np.integer)) or disturbed < 1:
        raise ValueError(f"disturbed must be a whole number >= 1, got {disturbed!r}")
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
    frame_index, f = _descriptors(source, nets, stride, box, batch, progress)
    if len(frame_index) < 2:
        raise ValueError(f"temporal analysis needs at least 2 decodable frames, got {len(frame_index)}")

    # I-frames of the current encoding (frame numbers)
    mode = "discard" if suppress is True else (suppress or None)
    if mode is not None and mode not in SUPPRESS_MODES:
        raise ValueError(f"suppress must be one of {', '.join(SUPPRESS_MODES)}, True, False or None")
    iframes: tuple[int, ...] = ()
    if i_frames is not None:
        iframes = tuple(sorted(int(i) for i in i_frames))
    elif source.path is not None:
        from toolkit.video import gop_structure

        iframes = gop_structure(source.path).i_frames
    raw, dist, suppressed = detector_distance(f, frame_index, iframes, mode, int(disturbed), persist)
    median = background(dist)
    floor_rule, calibration, floor_value = "none", None, 0.0
    if floor == "calibrated":
        calibration = calibrated_floor(nets, names, mode=mode, disturbed=int(disturbed), persist=persist)
        if calibration is not None:
            floor_rule, floor_value = "calibrated", float(calibration["floor"])
    elif floor is not None:
        floor_rule, floor_value = "fixed", float(floor)
    bg = max(median, floor_value)
    scores = dist / bg
    cut_pos = find_cuts(scores, threshold)
    cuts = [int(frame_index[k]) for k in cut_pos]
    refined: list[dict] = []
    if refine and len(frame_index) > 1 and np.any(np.diff(frame_index) > 1):
        fine = _fine_descriptors(video, nets, stride, box, batch)
        cuts, refined = confirm_cuts(
            scores, frame_index, float(threshold), fine, floor_value, iframes, mode, int(disturbed), persist
        )
    params = {
        "features": features,
        "models": list(names),
        "weights": models_params(nets),
        "threshold": float(threshold),
        "floor": floor_value,
        "floor_rule": floor_rule,
        "floor_calibration": calibration,
        "median_distance": median,
        "suppress": mode,
        "disturbed": int(disturbed),
        "suppress_iframes": bool(suppressed.any()),
        "refine": bool(refine),
        "persist": bool(persist),
        "refined": refined,
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
        "decode": dict(source.health) or None,
    }
    return TemporalResult(
        frame_index=frame_index,
        descriptors=f,
        feature_names=tuple(class_names(nets, split_dims(nets, f.shape[1]))),
        raw_distance=raw,
        distance=dist,
        scores=scores,
        background=bg,
        threshold=float(threshold),
        cuts=cuts,
        i_frames=tuple(int(i) for i in iframes),
        suppressed=suppressed,
        sha256=source.sha256,
        path=source.path,
        params=params,
    )
