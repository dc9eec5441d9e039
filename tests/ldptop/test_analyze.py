"""analyze / features on arrays and generated videos: windows, parts, votes, the Result contract."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.ldptop.conftest import _model
from toolkit.ldptop import PARTS, analyze, features, from_sidecar, window_planes


def _moving(T=75, H=40, W=48, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (H, W + T), dtype=np.uint8)
    return np.stack([base[:, t : t + W] for t in range(T)])


def test_whole_frame_windows_and_result(frame_model):
    v = _moving()
    before = v.copy()
    r = analyze(v, model=frame_model, max_windows=None)
    assert np.array_equal(v, before)
    assert r.starts == (0, 25) and r.parts == ("frame",) and r.part_probabilities.shape == (2, 1)
    assert r.input_probabilities.shape == (2, 1, 2)
    assert r.window_scores == pytest.approx(r.input_probabilities.mean(axis=2)[:, 0].tolist())
    assert r.score == pytest.approx(np.mean(r.window_scores))
    assert r.verdict in ("synthetic", "not_detected") and r.path is None and len(r.sha256) == 64
    assert json.loads(r.to_json()) == r.to_dict()
    assert list(r.table()["start"]) == [0, 25] and r.plot().data[0].type == "heatmap"
    assert r.params["model"] == "LDPTOPEnsemble (in memory)" and r.params["window"] == 50


def test_features_match_the_descriptor_of_each_window():
    from toolkit.ldptop import descriptor

    v = _moving(T=100)
    f = features(v, max_windows=2)
    assert f.starts == (0, 50)  # evenly spread: first and last of 0, 25, 50
    assert np.array_equal(f.values[1, 0, 0], descriptor(v[50:100]))


def test_short_video_is_inconclusive(frame_model):
    r = analyze(_moving(T=30), model=frame_model)
    assert r.verdict == "inconclusive" and "30 frames" in r.reason and r.summary()


def test_regions_give_one_row_per_part_and_missing_parts_do_not_vote(parts_model):
    v = _moving(T=50, H=60, W=60)
    boxes = {p: np.tile([[5 + 10 * i, 5 + 8 * i, 12, 12]], (50, 1)) for i, p in enumerate(PARTS)}
    boxes["RF"] = np.full((50, 4), -1)
    r = analyze(v, regions=boxes, model=parts_model)
    assert r.parts == PARTS and r.part_probabilities.shape == (1, 5)
    assert np.isnan(r.part_probabilities[0, 4]) and np.isfinite(r.part_probabilities[0, :4]).all()
    assert r.window_scores[0] == pytest.approx(np.nanmean(r.part_probabilities[0]))
    with pytest.raises(ValueError, match="trained on parts"):
        analyze(v, regions=boxes, model=_model(("frame",)))
    with pytest.raises(ValueError, match="regions must be"):
        analyze(v, regions="openpose", model=parts_model)


def test_generated_videos_carry_their_part_boxes(dance, parts_model):
    root, man = dance
    splits = {v["split"] for v in man["videos"]}
    assert splits == {"train", "test"}
    fams = {(v["split"], v["family"]) for v in man["videos"]}
    assert ("train", "splice") not in fams and ("test", "splice") in fams
    assert {v["quality"] for v in man["videos"]} == {"raw"}
    for x in man["videos"]:
        assert (root / x["path"]).is_file() and x["label"] == ("real" if x["family"] == "real" else "fake")
    v = next(x for x in man["videos"] if x["family"] == "splice")
    path = root / v["path"]
    assert 0 < v["quality_scores"]["mask_ssim"] < 1
    reg = from_sidecar(path)
    assert reg.parts == PARTS and reg.n_frames == 50 and reg.present("FC").all()
    r = analyze(path, regions="generator", model=parts_model)
    assert r.parts == PARTS and len(r.starts) == 1 and r.params["regions"] == "generator"
    planes = window_planes(path, 0, input="flow", part="FC", regions="generator")
    assert [p.shape[0] for p in planes[1:]] == [50, 50] and planes[0].dtype == np.float32
