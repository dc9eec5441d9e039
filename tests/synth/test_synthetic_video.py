"""DeepStreets-like families: three generators / sources, three qualities, splits by source."""

import json

import numpy as np
import pytest

from toolkit.synth import synthetic_video as sv
from toolkit.video import probe, read_frames


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    return sv.make_families(root, n_sources=4, size=(32, 64), n_frames=30, progress=False)


def test_every_video_in_raw_hq_lq_with_30_frames(families):
    m = families["cityvid"]
    assert m["n_frames"] == 30 and m["source"] == "city" and m["generator"] == "vid2vid"
    assert len(m["videos"]) == 8 and {v["label"] for v in m["videos"]} == {0, 1}
    sizes = {}
    for q in ("raw", "hq", "lq"):
        p = sv.videos(m, None, q)[1][0]
        info = probe(p)
        assert info.n_frames == 30 and (info.height, info.width) == (32, 64) and info.codec == "h264"
        sizes[q] = info.size_bytes
    assert sizes["raw"] > sizes["hq"] > sizes["lq"]  # CRF 0 > 23 > 40
    assert m["encode"]["lq"]["quality"] == 40 and m["encode"]["raw"]["quality"] == 0


def test_raw_is_lossless_and_fakes_carry_fresh_texture(families):
    from toolkit.synth.synthetic_video import generate, source_frames

    m = families["cityvid"]
    v = m["videos"][0]
    frames, _ = source_frames("city", 0, n_frames=3, size=(32, 64))
    fake = generate(frames, "vid2vid", 1.0, 0).astype(float)
    # the generator keeps the content (each fake frame follows its source frame) but changes every pixel
    assert all(np.corrcoef(fake[t].ravel(), frames[t].ravel())[0, 1] > 0.8 for t in range(3))
    assert 3.0 < np.abs(fake - frames).mean() < 30.0
    real_raw = read_frames(sv.videos(m, None, "raw")[0][0], fmt="luma").astype(int)
    real_lq = read_frames(sv.videos(m, None, "lq")[0][0], fmt="luma").astype(int)
    assert v["label"] == 0 and np.abs(real_raw - real_lq).mean() > 0.5  # LQ is not RAW


def test_families_differ_the_way_the_subsets_do(families):
    c, w, k = families["cityvid"], families["citywcvid"], families["kittivid"]
    assert (c["source"], w["source"], k["source"]) == ("city", "city", "kitti")
    assert (c["generator"], w["generator"], k["generator"]) == ("vid2vid", "wc_vid2vid", "vid2vid")
    assert not set(sv.SOURCES["city"]["photos"]) & set(sv.SOURCES["kitti"]["photos"])
    assert {v["photo"] for v in k["videos"]} <= set(sv.SOURCES["kitti"]["photos"])


def test_wc_generator_keeps_its_texture_through_the_video():
    f = np.full((4, 32, 32, 3), 120, np.uint8)
    wc = sv.wc_regenerate(f, 1.0, 0).astype(float) - 120
    v2v = sv.v2v_regenerate(f, 1.0, 0).astype(float) - 120
    assert np.abs(wc.mean(axis=(1, 2, 3))).max() < 3 and np.abs(v2v.mean(axis=(1, 2, 3))).max() < 3

    def frame_corr(x):
        return np.mean([np.corrcoef(x[t].ravel(), x[t + 1].ravel())[0, 1] for t in range(len(x) - 1)])

    assert frame_corr(wc) > 0.5 > frame_corr(v2v)  # world-consistent vs frame-wise re-synthesis


def test_splits_are_by_source_60_25_15(families, tmp_path):
    assert sv.split_sources(20).count("train") == 12
    m = sv.make_family(
        tmp_path, "kittivid", n_sources=20, size=(16, 16), n_frames=2, qualities=("raw",), progress=False
    )
    by_source = {}
    for v in m["videos"]:
        by_source.setdefault(v["source_id"], set()).add(v["split"])
    assert all(len(s) == 1 for s in by_source.values())  # no source in two splits
    counts = [sum(1 for v in m["videos"] if v["split"] == k) for k in ("train", "val", "test")]
    assert counts == [24, 10, 6]
    assert json.loads((tmp_path / "kittivid" / "manifest.json").read_text())["videos"] == m["videos"]
    with pytest.raises(ValueError, match="quality 'lq' was not generated"):
        sv.videos(m, "train", "lq")


def test_family_is_reused_and_seeded(tmp_path):
    a = sv.make_family(tmp_path / "a", "citywcvid", n_sources=2, size=(16, 32), n_frames=3, progress=False)
    b = sv.make_family(tmp_path / "b", "citywcvid", n_sources=2, size=(16, 32), n_frames=3, progress=False)
    pa, pb = sv.videos(a, None, "raw")[1][0], sv.videos(b, None, "raw")[1][0]
    assert np.array_equal(read_frames(pa, fmt="rgb"), read_frames(pb, fmt="rgb"))
    mtime = (tmp_path / "a" / "citywcvid" / "manifest.json").stat().st_mtime_ns
    sv.make_family(tmp_path / "a", "citywcvid", n_sources=2, size=(16, 32), n_frames=3, progress=False)
    assert (tmp_path / "a" / "citywcvid" / "manifest.json").stat().st_mtime_ns == mtime


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown family"):
        sv.make_family("/tmp", "ffpp")
    with pytest.raises(ValueError, match="unknown generator"):
        sv.generate(np.zeros((1, 16, 16, 3), np.uint8), "stylegan", 1.0, 0)
    with pytest.raises(ValueError, match="even"):
        sv.source_frames("city", 0, 2, (15, 32))
