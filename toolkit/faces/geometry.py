"""The seed's face crop (Sec. IV-A) and the segmentation labels of Fig. 3, as pure geometry.

Crop: ``d_crop = 1.1 * max(d_x, d_y)`` of the detector's box, a square of side ``2 * d_crop``
centred on the mean of the five landmarks, zeros outside the image, resized to 128 x 128.

>>> import numpy as np
>>> crop_box((10, 10, 30, 50), np.full((5, 2), 20.0))
(-24, -24, 88)
"""

from __future__ import annotations

import numpy as np

from toolkit.faces.model import INPUT_SIZE, output_centres

__all__ = ["crop_box", "crop_array", "crop", "crop_points", "mask_labels", "paste_map"]


def _box_and_landmarks(face_or_box, landmarks=None):
    if landmarks is None:
        box, landmarks = face_or_box.box, face_or_box.landmarks
    else:
        box = face_or_box
    box = np.asarray(box, float).reshape(4)
    lm = np.asarray(landmarks, float).reshape(-1, 2)
    if not np.all(np.isfinite(box)) or not np.all(np.isfinite(lm)) or len(lm) == 0:
        raise ValueError("a face needs a finite box (x0, y0, x1, y1) and finite landmarks")
    return box, lm


def crop_box(face_or_box, landmarks=None) -> tuple[int, int, int]:
    """``(x0, y0, side)`` of the seed's square crop, integer pixels (``x0``/``y0`` may be negative).

    Parameters
    ----------
    face_or_box : a :class:`~toolkit.faces.Face`, or its box ``(x0, y0, x1, y1)`` in pixels.
    landmarks : K x 2 ``(x, y)`` landmark coordinates when a box is given.

    ``side = round(2 * 1.1 * max(x1 - x0, y1 - y0))`` (at least 1); the square's centre is the
    landmarks' mean.

    >>> crop_box((0, 0, 100, 50), [[50, 25]] * 5)
    (-60, -85, 220)
    """
    box, lm = _box_and_landmarks(face_or_box, landmarks)
    d_max = max(box[2] - box[0], box[3] - box[1])
    d_crop = 1.1 * max(d_max, 0.0)
    side = max(1, int(round(2 * d_crop)))
    cx, cy = lm.mean(axis=0)
    x0 = int(np.floor(cx - side / 2 + 0.5))
    y0 = int(np.floor(cy - side / 2 + 0.5))
    return x0, y0, side


def crop_array(array: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """The ``side x side`` window at ``(x0, y0)`` of ``array`` (H x W or H x W x C), zeros outside.

    >>> crop_array(np.ones((2, 2), np.uint8), -1, -1, 3)
    array([[0, 0, 0],
           [0, 1, 1],
           [0, 1, 1]], dtype=uint8)
    """
    h, w = array.shape[:2]
    out = np.zeros((side, side) + array.shape[2:], array.dtype)
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if xb > xa and yb > ya:
        out[ya - y0 : yb - y0, xa - x0 : xb - x0] = array[ya:yb, xa:xb]
    return out


def _resize(a: np.ndarray, size: int, nearest: bool) -> np.ndarray:
    from PIL import Image

    if a.shape[0] == size and a.shape[1] == size:
        return a.copy()
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    if a.dtype == bool:
        return np.asarray(Image.fromarray(a.astype(np.uint8) * 255).resize((size, size), resample)) > 127
    return np.asarray(Image.fromarray(a).resize((size, size), resample))


def crop(image: np.ndarray, face, size: int = INPUT_SIZE, *, mask: bool = False) -> np.ndarray:
    """The seed's crop of ``face`` from ``image``, ``size x size`` (default 128 x 128 x 3 uint8).

    Parameters
    ----------
    image : H x W x 3 uint8 RGB (or H x W bool / uint8 mask with ``mask=True``).
    face : :class:`~toolkit.faces.Face` (anything with ``box`` and ``landmarks``).
    mask : resize with nearest neighbour (for manipulation masks) instead of bilinear.

    >>> from toolkit.faces.detection import Face
    >>> f = Face(box=(10, 10, 30, 30), landmarks=np.full((5, 2), 20.0), score=1.0)
    >>> crop(np.full((40, 40, 3), 200, np.uint8), f).shape
    (128, 128, 3)
    """
    a = np.asarray(image)
    if not mask and (a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8):
        raise ValueError(f"crop needs an H x W x 3 uint8 RGB image, got {a.dtype} {a.shape}")
    x0, y0, side = crop_box(face)
    return _resize(crop_array(a, x0, y0, side), size, nearest=mask)


def mask_labels(mask_crop: np.ndarray) -> np.ndarray:
    """Segmentation labels of one 128 x 128 crop's mask: the mask sampled at the output cells'
    receptive-field centres (Fig. 3), ``49 x 49`` int64 (1 = manipulated).

    >>> m = np.zeros((128, 128), bool); m[15, 15] = True
    >>> int(mask_labels(m)[0, 0]), int(mask_labels(m).sum())
    (1, 1)
    """
    m = np.asarray(mask_crop)
    if m.shape[:2] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"mask_labels needs a {INPUT_SIZE} x {INPUT_SIZE} mask, got {m.shape}")
    c = output_centres()
    return (m[np.ix_(c, c)] > 0).astype(np.int64)


def paste_map(prob: np.ndarray, face, shape: tuple[int, int]) -> np.ndarray:
    """A 49 x 49 map of one face put back into image coordinates (``shape`` = (H, W)); NaN outside
    the area the output cells cover.

    >>> from toolkit.faces.detection import Face
    >>> f = Face(box=(0, 0, 64, 64), landmarks=np.full((5, 2), 32.0), score=1.0)
    >>> m = paste_map(np.ones((49, 49)), f, (64, 64)); float(np.nanmax(m))
    1.0
    """
    x0, y0, side = crop_box(face)
    c = output_centres()
    scale = side / INPUT_SIZE
    h, w = shape
    out = np.full((h, w), np.nan, np.float32)
    ys, xs = np.arange(h), np.arange(w)
    # image pixel -> crop pixel -> nearest output cell
    u = (xs - x0 + 0.5) / scale - 0.5
    v = (ys - y0 + 0.5) / scale - 0.5
    iu = np.rint((u - c[0]) / 2).astype(int)
    iv = np.rint((v - c[0]) / 2).astype(int)
    okx = (iu >= 0) & (iu < len(c))
    oky = (iv >= 0) & (iv < len(c))
    if okx.any() and oky.any():
        sub = np.asarray(prob, np.float32)[np.ix_(iv[oky], iu[okx])]
        out[np.ix_(oky, okx)] = sub
    return out


def crop_points(face, points=None, size: int = INPUT_SIZE) -> np.ndarray:
    """Image points (K x 2, default the face's landmarks) in the coordinates of its ``size`` x ``size`` crop.

    >>> from toolkit.faces.detection import Face
    >>> f = Face(box=(0, 0, 64, 64), landmarks=np.full((5, 2), 32.0))
    >>> crop_points(f)[0].tolist()  # the crop's centre, in pixel-centre coordinates
    [63.5, 63.5]
    """
    x0, y0, side = crop_box(face)
    pts = np.asarray(face.landmarks if points is None else points, float).reshape(-1, 2)
    return (pts - [x0, y0] + 0.5) * (size / side) - 0.5
