"""The shipped threshold: provenance present and consistent with the recorded scores."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.metrics import threshold_at_fpr
from toolkit.vpf import default_threshold, threshold_provenance
from toolkit.vpf.calibrate import calibrate
from toolkit.vpf.dataset import make_specs


def test_threshold_file_has_provenance_and_matches_its_scores():
    rec = threshold_provenance()
    for key in ("threshold", "target_fpr", "n_videos", "data", "date", "command", "rule"):
        assert key in rec, key
    assert rec["command"].startswith("python -m toolkit.vpf.calibrate")
    scores = np.array(rec["scores_no_b"] + rec["scores_b"])
    assert len(scores) == rec["n_videos"] >= 40
    assert default_threshold() == pytest.approx(threshold_at_fpr(scores, rec["target_fpr"]))
    assert (scores > default_threshold()).mean() <= rec["target_fpr"]


def test_calibration_runs_end_to_end_small(tmp_path):
    rec = calibrate(n=2, n_frames=40, work=str(tmp_path), write=False, progress=False)
    assert rec["n_videos"] == 2
    assert rec["threshold"] == max(rec["scores_no_b"] + rec["scores_b"])


def test_specs_respect_the_benchmark_design():
    specs = make_specs(30, 5, seed=3, bframes=2, sources=["photo:coffee:pan:1"])
    pos = [s for s in specs if s["label"] == 1]
    assert {s["first"]["codec"] for s in pos} == {"mpeg2", "mpeg4", "h264"}
    for s in pos:
        g1, g2 = s["first"]["gop"], s["second"]["gop"]
        assert 10 <= g1 <= 50 and g1 != g2 and g2 % g1 and g1 % g2
        assert s["second"]["bframes"] == 2 and s["second"]["codec"] == "h264"
    assert all(s["first"] is None for s in specs if s["label"] == 0)
