"""Peak memory of ``toolkit.video.macroblock_types`` and ``toolkit.vpf.analyze`` versus video length.

Claim (issue 25): the analyses keep per-frame results as compact arrays, so peak RSS is flat in
video length (within 10 % from 1 to 60 minutes of 1080p) and an hour of 1080p goes through VPF in
under 1 GB.

Clips: one minute of 1080p H.264 is made by ``toolkit.synth.sources.cached_hd_clip(60)`` (a real
clip upscaled to 1920x1080, CRF 23, GOP 50, 25 fps, preset veryfast); longer clips are that
minute's packets repeated without re-encoding (:func:`concat_clip`: same bitstream, timestamps
shifted), so a one-hour clip costs seconds to make. Each measurement runs in a fresh subprocess
that reports its peak resident set size summed over itself and its worker processes (sampled
every 50 ms with psutil: ``macroblock_types`` decodes long streams in two processes), with
``getrusage`` maxima of itself and its children for reference, and a baseline subprocess that
only imports the toolkit.

Run:  python benchmarks/memory.py [--minutes 1 15 60] [--folder /tmp]
      python benchmarks/memory.py --cases case.analyze --minutes 60 --out benchmarks/results/memory_case.json
      python benchmarks/memory.py --quick   (VPF on 12 s and 36 s of 320x176 in one process, the tests)
Writes benchmarks/results/memory.json (``--quick`` writes nothing unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
RESULT = Path(__file__).parent / "results" / "memory.json"

#: analyses measured: name -> python statement run on ``path`` in the child
CASES = {
    "import_only": "import toolkit.vpf",
    "macroblock_types": "import toolkit.video as v; r = v.macroblock_types(path)",
    "vpf.analyze": "import toolkit.vpf as vpf; r = vpf.analyze(path)",
    # --quick: one decoding process, whose peak getrusage reads exactly (the sampler can miss a
    # pair of worker processes that live under a second on a short clip, and did under load)
    "vpf.analyze_serial": "import toolkit.vpf as vpf; r = vpf.analyze(path, workers=1)",
    # the whole case: every method "auto" runs, with CASE_DEFAULTS, and the HTML exhibit saved
    "case.analyze": "import os, toolkit.case as c; rep = c.analyze(path, progress=False); "
    "html = rep.save_html(path + '.exhibit.html'); "
    "extra = {'exhibit_mb': os.path.getsize(html) / 2**20, 'methods': {m.method: "
    "{'status': m.status, 'verdict': m.verdict, 'seconds': round(m.seconds, 1), 'reason': m.reason} "
    "for f in rep.files for m in f.methods}}; os.remove(html)",
}

_CHILD = r"""
import json, resource, sys, threading, time
import psutil
path = sys.argv[1]
me = psutil.Process()
peak = {"tree": 0}
done = threading.Event()
def sample():
    # resident memory of this process plus every descendant (the MB-trace worker processes)
    while not done.is_set():
        total = 0
        for p in [me] + me.children(recursive=True):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak["tree"] = max(peak["tree"], total)
        done.wait(0.05)
threading.Thread(target=sample, daemon=True).start()
t0 = time.perf_counter()
exec(sys.argv[2])
seconds = time.perf_counter() - t0
done.set()
r = globals().get("r")
self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"peak_rss_mb": max(peak["tree"], self_peak) / 2**20,
                  "self_maxrss_mb": self_peak / 2**20,
                  "children_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "seconds": seconds, "frames": getattr(r, "n_frames", None),
                  "complete": getattr(r, "complete", None), "extra": globals().get("extra")}))
"""


def concat_clip(src: str | os.PathLike, out: str | os.PathLike, repeat: int) -> Path:
    """Write ``out``: the video packets of ``src`` repeated ``repeat`` times, timestamps shifted.

    No re-encoding (packets are copied), so any length costs about the time to write it. ``src``
    must start with a key frame and have a closed last GOP (true for :func:`toolkit.synth.encode`
    output), so every copy decodes on its own.

    >>> concat_clip("sample_data/single/single_h264.mp4", "/tmp/x3.mp4", 3)  # doctest: +SKIP
    """
    out = Path(out)
    tmp = out.with_name(out.stem + ".part" + out.suffix)
    with av.open(str(src)) as probe_c:
        st = probe_c.streams.video[0]
        tb = st.time_base
        span = None
        pts = [p.pts for p in probe_c.demux(st) if p.size and p.pts is not None]
        step = Fraction(1, 1) / (st.average_rate or 25) / tb
        span = int(max(pts) - min(pts) + round(step))
    with av.open(str(tmp), "w") as oc:
        for k in range(repeat):
            with av.open(str(src)) as ic:
                ist = ic.streams.video[0]
                if k == 0:
                    ost = oc.add_stream_from_template(ist)
                for packet in ic.demux(ist):
                    if not packet.size:
                        continue
                    packet.pts = packet.pts + k * span
                    packet.dts = packet.dts + k * span
                    packet.stream = ost
                    oc.mux(packet)
    tmp.replace(out)
    return out


def quick_clip(repeat: int, folder: str | os.PathLike) -> Path:
    """``repeat`` copies of a 4-second 320x176 H.264 clip (moving noise, GOP 25): for ``--quick``."""
    import numpy as np

    from toolkit.synth import encode

    folder = Path(folder)
    one = folder / "toolkit_memory_quick_4s.mp4"
    if not one.exists():
        rng = np.random.default_rng(0)
        base = rng.integers(0, 256, (176 + 100, 320 + 100, 3), dtype=np.uint8)
        frames = (np.ascontiguousarray(base[k : k + 176, k : k + 320]) for k in range(100))
        encode(frames, one, codec="h264", quality=28, gop=25, preset="ultrafast")
    if repeat == 1:
        return one
    clip = folder / f"toolkit_memory_quick_{4 * repeat}s.mp4"
    if not clip.exists():
        concat_clip(one, clip, repeat)
    return clip


def long_clip(minutes: float, folder: str | os.PathLike) -> Path:
    """The 1080p clip of ``minutes`` whole minutes (the one-minute clip repeated), made once."""
    from toolkit.synth.sources import cached_hd_clip

    folder = Path(folder)
    one = cached_hd_clip(60.0, folder)
    if minutes == 1:
        return one
    clip = folder / f"toolkit_hd_{int(minutes)}min.mp4"
    if not clip.exists():
        concat_clip(one, clip, int(minutes))
    return clip


def measure(case: str, path: Path, timeout: float = 3600) -> dict:
    """Peak RSS (MB), seconds, frames of one case run in a fresh subprocess."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), CASES[case]],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )
    if p.returncode != 0:
        raise RuntimeError(f"{case} on {path} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def summarise(rows: dict, minutes: list, base: dict | None, clip: str, command: str, done: bool) -> dict:
    """The JSON record of the cases measured so far (``rows[case][str(minutes)]``)."""
    growth = {
        case: max(v["peak_rss_mb"] for v in per.values()) / min(v["peak_rss_mb"] for v in per.values()) - 1
        for case, per in rows.items()
    }
    longest = rows.get("vpf.analyze", {}).get(str(minutes[-1]))
    return {
        "clip": clip,
        "minutes": minutes,
        "peak_rss_mb": {case: {m: v["peak_rss_mb"] for m, v in per.items()} for case, per in rows.items()},
        "seconds": {case: {m: round(v["seconds"], 2) for m, v in per.items()} for case, per in rows.items()},
        "frames": {case: {m: v["frames"] for m, v in per.items()} for case, per in rows.items()},
        "import_only_rss_mb": base["peak_rss_mb"] if base else None,
        "extra": {
            case: {m: v["extra"] for m, v in per.items() if v.get("extra")}
            for case, per in rows.items()
            if any(v.get("extra") for v in per.values())
        },
        "rss": "sum of the resident set sizes of the process and its worker processes, sampled every 50 ms",
        "growth_max_over_min": growth,
        "flat_within_10_percent": all(g <= 0.10 for g in growth.values()),
        "vpf_longest_under_1gb": None if longest is None else longest["peak_rss_mb"] < 1024,
        "all_cases_measured": done,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
        },
        "load_average_at_end": os.getloadavg()[0],
        "date": time.strftime("%Y-%m-%d"),
        "command": command,
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, nargs="+", default=[1, 15, 60])
    ap.add_argument(
        "--cases", nargs="+", default=["macroblock_types", "vpf.analyze"], choices=list(CASES)[1:]
    )
    ap.add_argument("--folder", default=os.environ.get("TMPDIR", "/tmp"))
    ap.add_argument(
        "--quick",
        action="store_true",
        help="VPF in one process only, 12 s and 36 s of 320x176 instead of 1080p; writes no JSON",
    )
    ap.add_argument("--out", default=None)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds allowed per measurement")
    args = ap.parse_args(argv)
    minutes = [12 / 60, 36 / 60] if args.quick else args.minutes
    cases = ("vpf.analyze_serial",) if args.quick else tuple(args.cases)
    out = Path(args.out) if args.out else (None if args.quick else RESULT)
    clip_text = (
        "320x176 H.264 (quick_clip)"
        if args.quick
        else "1920x1080 H.264 CRF 23, GOP 50, 25 fps (cached_hd_clip(60) repeated by concat_clip)"
    )
    command = "python benchmarks/memory.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip()

    rows: dict = {}
    base = None if args.quick else measure("import_only", Path(__file__))
    if base is not None:
        print(f"{'import only':>20s}: {base['peak_rss_mb']:7.1f} MB")
    result = {}
    for m in minutes:
        clip = quick_clip(round(m * 15), args.folder) if args.quick else long_clip(m, args.folder)
        for case in cases:
            r = measure(case, clip, timeout=args.timeout)
            rows.setdefault(case, {})[str(m)] = r
            print(
                f"{case:>16s} {m:5g} min: {r['peak_rss_mb']:7.1f} MB peak RSS, {r['frames']} frames, "
                f"{r['seconds']:.1f} s",
                flush=True,
            )
            done = m == minutes[-1] and case == cases[-1]
            result = summarise(rows, minutes, base, clip_text, command, done)
            if out is not None:  # written after every case: an interrupted run keeps what it measured
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(result, indent=2) + "\n")
    for case, g in result["growth_max_over_min"].items():
        print(f"{case}: peak RSS grows {100 * g:.1f} % from {minutes[0]:g} to {minutes[-1]:g} min")
    return result


def readme_rows(result: dict) -> str:
    """Markdown table of peak RSS per case and length, for README (``benchmarks/readme_tables.py``)."""
    minutes = result["minutes"]
    lines = [
        "| analysis (1080p H.264) | " + " | ".join(f"{m:g} min" for m in minutes) + " |",
        "|---|" + "---:|" * len(minutes),
    ]
    for case, per in result["peak_rss_mb"].items():
        cells = [f"{per[str(m)]:.0f} MB" if str(m) in per else "-" for m in minutes]
        lines.append(f"| `{case}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
