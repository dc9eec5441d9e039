"""FOCAL spatial splicing localization: activation, VER, fusion, pixel maps, widget, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from toolkit.focal import FocalNet, patch_grid
from toolkit.focal.spatial import (
    SpatialResult,
    activation,
    entropy,
    fuse,
    localize,
    patch_map_to_pixels,
    ver,
)
from toolkit.metrics import pixel_auc
from toolkit.synth import encode
from toolkit.synth.sources import photo_sequence
from toolkit.video import VideoReadError

from ._common import PatchMean
from ._shipped import needs_shipped_weights

ROOT = Path(__file__).resolve().parents[2]


BOX = (64, 96, 72, 80)  # top, left, h, w: about 11 % of a 192 x 256 frame, as the seed's window


@pytest.fixture(scope="module")
def box_video(tmp_path_factory):
    """6 frames 192x256 with a brighter box (the 'forged' region), H.264 QP 10, and its mask."""
    photo = photo_sequence("coffee", n_frames=6, size=(192, 256), seed=5).astype(np.float32)
    frames = 90 + 0.15 * (photo - photo.mean())  # low-contrast content, so the box stands out
    top, left, h, w = BOX
    frames[:, top : top + h, left : left + w] += 60
    frames = np.clip(frames, 0, 255).astype(np.uint8)
    mask = np.zeros((192, 256), bool)
    mask[top : top + h, left : left + w] = True
    path = encode(frames, tmp_path_factory.mktemp("sp") / "box.mp4", codec="h264", quality=10, gop=30)
    return path, mask


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return {
        "codec": FocalNet(4, classes=("mpeg2", "mpeg4", "h264", "h265")).eval(),
        "quality": FocalNet(4, classes=("delta5", "delta10", "delta20", "delta40")).eval(),
    }


# ------------------------------------------------------------------------------------------
# the method's steps (seed eqs. 15-17)
def test_activation_is_squared_deviation_from_the_frame_mean():
    rng = np.random.default_rng(0)
    f = rng.random((5, 7, 3))
    h = activation(f)
    for k in range(3):
        np.testing.assert_allclose(h[..., k], (f[..., k] - f[..., k].mean()) ** 2)
    np.testing.assert_allclose(activation(np.full((4, 4, 2), 0.3)), 0, atol=1e-20)
    med = activation(f, center="median")
    np.testing.assert_allclose(med[..., 1], (f[..., 1] - np.median(f[..., 1])) ** 2)
    with pytest.raises(ValueError, match="center"):
        activation(f, center="mode")


def test_entropy_and_ver():
    assert entropy(np.array([0.0, 0.0, 1.0, 1.0]), bins=2) == pytest.approx(1.0)
    assert entropy(np.ones(16), kind="spatial") == pytest.approx(4.0)  # uniform over 16 patches
    assert entropy(np.full(10, 3.0)) == 0.0
    h = np.zeros((8, 8, 3))
    h[2:4, 2:4, 0] = 1.0  # localized activation
    h[..., 1] = np.random.default_rng(1).random((8, 8))  # wide, noisy activation
    # map 2 stays idle
    v = ver(h)
    assert v[2] == 0.0 and v[0] > v[1] > 0
    np.testing.assert_allclose(v[0], h[..., 0].var() / entropy(h[..., 0]))
    assert ver(h, kind="spatial")[0] > ver(h, kind="spatial")[1]


def test_fuse_is_the_ver_weighted_mean():
    h = np.random.default_rng(2).random((4, 5, 3))
    w = np.array([2.0, 0.5, 0.0])
    np.testing.assert_allclose(fuse(h, w), (2 * h[..., 0] + 0.5 * h[..., 1]) / 2.5)
    np.testing.assert_allclose(fuse(h, w, include=[1]), h[..., 1])
    np.testing.assert_allclose(fuse(h, w, include=np.array([True, False, True])), h[..., 0])
    assert np.all(fuse(h, w, include=[2]) == 0)  # only a zero weight left


def test_ver_fusion_beats_the_plain_mean_when_some_maps_are_noise():
    rng = np.random.default_rng(3)
    h, w, s = 192, 256, 8
    mask = np.zeros((h, w), bool)
    top, left, bh, bw = BOX
    mask[top : top + bh, left : left + bw] = True
    pu, pv = patch_grid(h, w, s)
    inside = np.array(
        [[mask[i * s : i * s + 64, j * s : j * s + 64].mean() for j in range(pv)] for i in range(pu)]
    )
    good = [0.2 + 0.4 * inside + rng.normal(0, 0.02, inside.shape) for _ in range(2)]
    # wide, content-like maps whose activations vary as much as the good ones (seed Fig. 5, maps 6-7)
    noise = [0.5 + 0.5 * rng.random(inside.shape) for _ in range(4)]
    act = activation(np.stack(good + noise, axis=-1))
    assert act[..., 2:].var(axis=(0, 1)).min() > act[..., :2].var(axis=(0, 1)).max()
    weights = ver(act)
    assert weights[:2].min() > weights[2:].max()  # low entropy wins over the spread-out maps
    auc_ver = pixel_auc(mask, patch_map_to_pixels(fuse(act, weights), (h, w), s))
    auc_mean = pixel_auc(mask, patch_map_to_pixels(fuse(act, np.ones(6)), (h, w), s))
    assert auc_ver > 0.95 and auc_ver > auc_mean + 0.01


def test_patch_map_to_pixels():
    pm = np.zeros((3, 4))
    pm[1, 2] = 1.0
    tiles = patch_map_to_pixels(pm, (3 * 64 + 5, 4 * 64 + 3), stride=64)
    assert tiles.shape == (197, 259)
    assert tiles[64:128, 128:192].min() == 1.0 and tiles.sum() == 64 * 64  # one exact tile
    dense = patch_map_to_pixels(pm, (80, 88), stride=8)
    hot = np.zeros((3, 4))
    hot[1, 2] = 1.0
    d = patch_map_to_pixels(hot, (80, 88), stride=8)  # patch (1, 2): rows 8..71, cols 16..79
    assert d[8:72, 16:80].min() > 0 and d[:8].max() == 0 and d[:, :16].max() == 0 and d[:, 80:].max() == 0
    assert dense.shape == (80, 88)
    roi = patch_map_to_pixels(np.ones((1, 1)), (128, 128), stride=8, roi=(32, 40, 64, 64), fill=-1)
    assert roi[32:96, 40:104].min() == 1 and roi[0, 0] == -1


# ------------------------------------------------------------------------------------------
# end to end on encoded videos
def test_localize_finds_the_region_where_patch_features_differ(box_video):
    path, mask = box_video
    r = localize(path, models={"codec": PatchMean()}, features="codec", frames=range(3))
    assert isinstance(r, SpatialResult)
    assert r.heatmap.shape == mask.shape and r.frame_index == (0, 1, 2)
    assert r.feature_tensor.shape == (*patch_grid(192, 256, 8), 2)
    assert r.frame_features.shape == (3, *r.feature_tensor.shape)
    np.testing.assert_allclose(r.feature_tensor, r.frame_features.mean(axis=0))
    assert pixel_auc(mask, r.heatmap) > 0.9
    np.testing.assert_allclose(r.frame_view(None)["heatmap"], r.heatmap)
    single = r.frame_view(1)
    assert single["heatmap"].shape == mask.shape and pixel_auc(mask, single["heatmap"]) > 0.85
    table = r.table()
    assert list(table.index) == ["codec:bright", "codec:dark"] and table["weight"].sum() == pytest.approx(1)
    d = r.to_dict()
    json.dumps(d)
    assert d["params"]["stride"] == 8 and d["params"]["frames"] == [0, 1, 2] and len(d["sha256"]) == 64
    fig = r.plot()
    assert len(fig.data) == 2 + 2  # frame, fused map, one map per feature


def test_roi_stride_and_default_frames(box_video):
    path, mask = box_video
    r = localize(path, models={"codec": PatchMean()}, features="codec", roi=(0, 32, 192, 224), stride=16)
    assert r.frame_index == tuple(range(6))  # <= max_frames: every frame
    assert r.heatmap[:, :32].max() == 0
    assert r.feature_tensor.shape[:2] == patch_grid(192, 224, 16)
    assert pixel_auc(mask[:, 32:], r.heatmap[:, 32:]) > 0.85
    few = localize(path, models={"codec": PatchMean()}, features="codec", max_frames=2)
    assert few.frame_index == (0, 5)
    one = localize(np.asarray(few.frames[0]), models={"codec": PatchMean()}, features="codec")
    assert one.frame_index == (0,) and one.path is None


def test_focalnets_and_ver_widget(box_video, nets):
    from widgets import VERExplorer

    path, _ = box_video
    r = localize(path, frames=[0, 3], models=nets, stride=16)
    assert r.feature_names[0] == "codec:mpeg2" and r.feature_names[-1] == "quality:delta40"
    assert r.feature_tensor.shape[-1] == 8 and np.isfinite(r.heatmap).all()
    np.testing.assert_allclose(r.feature_tensor[..., :4].sum(axis=-1), 1, atol=1e-5)
    ex = VERExplorer(r)
    fused = [t for t in ex.figure.data if t.name == "fused"][0]
    np.testing.assert_allclose(np.asarray(fused.z), r.heatmap)
    ex.toggles[0].value = False  # drop codec:mpeg2 from the fusion
    fused = [t for t in ex.figure.data if t.name == "fused"][0]
    expect = r.frame_view(None, include=[False] + [True] * 7)["heatmap"]
    np.testing.assert_allclose(np.asarray(fused.z), expect)
    bars = [t for t in ex.figure.data if t.type == "bar"][0]
    assert list(bars.marker.color).count("#d3d3d3") == 1
    ex.average.value = False
    ex.frame.value = 1  # the second analysed frame alone
    fused = [t for t in ex.figure.data if t.name == "fused"][0]
    np.testing.assert_allclose(np.asarray(fused.z), r.frame_view(1, include=ex.included)["heatmap"])
    assert len(ex.maps.data) == 8


# ------------------------------------------------------------------------------------------
# bad inputs
def test_bad_inputs(tmp_path, box_video):
    path, _ = box_video
    ext = {"codec": PatchMean()}
    tiny = encode(photo_sequence("coffee", n_frames=2, size=(48, 64)), tmp_path / "tiny.mp4", quality=20)
    with pytest.raises(ValueError, match="smaller than one 64x64 patch"):
        localize(tiny, models=ext, features="codec")
    with pytest.raises(ValueError, match="smaller than one 64x64 patch"):
        localize(np.zeros((40, 80), np.uint8), models=ext, features="codec")
    with pytest.raises(FileNotFoundError):
        localize(tmp_path / "missing.mp4", models=ext, features="codec")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(VideoReadError):
        localize(junk, models=ext, features="codec")
    with pytest.raises(ValueError, match="does not exist"):
        localize(path, frames=[99], models=ext, features="codec")
    with pytest.raises(ValueError, match="multiple of 8"):
        localize(path, models=ext, features="codec", stride=20)
    with pytest.raises(ValueError, match="entropy_kind"):
        localize(path, models=ext, features="codec", entropy_kind="renyi")
    with pytest.raises(ValueError, match="roi"):
        localize(path, models=ext, features="codec", roi=(0, 0, 32, 300))
    with pytest.raises(ValueError, match="uint8"):
        localize(np.zeros((80, 80), np.float32), models=ext, features="codec")


def test_missing_weights_give_a_clear_error(monkeypatch, box_video):
    from toolkit import weights

    monkeypatch.setattr(weights, "available", lambda: [])
    with pytest.raises(weights.WeightsNotFoundError, match="python -m toolkit.focal.train"):
        localize(box_video[0])


@needs_shipped_weights
def test_shipped_models_on_the_sample_spatial_splice():
    from PIL import Image

    video = ROOT / "sample_data" / "spatial" / "spatial_splice.mp4"
    if not video.exists():
        pytest.skip("sample_data/spatial/spatial_splice.mp4 missing: python -m toolkit.synth.sample_data")
    mask = np.asarray(Image.open(str(video) + ".mask.png")) > 0
    r = localize(video, frames=range(2))
    assert pixel_auc(mask, r.heatmap) > 0.6
