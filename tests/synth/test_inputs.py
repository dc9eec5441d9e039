"""The generator reads its inputs through toolkit.video's one input layer; `import *` works."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import toolkit.synth
from toolkit.synth import load_frames, spatial_splice
from toolkit.synth.sources import real_clip_sequence
from toolkit.video import VideoReadError, read_frames

SINGLE = "sample_data/single/single_h264.mp4"


def test_star_import_exports_every_listed_name():
    ns: dict = {}
    exec("from toolkit.synth import *", ns)
    assert set(toolkit.synth.__all__) <= set(ns)
    assert ns["remux"] is importlib.import_module("toolkit.synth.encode").remux


def test_load_frames_is_read_frames_in_rgb():
    frames = load_frames(SINGLE, count=5)
    assert frames.shape == (5, 288, 352, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames, read_frames(SINGLE, count=5, fmt="rgb"))
    a = np.arange(4 * 8 * 8, dtype=np.uint8).reshape(4, 8, 8)  # grey T x H x W
    rgb = load_frames(a, count=3)
    assert rgb.shape == (3, 8, 8, 3) and (rgb[..., 1] == a[:3]).all()
    colour = np.zeros((2, 8, 8, 3), np.uint8)
    assert np.shares_memory(load_frames(colour), colour)  # an RGB array is not copied
    with pytest.raises(ValueError, match="uint8"):
        load_frames(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(FileNotFoundError):
        load_frames("/no/such/clip.mp4")


def test_text_file_is_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video\n" * 20)
    with pytest.raises(VideoReadError):
        load_frames(fake)


def test_real_clip_sequence_reads_the_requested_frames():
    seq = real_clip_sequence("sample_data/real/eat.mkv", n_frames=3, factor=2, start=4)
    full = read_frames("sample_data/real/eat.mkv", start=4, count=3, fmt="rgb")
    assert seq.shape == (3, 240, 320, 3)
    ref = full.reshape(3, 240, 2, 320, 2, 3).astype(np.float32).mean(axis=(2, 4))
    np.testing.assert_array_equal(seq, np.clip(np.rint(ref), 0, 255).astype(np.uint8))


def test_spatial_splice_refuses_a_fractional_box(tmp_path):
    a = np.zeros((4, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="fit"):
        spatial_splice(a, a, tmp_path / "s.mp4", box=(8.5, 0, 8, 8))
    truth = spatial_splice(a, 255 - a, tmp_path / "s.mp4", box=(8.0, 0, 8, 16))
    assert truth["box"] == [8, 0, 8, 16]
