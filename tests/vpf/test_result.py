"""VPFResult is a toolkit.result.Result: verdict vocabulary, JSON, table, summary, frozen."""

from __future__ import annotations

import dataclasses
import json

import pytest

import toolkit.methods as methods
from toolkit._util import sha256_file
from toolkit.result import VERDICTS, Result
from toolkit.vpf import VPFResult, analyze

DOUBLE = "sample_data/double/double_mpeg2_h264.mp4"
SINGLE = "sample_data/single/single_h264.mp4"

#: keys of VPFResult.to_dict() before it became a Result (old callers read them)
OLD_KEYS = {
    "path", "sha256", "codec", "double_encoded", "vpf_value", "threshold", "previous_gop", "best_gop",
    "current_gop", "status", "reason", "mb_per_frame", "frame_types", "intra", "skip", "signal",
    "candidates", "fitness", "params",
}  # fmt: skip


@pytest.fixture(scope="module")
def double():
    return analyze(DOUBLE)


def test_is_a_frozen_result_with_the_decision(double):
    r = double
    assert isinstance(r, Result) and isinstance(r, VPFResult) and r.method == "vpf"
    assert (r.verdict, r.score, r.previous_gop) == ("double_encoded", r.vpf_value, 12)
    assert (
        r.verdict in VERDICTS
        and r.threshold >= 0
        and r.vpf_value > r.threshold
        and "every 12 frames" in r.reason
    )
    assert r.sha256 == sha256_file(DOUBLE) and r.path.endswith("double_mpeg2_h264.mp4")
    assert r.toolkit_version and r.params["min_gop"] == 6
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.status = "not_detected"
    # the registry runs the same analysis
    via = methods.run("vpf", DOUBLE)
    assert isinstance(via, VPFResult) and via.vpf_value == r.vpf_value


def test_verdict_follows_status_and_threshold(double, tmp_path):
    assert double.with_threshold(double.vpf_value + 1).verdict == "not_detected"
    assert double.with_threshold(double.vpf_value - 1).verdict == "double_encoded"
    single = analyze(SINGLE)
    assert single.verdict == "not_detected" and single.previous_gop is None
    from toolkit.synth import encode
    from toolkit.synth.sources import photo_sequence

    intra = encode(photo_sequence("coffee", 20, (64, 64), seed=0), tmp_path / "i.mp4", gop=1, quality=24)
    r = analyze(intra)
    assert r.verdict == "inconclusive" and r.double_encoded is None and r.reason
    assert r.decision()["verdict"] == "inconclusive" and r.reason in r.summary()


def test_json_round_trip_and_old_keys(double):
    d = double.to_dict()
    assert json.loads(double.to_json()) == d
    assert set(d) >= OLD_KEYS | {"method", "verdict", "score", "toolkit_version", "i_curve", "s_curve"}
    assert d["method"] == "vpf" and d["verdict"] == "double_encoded" and d["score"] == double.vpf_value
    assert d["previous_gop"] == 12 and d["double_encoded"] is True
    assert d["frame_types"] == "".join(double.frame_types) and d["frame_types"].startswith("IPP")
    assert len(d["signal"]) == double.n_frames and d["n_frames"] == 150
    assert all(f is None or isinstance(f, float) for f in d["fitness"])  # -inf -> None


def test_table_has_the_seed_rows_and_no_index_header(double):
    t = double.table()
    assert t.index.name is None and list(t.columns) == ["value"]
    assert list(t.index[:4]) == [
        "Double encoding detected",
        "Value of VPF",
        "Threshold",
        "Estimated previous GOP size",
    ]
    assert t.loc["Estimated previous GOP size", "value"] == 12
    html = t.to_html()
    assert "<th>field</th>" not in html and html.count("<tr") == len(t) + 1  # one header row


def test_summary_names_the_previous_gop_and_html_renders(double):
    s = double.summary()
    assert "\n" not in s and s.startswith("vpf on double_mpeg2_h264.mp4: double_encoded")
    assert "previous GOP 12" in s and f"{double.vpf_value:.4g}" in s
    single = analyze(SINGLE).summary()
    assert "not_detected" in single and "previous GOP" not in single and "current GOP 33" in single
    html = double._repr_html_()
    assert "previous GOP 12" in html and "Estimated previous GOP size" in html
