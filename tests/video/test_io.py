import hashlib
import warnings

import av
import numpy as np
import pytest

from toolkit.synth import encode
from toolkit.synth.sources import photo_sequence
from toolkit.video import (
    VideoReadError,
    frame_types,
    gop_structure,
    iter_frames,
    iter_luma,
    macroblock_types,
    probe,
)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_probe_fields(make_clip):
    path = make_clip("probe.mp4", codec="h264", quality=20, gop=10, bframes=2, fps=25)
    info = probe(path)
    assert (info.codec, info.width, info.height, info.n_frames) == ("h264", 128, 96, 40)
    assert info.fps == pytest.approx(25)
    assert info.duration == pytest.approx(40 / 25, rel=0.1)
    assert info.has_b_frames is True
    assert info.sha256 == _sha(path)
    assert info.pix_fmt == "yuv420p"
    nob = probe(make_clip("probe_nob.mp4", codec="h264", quality=20, gop=10, bframes=0))
    assert nob.has_b_frames is False
    assert "sha256" in info.table().index


def test_iter_luma_reads_plane_with_stride(clip_dir):
    # 100 pixels wide: FFmpeg pads the line stride, the Y plane must not include the padding
    frames = photo_sequence("chelsea", n_frames=8, size=(60, 100), seed=1)
    path = encode(frames, clip_dir / "stride.mp4", codec="h264", quality=18, gop=4)
    ys = list(iter_luma(path))
    yuv = list(iter_frames(path, fmt="yuv420p"))
    assert len(ys) == 8
    for y, full in zip(ys, yuv):
        assert y.shape == (60, 100) and y.dtype == np.uint8
        np.testing.assert_array_equal(y, full[:60])
    # luma follows the picture: brighter RGB -> brighter Y
    rgb = next(iter_frames(path))
    assert np.corrcoef(rgb.mean(axis=2).ravel(), ys[0].ravel().astype(float))[0, 1] > 0.95


def test_iter_luma_start_count_step(make_clip):
    path = make_clip("sel.mp4", codec="h264", quality=20, gop=10)
    all_y = list(iter_luma(path))
    sel = list(iter_luma(path, start=3, count=4, step=5))
    assert len(sel) == 4
    for y, k in zip(sel, [3, 8, 13, 18]):
        np.testing.assert_array_equal(y, all_y[k])
    with pytest.raises(ValueError):
        list(iter_luma(path, step=0))


def test_frame_types_and_gop(make_clip):
    path = make_clip("gop.mp4", codec="h264", quality=20, gop=12, bframes=2)
    types = frame_types(path)
    assert len(types) == 40 and set(types) <= {"I", "P", "B"}
    g = gop_structure(types)
    assert g.i_frames == (0, 12, 24, 36)
    assert g.gop_sizes == (12, 12, 12) and g.gop == 12 and g.has_b_frames
    assert gop_structure(path).i_frames == g.i_frames


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.mp4"
    for fn in (probe, frame_types, macroblock_types, lambda p: list(iter_luma(p))):
        with pytest.raises(FileNotFoundError, match="nope.mp4"):
            fn(missing)


def test_text_file_is_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    for fn in (probe, frame_types, macroblock_types, lambda p: list(iter_luma(p))):
        with pytest.raises(VideoReadError, match="not a decodable video"):
            fn(fake)


def test_truncated_file_decodes_what_it_can(make_clip, tmp_path):
    src = make_clip("full.mp4", codec="h264", quality=20, gop=10)
    # an MKV/MPEG-TS-like stream survives truncation; an mp4 loses its index, so use .mkv
    frames = photo_sequence("coffee", n_frames=40, size=(96, 128), seed=3)
    mkv = encode(frames, tmp_path / "full.mkv", codec="h264", quality=20, gop=10)
    cut = tmp_path / "cut.mkv"
    data = mkv.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ys = list(iter_luma(cut))
    assert 5 <= len(ys) < 40
    mb = macroblock_types(cut)
    assert 5 <= mb.n_frames < 40
    # truncated mp4 (index at the end): clear error, no hang
    trunc_mp4 = tmp_path / "cut.mp4"
    trunc_mp4.write_bytes(src.read_bytes()[:2000])
    with pytest.raises(VideoReadError):
        macroblock_types(trunc_mp4)


def test_empty_and_one_frame_videos(tmp_path):
    for ext in (".mkv", ".mp4"):
        empty = tmp_path / f"empty{ext}"
        c = av.open(str(empty), "w")
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        c.start_encoding()
        c.close()
        assert empty.stat().st_size > 0
        for fn in (macroblock_types, frame_types):
            with pytest.raises(VideoReadError, match="no frame|not a decodable"):
                fn(empty)
    one = encode([np.full((64, 64, 3), 100, np.uint8)], tmp_path / "one.mp4", codec="h264", quality=20)
    assert frame_types(one) == ["I"]
    mb = macroblock_types(one)
    assert mb.n_frames == 1 and mb.counts.intra[0] == 16


def test_inputs_are_never_modified(make_clip):
    path = make_clip("ro.mp4", codec="h264", quality=20, gop=10, bframes=1)
    before = (_sha(path), path.stat().st_mtime_ns)
    probe(path)
    list(iter_luma(path))
    frame_types(path)
    macroblock_types(path, with_map=True)
    assert (_sha(path), path.stat().st_mtime_ns) == before
