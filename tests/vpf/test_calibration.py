"""The shipped threshold: provenance present and consistent with the recorded scores."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.metrics import threshold_at_fpr
from toolkit.vpf import ACQUISITIONS, default_acquisition, default_threshold, threshold_provenance
from toolkit.vpf.calibrate import calibrate, choose
from toolkit.vpf.dataset import make_specs


def test_threshold_file_has_provenance_and_matches_its_scores():
    rec = threshold_provenance()
    for key in (
        "threshold",
        "target_fpr",
        "n_videos",
        "data",
        "date",
        "command",
        "rule",
        "score_quantiles",
        "measured_fpr_on_calibration_set",
    ):
        assert key in rec, key
    assert rec["command"].startswith("python -m toolkit.vpf.calibrate")
    scores = np.array(rec["scores_no_b"] + rec["scores_b"])
    assert len(scores) == rec["n_videos"] >= 40
    assert default_threshold() == pytest.approx(threshold_at_fpr(scores, rec["target_fpr"]))
    assert (scores > default_threshold()).mean() <= rec["target_fpr"]


def test_per_stream_thresholds_and_acquisitions_match_their_own_negatives():
    rec = threshold_provenance()
    if "by_stream" not in rec:
        pytest.skip("threshold.json predates the per-stream calibration")
    fpr = rec["target_fpr"]
    for kind, key, has_b in (("no_bframes", "scores_no_b", False), ("bframes", "scores_b", True)):
        s = np.array(rec[key])
        assert len(s) >= 20, kind
        assert rec["by_stream"][kind] == pytest.approx(threshold_at_fpr(s, fpr))
        assert default_threshold(has_b=has_b) == pytest.approx(rec["by_stream"][kind])
        assert (s > rec["by_stream"][kind]).mean() <= fpr
        assert rec["acquisition"][kind] in ACQUISITIONS
        assert default_acquisition(has_b=has_b) == rec["acquisition"][kind]
        # the shipped acquisition is the one with the higher TPR on the calibration positives
        per = rec["by_stream_detail"][kind]["per_acquisition"]
        best = rec["acquisition"][kind]
        assert all(per[best]["tpr"] >= per[a]["tpr"] for a in per)


def test_choose_prefers_the_acquisition_that_keeps_more_positives():
    rows = [dict(label=0, has_b=True, vpf_skip=s, vpf_zero_mv=s) for s in np.linspace(0, 1, 40)]
    rows += [dict(label=1, has_b=True, vpf_skip=0.5, vpf_zero_mv=2.0) for _ in range(5)]
    c = choose(rows, fpr=0.03)
    assert set(c) == {"bframes"}  # no negatives without B-frames: no such kind
    assert c["bframes"]["acquisition"] == "zero_mv"
    assert c["bframes"]["per_acquisition"]["zero_mv"]["tpr"] == 1.0
    assert c["bframes"]["per_acquisition"]["skip"]["tpr"] == 0.0
    assert c["bframes"]["per_acquisition"]["skip"]["fpr"] <= 0.03


def test_calibration_runs_end_to_end_small(tmp_path):
    rec = calibrate(
        n_pos=1,
        n_neg=1,
        n_frames=40,
        work=str(tmp_path),
        write=False,
        progress=False,
        groups=("h264_qp", "h264_fixed_b"),
        size=(64, 64),
        sources=["photo:coffee:pan:1"],
    )
    assert rec["n_videos"] == 2
    assert rec["threshold"] == max(rec["scores_no_b"] + rec["scores_b"])
    assert set(rec["by_stream"]) == {"no_bframes", "bframes"}
    assert rec["by_stream"]["no_bframes"] == rec["scores_no_b"][0]
    assert set(rec["acquisition"].values()) <= set(ACQUISITIONS)
    with pytest.raises(ValueError):
        calibrate(n_neg=0, write=False)


def test_specs_respect_the_benchmark_design():
    specs = make_specs(30, 5, seed=3, bframes=2, sources=["photo:coffee:pan:1"])
    pos = [s for s in specs if s["label"] == 1]
    assert {s["first"]["codec"] for s in pos} == {"mpeg2", "mpeg4", "h264"}
    for s in pos:
        g1, g2 = s["first"]["gop"], s["second"]["gop"]
        assert 10 <= g1 <= 50 and g1 != g2 and g2 % g1 and g1 % g2
        assert s["second"]["bframes"] == 2 and s["second"]["codec"] == "h264"
    assert all(s["first"] is None for s in specs if s["label"] == 0)
