"""Local derivative patterns (LDP) and LDP-TOP, the three-orthogonal-planes descriptor (seed 001, ch. 4).

Definition (seed 001, section 4.3.1, the thesis's wording)
-----------------------------------------------------------
For a 2-D array ``I`` and a direction ``α`` in 0°, 45°, 90°, 135°, every pixel ``Z`` is first replaced
by its first-order derivative along ``α``: the difference between the pixel and its adjacent pixel in
that direction,

    I'_α(Z) = I(Z) - I(Z + δ_α),   δ_0° = right (x+1), δ_45° = upper right (x+1, y-1),
                                   δ_90° = up (y-1),   δ_135° = upper left (x-1, y-1).

Then, in the 3 x 3 neighbourhood of each pixel ``Z0``, the magnitude of the derivative of each of the
eight surrounding pixels ``Z_i`` is compared with the central one's, "replacing these values with 0 if
the central pixel is smaller, 1 otherwise":

    bit_i = 1  if |I'_α(Z0)| >= |I'_α(Z_i)|,  else 0            (``variant="thesis"``, the default)

Zhang et al.'s original LDP (IEEE TIP 19(2), 2010) binarises the *product* of the derivatives instead
(a turning point of the derivative gives 1):

    bit_i = 1  if I'_α(Z0) · I'_α(Z_i) <= 0,  else 0             (``variant="zhang"``)

The neighbours are taken clockwise from the upper left, ``Z1`` = upper left, ``Z2`` = up, ``Z3`` =
upper right, ``Z4`` = right, ``Z5`` = lower right, ``Z6`` = down, ``Z7`` = lower left, ``Z8`` = left,
and the code is ``sum_i bit_i · 2**(8 - i)`` (``Z1`` is the most significant bit), an 8-bit value.
Codes are computed where the whole 3 x 3 neighbourhood of derivatives exists, i.e. on the pixels at
least 2 away from every border (an ``h x w`` array gives ``(h - 4) x (w - 4)`` codes; ``h, w >= 5``).
The LDP of the array in direction ``α`` is the 256-bin histogram of its codes.

LDP-TOP
-------
For a ``T x H x W`` window (T = 50 in the seed), the three central planes are cut: XY = frame
``T // 2`` (rows y, columns x), XT = row ``H // 2`` of every frame (rows t, columns x) and YT = column
``W // 2`` of every frame (rows t, columns y). In each plane "right" is along the plane's first axis
(x, x, y) and "up" is towards the previous row (y - 1, t - 1, t - 1). The four LDP histograms of each
plane are concatenated in the order XY, XT, YT x 0°, 45°, 90°, 135° x 256 bins: 3 x 4 x 256 = 3072
values. With ``normalize=True`` (default) each 256-bin histogram is divided by its number of codes,
so windows of different sizes (body-part crops) are comparable; ``normalize=False`` gives counts.

Everything is vectorised numpy (shifted views of whole arrays; no loop over pixels).

>>> import numpy as np
>>> d = descriptor(np.full((50, 32, 32), 7, np.uint8))
>>> d.shape, float(d.sum()), sorted(set((np.flatnonzero(d) % 256).tolist()))
((3072,), 12.0, [255])
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PLANES",
    "DIRECTIONS",
    "VARIANTS",
    "WINDOW",
    "HOP",
    "N_BINS",
    "N_FEATURES",
    "derivative",
    "ldp_codes",
    "ldp_histogram",
    "central_slices",
    "descriptor",
    "slices_descriptor",
    "window_starts",
    "feature_names",
]

#: the three orthogonal planes, in descriptor order
PLANES = ("XY", "XT", "YT")
#: derivative directions in degrees, in descriptor order
DIRECTIONS = (0, 45, 90, 135)
#: bit rules: the thesis's magnitude comparison, Zhang et al.'s sign product
VARIANTS = ("thesis", "zhang")
#: frames per window and hop between windows (the seed: 50 frames, 25 overlapping)
WINDOW = 50
HOP = 25
N_BINS = 256
N_FEATURES = len(PLANES) * len(DIRECTIONS) * N_BINS

# (dy, dx) of the adjacent pixel for each direction ("up" is y - 1)
_DELTA = {0: (0, 1), 45: (-1, 1), 90: (-1, 0), 135: (-1, -1)}
# neighbours Z1..Z8 clockwise from the upper left, (dy, dx)
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _check_plane(plane) -> np.ndarray:
    a = np.asarray(plane)
    if a.ndim != 2:
        raise ValueError(f"an LDP plane must be a 2-D array, got shape {a.shape}")
    if a.shape[0] < 5 or a.shape[1] < 5:
        raise ValueError(
            f"an LDP plane needs at least 5 x 5 values (codes need a 2-pixel border), got {a.shape}"
        )
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"an LDP plane must hold numbers, got dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise ValueError("an LDP plane must not contain NaN or infinite values")
    return a


def derivative(plane, direction: int) -> np.ndarray:
    """First-order derivative ``I(Z) - I(Z + δ_direction)`` on the pixels 1 away from every border.

    Parameters
    ----------
    plane : (h, w) array of numbers; direction : 0, 45, 90 or 135 (degrees).

    Returns
    -------
    (h - 2, w - 2) array (int32 for integer input, float64 otherwise); element ``[i, j]`` belongs
    to pixel ``(i + 1, j + 1)``.

    >>> derivative(np.array([[0, 0, 0], [1, 2, 4], [0, 0, 0]]), 0).tolist()
    [[-2]]
    """
    a = _check_plane_small(plane)
    if direction not in _DELTA:
        raise ValueError(f"direction must be one of {DIRECTIONS} (degrees), got {direction!r}")
    a = a.astype(np.int32) if np.issubdtype(a.dtype, np.integer) else a.astype(np.float64)
    dy, dx = _DELTA[direction]
    h, w = a.shape
    centre = a[1 : h - 1, 1 : w - 1]
    other = a[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx]
    return centre - other


def _check_plane_small(plane) -> np.ndarray:
    a = np.asarray(plane)
    if a.ndim != 2 or a.shape[0] < 3 or a.shape[1] < 3:
        raise ValueError(f"a derivative needs a 2-D array of at least 3 x 3 values, got shape {a.shape}")
    return a


def ldp_codes(plane, direction: int, variant: str = "thesis") -> np.ndarray:
    """8-bit LDP codes of a 2-D array for one direction (see the module docstring for the rule).

    Parameters
    ----------
    plane : (h, w) array of numbers, ``h, w >= 5``.
    direction : 0, 45, 90 or 135 (degrees).
    variant : ``"thesis"`` (magnitude comparison) or ``"zhang"`` (sign product).

    Returns
    -------
    (h - 4, w - 4) uint8 array; element ``[i, j]`` is the code of pixel ``(i + 2, j + 2)``.

    >>> p = np.zeros((5, 5), np.uint8); p[2, 3] = 9      # one bright pixel right of the centre
    >>> int(ldp_codes(p, 0)[0, 0])                        # |d(Z0)| = 9 >= every neighbour's
    255
    >>> int(ldp_codes(p, 0, variant="zhang")[0, 0])        # d(Z0) = -9, d(Z4) = +9: product < 0
    255
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    a = _check_plane(plane)
    d = derivative(a, direction)  # (h - 2, w - 2), pixel (i + 1, j + 1)
    hh, ww = d.shape
    c = d[1 : hh - 1, 1 : ww - 1]
    code = np.zeros(c.shape, np.uint8)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        n = d[1 + dy : hh - 1 + dy, 1 + dx : ww - 1 + dx]
        on = (np.abs(c) >= np.abs(n)) if variant == "thesis" else (c * n <= 0)
        code |= on.astype(np.uint8) << np.uint8(7 - bit)
    return code


def ldp_histogram(plane, direction: int, variant: str = "thesis", normalize: bool = True) -> np.ndarray:
    """256-bin histogram of :func:`ldp_codes` (float64; divided by the number of codes when ``normalize``).

    >>> h = ldp_histogram(np.arange(49).reshape(7, 7), 90, normalize=False)
    >>> h.shape, int(h.sum()), int(h[255])
    ((256,), 9, 9)
    """
    codes = ldp_codes(plane, direction, variant)
    h = np.bincount(codes.ravel(), minlength=N_BINS).astype(np.float64)
    return h / codes.size if normalize else h


def central_slices(volume) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three central planes of a ``T x H x W`` volume: XY (H x W, frame T // 2), XT (T x W, row
    H // 2), YT (T x H, column W // 2); views, not copies.

    >>> v = np.arange(5 * 6 * 7).reshape(5, 6, 7)
    >>> [s.shape for s in central_slices(v)]
    [(6, 7), (5, 7), (5, 6)]
    """
    v = np.asarray(volume)
    if v.ndim != 3:
        raise ValueError(f"a volume must be a T x H x W array, got shape {v.shape}")
    T, H, W = v.shape
    return v[T // 2], v[:, H // 2, :], v[:, :, W // 2]


def descriptor(
    volume, *, variant: str = "thesis", normalize: bool = True, window: int | None = WINDOW
) -> np.ndarray:
    """LDP-TOP of a ``T x H x W`` window: XY, XT, YT x 0°, 45°, 90°, 135° x 256 bins = 3072 values.

    Parameters
    ----------
    volume : (T, H, W) array, uint8 grey levels (any real dtype is accepted); T, H, W >= 5.
    variant : ``"thesis"`` (default) or ``"zhang"`` (see the module docstring).
    normalize : each 256-bin histogram sums to 1 (default) or holds counts.
    window : the number of frames the window must have (the seed's T = 50); a volume with another
        number of frames is refused with a ``ValueError`` (cut windows with :func:`window_starts`).
        ``None`` accepts any T >= 5.

    Returns
    -------
    (3072,) float64 array.

    >>> rng = np.random.default_rng(0)
    >>> d = descriptor(rng.integers(0, 256, (50, 64, 64), dtype=np.uint8))
    >>> d.shape, np.allclose(d.reshape(12, 256).sum(axis=1), 1.0)
    ((3072,), True)
    >>> descriptor(np.zeros((10, 64, 64), np.uint8))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the window has 10 frames but LDP-TOP windows have 50 (pass window=None to accept ...)
    """
    v = np.asarray(volume)
    if v.ndim != 3:
        raise ValueError(f"LDP-TOP needs a T x H x W volume, got shape {v.shape}")
    if window is not None and v.shape[0] != int(window):
        raise ValueError(
            f"the window has {v.shape[0]} frames but LDP-TOP windows have {int(window)} "
            "(pass window=None to accept any length >= 5)"
        )
    if min(v.shape) < 5:
        raise ValueError(f"every side of an LDP-TOP volume must be >= 5, got shape {v.shape}")
    return slices_descriptor(*central_slices(v), variant=variant, normalize=normalize)


def slices_descriptor(xy, xt, yt, *, variant: str = "thesis", normalize: bool = True) -> np.ndarray:
    """LDP-TOP from the three central planes already cut (XY ``H x W``, XT ``T x W``, YT ``T x H``);
    :func:`descriptor` is ``slices_descriptor(*central_slices(volume))``. (3072,) float64.

    >>> v = np.random.default_rng(1).integers(0, 256, (50, 20, 30), dtype=np.uint8)
    >>> bool(np.array_equal(slices_descriptor(*central_slices(v)), descriptor(v)))
    True
    """
    out = [
        ldp_histogram(plane, direction, variant, normalize)
        for plane in (xy, xt, yt)
        for direction in DIRECTIONS
    ]
    return np.concatenate(out)


def window_starts(n_frames: int, window: int = WINDOW, hop: int = HOP) -> list[int]:
    """First frame of every full window of ``window`` frames, ``hop`` apart (the seed: 50 and 25).

    >>> window_starts(120), window_starts(49)
    ([0, 25, 50], [])
    """
    if window < 5 or hop < 1:
        raise ValueError(f"window must be >= 5 frames and hop >= 1, got window={window}, hop={hop}")
    return list(range(0, max(0, int(n_frames) - int(window) + 1), int(hop)))


def feature_names() -> list[str]:
    """Name of each of the 3072 values, ``"XY/0/000"`` ... ``"YT/135/255"`` (plane / direction / code).

    >>> n = feature_names(); n[0], n[256], n[3071]
    ('XY/0/000', 'XY/45/000', 'YT/135/255')
    """
    return [f"{p}/{d}/{c:03d}" for p in PLANES for d in DIRECTIONS for c in range(N_BINS)]
