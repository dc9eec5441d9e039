"""FOCAL keeps bounded, compact results: bands for large frames, budgets refused with a sentence,
classify and localize flat in the number of frames (benchmarks/memory_focal.py in quick mode)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from toolkit.focal import FocalNet, classify, features
from toolkit.focal.features import dense_forward, dense_forward_banded
from toolkit.focal.spatial import localize

from ._common import random_frames

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return FocalNet(4).eval()


def test_bands_give_the_one_pass_result(net):
    x = torch.from_numpy(random_frames(1, 3, (232, 104))[:, None].astype(np.float32))
    d1, z1 = dense_forward(net, x, 8)
    d2, z2 = dense_forward_banded(net, x, 8, band_pixels=104 * 90)  # bands of 4 patch rows
    assert d1.shape == d2.shape and z1.shape == z2.shape
    torch.testing.assert_close(d2, d1, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(z2, z1, atol=1e-4, rtol=1e-4)


def test_budgets_refuse_before_decoding_with_a_sentence(net):
    frames = np.zeros((40, 1080, 1920), np.uint8)[:, :64, :64]  # small view: the check is what counts
    with pytest.raises(ValueError, match="max_bytes.*count= / step=.*stride.*roi="):
        features(np.zeros((3, 1080, 1920), np.uint8), net, max_bytes=10**6)
    with pytest.raises(ValueError, match="max_pixels=1,000"):
        classify(np.zeros((64, 64), np.uint8), net, max_pixels=1000)
    with pytest.raises(ValueError, match="max_pixels"):
        localize(np.zeros((64, 64), np.uint8), models={"codec": net}, features="codec", max_pixels=100)
    assert features(frames, net, max_frames=3).probs.shape[0] == 3


def test_roi_restricts_features_and_classify_to_the_region(net):
    a = random_frames(2, 5, (128, 160))
    fm = features(a, net, roi=(32, 16, 64, 96))
    whole = features(a[:, 32:96, 16:112], net)
    np.testing.assert_allclose(fm.probs, whole.probs, atol=1e-5)
    assert fm.frame_shape == (64, 96) and fm.params["roi"] == [32, 16, 64, 96]
    c = classify(a, net, roi=(32, 16, 64, 96))
    np.testing.assert_allclose(
        c.probabilities, whole.frame_probs.mean(0) / whole.frame_probs.mean(0).sum(), atol=1e-5
    )


def test_classify_keeps_one_row_per_frame_and_matches_features(net):
    a = random_frames(5, 7, (96, 128))
    c = classify(a, net)
    fm = features(a, net)
    assert c.frame_probabilities.shape == (5, 4) and c.frame_probabilities.dtype == np.float32
    np.testing.assert_allclose(c.frame_probabilities, fm.frame_probs, atol=1e-6)
    assert c.params["max_frames"] is None and classify(a, net, max_frames=2).frame_index == (0, 1)


def test_localize_streams_the_average_and_keeps_only_keep_frames(net):
    a = random_frames(4, 9, (64, 96))
    r = localize(a, models={"codec": net}, features="codec", keep_frames=2)
    full = localize(a, models={"codec": net}, features="codec", keep_frames=4)
    np.testing.assert_allclose(r.feature_tensor, full.feature_tensor, atol=1e-6)  # all 4 averaged
    np.testing.assert_allclose(r.feature_tensor, full.frame_features.mean(axis=0), atol=1e-6)
    assert len(r.frame_index) == 4 and r.frame_features.shape[0] == 2 and r.frames.shape[0] == 2
    assert r.heatmap.dtype == np.float32  # the full-resolution map is kept compact
    assert r.frame_view(1)["heatmap"].shape == (64, 96)
    with pytest.raises(ValueError, match="keep_frames"):
        r.frame_view(3)


def test_memory_benchmark_quick_mode(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "bench_memory_focal", ROOT / "benchmarks" / "memory_focal.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out_file = tmp_path / "memory_focal_quick.json"
    out = bench.main(["--quick", "--folder", str(tmp_path), "--out", str(out_file)])
    saved = json.loads(out_file.read_text())
    assert saved == json.loads(json.dumps(out)) and saved["quick"] is True
    for case in ("focal.classify",):  # localize's streaming is checked in-process above
        runs = saved[case]["runs"]
        assert [r["n_frames"] for r in runs] == [4, 16] and [r["frames"] for r in runs] == [4, 16]
        assert all(r["peak_rss_mb"] > 50 for r in runs)
        assert abs(saved[case]["growth"]) < 0.10, saved[case]
    assert "focal.classify" in bench.readme_rows(saved)
