"""FrameScoreExplorer: per-frame fake probabilities of a video, the vote and the frame under the cursor."""

from __future__ import annotations

import html
import io

import ipywidgets as w
import numpy as np

from toolkit.framecls import FrameScores, analyze
from widgets._common import FigureWidget, error_html, split_source


def _png(frame: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(frame, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


class FrameScoreExplorer(w.VBox):
    """Explore a :class:`~toolkit.framecls.FrameScores`: per-frame fake probability, the vote, one frame.

    ``source``: a ``FrameScores`` (from :func:`toolkit.framecls.analyze`) or a video path (analysed once
    with ``model`` / ``**analyze_kw``). ``frames``: the analysed frames as an array (``T x H x W x 3``),
    needed to show frames of a result computed on an array; for a path the frame is read from the file.

    Controls: ``frame`` (slider over the scored frames; hovering or clicking a point of the curve moves it),
    ``threshold`` (slider: re-decides from the stored scores, no frame is scored again), ``vote``
    (soft / majority).
    Outputs: ``score_figure`` (scores, threshold, soft vote, the selected frame as a red marker),
    ``image`` (the selected frame, PNG), ``decision`` (HTML: verdict, score, the frame's probability),
    ``result`` (the re-decided ``FrameScores``).

    >>> from toolkit.framecls import build
    >>> frames = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    >>> r = analyze(frames, model=build("tiny").eval(), device="cpu")
    >>> ex = FrameScoreExplorer(r, frames=frames)
    >>> ex.threshold.value = 0.0
    >>> ex.result.verdict, len(ex.score_figure.data[0].y)
    ('synthetic', 4)
    """

    def __init__(
        self, source=None, *, result: FrameScores | None = None, frames=None, model=None, **analyze_kw
    ):
        path, result = split_source(source, result, FrameScores)
        self.error = w.HTML()
        if result is None:
            if path is None:
                raise ValueError("FrameScoreExplorer needs a FrameScores result or a video path")
            result = analyze(path, model=model, **analyze_kw)
        self.base = result
        self.result = result
        self.frames = None if frames is None else np.asarray(frames)
        n = len(result.scores)
        self.frame = w.IntSlider(
            value=0,
            min=0,
            max=max(n - 1, 0),
            description="scored frame",
            continuous_update=False,
            disabled=n == 0,
            layout=w.Layout(width="60%"),
        )
        self.threshold = w.FloatSlider(
            value=result.threshold,
            min=0.0,
            max=1.0,
            step=0.01,
            description="threshold",
            continuous_update=False,
            readout_format=".2f",
        )
        self.vote = w.ToggleButtons(options=["soft", "majority"], value=result.vote, description="vote")
        self.score_figure = FigureWidget()
        self.image = w.Image(format="png", layout=w.Layout(max_width="480px"))
        self.decision = w.HTML()
        self.frame.observe(lambda _: self.redraw(), names="value")
        self.threshold.observe(lambda _: self.redraw(decide=True), names="value")
        self.vote.observe(lambda _: self.redraw(decide=True), names="value")
        super().__init__(
            [
                w.HBox([self.vote, self.threshold]),
                self.frame,
                w.HBox([self.score_figure, self.image]),
                self.decision,
                self.error,
            ]
        )
        self.redraw(decide=True)

    def _on_click(self, trace, points, _state) -> None:
        if points.point_inds:
            self.frame.value = int(points.point_inds[0])

    def _frame_array(self, index: int):
        if self.frames is not None:
            return self.frames[index] if index < len(self.frames) else None
        if self.result.path is None:
            return None
        from toolkit.video import read_frames

        return read_frames(self.result.path, start=int(index), count=1, fmt="rgb")[0]

    def redraw(self, decide: bool = False) -> None:
        r = self.base
        if decide:
            self.result = r.with_threshold(float(self.threshold.value), vote=self.vote.value)
        r = self.result
        k = int(self.frame.value)
        fig = r.plot()
        with self.score_figure.batch_update():
            self.score_figure.data = []
            for tr in fig.data:
                self.score_figure.add_trace(tr)
            self.score_figure.layout = fig.layout
            if len(r.scores):
                self.score_figure.add_scatter(
                    x=[int(r.frame_indices[k])],
                    y=[float(r.scores[k])],
                    mode="markers",
                    name="selected",
                    marker={"color": "red", "size": 13, "symbol": "diamond"},
                )
            self.score_figure.update_layout(width=560)
        if self.score_figure.data:  # clicking or hovering a point shows that frame
            self.score_figure.data[0].on_click(self._on_click)
            self.score_figure.data[0].on_hover(self._on_click)
        if not len(r.scores):
            self.decision.value = f"<b>{html.escape(r.verdict)}</b>: {html.escape(r.reason)}"
            return
        idx = int(r.frame_indices[k])
        try:
            frame = self._frame_array(idx)
            self.image.value = _png(frame) if frame is not None else b""
            self.error.value = ""
        except Exception as exc:  # a frame that cannot be shown must not hide the scores
            self.image.value = b""
            self.error.value = error_html(exc)
        colour = "#b00" if r.verdict == "synthetic" else "#2a2"
        rule = "mean frame score" if r.vote == "soft" else "share of frames above the threshold"
        self.decision.value = (
            f"video: <b style='color:{colour}'>{html.escape(r.verdict)}</b> ({rule} {r.score:.3f}, threshold "
            f"{r.threshold:.2f}); frame {idx}: fake probability <b>{float(r.scores[k]):.3f}</b>"
        )
