"""Cost of ``toolkit.video.macroblock_types`` versus a plain decode of the same stream.

Claim: MB-type extraction on a 1080p H.264 stream costs at most 2x a plain decode
(issue: foundation); the VPF's own figure is ``benchmarks/vpf_speed.py``.
``ratio_motion_vectors_cost`` is the price of the motion-vector export (``motion_vectors=True`` vs False).
The clip is made by ``toolkit.synth.sources.hd_clip``
(a real clip upscaled to 1920x1080, H.264 CRF 23, GOP 50, 25 fps).

Run:  python benchmarks/mb_types_speed.py [--seconds 60] [--repeat 3]
Writes benchmarks/results/mb_types_speed.json. Timings interleave the methods
and keep the best of ``--repeat`` runs of each, measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from toolkit._util import quick_mode
from toolkit.synth.sources import cached_hd_clip
from toolkit.video import count_decoded_frames, macroblock_types, probe


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10 if quick_mode() else 60)
    ap.add_argument("--repeat", type=int, default=1 if quick_mode() else 3)
    ap.add_argument("--clip", default=None, help="existing clip to use instead of generating one")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "mb_types_speed.json"))
    args = ap.parse_args(argv)

    clip = Path(args.clip) if args.clip else cached_hd_clip(args.seconds)
    info = probe(clip)
    print(f"{clip.name}: {info.width}x{info.height} {info.codec}, {info.n_frames} frames")

    methods = {
        "plain_decode_threaded": lambda: count_decoded_frames(clip, True),
        "plain_decode_1thread": lambda: count_decoded_frames(clip, False),
        "macroblock_types_auto": lambda: macroblock_types(clip).n_frames,
        "macroblock_types_1proc": lambda: macroblock_types(clip, workers=1).n_frames,
        "macroblock_types_auto_no_mv": lambda: macroblock_types(clip, motion_vectors=False).n_frames,
    }
    load_at_start = os.getloadavg()[0]  # other jobs on the machine skew the timings
    best = {k: float("inf") for k in methods}
    for _ in range(args.repeat):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            n = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
            assert n == info.n_frames, (name, n)
    result = {
        "clip": {
            "width": info.width,
            "height": info.height,
            "frames": info.n_frames,
            "seconds": info.duration,
            "codec": info.codec,
            "bit_rate": info.bit_rate,
        },
        "seconds": best,
        "ratio_mb_types_vs_plain_threaded": best["macroblock_types_auto"] / best["plain_decode_threaded"],
        "ratio_mb_types_vs_plain_1thread": best["macroblock_types_auto"] / best["plain_decode_1thread"],
        "ratio_mb_types_1proc_vs_plain_1thread": best["macroblock_types_1proc"]
        / best["plain_decode_1thread"],
        "ratio_motion_vectors_cost": best["macroblock_types_auto"] / best["macroblock_types_auto_no_mv"],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
        },
        "load_average_at_start": load_at_start,
        "repeat": args.repeat,
        "command": "python benchmarks/mb_types_speed.py",
    }
    for k, v in best.items():
        print(f"{k:28s} {v:7.2f} s  ({info.n_frames / v:6.1f} frames/s)")
    print(f"macroblock_types / plain threaded decode = {result['ratio_mb_types_vs_plain_threaded']:.2f}x")
    print(f"macroblock_types / plain 1-thread decode = {result['ratio_mb_types_vs_plain_1thread']:.2f}x")
    print(f"motion vectors on / off = {result['ratio_motion_vectors_cost']:.2f}x")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
