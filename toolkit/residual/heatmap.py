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

import os
import warnings
from dataclasses import dataclass

import numpy as np

from toolkit._util import check_stride, input_sha256
from toolkit.residual.features import FILTER, ORDER, to_grey
from toolkit.result import INCONCLUSIVE, NOT_DETECTED, ArrayLike, Result

__all__ = ["HeatMap", "heatmap", "THRESHOLD"]

_SPAN = len(FILTER) + ORDER - 2  # 6: along-direction outputs are 6 pixels shorter than the input
_EDGE = len(FILTER) - 1  # 3: across-direction outputs are 3 pixels shorter in both directions
#: default decision threshold on a window's probability (a model's ``threshold`` attribute overrides it)
THRESHOLD = 0.5


@dataclass(frozen=True, eq=False)
class HeatMap(ArrayLike, Result):
    """Probability of "manipulated" per window, and the decision it implies.

    A frozen :class:`~toolkit.result.Result` (method ``"residual.heatmap"``) that
    also behaves like its ``nh x nw`` float array ``values`` (``np.asarray(hm)``,
    ``hm.shape``, ``hm[i, j]``, ``hm.max()``). Window ``(i, j)`` covers rows
    ``i*stride .. i*stride+window-1`` and columns ``j*stride .. j*stride+window-1``.

    Attributes
    ----------
    values : ``nh x nw`` probabilities in [0, 1] (read-only).
    window, stride : window side and step, pixels.
    image_shape : ``(H, W)`` of the analysed image.
    threshold : decision threshold on a window's probability (0.5 unless the model says otherwise).
    score : the highest window probability; ``verdict`` ``"manipulated"`` when it exceeds
        ``threshold``, else ``"not_detected"``; ``reason`` says which window decided.

    >>> hm = HeatMap(np.array([[0.1, 0.7], [0.2, 0.3]]), window=64, stride=32, image_shape=(96, 96))
    >>> hm.verdict, hm.score, hm.shape
    ('manipulated', 0.7, (2, 2))
    """

    method = "residual.heatmap"

    values: np.ndarray
    window: int = 128
    stride: int = 32
    image_shape: tuple = (0, 0)
    threshold: float = THRESHOLD

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "window", int(self.window))
        object.__setattr__(self, "stride", int(self.stride))
        object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))
        object.__setattr__(self, "threshold", float(self.threshold))

    # --- decision ----------------------------------------------------------------------
    @property
    def score(self) -> float | None:
        """Highest window probability (None when no window could be scored)."""
        v = self.values
        return float(np.nanmax(v)) if v.size and np.isfinite(v).any() else None

    @property
    def verdict(self) -> str:
        """``"manipulated"`` when some window's probability exceeds :attr:`threshold`."""
        s = self.score
        if s is None:
            return INCONCLUSIVE
        return "manipulated" if s > self.threshold else NOT_DETECTED

    @property
    def peak(self) -> tuple[int, int] | None:
        """``(top, left)`` pixel of the most probable window."""
        if self.score is None:
            return None
        i, j = np.unravel_index(int(np.nanargmax(self.values)), self.values.shape)
        return int(i) * self.stride, int(j) * self.stride

    @property
    def reason(self) -> str:
        """Why: the highest window probability, where it is, and the threshold."""
        if self.score is None:
            return "no window could be scored"
        t, lf = self.peak
        above = int((self.values > self.threshold).sum())
        rel = "above" if self.score > self.threshold else "not above"
        return (
            f"the most probable {self.window}x{self.window} window (top {t}, left {lf}) has probability "
            f"{self.score:.3f}, {rel} the threshold {self.threshold:g}; {above} of {self.values.size} "
            "windows are above it"
        )

    def summary(self) -> str:
        """One line: verdict, highest probability vs threshold, where, and how many windows."""
        where = os.path.basename(self.path) if self.path else "array"
        if self.score is None:
            return f"{self.method} on {where}: {self.verdict} — {self.reason}"
        t, lf = self.peak
        above = int((self.values > self.threshold).sum())
        return (
            f"{self.method} on {where}: {self.verdict} (score {self.score:.3f} vs threshold "
            f"{self.threshold:g}; peak window at ({t}, {lf}); {above}/{self.values.size} windows above)"
        )

    # --- views -------------------------------------------------------------------------
    def to_pixels(self) -> np.ndarray:
        """H x W map: mean probability of the windows covering each pixel (NaN where none does)."""
        h, w = self.image_shape
        acc, cnt = np.zeros((h, w)), np.zeros((h, w))
        vals = self.values
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):  # nh * nw windows, not pixels: a few hundred iterations
                t, lf = i * self.stride, j * self.stride
                acc[t : t + self.window, lf : lf + self.window] += vals[i, j]
                cnt[t : t + self.window, lf : lf + self.window] += 1
        with np.errstate(invalid="ignore"):
            return acc / cnt

    def region_means(self, mask) -> tuple[float, float]:
        """Mean per-pixel probability (:meth:`to_pixels`) inside and outside a boolean H x W ``mask``.

        >>> hm = HeatMap(np.array([[0.9, 0.1]]), window=2, stride=2, image_shape=(2, 4))
        >>> hm.region_means(np.array([[1, 1, 0, 0], [1, 1, 0, 0]], bool))
        (0.9, 0.1)
        """
        m = np.asarray(mask, dtype=bool)
        if m.shape != self.image_shape:
            raise ValueError(f"mask has shape {m.shape}, the image {self.image_shape}")
        pix = self.to_pixels()
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a region no window covers: NaN
            return float(np.nanmean(pix[m])), float(np.nanmean(pix[~m]))

    def table(self):
        """pandas table: one row per window (top, left, probability, above threshold)."""
        import pandas as pd

        ii, jj = np.indices(self.shape)
        p = self.values.ravel()
        return pd.DataFrame(
            {
                "top": (ii * self.stride).ravel(),
                "left": (jj * self.stride).ravel(),
                "probability": p,
                "above_threshold": p > self.threshold,
            }
        )

    def plot(self, image=None, title: str = "manipulation probability"):
        """Plotly figure: the per-pixel map, beside the image when one is given.

        ``image`` : the analysed image (array or path); default: the file at ``path``
        when the map was computed from a file that is still readable, else none.
        """
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        z = self.to_pixels()
        if image is None and self.path is not None:
            try:
                from toolkit.image import load_image

                image = load_image(self.path)
            except (OSError, ValueError):
                image = None
        if image is not None and not isinstance(image, np.ndarray):
            from toolkit.image import load_image

            image = load_image(image)
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


def _as_net(model):
    from toolkit.residual.cnn import RecastCNN

    if isinstance(model, RecastCNN):
        return model
    from toolkit.residual.fast import FastRecastCNN

    if isinstance(model, FastRecastCNN):
        return model.to_recast()  # the same network, in the layout the sliding windows use
    if hasattr(model, "decision_function") and hasattr(model, "__getitem__"):
        # an SVM pipeline: its exact recast (hardmax) gives the SVM's scores per window
        return RecastCNN.from_handcrafted(model, hard=True, device="cpu")
    raise ValueError("model must be a RecastCNN or a fitted SRM+SVM pipeline (toolkit.residual.svm.make_svm)")


def _model_params(model) -> dict:
    """Name, weights SHA-256 and training settings of a heat-map model, for ``params``."""
    out = {
        "model": getattr(model, "weights_name", None) or type(model).__name__,
        "weights_sha256": getattr(model, "weights_sha256", None),
    }
    trained = getattr(model, "params_", None)
    if trained:
        out["model_params"] = dict(trained)
    return out


def heatmap(
    image,
    model=None,
    window: int = 128,
    stride: int = 32,
    max_rows: int = 512,
    threshold: float | None = None,
    *,
    max_pixels: int | None = None,
    progress: bool = False,
) -> HeatMap:
    """Manipulation probability of every ``window`` x ``window`` window (step ``stride``), and a verdict.

    Parameters
    ----------
    image : uint8 H x W or H x W x 3 (green band used), or an image file path (read by
        :func:`toolkit.image.load_image`); H, W >= window.
    model : ``None`` (the shipped SRM+SVM :data:`toolkit.residual.svm.DEFAULT_MODEL`), a
        registered model name (see :func:`toolkit.residual.load_model`), a
        :class:`~toolkit.residual.RecastCNN` (e.g. fine-tuned) or a fitted SRM+SVM
        pipeline (then its exact hardmax recast is used).
    window, stride : window side and step, pixels (seed: 128-pixel patches); whole numbers.
    max_rows : side of the tiles processed at once, pixels (at least ``window``): the image is
        worked in tiles of at most ``max_rows`` x ``max_rows`` pixels (windows overlapping two
        tiles are computed whole in one of them), so memory is bounded (~1.3 kB per tile pixel,
        about 350 MB at the default) whatever the image's width and height.
    threshold : decision threshold on a window's probability; default the model's
        ``threshold`` attribute, else 0.5.
    max_pixels : largest accepted width x height (default :data:`toolkit.image.MAX_PIXELS`);
        ``ValueError`` with a sentence above it, checked on the file's header before decoding.
    progress : show a tqdm bar over the tiles.

    Returns
    -------
    HeatMap (a frozen Result, array-like) of shape
    ``((H - window) // stride + 1, (W - window) // stride + 1)`` with values in [0, 1]:
    ``score`` (highest window probability), ``verdict``, ``.plot()``, ``.to_pixels()``, ``.table()``.
    ``sha256`` is the file's for a path, :func:`toolkit._util.array_sha256` of the array otherwise;
    ``params["image"]`` records what was read and which conversions were made (CMYK, palette,
    16-bit, alpha, EXIF orientation, first frame of an animation, ...).

    >>> img = np.random.default_rng(0).integers(0, 256, (160, 160), dtype=np.uint8)
    >>> hm = heatmap(img, stride=32)             # the shipped model
    >>> hm.shape, hm.verdict in ("manipulated", "not_detected"), hm.params["model"]
    ((2, 2), True, 'residual/median5')
    """
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    window = check_stride(window, name="window")
    if window < _SPAN + 1:
        raise ValueError(f"window must be at least {_SPAN + 1} pixels, got {window}")
    stride = check_stride(stride)
    max_rows = check_stride(max_rows, name="max_rows")
    g, image_info = to_grey(image, max_pixels=max_pixels, return_info=True)
    sha = input_sha256(image)
    path = os.fspath(image) if isinstance(image, (str, os.PathLike)) else None
    h, w = g.shape
    if h < window or w < window:
        raise ValueError(f"image of {h} x {w} pixels is smaller than the {window}-pixel window")
    if model is None or isinstance(model, (str, os.PathLike)):
        from toolkit.residual.svm import DEFAULT_MODEL, load_model

        model = load_model(DEFAULT_MODEL if model is None else model)
    net = _as_net(model)
    thr = float(getattr(model, "threshold", THRESHOLD) if threshold is None else threshold)
    if not 0.0 <= thr <= 1.0:
        raise ValueError(f"threshold is a probability in [0, 1], got {thr}")
    dev = net.fc.weight.device
    nh, nw = (h - window) // stride + 1, (w - window) // stride + 1
    per_tile = max(1, (max(max_rows, window) - window) // stride + 1)  # windows per tile side
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
    tiles = [(r0, c0) for r0 in range(0, nh, per_tile) for c0 in range(0, nw, per_tile)]
    with torch.no_grad():
        for r0, c0 in tqdm(tiles, desc="residual heat map", unit="tile", disable=not progress):
            r1, c1 = min(nh, r0 + per_tile), min(nw, c0 + per_tile)
            sub = g[r0 * stride : (r1 - 1) * stride + window, c0 * stride : (c1 - 1) * stride + window]
            x = torch.from_numpy(np.ascontiguousarray(sub)).float().div_(255.0)[None, None].to(dev)
            sums = []
            for b, m in enumerate(net.scores(x)):
                p = net.assign(m).permute(0, 3, 1, 2)  # 1 x 81 x h' x w'
                if b % 2 == 1:
                    p = p.transpose(-1, -2)
                k = kernels[b]
                s = F.avg_pool2d(p, k, stride=stride) * (k[0] * k[1])
                sums.append(s[0, :, : r1 - r0, : c1 - c0])
                del p
            hist = torch.cat([(sums[0] + sums[1]) / n_along, (sums[2] + sums[3]) / n_across], 0)
            logits = net.classify(hist.permute(1, 2, 0).reshape(-1, hist.shape[0]))
            z = (logits[:, 1] - logits[:, 0]).cpu().numpy().reshape(r1 - r0, c1 - c0)
            out[r0:r1, c0:c1] = 1.0 / (1.0 + np.exp(-z))
    return HeatMap(
        out,
        window=window,
        stride=stride,
        image_shape=(h, w),
        threshold=thr,
        path=path,
        sha256=sha,
        params={
            "window": window,
            "stride": stride,
            "max_rows": max_rows,
            "tiles": len(tiles),
            "max_pixels": max_pixels,
            "threshold": thr,
            "alpha": net.alpha,
            "hard": net.hard,
            "band": image_info["band"],
            "image": image_info,
            **_model_params(model),
        },
    )
