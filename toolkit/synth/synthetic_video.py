"""DeepStreets-like data families: real and synthetic 30-frame videos in RAW, HQ and LQ (seed 001, ch. 3).

A *simulation* of the thesis' DeepStreets subsets (no GAN is run, nothing is downloaded). Each family
pairs a pristine source law with a generator, the way the subsets differ in Table 3.1:

==============  ===================  ============================================================
family          pristine source      generator
==============  ===================  ============================================================
``cityvid``     ``city``             ``vid2vid``: every frame re-synthesised independently (fresh
                                     Gaussian-correlated texture, sub-pixel warp, flicker;
                                     :func:`v2v_regenerate`)
``citywcvid``   ``city``             ``wc_vid2vid``: world-consistent: a texture that persists
                                     through the video (70 %) plus a fresh part, with a blocky
                                     2x-upsampling spectrum, a weaker warp and less flicker
``kittivid``    ``kitti``            ``vid2vid`` on another source: other photos, a forward
                                     ("driving") zoom, a warmer camera response, vignetting and
                                     more sensor noise
==============  ===================  ============================================================

A *source* is one pristine sequence (a virtual camera over a photo, :func:`toolkit.synth.photo_sequence`);
its real video is the sequence itself and its fake video the generator's output on it (as the thesis'
fakes are generated from the real videos' segmentation maps). Every video is written three times,
as chapter 3 does: RAW (H.264 lossless, CRF 0), HQ (CRF 23) and LQ (CRF 40), with
``toolkit.synth.encode`` (one thread, x264 capped at AVX2 on x86-64: byte-identical on every run).

Each family folder holds ``manifest.json``: the settings and, per video, its label, source, split and
files. Splits are by source, 60 / 25 / 15 % (train / val / test): no source, hence neither its real nor
its fake video, is in two splits.

>>> import tempfile
>>> m = make_family(tempfile.mkdtemp(), "cityvid", n_sources=3, size=(32, 64), n_frames=4, progress=False)
>>> sorted({v["split"] for v in m["videos"]}), len(videos(m, "train", "lq"))
(['test', 'train', 'val'], 2)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = [
    "FAMILIES",
    "QUALITIES",
    "GENERATORS",
    "SOURCES",
    "DEFAULT_SIZE",
    "N_FRAMES",
    "SPLIT",
    "ENCODE",
    "source_frames",
    "v2v_regenerate",
    "wc_regenerate",
    "generate",
    "make_family",
    "make_families",
    "videos",
    "split_sources",
    "cache_dir",
]

#: family -> pristine source law and generator (Table 3.1's structure)
FAMILIES = {
    "cityvid": {"source": "city", "generator": "vid2vid"},
    "citywcvid": {"source": "city", "generator": "wc_vid2vid"},
    "kittivid": {"source": "kitti", "generator": "vid2vid"},
}
#: quality -> x264 CRF (ch. 3: RAW, HQ = 23, LQ = 40; CRF 0 is lossless)
QUALITIES = {"raw": 0, "hq": 23, "lq": 40}
GENERATORS = ("vid2vid", "wc_vid2vid")
#: source law -> the photos it draws from (disjoint), its camera motions and its sensor-noise range
SOURCES = {
    "city": {
        "photos": ("astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "china", "flower", "cat"),
        "motions": ("pan", "mixed"),
        "noise": (0.5, 1.5),
    },
    "kitti": {
        "photos": (
            "camera_rgb",
            "clock",
            "coins",
            "brick_rgb",
            "grass_rgb",
            "gravel_rgb",
            "page_rgb",
            "retina",
        ),
        "motions": ("zoom",),
        "noise": (1.5, 3.0),
    },
}
#: (H, W) of the videos (the thesis' 512 x 1024 divided by 4; the ``tiny`` CNN sees them at half size)
DEFAULT_SIZE = (128, 256)
#: frames per video (DeepStreets: 3 s, 30 frames)
N_FRAMES = 30
#: train / val / test shares of the sources
SPLIT = (0.60, 0.25, 0.15)
#: encoder settings shared by every quality (the CRF comes from QUALITIES)
ENCODE = {"codec": "h264", "rate_control": "crf", "gop": 250, "bframes": 2, "preset": "medium", "threads": 1}
#: strength of the re-synthesis, drawn per fake video
STRENGTH_RANGE = (0.6, 1.0)


def cache_dir() -> Path:
    """Folder where benchmarks and the trainer keep generated families
    (``$TOOLKIT_CACHE/synthetic_video``, default ``~/.cache/toolkit/synthetic_video``).

    >>> cache_dir().name
    'synthetic_video'
    """
    base = os.environ.get("TOOLKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "toolkit")
    return Path(base) / "synthetic_video"


def _encoder() -> dict:
    from toolkit.synth.encode import is_x86_64

    return {**ENCODE, **({"simd": "avx2"} if is_x86_64() else {})}


def source_frames(source: str, seed: int, n_frames: int = N_FRAMES, size=DEFAULT_SIZE) -> tuple:
    """A pristine ``n_frames x H x W x 3`` uint8 sequence of source law ``source`` and its description.

    ``"city"``: a pan / shaky pan over one of the city photos, light sensor noise. ``"kitti"``: a forward
    zoom over one of the other photos, then another camera response (gamma 0.85, warm tint,
    vignetting) and heavier noise.

    >>> f, d = source_frames("kitti", 1, n_frames=2, size=(32, 64))
    >>> f.shape, d["source"]
    ((2, 32, 64, 3), 'kitti')
    """
    from toolkit.synth.sources import photo_sequence

    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    h, w = size
    if h % 2 or w % 2 or h < 16 or w < 16:
        raise ValueError(f"size must be even and at least 16x16, got {size}")
    law = SOURCES[source]
    rng = np.random.default_rng([int(seed), 31, list(SOURCES).index(source)])
    photo = law["photos"][int(rng.integers(len(law["photos"])))]
    motion = law["motions"][int(rng.integers(len(law["motions"])))]
    noise = float(rng.uniform(*law["noise"]))
    frames = photo_sequence(
        photo, n_frames=n_frames, size=size, motion=motion, noise=0.0, seed=int(rng.integers(2**31))
    ).astype(np.float32)
    if source == "kitti":
        frames = 255.0 * (frames / 255.0) ** 0.85
        frames *= np.array([1.06, 1.0, 0.9], np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((yy - h / 2) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2
        frames *= (1.0 - 0.25 * r2)[None, :, :, None]
    frames += rng.normal(0.0, noise, frames.shape).astype(np.float32)
    out = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    return out, {"source": source, "photo": photo, "motion": motion, "noise": round(noise, 3)}


def wc_regenerate(frames: np.ndarray, strength: float = 1.0, seed: int = 0) -> np.ndarray:
    """World-consistent re-synthesis (the ``wc_vid2vid`` generator): fine detail attenuated by
    ``0.5 * strength`` and replaced by a texture of RMS ``8 * strength`` grey levels that is 70 %
    persistent (one field for the whole video) and 30 % fresh per frame, both drawn at half
    resolution and upsampled by pixel repetition (a 2 x 2 block spectrum, like a transposed
    convolution's); a smooth warp of 0.4 px RMS and a 0.5 % gain flicker per frame.

    >>> f = np.full((2, 16, 16, 3), 100, np.uint8)
    >>> wc_regenerate(f, strength=0.0).tolist() == f.tolist()
    True
    """
    a = np.asarray(frames)
    if a.ndim != 4 or a.shape[3] != 3 or a.dtype != np.uint8:
        raise ValueError("frames must be a uint8 array T x H x W x 3")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("strength must be in [0, 1]")
    if strength == 0:
        return a.copy()
    T, H, W, _ = a.shape
    rng = np.random.default_rng([int(seed), 47])

    def blocky(rms):
        f = rng.standard_normal(((H + 1) // 2, (W + 1) // 2)).astype(np.float32)
        f -= f.mean()
        f = np.repeat(np.repeat(f, 2, axis=0), 2, axis=1)[:H, :W]
        return f * (rms / (float(f.std()) + 1e-9))

    rms = 8.0 * strength
    persistent = blocky(rms)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    out = np.empty_like(a)
    for k in range(T):
        f = a[k].astype(np.float32)
        dy, dx = _field(rng, (H, W), 8.0, 0.4 * strength), _field(rng, (H, W), 8.0, 0.4 * strength)
        g = np.stack(
            [
                ndimage.map_coordinates(f[..., c], [yy + dy, xx + dx], order=1, mode="reflect")
                for c in range(3)
            ],
            axis=-1,
        )
        low = ndimage.gaussian_filter(g, (1.2, 1.2, 0))
        tex = (0.7 * persistent + 0.3 * blocky(rms))[..., None]
        gain = 1.0 + rng.normal(0.0, 0.005 * strength)
        g = (low + (1.0 - 0.5 * strength) * (g - low)) * gain + tex
        out[k] = np.clip(np.rint(g), 0, 255).astype(np.uint8)
    return out


def _field(rng, shape, sigma: float, rms: float) -> np.ndarray:
    """A zero-mean Gaussian-smoothed random field of RMS ``rms`` (the mean is removed before scaling, so
    a field much smoother than the frame does not become a large constant offset)."""
    f = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    f -= f.mean()
    return f * (rms / (float(f.std()) + 1e-9))


def v2v_regenerate(frames: np.ndarray, strength: float = 1.0, seed: int = 0) -> np.ndarray:
    """Frame-wise re-synthesis (the ``vid2vid`` generator), the law of
    :func:`toolkit.fsvm.simulate.regenerate`: per frame, with fresh randomness, a smooth warp of RMS
    ``0.8 * strength`` px, fine detail attenuated by ``0.5 * strength`` and replaced by a fresh texture of
    RMS ``10 * strength`` grey levels, a gain flicker of ``1 % * strength`` and a slow brightness field of
    ``2 * strength`` grey levels. Its smooth fields are zero-mean at every frame size (``regenerate``'s
    slow field is not: on frames much smaller than its 30-px smoothing it turns into a constant offset
    that saturates whole frames).

    >>> f = np.full((3, 16, 16, 3), 120, np.uint8)
    >>> bool(np.abs(v2v_regenerate(f).astype(float).mean(axis=(1, 2, 3)) - 120).max() < 3)
    True
    """
    from toolkit.fsvm.simulate import TEXTURE_RMS, WARP_RMS

    a = np.asarray(frames)
    if a.ndim != 4 or a.shape[3] != 3 or a.dtype != np.uint8:
        raise ValueError("frames must be a uint8 array T x H x W x 3")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("strength must be in [0, 1]")
    if strength == 0:
        return a.copy()
    T, H, W, _ = a.shape
    rng = np.random.default_rng([int(seed), 23])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    out = np.empty_like(a)
    for k in range(T):
        f = a[k].astype(np.float32)
        dy, dx = _field(rng, (H, W), 8.0, WARP_RMS * strength), _field(rng, (H, W), 8.0, WARP_RMS * strength)
        g = np.stack(
            [
                ndimage.map_coordinates(f[..., c], [yy + dy, xx + dx], order=1, mode="reflect")
                for c in range(3)
            ],
            axis=-1,
        )
        low = ndimage.gaussian_filter(g, (1.2, 1.2, 0))
        tex = _field(rng, (H, W), 1.0, TEXTURE_RMS * strength)[..., None]
        bright = _field(rng, (H, W), 30.0, 2.0 * strength)[..., None]
        gain = 1.0 + rng.normal(0.0, 0.01 * strength)
        g = (low + (1.0 - 0.5 * strength) * (g - low)) * gain + tex + bright
        out[k] = np.clip(np.rint(g), 0, 255).astype(np.uint8)
    return out


def generate(frames: np.ndarray, generator: str, strength: float, seed: int) -> np.ndarray:
    """The fake version of pristine ``frames`` made by ``generator`` (:data:`GENERATORS`).

    >>> f = np.full((2, 16, 16, 3), 90, np.uint8)
    >>> generate(f, "vid2vid", 1.0, 0).shape
    (2, 16, 16, 3)
    """
    if generator == "vid2vid":
        return v2v_regenerate(frames, strength=strength, seed=seed)
    if generator == "wc_vid2vid":
        return wc_regenerate(frames, strength=strength, seed=seed)
    raise ValueError(f"unknown generator {generator!r}; choose from {', '.join(GENERATORS)}")


def split_sources(n_sources: int, seed: int = 0, shares=SPLIT) -> list[str]:
    """The split (``"train"`` / ``"val"`` / ``"test"``) of each of ``n_sources`` sources: a seeded
    shuffle cut at 60 / 25 / 15 % (rounded), each split non-empty when there are at least 3 sources.

    >>> s = split_sources(20); [s.count(k) for k in ("train", "val", "test")]
    [12, 5, 3]
    """
    n = int(n_sources)
    if n < 1:
        raise ValueError("n_sources must be >= 1")
    n_val = int(round(shares[1] * n))
    n_test = int(round(shares[2] * n))
    if n >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    n_train = max(n - n_val - n_test, 1)
    n_val = min(n_val, n - n_train)
    labels = ["train"] * n_train + ["val"] * n_val + ["test"] * (n - n_train - n_val)
    order = np.random.default_rng([int(seed), 61]).permutation(n)
    out = [""] * n
    for rank, i in enumerate(order):
        out[int(i)] = labels[rank]
    return out


def make_family(
    root: str | os.PathLike,
    family: str,
    n_sources: int = 20,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    n_frames: int = N_FRAMES,
    seed: int = 0,
    qualities=tuple(QUALITIES),
    progress: bool = True,
) -> dict:
    """Write the family ``family`` under ``root/family`` and return its manifest.

    ``n_sources`` pristine sources give one real and one fake video each, each in every quality of
    ``qualities``: ``root/family/<quality>/<real|fake>/<real|fake>_<i>.mp4``. A folder whose
    manifest records the same request is reused as it is. Seeded (the same files on every run).
    """
    from tqdm.auto import tqdm

    from toolkit.synth.encode import encode

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {', '.join(FAMILIES)}")
    bad = [q for q in qualities if q not in QUALITIES]
    if bad:
        raise ValueError(f"unknown qualities {bad}; choose from {', '.join(QUALITIES)}")
    fam = FAMILIES[family]
    folder = Path(root) / family
    request = {
        "family": family,
        "n_sources": int(n_sources),
        "size": [int(v) for v in size],
        "n_frames": int(n_frames),
        "seed": int(seed),
        "qualities": list(qualities),
    }
    mfile = folder / "manifest.json"
    if mfile.is_file():
        old = json.loads(mfile.read_text())
        if old.get("request") == request and all(
            (folder / f).is_file() for v in old["videos"] for f in v["files"].values()
        ):
            return old
    enc = _encoder()
    splits = split_sources(n_sources, seed)
    fam_index = list(FAMILIES).index(family)
    entries = []
    for i in tqdm(range(int(n_sources)), desc=f"family {family}", unit="source", disable=not progress):
        src_seed = int(np.random.SeedSequence([int(seed), fam_index, i]).generate_state(1)[0])
        frames, desc = source_frames(fam["source"], src_seed, int(n_frames), tuple(size))
        rng = np.random.default_rng([src_seed, 7])
        strength = float(rng.uniform(*STRENGTH_RANGE))
        fake = generate(frames, fam["generator"], strength, int(rng.integers(2**31)))
        source_id = f"{family}_{i:03d}"
        for label, data in (("real", frames), ("fake", fake)):
            files = {}
            for q in qualities:
                rel = f"{q}/{label}/{label}_{i:03d}.mp4"
                encode(list(data), folder / rel, {**enc, "quality": QUALITIES[q]})
                files[q] = rel
            entry = {
                "name": f"{label}_{i:03d}",
                "label": int(label == "fake"),
                "source_id": source_id,
                "split": splits[i],
                "files": files,
                **desc,
            }
            if label == "fake":
                entry.update(generator=fam["generator"], strength=round(strength, 4))
            entries.append(entry)
    manifest = {
        "request": request,
        **request,
        "source": fam["source"],
        "generator": fam["generator"],
        "encode": {q: {**enc, "quality": QUALITIES[q]} for q in qualities},
        "split_shares": list(SPLIT),
        "note": "simulation of a DeepStreets-like subset (toolkit.synth.synthetic_video); no GAN was run",
        "root": str(folder),
        "videos": entries,
    }
    folder.mkdir(parents=True, exist_ok=True)
    mfile.write_text(json.dumps(manifest, indent=1))
    return manifest


def make_families(root: str | os.PathLike, families=tuple(FAMILIES), **kw) -> dict:
    """:func:`make_family` for each of ``families``: ``{family: manifest}``."""
    return {f: make_family(root, f, **kw) for f in families}


def videos(manifest: dict, split: str | None = None, quality: str = "raw") -> list[tuple[str, int]]:
    """``(path, label)`` pairs of a family's videos (one split, or all with ``split=None``) at one quality.

    Label 1 = fake, 0 = real; the list alternates as the manifest does (real, fake per source).
    """
    if split not in (None, "train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val', 'test' or None, got {split!r}")
    root = Path(manifest["root"])
    out = []
    for v in manifest["videos"]:
        if split is None or v["split"] == split:
            if quality not in v["files"]:
                raise ValueError(
                    f"quality {quality!r} was not generated; the family has {sorted(v['files'])}"
                )
            out.append((str(root / v["files"][quality]), int(v["label"])))
    return out
