"""Video I/O on PyAV: probe, luma planes, frame types, GOP structure, macroblock types.

The only place in the toolkit that opens media for reading.

>>> from toolkit.video import probe, frame_types, macroblock_types  # doctest: +SKIP
>>> info = probe("sample_data/real/car-detection_small.mp4")          # doctest: +SKIP
>>> mb = macroblock_types(info.path)                                   # doctest: +SKIP
>>> mb.counts.head()                                                   # doctest: +SKIP
"""

from toolkit.video.errors import UnsupportedCodecError, VideoError, VideoReadError
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
    "UnsupportedCodecError",
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
