import numpy as np
import pytest

from toolkit.synth import MANIPULATIONS, apply
from toolkit.synth.manipulate import awgn, jpeg, median_filter, resize
from toolkit.synth.sources import PHOTOS, downscale, photo, photo_sequence


def test_fifteen_manipulations_of_table_ii():
    img = photo("astronaut")[:64, :64]
    assert len(MANIPULATIONS) == 15
    for name in MANIPULATIONS:
        out = apply(img, name)
        assert out.dtype == np.uint8 and out.ndim == 3
        if not name.startswith("resize"):
            assert out.shape == img.shape
    assert apply(img, "resize1.5").shape == (96, 96, 3)
    # each manipulation changes a textured image, stronger settings change it more
    diff = {n: np.abs(apply(img, n).astype(int)[:60, :60] - img[:60, :60]).mean() for n in MANIPULATIONS}
    assert diff["median7"] > diff["median3"] > 0
    assert diff["blur1.1"] > diff["blur0.5"] > 0
    assert diff["awgn2"] > diff["awgn0.5"] > 0
    assert diff["jpeg70"] > diff["jpeg90"] > 0


def test_manipulations_properties():
    flat = np.full((32, 32), 77, np.uint8)
    np.testing.assert_array_equal(median_filter(flat, 5), flat)  # a median keeps flat areas
    a, b = awgn(flat, 2.0, seed=1), awgn(flat, 2.0, seed=1)
    np.testing.assert_array_equal(a, b)  # seeded
    assert 1.5 < a.astype(float).std() < 2.5
    assert resize(flat, 1.125).shape == (36, 36)
    assert jpeg(flat, 90).shape == flat.shape
    with pytest.raises(ValueError, match="uint8"):
        apply(flat.astype(float), "median3")
    with pytest.raises(ValueError, match="unknown manipulation"):
        apply(flat, "sharpen")


def test_photo_sequences_are_seeded_and_move():
    a = photo_sequence("rocket", n_frames=5, size=(48, 64), seed=7)
    b = photo_sequence("rocket", n_frames=5, size=(48, 64), seed=7)
    c = photo_sequence("rocket", n_frames=5, size=(48, 64), seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.abs(a[0].astype(int) - a[-1]).mean() > 1  # the camera moves
    static = photo_sequence("rocket", n_frames=3, size=(48, 64), motion="static", noise=0)
    np.testing.assert_array_equal(static[0], static[2])
    for name in PHOTOS:
        assert photo(name).ndim == 3 and photo(name).dtype == np.uint8


def test_downscale_area_average():
    f = np.arange(16 * 16, dtype=np.uint8).reshape(16, 16)
    d = downscale(f, 2)
    assert d.shape == (8, 8)
    assert d[0, 0] == round((0 + 1 + 16 + 17) / 4)
