import json
import platform

import numpy as np
import pytest

from toolkit.synth import (
    EncodeSettings,
    codec_name,
    delta_to_quality,
    double_encode,
    encode,
    quality_to_delta,
    spatial_splice,
    temporal_splice,
)
from toolkit.synth.encode import is_x86_64
from toolkit.synth.sources import photo_sequence
from toolkit.video import frame_types, gop_structure, iter_frames, iter_luma, probe


def test_delta_mapping_matches_seed_equations():
    # eq. (18): Δ = 5/8 * 2^(q/6)
    for d in (5, 10, 20, 40):
        q = delta_to_quality("h264", d)
        assert quality_to_delta("h264", q) == pytest.approx(d, rel=0.01)
    # eq. (19), piece-wise linear
    assert [quality_to_delta("mpeg2", q) for q in (1, 4, 5, 8, 9, 24, 25, 31)] == [
        8,
        8,
        10,
        16,
        17,
        32,
        34,
        46,
    ]
    assert delta_to_quality("mpeg4", 20) == 12 and delta_to_quality("mpeg4", 40) == 28
    with pytest.raises(ValueError):
        delta_to_quality("h264", 0)
    assert codec_name("HEVC") == "h265"
    with pytest.raises(ValueError, match="unknown codec"):
        codec_name("vp9")


@pytest.mark.parametrize(
    "codec,ext", [("h264", ".mp4"), ("h265", ".mp4"), ("mpeg2", ".mpg"), ("mpeg4", ".avi")]
)
def test_quality_parameter_controls_size(moving_frames, tmp_path, codec, ext):
    lo, hi = (2, 20) if codec.startswith("mpeg") else (18, 40)
    a = encode(moving_frames, tmp_path / f"a{ext}", codec=codec, quality=lo, gop=10)
    b = encode(moving_frames, tmp_path / f"b{ext}", codec=codec, quality=hi, gop=10)
    assert a.stat().st_size > 2 * b.stat().st_size
    assert probe(a).codec == {"h264": "h264", "h265": "hevc", "mpeg2": "mpeg2video", "mpeg4": "mpeg4"}[codec]


def test_fixed_gop_and_bframes(moving_frames, tmp_path):
    p = encode(moving_frames, tmp_path / "g.mp4", codec="h264", quality=22, gop=7, bframes=2)
    g = gop_structure(p)
    assert g.i_frames == tuple(range(0, 40, 7))
    assert g.has_b_frames


def test_cbr_and_crf(moving_frames, tmp_path):
    p = encode(moving_frames, tmp_path / "cbr.mp4", codec="h264", rate_control="cbr", bitrate=200_000)
    assert probe(p).n_frames == 40
    lossless = encode(
        moving_frames[:5], tmp_path / "crf0.mkv", codec="h264", rate_control="crf", quality=0, gop=5
    )
    y_src = [np.asarray(f) for f in iter_frames(lossless, "yuv420p")]
    assert len(y_src) == 5
    with pytest.raises(ValueError, match="bitrate"):
        EncodeSettings.make(codec="h264", rate_control="cbr")
    with pytest.raises(ValueError, match="CRF"):
        EncodeSettings.make(codec="mpeg2", rate_control="crf", quality=10)


@pytest.fixture(scope="module")
def coffee_gop():
    """One GOP (30 frames) of a 240x320 camera path over 'coffee'."""
    return photo_sequence("coffee", n_frames=30, size=(240, 320), seed=0)


def test_encoder_threads_change_the_stream_and_fixed_quality_is_bit_exact(coffee_gop, tmp_path):
    def h264(threads, k):
        return encode(
            coffee_gop,
            tmp_path / f"q{threads}_{k}.mp4",
            codec="h264",
            quality=26,
            gop=30,
            bframes=3,
            threads=threads,
        ).read_bytes()

    one, four = [h264(1, 0), h264(1, 1)], [h264(4, 0), h264(4, 1)]
    assert one[0] == one[1] and four[0] == four[1]  # repeatable for a fixed thread count
    assert one[0] != four[0]  # frame threads change x264's coding (motion-search range)
    with pytest.raises(ValueError, match="threads"):
        EncodeSettings.make(codec="h264", threads=0)


def test_x265_rate_control_with_one_thread_is_bit_exact(coffee_gop, tmp_path):
    # x265's CBR with its default worker pool differs from one encode to the next; one thread does not
    rocket = photo_sequence("rocket", n_frames=30, size=(240, 320), seed=1)
    runs = []
    for k in range(3):
        runs.append(
            encode(
                coffee_gop,
                tmp_path / f"a{k}.mp4",
                codec="h265",
                rate_control="cbr",
                bitrate=333_333,
                gop=30,
                bframes=4,
                threads=1,
            ).read_bytes()
        )
        encode(
            rocket,
            tmp_path / f"b{k}.mp4",
            codec="h265",
            rate_control="vbr",
            bitrate=166_666,
            gop=30,
            bframes=4,
            threads=1,
        )  # another encode in between
    assert all(r == runs[0] for r in runs[1:])
    assert probe(tmp_path / "a0.mp4").n_frames == 30


@pytest.mark.skipif(not is_x86_64(), reason="x86-64 instruction sets")
def test_x264_rate_control_capped_at_avx2_is_bit_exact(coffee_gop, tmp_path):
    # with AVX-512 (this project's machine) x264's default CBR/VBR differs from one encode to the next
    for rc, rate in (("cbr", 500_000), ("vbr", 333_333)):
        runs = [
            encode(
                coffee_gop,
                tmp_path / f"{rc}{k}.mp4",
                codec="h264",
                rate_control=rc,
                bitrate=rate,
                gop=30,
                bframes=3,
                threads=1,
                simd="avx2",
            ).read_bytes()
            for k in range(3)
        ]
        assert all(r == runs[0] for r in runs[1:]), rc
    # the cap reaches x264: plain settings written to the sidecar, and x264's own option string
    s = EncodeSettings.make(codec="h264", simd="avx2")
    assert s.to_dict()["simd"] == "avx2"
    from toolkit.synth.encode import _x26x_params

    assert "asm=AVX2" in _x26x_params(s, "h264").split(":")
    assert "asm" not in _x26x_params(EncodeSettings.make(codec="h264"), "h264")


def test_simd_setting_is_checked(monkeypatch):
    with pytest.raises(ValueError, match="simd must be"):
        EncodeSettings.make(codec="h264", simd="avx512")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    with pytest.raises(ValueError, match="arm64"):
        EncodeSettings.make(codec="h264", simd="avx2")
    assert EncodeSettings.make(codec="h264").simd == "auto"


def test_encode_rejects_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        encode([np.zeros((16, 16, 3), np.float32)], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="even"):
        encode([np.zeros((15, 16, 3), np.uint8)], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="no frames"):
        encode([], tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_reencoding_decoded_frames_chooses_new_i_frames(tmp_path):
    """The pitfall: re-encoding must not inherit the first encoding's I-frame positions."""
    frames = photo_sequence("chelsea", n_frames=30, size=(64, 96), seed=0)
    truth = double_encode(
        frames,
        tmp_path / "d.mp4",
        first={"codec": "h264", "quality": 20, "gop": 7},
        second={"codec": "h264", "quality": 20, "gop": 11},
    )
    assert gop_structure(tmp_path / "d.mp4").i_frames == (0, 11, 22)
    assert truth["first_i_frames"] == [0, 7, 14, 21, 28]
    on_disk = json.loads((tmp_path / "d.mp4.json").read_text())
    assert on_disk["first"]["gop"] == 7 and on_disk["second"]["gop"] == 11


def test_temporal_splice(tmp_path):
    a = photo_sequence("coffee", n_frames=20, size=(64, 96), seed=0)
    b = 255 - a  # very different content makes the cut obvious
    truth = temporal_splice(a, b, tmp_path / "t.mp4", cut=8)
    assert truth["cut"] == 8 and truth["boundary"] == 7 and truth["n_frames"] == 20
    ys = np.stack(list(iter_luma(tmp_path / "t.mp4"))).astype(float)
    ya = a.mean(axis=3)
    err_a = np.abs(ys - ya[: len(ys)] * 219 / 255 - 16).mean(axis=(1, 2))
    assert (err_a[:8] < 8).all() and (err_a[8:] > 30).all()
    with pytest.raises(ValueError, match="cut"):
        temporal_splice(a, b, tmp_path / "t2.mp4", cut=0)
    with pytest.raises(ValueError, match="spliceable"):
        temporal_splice(a, a[:, :32], tmp_path / "t3.mp4", cut=5)


def test_spatial_splice_mask(tmp_path):
    from PIL import Image

    a = photo_sequence("coffee", n_frames=6, size=(96, 128), seed=0)
    b = np.zeros_like(a)
    truth = spatial_splice(a, b, tmp_path / "s.mp4", box=(16, 32, 32, 48))
    mask = np.asarray(Image.open(tmp_path / "s.mp4.mask.png"))
    assert mask.shape == (96, 128) and mask.sum() == 255 * 32 * 48
    assert truth["box"] == [16, 32, 32, 48]
    y = next(iter_luma(tmp_path / "s.mp4")).astype(float)
    assert y[20:44, 36:76].mean() < 25 < y[mask == 0].mean()
    # default: central window on the 8-pixel grid, scaled to the frame
    t2 = spatial_splice(a, b, tmp_path / "s2.mp4")
    top, left, h, w = t2["box"]
    assert top % 8 == 0 and left % 8 == 0 and 0 < h <= 48 and 0 < w <= 64
    assert frame_types(tmp_path / "s2.mp4")[0] == "I"
    with pytest.raises(ValueError, match="fit"):
        spatial_splice(a, b, tmp_path / "s3.mp4", box=(90, 0, 20, 20))


@pytest.fixture(scope="module")
def cut_frames():
    """Two photo pans joined by a hard scene cut at frame 37 (80 frames, 96 x 128)."""
    a = photo_sequence("coffee", n_frames=37, size=(96, 128), motion="pan", seed=1)
    b = photo_sequence("rocket", n_frames=43, size=(96, 128), motion="pan", seed=2)
    return np.concatenate([a, b])


def _runs_of_b(types):
    runs, k = [], 0
    for t in types:
        if t == "B":
            k += 1
        elif k:
            runs.append(k)
            k = 0
    return runs


def test_adaptive_x264_puts_a_scene_cut_i_frame_and_varies_b_runs(cut_frames, tmp_path):
    s = EncodeSettings(codec="h264", rate_control="crf", quality=23, gop=250, bframes=3, adaptive=True)
    p = encode(cut_frames, tmp_path / "a.mp4", s)
    assert gop_structure(p).i_frames == (0, 37)  # keyint 250: only the cut adds an I-frame
    assert len(set(_runs_of_b(frame_types(p)))) > 1  # b-adapt: B-frame runs of several lengths
    # the default (fixed) mode ignores the cut and keeps one B-frame pattern
    q = encode(cut_frames, tmp_path / "f.mp4", s, adaptive=False, gop=30)
    assert gop_structure(q).i_frames == (0, 30, 60)
    assert set(_runs_of_b(frame_types(q))[:-1]) == {3}


@pytest.mark.parametrize("codec,ext", [("mpeg2", ".mpg"), ("mpeg4", ".avi")])
def test_adaptive_mpeg_keeps_scene_change_detection(cut_frames, tmp_path, codec, ext):
    fixed = encode(cut_frames, tmp_path / f"f{ext}", codec=codec, quality=4, gop=50)
    adaptive = encode(cut_frames, tmp_path / f"a{ext}", codec=codec, quality=4, gop=50, adaptive=True)
    assert gop_structure(fixed).i_frames == (0, 50)
    assert 37 in gop_structure(adaptive).i_frames


@pytest.mark.parametrize("codec,ext", [("h264", ".mp4"), ("mpeg2", ".mpg"), ("mpeg4", ".avi")])
def test_forced_i_frames_land_where_asked(moving_frames, tmp_path, codec, ext):
    q = 23 if codec == "h264" else 4
    p = encode(moving_frames, tmp_path / f"v{ext}", codec=codec, quality=q, gop=100, i_frames=(0, 7, 19, 33))
    assert gop_structure(p).i_frames == (0, 7, 19, 33)


def test_new_settings_validate_round_trip_and_keep_the_defaults(moving_frames, tmp_path):
    s = EncodeSettings.make({"codec": "h264", "i_frames": [0, 5, 12], "adaptive": True})
    assert s.i_frames == (0, 5, 12)
    assert EncodeSettings.make(json.loads(json.dumps(s.to_dict()))) == s
    for bad in ([3, 1], [0, 0], [-1, 4], [0, 2.5], "x"):
        with pytest.raises(ValueError, match="i_frames"):
            EncodeSettings.make({"i_frames": bad})
    with pytest.raises(ValueError, match="adaptive"):
        EncodeSettings.make({"adaptive": "yes"})
    d = EncodeSettings().to_dict()
    assert d["adaptive"] is False and d["i_frames"] is None
    # defaults unchanged: the same bytes as the explicit fixed-GOP settings
    a = encode(moving_frames, tmp_path / "a.mp4", codec="h264", quality=22, gop=10, bframes=2, threads=1)
    b = encode(
        moving_frames,
        tmp_path / "b.mp4",
        codec="h264",
        quality=22,
        gop=10,
        bframes=2,
        threads=1,
        adaptive=False,
        i_frames=None,
    )
    assert a.read_bytes() == b.read_bytes()
    assert gop_structure(a).i_frames == (0, 10, 20, 30)
    from toolkit.synth.encode import _x26x_params

    # the fixed-GOP x264 options of the default mode are pinned, the adaptive ones are x264's own
    assert _x26x_params(EncodeSettings(bframes=2), "h264") == (
        "keyint=30:min-keyint=30:scenecut=0:bframes=2:b-adapt=0:b-pyramid=none:open-gop=0:qp=23"
    )
    assert _x26x_params(EncodeSettings(bframes=3, gop=250, adaptive=True, rate_control="crf"), "h264") == (
        "keyint=250:bframes=3:open-gop=0:crf=23"
    )
