"""Calibrate FOCAL temporal detection's background floor on pristine videos.

``toolkit.focal.temporal.detect`` declares a cut where Δf exceeds ``threshold`` (20) times
the video's background, its median Δf but never below a floor. The floor is what keeps a
steady clip (a static camera, whose median Δf is tiny) from calling the small quality
fluctuations of its rate control splices. This module measures it for the shipped models:

* a pristine calibration set (no splice anywhere), made by the project: photo sequences
  (virtual camera with pan, zoom and shake over scikit-image photos) and ×2-downscaled
  real clips (``../shared/real_video``), encoded with a spread of settings that differ
  from the splice benchmark's fixed-QP versions — x264 CRF with B-frames and GOP 250, CRF
  30, VBR and CBR bitrate control, MPEG-4 VBR, MPEG-2 with B-frames, x265 CRF;
* the frame descriptors of every frame at stride 64 (the case analysis's setting);
* for each video, the smallest floor with which :func:`detect`'s rule (default I-frame
  suppression and persistence, ``threshold`` 20) finds no cut; the floor is the value that at most
  ``TARGET_RATE`` (2 %) of the calibration videos exceed, times a margin (1.25). With 60
  videos that is the second largest: one outlier (a shaking camera over a flower, MPEG-4
  VBR) would otherwise double the floor and halve what can be detected.

The untouched camera clips of ``../shared/real_video`` are *not* in the calibration set:
they are the held-out check (``benchmarks/focal_temporal_real.py``).

Run:  python -m toolkit.focal.calibrate            (writes toolkit/focal/temporal_threshold.json)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from toolkit.focal.temporal import (
    CALIBRATION_FILE,
    DEFAULT_DISTURBED,
    DEFAULT_THRESHOLD,
    detector_distance,
    find_cuts,
)

__all__ = [
    "PHOTO_SOURCES",
    "REAL_SOURCES",
    "SETTINGS",
    "needed_floor",
    "rate_quantile",
    "calibration_set",
    "calibrate",
]

PHOTO_SOURCES = ("astronaut", "chelsea", "rocket", "china", "flower", "cat")
PHOTO_SETTINGS = {
    "h264_crf23_g250_b3": dict(codec="h264", rate_control="crf", quality=23, gop=250, bframes=3),
    "h264_crf30_g60": dict(codec="h264", rate_control="crf", quality=30, gop=60, bframes=0),
    "h264_vbr600k_g30_b2": dict(codec="h264", rate_control="vbr", bitrate=600_000, gop=30, bframes=2),
    "h264_cbr300k_g50": dict(codec="h264", rate_control="cbr", bitrate=300_000, gop=50, bframes=0),
    "mpeg4_vbr800k_g12": dict(codec="mpeg4", rate_control="vbr", bitrate=800_000, gop=12, bframes=0),
    "mpeg2_q5_g15_b2": dict(codec="mpeg2", quality=5, gop=15, bframes=2),
    "h265_crf28_g250": dict(codec="h265", rate_control="crf", quality=28, gop=250, bframes=0),
}
REAL_SOURCES = (
    "car-detection.mp4",
    "one-by-one-person-detection.mp4",
    "bottle-detection.mp4",
    "book.mkv",
    "walk.mkv",
    "sister.mkv",
)
REAL_SETTINGS = {
    "h264_vbr200k_g60": dict(codec="h264", rate_control="vbr", bitrate=200_000, gop=60, bframes=0),
    "h264_crf28_g250_b3": dict(codec="h264", rate_control="crf", quality=28, gop=250, bframes=3),
    "mpeg4_vbr300k_g12": dict(codec="mpeg4", rate_control="vbr", bitrate=300_000, gop=12, bframes=0),
}
SETTINGS = {"photo": PHOTO_SETTINGS, "real": REAL_SETTINGS}
FEATURES = {"both": slice(0, 8), "codec": slice(0, 4), "quality": slice(4, 8)}
#: the key of each feature set in the calibration file (the models' names, sorted, joined by "+")
FEATURE_KEYS = {"both": "codec+quality", "codec": "codec", "quality": "quality"}
_EXT = {"h264": ".mp4", "h265": ".mp4", "mpeg4": ".avi", "mpeg2": ".mpg"}
MARGIN = 1.25
TARGET_RATE = 0.02
STRIDE = 64


def rate_quantile(values, rate: float = TARGET_RATE) -> float:
    """The value that at most a fraction ``rate`` of ``values`` exceed.

    >>> rate_quantile([0.0] * 58 + [1.0, 5.0], 0.02)     # 1 of 60 may exceed it
    1.0
    """
    v = np.sort(np.asarray(values, dtype=np.float64))
    if v.size == 0:
        raise ValueError("no values")
    k = int(np.ceil((1.0 - rate) * v.size)) - 1
    return float(v[min(max(k, 0), v.size - 1)])


def needed_floor(
    descriptors: np.ndarray,
    i_frames,
    threshold: float = DEFAULT_THRESHOLD,
    mode: str = "discard",
    disturbed: int = DEFAULT_DISTURBED,
) -> float:
    """The smallest background floor (Δf units) with which a pristine video gives no cut.

    With background b = max(median, floor), a cut needs a local maximum of Δf above
    ``threshold`` x b; none exists once b ≥ (largest local maximum) / ``threshold``.

    >>> f = np.zeros((6, 2)); f[3:] = [0.1, 0.0]              # one step, Δf 0.01
    >>> needed_floor(f, [], threshold=20)                      # median 0.0: floor 0.01 / 20
    0.0005
    """
    _, d, _ = detector_distance(descriptors, None, i_frames, mode, disturbed, persist=True)
    median = float(np.median(d))
    local = [d[k] for k in find_cuts(d, 0.0)] if np.any(d > 0) else [0.0]
    top = float(max(local)) if local else 0.0
    if top <= threshold * median:
        return 0.0
    return round(top / threshold, 12)


def _work_dir() -> Path:
    base = Path(os.environ.get("TOOLKIT_CACHE", Path.home() / ".cache" / "forensics-toolkit"))
    d = base / "focal_temporal_calibration"
    d.mkdir(parents=True, exist_ok=True)
    return d


def calibration_set(work: Path | None = None, n_photo: int = 90, n_real: int = 150) -> list[tuple[str, Path]]:
    """Encode (once, cached) the pristine calibration videos; returns ``[(name, path)]``."""
    from toolkit.synth import encode
    from toolkit.synth.sources import photo_sequence, real_clip_sequence, real_video_dir

    work = work or _work_dir()
    out: list[tuple[str, Path]] = []
    for si, src in enumerate(PHOTO_SOURCES):
        frames = None
        for name, st in PHOTO_SETTINGS.items():
            p = work / f"{src}_{name}{_EXT[st['codec']]}"
            if not p.exists():
                if frames is None:
                    frames = photo_sequence(src, n_frames=n_photo, size=(216, 384), seed=50 + si)
                encode(frames, p, **st)
            out.append((f"photo:{src}:{name}", p))
    for src in REAL_SOURCES:
        frames = None
        for name, st in REAL_SETTINGS.items():
            p = work / f"real_{src.split('.')[0]}_{name}{_EXT[st['codec']]}"
            if not p.exists():
                if frames is None:
                    frames = real_clip_sequence(real_video_dir() / src, n_frames=n_real, factor=2)
                encode(frames, p, fps=12.5, **st)
            out.append((f"real:{src}:{name}", p))
    return out


def _descriptors(path: Path, nets: dict, tag: str) -> tuple[np.ndarray, tuple[int, ...]]:
    from toolkit.focal.temporal import detect
    from toolkit.video import gop_structure

    cache = path.with_name(path.name + f".{tag}.s{STRIDE}.desc.npy")
    if cache.exists():
        f = np.load(cache)
    else:
        f = detect(path, models=nets, stride=STRIDE, suppress=None).descriptors
        np.save(cache, f)
    return f, gop_structure(path).i_frames


def calibrate(out: Path | None = CALIBRATION_FILE, progress: bool = True) -> dict:
    """Measure the floors on the calibration set and write them to ``out`` (None: don't write)."""
    from tqdm.auto import tqdm

    from toolkit.focal import load_model

    nets = {"codec": load_model("codec", device="cpu"), "quality": load_model("quality", device="cpu")}
    tag = nets["codec"].weights_sha256[:8] + nets["quality"].weights_sha256[:8]
    t0 = time.perf_counter()
    videos = calibration_set()
    per_video = []
    for name, path in tqdm(videos, desc="calibration videos", disable=not progress):
        f, iframes = _descriptors(path, nets, tag)
        row = {"video": name, "frames": len(f), "i_frames": len(iframes)}
        for feat, sl in FEATURES.items():
            row[feat] = needed_floor(f[:, sl], iframes)
        per_video.append(row)
    floors = {FEATURE_KEYS[f]: round(MARGIN * rate_quantile([r[f] for r in per_video]), 6) for f in FEATURES}
    worst = {feat: max(per_video, key=lambda r: r[feat])["video"] for feat in FEATURES}
    result = {
        "what": "background floor of toolkit.focal.temporal.detect (Δf units), calibrated on pristine videos",
        "weights": {n: m.weights_sha256 for n, m in nets.items()},
        "weights_names": {n: m.weights_name for n, m in nets.items()},
        "threshold": DEFAULT_THRESHOLD,
        "suppress": "discard",
        "disturbed": DEFAULT_DISTURBED,
        "persist": True,
        "stride": STRIDE,
        "margin": MARGIN,
        "target_rate": TARGET_RATE,
        "floors_at_max": {FEATURE_KEYS[f]: round(MARGIN * max(r[f] for r in per_video), 6) for f in FEATURES},
        "floors": floors,
        "hardest_video": worst,
        "n_videos": len(per_video),
        "n_frames": int(sum(r["frames"] for r in per_video)),
        "settings": {k: {n: str(v) for n, v in s.items()} for k, s in SETTINGS.items()},
        "sources": {"photo": list(PHOTO_SOURCES), "real_downscaled_x2": list(REAL_SOURCES)},
        "per_video": per_video,
        "seconds": round(time.perf_counter() - t0, 1),
        "command": "python -m toolkit.focal.calibrate",
    }
    if out is not None:
        Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(CALIBRATION_FILE))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    r = calibrate(Path(args.out))
    print(
        json.dumps(
            {k: r[k] for k in ("floors", "hardest_video", "n_videos", "n_frames", "seconds")}, indent=1
        )
    )


if __name__ == "__main__":
    main()
