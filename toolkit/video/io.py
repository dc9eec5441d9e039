"""Reading video with PyAV: probe, luma planes, frame types, GOP structure.

This module (with :mod:`toolkit.video.macroblocks`) is the only place in the
toolkit that opens media for reading. Inputs are opened read-only and never
written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

from toolkit._util import as_path, sha256_file
from toolkit.result import json_safe
from toolkit.video._common import FrameDecoder, frame_type, open_video, warn_if_damaged
from toolkit.video.errors import VideoReadError

__all__ = [
    "VideoInfo",
    "GOPStructure",
    "probe",
    "iter_luma",
    "iter_frames",
    "frame_types",
    "gop_structure",
    "open_video",
    "count_decoded_frames",
]


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a file without decoding it.

    Attributes
    ----------
    path : str; container : str (FFmpeg format name, e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``);
    codec : str (FFmpeg decoder name: ``"h264"``, ``"mpeg2video"``, ...);
    width, height : int (pixels); fps : float (frames per second);
    n_frames : int (video packets, one per coded frame); duration : float (seconds);
    pix_fmt : str; has_b_frames : bool (packets out of presentation order);
    bit_rate : int (bits per second, 0 when the container does not say);
    sha256 : str (of the file); size_bytes : int.

    >>> info = probe("sample_data/single/single_h264.mp4")
    >>> info.to_dict()["codec"], info.to_dict()["n_frames"]
    ('h264', 150)
    """

    path: str
    container: str
    codec: str
    width: int
    height: int
    fps: float
    n_frames: int
    duration: float
    pix_fmt: str
    has_b_frames: bool
    bit_rate: int
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict:
        """Every field as plain JSON types (``json.loads(json.dumps(d)) == d``)."""
        return json_safe(asdict(self))

    def table(self):
        """One-column pandas table of the fields (index: field names)."""
        import pandas as pd

        return pd.Series(self.to_dict(), name="value").to_frame()

    def summary(self) -> str:
        """One line: codec, size, frames, frame rate.

        >>> probe("sample_data/single/single_h264.mp4").summary()
        'single_h264.mp4: h264 352x288, 150 frames at 25 fps (6.0 s), no B-frames'
        """
        b = "B-frames" if self.has_b_frames else "no B-frames"
        return (
            f"{os.path.basename(self.path)}: {self.codec} {self.width}x{self.height}, "
            f"{self.n_frames} frames at {self.fps:.4g} fps ({self.duration:.1f} s), {b}"
        )


@dataclass(frozen=True)
class GOPStructure:
    """Frame types in display order with the I-frame positions and GOP sizes.

    Attributes
    ----------
    types : tuple of 'I'/'P'/'B' per frame (display order).
    i_frames : tuple of int, the I-frames' indices.
    gop_sizes : tuple of int, distances (frames) between consecutive I-frames.

    >>> g = gop_structure(list("IPPIPPIP"))
    >>> g.gop, g.to_dict()["i_frames"]
    (3, [0, 3, 6])
    """

    types: tuple[str, ...]
    i_frames: tuple[int, ...]
    gop_sizes: tuple[int, ...]
    params: dict = field(default_factory=dict)

    @property
    def gop(self) -> int | None:
        """The most common GOP size (None with fewer than two I-frames)."""
        if not self.gop_sizes:
            return None
        values, counts = np.unique(self.gop_sizes, return_counts=True)
        return int(values[np.argmax(counts)])

    @property
    def has_b_frames(self) -> bool:
        return "B" in self.types

    def to_dict(self) -> dict:
        """JSON-safe dict: ``types`` (one string, e.g. ``"IPPB..."``), ``i_frames``, ``gop_sizes``,
        ``gop``, ``has_b_frames``, ``n_frames``, ``params``."""
        return json_safe(
            {
                "types": "".join(self.types),
                "i_frames": self.i_frames,
                "gop_sizes": self.gop_sizes,
                "gop": self.gop,
                "has_b_frames": self.has_b_frames,
                "n_frames": len(self.types),
                "params": self.params,
            }
        )

    def __repr__(self) -> str:
        return (
            f"GOPStructure(frames={len(self.types)}, i_frames={len(self.i_frames)}, "
            f"gop={self.gop}, b_frames={self.has_b_frames})"
        )


# --------------------------------------------------------------------------------------
def _count_packets(container, stream) -> tuple[int, bool]:
    """Number of video packets, and whether presentation order differs from decode order."""
    n = 0
    last_pts = None
    reordered = False
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            n += 1
            if packet.pts is not None:
                if last_pts is not None and packet.pts < last_pts:
                    reordered = True
                last_pts = packet.pts
    except av.error.FFmpegError:
        pass
    return n, reordered


def probe(path: str | os.PathLike) -> VideoInfo:
    """Container and stream facts of a video file, with the file's SHA-256.

    Reads packets but decodes nothing. ``has_b_frames`` is True when packets
    come out of presentation order (the mark of B-frames / reordering).

    >>> info = probe("sample_data/real/person_gop10_head300.mp4")
    >>> info.codec, info.width, info.height, info.n_frames, info.has_b_frames
    ('h264', 768, 432, 300, True)
    """
    p = as_path(path)
    digest = sha256_file(p)
    with open_video(p) as (container, stream):
        cc = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6
        n_packets, reordered = _count_packets(container, stream)
        return VideoInfo(
            path=str(p),
            container=container.format.name,
            codec=cc.name,
            width=int(cc.width),
            height=int(cc.height),
            fps=fps,
            n_frames=int(stream.frames or n_packets),
            duration=duration,
            pix_fmt=str(cc.pix_fmt),
            has_b_frames=bool(reordered),
            bit_rate=int(stream.bit_rate or container.bit_rate or 0),
            sha256=digest,
            size_bytes=p.stat().st_size,
        )


def luma_plane(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane of a decoded frame as a ``uint8`` H x W array (a copy).

    Planar YUV and grey frames are read straight from plane 0, minding the
    line stride (no RGB round trip); other formats are converted to grey.

    >>> from toolkit.video._common import FrameDecoder
    >>> luma_plane(next(iter(FrameDecoder("sample_data/single/single_h264.mp4")))).shape
    (288, 352)
    """
    fmt = frame.format.name
    if (
        fmt.startswith(("yuv", "yuvj", "nv12", "nv21", "gray"))
        and not fmt.endswith(("le", "be"))
        and fmt not in ("yuyv422", "uyvy422")
    ):
        plane = frame.planes[0]
        buf = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
        return buf[:, : plane.width].copy()
    return frame.reformat(format="gray").to_ndarray()


def iter_luma(
    path: str | os.PathLike, start: int = 0, count: int | None = None, step: int = 1
) -> Iterator[np.ndarray]:
    """Yield the luma (Y) plane of frames ``start, start+step, ...`` as ``uint8`` H x W arrays.

    Frames are in display order; ``count`` limits how many are yielded. A
    damaged stream yields what decodes and warns with the number of frames.

    >>> y = next(iter_luma("sample_data/real/person_gop10_head300.mp4"))
    >>> y.shape, y.dtype
    ((432, 768), dtype('uint8'))
    """
    if start < 0 or step < 1 or (count is not None and count < 0):
        raise ValueError("start must be >= 0, step >= 1 and count >= 0 (or None)")
    decoder = FrameDecoder(path)
    yielded = 0
    for i, frame in enumerate(decoder):
        if count is not None and yielded >= count:
            break
        if i >= start and (i - start) % step == 0:
            yield luma_plane(frame)
            yielded += 1
    warn_if_damaged(path, decoder)


def iter_frames(
    path: str | os.PathLike, fmt: str = "rgb24", start: int = 0, count: int | None = None
) -> Iterator[np.ndarray]:
    """Yield decoded frames as numpy arrays in pixel format ``fmt`` (``rgb24``: H x W x 3).

    The frames are plain arrays: they carry no picture type, so re-encoding
    them never inherits the source's I-frame positions. ``start``: first frame (display
    order); ``count``: at most this many. (:func:`toolkit.video.read_frames` with
    ``fmt="rgb"`` is the usual way in; this is its streaming decoder.)

    >>> next(iter_frames("sample_data/single/single_h264.mp4")).shape
    (288, 352, 3)
    """
    decoder = FrameDecoder(path)
    yielded = 0
    for i, frame in enumerate(decoder):
        if count is not None and yielded >= count:
            break
        if i >= start:
            yield frame.to_ndarray(format=fmt)
            yielded += 1
    warn_if_damaged(path, decoder)


def count_decoded_frames(path: str | os.PathLike, threads: bool = True) -> int:
    """Decode every frame (no pixel conversion) and return how many decoded: a plain decode.

    The baseline the speed benchmarks compare the analyses with.

    >>> count_decoded_frames("sample_data/single/single_h264.mp4")
    150
    """
    with open_video(path, threads=threads) as (container, stream):
        return sum(1 for _ in container.decode(stream))


def frame_types(path: str | os.PathLike) -> list[str]:
    """Picture type ('I', 'P', 'B') of every frame, in display order.

    >>> "".join(frame_types("sample_data/real/person_gop10_head300.mp4")[:12])
    'IBBBPBBBPPIB'
    """
    decoder = FrameDecoder(path)
    types = [frame_type(f) for f in decoder]
    warn_if_damaged(path, decoder)
    if not types:
        raise VideoReadError(f"{str(path)!r}: no frame could be decoded")
    return types


def gop_structure(types_or_path) -> GOPStructure:
    """I-frame positions and GOP sizes from frame types (or from a video path).

    GOP sizes are the distances between consecutive I-frames.

    >>> gop_structure(list("IPPIPPIP")).gop_sizes
    (3, 3)
    """
    if isinstance(types_or_path, (str, os.PathLike, Path)):
        types = frame_types(types_or_path)
    else:
        types = list(types_or_path)
    i_frames = tuple(i for i, t in enumerate(types) if t == "I")
    gops = tuple(int(b - a) for a, b in zip(i_frames[:-1], i_frames[1:]))
    return GOPStructure(types=tuple(types), i_frames=i_frames, gop_sizes=gops)
