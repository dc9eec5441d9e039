"""Decoding pieces shared by :mod:`toolkit.video.io` and :mod:`toolkit.video.macroblocks`.

:func:`regular_file` is the input guard (regular files only, checked before anything opens them);
:func:`set_limits` sets the pixel and frame limits; :class:`open_video` opens a file read-only on
its first real video stream (cover art skipped); :class:`FrameDecoder` decodes every frame in
display order, survives damaged streams and counts the damage; :func:`frame_type` is a decoded
frame's picture type. ``regular_file``, ``set_limits``, ``LIMITS``, ``select_stream`` and
:func:`open_video` are re-exported by ``toolkit.video`` (public); the rest is internal to the package.

>>> with open_video("sample_data/single/single_h264.mp4") as (container, stream):
...     stream.codec_context.name
'h264'
>>> dec = FrameDecoder("sample_data/single/single_h264.mp4")
>>> [frame_type(f) for _, f in zip(range(3), dec)]
['I', 'P', 'P']
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from toolkit.video.errors import NotRegularFileError, VideoReadError

__all__ = [
    "PICTURE_TYPES",
    "TEXT_DEMUXERS",
    "LIMITS",
    "set_limits",
    "regular_file",
    "check_range",
    "select_stream",
    "open_video",
    "FrameDecoder",
    "frame_type",
    "warn_if_damaged",
    "timestamp_report",
]

#: PyAV picture type codes -> 'I' / 'P' / 'B' / 'S' (SI -> I, SP -> P, BI -> B)
PICTURE_TYPES = {1: "I", 2: "P", 3: "B", 4: "S", 5: "I", 6: "P", 7: "B"}


#: FFmpeg demuxers that turn text files into pictures (README.txt would "decode" as ANSI art)
TEXT_DEMUXERS = ("tty",)

#: limits on what a file may declare: pixels per frame (default 8192 x 8192) and frames per
#: stream (default ten million, about 4.6 days at 25 fps). Change with :func:`set_limits` or
#: per call (``max_pixels=``).
LIMITS = {"max_pixels": 8192 * 8192, "max_frames": 10_000_000}


def set_limits(max_pixels: int | None = None, max_frames: int | None = None) -> dict:
    """Set the process-wide limits on declared pixels per frame and frames per stream.

    Returns the limits in force afterwards (a copy of :data:`LIMITS`).

    >>> old = dict(LIMITS)
    >>> set_limits(max_pixels=100 * 10**6)["max_pixels"]
    100000000
    >>> _ = set_limits(**old)
    """
    for name, value in (("max_pixels", max_pixels), ("max_frames", max_frames)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        LIMITS[name] = int(value)
    return dict(LIMITS)


def regular_file(path: str | os.PathLike) -> Path:
    """``Path`` of an existing regular file (symlinks followed), checked before anything opens it.

    Raises ``FileNotFoundError`` (missing, or a dangling symlink), ``IsADirectoryError`` (a folder)
    and :class:`~toolkit.video.NotRegularFileError` (also an ``OSError``) for a FIFO, a device such
    as ``/dev/zero``, a socket or a symlink loop: reading those could block forever or never end.

    >>> regular_file("sample_data/single/single_h264.mp4").name
    'single_h264.mp4'
    >>> regular_file("/dev/zero")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    toolkit.video.errors.NotRegularFileError: '/dev/zero' is a character device, not a regular file: ...
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"expected a file path (str or os.PathLike), got {type(path).__name__}")
    p = Path(path).expanduser()
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if os.path.islink(p):
            raise FileNotFoundError(
                f"{str(p)!r} is a symlink to a missing file ({os.readlink(p)!r})"
            ) from None
        raise FileNotFoundError(f"no such file: {str(p)!r}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError(
                errno.ELOOP, f"{str(p)!r} is a symlink loop (it never reaches a file)"
            ) from None
        raise
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"expected a file but {str(p)!r} is a folder")
    if not stat.S_ISREG(mode):
        kind = (
            "FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "character device"
            if stat.S_ISCHR(mode)
            else "block device"
            if stat.S_ISBLK(mode)
            else "socket"
            if stat.S_ISSOCK(mode)
            else "special file"
        )
        raise NotRegularFileError(
            f"{str(p)!r} is a {kind}, not a regular file: refused (reading it would never end or could block)"
        )
    return p


def check_range(start, count, step) -> None:
    """``ValueError`` unless ``start >= 0``, ``step >= 1`` and ``count >= 0`` (or None) are whole numbers.

    >>> check_range(0, None, 1)
    >>> check_range(0, None, 1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: start must be a whole number >= 0, step >= 1 ...; got start=0, count=None, step=1.5
    """

    def whole(v) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    ok = whole(start) and whole(step) and (count is None or whole(count))
    if not ok or start < 0 or step < 1 or (count is not None and count < 0):
        raise ValueError(
            f"start must be a whole number >= 0, step >= 1 and count >= 0 (or None); "
            f"got start={start!r}, count={count!r}, step={step!r}"
        )


#: still-image codecs: a stream of one of these before a real video stream is a thumbnail
IMAGE_CODECS = ("mjpeg", "png", "bmp", "gif", "webp", "tiff", "jpeg2000", "jpegls")


def _is_picture(stream) -> bool:
    """True for an attached picture / cover art / thumbnail stream (by its disposition)."""
    disp = int(getattr(stream, "disposition", 0) or 0)
    pictures = int(av.stream.Disposition.attached_pic) | int(av.stream.Disposition.timed_thumbnails)
    return bool(disp & pictures)


def _codec(stream) -> str:
    cc = stream.codec_context
    return (cc.name or "") if cc is not None else ""


def select_stream(container, stream: int | None = None, path="") -> tuple:
    """The video stream to analyse and the indices of the video streams passed over.

    ``stream=None``: the first video stream that is not an attached picture (cover art,
    thumbnail: by its disposition, or a still-image codec such as MJPEG / PNG placed before a
    stream of a video codec); ``stream=k``: the container's stream number ``k`` (as ``ffprobe`` counts), which
    must be a video stream. Returns ``(stream, skipped)``.

    >>> import av
    >>> with av.open("sample_data/single/single_h264.mp4") as c:
    ...     s, skipped = select_stream(c)
    ...     s.index, skipped
    (0, [])
    """
    videos = list(container.streams.video)
    if stream is not None:
        if isinstance(stream, bool) or not isinstance(stream, (int, np.integer)):
            raise ValueError(f"stream must be a stream number (int) or None, got {stream!r}")
        chosen = [s for s in videos if s.index == int(stream)]
        if not chosen:
            raise ValueError(
                f"{str(path)!r} has no video stream number {stream}: its video streams are "
                f"{[s.index for s in videos]} (of {len(container.streams)} streams)"
            )
        return chosen[0], []
    real = [s for s in videos if not _is_picture(s)]
    if any(_codec(s) not in IMAGE_CODECS for s in real):
        # thumbnails stored as ordinary tracks (e.g. a one-picture MJPEG track in Matroska)
        first_video = next(k for k, s in enumerate(real) if _codec(s) not in IMAGE_CODECS)
        real = real[first_video:]
    if not real:
        if videos:
            raise VideoReadError(
                f"{str(path)!r} holds only an attached picture (cover art / thumbnail), no video; "
                f"pass stream={videos[0].index} to read the picture as a one-frame video"
            )
        raise VideoReadError(f"{str(path)!r} is not a decodable video: it has no video stream")
    return real[0], [s.index for s in videos if s.index < real[0].index]


def _check_limits(path, width: int, height: int, frames: int, max_pixels, max_frames) -> None:
    max_pixels = LIMITS["max_pixels"] if max_pixels is None else int(max_pixels)
    max_frames = LIMITS["max_frames"] if max_frames is None else int(max_frames)
    if width * height > max_pixels:
        raise ValueError(
            f"{str(path)!r} declares {width}x{height} = {width * height:,} pixels per frame, more than "
            f"max_pixels={max_pixels:,}: pass max_pixels={width * height} (or call "
            f"toolkit.video.set_limits(max_pixels={width * height})) to read it anyway"
        )
    if frames > max_frames:
        raise ValueError(
            f"{str(path)!r} declares {frames:,} frames, more than max_frames={max_frames:,}: call "
            f"toolkit.video.set_limits(max_frames={frames}) to read it anyway"
        )


class open_video:
    """Context manager: open ``path`` read-only and return ``(container, stream)``.

    Parameters
    ----------
    path : video file (a regular file: see :func:`regular_file`).
    threads : let FFmpeg decode with several threads (``False``: one thread).
    options : decoder options (e.g. ``{"debug": "mb_type"}``).
    stream : container stream number to read (default: the first video stream that is not an
        attached picture / cover art; see :func:`select_stream`).
    max_pixels, max_frames : limits on the declared frame size and frame count (default:
        :data:`LIMITS`); more raises ``ValueError`` saying how to raise the limit.

    Raises ``FileNotFoundError`` (naming the path) when it is missing,
    :class:`~toolkit.video.NotRegularFileError` for a FIFO / device / symlink loop, and
    :class:`~toolkit.video.VideoReadError` when it is not a decodable video.
    ``.skipped`` lists the video streams passed over (cover art).

    >>> with open_video("sample_data/single/single_h264.mp4") as (_, stream):
    ...     stream.codec_context.width, stream.codec_context.height
    (352, 288)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        threads: bool = True,
        options: dict | None = None,
        stream: int | None = None,
        max_pixels: int | None = None,
        max_frames: int | None = None,
    ):
        self.path = regular_file(path)
        self.threads = threads
        self.options = options or {}
        self.stream_index = stream
        self.max_pixels = max_pixels
        self.max_frames = max_frames
        self.container = None
        self.skipped: list[int] = []

    def __enter__(self):
        try:
            self.container = av.open(str(self.path), mode="r")
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
            raise VideoReadError(f"{str(self.path)!r} is not a decodable video: {exc}") from None
        try:
            if self.container.format.name in TEXT_DEMUXERS:
                # FFmpeg's tty demuxer renders any text file as "ANSI art" frames
                raise VideoReadError(f"{str(self.path)!r} is a text file, not a video")
            stream, self.skipped = select_stream(self.container, self.stream_index, self.path)
            cc = stream.codec_context
            if cc is None or cc.name is None:
                raise VideoReadError(f"{str(self.path)!r}: no decoder for its video stream {stream.index}")
            _check_limits(
                self.path,
                int(cc.width or 0),
                int(cc.height or 0),
                int(stream.frames or 0),
                self.max_pixels,
                self.max_frames,
            )
            stream.thread_type = "AUTO" if self.threads else "NONE"
            if self.options:
                cc.options = dict(self.options)
        except BaseException:
            self.container.close()
            self.container = None
            raise
        return self.container, stream

    def __exit__(self, *exc):
        if self.container is not None:
            self.container.close()
        return False


def timestamp_report(deltas: Counter, nominal: int | None = None, tolerance: float = 0.02) -> dict:
    """Frame-rate facts from a histogram of pts steps between consecutive frames (display order).

    ``base`` is the frame step: ``nominal`` (the container's declared step, in the same ticks)
    when some frames show it, else the smallest step seen on at least two frames (or 1 % of
    them). A step that is a whole multiple (2x, 3x, ...) of ``base`` marks frames missing from a
    constant-rate stream (``missing_frames`` counts them); steps that are no whole multiple (off by
    more than ``tolerance`` and more than one tick of rounding), on more than 5 % of the steps,
    make the stream variable-frame-rate (``variable``), and then no step is counted as missing.

    >>> timestamp_report(Counter({512: 97, 1024: 2}))["missing_frames"]
    2
    >>> timestamp_report(Counter({33: 59, 34: 29}))["variable"]  # 30 fps in milliseconds
    False
    >>> timestamp_report(Counter({40: 50, 33: 30, 67: 20}))["variable"]
    True
    """
    steps = {int(d): int(n) for d, n in deltas.items() if d > 0}
    total = sum(steps.values())
    if not total:
        return {"base": None, "variable": False, "missing_frames": 0, "steps": 0}

    def slack(b: int, k: int) -> float:
        return max(tolerance * k * b, 1.0 if b >= 10 else 0.0)

    base = None
    if nominal:
        near = [d for d in steps if abs(d - nominal) <= slack(nominal, 1)]
        base = min(near, key=lambda d: abs(d - nominal)) if near else None
    if base is None:
        frequent = [d for d in steps if steps[d] >= max(2, 0.01 * total)]
        base = min(frequent) if frequent else max(steps, key=lambda d: (steps[d], -d))
    off = 0
    missing = 0
    for d, n in steps.items():
        k = max(1, round(d / base))
        if abs(d - k * base) <= slack(base, k):
            missing += (k - 1) * n
        else:
            off += n
    variable = off > 0.05 * total
    return {
        "base": base,
        "variable": bool(variable),
        "missing_frames": 0 if variable else int(missing),
        "steps": total,
    }


class FrameDecoder:
    """Decode every frame of ``path`` in display order, surviving damaged streams and counting damage.

    Iterating yields ``av.VideoFrame`` objects. A packet that fails to decode is counted and
    skipped; a container that breaks off ends the iteration instead of raising. When the
    iteration ran to the end of the stream, the frames are also checked against what the
    container declares (frame count, duration) and their timestamps for gaps (lost frames).

    Attributes (after or during iteration)
    --------------------------------------
    n_decoded : frames yielded; n_packets : non-empty packets read; failed_packets : packets the
    decoder refused; corrupt_frames : frames FFmpeg flagged corrupt (concealed errors);
    missing_frames : frames lost from a constant-rate stream (timestamp gaps); sizes : distinct
    ``(width, height)`` in order of appearance; first_error / error : the first problem met, in
    words (None when intact); complete : True when nothing of the above went wrong.
    ``seek_pts`` starts at the key frame at or before that timestamp (then the end-of-stream
    checks against the container's declarations are skipped).

    >>> dec = FrameDecoder("sample_data/single/single_h264.mp4", threads=False)
    >>> sum(1 for _ in dec), dec.n_decoded, dec.error, dec.complete
    (150, 150, None, True)
    """

    def __init__(
        self,
        path,
        *,
        threads=True,
        options=None,
        seek_pts: int | None = None,
        stream: int | None = None,
        max_pixels: int | None = None,
    ):
        self.opener = open_video(path, threads=threads, options=options, stream=stream, max_pixels=max_pixels)
        self.path = self.opener.path
        self.seek_pts = seek_pts
        self.n_decoded = 0
        self.n_packets = 0
        self.failed_packets = 0
        self.corrupt_frames = 0
        self.missing_frames = 0
        self.declared_frames: int | None = None
        self.sizes: list[tuple[int, int]] = []
        self.deltas: Counter = Counter()
        self.finished = False
        self.demux_error: str | None = None
        self.first_error: str | None = None
        self.truncated: str | None = None
        self.stream_index: int | None = None
        self.skipped_streams: list[int] = []
        self.variable_frame_rate = False

    # -- damage bookkeeping -------------------------------------------------------------------
    def _note(self, text: str) -> None:
        if self.first_error is None:
            self.first_error = text

    @property
    def error(self) -> str | None:
        """The first problem met, with the counts (None when the stream is intact)."""
        if self.complete:
            return None
        parts = []
        if self.failed_packets:
            parts.append(f"{self.failed_packets} packet(s) failed to decode")
        if self.corrupt_frames:
            parts.append(f"{self.corrupt_frames} frame(s) decoded corrupt")
        if self.missing_frames:
            parts.append(f"{self.missing_frames} frame(s) missing (timestamp gaps)")
        if self.demux_error:
            parts.append(f"demuxing stopped: {self.demux_error}")
        if self.truncated:
            parts.append(self.truncated)
        first = f"; first: {self.first_error}" if self.first_error and self.first_error not in parts else ""
        return "; ".join(parts) + first

    @property
    def complete(self) -> bool:
        """True when no packet failed, no frame was corrupt or missing, and nothing broke off."""
        return not (
            self.failed_packets
            or self.corrupt_frames
            or self.missing_frames
            or self.demux_error
            or self.truncated
        )

    def report(self) -> dict:
        """The decode's health as JSON-able values (for a result's ``params``)."""
        return {
            "stream": self.stream_index,
            "skipped_streams": list(self.skipped_streams),
            "complete": self.complete,
            "frames_decoded": self.n_decoded,
            "packets": self.n_packets,
            "declared_frames": self.declared_frames,
            "failed_packets": self.failed_packets,
            "corrupt_frames": self.corrupt_frames,
            "missing_frames": self.missing_frames,
            "variable_frame_rate": self.variable_frame_rate,
            "sizes": [list(s) for s in self.sizes],
            "error": self.error,
        }

    def __iter__(self) -> Iterator[av.VideoFrame]:
        with self.opener as (container, stream):
            self.stream = stream
            self.stream_index = stream.index
            self.skipped_streams = list(self.opener.skipped)
            self.declared_frames = int(stream.frames) if stream.frames else None
            if self.seek_pts is not None:
                # to the key frame at or before seek_pts (the caller checks where it landed)
                container.seek(int(self.seek_pts), stream=stream, backward=True, any_frame=False)
            packets = container.demux(stream)
            last_pts = None
            first_pts = None
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except (av.error.FFmpegError, OSError) as exc:  # damaged container: keep what we have
                    self.demux_error = str(exc)
                    self._note(f"demuxing stopped after {self.n_packets} packets: {exc}")
                    break
                if packet.size:
                    self.n_packets += 1
                try:
                    frames = packet.decode()
                except (av.error.FFmpegError, ValueError) as exc:
                    self.failed_packets += 1
                    self._note(f"packet {self.n_packets} failed after {self.n_decoded} frames: {exc}")
                    # a bad packet in the middle may be followed by good ones: go on
                    continue
                for frame in frames:
                    self.n_decoded += 1
                    if frame.is_corrupt:
                        self.corrupt_frames += 1
                        self._note(f"frame {self.n_decoded - 1} decoded corrupt")
                    size = (int(frame.width), int(frame.height))
                    if not self.sizes or self.sizes[-1] != size:
                        if self.sizes and size not in self.sizes:
                            self._note(
                                f"resolution changes from {self.sizes[-1][0]}x{self.sizes[-1][1]} to "
                                f"{size[0]}x{size[1]} at frame {self.n_decoded - 1}"
                            )
                        if size not in self.sizes:
                            self.sizes.append(size)
                    if frame.pts is not None:
                        if last_pts is not None and frame.pts > last_pts:
                            self.deltas[int(frame.pts - last_pts)] += 1
                        if first_pts is None:
                            first_pts = frame.pts
                        last_pts = frame.pts
                    yield frame
            self.finished = True
            self._end_checks(container, stream, first_pts, last_pts)

    def _end_checks(self, container, stream, first_pts, last_pts) -> None:
        nominal = None
        rate = stream.average_rate or stream.guessed_rate
        if rate and stream.time_base:
            nominal = round(1 / (rate * stream.time_base))
        ts = timestamp_report(self.deltas, nominal)
        self.variable_frame_rate = ts["variable"]
        if ts["missing_frames"]:
            self.missing_frames = ts["missing_frames"]
            self._note(f"{self.missing_frames} frame(s) missing: timestamps jump by whole frame steps")
        if self.seek_pts is not None:
            return
        if self.declared_frames and self.n_decoded < self.declared_frames:
            self.truncated = (
                f"decoded {self.n_decoded} of the {self.declared_frames} frames the container declares"
            )
            self._note(self.truncated)
            return
        # declared duration (the stream's, or the container's when it holds this stream alone)
        declared = None
        if stream.duration and stream.time_base:
            declared = float(stream.duration * stream.time_base)
        elif container.duration and len(container.streams) == 1:
            declared = container.duration / 1e6
        if declared and last_pts is not None and first_pts is not None and stream.time_base and ts["base"]:
            step = float(ts["base"] * stream.time_base)
            covered = float((last_pts - first_pts) * stream.time_base) + step
            if covered < 0.9 * declared - 2 * step:
                self.truncated = (
                    f"the frames cover {covered:.2f} s of the {declared:.2f} s the container declares "
                    "(truncated file?)"
                )
                self._note(self.truncated)


def warn_if_damaged(path, decoder: FrameDecoder) -> None:
    """``RuntimeWarning`` naming ``path`` when ``decoder`` met a damaged stream.

    >>> dec = FrameDecoder("sample_data/single/single_h264.mp4")
    >>> warn_if_damaged("single_h264.mp4", dec)  # intact (and not decoded yet): no warning
    """
    if decoder.error:
        warnings.warn(
            f"{path}: stream damaged ({decoder.error}); {decoder.n_decoded} frames were decoded",
            RuntimeWarning,
            stacklevel=3,
        )


def frame_type(frame: av.VideoFrame) -> str:
    """Picture type of a decoded frame: 'I', 'P', 'B', 'S' ('?' when unknown).

    >>> frame_type(next(iter(FrameDecoder("sample_data/single/single_h264.mp4"))))
    'I'
    """
    return PICTURE_TYPES.get(int(frame.pict_type), "?")
