"""The method contract, checked for every method in the registry on sample_data.

For each registered method: the result is a frozen ``toolkit.result.Result``
whose ``sha256`` is the input file's, whose JSON round-trips, which draws a
figure, renders as HTML, summarises itself in one line and tabulates; a
deciding method's verdict is in the fixed vocabulary; bad input gives the
shared typed errors.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

import toolkit.methods as methods
from toolkit._util import sha256_file
from toolkit.result import VERDICTS, Result
from toolkit.video import VideoReadError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def _image() -> Path:
    found = sorted((SAMPLE / "images").glob("*.png"))
    assert found, "sample_data/images/ holds the sample photo the image methods are checked on"
    return found[0]


#: registry name -> (sample input, small parameters that keep the run quick)
CASES = {
    "video.macroblocks": (lambda: SAMPLE / "single" / "single_h264.mp4", {"max_frames": 20}),
    "vpf": (lambda: SAMPLE / "double" / "double_mpeg2_h264.mp4", {}),
    "focal.classify": (lambda: SAMPLE / "single" / "single_h264.mp4", {"count": 2, "stride": 32}),
    "focal.temporal": (lambda: SAMPLE / "temporal" / "temporal_splice.mp4", {"count": 8, "stride": 64}),
    "focal.spatial": (lambda: SAMPLE / "spatial" / "spatial_splice.mp4", {"frames": [0], "stride": 32}),
    "residual.heatmap": (_image, {"stride": 64}),
    "fsvm": (lambda: SAMPLE / "single" / "single_h264.mp4", {}),
    "framecls": (lambda: SAMPLE / "single" / "single_h264.mp4", {"max_frames": 8}),
    "ldptop": (lambda: SAMPLE / "single" / "single_h264.mp4", {"max_windows": 1}),
    "geo.country": (_image, {}),
    "geo.city": (_image, {"references": "self"}),
    "faces": (_image, {}),
}


def _params(name: str, path: Path) -> dict:
    params = dict(CASES[name][1])
    if params.get("references") == "self":
        params["references"] = [path]
    return params


def test_every_registered_method_has_a_case():
    assert set(methods.names()) == set(CASES)


def test_registry_entries_are_complete():
    for name in methods.names():
        m = methods.get(name)
        assert m.name == name and m.seed.startswith("seed ") and m.citation and m.explanation
        assert m.input_kind in methods.INPUT_KINDS
        assert callable(m.function())
    with pytest.raises(ValueError, match="unknown method"):
        methods.get("no.such.method")


@pytest.fixture(scope="module")
def results():
    return {}


@pytest.mark.parametrize("name", list(CASES))
def test_contract(name, results):
    path = CASES[name][0]()
    entry = methods.get(name)
    ok, why = entry.applicable(methods.inspect(path))
    assert ok, why
    r = methods.run(name, path, **_params(name, path))
    assert isinstance(r, Result) and r.method == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.sha256 = "0" * 64
    assert r.sha256 == sha256_file(path)
    assert r.path and Path(r.path).resolve() == path.resolve()
    d = r.to_dict()
    assert json.loads(r.to_json()) == d
    assert d["sha256"] == r.sha256 and d["method"] == name and d["toolkit_version"]
    assert isinstance(d["params"], dict) and d["params"]
    fig = r.plot()
    if name.startswith("geo."):
        assert type(fig).__module__.startswith(("folium", "plotly"))
    else:
        assert type(fig).__module__.startswith("plotly")
    html = r._repr_html_()
    assert isinstance(html, str) and "<table" in html and len(html) > 200
    s = r.summary()
    assert isinstance(s, str) and s and "\n" not in s
    assert isinstance(r.table(), pd.DataFrame)
    dec = r.decision()
    assert dec["verdict"] is None or dec["verdict"] in VERDICTS
    if dec["verdict"] == "inconclusive":
        assert dec["reason"]
    if dec["verdict"] not in (None, "inconclusive"):
        assert dec["score"] is not None
    results[name] = r


@pytest.mark.parametrize("name", list(CASES))
def test_missing_file_is_a_file_not_found_error(name, tmp_path):
    with pytest.raises(FileNotFoundError):
        methods.run(name, tmp_path / "no_such_file.mp4", **_params(name, tmp_path / "x"))


@pytest.mark.parametrize("name", list(CASES))
def test_a_text_file_in_disguise_is_a_typed_error(name, tmp_path):
    kind = methods.get(name).input_kind
    fake = tmp_path / ("fake.mp4" if kind == "video" else "fake.png")
    fake.write_text("this is not media\n" * 20)
    before = sha256_file(fake)
    ok, why = methods.get(name).applicable(fake)
    assert not ok and why
    with pytest.raises(VideoReadError if kind == "video" else ValueError):
        methods.run(name, fake, **_params(name, fake))
    assert sha256_file(fake) == before


def test_applicable_says_why_not():
    video = SAMPLE / "single" / "single_h264.mp4"
    ok, why = methods.get("residual.heatmap").applicable(video)
    assert not ok and "image" in why
    ok, why = methods.get("vpf").applicable(_image())
    assert not ok and "video" in why
