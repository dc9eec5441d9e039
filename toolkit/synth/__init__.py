"""Forgery generator: real encoders through PyAV, deterministic (seeded) sources.

The only place in the toolkit that encodes. Everything here writes new files
and never touches its inputs.

* :func:`encode` — libx264, libx265, mpeg2video, mpeg4 with fixed GOP, B-frames,
  fixed quality / CRF / CBR / VBR; :func:`delta_to_quality` (seed 000 eqs. 18-19);
* :func:`double_encode`, :func:`temporal_splice`, :func:`spatial_splice` with
  ground truth written beside the output;
* :mod:`toolkit.synth.manipulate` — seed 004's 15 image manipulations;
* :mod:`toolkit.synth.sources` — photos with synthetic camera motion and
  downscaled real clips;
* ``python -m toolkit.synth.sample_data`` rebuilds ``sample_data/``.
"""

from toolkit.synth.encode import (
    CODECS,
    EncodeSettings,
    codec_name,
    delta_to_quality,
    encode,
    quality_to_delta,
    remux,
)
from toolkit.synth.forgeries import double_encode, load_frames, spatial_splice, temporal_splice
from toolkit.synth.manipulate import MANIPULATIONS, apply
from toolkit.synth.sources import PHOTOS, photo, photo_sequence, real_clip_sequence, real_clips

__all__ = [
    "CODECS",
    "EncodeSettings",
    "codec_name",
    "encode",
    "delta_to_quality",
    "quality_to_delta",
    "remux",
    "double_encode",
    "temporal_splice",
    "spatial_splice",
    "load_frames",
    "MANIPULATIONS",
    "apply",
    "PHOTOS",
    "photo",
    "photo_sequence",
    "real_clips",
    "real_clip_sequence",
]
