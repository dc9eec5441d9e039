"""CountryTopKExplorer: 5 crops, top-k table + bar chart and a folium map of country classes.

>>> from widgets import CountryTopKExplorer  # doctest: +SKIP
>>> CountryTopKExplorer(images={"china": "china.jpg"})  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os

import ipywidgets as W
import numpy as np

from toolkit.geo import country, maps

__all__ = ["CountryTopKExplorer"]


def _crops_figure(crops: list[np.ndarray], crop_probs: np.ndarray, class_names: list[str]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = []
    for i, name in enumerate(country.CROP_NAMES):
        if len(crop_probs):
            j = int(np.argmax(crop_probs[i]))
            titles.append(f"{name}: {class_names[j]} {crop_probs[i, j]:.2f}")
        else:
            titles.append(name)
    fig = make_subplots(rows=1, cols=5, subplot_titles=titles)
    for i, c in enumerate(crops):
        fig.add_trace(go.Image(z=c, name=country.CROP_NAMES[i]), row=1, col=i + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(
        height=260, margin=dict(l=10, r=10, t=40, b=10), title="5 crops (224 x 224) after resize to 256"
    )
    for a in fig.layout.annotations:
        a.font.size = 10
    return fig


class CountryTopKExplorer(W.VBox):
    """Pick or upload an image -> its 5 crops, the top-k country classes (table, bars) and a map.

    Parameters
    ----------
    images : dict name -> image (path/array) offered in the picker (optional).
    image : an initial image (path/array), added to the picker as "image".
    model : :class:`toolkit.geo.country.CountryModel`, checkpoint path / registry name, or
        None for the shipped demo model (see its model card: not a real geolocator).
    k : initial number of classes (slider 1-10). claimed : initial claimed location
        ("lat, lon" or a country code/name); an uploaded JPEG's EXIF GPS is used when blank.

    Controls: ``picker``, ``upload``, ``k_slider``, ``fusion``, ``claim``.
    Outputs: ``prediction``, ``table``, ``bar_figure``, ``crops_figure``, ``map``, ``verdict``.
    """

    def __init__(
        self,
        images: dict | None = None,
        image=None,
        model=None,
        k: int = 5,
        claimed: str = "",
        tiles: str | None = None,
    ):
        self.images = dict(images or {})
        if image is not None:
            self.images = {"image": image, **self.images}
        if not self.images:
            raise ValueError("give at least one image (images={...} or image=...) to explore")
        if model is None or isinstance(model, (str, os.PathLike)):
            model = country.load_model(model or country.DEMO_WEIGHTS)
        self.model = model
        self.tiles = tiles
        self._raw: dict[str, object] = {}
        self.picker = W.Dropdown(options=list(self.images), description="image")
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="upload")
        self.k_slider = W.IntSlider(value=int(k), min=1, max=10, description="top-k")
        self.fusion = W.Dropdown(options=list(country.FUSIONS), value="mean", description="fusion")
        self.claim = W.Text(
            value=claimed, description="claimed", placeholder="lat, lon  or  country (e.g. IT)"
        )
        self.status = W.HTML()
        self.crops_out = W.Output()
        self.bar_out = W.Output()
        self.table_html = W.HTML()
        self.map_html = W.HTML()
        self.prediction = None
        self.table = None
        self.bar_figure = None
        self.crops_figure = None
        self.map = None
        self.verdict = None
        super().__init__(
            [
                W.HBox([self.picker, self.upload]),
                W.HBox([self.k_slider, self.fusion, self.claim]),
                self.status,
                self.crops_out,
                W.HBox([self.table_html, self.bar_out]),
                self.map_html,
            ]
        )
        self.picker.observe(lambda _: self._analyze(), names="value")
        self.fusion.observe(lambda _: self._analyze(), names="value")
        self.k_slider.observe(lambda _: self._render(), names="value")
        self.claim.observe(lambda _: self._render(), names="value")
        self.upload.observe(self._on_upload, names="value")
        self._analyze()

    # --- events -------------------------------------------------------------------
    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        f = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = f.get("name", "upload") if isinstance(f, dict) else getattr(f, "name", "upload")
        content = f["content"] if isinstance(f, dict) else f.content
        data = bytes(content.tobytes() if hasattr(content, "tobytes") else content)
        self.images[name] = data
        self._raw[name] = data
        self.picker.options = list(self.images)
        self.picker.value = name  # triggers _analyze

    def _current(self):
        return self.images[self.picker.value]

    def _analyze(self):
        try:
            img = self._current()
            self.prediction = country.analyze(img, self.model, fusion=self.fusion.value)
            crops = country.five_crops(img)
            self.crops_figure = _crops_figure(
                crops, self.prediction.crop_probabilities, self.prediction.class_names
            )
            self.status.value = ""
        except (ValueError, FileNotFoundError) as exc:
            self.prediction = None
            self.status.value = f"<span style='color:#b00'>{exc}</span>"
            return
        with self.crops_out:
            self.crops_out.clear_output(wait=True)
            self.crops_figure.show()
        self._render()

    def _claimed(self):
        text = self.claim.value.strip()
        if text:
            parts = [p.strip() for p in text.split(",")]
            if len(parts) == 2:
                try:
                    return (float(parts[0]), float(parts[1]))
                except ValueError:
                    pass
            return text
        img = self._current()
        return (
            maps.claim_from_exif(img) if isinstance(img, (str, bytes)) or hasattr(img, "__fspath__") else None
        )

    def _render(self):
        if self.prediction is None:
            return
        k = int(self.k_slider.value)
        self.table = self.prediction.table(k)
        self.bar_figure = self.prediction.plot(k)
        with self.bar_out:
            self.bar_out.clear_output(wait=True)
            self.bar_figure.show()
        show = self.table.drop(columns=["codes"]).copy()
        show["probability"] = show["probability"].map(lambda p: f"{p:.4f}")
        self.table_html.value = show.to_html(index=False)
        try:
            claimed = self._claimed()
            self.map = maps.topk_map(self.prediction, claimed=claimed, k=k, tiles=self.tiles)
            self.verdict = self.map.geo_verdict
            self.status.value = ""
        except ValueError as exc:
            self.map = maps.topk_map(self.prediction, k=k, tiles=self.tiles)
            self.verdict = None
            self.status.value = f"<span style='color:#b00'>claimed location: {exc}</span>"
        if self.verdict:
            ok = "consistent" if self.verdict["consistent"] else "NOT consistent"
            self.status.value += (
                f"<b>Claim {self.verdict['claimed_country']} (class {self.verdict['claimed_class']},"
                f" rank {self.verdict['rank']}): {ok} with the top-{k}</b>"
            )
        buf = io.StringIO(self.map._repr_html_())
        self.map_html.value = buf.getvalue()
