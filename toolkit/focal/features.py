"""Dense FOCAL descriptors: every grid-aligned 64x64 patch of every frame at once.

The seed (section 5.1) cuts each frame into 64x64 patches at a stride that is a
multiple of 8 and runs the CNN on each. Cutting patches one by one recomputes
the heavily overlapping convolutions up to 64 times; here the work is shared:

* conv1-conv4 have no padding and strides 1, 2, 1, 2, so run once on the whole
  frame the conv4 map of the patch at pixel offset (8a, 8b) is exactly the
  13x13 window at (2a, 2b) of the frame's conv4 map (jump 4 px).
* conv5 (3x3, stride 2, padding 1) sees zero padding at the window border, which
  the whole-frame map does not have. Conv5 output (i, j) of a window is the
  whole-frame output at (a+i, b+j) *minus* the kernel taps that fall on the
  window's padding (kernel row 0 for i=0, row 2 for i=6, column 0 for j=0,
  column 2 for j=6). Each of the 9 taps is computed once on the whole map (a
  1x1 convolution), and the 9 (row case x column case) sums of allowed taps give
  9 maps from which every window's 7x7 conv5 output is read off exactly.
* FC-1 on the 7x7x64 corner map is a 7x7 convolution over those maps (each
  kernel position reading the map of its border case), evaluated at stride
  ``stride / 8``; FC-2 is a 1x1 convolution.

The result equals the patch-by-patch computation (:func:`features_patchwise`)
up to float rounding (tested to 1e-5).

>>> import numpy as np
>>> from toolkit.focal import FocalNet, features
>>> fm = features(np.zeros((2, 96, 128), np.uint8), FocalNet(4), stride=8)
>>> fm.descriptors.shape, fm.probs.shape
((2, 5, 9, 64), (2, 5, 9, 4))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from toolkit._util import array_sha256, check_stride
from toolkit.focal.model import GRID, PATCH, FocalNet
from toolkit.focal.models import load_model, model_params
from toolkit.result import Result, json_safe
from toolkit.video import FrameSource, as_frame_array, rgb_to_luma

__all__ = [
    "FeatureMap",
    "features",
    "features_patchwise",
    "dense_forward",
    "patchwise_forward",
    "fused_trunk",
    "patch_grid",
    "to_luma",
    "rgb_to_luma",
    "extract_patches",
    "check_frame_size",
    "open_frames",
    "resolve_model",
    "check_focal_roi",
    "dense_forward_banded",
    "iter_dense",
    "check_budget",
    "BAND_PIXELS",
    "MAX_FRAME_PIXELS",
    "MAX_RESULT_BYTES",
]

#: input pixels per band of :func:`dense_forward_banded`: a frame larger than this is worked in
#: horizontal bands of whole patch rows (about 200 bytes of temporaries per pixel, ~400 MB per band)
BAND_PIXELS = 2_000_000
#: default largest frame (height x width, pixels) FOCAL analyses: 40 megapixels (8K UHD is 33)
MAX_FRAME_PIXELS = 40_000_000
#: default largest per-patch result :func:`features` keeps in memory, bytes (2 GiB)
MAX_RESULT_BYTES = 2 * 1024**3


# ---------------------------------------------------------------------------------------------
# input handling: toolkit.video reads; FOCAL only adds its 64x64 minimum
def check_frame_size(shape: tuple[int, int], name: str = "frames") -> None:
    """``ValueError`` when a ``(H, W)`` frame holds no 64x64 patch.

    >>> check_frame_size((48, 64))
    Traceback (most recent call last):
    ...
    ValueError: frames are 48x64 pixels, smaller than one 64x64 patch: FOCAL cannot analyse them
    """
    if shape[0] < PATCH or shape[1] < PATCH:
        verb = "are" if name == "frames" else "is"
        raise ValueError(
            f"{name} {verb} {shape[0]}x{shape[1]} pixels, smaller than one "
            f"{PATCH}x{PATCH} patch: FOCAL cannot analyse {'them' if verb == 'are' else 'it'}"
        )


def check_focal_roi(roi, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(top, left, height, width)`` of a region of interest in a frame ``shape`` (H, W), as ints.

    ``None`` is the whole frame. :func:`toolkit._util.check_roi` (whole numbers, inside
    the frame), plus FOCAL's constraints: top/left on the 8x8 coding grid, at least one
    64x64 patch. ``ValueError`` with a sentence otherwise.

    >>> check_focal_roi(None, (96, 128))
    (0, 0, 96, 128)
    >>> check_focal_roi((4, 0, 64, 64), (96, 128))
    Traceback (most recent call last):
    ...
    ValueError: roi top/left must be multiples of 8 pixels (the coding block grid), got 4, 0
    """
    from toolkit._util import check_roi

    h, w = shape
    if roi is None:
        return (0, 0, h, w)
    if isinstance(roi, (str, bytes)) or not hasattr(roi, "__len__") or len(roi) != 4:
        raise ValueError(f"roi must be (top, left, height, width) in pixels, got {roi!r}")
    top, left, rh, rw = check_roi(roi, h, w)
    if top % GRID or left % GRID:
        raise ValueError(
            f"roi top/left must be multiples of {GRID} pixels (the coding block grid), got {top}, {left}"
        )
    if rh < PATCH or rw < PATCH:
        raise ValueError(f"roi {rh}x{rw} is smaller than one {PATCH}x{PATCH} patch")
    return (top, left, rh, rw)


def check_budget(
    n_frames: int,
    shape: tuple[int, int],
    stride: int,
    channels: int,
    *,
    itemsize: int = 4,
    max_pixels: int | None = MAX_FRAME_PIXELS,
    max_bytes: int | None = MAX_RESULT_BYTES,
) -> int:
    """Bytes of ``n_frames`` per-patch results (``channels`` values per patch) of frames ``shape``
    at ``stride``; ``ValueError`` with a sentence when a frame exceeds ``max_pixels`` or the results
    exceed ``max_bytes`` (``None``: no limit), saying which budget to change.

    >>> check_budget(10, (720, 1280), 8, 68)
    34541280
    >>> check_budget(10_000, (1080, 1920), 8, 68)
    Traceback (most recent call last):
    ...
    ValueError: FOCAL features of 10000 frames of 1080x1920 at stride 8 would keep 81.1 GB ...
    """
    h, w = int(shape[0]), int(shape[1])
    if max_pixels is not None and h * w > max_pixels:
        raise ValueError(
            f"frames of {h}x{w} = {h * w:,} pixels exceed max_pixels={max_pixels:,} for FOCAL; analyse a "
            "region (roi=(top, left, height, width)) or pass a larger max_pixels"
        )
    pu, pv = patch_grid(h, w, stride)
    nbytes = int(n_frames) * pu * pv * int(channels) * int(itemsize)
    if max_bytes is not None and nbytes > max_bytes:
        raise ValueError(
            f"FOCAL features of {n_frames} frames of {h}x{w} at stride {stride} would keep "
            f"{nbytes / 1e9:.1f} GB of per-patch results (limit max_bytes={max_bytes:,}); analyse fewer "
            "frames (count= / step=), a larger stride, a region (roi=), use focal.classify (which keeps "
            "one row per frame), or pass a larger max_bytes"
        )
    return nbytes


def open_frames(
    video, start: int = 0, count: int | None = None, step: int = 1, *, indices=None
) -> FrameSource:
    """A :class:`toolkit.video.FrameSource` (luma) of a video file or frames, checked for FOCAL.

    Raises ``ValueError`` for an empty array or frames smaller than 64x64 (plus the
    errors of :class:`~toolkit.video.FrameSource`: FileNotFoundError, VideoReadError, ...).

    >>> src = open_frames(np.zeros((3, 64, 80), np.uint8), step=2)
    >>> src.indices, src.shape
    ([0, 2], (64, 80))
    """
    if not isinstance(video, (str, os.PathLike, Path)) and np.asarray(video).size == 0:
        raise ValueError(f"no frames given (an empty array of shape {np.shape(video)})")
    src = FrameSource(video, start, count, step, indices=indices, fmt="luma")
    check_frame_size(src.shape, "frames" if src.path is None else os.path.basename(src.path))
    return src


def to_luma(frames) -> np.ndarray:
    """``T x H x W`` uint8 luma from ``H x W``, ``H x W x 3`` (RGB), ``T x H x W`` or ``T x H x W x 3``.

    :func:`toolkit.video.as_frame_array` plus FOCAL's minimum: ``ValueError`` for other
    dtypes, channel counts, an empty array or frames smaller than 64x64.

    >>> to_luma(np.zeros((64, 64), np.uint8)).shape
    (1, 64, 64)
    """
    if np.asarray(frames).size == 0:
        raise ValueError(f"no frames given (an empty array of shape {np.shape(frames)})")
    a = as_frame_array(frames, "luma")
    check_frame_size(a.shape[1:3])
    return a


def patch_grid(height: int, width: int, stride: int = 8) -> tuple[int, int]:
    """Number of patches ``(P_U, P_V)`` of a ``height x width`` frame at ``stride`` px.

    Patches start at pixel offsets 0, stride, 2*stride, ... and must fit in the frame.

    >>> patch_grid(720, 1280, 8)
    (83, 153)
    """
    stride = check_stride(stride, multiple_of=GRID)
    if height < PATCH or width < PATCH:
        raise ValueError(f"a {height}x{width} frame holds no {PATCH}x{PATCH} patch")
    return (height - PATCH) // stride + 1, (width - PATCH) // stride + 1


def extract_patches(luma: np.ndarray, stride: int = 8) -> np.ndarray:
    """All grid-aligned 64x64 patches of one ``H x W`` frame: ``P_U x P_V x 64 x 64`` (a view).

    >>> extract_patches(np.zeros((72, 64), np.uint8)).shape
    (2, 1, 64, 64)
    """
    pu, pv = patch_grid(luma.shape[0], luma.shape[1], stride)
    w = np.lib.stride_tricks.sliding_window_view(luma, (PATCH, PATCH))
    return w[: (pu - 1) * stride + 1 : stride, : (pv - 1) * stride + 1 : stride]


# ---------------------------------------------------------------------------------------------
# the dense computation
_ROW_CASES = ((0, 1, (1, 2)), (1, 6, (0, 1, 2)), (6, 7, (0, 1)))  # (first i, end i, allowed taps)
_CASES = [(r, col) for r in _ROW_CASES for col in _ROW_CASES]  # (row case, column case)


def _case_mix(dtype, device) -> torch.Tensor:
    """9 x 9 0/1 matrix: border case k keeps conv5 tap (dy, dx) (index 3*dy + dx)."""
    m = torch.zeros(9, 9, dtype=dtype, device=device)
    for k, ((_, _, rows), (_, _, cols)) in enumerate(_CASES):
        for dy in rows:
            for dx in cols:
                m[k, 3 * dy + dx] = 1.0
    return m


#: conv4 output rows per strip of :func:`fused_trunk`. Measured at 720p on 2 idle CPU cores,
#: both models' trunks (benchmarks/focal_features.py): one whole-frame pass 2.07 s, strips of
#: 4 / 8 / 16 rows 1.16 / 1.05 / 1.16 s; with a training job on the same cores: one pass with
#: 2 threads 3.4-3.6 s, strips of 8 2.6-2.8 s. The whole-frame 64-channel conv1-3 maps
#: (60-230 MB each) fit in no cache, and a small op split over 2 threads waits at every
#: barrier for a core another job holds; strips, one per thread, fix both.
TRUNK_STRIP_ROWS = 8
_TRUNK_RF, _TRUNK_JUMP = 16, 4  # conv1-4 receptive field and jump, in pixels


def fused_trunk(net: FocalNet, luma: torch.Tensor, strip_rows: int | None = TRUNK_STRIP_ROWS) -> torch.Tensor:
    """``net.trunk`` in eval mode with batch norm (and the input scaling) folded into the convs.

    ``luma``: float frames ``N x 1 x H x W`` (0..255); returns the conv4 map ``N x 64 x H4 x W4``.

    Same values up to float rounding, but one pass over each large map instead of three
    (conv, BN, ReLU): BN and ReLU alone cost ~half of a 720p trunk on CPU. On CPU the frame
    is processed in horizontal strips of ``strip_rows`` conv4 rows (input rows
    ``[4 r0, 4 (r1 - 1) + 16)``, the exact receptive field, so the result equals one pass;
    ``None`` = one pass, as on CUDA), one strip per thread at a time.

    >>> net = FocalNet(4).eval()
    >>> tuple(fused_trunk(net, torch.zeros(1, 1, 64, 72)).shape)
    (1, 64, 13, 15)
    """
    layers = []
    for i in (1, 2, 3, 4):
        conv, bn = getattr(net, f"conv{i}"), getattr(net, f"bn{i}")
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        w = conv.weight * scale.view(-1, 1, 1, 1)
        b = bn.bias + (conv.bias - bn.running_mean) * scale
        if i == 1:  # FocalNet.normalize: x / 255 - 0.5, exact here since conv1 has no padding
            b = b - 0.5 * w.sum(dim=(1, 2, 3))
            w = w / 255.0
        layers.append((w, b, conv.stride, conv.padding))

    def run(x):
        for w, b, stride, padding in layers:
            x = F.conv2d(x, w, b, stride=stride, padding=padding).relu_()
        return x

    rows = (luma.shape[2] - _TRUNK_RF) // _TRUNK_JUMP + 1  # conv4 output rows
    if not strip_rows or rows <= strip_rows or luma.device.type != "cpu":
        return run(luma)
    bounds = [(r0, min(rows, r0 + strip_rows)) for r0 in range(0, rows, strip_rows)]
    strips = [luma[:, :, _TRUNK_JUMP * r0 : _TRUNK_JUMP * (r1 - 1) + _TRUNK_RF] for r0, r1 in bounds]
    threads = torch.get_num_threads()
    workers = min(threads, len(strips))
    if workers == 1:
        return torch.cat([run(x) for x in strips], dim=2)
    # hand-written scheduling (no library does strip-parallel convolution): each worker runs
    # whole strips single-threaded and takes the next free one, so a core busy elsewhere slows
    # one worker instead of stalling every op; the ops release the GIL
    from concurrent.futures import ThreadPoolExecutor

    try:  # each worker thread sets its own intra-op threads to 1, once
        with ThreadPoolExecutor(
            workers, thread_name_prefix="focal-trunk", initializer=torch.set_num_threads, initargs=(1,)
        ) as pool:
            out = list(pool.map(run, strips))
    finally:
        torch.set_num_threads(threads)  # parts of the setting (MKL's) are process-wide: restore
    return torch.cat(out, dim=2)


@torch.no_grad()
def dense_forward(net: FocalNet, luma: torch.Tensor, stride: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Descriptors and logits of every patch of frames ``N x 1 x H x W`` (float, 0..255).

    Returns ``(descriptors N x 64 x P_U x P_V, logits N x K x P_U x P_V)``; ``net``
    must be in eval mode (batch norm with running statistics).

    >>> net = FocalNet(4).eval()
    >>> d, z = dense_forward(net, torch.zeros(1, 1, 64, 72))
    >>> tuple(d.shape), tuple(z.shape)
    ((1, 64, 1, 2), (1, 4, 1, 2))
    """
    stride = check_stride(stride, multiple_of=GRID)
    if net.training:
        raise ValueError("dense_forward needs the network in eval mode (call net.eval())")
    n, _, h, w = luma.shape
    pu, pv = patch_grid(h, w, stride)
    q = stride // GRID  # patch step in conv5 outputs
    a = fused_trunk(net, luma)  # N x C x H4 x W4, window of patch (u, v) at (2qu, 2qv)
    m_rows, m_cols = q * (pu - 1) + 7, q * (pv - 1) + 7  # conv5 outputs needed
    # one zero row/col on top/left is conv5's own padding for the first windows; rows/cols past
    # the end are only read by taps that every window excludes, so zeros are fine there too
    need_h, need_w = 2 * m_rows + 1, 2 * m_cols + 1
    a = F.pad(a, (1, max(0, need_w - 1 - a.shape[3]), 1, max(0, need_h - 1 - a.shape[2])))
    a = a[:, :, :need_h, :need_w]
    w5 = net.conv5.weight  # C_out x C_in x 3 x 3
    c = w5.shape[0]
    # tap (dy, dx) of the whole-map conv5 output (r, c) reads a_pad[2r + dy, 2c + dx]: one batched
    # matmul over the 9 taps (few large ops: many small ones stall when the cores are shared)
    x = torch.stack(
        [
            a[:, :, dy : dy + 2 * m_rows - 1 : 2, dx : dx + 2 * m_cols - 1 : 2]
            for dy in range(3)
            for dx in range(3)
        ]
    )  # 9 x N x C x R x Q
    x = x.permute(0, 2, 1, 3, 4).reshape(9, c, -1)
    taps = torch.bmm(w5.permute(2, 3, 0, 1).reshape(9, c, c), x)  # 9 x C_out x (N R Q)
    # the 9 border cases (row case x column case) sum the taps their windows keep
    mix = _case_mix(a.dtype, a.device)  # 9 cases x 9 taps of 0/1
    v = torch.matmul(mix, taps.reshape(9, -1)).view(9, c, n, m_rows, m_cols)
    # conv5 bias + batch norm (eval: per-channel affine) + ReLU, on all cases at once
    bn = net.bn5
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shift = bn.bias + (net.conv5.bias - bn.running_mean) * scale
    z = torch.relu(v * scale.view(1, c, 1, 1, 1) + shift.view(1, c, 1, 1, 1))
    z = z.permute(0, 2, 1, 3, 4)  # 9 x N x C x R x Q
    w1 = net.fc1.weight.view(net.fc1.out_features, c, 7, 7)
    desc = None
    for k, ((ri0, ri1, _), (ci0, ci1, _)) in enumerate(_CASES):
        out = F.conv2d(z[k][:, :, ri0:, ci0:], w1[:, :, ri0:ri1, ci0:ci1], stride=q)[:, :, :pu, :pv]
        desc = out if desc is None else desc + out
    desc = desc + net.fc1.bias.view(1, -1, 1, 1)
    logits = F.conv2d(desc, net.fc2.weight[:, :, None, None], net.fc2.bias)
    return desc, logits


@torch.no_grad()
def dense_forward_banded(
    net: FocalNet, luma: torch.Tensor, stride: int = 8, band_pixels: int = BAND_PIXELS
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`dense_forward` worked in horizontal bands of whole patch rows, so that its
    temporaries stay near ``band_pixels`` input pixels whatever the frame size.

    Each band holds the exact input rows of its patches (band tops on the 8-pixel grid), so the
    result equals one pass up to float rounding.

    >>> net = FocalNet(4).eval()
    >>> x = torch.rand(1, 1, 200, 72) * 255
    >>> a, b = dense_forward(net, x)[1], dense_forward_banded(net, x, band_pixels=100 * 72)[1]
    >>> a.shape == b.shape and bool(torch.allclose(a, b, atol=1e-4))
    True
    """
    stride = check_stride(stride, multiple_of=GRID)
    h, w = luma.shape[2], luma.shape[3]
    pu, _ = patch_grid(h, w, stride)
    rows = max(1, (max(band_pixels // max(w, 1), PATCH) - PATCH) // stride + 1)  # patch rows per band
    if rows >= pu:
        return dense_forward(net, luma, stride)
    descs, logits = [], []
    for u0 in range(0, pu, rows):
        u1 = min(pu, u0 + rows)
        d, z = dense_forward(net, luma[:, :, u0 * stride : (u1 - 1) * stride + PATCH], stride)
        descs.append(d)
        logits.append(z)
    return torch.cat(descs, dim=2), torch.cat(logits, dim=2)


def iter_dense(
    src: FrameSource,
    net: FocalNet,
    stride: int,
    roi: tuple[int, int, int, int] | None = None,
    *,
    progress: bool = False,
    desc: str = "FOCAL features",
):
    """Yield ``(frame number, descriptors P_U x P_V x 64, logits P_U x P_V x K)`` (CPU tensors) for
    each frame of ``src``, one frame at a time (memory flat in the number of frames).

    ``roi`` = ``(top, left, height, width)`` (from :func:`check_focal_roi`) restricts each frame;
    ``net`` must be in eval mode.

    >>> src = open_frames(np.zeros((2, 64, 72), np.uint8))
    >>> [(i, tuple(d.shape), tuple(z.shape)) for i, d, z in iter_dense(src, FocalNet(4).eval(), 8)]
    [(0, (1, 2, 64), (1, 2, 4)), (1, (1, 2, 64), (1, 2, 4))]
    """
    from tqdm.auto import tqdm

    top, left, rh, rw = roi if roi is not None else (0, 0, *src.shape)
    dev = next(net.parameters()).device
    dtype = next(net.parameters()).dtype  # float32, or float64 for a net.double() reference
    bar = tqdm(src, total=len(src), desc=desc, unit="frame", disable=not progress)
    try:
        for i, y in bar:
            y = y[top : top + rh, left : left + rw]
            x = torch.from_numpy(np.ascontiguousarray(y)).to(dev, dtype)[None, None]
            d, z = dense_forward_banded(net, x, stride)
            yield i, d[0].permute(1, 2, 0).cpu(), z[0].permute(1, 2, 0).cpu()
    finally:
        bar.close()


@torch.no_grad()
def patchwise_forward(
    net: FocalNet, luma: np.ndarray, stride: int = 8, batch_size: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Reference: cut every patch of one ``H x W`` frame and run the CNN on each.

    Returns ``(descriptors P_U x P_V x 64, logits P_U x P_V x K)`` as float32 arrays.

    >>> d, z = patchwise_forward(FocalNet(4).eval(), np.zeros((64, 72), np.uint8))
    >>> d.shape, z.shape
    ((1, 2, 64), (1, 2, 4))
    """
    patches = extract_patches(luma, stride)
    pu, pv = patches.shape[:2]
    flat = patches.reshape(-1, PATCH, PATCH)
    dev, dtype = next(net.parameters()).device, next(net.parameters()).dtype
    descs, logits = [], []
    for i in range(0, len(flat), batch_size):
        x = torch.from_numpy(np.array(flat[i : i + batch_size])).to(dev, dtype)[:, None]
        d = net.descriptor(x)
        descs.append(d.cpu())
        logits.append(net.fc2(d).cpu())
    return (torch.cat(descs).view(pu, pv, -1).numpy(), torch.cat(logits).view(pu, pv, -1).numpy())


# ---------------------------------------------------------------------------------------------
# result
@dataclass(frozen=True)
class FeatureMap(Result):
    """Per-patch FOCAL descriptors of a set of frames (a :class:`toolkit.result.Result`; no verdict).

    Attributes
    ----------
    descriptors : float32 array (float64 for a float64 net), T x P_U x P_V x 64
        FC-1 output of the patch whose top-left pixel is ``(stride*u, stride*v)``.
    probs : float32 array, T x P_U x P_V x K
        Softmax class probabilities of each patch.
    classes : tuple of str
        Class names of the K outputs.
    frame_index : int array, T
        Frame number of each row (display order of the video / index in the array).
    frame_shape : (H, W)
        Frame size in pixels.
    stride : int
        Patch stride in pixels.
    path, sha256, params, toolkit_version
        The input file (None for an array), its SHA-256 (of the array's bytes + shape +
        dtype for an array), every setting used (with the model's ``weights_name`` and
        ``weights_sha256``), the toolkit's version.
    """

    method = "focal.features"

    descriptors: np.ndarray
    probs: np.ndarray
    classes: tuple
    frame_index: np.ndarray
    frame_shape: tuple
    stride: int

    @property
    def frame_probs(self) -> np.ndarray:
        """T x K mean softmax over the frame's patches: the seed's frame descriptor (eqs. 9-10)."""
        return self.probs.mean(axis=(1, 2))

    @property
    def frame_descriptors(self) -> np.ndarray:
        """T x 64 mean FC-1 descriptor over the frame's patches."""
        return self.descriptors.mean(axis=(1, 2))

    @property
    def labels(self) -> np.ndarray:
        """T x P_U x P_V index of the most probable class of every patch."""
        return self.probs.argmax(axis=-1)

    @property
    def frame_labels(self) -> np.ndarray:
        """T class indices: argmax of the mean patch probabilities (frame-level decision)."""
        return self.frame_probs.argmax(axis=-1)

    @property
    def frame_votes(self) -> np.ndarray:
        """T x K fraction of the frame's patches voting for each class (majority rule)."""
        k = self.probs.shape[-1]
        lab = self.labels.reshape(len(self.labels), -1)
        return np.stack([(lab == c).mean(axis=1) for c in range(k)], axis=1)

    @property
    def grid(self) -> tuple[int, int]:
        """``(P_U, P_V)``, patches per column and per row."""
        return tuple(int(n) for n in self.probs.shape[1:3])

    def patch_box(self, u: int, v: int) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` in pixels of patch ``(u, v)``."""
        return (u * self.stride, v * self.stride, PATCH, PATCH)

    def class_map(self, name: str | int, frame: int = 0) -> np.ndarray:
        """P_U x P_V probability map of class ``name`` (name or index) in row ``frame``."""
        k = self.classes.index(name) if isinstance(name, str) else int(name)
        return self.probs[frame, :, :, k]

    def channel_map(self, channel: str | int, frame: int = 0) -> np.ndarray:
        """P_U x P_V map of a class probability (name / index) or ``'d<k>'`` (descriptor channel k).

        >>> fm = features(np.zeros((64, 72), np.uint8), FocalNet(4, classes="abcd"))
        >>> fm.channel_map("b").shape, fm.channel_map("d3").shape
        ((1, 2), (1, 2))
        """
        if self._is_descriptor_channel(channel):
            return self.descriptors[frame, :, :, int(channel[1:])]
        return self.class_map(channel, frame)

    def _is_descriptor_channel(self, channel) -> bool:
        return (
            isinstance(channel, str)
            and channel not in self.classes
            and channel.startswith("d")
            and channel[1:].isdigit()
        )

    def summary(self) -> str:
        """One line: frames, patch grid, and the most probable class over all frames.

        >>> features(np.zeros((64, 72), np.uint8), FocalNet(4, classes="abcd")).summary()[:37]
        'focal.features on array: 1 frame(s), '
        """
        where = os.path.basename(self.path) if self.path else "array"
        mean = self.frame_probs.mean(axis=0)
        k = int(np.argmax(mean))
        return (
            f"{self.method} on {where}: {len(self.frame_index)} frame(s), {self.grid[0]}x{self.grid[1]} "
            f"patches at stride {self.stride} px; most probable class {self.classes[k]} "
            f"(mean p = {float(mean[k]):.3f})"
        )

    def to_dict(self) -> dict:
        """JSON-safe summary: per-frame mean probabilities and descriptors, shapes, params
        (the per-patch arrays are left out: they are large)."""
        return json_safe(
            {
                "method": self.method,
                "type": type(self).__name__,
                **self.decision(),
                "path": self.path,
                "classes": list(self.classes),
                "frame_index": self.frame_index,
                "frame_shape": list(self.frame_shape),
                "stride": self.stride,
                "grid": list(self.grid),
                "frame_probs": self.frame_probs,
                "frame_descriptors": self.frame_descriptors,
                "sha256": self.sha256,
                "params": dict(self.params),
                "toolkit_version": self.toolkit_version,
            }
        )

    def table(self):
        """pandas DataFrame: one row per frame, mean probability and vote share per class."""
        import pandas as pd

        df = pd.DataFrame(self.frame_probs, columns=[f"p_{c}" for c in self.classes])
        votes = self.frame_votes
        for k, c in enumerate(self.classes):
            df[f"votes_{c}"] = votes[:, k]
        df.insert(0, "frame", self.frame_index)
        df["label"] = [self.classes[i] for i in self.frame_labels]
        return df

    def plot(self, frame: int = 0, channel: str | int | None = None):
        """Plotly heat map over the patch grid of one frame.

        ``channel``: a class name (its probability), ``'d<k>'`` (descriptor channel k),
        or None (the most probable class of the frame).
        """
        import plotly.graph_objects as go

        if channel is None:
            channel = self.classes[int(self.frame_labels[frame])]
        z = self.channel_map(channel, frame)
        title = (
            f"descriptor channel {channel[1:]}" if self._is_descriptor_channel(channel) else f"P({channel})"
        )
        s = self.stride
        centres_y = np.arange(z.shape[0]) * s + PATCH / 2
        centres_x = np.arange(z.shape[1]) * s + PATCH / 2
        fig = go.Figure(
            go.Heatmap(z=z, x=centres_x, y=centres_y, colorscale="Viridis", colorbar=dict(title=title))
        )
        fig.update_yaxes(autorange="reversed", title="patch centre y (px)")
        fig.update_xaxes(title="patch centre x (px)", scaleanchor="y")
        fig.update_layout(title=f"{title}, frame {int(self.frame_index[frame])} (stride {s} px)")
        return fig

    def __repr__(self) -> str:
        return (
            f"FeatureMap(frames={len(self.frame_index)}, grid={self.probs.shape[1:3]}, "
            f"classes={self.classes}, stride={self.stride})"
        )


# ---------------------------------------------------------------------------------------------
def resolve_model(model, device: str | None = None) -> torch.nn.Module:
    """The network ``model`` names (``'codec'``, ``'quality'``, a checkpoint path, through
    :func:`toolkit.focal.load_model`) or ``model`` itself; moved to ``device`` when given.

    >>> resolve_model("codec", device="cpu").classes
    ('mpeg2', 'mpeg4', 'h264', 'h265')
    """
    if isinstance(model, (str, os.PathLike)):
        return load_model(model, device=device or "auto")
    if not isinstance(model, torch.nn.Module):
        raise ValueError(
            f"model must be a FocalNet or a name ('codec', 'quality'), got {type(model).__name__}"
        )
    if device is not None:
        from toolkit._util import resolve_device

        model = model.to(resolve_device(device))
    return model


def features(
    frames_or_path,
    model,
    stride: int = 8,
    *,
    start: int = 0,
    count: int | None = None,
    step: int = 1,
    device: str | None = None,
    progress: bool = False,
    roi=None,
    max_frames: int | None = None,
    max_pixels: int | None = MAX_FRAME_PIXELS,
    max_bytes: int | None = MAX_RESULT_BYTES,
) -> FeatureMap:
    """Dense FOCAL descriptors and class probabilities of every patch of every frame.

    Parameters
    ----------
    frames_or_path : path or uint8 array
        A video file (its decoded luma planes) or frames ``H x W``, ``T x H x W``
        (luma) or ``[T x] H x W x 3`` (RGB, converted to BT.601 luma). At least 64x64.
    model : FocalNet or {'codec', 'quality'}
        The network (a name loads the shipped weights via :func:`toolkit.focal.load_model`).
    stride : int
        Patch stride in pixels, a multiple of 8 (8 = every block corner).
    start, count, step : int
        Frames analysed: ``start, start+step, ...`` (at most ``count``).
    device : str, optional
        Torch device ('auto', 'cpu', 'cuda'); default: where the model lives.
    progress : bool
        Show a tqdm bar over frames.
    roi : (top, left, height, width), optional
        Analyse only this region of each frame (pixels; top/left multiples of 8); patch ``(u, v)``
        then starts at ``(top + stride*u, left + stride*v)`` and ``frame_shape`` is the region's.
    max_frames : int, optional
        Analyse at most this many frames (a budget, combined with ``count``).
    max_pixels : int or None
        Largest frame (or region) accepted, pixels (default :data:`MAX_FRAME_PIXELS`).
    max_bytes : int or None
        Largest per-patch result kept, bytes (default :data:`MAX_RESULT_BYTES`, 2 GiB: about
        11 MB per 1080p frame at stride 8); checked before decoding, ``ValueError`` with a sentence
        saying what to change. Large frames are computed in bands (:func:`dense_forward_banded`).

    Returns
    -------
    FeatureMap
        ``.descriptors`` T x P_U x P_V x 64, ``.probs`` T x P_U x P_V x K (float32, patch
        resolution), ``.classes``, ``.frame_probs`` (T x K, the seed's mean frame descriptor).

    Examples
    --------
    >>> fm = features(np.zeros((80, 64), np.uint8), FocalNet(4), stride=8)
    >>> fm.probs.shape
    (1, 3, 1, 4)
    >>> fm = features("sample_data/single/single_h264.mp4", "codec", stride=32, count=1, device="cpu")
    >>> fm.classes[int(fm.frame_labels[0])], fm.grid
    ('h264', (8, 10))
    """
    stride = check_stride(stride, multiple_of=GRID)
    if start < 0 or step < 1 or (count is not None and count < 1):
        raise ValueError("start must be >= 0, step >= 1 and count >= 1 (or None)")
    if max_frames is not None:
        max_frames = check_stride(max_frames, name="max_frames")
        count = max_frames if count is None else min(count, max_frames)
    if not isinstance(model, (str, os.PathLike, torch.nn.Module)):
        resolve_model(model)  # the ValueError naming what a model must be, before any decoding
    src = open_frames(frames_or_path, start, count, step)
    box = check_focal_roi(roi, src.shape)
    net = resolve_model(model, device)
    dev = next(net.parameters()).device
    itemsize = next(net.parameters()).element_size()
    k_out = getattr(getattr(net, "fc2", None), "out_features", 4)
    check_budget(
        len(src), box[2:], stride, 64 + k_out, itemsize=itemsize, max_pixels=max_pixels, max_bytes=max_bytes
    )
    was_training = net.training
    net.eval()
    descs, logits, index = [], [], []
    try:
        for i, d, z in iter_dense(src, net, stride, box, progress=progress):
            descs.append(d)
            logits.append(z)
            index.append(i)
    finally:
        net.train(was_training)
    if not index:
        raise ValueError("no frames to analyse (check start/count/step against the video length)")
    d = torch.stack(descs)
    z = torch.stack(logits)
    params = {
        "stride": stride,
        "start": start,
        "count": count,
        "step": step,
        "device": str(dev),
        "roi": None if roi is None else list(box),
        "max_frames": max_frames,
        "max_pixels": max_pixels,
        "max_bytes": max_bytes,
        "model_classes": list(getattr(net, "classes", ())),
        "path": src.path,
        "weights": getattr(net, "weights_name", None),
        **model_params(net),
        "method": "dense (fully convolutional)",
    }
    return FeatureMap(
        descriptors=d.numpy(),
        probs=torch.softmax(z, dim=-1).numpy(),
        classes=tuple(getattr(net, "classes", range(z.shape[-1]))),
        frame_index=np.asarray(index, dtype=int),
        frame_shape=tuple(box[2:]),
        stride=stride,
        path=src.path,
        sha256=src.sha256,
        params=params,
    )


def features_patchwise(frames, model, stride: int = 8, batch_size: int = 512) -> FeatureMap:
    """The same :class:`FeatureMap` computed patch by patch (reference for tests and benchmarks).

    >>> fm = features_patchwise(np.zeros((64, 64), np.uint8), FocalNet(4))
    >>> fm.descriptors.shape
    (1, 1, 1, 64)
    """
    stride = check_stride(stride, multiple_of=GRID)
    net = resolve_model(model)
    a = to_luma(frames)
    was_training = net.training
    net.eval()
    try:
        out = [patchwise_forward(net, y, stride, batch_size) for y in a]
    finally:
        net.train(was_training)
    d = np.stack([o[0] for o in out])
    z = torch.from_numpy(np.stack([o[1] for o in out]))
    return FeatureMap(
        descriptors=d,
        probs=torch.softmax(z, dim=-1).numpy(),
        classes=tuple(getattr(net, "classes", range(z.shape[-1]))),
        frame_index=np.arange(len(a)),
        frame_shape=tuple(a.shape[1:]),
        stride=stride,
        sha256=array_sha256(np.asarray(frames)),
        params={"stride": stride, "method": "patchwise", **model_params(net)},
    )
