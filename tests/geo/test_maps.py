import json
import re

import numpy as np
import pytest
from PIL import Image

from toolkit.geo import groups, maps
from toolkit.geo.image import exif_gps

from .helpers import make_prediction


@pytest.fixture()
def pred():
    return make_prediction({"Italy": 0.5, "France": 0.2, "Spain": 0.1})


def _geojson_features(html: str):
    feats = []
    # folium embeds each GeoJson layer as a JSON object; pull every Feature's properties
    for m in re.finditer(r'"properties": ?(\{[^{}]*\})', html):
        try:
            feats.append(json.loads(m.group(1)))
        except json.JSONDecodeError:
            continue
    return feats


def test_map_fills_topk_countries_offline(tmp_path, pred):
    m = maps.topk_map(pred, k=3)
    expected = set(
        groups.class_members()["Italy"] + groups.class_members()["France"] + groups.class_members()["Spain"]
    )
    assert set(m.geo_filled) == expected
    assert m.geo_filled["VA"]["class"] == "Italy" and m.geo_filled["VA"]["rank"] == 1
    out = tmp_path / "map.html"
    m.save(str(out))
    html = out.read_text()
    props = [p for p in _geojson_features(html) if "class" in p]
    filled = {p["iso2"]: p for p in props}
    # outlines exist for these; tiny members without outline (e.g. GI, VA) are drawn as circles
    assert {"IT", "FR", "ES"} <= set(filled)
    assert set(filled) <= expected
    assert filled["IT"]["probability"] == pytest.approx(0.5)
    assert filled["IT"]["color"] != filled["ES"]["color"]  # filled by probability
    assert "tile.openstreetmap" not in html  # no tile server by default


def test_map_from_predict_table_and_k(pred):
    t = pred.table(2)
    m = maps.topk_map(t)
    assert set(m.geo_filled) == set(groups.class_members()["Italy"] + groups.class_members()["France"])
    with pytest.raises(ValueError, match="k must be"):
        maps.topk_map(pred, k=0)
    with pytest.raises(ValueError):
        maps.topk_map("not a prediction")


def test_claimed_location_verdict(pred):
    m = maps.topk_map(pred, claimed=(41.9029, 12.4534), k=3)  # Vatican
    v = m.geo_verdict
    assert v["claimed_country"] == "VA" and v["claimed_class"] == "Italy"
    assert v["rank"] == 1 and v["consistent"]
    v2 = maps.consistency(pred, "Japan", k=3)
    assert not v2["consistent"] and v2["rank"] > 3
    v3 = maps.consistency(pred, "ES", k=2)
    assert v3["rank"] == 3 and not v3["consistent"]
    assert maps.consistency(pred, "ES", k=3)["consistent"]
    html = m.get_root().render()
    assert "CONSISTENT" in html and "claimed location" in html
    assert maps.topk_map(pred, claimed=None).geo_verdict is None


def _jpeg_with_gps(path, lat, lon):
    img = Image.fromarray(np.zeros((64, 64, 3), np.uint8))
    exif = Image.Exif()
    gps = {
        1: "N" if lat >= 0 else "S",
        2: (abs(int(lat)), int(abs(lat) % 1 * 60), 0.0),
        3: "E" if lon >= 0 else "W",
        4: (abs(int(lon)), int(abs(lon) % 1 * 60), 0.0),
    }
    exif[0x8825] = gps
    img.save(path, exif=exif)


def test_exif_gps_claim(tmp_path, pred):
    f = tmp_path / "gps.jpg"
    _jpeg_with_gps(f, 35.5, -0.5)  # 35 deg 30' N, 0 deg 30' W  (Algeria coast)
    lat, lon = exif_gps(f)
    assert lat == pytest.approx(35.5) and lon == pytest.approx(-0.5)
    claim = maps.claim_from_exif(f)
    assert claim["source"] == "exif"
    m = maps.topk_map(pred, image=f, k=3)
    assert m.geo_verdict is not None and m.geo_verdict["claimed_country"] == groups.gps_to_country(35.5, -0.5)
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "nogps.jpg")
    assert exif_gps(tmp_path / "nogps.jpg") is None
    assert maps.topk_map(pred, image=tmp_path / "nogps.jpg").geo_verdict is None
