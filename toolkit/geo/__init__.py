"""Geolocation forensics (seed 001, chapters 7-8): country recognition and city verification.

Sub-modules (imported lazily):

* :mod:`toolkit.geo.groups` — the 61 country classes, country look-ups, GPS -> country (offline);
* :mod:`toolkit.geo.country` — ResNet country classifier with 5-crop fusion; ``predict`` (registry
  ``geo.country``) returns a :class:`~toolkit.geo.country.CountryPrediction` result;
* :mod:`toolkit.geo.maps` — folium top-k maps with a claimed-location consistency check;
* :mod:`toolkit.geo.city` — Siamese city verification with country gating and scene weighting;
  ``verify`` (registry ``geo.city``) returns a :class:`~toolkit.geo.city.CityVerification` result;
* :mod:`toolkit.geo.pretrained` — model loading through ``toolkit.weights`` and the external
  checkpoints (ImageNet, the seed's models, Places365) found in the user cache;
* :mod:`toolkit.geo.train`, :mod:`toolkit.geo.city_train` — training scripts (resumable);
* :mod:`toolkit.geo.build_groups` — rebuilds the class table and outlines from ``countryinfo``.

>>> from toolkit.geo import groups
>>> len(set(groups.country_to_group().values()))
61
"""

from importlib import import_module

_SUBMODULES = (
    "groups",
    "country",
    "maps",
    "city",
    "train",
    "city_train",
    "image",
    "pretrained",
    "build_groups",
)

__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return import_module(f"toolkit.geo.{name}")
    raise AttributeError(f"module 'toolkit.geo' has no attribute {name!r}")
