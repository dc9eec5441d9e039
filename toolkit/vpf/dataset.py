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

The *realistic* set (:func:`realistic_specs`, :func:`build_clip`, :func:`score_clips`) spreads
the second (last) encoding over what real re-saves do, one named group each (:data:`GROUPS`):
fixed QP, CRF, CBR/ABR, fixed B-frames, adaptive B-frames with scene cuts, a plain
``ffmpeg -i in out.mp4`` (CRF 23, keyint 250, 3 adaptive B-frames), MPEG-2 and MPEG-4.
First encodes are camera-like (fixed GOP 10-60, with and without 2 B-frames; H.264 QP 14-28,
CRF 16-26 or VBR 0.2-0.75 Mb/s; MPEG-2 / MPEG-4 qscale 2-8 or VBR 0.8-3 Mb/s); second encodes
use H.264 QP 16-36, CRF 18-30, CBR/ABR 0.3-1.5 Mb/s, GOP 10-60 (adaptive: keyint 30-120),
MPEG-2 / MPEG-4 qscale 2-12 or 0.6-3 Mb/s with GOP 12-30 and scene detection on; every
fixed second GOP is not equal to, a multiple or a divisor of the first; every encode uses one
thread (and x264 capped at AVX2 on x86-64), so the set is repeatable. Negatives are single
encodes with the same second settings;
``variable_gop`` clips have an irregular first GOP (label 0: nothing periodic to find);
``real_pos`` clips re-encode the camera GOP-10 clip ``one-by-one-person-detection.mp4``
(label 1, previous GOP 10). Sources are split into two disjoint parts (:func:`part_sources`):
``"benchmark"`` and ``"calibration"`` share no photo and no real clip. Each clip's
macroblock counts are cached beside it (``<id>.mb.pkl``) so re-scoring needs no decode.

>>> specs = make_specs(n_pos=2, n_neg=2, seed=0, bframes=0, sources=["photo:coffee:pan:1"])
>>> sorted({s["label"] for s in specs})
[0, 1]
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from toolkit.synth import double_encode, encode
from toolkit.synth.sources import photo_sequence, real_clip_sequence, real_clips

__all__ = [
    "make_specs",
    "build_case",
    "source_frames",
    "default_sources",
    "run_set",
    "GROUPS",
    "ACQ",
    "REAL_POSITIVE_CLIP",
    "part_sources",
    "realistic_specs",
    "build_clip",
    "load_counts",
    "score_clips",
    "run_realistic",
    "clip_dir",
]

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
    if kind == "cut":  # cut:<source a>+<source b>@<frame>: a hard scene cut at <frame>
        body, at = source[4:].rsplit("@", 1)
        a_id, b_id = body.split("+")
        k = int(at)
        if not 0 < k < n_frames:
            raise ValueError(f"scene cut at frame {k} is outside 1..{n_frames - 1} in {source!r}")
        a = source_frames(a_id, k, size=size, cache_dir=cache_dir)
        b = source_frames(b_id, n_frames - k, size=size, cache_dir=cache_dir)
        h = min(a.shape[1], b.shape[1]) // 16 * 16
        w = min(a.shape[2], b.shape[2]) // 16 * 16

        def crop(x):
            y0, x0 = (x.shape[1] - h) // 2, (x.shape[2] - w) // 2
            return x[:, y0 : y0 + h, x0 : x0 + w]

        frames = np.ascontiguousarray(np.concatenate([crop(a), crop(b)]))
    elif kind == "photo":
        name, motion, seed = rest
        frames = photo_sequence(name, n_frames=n_frames, size=size, motion=motion, seed=int(seed))
    elif kind == "real":
        clip, start = rest
        base = _real_base(clip)
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


@functools.lru_cache(maxsize=2)
def _real_base(clip: str) -> np.ndarray:
    """All frames of a real clip downscaled by 2 (memoised: each start would decode it again)."""
    paths = [p for p in real_clips() if p.name == clip]
    if not paths:
        raise ValueError(f"real clip {clip!r} not found in {[p.name for p in real_clips()]}")
    base = real_clip_sequence(paths[0], factor=2)
    base.setflags(write=False)
    return base


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


# ---------------------------------------------------------------------------
# the realistic set: camera-like first encodes, re-saves as real tools make them
# ---------------------------------------------------------------------------

#: second-encode (last encoding) setting groups, one benchmark row each
GROUPS = (
    "h264_qp",
    "h264_crf",
    "h264_cbr",
    "h264_fixed_b",
    "h264_badapt",
    "ffmpeg_default",
    "mpeg2",
    "mpeg4",
)
#: the two S-MB acquisitions scored for every clip (``toolkit.vpf.ACQUISITIONS``)
ACQ = ("skip", "zero_mv")
#: camera-encoded with GOP 10 and still double encoded after a x2 downscale: never pristine
REAL_POSITIVE_CLIP = "one-by-one-person-detection.mp4"
REAL_POSITIVE_GOP = 10

_PART_SALT = {"benchmark": 0, "calibration": 1}


def _photo_names() -> list[str]:
    from toolkit.synth.sources import PHOTOS

    return [p for p in PHOTOS if not p.endswith("_rgb") or p in ("camera_rgb", "brick_rgb")]


def part_sources(part: str, n_photo: int, n_real: int, n_cut: int, seed: int) -> list[str]:
    """Pristine source ids of one part, ``"benchmark"`` or ``"calibration"`` (seeded).

    The two parts use disjoint photos (alternate names of ``PHOTOS``) and disjoint real clips
    (alternate clips of ``../shared/real_video``, never :data:`REAL_POSITIVE_CLIP`).
    ``n_cut`` more sources are ``cut:<a>+<b>@<frame>``: two sources of the part joined by a
    hard scene cut at a frame in 90-210 (cropped to a common size, a multiple of 16).

    >>> a = part_sources("benchmark", 4, 0, 0, seed=1)
    >>> b = part_sources("calibration", 4, 0, 0, seed=1)
    >>> {s.split(":")[1] for s in a} & {s.split(":")[1] for s in b}
    set()
    """
    if part not in _PART_SALT:
        raise ValueError(f"part must be 'benchmark' or 'calibration', got {part!r}")
    off = _PART_SALT[part]
    rng = np.random.default_rng([seed, off])
    photos = _photo_names()[off::2]
    clips = [p.name for p in real_clips() if p.name != REAL_POSITIVE_CLIP][off::2]
    out = []
    for k in range(n_photo):
        name = photos[k % len(photos)] if k < len(photos) else photos[int(rng.integers(len(photos)))]
        motion = ("pan", "zoom", "mixed")[k % 3]
        out.append(f"photo:{name}:{motion}:{seed * 1000 + k}")
    for k in range(n_real if clips else 0):
        out.append(f"real:{clips[k % len(clips)]}:{int(rng.integers(0, 200))}")
    plain = list(out)
    for _ in range(n_cut if len(plain) >= 2 else 0):
        i, j = rng.choice(len(plain), 2, replace=False)
        out.append(f"cut:{plain[i]}+{plain[j]}@{int(rng.integers(90, 211))}")
    return out


def _unrelated_gop(rng, g1: int | None, lo: int, hi: int, step: int = 1) -> int:
    """A GOP in lo..hi (a multiple of ``step``) not equal to, a multiple or a divisor of g1."""
    choices = [g for g in range(lo, hi + 1) if g % step == 0]
    if g1:
        choices = [g for g in choices if g != g1 and g % g1 and g1 % g]
    return int(choices[int(rng.integers(len(choices)))])


def _enc_common() -> dict:
    from toolkit.synth.encode import is_x86_64

    # one thread and AVX2 at most: every encode is repeatable on any x86-64 machine
    return dict(threads=1, simd="avx2" if is_x86_64() else "auto")


def _first_settings(rng) -> dict:
    """Camera-like first encode: fixed GOP 10-60, with or without B-frames."""
    c = ("h264", "h264", "mpeg2", "mpeg4")[int(rng.integers(4))]
    b = int(rng.integers(2)) * 2 if c != "mpeg4" else 0
    step = b + 1 if c == "mpeg2" else 1  # FFmpeg's MPEG encoders keep a fixed GOP only then
    d = dict(codec=c, gop=_unrelated_gop(rng, None, 10 if step == 1 else 12, 60, step), bframes=b)
    rc = ("q", "crf", "vbr")[int(rng.integers(3))] if c == "h264" else ("q", "vbr")[int(rng.integers(2))]
    if rc == "q":
        d.update(
            rate_control="q", quality=int(rng.integers(14, 29)) if c == "h264" else int(rng.integers(2, 9))
        )
    elif rc == "crf":
        d.update(rate_control="crf", quality=int(rng.integers(16, 27)))
    else:
        # H.264 0.2-0.75 Mb/s at 288x352 (about QP 18-25 there); MPEG-2/4 0.8-3 Mb/s
        unit = 25_000 if c == "h264" else 100_000
        d.update(rate_control="vbr", bitrate=int(rng.integers(8, 31)) * unit, quality=None)
    d["preset"] = ("veryfast", "fast", "medium")[int(rng.integers(3))]
    return {**d, **_enc_common()}


def _second_settings(group: str, rng, g1: int | None) -> dict:
    """Second (last) encode of ``group``; fixed GOPs avoid g1, its multiples and divisors."""
    d: dict = dict(codec="h264", bframes=0, preset="medium")
    if group == "h264_qp":
        d.update(rate_control="q", quality=int(rng.integers(16, 37)), gop=_unrelated_gop(rng, g1, 10, 60))
    elif group == "h264_crf":
        d.update(rate_control="crf", quality=int(rng.integers(18, 31)), gop=_unrelated_gop(rng, g1, 10, 60))
    elif group == "h264_cbr":
        rc = ("cbr", "vbr")[int(rng.integers(2))]
        d.update(rate_control=rc, bitrate=int(rng.integers(3, 16)) * 100_000, quality=None)
        d["gop"] = _unrelated_gop(rng, g1, 10, 60)
    elif group == "h264_fixed_b":
        if rng.integers(2):
            d.update(rate_control="q", quality=int(rng.integers(16, 37)))
        else:
            d.update(rate_control="crf", quality=int(rng.integers(18, 31)))
        d.update(bframes=2, gop=_unrelated_gop(rng, g1, 10, 60))
    elif group == "h264_badapt":
        d.update(
            rate_control="crf",
            quality=int(rng.integers(18, 31)),
            bframes=int(rng.integers(2, 4)),
            adaptive=True,
            gop=_unrelated_gop(rng, g1, 30, 120),
        )
    elif group == "ffmpeg_default":  # what `ffmpeg -i in.mp4 out.mp4` does with libx264
        d.update(rate_control="crf", quality=23, gop=250, bframes=3, adaptive=True)
    elif group in ("mpeg2", "mpeg4"):
        b = int(rng.integers(2)) * 2 if group == "mpeg2" else 0
        d = dict(codec=group, bframes=b, gop=_unrelated_gop(rng, g1, 12, 30, b + 1), adaptive=True)
        if rng.integers(2):
            d.update(rate_control="q", quality=int(rng.integers(2, 13)))
        else:
            d.update(rate_control="vbr", bitrate=int(rng.integers(6, 31)) * 100_000, quality=None)
    else:
        raise ValueError(f"unknown group {group!r}; choose from {', '.join(GROUPS)}")
    return {**d, **_enc_common()}


def _variable_first(rng, n_frames: int) -> dict:
    """First encode with I-frames at random 10-60 frame intervals (no periodicity)."""
    i_frames, k = [0], 0
    while True:
        k += int(rng.integers(10, 61))
        if k >= n_frames:
            break
        i_frames.append(k)
    c = ("h264", "mpeg2", "mpeg4")[int(rng.integers(3))]
    q = int(rng.integers(14, 29)) if c == "h264" else int(rng.integers(2, 9))
    return dict(
        codec=c, rate_control="q", quality=q, gop=n_frames + 1, bframes=0, i_frames=i_frames, **_enc_common()
    )


def realistic_specs(
    part: str,
    n_pos: int,
    n_neg: int,
    n_var: int,
    seed: int,
    sources: list[str],
    n_frames: int = 300,
    groups=GROUPS,
    n_real_pos: int = 0,
) -> list[dict]:
    """Seeded clip specifications of the realistic set (dicts, see the module docstring).

    Per group in ``groups``: ``n_pos`` double encodes (camera-like first encode, then the
    group's second settings) and ``n_neg`` single encodes with the same second settings;
    ``n_var`` variable-GOP clips (second settings cycling over ``groups``, group
    ``"variable_gop"``, label 0); ``n_real_pos`` re-encodes of :data:`REAL_POSITIVE_CLIP`
    (group ``"real_pos"``, label 1, previous GOP 10). Keys: ``id``, ``group``,
    ``second_group``, ``kind`` ("pos", "neg", "variable_gop", "real_pos"), ``label``,
    ``source``, ``first`` (None for single encodes), ``second``, ``true_gop``.

    >>> sp = realistic_specs("benchmark", 1, 1, 1, 0, ["photo:coffee:pan:1"], groups=("h264_crf",))
    >>> [(s["kind"], s["label"]) for s in sp]
    [('pos', 1), ('neg', 0), ('variable_gop', 0)]
    >>> g1, g2 = sp[0]["first"]["gop"], sp[0]["second"]["gop"]
    >>> g1 != g2 and g1 % g2 != 0 and g2 % g1 != 0
    True
    """
    if part not in _PART_SALT:
        raise ValueError(f"part must be 'benchmark' or 'calibration', got {part!r}")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ValueError(f"unknown groups {unknown}; choose from {', '.join(GROUPS)}")
    if not sources:
        raise ValueError("need at least one source")
    rng = np.random.default_rng([seed, _PART_SALT[part], 22])
    tag = f"{part[:3]}{seed}"
    specs = []

    def add(kind, group, second_group, label, first, second, true_gop, source, k):
        specs.append(
            dict(
                id=f"{tag}_{group}_{kind}_{k:03d}",
                group=group,
                second_group=second_group,
                kind=kind,
                label=label,
                source=source,
                first=first,
                second=second,
                true_gop=true_gop,
            )
        )

    for g in groups:
        for k in range(n_pos):
            src = sources[int(rng.integers(len(sources)))]
            first = _first_settings(rng)
            add("pos", g, g, 1, first, _second_settings(g, rng, first["gop"]), first["gop"], src, k)
        for k in range(n_neg):
            src = sources[int(rng.integers(len(sources)))]
            add("neg", g, g, 0, None, _second_settings(g, rng, None), None, src, k)
    for k in range(n_var):
        g = groups[k % len(groups)]
        src = sources[int(rng.integers(len(sources)))]
        add(
            "variable_gop",
            "variable_gop",
            g,
            0,
            _variable_first(rng, n_frames),
            _second_settings(g, rng, None),
            None,
            src,
            k,
        )
    names = [p.name for p in real_clips()]
    for k in range(n_real_pos if REAL_POSITIVE_CLIP in names else 0):
        g = groups[k % len(groups)]
        src = f"real:{REAL_POSITIVE_CLIP}:{int(rng.integers(0, 1000))}"
        add(
            "real_pos",
            "real_pos",
            g,
            1,
            None,
            _second_settings(g, rng, REAL_POSITIVE_GOP),
            REAL_POSITIVE_GOP,
            src,
            k,
        )
    return specs


def build_clip(spec: dict, out_dir, n_frames: int = 300, cache_dir=None, size=(288, 352)) -> Path:
    """Encode a realistic spec into ``out_dir/<id>.mp4`` and cache its counts in ``<id>.mb.pkl``.

    Both files are reused when present (resumable; written atomically). The counts are
    ``toolkit.video.macroblock_types(path)`` (with the zero-MV column), pickled.

    >>> import tempfile
    >>> sp = realistic_specs("benchmark", 0, 1, 0, 0, ["photo:coffee:pan:1"], groups=("mpeg4",))[0]
    >>> p = build_clip(sp, tempfile.mkdtemp(), n_frames=30, size=(64, 64))
    >>> p.name, load_counts(p).counts["frame_type"].iloc[0]
    ('ben0_mpeg4_neg_000.mp4', 'I')
    """
    import pickle

    from toolkit.video import macroblock_types

    out = build_case(spec, out_dir, n_frames, cache_dir=cache_dir, size=size)
    pkl = out.with_name(f"{spec['id']}.mb.pkl")
    if not pkl.exists():
        mb = macroblock_types(out, workers=1)
        tmp = pkl.with_name(f"{pkl.name}.{os.getpid()}.part")
        tmp.write_bytes(pickle.dumps(mb))
        os.replace(tmp, pkl)
    return out


def load_counts(path):
    """The cached :class:`toolkit.video.MacroblockTypes` of a clip built by :func:`build_clip`.

    ``path``: the clip (``<id>.mp4``) or its ``<id>.mb.pkl``. Raises FileNotFoundError.
    """
    import pickle

    p = Path(path)
    if not p.name.endswith(".mb.pkl"):
        p = p.with_name(p.name.rsplit(".", 1)[0] + ".mb.pkl")
    return pickle.loads(p.read_bytes())


def score_clips(specs: list[dict], out_dir, analyze_kwargs=None) -> list[dict]:
    """Score every built clip from its cached counts with both acquisitions (no decoding).

    One row per spec: spec fields, ``has_b`` (B-frames in the analysed stream), and per
    acquisition ``a`` in :data:`ACQ`: ``vpf_<a>`` (score, ``threshold=0``), ``gop_<a>``
    (estimated previous GOP) and ``status_<a>``. Specs whose counts are missing are skipped.

    >>> score_clips([], "/nonexistent")
    []
    """
    from toolkit.vpf import analyze_counts

    rows = []
    for spec in specs:
        pkl = Path(out_dir) / f"{spec['id']}.mb.pkl"
        if not pkl.exists():
            continue
        mb = load_counts(pkl)
        types = mb.counts["frame_type"].to_numpy()
        row = dict(
            id=spec["id"],
            group=spec["group"],
            second_group=spec["second_group"],
            kind=spec["kind"],
            label=spec["label"],
            source=spec["source"],
            first=json.dumps(spec["first"]),
            second=json.dumps(spec["second"]),
            first_codec=(spec["first"] or {}).get("codec"),
            second_codec=spec["second"]["codec"],
            true_gop=spec["true_gop"],
            second_gop=spec["second"]["gop"],
            has_b=bool((types == "B").any()),
            n_frames=int(len(types)),
            n_i_frames=int((types == "I").sum()),
        )
        for a in ACQ:
            r = analyze_counts(mb, threshold=0.0, acquisition=a, **(analyze_kwargs or {}))
            row.update({f"vpf_{a}": r.vpf_value, f"gop_{a}": r.best_gop, f"status_{a}": r.status})
        rows.append(row)
    return rows


def _build_one(args) -> str:
    spec, out_dir, n_frames, cache_dir, size = args
    return str(build_clip(spec, out_dir, n_frames, cache_dir=cache_dir, size=size))


def run_realistic(
    specs: list[dict],
    out_dir,
    n_frames: int = 300,
    cache_dir=None,
    size=(288, 352),
    jobs: int = 1,
    progress: bool = True,
    analyze_kwargs=None,
) -> list[dict]:
    """Build (or reuse) every clip and its counts, then :func:`score_clips` them.

    ``jobs`` > 1 builds clips in that many worker processes.

    >>> import tempfile
    >>> sp = realistic_specs("benchmark", 1, 1, 0, 0, ["photo:coffee:pan:1"], groups=("h264_qp",))
    >>> rows = run_realistic(sp, tempfile.mkdtemp(), n_frames=40, size=(64, 64), progress=False)
    >>> [(r["kind"], r["label"]) for r in rows]
    [('pos', 1), ('neg', 0)]
    """
    from tqdm.auto import tqdm

    args = [(s, out_dir, n_frames, cache_dir, size) for s in specs]
    if jobs <= 1:
        for a in tqdm(args, disable=not progress, desc="VPF clips"):
            _build_one(a)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            list(tqdm(pool.map(_build_one, args), total=len(args), disable=not progress, desc="VPF clips"))
    return score_clips(specs, out_dir, analyze_kwargs)


def clip_dir(
    work,
    part: str,
    seed: int,
    n_pos: int,
    n_neg: int,
    n_var: int,
    n_real: int,
    n_frames: int,
    size=(288, 352),
) -> Path:
    """Folder of one realistic set's clips under ``work`` (spec ids depend on the counts).

    >>> clip_dir("/w", "benchmark", 1, 30, 30, 48, 8, 300).name
    'benchmark1_p30_n30_v48_r8_f300'
    """
    tag = "" if tuple(size) == (288, 352) else f"_{size[0]}x{size[1]}"
    return Path(work) / f"{part}{seed}_p{n_pos}_n{n_neg}_v{n_var}_r{n_real}_f{n_frames}{tag}"
