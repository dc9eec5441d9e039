"""A damaged stream in a case: named on the file's record, in the summary and in the exhibit;
the methods that need an intact stream (VPF, FOCAL temporal) are inconclusive there."""

from __future__ import annotations

import json

import pytest

from tests.fuzz.test_video_inputs import _corrupt
from toolkit.case import CaseReport, analyze, analyze_file, validate
from toolkit.synth import encode
from toolkit.synth.sources import photo_sequence

METHODS = ["video.macroblocks", "vpf", "focal.temporal"]
PARAMS = {"focal.temporal": {"count": 40, "stride": 32}}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("case_damage")
    frames = photo_sequence("coffee", n_frames=40, size=(96, 128), seed=3)
    intact = encode(frames, d / "intact.mp4", codec="h264", quality=24, gop=10)
    bad = d / "bad"
    bad.mkdir()
    return {"intact": intact, "corrupt": _corrupt(intact, bad / "corrupt.mp4")}


def test_a_corrupt_clip_is_named_damaged_and_its_stream_methods_are_inconclusive(clips):
    rec = analyze_file(clips["corrupt"], methods=METHODS, params=PARAMS)
    assert rec.status == "analysed" and rec.custody["unchanged"]
    assert rec.damage and any("failed to decode" in d or "corrupt" in d for d in rec.damage)
    for name in ("vpf", "focal.temporal"):
        m = rec.method(name)
        assert m.status == "ok" and m.verdict == "inconclusive", (name, m.verdict, m.reason)
        assert "damaged" in m.reason
    assert rec.method("focal.temporal").data["params"]["decode"]["complete"] is False
    assert rec.to_dict()["damage"] == list(rec.damage)


def test_an_intact_clip_has_no_damage_and_temporal_decides(clips):
    rec = analyze_file(clips["intact"], methods=METHODS, params=PARAMS)
    assert rec.damage == ()
    t = rec.method("focal.temporal")
    assert t.verdict in ("forged", "not_detected") and t.data["params"]["decode"]["complete"] is True


def test_the_report_counts_shows_and_validates_the_damage(clips):
    report = analyze(clips["intact"].parent, methods=METHODS, params=PARAMS, progress=False)
    assert isinstance(report, CaseReport) and report.counts()["damaged"] == 1
    by_name = {r.relpath: r for r in report.files}
    assert by_name["bad/corrupt.mp4"].damage and not by_name["intact.mp4"].damage
    page = report._repr_html_()
    assert "1 file(s) with a damaged stream" in page and page.count("Stream damaged:") == 1
    data = json.loads(report.to_json())
    validate(data)
    assert data["summary"]["damaged"] == 1
