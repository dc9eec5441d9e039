import numpy as np
import pytest

from toolkit.synth import encode
from toolkit.synth.sources import photo_sequence
from toolkit.video import MB_SYMBOLS, UnsupportedCodecError, gop_structure, macroblock_types

CODECS = [("h264", ".mp4", 20), ("mpeg2", ".mpg", 4), ("mpeg4", ".avi", 4)]


@pytest.mark.parametrize("codec,ext,q", CODECS)
def test_all_intra_stream_has_only_intra_mbs(make_clip, codec, ext, q):
    mb = macroblock_types(make_clip(f"intra_{codec}{ext}", codec=codec, quality=q, gop=1))
    assert set(mb.counts["frame_type"]) == {"I"}
    assert (mb.counts["intra"] == mb.mb_per_frame).all()
    assert (mb.counts[["inter", "skip"]] == 0).all().all()


@pytest.mark.parametrize("codec,ext,q", CODECS)
@pytest.mark.parametrize("bframes", [0, 2])
def test_i_frames_all_intra_and_p_frames_predicted(make_clip, codec, ext, q, bframes):
    # MPEG-2/4 encoders keep a fixed GOP only when it is a multiple of bframes + 1
    gop = 9 if bframes else 10
    path = make_clip(f"gop{gop}_{codec}_b{bframes}{ext}", codec=codec, quality=q, gop=gop, bframes=bframes)
    mb = macroblock_types(path)
    c = mb.counts
    i = c[c.frame_type == "I"]
    assert len(i) >= 3
    assert (i["intra"] == mb.mb_per_frame).all()
    p = c[c.frame_type == "P"]
    # a moving camera is mostly predicted, not intra, in P-frames
    assert (p["inter"] + p["skip"]).mean() > 0.8 * mb.mb_per_frame
    assert (c[["intra", "inter", "skip"]].sum(axis=1) == mb.mb_per_frame).all()
    # the frame types follow the encoder's GOP
    assert [k for k, t in enumerate(c.frame_type) if t == "I"] == list(range(0, len(c), gop))
    if bframes:
        b = c[c.frame_type == "B"]
        assert len(b) > 0
        assert (b["bipred"] + b["direct"]).sum() > 0  # bi-prediction/direct only exists in B-frames
    else:
        assert (c["bipred"] == 0).all()


@pytest.mark.parametrize("codec,ext,q", CODECS)
def test_static_scene_is_mostly_skipped(clip_dir, static_frames, codec, ext, q):
    path = encode(static_frames, clip_dir / f"static_{codec}{ext}", codec=codec, quality=q, gop=30)
    mb = macroblock_types(path)
    p = mb.counts[mb.counts.frame_type == "P"]
    assert len(p) > 10
    if codec == "mpeg2":
        # MPEG-2 forbids skipping the first and last MB of a slice (one slice per MB row)
        assert p["skip"].iloc[3:].median() == mb.mb_per_frame - 2 * mb.mb_height
    else:
        assert p["skip"].mean() > 0.9 * mb.mb_per_frame


def test_counts_sum_with_sizes_not_multiple_of_16(clip_dir):
    frames = photo_sequence("chelsea", n_frames=12, size=(72, 100), seed=2)
    mb = macroblock_types(
        encode(frames, clip_dir / "odd.mp4", codec="h264", quality=22, gop=6), with_map=True
    )
    assert (mb.mb_width, mb.mb_height) == (7, 5)  # ceil(100/16), ceil(72/16)
    assert (mb.counts[["intra", "inter", "skip"]].sum(axis=1) == 35).all()
    assert mb.maps.shape == (12, 5, 7)
    # the map agrees with the counts, class by class
    for k in range(12):
        assert (
            np.bincount(mb.maps[k].ravel(), minlength=3).tolist()
            == mb.counts.loc[k, ["intra", "inter", "skip"]].tolist()
        )
    assert set(np.unique(mb.symbols).tolist()) <= {ord(s) for s in MB_SYMBOLS}


def test_vpf_trace_is_visible_in_double_encoded_counts(clip_dir):
    """A frame that was an I-frame in the first encoding has more intra MBs as a P-frame."""
    from toolkit.synth import double_encode

    frames = photo_sequence("rocket", n_frames=60, size=(96, 128), seed=5)
    out = clip_dir / "double.mp4"
    double_encode(
        frames,
        out,
        first={"codec": "mpeg2", "quality": 3, "gop": 10},
        second={"codec": "h264", "quality": 22, "gop": 60},
    )
    c = macroblock_types(out).counts
    former_i = [k for k in range(10, 60, 10)]
    others = [k for k in range(1, 60) if k % 10 and c.frame_type[k] == "P"]
    assert c.intra[former_i].mean() > 3 * max(c.intra[others].mean(), 1)
    assert c.skip[former_i].mean() < c.skip[others].mean()


def test_parallel_trace_equals_serial(clip_dir):
    frames = photo_sequence("coffee", n_frames=320, size=(48, 64), seed=4)
    path = encode(frames, clip_dir / "long.mp4", codec="h264", quality=24, gop=25, bframes=2)
    serial = macroblock_types(path, workers=1)
    parallel = macroblock_types(path, workers=2)
    assert parallel.params["segments"] == 2
    assert serial.params["segments"] == 1
    assert len(parallel.counts) == 320
    assert parallel.counts.equals(serial.counts)
    assert gop_structure(parallel.frame_types).gop == 25


def test_max_frames_and_plot(make_clip):
    mb = macroblock_types(make_clip("plot.mp4", codec="h264", quality=20, gop=10), max_frames=15)
    assert mb.n_frames == 15
    fig = mb.plot()
    assert [t.name for t in fig.data] == ["intra MBs", "inter MBs", "skip MBs"]
    assert len(fig.data[0].y) == 15
    d = mb.to_dict()
    assert d["sha256"] == mb.sha256 and len(d["counts"]["intra"]) == 15


def test_hevc_is_unsupported(make_clip):
    path = make_clip("hevc.mp4", codec="h265", quality=28, gop=10)
    with pytest.raises(UnsupportedCodecError, match="h264"):
        macroblock_types(path)
