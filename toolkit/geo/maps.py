"""Folium maps of country-class predictions, drawn offline from the shipped country outlines.

The maps need no network: Leaflet's JS and CSS come from the copy vendored under
``toolkit/geo/static/leaflet/`` (the npm ``leaflet`` 1.9.4 package's ``dist`` files with
its BSD-2-Clause LICENSE; versions and hashes in ``VERSION.json``), jQuery (which
folium's popups use) from ``static/jquery/`` (npm ``jquery`` 3.7.1, MIT), both inlined
into the map's HTML as ``data:`` URLs (:func:`offline`); the country polygons are GeoJSON
from the package. Tiles (``tiles="OpenStreetMap"``) are drawn when the network is
there; without it the polygons still show.

>>> import numpy as np
>>> from toolkit.geo.country import analyze, build_model
>>> from toolkit.geo.maps import topk_map
>>> pred = analyze(np.zeros((300, 400, 3), np.uint8), build_model("tiny"))
>>> m = topk_map(pred, claimed="IT")
>>> m.geo_verdict["claimed_country"]
'IT'
"""

from __future__ import annotations

import base64
import copy
import functools
import html
import os
import re
from pathlib import Path

from toolkit.geo import groups

__all__ = [
    "LEAFLET_DIR",
    "topk_map",
    "consistency",
    "parse_claim",
    "claim_from_exif",
    "world_layer",
    "offline",
    "leaflet_assets",
]

#: the vendored Leaflet distribution (npm ``leaflet`` 1.9.4 ``dist/`` + LICENSE)
LEAFLET_DIR = Path(__file__).resolve().parent / "static" / "leaflet"
#: the vendored jQuery (npm ``jquery`` 3.7.1 ``dist/jquery.min.js`` + LICENSE): folium's popups use ``$()``
JQUERY_DIR = Path(__file__).resolve().parent / "static" / "jquery"


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@functools.lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str, str]:
    """``(leaflet_js, leaflet_css, jquery_js)``: the vendored files as ``data:`` URLs.

    The CSS's ``url(images/...)`` references are inlined too, so nothing is fetched.

    >>> js, css, jq = leaflet_assets()
    >>> js.startswith("data:text/javascript;base64,"), css.startswith("data:text/css;base64,")
    (True, True)
    """
    js = (LEAFLET_DIR / "leaflet.js").read_bytes()
    css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def inline(m: re.Match) -> str:
        return f"url({_data_url((LEAFLET_DIR / m.group(1)).read_bytes(), 'image/png')})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    jq = (JQUERY_DIR / "jquery.min.js").read_bytes()
    return (
        _data_url(js, "text/javascript"),
        _data_url(css.encode("utf-8"), "text/css"),
        _data_url(jq, "text/javascript"),
    )


def offline(m: folium.Map) -> folium.Map:  # noqa: F821
    """Make a folium map self-contained: its Leaflet JS/CSS from the vendored copy, inlined.

    folium's ``default_js`` / ``default_css`` point at CDNs (Leaflet, jQuery, Bootstrap,
    awesome-markers, glyphicons, Font Awesome); these maps use Leaflet (circle markers,
    GeoJSON, tooltips) and jQuery (folium's popups), so the map's lists are replaced by
    those two, inlined. Returns ``m``.

    >>> import folium
    >>> m = offline(folium.Map(tiles=None))
    >>> [name for name, _ in m.default_js], "cdn" in m.get_root().render()
    (['leaflet', 'jquery'], False)
    """
    js, css, jq = leaflet_assets()
    m.default_js = [("leaflet", js), ("jquery", jq)]
    m.default_css = [("leaflet_css", css)]
    return m


def _prediction_rows(prediction, k: int | None):
    """[(rank, class, codes, probability)] from a CountryPrediction or a predict() table."""
    import pandas as pd

    if isinstance(prediction, pd.DataFrame):
        if "prediction" in prediction.attrs and k is not None and k > len(prediction):
            return _prediction_rows(prediction.attrs["prediction"], k)
        need = {"class", "probability"}
        if not need <= set(prediction.columns):
            raise ValueError(
                "a prediction table needs 'class' and 'probability' columns (from country.predict)"
            )
        t = prediction if k is None else prediction.head(k)
        members = groups.class_members()
        rows = []
        for i, r in enumerate(t.itertuples(index=False), start=1):
            codes = list(getattr(r, "codes", None) or members.get(r[t.columns.get_loc("class")], []))
            rows.append(
                (int(getattr(r, "rank", i)), r[t.columns.get_loc("class")], codes, float(r.probability))
            )
        return rows
    if hasattr(prediction, "table"):
        t = prediction.table(k) if k is not None else prediction.table()
        return [
            (int(r["rank"]), r["class"], list(r["codes"]), float(r["probability"])) for _, r in t.iterrows()
        ]
    raise ValueError(
        f"expected a CountryPrediction or a country.predict() table, got {type(prediction).__name__}"
    )


def parse_claim(claimed) -> dict | None:
    """Normalise a claimed location: ``(lat, lon)`` degrees, a country code/name, or a dict with lat/lon
    or country.

    Returns ``{'lat', 'lon', 'country', 'label', 'source'}``; a country claim gets the country's
    centre as lat/lon. ``ValueError`` for an unknown country or a malformed claim.

    >>> parse_claim("Italy")["country"], parse_claim({"country": "FR", "label": "Paris"})["label"]
    ('IT', 'Paris')
    """
    if claimed is None:
        return None
    if isinstance(claimed, dict):
        lat, lon = claimed.get("lat"), claimed.get("lon")
        label = claimed.get("label")
        if claimed.get("country"):
            cc = groups.resolve_country(claimed["country"])
        elif lat is not None and lon is not None:
            cc = groups.gps_to_country(lat, lon)
        else:
            raise ValueError("a claimed location dict needs 'lat' and 'lon' or 'country'")
        source = claimed.get("source", "user")
    elif isinstance(claimed, (tuple, list)) and len(claimed) == 2:
        lat, lon = float(claimed[0]), float(claimed[1])
        cc, label, source = groups.gps_to_country(lat, lon), None, "user"
    elif isinstance(claimed, str):
        cc, lat, lon, label, source = groups.resolve_country(claimed), None, None, None, "user"
    else:
        raise ValueError(
            "claimed must be (lat, lon), a country code/name or a dict; got " + type(claimed).__name__
        )
    if lat is None or lon is None:
        lat, lon = groups.country_info(cc)["latlng"]
    return {
        "lat": float(lat),
        "lon": float(lon),
        "country": cc,
        "label": label or groups.country_name(cc),
        "source": source,
    }


def claim_from_exif(image) -> dict | None:
    """Claimed location from the image's EXIF GPS (``None`` when the image has none).

    >>> import numpy as np
    >>> claim_from_exif(np.zeros((8, 8, 3), np.uint8)) is None
    True
    """
    from toolkit.geo.image import exif_gps

    gps = exif_gps(image)
    if gps is None:
        return None
    return parse_claim({"lat": gps[0], "lon": gps[1], "source": "exif", "label": "EXIF GPS"})


def consistency(prediction, claimed, k: int = 5) -> dict:
    """Is the claimed country's class among the top-``k`` predicted classes?

    Returns ``{'claimed_country', 'claimed_class', 'rank', 'probability', 'k', 'consistent'}``;
    ``rank`` is the claimed class's rank among all classes when known.

    >>> import numpy as np
    >>> from toolkit.geo.country import analyze, build_model
    >>> pred = analyze(np.zeros((300, 400, 3), np.uint8), build_model("tiny"))
    >>> c = consistency(pred, "VA", k=61)
    >>> c["claimed_class"], c["consistent"]
    ('Italy', True)
    """
    claim = parse_claim(claimed)
    if claim is None:
        raise ValueError("no claimed location to check")
    cls = groups.country_to_group()[claim["country"]]
    full = prediction.attrs.get("prediction") if hasattr(prediction, "attrs") else prediction
    rank, prob = None, None
    if hasattr(full, "ranking"):
        order = [full.class_names[i] for i in full.ranking()]
        if cls in order:
            rank = order.index(cls) + 1
            prob = float(full.probabilities[full.class_names.index(cls)])
    else:
        for r, name, _codes, p in _prediction_rows(prediction, None):
            if name == cls:
                rank, prob = r, p
    return {
        "claimed_country": claim["country"],
        "claimed_class": cls,
        "rank": rank,
        "probability": prob,
        "k": int(k),
        "consistent": rank is not None and rank <= k,
        "claim": claim,
    }


def world_layer(name: str = "countries"):
    """Light grey outlines of every country (offline GeoJSON) as a folium layer.

    >>> type(world_layer()).__name__
    'GeoJson'
    """
    import folium

    return folium.GeoJson(
        groups.countries_geojson(),
        name=name,
        control=False,
        style_function=lambda f: {
            "fillColor": "#f2f2f2",
            "color": "#bbbbbb",
            "weight": 0.5,
            "fillOpacity": 1.0,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    )


def topk_map(
    prediction,
    claimed=None,
    *,
    k: int | None = None,
    tiles: str | None = None,
    image=None,
    zoom_start: int = 2,
) -> folium.Map:  # noqa: F821
    """Folium map with the top-``k`` classes' countries filled by probability.

    Parameters
    ----------
    prediction : :class:`toolkit.geo.country.CountryPrediction` or a ``country.predict`` table.
    claimed : optional claimed location: ``(lat, lon)`` degrees, a country code/name, or a dict;
        when ``None`` and ``image`` is given, the image's EXIF GPS is used if present.
    k : number of classes to draw (default: all rows of a table, else the prediction's ``k``).
    tiles : a folium tile name (e.g. "OpenStreetMap") or ``None`` (outlines only). Leaflet is
        inlined either way (:func:`offline`), so the polygons show without a network.

    The map carries ``m.geo_verdict`` (see :func:`consistency`, ``None`` without claim) and
    ``m.geo_filled`` (ISO codes filled, with their class and probability).
    """
    import branca.colormap as cm
    import folium

    if k is not None and k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rows = _prediction_rows(prediction, k)
    if claimed is None and image is not None and isinstance(image, (str, os.PathLike, bytes)):
        claimed = claim_from_exif(image)
    m = offline(folium.Map(location=[25, 10], zoom_start=zoom_start, tiles=tiles, world_copy_jump=True))
    world_layer().add_to(m)
    vmax = max((p for *_, p in rows), default=1.0) or 1.0
    cmap = cm.LinearColormap(
        ["#fff5b8", "#fd8d3c", "#bd0026"], vmin=0.0, vmax=vmax, caption="class probability"
    )
    gj = groups.countries_geojson()
    by_code = {f["id"]: f for f in gj["features"]}
    feats, filled, dots = [], {}, []
    for rank, cls, codes, p in rows:
        names = ", ".join(groups.country_name(c) for c in codes)
        for c in codes:
            props = {
                "iso2": c,
                "name": groups.country_name(c),
                "class": cls,
                "rank": rank,
                "probability": round(p, 4),
                "countries": names,
                "color": cmap(p),
            }
            filled[c] = {"class": cls, "rank": rank, "probability": p}
            if c in by_code:
                f = copy.deepcopy(by_code[c])
                f["properties"] = props
                feats.append(f)
            else:
                dots.append(props)
    if feats:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": feats},
            name="top-k classes",
            style_function=lambda f: {
                "fillColor": f["properties"]["color"],
                "color": "#444444",
                "weight": 0.8,
                "fillOpacity": 0.85,
            },
            popup=folium.GeoJsonPopup(
                fields=["class", "rank", "probability", "countries"],
                aliases=["class", "rank", "probability", "member countries"],
            ),
            tooltip=folium.GeoJsonTooltip(fields=["name", "class", "probability"]),
        ).add_to(m)
    for d in dots:  # small countries without an outline in the offline data: circles
        lat, lon = groups.country_info(d["iso2"])["latlng"]
        folium.CircleMarker(
            [lat, lon],
            radius=6,
            color="#444444",
            weight=1,
            fill=True,
            fill_color=d["color"],
            fill_opacity=0.9,
            popup=folium.Popup(
                f"<b>{html.escape(d['name'])}</b><br>class {html.escape(d['class'])} (rank {d['rank']})<br>"
                f"p = {d['probability']:.4f}<br>{html.escape(d['countries'])}",
                max_width=300,
            ),
        ).add_to(m)
    # branca's own legend (cmap.add_to) draws with d3 from a CDN; its SVG rendering needs nothing
    cmap.width = 300
    m.get_root().html.add_child(
        folium.Element(
            "<div style='position:fixed;bottom:12px;left:12px;z-index:1000;background:rgba(255,255,255,.85);"
            f"padding:4px 8px;font:12px sans-serif'>{cmap._repr_html_()}</div>"
        )
    )
    verdict = None
    if claimed is not None:
        verdict = consistency(prediction, claimed, k=k or len(rows))
        claim = verdict["claim"]
        ok = verdict["consistent"]
        rank_txt = f"rank {verdict['rank']}" if verdict["rank"] else "not ranked"
        esc = html.escape
        text = (
            f"<b>Claimed: {esc(str(claim['label']))}</b> ({esc(str(claim['source']))})<br>"
            f"{claim['lat']:.4f}, {claim['lon']:.4f}<br>country {esc(groups.country_name(claim['country']))}"
            f" -> class {esc(verdict['claimed_class'])} ({rank_txt})<br>"
            f"<b>{'CONSISTENT' if ok else 'NOT consistent'}</b> with the top-{verdict['k']}"
        )
        colour = "#1a9641" if ok else "#d7191c"
        folium.CircleMarker(
            [claim["lat"], claim["lon"]],
            radius=9,
            color="#ffffff",
            weight=3,
            fill=True,
            fill_color=colour,
            fill_opacity=1.0,
            popup=folium.Popup(text, max_width=320),
            tooltip="claimed location",
        ).add_to(m)
    m.geo_verdict = verdict
    m.geo_filled = filled
    return m
