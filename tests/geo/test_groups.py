import json

import pytest

from toolkit.geo import build_groups, groups


def test_every_country_mapped_once_into_61_classes():
    c2g = groups.country_to_group()
    members = groups.class_members()
    flat = [c for m in members.values() for c in m]
    assert len(flat) == len(set(flat))  # no country in two classes
    assert set(flat) == set(c2g)
    assert len(set(c2g.values())) == 61
    assert len(groups.class_names()) == 61
    assert len(c2g) >= 243  # the seed's 243 countries (countryinfo ships 249 ISO entries)


def test_seed_named_groups():
    c2g = groups.country_to_group()
    assert c2g["VA"] == c2g["IT"] == c2g["SM"] == c2g["MT"] == "Italy"
    assert c2g["EG"] == c2g["SD"]
    assert c2g["GI"] == c2g["AD"] == c2g["ES"]
    assert c2g["MC"] == c2g["FR"]
    assert groups.class_members()["United States"] == ["US"]
    assert groups.class_members()["United Arab Emirates"] == ["AE"]


def test_build_is_reproducible(tmp_path):
    build_groups.main(["--out", str(tmp_path)])
    new = json.loads((tmp_path / "country_groups.json").read_text())
    old = json.loads((groups.DATA_DIR / "country_groups.json").read_text())
    assert new["classes"] == old["classes"]
    gj = json.loads((tmp_path / "countries.geojson").read_text())
    assert (tmp_path / "countries.geojson").stat().st_size < 3_000_000
    assert {"IT", "FR", "US", "CN"} <= {f["id"] for f in gj["features"]}


def test_resolve_country_and_errors():
    assert groups.resolve_country("it") == "IT"
    assert groups.resolve_country("FRA") == "FR"
    assert groups.resolve_country("Japan") == "JP"
    with pytest.raises(ValueError, match="unknown country"):
        groups.resolve_country("Atlantis")
    with pytest.raises(ValueError):
        groups.resolve_country("")


def test_gps_to_country_offline():
    assert groups.gps_to_country(41.9029, 12.4534) == "VA"  # St Peter's square
    assert groups.gps_to_country(48.8566, 2.3522) == "FR"
    assert groups.gps_to_country(35.68, 139.69) == "JP"
    with pytest.raises(ValueError, match="out of range"):
        groups.gps_to_country(95, 0)
