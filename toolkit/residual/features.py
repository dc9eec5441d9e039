"""Single-model SRM feature of seed 004 (section II): residual, quantisation, co-occurrences.

The chain, for one grey image ``X`` (green band of an RGB image, grey levels 0-255):

1. residual ``R`` with the 4-tap filter ``w = [1, -3, 3, -1]`` along the rows
   (and, for the transposed image, along the columns),
2. uniform scalar quantisation with ``L = 3`` levels and step ``delta = 4.5``
   and truncation: ``q = clip(rint(R / delta), -1, 1)`` -> digit ``q + 1`` in {0, 1, 2},
3. co-occurrences of ``N = 4`` consecutive digits *along* the filter direction
   and *across* it, each coded as one base-3 integer ``k`` in 0..80
   (first pixel = most significant digit),
4. two 81-bin histograms (along, across); image and transpose are pooled into
   the same histograms (horizontal/vertical symmetry), each half is normalised
   to sum to 1 -> 162 values.

Everything is integer numpy, vectorised over a batch of patches (no per-pixel
Python loop): the digits come from a look-up table over all possible residual
values (|R| <= 8 * 255) and the histograms from one ``np.bincount`` on
``code + 81 * half + 162 * patch``.

>>> import numpy as np
>>> from toolkit.residual import features
>>> img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
>>> f = features(img)
>>> f.shape, round(float(f[:81].sum()), 6), round(float(f[81:].sum()), 6)
((162,), 1.0, 1.0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from toolkit._util import input_sha256
from toolkit.image import check_pixels, load_image
from toolkit.result import Result, json_safe

__all__ = [
    "FILTER",
    "DELTA",
    "LEVELS",
    "ORDER",
    "N_BINS",
    "MIN_SIZE",
    "to_grey",
    "grey_batch",
    "load_image",
    "residuals",
    "quantize",
    "cooccurrence_codes",
    "feature_counts",
    "features",
    "features_batch",
    "code_digits",
    "ResidualAnalysis",
    "analyze",
    "ANALYZE_MAX_PIXELS",
]

#: the 4-tap high-pass filter of the running example (seed 004, section II)
FILTER = np.array([1, -3, 3, -1], dtype=np.int64)
#: quantisation step (grey levels 0-255)
DELTA = 4.5
#: quantisation levels (odd: 0 is an output); truncation T = (LEVELS - 1) // 2
LEVELS = 3
#: co-occurrence order N (pixels in a row)
ORDER = 4
#: 81 bins per half (LEVELS ** ORDER), 162 in all
N_CODES = LEVELS**ORDER
N_BINS = 2 * N_CODES
#: smallest side: the along-direction co-occurrence spans 4 + 4 - 1 = 7 pixels
MIN_SIZE = len(FILTER) + ORDER - 1

_POW = LEVELS ** np.arange(ORDER - 1, -1, -1)  # 27, 9, 3, 1


def to_grey(
    image, name: str = "image", *, max_pixels: int | None = None, return_info: bool = False
) -> np.ndarray | tuple[np.ndarray, dict]:
    """The analysed band of ``image``: green band of RGB(A), or the grey image itself.

    ``image`` is a uint8 array H x W, H x W x 1, H x W x 3 or H x W x 4, or an image
    file (path), bytes or PIL image, read by :func:`toolkit.image.load_image` (RGB,
    EXIF orientation, CMYK / palette / 16-bit / alpha converted; a grey file's green band
    is its grey). Returns a uint8 H x W array, and with ``return_info=True`` also a dict
    saying what was read and converted (:class:`toolkit.image.ImageInfo` as a dict, plus the
    band), for a result's ``params``. ``FileNotFoundError`` for a missing file; clear
    ``ValueError`` for a file that is not an image, a wrong dtype/shape, an image above
    ``max_pixels`` (default :data:`toolkit.image.MAX_PIXELS`) or smaller than 7 x 7 (the
    filter support).

    >>> to_grey(np.dstack([np.zeros((8, 8), np.uint8), np.full((8, 8), 7, np.uint8),
    ...                    np.zeros((8, 8), np.uint8)]))[0, :3]
    array([7, 7, 7], dtype=uint8)
    >>> to_grey(np.zeros((8, 9), np.uint8), return_info=True)[1]["band"]
    'grey'
    """
    info = None
    if not isinstance(image, np.ndarray) and not _is_array_like(image):
        try:
            image, info = load_image(image, max_pixels=max_pixels, return_info=True)
        except ValueError as exc:
            raise ValueError(f"{name}: not a readable image ({exc})") from None
        info = info.to_dict()
    a = np.asarray(image)
    if a.ndim >= 2:
        check_pixels(a.shape[1], a.shape[0], max_pixels, name)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name}: expected a numeric uint8 image, got dtype {a.dtype}")
    if a.dtype != np.uint8:
        raise ValueError(
            f"{name}: expected a uint8 image with grey levels 0-255, got dtype {a.dtype}"
            " (convert first, e.g. np.clip(np.rint(img * 255), 0, 255).astype(np.uint8) for [0, 1] floats)"
        )
    band = "green"
    if a.ndim == 3 and a.shape[2] in (3, 4):
        a = a[:, :, 1]
    elif a.ndim == 3 and a.shape[2] == 1:
        a, band = a[:, :, 0], "grey"
    elif a.ndim == 2:
        band = "grey"
    else:
        raise ValueError(f"{name}: expected an H x W grey or H x W x 3 RGB image, got shape {a.shape}")
    if min(a.shape) < MIN_SIZE:
        raise ValueError(
            f"{name}: image of {a.shape[0]} x {a.shape[1]} pixels is smaller than the "
            f"{MIN_SIZE} x {MIN_SIZE} support of the residual filter plus co-occurrence"
        )
    if not return_info:
        return a
    if info is None:
        src = np.asarray(image)
        info = {"source": "array", "mode": f"{src.dtype} {'x'.join(map(str, src.shape))}", "conversions": []}
    if band == "green" and info.get("source") != "array":
        grey_file = info.get("mode") in ("L", "1", "I", "I;16", "I;16B", "I;16L", "F", "LA")
        band = "grey (the file is grey: the green band of its RGB is its grey)" if grey_file else band
    return a, {**info, "band": band}


def _is_array_like(x) -> bool:
    return isinstance(x, (list, tuple)) or hasattr(x, "__array__") and not hasattr(x, "convert")


def grey_batch(patches, name: str = "patches") -> np.ndarray:
    """``B x H x W`` uint8 green bands of a batch of patches (or of one image, then ``B = 1``).

    ``patches``: B x H x W (grey), B x H x W x 3/4 (RGB(A): the green band) uint8,
    or one image as accepted by :func:`to_grey`. ``ValueError`` with a sentence
    for a wrong dtype, shape or a side below 7 pixels.

    >>> grey_batch(np.zeros((2, 16, 16, 3), np.uint8)).shape
    (2, 16, 16)
    """
    if not isinstance(patches, np.ndarray) and not _is_array_like(patches):
        return to_grey(patches, name)[None]
    a = np.asarray(patches)
    if a.ndim == 2 or (
        a.ndim == 3
        and a.shape[-1] in (1, 3, 4)
        and a.shape[0] >= MIN_SIZE
        and a.shape[1] >= MIN_SIZE
        and a.shape[2] < MIN_SIZE
    ):
        return to_grey(a, name)[None]
    if a.ndim == 4:
        if a.dtype != np.uint8:
            to_grey(a[0], name)  # raises the dtype error
        a = a[..., 1] if a.shape[-1] in (3, 4) else a[..., 0] if a.shape[-1] == 1 else None
        if a is None:
            raise ValueError(f"{name}: expected B x H x W or B x H x W x 3, got shape {np.shape(patches)}")
    if a.ndim != 3:
        raise ValueError(f"{name}: expected B x H x W or B x H x W x 3, got shape {np.shape(patches)}")
    to_grey(a[0], name) if len(a) else None
    return a


def residuals(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer residuals of ``grey`` (… x H x W uint8): along rows (… x H x W-3) and columns (… x H-3 x W).

    >>> import numpy as np
    >>> rh, rv = residuals(np.arange(64, dtype=np.uint8).reshape(8, 8) ** 2 % 7)
    >>> rh.shape, rv.shape
    ((8, 5), (5, 8))
    """
    x = np.asarray(grey).astype(np.int16)
    # r[j] = sum_t w[t] x[j + t] (correlation with w as written); in-place int16 ops, |r| <= 2040
    rh = x[..., :-3] - 3 * x[..., 1:-2]
    rh += 3 * x[..., 2:-1]
    rh -= x[..., 3:]
    rv = x[..., :-3, :] - 3 * x[..., 1:-2, :]
    rv += 3 * x[..., 2:-1, :]
    rv -= x[..., 3:, :]
    return rh, rv


def quantize(r: np.ndarray, delta: float = DELTA) -> np.ndarray:
    """Digits 0..2 (= truncated quantised residual + 1) of integer residuals ``r``, uint8.

    ``clip(rint(r / delta), -1, 1) + 1``; for integer ``r`` this is ``1 + (r > delta/2) - (r < -delta/2)``
    (``rint`` rounds a tie ``r = delta/2`` to 0), computed with two comparisons (no float division).
    """
    if LEVELS != 3:  # pragma: no cover - the comparison trick below is for L = 3
        raise NotImplementedError("only L = 3 levels are implemented")
    r = np.asarray(r)
    d = (r > delta / 2).view(np.uint8)
    d += 1
    d -= (r < -delta / 2).view(np.uint8)
    return d


def _cooc(d: np.ndarray, axis: int) -> np.ndarray:
    """Base-3 code of 4 consecutive digits along ``axis`` (-1 rows, -2 columns); uint8 0..80."""
    n = d.shape[axis] - ORDER + 1
    out = None
    for t in range(ORDER):
        sl = [slice(None)] * d.ndim
        sl[axis] = slice(t, t + n)
        term = d[tuple(sl)] * np.uint8(_POW[t])
        out = term if out is None else out + term
    return out


def cooccurrence_codes(grey: np.ndarray, delta: float = DELTA) -> dict[str, np.ndarray]:
    """The four code maps (values 0..80) of ``grey`` (… x H x W uint8).

    Keys: ``"h_along"`` (row residual, row co-occurrence, … x H x W-6),
    ``"h_across"`` (row residual, column co-occurrence, … x H-3 x W-3),
    ``"v_along"`` (column residual = transpose, … x H-6 x W) and
    ``"v_across"`` (… x H-3 x W-3). ``along`` = h_along + v_along, ``across`` =
    h_across + v_across in the histogram.
    """
    rh, rv = residuals(grey)
    dh, dv = quantize(rh, delta), quantize(rv, delta)
    return {
        "h_along": _cooc(dh, -1),
        "h_across": _cooc(dh, -2),
        "v_along": _cooc(dv, -2),
        "v_across": _cooc(dv, -1),
    }


def code_digits(k) -> np.ndarray:
    """Quantised residuals (-1, 0, 1) of code(s) ``k``: array (..., 4), first pixel first."""
    k = np.asarray(k)
    return (k[..., None] // _POW % LEVELS).astype(np.int64) - (LEVELS - 1) // 2


def feature_counts(patches, delta: float = DELTA, chunk: int = 32) -> np.ndarray:
    """Integer co-occurrence counts, (B, 162) int64, of a batch of same-size patches.

    ``patches``: B x H x W (grey) or B x H x W x 3 (RGB, green band used) uint8,
    or a single image. Columns 0..80: along the filter direction; 81..161: across.
    Worked ``chunk`` patches at a time (keeps the int16 temporaries in cache).
    """
    x = grey_batch(patches)
    b = x.shape[0]
    total = np.zeros((b, N_BINS), np.int64)
    for i0 in range(0, b, chunk):
        codes = cooccurrence_codes(x[i0 : i0 + chunk], delta)
        for key, half in (("h_along", 0), ("v_along", 0), ("h_across", 1), ("v_across", 1)):
            c = codes[key]
            for j in range(c.shape[0]):  # one bincount per patch: faster than building int64 indices
                total[i0 + j, half * N_CODES : (half + 1) * N_CODES] += np.bincount(
                    c[j].ravel(), minlength=N_CODES
                )
    return total


def _normalise(counts: np.ndarray) -> np.ndarray:
    c = counts.astype(np.float64)
    c[..., :N_CODES] /= c[..., :N_CODES].sum(-1, keepdims=True)
    c[..., N_CODES:] /= c[..., N_CODES:].sum(-1, keepdims=True)
    return c


def features_batch(patches, delta: float = DELTA, chunk: int = 32) -> np.ndarray:
    """Normalised 162-dim features, (B, 162) float64, of B same-size patches (see :func:`features`).

    Processed ``chunk`` patches at a time.

    >>> import numpy as np
    >>> p = np.random.default_rng(1).integers(0, 256, (5, 32, 32), dtype=np.uint8)
    >>> features_batch(p).shape
    (5, 162)
    """
    x = grey_batch(patches)
    return _normalise(feature_counts(x, delta, chunk=chunk))


def features(image, delta: float = DELTA) -> np.ndarray:
    """The 162-dim single-model SRM feature of one image.

    Parameters
    ----------
    image : uint8 array H x W (grey) or H x W x 3 (RGB: the green band is used),
        H, W >= 7; or a path to an image file.
    delta : quantisation step in grey levels (seed: 4.5).

    Returns
    -------
    ndarray (162,) float64: 81 along-direction then 81 across-direction
    co-occurrence frequencies, each half summing to 1.

    >>> import numpy as np
    >>> features(np.zeros((16, 16), np.uint8))[[40, 121]]  # flat image: all codes are 0000 -> bin 40
    array([1., 1.])
    """
    return _normalise(feature_counts(to_grey(image)[None], delta))[0]


@dataclass(frozen=True, eq=False)
class ResidualAnalysis(Result):
    """Residual, digits, code maps and histogram of one image (for display and teaching).

    A :class:`~toolkit.result.Result` (method ``"residual.analyze"``); it describes
    the image and decides nothing.

    Attributes
    ----------
    grey : H x W uint8 analysed band.
    residual_h, residual_v : integer residual along rows (H x W-3) / columns (H-3 x W).
    digits_h, digits_v : quantised residual + 1 (0, 1, 2), same shapes.
    codes : dict of the four code maps (see :func:`cooccurrence_codes`).
    counts : (162,) int64 co-occurrence counts; ``feature`` the normalised vector.
    path, sha256, params, toolkit_version : as every result (``sha256`` of the file,
        or of the array's bytes + shape + dtype).

    >>> a = analyze(np.zeros((16, 16), np.uint8))
    >>> a.summary()
    'residual.analyze on array: 16 x 16 band, 320 along / 338 across co-occurrences, code 0000 share 1.00'
    """

    method = "residual.analyze"

    grey: np.ndarray
    residual_h: np.ndarray
    residual_v: np.ndarray
    digits_h: np.ndarray
    digits_v: np.ndarray
    codes: dict
    counts: np.ndarray
    feature: np.ndarray

    def summary(self) -> str:
        """One line: band size, co-occurrence counts and the share of the flat code 0000."""
        where = os.path.basename(self.path) if self.path else "array"
        h, w = self.grey.shape
        return (
            f"{self.method} on {where}: {h} x {w} band, {int(self.counts[:N_CODES].sum())} along / "
            f"{int(self.counts[N_CODES:].sum())} across co-occurrences, "
            f"code 0000 share {float(self.feature[N_CODES // 2]):.2f}"
        )

    def to_dict(self) -> dict:
        """JSON-safe dict: the decision-free header, ``counts``, ``feature``, ``shape`` (not the maps)."""
        out = {"method": self.method, "type": type(self).__name__}
        out.update(self.decision())
        out.update(
            {
                "path": self.path,
                "sha256": self.sha256,
                "params": json_safe(self.params),
                "counts": self.counts.tolist(),
                "feature": json_safe(self.feature),
                "shape": list(self.grey.shape),
                "toolkit_version": self.toolkit_version,
            }
        )
        return out

    def table(self):
        """pandas table: one row per code (0..80) with its 4 digits and both counts."""
        import pandas as pd

        d = code_digits(np.arange(N_CODES))
        return pd.DataFrame(
            {
                "code": np.arange(N_CODES),
                "pattern": [" ".join(f"{v:+d}" for v in row) for row in d],
                "along": self.counts[:N_CODES],
                "across": self.counts[N_CODES:],
                "along_freq": self.feature[:N_CODES],
                "across_freq": self.feature[N_CODES:],
            }
        )

    def plot(self, what: str = "histogram"):
        """Plotly figure: ``"histogram"`` (162 bins), ``"residual"`` or ``"codes"`` (row-direction maps)."""
        import plotly.graph_objects as go

        if what == "histogram":
            fig = go.Figure(
                go.Bar(
                    x=np.arange(N_BINS),
                    y=self.feature,
                    marker_color=["#1f77b4"] * N_CODES + ["#ff7f0e"] * N_CODES,
                )
            )
            fig.update_layout(
                xaxis_title="bin (0-80 along, 81-161 across)",
                yaxis_title="frequency",
                height=320,
                margin=dict(l=40, r=10, t=30, b=40),
            )
            return fig
        if what == "residual":
            z, title, cs = np.clip(self.residual_h, -20, 20), "residual (row filter), clipped ±20", "RdBu"
        elif what == "codes":
            z, title, cs = self.codes["h_along"], "co-occurrence code (row, along)", "Viridis"
        else:
            raise ValueError("what must be 'histogram', 'residual' or 'codes'")
        fig = go.Figure(go.Heatmap(z=z, colorscale=cs))
        fig.update_yaxes(autorange="reversed", scaleanchor="x")
        fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=40, b=10))
        return fig


#: default largest image :func:`analyze` accepts (it keeps about 12 bytes of maps per pixel)
ANALYZE_MAX_PIXELS = 25_000_000


def analyze(image, delta: float = DELTA, *, max_pixels: int | None = ANALYZE_MAX_PIXELS) -> ResidualAnalysis:
    """Every intermediate of the feature chain for one image (see :class:`ResidualAnalysis`).

    Parameters
    ----------
    image : uint8 array (H x W grey or H x W x 3 RGB, green band used) or an image file
        (read by :func:`toolkit.image.load_image`); H, W >= 7.
    delta : quantisation step, grey levels (seed: 4.5).
    max_pixels : largest accepted width x height (default 25 megapixels: the result keeps every
        intermediate map, about 12 bytes per pixel); ``ValueError`` with a sentence above it.

    Returns
    -------
    ResidualAnalysis (``params["image"]`` records what was read and converted), whose ``sha256``
    is the file's SHA-256 for a path and :func:`toolkit._util.array_sha256` of the array
    otherwise (as :func:`~toolkit.residual.heatmap`).

    >>> a = analyze(np.zeros((16, 16), np.uint8))
    >>> a.residual_h.shape, int(a.counts.sum())
    ((16, 13), 658)
    """
    g, image_info = to_grey(image, max_pixels=max_pixels, return_info=True)
    sha = input_sha256(image)
    path = os.fspath(image) if isinstance(image, (str, os.PathLike)) else None
    rh, rv = residuals(g)
    dh, dv = quantize(rh, delta), quantize(rv, delta)
    codes = cooccurrence_codes(g, delta)
    counts = feature_counts(g[None], delta)[0]
    return ResidualAnalysis(
        grey=g,
        residual_h=rh,
        residual_v=rv,
        digits_h=dh,
        digits_v=dv,
        codes=codes,
        counts=counts,
        feature=_normalise(counts),
        path=path,
        sha256=sha,
        params={
            "filter": FILTER.tolist(),
            "delta": delta,
            "levels": LEVELS,
            "order": ORDER,
            "band": image_info["band"],
            "normalisation": "each 81-bin half sums to 1",
            "max_pixels": max_pixels,
            "image": image_info,
        },
    )
