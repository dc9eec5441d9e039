"""FOCAL results follow the method contract (toolkit.result.Result); models load through toolkit.weights."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from toolkit import weights
from toolkit._util import array_sha256, sha256_file
from toolkit.focal import ClassifyResult, FeatureMap, classify, features, load_model, save_model
from toolkit.focal.spatial import SpatialResult, localize
from toolkit.focal.temporal import MIN_PAIRS, TemporalResult, detect, find_cuts
from toolkit.result import VERDICTS, Result

from ._common import PatchMean, random_frames, spliced_frames, toy_split
from ._shipped import needs_shipped_weights

ROOT = Path(__file__).resolve().parents[2]


def _check_contract(r: Result) -> dict:
    assert isinstance(r, Result) and r.method
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.sha256 = "0" * 64
    d = r.to_dict()
    assert json.loads(r.to_json()) == d
    assert d["method"] == r.method and d["sha256"] == r.sha256 and d["toolkit_version"]
    s = r.summary()
    assert isinstance(s, str) and s and "\n" not in s
    assert isinstance(r.table(), pd.DataFrame)
    assert type(r.plot()).__module__.startswith("plotly")
    html = r._repr_html_()
    assert "<table" in html and len(html) > 200
    dec = r.decision()
    assert dec["verdict"] is None or dec["verdict"] in VERDICTS
    return d


# ------------------------------------------------------------------------------------------
# classify
def test_classify_result_is_a_mapping_like_result(codec_net):
    frames = random_frames()
    r = classify(frames, codec_net, stride=16, device="cpu")
    assert isinstance(r, ClassifyResult) and r.method == "focal.classify"
    d = _check_contract(r)
    fm = features(frames, codec_net, stride=16)
    p = fm.frame_probs.mean(axis=0)
    expect = dict(zip(fm.classes, (p / p.sum()).tolist()))
    # the old dict, exactly
    assert dict(r) == pytest.approx(expect) and list(r) == list(codec_net.classes) and len(r) == 4
    assert r["h264"] == pytest.approx(expect["h264"]) and "h264" in r and "vp9" not in r
    assert r.keys() == list(expect) and r.values() == list(r.probabilities)
    assert r.items() == list(zip(r.classes, r.probabilities))
    assert r.get("vp9") is None and r.get("vp9", 0.0) == 0.0 and r.get("mpeg2") == r["mpeg2"]
    with pytest.raises(KeyError):
        r["vp9"]
    assert r.label == max(expect, key=expect.get) == max(r, key=r.get)
    assert list(r.classes) == r.table()["class"].tolist() == list(codec_net.classes)
    np.testing.assert_allclose(r.table()["probability"], list(expect.values()))
    bar = r.plot().data[0]
    assert list(bar.x) == list(r.classes) and np.allclose(bar.y, r.probabilities)
    # describes, does not decide
    assert d["verdict"] is None and d["score"] is None and r.label in r.summary()
    assert r.sha256 == array_sha256(frames) and r.path is None
    assert r.params["stride"] == 16 and r.params["weights_name"] is None
    assert r.frame_index == (0, 1, 2) and r.frame_probabilities.shape == (3, 4)


@needs_shipped_weights
def test_classify_names_the_shipped_weights():
    video = ROOT / "sample_data" / "single" / "single_h264.mp4"
    r = classify(video, "codec", stride=32, count=2, device="cpu")
    assert r.label == "h264" and r.sha256 == sha256_file(video) and r.path == str(video)
    assert r.params["weights_name"] == "focal/codec"
    assert r.params["weights_sha256"] == weights.spec("focal/codec").sha256
    assert r.params["model"] == "codec" and r.model == "codec"


# ------------------------------------------------------------------------------------------
# features
def test_feature_map_is_a_result(codec_net):
    rgb = np.random.default_rng(1).integers(0, 256, (2, 80, 96, 3), dtype=np.uint8)
    fm = features(rgb, codec_net, stride=8)
    assert isinstance(fm, FeatureMap) and fm.method == "focal.features"
    d = _check_contract(fm)
    # the old to_dict's keys are all still there, with the same values
    old = {"classes", "frame_index", "frame_shape", "stride", "grid", "frame_probs", "frame_descriptors"}
    assert old | {"sha256", "params"} <= set(d)
    assert d["grid"] == [3, 5] and np.allclose(d["frame_probs"], fm.frame_probs)
    assert "descriptors" not in d  # the per-patch arrays stay out of the JSON (large)
    assert fm.sha256 == array_sha256(rgb)  # of the input as given (RGB), not of its luma
    assert fm.path is None and fm.params["weights_name"] is None and fm.params["weights_sha256"] is None
    assert "2 frame(s), 3x5 patches" in fm.summary()
    np.testing.assert_allclose(fm.channel_map("d7", 1), fm.descriptors[1, :, :, 7])
    np.testing.assert_allclose(fm.channel_map("h265", 1), fm.probs[1, :, :, 3])


@needs_shipped_weights
def test_features_of_a_file_carry_its_hash_and_the_weights():
    video = ROOT / "sample_data" / "single" / "single_h264.mp4"
    fm = features(video, "quality", stride=32, count=1, device="cpu")
    assert fm.sha256 == sha256_file(video) and fm.path == str(video)
    assert fm.params["weights_name"] == "focal/quality"
    assert fm.params["weights_sha256"] == weights.spec("focal/quality").sha256


# ------------------------------------------------------------------------------------------
# temporal
def test_temporal_result_decides():
    frames = spliced_frames()
    ext = {"codec": PatchMean()}
    r = detect(frames, models=ext, features="codec", stride=32, i_frames=[0])
    assert isinstance(r, TemporalResult) and r.method == "focal.temporal"
    d = _check_contract(r)
    assert r.cuts == [5] and r.verdict == "forged" and r.reason is None
    assert r.score == pytest.approx(float(np.max(r.scores))) and r.score > r.threshold
    assert d["verdict"] == "forged" and d["score"] == pytest.approx(r.score) and d["threshold"] == 20.0
    assert d["scores"] == pytest.approx(r.scores.tolist()) and d["cuts"] == [5]
    assert "forged" in r.summary() and "[5]" in r.summary()
    assert r.sha256 == array_sha256(frames) and r.params["weights"] == {
        "codec": {"weights_name": None, "weights_sha256": None}
    }
    # the same signal at other thresholds
    assert r.cuts_at(r.threshold) == r.cuts
    assert r.cuts_at(r.score * 1.01) == [] and r.cuts_at(0.5) == [
        int(r.frame_index[k]) for k in find_cuts(r.scores, 0.5)
    ]
    with pytest.raises(ValueError, match="threshold"):
        r.cuts_at(0)
    # a video without a splice
    calm = detect(frames[6:], models=ext, features="codec", stride=32, i_frames=[0])
    assert calm.verdict == "not_detected" and calm.cuts == [] and calm.score < calm.threshold
    # too few pairs for a background: inconclusive, with the reason
    short = detect(frames[4:7], models=ext, features="codec", stride=32, i_frames=[0])
    assert len(short.distance) == 2 < MIN_PAIRS
    assert short.verdict == "inconclusive" and "at least 3" in short.reason
    assert "inconclusive" in short.summary() and short.reason in short.summary()
    _check_contract(short)


def test_temporal_and_spatial_refuse_fractional_strides_and_rois():
    frames = spliced_frames(6)
    ext = {"codec": PatchMean()}
    with pytest.raises(ValueError, match="multiple of 8"):
        detect(frames, models=ext, features="codec", stride=8.5)
    with pytest.raises(ValueError, match="multiple of 8"):
        localize(frames, models=ext, features="codec", stride=16.5)
    with pytest.raises(ValueError, match="roi"):
        detect(frames, models=ext, features="codec", roi=(8.5, 0, 64, 64))
    with pytest.raises(ValueError, match="roi"):
        localize(frames, models=ext, features="codec", roi=(0, 0, 64))
    with pytest.raises(ValueError, match="smaller than one 64x64 patch"):
        localize(frames, models=ext, features="codec", roi=(0, 0, 56, 64))


# ------------------------------------------------------------------------------------------
# spatial
def test_spatial_result_is_a_result_that_does_not_decide():
    frames = random_frames(2, seed=3, shape=(128, 160))
    frames[:, 32:96, 48:112] //= 3  # a darker box
    r = localize(frames, models={"codec": PatchMean()}, features="codec", stride=16)
    assert isinstance(r, SpatialResult) and r.method == "focal.spatial"
    d = _check_contract(r)
    assert d["verdict"] is None and r.decision() == {
        "verdict": None,
        "score": None,
        "threshold": None,
        "reason": None,
    }
    old = {"frame_index", "feature_names", "ver", "patch_map", "feature_tensor", "heatmap_shape", "params"}
    assert old <= set(d) and "heatmap" not in d and "frames" not in d
    assert d["heatmap_shape"] == [128, 160] and np.allclose(d["ver"], r.ver)
    assert r.top_feature in r.feature_names and r.top_feature in r.summary()
    u, v = np.unravel_index(int(np.argmax(r.patch_map)), r.patch_map.shape)
    assert f"y={u * 16}, x={v * 16} px" in r.summary()
    assert r.sha256 == array_sha256(frames)


# ------------------------------------------------------------------------------------------
# models through toolkit.weights
def test_save_model_writes_the_one_checkpoint_format(codec_net, tmp_path):
    f = save_model(codec_net, tmp_path / "c.pt", meta={"task": "codec", "note": [1, 2]})
    assert f == tmp_path / "c.pt"
    ck = weights.load_checkpoint(f, kind="focal")
    assert ck.config == {"num_classes": 4, "classes": list(codec_net.classes)}
    assert ck.card == {"task": "codec", "note": [1, 2]}
    net = load_model(str(f), device="cpu")
    assert net.weights_name is None and net.weights_sha256 == sha256_file(f) and net.meta == ck.card
    x = torch.rand(2, 1, 64, 64) * 255
    assert torch.equal(net(x), codec_net(x))
    fm = features(random_frames(1), net, stride=32)
    assert fm.params["weights_sha256"] == sha256_file(f)


def test_load_model_errors_are_typed(tmp_path, codec_net):
    for bad in ("resolution", "focal/resolution", "", "codec "):
        with pytest.raises(weights.UnknownWeightsError, match="unknown FOCAL model"):
            load_model(bad)
    err = pytest.raises(KeyError, load_model, "resolution")
    assert isinstance(err.value, ValueError)
    # another kind of checkpoint is not a FOCAL network
    other = weights.save(torch.nn.Linear(2, 1), tmp_path / "lin.pt", kind="geo.country", config={})
    with pytest.raises(weights.WeightsFormatError, match="not a FOCAL checkpoint"):
        load_model(other)
    with pytest.raises(weights.WeightsNotFoundError):
        load_model(tmp_path / "absent.pt")


@needs_shipped_weights
def test_load_model_reads_the_registry():
    a = load_model("codec", device="cpu")
    b = load_model("focal/codec", device="cpu")
    assert a.weights_name == b.weights_name == "focal/codec"
    assert a.weights_sha256 == weights.spec("focal/codec").sha256 and not a.training
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k])


def test_init_from_a_checkpoint_of_another_kind_is_refused(tmp_path):
    from toolkit.focal.train import train

    splits = {"train": toy_split(0), "val": toy_split(1, 4), "test": toy_split(2, 4)}
    other = weights.save(torch.nn.Linear(2, 1), tmp_path / "lin.pt", kind="fsvm", config={})
    with pytest.raises(ValueError, match="not a FOCAL checkpoint"):
        train("codec", splits=splits, epochs=1, init_from=other, progress=False, threads=1)
