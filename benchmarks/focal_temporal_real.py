"""FOCAL temporal detection on untouched camera clips (every cut is false) and on the splice replica.

Held-out check of ``toolkit.focal.temporal.detect``'s defaults (I-frame suppression of the
disturbed frames, the background floor calibrated by ``python -m toolkit.focal.calibrate`` on
*other* pristine videos, and, with a frame step, confirmation on the frames in between):

* every real clip in ``../shared/real_video`` untouched (camera-encoded H.264, CC-BY, see its
  ATTRIBUTION.md): false cuts and false cuts per minute at ``step=1`` and ``step=5``, with the
  floor and without it (the per-video median rule alone);
* the temporal splice replica of ``benchmarks/focal_localization.py`` (3 real sources x 12
  versions, 12 pairs per source, final H.264 QP 16): pooled frame-pair AUC of the score, the
  fraction of splices detected and the false cuts per video at the default threshold.

Frame descriptors are computed once per clip at stride 64 (the case analysis's setting) with
``detect`` itself (``suppress=None``), and every variant is derived from them with the same
functions ``detect`` uses (``suppress_iframes``, ``find_cuts``, ``confirm_cuts``); one clip
is checked against ``detect`` run end to end.

Run:  python benchmarks/focal_temporal_real.py          (~20 min on 2 idle cores the first time)
      TOOLKIT_QUICK=1 python benchmarks/focal_temporal_real.py   (two short clips, no replica)
Writes benchmarks/results/focal_temporal_real.json (quick: focal_temporal_real_quick.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from toolkit._util import quick_mode

STRIDE = 64
STEPS = (1, 5)


def _work_dir() -> Path:
    base = Path(os.environ.get("TOOLKIT_CACHE", Path.home() / ".cache" / "forensics-toolkit"))
    d = base / "focal_temporal_real"
    d.mkdir(parents=True, exist_ok=True)
    return d


def clip_descriptors(path: Path, nets: dict, tag: str, count: int | None = None) -> tuple[np.ndarray, tuple]:
    from toolkit.focal.temporal import detect
    from toolkit.video import gop_structure

    cache = _work_dir() / f"{path.name}.{tag}.s{STRIDE}.n{count}.npy"
    if cache.exists():
        f = np.load(cache)
    else:
        f = detect(path, models=nets, stride=STRIDE, suppress=None, count=count, progress=True).descriptors
        np.save(cache, f)
    return f, gop_structure(path).i_frames


def decide(f: np.ndarray, iframes, step: int, floor: float, threshold: float = 20.0) -> dict:
    """``detect``'s decision on precomputed per-frame descriptors ``f`` (all frames)."""
    from toolkit.focal.temporal import background, confirm_cuts, detector_distance, find_cuts

    idx = np.arange(0, len(f), step)
    _, d, _ = detector_distance(f[idx], idx, iframes)
    s = d / background(d, floor)
    cuts = [int(idx[k]) for k in find_cuts(s, threshold)]
    if step > 1:
        cuts, _ = confirm_cuts(
            s, idx, threshold, lambda a, c: (np.arange(a, c + 1), f[a : c + 1]), floor, iframes
        )
    return {"cuts": cuts, "scores": s, "index": idx}


def real_clips(nets: dict, tag: str, floor: float, quick: bool) -> dict:
    from toolkit.synth.sources import real_video_dir
    from toolkit.video import probe

    names = sorted(p.name for p in real_video_dir().iterdir() if p.suffix in (".mp4", ".mkv"))
    if quick:
        names = ["eat.mkv", "hungry.mkv"]
    rows = []
    for name in names:
        path = real_video_dir() / name
        info = probe(path)
        f, iframes = clip_descriptors(path, nets, tag)
        minutes = len(f) / float(info.fps or 25.0) / 60.0
        row = {
            "clip": name,
            "frames": len(f),
            "fps": round(float(info.fps or 0), 2),
            "i_frames": len(iframes),
        }
        for step in STEPS:
            for label, fl in (("floor", floor), ("no_floor", 0.0)):
                r = decide(f, iframes, step, fl)
                row[f"step{step}_{label}_false_cuts"] = len(r["cuts"])
                row[f"step{step}_{label}_false_cuts_per_min"] = round(len(r["cuts"]) / minutes, 2)
        rows.append(row)
        print(row, flush=True)
    total_min = sum(r["frames"] / (r["fps"] or 25.0) / 60.0 for r in rows)
    summary = {
        f"step{s}_{lab}": {
            "false_cuts": sum(r[f"step{s}_{lab}_false_cuts"] for r in rows),
            "per_minute": round(sum(r[f"step{s}_{lab}_false_cuts"] for r in rows) / total_min, 2),
        }
        for s in STEPS
        for lab in ("floor", "no_floor")
    }
    return {"clips": rows, "minutes": round(total_min, 2), "summary": summary}


def splice_replica(nets: dict, floor: float) -> dict:
    """The temporal splices of benchmarks/focal_localization.py (its cached videos and descriptors)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import focal_localization as fl

    from toolkit.metrics import roc
    from toolkit.synth import temporal_splice
    from toolkit.video import gop_structure

    work = fl._work_dir() / "full"
    half = 16
    ys, ss, ys0, ss0, hits, fas, n = [], [], [], [], 0, 0, 0
    for si, source in enumerate(fl.SOURCES):
        versions = fl.build_versions(work, source, 2 * half)
        for a, b in fl.pick_pairs(12, 100 + si):
            out = work / Path(source).stem / f"T_h{half}_{versions[a][0]}__{versions[b][0]}.mp4"
            if not out.exists():
                temporal_splice(versions[a][1], versions[b][1], out, cut=half, length=2 * half)
            boundary = json.loads(Path(str(out) + ".json").read_text())["boundary"]
            probs = fl.dense_probs(out, nets, None, out.with_name(out.name + ".v3"), 32)
            f = probs.mean(axis=(1, 2))
            iframes = gop_structure(out).i_frames
            for fl_, y_, s_ in ((floor, ys, ss), (0.0, ys0, ss0)):
                r = decide(f, iframes, 1, fl_)
                lab = np.zeros(len(r["scores"]), int)
                lab[boundary] = 1
                y_.append(lab)
                s_.append(r["scores"])
                if fl_ == floor:
                    hits += boundary in r["cuts"]
                    fas += len([c for c in r["cuts"] if c != boundary])
            n += 1
    return {
        "videos": n,
        "auc": roc(np.concatenate(ys), np.concatenate(ss)).auc,
        "auc_without_floor": roc(np.concatenate(ys0), np.concatenate(ss0)).auc,
        "detected": hits / n,
        "false_cuts_per_video": fas / n,
        "stride": 32,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    import torch

    from toolkit.focal import load_model
    from toolkit.focal.temporal import calibrated_floor, detect

    torch.set_num_threads(args.threads)
    quick = quick_mode()
    t0 = time.perf_counter()
    nets = {"codec": load_model("codec", device="cpu"), "quality": load_model("quality", device="cpu")}
    tag = nets["codec"].weights_sha256[:8] + nets["quality"].weights_sha256[:8]
    cal = calibrated_floor(nets, ["codec", "quality"])
    floor = float(cal["floor"]) if cal else 0.0
    out = {
        "benchmark": "focal_temporal_real",
        "quick": quick,
        "weights": {n: m.weights_sha256 for n, m in nets.items()},
        "floor": floor,
        "floor_calibration": cal,
        "threshold": 20.0,
        "real_clips": real_clips(nets, tag, floor, quick),
    }
    # end-to-end check: detect itself on the first clip agrees with the derived decision
    from toolkit.synth.sources import real_video_dir

    first = out["real_clips"]["clips"][0]
    e2e = detect(real_video_dir() / first["clip"], models=nets, stride=STRIDE)
    out["end_to_end_check"] = {
        "clip": first["clip"],
        "detect_cuts": len(e2e.cuts),
        "derived_cuts": first["step1_floor_false_cuts"],
        "agree": len(e2e.cuts) == first["step1_floor_false_cuts"],
    }
    if not quick:
        out["splice_replica"] = splice_replica(nets, floor)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    name = "focal_temporal_real_quick.json" if quick else "focal_temporal_real.json"
    path = Path(args.out) if args.out else Path(__file__).parent / "results" / name
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "real_clips"}, indent=1))
    print(json.dumps(out["real_clips"]["summary"], indent=1))


if __name__ == "__main__":
    main()
