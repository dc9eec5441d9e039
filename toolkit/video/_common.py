"""Decoding pieces shared by :mod:`toolkit.video.io` and :mod:`toolkit.video.macroblocks`.

:class:`open_video` opens a file read-only; :class:`FrameDecoder` decodes every
frame in display order and survives damaged streams; :func:`frame_type` is a
decoded frame's picture type. :func:`open_video` is re-exported by
``toolkit.video`` (public); the rest is internal to the package.

>>> with open_video("sample_data/single/single_h264.mp4") as (container, stream):
...     stream.codec_context.name
'h264'
>>> dec = FrameDecoder("sample_data/single/single_h264.mp4")
>>> [frame_type(f) for _, f in zip(range(3), dec)]
['I', 'P', 'P']
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import av

from toolkit._util import as_path
from toolkit.video.errors import VideoReadError

__all__ = ["PICTURE_TYPES", "TEXT_DEMUXERS", "open_video", "FrameDecoder", "frame_type", "warn_if_damaged"]

#: PyAV picture type codes -> 'I' / 'P' / 'B' / 'S' (SI -> I, SP -> P, BI -> B)
PICTURE_TYPES = {1: "I", 2: "P", 3: "B", 4: "S", 5: "I", 6: "P", 7: "B"}


#: FFmpeg demuxers that turn text files into pictures (README.txt would "decode" as ANSI art)
TEXT_DEMUXERS = ("tty",)


class open_video:
    """Context manager: open ``path`` read-only and return ``(container, stream)``.

    Parameters
    ----------
    path : video file.
    threads : let FFmpeg decode with several threads (``False``: one thread).
    options : decoder options (e.g. ``{"debug": "mb_type"}``).

    Raises ``FileNotFoundError`` (naming the path) when it is missing, and
    :class:`~toolkit.video.VideoReadError` when it is not a decodable video.

    >>> with open_video("sample_data/single/single_h264.mp4") as (_, stream):
    ...     stream.codec_context.width, stream.codec_context.height
    (352, 288)
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
        if self.container.format.name in TEXT_DEMUXERS:
            # FFmpeg's tty demuxer renders any text file as "ANSI art" frames
            self.container.close()
            raise VideoReadError(f"{str(self.path)!r} is a text file, not a video")
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


class FrameDecoder:
    """Decode every frame of ``path`` in display order, surviving damaged streams.

    Iterating yields ``av.VideoFrame`` objects. A stream that breaks off
    (truncated or corrupt file) ends the iteration instead of raising; the
    reason is kept in ``.error`` and the count in ``.n_decoded``.
    ``seek_pts`` starts at the key frame at or before that timestamp.

    >>> dec = FrameDecoder("sample_data/single/single_h264.mp4", threads=False)
    >>> sum(1 for _ in dec), dec.n_decoded, dec.error
    (150, 150, None)
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
