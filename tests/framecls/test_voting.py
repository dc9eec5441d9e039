"""Voting, window sampling and threshold recalibration on hand-made score sequences."""

import numpy as np
import pytest

from toolkit.framecls import (
    accuracy_at,
    decide,
    fps_indices,
    majority_vote,
    recalibrate_threshold,
    sample_windows,
    soft_vote,
)


def test_soft_vote_is_the_mean_and_differs_from_the_majority():
    # two confident fakes outvote three lukewarm reals under soft voting, not under majority voting
    s = np.array([0.99, 0.98, 0.4, 0.4, 0.4])
    assert soft_vote(s) == pytest.approx(s.mean())
    assert decide(s, 0.5, "soft") == ("synthetic", pytest.approx(0.634))
    assert majority_vote(s) == pytest.approx(0.4)
    assert decide(s, 0.5, "majority")[0] == "not_detected"


def test_majority_tie_is_inconclusive_and_empty_scores_are_inconclusive():
    assert decide([0.9, 0.1, 0.8, 0.2], vote="majority") == ("inconclusive", 0.5)
    verdict, score = decide([], vote="soft")
    assert verdict == "inconclusive" and np.isnan(score)
    with pytest.raises(ValueError, match="no frame scores"):
        soft_vote([])


@pytest.mark.parametrize("bad", [[0.2, np.nan], [1.5], [[0.1, 0.2]], [-0.1]])
def test_scores_must_be_probabilities(bad):
    with pytest.raises(ValueError):
        soft_vote(bad)


def test_threshold_is_strict():
    assert decide([0.5, 0.5], 0.5)[0] == "not_detected"
    assert decide([0.5, 0.5], 0.49)[0] == "synthetic"


def test_windows_cover_every_start_and_refuse_short_videos():
    w = sample_windows(30, 7)
    assert len(w) == 24 and all(len(x) == 7 for x in w)
    assert all(np.array_equal(x, np.arange(x[0], x[0] + 7)) for x in w)
    assert w[0][0] == 0 and w[-1][-1] == 29
    few = sample_windows(30, 7, max_windows=4)
    assert [int(x[0]) for x in few] == [0, 8, 15, 23]
    assert len(sample_windows(7, 7)) == 1
    with pytest.raises(ValueError, match="fewer than the sequence length 7"):
        sample_windows(6, 7)


def test_fps_indices_sample_two_frames_per_second():
    idx = fps_indices(75, 25.0, 2.0)  # 3 s of video at 25 fps -> 6 frames
    assert len(idx) == 6 and np.all(np.diff(idx) >= 12) and np.all(np.diff(idx) <= 13)
    assert fps_indices(10, 25.0, None).tolist() == list(range(10))
    assert fps_indices(10, 25.0, 50.0).tolist() == list(range(10))


def test_recalibration_recovers_separated_but_shifted_scores():
    # ch. 4: under compression mismatch, the classes stay separated (AUC 1) but all scores drop
    # below 0.5; a fixed 0.5 threshold calls everything real, the recalibrated one separates them
    real = np.array([0.02, 0.05, 0.08, 0.10])
    fake = np.array([0.20, 0.25, 0.31, 0.40])
    s, y = np.r_[real, fake], np.r_[[0] * 4, [1] * 4]
    assert accuracy_at(s, y, 0.5) == 0.5
    t = recalibrate_threshold(s, y)
    assert 0.10 < t < 0.20 and accuracy_at(s, y, t) == 1.0
    # with overlap the chosen threshold is still the best available
    s2 = np.r_[s, 0.3]
    y2 = np.r_[y, 0]
    t2 = recalibrate_threshold(s2, y2)
    grid = np.linspace(0, 1, 1001)
    assert accuracy_at(s2, y2, t2) == pytest.approx(max(accuracy_at(s2, y2, g) for g in grid))


def test_recalibration_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        recalibrate_threshold([0.1, 0.2], [0, 0])
