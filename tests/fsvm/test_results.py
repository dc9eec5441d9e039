"""F-SVM results follow the method contract; models load through toolkit.weights (no pickle);
module-level detect / load_model / leave_one_out."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from toolkit import weights
from toolkit._util import sha256_file
from toolkit.fsvm import (
    DEFAULT_MODEL,
    FSVM,
    Footprint,
    FootprintSet,
    FSVMResult,
    detect,
    extract,
    footprint,
    leave_one_out,
    load_model,
)
from toolkit.fsvm.model import from_checkpoint
from toolkit.result import VERDICTS, Result

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "real" / "walk.mkv"


def _contract(r):
    assert isinstance(r, Result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.sha256 = "x"
    assert json.loads(r.to_json()) == r.to_dict()
    assert "\n" not in r.summary() and r.summary().startswith(r.method)
    assert len(r.table()) > 0 and type(r.plot()).__name__ == "Figure" and r._repr_html_()
    return r.to_dict()


@pytest.fixture(scope="module")
def walk_fp():
    return footprint(SAMPLE, n_frames=10)


def test_footprint_is_an_array_like_result(walk_fp):
    f = walk_fp
    d = _contract(f)
    assert isinstance(f, Footprint) and f.method == "fsvm.footprint" and d["method"] == "fsvm.footprint"
    assert f.sha256 == sha256_file(SAMPLE) and f.path == str(SAMPLE)
    # the ndarray-style uses of the old return value keep working
    a = np.asarray(f)
    assert a is f.values and f.shape == (10, 3) and len(f) == 10
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    assert f[:, 0].mean() == pytest.approx(a[:, 0].mean())
    np.testing.assert_allclose(f - a, 0.0)
    np.testing.assert_allclose(f.mean(), a.mean(axis=0))
    assert float(f.mean(axis=None)) == pytest.approx(a.mean())
    assert np.stack([f, f]).shape == (2, 10, 3)
    with pytest.raises(ValueError):
        a[0, 0] = 0.5  # read-only: the result is frozen
    # the old Footprint fields and to_dict keys are still there
    assert {"path", "sha256", "values", "frame_types", "n_valid", "mb_used", "params"} <= set(d)
    np.testing.assert_array_equal(extract(SAMPLE, n_frames=10).values, a)


def test_fsvm_result_verdicts_and_contract(separable, walk_fp):
    X, y = separable
    m = FSVM(n_frames=10).fit(X, y)
    r = m.detect(None, footprint=walk_fp)
    d = _contract(r)
    assert r.method == "fsvm" and r.verdict in VERDICTS and r.threshold == 0.0
    assert r.verdict == ("synthetic" if r.score > 0 else "not_detected")
    assert r.score == pytest.approx(float(m.decision_function(np.asarray(walk_fp)[None])[0]))
    assert d["footprint"]["method"] == "fsvm.footprint" and d["label_name"] == r.label_name
    assert r.params["model"] == "FSVM (in memory)" and r.params["weights_sha256"] is None
    # a fake-like footprint is called synthetic, a real-like one not
    fake = Footprint(X[8], frame_types=("P",) * 10, n_valid=10, mb_used=1)
    real = Footprint(X[1], frame_types=("P",) * 10, n_valid=10, mb_used=1)
    assert m.detect(None, footprint=fake).verdict == "synthetic"
    assert m.detect(None, footprint=real).verdict == "not_detected"
    assert "above the threshold" in m.detect(None, footprint=fake).reason


def test_score_points_to_fake_with_string_labels(separable):
    X, y = separable
    m = FSVM(n_frames=10).fit(X, np.where(y == 1, "fake", "real"))
    assert list(m.classes_) == ["fake", "real"]  # decision_function > 0 would mean "real" here
    fake = Footprint(X[8], frame_types=("P",) * 10, n_valid=10, mb_used=1)
    r = m.detect(None, footprint=fake)
    assert r.label == "fake" and r.score > 0 and r.verdict == "synthetic"
    assert r.score == pytest.approx(-float(m.decision_function(X[8:9])[0]))


def test_save_is_a_weights_checkpoint(separable, tmp_path):
    X, y = separable
    m = FSVM(n_frames=10, roi=(0, 0, 32, 32)).fit(X, y)
    m.save(tmp_path / "m.pt", card={"data": "separable"})
    ck = weights.load_checkpoint(tmp_path / "m.pt", kind="fsvm")
    assert set(ck.state_dict) == {"coef", "intercept"} and ck.config["params"]["roi"] == [0, 0, 32, 32]
    back = FSVM.load(tmp_path / "m.pt")
    assert back.roi == (0, 0, 32, 32) and back.card == {"data": "separable"}
    np.testing.assert_array_equal(back.decision_function(X), m.decision_function(X))
    assert len(back.weights_sha256) == 64 and back.weights_name is None
    with pytest.raises(ValueError, match="box roi"):
        FSVM(n_frames=10, roi=np.ones((4, 4), bool)).fit(X, y).save(tmp_path / "mask.pt")


def test_bad_checkpoints_are_refused(tmp_path):
    import torch

    f = weights.save(
        {"coef": torch.zeros(7, dtype=torch.float64), "intercept": torch.zeros(1, dtype=torch.float64)},
        tmp_path / "bad.pt",
        kind="fsvm",
        config={"params": {"n_frames": 10}, "classes": [0, 1]},
    )
    with pytest.raises(weights.WeightsFormatError, match="weights"):
        FSVM.load(f)
    with pytest.raises(weights.WeightsFormatError, match="not an F-SVM|F-SVM config"):
        from_checkpoint(_with_config(f, {"params": {"x": 1}, "classes": [0, 1]}))
    other = weights.save({"coef": torch.zeros(162)}, tmp_path / "res.pt", kind="residual.svm")
    with pytest.raises(ValueError, match="not an F-SVM model"):
        FSVM.load(other)


def _with_config(f, config):
    ck = weights.load_checkpoint(f)
    return dataclasses.replace(ck, config=config)


def test_shipped_default_model():
    spec = weights.spec(DEFAULT_MODEL)
    assert spec.size_bytes < 20_000 and "SIMULATED" in spec.card and "Held-out test" in spec.card
    assert spec.train_command.startswith("python -m toolkit.fsvm.train")
    m = load_model()
    assert isinstance(m, FSVM) and m.weights_name == DEFAULT_MODEL and m.weights_sha256 == spec.sha256
    assert load_model("simulated").weights_sha256 == spec.sha256
    assert m.n_frames == 30 and m.C == 0.1
    with pytest.raises(weights.UnknownWeightsError):
        load_model("nope")
    with pytest.raises(ValueError):  # UnknownWeightsError is a ValueError too
        detect(SAMPLE, model="nope")
    with pytest.raises(ValueError, match="model must be"):
        detect(SAMPLE, model=object())


def test_detect_with_the_shipped_model_and_the_registry():
    import toolkit.methods as methods

    r = methods.run("fsvm", SAMPLE)
    assert isinstance(r, FSVMResult) and r.sha256 == sha256_file(SAMPLE)
    assert (
        r.params["model"] == DEFAULT_MODEL
        and r.params["weights_sha256"] == weights.spec(DEFAULT_MODEL).sha256
    )
    assert r.footprint.n_frames == 30
    _contract(r)
    with pytest.raises(FileNotFoundError):
        detect("/no/such/video.mp4")


def test_leave_one_out_equals_refitting(separable):
    X, y = separable
    ds = FootprintSet([f"/d/v{i}.mp4" for i in range(len(y))], y, X, ["0" * 64] * len(y))
    loo = leave_one_out(ds, n_frames=6, C=0.1)
    assert len(loo) == len(y) and loo.n_frames == 6
    for i in (0, 7, 11):
        keep = np.arange(len(y)) != i
        ref = FSVM(C=0.1, n_frames=6).fit(X[keep], y[keep])
        assert loo[i].score == pytest.approx(float(ref.decision_function(X[i : i + 1, :6])[0]))
        assert "leave-one-out" in loo[i].params["model"] and loo[i].footprint.shape == (6, 3)
    assert loo.accuracy == pytest.approx(loo.correct.mean())
    t = loo.table()
    assert list(t.columns) == ["video", "truth", "decision", "score", "correct"] and len(t) == 12
    # a video whose removal leaves one class only is not decided
    two = ds.subset([0, 1, 6])
    res = leave_one_out(two, n_frames=6)
    assert res[2] is None and np.isnan(res.scores[2]) and res[0] is not None
    with pytest.raises(ValueError, match="FootprintSet"):
        leave_one_out(X)
