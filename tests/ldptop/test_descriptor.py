"""LDP codes against hand-computed values and a per-pixel reference; LDP-TOP planes, bins, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from toolkit.ldptop import central_slices, descriptor, ldp_codes, ldp_histogram, window_starts
from toolkit.ldptop.descriptor import DIRECTIONS, derivative

# the 5 x 5 plane of the hand computation; its one code (pixel (2, 2)) per direction was worked out
# by hand from the definition (derivatives of the 3 x 3 centre, then the 8 comparisons Z1..Z8):
P = np.array(
    [
        [0, 0, 0, 0, 0],
        [0, 4, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 3, 0],
        [0, 0, 0, 0, 0],
    ],
    np.uint8,
)
# 0°: derivatives around the centre 4 0 0 / -1 [1] 0 / 0 -3 3 -> bits 0111 0011
HAND_THESIS = {0: 0b01110011, 45: 0b01110111, 90: 0b01110110, 135: 0b01111111}
HAND_ZHANG_0 = 0b01110111  # products with the centre 1: 4 0 0 | 0 3 -3 0 -1 -> > 0 gives 0

OFFSET = {0: (0, 1), 45: (-1, 1), 90: (-1, 0), 135: (-1, -1)}
RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def reference_codes(plane, direction, variant="thesis"):
    """Per-pixel loops straight from the definition (slow; tiny arrays only)."""
    a = np.asarray(plane, dtype=np.int64)
    h, w = a.shape
    dy, dx = OFFSET[direction]

    def d(y, x):
        return a[y, x] - a[y + dy, x + dx]

    out = np.zeros((h - 4, w - 4), np.int64)
    for y in range(2, h - 2):
        for x in range(2, w - 2):
            c, code = d(y, x), 0
            for i, (ry, rx) in enumerate(RING):
                n = d(y + ry, x + rx)
                bit = abs(c) >= abs(n) if variant == "thesis" else c * n <= 0
                code |= int(bit) << (7 - i)
            out[y - 2, x - 2] = code
    return out


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_hand_computed_codes(direction):
    assert ldp_codes(P, direction).tolist() == [[HAND_THESIS[direction]]]
    assert reference_codes(P, direction).tolist() == [[HAND_THESIS[direction]]]


def test_hand_computed_zhang_code_differs_from_the_thesis_rule():
    assert ldp_codes(P, 0, variant="zhang").tolist() == [[HAND_ZHANG_0]]
    assert HAND_ZHANG_0 != HAND_THESIS[0]


def test_derivative_direction_offsets():
    a = np.arange(25).reshape(5, 5)  # a[y, x] = 5y + x
    assert (derivative(a, 0) == -1).all()  # minus the right neighbour
    assert (derivative(a, 45) == 4).all()  # minus the upper right: 5y + x - (5(y-1) + x + 1)
    assert (derivative(a, 90) == 5).all()
    assert (derivative(a, 135) == 6).all()


def _volume_with_all_central_slices(plane):
    """A 5 x 5 x 5 volume whose XY, XT and YT central planes all equal ``plane`` (consistent here,
    since its central row equals its central column)."""
    v = np.zeros((5, 5, 5), np.uint8)
    v[2] = plane
    v[:, 2, :] = plane
    v[:, :, 2] = plane
    return v


def test_every_plane_and_direction_of_the_descriptor():
    assert np.array_equal(P[2], P[:, 2])
    v = _volume_with_all_central_slices(P)
    for s in central_slices(v):
        assert np.array_equal(s, P)
    d = descriptor(v, normalize=False, window=None).reshape(3, 4, 256)
    for p in range(3):
        for k, direction in enumerate(DIRECTIONS):
            assert np.flatnonzero(d[p, k]).tolist() == [HAND_THESIS[direction]]
            assert d[p, k].sum() == 1


def test_central_slice_orientation():
    T, H, W = 6, 7, 8
    t, y, x = np.meshgrid(np.arange(T), np.arange(H), np.arange(W), indexing="ij")
    v = 100 * t + 10 * y + x
    xy, xt, yt = central_slices(v)
    assert xy.shape == (H, W) and (xy == 300 + 10 * np.arange(H)[:, None] + np.arange(W)).all()
    assert xt.shape == (T, W) and (xt == 100 * np.arange(T)[:, None] + 30 + np.arange(W)).all()
    assert yt.shape == (T, H) and (yt == 100 * np.arange(T)[:, None] + 10 * np.arange(H) + 4).all()


def test_descriptor_planes_follow_the_volume_axes():
    # texture only along t: the XY plane is constant (all codes 255), XT / YT are not
    rng = np.random.default_rng(0)
    v = np.repeat(rng.integers(0, 255, (50, 1, 1), dtype=np.uint8), 20, axis=1).repeat(24, axis=2)
    d = descriptor(v, normalize=False).reshape(3, 4, 256)
    assert (d[0, :, 255] == d[0].sum(axis=1)).all()
    assert (d[1, :, 255] < d[1].sum(axis=1)).any() and (d[2, :, 255] < d[2].sum(axis=1)).any()


@pytest.mark.parametrize("variant", ["thesis", "zhang"])
def test_constant_video_gives_one_bin_per_histogram(variant):
    d = descriptor(np.full((50, 40, 30), 123, np.uint8), variant=variant).reshape(12, 256)
    assert (np.count_nonzero(d, axis=1) == 1).all()
    assert np.allclose(d[:, 255], 1.0)


def test_shape_counts_and_normalisation():
    rng = np.random.default_rng(1)
    v = rng.integers(0, 256, (50, 33, 21), dtype=np.uint8)
    counts = descriptor(v, normalize=False).reshape(3, 4, 256).sum(axis=2)
    assert counts[0].tolist() == [(33 - 4) * (21 - 4)] * 4  # XY: H x W
    assert counts[1].tolist() == [(50 - 4) * (21 - 4)] * 4  # XT: T x W
    assert counts[2].tolist() == [(50 - 4) * (33 - 4)] * 4  # YT: T x H
    d = descriptor(v)
    assert d.shape == (3072,) and np.allclose(d.reshape(12, 256).sum(axis=1), 1)


def test_short_or_bad_windows_are_refused():
    with pytest.raises(ValueError, match="49 frames but LDP-TOP windows have 50"):
        descriptor(np.zeros((49, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="T x H x W"):
        descriptor(np.zeros((50, 32), np.uint8))
    with pytest.raises(ValueError, match=">= 5"):
        descriptor(np.zeros((50, 4, 32), np.uint8))
    with pytest.raises(ValueError, match="direction"):
        ldp_codes(P, 30)
    with pytest.raises(ValueError, match="variant"):
        ldp_codes(P, 0, variant="lbp")


def test_input_is_not_modified():
    v = np.random.default_rng(2).integers(0, 256, (50, 16, 16), dtype=np.uint8)
    before = v.copy()
    descriptor(v)
    assert np.array_equal(v, before)


def test_window_starts_overlap_by_25():
    assert window_starts(100) == [0, 25, 50]
    assert window_starts(50) == [0]


planes = arrays(
    np.int64,
    st.tuples(st.integers(5, 9), st.integers(5, 9)),
    elements=st.one_of(st.integers(0, 3), st.integers(0, 255)),
)


@settings(max_examples=60, deadline=None)
@given(planes, st.sampled_from(DIRECTIONS), st.sampled_from(["thesis", "zhang"]))
def test_vectorised_codes_equal_the_per_pixel_definition(plane, direction, variant):
    assert np.array_equal(ldp_codes(plane, direction, variant), reference_codes(plane, direction, variant))


@settings(max_examples=40, deadline=None)
@given(planes, st.sampled_from(DIRECTIONS), st.integers(-50, 50))
def test_codes_ignore_a_brightness_offset_and_the_thesis_rule_ignores_a_sign_flip(plane, direction, c):
    codes = ldp_codes(plane, direction)
    assert np.array_equal(ldp_codes(plane + c, direction), codes)
    assert np.array_equal(ldp_codes(-plane, direction), codes)
    h = ldp_histogram(plane, direction)
    assert h.shape == (256,) and np.isclose(h.sum(), 1.0)
