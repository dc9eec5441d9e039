"""MacroblockExplorer: GOP structure and per-frame macroblock types of a video.

A view: it draws a :class:`toolkit.video.MacroblockTypes`; a path is read with
:func:`toolkit.video.macroblock_types` (and :func:`toolkit.video.probe` for the facts table).
"""

from __future__ import annotations

import os
from pathlib import Path

import ipywidgets as w

from toolkit.video import MB_CLASSES, MacroblockTypes, VideoError, macroblock_types, probe
from widgets._common import FigureWidget, error_html, split_source, video_picker

__all__ = ["MacroblockExplorer"]


class MacroblockExplorer(w.VBox):
    """Show a video's facts, GOP and the intra/inter/skip MB counts per frame.

    Parameters
    ----------
    source : a :class:`~toolkit.video.MacroblockTypes` (drawn as it is) or a video path
        (read with :func:`toolkit.video.macroblock_types`); None: the first sample video.
    result : the keyword form of a MacroblockTypes ``source``.

    Controls: ``picker`` (video path), ``classes`` (which MB classes to draw),
    ``frames`` (frame range), ``as_fraction`` (counts or fractions).
    Outputs: ``figure`` (plotly FigureWidget of :meth:`MacroblockTypes.plot`),
    ``info`` (HTML table of :func:`toolkit.video.probe`), ``status``; ``result``.

    >>> ex = MacroblockExplorer("sample_data/double/double_mpeg2_h264.mp4")
    >>> ex.classes.value = ("intra",)
    >>> [t.name for t in ex.figure.data], "GOP 33" in ex.status.value
    (['intra MBs'], True)
    """

    def __init__(
        self,
        source: MacroblockTypes | str | os.PathLike | None = None,
        *,
        result: MacroblockTypes | None = None,
    ):
        path, result = split_source(source, result, MacroblockTypes)
        self.picker = video_picker(path if result is None else result.path)
        self.classes = w.SelectMultiple(
            options=list(MB_CLASSES), value=tuple(MB_CLASSES), description="classes", rows=3
        )
        self.frames = w.IntRangeSlider(
            value=(0, 1),
            min=0,
            max=1,
            description="frames",
            continuous_update=False,
            layout=w.Layout(width="480px", min_width="320px"),
        )
        self.as_fraction = w.Checkbox(value=False, description="fractions of the frame")
        self.status = w.HTML()
        self.info = w.HTML()
        self.figure = FigureWidget()
        self.result: MacroblockTypes | None = None
        self.picker.observe(lambda _: self.load(), names="value")
        for c in (self.classes, self.frames, self.as_fraction):
            c.observe(lambda _: self.redraw(), names="value")
        super().__init__(
            [
                self.picker,
                w.HBox([self.classes, w.VBox([self.frames, self.as_fraction])]),
                self.status,
                self.figure,
                self.info,
            ]
        )
        if result is not None:
            self._show(result)
        elif self.picker.value:
            self.load()

    def load(self) -> None:
        """Read the picked video's macroblock types (one decode) and show them."""
        path = self.picker.value
        try:
            info = probe(path)
            result = macroblock_types(path, progress=True)
        except (FileNotFoundError, IsADirectoryError, VideoError) as exc:
            self.result = None
            self.status.value = error_html(exc)
            self.info.value = ""
            self.figure.data = []
            return
        self._show(result, info)

    def _show(self, result: MacroblockTypes, info=None) -> None:
        self.result = result
        if info is None and result.path and Path(result.path).is_file():
            try:
                info = probe(result.path)
            except (OSError, VideoError):
                info = None
        gop = result.gop
        more = " ..." if len(gop.i_frames) > 12 else ""
        if info is not None:
            size = f"{info.width}x{info.height}"
        else:
            size = f"{result.mb_width}x{result.mb_height} MBs"
        self.status.value = (
            f"{result.codec} {size}, {result.n_frames} frames, "
            f"I-frames at {list(gop.i_frames)[:12]}{more} (GOP {gop.gop})"
        )
        self.info.value = info.table().to_html(header=False) if info is not None else ""
        n = max(result.n_frames - 1, 1)
        with self.frames.hold_trait_notifications():
            self.frames.max = n
            self.frames.value = (0, n)
        self.redraw()

    def redraw(self) -> None:
        """Draw :meth:`MacroblockTypes.plot` with the selected classes, frame range and units."""
        if self.result is None:
            return
        fig = self.result.plot(
            self.classes.value or MB_CLASSES,
            frame_range=tuple(self.frames.value),
            as_fraction=self.as_fraction.value,
        )
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.add_traces(list(fig.data))
            self.figure.layout = fig.layout
