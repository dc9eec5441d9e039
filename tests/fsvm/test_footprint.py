import numpy as np
import pytest

from toolkit.fsvm import extract, footprint, roi_mb_mask
from toolkit.fsvm.simulate import make_video, regenerate
from toolkit.synth import encode
from toolkit.synth.sources import PHOTOS, photo_sequence
from toolkit.video import UnsupportedCodecError, VideoReadError


@pytest.fixture(scope="module")
def pan_frames():
    return photo_sequence("coffee", n_frames=16, size=(64, 96), motion="pan", noise=0.0, seed=2)


def test_all_intra_video_is_1_0_0_on_every_frame(tmp_path, pan_frames):
    p = encode(pan_frames, tmp_path / "intra.mp4", codec="h264", quality=20, gop=1)
    f = footprint(p, n_frames=12, reencode=False)
    assert f.shape == (12, 3)
    np.testing.assert_array_equal(f, np.tile([1.0, 0.0, 0.0], (12, 1)))


def test_unrelated_pictures_are_mostly_intra_after_reencode(tmp_path):
    # every frame a different photo: nothing to predict from the previous frame
    frames = np.stack(
        [
            photo_sequence(n, n_frames=1, size=(64, 96), noise=0.0, seed=i)[0]
            for i, n in enumerate(PHOTOS[:10])
        ]
    )
    p = encode(frames, tmp_path / "slideshow.mp4", codec="h264", quality=10, gop=250)
    f = footprint(p, n_frames=8)
    assert f[:, 0].mean() > 0.9


def test_static_scene_is_mostly_skip(tmp_path, static_frames):
    p = encode(static_frames[:14], tmp_path / "static.mp4", codec="h264", quality=20, gop=250)
    for reencode in (True, False):
        f = footprint(p, n_frames=12, reencode=reencode)
        assert f[:, 2].mean() > 0.9, reencode
        np.testing.assert_allclose(f.sum(axis=1), 1.0)


def test_moving_camera_is_mostly_inter_and_result_fields(tmp_path, pan_frames):
    p = encode(pan_frames, tmp_path / "pan.mp4", codec="mpeg2", quality=4, gop=12)
    fp = extract(p, n_frames=12)
    assert fp.values[:, 1].mean() > 0.5
    assert set(fp.frame_types) <= {"P", "B"}  # the CRF 0 re-encode has no I-frame in the window
    assert fp.params["reencode_settings"]["quality"] == 0 and fp.mb_used == 24
    assert len(fp.sha256) == 64 and len(fp.table()) == 12
    assert [t.name for t in fp.plot().data] == ["f_intra", "f_inter", "f_skip"]
    assert fp.to_dict()["n_valid"] == 12


def test_reencode_false_skips_to_first_i_frame_and_reads_mpeg2(tmp_path, pan_frames):
    p = encode(pan_frames, tmp_path / "gop4.mpg", codec="mpeg2", quality=4, gop=4)
    fp = extract(p, n_frames=6, reencode=False)
    assert fp.frame_types[:3] == ("P", "P", "P") and fp.frame_types[3] == "I"
    assert fp.values[3, 0] == 1.0  # the I-frame at display index 4 is all intra
    assert fp.params["source_codec"] == "mpeg2video"


def test_short_video_errors_or_pads(tmp_path, pan_frames):
    p = encode(pan_frames[:8], tmp_path / "short.mp4", codec="h264", quality=20, gop=250)
    with pytest.raises(ValueError, match="n_frames=10"):
        footprint(p, n_frames=10)
    fp = extract(p, n_frames=10, pad=True)
    assert fp.values.shape == (10, 3) and fp.n_valid == 7
    np.testing.assert_array_equal(fp.values[7:], np.repeat(fp.values[6:7], 3, axis=0))
    assert fp.table()["padded"].sum() == 3
    one = encode(pan_frames[:1], tmp_path / "one.mp4", codec="h264", quality=20)
    with pytest.raises(ValueError, match="single-frame"):
        footprint(one, n_frames=5, pad=True)


def test_bad_inputs(tmp_path, pan_frames):
    hevc = encode(pan_frames[:12], tmp_path / "hevc.mp4", codec="h265", quality=30, gop=250)
    with pytest.raises(UnsupportedCodecError):
        footprint(hevc, n_frames=10, reencode=False)
    assert footprint(hevc, n_frames=10).shape == (10, 3)  # re-encoding makes any codec readable
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 10)
    with pytest.raises(VideoReadError):
        footprint(junk)
    with pytest.raises(FileNotFoundError):
        footprint(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="n_frames"):
        footprint(hevc, n_frames=0)


def test_roi_mask_geometry_and_errors():
    m = roi_mb_mask((8, 0, 32, 24), 64, 96, n_frames=2)
    assert m.shape == (2, 4, 6)
    # pixel rows 8..39 and columns 0..23: MB (0, 0) is half inside (in), MB (0, 1) a
    # quarter (out), MB (1, 1) half (in), MB row 3 not at all
    assert m[0].astype(int).tolist() == [
        [1, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]
    with pytest.raises(ValueError):
        roi_mb_mask((0, 0, 4, 4), 64, 96, 1)  # covers no MB by half
    with pytest.raises(ValueError):
        roi_mb_mask((70, 0, 4, 4), 64, 96, 1)  # outside the frame
    with pytest.raises(ValueError):
        roi_mb_mask(np.ones((10, 10), bool), 64, 96, 1)  # wrong mask size


def test_roi_isolates_the_regenerated_region(tmp_path):
    # a static, noiseless scene whose box is re-synthesised every frame (a swapped "face")
    frames = photo_sequence("astronaut", n_frames=14, size=(64, 96), motion="static", noise=0.0, seed=1)
    region = np.zeros((64, 96), np.float32)
    region[16:48, 32:64] = 1
    fake = regenerate(frames, strength=1.0, seed=3, region=region)
    p = encode(fake, tmp_path / "partial.mp4", codec="h264", quality=18, gop=250)
    whole = footprint(p, n_frames=12)
    box = footprint(p, n_frames=12, roi=(16, 32, 32, 32))
    outside = footprint(p, n_frames=12, roi=region == 0)
    assert box[:, 2].mean() < 0.2 < outside[:, 2].mean()  # the box is never skipped
    assert box[:, 0].mean() > whole[:, 0].mean()
    np.testing.assert_allclose(footprint(p, n_frames=12, roi=np.ones((64, 96), bool)), whole)


def test_simulated_fake_has_more_intra_than_real(tmp_path):
    kw = dict(n_frames=14, size=(64, 96), real_clips=False)
    real = tmp_path / "r.mp4"
    fake = tmp_path / "f.mp4"
    make_video(real, "real", 1, **kw)
    truth = make_video(fake, "fake", 1, strength=1.0, **kw)
    assert truth["strength"] == 1.0 and (tmp_path / "f.mp4.json").is_file()
    assert footprint(fake, n_frames=12)[:, 0].mean() > footprint(real, n_frames=12)[:, 0].mean() + 0.2
