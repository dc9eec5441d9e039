"""Geolocation's view of the input layer: :func:`toolkit.image.load_image` with a 32-pixel minimum.

>>> import numpy as np
>>> load_image(np.zeros((64, 80), np.uint16)).shape
(64, 80, 3)
"""

from __future__ import annotations

import numpy as np

from toolkit import image as _image
from toolkit.image import ImageInfo, ImageInput, exif_gps, image_sha256

__all__ = ["MIN_SIDE", "load_image", "image_sha256", "exif_gps", "ImageInput"]

#: smallest accepted image side in pixels (the 5-crop upsamples the shorter side to 256;
#: below this there is nothing left to geolocate)
MIN_SIDE = 32


def load_image(
    image: ImageInput,
    *,
    min_side: int = MIN_SIDE,
    max_pixels: int | None = None,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, ImageInfo]:
    """RGB ``uint8`` H x W x 3 array (:func:`toolkit.image.load_image`), shorter side >= ``min_side``.

    ``return_info=True`` also returns the :class:`toolkit.image.ImageInfo` (conversions made), as
    ``(rgb, info)``; ``max_pixels`` as in :func:`toolkit.image.load_image`.

    >>> load_image(np.zeros((40, 50, 3), np.uint8)).shape
    (40, 50, 3)
    >>> load_image(np.zeros((40, 50), np.uint16), return_info=True)[1].conversions[0]
    '16-bit scaled to 8 bits (x 255/65535)'
    """
    return _image.load_image(image, min_side=min_side, max_pixels=max_pixels, return_info=return_info)
