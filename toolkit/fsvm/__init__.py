"""F-SVM: macroblock prediction-mode footprints + a linear SVM (seed 001, chapter 5).

A video's footprint is, for each of the first N frames after its first
I-frame, the fractions of intra, inter and skip macroblocks (after a
lossless H.264 re-encode). A linear SVM (C = 0.1) on the ``3N`` vector
separates real from synthetic videos with very few training examples.

* :func:`footprint` / :func:`extract` — one video's ``N x 3`` footprint;
* :class:`FSVM` — scikit-learn estimator (fit / predict / decision_function,
  ``save`` / ``load``, ``detect`` for one video);
* :func:`load_folder` — labelled :class:`FootprintSet` from ``root/real``, ``root/fake``;
* :mod:`toolkit.fsvm.simulate` — seeded real / synthetic simulation (DeepStreets-like).

>>> from toolkit.fsvm import FSVM, load_folder     # doctest: +SKIP
>>> ds = load_folder("dataset")                    # doctest: +SKIP
>>> FSVM().fit(ds.footprints, ds.labels)           # doctest: +SKIP
"""

from toolkit.fsvm.data import FootprintSet, load_folder, pca_3d
from toolkit.fsvm.footprint import REENCODE, Footprint, extract, footprint, roi_mb_mask
from toolkit.fsvm.model import FSVM, LABEL_NAMES, FSVMResult

__all__ = [
    "footprint",
    "extract",
    "Footprint",
    "roi_mb_mask",
    "REENCODE",
    "FSVM",
    "FSVMResult",
    "LABEL_NAMES",
    "load_folder",
    "FootprintSet",
    "pca_3d",
]
