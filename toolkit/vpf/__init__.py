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
    ACQUISITIONS,
    THRESHOLD_FILE,
    VPFResult,
    analyze,
    analyze_counts,
    default_acquisition,
    default_threshold,
    mb_curves,
    periodicity,
    resolve_harmonics,
    threshold_provenance,
    vpf_signal,
)

__all__ = [
    "analyze",
    "analyze_counts",
    "resolve_harmonics",
    "default_acquisition",
    "ACQUISITIONS",
    "VPFResult",
    "vpf_signal",
    "mb_curves",
    "periodicity",
    "default_threshold",
    "threshold_provenance",
    "THRESHOLD_FILE",
]
