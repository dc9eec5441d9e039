"""Sliding-window manipulation-probability map, computed fully convolutionally.

The recast CNN is convolutional up to its average pooling, so the assignment
maps of the four branches (along / across, image / transpose) are computed
once on the whole image and summed over every window with a strided average
pooling (``torch.nn.functional.avg_pool2d``); each window gets exactly the
histogram, hence the probability, that the network gives the cropped patch
(tested), at a fraction of the cost of cropping overlapping windows.

>>> import numpy as np
>>> from toolkit.residual import RecastCNN, heatmap
>>> img = np.random.default_rng(0).integers(0, 256, (96, 96), dtype=np.uint8)
>>> hm = heatmap(img, RecastCNN.from_handcrafted(hard=True, device="cpu"), window=64, stride=16)
>>> hm.shape
(3, 3)
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from toolkit.residual.features import FILTER, ORDER, to_grey

__all__ = ["HeatMap", "heatmap"]

_SPAN = len(FILTER) + ORDER - 2  # 6: along-direction outputs are 6 pixels shorter than the input
_EDGE = len(FILTER) - 1  # 3: across-direction outputs are 3 pixels shorter in both directions


class HeatMap(np.ndarray):
    """Probability of "manipulated" per window: an ``nh x nw`` float array with metadata.

    Window ``(i, j)`` covers rows ``i*stride .. i*stride+window-1`` and columns
    ``j*stride .. j*stride+window-1``. Attributes: ``window``, ``stride``,
    ``image_shape``, ``sha256`` (of the analysed band), ``params``.
    """

    def __new__(cls, values, window=128, stride=32, image_shape=(0, 0), sha256="", params=None):
        obj = np.asarray(values, dtype=np.float64).view(cls)
        obj.window, obj.stride, obj.image_shape = int(window), int(stride), tuple(image_shape)
        obj.sha256, obj.params = sha256, dict(params or {})
        return obj

    def __array_finalize__(self, obj):
        if obj is None:
            return
        defaults = (("window", 128), ("stride", 32), ("image_shape", (0, 0)), ("sha256", ""), ("params", {}))
        for k, v in defaults:
            setattr(self, k, getattr(obj, k, v))

    def to_pixels(self) -> np.ndarray:
        """H x W map: mean probability of the windows covering each pixel (NaN where none does)."""
        h, w = self.image_shape
        acc, cnt = np.zeros((h, w)), np.zeros((h, w))
        vals = np.asarray(self)
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):  # nh * nw windows, not pixels: a few hundred iterations
                t, lf = i * self.stride, j * self.stride
                acc[t : t + self.window, lf : lf + self.window] += vals[i, j]
                cnt[t : t + self.window, lf : lf + self.window] += 1
        with np.errstate(invalid="ignore"):
            return acc / cnt

    def to_dict(self) -> dict:
        return {
            "values": np.asarray(self).tolist(),
            "window": self.window,
            "stride": self.stride,
            "image_shape": list(self.image_shape),
            "sha256": self.sha256,
            "params": self.params,
        }

    def table(self):
        """pandas table: one row per window (top, left, probability)."""
        import pandas as pd

        ii, jj = np.indices(self.shape)
        return pd.DataFrame(
            {
                "top": (ii * self.stride).ravel(),
                "left": (jj * self.stride).ravel(),
                "probability": np.asarray(self).ravel(),
            }
        )

    def plot(self, image=None, title: str = "manipulation probability"):
        """Plotly figure: the per-pixel map (and the image beside it when given)."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        z = self.to_pixels()
        if image is None:
            fig = go.Figure(go.Heatmap(z=z, zmin=0, zmax=1, colorscale="Inferno"))
            fig.update_yaxes(autorange="reversed", scaleanchor="x")
        else:
            img = np.asarray(image)
            fig = make_subplots(1, 2, subplot_titles=("image", title), horizontal_spacing=0.05)
            if img.ndim == 3:
                fig.add_trace(go.Image(z=img[..., :3]), 1, 1)
            else:
                fig.add_trace(go.Heatmap(z=img, colorscale="gray", showscale=False), 1, 1)
                fig.update_yaxes(autorange="reversed", row=1, col=1)
            fig.add_trace(go.Heatmap(z=z, zmin=0, zmax=1, colorscale="Inferno"), 1, 2)
            fig.update_yaxes(autorange="reversed", scaleanchor="x2", row=1, col=2)
        fig.update_layout(
            title=title if image is None else None, height=420, margin=dict(l=10, r=10, t=40, b=10)
        )
        return fig

    def __reduce__(self):  # keep metadata when pickled
        pickled = super().__reduce__()
        meta = (self.window, self.stride, self.image_shape, self.sha256, json.dumps(self.params, default=str))
        return pickled[0], pickled[1], (pickled[2], meta)

    def __setstate__(self, state):
        base, meta = state
        super().__setstate__(base)
        self.window, self.stride, self.image_shape, self.sha256, params = meta
        self.params = json.loads(params)


def _as_net(model):
    from toolkit.residual.cnn import RecastCNN

    if isinstance(model, RecastCNN):
        return model
    if hasattr(model, "decision_function") and hasattr(model, "__getitem__"):
        # an SVM pipeline: its exact recast (hardmax) gives the SVM's scores per window
        return RecastCNN.from_handcrafted(model, hard=True, device="cpu")
    raise ValueError("model must be a RecastCNN or a fitted SRM+SVM pipeline (toolkit.residual.svm.make_svm)")


def heatmap(image, model, window: int = 128, stride: int = 32, max_rows: int = 512) -> HeatMap:
    """Manipulation probability of every ``window`` x ``window`` window (step ``stride``).

    Parameters
    ----------
    image : uint8 H x W or H x W x 3 (green band used), or an image file path; H, W >= window.
    model : a :class:`~toolkit.residual.RecastCNN` (e.g. fine-tuned) or a fitted SRM+SVM
        pipeline (then its exact hardmax recast is used).
    window, stride : window side and step, pixels (seed: 128-pixel patches).
    max_rows : image rows processed at once (bounds memory: ~1.3 kB per pixel).

    Returns
    -------
    HeatMap (numpy array subclass) of shape ``((H - window) // stride + 1, (W - window) // stride + 1)``
    with values in [0, 1], plus ``.plot()``, ``.to_pixels()``, ``.table()``.
    """
    import torch
    import torch.nn.functional as F

    g = to_grey(image)
    if window < _SPAN + 1:
        raise ValueError(f"window must be at least {_SPAN + 1} pixels")
    if stride < 1:
        raise ValueError("stride must be a positive number of pixels")
    h, w = g.shape
    if h < window or w < window:
        raise ValueError(f"image of {h} x {w} pixels is smaller than the {window}-pixel window")
    net = _as_net(model)
    dev = net.fc.weight.device
    nh, nw = (h - window) // stride + 1, (w - window) // stride + 1
    rows_per_chunk = max(1, (max(max_rows, window) - window) // stride + 1)
    out = np.empty((nh, nw))
    # kernel sizes on each branch's output map (transposed-branch maps are transposed back first)
    kernels = [
        (window, window - _SPAN),
        (window - _SPAN, window),
        (window - _EDGE, window - _EDGE),
        (window - _EDGE, window - _EDGE),
    ]
    n_along = 2 * window * (window - _SPAN)
    n_across = 2 * (window - _EDGE) ** 2
    with torch.no_grad():
        for r0 in range(0, nh, rows_per_chunk):
            r1 = min(nh, r0 + rows_per_chunk)
            sub = g[r0 * stride : (r1 - 1) * stride + window]
            x = torch.from_numpy(np.ascontiguousarray(sub)).float().div_(255.0)[None, None].to(dev)
            sums = []
            for b, m in enumerate(net.scores(x)):
                p = net.assign(m).permute(0, 3, 1, 2)  # 1 x 81 x h' x w'
                if b % 2 == 1:
                    p = p.transpose(-1, -2)
                k = kernels[b]
                s = F.avg_pool2d(p, k, stride=stride) * (k[0] * k[1])
                sums.append(s[0, :, : r1 - r0, :nw])
            hist = torch.cat([(sums[0] + sums[1]) / n_along, (sums[2] + sums[3]) / n_across], 0)
            logits = net.classify(hist.permute(1, 2, 0).reshape(-1, hist.shape[0]))
            z = (logits[:, 1] - logits[:, 0]).cpu().numpy().reshape(r1 - r0, nw)
            out[r0:r1] = 1.0 / (1.0 + np.exp(-z))
    sha = hashlib.sha256(np.ascontiguousarray(g).tobytes()).hexdigest()
    return HeatMap(
        out,
        window=window,
        stride=stride,
        image_shape=(h, w),
        sha256=sha,
        params={
            "window": window,
            "stride": stride,
            "alpha": net.alpha,
            "hard": net.hard,
            "band": "green (or grey)",
            "model": type(model).__name__,
        },
    )
