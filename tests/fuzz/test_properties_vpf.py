"""Property tests (Hypothesis) for the pure numpy parts of VPF: ``vpf_signal`` and ``periodicity``.

Whatever they are given — strings, NaN, infinities, empty or mismatched arrays, huge values, odd
candidate periods — they return arrays of the documented shape and sign, or raise the documented
``ValueError`` with a sentence; never another exception.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.vpf import periodicity, vpf_signal

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

types_st = st.text(alphabet="IPB", max_size=40)
floats_st = st.floats(allow_nan=True, allow_infinity=True, width=64)
fractions_st = st.floats(0.0, 1.0, allow_nan=False)
junk_st = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.lists(st.text(max_size=2), max_size=5),
    st.integers(),
    st.lists(floats_st, max_size=40),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def _call(fn, *args, **kwargs):
    """Run ``fn``; a documented ValueError is fine, anything else fails the property."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        assert str(exc), "ValueError without a sentence"
        return None


@SETTINGS
@given(types_st, st.data())
def test_vpf_signal_on_valid_curves_is_non_negative_and_zero_at_i_frames(types, data):
    n = len(types)
    i = np.array(data.draw(st.lists(fractions_st, min_size=n, max_size=n)))
    s = np.array(data.draw(st.lists(fractions_st, min_size=n, max_size=n)))
    with_b = data.draw(st.booleans())
    fwd = bwd = None
    if with_b:
        fwd = np.array(data.draw(st.lists(fractions_st, min_size=n, max_size=n)))
        bwd = np.array(data.draw(st.lists(fractions_st, min_size=n, max_size=n)))
    e = vpf_signal(types, i, s, fwd, bwd)
    assert e.shape == (n,) and np.isfinite(e).all() and (e >= 0).all()
    t = np.array(list(types))
    assert (e[t == "I"] == 0).all() if n else True
    if n >= 1:
        assert e[0] == 0


@SETTINGS
@given(junk_st, junk_st, junk_st, st.one_of(st.none(), junk_st), st.booleans())
def test_vpf_signal_on_anything_raises_only_value_error(types, i, s, fwd, same):
    _call(vpf_signal, types, i, s, fwd, fwd, same_type=same)


@SETTINGS
@given(types_st, st.lists(floats_st, max_size=40), st.lists(floats_st, max_size=40))
def test_vpf_signal_on_nan_huge_and_mismatched_values(types, i, s):
    e = _call(vpf_signal, types, np.array(i), np.array(s))
    if e is not None:  # only finite curves of the right length are accepted
        assert len(i) == len(s) == len(types) and np.isfinite(i).all() and np.isfinite(s).all()
        assert e.shape == (len(types),) and not (e < 0).any()


def test_vpf_signal_documented_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="'I', 'P' or 'B'"):
        vpf_signal("IPX", np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        vpf_signal("IPP", np.array([0, np.nan, 0]), np.zeros(3))
    with pytest.raises(ValueError, match="length 3"):
        vpf_signal("IPP", np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="numbers"):
        vpf_signal("IPP", ["a", "b", "c"], np.zeros(3))


@SETTINGS
@given(
    st.lists(st.floats(0, 1e300, allow_nan=False), max_size=60),
    st.lists(st.integers(1, 70), max_size=10),
    st.floats(0, 10),
    st.integers(1, 6),
    st.data(),
)
def test_periodicity_on_valid_signals_has_one_value_per_candidate(e, cands, penalty, min_periods, data):
    n = len(e)
    blocked = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    fit, obs = periodicity(np.array(e), cands, blocked=blocked, penalty=penalty, min_periods=min_periods)
    assert fit.shape == obs.shape == (len(cands),) and (obs >= 0).all()
    if max(e, default=0) == 0:
        assert (fit == 0).all()  # no signal: every candidate equally unsupported
        return
    assert (fit[obs < min_periods] == -np.inf).all()
    if max(e) < 1e150:  # sums of huge values may overflow to inf - inf = nan; smaller ones never
        assert not np.isnan(fit).any()


@SETTINGS
@given(junk_st, st.one_of(junk_st, st.lists(st.integers(-5, 5), max_size=5)), junk_st, floats_st)
def test_periodicity_on_anything_raises_only_value_error(e, cands, blocked, penalty):
    _call(periodicity, e, cands, blocked=blocked, penalty=penalty)
    if isinstance(cands, list) and all(isinstance(c, int) for c in cands):
        _call(periodicity, np.ones(20), cands)


def test_periodicity_documented_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="whole numbers >= 1"):
        periodicity(np.ones(20), [0, 5])
    with pytest.raises(ValueError, match="finite"):
        periodicity(np.array([1.0, np.inf, 0.0]), [1])
    with pytest.raises(ValueError, match=">= 0"):
        periodicity(np.array([1.0, -1.0, 0.0]), [1])
    with pytest.raises(ValueError, match="length 3"):
        periodicity(np.ones(3), [1], blocked=np.zeros(2, bool))
    with pytest.raises(ValueError, match="penalty"):
        periodicity(np.ones(3), [1], penalty=float("nan"))
