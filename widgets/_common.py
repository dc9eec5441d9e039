"""Pieces shared by the explorers: the list of sample videos, a file picker row, the
"Result or path" argument and the error line.

>>> [Path(v).name for v in sample_videos()][:2]
['double_mpeg2_h264.mp4', 'eat.mkv']
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as w

__all__ = ["SAMPLE_DIR", "VIDEO_EXT", "sample_videos", "video_picker", "split_source", "error_html"]

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
VIDEO_EXT = (".mp4", ".mkv", ".avi", ".mpg", ".mov", ".m4v", ".ts")


def sample_videos(root: Path | str = SAMPLE_DIR) -> list[str]:
    """Paths (as strings) of the videos under ``sample_data/`` (or ``root``), sorted.

    >>> sample_videos("/no/such/folder")
    []
    """
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXT)


def video_picker(value: str | None = None, options: list[str] | None = None) -> w.Combobox:
    """A combobox listing the sample videos that also accepts any typed path.

    >>> video_picker("clip.mp4", options=["a.mp4"]).value
    'clip.mp4'
    """
    options = sample_videos() if options is None else options
    return w.Combobox(
        value=value or (options[0] if options else ""),
        options=options,
        placeholder="path to a video",
        description="video",
        ensure_option=False,
        layout=w.Layout(width="60%"),
    )


def split_source(source, result, result_type: type) -> tuple[str | None, object | None]:
    """``(path, result)`` of an explorer's arguments: ``source`` is a path or a ``result_type``
    instance (or None); ``result=`` is the older keyword form. ``TypeError`` for anything else.

    >>> split_source("clip.mp4", None, dict)
    ('clip.mp4', None)
    >>> split_source({"path": "x"}, None, dict)
    (None, {'path': 'x'})
    """
    if result is not None and source is not None and not isinstance(source, (str, os.PathLike)):
        raise TypeError("give the result either as the first argument or as result=, not both")
    if isinstance(source, result_type):
        source, result = None, source
    if result is not None and not isinstance(result, result_type):
        raise TypeError(f"result must be a {result_type.__name__}, got {type(result).__name__}")
    if source is not None and not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"expected a video path or a {result_type.__name__}, got {type(source).__name__}")
    return (None if source is None else os.fspath(source)), result


def error_html(exc: BaseException) -> str:
    """The error line an explorer shows instead of a figure (type name in red, then the message).

    >>> error_html(FileNotFoundError("no such file: 'x.mp4'"))
    "<b style='color:#b00'>FileNotFoundError</b>: no such file: &#x27;x.mp4&#x27;"
    """
    return f"<b style='color:#b00'>{type(exc).__name__}</b>: {html.escape(str(exc))}"
