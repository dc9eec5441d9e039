"""Benchmark: where the FOCAL codec CNN errs on its held-out test split.

Frame-level accuracy (argmax of the mean patch probabilities, as in the model card)
broken down by true codec x picture type (I / P / B), by source, by encoder
thread count, and the video-level accuracy (mean over the 6 frames kept from each
encode, as ``toolkit.focal.classify`` averages over a video's frames). Picture
types are read by re-encoding every test video with its recorded settings (the
encoders all follow a fixed GOP pattern here; the benchmark records the re-encoded
videos that differ from the stored frames: x264's CBR/VBR rate control is not bit-exact
from run to run, even with one thread; its picture types are).

Robustness to the encoder's threading: the same test encodes are made once more
with every encoder's *default* thread count on this machine (what a plain FFmpeg
run does; data version 1 was built that way) and scored again.

    python benchmarks/focal_codec_errors.py                       # shipped weights
    python benchmarks/focal_codec_errors.py --weights other.pt     # also other checkpoints

Writes benchmarks/results/focal_codec_errors.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from toolkit.focal import load_model
from toolkit.focal.data import (
    DATA_VERSION,
    N_FRAMES,
    Split,
    build_dataset,
    encode_config,
    load_split,
    split_sources,
)
from toolkit.focal.train import DEFAULT_DATA_DIR, evaluate

OUT = Path(__file__).resolve().parent / "results" / "focal_codec_errors.json"


def picture_types(split) -> tuple[dict[int, list[str]], list[dict], Split]:
    """Picture type of every frame of every test video (re-encoded with its recorded settings),
    the videos whose re-encoded luma differs from the stored frames (settings and mean abs
    difference), and the split re-encoded with the encoders' default thread count."""
    from toolkit.video import frame_types, iter_luma

    specs = {f"{s.kind}:{s.name}": s for s in split_sources("codec")["test"]}
    types, differ = {}, []
    default_frames = np.empty_like(split.frames)
    with tempfile.TemporaryDirectory() as tmp:
        cache = {}
        for v, cfg in enumerate(tqdm(split.videos, desc="re-encode test videos")):
            src = specs[cfg["source"]]
            if src not in cache:
                cache = {src: src.frames(N_FRAMES)}
            out = encode_config(cache[src], cfg, Path(tmp) / f"v{v}")
            types[v] = frame_types(out)
            luma = list(iter_luma(out))
            rows = np.flatnonzero(split.video == v)
            diff = max(
                float(np.abs(luma[split.frame_index[f]].astype(np.int16) - split.frames[f]).mean())
                for f in rows
            )
            if diff > 0:
                differ.append({**cfg, "mean_abs_luma_difference": diff})
            out.unlink()
            out = encode_config(cache[src], {**cfg, "threads": None}, Path(tmp) / f"d{v}")
            luma = list(iter_luma(out))
            for f in rows:
                default_frames[f] = luma[split.frame_index[f]]
            out.unlink()
    return types, differ, replace(split, frames=default_frames)


def analyse(net, split, types) -> dict:
    """``toolkit.focal.train.evaluate``'s frame accuracies, broken down by codec x picture type
    and by encoder threads, plus the video-level accuracy (mean over each encode's frames)."""
    ev = evaluate(net, split, per_frame=True)
    frames, fprob = ev["frames"], ev["frame_probs"]
    ok = fprob.argmax(1) == split.labels[frames]
    classes = list(split.classes)
    by_type, by_threads = defaultdict(list), defaultdict(list)
    for f, good in zip(frames, ok):
        v = int(split.video[f])
        t = types[v][int(split.frame_index[f])]
        by_type[f"{classes[split.labels[f]]} {t}"].append(bool(good))
        by_threads[f"{classes[split.labels[f]]} threads={split.videos[v].get('threads')}"].append(bool(good))
    vid = split.video[frames]
    videos = np.unique(vid)
    vok = [fprob[vid == v].mean(0).argmax() == split.labels[split.video == v][0] for v in videos]
    return {
        "patch_accuracy": ev["patch_accuracy"],
        "frame_accuracy_mean": ev["frame_accuracy_mean"],
        "n_frames": ev["n_frames"],
        "video_accuracy": float(np.mean(vok)),
        "n_videos": int(len(videos)),
        "frame_accuracy_by_codec_and_picture_type": {
            k: {"accuracy": float(np.mean(v)), "frames": len(v)} for k, v in sorted(by_type.items())
        },
        "frame_accuracy_by_source": ev["frame_accuracy_by_source"],
        "frame_accuracy_ci95_over_sources": ev["frame_accuracy_ci95_over_sources"],
        "frame_accuracy_by_codec_and_encoder_threads": {
            k: {"accuracy": float(np.mean(v)), "frames": len(v)} for k, v in sorted(by_threads.items())
        },
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--weights", nargs="*", default=[], help="other checkpoints written by toolkit.focal.train"
    )
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    split = load_split(build_dataset("codec", DEFAULT_DATA_DIR, progress=True)["test"])
    types, differ, split_default = picture_types(split)
    nets = {"shipped focal/codec": load_model("codec")}
    for w in a.weights:
        nets[str(w)] = load_model(Path(w))
    res = {
        "split": f"codec test, data version {DATA_VERSION['codec']} ({len(split.sources)} held-out "
        f"sources, {len(split.videos)} encodes, 6 frames each)",
        "gop_patterns": sorted({"".join(t) for t in types.values()}),
        "reencoded_videos_differing_from_stored": differ,
        "default_threads_split": "the same test encodes made with every encoder's default thread "
        f"count on this machine ({os.cpu_count()} cores)",
        "models": {},
    }
    for name, net in nets.items():
        r = analyse(net.eval(), split, types)
        r["default_threads"] = analyse(net, split_default, types)
        res["models"][name] = r
        print(
            f"{name}: frame accuracy {r['frame_accuracy_mean']:.3f} ({r['n_frames']} frames), "
            f"video accuracy {r['video_accuracy']:.3f} ({r['n_videos']} encodes); "
            f"default-threads re-encode: frame {r['default_threads']['frame_accuracy_mean']:.3f}, "
            f"video {r['default_threads']['video_accuracy']:.3f}"
        )
        for k, v in r["frame_accuracy_by_codec_and_picture_type"].items():
            print(f"  {k}: {v['accuracy']:.2f} of {v['frames']}")
        for k, v in r["frame_accuracy_by_codec_and_encoder_threads"].items():
            print(f"  {k}: {v['accuracy']:.2f} of {v['frames']}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1))
    print(
        f"{len(differ)} of {len(split.videos)} re-encoded videos differ from the stored frames: "
        + ", ".join(sorted({f"{d['codec']} {d['rate_control']}" for d in differ}))
    )
    print(f"wrote {OUT}")
    return res


if __name__ == "__main__":
    main()
