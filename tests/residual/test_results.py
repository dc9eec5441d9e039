"""The residual results (HeatMap, ResidualAnalysis) follow the method contract; models load through
toolkit.weights; the shipped default model decides on the sample images."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from toolkit import weights
from toolkit._util import array_sha256, sha256_file
from toolkit.residual import HeatMap, RecastCNN, analyze, features, heatmap, load_model, save_model
from toolkit.residual.svm import DEFAULT_MODEL, from_checkpoint, model_for, train_for_manipulation
from toolkit.result import VERDICTS, Result

ROOT = Path(__file__).resolve().parents[2]
PRISTINE = ROOT / "sample_data" / "images" / "rocket.png"
FORGED = ROOT / "sample_data" / "images" / "rocket_median5.png"
MASK = ROOT / "sample_data" / "images" / "rocket_median5.mask.png"


def _contract(r, path=None):
    assert isinstance(r, Result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.sha256 = "x"
    d = r.to_dict()
    assert json.loads(r.to_json()) == d
    assert "\n" not in r.summary() and r.summary().startswith(r.method)
    assert len(r.table()) > 0
    assert type(r.plot()).__name__ == "Figure"
    assert r._repr_html_()
    if path is not None:
        assert r.sha256 == sha256_file(path) and r.path == str(path)
    return d


def test_heatmap_is_a_frozen_array_like_result(blur_svm):
    img = np.random.default_rng(0).integers(0, 256, (100, 120), dtype=np.uint8)
    hm = heatmap(img, blur_svm, window=64, stride=16)
    d = _contract(hm)
    assert hm.method == "residual.heatmap" and d["method"] == "residual.heatmap"
    # array behaviour
    a = np.asarray(hm)
    assert a.shape == hm.shape == (3, 4) and hm.size == 12 and hm.ndim == 2
    assert hm[1, 2] == a[1, 2] and float(hm.max()) == a.max() and len(hm) == 3
    np.testing.assert_allclose(hm * 2, a * 2)
    assert ((hm > 0.5) == (a > 0.5)).all()
    with pytest.raises(ValueError):
        a[0, 0] = 1.0  # the stored values are read-only
    # the decision
    assert hm.score == pytest.approx(a.max()) and hm.threshold == 0.5
    assert hm.verdict in VERDICTS and hm.verdict == ("manipulated" if a.max() > 0.5 else "not_detected")
    assert "threshold 0.5" in hm.reason
    assert d["values"] == a.tolist() and d["window"] == 64 and d["image_shape"] == [100, 120]
    assert d["params"]["model"] == "Pipeline" and d["params"]["model_params"]["C"] == 1.0


def test_threshold_decides():
    hm = HeatMap(np.array([[0.2, 0.55]]), window=8, stride=4, image_shape=(8, 12))
    assert hm.verdict == "manipulated" and hm.peak == (0, 4)
    assert HeatMap(np.array([[0.2, 0.55]]), window=8, stride=4, threshold=0.6).verdict == "not_detected"
    assert HeatMap(np.array([[np.nan]])).verdict == "inconclusive"


def test_heatmap_uses_the_models_threshold(blur_svm):
    img = np.random.default_rng(2).integers(0, 256, (80, 80), dtype=np.uint8)
    blur_svm.threshold = 0.99
    try:
        assert heatmap(img, blur_svm, window=64, stride=16).threshold == 0.99
    finally:
        del blur_svm.threshold
    assert heatmap(img, blur_svm, window=64, stride=16, threshold=0.3).threshold == 0.3
    with pytest.raises(ValueError, match="probability"):
        heatmap(img, blur_svm, window=64, threshold=2.0)
    with pytest.raises(ValueError, match="stride"):
        heatmap(img, blur_svm, window=64, stride=8.5)


def test_heatmap_and_analyze_hash_the_same_input(tmp_path):
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 256, (140, 150, 3), dtype=np.uint8)
    net = RecastCNN.from_handcrafted(hard=True, device="cpu")
    assert heatmap(rgb, net).sha256 == analyze(rgb).sha256 == array_sha256(rgb)
    assert heatmap(rgb, net).sha256 != heatmap(rgb[..., 1], net).sha256  # another input array
    p = tmp_path / "x.png"
    Image.fromarray(rgb).save(p)
    hp, ap = heatmap(p, net), analyze(p)
    assert hp.sha256 == ap.sha256 == sha256_file(p) and hp.path == ap.path == str(p)
    np.testing.assert_array_equal(np.asarray(hp), np.asarray(heatmap(rgb, net)))


def test_analysis_is_a_result(tmp_path):
    g = np.random.default_rng(3).integers(0, 256, (24, 20), dtype=np.uint8)
    a = analyze(g)
    d = _contract(a)
    assert a.method == "residual.analyze" and d["shape"] == [24, 20] and len(d["counts"]) == 162
    assert "grey" not in d  # the maps stay out of the JSON
    assert a.decision()["verdict"] is None


def test_grey_file_reads_as_its_grey_band(tmp_path):
    from PIL import Image

    g = np.random.default_rng(4).integers(0, 256, (30, 40), dtype=np.uint8)
    p = tmp_path / "grey.png"
    Image.fromarray(g).save(p)
    np.testing.assert_array_equal(features(p), features(g))
    bad = tmp_path / "text.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="not a readable image"):
        heatmap(bad)


def test_shipped_model_is_the_default_and_recorded():
    spec = weights.spec(DEFAULT_MODEL)
    assert spec.size_bytes < 50_000 and "Held-out test accuracy" in spec.card
    assert spec.train_command.startswith("python -m toolkit.residual.train")
    m = load_model("median5")
    assert m.weights_name == DEFAULT_MODEL and m.weights_sha256 == spec.sha256
    assert load_model(DEFAULT_MODEL).weights_sha256 == spec.sha256
    assert 0.5 < m.threshold < 1.0  # calibrated on the training images
    hm = heatmap(PRISTINE)
    assert hm.params["model"] == DEFAULT_MODEL and hm.params["weights_sha256"] == spec.sha256
    assert hm.threshold == m.threshold


def test_shipped_model_finds_the_median_filtered_box():
    import toolkit.methods as methods

    clean = methods.run("residual.heatmap", PRISTINE)
    forged = methods.run("residual.heatmap", FORGED)
    _contract(forged, FORGED)
    assert clean.verdict == "not_detected" and forged.verdict == "manipulated"
    from PIL import Image

    mask = np.asarray(Image.open(MASK)) > 0
    top, left = forged.peak
    assert mask[top + 64, left + 64]  # the most probable window is centred in the box
    inside, outside = forged.region_means(mask)
    assert inside > outside + 0.1


def test_unknown_model_names():
    with pytest.raises(weights.UnknownWeightsError, match="residual/nope"):
        load_model("nope")
    with pytest.raises(KeyError):
        heatmap(np.zeros((130, 130), np.uint8), "nope")
    with pytest.raises(FileNotFoundError):
        load_model(Path("/no/such/model.pt"))


def test_save_load_roundtrip(blur_svm, blur_data, tmp_path):
    from toolkit.residual import features_batch

    _, te = blur_data
    f = save_model(blur_svm, tmp_path / "blur.pt", card={"data": "test"})
    ck = weights.load_checkpoint(f, kind="residual.svm")
    assert set(ck.state_dict) == {"scaler_mean", "scaler_scale", "coef", "intercept", "classes"}
    back = load_model(f)
    X = features_batch(te.x)
    np.testing.assert_allclose(back.decision_function(X), blur_svm.decision_function(X), rtol=1e-12)
    assert back.predict(X).tolist() == blur_svm.predict(X).tolist()
    assert back.params_["C"] == 1.0 and back.card == {"data": "test"} and back.weights_name is None
    img = np.random.default_rng(5).integers(0, 256, (96, 96), dtype=np.uint8)
    np.testing.assert_allclose(
        np.asarray(heatmap(img, back, window=64)), np.asarray(heatmap(img, blur_svm, window=64))
    )


def test_bad_checkpoints_are_refused(tmp_path):
    import torch

    f = weights.save({"coef": torch.zeros(162)}, tmp_path / "bad.pt", kind="residual.svm")
    with pytest.raises(weights.WeightsFormatError, match="residual.svm"):
        load_model(f)
    ck = weights.load_checkpoint(f)
    with pytest.raises(weights.WeightsFormatError):
        from_checkpoint(ck)
    other = weights.save({"x": torch.zeros(1)}, tmp_path / "other.pt", kind="fsvm")
    with pytest.raises(weights.WeightsFormatError, match="not 'residual.svm'"):
        load_model(other)


def test_train_for_manipulation_and_model_for(blur_data):
    from toolkit.residual import features_batch
    from toolkit.residual.svm import evaluate

    _, te = blur_data
    m = train_for_manipulation("blur1.1", n_pairs=20, window=64)
    assert m.params_["manipulation"] == "blur1.1" and m.params_["n_patches"] == 40
    assert evaluate(m, features_batch(te.x), te.y).accuracy > 0.8
    shuffled = train_for_manipulation("blur1.1", n_pairs=20, window=64, seed=3)
    assert shuffled.params_["seed"] == 3
    assert model_for("median5").weights_name == DEFAULT_MODEL  # shipped, 128-pixel windows
    trained = model_for("median5", window=64, n_pairs=10)  # not shipped for 64: trained now
    assert getattr(trained, "weights_name", None) is None and trained.params_["window"] == 64
    with pytest.raises(ValueError, match="n_pairs"):
        train_for_manipulation("blur1.1", n_pairs=0)


def test_choose_threshold():
    from toolkit.residual.train import choose_threshold

    assert choose_threshold([0.1, 0.2], [0.8, 0.9]) == pytest.approx(0.5)
    t = choose_threshold([0.3, 0.62, 0.4], [0.7, 0.9, 0.5])
    assert 0.62 <= t < 0.7  # one pristine image at 0.62: the cut goes above it
