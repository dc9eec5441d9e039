"""Seeded single/double-encoded video sets for VPF calibration and benchmarks.

Every clip is made by ``toolkit.synth`` from a pristine source: a virtual
camera over a photo (:func:`toolkit.synth.sources.photo_sequence`) or a real
clip downscaled by 2 (:func:`toolkit.synth.sources.real_clip_sequence`, played
forwards then backwards when it is shorter than needed).

* negatives: encoded once with H.264 (fixed GOP 10-60, QP 16-36);
* positives: first codec MPEG-2 / MPEG-4 / H.264 (GOP 10-50, high quality to
  medium), then H.264 (GOP 10-60, not equal to, a multiple of, or a divisor
  of the first GOP; QP 16-36);
* ``bframes`` > 0 puts that many B-frames in the last (H.264) encoding.

>>> specs = make_specs(n_pos=2, n_neg=2, seed=0, bframes=0, sources=["photo:coffee:pan:1"])
>>> sorted({s["label"] for s in specs})
[0, 1]
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from toolkit.synth import double_encode, encode
from toolkit.synth.sources import photo_sequence, real_clip_sequence, real_clips

__all__ = ["make_specs", "build_case", "source_frames", "default_sources", "run_set"]

FIRST_QUALITY = {"mpeg2": (2, 8), "mpeg4": (2, 8), "h264": (14, 30)}
SECOND_QP = (16, 36)


def default_sources(n_photo: int, n_real: int, seed: int) -> list[str]:
    """Source ids ``photo:<name>:<motion>:<seed>`` and ``real:<clip>:<start>``, seeded.

    >>> default_sources(n_photo=2, n_real=0, seed=0)
    ['photo:clock:pan:0', 'photo:camera_rgb:zoom:1']
    """
    from toolkit.synth.sources import PHOTOS

    rng = np.random.default_rng(seed)
    photos = [p for p in PHOTOS if not p.endswith("_rgb") or p in ("camera_rgb", "brick_rgb")]
    out = []
    for k in range(n_photo):
        name = photos[int(rng.integers(len(photos)))]
        motion = ("pan", "zoom", "mixed")[k % 3]
        out.append(f"photo:{name}:{motion}:{seed * 1000 + k}")
    clips = [p.name for p in real_clips()]
    for _ in range(n_real if clips else 0):
        clip = clips[int(rng.integers(len(clips)))]
        out.append(f"real:{clip}:{int(rng.integers(0, 200))}")
    return out


def source_frames(source: str, n_frames: int, size=(288, 352), cache_dir=None) -> np.ndarray:
    """Frames (T x H x W x 3 uint8) of a source id, cached as .npy in ``cache_dir``.

    ``size`` is (H, W) in pixels; real clips are downscaled by 2 (their own size).

    >>> source_frames("photo:coffee:pan:1", 3, size=(32, 48)).shape
    (3, 32, 48, 3)
    """
    if cache_dir is not None:
        tag = "" if tuple(size) == (288, 352) else f"_{size[0]}x{size[1]}"
        f = Path(cache_dir) / (source.replace(":", "_").replace("/", "_") + f"_{n_frames}{tag}.npy")
        if f.exists():
            return np.load(f)
    kind, *rest = source.split(":")
    if kind == "photo":
        name, motion, seed = rest
        frames = photo_sequence(name, n_frames=n_frames, size=size, motion=motion, seed=int(seed))
    elif kind == "real":
        clip, start = rest
        path = next(p for p in real_clips() if p.name == clip)
        base = real_clip_sequence(path, factor=2)
        order = list(range(len(base))) + list(range(len(base) - 2, 0, -1))  # ping-pong
        frames = np.stack([base[order[(int(start) + k) % len(order)]] for k in range(n_frames)])
    else:
        raise ValueError(f"unknown source kind in {source!r}")
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f"{f.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, frames)
        os.replace(tmp, f)  # atomic: parallel workers may make the same source
    return frames


def _second_gop(rng, g1: int) -> int:
    while True:
        g2 = int(rng.integers(10, 61))
        if g2 != g1 and g2 % g1 and g1 % g2:
            return g2


def make_specs(n_pos: int, n_neg: int, seed: int, bframes: int, sources: list[str]) -> list[dict]:
    """Seeded list of clip specifications (dicts; ``label`` 1 = double encoded).

    >>> spec = make_specs(1, 0, seed=0, bframes=0, sources=["photo:coffee:pan:1"])[0]
    >>> spec["id"], spec["first"]["codec"], spec["second"]["codec"]
    ('pos0_0_000', 'mpeg2', 'h264')
    """
    rng = np.random.default_rng(seed)
    specs = []
    for k in range(n_pos):
        c1 = ("mpeg2", "mpeg4", "h264")[k % 3]
        lo, hi = FIRST_QUALITY[c1]
        g1 = int(rng.integers(10, 51))
        specs.append(
            dict(
                label=1,
                source=sources[int(rng.integers(len(sources)))],
                first=dict(codec=c1, quality=int(rng.integers(lo, hi + 1)), gop=g1, bframes=0),
                second=dict(
                    codec="h264",
                    quality=int(rng.integers(*SECOND_QP) + 1),
                    gop=_second_gop(rng, g1),
                    bframes=bframes,
                ),
                id=f"pos{seed}_{bframes}_{k:03d}",
            )
        )
    for k in range(n_neg):
        specs.append(
            dict(
                label=0,
                source=sources[int(rng.integers(len(sources)))],
                first=None,
                second=dict(
                    codec="h264",
                    quality=int(rng.integers(*SECOND_QP) + 1),
                    gop=int(rng.integers(10, 61)),
                    bframes=bframes,
                ),
                id=f"neg{seed}_{bframes}_{k:03d}",
            )
        )
    return specs


def build_case(spec: dict, out_dir, n_frames: int = 250, cache_dir=None, size=(288, 352)) -> Path:
    """Encode one spec into ``out_dir/<id>.mp4`` (reused when it exists); returns the path.

    >>> import tempfile
    >>> spec = make_specs(1, 0, seed=0, bframes=0, sources=["photo:coffee:pan:1"])[0]
    >>> build_case(spec, tempfile.mkdtemp(), n_frames=40, size=(64, 64)).name
    'pos0_0_000.mp4'
    """
    out = Path(out_dir) / f"{spec['id']}.mp4"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = source_frames(spec["source"], n_frames, size=size, cache_dir=cache_dir)
    tmp = out.with_name(f"{out.stem}.{os.getpid()}.part.mp4")
    if spec["first"] is None:
        encode(frames, tmp, spec["second"])
    else:
        double_encode(frames, tmp, first=spec["first"], second=spec["second"])
        Path(str(tmp) + ".json").unlink(missing_ok=True)
    os.replace(tmp, out)
    return out


def _run_one(args) -> dict:
    from toolkit.vpf import analyze

    spec, out_dir, n_frames, cache_dir, size, kw = args
    path = build_case(spec, out_dir, n_frames, cache_dir, size=size)
    r = analyze(path, threshold=0.0, **(kw or {}))
    return dict(
        id=spec["id"],
        label=spec["label"],
        source=spec["source"],
        first=json.dumps(spec["first"]),
        second=json.dumps(spec["second"]),
        first_codec=(spec["first"] or {}).get("codec"),
        true_gop=(spec["first"] or {}).get("gop"),
        second_gop=spec["second"]["gop"],
        second_qp=spec["second"]["quality"],
        bframes=spec["second"]["bframes"],
        vpf_value=r.vpf_value,
        best_gop=r.best_gop,
        status=r.status,
        n_frames=r.n_frames,
    )


def run_set(
    specs: list[dict],
    out_dir,
    n_frames: int = 250,
    cache_dir=None,
    progress: bool = True,
    analyze_kwargs=None,
    size=(288, 352),
    jobs: int = 1,
) -> list[dict]:
    """Build every clip and analyse it; one row (dict) per clip with spec, score and GOP.

    ``jobs`` > 1 runs that many worker processes (results keep the order of ``specs``).
    Each clip is analysed with ``threshold=0`` (``vpf_value`` is the score to threshold).

    >>> import tempfile
    >>> specs = make_specs(1, 1, seed=0, bframes=0, sources=["photo:coffee:pan:1"])
    >>> rows = run_set(specs, tempfile.mkdtemp(), n_frames=40, size=(64, 64), progress=False)
    >>> [r["label"] for r in rows], sorted(rows[0])[:4]
    ([1, 0], ['best_gop', 'bframes', 'first', 'first_codec'])
    """
    from tqdm.auto import tqdm

    args = [(spec, out_dir, n_frames, cache_dir, size, analyze_kwargs) for spec in specs]
    if jobs <= 1:
        return [_run_one(a) for a in tqdm(args, disable=not progress, desc="VPF set")]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        return list(tqdm(pool.map(_run_one, args), total=len(args), disable=not progress, desc="VPF set"))
