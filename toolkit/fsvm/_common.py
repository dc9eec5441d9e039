"""Pieces shared by the F-SVM modules: the label convention and how a ROI is recorded in ``params``.

>>> LABEL_NAMES[1], describe_roi((0, 0, 32, 16))
('fake', [0, 0, 32, 16])
"""

from __future__ import annotations

import numpy as np

__all__ = ["LABEL_NAMES", "describe_roi", "label_name"]

#: label convention of :func:`toolkit.fsvm.load_folder` and the simulator
LABEL_NAMES = {0: "real", 1: "fake"}


def describe_roi(roi):
    """JSON-able record of a region of interest: a box as 4 ints, a mask as its shape and pixel count.

    >>> describe_roi(np.ones((2, 4, 4), bool))
    {'mask_shape': [2, 4, 4], 'pixels': 32}
    """
    if roi is None:
        return None
    if isinstance(roi, (tuple, list)) and np.ndim(roi) == 1:
        return [int(v) for v in roi]
    a = np.asarray(roi)
    return {"mask_shape": list(a.shape), "pixels": int(a.sum())}


def label_name(label) -> str:
    """``"real"`` / ``"fake"`` for the toolkit's 0 / 1 labels; a string label itself; ``str`` otherwise.

    >>> label_name(np.int64(1)), label_name("fake"), label_name(7)
    ('fake', 'fake', '7')
    """
    if isinstance(label, str):
        return label
    v = label.item() if isinstance(label, np.generic) else label
    return LABEL_NAMES.get(v, str(v)) if isinstance(v, (int, bool)) else str(v)
