"""Forgeries with ground truth: double encoding, temporal and spatial splicing.

Each function decodes its inputs with :mod:`toolkit.video` (plain arrays, no
picture types carried over), encodes with :func:`toolkit.synth.encode.encode`
and writes the ground truth beside the output: ``<out>.json`` (and
``<out>.mask.png`` for spatial splices).

>>> import os, tempfile
>>> from toolkit.synth import double_encode
>>> out = os.path.join(tempfile.mkdtemp(), "dbl.mp4")
>>> gt = double_encode("sample_data/single/single_h264.mp4", out, count=30,
...                    first={"codec": "mpeg2", "gop": 12, "quality": 4},
...                    second={"codec": "h264", "gop": 33, "quality": 20})
>>> gt["first"]["gop"], gt["n_frames"], gt["first_i_frames"]
(12, 30, [0, 12, 24])
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toolkit._util import check_roi
from toolkit.synth.encode import CODECS, EncodeSettings, codec_name, encode

__all__ = ["double_encode", "temporal_splice", "spatial_splice", "load_frames", "write_ground_truth"]

#: re-encode applied after every splice (seed 000: "high-quality H.264")
FINAL_DEFAULT = {"codec": "h264", "quality": 16, "gop": 30, "bframes": 0}


def load_frames(source, count: int | None = None) -> np.ndarray:
    """RGB frames (T x H x W x 3 uint8) of a path or an array of frames; at most ``count``.

    A thin alias of :func:`toolkit.video.read_frames` with ``fmt="rgb"``: a path is
    decoded (``FileNotFoundError``, ``toolkit.video.VideoReadError``); an array
    (``H x W``, ``H x W x 3``, ``T x H x W``, ``T x H x W x 3`` uint8) goes through
    :func:`toolkit.video.as_frame_array` without a copy (grey frames become 3 equal bands;
    ``ValueError`` for other shapes or dtypes).

    >>> load_frames("sample_data/single/single_h264.mp4", count=2).shape
    (2, 288, 352, 3)
    >>> load_frames(np.zeros((4, 8, 8), np.uint8), count=3).shape
    (3, 8, 8, 3)
    """
    from toolkit.video import as_frame_array, read_frames

    if isinstance(source, (str, os.PathLike)):
        return read_frames(source, count=count, fmt="rgb")
    frames = as_frame_array(source, "rgb")
    return frames if count is None else frames[:count]


def write_ground_truth(out: Path, truth: dict) -> dict:
    """Write ``truth`` as JSON beside ``out`` (``out.json``) and return it.

    >>> import tempfile
    >>> write_ground_truth(Path(tempfile.mkdtemp()) / "x.mp4", {"kind": "demo"})
    {'kind': 'demo'}
    """
    Path(str(out) + ".json").write_text(json.dumps(truth, indent=2, default=str))
    return truth


def _describe(source) -> str:
    return str(source) if isinstance(source, (str, os.PathLike)) else f"array{tuple(np.shape(source))}"


def double_encode(
    source,
    out: str | os.PathLike,
    first: EncodeSettings | dict,
    second: EncodeSettings | dict,
    *,
    count: int | None = None,
    keep_first: str | os.PathLike | None = None,
) -> dict:
    """Encode ``source`` with ``first``, decode, re-encode with ``second`` into ``out``.

    Parameters
    ----------
    source : video path or frames (T x H x W x 3 uint8, see :func:`load_frames`).
    out : output file (its extension picks the container).
    first, second : settings of the two encodings (:class:`EncodeSettings` or dict).
    count : use at most this many frames of ``source``.
    keep_first : where to keep the intermediate (first-encoded) file; temporary otherwise.

    Returns
    -------
    dict
        The ground truth, also written to ``out.json``: both settings, frame
        count, and both encodings' I-frame positions (display order).

    >>> import tempfile
    >>> frames = np.random.default_rng(0).integers(0, 255, (20, 32, 32, 3), dtype=np.uint8)
    >>> gt = double_encode(frames, Path(tempfile.mkdtemp()) / "d.mp4",
    ...                    first={"codec": "mpeg2", "gop": 6, "quality": 4},
    ...                    second={"codec": "h264", "gop": 9, "quality": 24})
    >>> gt["first_i_frames"], gt["second_i_frames"]
    ([0, 6, 12, 18], [0, 9, 18])
    """
    first_s = EncodeSettings.make(first)
    second_s = EncodeSettings.make(second)
    frames = load_frames(source, count)
    out = Path(out)
    ext = CODECS[codec_name(first_s.codec)][2]
    with tempfile.TemporaryDirectory() as tmp:
        mid = Path(keep_first) if keep_first else Path(tmp) / f"first{ext}"
        encode(frames, mid, first_s)
        decoded = load_frames(mid)
        encode(decoded, out, second_s)
    n = len(decoded)
    truth = {
        "kind": "double_encoded",
        "source": _describe(source),
        "first": first_s.to_dict(),
        "second": second_s.to_dict(),
        "n_frames": n,
        "first_i_frames": list(range(0, n, first_s.gop)),
        "second_i_frames": list(range(0, n, second_s.gop)),
    }
    return write_ground_truth(out, truth)


def _same_size(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"sequences are not spliceable: frame sizes {a.shape[1:3]} and {b.shape[1:3]} differ"
        )


def temporal_splice(
    a,
    b,
    out: str | os.PathLike,
    cut: int,
    *,
    length: int | None = None,
    final: EncodeSettings | dict | None = None,
) -> dict:
    """Frames ``a[:cut]`` followed by ``b[cut:length]``, re-encoded with ``final``.

    ``a`` and ``b`` are paths or frame arrays of the same size (seed 000,
    Definition 2: frames keep their time index). Ground truth: ``cut`` is the
    first frame taken from ``b``; the splice lies between frames ``cut - 1``
    and ``cut`` (``boundary = cut - 1`` in the convention of
    ``toolkit.focal.temporal``: a cut n is between n and n+1).

    Parameters
    ----------
    a, b : video paths or frames (T x H x W x 3 uint8) of the same frame size.
    out : output file; ``cut`` : first frame index taken from ``b`` (1..T-1).
    length : use at most this many frames; ``final`` : settings of the re-encoding
        (default H.264 QP 16, GOP 30).

    Returns
    -------
    dict
        Ground truth (``cut``, ``boundary``, ``n_frames``, ...), also in ``out.json``.

    >>> import tempfile
    >>> a = np.full((12, 32, 32, 3), 60, np.uint8)
    >>> gt = temporal_splice(a, 255 - a, Path(tempfile.mkdtemp()) / "t.mp4", cut=5)
    >>> gt["cut"], gt["boundary"], gt["n_frames"]
    (5, 4, 12)
    """
    fa, fb = load_frames(a, length), load_frames(b, length)
    _same_size(fa, fb)
    n = min(len(fa), len(fb)) if length is None else min(length, len(fa), len(fb))
    if not 0 < cut < n:
        raise ValueError(f"cut must be inside the sequence (1..{n - 1}), got {cut}")
    frames = np.concatenate([fa[:cut], fb[cut:n]])
    fs = EncodeSettings.make(final or FINAL_DEFAULT)
    out = Path(out)
    encode(frames, out, fs)
    truth = {
        "kind": "temporal_splice",
        "a": _describe(a),
        "b": _describe(b),
        "cut": int(cut),
        "boundary": int(cut - 1),
        "n_frames": int(n),
        "final": fs.to_dict(),
    }
    return write_ground_truth(out, truth)


def spatial_splice(
    a,
    b,
    out: str | os.PathLike,
    box: Sequence[int] | None = None,
    *,
    length: int | None = None,
    final: EncodeSettings | dict | None = None,
) -> dict:
    """Frames of ``a`` with the window ``box = (top, left, height, width)`` taken from ``b``.

    Default box: seed 000's central CIF window (288 x 352), scaled down to half
    the frame when the frame is smaller, with its top-left corner on the 8-pixel
    grid. Re-encoded with ``final``. Ground truth: ``out.json`` and the pixel
    mask ``out.mask.png`` (255 = spliced).

    Parameters
    ----------
    a, b : video paths or frames (T x H x W x 3 uint8) of the same frame size.
    out : output file; ``box`` : ``(top, left, height, width)`` in pixels, whole numbers
        inside the frame (``ValueError`` otherwise; see :func:`toolkit._util.check_roi`).
    length : use at most this many frames; ``final`` : settings of the re-encoding.

    Returns
    -------
    dict
        Ground truth (``box``, ``mask`` file name, ``n_frames``, ...), also in ``out.json``.

    >>> import tempfile
    >>> a = np.full((6, 64, 64, 3), 60, np.uint8)
    >>> spatial_splice(a, 255 - a, Path(tempfile.mkdtemp()) / "s.mp4", box=(16, 16, 32, 24))["box"]
    [16, 16, 32, 24]
    """
    from PIL import Image

    fa, fb = load_frames(a, length), load_frames(b, length)
    _same_size(fa, fb)
    n = min(len(fa), len(fb))
    h, w = fa.shape[1:3]
    if box is None:
        bh, bw = 288, 352
        if bh > h // 2 or bw > w // 2:
            s = min(h / 2 / bh, w / 2 / bw)
            bh, bw = max(8, int(bh * s) // 8 * 8), max(8, int(bw * s) // 8 * 8)
        top, left = ((h - bh) // 2) // 8 * 8, ((w - bw) // 2) // 8 * 8
        box = (top, left, bh, bw)
    try:
        top, left, bh, bw = check_roi(box, h, w)
    except ValueError as exc:
        raise ValueError(f"box {tuple(box)} does not fit in a {h}x{w} frame: {exc}") from None
    frames = fa[:n].copy()
    frames[:, top : top + bh, left : left + bw] = fb[:n, top : top + bh, left : left + bw]
    fs = EncodeSettings.make(final or FINAL_DEFAULT)
    out = Path(out)
    encode(frames, out, fs)
    mask = np.zeros((h, w), np.uint8)
    mask[top : top + bh, left : left + bw] = 255
    mask_path = Path(str(out) + ".mask.png")
    Image.fromarray(mask).save(mask_path)
    truth = {
        "kind": "spatial_splice",
        "a": _describe(a),
        "b": _describe(b),
        "box": [top, left, bh, bw],
        "mask": mask_path.name,
        "n_frames": int(n),
        "final": fs.to_dict(),
    }
    return write_ground_truth(out, truth)
