"""Forgeries with ground truth: double encoding, temporal and spatial splicing.

Each function decodes its inputs with :mod:`toolkit.video` (plain arrays, no
picture types carried over), encodes with :func:`toolkit.synth.encode.encode`
and writes the ground truth beside the output: ``<out>.json`` (and
``<out>.mask.png`` for spatial splices).

>>> from toolkit.synth import double_encode  # doctest: +SKIP
>>> gt = double_encode("src.mp4", "dbl.mp4", first={"codec": "mpeg2", "gop": 12, "quality": 4},
...                    second={"codec": "h264", "gop": 33, "quality": 20})  # doctest: +SKIP
>>> gt["first"]["gop"]  # doctest: +SKIP
12
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toolkit.synth.encode import CODECS, EncodeSettings, codec_name, encode

__all__ = ["double_encode", "temporal_splice", "spatial_splice", "load_frames", "write_ground_truth"]

#: re-encode applied after every splice (seed 000: "high-quality H.264")
FINAL_DEFAULT = {"codec": "h264", "quality": 16, "gop": 30, "bframes": 0}


def load_frames(source, count: int | None = None) -> np.ndarray:
    """RGB frames (T x H x W x 3 uint8) from a path or an array of frames."""
    if isinstance(source, (str, os.PathLike)):
        from toolkit.video import iter_frames

        frames = list(iter_frames(source, "rgb24", count=count))
        if not frames:
            from toolkit.video import VideoReadError

            raise VideoReadError(f"{source}: no frame could be decoded")
        return np.stack(frames)
    a = np.asarray(source)
    if a.ndim not in (3, 4) or a.dtype != np.uint8:
        raise ValueError("frames must be a uint8 array T x H x W (x 3)")
    return a if count is None else a[:count]


def write_ground_truth(out: Path, truth: dict) -> dict:
    """Write ``truth`` as JSON beside ``out`` (``out.json``) and return it."""
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

    ``source`` is a path or frames (T x H x W x 3 uint8). The intermediate
    file is temporary unless ``keep_first`` names where to keep it. Returns
    the ground truth (also written to ``out.json``): both settings, frame
    count, and the first encode's I-frame positions in display order.
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
    top, left, bh, bw = (int(v) for v in box)
    if top < 0 or left < 0 or bh <= 0 or bw <= 0 or top + bh > h or left + bw > w:
        raise ValueError(f"box {tuple(box)} does not fit in a {h}x{w} frame")
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
