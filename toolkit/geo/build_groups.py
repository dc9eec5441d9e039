"""Build the 61 country classes and the compact country polygons from offline data.

Run once (the outputs are committed)::

    python -m toolkit.geo.build_groups

Inputs: the per-country JSON files shipped by the PyPI package ``countryinfo``
(ISO codes, region, sub-region, land borders, coordinates, population and a
GeoJSON outline). Nothing is fetched from the network.

Outputs (in ``toolkit/geo/data/``):

* ``country_groups.json`` — every ISO 3166 alpha-2 code -> one of 61 classes,
  plus each country's name, region and centroid.
* ``countries.geojson`` — simplified country outlines (Douglas-Peucker via
  ``skimage.measure.approximate_polygon``), one Feature per ISO code that has
  an outline in ``countryinfo``; with ``--naturalearth WHEEL`` the countries
  that ``countryinfo`` ships without an outline (e.g. Hungary, Serbia, Myanmar)
  are filled from the public-domain Natural Earth 1:110m countries shipped
  inside the geopandas 0.14.4 wheel (``pip download --no-deps geopandas==0.14.4``;
  the committed file was built that way). Countries still without an outline
  (small islands) are drawn as circles by :mod:`toolkit.geo.maps`.

Grouping rule (seed 001, section 7.2.2: "balance the number of images in each
class; merge nearby, semantically similar countries"). The seed does not publish
its 243 -> 61 table nor the per-country image counts, so this script applies the
rule reproducibly:

1. the groups the seed names are fixed: {Italy, Vatican City, San Marino,
   Malta}, {Spain, Gibraltar, Andorra}, {France, Monaco}, {United Kingdom,
   Isle of Man, Guernsey, Jersey}, {Egypt, Sudan}; and the countries the seed
   shows as one-country classes stay alone (United States - the largest class -,
   United Arab Emirates - the smallest -, Japan, South Korea, China, Turkey,
   Belgium, Germany, Sweden, Austria, Portugal);
2. every other country starts as its own class, weighted by its population
   (a stand-in for the unknown image count), times 5 in Europe, Northern
   America, Eastern Asia and Australia/New Zealand, where the seed's map of
   images (Fig. 7.4) shows Flickr/Mapillary photos concentrate;
3. repeatedly, the lightest open class is merged into its nearest open class
   (distance between closest member centroids, halved for a shared land border,
   doubled across sub-regions, quadrupled across regions) until 61 remain.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np

N_CLASSES = 61
DATA_DIR = Path(__file__).resolve().parent / "data"

#: groups named in the seed (Fig. 7.9/7.11 and section 7.2.2)
FIXED_GROUPS = {
    "Italy": ["IT", "VA", "SM", "MT"],
    "Spain": ["ES", "GI", "AD"],
    "France": ["FR", "MC"],
    "United Kingdom": ["GB", "IM", "GG", "JE"],
    "Egypt": ["EG", "SD"],
}
#: countries shown as one-country classes in the seed's examples
SINGLETONS = ["US", "AE", "JP", "KR", "CN", "TR", "BE", "DE", "SE", "AT", "PT"]
#: obsolete codes shipped by countryinfo (replaced by current ISO entries)
OBSOLETE = {"AN", "CS"}
#: (lat, lon) for entries that countryinfo ships without coordinates (approximate
#: centres; written by hand because the package lacks them)
MISSING_LATLNG = {
    "CW": (12.17, -68.99),
    "BQ": (12.18, -68.24),
    "BV": (-54.42, 3.36),
    "MF": (18.07, -63.05),
    "SX": (18.04, -63.07),
    "TC": (21.69, -71.80),
    "UM": (19.28, 166.65),
    "VG": (18.42, -64.64),
    "VI": (18.34, -64.90),
    "AX": (60.18, 19.92),
    "BL": (17.90, -62.83),
    "PS": (31.95, 35.23),
    "AQ": (-82.86, 135.0),
}
#: the countryinfo file named british_virgin_islands.json holds the British Indian
#: Ocean Territory (IO); its name field is corrected here
NAME_FIX = {"IO": "British Indian Ocean Territory"}
#: image-density factor of the population proxy (see rule 2)
DENSE_FACTOR = 5.0
DENSE_SUBREGIONS = {"Northern America", "Eastern Asia", "Australia and New Zealand"}


def _parse(value):
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def load_countryinfo() -> dict[str, dict]:
    """ISO alpha-2 -> record (name, iso3, region, subregion, latlng, borders, population, geojson)."""
    import countryinfo

    folder = Path(countryinfo.__file__).resolve().parent / "data"
    out: dict[str, dict] = {}
    for f in sorted(folder.glob("*.json")):
        raw = json.loads(f.read_text(encoding="utf-8"))
        iso = _parse(raw.get("ISO")) or {}
        a2 = iso.get("alpha2") if isinstance(iso, dict) else None
        if not a2 or a2 in OBSOLETE:
            continue
        latlng = _parse(raw.get("latlng")) or MISSING_LATLNG.get(a2)
        geo = _parse(raw.get("geoJSON")) or None
        rec = {
            "name": NAME_FIX.get(a2, raw.get("name") or f.stem.replace("_", " ").title()),
            "iso3": iso.get("alpha3", ""),
            "region": raw.get("region") or "Antarctic",
            "subregion": raw.get("subregion") or "Antarctic",
            "latlng": [float(latlng[0]), float(latlng[1])] if latlng else None,
            "borders": list(_parse(raw.get("borders")) or []),
            "population": float(raw.get("population") or 0),
            "geojson": geo if geo else None,
        }
        old = out.get(a2)
        # duplicates (VA, CW, PS): keep the record with more information
        if (
            old is None
            or (old["geojson"] is None and rec["geojson"] is not None)
            or (old["latlng"] is None and rec["latlng"] is not None)
        ):
            out[a2] = rec
    for a2, rec in out.items():
        if rec["latlng"] is None:
            raise RuntimeError(f"no coordinates for {a2}; add it to MISSING_LATLNG")
    return out


def _haversine_km(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def build_groups(info: dict[str, dict], n_classes: int = N_CLASSES) -> dict[str, list[str]]:
    """Class name -> sorted ISO alpha-2 members, following the rule in the module docstring."""
    iso3_to_2 = {r["iso3"]: a2 for a2, r in info.items()}
    clusters: dict[str, dict] = {}
    taken = set()
    for name, members in FIXED_GROUPS.items():
        clusters[name] = {"members": list(members), "open": False}
        taken.update(members)
    for a2 in SINGLETONS:
        clusters[info[a2]["name"]] = {"members": [a2], "open": False}
        taken.add(a2)
    for a2 in sorted(info):
        if a2 not in taken:
            clusters[a2] = {"members": [a2], "open": True}

    def proxy(m):
        r = info[m]
        dense = r["region"] == "Europe" or r["subregion"] in DENSE_SUBREGIONS
        return max(r["population"], 1000.0) * (DENSE_FACTOR if dense else 1.0)

    def weight(c):
        return sum(proxy(m) for m in c["members"])

    def distance(c1, c2):
        best = math.inf
        for m1 in c1["members"]:
            r1 = info[m1]
            nb = {iso3_to_2.get(b) for b in r1["borders"]}
            for m2 in c2["members"]:
                r2 = info[m2]
                d = _haversine_km(r1["latlng"], r2["latlng"]) + 1.0
                if m2 in nb:
                    d *= 0.5
                if r1["region"] != r2["region"]:
                    d *= 4.0
                elif r1["subregion"] != r2["subregion"]:
                    d *= 2.0
                best = min(best, d)
        return best

    while len(clusters) > n_classes:
        open_keys = [k for k, c in clusters.items() if c["open"]]
        if len(open_keys) < 2:
            raise RuntimeError("cannot reach the requested number of classes")
        light = min(open_keys, key=lambda k: (weight(clusters[k]), k))
        others = [k for k in open_keys if k != light]
        near = min(others, key=lambda k: (distance(clusters[light], clusters[k]), k))
        clusters[near]["members"] += clusters.pop(light)["members"]
    groups = {}
    for key, c in clusters.items():
        members = sorted(c["members"], key=lambda m: -info[m]["population"])
        # a merged class is named after its most populous member
        name = key if not c["open"] else info[members[0]]["name"]
        groups[name] = sorted(c["members"])
    return dict(sorted(groups.items()))


def _simplify_ring(ring, tolerance: float):
    from skimage.measure import approximate_polygon

    arr = np.asarray(ring, dtype=float)
    if arr.ndim != 2 or len(arr) < 4:
        return None
    simple = approximate_polygon(arr, tolerance)
    if len(simple) < 4:  # tiny island/country: keep a coarse copy of the original
        simple = arr[:: max(1, len(arr) // 8)]
        if len(simple) < 4:
            return None
        simple = np.vstack([simple, simple[:1]])
    return np.round(simple, 3).tolist()


def _simplify_geometry(geom: dict, tolerance: float) -> dict | None:
    if geom["type"] == "Polygon":
        polys = [geom["coordinates"]]
    elif geom["type"] == "MultiPolygon":
        polys = geom["coordinates"]
    else:
        return None
    out = []
    for poly in polys:
        rings = [_simplify_ring(r, tolerance) for r in poly]
        if rings and rings[0] is not None:
            out.append([r for r in rings if r is not None])
    if not out:
        return None
    return {"type": "MultiPolygon", "coordinates": out}


def build_geojson(info: dict[str, dict], tolerance: float = 0.05) -> dict:
    """FeatureCollection of simplified outlines (id = ISO alpha-2)."""
    feats = []
    for a2, rec in sorted(info.items()):
        fc = rec["geojson"]
        if not fc:
            continue
        geoms = [f.get("geometry") for f in fc.get("features", []) if f.get("geometry")]
        coords = []
        for g in geoms:
            s = _simplify_geometry(g, tolerance)
            if s:
                coords += s["coordinates"]
        if coords:
            feats.append(
                {
                    "type": "Feature",
                    "id": a2,
                    "properties": {"iso2": a2, "name": rec["name"]},
                    "geometry": {"type": "MultiPolygon", "coordinates": coords},
                }
            )
    return {"type": "FeatureCollection", "features": feats}


def _read_shp_polygons(data: bytes) -> list[list[np.ndarray]]:
    """Polygon rings of each record of an ESRI shapefile (.shp bytes); None for null shapes.

    Hand-written (about 20 lines) so that rebuilding needs no GIS package.
    """
    import struct

    pos, out = 100, []
    while pos + 8 <= len(data):
        _, length = struct.unpack(">2i", data[pos : pos + 8])
        content = data[pos + 8 : pos + 8 + 2 * length]
        pos += 8 + 2 * length
        if struct.unpack("<i", content[:4])[0] != 5:  # not a polygon (0 = null shape)
            out.append(None)
            continue
        nparts, npts = struct.unpack("<2i", content[36:44])
        parts = list(struct.unpack(f"<{nparts}i", content[44 : 44 + 4 * nparts])) + [npts]
        start = 44 + 4 * nparts
        pts = np.frombuffer(content[start : start + 16 * npts], "<f8").reshape(-1, 2)
        out.append([pts[a:b] for a, b in zip(parts[:-1], parts[1:], strict=True)])
    return out


def _read_dbf(data: bytes) -> list[dict[str, str]]:
    """Records of a dBASE III table (.dbf bytes) as dicts of stripped strings."""
    import struct

    n, header_len, rec_len = struct.unpack("<IHH", data[4:12])
    fields, pos = [], 32
    while data[pos] != 0x0D:
        name = data[pos : pos + 11].split(b"\0")[0].decode("ascii")
        fields.append((name, data[pos + 16]))
        pos += 32
    rows = []
    for i in range(n):
        rec = data[header_len + i * rec_len : header_len + (i + 1) * rec_len]
        off, row = 1, {}
        for name, flen in fields:
            row[name] = rec[off : off + flen].decode("utf-8", "replace").strip()
            off += flen
        rows.append(row)
    return rows


def _ring_area(r: np.ndarray) -> float:
    x, y = r[:, 0], r[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def naturalearth_outlines(wheel: str | Path) -> dict[str, dict]:
    """ISO alpha-3 -> GeoJSON MultiPolygon from ``naturalearth_lowres`` inside a geopandas<1 wheel."""
    import zipfile

    base = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
    with zipfile.ZipFile(wheel) as z:
        shapes = _read_shp_polygons(z.read(base + ".shp"))
        table = _read_dbf(z.read(base + ".dbf"))
    out = {}
    for rings, row in zip(shapes, table, strict=True):
        iso3 = row.get("iso_a3", "")
        if not rings or not iso3 or iso3 == "-99":
            continue
        polys: list[list] = []
        for r in rings:
            if _ring_area(r) <= 0 or not polys:  # shapefile outer rings run clockwise
                polys.append([r.tolist()])
            else:  # counter-clockwise: a hole of the previous outer ring
                polys[-1].append(r.tolist())
        out[iso3] = {"type": "MultiPolygon", "coordinates": polys}
    return out


def main(argv: list[str] | None = None) -> None:
    """Write ``country_groups.json`` and ``countries.geojson`` into ``toolkit/geo/data``."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DATA_DIR))
    ap.add_argument("--tolerance", type=float, default=0.05, help="simplification tolerance in degrees")
    ap.add_argument("--naturalearth", help="geopandas-0.14.4 wheel: fill missing outlines from Natural Earth")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = load_countryinfo()
    groups = build_groups(info)
    if args.naturalearth:
        ne = naturalearth_outlines(args.naturalearth)
        for rec in info.values():
            if rec["geojson"] is None and rec["iso3"] in ne:
                rec["geojson"] = {"type": "FeatureCollection", "features": [{"geometry": ne[rec["iso3"]]}]}
    doc = {
        "source": "countryinfo (PyPI) per-country JSON; rule in toolkit/geo/build_groups.py",
        "n_countries": len(info),
        "n_classes": len(groups),
        "classes": groups,
        "countries": {
            a2: {k: info[a2][k] for k in ("name", "iso3", "region", "subregion", "latlng", "population")}
            for a2 in sorted(info)
        },
    }
    (out / "country_groups.json").write_text(
        json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    gj = build_geojson(info, args.tolerance)
    (out / "countries.geojson").write_text(json.dumps(gj, separators=(",", ":")), encoding="utf-8")
    print(f"{len(info)} countries -> {len(groups)} classes; {len(gj['features'])} outlines")


if __name__ == "__main__":
    main()
