"""Frame-level CNN detectors of synthetic video with a video vote (seed 001, chapters 3-5).

* :func:`analyze` — per-frame fake probabilities of a video and its soft (or majority) vote
  (:class:`FrameScores`, the registry's ``"framecls"``);
* :func:`load_model` — a trained :class:`FrameClassifier` through :mod:`toolkit.weights`;
* :func:`build` / :data:`BACKBONES` — Xception (timm ``legacy_xception``; ch. 3 at 256x512, ch. 5 at
  299x299), EfficientNet-B3 (torchvision; ch. 4), ResNetLSTM (ch. 5), and ``tiny`` / ``tiny_lstm`` for CPU;
* :mod:`toolkit.framecls.voting` — soft / majority votes, window sampling, threshold recalibration;
* :mod:`toolkit.framecls.train` — :func:`toolkit.framecls.train.fit` (in process) and
  ``python -m toolkit.framecls.train`` (seeded, resumable, ``--device auto``, ``--max-minutes``).

The data families it is studied on are :mod:`toolkit.synth.synthetic_video` (DeepStreets-like).

>>> from toolkit.framecls import analyze
>>> analyze("sample_data/real/walk.mkv", max_frames=3).summary()  # doctest: +ELLIPSIS
'framecls on walk.mkv: ...'
"""

from toolkit.framecls.backbones import BACKBONES, BackboneSpec, FrameClassifier, build, count_parameters
from toolkit.framecls.core import DEFAULT_MODEL, KIND, FrameScores, analyze, load_model, predict_resized
from toolkit.framecls.voting import (
    accuracy_at,
    decide,
    fps_indices,
    majority_vote,
    recalibrate_threshold,
    sample_windows,
    soft_vote,
)

__all__ = [
    "analyze",
    "load_model",
    "FrameScores",
    "FrameClassifier",
    "BACKBONES",
    "BackboneSpec",
    "build",
    "count_parameters",
    "predict_resized",
    "DEFAULT_MODEL",
    "KIND",
    "soft_vote",
    "majority_vote",
    "decide",
    "sample_windows",
    "fps_indices",
    "recalibrate_threshold",
    "accuracy_at",
]
