"""The only place that reads images: any common image -> RGB ``uint8``, EXIF orientation and GPS.

Paths, bytes, PIL images and numpy arrays are accepted; CMYK, palette,
greyscale, RGBA (composited on white), 16-bit and float images are converted
once, here, for every method.

>>> import numpy as np
>>> from toolkit.image import load_image
>>> load_image(np.zeros((64, 80), np.uint16)).shape
(64, 80, 3)
"""

from __future__ import annotations

import io
import os

import numpy as np

__all__ = ["load_image", "image_sha256", "exif_gps", "ImageInput", "IMAGE_SUFFIXES"]

#: file suffixes read as images (by :func:`toolkit.methods.inspect` and the case analysis)
IMAGE_SUFFIXES = frozenset(".png .jpg .jpeg .tif .tiff .bmp .webp .gif .ppm .pgm".split())

ImageInput = "str | os.PathLike | bytes | np.ndarray | PIL.Image.Image"


def _from_pil(img) -> np.ndarray:
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img).astype(np.float64)
        return _scale_to_uint8(arr, 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparent pixels -> white
        img = Image.alpha_composite(bg, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _upright(im):
    """The decoded image turned by its EXIF orientation tag (``PIL.ImageOps.exif_transpose``)."""
    from PIL import ImageOps

    im.load()
    return ImageOps.exif_transpose(im)


def _scale_to_uint8(arr: np.ndarray, full: float) -> np.ndarray:
    arr = np.clip(arr / full * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return arr


def _from_array(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"an image array must be HxW, HxWx3 or HxWx4; got shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] == 4:
        alpha = arr[..., 3:4].astype(np.float64)
        full = 65535.0 if arr.dtype == np.uint16 else (1.0 if arr.dtype.kind == "f" else 255.0)
        a = alpha / full
        arr = (arr[..., :3].astype(np.float64) * a + full * (1 - a)).astype(arr.dtype)
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == np.uint16:
        out = _scale_to_uint8(arr.astype(np.float64), 65535.0)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError("the image array contains NaN or infinite values")
        out = _scale_to_uint8(arr.astype(np.float64), 1.0 if arr.max() <= 1.0 else 255.0)
    elif arr.dtype == bool:
        out = arr.astype(np.uint8) * 255
    elif arr.dtype.kind in "iu":
        out = np.clip(arr, 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"unsupported image dtype {arr.dtype}")
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=2)
    return np.ascontiguousarray(out)


def load_image(image: ImageInput, *, min_side: int = 1) -> np.ndarray:
    """RGB ``uint8`` array (H x W x 3) from a path, bytes, PIL image or numpy array.

    Files and bytes are turned upright by their EXIF orientation tag. CMYK,
    palette, greyscale (replicated to 3 bands), RGBA (composited on white),
    16-bit and float images are converted. The input is never modified.

    Parameters
    ----------
    image : path, bytes, PIL image or array (H x W, H x W x 1/3/4)
    min_side : int
        Smallest accepted shorter side, pixels.

    Raises
    ------
    FileNotFoundError
        A missing path.
    ValueError
        Not an image, or an image whose shorter side is below ``min_side``.

    >>> load_image(np.full((40, 50, 4), 255, np.uint8)).shape
    (40, 50, 3)
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, np.ndarray):
        rgb = _from_array(image)
    elif isinstance(image, Image.Image):
        rgb = _from_pil(image)
    elif isinstance(image, (bytes, bytearray)):
        try:
            with Image.open(io.BytesIO(image)) as im:
                rgb = _from_pil(_upright(im))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise ValueError(f"the given bytes are not an image PIL can read ({exc})") from None
    elif isinstance(image, (str, os.PathLike)):
        from toolkit._util import as_path

        p = as_path(image)
        try:
            with Image.open(p) as im:
                rgb = _from_pil(_upright(im))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise ValueError(f"{str(p)!r} is not an image file PIL can read ({type(exc).__name__})") from None
    else:
        raise ValueError(
            f"expected an image path, bytes, PIL image or numpy array, got {type(image).__name__}"
        )
    h, w = rgb.shape[:2]
    if min(h, w) < min_side:
        raise ValueError(
            f"image of {w}x{h} pixels is too small: its shorter side must be at least {min_side} px"
        )
    return rgb


def image_sha256(image: ImageInput) -> str:
    """SHA-256 of the input as given: the file (path), the bytes, or the array / PIL image's
    pixels with shape and dtype (:func:`toolkit._util.input_sha256`).

    >>> image_sha256(np.zeros((2, 2), np.uint8)) == image_sha256(np.zeros((2, 2), np.uint8))
    True
    """
    from toolkit._util import input_sha256

    return input_sha256(image)


def _rational(x) -> float:
    try:
        return float(x)
    except TypeError:
        num, den = x
        return float(num) / float(den)


def exif_gps(image: ImageInput) -> tuple[float, float] | None:
    """(lat, lon) in degrees from the image's EXIF GPS tags, or ``None`` when absent.

    ``image`` is a path, bytes or PIL image (arrays carry no EXIF).

    >>> exif_gps(np.zeros((4, 4), np.uint8)) is None
    True
    """
    from PIL import Image

    try:
        if isinstance(image, Image.Image):
            exif = image.getexif()
        elif isinstance(image, (bytes, bytearray)):
            with Image.open(io.BytesIO(image)) as im:
                exif = im.getexif()
        elif isinstance(image, (str, os.PathLike)):
            with Image.open(image) as im:
                exif = im.getexif()
        else:
            return None
    except OSError:
        return None
    gps = exif.get_ifd(0x8825) if exif else {}
    if not gps or 2 not in gps or 4 not in gps:
        return None
    try:

        def dms(v):
            d, m, s = (_rational(t) for t in v)
            return d + m / 60.0 + s / 3600.0

        lat, lon = dms(gps[2]), dms(gps[4])
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    return lat, lon
