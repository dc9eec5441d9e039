"""analyze(): the decision, the Result contract, bad inputs, the shipped model through the registry."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data

from toolkit import methods, weights
from toolkit._util import input_sha256, sha256_file
from toolkit.faces import FaceResult, analyze, load_model
from toolkit.result import VERDICTS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def net():
    return load_model(device="cpu")


def test_shipped_model_loads_through_registry(net):
    assert net.weights_name == "faces/fcn" and len(net.weights_sha256) == 64
    assert net.lam is not None and 0.0 <= net.lam <= 1.0
    card = weights.model_card("faces/fcn")
    assert "λ" in card and "accuracy" in card and "identit" in card
    cls, seg = net(torch.zeros(2, 3, 128, 128))
    assert cls.shape == (2, 2) and seg.shape == (2, 2, 49, 49)


def test_astronaut_result_contract(net):
    img = data.astronaut()
    before = img.copy()
    r = analyze(img, model=net)
    assert np.array_equal(img, before)
    assert isinstance(r, FaceResult) and r.method == "faces"
    assert len(r.faces) == 1 and r.maps.shape == (1, 49, 49)
    assert 0.0 <= r.score <= 1.0 and r.score == pytest.approx(r.faces[0]["fake_prob"])
    assert r.verdict in ("manipulated", "not_detected") and r.verdict in VERDICTS
    assert (r.verdict == "manipulated") == (r.score >= r.threshold)
    assert r.sha256 == input_sha256(img) and r.params["model_sha256"] == net.weights_sha256
    d = r.to_dict()
    assert json.loads(r.to_json()) == d
    assert list(r.table().columns)[:2] == ["frame", "x0"] and len(r.table()) == 1
    assert r.plot().data and "face" in r.summary()


def test_threshold_decides(net):
    img = data.astronaut()
    lo, hi = analyze(img, model=net, threshold=0.0), analyze(img, model=net, threshold=1.0)
    assert lo.verdict == "manipulated" and hi.verdict in ("not_detected", "manipulated")
    assert hi.verdict == ("manipulated" if hi.score >= 1.0 else "not_detected")
    with pytest.raises(ValueError):
        analyze(img, model=net, threshold=2)


def test_a_manipulated_face_scores_higher(net):
    # the same face with a strong blur inside the face ellipse should look more manipulated
    from toolkit.faces import detect
    from toolkit.synth.faces import local_edit

    img = data.astronaut()
    f = detect(img)[0]
    fake, _ = local_edit(img, f, "blur", np.random.default_rng(0))
    assert analyze(fake, model=net).score > analyze(img, model=net).score


def test_no_face_is_inconclusive(net):
    r = analyze(SAMPLE / "images" / "rocket.png", model=net)
    assert r.verdict == "inconclusive" and "no face" in r.reason
    assert r.sha256 == sha256_file(SAMPLE / "images" / "rocket.png") and np.isnan(r.score)
    assert json.loads(r.to_json()) == r.to_dict() and r.plot() is not None


@pytest.mark.parametrize("kind", ["grey", "rgba", "16bit", "tiny"])
def test_bad_inputs_have_clear_outcomes(net, kind):
    rgb = data.astronaut()[::2, ::2]
    img = {
        "grey": rgb.mean(2).astype(np.uint8),
        "rgba": np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]),
        "16bit": rgb.astype(np.uint16) * 257,
        "tiny": np.zeros((4, 4, 3), np.uint8),
    }[kind]
    r = analyze(img, model=net)
    if kind == "tiny":
        assert r.verdict == "inconclusive"
    else:
        assert len(r.faces) == 1 and r.maps.shape == (1, 49, 49)


def test_huge_image_refused_with_a_sentence(net):
    huge = np.zeros((10_001, 10_000), np.uint8)  # above toolkit.image.MAX_PIXELS (100 megapixels)
    with pytest.raises(ValueError, match="max_pixels"):
        analyze(huge, model=net)


def test_video_without_faces_is_inconclusive(net):
    r = analyze(SAMPLE / "single" / "single_h264.mp4", model=net, max_frames=2)
    assert r.verdict == "inconclusive" and len(r.frames) == 2


def test_missing_weight_file_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path))
    weights.register(weights.WeightSpec(name="faces/absent", filename="faces_absent.pt", sha256="0" * 64))
    with pytest.raises(weights.WeightsNotFoundError, match="faces_absent.pt"):
        load_model("absent")
    with pytest.raises(weights.UnknownWeightsError):
        load_model("no-such-face-model")


def test_registered_method_runs():
    entry = methods.get("faces")
    assert entry.input_kind == "image" and entry.default_model == "faces/fcn"
    r = methods.run("faces", SAMPLE / "images" / "rocket.png")
    assert r.method == "faces" and r.verdict == "inconclusive"
