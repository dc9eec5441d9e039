"""Video I/O on PyAV: probe, frames, luma planes, frame types, GOP structure, macroblock types.

The only place in the toolkit that opens media for reading.

* :func:`probe` -> :class:`VideoInfo` (frozen dataclass, JSON-safe ``to_dict``);
* :func:`read_frames` / :class:`FrameSource` -> frames (luma or RGB) of a path or array;
* :func:`frame_types` / :func:`gop_structure` -> picture types, :class:`GOPStructure`;
* :func:`macroblock_types` -> :class:`MacroblockTypes` (a :class:`toolkit.result.Result`,
  method ``"video.macroblocks"``);
* typed errors: :class:`VideoReadError`, :class:`UnsupportedCodecError` (both :class:`VideoError`),
  :class:`NotRegularFileError` (a :class:`VideoReadError` and an ``OSError``: FIFO, device,
  symlink loop);
* the input guard: :func:`regular_file` (regular files only, checked before opening),
  :func:`set_limits` / :data:`LIMITS` (``max_pixels``, ``max_frames``), :func:`select_stream`
  (the first real video stream: cover art skipped; ``stream=`` to choose).

>>> from toolkit.video import probe, macroblock_types
>>> info = probe("sample_data/real/person_gop10_head300.mp4")
>>> info.codec, info.n_frames
('h264', 300)
>>> mb = macroblock_types(info.path, max_frames=30)
>>> mb.gop.i_frames
(0, 10, 20)
"""

from toolkit.video._common import LIMITS, regular_file, select_stream, set_limits
from toolkit.video.errors import NotRegularFileError, UnsupportedCodecError, VideoError, VideoReadError
from toolkit.video.frames import FrameSource, as_frame_array, read_frames, rgb_to_luma
from toolkit.video.io import (
    GOPStructure,
    VideoInfo,
    count_decoded_frames,
    frame_types,
    gop_structure,
    iter_frames,
    iter_luma,
    luma_plane,
    open_video,
    probe,
)
from toolkit.video.macroblocks import (
    MB_CLASSES,
    MB_SYMBOLS,
    SUPPORTED_MB_CODECS,
    MacroblockTypes,
    macroblock_types,
)

__all__ = [
    "VideoError",
    "VideoReadError",
    "NotRegularFileError",
    "UnsupportedCodecError",
    "LIMITS",
    "set_limits",
    "regular_file",
    "select_stream",
    "VideoInfo",
    "GOPStructure",
    "probe",
    "read_frames",
    "FrameSource",
    "as_frame_array",
    "rgb_to_luma",
    "iter_luma",
    "iter_frames",
    "luma_plane",
    "frame_types",
    "gop_structure",
    "open_video",
    "count_decoded_frames",
    "MacroblockTypes",
    "macroblock_types",
    "MB_CLASSES",
    "MB_SYMBOLS",
    "SUPPORTED_MB_CODECS",
]
