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

from toolkit._util import sha256_file
from toolkit.result import json_safe
from toolkit.video._common import (
    FrameDecoder,
    check_range,
    frame_type,
    open_video,
    regular_file,
    timestamp_report,
    warn_if_damaged,
)
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
    width, height : int (pixels, of the first frame; ``sizes`` lists every size seen);
    fps : float (frames per second: the nominal rate for a constant-rate stream, the measured mean
    rate ``(n_frames - 1) / span of timestamps`` for a variable-rate one);
    n_frames : int (video packets counted, one per coded frame — never the header's claim);
    duration : float (seconds); pix_fmt : str; has_b_frames : bool (packets out of presentation order);
    bit_rate : int (bits per second, 0 when the container does not say);
    sha256 : str (of the file); size_bytes : int;
    stream : int (the container stream analysed); skipped_streams : tuple of int (video streams
    passed over: cover art / thumbnails); n_video_streams : int;
    declared_frames : int or None (the header's frame count, when it gives one);
    fps_nominal : float (the container's declared rate); variable_frame_rate : bool;
    sizes : tuple of (width, height) (every frame size of the key frames, in order: more than
    one means the resolution changes mid-stream); missing_frames : int (frames lost from a
    constant-rate stream, from timestamp gaps); complete : bool and problems : tuple of str (what
    does not add up: fewer packets than declared, demuxing stopped, lost frames, size changes).

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
    stream: int = 0
    skipped_streams: tuple = ()
    n_video_streams: int = 1
    declared_frames: int | None = None
    fps_nominal: float = 0.0
    variable_frame_rate: bool = False
    sizes: tuple = ()
    missing_frames: int = 0
    complete: bool = True
    problems: tuple = ()

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
        vfr = " (variable frame rate, mean)" if self.variable_frame_rate else ""
        text = (
            f"{os.path.basename(self.path)}: {self.codec} {self.width}x{self.height}, "
            f"{self.n_frames} frames at {self.fps:.4g} fps{vfr} ({self.duration:.1f} s), {b}"
        )
        return text + (f"; {'; '.join(self.problems)}" if self.problems else "")


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
def _scan_packets(container, stream) -> dict:
    """Count video packets, collect their timestamps and the sizes of the key frames.

    Only key-frame packets are decoded (``skip_frame="NONKEY"``): a resolution change starts on
    a key frame, so this finds every size at a fraction of a full decode.
    """
    n = 0
    last_pts = None
    reordered = False
    pts = []
    sizes: list[tuple[int, int]] = []
    error = None
    cc = stream.codec_context
    cc.skip_frame = "NONKEY"

    def note(frames) -> None:
        for f in frames:
            size = (int(f.width), int(f.height))
            if size not in sizes:
                sizes.append(size)

    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            n += 1
            if packet.pts is not None:
                pts.append(int(packet.pts))
                if last_pts is not None and packet.pts < last_pts:
                    reordered = True
                last_pts = packet.pts
            if packet.is_keyframe:
                try:
                    note(packet.decode())
                except (av.error.FFmpegError, ValueError):
                    pass
    except (av.error.FFmpegError, OSError) as exc:
        error = f"demuxing stopped after {n} packets: {exc}"
    try:
        note(cc.decode(None))
    except (av.error.FFmpegError, ValueError):
        pass
    return {"n": n, "reordered": reordered, "pts": np.asarray(pts, np.int64), "sizes": sizes, "error": error}


def probe(path: str | os.PathLike, *, stream: int | None = None, max_pixels: int | None = None) -> VideoInfo:
    """Container and stream facts of a video file, with the file's SHA-256.

    Reads every packet and decodes only the key frames. ``n_frames`` is the number of packets
    counted (the header's claim is ``declared_frames``; a file with fewer packets than it
    declares is ``complete=False``); ``has_b_frames`` is True when packets come out of
    presentation order (the mark of B-frames / reordering); ``fps`` is measured from the
    timestamps when the rate varies (``variable_frame_rate``); ``sizes`` lists every key frame's
    size (a resolution change mid-stream shows as two or more).

    Parameters
    ----------
    path : a regular file (FIFOs, devices and folders are refused before opening).
    stream : container stream number (default: the first video stream that is not cover art).
    max_pixels : limit on the declared frame size (default ``toolkit.video.LIMITS``).

    >>> info = probe("sample_data/real/person_gop10_head300.mp4")
    >>> info.codec, info.width, info.height, info.n_frames, info.has_b_frames
    ('h264', 768, 432, 300, True)
    >>> info.complete, info.variable_frame_rate, info.stream
    (True, False, 0)
    """
    p = regular_file(path)
    with open_video(p, stream=stream, max_pixels=max_pixels) as (container, st):
        digest = sha256_file(p)
        st_index = int(st.index)
        opener_skipped = [s.index for s in container.streams.video if s.index < st_index]
        cc = st.codec_context
        nominal = float(st.average_rate or st.guessed_rate or 0.0)
        duration = 0.0
        if st.duration is not None and st.time_base is not None:
            duration = float(st.duration * st.time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6
        declared = int(st.frames) if st.frames else None
        declared_duration = None  # the stream's, or the container's when it holds this stream alone
        if st.duration and st.time_base:
            declared_duration = float(st.duration * st.time_base)
        elif container.duration and len(container.streams) == 1:
            declared_duration = container.duration / 1e6
        width, height, pix_fmt = int(cc.width), int(cc.height), str(cc.pix_fmt)
        scan = _scan_packets(container, st)
        n_video = len(container.streams.video)
        time_base = st.time_base
        fmt_name, codec_name = container.format.name, cc.name
        bit_rate = int(st.bit_rate or container.bit_rate or 0)
    n = scan["n"]
    problems = []
    if scan["error"]:
        problems.append(scan["error"])
    if declared is not None and n < declared:
        problems.append(f"{n} packets, but the header declares {declared} frames (truncated?)")
    ts = np.sort(scan["pts"])
    from collections import Counter

    steps = Counter(np.diff(ts).tolist()) if len(ts) > 1 else Counter()
    nominal_step = round(1 / (nominal * float(time_base))) if nominal and time_base else None
    rep = timestamp_report(steps, nominal_step)
    fps = nominal
    if rep["variable"] and len(ts) > 1 and time_base:
        span = float((ts[-1] - ts[0]) * time_base)
        fps = (len(ts) - 1) / span if span > 0 else nominal
    if declared_duration and rep["base"] and len(ts) and time_base and not problems:
        step = float(rep["base"] * time_base)
        covered = float((ts[-1] - ts[0]) * time_base) + step
        if covered < 0.9 * declared_duration - 2 * step:
            problems.append(
                f"the packets cover {covered:.2f} s of the {declared_duration:.2f} s the container "
                "declares (truncated?)"
            )
    if rep["missing_frames"]:
        problems.append(f"{rep['missing_frames']} frame(s) missing (timestamps jump by whole frame steps)")
    sizes = tuple(scan["sizes"]) or ((width, height),)
    if len(sizes) > 1:
        problems.append("resolution changes mid-stream: " + ", ".join(f"{w}x{h}" for w, h in sizes))
    if sizes and (width, height) != sizes[0]:
        width, height = sizes[0]
    return VideoInfo(
        path=str(p),
        container=fmt_name,
        codec=codec_name,
        width=width,
        height=height,
        fps=float(fps),
        n_frames=int(n),
        duration=duration,
        pix_fmt=pix_fmt,
        has_b_frames=bool(scan["reordered"]),
        bit_rate=bit_rate,
        sha256=digest,
        size_bytes=p.stat().st_size,
        stream=st_index,
        skipped_streams=tuple(opener_skipped),
        n_video_streams=n_video,
        declared_frames=declared,
        fps_nominal=nominal,
        variable_frame_rate=bool(rep["variable"]),
        sizes=sizes,
        missing_frames=int(rep["missing_frames"]),
        complete=not [x for x in problems if not x.startswith("resolution")],
        problems=tuple(problems),
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
    path: str | os.PathLike,
    start: int = 0,
    count: int | None = None,
    step: int = 1,
    *,
    stream: int | None = None,
    max_pixels: int | None = None,
    report: dict | None = None,
) -> Iterator[np.ndarray]:
    """Yield the luma (Y) plane of frames ``start, start+step, ...`` as ``uint8`` H x W arrays.

    Frames are in display order; ``count`` limits how many are yielded (``start``, ``count``,
    ``step`` must be whole numbers: ``ValueError`` otherwise, before anything is opened). A
    damaged stream yields what decodes and warns with what was damaged. ``stream``: container
    stream number (default: the first real video stream); ``max_pixels``: frame-size limit;
    ``report``: a dict filled, as frames are read, with the decode's health (``complete``,
    ``failed_packets``, ``corrupt_frames``, ``missing_frames``, ``sizes``, ``error``, ...).

    >>> y = next(iter_luma("sample_data/real/person_gop10_head300.mp4"))
    >>> y.shape, y.dtype
    ((432, 768), dtype('uint8'))
    """
    check_range(start, count, step)
    decoder = FrameDecoder(path, stream=stream, max_pixels=max_pixels)
    yielded = 0
    try:
        for i, frame in enumerate(decoder):
            if count is not None and yielded >= count:
                break
            if i >= start and (i - start) % step == 0:
                yield luma_plane(frame)
                yielded += 1
    finally:
        if report is not None:
            report.update(decoder.report())
    warn_if_damaged(path, decoder)


def iter_frames(
    path: str | os.PathLike,
    fmt: str = "rgb24",
    start: int = 0,
    count: int | None = None,
    *,
    stream: int | None = None,
    max_pixels: int | None = None,
    report: dict | None = None,
) -> Iterator[np.ndarray]:
    """Yield decoded frames as numpy arrays in pixel format ``fmt`` (``rgb24``: H x W x 3).

    The frames are plain arrays: they carry no picture type, so re-encoding
    them never inherits the source's I-frame positions. ``start``: first frame (display
    order); ``count``: at most this many; ``stream``, ``max_pixels``, ``report`` as in
    :func:`iter_luma`.
    (:func:`toolkit.video.read_frames` with ``fmt="rgb"`` is the usual way in; this is its
    streaming decoder.)

    >>> next(iter_frames("sample_data/single/single_h264.mp4")).shape
    (288, 352, 3)
    """
    check_range(start, count, 1)
    decoder = FrameDecoder(path, stream=stream, max_pixels=max_pixels)
    yielded = 0
    try:
        for i, frame in enumerate(decoder):
            if count is not None and yielded >= count:
                break
            if i >= start:
                yield frame.to_ndarray(format=fmt)
                yielded += 1
    finally:
        if report is not None:
            report.update(decoder.report())
    warn_if_damaged(path, decoder)


def count_decoded_frames(path: str | os.PathLike, threads: bool = True) -> int:
    """Decode every frame (no pixel conversion) and return how many decoded: a plain decode.

    The baseline the speed benchmarks compare the analyses with.

    >>> count_decoded_frames("sample_data/single/single_h264.mp4")
    150
    """
    with open_video(path, threads=threads) as (container, stream):
        return sum(1 for _ in container.decode(stream))


def frame_types(path: str | os.PathLike, *, stream: int | None = None) -> list[str]:
    """Picture type ('I', 'P', 'B') of every frame, in display order.

    >>> "".join(frame_types("sample_data/real/person_gop10_head300.mp4")[:12])
    'IBBBPBBBPPIB'
    """
    decoder = FrameDecoder(path, stream=stream)
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
