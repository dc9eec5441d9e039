"""GOP estimation without divisor / multiple confusion (resolve_harmonics, analyze_counts)."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.video import macroblock_types
from toolkit.vpf import analyze, analyze_counts, periodicity, resolve_harmonics


def _train(n: int, period: int, *, missing=(), noise_period=None, noise=0.1, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    e[np.arange(period, n, period)] = 1.0 + jitter * rng.random(len(range(period, n, period)))
    for m in missing:
        e[m] = 0.0
    if noise_period:
        for k in range(noise_period, n, noise_period):
            if k % period:
                e[k] = noise
    return e


def _best(e, lo=6):
    c = np.arange(lo, len(e) // 3 + 1)
    f, _ = periodicity(e, c)
    return int(c[np.nanargmax(np.where(np.isfinite(f), f, -np.inf))]), c, f


def test_period_30_with_a_missing_peak_and_noise_at_10_is_30():
    e = _train(300, 30, missing=[150], noise_period=10, noise=0.08)
    best, c, f = _best(e)
    assert best == 10  # the fitness alone falls for the divisor
    assert resolve_harmonics(e, best, c, f) == 30


def test_period_24_with_noise_at_12_is_24():
    e = _train(300, 24, missing=[96], noise_period=12, noise=0.08, jitter=0.5, seed=1)
    best, c, f = _best(e)
    assert resolve_harmonics(e, best, c, f) == 24


def test_a_true_short_period_is_not_grown_into_a_multiple():
    e = _train(300, 12, missing=[36, 120], jitter=1.0, seed=2)
    best, c, f = _best(e)
    assert resolve_harmonics(e, best, c, f) == 12
    # handed a multiple as the best candidate, it comes back to the period
    assert resolve_harmonics(e, 24, c, f) == 12
    assert resolve_harmonics(e, 36, c, f) == 12


def test_a_multiple_whose_extra_frames_are_empty_wins():
    e = _train(300, 30, missing=[])
    c = np.arange(6, 101)
    f, _ = periodicity(e, c)
    assert resolve_harmonics(e, 15, c, f) == 30  # frames 15, 45, ... carry nothing


def test_blocked_frames_count_neither_way():
    e = _train(300, 20)
    blocked = np.zeros(300, bool)
    blocked[::40] = True  # every other peak falls on a current I-frame
    e[blocked] = 0.0
    c = np.arange(6, 101)
    f, _ = periodicity(e, c, blocked=blocked)
    assert resolve_harmonics(e, 40, c, f, blocked=blocked) in (20, 40)  # 40's multiples are all blocked
    assert resolve_harmonics(e, 10, c, f, blocked=blocked) == 20


def test_resolve_harmonics_refuses_bad_arguments():
    e = _train(100, 10)
    with pytest.raises(ValueError, match="divisor_ratio"):
        resolve_harmonics(e, 10, [10, 20], [1.0, 0.5], divisor_ratio=0)
    with pytest.raises(ValueError, match="same length"):
        resolve_harmonics(e, 10, [10, 20], [1.0])


def test_analyze_counts_equals_analyze_and_needs_the_mv_column():
    path = "sample_data/double/double_mpeg2_h264.mp4"
    full = analyze(path)
    again = analyze_counts(macroblock_types(path))
    assert (again.verdict, again.previous_gop, again.vpf_value) == (
        full.verdict,
        full.previous_gop,
        full.vpf_value,
    )
    assert np.array_equal(again.signal, full.signal)
    lean = macroblock_types(path, motion_vectors=False)
    assert analyze_counts(lean, acquisition="skip").previous_gop == 12
    with pytest.raises(ValueError, match="motion_vectors=True"):
        analyze_counts(lean, acquisition="zero_mv")
    with pytest.raises(TypeError):
        analyze_counts(path)
    with pytest.raises(ValueError, match="acquisition"):
        analyze_counts(lean, acquisition="mv")


def test_zero_mv_acquisition_raises_the_s_curve():
    mb = macroblock_types("sample_data/double/double_mpeg2_h264.mp4")
    skip = analyze_counts(mb, acquisition="skip")
    zmv = analyze_counts(mb, acquisition="zero_mv")
    assert (zmv.s_curve >= skip.s_curve - 1e-12).all() and (zmv.s_curve > skip.s_curve).any()
    assert zmv.params["acquisition"] == "zero_mv" and skip.params["acquisition"] == "skip"


def test_robust_fitness_does_not_call_one_scene_cut_periodic():
    e = np.random.default_rng(3).random(300) * 0.02
    e[156] = 1.0  # one scene cut: multiples of 78 (78, 156, 234) hold it once
    c = np.arange(6, 101)
    plain, _ = periodicity(e, c)
    robust, _ = periodicity(e, c, robust=True)
    assert plain[c == 78][0] > 0.7  # the plain fitness scores the lone peak as a train
    assert robust.max() <= 0.05
    # a real train keeps its score
    t = _train(300, 30, missing=[150], jitter=0.5, seed=4)
    pf, _ = periodicity(t, c)
    rf, _ = periodicity(t, c, robust=True)
    assert int(c[np.argmax(rf)]) == 30 and rf.max() == pytest.approx(pf.max())
