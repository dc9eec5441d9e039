"""VPF (Variation of Prediction Footprint): video double-encoding detection and first-GOP estimation.

>>> from toolkit.vpf import analyze                                  # doctest: +SKIP
>>> r = analyze("sample_data/double/double_mpeg2_h264.mp4")          # doctest: +SKIP
>>> r.table()                                                        # doctest: +SKIP
"""

from toolkit.vpf.core import (
    THRESHOLD_FILE,
    VPFResult,
    analyze,
    default_threshold,
    mb_curves,
    periodicity,
    threshold_provenance,
    vpf_signal,
)

__all__ = [
    "analyze",
    "VPFResult",
    "vpf_signal",
    "mb_curves",
    "periodicity",
    "default_threshold",
    "threshold_provenance",
    "THRESHOLD_FILE",
]
