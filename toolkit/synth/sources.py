"""Pristine sources: photos with synthetic camera motion, and downscaled real clips.

* :func:`photo_sequence` — a frame sequence cut from one of the natural
  photos shipped by scikit-image / scikit-learn, with a seeded camera path
  (pan, zoom, slight shake) and sensor-like noise. These frames were never
  video-coded (the photos themselves are PNG/JPEG stills: the sklearn ones
  carry JPEG traces at 8x8 scale, which the motion's sub-pixel resampling
  blurs but does not remove entirely).
* :func:`real_clip_sequence` — frames of a real H.264 clip from
  ``../shared/real_video`` downscaled by an integer factor (>= 2) with area
  averaging: the clips were already compressed once by their camera, and
  averaging 2x2+ blocks breaks the 16x16 / 8x8 coding grid so the result can
  serve as an (approximately) pristine source. Say so wherever it is used.

>>> from toolkit.synth.sources import photo_sequence
>>> frames = photo_sequence("astronaut", n_frames=4, size=(64, 96), seed=0)
>>> frames.shape, frames.dtype
((4, 64, 96, 3), dtype('uint8'))
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = [
    "PHOTOS",
    "photo",
    "photo_sequence",
    "real_video_dir",
    "real_clips",
    "real_clip_sequence",
    "downscale",
    "hd_clip",
    "cached_hd_clip",
]

#: name -> loader of an RGB uint8 photo (scikit-image data and scikit-learn sample images)
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "motorcycle_left",
    "china",
    "flower",
    "camera_rgb",
    "page_rgb",
    "grass_rgb",
    "gravel_rgb",
    "brick_rgb",
    "cat",
    "coins",
    "clock",
    "moon",
    "cell",
)


@lru_cache(maxsize=16)
def photo(name: str) -> np.ndarray:
    """An RGB ``uint8`` natural photo (H x W x 3) shipped by scikit-image or scikit-learn.

    >>> photo("coffee").shape
    (400, 600, 3)
    """
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return np.ascontiguousarray(load_sample_image(f"{name}.jpg"))
    from skimage import data

    if name.endswith("_rgb"):
        grey = getattr(data, name[:-4])()
        return np.repeat(grey[..., None], 3, axis=2)
    if name == "motorcycle_left":
        img = data.stereo_motorcycle()[0]
    elif name in PHOTOS:
        img = getattr(data, name)()
    else:
        raise ValueError(f"unknown photo {name!r}; choose from {', '.join(PHOTOS)}")
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3].astype(np.uint8))


def photo_sequence(
    name: str,
    n_frames: int = 60,
    size: tuple[int, int] = (288, 352),
    motion: str = "mixed",
    noise: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """``n_frames`` x H x W x 3 uint8 frames of a virtual camera moving over a photo.

    ``motion``: ``"pan"`` (smooth sub-pixel translation), ``"zoom"`` (slow
    scale change), ``"mixed"`` (both plus shake) or ``"static"``. ``noise`` is
    the standard deviation (grey levels) of fresh Gaussian noise per frame.
    Deterministic for a given ``seed``. ``size`` is (H, W) in pixels.

    >>> photo_sequence("coffee", n_frames=3, size=(32, 48), motion="pan", seed=1).shape
    (3, 32, 48, 3)
    """
    h, w = size
    img = photo(name).astype(np.float32)
    ih, iw = img.shape[:2]
    # fit the window: upscale the photo when it is smaller than 1.25x the frame
    fit = max(1.25 * h / ih, 1.25 * w / iw, 1.0)
    if fit > 1.0:
        img = ndimage.zoom(img, (fit, fit, 1), order=1)
        ih, iw = img.shape[:2]
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames, dtype=np.float64)
    margin_y, margin_x = (ih - h) / 2.0, (iw - w) / 2.0
    cy, cx = ih / 2.0, iw / 2.0
    vy, vx = rng.uniform(-0.6, 0.6, 2) * np.array([margin_y, margin_x]) / max(n_frames, 1)
    scale = np.ones_like(t)
    shake = np.zeros((n_frames, 2))
    if motion in ("zoom", "mixed"):
        rate = rng.uniform(-0.15, 0.15) / max(n_frames, 1)
        scale = 1.0 + rate * t
    if motion == "mixed":
        shake = rng.normal(0, 0.35, (n_frames, 2))
    if motion == "static":
        vy = vx = 0.0
    if motion not in ("pan", "zoom", "mixed", "static"):
        raise ValueError("motion must be 'pan', 'zoom', 'mixed' or 'static'")
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy -= h / 2.0
    xx -= w / 2.0
    out = np.empty((n_frames, h, w, 3), np.uint8)
    for k in range(n_frames):
        oy = cy + vy * (k - n_frames / 2) + shake[k, 0]
        ox = cx + vx * (k - n_frames / 2) + shake[k, 1]
        coords = [yy / scale[k] + oy, xx / scale[k] + ox]
        frame = np.stack(
            [ndimage.map_coordinates(img[..., c], coords, order=1, mode="reflect") for c in range(3)], axis=-1
        )
        if noise > 0:
            frame += rng.normal(0.0, noise, frame.shape).astype(np.float32)
        out[k] = np.clip(np.rint(frame), 0, 255)
    return out


def real_video_dir() -> Path:
    """Folder of the real clips: ``$TOOLKIT_REAL_VIDEO`` or ``../shared/real_video`` beside the repo.

    >>> isinstance(real_video_dir(), Path)
    True
    """
    env = os.environ.get("TOOLKIT_REAL_VIDEO")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "real_video"


def real_clips() -> list[Path]:
    """Paths of the real clips that are present (empty list when the folder is absent).

    >>> all(p.suffix in (".mp4", ".mkv", ".mov", ".avi") for p in real_clips())
    True
    """
    d = real_video_dir()
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.suffix.lower() in (".mp4", ".mkv", ".mov", ".avi"))


def downscale(frame: np.ndarray, factor: int) -> np.ndarray:
    """Area-average downscaling by an integer ``factor`` (crops to a multiple of 2*factor).

    >>> downscale(np.zeros((10, 14, 3), np.uint8), 2).shape
    (4, 6, 3)
    """
    if factor < 1:
        raise ValueError("factor must be >= 1")
    h, w = frame.shape[:2]
    h2, w2 = (h // factor) // 2 * 2, (w // factor) // 2 * 2
    a = frame[: h2 * factor, : w2 * factor].astype(np.float32)
    a = a.reshape(h2, factor, w2, factor, *frame.shape[2:]).mean(axis=(1, 3))
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def real_clip_sequence(
    path: str | os.PathLike, n_frames: int | None = None, factor: int = 2, start: int = 0
) -> np.ndarray:
    """RGB frames of a real clip, downscaled by ``factor`` (>= 2) to serve as a pristine source.

    Frames ``start .. start + n_frames - 1`` (all when ``n_frames`` is None) are decoded one at
    a time through :class:`toolkit.video.FrameSource` and downscaled with :func:`downscale`;
    returns T x H/factor x W/factor x 3 uint8 (sides rounded down to even numbers).

    >>> real_clip_sequence("sample_data/real/eat.mkv", n_frames=3, factor=4).shape
    (3, 120, 160, 3)
    """
    from toolkit.video import FrameSource

    if factor < 2:
        raise ValueError("real clips were compressed once already: downscale them by 2 or more")
    frames = [downscale(f, factor) for _, f in FrameSource(path, start, n_frames, fmt="rgb")]
    if not frames:
        raise ValueError(f"{path}: no frames decoded")
    return np.stack(frames)


def hd_clip(
    out: str | os.PathLike,
    seconds: float = 60.0,
    fps: float = 25.0,
    size: tuple[int, int] = (1080, 1920),
    seed: int = 0,
    source: str | os.PathLike | None = None,
    crf: float = 23,
    gop: int = 50,
    preset: str = "veryfast",
) -> Path:
    """Write a long HD H.264 test clip made from an upscaled real clip (for speed benchmarks).

    The real clip (default ``bottle-detection.mp4``, 640x360, ~30 fps) is played
    forwards then backwards (ping-pong, so the motion stays natural) until
    ``seconds * fps`` frames, each upscaled bicubically to ``size`` = (H, W),
    and encoded with libx264 CRF ``crf``, fixed GOP ``gop``. Frames are
    streamed, never all held in memory. ``seed`` picks the starting frame.

    >>> clip = hd_clip("/tmp/hd.mp4", seconds=2.0)  # doctest: +SKIP
    """
    from PIL import Image

    from toolkit.synth.encode import encode
    from toolkit.video import read_frames

    if source is None:
        candidates = [p for p in real_clips() if p.name == "bottle-detection.mp4"] or real_clips()
        if not candidates:
            raise FileNotFoundError(f"no real clip found in {real_video_dir()} (set TOOLKIT_REAL_VIDEO)")
        source = candidates[0]
    base = read_frames(source, fmt="rgb")
    if len(base) < 2:
        raise ValueError(f"{source}: too few frames for a test clip")
    order = list(range(len(base))) + list(range(len(base) - 2, 0, -1))
    start = int(np.random.default_rng(seed).integers(len(order)))
    n = int(round(seconds * fps))
    h, w = size

    def frames():
        for k in range(n):
            src = base[order[(start + k) % len(order)]]
            yield np.asarray(Image.fromarray(src).resize((w, h), Image.BICUBIC))

    return encode(
        frames(), out, codec="h264", rate_control="crf", quality=crf, gop=gop, fps=fps, preset=preset
    )


def cached_hd_clip(seconds: float = 60.0, folder: str | os.PathLike | None = None) -> Path:
    """The default :func:`hd_clip` of ``seconds`` seconds, made once into ``folder`` ($TMPDIR or /tmp).

    Speed benchmarks share it (it is never committed).

    >>> clip = cached_hd_clip(60.0)  # doctest: +SKIP
    """
    folder = Path(folder or os.environ.get("TMPDIR", "/tmp"))
    clip = folder / f"toolkit_hd_{int(seconds)}s.mp4"
    if not clip.exists():
        print(f"making {clip} ...", flush=True)
        hd_clip(clip, seconds=seconds)
    return clip
