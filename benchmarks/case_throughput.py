"""Case throughput: files per minute, serial versus a 2-worker Dask LocalCluster, in one run.

Claim (issue 17): the case analysis scales out on Dask with one task per file,
and the results are the serial run's. The case is a folder of 40 short clips
the size of ``sample_data``'s (352x288, H.264; every other one double encoded
MPEG-2 -> H.264), made with ``toolkit.synth`` into a temporary folder and never
committed. Both runs analyse the same folder with ``toolkit.case.analyze``
(``methods="auto"``): first serially in this process (torch's default threads),
then on the ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
processes=True)`` that ``scheduler="local"`` starts
(``toolkit.case.distributed.local_cluster``: one torch thread per worker, glibc's
default malloc settings).
The Dask time is reported with and without the cluster's start-up (and shutdown); workers
start cold (they import torch and load their models in their first task).
Peak memory per worker is each worker process's ``ru_maxrss`` after the run.

Run:  python benchmarks/case_throughput.py [--files 40] [--frames 150] [--workers 2]
Writes benchmarks/results/case_throughput.json (``case_throughput_quick.json``
in quick mode: 6 clips of 30 frames). Run it on a quiet machine: the 1-minute
load average at start and end is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from toolkit._util import quick_mode


def _peak_rss_mib() -> float:
    """Peak resident memory of the calling process, MiB (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_case(folder: Path, n_files: int, n_frames: int, size=(288, 352)) -> list[Path]:
    """``n_files`` short clips in ``folder``: even ones H.264 once, odd ones MPEG-2 then H.264."""
    from toolkit.synth import PHOTOS, double_encode, encode, photo_sequence

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n_files):
        frames = photo_sequence(PHOTOS[i % len(PHOTOS)], n_frames=n_frames, size=size, seed=100 + i)
        if i % 2 == 0:
            p = encode(frames, folder / f"clip_{i:02d}_single.mp4", codec="h264", quality=22, gop=33)
        else:
            p = folder / f"clip_{i:02d}_double.mp4"
            double_encode(
                frames,
                p,
                {"codec": "mpeg2", "quality": 3, "gop": 12},
                {"codec": "h264", "quality": 22, "gop": 33},
            )
        out.append(Path(p))
    return out


def _compare(a, b, path="") -> tuple[list[str], float]:
    """``(differences other than float rounding, largest float difference)`` of two JSON-like values."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            return [], abs(float(a) - float(b))
        return [path], 0.0
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [path + "{keys}"], 0.0
        diffs, worst = [], 0.0
        for k in a:
            d, w = _compare(a[k], b[k], f"{path}.{k}")
            diffs += d
            worst = max(worst, w)
        return diffs, worst
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [path + "[len]"], 0.0
        diffs, worst = [], 0.0
        for i, (x, y) in enumerate(zip(a, b)):
            d, w = _compare(x, y, f"{path}[{i}]")
            diffs += d
            worst = max(worst, w)
        return diffs, worst
    return ([] if a == b else [path]), 0.0


class _RssSampler:
    """Peak resident memory of this process while the ``with`` block runs (psutil, every 50 ms), MiB."""

    def __init__(self):
        import threading

        import psutil

        self.proc, self.peak, self.stop = psutil.Process(), 0.0, threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss / 2**20)
            self.stop.wait(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss / 2**20)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv=None) -> dict:
    quick = quick_mode()
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=6 if quick else 40)
    ap.add_argument("--frames", type=int, default=30 if quick else 150)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--methods", default="auto", help="'auto' or a comma-separated list of methods")
    ap.add_argument(
        "--out",
        default=str(
            Path(__file__).parent
            / "results"
            / ("case_throughput_quick.json" if quick else "case_throughput.json")
        ),
    )
    a = ap.parse_args(argv)
    methods = "auto" if a.methods == "auto" else [m.strip() for m in a.methods.split(",")]

    import cloudpickle
    import dask
    import distributed
    import torch

    if __name__ != "__main__":  # imported: the workers cannot import this script, send its helpers by value
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    from distributed import Client

    import toolkit
    from toolkit.case import analyze
    from toolkit.case.distributed import WORKER_CONFIG, WORKER_ENV, local_cluster

    tmp = Path(tempfile.mkdtemp(prefix="case_throughput_"))
    try:
        t0 = time.perf_counter()
        files = make_case(tmp / "case", a.files, a.frames)
        make_s = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        print(f"{len(files)} clips of {a.frames} frames ({size_mb:.1f} MB) made in {make_s:.0f} s in {tmp}")
        load_start = os.getloadavg()

        # --- serial, in this process ------------------------------------------------------
        with _RssSampler() as rss_serial:
            t0 = time.perf_counter()
            serial = analyze(tmp / "case", methods, progress=False)
            serial_s = time.perf_counter() - t0
        print(f"serial: {serial_s:.1f} s, {60 * len(files) / serial_s:.1f} files/min")
        load_mid = os.getloadavg()

        # --- Dask LocalCluster ------------------------------------------------------------
        t0 = time.perf_counter()
        cluster = local_cluster(a.workers)  # what scheduler="local" starts
        client = Client(cluster)
        start_s = time.perf_counter() - t0
        try:
            t1 = time.perf_counter()
            dist = analyze(tmp / "case", methods, progress=False, scheduler=client)
            run_s = time.perf_counter() - t1
            rss = client.run(_peak_rss_mib)
            threads = client.run(_torch_threads)
        finally:
            client.close()
            cluster.close()
        dask_s = time.perf_counter() - t0
        print(
            f"dask ({a.workers} workers): {dask_s:.1f} s with start-up ({start_s:.1f} s), "
            f"{60 * len(files) / dask_s:.1f} files/min"
        )
        load_end = os.getloadavg()

        rec_serial = [r.to_dict(timings=False) for r in serial.files]
        rec_dask = [r.to_dict(timings=False) for r in dist.files]
        same = rec_serial == rec_dask
        diffs, worst = _compare(rec_serial, rec_dask)
        verdicts = [[(m.method, m.status, m.verdict) for m in r.methods] for r in serial.files]
        verdicts_dist = [[(m.method, m.status, m.verdict) for m in r.methods] for r in dist.files]
        per_file = [r.seconds for r in serial.files]
        counts = {}
        for r in serial.files:
            for m in r.methods:
                counts[f"{m.method}:{m.verdict or m.status}"] = (
                    counts.get(f"{m.method}:{m.verdict or m.status}", 0) + 1
                )
        result = {
            "case": {
                "files": len(files),
                "frames_per_clip": a.frames,
                "size": [288, 352],
                "codec": "h264 (even: encoded once, QP 22 GOP 33; odd: MPEG-2 q3 GOP 12 then H.264)",
                "megabytes": round(size_mb, 2),
                "methods": methods,
                "method_results": dict(sorted(counts.items())),
            },
            "serial": {
                "seconds": serial_s,
                "files_per_min": 60 * len(files) / serial_s,
                "median_seconds_per_file": statistics.median(per_file) if per_file else None,
                "peak_rss_mib": rss_serial.peak,
                "torch_threads": torch.get_num_threads(),
            },
            "dask_local": {
                "workers": a.workers,
                "threads_per_worker": 1,
                "seconds_with_startup": dask_s,
                "cluster_startup_seconds": start_s,
                "seconds_tasks_only": run_s,
                "files_per_min": 60 * len(files) / dask_s,
                "files_per_min_tasks_only": 60 * len(files) / run_s,
                "peak_rss_mib_per_worker": sorted(rss.values()),
                "torch_threads_per_worker": sorted(threads.values()),
                "worker_config": WORKER_CONFIG,
                "worker_env": WORKER_ENV,
            },
            "ratio_dask_vs_serial": serial_s / dask_s,
            "ratio_dask_vs_serial_tasks_only": serial_s / run_s,
            "records_identical_minus_timings": same,
            "verdicts_identical": verdicts == verdicts_dist,
            "non_float_differences": diffs[:20],
            "largest_float_difference": worst,
            "identity_note": (
                "the serial run uses torch's default thread count here, each Dask worker one thread "
                "(WORKER_ENV: OMP_NUM_THREADS=1): float32 sums are added in another order, so floats may "
                "differ in their last bits; with one thread in both (as tests/case/test_distributed.py "
                "runs them) the records are identical"
            ),
            "load_average_at_start": list(load_start),
            "load_average_after_serial": list(load_mid),
            "load_average_at_end": list(load_end),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "processor": platform.processor() or platform.machine(),
                "cuda": torch.cuda.is_available(),
            },
            "versions": {
                "toolkit": toolkit.__version__,
                "dask": dask.__version__,
                "distributed": distributed.__version__,
                "torch": torch.__version__,
            },
            "command": "python benchmarks/case_throughput.py" + (" (quick mode)" if quick else ""),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"ratio {result['ratio_dask_vs_serial']:.2f}x with start-up, "
        f"{result['ratio_dask_vs_serial_tasks_only']:.2f}x tasks only; peak RSS per worker "
        f"{result['dask_local']['peak_rss_mib_per_worker']} MiB; identical: {same}; "
        f"load average {load_end[0]:.2f}"
    )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
