"""Geolocation explorers: they draw toolkit results and compute nothing themselves.

* :class:`CountryTopKExplorer` — a :class:`toolkit.geo.country.CountryPrediction` (or images it
  hands to :func:`toolkit.geo.country.predict`): 5 crops, top-k table + bars, folium map, claim check;
* :class:`CityVerificationExplorer` — a :class:`toolkit.geo.city.CityVerification`: verdict, pair
  table and chart, and the query beside any one reference.

>>> from widgets.geo import CountryTopKExplorer
>>> CountryTopKExplorer("photo.jpg")  # doctest: +SKIP
"""

from __future__ import annotations

import os

import ipywidgets as W
import numpy as np

from toolkit.geo import city, country, maps
from widgets._common import error_html

__all__ = ["CountryTopKExplorer", "CityVerificationExplorer"]


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


def _show(out: W.Output, fig) -> None:
    with out:
        out.clear_output(wait=True)
        if fig is not None:
            fig.show()


class CountryTopKExplorer(W.VBox):
    """Pick or upload an image -> its 5 crops, the top-k country classes (table, bars) and a map.

    Parameters
    ----------
    source : a :class:`~toolkit.geo.country.CountryPrediction` to draw, a dict name -> image, or
        one image (path/array/bytes); images are handed to :func:`toolkit.geo.country.analyze`.
    images : dict name -> image offered in the picker (older keyword form).
    image : an initial image, added to the picker as "image".
    model : :class:`toolkit.geo.country.CountryModel` or registry name / checkpoint path for the
        images (None: the shipped demo model, see its card: not a real geolocator; or, for a
        given result, the registered model it was computed with).
    k : initial number of classes (slider 1-10). claimed : initial claimed location
        ("lat, lon" or a country code/name); an image file's EXIF GPS is used when blank.
    tiles : folium tile name, or None (offline outlines only).

    Controls: ``picker``, ``upload``, ``k_slider``, ``fusion``, ``claim``.
    Outputs: ``prediction``, ``table``, ``bar_figure``, ``crops_figure``, ``map``, ``verdict``,
    ``status``, ``table_html``, ``map_html``.

    Changing the fusion re-fuses the stored per-crop probabilities
    (:meth:`~toolkit.geo.country.CountryPrediction.with_fusion`); only 'resize' runs the model again.
    """

    def __init__(
        self,
        source=None,
        *,
        images: dict | None = None,
        image=None,
        model=None,
        k: int = 5,
        claimed: str = "",
        tiles: str | None = None,
    ):
        self.images: dict[str, object] = {}
        self._base: dict[str, country.CountryPrediction] = {}  # one analysed prediction per image
        if isinstance(source, country.CountryPrediction):
            label = os.path.basename(source.path) if source.path else "result"
            self._base[label] = source
            if source.path:
                self.images[label] = source.path
            k = source.k if k == 5 else k
        elif isinstance(source, dict):
            images = {**source, **(images or {})}
        elif source is not None:
            image = source
        self.images.update(images or {})
        if image is not None:
            self.images = {"image": image, **self.images}
        names = list(dict.fromkeys([*self._base, *self.images]))
        if not names:
            raise ValueError("give a CountryPrediction or at least one image (images={...} or image=...)")
        self.model = model
        self.tiles = tiles
        self._models: dict[str, object] = {}
        self.picker = W.Dropdown(options=names, description="image")
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
        first = self._base.get(names[0])
        if first is not None and first.fusion in country.FUSIONS:
            self.fusion.value = first.fusion
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
        self.images[name] = bytes(content.tobytes() if hasattr(content, "tobytes") else content)
        self._base.pop(name, None)
        self.picker.options = list(dict.fromkeys([*self._base, *self.images]))
        if self.picker.value == name:
            self._analyze()
        else:
            self.picker.value = name  # triggers _analyze

    def _model_for(self, name: str):
        """The model that analyses image ``name``: the one given, the given result's registered one,
        or the demo model (loaded once through toolkit)."""
        if self.model is not None and not isinstance(self.model, (str, os.PathLike)):
            return self.model
        key = self.model
        if key is None and name in self._base:
            key = self._base[name].params.get("model")
            from toolkit import weights

            if key not in weights.available():
                raise ValueError(
                    f"the result for {name!r} was computed with {key!r}, which is not a registered model; "
                    "pass model=... to run it again"
                )
        key = key or country.DEMO_WEIGHTS
        if key not in self._models:
            self._models[key] = country.load_model(key)
        return self._models[key]

    def _prediction_for(self, name: str, fusion: str):
        base = self._base.get(name)
        if base is not None and base.fusion == fusion:
            return base
        if base is not None and fusion != "resize" and len(base.crop_probabilities):
            return base.with_fusion(fusion)
        if name not in self.images:
            raise ValueError(f"fusion {fusion!r} needs the image, which this result was given without")
        pred = country.analyze(self.images[name], self._model_for(name), fusion=fusion)
        if fusion != "resize":
            self._base[name] = pred
        return pred

    def _analyze(self):
        name = self.picker.value
        try:
            self.prediction = self._prediction_for(name, self.fusion.value)
            img = self.images.get(name)
            crop_probs = self.prediction.crop_probabilities
            if not len(crop_probs) and name in self._base:
                crop_probs = self._base[name].crop_probabilities
            self.crops_figure = (
                None
                if img is None
                else _crops_figure(country.five_crops(img), crop_probs, self.prediction.class_names)
            )
            self.status.value = ""
        except (ValueError, FileNotFoundError) as exc:
            self.prediction = None
            self.status.value = f"<span style='color:#b00'>{error_html(exc)}</span>"
            return
        _show(self.crops_out, self.crops_figure)
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
        img = self.images.get(self.picker.value)
        if isinstance(img, (str, bytes, os.PathLike)):
            return maps.claim_from_exif(img)
        return None

    def _render(self):
        if self.prediction is None:
            return
        k = int(self.k_slider.value)
        self.table = self.prediction.table(k)
        self.bar_figure = self.prediction.plot_bars(k)
        _show(self.bar_out, self.bar_figure)
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
        self.map_html.value = self.map._repr_html_()


def _pair_figure(query, reference, title: str):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=["query", "reference"])
    fig.add_trace(go.Image(z=query, name="query"), row=1, col=1)
    fig.add_trace(go.Image(z=reference, name="reference"), row=1, col=2)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=50, b=10), title=title)
    return fig


class CityVerificationExplorer(W.VBox):
    """A :class:`toolkit.geo.city.CityVerification` drawn: verdict, per-pair table and chart, and the
    network's view (224 x 224 centre crop) of the query beside the chosen reference.

    Parameters
    ----------
    source : a ``CityVerification``, or a query image handed with ``references=`` (and
        ``**verify_args``: ``model``, ``claimed_country``, ``scene_model``, ...) to
        :func:`toolkit.geo.city.verify`.
    references : reference images of the claimed city (only with a query).
    images : optional ``(query, [references])`` images to show when the result holds no file paths
        (results from arrays).

    Controls: ``pair`` (which reference, disabled when the Siamese stage did not run).
    Outputs: ``result``, ``verdict_html``, ``table``, ``table_html``, ``figure``, ``pair_row``
    (the chosen pair's table row as a dict), ``pair_figure``.
    """

    def __init__(self, source, *, references=None, images=None, **verify_args):
        if isinstance(source, city.CityVerification):
            if references is not None or verify_args:
                raise TypeError("give either a CityVerification or a query with references=..., not both")
            result = source
        else:
            if references is None:
                raise ValueError("a query image needs references=[...] (images of the claimed city)")
            result = city.verify(source, references, **verify_args)
            if images is None and not isinstance(source, (str, os.PathLike)):
                images = (source, city.reference_images(references))
        self.result = result
        self._images = images
        m = len(result.p_different)
        self.pair = W.IntSlider(value=0, min=0, max=max(m - 1, 0), description="reference", disabled=m == 0)
        self.verdict_html = W.HTML()
        self.table_html = W.HTML()
        self.figure_out = W.Output()
        self.pair_out = W.Output()
        self.pair_html = W.HTML()
        self.table = result.table()
        self.figure = result.plot()
        self.pair_row = None
        self.pair_figure = None
        super().__init__(
            [self.verdict_html, self.pair, self.pair_html, self.pair_out, self.figure_out, self.table_html]
        )
        colour = {"different_city": "#b00", "not_detected": "#070"}.get(result.verdict, "#a60")
        self.verdict_html.value = (
            f"<b style='color:{colour}'>{result.verdict}</b> · {result.summary()}<br><i>{result.reason}</i>"
        )
        self.table_html.value = self.table.round(4).to_html(index=False)
        _show(self.figure_out, self.figure)
        self.pair.observe(lambda _: self._render_pair(), names="value")
        self._render_pair()

    def _view(self, i: int | None):
        """The network's view of the query (``None``) or of reference ``i``; None when unavailable."""
        if self._images is not None:
            img = self._images[0] if i is None else self._images[1][i]
        else:
            ref = self.result.references[i] if i is not None and i < len(self.result.references) else {}
            img = self.result.path if i is None else ref.get("path")
        if img is None:
            return None
        try:
            return city.preprocess(img)
        except (ValueError, FileNotFoundError):
            return None

    def _render_pair(self):
        if not len(self.table):
            self.pair_row = None
            self.pair_html.value = "no reference pair was compared"
            return
        i = int(self.pair.value)
        self.pair_row = self.table.iloc[i].to_dict()
        r = self.pair_row
        self.pair_html.value = (
            f"reference {i}{' (' + r['file'] + ')' if r.get('file') else ''}: P(same) {r['p_same']:.3f}, "
            f"P(different) {r['p_different']:.3f}, scene similarity {r['similarity']:.3f}"
        )
        q, ref = self._view(None), self._view(i)
        self.pair_figure = (
            None if q is None or ref is None else _pair_figure(q, ref, f"P(same city) = {r['p_same']:.3f}")
        )
        _show(self.pair_out, self.pair_figure)
