"""VPF: double-encoding detection and first-GOP estimation from macroblock types.

Method (seed 002; Vázquez-Padín et al., WIFS 2012, and the generalised G-VPF,
IEEE TIFS 2020). When a frame that was an I-frame in the first encoding is
re-encoded as a P- (or B-) frame, the encoder uses more intra macroblocks
(I-MBs) and fewer skipped ones (S-MBs) in that frame than in its neighbours.
With a fixed first GOP ``G1`` this "variation of prediction footprint" repeats
at every multiple of ``G1``.

Steps (all implemented here, on the counts of :func:`toolkit.video.macroblock_types`):

1. I-MB and S-MB curves ``i(n)``, ``s(n)`` as fractions of the MBs of a frame;
   frames that are I-frames of the current encoding take the previous frame's
   value (the seed's plot convention; frame 0 takes the first non-I value).
2. VPF signal: ``e(n) = |Δs(n) Δi(n)| + |Δs(n+1) Δi(n+1)|`` where ``n`` is a
   strict local maximum of ``i`` and a strict local minimum of ``s`` (I-MBs
   rise and S-MBs fall together), else 0. With B-frames in the current
   encoding each frame is compared with its neighbours *of the same picture
   type*, and a peak found on a P-frame is moved back into the run of
   B-frames before it when one of them is predicted mostly backwards (the
   first-encoding I-frame fell on that B-frame: it resembles the following
   frames, which were predicted from it); this is G-VPF's shift correction
   written with the forward/backward MB counts we have.
3. Periodicity: for each candidate period ``c`` (``min_gop``..``N // min_periods``)
   the signal is cut into rows of ``c`` frames; the fitness is the energy in
   column 0 (frames 0, c, 2c, ...), minus a penalty ``penalty * max`` for every
   observable multiple of ``c`` without a peak, minus the largest energy of
   any other column (a periodic peak train at another phase is noise, not a
   first GOP). Multiples of ``c`` that are I-frames now cannot show the
   effect and are neither counted as missing nor as peaks.
4. ``vpf_value`` = best fitness / max(e) (G-VPF's normalised fitness,
   roughly "number of consistent periodic peaks minus the noise"). The video
   is called double encoded when ``vpf_value > threshold``; the threshold is
   calibrated on single-encoded videos (``python -m toolkit.vpf.calibrate``).

Validity conditions (the seed's requirements) are checked and reported in
``status`` / ``reason``: a damaged stream (packets that fail to decode, corrupt or lost
frames, a truncated file: ``params["complete"]`` is False), no predicted frames, too few frames for
``min_periods`` periods of the smallest candidate, no candidate with enough
observable periods, and the blind spot "a first GOP that is a multiple of the
current GOP leaves no trace".
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.result import Result
from toolkit.video import MacroblockTypes, gop_structure, macroblock_types, regular_file

__all__ = [
    "VPFResult",
    "analyze",
    "analyze_counts",
    "resolve_harmonics",
    "default_acquisition",
    "ACQUISITIONS",
    "vpf_signal",
    "mb_curves",
    "periodicity",
    "default_threshold",
    "THRESHOLD_FILE",
]

THRESHOLD_FILE = Path(__file__).with_name("threshold.json")

STATUS_DETECTED = "double_encoded"
STATUS_NOT_DETECTED = "not_detected"
STATUS_INCONCLUSIVE = "inconclusive"

#: how the S-MB curve is acquired: ``"skip"`` = skipped MBs (the seed's VPF); ``"zero_mv"`` =
#: skipped MBs plus inter MBs whose motion vectors are all zero (G-VPF's use of the motion vectors)
ACQUISITIONS = ("skip", "zero_mv")

#: a supporting peak of a candidate period is at least this fraction of its largest peak
#: (``periodicity(..., robust=True)``); chosen on the calibration part of the realistic set, where
#: 0.2 kept the no-B TPR and cut the single-encode false alarms that scene cuts caused
SUPPORT_FRACTION = 0.2
#: a candidate's peaks must hold at least this share of the signal's energy (observable frames)
#: with ``robust=True``: peaks scattered without period (a variable-GOP original, content changes)
#: are no train. Chosen on the calibration part: 0.2 / 0.35 / 0.5 kept a no-B TPR of
#: 0.585 / 0.585 / 0.508 at 3 % FPR; the larger of the two best
CONCENTRATION = 0.35


def _stream_kind(has_b: bool | None) -> str | None:
    return None if has_b is None else ("bframes" if has_b else "no_bframes")


def default_threshold(has_b: bool | None = None) -> float:
    """The calibrated threshold shipped in ``toolkit/vpf/threshold.json``.

    ``has_b``: whether the analysed (current) stream has B-frames; the file may hold one
    threshold per kind (``by_stream``), each at the target FPR on its own negatives. None, or a
    file without ``by_stream``: the pooled ``threshold``.

    >>> default_threshold() >= 0, default_threshold(has_b=True) >= 0
    (True, True)
    """
    if not THRESHOLD_FILE.exists():
        raise FileNotFoundError(
            f"{THRESHOLD_FILE} is missing: run `python -m toolkit.vpf.calibrate` to calibrate "
            "the VPF threshold, or pass threshold= to analyze()"
        )
    rec = threshold_provenance()
    kind = _stream_kind(has_b)
    by = rec.get("by_stream") or {}
    return float(by[kind] if kind in by else rec["threshold"])


def default_acquisition(has_b: bool | None = None) -> str:
    """The shipped acquisition (``"skip"`` or ``"zero_mv"``) for a stream with/without B-frames.

    Chosen by the calibration (``acquisition`` in ``threshold.json``); ``"skip"`` (the seed's
    I-MB/S-MB signal) when the file names none.

    >>> default_acquisition(has_b=False) in ACQUISITIONS
    True
    """
    acq = threshold_provenance().get("acquisition")
    if isinstance(acq, str):
        return acq
    kind = _stream_kind(has_b)
    return (acq or {}).get(kind, "skip") if kind else "skip"


def threshold_provenance() -> dict:
    """Everything recorded with the shipped threshold (data, count, FPR, date, command).

    >>> threshold_provenance()["rule"]
    'double_encoded = vpf_value > threshold'
    """
    return json.loads(THRESHOLD_FILE.read_text()) if THRESHOLD_FILE.exists() else {}


# ---------------------------------------------------------------------------
# signal processing (pure numpy; usable on any per-frame counts)
# ---------------------------------------------------------------------------


def mb_curves(types, intra, skip, mb_per_frame: int) -> tuple[np.ndarray, np.ndarray]:
    """I-MB and S-MB fractions per frame, current I-frames replaced by the previous value.

    Parameters
    ----------
    types : sequence of 'I'/'P'/'B', length T (display order).
    intra, skip : MB counts per frame, length T.
    mb_per_frame : macroblocks in one frame.

    Returns
    -------
    (i, s): float arrays of length T in [0, 1].

    >>> i, s = mb_curves("IPP", [99, 3, 1], [0, 50, 60], 99)
    >>> round(float(i[0]), 3), round(float(i[1]), 3)
    (0.03, 0.03)
    """
    t = np.asarray(list(types))
    i = np.asarray(intra, dtype=np.float64) / mb_per_frame
    s = np.asarray(skip, dtype=np.float64) / mb_per_frame
    is_i = t == "I"
    if is_i.all():
        return np.zeros_like(i), np.zeros_like(s)
    first = int(np.flatnonzero(~is_i)[0])
    i, s = i.copy(), s.copy()
    for n in np.flatnonzero(is_i):
        src = n - 1 if n > 0 else first  # earlier values are already replaced
        i[n], s[n] = i[src], s[src]
    return i, s


def _types_array(types) -> np.ndarray:
    """Picture types as a 1-D str array; ``ValueError`` unless every one is 'I', 'P' or 'B'."""
    if isinstance(types, str):
        t = np.asarray(list(types))
    else:
        try:
            items = list(types)
        except TypeError:
            raise ValueError(f"types must be a sequence of 'I'/'P'/'B', got {type(types).__name__}") from None
        if not all(isinstance(x, (str, np.str_)) for x in items):
            raise ValueError("types must be a sequence of picture types 'I', 'P', 'B' (strings)")
        t = np.asarray(items, dtype=str)
    if t.size and not np.isin(t, ["I", "P", "B"]).all():
        bad = sorted(set(np.unique(t).tolist()) - {"I", "P", "B"})[:5]
        raise ValueError(f"types must be 'I', 'P' or 'B'; got {bad}")
    return t.reshape(-1) if t.size else np.asarray([], dtype=str)


def _float_curve(name: str, x, n: int, *, nonneg: bool = False) -> np.ndarray:
    """``x`` as a finite float64 vector of length ``n``; ``ValueError`` with a sentence otherwise."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers (a float array), got {type(x).__name__}") from None
    if a.ndim != 1 or len(a) != n:
        raise ValueError(f"{name} must be a 1-D array of length {n}, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    if nonneg and (a < 0).any():
        raise ValueError(f"{name} must be >= 0")
    return a


def _neighbours(types: np.ndarray, same_type: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index of the previous / next frame to compare each frame with (-1: none)."""
    n = len(types)
    prev = np.arange(n) - 1
    nxt = np.arange(n) + 1
    nxt[-1] = -1
    if not same_type:
        return prev, nxt
    prev = np.full(n, -1)
    nxt = np.full(n, -1)
    last: dict[str, int] = {}
    # I-frames carry the previous frame's values, so they act as P-frames here
    kind = np.where(types == "B", "B", "P")
    for k in range(n):
        prev[k] = last.get(kind[k], -1)
        last[kind[k]] = k
    last = {}
    for k in range(n - 1, -1, -1):
        nxt[k] = last.get(kind[k], -1)
        last[kind[k]] = k
    return prev, nxt


def vpf_signal(
    types,
    i: np.ndarray,
    s: np.ndarray,
    fwd=None,
    bwd=None,
    same_type: bool | None = None,
    shift_b: bool = True,
    b_lean: float = 0.0,
) -> np.ndarray:
    """VPF signal e(n): energy of frames where I-MBs rise and S-MBs fall together.

    Parameters
    ----------
    types : picture types ('I'/'P'/'B') per frame, display order, length T.
    i, s : I-MB and S-MB curves from :func:`mb_curves` (fractions).
    fwd, bwd : optional forward- and backward-predicted MB fractions per frame
        (used only to place peaks inside runs of B-frames).
    same_type : compare each frame with neighbours of its own picture type
        (default: True when the stream has B-frames).
    shift_b : move a P-frame peak back onto the B-frame where the first
        encoding's I-frame most likely was.
    b_lean : weight of the B-frame lean (0: off). A first-encoding I-frame that falls on a
        B-frame makes it resemble the following frames (they were predicted from it), so it leans
        on its backward reference more than the B-frames around it: with ``lean = (bwd - fwd)``,
        a B-frame whose lean is a strict local maximum among its same-type neighbours adds
        ``b_lean * |Δlean(n) Δlean(n+1)|`` to e(n) (the VPF's product form). Needs ``fwd``/``bwd``.

    Returns
    -------
    float array, length T, >= 0 (0 at current I-frames and at the ends).

    Raises
    ------
    ValueError : types other than 'I'/'P'/'B'; curves that are not finite numbers of length T.

    >>> t = "IPPPPPP"
    >>> e = vpf_signal(t, np.array([.1, .1, .1, .5, .1, .1, .1]), np.array([.5, .5, .5, .1, .5, .5, .5]))
    >>> int(np.argmax(e)), round(float(e.max()), 2)
    (3, 0.32)
    """
    t = _types_array(types)
    n = len(t)
    i = _float_curve("i", i, n)
    s = _float_curve("s", s, n)
    if fwd is not None:
        fwd = _float_curve("fwd", fwd, n)
    if bwd is not None:
        bwd = _float_curve("bwd", bwd, n)
    e = np.zeros(n)
    if n < 3:
        return e
    if same_type is None:
        same_type = bool((t == "B").any())
    prev, nxt = _neighbours(t, same_type)
    for k in range(n):
        if t[k] == "I":
            continue
        a, b = prev[k], nxt[k]
        if a < 0 or b < 0:
            continue
        if i[k] > i[a] and i[k] > i[b] and s[k] < s[a] and s[k] < s[b]:
            with np.errstate(over="ignore", invalid="ignore"):  # huge inputs give inf, not an error
                e[k] = abs((s[k] - s[a]) * (i[k] - i[a])) + abs((s[b] - s[k]) * (i[b] - i[k]))
    if b_lean and fwd is not None and bwd is not None and (t == "B").any():
        lean = bwd - fwd
        pb, nb = _neighbours(t, True)
        for k in np.flatnonzero(t == "B"):
            a, b = pb[k], nb[k]
            if a >= 0 and b >= 0 and lean[k] > lean[a] and lean[k] > lean[b]:
                e[k] += float(b_lean) * abs((lean[k] - lean[a]) * (lean[b] - lean[k]))
    if shift_b and fwd is not None and bwd is not None and (t == "B").any():
        fwd = np.asarray(fwd, dtype=np.float64)
        bwd = np.asarray(bwd, dtype=np.float64)
        for k in np.flatnonzero((e > 0) & (t != "B")):
            run = []
            j = k - 1
            while j >= 0 and t[j] == "B":
                run.append(j)
                j -= 1
            run = run[::-1]
            back = [j for j in run if bwd[j] > fwd[j]]
            if back:  # first B-frame that leans on the following frames
                target = back[0]
                e[target] = max(e[target], e[k])
                e[k] = 0.0
    return e


def periodicity(
    e: np.ndarray,
    candidates,
    *,
    blocked=None,
    penalty: float = 0.12,
    min_periods: int = 3,
    robust: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Fitness of each candidate period of the VPF signal ``e`` (phase 0).

    Parameters
    ----------
    e : VPF signal, length T.
    candidates : candidate periods (frames).
    blocked : bool array, length T: frames that cannot show the effect (I-frames
        now); they count neither as peaks nor as missing peaks.
    penalty : fraction of the largest column-0 peak subtracted per missing peak.
    min_periods : candidates with fewer observable multiples get -inf.
    robust : a candidate needs two supporting peaks and most of the energy: when fewer than two
        of its observable multiples carry a peak of at least :data:`SUPPORT_FRACTION` of its
        largest, or its peaks hold less than :data:`CONCENTRATION` of the signal's energy on
        observable frames, its fitness is at most 0. One isolated peak (a scene cut, a flash)
        otherwise scores ``1 - penalty * missing`` for every candidate it is a multiple of, and
        scattered peaks (a variable-GOP original) find some period that holds a few of them.
        Off: the plain G-VPF fitness.

    Returns
    -------
    (fitness, observable): float array (normalised by ``max(e)``) and the
    number of observable multiples of each candidate (frames c, 2c, ...).

    Raises
    ------
    ValueError : ``e`` not a finite, non-negative 1-D float array; candidates not whole numbers
        >= 1; ``blocked`` not of length T; ``penalty`` not a finite number >= 0; ``min_periods``
        not a whole number >= 1.

    >>> e = np.zeros(100); e[[20, 40, 60, 80]] = 1.0
    >>> f, _ = periodicity(e, [10, 20, 30])
    >>> [round(float(x), 2) for x in f]
    [3.4, 4.0, -1.24]
    """
    try:
        n = len(e)
    except TypeError:
        raise ValueError(f"e must be a 1-D float array, got {type(e).__name__}") from None
    e = _float_curve("e", e, n, nonneg=True)
    if blocked is None:
        blocked = np.zeros(n, bool)
    else:
        blocked = np.asarray(blocked)
        if blocked.shape != (n,) or blocked.dtype.kind not in "biu":
            raise ValueError(
                f"blocked must be a bool array of length {n}, got {blocked.dtype} {blocked.shape}"
            )
        blocked = blocked.astype(bool)
    if (
        isinstance(penalty, bool)
        or not isinstance(penalty, (int, float, np.number))
        or not (math.isfinite(float(penalty)) and penalty >= 0)
    ):
        raise ValueError(f"penalty must be a finite number >= 0, got {penalty!r}")
    if isinstance(min_periods, bool) or not isinstance(min_periods, (int, np.integer)) or min_periods < 1:
        raise ValueError(f"min_periods must be a whole number >= 1, got {min_periods!r}")
    try:
        cand_list = list(candidates)
    except TypeError:
        raise ValueError("candidates must be a sequence of whole numbers >= 1") from None
    if not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in cand_list) or any(
        c < 1 for c in cand_list
    ):
        raise ValueError("candidates must be whole numbers >= 1 (periods in frames)")
    emax = float(e.max()) if n else 0.0
    total = float(e[~blocked].sum()) if n else 0.0
    cands = np.asarray(cand_list, dtype=np.int64)
    fit = np.full(len(cands), -np.inf)
    obs = np.zeros(len(cands), dtype=int)
    if emax <= 0:
        return np.where(cands > 0, 0.0, -np.inf), obs
    for k, c in enumerate(cands):
        rows = n // c
        if rows < 1:
            continue
        x = e[: rows * c].reshape(rows, c)
        pos = np.arange(c, n, c)  # frame 0 is always an I-frame: multiples c, 2c, ... < T
        col0 = e[pos]
        ok = ~blocked[pos]
        obs[k] = int(ok.sum())
        if obs[k] < min_periods:
            continue
        peaks = col0[ok]
        missing = int((peaks == 0).sum())
        with np.errstate(over="ignore", invalid="ignore"):  # huge inputs give inf/nan, not an error
            noise = x[:, 1:].sum(axis=0).max() if c > 1 else 0.0
            fit[k] = (peaks.sum() - penalty * peaks.max() * missing - noise) / emax
        top = peaks.max()
        if robust and top > 0 and (peaks >= SUPPORT_FRACTION * top).sum() < 2:
            fit[k] = min(fit[k], 0.0)  # one peak (a scene cut, a flash) is no periodic train
        if robust and peaks.sum() < CONCENTRATION * total:
            fit[k] = min(fit[k], 0.0)  # most of the energy lies off this period
    return fit, obs


def resolve_harmonics(
    e: np.ndarray,
    best: int,
    candidates,
    fitness,
    *,
    blocked=None,
    divisor_ratio: float = 0.6,
    multiple_ratio: float = 0.1,
    min_periods: int = 3,
) -> int:
    """The true period among ``best`` and its divisors and multiples (no 30 -> 10 or 24 -> 48).

    A divisor ``d`` of a period ``q`` has every multiple of ``q`` among its own multiples, and a
    multiple ``q`` of a period ``p`` keeps a subset of ``p``'s peaks, so the fitness alone can
    prefer either when some peaks are missing or noise falls on the divisor's extra frames. The
    frames tell them apart: for a pair ``p`` < ``q`` (``q`` a multiple of ``p``), compare the mean
    peak on the frames that are multiples of ``p`` but not of ``q`` (``extra``) with the mean peak
    on the multiples of ``q``. Starting from ``best``, a divisor replaces it when its extra frames
    carry at least ``divisor_ratio`` of that mean (smallest such divisor first); then a multiple
    replaces the chosen period when the chosen one's extra frames carry less than
    ``multiple_ratio`` of it (they are noise). Both ratios leave the fittest candidate alone
    unless the frames say clearly otherwise: on the calibration part of the realistic set
    (``toolkit.vpf.dataset``) the defaults (0.6, 0.1) change no correct estimate, while
    (0.5, 0.15) or (0.3, 0.3) turned 2-4 % of the correct ones into a divisor or multiple.

    Parameters
    ----------
    e : VPF signal, length T (>= 0).
    best : candidate with the highest fitness (frames).
    candidates, fitness : the candidates and fitness of :func:`periodicity` (same length); only
        candidates with a finite fitness are considered.
    blocked : bool array, length T: frames that cannot show the effect (not counted).
    divisor_ratio, multiple_ratio : the two mean-peak ratios above (0 < ratio <= 1).
    min_periods : observable multiples a candidate needs.

    Returns
    -------
    int : the chosen period (frames); ``best`` when no related candidate wins.

    Raises
    ------
    ValueError : a ratio outside (0, 1]; ``candidates`` and ``fitness`` of different lengths.

    >>> e = np.zeros(300); e[np.arange(30, 300, 30)] = 1.0; e[150] = 0.0   # period 30, one missing
    >>> e[[k for k in range(10, 300, 10) if k % 30]] = 0.08                 # noise on multiples of 10
    >>> c = np.arange(6, 101); f, _ = periodicity(e, c)
    >>> int(c[np.argmax(f)]), resolve_harmonics(e, int(c[np.argmax(f)]), c, f)
    (10, 30)
    """
    for name, r in (("divisor_ratio", divisor_ratio), ("multiple_ratio", multiple_ratio)):
        if isinstance(r, bool) or not (isinstance(r, (int, float, np.number)) and 0 < float(r) <= 1):
            raise ValueError(f"{name} must be a number in (0, 1], got {r!r}")
    cands = np.asarray(list(candidates), dtype=np.int64)
    fit = np.asarray(fitness, dtype=np.float64)
    if cands.shape != fit.shape:
        raise ValueError("candidates and fitness must have the same length")
    e = np.asarray(e, dtype=np.float64)
    n = len(e)
    ok = np.ones(n, bool) if blocked is None else ~np.asarray(blocked, bool)
    valid = {int(c) for c, f in zip(cands, fit) if np.isfinite(f)}

    def multiples(p: int) -> set:
        return {k for k in range(p, n, p) if ok[k]}

    def mean(frames: set) -> float:
        return float(e[sorted(frames)].mean()) if frames else 0.0

    def extra_share(p: int, q: int) -> float | None:
        """Mean peak on p's extra frames over the mean on q's multiples (None: undecidable)."""
        extra, on_q = multiples(p) - multiples(q), multiples(q)
        if not extra:
            return None
        if len(on_q) < min_periods or mean(on_q) <= 0:
            return np.inf if mean(extra) > 0 else None
        return mean(extra) / mean(on_q)

    chosen = int(best)
    for d in sorted(c for c in valid if c < chosen and chosen % c == 0):
        share = extra_share(d, chosen)
        if share is not None and share >= divisor_ratio:
            chosen = d
            break
    grown = True
    while grown:
        grown = False
        for m in sorted(c for c in valid if c > chosen and c % chosen == 0):
            share = extra_share(chosen, m)
            if share is not None and np.isfinite(share) and share < multiple_ratio:
                chosen, grown = m, True
                break
    return chosen


# ---------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VPFResult(Result):
    """Result of :func:`analyze` (a frozen :class:`~toolkit.result.Result`, method ``"vpf"``).

    Attributes
    ----------
    verdict : "double_encoded", "not_detected" or "inconclusive" (= ``status``).
    score : ``vpf_value``; threshold : value it was compared with (``>`` means detected).
    reason : a sentence saying why (always set; the validity condition when inconclusive).
    double_encoded : True / False, or None when ``status == "inconclusive"``.
    vpf_value : normalised periodicity fitness of the best candidate (unitless).
    previous_gop : estimated GOP of the first encoding (frames), None if not detected;
        ``best_gop`` is the best candidate whatever the decision.
    frame_types, intra, skip : per-frame picture types and raw MB counts (length T).
    i_curve, s_curve : I-MB and S-MB fractions, current I-frames replaced.
    signal : VPF signal e(n), length T.
    candidates, fitness : candidate periods (frames) and their normalised fitness.
    current_gop : the current (last) encoding's GOP if fixed, else None.
    codec, mb_per_frame; path, sha256 (of the file), params (every setting), toolkit_version.

    >>> r = analyze("sample_data/double/double_mpeg2_h264.mp4")
    >>> r.verdict, r.previous_gop, r.current_gop
    ('double_encoded', 12, 33)
    >>> print(r.summary())  # doctest: +ELLIPSIS
    vpf on double_mpeg2_h264.mp4: double_encoded (score 2.525 vs threshold ...), previous GOP 12 frames
    """

    method = "vpf"

    codec: str
    mb_per_frame: int
    frame_types: tuple
    intra: np.ndarray
    skip: np.ndarray
    i_curve: np.ndarray
    s_curve: np.ndarray
    signal: np.ndarray
    candidates: np.ndarray
    fitness: np.ndarray
    vpf_value: float
    threshold: float
    best_gop: int | None
    current_gop: int | None
    status: str
    reason: str

    @property
    def verdict(self) -> str:
        """``"double_encoded"``, ``"not_detected"`` or ``"inconclusive"`` (the same as ``status``)."""
        return self.status

    @property
    def score(self) -> float:
        """The VPF value compared with ``threshold``."""
        return float(self.vpf_value)

    @property
    def double_encoded(self) -> bool | None:
        """True/False from ``vpf_value > threshold``; None when inconclusive."""
        if self.status == STATUS_INCONCLUSIVE:
            return None
        return bool(self.vpf_value > self.threshold)

    @property
    def previous_gop(self) -> int | None:
        """Estimated first-encoding GOP (frames) when double encoding is detected."""
        return self.best_gop if self.double_encoded else None

    @property
    def n_frames(self) -> int:
        """Frames analysed."""
        return len(self.frame_types)

    def with_threshold(self, threshold: float) -> VPFResult:
        """The same analysis decided with another threshold (no re-decoding).

        >>> r = analyze("sample_data/double/double_mpeg2_h264.mp4")
        >>> r.with_threshold(10.0).verdict, r.with_threshold(10.0).previous_gop
        ('not_detected', None)
        """
        if not np.isfinite(threshold):
            raise ValueError("threshold must be a finite number")
        status, reason = _decide(
            self.status, self.reason, self.vpf_value, threshold, self.best_gop, self.current_gop
        )
        params = dict(self.params, threshold=float(threshold))
        return _replace(self, threshold=float(threshold), status=status, reason=reason, params=params)

    def summary(self) -> str:
        """One line: verdict, VPF value vs threshold, and the previous GOP when detected
        (the current GOP otherwise)."""
        text = super().summary()
        if self.previous_gop:
            return f"{text}, previous GOP {self.previous_gop} frames"
        if self.status == STATUS_NOT_DETECTED:
            gop = f"current GOP {self.current_gop}" if self.current_gop else "variable current GOP"
            return f"{text}, {gop}, {self.n_frames} frames"
        return text

    def table(self) -> pd.DataFrame:
        """The seed's output table: detected, VPF value, threshold, previous GOP (+ status).

        One column ``value``, indexed by the row names (no index name).

        >>> analyze("sample_data/single/single_h264.mp4").table().loc["Double encoding detected", "value"]
        'No'
        """
        de = self.double_encoded
        rows = [
            ("Double encoding detected", "inconclusive" if de is None else ("Yes" if de else "No")),
            ("Value of VPF", round(float(self.vpf_value), 4)),
            ("Threshold", round(float(self.threshold), 4)),
            ("Estimated previous GOP size", self.previous_gop if self.previous_gop else "-"),
            ("Status", self.status),
            ("Reason", self.reason),
            ("Current GOP", self.current_gop if self.current_gop else "variable"),
            ("Frames analysed", self.n_frames),
        ]
        names, values = zip(*rows)
        return pd.DataFrame({"value": list(values)}, index=pd.Index(list(names)))

    def to_dict(self) -> dict:
        """JSON-safe dict: the base's keys (``method``, ``verdict``, ``score``, every field) plus
        ``double_encoded``, ``previous_gop``, ``n_frames``; ``frame_types`` is one string
        (``"IPPP..."``) and non-finite fitness values are ``None``.

        >>> import json
        >>> r = analyze("sample_data/single/single_h264.mp4")
        >>> d = r.to_dict(); d["verdict"], d["frame_types"][:4], json.loads(r.to_json()) == d
        ('not_detected', 'IPPP', True)
        """
        out = super().to_dict()
        out.update(
            double_encoded=self.double_encoded,
            previous_gop=self.previous_gop,
            n_frames=self.n_frames,
            frame_types="".join(self.frame_types),
        )
        return out

    def __repr__(self) -> str:
        return (
            f"VPFResult({os.path.basename(str(self.path))!r}, status={self.status!r}, "
            f"vpf_value={self.vpf_value:.3f}, threshold={self.threshold:.3f}, "
            f"previous_gop={self.previous_gop})"
        )

    def plot(self, frame_range: tuple[int, int] | None = None, show_signal: bool = True):
        """Plotly figure: I-MB and S-MB curves (and the VPF signal) over frames.

        Current I-frames are marked with grey dotted lines; multiples of the
        estimated previous GOP with dashed orange lines. ``frame_range=(a, b)``
        zooms the x axis; ``show_signal=False`` leaves out the VPF signal panel.

        >>> fig = analyze("sample_data/double/double_mpeg2_h264.mp4").plot(frame_range=(0, 60))
        >>> [t.name for t in fig.data][2:], tuple(fig.layout.xaxis.range)
        (['VPF signal', 'current I-frames', 'previous GOP 12'], (-0.5, 60.5))
        """
        from plotly.subplots import make_subplots

        x = np.arange(self.n_frames)
        rows = 2 if show_signal else 1
        fig = make_subplots(
            rows=rows,
            cols=1,
            shared_xaxes=True,
            vertical_spacing=0.08,
            row_heights=[0.6, 0.4] if show_signal else [1.0],
        )
        fig.add_scatter(
            x=x,
            y=self.i_curve,
            mode="lines",
            name="I-MBs (fraction)",
            line=dict(color="#d62728"),
            row=1,
            col=1,
        )
        fig.add_scatter(
            x=x,
            y=self.s_curve,
            mode="lines",
            name="S-MBs (fraction)",
            line=dict(color="#2ca02c"),
            row=1,
            col=1,
        )
        if show_signal:
            fig.add_bar(x=x, y=self.signal, name="VPF signal", marker_color="#444", row=2, col=1)
        t = np.asarray(self.frame_types)
        gop = self.previous_gop
        # vertical marks as ONE trace each (x, x, None, ...): plotly's add_vline re-validates every
        # shape on each call, which took tens of minutes for the 1,800 I-frames of an hour
        marks = [("current I-frames", np.flatnonzero(t == "I"), "grey", "dot")]
        if gop:
            marks.append((f"previous GOP {gop}", np.arange(gop, self.n_frames, gop), "#ff7f0e", "dash"))
        for name, at, color, dash in marks:
            if len(at):
                xs = np.repeat(at.astype(float), 3)
                ys = np.tile([0.0, 1.0, np.nan], len(at))
                xs[2::3] = np.nan
                fig.add_scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    name=name,
                    hoverinfo="skip",
                    line=dict(color=color, dash=dash, width=1),
                    row=1,
                    col=1,
                )
        title = (
            f"VPF — {os.path.basename(str(self.path))}: "
            + (
                "inconclusive"
                if self.double_encoded is None
                else f"double encoded, previous GOP {gop}"
                if self.double_encoded
                else "no double encoding detected"
            )
            + f" (VPF {self.vpf_value:.2f} vs threshold {self.threshold:.2f})"
        )
        fig.update_layout(
            title=title, height=480 if show_signal else 360, legend=dict(orientation="h", y=-0.15)
        )
        fig.update_yaxes(title_text="fraction of MBs", row=1, col=1)
        if show_signal:
            fig.update_yaxes(title_text="e(n)", row=2, col=1)
        fig.update_xaxes(title_text="frame (display order)", row=rows, col=1)
        if frame_range is not None:
            fig.update_xaxes(range=[frame_range[0] - 0.5, frame_range[1] + 0.5])
        return fig


def _replace(r: VPFResult, **changes) -> VPFResult:
    from dataclasses import replace

    return replace(r, **changes)


def _blind_spot(current_gop: int | None) -> str:
    if not current_gop:
        return ""
    return (
        f" A first encoding whose GOP equals or is a multiple of the current GOP "
        f"({current_gop}) leaves no VPF and cannot be detected."
    )


def _decide(status, reason, value, threshold, best_gop, current_gop) -> tuple[str, str]:
    if status == STATUS_INCONCLUSIVE:
        return status, reason
    if value > threshold:
        return STATUS_DETECTED, (
            f"periodic VPF peaks every {best_gop} frames: VPF value {value:.3f} > threshold {threshold:.3f}"
        )
    return STATUS_NOT_DETECTED, (
        f"no periodic VPF: VPF value {value:.3f} <= threshold {threshold:.3f} "
        f"(best candidate period {best_gop})." + _blind_spot(current_gop)
    )


# ---------------------------------------------------------------------------
# analysis
# ---------------------------------------------------------------------------


def _check_settings(
    min_gop, max_gop, min_periods, penalty, acquisition, harmonics, b_lean, intra_frame
) -> None:
    if min_gop < 2:
        raise ValueError("min_gop must be at least 2 frames")
    if min_periods < 2:
        raise ValueError("min_periods must be at least 2")
    if not 0 <= penalty <= 10:
        raise ValueError("penalty must be between 0 and 10")
    if max_gop is not None and max_gop < min_gop:
        raise ValueError("max_gop must be >= min_gop")
    if acquisition not in ("auto", *ACQUISITIONS):
        raise ValueError(f"acquisition must be 'auto' or one of {ACQUISITIONS}, got {acquisition!r}")
    if harmonics is not None and not (
        isinstance(harmonics, (tuple, list))
        and len(harmonics) == 2
        and all(isinstance(r, (int, float)) and not isinstance(r, bool) and 0 < r <= 1 for r in harmonics)
    ):
        raise ValueError(
            f"harmonics must be None or (divisor_ratio, multiple_ratio) in (0, 1], got {harmonics!r}"
        )
    if b_lean is not None and (
        isinstance(b_lean, bool)
        or not isinstance(b_lean, (int, float))
        or not (math.isfinite(b_lean) and b_lean >= 0)
    ):
        raise ValueError(f"b_lean must be a finite number >= 0, got {b_lean!r}")
    if intra_frame is not None and (
        isinstance(intra_frame, bool) or not isinstance(intra_frame, (int, float)) or not 0 < intra_frame <= 1
    ):
        raise ValueError(f"intra_frame must be None or a fraction in (0, 1], got {intra_frame!r}")


def analyze(
    path: str | os.PathLike,
    *,
    threshold: float | None = None,
    min_gop: int = 6,
    max_gop: int | None = None,
    min_periods: int = 3,
    penalty: float = 0.12,
    same_type: bool | None = None,
    shift_b: bool = True,
    acquisition: str = "auto",
    harmonics: tuple[float, float] | None = (0.6, 0.1),
    b_lean: float | None = None,
    robust: bool = True,
    intra_frame: float | None = 0.9,
    workers: int | None = None,
    progress: bool = False,
    stream: int | None = None,
    max_pixels: int | None = None,
) -> VPFResult:
    """Detect double encoding and estimate the first encoding's GOP with the VPF.

    Parameters
    ----------
    path : H.264, MPEG-2 or MPEG-4 Part 2 video file.
    threshold : decision threshold on ``vpf_value`` (default: the calibrated value in
        ``toolkit/vpf/threshold.json`` for a stream with / without B-frames, 3% FPR on
        single-encoded videos).
    min_gop : smallest candidate first GOP (frames; G-VPF also ignores GOPs <= 5).
    max_gop : largest candidate (default ``T // min_periods``).
    min_periods : observable periods a candidate needs (fewer: not considered;
        no candidate left: "inconclusive").
    penalty : per-missing-peak penalty, fraction of the largest peak.
    same_type : compare frames with neighbours of the same picture type
        (default: when the stream has B-frames).
    shift_b : G-VPF-style peak placement inside B-frame runs.
    acquisition : S-MB curve: ``"skip"`` (skipped MBs, the seed), ``"zero_mv"`` (skipped MBs plus
        inter MBs whose motion vectors are all zero, as G-VPF uses the motion vectors), or
        ``"auto"``: the one the calibration chose for this kind of stream
        (:func:`default_acquisition`).
    harmonics : ``(divisor_ratio, multiple_ratio)``: the previous GOP is the best candidate
        corrected for its divisors and multiples by :func:`resolve_harmonics` (None: the best
        candidate as it is; ``params["fittest_gop"]`` keeps it). The decision uses the best
        fitness either way.
    b_lean : weight of the B-frame lean in the signal (:func:`vpf_signal`); None: the calibrated
        value (``b_lean`` in ``threshold.json``, 0 when absent).
    robust : the periodicity fitness needs two supporting peaks per candidate and most of the
        signal's energy (:func:`periodicity`), so that a single isolated peak such as a scene cut,
        or peaks without period, are no periodic train; False: the plain G-VPF fitness. The
        shipped thresholds are calibrated with it on.
    intra_frame : a P- or B-frame with at least this fraction of intra MBs is treated as an
        I-frame (a scene cut coded inside a fixed GOP: it cannot show the VPF, and its huge
        intra jump would look like one); None: only real I-frames. ``params["intra_frames"]``
        lists them.
    workers, progress, stream, max_pixels : passed to :func:`toolkit.video.macroblock_types`
        (``stream``: container stream number, default the first real video stream — recorded in
        ``params["stream"]``; ``max_pixels``: frame-size limit).

    Returns
    -------
    VPFResult with ``verdict`` (= ``status``: "double_encoded", "not_detected",
    "inconclusive"), ``score`` (= ``vpf_value``), ``threshold``, ``reason``,
    ``double_encoded``, ``previous_gop``, ``sha256``, ``params``, curves and signal.

    Raises
    ------
    FileNotFoundError, toolkit.video.VideoReadError (corrupt/undecodable file),
    toolkit.video.UnsupportedCodecError (HEVC, VP9, ...), ValueError (bad settings).

    >>> r = analyze("sample_data/double/double_mpeg2_h264.mp4")
    >>> r.verdict, r.double_encoded, r.previous_gop
    ('double_encoded', True, 12)
    >>> analyze("sample_data/single/single_h264.mp4").verdict
    'not_detected'
    """
    p = regular_file(path)
    _check_settings(min_gop, max_gop, min_periods, penalty, acquisition, harmonics, b_lean, intra_frame)
    if threshold is not None and not math.isfinite(float(threshold)):
        raise ValueError("threshold must be a finite number")
    # per-frame counts only (no per-MB maps): memory flat in video length
    # the motion vectors are exported only when the zero-MV acquisition may be used
    need_mv = acquisition == "zero_mv" or (
        acquisition == "auto" and "zero_mv" in {default_acquisition(False), default_acquisition(True)}
    )
    mb = macroblock_types(
        p,
        progress=progress,
        workers=workers,
        stream=stream,
        max_pixels=max_pixels,
        motion_vectors=need_mv,
    )
    return analyze_counts(
        mb,
        threshold=threshold,
        min_gop=min_gop,
        max_gop=max_gop,
        min_periods=min_periods,
        penalty=penalty,
        same_type=same_type,
        shift_b=shift_b,
        acquisition=acquisition,
        harmonics=harmonics,
        b_lean=b_lean,
        robust=robust,
        intra_frame=intra_frame,
    )


def analyze_counts(
    mb: MacroblockTypes,
    *,
    threshold: float | None = None,
    min_gop: int = 6,
    max_gop: int | None = None,
    min_periods: int = 3,
    penalty: float = 0.12,
    same_type: bool | None = None,
    shift_b: bool = True,
    acquisition: str = "auto",
    harmonics: tuple[float, float] | None = (0.6, 0.1),
    b_lean: float | None = None,
    robust: bool = True,
    intra_frame: float | None = 0.9,
) -> VPFResult:
    """:func:`analyze` on macroblock counts already read (no decoding): re-score a video cheaply.

    Parameters
    ----------
    mb : :class:`toolkit.video.MacroblockTypes` of the video (``macroblock_types(path)``;
        ``acquisition="zero_mv"`` needs its ``zero_mv`` column, read with ``motion_vectors=True``).
    threshold, min_gop, max_gop, min_periods, penalty, same_type, shift_b, acquisition,
    harmonics, b_lean, robust, intra_frame : as in :func:`analyze`.

    Returns
    -------
    VPFResult, the same as ``analyze(path, ...)`` gives for that video.

    Raises
    ------
    TypeError : ``mb`` is not a MacroblockTypes. ValueError : bad settings, or ``zero_mv``
        asked for counts read without motion vectors.

    >>> from toolkit.video import macroblock_types
    >>> mb = macroblock_types("sample_data/double/double_mpeg2_h264.mp4")
    >>> [analyze_counts(mb, acquisition=a).previous_gop for a in ACQUISITIONS]
    [12, 12]
    """
    if not isinstance(mb, MacroblockTypes):
        raise TypeError(f"mb must be a toolkit.video.MacroblockTypes, got {type(mb).__name__}")
    _check_settings(min_gop, max_gop, min_periods, penalty, acquisition, harmonics, b_lean, intra_frame)
    counts = mb.counts
    types = np.asarray(counts["frame_type"].tolist())
    n = len(types)
    mbn = mb.mb_per_frame
    has_b = bool((types == "B").any())
    thr = default_threshold(has_b) if threshold is None else float(threshold)
    if not math.isfinite(thr):
        raise ValueError("threshold must be a finite number")
    acq = default_acquisition(has_b) if acquisition == "auto" else acquisition
    lean = float(threshold_provenance().get("b_lean", 0.0)) if b_lean is None else float(b_lean)
    if acq == "zero_mv" and "zero_mv" not in counts:
        raise ValueError(
            "acquisition='zero_mv' needs the zero-MV counts: read them with "
            "macroblock_types(path, motion_vectors=True)"
        )
    intra = counts["intra"].to_numpy()
    skip = counts["skip"].to_numpy()
    s_count = skip + counts["zero_mv"].to_numpy() if acq == "zero_mv" else skip
    fwd = counts["forward"].to_numpy() / mbn
    bwd = counts["backward"].to_numpy() / mbn
    same = has_b if same_type is None else bool(same_type)

    gs = gop_structure(list(types))
    sizes = [int(g) for g in gs.gop_sizes]
    full = sizes[:-1] if len(sizes) > 1 else []  # the last GOP may be cut short
    current_gop = full[0] if full and all(g == full[0] for g in full) else None

    params = dict(
        threshold=thr,
        min_gop=min_gop,
        max_gop=max_gop,
        min_periods=min_periods,
        penalty=penalty,
        same_type=same,
        shift_b=shift_b,
        acquisition=acq,
        acquisition_source="argument" if acquisition != "auto" else str(THRESHOLD_FILE.name),
        harmonics=harmonics,
        b_lean=lean,
        robust=bool(robust),
        workers=mb.params.get("workers"),
        threshold_source="argument" if threshold is not None else str(THRESHOLD_FILE.name),
        stream=mb.params.get("stream"),
        mb_params=dict(mb.params),
        complete=mb.complete,
        decode_error=mb.error,
    )

    # predicted frames coded (almost) all intra are scene cuts: they act as I-frames here
    eff = types.copy()
    if intra_frame is not None and n:
        cut = (types != "I") & (intra >= float(intra_frame) * mbn)
        eff[cut] = "I"
        params["intra_frames"] = np.flatnonzero(cut).tolist()
    i_curve, s_curve = mb_curves(eff, intra, s_count, mbn)
    signal = vpf_signal(eff, i_curve, s_curve, fwd, bwd, same_type=same, shift_b=shift_b, b_lean=lean)
    hi = n // min_periods if max_gop is None else min(max_gop, n // min_periods)
    candidates = np.arange(min_gop, hi + 1) if hi >= min_gop else np.arange(0)
    blocked = eff == "I"
    if n:
        blocked[-1] = True  # the last frame has no successor to compare with
    fitness, observable = periodicity(
        signal, candidates, blocked=blocked, penalty=penalty, min_periods=min_periods, robust=robust
    )

    def result(status, reason, value=0.0, best=None):
        return VPFResult(
            path=mb.path,
            sha256=mb.sha256,
            codec=mb.codec,
            mb_per_frame=mbn,
            frame_types=tuple(types.tolist()),
            intra=intra,
            skip=skip,
            i_curve=i_curve,
            s_curve=s_curve,
            signal=signal,
            candidates=candidates,
            fitness=fitness,
            vpf_value=float(value),
            threshold=thr,
            best_gop=best,
            current_gop=current_gop,
            status=status,
            reason=reason,
            params=params,
        )

    if not mb.complete:
        return result(
            STATUS_INCONCLUSIVE,
            f"the stream is damaged ({mb.error}): the VPF needs every frame of an intact stream, "
            "since lost or broken frames shift or fake the periodic peaks",
        )
    if not (types != "I").any():
        return result(
            STATUS_INCONCLUSIVE,
            "all frames are intra-coded (I-frames only): there are no P- or B-frames "
            "whose macroblock types could show a VPF",
        )
    if n < min_periods * min_gop + 1:
        return result(
            STATUS_INCONCLUSIVE,
            f"video too short: {n} frames, but {min_periods} periods of the smallest "
            f"candidate GOP ({min_gop}) need {min_periods * min_gop + 1}",
        )
    valid = np.isfinite(fitness)
    if not valid.any():
        return result(
            STATUS_INCONCLUSIVE,
            f"no candidate GOP between {min_gop} and {hi} has {min_periods} multiples "
            "that are not I-frames of the current encoding (video too short, or the "
            "current GOP hides them)",
        )
    if signal.max() <= 0:
        return result(
            STATUS_NOT_DETECTED,
            "no frame shows the VPF (I-MBs rising while S-MBs fall)." + _blind_spot(current_gop),
        )
    k = int(np.argmax(np.where(valid, fitness, -np.inf)))
    best = int(candidates[k])
    value = float(fitness[k])
    if harmonics is not None:
        resolved = resolve_harmonics(
            signal,
            best,
            candidates,
            fitness,
            blocked=blocked,
            divisor_ratio=harmonics[0],
            multiple_ratio=harmonics[1],
            min_periods=min_periods,
        )
        params["fittest_gop"] = best
        best = resolved
    status, reason = _decide(None, "", value, thr, best, current_gop)
    return result(status, reason, value, best)
