"""The one "path or array -> frames" reader: :class:`FrameSource` and :func:`read_frames`.

Every method that takes "a video file or an array of frames" reads it here:
a path is probed (SHA-256 of the file) and decoded lazily, one frame at a time,
so memory stays flat in video length; an array (``H x W``, ``H x W x 3``,
``T x H x W`` or ``T x H x W x 3`` uint8) is hashed with its shape and dtype
(:func:`toolkit._util.array_sha256`) and never modified.

>>> import numpy as np
>>> src = FrameSource(np.zeros((5, 16, 16), np.uint8), step=2)
>>> src.indices, src.shape
([0, 2, 4], (16, 16))
>>> read_frames(np.full((2, 4, 4, 3), 255, np.uint8), fmt="luma")[0, 0, 0]
np.uint8(235)
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from toolkit._util import array_sha256
from toolkit.video._common import check_range, regular_file

__all__ = ["FrameSource", "read_frames", "rgb_to_luma", "as_frame_array", "FORMATS"]

#: frame formats: ``"luma"`` (T x H x W, the decoder's Y plane) or ``"rgb"`` (T x H x W x 3)
FORMATS = ("luma", "rgb")


def rgb_to_luma(frames: np.ndarray) -> np.ndarray:
    """BT.601 limited-range luma (uint8) of RGB frames (``... x 3``), as a decoder's Y plane.

    >>> rgb_to_luma(np.full((2, 2, 3), 255, np.uint8))[0, 0]
    np.uint8(235)
    """
    a = np.asarray(frames, dtype=np.float32)
    y = 16.0 + (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255.0
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def as_frame_array(frames, fmt: str = "luma") -> np.ndarray:
    """``T x H x W`` (luma) or ``T x H x W x 3`` (rgb) uint8 frames from an array.

    Accepts ``H x W`` (grey), ``H x W x 3`` (RGB), ``T x H x W`` and ``T x H x W x 3``
    uint8 arrays. Grey frames given for ``fmt="rgb"`` are replicated to 3 bands;
    RGB frames given for ``fmt="luma"`` are converted with :func:`rgb_to_luma`.
    ``ValueError`` with a sentence for other dtypes or shapes. The input is not modified.

    >>> as_frame_array(np.zeros((64, 64), np.uint8)).shape
    (1, 64, 64)
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    a = np.asarray(frames)
    if a.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 arrays (luma or RGB 0..255), got dtype {a.dtype}")
    if a.ndim == 2:
        a, rgb = a[None], False
    elif a.ndim == 3 and a.shape[-1] == 3:
        a, rgb = a[None], True
    elif a.ndim == 3 and a.shape[-1] in (1, 2, 4):
        raise ValueError(
            f"frames with {a.shape[-1]} channels are not supported: give luma "
            f"(H x W, T x H x W) or RGB (H x W x 3), got shape {a.shape}"
        )
    elif a.ndim == 3:
        rgb = False
    elif a.ndim == 4 and a.shape[-1] == 3:
        rgb = True
    elif a.ndim == 4:
        raise ValueError(
            f"frames with {a.shape[-1]} channels are not supported: give luma "
            f"(T x H x W) or RGB (T x H x W x 3), got shape {a.shape}"
        )
    else:
        raise ValueError(
            f"frames must be H x W, H x W x 3, T x H x W or T x H x W x 3 arrays, got shape {a.shape}"
        )
    if len(a) == 0 or a.shape[1] == 0 or a.shape[2] == 0:
        raise ValueError(f"frames must not be empty, got shape {np.shape(frames)}")
    if fmt == "luma":
        return rgb_to_luma(a) if rgb else a
    return a if rgb else np.repeat(a[..., None], 3, axis=-1)


class FrameSource:
    """A video file or an array of frames, read as luma or RGB with a known frame index.

    Parameters
    ----------
    video : path or uint8 array (see :func:`as_frame_array`)
    start, count, step : int
        Frames ``start, start + step, ...``, at most ``count`` of them (display order).
    indices : sequence of int, optional
        Exact frame indices instead of ``start/count/step``.
    fmt : {'luma', 'rgb'}
    stream : container stream number of a file (default: the first real video stream).

    Attributes
    ----------
    path : str or None; sha256 : str; shape : (H, W); n_total : int (frames in the input,
    packets counted for files); codec : str or None; indices : list of int;
    info : the file's :class:`~toolkit.video.VideoInfo` (None for arrays).
    health : the decode's health as the frames are read (``complete``, ``error``, failed packets,
        corrupt and missing frames: :meth:`toolkit.video.FrameDecoder.report`); empty before the
        first iteration and for arrays. A damaged stream warns (``RuntimeWarning``) and shows
        ``health["complete"] is False``; damage after the last frame read is not seen.

    Iterating yields ``(index, frame)`` pairs, decoding one frame at a time.

    >>> src = FrameSource("sample_data/single/single_h264.mp4", count=3)
    >>> [i for i, _ in src], src.health["complete"], src.health["error"]
    ([0, 1, 2], True, None)
    """

    def __init__(
        self,
        video,
        start: int = 0,
        count: int | None = None,
        step: int = 1,
        *,
        indices: Sequence[int] | None = None,
        fmt: str = "luma",
        stream: int | None = None,
    ):
        check_range(start, count, step)
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
        self.fmt = fmt
        self.health: dict = {}
        self.path: str | None = None
        self.array: np.ndarray | None = None
        self.info = None
        self.stream: int | None = None
        if isinstance(video, (str, os.PathLike, Path)):
            from toolkit.video.io import probe

            p = regular_file(video)
            self.info = probe(p, stream=stream)
            self.stream = self.info.stream
            self.path, self.sha256 = str(p), self.info.sha256
            self.shape = (self.info.height, self.info.width)
            self.n_total = self.info.n_frames
            self.codec = self.info.codec
        else:
            self.array = as_frame_array(video, fmt)
            self.sha256 = array_sha256(np.asarray(video))
            self.shape = tuple(self.array.shape[1:3])
            self.n_total = len(self.array)
            self.codec = None
        if indices is not None:
            try:
                idx = sorted({int(i) for i in indices})
            except (TypeError, ValueError):
                raise ValueError(f"frame indices must be whole numbers, got {indices!r}") from None
            if not idx:
                raise ValueError("frames must name at least one frame index")
            if idx[0] < 0:
                raise ValueError("frame indices must be >= 0")
            self.indices = idx
        else:
            stop = self.n_total if count is None else min(self.n_total, start + count * step)
            self.indices = list(range(start, stop, step))

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        if self.array is not None:
            for i in self.indices:
                if i < len(self.array):
                    yield i, self.array[i]
            return
        if not self.indices:
            return
        from toolkit.video.io import iter_frames, iter_luma

        wanted, last = set(self.indices), self.indices[-1]
        st = self.info.stream
        self.health = {}
        frames = (
            iter_luma(self.path, stream=st, report=self.health)
            if self.fmt == "luma"
            else iter_frames(self.path, "rgb24", stream=st, report=self.health)
        )
        try:
            for i, frame in enumerate(frames):
                if i > last:
                    break
                if i in wanted:
                    yield i, frame
        finally:
            frames.close()  # fills self.health when the reading stops before the stream's end


def read_frames(
    path_or_frames,
    start: int = 0,
    count: int | None = None,
    step: int = 1,
    *,
    fmt: str = "luma",
    stream: int | None = None,
) -> np.ndarray:
    """Frames ``start, start + step, ...`` (at most ``count``) as one uint8 array.

    Parameters
    ----------
    path_or_frames : video file path or uint8 array (``H x W``, ``H x W x 3``,
        ``T x H x W``, ``T x H x W x 3``)
    start, count, step : int
        Which frames (display order).
    fmt : {'luma', 'rgb'}
        ``T x H x W`` luma (the decoder's Y plane) or ``T x H x W x 3`` RGB.
    stream : container stream number of a file (default: the first real video stream).

    Returns
    -------
    numpy.ndarray
        uint8 frames; holds them all in memory (use :class:`FrameSource` to stream).

    Raises
    ------
    FileNotFoundError, toolkit.video.NotRegularFileError (FIFO, device), toolkit.video.VideoReadError
    (no frame decodes, or the frame size changes in the range read), ValueError.

    >>> read_frames("sample_data/single/single_h264.mp4", count=2).shape
    (2, 288, 352)
    """
    src = FrameSource(path_or_frames, start, count, step, fmt=fmt, stream=stream)
    frames = [f for _, f in src]
    if not frames:
        if src.path is not None:
            from toolkit.video.errors import VideoReadError

            raise VideoReadError(f"{src.path!r}: no frame could be decoded in the requested range")
        raise ValueError(f"no frame in the requested range (the input has {src.n_total} frames)")
    sizes = {f.shape for f in frames}
    if len(sizes) > 1:
        from toolkit.video.errors import VideoReadError

        k = next(j for j, f in enumerate(frames) if f.shape != frames[0].shape)
        (h0, w0), (h1, w1) = frames[0].shape[:2], frames[k].shape[:2]
        raise VideoReadError(
            f"{src.path!r}: the resolution changes mid-stream (frame {src.indices[k]} is {w1}x{h1}, "
            f"the first {w0}x{h0}): frames of different sizes cannot be stacked; read the parts with "
            "start/count"
        )
    return np.stack(frames)
