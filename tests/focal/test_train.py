"""FOCAL training data and trainer: exact crop training, splits, a tiny run that learns."""

import numpy as np
import pytest
import torch

from toolkit.focal import data
from toolkit.focal.data import (
    SourceSpec,
    build_split,
    encode_configs,
    patch_variance,
    split_sources,
)
from toolkit.focal.train import CropSampler, crop_logits, evaluate, model_card, source_bootstrap_ci, train

from ._common import toy_split as _toy_split


def test_crop_logits_equal_single_patches(codec_net):
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 1, 96, 96))).float()
    out = crop_logits(codec_net, x)
    assert tuple(out.shape) == (2, 5, 5, 4)
    for b, u, v in [(0, 0, 0), (1, 4, 4), (0, 2, 3), (1, 0, 4)]:
        patch = x[b : b + 1, :, 8 * u : 8 * u + 64, 8 * v : 8 * v + 64]
        assert torch.allclose(out[b, u, v], codec_net(patch)[0], atol=1e-5)
    with pytest.raises(ValueError, match="64 \\+ 8k"):
        crop_logits(codec_net, torch.zeros(1, 1, 70, 70))


def test_patch_variance_matches_numpy():
    y = np.random.default_rng(1).integers(0, 256, (96, 120), dtype=np.uint8)
    v = patch_variance(y)
    assert v.shape == (5, 8)
    for u, w in [(0, 0), (4, 7), (2, 5)]:
        assert v[u, w] == pytest.approx(
            y[8 * u : 8 * u + 64, 8 * w : 8 * w + 64].astype(float).var(), rel=1e-9
        )


def test_splits_are_source_disjoint():
    s = split_sources()
    names = {k: {(x.kind, x.name) for x in v} for k, v in s.items()}
    assert not names["train"] & names["val"] and not names["train"] & names["test"]
    assert not names["val"] & names["test"]
    assert all(any(x.kind == "real" for x in v) for v in s.values())
    # the codec task's data version 2 adds sources, still disjoint, and keeps the quality lists
    c = split_sources("codec")
    cn = {k: {(x.kind, x.name) for x in v} for k, v in c.items()}
    assert not cn["train"] & cn["val"] and not cn["train"] & cn["test"] and not cn["val"] & cn["test"]
    assert all(names[k] <= cn[k] for k in names)
    assert len(cn["test"]) == 8 and len(cn["train"]) == 17
    assert split_sources("quality") == s
    with pytest.raises(ValueError, match="task"):
        split_sources("resolution")


def test_encode_configs_follow_the_seed():
    from toolkit.synth import quality_to_delta

    q = encode_configs("quality", np.random.default_rng(0))
    assert len(q) == 12 and {c["codec"] for c in q} == {"mpeg2", "mpeg4", "h264"}
    for c in q:
        expected = max(c["delta"], 8) if c["codec"] != "h264" else c["delta"]  # MPEG's smallest step is 8
        assert quality_to_delta(c["codec"], c["quality"]) == pytest.approx(expected, rel=0.1)
        assert c["label"] == (5, 10, 20, 40).index(c["delta"])
    cfg = encode_configs("codec", np.random.default_rng(0), size=(240, 320))
    assert len(cfg) == 12 and [c["label"] for c in cfg] == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    rates = [c["bitrate"] for c in cfg if c["rate_control"] in ("cbr", "vbr")]
    area = 240 * 320 / (1280 * 720)
    assert set(rates) <= {int(m * 1e6 * area) for m in (2, 4, 6)} and len(rates) == 8
    # explicit encoder threads (data version 2): 1 or 4, and 1 for x264/x265 rate control (bit-exact)
    assert {c["threads"] for c in cfg} <= {1, 4}
    assert all(c["threads"] == 1 for c in cfg if c["codec"] in ("h264", "h265") and c["rate_control"] != "q")
    many = [c for k in range(20) for c in encode_configs("codec", np.random.default_rng(k))]
    assert {c["threads"] for c in many if c["rate_control"] == "q" and c["codec"] == "h264"} == {1, 4}
    # data version 3: x264/x265 capped at AVX2 on x86-64 (bit-exact rate control), MPEG untouched
    from toolkit.synth.encode import is_x86_64

    x86 = is_x86_64()
    assert all(c["simd"] == ("avx2" if x86 and c["codec"] in ("h264", "h265") else "auto") for c in cfg)
    with pytest.raises(ValueError, match="task"):
        encode_configs("resolution", np.random.default_rng(0))


@pytest.fixture(scope="module")
def tiny_quality_split():
    return build_split(
        "quality", [SourceSpec("photo", "brick_rgb", seed=0)], frames_per_video=2, n_frames=4, size=(80, 96)
    )


def test_build_split_quality(tiny_quality_split, tmp_path):
    s = tiny_quality_split
    assert s.frames.shape == (24, 80, 96) and s.frames.dtype == np.uint8
    assert sorted(np.bincount(s.labels)) == [6, 6, 6, 6]
    assert list(s.frame_index[:2]) == [0, 3]
    # variance threshold of the seed
    np.testing.assert_array_equal(s.valid[5], patch_variance(s.frames[5]) > 1e3)
    # larger quantisation step -> further from the pristine frames
    src = SourceSpec("photo", "brick_rgb", seed=0).frames(4, (80, 96))
    from toolkit.focal.features import rgb_to_luma

    ref = rgb_to_luma(src[0]).astype(float)
    mse = [
        np.mean(
            [
                (s.frames[i].astype(float) - ref) ** 2
                for i in np.flatnonzero((s.labels == k) & (s.frame_index == 0))
            ]
        )
        for k in range(4)
    ]
    assert mse == sorted(mse) and mse[3] > 4 * mse[0]
    f = data.save_split(s, tmp_path / "q.npz")
    back = data.load_split(f)
    np.testing.assert_array_equal(back.frames, s.frames)
    assert back.videos == s.videos and back.classes == s.classes


def test_segments_are_other_takes_of_the_same_source(monkeypatch, tmp_path):
    photo = SourceSpec("photo", "brick_rgb", seed=3)
    clip = SourceSpec("real", "walk.mkv")
    assert photo.segment(0) == photo and photo.segment(2).seed == 2003 and photo.segment(2).name == photo.name
    assert clip.segment(1).start == 8 and clip.segment(1).name == clip.name
    a, b = photo.frames(2, (64, 80)), photo.segment(1).frames(2, (64, 80))
    assert a.shape == b.shape and not np.array_equal(a, b)  # another camera path over the photo
    np.testing.assert_array_equal(clip.segment(1).frames(2, (64, 80))[0], clip.frames(10, (64, 80))[8])
    with pytest.raises(ValueError, match="segment"):
        photo.segment(-1)
    s = build_split("quality", [photo], frames_per_video=1, n_frames=2, size=(64, 80), segments=2)
    assert len(s.videos) == 24 and s.sources == ["photo:brick_rgb"]  # 2 takes x 12 encodes, one source
    with pytest.raises(ValueError, match="segments"):
        build_split("quality", [photo], segments=0)
    # build_dataset enlarges the training split only, under its own file name
    calls = []

    def fake_build_split(task, srcs, **kw):
        calls.append((srcs[0].name, kw["frames_per_video"], kw["segments"]))
        return s

    monkeypatch.setattr(data, "build_split", fake_build_split)
    srcs = {
        k: [SourceSpec("photo", n)]
        for k, n in (("train", "brick_rgb"), ("val", "grass_rgb"), ("test", "coffee"))
    }
    paths = data.build_dataset("quality", tmp_path, sources=srcs, train_segments=3, train_frames_per_video=10)
    assert calls == [("brick_rgb", 10, 3), ("grass_rgb", 6, 1), ("coffee", 6, 1)]
    assert paths["train"].name == "quality_train_s3f10.npz" and paths["test"].name == "quality_test.npz"
    data.build_dataset("quality", tmp_path, sources=srcs, train_segments=3, train_frames_per_video=10)
    assert len(calls) == 3  # reused, not rebuilt


def test_crop_sampler_alignment_and_masks():
    s = _toy_split(0)
    s.valid[:, 0, :] = False
    sampler = CropSampler(s, crop=80)
    x, y, m = sampler.sample(16, np.random.default_rng(0))
    assert x.shape == (16, 1, 80, 80) and m.shape == (16, 3, 3)
    for k in range(16):
        frame = s.frames[s.labels == int(y[k])]
        # every crop is a grid-aligned window of a frame of its class
        found = any(
            np.array_equal(f[8 * u : 8 * u + 80, 8 * v : 8 * v + 80], x[k, 0].numpy())
            for f in frame
            for u in range(3)
            for v in range(3)
        )
        assert found
    assert m.sum() > 0 and not m.all()  # row 0 positions are masked out
    with pytest.raises(ValueError, match="crop"):
        CropSampler(s, crop=100)


def test_tiny_training_run_learns_and_selects_best_epoch():
    splits = {"train": _toy_split(0), "val": _toy_split(1, 4), "test": _toy_split(2, 4)}
    res = train(
        "codec",
        splits=splits,
        epochs=3,
        crops_per_epoch=48,
        crop=80,
        batch_size=72,
        lr=1e-3,
        val_patches=None,
        threads=1,
        progress=False,
    )
    h = res.history
    assert [e["epoch"] for e in h] == [1, 2, 3]
    assert h[-1]["train_loss"] < h[0]["train_loss"]
    assert res.best_epoch == 1 + int(np.argmin([e["val_loss"] for e in h]))
    assert res.test["patch_accuracy"] > 0.9, res.test
    assert res.test["frame_accuracy_mean"] > 0.9
    assert res.net.classes == ("a", "b", "c", "d") and not res.net.training
    # the selected weights are those of the best epoch: re-evaluating gives its validation loss
    best_val = h[res.best_epoch - 1]["val_loss"]
    assert evaluate(res.net, splits["val"])["loss"] == pytest.approx(best_val, rel=1e-4, abs=1e-6)
    # per-frame output: the mean patch probabilities behind the frame accuracy
    ev = evaluate(res.net, splits["test"], per_frame=True)
    assert ev["frame_probs"].shape == (ev["n_frames"], 4) and len(ev["frames"]) == ev["n_frames"]
    assert np.allclose(ev["frame_probs"].sum(1), 1, atol=1e-5)
    hits = ev["frame_probs"].argmax(1) == splits["test"].labels[ev["frames"]]
    assert hits.mean() == pytest.approx(res.test["frame_accuracy_mean"])
    assert "frame_probs" not in res.test  # the default result stays JSON-friendly
    assert len(res.table()) == 3 and len(res.plot().data) == 3
    assert res.test["frame_accuracy_by_source"] == {"toy2": res.test["frame_accuracy_mean"]}
    assert res.test["frame_accuracy_ci95_over_sources"] is None  # one source: no interval
    assert res.params["data_version"] is None  # the caller's own splits
    with pytest.raises(ValueError, match="task"):
        train("resolution", splits=splits)
    with pytest.raises(ValueError, match="splits"):
        train("codec", splits={"train": splits["train"]})


def test_bf16_training_learns_and_ships_a_float32_model(tmp_path):
    from toolkit.focal import load_model, save_model

    splits = {"train": _toy_split(0), "val": _toy_split(1, 4), "test": _toy_split(2, 4)}
    res = train(
        "codec",
        splits=splits,
        epochs=3,
        crops_per_epoch=48,
        crop=80,
        batch_size=72,
        lr=1e-3,
        val_patches=None,
        threads=1,
        progress=False,
        precision="bf16",
    )
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    assert res.test["patch_accuracy"] > 0.9, res.test
    assert res.params["precision"] == "bf16" and "bfloat16" in model_card(res, "cmd")
    # the returned network is float32 in the standard layout, and survives save / load unchanged
    for k, v in res.net.state_dict().items():
        assert v.dtype in (torch.float32, torch.int64) and v.is_contiguous(), k
    save_model(res.net, tmp_path / "sub" / "bf16.pt")  # a missing parent folder is created
    back = load_model(tmp_path / "sub" / "bf16.pt")
    x = torch.from_numpy(splits["test"].frames[:2, None, :64, :64]).float()
    with torch.no_grad():
        assert torch.equal(back(x), res.net(x))
    # seeded and deterministic: a second run gives the same weights, bit for bit
    again = train(
        "codec",
        splits=splits,
        epochs=3,
        crops_per_epoch=48,
        crop=80,
        batch_size=72,
        lr=1e-3,
        val_patches=None,
        threads=1,
        progress=False,
        precision="bf16",
    )
    for k, v in res.net.state_dict().items():
        assert torch.equal(v, again.net.state_dict()[k]), k
    with pytest.raises(ValueError, match="precision"):
        train("codec", splits=splits, epochs=1, precision="fp16")


def test_second_stage_continues_from_a_checkpoint(tmp_path):
    import hashlib
    import json

    from toolkit.focal import FocalNet, save_model

    splits = {"train": _toy_split(0), "val": _toy_split(1, 4), "test": _toy_split(2, 4)}
    kw = dict(
        splits=splits, crops_per_epoch=24, crop=80, batch_size=72, val_patches=None, threads=1, progress=False
    )
    first = train("codec", epochs=1, lr=1e-3, **kw)
    ck = tmp_path / "stage1.pt"
    save_model(first.net, ck, meta={"task": "codec", "test": first.test, "params": first.params})
    (tmp_path / "stage1.json").write_text(json.dumps(first.to_dict()))
    # zero epochs of learning would leave it unchanged: with lr 0 the weights must be exactly stage 1's
    second = train("codec", epochs=1, lr=0.0, init_from=ck, **kw)
    for k, v in first.net.state_dict().items():
        if "running" not in k and "num_batches" not in k:
            assert torch.equal(v, second.net.state_dict()[k]), k
    s = second.params["init_from"]
    assert second.params["init"] == "checkpoint"
    assert s["sha256"] == hashlib.sha256(ck.read_bytes()).hexdigest()
    assert s["epochs_run"] == 1 and s["test"]["patch_accuracy"] == first.test["patch_accuracy"]
    assert "second stage" in model_card(second, "cmd") and s["sha256"][:12] in model_card(second, "cmd")
    with pytest.raises(FileNotFoundError, match="init_from"):
        train("codec", epochs=1, init_from=tmp_path / "missing.pt", **kw)
    other = FocalNet(4, classes=("w", "x", "y", "z"))
    save_model(other, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="classes"):
        train("codec", epochs=1, init_from=tmp_path / "other.pt", **kw)
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a FOCAL checkpoint"):
        train("codec", epochs=1, init_from=tmp_path / "text.pt", **kw)
    with pytest.raises(ValueError, match="init must be"):
        train("codec", epochs=1, init="dct", **kw)


def test_source_bootstrap_interval():
    rng = np.random.default_rng(0)
    src = np.repeat([f"s{k}" for k in range(8)], 50)
    rate = np.repeat(np.linspace(0.6, 1.0, 8), 50)  # sources differ a lot
    correct = rng.random(len(src)) < rate
    lo, hi = source_bootstrap_ci(correct, src)
    assert lo < correct.mean() < hi
    # resampling sources, not frames: much wider than the frame-level binomial interval
    assert hi - lo > 2 * 1.96 * np.sqrt(correct.mean() * (1 - correct.mean()) / len(src))
    assert source_bootstrap_ci(np.ones(20, bool), np.repeat(["a", "b"], 10)) == [1.0, 1.0]
    assert source_bootstrap_ci(correct, np.full(len(src), "one")) is None
    with pytest.raises(ValueError, match="same shape"):
        source_bootstrap_ci(correct[:-1], src)
