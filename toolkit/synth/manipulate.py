"""Image manipulations of seed 004 (Table II), deterministic and vectorised.

Every function takes a ``uint8`` image (H x W grey or H x W x 3 RGB) and
returns a ``uint8`` image of the same kind; ``resize`` changes the size.

>>> import numpy as np
>>> from toolkit.synth.manipulate import apply, MANIPULATIONS
>>> img = np.full((64, 64, 3), 128, np.uint8)
>>> apply(img, "median5").shape
(64, 64, 3)
>>> len(MANIPULATIONS)
15
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = [
    "median_filter",
    "gaussian_blur",
    "awgn",
    "resize",
    "jpeg",
    "MANIPULATIONS",
    "apply",
]


def _check_image(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image (grey levels 0-255), got dtype {a.dtype}")
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3)):
        raise ValueError(f"expected an H x W or H x W x 3 image, got shape {a.shape}")
    return a


def _spatial(a: np.ndarray, value):
    """Filter size/sigma that acts on rows and columns only, never across colour channels."""
    return (value, value) if a.ndim == 2 else (value, value, 0 if isinstance(value, float) else 1)


def median_filter(image: np.ndarray, kernel: int) -> np.ndarray:
    """Median filter with a ``kernel`` x ``kernel`` window, per colour channel (scipy.ndimage).

    >>> img = np.zeros((5, 5), np.uint8); img[2, 2] = 255
    >>> int(median_filter(img, 3).max())  # an isolated bright pixel is removed
    0
    """
    a = _check_image(image)
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError("median kernel must be an odd positive integer")
    return ndimage.median_filter(a, size=_spatial(a, kernel), mode="reflect")


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of standard deviation ``sigma`` pixels, per colour channel.

    >>> img = np.zeros((9, 9), np.uint8); img[4, 4] = 255
    >>> 0 < int(gaussian_blur(img, 1.0)[4, 4]) < 255
    True
    """
    a = _check_image(image)
    out = ndimage.gaussian_filter(a.astype(np.float32), sigma=_spatial(a, float(sigma)), mode="reflect")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def awgn(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Additive white Gaussian noise of standard deviation ``sigma`` grey levels (seeded).

    >>> noisy = awgn(np.full((64, 64), 128, np.uint8), 2.0, seed=1)
    >>> 1.5 < float(noisy.std()) < 2.5
    True
    """
    a = _check_image(image)
    rng = np.random.default_rng(seed)
    out = a.astype(np.float32) + rng.normal(0.0, sigma, size=a.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Rescale by ``scale`` with bicubic interpolation (PIL); output size rounds to the nearest pixel.

    >>> resize(np.zeros((64, 48, 3), np.uint8), 1.5).shape
    (96, 72, 3)
    """
    a = _check_image(image)
    h, w = a.shape[:2]
    size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
    squeeze = a.ndim == 3 and a.shape[2] == 1
    img = Image.fromarray(a[..., 0] if squeeze else a)
    out = np.asarray(img.resize(size, Image.BICUBIC))
    return out[..., None] if squeeze else out


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """JPEG compression at ``quality`` (PIL / libjpeg, 4:2:0 for colour), decoded back.

    >>> jpeg(np.full((16, 16, 3), 100, np.uint8), 70).shape
    (16, 16, 3)
    """
    a = _check_image(image)
    squeeze = a.ndim == 3 and a.shape[2] == 1
    buf = io.BytesIO()
    Image.fromarray(a[..., 0] if squeeze else a).save(buf, format="JPEG", quality=int(quality))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    return out[..., None] if squeeze else out


#: The 15 manipulations of seed 004, Table II, strongest first within each kind.
MANIPULATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "median7": lambda im: median_filter(im, 7),
    "median5": lambda im: median_filter(im, 5),
    "median3": lambda im: median_filter(im, 3),
    "blur1.1": lambda im: gaussian_blur(im, 1.1),
    "blur0.75": lambda im: gaussian_blur(im, 0.75),
    "blur0.5": lambda im: gaussian_blur(im, 0.5),
    "awgn2": lambda im: awgn(im, 2.0),
    "awgn0.5": lambda im: awgn(im, 0.5),
    "awgn0.25": lambda im: awgn(im, 0.25),
    "resize1.5": lambda im: resize(im, 1.5),
    "resize1.125": lambda im: resize(im, 1.125),
    "resize1.01": lambda im: resize(im, 1.01),
    "jpeg70": lambda im: jpeg(im, 70),
    "jpeg80": lambda im: jpeg(im, 80),
    "jpeg90": lambda im: jpeg(im, 90),
}


def apply(image: np.ndarray, name: str, seed: int | None = None) -> np.ndarray:
    """Apply the manipulation ``name`` (a key of :data:`MANIPULATIONS`); ``seed`` reseeds AWGN.

    >>> apply(np.full((32, 32), 128, np.uint8), "resize1.125").shape
    (36, 36)
    """
    if name not in MANIPULATIONS:
        raise ValueError(f"unknown manipulation {name!r}; choose from {', '.join(MANIPULATIONS)}")
    if seed is not None and name.startswith("awgn"):
        return awgn(image, float(name[4:]), seed=seed)
    return MANIPULATIONS[name](image)
