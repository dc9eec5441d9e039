"""Case folders for the case-analysis tests: small, made once per session from the project's
own generator and sample_data (seconds on a CPU)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.synth import encode
from toolkit.synth.sources import photo_sequence

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes under ``folder`` (relative POSIX path -> bytes)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="session")
def bad_case(tmp_path_factory) -> Path:
    """The acceptance folder: a text file renamed .mp4, a truncated clip (the first 60 kB of a
    sample MP4, whose index is at the end), a tiny HEVC clip, a PNG, a text note, a hidden file."""
    d = tmp_path_factory.mktemp("bad_case")
    (d / "notes.mp4").write_text("minutes of the meeting, not a video\n", encoding="utf-8")
    (d / "truncated.mp4").write_bytes((SAMPLE / "single" / "single_h264.mp4").read_bytes()[:60_000])
    frames = photo_sequence("coffee", n_frames=12, size=(96, 128), seed=3)
    encode(frames, d / "clips" / "hevc.mp4", codec="h265", quality=28, gop=6)
    shutil.copy(SAMPLE / "images" / "rocket.png", d / "photo.png")
    (d / "readme.txt").write_text("case notes\n", encoding="utf-8")
    (d / ".DS_Store").write_bytes(b"\0hidden")
    return d


@pytest.fixture(scope="session")
def small_case(tmp_path_factory) -> Path:
    """One tiny H.264 clip (40 frames, 96 x 128) and one PNG: for the CLI-vs-API comparison."""
    d = tmp_path_factory.mktemp("small_case")
    frames = photo_sequence("coffee", n_frames=40, size=(96, 128), seed=3)
    encode(frames, d / "clip.mp4", codec="h264", quality=24, gop=10)
    shutil.copy(SAMPLE / "images" / "rocket_median5.png", d / "edited.png")
    return d
