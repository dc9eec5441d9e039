"""Residual co-occurrence descriptors (SRM, seed 004) and their CNN recast.

* :func:`features` — the 162-dim single-model SRM feature of an image,
  :func:`features_batch` / :func:`feature_counts` for batches of patches.
* :mod:`toolkit.residual.svm` — linear SVM on it (scikit-learn pipeline).
* :class:`RecastCNN` — the same chain as a CNN; :meth:`RecastCNN.from_handcrafted`
  sets every weight from the handcrafted pipeline (and an SVM); :func:`finetune`.
* :class:`FastRecastCNN` (:mod:`toolkit.residual.fast`) — the same maths with cheap ops (one
  residual conv, product-quantiser softmax, mean pooling), O(1) weights for fine-tuning that
  moves; :mod:`toolkit.residual.tune` chooses alpha / learning rate on a validation split.
* :class:`BayarCNN` (:mod:`toolkit.residual.bayar`) — the Bayar2016 constrained-conv baseline.
* :func:`heatmap` — sliding-window manipulation probability, fully convolutional, and its
  verdict (a :class:`HeatMap` result); :func:`analyze` — every intermediate of the chain
  (a :class:`ResidualAnalysis` result).
* :func:`load_model` / :func:`save_model` — SRM+SVM models through :mod:`toolkit.weights`
  (the shipped ``residual/median5`` is :func:`heatmap`'s default);
  :func:`~toolkit.residual.svm.train_for_manipulation` trains one;
  ``python -m toolkit.residual.train`` trains, measures and ships one.
* :mod:`toolkit.residual.data` — source-disjoint pristine / manipulated 128 x 128 patches.

>>> import numpy as np
>>> from toolkit.residual import features
>>> features(np.zeros((32, 32, 3), np.uint8)).shape
(162,)
"""

from toolkit.residual.bayar import BayarCNN, train_bayar
from toolkit.residual.cnn import RecastCNN, finetune
from toolkit.residual.fast import FastRecastCNN
from toolkit.residual.features import (
    ResidualAnalysis,
    analyze,
    feature_counts,
    features,
    features_batch,
    load_image,
)
from toolkit.residual.heatmap import HeatMap, heatmap
from toolkit.residual.svm import DEFAULT_MODEL, load_model, save_model, train_for_manipulation

__all__ = [
    "features",
    "features_batch",
    "feature_counts",
    "analyze",
    "ResidualAnalysis",
    "load_image",
    "RecastCNN",
    "finetune",
    "FastRecastCNN",
    "BayarCNN",
    "train_bayar",
    "heatmap",
    "HeatMap",
    "load_model",
    "save_model",
    "train_for_manipulation",
    "DEFAULT_MODEL",
]
