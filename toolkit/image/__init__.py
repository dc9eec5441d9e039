"""The only place that reads images: any common image -> RGB ``uint8``, EXIF orientation and GPS.

Paths, bytes, PIL images and numpy arrays are accepted; CMYK, palette,
greyscale, RGBA / LA (composited on white), 16-bit, 32-bit integer and float
images are converted once, here, for every method, and animated GIF / APNG /
WebP files give their first frame. ``load_image(..., return_info=True)`` also
returns an :class:`ImageInfo` that says which conversions were made, for a
result's ``params``.

Images whose declared size exceeds ``max_pixels`` (default :data:`MAX_PIXELS`)
are refused before any pixel is decoded, with a ``ValueError`` that names the
limit and how to raise it; PIL's own decompression-bomb guard never escapes.

>>> import numpy as np
>>> from toolkit.image import load_image
>>> load_image(np.zeros((64, 80), np.uint16)).shape
(64, 80, 3)
>>> rgb, info = load_image(np.zeros((4, 5, 4), np.uint8), return_info=True)
>>> info.conversions
('alpha composited on white',)
"""

from __future__ import annotations

import io
import os
import stat
import threading
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "load_image",
    "read_header",
    "ImageInfo",
    "image_sha256",
    "exif_gps",
    "check_image_file",
    "check_pixels",
    "ImageInput",
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
]

#: file suffixes read as images (by :func:`toolkit.methods.inspect` and the case analysis)
IMAGE_SUFFIXES = frozenset(".png .jpg .jpeg .tif .tiff .bmp .webp .gif .ppm .pgm".split())

#: default largest image (width x height) :func:`load_image` decodes: 100 megapixels, about
#: 300 MB as RGB. Pass ``max_pixels=`` (or set ``toolkit.image.MAX_PIXELS``) to raise it.
MAX_PIXELS = 100_000_000

ImageInput = "str | os.PathLike | bytes | np.ndarray | PIL.Image.Image"

# PIL's guard is a process-wide setting; it is lifted (under this lock) only to read the header
# of an image PIL calls a bomb, so that the toolkit's own limit, with its sentence, decides.
_PIL_LOCK = threading.Lock()


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`load_image` read and which conversions it made (JSON-able via :meth:`to_dict`).

    Attributes
    ----------
    source : 'file', 'bytes', 'pil' or 'array'.
    format : file format as PIL names it ('PNG', 'JPEG', ...; None for arrays).
    mode : the stored colour mode (PIL mode, or ``'<dtype> HxWxC'`` for an array).
    size : ``(width, height)`` as stored, pixels (before the EXIF rotation).
    shape : ``(height, width)`` of the returned RGB array.
    n_frames : frames in the file (animated GIF / APNG / WebP; 1 otherwise).
    orientation : the EXIF orientation tag (1 = upright, 0 = none).
    conversions : what was done to reach RGB ``uint8``, one phrase each (empty: none).
    """

    source: str
    format: str | None
    mode: str
    size: tuple[int, int]
    shape: tuple[int, int]
    n_frames: int = 1
    orientation: int = 0
    conversions: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON types (for a result's ``params``)."""
        d = asdict(self)
        d["size"], d["shape"], d["conversions"] = list(self.size), list(self.shape), list(self.conversions)
        return d


def _limit(max_pixels) -> int:
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"max_pixels must be a positive whole number of pixels, got {max_pixels!r}")
    return int(limit)


def check_pixels(width: int, height: int, max_pixels: int | None = None, what: str = "image") -> None:
    """``ValueError`` naming the limit and how to raise it when ``width x height > max_pixels``.

    >>> check_pixels(12000, 12000, 100_000_000)
    Traceback (most recent call last):
    ...
    ValueError: image of 12000x12000 = 144,000,000 pixels exceeds max_pixels=100,000,000 ...
    """
    limit = _limit(max_pixels)
    n = int(width) * int(height)
    if n > limit:
        raise ValueError(
            f"{what} of {width}x{height} = {n:,} pixels exceeds max_pixels={limit:,} (a guard against "
            "decompression bombs and out-of-memory); if the image is genuine, pass max_pixels="
            f"{n} (or set toolkit.image.MAX_PIXELS) to read it"
        )


def check_image_file(path: str | os.PathLike) -> Path:
    """``Path`` of an existing regular file, refused with a clear error otherwise.

    ``FileNotFoundError`` for a missing path or a dangling symbolic link, ``ValueError`` for a
    symbolic-link loop, a folder, a FIFO, a device or a socket (reading those would block or
    make no sense), before anything is opened.

    >>> check_image_file("/dev/null")
    Traceback (most recent call last):
    ...
    ValueError: '/dev/null' is a character device, not a regular image file
    """
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        if p.is_symlink():
            raise FileNotFoundError(
                f"{str(p)!r} is a symbolic link to {os.readlink(p)!r}, which does not exist"
            ) from None
        raise FileNotFoundError(f"no such file: {str(p)!r}") from None
    except OSError as e:  # ELOOP (symlink loop), ENAMETOOLONG, EACCES on a parent ...
        why = "a symbolic-link loop" if e.errno == 40 or "loop" in str(e).lower() else e.strerror
        raise ValueError(f"{str(p)!r} cannot be read as an image: {why}") from None
    if stat.S_ISREG(st.st_mode):
        return p
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((k for test, k in kinds if test(st.st_mode)), "not a regular file")
    raise ValueError(f"{str(p)!r} is {kind}, not a regular image file")


def _open(src, max_pixels: int | None, name: str):
    """``PIL.Image.open`` with the toolkit's pixel limit instead of PIL's bomb guard."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(src)
        except Image.DecompressionBombError:
            if hasattr(src, "seek"):
                src.seek(0)
            with _PIL_LOCK:
                saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
                try:
                    im = Image.open(src)
                finally:
                    Image.MAX_IMAGE_PIXELS = saved
    try:
        check_pixels(im.width, im.height, max_pixels, name)
    except ValueError:
        im.close()
        raise
    return im


def _orientation(im) -> int:
    try:
        return int(im.getexif().get(0x0112, 0) or 0)
    except Exception:  # a broken EXIF block is no reason to refuse the pixels
        return 0


def _upright(im, conversions: list[str]):
    """The decoded image turned by its EXIF orientation tag (``PIL.ImageOps.exif_transpose``)."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im.load()
    o = _orientation(im)
    if o in (2, 3, 4, 5, 6, 7, 8):
        conversions.append(f"EXIF orientation {o} applied (turned upright)")
        return ImageOps.exif_transpose(im)
    return im


def _scale_to_uint8(arr: np.ndarray, full: float) -> np.ndarray:
    arr = np.clip(arr / full * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return arr


def _bit_depth(im) -> str | None:
    """'16-bit' when PIL reduced a 16-bit-per-channel file (RGB / RGBA PNG, TIFF) to 8 bits."""
    try:
        tile = getattr(im, "tile", None)
        rawmode = tile[0][3] if tile else None
        rawmode = rawmode[0] if isinstance(rawmode, tuple) else rawmode
    except (IndexError, TypeError):
        return None
    return "16-bit" if isinstance(rawmode, str) and ";16" in rawmode else None


def _from_pil(img, conversions: list[str], depth: str | None = None) -> np.ndarray:
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img).astype(np.float64)
        if not np.isfinite(arr).all():
            raise ValueError("the image holds NaN or infinite values")
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        if mode.startswith("I;16"):
            full, how = 65535.0, "16-bit grey scaled to 8 bits (x 255/65535)"
        elif mode == "F" and lo >= 0 and hi <= 1.0:
            full, how = 1.0, "float grey in [0, 1] scaled to 8 bits (x 255)"
        elif lo >= 0 and hi <= 255:
            full, how = 255.0, f"{'float' if mode == 'F' else '32-bit integer'} grey with values 0-255 kept"
        elif mode == "I" and lo >= 0 and hi <= 65535:
            full, how = 65535.0, "32-bit integer grey with values 0-65535 scaled to 8 bits (x 255/65535)"
        else:
            arr = arr - lo
            full = max(hi - lo, 1e-12)
            kind = "float" if mode == "F" else "32-bit integer"
            how = f"{kind} grey stretched from [{lo:g}, {hi:g}] to 0-255"
        conversions += [how, "grey replicated to 3 bands"]
        return _scale_to_uint8(arr, full)
    if depth:
        conversions.append(f"{depth} {mode} reduced to 8 bits per band by PIL")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        if mode == "P":
            conversions.append("palette expanded to RGB")
        elif mode not in ("RGBA", "RGBa"):
            conversions.append(f"{mode} converted to RGB")
        rgba = img.convert("RGBA")
        if rgba.getextrema()[3][0] < 255:
            conversions.append("alpha composited on white")
        else:
            conversions.append("opaque alpha band dropped")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparent pixels -> white
        img = Image.alpha_composite(bg, rgba)
    elif mode == "P":
        conversions.append("palette expanded to RGB")
    elif mode == "CMYK":
        conversions.append("CMYK converted to RGB (PIL's conversion; no ICC colour management)")
    elif mode in ("L", "1"):
        conversions.append(
            "1-bit black/white to grey, replicated to 3 bands"
            if mode == "1"
            else "grey replicated to 3 bands"
        )
    elif mode != "RGB":
        conversions.append(f"{mode} converted to RGB")
    try:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (ValueError, OSError) as e:
        raise ValueError(f"PIL cannot convert a {mode} image to RGB ({e})") from None


def _from_array(arr: np.ndarray, conversions: list[str]) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"an image array must be HxW, HxWx3 or HxWx4; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"the image array is empty (shape {arr.shape})")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError("the image array contains NaN or infinite values")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"unsupported image dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 4:
        alpha = arr[..., 3:4].astype(np.float64)
        full = 65535.0 if arr.dtype == np.uint16 else (1.0 if arr.dtype.kind == "f" else 255.0)
        a = np.clip(alpha / full, 0.0, 1.0)
        arr = (arr[..., :3].astype(np.float64) * a + full * (1 - a)).astype(arr.dtype)
        conversions.append("alpha composited on white")
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == np.uint16:
        out = _scale_to_uint8(arr.astype(np.float64), 65535.0)
        conversions.append("16-bit scaled to 8 bits (x 255/65535)")
    elif arr.dtype.kind == "f":
        in_unit = arr.max() <= 1.0
        out = _scale_to_uint8(arr.astype(np.float64), 1.0 if in_unit else 255.0)
        conversions.append(
            "float in [0, 1] scaled to 8 bits (x 255)" if in_unit else "float rounded and clipped to 0-255"
        )
    elif arr.dtype == bool:
        out = arr.astype(np.uint8) * 255
        conversions.append("boolean mapped to 0 / 255")
    else:
        out = np.clip(arr, 0, 255).astype(np.uint8)
        conversions.append(f"{arr.dtype} clipped to 0-255")
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=2)
        conversions.append("grey replicated to 3 bands")
    return np.ascontiguousarray(out)


def _read_pil(im, source: str, conversions: list[str]) -> tuple[np.ndarray, ImageInfo]:
    n_frames = int(getattr(im, "n_frames", 1) or 1)
    fmt, mode, size = im.format, im.mode, (int(im.width), int(im.height))
    if n_frames > 1:
        im.seek(0)
        conversions.append(f"first of {n_frames} frames (animated {fmt or 'image'})")
    orientation, depth = _orientation(im), _bit_depth(im)
    rgb = _from_pil(_upright(im, conversions), conversions, depth)
    info = ImageInfo(source, fmt, mode, size, rgb.shape[:2], n_frames, orientation, tuple(conversions))
    return rgb, info


def load_image(
    image: ImageInput,
    *,
    min_side: int = 1,
    max_pixels: int | None = None,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, ImageInfo]:
    """RGB ``uint8`` array (H x W x 3) from a path, bytes, PIL image or numpy array.

    Files and bytes are turned upright by their EXIF orientation tag. CMYK,
    palette, greyscale (replicated to 3 bands), RGBA / LA (composited on white),
    16-bit, 32-bit integer and float images are converted; an animated file gives
    its first frame. The input is never modified.

    Parameters
    ----------
    image : path, bytes, PIL image or array (H x W, H x W x 1/3/4)
    min_side : int
        Smallest accepted shorter side, pixels.
    max_pixels : int, optional
        Largest accepted width x height (default :data:`MAX_PIXELS`, 100 megapixels); checked on
        the file's header, before decoding.
    return_info : bool
        Also return the :class:`ImageInfo` (conversions made), as ``(rgb, info)``.

    Raises
    ------
    FileNotFoundError
        A missing path or a dangling symbolic link.
    ValueError
        Not an image, a truncated or corrupt file, a FIFO / device / folder / symlink loop,
        an image above ``max_pixels`` (the message says how to raise it), or below ``min_side``.

    >>> load_image(np.full((40, 50, 4), 255, np.uint8)).shape
    (40, 50, 3)
    >>> load_image(np.zeros((4, 4), np.uint8), max_pixels=10)
    Traceback (most recent call last):
    ...
    ValueError: image array of 4x4 = 16 pixels exceeds max_pixels=10 ...
    """
    from PIL import Image, UnidentifiedImageError

    _limit(max_pixels)
    conversions: list[str] = []
    errors = (UnidentifiedImageError, OSError, EOFError, SyntaxError, Image.DecompressionBombError)
    if isinstance(image, np.ndarray):
        a = np.asarray(image)
        if a.ndim >= 2:
            check_pixels(a.shape[1], a.shape[0], max_pixels, "image array")
        rgb = _from_array(a, conversions)
        info = ImageInfo(
            "array",
            None,
            f"{a.dtype} {'x'.join(map(str, a.shape))}",
            (a.shape[1], a.shape[0]),
            rgb.shape[:2],
            conversions=tuple(conversions),
        )
    elif isinstance(image, Image.Image):
        check_pixels(image.width, image.height, max_pixels)
        try:
            rgb, info = _read_pil(
                image.copy() if getattr(image, "n_frames", 1) > 1 else image, "pil", conversions
            )
        except errors as exc:
            raise ValueError(f"the PIL image cannot be decoded ({type(exc).__name__}: {exc})") from None
    elif isinstance(image, (bytes, bytearray, memoryview)):
        try:
            with _open(io.BytesIO(bytes(image)), max_pixels, "image") as im:
                rgb, info = _read_pil(im, "bytes", conversions)
        except errors as exc:
            raise ValueError(
                f"the given bytes are not an image PIL can read ({type(exc).__name__}: {exc})"
            ) from None
    elif isinstance(image, (str, os.PathLike)):
        p = check_image_file(image)
        try:
            with _open(p, max_pixels, f"image {p.name!r}") as im:
                rgb, info = _read_pil(im, "file", conversions)
        except errors as exc:
            raise ValueError(
                f"{str(p)!r} is not an image file PIL can read ({type(exc).__name__}: {exc})"
            ) from None
    else:
        raise ValueError(
            f"expected an image path, bytes, PIL image or numpy array, got {type(image).__name__}"
        )
    h, w = rgb.shape[:2]
    if min(h, w) < min_side:
        raise ValueError(
            f"image of {w}x{h} pixels is too small: its shorter side must be at least {min_side} px"
        )
    return (rgb, info) if return_info else rgb


def read_header(path: str | os.PathLike) -> ImageInfo:
    """Format, mode, stored size and frame count of an image file from its header (no pixel decoded,
    no pixel limit applied: a file too large to decode still reports its declared size).

    ``ValueError`` for a file PIL cannot identify (and the errors of :func:`check_image_file`).

    >>> import tempfile, pathlib; from PIL import Image
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.png"; Image.new("L", (7, 5)).save(f)
    >>> read_header(f).size, read_header(f).format
    ((7, 5), 'PNG')
    """
    from PIL import UnidentifiedImageError

    p = check_image_file(path)
    try:
        with _open(p, 2**62, "image") as im:
            size = (int(im.width), int(im.height))
            return ImageInfo(
                "file",
                im.format,
                im.mode,
                size,
                (size[1], size[0]),
                int(getattr(im, "n_frames", 1) or 1),
                _orientation(im),
            )
    except (UnidentifiedImageError, OSError, EOFError, SyntaxError) as exc:
        raise ValueError(f"{str(p)!r} is not an image file PIL can read ({type(exc).__name__})") from None


def image_sha256(image: ImageInput) -> str:
    """SHA-256 of the input as given: the file (path), the bytes, or the array / PIL image's
    pixels with shape and dtype (:func:`toolkit._util.input_sha256`).

    >>> image_sha256(np.zeros((2, 2), np.uint8)) == image_sha256(np.zeros((2, 2), np.uint8))
    True
    """
    from toolkit._util import input_sha256

    if isinstance(image, (str, os.PathLike)):
        check_image_file(image)
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
            with _open(io.BytesIO(image), 2**62, "image") as im:
                exif = im.getexif()
        elif isinstance(image, (str, os.PathLike)):
            with _open(check_image_file(image), 2**62, "image") as im:
                exif = im.getexif()
        else:
            return None
    except (OSError, ValueError, EOFError, SyntaxError):
        return None
    try:
        gps = exif.get_ifd(0x8825) if exif else {}
    except Exception:  # a malformed GPS IFD reads as no GPS
        return None
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
    if not (np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    return lat, lon
