"""V(o): the gradient magnitude of the optical flow, the second input of LDP-TOP (seed 001, ch. 4).

The seed computes the optical flow with FlowNet2 and feeds LDP-TOP with "the gradient of the optical
flow", which "enhances the edges of the movement of the subjects". Here the flow is scikit-image's
TV-L1 (:func:`skimage.registration.optical_flow_tvl1`), a classical variational method: no network,
no new dependency. (Measured on a 256 x 256 crop of the person clip on 2 shared cores: TV-L1 with
``num_iter=5, num_warp=2`` takes about 0.1 s per frame pair, its defaults 0.5 s;
``optical_flow_ilk`` took 0.3 s and returned values in the hundreds of pixels on flat areas, since
its per-pixel least squares is unregularised there. OpenCV's DIS would be faster but adds a
dependency.)

For frames ``t`` and ``t + 1`` (grey levels scaled to [0, 1]) the flow ``(u, v)`` is computed and

    V(o)[t] = sqrt(|∇u|² + |∇v|²)       (the Frobenius norm of the flow's spatial Jacobian),

float32, with ``np.gradient`` for ``∇``. A window of T frames gives T - 1 flow fields; the last
plane repeats the one before it so V(o) has T planes like V(g).

LDP-TOP only reads three planes of V(o) (:func:`toolkit.ldptop.central_slices`). :func:`flow_slices`
computes exactly those: the full flow of pair ``T // 2`` for the XY plane and, with ``band=None``,
the full flow of every pair for XT / YT (exact, :func:`flow_volume`); with ``band=m`` the flow of
the XT / YT planes is computed on a strip of ``2m + 1`` rows (columns) around the central row
(column) only, about ``H / (2m + 1)`` times fewer pixels — an approximation (TV-L1's smoothing
sees a strip instead of the frame) that the whole-frame analysis uses to stay quick.

>>> import numpy as np
>>> frames = np.zeros((6, 24, 24), np.uint8); frames[:, 8:16, 8:16] = 200
>>> flow_volume(frames).shape, float(flow_volume(frames).max())   # nothing moves
((6, 24, 24), 0.0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["TVL1", "flow_field", "flow_gradient_magnitude", "flow_volume", "flow_slices"]

#: TV-L1 settings (scikit-image ``optical_flow_tvl1``): fewer iterations than its defaults, 5x faster
TVL1 = {"num_iter": 5, "num_warp": 2}


def _grey(frames) -> np.ndarray:
    a = np.asarray(frames)
    if a.ndim != 3:
        raise ValueError(f"frames must be a T x H x W grey array, got shape {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"the optical flow needs at least 2 frames, got {a.shape[0]}")
    if min(a.shape[1:]) < 3:
        raise ValueError(f"frames must be at least 3 x 3 pixels, got {a.shape[1:]}")
    if a.dtype == np.uint8:
        return a
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"frames must hold grey levels, got dtype {a.dtype}")
    return a


def _as_float(frame) -> np.ndarray:
    f = np.asarray(frame)
    return (f.astype(np.float32) / 255.0) if f.dtype == np.uint8 else f.astype(np.float32)


def flow_field(a, b, **tvl1) -> np.ndarray:
    """TV-L1 optical flow from frame ``a`` to frame ``b`` (2-D grey arrays; uint8 is scaled to [0, 1]).

    Returns a (2, H, W) float32 array: the row and column displacement in pixels.
    ``**tvl1`` overrides :data:`TVL1`.

    >>> a = np.zeros((32, 32), np.uint8); a[10:20, 10:20] = 255
    >>> b = np.roll(a, 1, axis=1)
    >>> f = flow_field(a, b); f.shape, bool(f[1, 12:18, 12:18].mean() > 0.3)
    ((2, 32, 32), True)
    """
    from skimage.registration import optical_flow_tvl1

    return optical_flow_tvl1(_as_float(a), _as_float(b), **{**TVL1, **tvl1}).astype(np.float32)


def flow_gradient_magnitude(flow) -> np.ndarray:
    """``sqrt(|∇u|² + |∇v|²)`` of a (2, H, W) flow field, float32 (H, W).

    >>> f = np.zeros((2, 5, 5), np.float32); f[1] = np.arange(5)   # column flow grows by 1 per column
    >>> flow_gradient_magnitude(f)[2].tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    f = np.asarray(flow, dtype=np.float32)
    if f.ndim != 3 or f.shape[0] != 2:
        raise ValueError(f"a flow field is a (2, H, W) array, got shape {f.shape}")
    g = 0.0
    for comp in f:
        gy, gx = np.gradient(comp)
        g = g + gy * gy + gx * gx
    return np.sqrt(g).astype(np.float32)


def flow_volume(frames, *, progress: bool = False, **tvl1) -> np.ndarray:
    """V(o) of ``T x H x W`` grey frames: the flow's gradient magnitude per frame, float32 ``T x H x W``.

    Plane ``t`` is from the flow of frames ``t -> t + 1``; the last plane repeats plane ``T - 2``.
    Memory is that of the output (the flow fields are reduced one pair at a time).
    """
    from tqdm.auto import tqdm

    a = _grey(frames)
    T = a.shape[0]
    out = np.empty(a.shape, np.float32)
    for t in tqdm(range(T - 1), desc="optical flow", unit="pair", disable=not progress):
        out[t] = flow_gradient_magnitude(flow_field(a[t], a[t + 1], **tvl1))
    out[T - 1] = out[T - 2]
    return out


def flow_slices(frames, *, band: int | None = None, **tvl1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three central planes of V(o) (XY ``H x W``, XT ``T x W``, YT ``T x H``) of ``T x H x W`` frames.

    ``band=None``: exact (the full flow of every pair, as :func:`flow_volume`); ``band=m``: the XT
    and YT planes from the flow of a ``2m + 1``-row (column) strip around the central row (column).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fr = rng.integers(0, 255, (6, 20, 24), dtype=np.uint8)
    >>> [s.shape for s in flow_slices(fr, band=3)]
    [(20, 24), (6, 24), (6, 20)]
    >>> all(np.array_equal(a, b) for a, b in zip(flow_slices(fr), flow_slices(fr, band=100)))
    True
    """
    a = _grey(frames)
    T, H, W = a.shape
    tc, hc, wc = T // 2, H // 2, W // 2
    if band is not None and (isinstance(band, bool) or not float(band).is_integer() or int(band) < 1):
        raise ValueError(f"band must be a whole number >= 1 (rows each side) or None, got {band!r}")
    if band is None or 2 * int(band) + 1 >= min(H, W):
        v = flow_volume(a, **tvl1)
        return v[tc], v[:, hc, :], v[:, :, wc]
    m = int(band)
    p0 = min(tc, T - 2)
    xy = flow_gradient_magnitude(flow_field(a[p0], a[p0 + 1], **tvl1))
    r0, r1 = max(0, hc - m), min(H, hc + m + 1)
    c0, c1 = max(0, wc - m), min(W, wc + m + 1)
    xt = np.empty((T, W), np.float32)
    yt = np.empty((T, H), np.float32)
    for t in range(T - 1):
        rows = flow_gradient_magnitude(flow_field(a[t, r0:r1], a[t + 1, r0:r1], **tvl1))
        cols = flow_gradient_magnitude(flow_field(a[t, :, c0:c1], a[t + 1, :, c0:c1], **tvl1))
        xt[t], yt[t] = rows[hc - r0], cols[:, wc - c0]
    xt[T - 1], yt[T - 1] = xt[T - 2], yt[T - 2]
    return xy, xt, yt
