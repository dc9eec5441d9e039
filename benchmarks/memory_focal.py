"""Peak memory of FOCAL ``classify``, ``temporal.detect`` and ``spatial.localize`` versus the
number of frames.

Claim (issue 25): all three keep compact per-frame results (``classify``: K mean probabilities
per frame; ``detect``: one K-value descriptor per frame; ``localize``: a running sum of the patch
features plus the first ``keep_frames`` frames for display), so peak RSS is flat in the number of
frames: within 10 % from 100 to 1,000 frames of 720p.

Clips: a 1280x720 H.264 clip (a textured scene panning 2 px per frame, CRF 23, GOP 25, preset
ultrafast, made once with ``toolkit.synth.encode``). Each measurement runs in a fresh subprocess
that reports its peak resident set size (``getrusage`` maximum), and the same child without the
analysis (imports + model load) gives the baseline.

The analyses run at patch stride 32 (``--stride``; the seed's 8 gives the same memory behaviour
at 16x the fully connected cost) with the shipped models on ``--device`` (default auto). The
networks run fully convolutionally over the analysed pixels whatever the stride (about 2 s per
720p frame and network on one core), so ``--roi`` bounds that cost on a CPU: every frame is
still decoded whole, and what would grow with the frame count (decoded frames, per-frame
feature maps) still would.

Run:  python benchmarks/memory_focal.py [--frames 100 1000] [--stride 32] [--folder /tmp] [--roi T L H W]
      (the committed JSON: --roi 232 448 256 384 --threads 1, on 2 loaded CPU cores)
      python benchmarks/memory_focal.py --quick   (classify on 4 and 16 frames of 96x128; the tests)
Writes benchmarks/results/memory_focal.json (``--quick`` writes only with ``--out``).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULT = Path(__file__).parent / "results" / "memory_focal.json"

#: analyses measured: name -> statement run in the child on ``path`` (``n`` frames, ``stride``)
CASES = {
    "baseline": "import toolkit.focal, toolkit.focal.spatial as sp; m = toolkit.focal.load_model('codec', "
    "device=dev); q = toolkit.focal.load_model('quality', device=dev)",
    "focal.classify": "import toolkit.focal as f; "
    "r = f.classify(path, 'codec', stride=stride, count=n, device=dev, roi=roi)",
    "focal.temporal": "import toolkit.focal.temporal as t; "
    "r = t.detect(path, count=n, stride=stride, device=dev, roi=roi)",
    "focal.spatial": "import toolkit.focal.spatial as sp; "
    "r = sp.localize(path, frames=range(n), stride=stride, device=dev, roi=roi)",
}

_CHILD = r"""
import json, resource, sys, time
path, n, stride, dev, stmt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
roi = json.loads(sys.argv[7])
import torch
torch.set_num_threads(int(sys.argv[6]))
t0 = time.perf_counter()
exec(stmt)
seconds = time.perf_counter() - t0
frames = len(getattr(r, "frame_index", ())) if "r" in dir() else 0
print("@@MEM@@" + json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                              "seconds": seconds, "frames": frames}))
"""


def make_clip(path: Path, n_frames: int, size: tuple[int, int]) -> Path:
    """A ``size`` (H, W) H.264 clip of ``n_frames`` frames: a textured scene panning 2 px / frame."""
    from toolkit.synth import encode

    h, w = size
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 256, (h // 8 + 1, (w + 2 * n_frames) // 8 + 2), dtype=np.uint8)
    scene = np.kron(scene, np.ones((8, 8), np.uint8))[:h]  # 8x8 blocks: texture the codecs keep
    y, x = np.mgrid[0:h, 0 : scene.shape[1]]
    scene = np.clip(scene.astype(int) // 2 + 64 + (40 * np.sin(x / 37.0 + y / 23.0)).astype(int), 0, 255)
    scene = scene.astype(np.uint8)

    def frames():
        for i in range(n_frames):
            yield np.ascontiguousarray(scene[:, 2 * i : 2 * i + w])

    return encode(frames(), path, codec="h264", quality=23, rate_control="crf", gop=25, preset="ultrafast")


def measure(path: Path, case: str, n: int, stride: int, device: str, threads: int, roi=None) -> dict:
    args = [str(path), str(n), str(stride), device, CASES[case], str(threads), json.dumps(roi)]
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": str(threads), "HOME": str(Path.home())},
    )
    line = p.stdout.rpartition("@@MEM@@")[2].strip()
    if not line:
        raise RuntimeError(f"{case} on {n} frames failed:\n{p.stderr[-3000:]}")
    return json.loads(line)


def run(
    frames: list[int],
    size: tuple[int, int],
    stride: int,
    device: str,
    threads: int,
    folder: Path,
    baseline: bool = True,
    out_file: Path | None = None,
    cases: tuple[str, ...] = ("focal.classify", "focal.temporal", "focal.spatial"),
    roi: list[int] | None = None,
) -> dict:
    """Measure every case; with ``out_file`` the JSON is rewritten after each measurement, so a run
    stopped early keeps what it measured (``complete`` says whether every case finished)."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"focal_memory_{size[0]}x{size[1]}_{max(frames)}.mp4"
    t0 = time.perf_counter()
    if not clip.is_file():
        make_clip(clip, max(frames), size)
    out = {
        "clip": {"size": list(size), "frames": max(frames), "seconds_to_make": time.perf_counter() - t0},
        "settings": {"stride": stride, "device": device, "threads": threads, "frames": frames, "roi": roi},
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "complete": False,
    }

    def save():
        if out_file is not None:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text(json.dumps(out, indent=1) + "\n")

    base = measure(clip, "baseline", 1, stride, device, threads, roi) if baseline else {"peak_rss_mb": 0.0}
    out["baseline_peak_rss_mb"] = base["peak_rss_mb"] if baseline else None
    print(f"baseline (imports + both models): {base['peak_rss_mb']:.0f} MB")
    for case in cases:
        rows: list[dict] = []
        out[case] = {"runs": rows}
        for n in frames:
            m = measure(clip, case, n, stride, device, threads, roi)
            m["n_frames"] = n
            m["above_baseline_mb"] = m["peak_rss_mb"] - base["peak_rss_mb"] if baseline else None
            rows.append(m)
            print(f"{case:15s} {n:5d} frames: peak RSS {m['peak_rss_mb']:7.0f} MB ({m['seconds']:.0f} s)")
            save()
        growth = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"] - 1
        out[case].update(growth=growth, flat_within_10pct=bool(abs(growth) <= 0.10))
        print(f"{case:15s} growth {100 * growth:+.1f} % from {frames[0]} to {frames[-1]} frames")
    out["complete"] = True
    save()
    return out


def readme_rows(result: dict) -> str:
    """Markdown table rows for README: peak RSS per analysis and frame count, and the growth."""
    rows = []
    h, w = result["clip"]["size"]
    for case in ("focal.classify", "focal.temporal", "focal.spatial"):
        r = result.get(case)
        if not r or not r["runs"]:
            continue
        cells = ", ".join(f"{x['n_frames']} frames {x['peak_rss_mb']:.0f} MB" for x in r["runs"])
        growth = f"growth {100 * r['growth']:+.1f} %" if "growth" in r else "not finished"
        roi = result["settings"].get("roi")
        region = f", region {roi[3]}x{roi[2]}" if roi else ""
        rows.append(
            f"| FOCAL `{case}` peak RSS, {w}x{h}{region}, stride {result['settings']['stride']} "
            f"| {cells} ({growth}) |"
        )
    return "\n".join(rows)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--stride", type=int, default=32)
    ap.add_argument("--size", type=int, nargs=2, default=[720, 1280], metavar=("H", "W"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--folder", type=Path, default=Path("/tmp"))
    ap.add_argument(
        "--roi",
        type=int,
        nargs=4,
        default=None,
        metavar=("TOP", "LEFT", "H", "W"),
        help="analyse this region of every (whole, decoded) frame: the networks' cost is per analysed pixel",
    )
    ap.add_argument("--quick", action="store_true", help="classify, 4 and 16 frames of 96x128 (the tests)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    out = a.out or (None if a.quick else RESULT)
    if a.quick:
        result = run([4, 16], (96, 128), 32, "cpu", 1, a.folder, baseline=False, cases=("focal.classify",))
    else:
        result = run(
            sorted(a.frames), tuple(a.size), a.stride, a.device, a.threads, a.folder, out_file=out, roi=a.roi
        )
    result["quick"] = bool(a.quick)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
