"""FaceFCNExplorer: one frame's face crop with its landmarks, the FCN's fake probability and its
49 x 49 segmentation map over the face."""

from __future__ import annotations

import html
import os

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from toolkit.faces import analyze_faces, crop, crop_points, detect, load_model, output_centres
from widgets._common import FigureWidget, error_html


class FaceFCNExplorer(w.VBox):
    """Pick a frame, see the seed's 128 x 128 crop with the five landmarks, the fake probability and
    the segmentation map (fake probability per output cell) over the face.

    Controls: ``frame`` (slider over the given frames), ``face`` (dropdown, when a frame holds
    several), ``opacity`` (of the map over the crop). Outputs: ``figure`` (crop image, landmarks,
    map heatmap at the receptive-field centres), ``info`` (HTML: fake probability, verdict, the
    loaded model's λ), ``rows`` (the :func:`toolkit.faces.analyze_faces` rows of the current frame).

    ``frames``: a video path, an image path, one H x W x 3 image or a T x H x W x 3 array.
    Detection and the network run in :mod:`toolkit.faces`; the explorer only draws.

    >>> from skimage import data
    >>> ex = FaceFCNExplorer(data.astronaut()[None], device="cpu")
    >>> ex.rows[0]["fake_prob"] == ex.probability
    True
    >>> ex.opacity.value = 0.2
    >>> ex.figure.data[1].opacity
    0.2
    """

    def __init__(
        self, frames, model="default", *, max_frames: int = 16, device: str = "auto", threshold: float = 0.5
    ):
        self.frames = _frames(frames, max_frames)
        self.model = load_model(model, device) if isinstance(model, (str, os.PathLike)) else model
        self.threshold = float(threshold)
        self.frame = w.IntSlider(
            value=0, min=0, max=max(len(self.frames) - 1, 0), description="frame", continuous_update=False
        )
        self.face = w.Dropdown(options=[("face 1", 0)], value=0, description="face")
        self.opacity = w.FloatSlider(
            value=0.5, min=0.0, max=1.0, step=0.05, description="map opacity", continuous_update=False
        )
        self.info = w.HTML()
        self.figure = FigureWidget()
        self.rows: list = []
        self.maps = np.zeros((0, 49, 49), np.float32)
        self.faces: list = []
        self.probability = float("nan")
        self.frame.observe(lambda _: self.redraw(detect_again=True), names="value")
        self.face.observe(lambda _: self.redraw(), names="value")
        self.opacity.observe(lambda _: self._set_opacity(), names="value")
        super().__init__([w.HBox([self.frame, self.face, self.opacity]), self.info, self.figure])
        self.redraw(detect_again=True)

    def _set_opacity(self) -> None:
        if len(self.figure.data) > 1:
            self.figure.data[1].opacity = float(self.opacity.value)

    def redraw(self, detect_again: bool = False) -> None:
        rgb = self.frames[int(self.frame.value)]
        try:
            if detect_again:
                self.faces = detect(rgb)
                self.rows, self.maps = analyze_faces(rgb, self.faces, self.model, frame=int(self.frame.value))
                opts = [(f"face {i + 1} (p = {r['fake_prob']:.2f})", i) for i, r in enumerate(self.rows)]
                with self.face.hold_trait_notifications():
                    self.face.options = opts or [("no face", 0)]
                    self.face.value = 0
        except Exception as exc:  # shown, not raised: the explorer stays usable
            self.info.value = error_html(exc)
            return
        lam = getattr(self.model, "lam", None)
        lam_text = f"model λ = {lam:g}" if lam is not None else "model λ unknown"
        name = html.escape(str(getattr(self.model, "weights_name", None) or "given model"))
        with self.figure.batch_update():
            self.figure.data = []
            if not self.faces:
                self.probability = float("nan")
                self.info.value = f"frame {self.frame.value}: <b>no face found</b> ({name}, {lam_text})"
                self.figure.add_trace(go.Image(z=rgb))
                self.figure.update_layout(title="no face", width=520, height=420)
                return
            i = int(self.face.value)
            face, row = self.faces[i], self.rows[i]
            self.probability = float(row["fake_prob"])
            c = crop(rgb, face)
            pts = crop_points(face)
            centres = output_centres()
            self.figure.add_trace(go.Image(z=c, name="crop"))
            self.figure.add_trace(
                go.Heatmap(
                    z=self.maps[i],
                    x=centres,
                    y=centres,
                    zmin=0,
                    zmax=1,
                    colorscale="Reds",
                    opacity=float(self.opacity.value),
                    name="p(manipulated)",
                    colorbar={"title": "p(fake)"},
                )
            )
            self.figure.add_trace(
                go.Scatter(
                    x=pts[:, 0],
                    y=pts[:, 1],
                    mode="markers",
                    name="landmarks",
                    marker={"color": "cyan", "size": 8, "symbol": "x"},
                )
            )
            self.figure.update_layout(
                title=f"frame {self.frame.value}, face {i + 1}: p(fake) = {self.probability:.3f}",
                width=560,
                height=520,
                yaxis={"autorange": "reversed", "scaleanchor": "x"},
            )
        verdict = "manipulated" if self.probability >= self.threshold else "not detected"
        self.info.value = (
            f"frame {self.frame.value}: {len(self.faces)} face(s); face {i + 1}: fake probability "
            f"<b>{self.probability:.3f}</b> → <b>{verdict}</b> (threshold {self.threshold:g}); "
            f"{name}, {lam_text}"
        )


def _frames(frames, max_frames: int) -> list[np.ndarray]:
    from toolkit.image import IMAGE_SUFFIXES, load_image

    if isinstance(frames, (str, os.PathLike)):
        from pathlib import Path

        if Path(frames).suffix.lower() in IMAGE_SUFFIXES:
            return [load_image(frames)]
        from toolkit.video import FrameSource

        n = FrameSource(frames, fmt="rgb").n_total or max_frames
        step = max(1, n // max_frames)
        return [f for _, f in FrameSource(frames, 0, max_frames, step, fmt="rgb")]
    a = np.asarray(frames)
    if a.ndim == 4:
        return [load_image(f) for f in a[:max_frames]]
    return [load_image(a)]
