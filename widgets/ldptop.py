"""LDPTOPExplorer: the three central planes of an LDP-TOP window, an LDP code image, its histogram and
the per-part votes of an :class:`toolkit.ldptop.LDPTOPResult`."""

from __future__ import annotations

import html

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from toolkit.ldptop import DIRECTIONS, PLANES, ldp_codes, ldp_histogram, window_planes, window_starts
from toolkit.ldptop.analyze import LDPTOPResult, resolve_regions
from toolkit.video import FrameSource
from widgets._common import FigureWidget, error_html


class LDPTOPExplorer(w.VBox):
    """Explore LDP-TOP on one video.

    Controls: ``window`` (first frame of the 50-frame window), ``input`` (grey V(g) / flow V(o)),
    ``part`` (whole frame or a body part of ``regions``), ``plane`` (XY / XT / YT) and ``direction``
    (0°, 45°, 90°, 135°).
    Outputs: ``slices_figure`` (the window's three central planes), ``code_figure`` (the LDP code
    image of the chosen plane and direction), ``hist_figure`` (its 256-bin histogram),
    ``votes_figure`` / ``votes`` (the result's per-part fake probabilities and window votes, when a
    ``result`` is given). Planes come from :func:`toolkit.ldptop.window_planes`, codes from
    :func:`toolkit.ldptop.ldp_codes`; the explorer only draws.

    >>> fr = np.random.default_rng(0).integers(0, 255, (75, 24, 32), dtype=np.uint8)
    >>> ex = LDPTOPExplorer(fr)
    >>> ex.window.options, ex.hist_figure.data[0].y.sum().round(3)
    ((0, 25), np.float64(1.0))
    >>> ex.plane.value = "XT"; ex.code_figure.data[0].z.shape
    (46, 28)
    """

    def __init__(self, video, result: LDPTOPResult | None = None, regions=None):
        self.video = video
        self.result = result
        src = FrameSource(video)
        self.regions = resolve_regions(regions, src.path)
        starts = window_starts(src.n_total)
        if not starts:
            raise ValueError(f"the video has {src.n_total} frames, fewer than one 50-frame window")
        parts = ["frame"] + (list(self.regions.parts) if self.regions is not None else [])
        self.window = w.Dropdown(options=starts, value=starts[0], description="window")
        self.input = w.ToggleButtons(options=["grey", "flow"], value="grey", description="input")
        self.part = w.Dropdown(options=parts, value="frame", description="part")
        self.plane = w.ToggleButtons(options=list(PLANES), value="XY", description="plane")
        self.direction = w.ToggleButtons(options=list(DIRECTIONS), value=0, description="direction (°)")
        self.status = w.HTML()
        self.votes = w.HTML()
        self.slices_figure = FigureWidget()
        self.code_figure = FigureWidget()
        self.hist_figure = FigureWidget()
        self.votes_figure = FigureWidget()
        self._planes = None
        for c in (self.window, self.input, self.part):
            c.observe(lambda _: self.redraw(), names="value")
        for c in (self.plane, self.direction):
            c.observe(lambda _: self.redraw(planes=False), names="value")
        super().__init__(
            [
                w.HBox([self.window, self.part]),
                self.input,
                self.plane,
                self.direction,
                self.status,
                self.slices_figure,
                w.HBox([self.code_figure, self.hist_figure]),
                self.votes,
                self.votes_figure,
            ]
        )
        self.redraw()
        self._draw_votes()

    def redraw(self, planes: bool = True) -> None:
        """Recompute the planes (when the window, input or part changed) and redraw the figures."""
        try:
            if planes or self._planes is None:
                part = None if self.part.value == "frame" else self.part.value
                self._planes = window_planes(
                    self.video, self.window.value, input=self.input.value, part=part, regions=self.regions
                )
                self._draw_slices()
            k = PLANES.index(self.plane.value)
            codes = ldp_codes(self._planes[k], self.direction.value)
            hist = ldp_histogram(self._planes[k], self.direction.value)
        except ValueError as e:
            self.status.value = error_html(e)
            return
        self.status.value = html.escape(
            f"window {self.window.value}-{self.window.value + 49}, {self.input.value}, {self.part.value}: "
            f"plane {self.plane.value} {tuple(self._planes[k].shape)}, direction {self.direction.value}°, "
            f"{codes.size} codes, {int(np.count_nonzero(hist))} of 256 bins used"
        )
        with self.code_figure.batch_update():
            self.code_figure.data = []
            self.code_figure.add_heatmap(z=codes, colorscale="Viridis", zmin=0, zmax=255)
            self.code_figure.layout.title = f"LDP codes, {self.plane.value} {self.direction.value}°"
            self.code_figure.layout.yaxis.autorange = "reversed"
        with self.hist_figure.batch_update():
            self.hist_figure.data = []
            self.hist_figure.add_bar(x=np.arange(256), y=hist)
            self.hist_figure.layout.title = "256-bin histogram (share of codes)"
            self.hist_figure.layout.xaxis.title = "code"

    def _draw_slices(self) -> None:
        fig = make_subplots(
            rows=1, cols=3, subplot_titles=[f"{p} {tuple(a.shape)}" for p, a in zip(PLANES, self._planes)]
        )
        for i, a in enumerate(self._planes):
            fig.add_trace(
                go.Heatmap(z=np.asarray(a, float), colorscale="Gray", showscale=False), row=1, col=i + 1
            )
            fig.update_yaxes(autorange="reversed", row=1, col=i + 1)
        fig.update_layout(height=300, title="central planes: XY (frame T/2), XT (row H/2), YT (column W/2)")
        with self.slices_figure.batch_update():
            self.slices_figure.data = []
            self.slices_figure.add_traces(list(fig.data))
            self.slices_figure.layout = fig.layout

    def _draw_votes(self) -> None:
        r = self.result
        if r is None or r.part_probabilities is None:
            self.votes.value = (
                "<i>no result given: pass result=toolkit.ldptop.analyze(...) to see the votes</i>"
            )
            return
        self.votes.value = f"<b>{html.escape(r.summary())}</b><br>" + r.table().to_html(
            index=False, float_format="%.3f"
        )
        fig = r.plot()
        with self.votes_figure.batch_update():
            self.votes_figure.data = []
            self.votes_figure.add_traces(list(fig.data))
            self.votes_figure.layout = fig.layout
