"""Dense FOCAL features equal the patch-by-patch CNN, faster; inputs are checked."""

import json
import time

import numpy as np
import pytest
import torch

from toolkit.focal import classify, features, features_patchwise, patch_grid
from toolkit.focal.features import dense_forward, to_luma


@pytest.mark.parametrize(
    "shape,stride",
    [((64, 64), 8), ((72, 88), 8), ((100, 131), 8), ((144, 176), 16), ((128, 200), 24), ((97, 203), 64)],
)
def test_dense_equals_patchwise(codec_net, shape, stride):
    rng = np.random.default_rng(sum(shape) + stride)
    frames = rng.integers(0, 256, (2, *shape), dtype=np.uint8)
    dense = features(frames, codec_net, stride=stride)
    ref = features_patchwise(frames, codec_net, stride=stride)
    pu, pv = patch_grid(*shape, stride)
    assert dense.descriptors.shape == (2, pu, pv, 64) and dense.probs.shape == (2, pu, pv, 4)
    assert np.abs(dense.descriptors - ref.descriptors).max() < 1e-5
    assert np.abs(dense.probs - ref.probs).max() < 1e-5
    # the descriptors really vary over the frame (a constant map would pass trivially otherwise)
    assert dense.descriptors.reshape(-1, 64).std(axis=0).mean() > 1e-3


def test_dense_equals_patchwise_on_a_real_frame(quality_net):
    from toolkit.synth.sources import photo_sequence

    frames = photo_sequence("camera_rgb", n_frames=1, size=(120, 152), seed=0)
    dense = features(frames, quality_net)
    ref = features_patchwise(frames, quality_net)
    assert np.abs(dense.descriptors - ref.descriptors).max() < 1e-5
    # conv5's window padding matters: ignoring it (plain whole-map conv5) would give other values
    assert np.abs(ref.descriptors[0, 1:-1, 1:-1]).max() > 0


def test_window_padding_is_reproduced(codec_net):
    """A broken dense version that reads conv5 from the un-padded whole map must differ."""
    y = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (1, 1, 96, 96))).float()
    d, _ = dense_forward(codec_net, y)
    a = codec_net.trunk(y)
    z = torch.relu(codec_net.bn5(codec_net.conv5(a)))  # conv5 once, padding only at the frame border
    naive = torch.stack(
        [codec_net.fc1(z[:, :, u : u + 7, v : v + 7].flatten(1)) for u in range(5) for v in range(5)]
    )
    ref = features_patchwise(y[0, 0].numpy().astype(np.uint8), codec_net).descriptors[0]
    assert np.abs(d[0].permute(1, 2, 0).numpy() - ref).max() < 1e-5
    assert np.abs(naive[:, 0].detach().numpy().reshape(5, 5, 64) - ref).max() > 1e-3


@pytest.mark.parametrize("height", [64, 79, 100, 141])
def test_trunk_strips_equal_one_pass(codec_net, height):
    """The strip-wise trunk reads each strip's exact receptive field: same map as one pass,
    including a last strip shorter than the others (a wrong receptive field or jump would lose
    or shift rows)."""
    from toolkit.focal.features import fused_trunk

    y = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (2, 1, height, 80))).float()
    threads = torch.get_num_threads()
    try:
        with torch.no_grad():
            whole = fused_trunk(codec_net, y, strip_rows=None)
            for n in (1, 2):  # strips in this thread, or spread over a pool of worker threads
                torch.set_num_threads(n)
                for rows in (1, 3, 8):
                    assert torch.equal(fused_trunk(codec_net, y, strip_rows=rows), whole)
                assert torch.get_num_threads() == n  # the pool leaves the caller's setting alone
    finally:
        torch.set_num_threads(threads)


def test_dense_is_much_faster_than_patch_loop(codec_net):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # CPU time without spin-waiting threads when the cores are shared
    frames = np.random.default_rng(1).integers(0, 256, (1, 160, 224), dtype=np.uint8)
    features(frames, codec_net)  # warm-up
    # CPU time of this process (all threads): robust to other jobs sharing the cores
    t = time.process_time()
    for _ in range(3):
        features(frames, codec_net)
    t_dense = (time.process_time() - t) / 3
    t = time.process_time()
    features_patchwise(frames, codec_net)
    t_patch = time.process_time() - t
    torch.set_num_threads(threads)
    # 285 patches; benchmarks/focal_features.py measures the ratio on larger frames (>= 20x)
    assert t_patch / t_dense > 10, (t_patch, t_dense)


def test_feature_map_result(codec_net, tmp_path):
    frames = np.random.default_rng(2).integers(0, 256, (3, 80, 96), dtype=np.uint8)
    fm = features(frames, codec_net, stride=8, start=1)
    assert list(fm.frame_index) == [1, 2]
    assert fm.classes == ("mpeg2", "mpeg4", "h264", "h265")
    np.testing.assert_allclose(fm.probs.sum(-1), 1, atol=1e-5)
    np.testing.assert_allclose(fm.frame_probs, fm.probs.mean(axis=(1, 2)), atol=1e-6)
    assert fm.frame_descriptors.shape == (2, 64)
    np.testing.assert_allclose(fm.frame_votes.sum(1), 1)
    assert fm.patch_box(2, 3) == (16, 24, 64, 64)
    d = json.loads(json.dumps(fm.to_dict()))
    assert d["grid"] == [3, 5] and len(d["frame_probs"]) == 2 and d["params"]["stride"] == 8
    t = fm.table()
    assert list(t["frame"]) == [1, 2] and set(t["label"]) <= set(fm.classes)
    fig = fm.plot(frame=1, channel="h264")
    assert fig.data[0].z.shape == (3, 5)
    np.testing.assert_allclose(np.asarray(fig.data[0].z), fm.probs[1, :, :, 2])
    assert np.allclose(np.asarray(fm.plot(channel="d5").data[0].z), fm.descriptors[0, :, :, 5])


def test_rgb_input_is_bt601_luma(codec_net):
    rgb = np.random.default_rng(3).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    y = to_luma(rgb)
    assert y.shape == (1, 64, 80)
    assert y[0, 0, 0] == np.clip(
        np.rint(16 + (65.481 * rgb[0, 0, 0] + 128.553 * rgb[0, 0, 1] + 24.966 * rgb[0, 0, 2]) / 255), 0, 255
    )
    np.testing.assert_array_equal(features(rgb, codec_net).probs, features(y, codec_net).probs)


def test_video_path_input(make_clip, codec_net):
    from toolkit.video import iter_luma

    path = make_clip("focal_feat.mp4", codec="h264", quality=30, gop=10)
    fm = features(path, codec_net, stride=32, count=3, step=2)
    assert list(fm.frame_index) == [0, 2, 4]
    lum = np.stack(list(iter_luma(path)))[[0, 2, 4]]
    ref = features(lum, codec_net, stride=32)
    np.testing.assert_allclose(fm.descriptors, ref.descriptors, atol=1e-6)
    from toolkit._util import sha256_file

    assert fm.sha256 == sha256_file(path) and fm.params["path"] == str(path)
    p = classify(path, codec_net, stride=32, count=2, device="cpu")
    assert list(p) == list(codec_net.classes) and abs(sum(p.values()) - 1) < 1e-6


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.zeros((63, 80), np.uint8), "smaller than one 64x64"),
        (np.zeros((2, 80, 40), np.uint8), "smaller than one 64x64"),
        (np.zeros((80, 80), np.float32), "uint8"),
        (np.zeros((80, 80), np.int64), "uint8"),
        (np.zeros((2, 80, 80, 4), np.uint8), "4 channels"),
        (np.zeros((80, 80, 2), np.uint8), "2 channels"),
        (np.zeros((1, 2, 80, 80, 3), np.uint8), "shape"),
        (np.zeros((0, 80, 80), np.uint8), "no frames"),
    ],
)
def test_bad_frames(codec_net, bad, match):
    with pytest.raises(ValueError, match=match):
        features(bad, codec_net)


def test_bad_arguments(codec_net, tmp_path):
    y = np.zeros((80, 80), np.uint8)
    for stride in (0, 4, 12, 8.5):
        with pytest.raises(ValueError, match="multiple of 8"):
            features(y, codec_net, stride=stride)
    with pytest.raises(ValueError, match="FocalNet or a name"):
        features(y, object())
    with pytest.raises(FileNotFoundError):
        features(tmp_path / "missing.mp4", codec_net)
    from toolkit.video import VideoReadError

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(VideoReadError):
        features(bad, codec_net)
