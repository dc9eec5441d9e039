"""ResidualExplorer: residual, quantised codes, 162-bin histograms and heat map of the SRM feature."""

from __future__ import annotations

import html

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from toolkit.residual import analyze, heatmap
from toolkit.residual.data import local_forgery
from toolkit.synth.manipulate import MANIPULATIONS, apply
from toolkit.synth.sources import PHOTOS, photo
from widgets._common import FigureWidget

_ERR = "<b style='color:#b00'>{}</b>: {}"


class ResidualExplorer(w.VBox):
    """Pick an image (a shipped photo or an upload) and a manipulation; see the SRM chain.

    Controls: ``picker`` (image), ``upload`` (image file), ``manipulation``
    (one of the 15 of Table II), ``top`` / ``left`` (the analysed window),
    ``show_heatmap`` (compute the heat map of a locally manipulated copy).
    Outputs (plotly FigureWidgets): ``fig_residual`` (row residual of the window,
    pristine | manipulated), ``fig_codes`` (co-occurrence codes), ``fig_hist``
    (162 bins, pristine vs manipulated), ``fig_heat`` (forged image | heat map);
    ``table`` (pandas, the 81 codes with both counts), ``status``.

    ``models`` maps a manipulation name to a model for :func:`toolkit.residual.heatmap`
    (a fine-tuned :class:`~toolkit.residual.RecastCNN` or an SRM+SVM pipeline); for a
    manipulation without one, :func:`toolkit.residual.svm.model_for` gives the shipped
    model (``residual/<name>``) or trains one on ``train_pairs`` pristine/manipulated
    patch pairs of the training photos (a few seconds). The explorer only draws.

    >>> import numpy as np
    >>> img = np.random.default_rng(0).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    >>> ex = ResidualExplorer(img, manipulation="blur0.5", window=64)   # or ResidualExplorer()
    >>> ex.manipulation.value = "jpeg90"
    >>> [t.name for t in ex.fig_hist.data]
    ['pristine', 'jpeg90']
    """

    def __init__(
        self,
        image=None,
        manipulation: str = "blur0.5",
        models: dict | None = None,
        window: int = 128,
        stride: int = 32,
        train_pairs: int = 60,
    ):
        self.window, self.stride, self.train_pairs = int(window), int(stride), int(train_pairs)
        self.models = dict(models or {})
        self.images: dict[str, np.ndarray] = {}
        options = list(PHOTOS)
        if image is not None:
            self.images["(given image)"] = np.asarray(image)
            options = ["(given image)"] + options
        self.picker = w.Dropdown(options=options, value=options[0], description="image")
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="upload")
        self.manipulation = w.Dropdown(options=list(MANIPULATIONS), value=manipulation, description="manip.")
        self.top = w.IntSlider(0, 0, 1, description="top", continuous_update=False)
        self.left = w.IntSlider(0, 0, 1, description="left", continuous_update=False)
        self.show_heatmap = w.Checkbox(value=False, description="heat map (local forgery)")
        self.status = w.HTML()
        self.fig_residual = FigureWidget()
        self.fig_codes = FigureWidget()
        self.fig_hist = FigureWidget()
        self.fig_heat = FigureWidget()
        # shown only while the heat-map checkbox is on (an unused figure would be empty axes)
        self.heat_box = w.Box([self.fig_heat], layout=w.Layout(display="none"))
        self.table = None
        self.heat = None
        self.picker.observe(lambda _: self.load(), names="value")
        self.upload.observe(self._on_upload, names="value")
        for c in (self.manipulation, self.top, self.left):
            c.observe(lambda _: self.redraw(), names="value")
        self.manipulation.observe(lambda _: self.redraw_heatmap(), names="value")
        self.show_heatmap.observe(lambda _: self.redraw_heatmap(), names="value")
        super().__init__(
            [
                w.HBox([self.picker, self.upload, self.manipulation]),
                w.HBox([self.top, self.left, self.show_heatmap]),
                self.status,
                self.fig_residual,
                self.fig_codes,
                self.fig_hist,
                self.heat_box,
            ]
        )
        self.load()

    # -- data -------------------------------------------------------------------------------
    def image(self) -> np.ndarray:
        name = self.picker.value
        return self.images[name] if name in self.images else photo(name)

    def _on_upload(self, change) -> None:
        from toolkit.image import load_image

        files = change["new"]
        if not files:
            return
        f = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = f.get("name", "upload") if isinstance(f, dict) else getattr(f, "name", "upload")
        content = f["content"] if isinstance(f, dict) else f.content
        try:
            img = load_image(bytes(content))
        except ValueError as exc:
            self.status.value = _ERR.format(
                "ValueError", f"{html.escape(name)} is not a readable image ({exc})"
            )
            return
        key = f"uploaded: {name}"
        self.images[key] = img
        self.picker.options = [key] + [o for o in self.picker.options if o != key]
        self.picker.value = key

    def load(self) -> None:
        img = self.image()
        h, w_ = img.shape[:2]
        if min(h, w_) < self.window:
            self.status.value = _ERR.format(
                "ValueError", f"image of {h} x {w_} pixels is smaller than the {self.window}-pixel window"
            )
            self.fig_hist.data = []
            return
        with self.top.hold_trait_notifications(), self.left.hold_trait_notifications():
            self.top.max, self.left.max = max(1, h - self.window), max(1, w_ - self.window)
            self.top.value, self.left.value = (h - self.window) // 2, (w_ - self.window) // 2
        self.redraw()
        self.redraw_heatmap()

    # -- drawing ----------------------------------------------------------------------------
    def redraw(self) -> None:
        img = self.image()
        if min(img.shape[:2]) < self.window:
            return
        name = self.manipulation.value
        try:
            man = apply(img, name)
        except ValueError as exc:
            self.status.value = _ERR.format("ValueError", exc)
            return
        t, lf, s = self.top.value, self.left.value, self.window
        sy, sx = man.shape[0] / img.shape[0], man.shape[1] / img.shape[1]
        t2 = min(int(round(t * sy)), man.shape[0] - s)
        l2 = min(int(round(lf * sx)), man.shape[1] - s)
        a = analyze(img[t : t + s, lf : lf + s])
        b = analyze(man[t2 : t2 + s, l2 : l2 + s])
        self.analyses = (a, b)
        tab = a.table()[["code", "pattern", "along", "across"]]
        tab[["along_manip", "across_manip"]] = b.table()[["along", "across"]].to_numpy()
        self.table = tab
        fr = make_subplots(1, 2, subplot_titles=("pristine residual", f"{name} residual"))
        fc = make_subplots(1, 2, subplot_titles=("pristine codes", f"{name} codes"))
        for k, an in enumerate((a, b)):
            fr.add_trace(
                go.Heatmap(
                    z=np.clip(an.residual_h, -20, 20), zmin=-20, zmax=20, colorscale="RdBu", showscale=k == 1
                ),
                1,
                k + 1,
            )
            fc.add_trace(
                go.Heatmap(z=an.codes["h_along"], zmin=0, zmax=80, colorscale="Viridis", showscale=k == 1),
                1,
                k + 1,
            )
        for f in (fr, fc):
            f.update_yaxes(autorange="reversed")
            f.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10))
        bins = np.arange(162)
        with self.fig_residual.batch_update():
            self.fig_residual.data = []
            self.fig_residual.layout = fr.layout
            self.fig_residual.add_traces(list(fr.data))
        with self.fig_codes.batch_update():
            self.fig_codes.data = []
            self.fig_codes.layout = fc.layout
            self.fig_codes.add_traces(list(fc.data))
        with self.fig_hist.batch_update():
            self.fig_hist.data = []
            self.fig_hist.add_bar(x=bins, y=a.feature, name="pristine")
            self.fig_hist.add_bar(x=bins, y=b.feature, name=name)
            self.fig_hist.update_layout(
                barmode="group",
                height=320,
                yaxis=dict(type="log", dtick=1, exponentformat="power"),  # labels at powers of ten only
                xaxis_title="bin (0-80 along, 81-161 across)",
                yaxis_title="frequency",
                margin=dict(l=40, r=10, t=30, b=40),
                title=f"window ({t}, {lf}), {s} x {s}",
            )
        l1 = float(np.abs(a.feature - b.feature).sum())
        self.status.value = (
            f"{img.shape[1]} x {img.shape[0]} image, window ({t}, {lf}); "
            f"L1 distance pristine-{name} histograms: {l1:.4f}"
        )

    def model_for(self, name: str):
        """The heat-map model of manipulation ``name``: the given one, else
        :func:`toolkit.residual.svm.model_for` (shipped, or trained once and kept)."""
        if name not in self.models:
            from toolkit.residual.svm import model_for

            self.models[name] = model_for(name, window=self.window, n_pairs=self.train_pairs)
        return self.models[name]

    def redraw_heatmap(self) -> None:
        """Heat map of a locally manipulated copy (when ``show_heatmap`` is on), the box drawn on both
        panels; image rows run top to bottom in both."""
        self.heat_box.layout.display = "flex" if self.show_heatmap.value else "none"
        if not self.show_heatmap.value:
            return
        name = self.manipulation.value
        img = self.image()
        try:
            forged, mask = local_forgery(img, name)
            self.heat = heatmap(
                forged, self.model_for(name), window=self.window, stride=self.stride, progress=True
            )
        except ValueError as exc:
            self.status.value = _ERR.format("ValueError", exc)
            self.heat = None
            self.fig_heat.data = []
            return
        fig = self.heat.plot(forged, title=f"P({name}) per window; box = manipulated area")
        fig.update_yaxes(autorange="reversed")
        ys, xs = np.nonzero(mask)
        if len(ys):
            box = dict(
                type="rect",
                x0=xs.min() - 0.5,
                x1=xs.max() + 0.5,
                y0=ys.min() - 0.5,
                y1=ys.max() + 0.5,
                line=dict(color="#00e5ff", width=2),
            )
            if len(fig.data) > 1:  # image | heat map subplots
                for col in (1, 2):
                    fig.add_shape(**box, row=1, col=col)
            else:
                fig.add_shape(**box)
        with self.fig_heat.batch_update():
            self.fig_heat.data = []
            self.fig_heat.add_traces(list(fig.data))
            self.fig_heat.layout = fig.layout
        inside, outside = self.heat.region_means(mask)
        self.status.value += (
            f"; heat map: mean P inside box {inside:.2f}, outside {outside:.2f}; {self.heat.verdict} "
            f"(score {self.heat.score:.2f} vs threshold {self.heat.threshold:g})"
        )
