"""Training data for the FOCAL codec and quality CNNs (seed 000, sections 6.1-6.2).

The seed encodes raw YUV sequences with FFmpeg and cuts 64x64 luma patches.
We have no raw sequences, so the pristine sources are the project's own:
virtual-camera sequences over scikit-image / scikit-learn photos
(:func:`toolkit.synth.sources.photo_sequence`) and the real H.264 clips of
``../shared/real_video`` downscaled by 2 (which erases most of their own coding
traces). Every source is encoded with :func:`toolkit.synth.encode` (GOP 30):

* **codec** task, classes ``CODEC_CLASSES`` (MPEG-2, MPEG-4, H.264, H.265): per
  source and codec, one fixed-quality encode (MPEG qscale q in 1..10; H.264/H.265 at
  the QP with the same quantisation step, eqs. 18-19), one CBR and one VBR encode
  (2, 4 or 6 Mb/s at 720p, scaled by the frame area). Data version 2: each encode
  has an explicit encoder thread count (:func:`_encoder_threads`) and the task has
  5 more sources (3 train, 2 test) than the quality task. Data version 3: x264 and
  x265 are capped at AVX2 (:func:`_encoder_simd`), which makes every encode
  bit-exact and the same on any x86-64 machine with AVX2.
* **quality** task, classes Δ = 5, 10, 20, 40: MPEG-2, MPEG-4 and H.264 at the
  fixed quantiser giving each Δ (:func:`toolkit.synth.delta_to_quality`); only
  patches with luma variance > 10^3 are used (the seed's threshold).

Splits are by source (no source in two splits). A split is stored as decoded
luma frames plus, per frame, the grid of valid 64x64 patch positions (stride 8);
the trainer samples grid-aligned crops from them.

>>> specs = split_sources()
>>> sorted(specs)
['test', 'train', 'val']
>>> set(s.name for s in specs['train']).isdisjoint(s.name for s in specs['test'])
True
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from toolkit.focal.model import CODEC_CLASSES, GRID, PATCH, QUALITY_CLASSES, QUALITY_DELTAS

__all__ = [
    "SourceSpec",
    "Split",
    "split_sources",
    "encode_configs",
    "encode_config",
    "DATA_VERSION",
    "build_split",
    "build_dataset",
    "load_split",
    "patch_variance",
    "FRAME_SIZE",
    "VARIANCE_THRESHOLD",
    "TASKS",
]

FRAME_SIZE = (240, 320)  #: H x W of every source (real clips 640x480 downscaled by 2)
VARIANCE_THRESHOLD = 1e3  #: seed 6.2: keep quality patches with luma variance above 10^3
N_FRAMES = 30  #: frames encoded per video (one GOP of 30, as in the seed)
GOP = 30
#: B-frames per codec: FFmpeg's defaults (x264 3, x265 4, MPEG-2/4 none)
BFRAMES = {"mpeg2": 0, "mpeg4": 0, "h264": 3, "h265": 4}
TASKS = {"codec": CODEC_CLASSES, "quality": QUALITY_CLASSES}

# source-disjoint splits (fixed lists, so a split never changes between runs)
_TRAIN = (
    [
        "astronaut",
        "china",
        "flower",
        "camera_rgb",
        "page_rgb",
        "gravel_rgb",
        "immunohistochemistry",
        "retina",
        "hubble_deep_field",
    ],
    ["book.mkv", "eat.mkv", "hungry.mkv", "night.mkv", "thanks.mkv"],
)
_VAL = (["chelsea", "grass_rgb"], ["milk.mkv"])
_TEST = (["coffee", "rocket", "brick_rgb", "motorcycle_left"], ["walk.mkv", "sister.mkv"])
#: codec data version 2: more sources (scikit-image photos unused before), 3 for training and
#: 2 for testing, so that the held-out test has 8 sources; validation is unchanged
_CODEC_EXTRA = {"train": ["cat", "coins", "moon"], "val": [], "test": ["clock", "cell"]}
#: data version per task: codec 2 = the extra sources above and an explicit encoder thread
#: count per encode (:func:`_encoder_threads`; version 1 used each machine's default);
#: codec 3 = also x264/x265 capped at AVX2 (:func:`_encoder_simd`)
DATA_VERSION = {"codec": 3, "quality": 1}


@dataclass(frozen=True)
class SourceSpec:
    """One pristine source: a photo sequence (``kind='photo'``) or a real clip (``'real'``)."""

    kind: str
    name: str
    seed: int = 0
    start: int = 0  #: first frame of a real clip (photo sequences ignore it)

    def frames(self, n_frames: int = N_FRAMES, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
        """``n_frames x H x W x 3`` uint8 RGB frames of the source."""
        from toolkit.synth import sources

        if self.kind == "photo":
            return sources.photo_sequence(
                self.name, n_frames=n_frames, size=size, motion="mixed", noise=1.0, seed=self.seed
            )
        clip = sources.real_video_dir() / self.name
        a = sources.real_clip_sequence(clip, n_frames=n_frames, factor=2, start=self.start)
        h, w = size
        if a.shape[1] < h or a.shape[2] < w or len(a) < n_frames:
            raise ValueError(
                f"{self.name} from frame {self.start} gives {a.shape} frames, "
                f"need {n_frames} of at least {h}x{w}"
            )
        return np.ascontiguousarray(a[:, :h, :w])

    def segment(self, k: int) -> SourceSpec:
        """The ``k``-th other take of the same source: another camera path over the photo
        (seed + 1000 k) or the clip from frame 8 k. Same ``name``, so splits stay disjoint.

        >>> SourceSpec("real", "walk.mkv").segment(2).start
        16
        """
        if k < 0:
            raise ValueError(f"segment index must be >= 0, got {k}")
        if self.kind == "photo":
            return replace(self, seed=self.seed + 1000 * k)
        return replace(self, start=self.start + 8 * k)


def split_sources(task: str = "quality") -> dict[str, list[SourceSpec]]:
    """The fixed source-disjoint train / val / test source lists of ``task``.

    Both tasks share the base lists; the codec task (data version 2) adds
    ``_CODEC_EXTRA`` (3 training and 2 test photos).

    >>> [len(v) for v in split_sources("quality").values()], [len(v) for v in split_sources("codec").values()]
    ([14, 3, 6], [17, 3, 8])
    """
    if task not in TASKS:
        raise ValueError(f"task must be 'codec' or 'quality', got {task!r}")
    out = {}
    for split, (photos, clips) in (("train", _TRAIN), ("val", _VAL), ("test", _TEST)):
        extra = _CODEC_EXTRA[split] if task == "codec" else []
        out[split] = (
            [SourceSpec("photo", p, seed=i) for i, p in enumerate(photos)]
            + [SourceSpec("real", c) for c in clips]
            + [SourceSpec("photo", p, seed=len(photos) + i) for i, p in enumerate(extra)]
        )
    return out


def encode_configs(task: str, rng: np.random.Generator, size: tuple[int, int] = FRAME_SIZE) -> list[dict]:
    """The encodes of one source for ``task``: list of dicts (label, codec, settings).

    >>> cfg = encode_configs("quality", np.random.default_rng(0))
    >>> len(cfg), sorted({c["label"] for c in cfg})
    (12, [0, 1, 2, 3])
    """
    from toolkit.synth import delta_to_quality, quality_to_delta

    out = []
    if task == "codec":
        area = size[0] * size[1] / (1280 * 720)  # the seed's bitrates are for 720p
        for label, codec in enumerate(CODEC_CLASSES):
            q = int(rng.integers(1, 11))  # seed: fixed quality parameter 1..10
            if codec in ("h264", "h265"):
                q = delta_to_quality("h264", quality_to_delta("mpeg2", q))
            out.append(
                dict(
                    label=label,
                    codec=codec,
                    rate_control="q",
                    quality=q,
                    threads=_encoder_threads(codec, "q", rng),
                    simd=_encoder_simd(codec),
                )
            )
            for rc in ("cbr", "vbr"):
                mbps = int(rng.choice([2, 4, 6]))
                out.append(
                    dict(
                        label=label,
                        codec=codec,
                        rate_control=rc,
                        quality=None,
                        bitrate=int(mbps * 1e6 * area),
                        threads=_encoder_threads(codec, rc, rng),
                        simd=_encoder_simd(codec),
                    )
                )
    elif task == "quality":
        for label, delta in enumerate(QUALITY_DELTAS):
            for codec in ("mpeg2", "mpeg4", "h264"):
                out.append(
                    dict(
                        label=label,
                        codec=codec,
                        rate_control="q",
                        quality=delta_to_quality(codec, delta),
                        delta=delta,
                    )
                )
    else:
        raise ValueError(f"task must be 'codec' or 'quality', got {task!r}")
    return out


def _encoder_threads(codec: str, rate_control: str, rng: np.random.Generator) -> int:
    """Encoder threads of one codec-task encode (data version 2).

    Frame threads change the stream (x264 limits each frame's vertical motion search
    to what its reference threads have finished; FFmpeg's MPEG encoders cut one slice
    per thread), and the encoders' default is the machine's core count, so data built
    with the defaults depend on the machine. Each encode draws 1 or 4 threads, except
    x264/x265 under CBR/VBR, which get 1: x265's rate control is then bit-exact, and
    x264's too once it is also capped at AVX2 (data version 3, :func:`_encoder_simd`).
    """
    t = int(rng.choice([1, 4]))  # drawn for every encode, so the draws after it never shift
    return 1 if codec in ("h264", "h265") and rate_control != "q" else t


def _encoder_simd(codec: str) -> str:
    """Instruction-set cap of one codec-task encode (data version 3): ``"avx2"`` for
    x264/x265 on x86-64, else ``"auto"``.

    On a CPU with AVX-512, x264's default code makes CBR/VBR encodes differ from run
    to run (:class:`toolkit.synth.EncodeSettings`); capped at AVX2 they are bit-exact,
    and the same on every x86-64 machine with AVX2. Other CPUs (ARM) keep their own
    code, and so get slightly different x264 data.

    >>> _encoder_simd("mpeg2")
    'auto'
    """
    from toolkit.synth.encode import is_x86_64

    return "avx2" if codec in ("h264", "h265") and is_x86_64() else "auto"


def patch_variance(luma: np.ndarray, stride: int = GRID) -> np.ndarray:
    """``P_U x P_V`` luma variance of every 64x64 patch at ``stride`` (integral images, float64).

    >>> patch_variance(np.zeros((72, 64), np.uint8)).shape
    (2, 1)
    """
    y = luma.astype(np.float64)
    s1 = np.pad(y.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    s2 = np.pad((y * y).cumsum(0).cumsum(1), ((1, 0), (1, 0)))

    def box(s):
        b = s[PATCH:, PATCH:] - s[:-PATCH, PATCH:] - s[PATCH:, :-PATCH] + s[:-PATCH, :-PATCH]
        return b[::stride, ::stride]

    n = PATCH * PATCH
    m = box(s1) / n
    return np.maximum(box(s2) / n - m * m, 0.0)


@dataclass(frozen=True)
class Split:
    """Decoded frames of one split: ``frames`` N x H x W uint8 luma, ``labels`` N,
    ``valid`` N x P_U x P_V (patch positions at stride 8 usable for training/testing),
    ``video`` N (index into ``videos``), ``videos`` (list of dicts: source, settings)."""

    task: str
    frames: np.ndarray
    labels: np.ndarray
    valid: np.ndarray
    video: np.ndarray
    frame_index: np.ndarray
    videos: list
    classes: tuple

    @property
    def sources(self) -> list[str]:
        return sorted({v["source"] for v in self.videos})

    def n_patches(self) -> int:
        """Valid non-overlapping patches (stride 64) — the seed's way of counting."""
        return int(self.valid[:, ::8, ::8].sum())


def encode_config(frames: np.ndarray, cfg: dict, stem: str | os.PathLike) -> Path:
    """Encode ``frames`` with one configuration of :func:`encode_configs` (GOP 30, the codec's
    B-frames, the configuration's encoder ``threads`` and ``simd`` cap) to ``stem`` + the
    codec's file extension; returns the file.

    >>> encode_config(np.zeros((2, 64, 64, 3), np.uint8), {"codec": "mpeg2", "rate_control": "q",
    ...               "quality": 2}, tempfile.mkdtemp() + "/v").suffix
    '.mpg'
    """
    from toolkit.synth import encode
    from toolkit.synth.encode import CODECS

    codec = cfg["codec"]
    out = Path(f"{stem}{CODECS[codec][2]}")
    encode(
        frames,
        out,
        codec=codec,
        quality=cfg.get("quality"),
        gop=GOP,
        bframes=BFRAMES[codec],
        rate_control=cfg["rate_control"],
        bitrate=cfg.get("bitrate"),
        threads=cfg.get("threads"),
        simd=cfg.get("simd"),
    )
    return out


def build_split(
    task: str,
    sources: list[SourceSpec],
    *,
    frames_per_video: int = 6,
    seed: int = 0,
    n_frames: int = N_FRAMES,
    size: tuple[int, int] = FRAME_SIZE,
    segments: int = 1,
    progress: bool = False,
    workdir: str | os.PathLike | None = None,
) -> Split:
    """Encode every source with every configuration of ``task`` and keep decoded luma frames.

    ``frames_per_video`` frames are kept per encode, evenly spaced over the GOP
    (frame 0 is the I-frame). ``segments`` > 1 encodes each source that many times
    (:meth:`SourceSpec.segment`: other camera paths / clip segments, each with fresh
    configuration draws): more content and coding variety from the same sources.
    Seeded by ``seed`` (configuration draws).
    """
    from tqdm.auto import tqdm

    from toolkit.video import iter_luma

    if task not in TASKS:
        raise ValueError(f"task must be 'codec' or 'quality', got {task!r}")
    if not sources:
        raise ValueError("no sources given")
    if segments < 1:
        raise ValueError(f"segments must be >= 1, got {segments}")
    sources = [s.segment(k) for s in sources for k in range(segments)]
    rng = np.random.default_rng(seed)
    keep = np.linspace(0, n_frames - 1, frames_per_video).round().astype(int)
    frames, labels, valid, video, findex, videos = [], [], [], [], [], []
    jobs = [(s, c) for s in sources for c in encode_configs(task, rng, size)]
    tmp = tempfile.TemporaryDirectory(dir=workdir)
    try:
        cache: dict[SourceSpec, np.ndarray] = {}
        for src, cfg in tqdm(jobs, desc=f"encode {task}", disable=not progress):
            if src not in cache:
                cache.clear()
                cache[src] = src.frames(n_frames, size)
            out = encode_config(cache[src], cfg, Path(tmp.name) / f"v{len(videos)}")
            wanted = set(keep.tolist())
            for i, y in enumerate(iter_luma(out)):
                if i in wanted:
                    var = patch_variance(y)
                    ok = var > VARIANCE_THRESHOLD if task == "quality" else np.ones_like(var, bool)
                    frames.append(y)
                    labels.append(cfg["label"])
                    valid.append(ok)
                    video.append(len(videos))
                    findex.append(i)
            out.unlink()
            videos.append({"source": f"{src.kind}:{src.name}", **{k: v for k, v in cfg.items()}})
    finally:
        tmp.cleanup()
    return Split(
        task=task,
        frames=np.stack(frames),
        labels=np.asarray(labels, np.int64),
        valid=np.stack(valid),
        video=np.asarray(video, np.int64),
        frame_index=np.asarray(findex, np.int64),
        videos=videos,
        classes=TASKS[task],
    )


def save_split(split: Split, file: str | os.PathLike) -> Path:
    """Write a split to ``file`` (.npz with a JSON list of videos)."""
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        file,
        frames=split.frames,
        labels=split.labels,
        valid=split.valid,
        video=split.video,
        frame_index=split.frame_index,
        meta=np.array(
            json.dumps({"task": split.task, "videos": split.videos, "classes": list(split.classes)})
        ),
    )
    return file


def load_split(file: str | os.PathLike) -> Split:
    """Read a split written by :func:`save_split` / :func:`build_dataset`."""
    from toolkit._util import as_path

    with np.load(as_path(file)) as z:
        meta = json.loads(str(z["meta"]))
        return Split(
            task=meta["task"],
            frames=z["frames"],
            labels=z["labels"],
            valid=z["valid"],
            video=z["video"],
            frame_index=z["frame_index"],
            videos=meta["videos"],
            classes=tuple(meta["classes"]),
        )


def build_dataset(
    task: str,
    out_dir: str | os.PathLike,
    *,
    frames_per_video: int = 6,
    seed: int = 0,
    sources: dict[str, list[SourceSpec]] | None = None,
    n_frames: int = N_FRAMES,
    size: tuple[int, int] = FRAME_SIZE,
    train_segments: int = 1,
    train_frames_per_video: int | None = None,
    progress: bool = False,
) -> dict[str, Path]:
    """Build (or reuse) the train / val / test splits of ``task`` under ``out_dir``.

    ``train_segments`` and ``train_frames_per_video`` (default ``frames_per_video``)
    enlarge the training split only (see :func:`build_split`); validation and test
    stay the same. Returns ``{split: path of its .npz}``. An existing file built with
    the same settings is reused (its settings are recorded in ``<task>_<split>.json``;
    an enlarged training split gets its own file name).
    """
    sources = split_sources(task) if sources is None else sources
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for k, (name, srcs) in enumerate(sources.items()):
        fpv, segs = frames_per_video, 1
        if name == "train":
            fpv, segs = train_frames_per_video or frames_per_video, train_segments
        # the default files keep their names and settings (no 'start' / 'segments' keys)
        settings = {
            "task": task,
            **({"version": DATA_VERSION[task]} if DATA_VERSION[task] > 1 else {}),
            "frames_per_video": fpv,
            "seed": seed + k,
            "n_frames": n_frames,
            "size": list(size),
            "sources": [{f: v for f, v in asdict(s).items() if not (f == "start" and v == 0)} for s in srcs],
        }
        stem = f"{task}_{name}"
        if segs != 1 or fpv != frames_per_video:
            settings["segments"] = segs
            stem += f"_s{segs}f{fpv}"
        f, sidecar = out_dir / f"{stem}.npz", out_dir / f"{stem}.json"
        if not (f.is_file() and sidecar.is_file() and json.loads(sidecar.read_text()) == settings):
            split = build_split(
                task,
                srcs,
                frames_per_video=fpv,
                seed=seed + k,
                n_frames=n_frames,
                size=size,
                segments=segs,
                progress=progress,
            )
            save_split(split, f)
            sidecar.write_text(json.dumps(settings, indent=1))
        paths[name] = f
    return paths
