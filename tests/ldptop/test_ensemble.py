"""Fusion and voting on hand-made probabilities; MLP ensemble training and its checkpoint round trip."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit import weights
from toolkit.ldptop import LDPTOPEnsemble, fuse_detectors, fuse_inputs, vote_parts, vote_windows
from toolkit.ldptop.ensemble import HIDDEN, make_mlp


def test_eq_4_1_mean_of_grey_and_flow():
    assert fuse_inputs([0.2, 1.0], [0.6, 0.0]).tolist() == pytest.approx([0.4, 0.5])
    with pytest.raises(ValueError, match="same shape"):
        fuse_inputs([0.2], [0.1, 0.3])
    with pytest.raises(ValueError, match="probabilities"):
        fuse_inputs([1.2], [0.1])


def test_majority_over_parts_not_the_mean():
    # two confident fake parts, three mildly real: the mean says fake, the majority says real
    p = [0.99, 0.98, 0.45, 0.45, 0.45]
    label, score = vote_parts(p)
    assert label == 0 and score == pytest.approx(np.mean(p)) and score > 0.5
    assert vote_parts([0.51, 0.51, 0.51, 0.0, 0.0]) == (1, pytest.approx(0.306))


def test_ties_and_missing_parts():
    assert vote_parts([0.8, 0.3])[0] == 1  # tie, mean 0.55 > 0.5
    assert vote_parts([0.6, 0.3])[0] == 0  # tie, mean 0.45
    assert vote_parts([0.5])[0] == 0  # argmax of [0.5, 0.5] is the first class (real)
    labels, scores = vote_parts([[0.9, np.nan, 0.2, 0.7], [np.nan, np.nan, 0.1, np.nan]])
    assert labels.tolist() == [1, 0] and scores.tolist() == pytest.approx([0.6, 0.1])
    with pytest.raises(ValueError, match="at least one part"):
        vote_parts([[np.nan, np.nan]])


def test_windows_voted_over_the_video():
    assert vote_windows([1, 1, 0], [0.6, 0.7, 0.0]) == (1, pytest.approx(1.3 / 3))
    assert vote_windows([0, 1], [0.1, 0.8]) == (0, pytest.approx(0.45))
    with pytest.raises(ValueError, match="one value per window"):
        vote_windows([1, 0], [0.5])


def test_detector_fusion_is_the_mean_probability():
    a, b = np.array([0.1, 0.9, 0.4]), np.array([0.7, 0.3, 0.4])
    assert fuse_detectors(a, b).tolist() == pytest.approx([0.4, 0.6, 0.4])
    assert fuse_detectors(a, b, weight=1.0).tolist() == pytest.approx(a.tolist())
    with pytest.raises(ValueError, match="same shape"):
        fuse_detectors(a, b[:2])


def test_mlp_architecture_is_the_seeds():
    m = make_mlp()
    assert m.hidden_layer_sizes == HIDDEN == (100, 100, 50, 25)
    assert (m.activation, m.solver, m.learning_rate_init, m.max_iter, m.n_iter_no_change) == (
        "relu",
        "adam",
        1e-3,
        300,
        10,
    )


def _toy(n=12, parts=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, parts, 2, 3072)) * 0.1
    y = np.r_[[0] * (n // 2), [1] * (n // 2)]
    X[y == 1, :, :, :50] += 0.5
    return X, y


def test_ensemble_trains_one_mlp_per_part_and_input_and_round_trips(tmp_path):
    X, y = _toy()
    X[0, 1] = np.nan  # part 2 missing in window 0
    m = LDPTOPEnsemble(parts=("FC", "LH"), max_iter=12).fit(X, y)
    assert sorted(m.mlps_) == [("FC", "flow"), ("FC", "grey"), ("LH", "flow"), ("LH", "grey")]
    p_in = m.input_probabilities(X)
    assert p_in.shape == (12, 2, 2) and np.isnan(p_in[0, 1]).all()
    parts = m.part_probabilities(X)
    assert parts[1:] == pytest.approx((p_in[1:, :, 0] + p_in[1:, :, 1]) / 2)
    assert (m.predict(X) == y).all()
    f = tmp_path / "m.pt"
    m.save(f, settings={"window": 50})
    back = weights.load(f, device="cpu")
    assert isinstance(back, LDPTOPEnsemble) and back.parts == ("FC", "LH") and back.settings == {"window": 50}
    assert np.allclose(back.input_probabilities(X), p_in, equal_nan=True, atol=1e-6)
    with pytest.raises(ValueError, match="features must be"):
        m.predict(X[:, :1])


def test_untrained_or_one_class_is_refused():
    X, y = _toy()
    with pytest.raises(ValueError, match="not trained"):
        LDPTOPEnsemble(parts=("FC", "LH")).predict(X)
    with pytest.raises(ValueError, match="both classes"):
        LDPTOPEnsemble(parts=("FC", "LH")).fit(X, np.zeros(12))
