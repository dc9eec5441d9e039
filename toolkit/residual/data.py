"""Pristine and manipulated 128 x 128 patches with source-disjoint train / test splits.

Sources (all shipped with the installed libraries or the project):

* the natural photos of scikit-image / scikit-learn (:data:`toolkit.synth.sources.PHOTOS`);
  ``china`` and ``flower`` are JPEG files and ``coffee``/``chelsea``/... were
  compressed once too, so "pristine" means "not manipulated by us";
* frames of the real H.264 clips in ``../shared/real_video`` (CC-BY), downscaled
  by 2 with area averaging (:func:`toolkit.synth.sources.real_clip_sequence`), which
  weakens but does not erase their prior H.264 compression.

Every source belongs to exactly one split (:data:`SPLITS`), so test patches
come from photos / clips never seen in training, like the seed's
camera-disjoint split. A manipulated patch is cut from the manipulated
*whole* source image at the same place as its pristine twin (at the scaled
place for resizing), manipulations made by :mod:`toolkit.synth.manipulate`.

>>> from toolkit.residual.data import SPLITS
>>> sorted(SPLITS)
['test', 'train']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = [
    "SPLITS",
    "source_images",
    "Patches",
    "pristine_patches",
    "manipulated_pairs",
    "local_forgery",
    "copy_move",
    "SAMPLE_BOX",
    "write_sample_images",
]

#: source-disjoint split: photo names and real-clip file names
SPLITS = {
    "train": {
        "photos": [
            "astronaut",
            "chelsea",
            "immunohistochemistry",
            "retina",
            "motorcycle_left",
            "flower",
            "camera_rgb",
            "grass_rgb",
            "page_rgb",
            "hubble_deep_field",
        ],
        "clips": [
            "book.mkv",
            "bottle-detection.mp4",
            "car-detection.mp4",
            "hungry.mkv",
            "milk.mkv",
            "sister.mkv",
            "thanks.mkv",
            "one-by-one-person-detection.mp4",
        ],
    },
    "test": {
        "photos": ["coffee", "rocket", "china", "gravel_rgb", "brick_rgb"],
        "clips": ["eat.mkv", "walk.mkv", "night.mkv"],
    },
}


def source_images(split: str, clip_frames: int = 6, clip_step: int = 8, use_clips: bool = True):
    """``[(name, RGB uint8 image)]`` of a split: its photos, then ``clip_frames`` frames
    (every ``clip_step``-th) of each of its real clips, downscaled by 2. Missing clips are skipped.
    Cached per arguments (the arrays are read-only)."""
    return list(_source_images(split, clip_frames, clip_step, use_clips))


@lru_cache(maxsize=8)
def _source_images(split: str, clip_frames: int, clip_step: int, use_clips: bool):
    from toolkit.synth.sources import photo, real_clip_sequence, real_clips

    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    out = [(name, photo(name)) for name in SPLITS[split]["photos"]]
    if use_clips and clip_frames > 0:
        clips = {p.name: p for p in real_clips()}
        for name in SPLITS[split]["clips"]:
            if name not in clips:
                continue
            seq = real_clip_sequence(clips[name], n_frames=clip_frames * clip_step, factor=2)
            out += [(f"{name}#{k}", seq[k]) for k in range(0, len(seq), clip_step)][:clip_frames]
    for _, a in out:
        a.flags.writeable = False
    return tuple(out)


@dataclass(frozen=True)
class Patches:
    """A labelled set of grey (green-band) patches.

    ``x``: B x S x S uint8; ``y``: B labels (0 pristine, 1 manipulated);
    ``source``: B source names; ``pos``: B x 2 (top, left) in the pristine image.
    """

    x: np.ndarray
    y: np.ndarray
    source: list
    pos: np.ndarray
    params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def sha256(self) -> str:
        """SHA-256 of the patches (bytes + shape + dtype, :func:`toolkit._util.array_sha256`)."""
        from toolkit._util import array_sha256

        return array_sha256(self.x)

    def table(self):
        import pandas as pd

        return pd.DataFrame(
            {"source": self.source, "top": self.pos[:, 0], "left": self.pos[:, 1], "label": self.y}
        )


def _grid(img: np.ndarray, size: int, stride: int, min_std: float):
    h, w = img.shape[:2]
    g = img[..., 1].astype(np.float32)
    pos = [(t, lf) for t in range(0, h - size + 1, stride) for lf in range(0, w - size + 1, stride)]
    # drop flat / saturated patches (e.g. the black border of "retina"): they are identical after
    # most manipulations and would only add label noise
    return [(t, lf) for t, lf in pos if g[t : t + size, lf : lf + size].std() >= min_std]


def pristine_patches(
    split: str,
    n: int | None = None,
    size: int = 128,
    stride: int = 64,
    min_std: float = 3.0,
    seed: int = 0,
    max_per_source: int = 50,
    **source_kw,
) -> list[tuple[str, int, int]]:
    """Patch locations ``(source name, top, left)`` of a split, ``n`` drawn at random (seeded).

    At most ``max_per_source`` per photo / clip (so that large photos do not dominate),
    chosen at random; patches with a green-band std below ``min_std`` are dropped.
    """
    locs = []
    rng = np.random.default_rng(seed)
    for name, img in source_images(split, **source_kw):
        grid = _grid(img, size, stride, min_std)
        cap = max_per_source if "#" not in name else max(1, max_per_source // source_kw.get("clip_frames", 6))
        if len(grid) > cap:
            grid = [grid[i] for i in sorted(rng.choice(len(grid), cap, replace=False))]
        locs += [(name, t, lf) for t, lf in grid]
    if n is not None and n < len(locs):
        locs = [locs[i] for i in sorted(rng.choice(len(locs), n, replace=False))]
    return locs


def manipulated_pairs(
    split: str,
    manipulation: str,
    n: int | None = None,
    size: int = 128,
    stride: int = 64,
    seed: int = 0,
    progress: bool = False,
    max_per_source: int = 50,
    margin: int = 16,
    **source_kw,
) -> Patches:
    """``n`` pristine patches of ``split`` and their manipulated twins (2n patches, labels 0 then 1).

    ``manipulation`` is a key of :data:`toolkit.synth.manipulate.MANIPULATIONS`
    (AWGN seeded per patch from ``seed``). Each twin is cut from the manipulated
    (patch + ``margin`` pixels on each side) region, which is cheaper than
    manipulating the whole source and, with a margin of 16 (a multiple of the
    8 x 8 JPEG grid, wider than every filter's reach), gives the same pixels
    except for JPEG's block-grid phase and the 7 x 7 median at image borders.
    """
    from tqdm.auto import tqdm

    from toolkit.synth.manipulate import MANIPULATIONS, apply

    if manipulation not in MANIPULATIONS:
        raise ValueError(f"unknown manipulation {manipulation!r}; choose from {', '.join(MANIPULATIONS)}")
    locs = pristine_patches(split, n, size, stride, seed=seed, max_per_source=max_per_source, **source_kw)
    by_src: dict[str, list] = {}
    for name, t, lf in locs:
        by_src.setdefault(name, []).append((t, lf))
    images = dict(source_images(split, **source_kw))
    prist, manip, srcs, pos = [], [], [], []
    k = 0
    for name, tl in tqdm(by_src.items(), disable=not progress, desc=manipulation):
        img = images[name]
        for t, lf in tl:
            r0, c0 = max(0, t - margin), max(0, lf - margin)
            region = np.ascontiguousarray(img[r0 : t + size + margin, c0 : lf + size + margin])
            m = apply(region, manipulation, seed=seed * 100000 + k)
            k += 1
            sy, sx = m.shape[0] / region.shape[0], m.shape[1] / region.shape[1]
            t2 = min(int(round((t - r0) * sy)), m.shape[0] - size)
            l2 = min(int(round((lf - c0) * sx)), m.shape[1] - size)
            prist.append(img[t : t + size, lf : lf + size, 1])
            manip.append(m[t2 : t2 + size, l2 : l2 + size, 1])
            srcs.append(name)
            pos.append((t, lf))
    x = np.stack(prist + manip)
    y = np.r_[np.zeros(len(prist), int), np.ones(len(manip), int)]
    return Patches(
        x=x,
        y=y,
        source=srcs + srcs,
        pos=np.array(pos + pos).reshape(-1, 2),
        params={
            "split": split,
            "manipulation": manipulation,
            "n": n,
            "size": size,
            "stride": stride,
            "seed": seed,
            "max_per_source": max_per_source,
            "margin": margin,
            **source_kw,
        },
    )


def local_forgery(
    image: np.ndarray, manipulation: str, box: tuple[int, int, int, int] | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A locally manipulated copy of ``image`` and its boolean mask.

    The manipulation (resizing excluded: it changes the size) is applied to the
    whole image and pasted back inside ``box`` = (top, left, height, width),
    default the central third; returns ``(forged uint8 image, mask H x W bool)``.
    """
    from toolkit.synth.manipulate import apply

    if manipulation.startswith("resize"):
        raise ValueError("local forgery with resizing is not supported (the size changes); pick another")
    img = np.asarray(image)
    h, w = img.shape[:2]
    top, left, bh, bw = box if box is not None else (h // 3, w // 3, h // 3, w // 3)
    m = apply(img, manipulation, seed=seed)
    out = img.copy()
    out[top : top + bh, left : left + bw] = m[top : top + bh, left : left + bw]
    mask = np.zeros((h, w), bool)
    mask[top : top + bh, left : left + bw] = True
    return out, mask


def copy_move(
    image: np.ndarray,
    scale: float = 1.125,
    box: tuple[int, int, int, int] | None = None,
    dest: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A resized copy-move forgery (the seed's Fig. 6): a region of ``image``, resized by ``scale``
    (bicubic, :func:`toolkit.synth.manipulate.resize`), pasted elsewhere in the same image.

    Parameters
    ----------
    image : H x W (x 3) uint8 array (not modified).
    scale : resize factor of the copied region (seed: 1.125), in (0.25, 4].
    box : source region (top, left, height, width), pixels; default a quarter-size box in the
        top-left quadrant.
    dest : (top, left) of the pasted, resized region; default the bottom-right quadrant.

    Returns
    -------
    (forged uint8 image of the same shape, H x W bool mask of the pasted region)

    >>> img = np.random.default_rng(0).integers(0, 256, (128, 160), dtype=np.uint8)
    >>> forged, mask = copy_move(img, 1.125, box=(8, 8, 32, 32), dest=(80, 100))
    >>> forged.shape, int(mask.sum()), bool((forged[~mask] == img[~mask]).all())
    ((128, 160), 1296, True)
    """
    from toolkit.synth.manipulate import resize

    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(f"copy_move needs an H x W (x 3) uint8 image, got {img.dtype} {img.shape}")
    if not np.isfinite(scale) or not 0.25 < scale <= 4:
        raise ValueError(f"scale must be in (0.25, 4], got {scale}")
    h, w = img.shape[:2]
    top, left, bh, bw = box if box is not None else (h // 8, w // 8, h // 4, w // 4)
    if min(bh, bw) < 8 or top < 0 or left < 0 or top + bh > h or left + bw > w:
        raise ValueError(
            f"source box {(top, left, bh, bw)} must lie inside the {h} x {w} image, at least 8 x 8"
        )
    piece = resize(np.ascontiguousarray(img[top : top + bh, left : left + bw]), scale)
    ph, pw = piece.shape[:2]
    dt, dl = dest if dest is not None else (h - h // 8 - ph, w - w // 8 - pw)
    if dt < 0 or dl < 0 or dt + ph > h or dl + pw > w:
        raise ValueError(f"the resized {ph} x {pw} region at {(dt, dl)} does not fit in the {h} x {w} image")
    out = img.copy()
    out[dt : dt + ph, dl : dl + pw] = piece
    mask = np.zeros((h, w), bool)
    mask[dt : dt + ph, dl : dl + pw] = True
    return out, mask


#: the manipulated box (top, left, height, width) of the sample image ``rocket_median5.png``
SAMPLE_BOX = (64, 96, 128, 128)


def write_sample_images(folder) -> dict:
    """Write the image samples of ``sample_data/images``: a 256 x 320 centre crop of the test photo
    ``rocket`` (``rocket.png``), the same with :data:`SAMPLE_BOX` median-filtered 5 x 5
    (``rocket_median5.png``) and that box's mask (``rocket_median5.mask.png``).

    ``rocket`` is in the test split: no shipped model saw it. Returns ``{file name: description}``.

    >>> import tempfile
    >>> sorted(write_sample_images(tempfile.mkdtemp()))
    ['rocket.png', 'rocket_median5.mask.png', 'rocket_median5.png']
    """
    from pathlib import Path

    from PIL import Image

    from toolkit.synth.sources import photo

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    img = photo("rocket")
    h, w = 256, 320
    t, lf = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    crop = np.ascontiguousarray(img[t : t + h, lf : lf + w])
    forged, mask = local_forgery(crop, "median5", box=SAMPLE_BOX)
    files = {
        "rocket.png": (crop, f"pristine {w}x{h} centre crop of scikit-image's 'rocket' photo (test split)"),
        "rocket_median5.png": (
            forged,
            f"rocket.png with the box {SAMPLE_BOX} (top, left, h, w) median-filtered 5x5",
        ),
        "rocket_median5.mask.png": (mask.astype(np.uint8) * 255, "mask of the median-filtered box"),
    }
    for name, (a, _) in files.items():
        Image.fromarray(a).save(out / name, optimize=True)
    return {name: desc for name, (_, desc) in files.items()}
