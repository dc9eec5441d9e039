"""Hypothesis property tests of the pure numpy functions: any input gives a correct answer or a
documented ``ValueError`` (with a sentence), never another exception.

Covered: ``toolkit.metrics`` (roc, tpr_at_fpr, threshold_at_fpr), FOCAL ``distance_signal``,
the spatial VER steps (activation, entropy, ver, fuse, patch_map_to_pixels), ``patch_grid`` /
``check_budget``, the SRM residual chain (residuals, quantize, features), and
``toolkit.image.load_image`` on arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from toolkit import metrics
from toolkit.focal.features import check_budget, patch_grid
from toolkit.focal.spatial import activation, entropy, fuse, patch_map_to_pixels, ver
from toolkit.focal.temporal import distance_signal
from toolkit.image import load_image
from toolkit.residual.features import features, quantize, residuals

FAST = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
any_float = st.floats(allow_nan=True, allow_infinity=True)
odd_values = st.one_of(
    st.lists(st.one_of(any_float, st.integers(-5, 5), st.text(max_size=3), st.none()), max_size=12),
    st.text(max_size=8),
    st.just([]),
    st.just([[1, 2], [3]]),
)


def _only_value_error(fn, *args):
    """``fn(*args)``; a ``ValueError`` with a sentence is accepted, anything else fails the test."""
    try:
        return fn(*args)
    except ValueError as e:
        assert len(str(e)) > 10, f"unclear ValueError {e!r}"
        return None


# --- metrics -------------------------------------------------------------------------------
@FAST
@given(st.lists(st.tuples(st.booleans(), finite), min_size=2, max_size=40))
def test_roc_is_a_valid_curve_whose_auc_matches_the_pairwise_definition(pairs):
    y = np.array([int(a) for a, _ in pairs])
    s = np.array([b for _, b in pairs])
    if len(set(y)) < 2:
        with pytest.raises(ValueError, match="both"):
            metrics.roc(y, s)
        return
    r = metrics.roc(y, s)
    assert np.all(np.diff(r.fpr) >= 0) and np.all(np.diff(r.tpr) >= 0)
    assert r.fpr[0] == 0 and r.tpr[-1] == 1 and 0 <= r.auc <= 1
    pos, neg = s[y == 1], s[y == 0]
    pairwise = ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (
        pos.size * neg.size
    )
    assert r.auc == pytest.approx(pairwise)
    assert 0 <= metrics.tpr_at_fpr(y, s, 0.1) <= 1


@FAST
@given(odd_values, odd_values)
def test_roc_on_anything_else_is_a_sentence(labels, scores):
    _only_value_error(metrics.roc, labels, scores)


@FAST
@given(st.lists(finite, min_size=1, max_size=50), st.floats(0, 0.99))
def test_threshold_at_fpr_lets_at_most_the_asked_share_of_negatives_through(neg, fpr):
    t = metrics.threshold_at_fpr(neg, fpr)
    assert (np.asarray(neg) > t).mean() <= fpr + 1e-9


@FAST
@given(odd_values, st.floats(allow_nan=True))
def test_threshold_at_fpr_on_anything_else_is_a_sentence(neg, fpr):
    _only_value_error(metrics.threshold_at_fpr, neg, fpr)


# --- FOCAL ---------------------------------------------------------------------------------
@FAST
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 8)), elements=finite))
def test_distance_signal_is_the_squared_step_between_frames(f):
    d = distance_signal(f)
    assert d.shape == (len(f) - 1,) and np.all(d >= 0)
    np.testing.assert_allclose(d, ((f[1:] - f[:-1]) ** 2).sum(axis=1), rtol=1e-12)


@FAST
@given(
    st.one_of(
        odd_values, hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=3), elements=any_float)
    )
)
def test_distance_signal_on_anything_else_raises_only_value_error(x):
    _only_value_error(distance_signal, x)


prob_tensors = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4)),
    elements=st.floats(0, 1, allow_nan=False),
)


@FAST
@given(prob_tensors, st.sampled_from(["histogram", "spatial"]), st.integers(2, 40))
def test_ver_fusion_is_a_weighted_mean_of_non_negative_maps(f, kind, bins):
    act = activation(f)
    assert act.shape == f.shape and np.all(act >= 0)
    w = ver(act, bins=bins, kind=kind)
    assert w.shape == (f.shape[-1],) and np.all(np.isfinite(w)) and np.all(w >= 0)
    fused = fuse(act, w)
    assert fused.shape == f.shape[:2] and np.all(np.isfinite(fused))
    if w.sum() > 0:  # a weighted mean lies between the maps' extremes
        assert fused.min() >= act.min() - 1e-9 and fused.max() <= act.max() + 1e-9
    else:  # every map is flat: nothing stands out
        assert np.all(fused == 0)
    assert np.isfinite(entropy(act[..., 0], bins=bins, kind=kind))


@FAST
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([8, 16, 32]))
def test_patch_map_to_pixels_covers_the_frame_with_values_of_the_map(pu, pv, stride):
    pm = np.random.default_rng(pu * 10 + pv).random((pu, pv))
    h, w = (pu - 1) * stride + 64, (pv - 1) * stride + 64
    assert patch_grid(h, w, stride) == (pu, pv)
    pix = patch_map_to_pixels(pm, (h, w), stride)
    assert pix.shape == (h, w) and pix.min() >= pm.min() - 1e-12 and pix.max() <= pm.max() + 1e-12
    assert check_budget(3, (h, w), stride, 68) == 3 * pu * pv * 68 * 4


@FAST
@given(st.integers(-5, 5000), st.integers(-5, 5000), st.integers(-8, 64), st.integers(0, 10))
def test_patch_grid_and_budget_refuse_with_a_sentence(h, w, stride, frames):
    _only_value_error(patch_grid, h, w, stride)
    _only_value_error(lambda: check_budget(frames, (h, w), stride, 68, max_bytes=10**7))


@FAST
@given(odd_values)
def test_activation_on_anything_else_raises_only_value_error(x):
    _only_value_error(activation, x)


# --- residual (SRM) and images ---------------------------------------------------------------
@FAST
@given(hnp.arrays(np.uint8, st.tuples(st.integers(7, 24), st.integers(7, 24))))
def test_srm_chain_digits_and_feature_are_well_formed(g):
    rh, rv = residuals(g)
    assert rh.shape == (g.shape[0], g.shape[1] - 3) and rv.shape == (g.shape[0] - 3, g.shape[1])
    x = g.astype(np.int64)
    np.testing.assert_array_equal(rh, x[:, :-3] - 3 * x[:, 1:-2] + 3 * x[:, 2:-1] - x[:, 3:])
    d = quantize(rh)
    assert set(np.unique(d)) <= {0, 1, 2}
    np.testing.assert_array_equal(d, np.clip(np.rint(rh / 4.5), -1, 1) + 1)
    f = features(g)
    assert f.shape == (162,) and np.all(f >= 0)
    assert f[:81].sum() == pytest.approx(1) and f[81:].sum() == pytest.approx(1)


image_arrays = hnp.arrays(
    st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int32, np.bool_]),
    st.one_of(
        st.tuples(st.integers(0, 12), st.integers(0, 12)),
        st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(1, 5)),
        st.tuples(st.integers(1, 3)),
    ),
)


@FAST
@given(image_arrays)
def test_load_image_on_any_array_gives_rgb_uint8_or_a_sentence(a):
    before = a.copy()
    out = _only_value_error(load_image, a)
    assert np.array_equal(a, before, equal_nan=a.dtype.kind == "f")  # never modified
    if out is not None:
        assert out.dtype == np.uint8 and out.shape == (*a.shape[:2], 3)
