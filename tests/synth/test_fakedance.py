"""FakeDance-like data: background, silhouettes, the two fake families, SSIM / Mask-SSIM."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.synth import fakedance as fd


def _scene(T=12, seed=0):
    rng = np.random.default_rng(seed)
    bg = rng.integers(60, 200, (48, 64, 3), dtype=np.uint8)
    frames = np.repeat(bg[None], T, axis=0).copy()
    masks = np.zeros((T, 48, 64), bool)
    for t in range(T // 2, T):  # a "person" walks in halfway and stays
        frames[t, 10:40, 20 + t : 30 + t] = 20
        masks[t, 10:40, 20 + t : 30 + t] = True
    return bg, frames, masks


def test_background_ignores_a_person_present_half_the_time():
    bg, frames, _ = _scene(T=12)
    assert np.array_equal(fd.background(frames, step=1), bg)


def test_silhouettes_find_the_person():
    bg, frames, masks = _scene()
    est = fd.silhouettes(frames, bg)
    assert not est[: len(frames) // 2].any()
    inter = (est & masks).sum() / masks.sum()
    assert inter > 0.9 and (est & ~masks).sum() < 0.1 * masks.sum()
    assert fd.person_segments(est, 3) == [6, 9]


def test_fit_fakes_change_the_whole_frame_and_splices_only_the_person():
    _, frames, masks = _scene()
    fit, splice, region = fd.make_fakes(frames, masks, seed=1)
    assert region[masks].all() and region.sum() > masks.sum()  # dilated
    assert np.array_equal(splice[~region], frames[~region])
    assert (fit[~region] != frames[~region]).mean() > 0.3  # the background is regenerated too
    assert (splice[region] != frames[region]).mean() > 0.3
    fit2, _, _ = fd.make_fakes(frames, masks, seed=1)
    assert np.array_equal(fit, fit2)  # seeded


def test_ssim_and_mask_ssim():
    _, frames, masks = _scene()
    fit, splice, region = fd.make_fakes(frames, masks, seed=2)
    s_fit = fd.ssim_scores(frames, fit)
    s_sp = fd.ssim_scores(frames, splice, region)
    assert 0 < s_fit["ssim"] < 1
    assert s_sp["ssim"] > s_fit["ssim"]  # the real background lifts the full-frame SSIM of a splice
    assert s_sp["mask_ssim"] < s_sp["ssim"]  # the mask confines it to the synthetic person
    assert fd.ssim_scores(frames, frames, masks)["mask_ssim"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        fd.ssim_scores(frames, frames[:2])
