"""CountryPrediction and CityVerification are toolkit Results (contract of issue 16)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from toolkit._util import sha256_file
from toolkit.geo import city, country, groups
from toolkit.result import VERDICTS, Result

from .helpers import make_prediction


@pytest.fixture()
def image_file(tmp_path, rgb_image):
    f = tmp_path / "q.png"
    Image.fromarray(rgb_image).save(f)
    return f


def test_predict_returns_a_frozen_result_with_k(image_file, tiny_country_model):
    r = country.predict(image_file, k=4, model=tiny_country_model)
    assert isinstance(r, country.CountryPrediction) and isinstance(r, Result)
    assert r.method == "geo.country" and r.k == 4 and r.params["k"] == 4
    assert r.sha256 == sha256_file(image_file) and r.path == str(image_file)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.k = 3
    assert r.params["model"] == "in-memory model" and len(r.params["model_sha256"]) == 64
    # the table is the ranked top-k, the old DataFrame interface still answers
    t = r.table()
    assert isinstance(t, pd.DataFrame) and list(t["rank"]) == [1, 2, 3, 4]
    assert len(r) == 4 and list(r["class"]) == list(t["class"]) and r.attrs["prediction"] is r
    assert r.iloc[0]["class"] == r.topk(1)[0] == t.iloc[0]["class"]
    d = r.to_dict()
    assert json.loads(r.to_json()) == d and d["top"] == list(t["class"]) and d["verdict"] is None
    assert d["claim_check"] is None and d["params"]["k"] == 4
    s = r.summary()
    assert "\n" not in s and t.iloc[0]["class"] in s and f"{t.iloc[0]['probability']:.3f}" in s
    m = r.plot()
    assert type(m).__module__.startswith("folium")
    assert {v["class"] for v in m.geo_filled.values()} == set(t["class"])
    assert "<table" in r._repr_html_()


def test_same_weights_give_the_same_model_hash(tiny_country_model, rgb_image):
    from toolkit.geo._common import state_dict_sha256

    other = country.build_model("tiny", seed=1)
    assert state_dict_sha256(other) != state_dict_sha256(tiny_country_model)
    a = country.predict(rgb_image, model=tiny_country_model).params["model_sha256"]
    assert a == state_dict_sha256(country.build_model("tiny", seed=0))
    demo = country.predict(rgb_image, k=2)  # the shipped model: its registry name and file hash
    from toolkit import weights

    assert demo.params["model"] == "geo/country_demo"
    assert demo.params["model_sha256"] == weights.spec("geo/country_demo").sha256


def test_claimed_country_is_checked_honestly():
    pred = make_prediction({"Italy": 0.5, "France": 0.2, "Spain": 0.1})
    ok = dataclasses.replace(pred, k=2, claimed="VA")
    assert ok.claim_check["claimed_class"] == "Italy" and ok.claim_check["rank"] == 1
    assert ok.claim_check["consistent"] and "within the top-2" in ok.summary()
    bad = dataclasses.replace(pred, k=2, claimed="ES")
    assert bad.claim_check["rank"] == 3 and not bad.claim_check["consistent"]
    assert "outside the top-2" in bad.summary()
    assert bad.decision()["verdict"] is None  # a ranking is evidence, not a verdict
    assert bad.plot().geo_verdict["consistent"] is False
    d = bad.to_dict()
    assert d["claimed"]["country"] == "ES" and d["claim_check"]["rank"] == 3
    with pytest.raises(ValueError, match="unknown country"):
        dataclasses.replace(pred, claimed="Atlantis")
    with pytest.raises(ValueError, match="k must be"):
        dataclasses.replace(pred, k=0)
    with pytest.raises(ValueError, match="k must be"):
        pred.table(62)


def test_with_fusion_refuses_without_crops_and_matches_analyze(tiny_country_model, rgb_image):
    mean = country.analyze(rgb_image, tiny_country_model)
    mx = mean.with_fusion("max")
    direct = country.analyze(rgb_image, tiny_country_model, fusion="max")
    np.testing.assert_allclose(mx.probabilities, direct.probabilities, rtol=1e-6)
    assert mx.fusion == "max" and mx.params["fusion"] == "max" and mean.fusion == "mean"
    with pytest.raises(ValueError, match="resize"):
        mean.with_fusion("resize")
    rs = country.analyze(rgb_image, tiny_country_model, fusion="resize")
    with pytest.raises(ValueError):
        rs.with_fusion("mean")


def test_predict_claim_argument(tiny_country_model, rgb_image):
    pred = country.predict(rgb_image, k=61, model=tiny_country_model, claimed=(41.9029, 12.4534))
    assert pred.claim_check["claimed_class"] == "Italy" and pred.claim_check["consistent"]
    assert pred.params["claimed"] == [41.9029, 12.4534] and pred.path is None


def _refs(tmp_path, rgb_image):
    files = []
    for i, view in enumerate([rgb_image, rgb_image[:, ::-1], rgb_image[::-1]]):
        f = tmp_path / f"ref{i}.png"
        Image.fromarray(np.ascontiguousarray(view)).save(f)
        files.append(f)
    return files


def test_city_verification_is_a_deciding_result(tmp_path, image_file, rgb_image, tiny_siamese):
    refs = _refs(tmp_path, rgb_image)
    r = city.verify(image_file, refs, model=tiny_siamese)
    assert isinstance(r, Result) and r.method == "geo.city" and r.sha256 == sha256_file(image_file)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.verified = True
    assert r.verdict in VERDICTS and r.threshold == 0.5
    assert r.score == pytest.approx(np.mean(r.p_different))  # unweighted: the mean P(different)
    assert r.verdict == ("not_detected" if r.verified else "different_city")
    assert r.verdict == ("different_city" if r.score > 0.5 else "not_detected")
    assert [x["sha256"] for x in r.references] == [sha256_file(f) for f in refs]
    assert list(r.table()["file"]) == ["ref0.png", "ref1.png", "ref2.png"]
    assert r.params["siamese"] == "in-memory model" and len(r.params["siamese_sha256"]) == 64
    d = r.to_dict()
    assert json.loads(r.to_json()) == d and d["verdict"] == r.verdict and d["score"] == r.score
    assert d["stage"] == "siamese" and len(d["p_different"]) == 3
    s = r.summary()
    assert "\n" not in s and r.verdict in s and "3 reference pairs" in s
    assert type(r.plot()).__module__.startswith("plotly") and "<table" in r._repr_html_()


def test_verdicts_follow_the_vote():
    same = city.CityVerification(True, "siamese", None, np.array([0.1, 0.2]), np.ones(2), [1.7, 0.3])
    diff = city.CityVerification(False, "siamese", None, np.array([0.9, 0.8]), np.ones(2), [0.3, 1.7])
    assert (same.verdict, diff.verdict) == ("not_detected", "different_city")
    assert diff.score == pytest.approx(0.85) and "different city" in diff.reason
    none = city.CityVerification(True, "siamese", None, np.array([0.9]), np.zeros(1), [0.0, 0.0])
    assert none.verdict == "inconclusive" and none.score is None and "weight" in none.reason
    with pytest.raises(ValueError, match="stage"):
        city.CityVerification(True, "vote")


def test_country_gate_failure_is_inconclusive_with_a_reason(rgb_image, tiny_siamese, tiny_country_model):
    pred = country.analyze(rgb_image, tiny_country_model)
    last = groups.class_members()[pred.topk(61)[-1]][0]
    r = city.verify(
        rgb_image, [rgb_image], model=tiny_siamese, claimed_country=last, country_model=tiny_country_model
    )
    assert r.stage == "country_gate" and not r.verified
    assert r.verdict == "inconclusive" and r.score is None and "country gate" in r.reason
    assert r.decision()["reason"] == r.reason and "inconclusive" in r.summary()
    assert r.country_prediction is not None and r.country_prediction.topk(2) == r.gate["top"]
    d = r.to_dict()
    assert json.loads(r.to_json()) == d and d["country_prediction"]["method"] == "geo.country"
    assert len(r.table()) == 0 and r.plot() is not None


def test_references_as_folder_or_array(tmp_path, rgb_image, tiny_siamese):
    (tmp_path / "refs").mkdir()
    files = _refs(tmp_path / "refs", rgb_image)
    a = city.verify(rgb_image, tmp_path / "refs", model=tiny_siamese)
    b = city.verify(rgb_image, [str(f) for f in files], model=tiny_siamese)
    np.testing.assert_allclose(a.p_different, b.p_different)
    c = city.verify(rgb_image, np.stack([rgb_image] * 2), model=tiny_siamese)
    assert c.p_different.shape == (2,) and c.references[0]["path"] is None
    with pytest.raises(ValueError, match="list of images"):
        city.verify(rgb_image, files[0], model=tiny_siamese)
    with pytest.raises(ValueError, match="list of images"):
        city.verify(rgb_image, rgb_image, model=tiny_siamese)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        city.verify(rgb_image, tmp_path / "empty", model=tiny_siamese)
    with pytest.raises(FileNotFoundError):
        city.verify(tmp_path / "missing.png", files, model=tiny_siamese)
