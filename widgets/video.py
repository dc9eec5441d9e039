"""MacroblockExplorer: GOP structure and per-frame macroblock types of a video."""

from __future__ import annotations

import ipywidgets as w
import plotly.graph_objects as go

from toolkit.video import MB_CLASSES, VideoError, gop_structure, macroblock_types, probe
from widgets._common import video_picker


class MacroblockExplorer(w.VBox):
    """Pick a video, see its facts, GOP and the intra/inter/skip MB counts per frame.

    Controls: ``picker`` (video path), ``classes`` (which MB classes to draw),
    ``frames`` (frame range), ``as_fraction`` (counts or fractions).
    Outputs: ``figure`` (plotly FigureWidget), ``info`` (HTML table), ``status``.

    >>> ex = MacroblockExplorer("sample_data/double/double_mpeg2_h264.mp4")  # doctest: +SKIP
    >>> ex.classes.value = ("intra",)                                        # doctest: +SKIP
    """

    def __init__(self, path: str | None = None):
        self.picker = video_picker(path)
        self.classes = w.SelectMultiple(
            options=list(MB_CLASSES), value=tuple(MB_CLASSES), description="classes", rows=3
        )
        self.frames = w.IntRangeSlider(
            value=(0, 1),
            min=0,
            max=1,
            description="frames",
            continuous_update=False,
            layout=w.Layout(width="60%"),
        )
        self.as_fraction = w.Checkbox(value=False, description="fractions of the frame")
        self.status = w.HTML()
        self.info = w.HTML()
        self.figure = go.FigureWidget()
        self.result = None
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
        if self.picker.value:
            self.load()

    def load(self) -> None:
        path = self.picker.value
        try:
            info = probe(path)
            self.result = macroblock_types(path)
        except (FileNotFoundError, IsADirectoryError, VideoError) as exc:
            self.result = None
            self.status.value = f"<b style='color:#b00'>{type(exc).__name__}</b>: {exc}"
            self.figure.data = []
            return
        gop = gop_structure(self.result.frame_types)
        more = " ..." if len(gop.i_frames) > 12 else ""
        self.status.value = (
            f"{info.codec} {info.width}x{info.height}, {self.result.n_frames} frames, "
            f"I-frames at {list(gop.i_frames)[:12]}{more} (GOP {gop.gop})"
        )
        self.info.value = info.table().to_html()
        n = self.result.n_frames - 1
        with self.frames.hold_trait_notifications():
            self.frames.max = max(n, 1)
            self.frames.value = (0, max(n, 1))
        self.redraw()

    def redraw(self) -> None:
        if self.result is None:
            return
        lo, hi = self.frames.value
        fig = self.result.plot(classes=self.classes.value or MB_CLASSES)
        table = self.result.fractions() if self.as_fraction.value else self.result.counts
        with self.figure.batch_update():
            self.figure.data = []
            for trace in fig.data:
                name = trace.name.split()[0]
                y = table[name].to_numpy()[lo : hi + 1]
                self.figure.add_scatter(
                    x=list(range(lo, hi + 1)), y=y, name=trace.name, line=trace.line, mode="lines"
                )
            self.figure.layout = fig.layout
            self.figure.update_layout(
                xaxis_range=[lo, hi], yaxis_title="fraction of MBs" if self.as_fraction.value else "MBs"
            )
