"""FOCAL localization explorers: VER fusion of activation maps, temporal Δf signal.

* :class:`VERExplorer` — per-feature activation maps with their VER weights as
  bars; toggle features in/out of the fusion; frame slider.
* :class:`TemporalExplorer` — Δf signal with a threshold slider, the detected
  cuts, and the two frames on either side of a candidate cut.

Both take toolkit results (``toolkit.focal.spatial.localize`` /
``toolkit.focal.temporal.detect``) or a path they hand to ``toolkit.methods.run``,
and only draw: updates call the results' own methods
(``SpatialResult.frame_view``, ``TemporalResult.cuts_at``).
"""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from toolkit import methods
from toolkit.focal.spatial import SpatialResult
from toolkit.focal.temporal import TemporalResult
from toolkit.video import FrameSource
from widgets._common import FigureWidget

__all__ = ["VERExplorer", "TemporalExplorer"]

_ON, _OFF = "#1f77b4", "#d3d3d3"


class VERExplorer(w.VBox):
    """Activation maps ranked by VER, toggles that rebuild the fused map, a frame slider.

    Parameters
    ----------
    result : SpatialResult, or a video path (or frames) handed to
        ``toolkit.methods.run("focal.spatial", result, **localize_kwargs)``.

    Controls: ``toggles`` (one Checkbox per feature, in/out of the fusion),
    ``frame`` (IntSlider over the analysed frames), ``average`` (Checkbox: use the
    descriptors averaged over all analysed frames instead of one frame).
    Outputs: ``figure`` (frame | fused map | VER bars), ``maps`` (activation maps
    ranked by VER), ``view`` (the current ``SpatialResult.frame_view`` dict), ``status``.

    >>> from toolkit.focal.spatial import localize
    >>> r = localize("sample_data/spatial/spatial_splice.mp4", frames=[0], stride=32, device="cpu")
    >>> ex = VERExplorer(r)
    >>> ex.toggles[0].value = False
    >>> ex.status.value
    'frame 0; 7/8 features fused'
    """

    def __init__(self, result: SpatialResult | str, **localize_kwargs):
        if not isinstance(result, SpatialResult):
            result = methods.run("focal.spatial", result, **{"progress": True, **localize_kwargs})
        self.result = result
        names = result.feature_names
        self.toggles = [
            w.Checkbox(value=True, description=n, indent=False, layout=w.Layout(width="auto")) for n in names
        ]
        n_frames = len(result.frame_index)
        self.average = w.Checkbox(
            value=n_frames > 1,
            description="average all analysed frames",
            disabled=n_frames == 1,
            indent=False,
        )
        kept = len(getattr(result, "frame_features", result.frame_index))  # frames whose tensors were kept
        self.frame = w.IntSlider(
            value=0,
            min=0,
            max=max(min(n_frames, kept) - 1, 0),
            description="frame",
            continuous_update=False,
            disabled=n_frames == 1 or self.average.value,
        )
        self.status = w.HTML()
        self.figure = FigureWidget(
            make_subplots(
                rows=1,
                cols=3,
                column_widths=[0.36, 0.36, 0.28],
                horizontal_spacing=0.06,
                subplot_titles=("frame", "fused map H̄", "VER weights"),
            )
        )
        self.maps = FigureWidget()
        self.view: dict = {}
        for c in self.toggles:
            c.observe(lambda _: self.redraw(maps=False), names="value")
        self.frame.observe(lambda _: self.redraw(), names="value")
        self.average.observe(self._on_average, names="value")
        row = w.HBox(self.toggles, layout=w.Layout(flex_flow="row wrap"))
        super().__init__([w.HBox([self.frame, self.average]), row, self.status, self.figure, self.maps])
        self.redraw()

    @property
    def included(self) -> np.ndarray:
        """Boolean mask of the features taking part in the fusion."""
        return np.array([c.value for c in self.toggles], bool)

    def _on_average(self, _):
        self.frame.disabled = self.average.value or len(self.result.frame_index) == 1
        self.redraw()

    def redraw(self, maps: bool = True) -> None:
        r = self.result
        t = None if self.average.value else int(self.frame.value)
        self.view = r.frame_view(t, include=self.included)
        v = self.view
        frame_no = r.frame_index[0 if t is None else t]
        label = (
            f"descriptors averaged over frames {list(r.frame_index)}" if t is None else f"frame {frame_no}"
        )
        shares = v["ver"] * self.included
        total = shares.sum()
        warn = "" if total > 0 else " — <b>no feature with VER &gt; 0 selected: map is 0</b>"
        self.status.value = f"{label}; {int(self.included.sum())}/{len(self.toggles)} features fused{warn}"
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.add_trace(go.Heatmap(z=v["frame"], colorscale="gray", showscale=False), row=1, col=1)
            self.figure.add_trace(
                go.Heatmap(z=v["heatmap"], colorscale="Inferno", showscale=False, name="fused"), row=1, col=2
            )
            self.figure.add_trace(
                go.Bar(
                    x=list(r.feature_names),
                    y=v["ver"],
                    name="VER",
                    marker_color=[_ON if on else _OFF for on in self.included],
                ),
                row=1,
                col=3,
            )
            # frame and map keep the frame's aspect ratio (one pixel is square)
            for col, anchor in ((1, "x"), (2, "x2")):
                self.figure.update_yaxes(
                    autorange="reversed", showticklabels=False, scaleanchor=anchor, row=1, col=col
                )
            self.figure.update_xaxes(showticklabels=False, row=1, col=1)
            self.figure.update_xaxes(showticklabels=False, row=1, col=2)
            self.figure.update_layout(
                height=330, width=980, showlegend=False, margin=dict(t=40, l=10, r=10, b=80)
            )
        if maps:
            self._draw_maps(v)

    def _draw_maps(self, v: dict) -> None:
        names = self.result.feature_names
        order = np.argsort(-v["ver"], kind="stable")
        cols = min(4, len(order))
        rows = int(np.ceil(len(order) / cols))
        fig = make_subplots(
            rows=rows,
            cols=cols,
            horizontal_spacing=0.02,
            vertical_spacing=0.1,
            subplot_titles=[f"#{j + 1} {names[k]} · VER {v['ver'][k]:.2g}" for j, k in enumerate(order)],
        )
        for j, k in enumerate(order):
            rr, cc = divmod(j, cols)
            fig.add_trace(
                go.Heatmap(z=v["activations"][..., k], colorscale="Viridis", showscale=False, name=names[k]),
                row=rr + 1,
                col=cc + 1,
            )
        fig.update_yaxes(autorange="reversed", showticklabels=False)
        fig.update_xaxes(showticklabels=False)
        fig.update_layout(
            height=200 * rows + 40, width=980, margin=dict(t=40, l=10, r=10, b=10), font=dict(size=10)
        )
        with self.maps.batch_update():
            self.maps.data = []
            self.maps.add_traces(list(fig.data))
            self.maps.layout = fig.layout


class TemporalExplorer(w.VBox):
    """Δf signal with a threshold slider and the frames either side of a candidate cut.

    Parameters
    ----------
    result : TemporalResult, or a video path (or frames) handed to
        ``toolkit.methods.run("focal.temporal", result, **detect_kwargs)``.
    video : path or frames, optional
        Where to read the frames either side of a cut (default: ``result.path``).

    Controls: ``threshold`` (FloatLogSlider, in multiples of the median distance),
    ``candidate`` (Dropdown of the cuts found at that threshold).
    Outputs: ``figure`` (the signal, threshold line, cut markers, I-frames),
    ``frames`` (frame n and n+1 of the selected candidate), ``cuts`` (current cut list),
    ``status``.

    >>> from toolkit.focal.temporal import detect
    >>> r = detect("sample_data/temporal/temporal_splice.mp4", features="quality", start=54, count=10,
    ...            stride=64, device="cpu", suppress="bridge")   # the splice falls on an I-frame
    >>> ex = TemporalExplorer(r)
    >>> ex.cuts, ex.candidate.value
    ([59], 59)
    """

    def __init__(self, result: TemporalResult | str, video=None, **detect_kwargs):
        if not isinstance(result, TemporalResult):
            video = result if video is None else video
            result = methods.run("focal.temporal", result, **{"progress": True, **detect_kwargs})
        self.result = result
        self.video = video if video is not None else result.path
        self._source: FrameSource | None = None
        top = float(np.nanmax(result.scores)) if len(result.scores) else 1.0
        hi = max(np.log10(max(top, 1.0)) + 0.5, np.log10(result.threshold) + 0.5, 1.0)
        self.threshold = w.FloatLogSlider(
            value=result.threshold,
            base=10,
            min=-0.5,
            max=round(hi, 1),
            step=0.05,
            description="threshold",
            continuous_update=False,
            readout_format=".3g",
            layout=w.Layout(width="60%"),
        )
        self.candidate = w.Dropdown(options=[], description="candidate")
        self.status = w.HTML()
        self.figure = FigureWidget(result.plot())
        # log axes: labels at powers of ten only (no bare minor-tick digits)
        self.figure.update_yaxes(dtick=1, exponentformat="power", selector=dict(type="log"))
        self.frames = FigureWidget(
            make_subplots(rows=1, cols=2, horizontal_spacing=0.03, subplot_titles=("frame n", "frame n+1"))
        )
        self.cuts: list[int] = list(result.cuts)
        self.threshold.observe(lambda _: self.update_cuts(), names="value")
        self.candidate.observe(lambda _: self.show_frames(), names="value")
        super().__init__([self.threshold, self.status, self.figure, self.candidate, self.frames])
        self.update_cuts()

    def update_cuts(self) -> None:
        r = self.result
        thr = float(self.threshold.value)
        self.cuts = r.cuts_at(thr)
        x = r.pairs + 0.5
        sel = np.isin(r.pairs, self.cuts)
        line_y = thr * r.background
        with self.figure.batch_update():
            for tr in self.figure.data:
                if tr.name and tr.name.startswith("threshold"):
                    tr.y = [line_y, line_y]
                    tr.name = f"threshold ({thr:.3g} x median)"
                elif tr.name == "detected cut":
                    tr.x, tr.y = x[sel], r.distance[sel]
            if not any(tr.name == "detected cut" for tr in self.figure.data):
                self.figure.add_scatter(
                    x=x[sel],
                    y=r.distance[sel],
                    mode="markers",
                    name="detected cut",
                    marker=dict(symbol="x", size=12, color="#d62728"),
                    row=1,
                    col=1,
                )
        self.status.value = (
            f"{len(self.cuts)} cut(s) above {thr:.3g} x median Δf: {self.cuts[:20]}"
            f"{' ...' if len(self.cuts) > 20 else ''}"
        )
        # candidates: the cuts, else the strongest peak, so there is always something to look at
        options = self.cuts or [int(r.pairs[int(np.nanargmax(r.scores))])]
        keep = self.candidate.value if self.candidate.value in options else options[0]
        self.candidate.options = options
        self.candidate.value = keep
        self.show_frames()

    def _frame_pair(self, n: int):
        pos = int(np.searchsorted(self.result.frame_index, n))
        nxt = int(self.result.frame_index[min(pos + 1, len(self.result.frame_index) - 1)])
        if self.video is None:
            return None, nxt
        if self._source is None:  # probed (and hashed) once, then read two frames at a time
            self._source = FrameSource(self.video, count=0, fmt="luma")
        self._source.indices = sorted({n, nxt})
        got = dict(self._source)
        return (got.get(n), got.get(nxt)), nxt

    def show_frames(self) -> None:
        n = self.candidate.value
        with self.frames.batch_update():
            self.frames.data = []
            if n is None:
                return
            pair, nxt = self._frame_pair(int(n))
            if pair is None:
                self.frames.layout.title = "frames unavailable (no video given)"
                return
            for c, img in enumerate(pair):
                if img is not None:
                    self.frames.add_trace(
                        go.Heatmap(
                            z=img, colorscale="gray", showscale=False, name=f"frame {n if c == 0 else nxt}"
                        ),
                        row=1,
                        col=c + 1,
                    )
            self.frames.layout.annotations[0].text = f"frame {n}"
            self.frames.layout.annotations[1].text = f"frame {nxt}"
            self.frames.update_yaxes(autorange="reversed", showticklabels=False)
            # thumbnails keep the frame's aspect ratio: square pixels, height from the frame's shape
            self.frames.update_yaxes(scaleanchor="x", constrain="domain", row=1, col=1)
            self.frames.update_yaxes(scaleanchor="x2", constrain="domain", row=1, col=2)
            self.frames.update_xaxes(showticklabels=False, constrain="domain")
            h, wd = next(img for img in pair if img is not None).shape[:2]
            height = int(round(440 * h / max(wd, 1))) + 50
            self.frames.update_layout(height=height, width=900, margin=dict(t=40, l=10, r=10, b=10))
