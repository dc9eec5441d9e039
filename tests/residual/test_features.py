import numpy as np
import pytest

from toolkit.residual import analyze, feature_counts, features, features_batch
from toolkit.residual.features import code_digits


def reference_counts(g: np.ndarray, delta: float = 4.5) -> np.ndarray:
    """Literal per-pixel implementation of the seed's section II (slow, for small images only)."""
    g = g.astype(float)
    h, w = g.shape
    wf = [1, -3, 3, -1]
    rh = np.array([[sum(wf[t] * g[i, j + t] for t in range(4)) for j in range(w - 3)] for i in range(h)])
    rv = np.array([[sum(wf[t] * g[i + t, j] for t in range(4)) for j in range(w)] for i in range(h - 3)])
    dh, dv = np.clip(np.rint(rh / delta), -1, 1) + 1, np.clip(np.rint(rv / delta), -1, 1) + 1
    c = np.zeros(162, int)
    p = [27, 9, 3, 1]
    for i in range(h):
        for j in range(w - 6):
            c[int(sum(p[t] * dh[i, j + t] for t in range(4)))] += 1
    for i in range(h - 6):
        for j in range(w):
            c[int(sum(p[t] * dv[i + t, j] for t in range(4)))] += 1
    for i in range(h - 3):
        for j in range(w - 3):
            c[81 + int(sum(p[t] * dh[i + t, j] for t in range(4)))] += 1
            c[81 + int(sum(p[t] * dv[i, j + t] for t in range(4)))] += 1
    return c


@pytest.mark.parametrize("shape,noise", [((17, 23), 255), ((20, 20), 4), ((9, 31), 8)])
def test_counts_match_literal_reference(shape, noise):
    rng = np.random.default_rng(sum(shape))
    g = np.clip(128 + rng.normal(0, noise, shape), 0, 255).astype(np.uint8)
    ref = reference_counts(g)
    assert ref[40] < ref[:81].sum()  # not a degenerate all-zero-code image
    np.testing.assert_array_equal(feature_counts(g)[0], ref)


def test_feature_properties(photo_patches):
    f = features_batch(photo_patches)
    assert f.shape == (len(photo_patches), 162)
    np.testing.assert_allclose(f[:, :81].sum(1), 1.0)
    np.testing.assert_allclose(f[:, 81:].sum(1), 1.0)
    # pooled over the image and its transpose: the feature is transpose-invariant
    np.testing.assert_allclose(features_batch(photo_patches.transpose(0, 2, 1)), f)
    # batch == one by one
    np.testing.assert_allclose(features(photo_patches[3]), f[3])
    # natural patches differ from each other
    assert np.abs(f[0] - f[5]).sum() > 0.05


def test_rgb_uses_green_band():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    np.testing.assert_array_equal(features(rgb), features(rgb[..., 1]))
    assert not np.allclose(features(rgb), features(rgb[..., 0]))


def test_flat_and_known_pattern():
    np.testing.assert_array_equal(np.nonzero(features(np.zeros((16, 16), np.uint8)))[0], [40, 121])
    # a vertical step edge: the row residual is +-3*step around it -> codes away from 40
    g = np.zeros((16, 16), np.uint8)
    g[:, 8:] = 100
    f = features(g)
    assert f[40] < 1.0 and f[121] < 1.0
    # the residual of a step of 100 at columns 5..7 is -100, +200 ... quantised to -1, +1 digits
    a = analyze(g)
    assert set(np.unique(a.digits_h)) == {0, 1, 2}
    assert code_digits(40).tolist() == [0, 0, 0, 0]
    assert code_digits(80).tolist() == [1, 1, 1, 1]


def test_delta_matters():
    g = np.clip(128 + np.random.default_rng(1).normal(0, 3, (32, 32)), 0, 255).astype(np.uint8)
    assert not np.allclose(features(g, delta=4.5), features(g, delta=12.0))


def test_analysis_result(tmp_path):
    g = np.random.default_rng(2).integers(0, 256, (20, 24), dtype=np.uint8)
    a = analyze(g)
    # along: H(W-6) rows + (H-6)W columns; across: 2 (H-3)(W-3)
    assert a.counts[:81].sum() == 20 * 18 + 14 * 24 and a.counts[81:].sum() == 2 * 17 * 21
    assert len(a.sha256) == 64 and a.params["delta"] == 4.5
    t = a.table()
    assert len(t) == 81 and t["along"].sum() == 20 * 18 + 14 * 24
    assert a.plot().data[0].y.shape == (162,)
    assert a.plot("residual").data and a.plot("codes").data
    assert a.to_dict()["shape"] == [20, 24]
