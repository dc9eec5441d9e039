"""FOCAL coding-trace CNNs (seed 000): codec and quality classifiers and dense patch features.

>>> from toolkit.focal import FocalNet, features
>>> import numpy as np
>>> features(np.zeros((64, 64), np.uint8), FocalNet(4)).probs.shape
(1, 1, 1, 4)

``toolkit.focal.temporal`` and ``toolkit.focal.spatial`` (splicing localisation) are
imported on their own; this package does not import them.
"""

from __future__ import annotations

from toolkit.focal.classification import ClassifyResult, classify
from toolkit.focal.features import (
    FeatureMap,
    features,
    features_patchwise,
    patch_grid,
    rgb_to_luma,
    to_luma,
)
from toolkit.focal.model import (
    CODEC_CLASSES,
    PATCH,
    QUALITY_CLASSES,
    QUALITY_DELTAS,
    FocalNet,
    count_parameters,
)
from toolkit.focal.models import MODEL_NAMES, load_model, save_model, train_command

__all__ = [
    "FocalNet",
    "FeatureMap",
    "ClassifyResult",
    "features",
    "features_patchwise",
    "load_model",
    "classify",
    "save_model",
    "patch_grid",
    "to_luma",
    "rgb_to_luma",
    "CODEC_CLASSES",
    "QUALITY_CLASSES",
    "QUALITY_DELTAS",
    "PATCH",
    "MODEL_NAMES",
    "count_parameters",
    "train_command",
]
