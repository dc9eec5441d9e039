"""Fixtures for the VPF tests: small seeded clips made by toolkit.synth (about 15 s in all)."""

from __future__ import annotations

import pytest

from toolkit.synth import double_encode, encode
from toolkit.synth.sources import photo_sequence


@pytest.fixture(scope="session")
def vpf_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("vpf")


@pytest.fixture(scope="session")
def vpf_frames():
    """150 frames, 192 x 256, virtual camera (pan + zoom + shake) over a photo."""
    return photo_sequence("rocket", n_frames=150, size=(192, 256), motion="mixed", seed=7)


@pytest.fixture(scope="session")
def double_nob(vpf_dir, vpf_frames):
    """MPEG-2 q6 GOP 15, then H.264 QP 22 GOP 33 without B-frames."""
    out = vpf_dir / "double_nob.mp4"
    double_encode(
        vpf_frames,
        out,
        first=dict(codec="mpeg2", quality=6, gop=15),
        second=dict(codec="h264", quality=22, gop=33),
    )
    return out


@pytest.fixture(scope="session")
def double_b(vpf_dir, vpf_frames):
    """MPEG-4 q6 GOP 15, then H.264 QP 22 GOP 40 with 2 B-frames."""
    out = vpf_dir / "double_b.mp4"
    double_encode(
        vpf_frames,
        out,
        first=dict(codec="mpeg4", quality=6, gop=15),
        second=dict(codec="h264", quality=22, gop=40, bframes=2),
    )
    return out


@pytest.fixture(scope="session")
def single(vpf_dir, vpf_frames):
    """The same frames encoded once: H.264 QP 22 GOP 33."""
    return encode(vpf_frames, vpf_dir / "single.mp4", codec="h264", quality=22, gop=33)
