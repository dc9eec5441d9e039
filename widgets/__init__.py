"""ipywidgets explorers built only on ``toolkit``'s public functions.

One module per explorer; each takes toolkit results (or a path) and never
recomputes what ``toolkit`` exposes. Explorers are imported lazily so that
``import widgets`` stays cheap:

>>> from widgets import VPFExplorer
>>> VPFExplorer.__module__
'widgets.vpf'
"""

from importlib import import_module

_EXPLORERS = {
    "MacroblockExplorer": "widgets.video",
    "VPFExplorer": "widgets.vpf",
    "PatchFeatureExplorer": "widgets.focal_features",
    "VERExplorer": "widgets.focal_localization",
    "TemporalExplorer": "widgets.focal_localization",
    "ResidualExplorer": "widgets.residual",
    "FootprintPCAExplorer": "widgets.fsvm",
    "FrameScoreExplorer": "widgets.framecls",
    "CountryTopKExplorer": "widgets.geo",
    "CityVerificationExplorer": "widgets.geo",
    "LDPTOPExplorer": "widgets.ldptop",
    "FaceFCNExplorer": "widgets.faces",
}

__all__ = sorted(_EXPLORERS)


def __getattr__(name: str):
    if name in _EXPLORERS:
        return getattr(import_module(_EXPLORERS[name]), name)
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")
