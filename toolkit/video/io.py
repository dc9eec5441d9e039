"""Reading video with PyAV: probe, luma planes, frame types, GOP structure.

This module (with :mod:`toolkit.video.macroblocks`) is the only place in the
toolkit that opens media for reading. Inputs are opened read-only and never
written.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

from toolkit._util import as_path, sha256_file
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

_PICT = {1: "I", 2: "P", 3: "B", 4: "S", 5: "I", 6: "P", 7: "B"}  # SI->I, SP->P, BI->B


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a file without decoding it.

    ``fps`` is frames per second; ``duration`` is in seconds; ``bit_rate`` in
    bits per second (0 when the container does not say); ``n_frames`` counts
    the video packets (one per coded frame).
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
        return asdict(self)

    def table(self):
        """One-column pandas table of the fields."""
        import pandas as pd

        return pd.Series(self.to_dict(), name="value").to_frame()


@dataclass(frozen=True)
class GOPStructure:
    """Frame types in display order with the I-frame positions and GOP sizes."""

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

    def __repr__(self) -> str:
        return (
            f"GOPStructure(frames={len(self.types)}, i_frames={len(self.i_frames)}, "
            f"gop={self.gop}, b_frames={self.has_b_frames})"
        )


# --------------------------------------------------------------------------------------
class open_video:
    """Context manager: open ``path`` read-only and return ``(container, stream)``.

    Raises ``FileNotFoundError`` (naming the path) when it is missing, and
    :class:`VideoReadError` when it is not a decodable video.
    """

    def __init__(self, path: str | os.PathLike, *, threads: bool = True, options: dict | None = None):
        self.path = as_path(path)
        self.threads = threads
        self.options = options or {}
        self.container = None

    def __enter__(self):
        try:
            self.container = av.open(str(self.path), mode="r")
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise VideoReadError(f"{str(self.path)!r} is not a decodable video: {exc}") from None
        if not self.container.streams.video:
            self.container.close()
            raise VideoReadError(f"{str(self.path)!r} is not a decodable video: it has no video stream")
        stream = self.container.streams.video[0]
        if stream.codec_context is None or stream.codec_context.name is None:
            self.container.close()
            raise VideoReadError(f"{str(self.path)!r}: no decoder for its video stream")
        stream.thread_type = "AUTO" if self.threads else "NONE"
        if self.options:
            stream.codec_context.options = dict(self.options)
        return self.container, stream

    def __exit__(self, *exc):
        if self.container is not None:
            self.container.close()
        return False


class _FrameDecoder:
    """Decode every frame of ``path`` in display order, surviving damaged streams.

    Iterating yields ``av.VideoFrame`` objects. A stream that breaks off
    (truncated or corrupt file) ends the iteration instead of raising; the
    reason is kept in ``.error`` and the count in ``.n_decoded``.
    """

    def __init__(self, path, *, threads=True, options=None, seek_pts: int | None = None):
        self.opener = open_video(path, threads=threads, options=options)
        self.error: str | None = None
        self.n_decoded = 0
        self.seek_pts = seek_pts

    def __iter__(self) -> Iterator[av.VideoFrame]:
        with self.opener as (container, stream):
            self.stream = stream
            if self.seek_pts is not None:
                # to the key frame at or before seek_pts (the caller checks where it landed)
                container.seek(int(self.seek_pts), stream=stream, backward=True, any_frame=False)
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.error.FFmpegError as exc:  # damaged container: keep what we have
                    self.error = f"demuxing stopped: {exc}"
                    break
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as exc:
                    self.error = f"decoding failed after {self.n_decoded} frames: {exc}"
                    # a bad packet in the middle may be followed by good ones: go on
                    continue
                for frame in frames:
                    self.n_decoded += 1
                    yield frame


def _warn_if_damaged(path, decoder: _FrameDecoder) -> None:
    if decoder.error:
        warnings.warn(
            f"{path}: stream damaged ({decoder.error}); {decoder.n_decoded} frames were decoded",
            RuntimeWarning,
            stacklevel=3,
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

    >>> info = probe("sample_data/real/car-detection_small.mp4")  # doctest: +SKIP
    >>> info.codec, info.width, info.height
    ('h264', 768, 432)
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

    >>> y = next(iter_luma("sample_data/real/car-detection_small.mp4"))  # doctest: +SKIP
    >>> y.shape, y.dtype
    ((432, 768), dtype('uint8'))
    """
    if start < 0 or step < 1 or (count is not None and count < 0):
        raise ValueError("start must be >= 0, step >= 1 and count >= 0 (or None)")
    decoder = _FrameDecoder(path)
    yielded = 0
    for i, frame in enumerate(decoder):
        if count is not None and yielded >= count:
            break
        if i >= start and (i - start) % step == 0:
            yield luma_plane(frame)
            yielded += 1
    _warn_if_damaged(path, decoder)


def iter_frames(
    path: str | os.PathLike, fmt: str = "rgb24", start: int = 0, count: int | None = None
) -> Iterator[np.ndarray]:
    """Yield decoded frames as numpy arrays in pixel format ``fmt`` (``rgb24``: H x W x 3).

    The frames are plain arrays: they carry no picture type, so re-encoding
    them never inherits the source's I-frame positions.
    """
    decoder = _FrameDecoder(path)
    yielded = 0
    for i, frame in enumerate(decoder):
        if count is not None and yielded >= count:
            break
        if i >= start:
            yield frame.to_ndarray(format=fmt)
            yielded += 1
    _warn_if_damaged(path, decoder)


def count_decoded_frames(path: str | os.PathLike, threads: bool = True) -> int:
    """Decode every frame (no pixel conversion) and return how many decoded: a plain decode.

    The baseline the speed benchmarks compare the analyses with.

    >>> count_decoded_frames("sample_data/single/single_h264.mp4")  # doctest: +SKIP
    150
    """
    with open_video(path, threads=threads) as (container, stream):
        return sum(1 for _ in container.decode(stream))


def _frame_type(frame: av.VideoFrame) -> str:
    return _PICT.get(int(frame.pict_type), "?")


def frame_types(path: str | os.PathLike) -> list[str]:
    """Picture type ('I', 'P', 'B') of every frame, in display order.

    >>> frame_types("sample_data/double/double_h264.mp4")[:4]  # doctest: +SKIP
    ['I', 'P', 'P', 'P']
    """
    decoder = _FrameDecoder(path)
    types = [_frame_type(f) for f in decoder]
    _warn_if_damaged(path, decoder)
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
