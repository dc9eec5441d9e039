"""Simulated real / synthetic videos for F-SVM demos, tests and benchmarks.

This is a *simulation* of the seed's DeepStreets setting (GAN-made street
videos versus real ones), not DeepStreets itself: no GAN is run and no data
set is downloaded.

* **real** — a pristine source with camera-like motion: a virtual camera
  (pan / zoom / shake / static, sensor noise) over a natural photo
  (:func:`toolkit.synth.sources.photo_sequence`) or a downscaled crop of one
  of the real CC-BY clips (:func:`toolkit.synth.sources.real_clip_sequence`),
  encoded normally (H.264 CRF 23, B-frames).
* **fake** — the same kind of source, but every frame is *re-synthesised
  independently*, the way a frame-wise generator redraws a scene: fine
  texture is regenerated (fresh spatially-correlated texture per frame), the
  geometry jitters by a fresh smooth sub-pixel warp, and brightness flickers.
  Content and camera motion stay; temporal coherence goes, so inter
  prediction breaks down as in GAN output. ``strength`` in ``[0, 1]`` scales
  all three (drawn per video, so some fakes are subtle). Encoded like the reals.
* **partial** fakes (``kind="partial"``) — only a box (a stand-in for a
  swapped face) is re-synthesised; the box, and a box of the same law for the
  real videos, are written to ``<video>.json`` as the region of interest
  (:func:`roi_of` reads it), for the seed's ROI remedy.

Everything is seeded and encoded through :func:`toolkit.synth.encode`.

>>> import tempfile
>>> from toolkit.fsvm.simulate import make_dataset
>>> manifest = make_dataset(tempfile.mkdtemp(), n_per_class=1, n_frames=12, size=(64, 96),
...                         real_clips=False, progress=False)
>>> sorted(manifest["videos"])
['fake/fake_000.mp4', 'real/real_000.mp4']
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = ["source_frames", "regenerate", "make_video", "make_dataset", "roi_of", "ENCODE", "STRENGTH_RANGE"]

#: how every simulated video (real or fake) is encoded: "normally"
ENCODE = {"codec": "h264", "rate_control": "crf", "quality": 23, "gop": 250, "bframes": 2, "preset": "medium"}
#: per-video strength of the fake re-synthesis, drawn uniformly in this range
STRENGTH_RANGE = (0.6, 1.0)
#: RMS (grey levels) of the fresh per-frame texture and RMS (pixels) of the per-frame warp at
#: strength 1. TEXTURE_RMS was calibrated once (4, 6, 8, 10 tried) so that the fakes' mean intra
#: share after the CRF 0 re-encode matches the seed's DeepStreets raw fakes (74.7 %, Fig. 5.1):
#: 75.4 % on 24 fakes of make_dataset(seed=0) at 144x176; with 4 it was 55 %.
TEXTURE_RMS = 10.0
WARP_RMS = 0.8
_MOTIONS = ("pan", "zoom", "mixed", "static")


def source_frames(
    seed: int, n_frames: int = 40, size: tuple[int, int] = (144, 176), real_clips: bool = True
) -> tuple[np.ndarray, dict]:
    """A pristine ``n_frames x H x W x 3`` uint8 sequence and its description, chosen by ``seed``.

    60 % virtual-camera photo sequences, 40 % crops of the downscaled real
    clips (when ``real_clips`` and the clips are present).
    """
    from toolkit.synth.sources import PHOTOS, photo_sequence
    from toolkit.synth.sources import real_clips as list_clips

    h, w = size
    if h % 2 or w % 2 or h < 32 or w < 32:
        raise ValueError(f"size must be even and at least 32x32, got {size}")
    rng = np.random.default_rng([int(seed), 11])
    clips = list_clips() if real_clips else []
    if clips and rng.random() < 0.4:
        clip = clips[int(rng.integers(len(clips)))]
        out = _clip_crop(clip, n_frames, size, rng)
        if out is not None:
            return out
    name = PHOTOS[int(rng.integers(len(PHOTOS)))]
    motion = _MOTIONS[int(rng.choice(4, p=[0.3, 0.3, 0.3, 0.1]))]
    noise = float(rng.uniform(0.5, 2.5))
    frames = photo_sequence(
        name, n_frames=n_frames, size=size, motion=motion, noise=noise, seed=int(rng.integers(2**31))
    )
    return frames, {"source": "photo", "photo": name, "motion": motion, "noise": round(noise, 3)}


@lru_cache(maxsize=32)
def _clip_facts(clip: str) -> tuple[int, int, int]:
    from toolkit.video import probe

    info = probe(clip)
    return info.n_frames, info.height, info.width


def _clip_crop(clip: Path, n_frames: int, size, rng):
    from toolkit.synth.sources import downscale

    h, w = size
    n_avail, H, W = _clip_facts(str(clip))
    factor = max(2, int(min(H / h, W / w)))
    if n_avail < n_frames or H // factor < h or W // factor < w:
        return None
    start = int(rng.integers(0, n_avail - n_frames + 1))
    from toolkit.video import iter_frames

    frames = [downscale(f, factor) for f in iter_frames(clip, "rgb24", start=start, count=n_frames)]
    if len(frames) < n_frames:
        return None
    fh, fw = frames[0].shape[:2]
    top, left = int(rng.integers(0, fh - h + 1)), int(rng.integers(0, fw - w + 1))
    arr = np.stack([f[top : top + h, left : left + w] for f in frames])
    return arr, {
        "source": "real_clip",
        "clip": clip.name,
        "start": start,
        "factor": factor,
        "crop": [top, left],
    }


def _smooth_field(rng, shape, sigma: float, rms: float) -> np.ndarray:
    f = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    return f * (rms / (float(f.std()) + 1e-9))


def regenerate(
    frames: np.ndarray,
    strength: float = 1.0,
    seed: int = 0,
    region: np.ndarray | None = None,
    *,
    texture: float | None = None,
    warp: float | None = None,
) -> np.ndarray:
    """Re-synthesise every frame independently (frame-wise generator simulation).

    Per frame, with fresh randomness: a smooth warp of RMS ``warp * strength``
    pixels, fine detail attenuated by ``0.5 * strength`` and replaced by a
    fresh texture of RMS ``texture * strength`` grey levels, a global gain
    flicker of ``1 % * strength`` and a slow brightness field of
    ``2 * strength`` grey levels (defaults: :data:`TEXTURE_RMS`,
    :data:`WARP_RMS`). ``region`` (H x W, values in [0, 1]) limits the change
    to a region (1 = fully re-synthesised).

    >>> import numpy as np
    >>> f = np.full((3, 32, 32, 3), 128, np.uint8)
    >>> regenerate(f, strength=0.0).tolist() == f.tolist()
    True
    """
    a = np.asarray(frames)
    if a.ndim != 4 or a.shape[3] != 3 or a.dtype != np.uint8:
        raise ValueError("frames must be a uint8 array T x H x W x 3")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("strength must be in [0, 1]")
    texture = TEXTURE_RMS if texture is None else float(texture)
    warp = WARP_RMS if warp is None else float(warp)
    T, H, W, _ = a.shape
    rng = np.random.default_rng([int(seed), 23])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    out = np.empty_like(a)
    wgt = None if region is None else np.clip(np.asarray(region, np.float32), 0, 1)[..., None]
    for k in range(T):
        f = a[k].astype(np.float32)
        if strength == 0:
            out[k] = a[k]
            continue
        dy = _smooth_field(rng, (H, W), 8.0, warp * strength)
        dx = _smooth_field(rng, (H, W), 8.0, warp * strength)
        g = np.stack(
            [
                ndimage.map_coordinates(f[..., c], [yy + dy, xx + dx], order=1, mode="reflect")
                for c in range(3)
            ],
            axis=-1,
        )
        low = ndimage.gaussian_filter(g, (1.2, 1.2, 0))
        tex = _smooth_field(rng, (H, W), 1.0, texture * strength)[..., None]
        bright = _smooth_field(rng, (H, W), 30.0, 2.0 * strength)[..., None]
        gain = 1.0 + rng.normal(0.0, 0.01 * strength)
        g = (low + (1.0 - 0.5 * strength) * (g - low)) * gain + tex + bright
        if wgt is not None:
            g = wgt * g + (1.0 - wgt) * f
        out[k] = np.clip(np.rint(g), 0, 255).astype(np.uint8)
    return out


def _box(rng, size) -> list[int]:
    """A face-sized box (top, left, height, width), 16-pixel aligned so MBs fall inside."""
    h, w = size
    bh = int(rng.uniform(0.4, 0.55) * h) // 16 * 16
    bw = int(rng.uniform(0.3, 0.45) * w) // 16 * 16
    bh, bw = max(bh, 16), max(bw, 16)
    top = int(rng.integers(0, (h - bh) // 16 + 1)) * 16
    left = int(rng.integers(0, (w - bw) // 16 + 1)) * 16
    return [top, left, bh, bw]


def make_video(
    out: str | os.PathLike,
    label: str,
    seed: int,
    *,
    n_frames: int = 40,
    size: tuple[int, int] = (144, 176),
    kind: str = "full",
    strength: float | None = None,
    strength_range: tuple[float, float] = STRENGTH_RANGE,
    real_clips: bool = True,
    encoder: dict | None = None,
) -> dict:
    """Write one simulated ``label`` ('real' or 'fake') video to ``out``; return its truth.

    ``kind``: ``"full"`` (whole frame re-synthesised in fakes) or
    ``"partial"`` (only a box; both classes get a box as their ROI).
    ``encoder``: settings added to :data:`ENCODE`, e.g. ``{"simd": "avx2", "threads": 1}``
    for byte-identical videos on every run and x86-64 machine (x264's AVX-512 code varies
    from run to run; see :func:`toolkit.synth.encode`).
    The truth (label, source, strength, roi, encode settings) is also written
    to ``out + '.json'``.
    """
    from toolkit.synth import encode

    if label not in ("real", "fake"):
        raise ValueError("label must be 'real' or 'fake'")
    if kind not in ("full", "partial"):
        raise ValueError("kind must be 'full' or 'partial'")
    rng = np.random.default_rng([int(seed), 5])
    frames, desc = source_frames(int(rng.integers(2**31)), n_frames, size, real_clips)
    settings = {**ENCODE, **(encoder or {})}
    truth = {"label": label, "kind": kind, "seed": int(seed), **desc, "encode": settings}
    if kind == "partial":
        truth["roi"] = _box(rng, size)
    if label == "fake":
        s = float(rng.uniform(*strength_range)) if strength is None else float(strength)
        region = None
        if kind == "partial":
            top, left, bh, bw = truth["roi"]
            m = np.zeros(size, np.float32)
            m[top : top + bh, left : left + bw] = 1.0
            region = ndimage.gaussian_filter(m, 2.0)  # feathered edge, like a blended face
        frames = regenerate(frames, strength=s, seed=int(rng.integers(2**31)), region=region)
        truth["strength"] = round(s, 4)
    out = Path(out)
    encode(frames, out, **settings)
    Path(str(out) + ".json").write_text(json.dumps(truth, indent=2))
    return truth


def make_dataset(
    root: str | os.PathLike,
    n_per_class: int = 20,
    *,
    n_frames: int = 40,
    size: tuple[int, int] = (144, 176),
    kind: str = "full",
    seed: int = 0,
    strength_range: tuple[float, float] = STRENGTH_RANGE,
    real_clips: bool = True,
    progress: bool = True,
    encoder: dict | None = None,
) -> dict:
    """Write ``root/real/real_XXX.mp4`` and ``root/fake/fake_XXX.mp4`` (``n_per_class`` each).

    Returns (and writes to ``root/manifest.json``) every video's truth.
    Deterministic for a given ``seed`` (byte for byte with ``encoder={"simd": "avx2", "threads": 1}``,
    see :func:`make_video`); :func:`toolkit.fsvm.load_folder` reads the result.
    """
    from tqdm.auto import tqdm

    if n_per_class < 1:
        raise ValueError("n_per_class must be >= 1")
    root = Path(root)
    jobs = [(lab, i) for i in range(n_per_class) for lab in ("real", "fake")]
    manifest = {
        "kind": kind,
        "seed": seed,
        "n_frames": n_frames,
        "size": list(size),
        "strength_range": list(strength_range),
        "note": "simulation of a DeepStreets-like real/synthetic set (toolkit.fsvm.simulate)",
        "videos": {},
    }
    for lab, i in tqdm(jobs, desc=f"simulating {kind}", unit="video", disable=not progress):
        out = root / lab / f"{lab}_{i:03d}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        vid_seed = int(np.random.SeedSequence([int(seed), i, lab == "fake"]).generate_state(1)[0])
        manifest["videos"][f"{lab}/{out.name}"] = make_video(
            out,
            lab,
            vid_seed,
            n_frames=n_frames,
            size=size,
            kind=kind,
            strength_range=strength_range,
            real_clips=real_clips,
            encoder=encoder,
        )
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def roi_of(path: str | os.PathLike):
    """The ROI box ``(top, left, height, width)`` stored beside a simulated video (None if absent)."""
    side = Path(str(path) + ".json")
    if not side.is_file():
        return None
    roi = json.loads(side.read_text()).get("roi")
    return tuple(roi) if roi is not None else None
