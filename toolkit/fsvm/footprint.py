"""The F-SVM footprint: per-frame fractions of intra, inter and skip macroblocks.

Seed 001, chapter 5: for each of the first ``N`` frames after the first
(intra-coded) frame, ``f_j = [f_intra, f_inter, f_skip]`` is the share of
macroblocks (MBs) coded in each mode; the video's feature is the
concatenation ``F = [f_1, ..., f_N]`` (``N x 3``, flattened to ``3N`` for the
SVM). Before the analysis every video is re-encoded to H.264 at CRF 0
(lossless x264) so that all inputs are read in the same format, whatever
their original codec.

The MB modes are read with :func:`toolkit.video.macroblock_types` (FFmpeg's
own decoder) instead of Elecard StreamEye, which the seed used.

>>> from toolkit.fsvm import footprint
>>> f = footprint("sample_data/real/eat.mkv", n_frames=5)
>>> f.shape, f.sum(axis=1).round(6).tolist()
((5, 3), [1.0, 1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit._util import sha256_file
from toolkit.fsvm._common import describe_roi
from toolkit.result import ArrayLike, Result
from toolkit.video import MB_CLASSES, VideoReadError, iter_frames, macroblock_types, regular_file

__all__ = ["Footprint", "extract", "footprint", "roi_mb_mask", "REENCODE", "MAX_N_FRAMES"]

#: the most frames a footprint may span (the seed uses N of a few dozen): larger ``n_frames``
#: is refused with a sentence instead of re-encoding (and holding) a whole long video
MAX_N_FRAMES = 10_000

#: settings of the normalising re-encode (seed: FFmpeg, H.264, CRF 0). The GOP is
#: at least n_frames + 1 so that no I-frame falls inside the analysed window
#: (the seed: "the N frames following the first one are always P- or B-type").
#: x264 makes no B-frames in lossless mode (checked: bframes=3 at CRF 0 still
#: gives I P P P ...), so bframes=0 loses nothing.
REENCODE = {
    "codec": "h264",
    "rate_control": "crf",
    "quality": 0,
    "gop": 250,
    "bframes": 0,
    "preset": "medium",
}


@dataclass(frozen=True, eq=False)
class Footprint(ArrayLike, Result):
    """Footprint of one video: a frozen :class:`~toolkit.result.Result` (method ``"fsvm.footprint"``)
    that also behaves like its ``n_frames x 3`` array (``np.asarray(fp)``, ``fp.shape``,
    ``fp[:, 0]``, ``fp.sum(axis=1)``, arithmetic), so code written for the plain array keeps working.

    Attributes
    ----------
    values : float array ``n_frames x 3``, columns intra, inter, skip (each row sums to 1; read-only).
    frame_types : picture type ('P', 'B', 'I') of each analysed frame ('?' when unknown).
    n_valid : rows measured; rows after it repeat the last one (only with ``pad=True``).
    mb_used : macroblocks counted per frame (all of them, or those inside ``roi``).
    path, sha256, params, toolkit_version : as every result (``sha256`` of the input file).

    It describes the video and decides nothing (:func:`toolkit.fsvm.detect` decides).
    ``mean()`` is the mean ``[f_intra, f_inter, f_skip]`` over frames (``axis=0``);
    pass ``axis=None`` for the mean of all values.

    >>> v = np.array([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])
    >>> fp = Footprint(v, frame_types=("P", "P"), n_valid=2, mb_used=24)
    >>> fp.shape, fp.mean().round(2).tolist(), float(fp[1, 0])
    ((2, 3), [0.3, 0.45, 0.25], 0.4)
    >>> fp.summary()
    'fsvm.footprint on array: N = 2 frames, mean intra 0.30 / inter 0.45 / skip 0.25'
    """

    method = "fsvm.footprint"

    values: np.ndarray
    frame_types: tuple = ()
    n_valid: int = 0
    mb_used: int = 0

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "frame_types", tuple(str(t) for t in self.frame_types))
        object.__setattr__(self, "n_valid", int(self.n_valid))
        object.__setattr__(self, "mb_used", int(self.mb_used))

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def vector(self) -> np.ndarray:
        """The flattened ``3N`` feature vector the SVM sees."""
        return self.values.reshape(-1)

    def mean(self, axis=0, **kwargs) -> np.ndarray:
        """Mean ``[f_intra, f_inter, f_skip]`` over the analysed frames (``axis=None``: of all values)."""
        return self.values.mean(axis=axis, **kwargs)

    def summary(self) -> str:
        """One line: N and the mean intra / inter / skip fractions."""
        where = os.path.basename(self.path) if self.path else "array"
        m = self.mean()
        pad = f" ({self.n_frames - self.n_valid} padded)" if self.n_valid < self.n_frames else ""
        return (
            f"{self.method} on {where}: N = {self.n_frames} frames{pad}, mean intra {m[0]:.2f} / "
            f"inter {m[1]:.2f} / skip {m[2]:.2f}"
        )

    def table(self) -> pd.DataFrame:
        """pandas table: one row per analysed frame (type, intra, inter, skip, padded)."""
        df = pd.DataFrame(self.values, columns=list(MB_CLASSES))
        df.insert(0, "frame_type", list(self.frame_types))
        df["padded"] = np.arange(self.n_frames) >= self.n_valid
        df.index = pd.RangeIndex(1, self.n_frames + 1, name="frame after the first I-frame")
        return df

    def plot(self, title: str | None = None):
        """Plotly figure: the three fractions per analysed frame."""
        import plotly.graph_objects as go

        colours = {"intra": "#d62728", "inter": "#1f77b4", "skip": "#2ca02c"}
        x = np.arange(1, self.n_frames + 1)
        fig = go.Figure()
        for k, c in enumerate(MB_CLASSES):
            fig.add_scatter(
                x=x, y=self.values[:, k], mode="lines+markers", name=f"f_{c}", line=dict(color=colours[c])
            )
        if self.n_valid < self.n_frames:
            fig.add_vrect(
                x0=self.n_valid + 0.5,
                x1=self.n_frames + 0.5,
                fillcolor="grey",
                opacity=0.15,
                line_width=0,
                annotation_text="padded",
            )
        fig.update_layout(
            title=title or f"Footprint — {os.path.basename(self.path) if self.path else 'array'}",
            xaxis_title="frame after the first I-frame",
            yaxis_title="fraction of macroblocks",
            yaxis_range=[-0.02, 1.02],
            height=340,
        )
        return fig


# ----------------------------------------------------------------------------- ROI
def roi_mb_mask(roi, height: int, width: int, n_frames: int, coverage: float = 0.5) -> np.ndarray:
    """Boolean ``n_frames x mb_height x mb_width`` mask of the MBs inside ``roi``.

    ``roi`` is a box ``(top, left, height, width)`` in pixels, a boolean
    ``H x W`` pixel mask (same every frame), or a boolean ``n_frames x H x W``
    mask (one per analysed frame). An MB is inside when at least ``coverage``
    of its pixels are.

    >>> roi_mb_mask((0, 0, 32, 16), 64, 64, n_frames=1)[0].astype(int)
    array([[1, 0, 0, 0],
           [1, 0, 0, 0],
           [0, 0, 0, 0],
           [0, 0, 0, 0]])
    """
    if isinstance(roi, (tuple, list)) and len(roi) == 4 and np.ndim(roi) == 1:
        top, left, h, w = (int(v) for v in roi)
        if h <= 0 or w <= 0 or top < 0 or left < 0 or top >= height or left >= width:
            raise ValueError(
                f"roi box {tuple(roi)} (top, left, height, width) is not inside the {width}x{height} frame"
            )
        pix = np.zeros((height, width), bool)
        pix[top : top + h, left : left + w] = True
        pix = pix[None]
    else:
        pix = np.asarray(roi)
        if pix.dtype != bool:
            raise ValueError("roi must be a box (top, left, height, width) or a boolean mask")
        if pix.ndim == 2:
            pix = pix[None]
        if pix.ndim != 3 or pix.shape[1:] != (height, width):
            raise ValueError(
                f"roi mask has shape {np.shape(roi)}; the video is {height}x{width} "
                f"(mask H x W or n_frames x H x W)"
            )
        if pix.shape[0] not in (1, n_frames):
            raise ValueError(
                f"a per-frame roi mask needs one row per analysed frame ({n_frames}), got {pix.shape[0]}"
            )
    mbh, mbw = -(-height // 16), -(-width // 16)
    padded = np.zeros((pix.shape[0], mbh * 16, mbw * 16), np.float32)
    padded[:, :height, :width] = pix
    # share of each MB's real (inside-the-frame) pixels that lie in the ROI
    area = np.zeros((mbh * 16, mbw * 16), np.float32)
    area[:height, :width] = 1
    inside = padded.reshape(-1, mbh, 16, mbw, 16).sum(axis=(2, 4))
    total = area.reshape(mbh, 16, mbw, 16).sum(axis=(1, 3))
    mask = inside / total[None] >= coverage
    if not mask.any(axis=(1, 2)).all():
        raise ValueError(
            "the roi covers no macroblock (at least half of a 16x16 block must be inside it) on some frame"
        )
    return np.broadcast_to(mask, (n_frames, mbh, mbw))


# ----------------------------------------------------------------------------- main
def _reencoded_types(path: Path, n_read: int, with_map: bool, workdir) -> tuple:
    """Decode the first ``n_read`` frames, re-encode them losslessly, read MB types.

    Frames are streamed from the decoder into the encoder (never all held in memory).
    """
    from toolkit.synth import encode

    shape: list = []
    health: dict = {}

    def frames():
        for f in iter_frames(path, "rgb24", count=n_read, report=health):
            h, w = f.shape[0] // 2 * 2, f.shape[1] // 2 * 2  # x264 4:2:0 needs even sizes
            if not shape:
                if h < 16 or w < 16:
                    raise ValueError(
                        f"{str(path)!r} is {f.shape[1]}x{f.shape[0]} pixels: "
                        "smaller than one 16x16 macroblock"
                    )
                shape.append((h, w))
            elif (h, w) != shape[0]:
                raise VideoReadError(
                    f"{str(path)!r}: the frame size changes mid-stream ({shape[0][1]}x{shape[0][0]} to "
                    f"{w}x{h}); a footprint needs one size"
                )
            yield f[:h, :w]

    settings = dict(REENCODE, gop=max(REENCODE["gop"], n_read))
    with tempfile.TemporaryDirectory(dir=workdir, prefix="fsvm_") as tmp:
        try:
            out = encode(frames(), Path(tmp) / "crf0.mp4", **settings)
        except ValueError as exc:
            if not shape and "no frames" in str(exc):
                raise VideoReadError(f"{str(path)!r}: no frame could be decoded") from None
            raise
        mb = macroblock_types(out, with_map=with_map)
    return mb, shape[0], settings, health


def extract(
    video: str | os.PathLike,
    n_frames: int = 30,
    reencode: bool = True,
    roi=None,
    *,
    pad: bool = False,
    workdir: str | os.PathLike | None = None,
) -> Footprint:
    """Footprint of ``video`` as a :class:`Footprint` result (see :func:`footprint`).

    Parameters
    ----------
    video : path of a video PyAV can decode (any codec when ``reencode=True``;
        H.264, MPEG-2 or MPEG-4 Part 2 when ``reencode=False``).
    n_frames : N, the number of frames analysed after the first I-frame (1 to
        :data:`MAX_N_FRAMES`; more is refused with ``ValueError`` before anything is decoded).
    reencode : re-encode the first N+1 frames to H.264 CRF 0 (lossless) first,
        as the seed does (settings in :data:`REENCODE`; odd frame sizes are
        cropped by one pixel).
    roi : count only MBs inside this region: box ``(top, left, height, width)``
        in pixels, boolean ``H x W`` mask or boolean ``N x H x W`` masks.
    pad : policy for videos with fewer than N+1 frames. ``False`` (default)
        raises ``ValueError``; ``True`` repeats the last measured row
        (``n_valid`` says how many rows were measured). A video with a
        single frame always raises.
    workdir : folder for the temporary re-encode (default: the system's).

    Returns
    -------
    Footprint with ``values`` of shape ``(n_frames, 3)``; ``params["decode_complete"]`` is False
    (and ``params["decode_error"]`` says what) when the frames read came from a damaged stream
    (packets that failed to decode, corrupt or missing frames).

    Raises
    ------
    FileNotFoundError, toolkit.video.NotRegularFileError (FIFO, device), toolkit.video.VideoReadError,
    toolkit.video.UnsupportedCodecError, ValueError (bad ``n_frames`` / ``roi``, too short).

    >>> fp = extract("sample_data/real/walk.mkv", n_frames=10)
    >>> fp.n_valid, fp.frame_types[:3], list(fp.table().columns)
    (10, ('P', 'P', 'P'), ['frame_type', 'intra', 'inter', 'skip', 'padded'])
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise ValueError(f"n_frames must be a positive integer, got {n_frames!r}")
    if n_frames > MAX_N_FRAMES:
        raise ValueError(
            f"n_frames={n_frames} is more than the {MAX_N_FRAMES} frames a footprint may span "
            f"(the seed uses a few dozen; the re-encode and the N x 3 footprint grow with N): "
            f"use a smaller n_frames, or raise toolkit.fsvm.footprint.MAX_N_FRAMES"
        )
    n_frames = int(n_frames)
    p = regular_file(video)
    with_map = roi is not None
    params = {
        "n_frames": n_frames,
        "reencode": bool(reencode),
        "roi": describe_roi(roi),
        "pad": bool(pad),
        "mb_classes": list(MB_CLASSES),
    }
    if reencode:
        mb, (h, w), settings, health = _reencoded_types(p, n_frames + 1, with_map, workdir)
        params["reencode_settings"] = settings
        params["stream"] = health.get("stream")
        params["decode_complete"] = bool(health.get("complete", True))
        params["decode_error"] = health.get("error")
        start = 0  # the re-encode always starts with its I-frame
    else:
        mb = macroblock_types(p, with_map=with_map, max_frames=n_frames + 1)
        types = mb.frame_types
        if "I" not in types:
            mb = macroblock_types(p, with_map=with_map)
            types = mb.frame_types
            if "I" not in types:
                raise VideoReadError(f"{str(p)!r}: no I-frame was decoded")
        start = types.index("I")
        if start > 0 and len(types) < start + n_frames + 1:
            mb = macroblock_types(p, with_map=with_map, max_frames=start + n_frames + 1)
        h = w = 0
        if roi is not None:  # the ROI is given in the video's own pixels
            from toolkit.video import probe

            info = probe(p)
            h, w = info.height, info.width
        params["source_codec"] = mb.codec
        params["stream"] = mb.params.get("stream")
        params["decode_complete"] = bool(mb.complete)
        params["decode_error"] = mb.error
    counts = mb.counts
    rows = counts.iloc[start + 1 : start + 1 + n_frames]
    n_valid = len(rows)
    if n_valid == 0 or (n_valid < n_frames and not pad):
        raise ValueError(
            f"{str(p)!r} has {n_valid} frame(s) after its first I-frame but the footprint needs "
            f"n_frames={n_frames}: use a smaller n_frames, or pad=True to repeat the last frame's "
            "footprint" + (" (a single-frame video cannot be padded)" if n_valid == 0 else "")
        )
    types = list(rows["frame_type"])
    if roi is None:
        vals = rows[list(MB_CLASSES)].to_numpy(np.float64) / float(mb.mb_per_frame)
        mb_used = mb.mb_per_frame
    else:
        if reencode and not isinstance(roi, (tuple, list)):
            a = np.asarray(roi)  # the re-encode cropped odd sizes by one pixel: crop the mask too
            if a.ndim in (2, 3) and {a.shape[-2] - h, a.shape[-1] - w} <= {0, 1}:
                roi = a[..., :h, :w]
        mask = roi_mb_mask(roi, h, w, n_frames)
        maps = mb.maps[start + 1 : start + 1 + n_valid]
        vals = np.zeros((n_valid, 3))
        for j in range(n_valid):
            sel = maps[j][mask[j]]
            vals[j] = np.bincount(sel, minlength=3)[:3] / float(sel.size)
        mb_used = int(mask[0].sum())
    if n_valid < n_frames:
        vals = np.vstack([vals, np.repeat(vals[-1:], n_frames - n_valid, axis=0)])
        types += [types[-1]] * (n_frames - n_valid)
    return Footprint(
        values=np.ascontiguousarray(vals),
        frame_types=tuple(types),
        n_valid=n_valid,
        mb_used=mb_used,
        sha256=sha256_file(p),
        path=str(p),
        params=params,
    )


def footprint(
    path: str | os.PathLike,
    n_frames: int = 30,
    reencode: bool = True,
    roi=None,
    *,
    pad: bool = False,
    workdir: str | os.PathLike | None = None,
) -> Footprint:
    """Per-frame ``[f_intra, f_inter, f_skip]`` of the N frames after the first I-frame.

    Parameters and policies as in :func:`extract` (``roi``: box
    ``(top, left, height, width)`` in pixels or boolean mask; ``pad``: what
    to do with videos shorter than N+1 frames).

    Returns
    -------
    Footprint (the same as :func:`extract`): a Result that behaves like the float array
    ``(n_frames, 3)`` (columns intra, inter, skip; each row sums to 1) — ``np.asarray(f)``,
    ``f.shape``, ``f[:, 0]``, ``f.sum(axis=1)``; ``f.values`` is the array itself.

    >>> f = footprint("sample_data/real/eat.mkv", n_frames=8)
    >>> f.shape, f.method
    ((8, 3), 'fsvm.footprint')
    """
    return extract(path, n_frames=n_frames, reencode=reencode, roi=roi, pad=pad, workdir=workdir)
