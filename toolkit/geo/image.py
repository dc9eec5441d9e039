"""Geolocation's view of the input layer: :func:`toolkit.image.load_image` with a 32-pixel minimum.

>>> import numpy as np
>>> load_image(np.zeros((64, 80), np.uint16)).shape
(64, 80, 3)
"""

from __future__ import annotations

import numpy as np

from toolkit import image as _image
from toolkit.image import ImageInput, exif_gps, image_sha256

__all__ = ["MIN_SIDE", "load_image", "image_sha256", "exif_gps", "ImageInput"]

#: smallest accepted image side in pixels (the 5-crop upsamples the shorter side to 256;
#: below this there is nothing left to geolocate)
MIN_SIDE = 32


def load_image(image: ImageInput, *, min_side: int = MIN_SIDE) -> np.ndarray:
    """RGB ``uint8`` H x W x 3 array (:func:`toolkit.image.load_image`), shorter side >= ``min_side``.

    >>> load_image(np.zeros((40, 50, 3), np.uint8)).shape
    (40, 50, 3)
    """
    return _image.load_image(image, min_side=min_side)
