"""Frame-level FOCAL classification of a video: which codec / quantisation step coded it.

:func:`classify` returns a :class:`ClassifyResult`: the mean softmax of the
CNN over every patch of every analysed frame. It describes the coding, it does
not decide forgery (no verdict). The result behaves like the ``dict`` it used
to be (``r["h264"]``, ``dict(r)``, ``r.items()``).

>>> r = classify("sample_data/single/single_h264.mp4", "codec", stride=32, count=2, device="cpu")
>>> r.label, round(sum(r.values()), 6)
('h264', 1.0)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from toolkit._util import check_stride
from toolkit.focal.features import (
    MAX_FRAME_PIXELS,
    check_budget,
    check_focal_roi,
    iter_dense,
    open_frames,
    resolve_model,
)
from toolkit.focal.model import GRID, FocalNet
from toolkit.focal.models import model_params
from toolkit.result import Result

__all__ = ["ClassifyResult", "classify"]


@dataclass(frozen=True)
class ClassifyResult(Result):
    """Mean class probabilities of a video's patches (a :class:`toolkit.result.Result`, no verdict).

    Mapping-like: ``r[class]``, ``r.get``, ``r.keys()``, ``r.values()``, ``r.items()``,
    ``dict(r)``, ``iter(r)`` and ``len(r)`` behave as the ``{class: probability}`` dict.

    Attributes
    ----------
    classes : tuple of str
        The model's class names, in output order.
    probabilities : tuple of float
        Mean softmax over all patches and frames, renormalised to sum to 1.
    frame_index : tuple of int
        Frames analysed.
    frame_probabilities : array, T x K
        Mean patch softmax of each analysed frame.
    model : str
        The model's name (``'codec'``, ``'quality'``, a checkpoint path, or its class name).
    path, sha256, params, toolkit_version
        See :class:`toolkit.result.Result`; ``params`` holds ``weights_name`` and ``weights_sha256``.
    """

    method = "focal.classify"

    classes: tuple[str, ...]
    probabilities: tuple[float, ...]
    frame_index: tuple[int, ...] = ()
    frame_probabilities: np.ndarray | None = None
    model: str = ""

    # --- mapping behaviour (the old dict) -------------------------------------------------
    def __getitem__(self, name: str) -> float:
        try:
            return self.probabilities[self.classes.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.classes)

    def __len__(self) -> int:
        return len(self.classes)

    def __contains__(self, name) -> bool:
        return name in self.classes

    def keys(self) -> list[str]:
        """Class names (as ``dict.keys``)."""
        return list(self.classes)

    def values(self) -> list[float]:
        """Probabilities, in class order (as ``dict.values``)."""
        return list(self.probabilities)

    def items(self) -> list[tuple[str, float]]:
        """``(class, probability)`` pairs (as ``dict.items``)."""
        return list(zip(self.classes, self.probabilities))

    def get(self, name: str, default=None):
        """Probability of ``name``, ``default`` for an unknown class (as ``dict.get``)."""
        return self[name] if name in self.classes else default

    # --- the result ------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The most probable class."""
        return self.classes[int(np.argmax(self.probabilities))]

    def summary(self) -> str:
        """One line: the most probable class and its probability (no verdict: it describes the coding).

        >>> ClassifyResult(classes=("a", "b"), probabilities=(0.25, 0.75)).summary()
        'focal.classify on array: most probable class b (p = 0.750 of 2 classes, over 0 frame(s))'
        """
        where = os.path.basename(self.path) if self.path else "array"
        return (
            f"{self.method} on {where}: most probable class {self.label} "
            f"(p = {self[self.label]:.3f} of {len(self.classes)} classes, "
            f"over {len(self.frame_index)} frame(s))"
        )

    def table(self):
        """pandas DataFrame: one row per class, columns ``class`` and ``probability``.

        >>> ClassifyResult(classes=("a", "b"), probabilities=(0.25, 0.75)).table()["probability"].tolist()
        [0.25, 0.75]
        """
        import pandas as pd

        return pd.DataFrame({"class": list(self.classes), "probability": list(self.probabilities)})

    def plot(self):
        """Plotly bar chart of the class probabilities (the most probable class highlighted).

        >>> fig = ClassifyResult(classes=("a", "b"), probabilities=(0.25, 0.75)).plot()
        >>> list(fig.data[0].x), list(fig.data[0].y)
        (['a', 'b'], [0.25, 0.75])
        """
        import plotly.graph_objects as go

        colors = ["#d62728" if c == self.label else "#1f77b4" for c in self.classes]
        fig = go.Figure(
            go.Bar(x=list(self.classes), y=list(self.probabilities), marker_color=colors, name="probability")
        )
        where = os.path.basename(self.path) if self.path else "array"
        fig.update_layout(
            title=f"FOCAL {self.model or 'model'} on {where}: mean patch probability",
            yaxis=dict(title="probability", range=[0, 1]),
            xaxis_title="class",
            height=320,
            width=480,
        )
        return fig


def _model_name(model) -> str:
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    return getattr(model, "weights_name", None) or type(model).__name__


def classify(
    path,
    model: str | FocalNet = "codec",
    stride: int = 8,
    *,
    count: int | None = None,
    step: int = 1,
    device: str = "auto",
    progress: bool = False,
    roi=None,
    max_frames: int | None = None,
    max_pixels: int | None = MAX_FRAME_PIXELS,
) -> ClassifyResult:
    """Frame-level class probabilities of a video: mean softmax over all patches and frames.

    Frames are decoded and classified one at a time and only each frame's mean probabilities
    (K numbers) are kept, so memory is flat in the number of frames.

    Parameters
    ----------
    path : path or uint8 array
        Video file or frames (see :func:`toolkit.focal.features`).
    model : {'codec', 'quality'}, checkpoint path or FocalNet
    stride : int
        Patch stride in pixels (multiple of 8).
    count, step : int
        Analyse at most ``count`` frames, every ``step``-th.
    device : str
        'auto' (CUDA when present), 'cpu' or 'cuda'.
    progress : bool
        Show a tqdm bar over frames.
    roi : (top, left, height, width), optional
        Classify only this region of each frame (pixels, top/left multiples of 8).
    max_frames : int, optional
        A budget: at most this many frames (combined with ``count``).
    max_pixels : int or None
        Largest frame (or region) accepted, pixels (default
        :data:`toolkit.focal.features.MAX_FRAME_PIXELS`); ``ValueError`` with a sentence above it.

    Returns
    -------
    ClassifyResult
        Mapping-like ``{class: probability}`` (sums to 1, in the model's class order),
        with ``.label``, ``.table()``, ``.plot()``.

    >>> r = classify("sample_data/single/single_h264.mp4", "codec", stride=32, count=2, device="cpu")
    >>> r.label, r.params["weights_name"]
    ('h264', 'focal/codec')
    """
    import torch

    stride = check_stride(stride, multiple_of=GRID)
    if step < 1 or (count is not None and count < 1):
        raise ValueError("step must be >= 1 and count >= 1 (or None)")
    if max_frames is not None:
        max_frames = check_stride(max_frames, name="max_frames")
        count = max_frames if count is None else min(count, max_frames)
    if not isinstance(model, (str, os.PathLike, torch.nn.Module)):
        resolve_model(model)  # the ValueError naming what a model must be, before any decoding
    src = open_frames(path, 0, count, step)
    box = check_focal_roi(roi, src.shape)
    check_budget(1, box[2:], stride, 1, max_pixels=max_pixels, max_bytes=None)
    net = resolve_model(model, device)
    was_training = net.training
    net.eval()
    index, rows = [], []
    try:
        for i, _, z in iter_dense(src, net, stride, box, progress=progress, desc="FOCAL classify"):
            rows.append(torch.softmax(z.float(), dim=-1).mean(dim=(0, 1)).numpy())
            index.append(i)
    finally:
        net.train(was_training)
    if not index:
        raise ValueError("no frames to analyse (check count/step against the video length)")
    frame_probs = np.stack(rows).astype(np.float32)
    p = frame_probs.astype(np.float64).mean(axis=0)
    p = p / p.sum()
    params = {
        "model": _model_name(model),
        "stride": stride,
        "count": count,
        "step": step,
        "roi": None if roi is None else list(box),
        "max_frames": max_frames,
        "max_pixels": max_pixels,
        "device": str(device),
        **model_params(net),
    }
    return ClassifyResult(
        classes=tuple(getattr(net, "classes", range(len(p)))),
        probabilities=tuple(float(v) for v in np.asarray(p)),
        frame_index=tuple(int(i) for i in index),
        frame_probabilities=frame_probs,
        model=_model_name(model),
        path=src.path,
        sha256=src.sha256,
        params=params,
    )
