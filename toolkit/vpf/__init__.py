"""VPF (Variation of Prediction Footprint): video double-encoding detection and first-GOP estimation.

:func:`analyze` returns a :class:`VPFResult` (a :class:`toolkit.result.Result`, method
``"vpf"``; also run as ``toolkit.methods.run("vpf", path)``).

>>> from toolkit.vpf import analyze
>>> r = analyze("sample_data/double/double_mpeg2_h264.mp4")
>>> r.table().loc[["Double encoding detected", "Estimated previous GOP size"]]
                            value
Double encoding detected      Yes
Estimated previous GOP size    12
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
