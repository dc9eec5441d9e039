"""Body-part regions for LDP-TOP: face, hands and feet boxes per frame (seed 001, ch. 4).

The seed selects five body parts B = {FC, LH, RH, LF, RF} (face, left / right hand, left / right
foot): it estimates the skeleton with OpenPose and, following Everybody Dance Now, places a box
around each part, sized from the skeleton. Every pre-processed video is then cropped around each
part, frame by frame.

Here a :class:`Regions` holds, for each part, one box ``(top, left, height, width)`` per frame
(``-1`` rows where the part was not found). Providers:

* :func:`from_silhouette` / :func:`from_masks` — boxes from a person silhouette (the data generator
  :mod:`toolkit.synth.fakedance` stores them beside every video; :func:`from_sidecar` reads them):
  the face at the top of the silhouette, the hands at its left / right extremes between 25 % and
  60 % of its height, the feet at the bottom left / right; every box is a square of side
  ``height / 6`` (at least 8 pixels), like the skeleton-sized boxes of the seed;
* :func:`from_pose` — the optional MediaPipe ``Pose`` provider (``pip install mediapipe``; the
  releases that bundle their models, e.g. 0.10.14, run offline). A clear ``ImportError`` says how
  to install it when absent; it is never a hard dependency.

:func:`part_volume` cuts a ``T x s x s`` volume that follows a part through a window: the box side
is the window's median side, its centre follows the part (frames where it is missing take the
nearest frame's centre), and it is shifted inside the frame at the borders.

>>> import numpy as np
>>> m = np.zeros((120, 80), bool); m[20:110, 30:50] = True; m[50:60, 10:70] = True   # a "T" pose
>>> b = from_silhouette(m)
>>> b["FC"], b["LH"][1] < b["RH"][1]
((20, 32, 15, 15), True)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "PARTS",
    "PART_NAMES",
    "Regions",
    "from_silhouette",
    "from_masks",
    "from_sidecar",
    "from_pose",
    "part_volume",
]

#: the seed's five body parts, in this order everywhere
PARTS = ("FC", "LH", "RH", "LF", "RF")
PART_NAMES = {"FC": "face", "LH": "left hand", "RH": "right hand", "LF": "left foot", "RF": "right foot"}
MISSING = (-1, -1, -1, -1)


@dataclass(frozen=True)
class Regions:
    """Per-frame boxes of body parts.

    Attributes
    ----------
    boxes : dict part -> (n_frames, 4) int array of ``(top, left, height, width)``; ``-1`` rows
        where the part is missing (height <= 0). A box may reach outside the frame.
    source : where the boxes come from (``"generator"``, ``"mediapipe"``, ...).

    >>> r = Regions.from_dict({"FC": [[0, 0, 8, 8], [-1, -1, -1, -1]]})
    >>> r.parts, r.n_frames, r.present("FC").tolist()
    (('FC',), 2, [True, False])
    """

    boxes: dict
    source: str = ""

    @classmethod
    def from_dict(cls, boxes: dict, source: str = "") -> Regions:
        """Check and convert ``{part: [[top, left, height, width], ...]}`` (one row per frame)."""
        if not isinstance(boxes, dict) or not boxes:
            raise ValueError(
                "regions must be a non-empty dict {part: per-frame boxes (top, left, height, width)}"
            )
        out, n = {}, None
        for part, b in boxes.items():
            a = np.asarray(b, dtype=np.int64)
            if a.ndim != 2 or a.shape[1] != 4:
                raise ValueError(
                    f"boxes of part {part!r} must be an (n_frames, 4) array, got shape {a.shape}"
                )
            if n is not None and len(a) != n:
                raise ValueError(f"every part needs one box per frame: {part!r} has {len(a)}, others {n}")
            n = len(a)
            ok = a[:, 2] > 0
            if (a[ok, 3] <= 0).any():
                raise ValueError(f"boxes of part {part!r} must have positive heights and widths")
            a = a.copy()
            a[~ok] = MISSING
            a.flags.writeable = False
            out[str(part)] = a
        return cls(out, source)

    @property
    def parts(self) -> tuple:
        """The parts present, in :data:`PARTS` order first."""
        known = [p for p in PARTS if p in self.boxes]
        return tuple(known + [p for p in self.boxes if p not in PARTS])

    @property
    def n_frames(self) -> int:
        """Frames covered."""
        return len(next(iter(self.boxes.values())))

    def present(self, part: str) -> np.ndarray:
        """Boolean per frame: whether ``part`` has a box."""
        return self.boxes[part][:, 2] > 0

    def to_dict(self) -> dict:
        """``{"source": ..., "boxes": {part: [[t, l, h, w], ...]}}`` (plain JSON types)."""
        return {"source": self.source, "boxes": {p: b.tolist() for p, b in self.boxes.items()}}


def _square(cy: float, cx: float, side: int) -> tuple[int, int, int, int]:
    return (int(round(cy - side / 2)), int(round(cx - side / 2)), side, side)


def from_silhouette(mask, min_side: int = 8) -> dict:
    """Boxes ``{part: (top, left, height, width)}`` of the five parts from one person silhouette.

    ``mask``: (H, W) boolean. Parts: face = top of the silhouette (centred on the columns of its
    top sixth), hands = leftmost / rightmost silhouette pixel between 25 % and 60 % of its height,
    feet = the left / right halves of its bottom tenth. Side = ``max(min_side, height // 6)``.
    Boxes may reach outside the frame (:func:`part_volume` shifts them in). ``{}`` for an empty mask.
    "Left" is the image's left (the seed's person-centred left / right needs a pose estimate).
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"a silhouette is an (H, W) mask, got shape {m.shape}")
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return {}
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    h = bottom - top
    side = max(int(min_side), h // 6)
    out = {}
    head = m[top : top + max(1, h // 6)]
    cols = np.flatnonzero(head.any(axis=0))
    out["FC"] = (top, int(round(cols.mean() - side / 2)), side, side)
    band = m[top + h // 4 : top + max(h // 4 + 1, (3 * h) // 5)]
    ys, xs = np.nonzero(band)
    if xs.size:
        i, j = int(np.argmin(xs)), int(np.argmax(xs))
        y0 = top + h // 4
        out["LH"] = _square(y0 + ys[i], xs[i] + side / 4, side)
        out["RH"] = _square(y0 + ys[j], xs[j] - side / 4, side)
    foot = m[bottom - max(1, h // 10) : bottom]
    ys, xs = np.nonzero(foot)
    if xs.size:
        mid = (xs.min() + xs.max()) / 2
        y0 = bottom - max(1, h // 10)
        for part, sel in (("LF", xs <= mid), ("RF", xs >= mid)):
            cy, cx = y0 + ys[sel].mean(), xs[sel].mean()
            out[part] = _square(min(cy, bottom - side / 2), cx, side)
    return out


def from_masks(masks, min_side: int = 8, source: str = "silhouette") -> Regions:
    """:class:`Regions` of a ``T x H x W`` stack of silhouettes (:func:`from_silhouette` per frame).

    >>> m = np.zeros((3, 60, 40), bool); m[1, 10:55, 15:25] = True
    >>> r = from_masks(m); r.present("FC").tolist(), r.parts
    ([False, True, False], ('FC', 'LH', 'RH', 'LF', 'RF'))
    """
    ms = np.asarray(masks, dtype=bool)
    if ms.ndim != 3:
        raise ValueError(f"silhouettes must be a T x H x W stack, got shape {ms.shape}")
    boxes = {p: np.full((len(ms), 4), -1, np.int64) for p in PARTS}
    for t, m in enumerate(ms):
        for p, b in from_silhouette(m, min_side).items():
            boxes[p][t] = b
    return Regions.from_dict(boxes, source)


def from_sidecar(path: str | os.PathLike) -> Regions:
    """The generator's boxes stored in ``<video>.json`` (key ``"regions"``, :mod:`toolkit.synth.fakedance`).

    ``FileNotFoundError`` / ``ValueError`` with a sentence when there are none.
    """
    side = Path(str(path) + ".json")
    if not side.is_file():
        raise FileNotFoundError(
            f"no region boxes beside {os.fspath(path)!r}: expected {side.name} written by "
            "toolkit.synth.fakedance (or give regions={part: boxes} or regions='mediapipe')"
        )
    data = json.loads(side.read_text())
    if "regions" not in data:
        raise ValueError(f"{side} has no 'regions' entry (it was not written by toolkit.synth.fakedance)")
    r = data["regions"]
    return Regions.from_dict(r.get("boxes", r), source=r.get("source", "generator"))


# MediaPipe Pose landmark indices: nose, ears, shoulders, hips, wrists, ankles
_MP = {"nose": 0, "l_ear": 7, "r_ear": 8, "l_sh": 11, "r_sh": 12, "l_hip": 23, "r_hip": 24}
_MP_PARTS = {"LH": 15, "RH": 16, "LF": 27, "RF": 28}


def from_pose(path_or_frames, *, min_visibility: float = 0.5, progress: bool = False) -> Regions:
    """Boxes from MediaPipe ``Pose`` landmarks (optional dependency; offline in releases that bundle
    their models, e.g. ``pip install mediapipe==0.10.14``).

    Face box around the nose, hands around the wrists, feet around the ankles; side = half the
    shoulder-to-hip distance (at least 8 px). The person's own left / right (MediaPipe's).
    ``ImportError`` with the install command when MediaPipe is absent.
    """
    try:
        import mediapipe as mp
    except ImportError:
        raise ImportError(
            "regions='mediapipe' needs MediaPipe, an optional extra: pip install 'mediapipe==0.10.14' "
            "(releases that bundle the Pose models run offline). Without it, give the generator's boxes "
            "(regions='generator') or your own {part: boxes}."
        ) from None
    from tqdm.auto import tqdm

    from toolkit.video import FrameSource

    src = FrameSource(path_or_frames, fmt="rgb")
    boxes = {p: np.full((len(src), 4), -1, np.int64) for p in PARTS}
    H, W = src.shape
    with mp.solutions.pose.Pose(static_image_mode=False) as pose:
        for k, (_, frame) in enumerate(tqdm(src, desc="pose", unit="frame", disable=not progress)):
            res = pose.process(frame)
            if res.pose_landmarks is None:
                continue
            lm = res.pose_landmarks.landmark
            xy = np.array([[p.y * H, p.x * W, p.visibility] for p in lm])
            torso = np.hypot(
                *(xy[[_MP["l_sh"], _MP["r_sh"]], :2].mean(0) - xy[[_MP["l_hip"], _MP["r_hip"]], :2].mean(0))
            )
            side = max(8, int(torso / 2))
            if xy[_MP["nose"], 2] >= min_visibility:
                boxes["FC"][k] = _square(xy[_MP["nose"], 0], xy[_MP["nose"], 1], side)
            for part, i in _MP_PARTS.items():
                if xy[i, 2] >= min_visibility:
                    boxes[part][k] = _square(xy[i, 0], xy[i, 1], side)
    return Regions.from_dict(boxes, "mediapipe")


def _fill_nearest(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(ok)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(ok))), 0, len(idx) - 1)]
    before = idx[np.clip(np.searchsorted(idx, np.arange(len(ok))) - 1, 0, len(idx) - 1)]
    pick = np.where(
        np.abs(before - np.arange(len(ok))) < np.abs(nearest - np.arange(len(ok))), before, nearest
    )
    return values[pick]


def part_volume(frames, boxes, min_present: float = 0.5):
    """``T x s x s`` crop of ``frames`` (``T x H x W``) following one part's per-frame ``boxes`` (T x 4).

    The side ``s`` is the median side of the present boxes (at most the frame's smaller side); the
    centre follows the part; frames without a box take the nearest present frame's centre. Returns
    ``None`` when fewer than ``min_present`` of the frames have a box.

    >>> fr = np.arange(4 * 10 * 10).reshape(4, 10, 10)
    >>> part_volume(fr, [[0, 0, 4, 4]] * 4).shape
    (4, 4, 4)
    >>> part_volume(fr, [[-1, -1, -1, -1]] * 4) is None
    True
    """
    f = np.asarray(frames)
    b = np.asarray(boxes, dtype=np.float64)
    if f.ndim != 3 or b.shape != (len(f), 4):
        raise ValueError(f"need T x H x W frames and T x 4 boxes, got {f.shape} and {b.shape}")
    ok = b[:, 2] > 0
    if ok.mean() < min_present or not ok.any():
        return None
    T, H, W = f.shape
    s = int(min(np.median(b[ok, 2:]), H, W))
    cy = _fill_nearest(b[:, 0] + b[:, 2] / 2, ok)
    cx = _fill_nearest(b[:, 1] + b[:, 3] / 2, ok)
    top = np.clip(np.round(cy - s / 2).astype(int), 0, H - s)
    left = np.clip(np.round(cx - s / 2).astype(int), 0, W - s)
    rows = top[:, None] + np.arange(s)[None, :]  # T x s
    cols = left[:, None] + np.arange(s)[None, :]
    return f[np.arange(T)[:, None, None], rows[:, :, None], cols[:, None, :]]
