"""The 61 country classes (seed 001, section 7.2.2) and offline country look-ups.

The data file ``toolkit/geo/data/country_groups.json`` is built by
``python -m toolkit.geo.build_groups`` from the ``countryinfo`` package (see
that module for the grouping rule). GPS -> country uses ``reverse_geocoder``
(GeoNames cities with population > 1000, shipped inside the package: offline).

>>> from toolkit.geo import groups
>>> groups.country_to_group()["VA"]
'Italy'
>>> len(groups.class_names())
61
"""

from __future__ import annotations

import contextlib
import io
import json
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DATA_DIR",
    "country_to_group",
    "class_names",
    "class_members",
    "class_index",
    "country_name",
    "country_info",
    "countries_geojson",
    "gps_to_country",
    "resolve_country",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def _doc() -> dict:
    f = DATA_DIR / "country_groups.json"
    if not f.is_file():
        raise FileNotFoundError(f"{f} is missing: rebuild it with `python -m toolkit.geo.build_groups`")
    return json.loads(f.read_text(encoding="utf-8"))


def class_names() -> list[str]:
    """The 61 class names, in the order of the classifier's outputs (alphabetical).

    >>> class_names()[:2]
    ['Algeria', 'Argentina']
    """
    return list(_doc()["classes"])


def class_members() -> dict[str, list[str]]:
    """Class name -> ISO 3166 alpha-2 codes of its member countries.

    >>> "VA" in class_members()["Italy"]
    True
    """
    return {k: list(v) for k, v in _doc()["classes"].items()}


def country_to_group() -> dict[str, str]:
    """ISO 3166 alpha-2 code -> class name (every country exactly once; 61 distinct values).

    >>> country_to_group()["EG"] == country_to_group()["SD"]
    True
    """
    return {a2: name for name, members in _doc()["classes"].items() for a2 in members}


def class_index(name_or_code: str) -> int:
    """Output index of a class given its name or the ISO alpha-2 code of a member country.

    >>> class_index("VA") == class_index("Italy")
    True
    """
    names = class_names()
    if name_or_code in names:
        return names.index(name_or_code)
    code = resolve_country(name_or_code)
    return names.index(country_to_group()[code])


def country_info(code: str) -> dict:
    """Name, ISO alpha-3, region, sub-region, [lat, lon] and population of a country.

    >>> country_info("IT")["iso3"]
    'ITA'
    """
    return dict(_doc()["countries"][resolve_country(code)])


def country_name(code: str) -> str:
    """English name of an ISO alpha-2 code (``'VA'`` -> ``'Holy See (Vatican City State)'``-like).

    >>> country_name("IT")
    'Italy'
    """
    return country_info(code)["name"]


def resolve_country(value: str) -> str:
    """ISO alpha-2 code for an alpha-2 code, an alpha-3 code or an English country name.

    Raises ``ValueError`` with a sentence when the value is unknown.

    >>> resolve_country("ita"), resolve_country("Italy")
    ('IT', 'IT')
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"a country must be a non-empty string (ISO code or name), got {value!r}")
    v = value.strip()
    countries = _doc()["countries"]
    if v.upper() in countries:
        return v.upper()
    low = v.lower()
    for a2, rec in countries.items():
        if rec["iso3"].lower() == low or rec["name"].lower() == low:
            return a2
    raise ValueError(f"unknown country {value!r}: give an ISO 3166 alpha-2/alpha-3 code or an English name")


@lru_cache(maxsize=1)
def countries_geojson() -> dict:
    """FeatureCollection of simplified country outlines (feature ``id`` = ISO alpha-2).

    >>> countries_geojson()["type"]
    'FeatureCollection'
    """
    return json.loads((DATA_DIR / "countries.geojson").read_text(encoding="utf-8"))


def gps_to_country(lat: float, lon: float) -> str:
    """ISO alpha-2 code of the country at (``lat``, ``lon``) degrees (WGS84), offline.

    Uses ``reverse_geocoder`` (nearest GeoNames place with population > 1000).
    Codes that are not among the 61 classes' members (e.g. Kosovo ``XK``) are
    mapped to the country whose centroid is nearest.

    >>> gps_to_country(41.9029, 12.4534)  # St Peter's square  # doctest: +SKIP
    'VA'
    """
    lat, lon = float(lat), float(lon)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"GPS coordinates out of range: lat={lat}, lon={lon} (degrees)")
    import reverse_geocoder as rg

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a loading message
        hit = rg.search([(lat, lon)], mode=1, verbose=False)[0]
    cc = hit.get("cc", "")
    countries = _doc()["countries"]
    if cc in countries:
        return cc
    import math

    def d(rec):
        la, lo = rec["latlng"]
        return (la - lat) ** 2 + ((lo - lon) * math.cos(math.radians(lat))) ** 2

    return min(countries, key=lambda a2: d(countries[a2]))
