"""FootprintPCAExplorer: the seed's 3-D PCA view of F-SVM footprints, one video's curves and its decision."""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from toolkit.fsvm import FSVM, LABEL_NAMES, FootprintSet, leave_one_out, pca_3d
from widgets._common import FigureWidget


class FootprintPCAExplorer(w.VBox):
    """Explore a :class:`~toolkit.fsvm.FootprintSet`: PCA of the footprints, curves, SVM decision.

    Controls: ``n_frames`` (slider, N = frames per footprint used by the PCA
    and the SVM), ``video`` (dropdown; clicking a point in the PCA view also
    selects it).
    Outputs: ``pca_figure`` (3-D scatter, real vs fake, hover = file name,
    the selected video as a black diamond), ``curve_figure`` (intra / inter /
    skip fractions per frame of the selected video), ``decision`` (HTML) and
    ``decision_table`` (pandas, one row).

    The decision comes from ``model`` when it was trained with the slider's N;
    otherwise from :func:`toolkit.fsvm.leave_one_out` (an ``FSVM(C=C, n_frames=N)``
    trained on the set *without* the video, so the shown decision is never on a
    training video), computed once per N and kept in ``loo``. The explorer only draws.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.dirichlet([1, 30, 3], (5, 6)), rng.dirichlet([30, 8, 1], (5, 6))])
    >>> ds = FootprintSet([f"{'fake' if i > 4 else 'real'}/v{i}.mp4" for i in range(10)],
    ...                   np.r_[[0] * 5, [1] * 5], X, ["0" * 64] * 10)
    >>> ex = FootprintPCAExplorer(ds)        # e.g. FootprintPCAExplorer(load_folder("sim"))
    >>> ex.decision_table.iloc[0][["truth", "decision"]].tolist()
    ['real', 'real']
    >>> ex.n_frames.value = 4
    >>> len(ex.curve_figure.data[0].y), sorted(ex.loo)
    (4, [4, 6])
    """

    def __init__(self, dataset: FootprintSet, model: FSVM | None = None, C: float = 0.1):
        if not isinstance(dataset, FootprintSet):
            raise ValueError("FootprintPCAExplorer needs a FootprintSet (from toolkit.fsvm.load_folder)")
        if len(dataset) < 3 or len(set(dataset.labels.tolist())) != 2:
            raise ValueError("the set needs at least 3 videos of both classes (real and fake)")
        self.dataset = dataset
        self.model = model
        self.C = C
        n_max = dataset.footprints.shape[1]
        self.n_frames = w.IntSlider(
            value=n_max,
            min=1,
            max=n_max,
            description="N frames",
            continuous_update=False,
            layout=w.Layout(width="50%"),
        )
        options = [
            (f"{name} ({LABEL_NAMES[int(lab)]})", i)
            for i, (name, lab) in enumerate(zip(dataset.names, dataset.labels))
        ]
        self.video = w.Dropdown(options=options, value=0, description="video", layout=w.Layout(width="50%"))
        self.status = w.HTML()
        self.decision = w.HTML()
        self.decision_table = pd.DataFrame()
        self.pca_figure = FigureWidget()
        self.curve_figure = FigureWidget()
        self.coords = None
        self.loo: dict = {}  # N -> toolkit.fsvm.LeaveOneOutDecisions
        self.n_frames.observe(lambda _: self.redraw(), names="value")
        self.video.observe(lambda _: self.redraw(pca=False), names="value")
        super().__init__(
            [
                w.HBox([self.n_frames, self.video]),
                self.status,
                w.HBox([self.pca_figure, self.curve_figure]),
                self.decision,
            ]
        )
        self.redraw()

    # ------------------------------------------------------------------ drawing
    def _on_click(self, trace, points, _state) -> None:
        if points.point_inds and trace.customdata is not None:
            self.video.value = int(trace.customdata[points.point_inds[0]])

    def redraw(self, pca: bool = True) -> None:
        n = int(self.n_frames.value)
        i = int(self.video.value)
        ds = self.dataset
        self.coords, fig = pca_3d(ds, n_frames=n, highlight=i)
        with self.pca_figure.batch_update():
            self.pca_figure.data = []
            for tr in fig.data:
                self.pca_figure.add_trace(tr)
            self.pca_figure.layout = fig.layout
            self.pca_figure.update_layout(width=560)
        for tr in self.pca_figure.data[:2]:
            tr.on_click(self._on_click)

        result = self._decide(i, n)
        cfig = result.plot() if result is not None else ds.footprint(i, n).plot()
        with self.curve_figure.batch_update():
            self.curve_figure.data = []
            for tr in cfig.data:
                self.curve_figure.add_trace(tr)
            self.curve_figure.layout = cfig.layout
            self.curve_figure.update_layout(width=520, title_font_size=13)
        truth = LABEL_NAMES[int(ds.labels[i])]
        if result is None:
            self.decision_table = pd.DataFrame()
            self.decision.value = "<i>no decision: the set without this video has only one class</i>"
            return
        correct = result.label_name == truth
        self.decision_table = pd.DataFrame(
            [
                {
                    "video": ds.names[i],
                    "truth": truth,
                    "decision": result.label_name,
                    "score": result.score,
                    "threshold": result.threshold,
                    "correct": correct,
                    "n_frames": n,
                    "model": self._model_note,
                }
            ]
        )
        colour = "#2a2" if correct else "#b00"
        self.decision.value = (
            f"<b>{html.escape(ds.names[i])}</b>: truth <b>{truth}</b>, F-SVM says "
            f"<b style='color:{colour}'>{result.label_name}</b> (score {result.score:+.3f}, "
            f"threshold {result.threshold:g}; {self._model_note})"
        )
        self.status.value = (
            f"{len(ds)} videos ({int((ds.labels == 0).sum())} real, "
            f"{int((ds.labels == 1).sum())} fake); PCA of {3 * n} values per video"
        )

    def _decide(self, i: int, n: int):
        m = self.model
        if m is not None and int(m.n_frames) == n and hasattr(m, "coef_"):
            self._model_note = "the given model"
            return m.detect(None, footprint=self.dataset.footprint(i, n))
        if n not in self.loo:
            self.loo[n] = leave_one_out(self.dataset, n_frames=n, C=self.C)
        self._model_note = f"SVM trained on the other {len(self.dataset) - 1} videos (leave-one-out)"
        return self.loo[n][i]
