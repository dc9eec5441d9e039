"""LDP-TOP features of a video and the decision on it: :func:`features`, :func:`analyze`,
:class:`LDPTOPResult`.

A video is read as grey frames (the decoder's luma, V(g)) one frame at a time; every window of 50
frames (hop 25) gives, for each body part (or the whole frame when no regions are given), the LDP-TOP
of V(g) and of V(o), the optical-flow gradient magnitude (:mod:`toolkit.ldptop.flow`). The trained
ensemble (:class:`toolkit.ldptop.LDPTOPEnsemble`) decides each window by majority over parts and
the video by majority over windows (soft score: the mean fake probability).

>>> r = analyze("sample_data/real/walk.mkv", max_windows=1)
>>> r.verdict in ("synthetic", "not_detected"), r.params["model"]
(True, 'ldptop/frame_fitlike')
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass

import numpy as np

from toolkit.ldptop.descriptor import HOP, WINDOW, descriptor, slices_descriptor, window_starts
from toolkit.ldptop.ensemble import LDPTOPEnsemble, vote_parts, vote_windows
from toolkit.ldptop.flow import flow_slices, flow_volume
from toolkit.ldptop.regions import Regions, from_pose, from_sidecar, part_volume
from toolkit.result import INCONCLUSIVE, NOT_DETECTED, Result

__all__ = [
    "DEFAULT_MODEL",
    "THRESHOLD",
    "FEATURE_DEFAULTS",
    "WindowFeatures",
    "LDPTOPResult",
    "resolve_regions",
    "features",
    "load_model",
    "analyze",
    "window_planes",
]

#: the model :func:`analyze` uses when given none (registry name): whole frame, Fit-like data
DEFAULT_MODEL = "ldptop/frame_fitlike"
#: decision threshold on the soft score (mean fake probability)
THRESHOLD = 0.5
#: feature settings (a model stores the ones it was trained with; :func:`analyze` uses those)
FEATURE_DEFAULTS = {"variant": "thesis", "window": WINDOW, "hop": HOP, "flow_band": 8, "part_margin": 4}


@dataclass(frozen=True, eq=False)
class WindowFeatures:
    """LDP-TOP features of the windows of one video.

    Attributes
    ----------
    values : (n_windows, n_parts, 2, 3072) float array; ``[:, :, 0]`` grey, ``[:, :, 1]`` flow;
        ``NaN`` rows where a part is missing in a window.
    starts : first frame of each window; parts : part names (``("frame",)`` for the whole frame).
    path, sha256, n_frames : the video; settings : the feature settings used.
    """

    values: np.ndarray
    starts: tuple
    parts: tuple
    path: str | None
    sha256: str
    n_frames: int
    settings: dict

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True, eq=False)
class LDPTOPResult(Result):
    """LDP-TOP decision on one video (method ``"ldptop"``).

    Attributes
    ----------
    score : mean fake probability over windows (soft vote); threshold : 0.5 (used on ties).
    label : majority of the windows' labels (1 = fake); verdict : ``"synthetic"`` / ``"not_detected"``,
        ``"inconclusive"`` when the video is shorter than one window (``reason`` says why).
    starts : first frame of each window; parts : the parts analysed.
    part_probabilities : (n_windows, n_parts) fused fake probability per part (eq. 4.1; NaN: missing).
    input_probabilities : (n_windows, n_parts, 2) per MLP (grey, flow).
    window_labels, window_scores : each window's majority vote over parts and soft score.
    """

    method = "ldptop"

    score: float | None = None
    threshold: float = THRESHOLD
    label: int | None = None
    starts: tuple = ()
    parts: tuple = ()
    part_probabilities: np.ndarray | None = None
    input_probabilities: np.ndarray | None = None
    window_labels: tuple = ()
    window_scores: tuple = ()
    n_frames: int = 0
    note: str = ""

    @property
    def verdict(self) -> str:
        """``"synthetic"`` when the windows' majority says fake, else ``"not_detected"`` (or inconclusive)."""
        if self.label is None:
            return INCONCLUSIVE
        return "synthetic" if self.label == 1 else NOT_DETECTED

    @property
    def reason(self) -> str:
        """The decision in words."""
        if self.label is None:
            return self.note or "no window could be analysed"
        n = len(self.window_labels)
        k = int(sum(self.window_labels))
        return (
            f"{k} of {n} windows of {self.params.get('window', WINDOW)} frames vote fake (majority over "
            f"{len(self.parts)} part(s) each); mean fake probability {self.score:.3f}"
        )

    def summary(self) -> str:
        """One line: verdict, score, windows voting fake."""
        where = os.path.basename(self.path) if self.path else "array"
        if self.label is None:
            return f"{self.method} on {where}: {INCONCLUSIVE} — {self.reason}"
        return (
            f"{self.method} on {where}: {self.verdict} (score {self.score:.4g} vs threshold "
            f"{self.threshold:g}); {int(sum(self.window_labels))}/{len(self.window_labels)} windows fake, "
            f"parts {', '.join(self.parts)}"
        )

    def table(self):
        """pandas table: one row per window (start, label, score, each part's probability)."""
        import pandas as pd

        rows = []
        for i, s in enumerate(self.starts):
            row = {"start": s, "label": self.window_labels[i], "score": self.window_scores[i]}
            for j, p in enumerate(self.parts):
                row[p] = float(self.part_probabilities[i, j])
            rows.append(row)
        return pd.DataFrame(rows, columns=["start", "label", "score", *self.parts])

    def plot(self):
        """Heat map of the fake probability per window (x) and part (y), with the window scores."""
        import plotly.graph_objects as go

        name = os.path.basename(self.path) if self.path else "video"
        fig = go.Figure()
        if self.part_probabilities is not None and len(self.starts):
            z = np.asarray(self.part_probabilities, dtype=float)
            fig.add_heatmap(
                z=np.where(np.isfinite(z), z, None).T.tolist(),
                x=list(self.starts),
                y=list(self.parts),
                zmin=0,
                zmax=1,
                colorscale="RdBu_r",
                colorbar={"title": "p(fake)"},
            )
        title = f"{name}: {self.verdict}" + (f" (score {self.score:.3f})" if self.score is not None else "")
        fig.update_layout(title=title, xaxis_title="window start (frame)", yaxis_title="part", height=320)
        return fig


def resolve_regions(regions, path) -> Regions | None:
    """``None`` (whole frame), a :class:`Regions`, ``{part: boxes}``, ``"generator"`` (the boxes in
    ``<video>.json``) or ``"mediapipe"`` (:func:`toolkit.ldptop.regions.from_pose`) -> Regions or None."""
    if regions is None or isinstance(regions, Regions):
        return regions
    if isinstance(regions, dict):
        return Regions.from_dict(regions, source="given")
    if regions == "generator":
        if path is None:
            raise ValueError("regions='generator' reads the boxes beside a video file; an array has none")
        return from_sidecar(path)
    if regions == "mediapipe":
        return from_pose(path)
    raise ValueError(
        f"regions must be None, 'generator', 'mediapipe', a Regions or {{part: boxes}}, got {regions!r}"
    )


def _window_features(win: np.ndarray, t0: int, regions: Regions | None, s: dict) -> np.ndarray:
    """(n_parts, 2, 3072) for one T x H x W window starting at frame ``t0``."""
    variant = s["variant"]
    if regions is None:
        g = descriptor(win, variant=variant, window=None)
        o = slices_descriptor(*flow_slices(win, band=s["flow_band"]), variant=variant)
        return np.stack([g, o])[None]
    T, H, W = win.shape
    parts = regions.parts
    boxes = {p: regions.boxes[p][t0 : t0 + T] for p in parts}
    if any(len(b) < T for b in boxes.values()):
        raise ValueError(f"the regions cover {regions.n_frames} frames; the window at {t0} needs {t0 + T}")
    out = np.full((len(parts), 2, 3072), np.nan)
    m = int(s["part_margin"])
    for j, p in enumerate(parts):
        b = boxes[p].copy()
        ok = b[:, 2] > 0
        if not ok.any():
            continue
        # the part's extent over the window (+ margin): the exact flow is computed there only
        r0 = max(0, int(b[ok, 0].min()) - m)
        c0 = max(0, int(b[ok, 1].min()) - m)
        r1 = min(H, int((b[ok, 0] + b[ok, 2]).max()) + m)
        c1 = min(W, int((b[ok, 1] + b[ok, 3]).max()) + m)
        if r1 - r0 < 5 or c1 - c0 < 5:
            continue
        b[ok, 0] -= r0
        b[ok, 1] -= c0
        grey = win[:, r0:r1, c0:c1]
        vg = part_volume(grey, b)
        if vg is None or min(vg.shape[1:]) < 5:
            continue
        vo = part_volume(flow_volume(grey), b)
        out[j, 0] = descriptor(vg, variant=variant, window=None)
        out[j, 1] = descriptor(vo, variant=variant, window=None)
    return out


def features(
    video,
    regions=None,
    *,
    variant: str = FEATURE_DEFAULTS["variant"],
    window: int = WINDOW,
    hop: int = HOP,
    flow_band: int | None = FEATURE_DEFAULTS["flow_band"],
    part_margin: int = FEATURE_DEFAULTS["part_margin"],
    max_windows: int | None = None,
    progress: bool = False,
) -> WindowFeatures:
    """LDP-TOP features (grey and flow) of every window of a video, per body part.

    Parameters
    ----------
    video : video path or ``T x H x W`` (x 3) uint8 array (:class:`toolkit.video.FrameSource`).
    regions : ``None`` (whole frame), ``"generator"``, ``"mediapipe"``, a :class:`Regions` or
        ``{part: (n_frames, 4) boxes}`` (:func:`resolve_regions`).
    variant : LDP bit rule (``"thesis"`` or ``"zhang"``).
    window, hop : frames per window and between windows (the seed: 50, 25).
    flow_band : whole-frame flow of the XT / YT planes on strips of ``2m + 1`` rows / columns
        (:func:`toolkit.ldptop.flow.flow_slices`); ``None`` = the exact full-frame flow. Each part
        uses the exact flow of its own extent over the window (its boxes + ``part_margin`` pixels).
    max_windows : analyse at most this many windows, evenly spread over the video (``None``: all).

    Frames are streamed (memory: one window). ``ValueError`` for bad settings; an empty result
    (``len == 0``) when the video is shorter than one window.

    >>> f = features(np.random.default_rng(0).integers(0, 255, (60, 32, 32), dtype=np.uint8))
    >>> f.values.shape, f.starts
    ((1, 1, 2, 3072), (0,))
    """
    from tqdm.auto import tqdm

    from toolkit.video import FrameSource

    if variant not in ("thesis", "zhang"):
        raise ValueError(f"variant must be 'thesis' or 'zhang', got {variant!r}")
    src = FrameSource(video, fmt="luma")
    path = src.path
    reg = resolve_regions(regions, path)
    starts = window_starts(src.n_total, window, hop)
    if max_windows is not None:
        if int(max_windows) < 1:
            raise ValueError(f"max_windows must be >= 1 or None, got {max_windows!r}")
        if len(starts) > max_windows:
            starts = sorted(
                {starts[i] for i in np.linspace(0, len(starts) - 1, int(max_windows)).round().astype(int)}
            )
    settings = {
        "variant": variant,
        "window": int(window),
        "hop": int(hop),
        "flow_band": flow_band,
        "part_margin": int(part_margin),
        "max_windows": max_windows,
        "regions": None if reg is None else reg.source or "given",
    }
    parts = ("frame",) if reg is None else reg.parts
    rows, done = [], []
    wanted = deque(starts)
    buf: deque = deque(maxlen=int(window))
    bar = tqdm(total=len(starts), desc="LDP-TOP windows", unit="window", disable=not progress)
    try:
        last = -1
        for i, frame in src:
            if i != last + 1:  # frames must be consecutive for the temporal planes
                buf.clear()
            last = i
            buf.append(frame)
            if not wanted:
                break
            t0 = i - int(window) + 1
            if len(buf) == window and t0 == wanted[0]:
                rows.append(_window_features(np.stack(buf), t0, reg, settings))
                done.append(wanted.popleft())
                bar.update(1)
    finally:
        bar.close()
    values = np.stack(rows) if rows else np.zeros((0, len(parts), 2, 3072))
    return WindowFeatures(values, tuple(done), tuple(parts), path, src.sha256, int(src.n_total), settings)


def window_planes(
    video,
    start: int = 0,
    *,
    input: str = "grey",
    part: str | None = None,
    regions=None,
    window: int = WINDOW,
    flow_band: int | None = FEATURE_DEFAULTS["flow_band"],
    part_margin: int = FEATURE_DEFAULTS["part_margin"],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three central planes (XY, XT, YT) LDP-TOP reads for one window, as :func:`features` cuts them.

    ``input``: ``"grey"`` (V(g), uint8) or ``"flow"`` (V(o), float32); ``part``: ``None`` for the whole
    frame, or a part name of ``regions`` (then the part's volume, with the flow of its extent).

    >>> fr = np.random.default_rng(0).integers(0, 255, (50, 24, 32), dtype=np.uint8)
    >>> [p.shape for p in window_planes(fr)]
    [(24, 32), (50, 32), (50, 24)]
    """
    from toolkit.ldptop.descriptor import central_slices
    from toolkit.video import FrameSource, read_frames

    if input not in ("grey", "flow"):
        raise ValueError(f"input must be 'grey' or 'flow', got {input!r}")
    src_path = video if isinstance(video, (str, os.PathLike)) else None
    win = read_frames(video, int(start), int(window), fmt="luma")
    if len(win) < window:
        raise ValueError(f"the window at frame {start} has {len(win)} frames, fewer than {window}")
    if part is None:
        if input == "grey":
            return central_slices(win)
        return flow_slices(win, band=flow_band)
    reg = resolve_regions(regions, None if src_path is None else FrameSource(src_path).path)
    if reg is None or part not in reg.boxes:
        raise ValueError(f"part {part!r} needs regions that contain it")
    b = reg.boxes[part][int(start) : int(start) + window].copy()
    ok = b[:, 2] > 0
    if not ok.any():
        raise ValueError(f"part {part!r} is missing in every frame of the window at {start}")
    T, H, W = win.shape
    m = int(part_margin)
    r0, c0 = max(0, int(b[ok, 0].min()) - m), max(0, int(b[ok, 1].min()) - m)
    r1 = min(H, int((b[ok, 0] + b[ok, 2]).max()) + m)
    c1 = min(W, int((b[ok, 1] + b[ok, 3]).max()) + m)
    b[ok, 0] -= r0
    b[ok, 1] -= c0
    grey = win[:, r0:r1, c0:c1]
    vol = part_volume(grey if input == "grey" else flow_volume(grey), b)
    if vol is None:
        raise ValueError(f"part {part!r} is present in fewer than half the frames of the window at {start}")
    return central_slices(vol)


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL) -> LDPTOPEnsemble:
    """A trained :class:`LDPTOPEnsemble` from the weights registry (``"frame_fitlike"`` or
    ``"ldptop/frame_fitlike"``) or a checkpoint file.

    >>> load_model().parts
    ('frame',)
    """
    from toolkit import weights
    from toolkit.ldptop.ensemble import KIND

    return weights.load_named(name_or_path, "ldptop", KIND)


def analyze(
    path,
    regions=None,
    *,
    model=None,
    max_windows: int | None = 4,
    progress: bool = False,
) -> LDPTOPResult:
    """LDP-TOP decision on one video (the registry's ``"ldptop"``).

    Parameters
    ----------
    path : the video (path or ``T x H x W`` uint8 array).
    regions : ``None`` (whole frame), ``"generator"`` (the boxes :mod:`toolkit.synth.fakedance` writes),
        ``"mediapipe"`` (optional extra), a :class:`~toolkit.ldptop.Regions` or ``{part: boxes}``; the
        model must have been trained on the same parts.
    model : ``None`` (:data:`DEFAULT_MODEL`, whole frame, trained on simulated FakeDance-like videos),
        a registry name or checkpoint, or a fitted :class:`~toolkit.ldptop.LDPTOPEnsemble`. Its
        feature settings (variant, window, hop, flow) are used.
    max_windows : windows analysed, evenly spread (default 4 keeps the case analysis quick; ``None``: all).

    Returns
    -------
    LDPTOPResult; ``"inconclusive"`` when the video is shorter than one window.
    """
    if model is None or isinstance(model, (str, os.PathLike)):
        model = load_model(DEFAULT_MODEL if model is None else model)
    if not isinstance(model, LDPTOPEnsemble) or not model.mlps_:
        raise ValueError(
            "model must be a trained LDPTOPEnsemble, a registry name or a checkpoint, "
            f"got {type(model).__name__}"
        )
    s = {**FEATURE_DEFAULTS, **getattr(model, "settings", {})}
    f = features(
        path,
        regions,
        variant=s["variant"],
        window=int(s["window"]),
        hop=int(s["hop"]),
        flow_band=s["flow_band"],
        part_margin=int(s["part_margin"]),
        max_windows=max_windows,
        progress=progress,
    )
    if tuple(f.parts) != tuple(model.parts):
        raise ValueError(f"the model was trained on parts {model.parts}, the regions give {f.parts}")
    params = {
        **{k: s[k] for k in FEATURE_DEFAULTS},
        "regions": f.settings["regions"],
        "max_windows": max_windows,
        "parts": list(f.parts),
        "model": getattr(model, "weights_name", None) or "LDPTOPEnsemble (in memory)",
        "weights_sha256": getattr(model, "weights_sha256", None),
    }
    if len(f) == 0:
        return LDPTOPResult(
            path=f.path,
            sha256=f.sha256,
            params=params,
            parts=f.parts,
            n_frames=f.n_frames,
            note=f"the video has {f.n_frames} frames, fewer than one window of {s['window']}",
        )
    p_in = model.input_probabilities(f.values)
    p_parts = model.part_probabilities(f.values)
    labels, scores = vote_parts(p_parts)
    label, score = vote_windows(labels, scores)
    return LDPTOPResult(
        path=f.path,
        sha256=f.sha256,
        params=params,
        score=score,
        label=label,
        starts=f.starts,
        parts=f.parts,
        part_probabilities=p_parts,
        input_probabilities=p_in,
        window_labels=tuple(int(v) for v in labels),
        window_scores=tuple(float(v) for v in scores),
        n_frames=f.n_frames,
    )
