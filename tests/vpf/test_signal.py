"""The VPF building blocks on hand-made per-frame counts (no decoding)."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.vpf import mb_curves, periodicity, vpf_signal


def test_mb_curves_replace_current_i_frames_by_previous_value():
    types = "IPPIPP"
    intra = [396, 5, 7, 396, 9, 4]
    skip = [0, 100, 90, 0, 80, 70]
    i, s = mb_curves(types, intra, skip, 396)
    assert i[3] == pytest.approx(7 / 396) and s[3] == pytest.approx(90 / 396)
    # frame 0 has no previous frame: it takes the first predicted frame's value
    assert i[0] == pytest.approx(5 / 396) and s[0] == pytest.approx(100 / 396)
    assert i[4] == pytest.approx(9 / 396)


def test_all_intra_curves_are_zero():
    i, s = mb_curves("III", [10, 10, 10], [0, 0, 0], 10)
    assert not i.any() and not s.any()


def test_signal_needs_intra_up_and_skip_down_together():
    t = "IPPPPPP"
    base_i = np.full(7, 0.1)
    base_s = np.full(7, 0.5)
    i, s = base_i.copy(), base_s.copy()
    i[3], s[3] = 0.4, 0.2  # the VPF: more I-MBs and fewer S-MBs in one frame
    e = vpf_signal(t, i, s)
    assert np.flatnonzero(e).tolist() == [3]
    assert e[3] == pytest.approx(2 * 0.3 * 0.3)
    # I-MBs rise but S-MBs rise too: no VPF
    s2 = base_s.copy()
    s2[3] = 0.7
    assert not vpf_signal(t, i, s2).any()
    # the effect on a current I-frame is ignored
    assert not vpf_signal("IPPIPPP", i, s).any()


def test_signal_with_b_frames_compares_same_types_and_moves_peak_into_b_run():
    t = np.array(list("IBBPBBPBBPBBP"))
    n = len(t)
    # B-frames: many skips, few intra; P-frames: fewer skips (a type pattern, not a VPF)
    i = np.where(t == "B", 0.01, 0.05)
    s = np.where(t == "B", 0.6, 0.3)
    assert not vpf_signal(t, i, s).any()  # the P/B alternation alone is no VPF
    i2, s2 = i.copy(), s.copy()
    i2[9], s2[9] = 0.3, 0.1  # P-frame 9 shows the VPF ...
    fwd = np.full(n, 0.5)
    bwd = np.full(n, 0.2)
    bwd[8] = 0.7  # ... and B-frame 8 leans on the future: the first I-frame was frame 8
    e = vpf_signal(t, i2, s2, fwd, bwd)
    assert np.flatnonzero(e).tolist() == [8]
    e_noshift = vpf_signal(t, i2, s2, fwd, bwd, shift_b=False)
    assert np.flatnonzero(e_noshift).tolist() == [9]


def test_periodicity_finds_the_period_and_not_its_divisors_or_multiples():
    rng = np.random.default_rng(0)
    e = np.zeros(300)
    e[np.arange(22, 300, 22)] = rng.uniform(0.5, 1.0, len(range(22, 300, 22)))
    e[rng.choice(300, 8, replace=False)] += rng.uniform(0, 0.3, 8)  # scattered noise
    cands = np.arange(6, 101)
    fit, obs = periodicity(e, cands)
    assert cands[np.argmax(fit)] == 22
    f22, f11, f44 = (fit[cands == c][0] for c in (22, 11, 44))
    assert f22 > f11 + 1.0  # a divisor pays for its missing peaks
    assert f22 > f44 + 5.0  # a multiple sees half the peaks as noise at phase 22
    assert obs[cands == 22][0] == len(range(22, 300, 22))


def test_periodicity_of_random_peaks_is_low():
    rng = np.random.default_rng(1)
    e = np.zeros(250)
    e[rng.choice(250, 25, replace=False)] = rng.uniform(0.1, 1.0, 25)
    fit, _ = periodicity(e, np.arange(6, 84))
    assert np.nanmax(fit[np.isfinite(fit)]) < 1.5


def test_periodicity_ignores_blocked_frames_and_needs_enough_periods():
    e = np.zeros(100)
    e[[20, 60]] = 1.0  # 40 and 80 are I-frames now: they cannot show the effect
    blocked = np.zeros(100, bool)
    blocked[[0, 40, 80]] = True
    fit, obs = periodicity(e, [20], blocked=blocked, min_periods=2)
    assert obs[0] == 2 and fit[0] == pytest.approx(2.0)
    fit3, _ = periodicity(e, [20], blocked=blocked, min_periods=3)
    assert fit3[0] == -np.inf


def test_b_lean_marks_the_b_frame_that_leans_on_its_future():
    types = "IBBPBBPBBPBBP"
    n = len(types)
    i = np.full(n, 0.02)
    s = np.full(n, 0.5)
    fwd = np.full(n, 0.3)
    bwd = np.full(n, 0.3)
    fwd[7], bwd[7] = 0.05, 0.6  # an old I-frame on B-frame 7: it resembles the frames after it
    off = vpf_signal(types, i, s, fwd, bwd, same_type=True, b_lean=0.0)
    on = vpf_signal(types, i, s, fwd, bwd, same_type=True, b_lean=1.0)
    assert not off.any()
    assert int(np.argmax(on)) == 7 and on[7] == pytest.approx(0.55 * 0.55)
    assert np.count_nonzero(on) == 1
    # P-frames are untouched by the lean
    fwd2, bwd2 = fwd.copy(), bwd.copy()
    fwd2[6], bwd2[6] = 0.05, 0.6
    assert vpf_signal(types, i, s, fwd2, bwd2, same_type=True, b_lean=1.0)[6] == 0.0
