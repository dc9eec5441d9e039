"""Pieces shared by the explorers: the list of sample videos, a file picker row."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as w

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
VIDEO_EXT = (".mp4", ".mkv", ".avi", ".mpg", ".mov", ".m4v", ".ts")


def sample_videos(root: Path | str = SAMPLE_DIR) -> list[str]:
    """Paths (as strings) of the videos under ``sample_data/``, sorted."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXT)


def video_picker(value: str | None = None, options: list[str] | None = None) -> w.Combobox:
    """A combobox listing the sample videos that also accepts any typed path."""
    options = sample_videos() if options is None else options
    return w.Combobox(
        value=value or (options[0] if options else ""),
        options=options,
        placeholder="path to a video",
        description="video",
        ensure_option=False,
        layout=w.Layout(width="60%"),
    )
