"""The one "path or array -> frames" reader and the shared argument checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolkit._util import array_sha256, check_roi, check_stride, input_sha256, sha256_file
from toolkit.video import FrameSource, VideoReadError, iter_luma, read_frames

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "single" / "single_h264.mp4"


def test_read_frames_of_a_file_equals_the_decoder():
    got = read_frames(SAMPLE, start=3, count=4, step=5)
    want = [y for k, y in enumerate(iter_luma(SAMPLE)) if k in (3, 8, 13, 18)]
    assert got.shape == (4, 288, 352) and np.array_equal(got, np.stack(want))
    rgb = read_frames(SAMPLE, count=1, fmt="rgb")
    assert rgb.shape == (1, 288, 352, 3)


def test_frame_source_of_an_array_keeps_indices_and_hashes_shape_and_dtype():
    a = np.arange(5 * 8 * 8, dtype=np.uint8).reshape(5, 8, 8)
    before = a.copy()
    src = FrameSource(a, indices=[4, 1, 1])
    assert [i for i, _ in src] == [1, 4] and src.sha256 == array_sha256(a)
    assert np.array_equal(a, before)
    assert FrameSource(a[None].reshape(5, 8, 8, 1)[..., 0]).sha256 == src.sha256
    assert array_sha256(a) != array_sha256(a.reshape(5, 64)) != array_sha256(a.astype(np.int16))
    f = FrameSource(SAMPLE, count=2)
    assert f.sha256 == sha256_file(SAMPLE) == input_sha256(SAMPLE) and len(f) == 2


def test_rgb_and_grey_arrays_convert_both_ways():
    grey = np.full((2, 8, 8), 90, np.uint8)
    assert read_frames(grey, fmt="rgb").shape == (2, 8, 8, 3)
    assert (read_frames(grey, fmt="rgb") == 90).all()
    white = np.full((4, 4, 3), 255, np.uint8)
    assert read_frames(white)[0, 0, 0] == 235  # BT.601 limited range, as a decoder's Y plane


@pytest.mark.parametrize(
    "kwargs", [{"start": -1}, {"step": 0}, {"count": -2}, {"step": 1.5}, {"start": True}, {"fmt": "bgr"}]
)
def test_bad_ranges_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        read_frames(np.zeros((3, 8, 8), np.uint8), **kwargs)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        read_frames(np.zeros((2, 8, 8), np.float32))
    with pytest.raises(ValueError, match="channels"):
        read_frames(np.zeros((2, 8, 8, 2), np.uint8))
    with pytest.raises(ValueError, match="no frame"):
        read_frames(np.zeros((2, 8, 8), np.uint8), start=5)
    with pytest.raises(FileNotFoundError):
        read_frames(tmp_path / "none.mp4")
    fake = tmp_path / "fake.mp4"
    fake.write_text("no video here")
    with pytest.raises(VideoReadError):
        read_frames(fake)


def test_stride_and_roi_checks_refuse_instead_of_truncating():
    assert check_stride(16, multiple_of=8) == 16 and check_stride(16.0, multiple_of=8) == 16
    for bad in (8.5, 12, 0, -8, True, "8", None):
        with pytest.raises(ValueError, match="stride"):
            check_stride(bad, multiple_of=8)
    assert check_roi((0, 8, 16, 16), 32, 32) == (0, 8, 16, 16)
    for bad in ((0, 8.5, 16, 16), (0, 0, 0, 4), (20, 0, 16, 16), (0, 0, 4), "abcd"):
        with pytest.raises(ValueError, match="roi"):
            check_roi(bad, 32, 32)
    assert check_roi(None, 32, 32) is None


def test_a_text_file_is_not_a_video_even_where_ffmpeg_would_render_it(tmp_path):
    from toolkit.video import probe

    f = tmp_path / "notes.txt"
    f.write_text("chain of custody notes\n" * 50)
    with pytest.raises(VideoReadError, match="text file"):
        probe(f)
    with pytest.raises(VideoReadError):
        read_frames(f)


def test_frame_source_reports_the_health_of_what_it_read(tmp_path):
    from tests.fuzz.test_video_inputs import _corrupt

    src = FrameSource(SAMPLE, count=5)
    assert src.health == {}
    assert [i for i, _ in src] == [0, 1, 2, 3, 4] and src.health["complete"] is True
    bad = _corrupt(SAMPLE, tmp_path / "corrupt.mp4")
    src = FrameSource(bad)
    with pytest.warns(RuntimeWarning, match="damaged"):
        n = sum(1 for _ in src)
    assert n > 0 and src.health["complete"] is False and src.health["error"]
