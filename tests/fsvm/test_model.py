import json

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from toolkit.fsvm import FSVM


def test_fit_predict_and_decision_match_libsvm(separable):
    X, y = separable
    m = FSVM(n_frames=10).fit(X, y)
    assert m.coef_.shape == (30,) and m.n_train_ == 12 and m.fit_time_ < 1.0
    assert m.predict(X).tolist() == y.tolist()
    ref = SVC(kernel="linear", C=0.1).fit(X.reshape(12, -1), y)
    np.testing.assert_allclose(
        m.decision_function(X), ref.decision_function(X.reshape(12, -1)), rtol=1e-6, atol=1e-9
    )
    assert (m.decision_function(X)[y == 1] > 0).all()  # positive = classes_[1] = fake
    # flattened 3N input and footprints with more frames (first N used) give the same scores
    np.testing.assert_allclose(m.decision_function(X.reshape(12, -1)), m.decision_function(X))
    longer = np.concatenate([X, X[:, :4]], axis=1)
    np.testing.assert_allclose(m.decision_function(longer), m.decision_function(X))


def test_string_labels_and_sklearn_tools(separable):
    X, y = separable
    names = np.where(y == 1, "fake", "real")
    m = FSVM(n_frames=10).fit(X, names)
    assert set(m.predict(X)) == {"fake", "real"}
    scores = cross_val_score(FSVM(n_frames=10), X, y, cv=3)
    assert scores.mean() == 1.0
    pipe = make_pipeline(FunctionTransformer(lambda a: np.asarray(a)[:, :8]), FSVM(n_frames=8))
    assert pipe.fit(X, y).score(X, y) == 1.0


def test_c_changes_the_model(separable):
    X, y = separable
    a, b = FSVM(C=0.1, n_frames=10).fit(X, y), FSVM(C=100, n_frames=10).fit(X, y)
    assert not np.allclose(a.coef_, b.coef_)


def test_save_load_roundtrip_is_small(separable, tmp_path):
    X, y = separable
    m = FSVM(n_frames=10).fit(X, y)
    size = m.save(tmp_path / "m.json")
    assert size == (tmp_path / "m.json").stat().st_size == m.size_bytes < 20_000
    m2 = FSVM.load(tmp_path / "m.json")
    np.testing.assert_array_equal(m2.decision_function(X), m.decision_function(X))
    assert m2.get_params() == m.get_params()
    # a 30-frame model stays far below the 20 KB goal
    X30 = np.tile(X, (1, 3, 1))
    assert FSVM().fit(X30, y).size_bytes < 20_000


def test_bad_inputs(separable, tmp_path):
    X, y = separable
    with pytest.raises(ValueError, match="two classes"):
        FSVM(n_frames=10).fit(X, np.zeros(12))
    with pytest.raises(ValueError, match="n_frames=30"):
        FSVM().fit(X, y)  # 10-frame footprints, 30-frame model
    with pytest.raises(ValueError, match="n x N x 3"):
        FSVM(n_frames=10).fit(np.zeros((12, 10, 4)), y)
    with pytest.raises(ValueError, match="one label per video"):
        FSVM(n_frames=10).fit(X, y[:5])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not an F-SVM model"):
        FSVM.load(bad)
    with pytest.raises(FileNotFoundError):
        FSVM.load(tmp_path / "nothing.json")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FSVM().predict(X)


def test_fit_on_paths_and_detect(sim_set, sim_root):
    paths, y = sim_set.paths, sim_set.labels
    m = FSVM(n_frames=12).fit(paths, y)  # footprints computed from the videos
    np.testing.assert_allclose(m.decision_function(paths), m.decision_function(sim_set.footprints))
    r = m.detect(paths[-1])
    assert r.label == m.predict([paths[-1]])[0] and r.threshold == 0.0
    assert r.label_name in ("real", "fake") and len(r.sha256) == 64
    json.dumps(r.to_dict())
    assert len(r.plot().data) == 3 and len(r.table()) == 1


def test_few_shot_on_simulated_set(sim_set):
    # leave-one-out over 4 + 4 tiny simulated videos (each fit sees 7 videos); a static real
    # scene (all skip) is unlike any training video, so 6/8 is what this small set allows
    from sklearn.model_selection import LeaveOneOut

    acc = cross_val_score(FSVM(n_frames=12), sim_set.footprints, sim_set.labels, cv=LeaveOneOut())
    assert acc.mean() >= 0.75
    # shuffled labels must do worse: the score depends on the footprints, not on luck
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(sim_set.labels)
    while (shuffled == sim_set.labels).all():
        shuffled = rng.permutation(sim_set.labels)
    bad = cross_val_score(FSVM(n_frames=12), sim_set.footprints, shuffled, cv=LeaveOneOut())
    assert bad.mean() < acc.mean()
