"""F-SVM: macroblock prediction-mode footprints + a linear SVM (seed 001, chapter 5).

A video's footprint is, for each of the first N frames after its first
I-frame, the fractions of intra, inter and skip macroblocks (after a
lossless H.264 re-encode). A linear SVM (C = 0.1) on the ``3N`` vector
separates real from synthetic videos with very few training examples.

* :func:`footprint` / :func:`extract` — one video's ``N x 3`` footprint (a :class:`Footprint`
  result that behaves like the array);
* :func:`detect` — the decision on one video (:class:`FSVMResult`: ``"synthetic"`` /
  ``"not_detected"``), with the shipped model ``fsvm/simulated`` unless given another;
* :class:`FSVM` — scikit-learn estimator (fit / predict / decision_function,
  ``save`` / ``load`` through :mod:`toolkit.weights`, ``detect`` for one video);
  :func:`load_model`; ``python -m toolkit.fsvm.train`` trains, measures and ships one;
* :func:`load_folder` — labelled :class:`FootprintSet` from ``root/real``, ``root/fake``;
  :func:`leave_one_out` — every video decided by an SVM trained on the others;
* :mod:`toolkit.fsvm.simulate` — seeded real / synthetic simulation (DeepStreets-like).

>>> from toolkit.fsvm import detect
>>> detect("sample_data/real/walk.mkv").summary()  # doctest: +ELLIPSIS
'fsvm on walk.mkv: ...'
"""

from toolkit.fsvm.data import FootprintSet, load_folder, pca_3d
from toolkit.fsvm.footprint import REENCODE, Footprint, extract, footprint, roi_mb_mask
from toolkit.fsvm.model import (
    DEFAULT_MODEL,
    FSVM,
    LABEL_NAMES,
    FSVMResult,
    LeaveOneOutDecisions,
    detect,
    leave_one_out,
    load_model,
)

__all__ = [
    "footprint",
    "extract",
    "Footprint",
    "roi_mb_mask",
    "REENCODE",
    "FSVM",
    "FSVMResult",
    "LABEL_NAMES",
    "detect",
    "load_model",
    "DEFAULT_MODEL",
    "leave_one_out",
    "LeaveOneOutDecisions",
    "load_folder",
    "FootprintSet",
    "pca_3d",
]
