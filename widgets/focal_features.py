"""PatchFeatureExplorer: FOCAL patch descriptors and class probabilities over a frame.

The explorer draws :class:`toolkit.focal.FeatureMap` results; given a path or
frames instead, it asks :func:`toolkit.focal.features` for them (one per model).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as w
import numpy as np

from toolkit.focal import PATCH, FeatureMap, features, load_model
from toolkit.video import FrameSource, VideoError, as_frame_array
from toolkit.weights import WeightsNotFoundError
from widgets._common import FigureWidget


def _luma_frames(source, indices) -> np.ndarray:
    """``T x H x W`` luma of ``source`` (path or array) at the frame numbers ``indices``."""
    got = dict(FrameSource(source, indices=[int(i) for i in indices], fmt="luma"))
    missing = [int(i) for i in indices if int(i) not in got]
    if missing:
        raise ValueError(f"frames {missing[:5]} of the feature maps are not in the given video/frames")
    return np.stack([got[int(i)] for i in indices])


class PatchFeatureExplorer(w.VBox):
    """A frame with its 64x64 patch grid; pick a patch to see its crop, probabilities, descriptor.

    Parameters
    ----------
    source : FeatureMap, dict name -> FeatureMap, path or uint8 array
        :func:`toolkit.focal.features` result(s) to draw (frames are read from their
        ``path``, or given as ``frames``); or a video file / frames (luma ``T x H x W``,
        RGB ``T x H x W x 3``) whose feature maps are computed with ``models``.
    models : dict name -> FocalNet, optional
        Default: the shipped ``'codec'`` and ``'quality'`` models (:func:`toolkit.focal.load_model`).
    feature_maps : dict name -> FeatureMap, optional
        Precomputed :func:`toolkit.focal.features` results of ``source`` (skips the computation).
    stride : int
        Patch stride in pixels (multiple of 8).
    max_frames : int
        Frames of a video read and analysed.
    frames : uint8 array, optional
        The frames behind FeatureMaps of an array (a FeatureMap of a file reads its own).

    Controls: ``frame``, ``row`` / ``col`` (patch index; clicking the frame sets them),
    ``model`` (whose descriptor is shown), ``channel`` (heat map: a class probability
    ``'<model>:<class>'`` or a descriptor channel ``'<model>:d<k>'``), ``opacity``.
    Outputs: ``frame_fig`` (luma + heat map + selected patch box), ``crop_fig`` (64x64 crop),
    ``probs_fig`` (class probabilities per model), ``desc_fig`` (64-d descriptor), ``status``.

    >>> from toolkit.focal import features
    >>> fm = features("sample_data/single/single_h264.mp4", "codec", stride=32, count=1, device="cpu")
    >>> ex = PatchFeatureExplorer(fm)
    >>> ex.row.value, ex.col.value = 3, 5
    >>> ex.crop_fig.layout.title.text
    'patch (3, 5) at y=96, x=160'
    """

    def __init__(
        self,
        source,
        models: Mapping | None = None,
        feature_maps: Mapping[str, FeatureMap] | None = None,
        stride: int = 8,
        max_frames: int = 8,
        frames: np.ndarray | None = None,
    ):
        self.status = w.HTML()
        self.maps: dict[str, FeatureMap] = {}
        self.frames = None
        self.frame = w.IntSlider(value=0, min=0, max=0, description="frame", continuous_update=False)
        self.row = w.IntSlider(value=0, min=0, max=0, description="patch row", continuous_update=False)
        self.col = w.IntSlider(value=0, min=0, max=0, description="patch col", continuous_update=False)
        self.model = w.Dropdown(options=[], description="descriptor")
        self.channel = w.Dropdown(options=[], description="heat map", layout=w.Layout(width="320px"))
        self.opacity = w.FloatSlider(
            value=0.5, min=0.0, max=1.0, step=0.1, description="opacity", continuous_update=False
        )
        self.frame_fig = FigureWidget()
        self.crop_fig = FigureWidget()
        self.probs_fig = FigureWidget()
        self.desc_fig = FigureWidget()
        super().__init__(
            [
                self.status,
                w.HBox([self.frame, self.row, self.col]),
                w.HBox([self.channel, self.opacity, self.model]),
                self.frame_fig,
                w.HBox([self.crop_fig, self.probs_fig]),
                self.desc_fig,
            ]
        )
        try:
            self._load(source, models, feature_maps, stride, max_frames, frames)
        except (FileNotFoundError, IsADirectoryError, VideoError, WeightsNotFoundError, ValueError) as exc:
            self.status.value = f"<b style='color:#b00'>{type(exc).__name__}</b>: {exc}"
            self.maps = {}
            return
        for c in (self.frame, self.channel, self.opacity):
            c.observe(lambda _: self.redraw(), names="value")
        for c in (self.row, self.col, self.model):
            c.observe(lambda _: self.redraw_patch(), names="value")
        self.redraw()

    # ------------------------------------------------------------------------------------------
    def _load(self, source, models, feature_maps, stride, max_frames, frames) -> None:
        note = ""
        if isinstance(source, FeatureMap):
            self.maps = {(source.params.get("weights_name") or "features").split("/")[-1]: source}
        elif isinstance(source, Mapping):
            self.maps = dict(source)
        elif feature_maps:
            self.maps = dict(feature_maps)
            frames = source if frames is None else frames
        else:
            if models is None:
                models = {"codec": load_model("codec"), "quality": load_model("quality")}
            self.maps = {
                name: features(source, net, stride=stride, count=max_frames, progress=True)
                for name, net in models.items()
            }
            frames = source if frames is None else frames
        if not self.maps or not all(isinstance(m, FeatureMap) for m in self.maps.values()):
            raise ValueError("feature maps must be a non-empty dict of toolkit.focal.FeatureMap results")
        first = next(iter(self.maps.values()))
        if frames is None and first.path is not None:
            frames = first.path
        index = [int(i) for i in first.frame_index]
        if frames is None:
            self.frames = np.zeros((len(index), *first.frame_shape), np.uint8)
            note = " (frames not available: pass frames=...)"
        elif isinstance(frames, (str, os.PathLike, Path)):
            self.frames = _luma_frames(frames, index)
        else:
            a = as_frame_array(frames, "luma")
            if max(index) < len(a):
                self.frames = a[index]
            elif len(a) == len(index):  # the analysed frames themselves
                self.frames = a
            else:
                raise ValueError(
                    f"frames has {len(a)} frames, the feature maps analysed frames {index[:5]}..."
                )
        t, pu, pv = first.probs.shape[:3]
        self.frame.max, self.row.max, self.col.max = max(t - 1, 0), pu - 1, pv - 1
        self.row.value, self.col.value = pu // 2, pv // 2
        opts = [f"{m}:{c}" for m, fm in self.maps.items() for c in fm.classes]
        opts += [f"{m}:d{k}" for m, fm in self.maps.items() for k in range(fm.descriptors.shape[-1])]
        self.channel.options = opts
        self.channel.value = opts[0]
        self.model.options = list(self.maps)
        self.model.value = next(iter(self.maps))
        self.status.value = (
            f"{t} frame(s) {self.frames.shape[1]}x{self.frames.shape[2]}, "
            f"{pu}x{pv} patches at stride {first.stride} px, models: {', '.join(self.maps)}{note}"
        )

    def heat(self) -> np.ndarray:
        """P_U x P_V map of the selected channel in the selected frame."""
        name, ch = self.channel.value.split(":", 1)
        return self.maps[name].channel_map(ch, self.frame.value)

    def redraw(self) -> None:
        if not self.maps:
            return
        fm = next(iter(self.maps.values()))
        y = self.frames[self.frame.value]
        z = self.heat()
        s = fm.stride
        cy = np.arange(z.shape[0]) * s + PATCH / 2
        cx = np.arange(z.shape[1]) * s + PATCH / 2
        with self.frame_fig.batch_update():
            self.frame_fig.data = []
            self.frame_fig.add_heatmap(z=y, colorscale="gray", showscale=False, name="luma", hoverinfo="skip")
            self.frame_fig.add_heatmap(
                z=z,
                x=cx,
                y=cy,
                colorscale="Viridis",
                opacity=self.opacity.value,
                name=self.channel.value,
                colorbar=dict(title=self.channel.value),
            )
            self.frame_fig.update_yaxes(autorange="reversed", scaleanchor="x")
            self.frame_fig.update_layout(
                title=f"frame {int(fm.frame_index[self.frame.value])}: {self.channel.value} (click a patch)",
                height=420,
            )
        self.frame_fig.data[1].on_click(self._on_click)
        self.redraw_patch()

    def _on_click(self, trace, points, state) -> None:
        if points.xs:
            fm = next(iter(self.maps.values()))
            self.col.value = int(round((points.xs[0] - PATCH / 2) / fm.stride))
            self.row.value = int(round((points.ys[0] - PATCH / 2) / fm.stride))

    def redraw_patch(self) -> None:
        if not self.maps:
            return
        t, u, v = self.frame.value, self.row.value, self.col.value
        fm = next(iter(self.maps.values()))
        top, left, h, wd = fm.patch_box(u, v)
        crop = self.frames[t, top : top + h, left : left + wd]
        self.frame_fig.layout.shapes = [
            dict(
                type="rect",
                x0=left - 0.5,
                x1=left + wd - 0.5,
                y0=top - 0.5,
                y1=top + h - 0.5,
                line=dict(color="red", width=2),
            )
        ]
        with self.crop_fig.batch_update():
            self.crop_fig.data = []
            self.crop_fig.add_heatmap(z=crop, colorscale="gray", showscale=False, zmin=0, zmax=255)
            self.crop_fig.update_yaxes(autorange="reversed", scaleanchor="x")
            self.crop_fig.update_layout(title=f"patch ({u}, {v}) at y={top}, x={left}", width=360, height=360)
        with self.probs_fig.batch_update():
            self.probs_fig.data = []
            for name, m in self.maps.items():
                self.probs_fig.add_bar(x=list(m.classes), y=m.probs[t, u, v].tolist(), name=name)
            self.probs_fig.update_layout(title="class probabilities", yaxis_range=[0, 1], height=360)
        name = self.model.value or next(iter(self.maps))
        with self.desc_fig.batch_update():
            self.desc_fig.data = []
            d = self.maps[name].descriptors[t, u, v]
            self.desc_fig.add_bar(x=list(range(len(d))), y=d.tolist(), name=f"{name} descriptor")
            self.desc_fig.update_layout(
                title=f"{name} FC-1 descriptor (64-d)", height=260, xaxis_title="channel"
            )
