"""Calibrate the VPF decision threshold on single-encoded videos.

``python -m toolkit.vpf.calibrate [--n 60] [--fpr 0.03] [--frames 250] [--work /tmp/vpf_calib]``

Encodes ``--n`` pristine sources once with H.264 (half without, half with two
B-frames; GOP 10-60; QP 16-36), analyses them, and writes the threshold that
lets at most ``--fpr`` of them through (``toolkit.metrics.threshold_at_fpr``,
decision ``vpf_value > threshold``) to ``toolkit/vpf/threshold.json`` with its
provenance. The sources use seeds disjoint from ``benchmarks/vpf_accuracy.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import time

import numpy as np

from toolkit.metrics import threshold_at_fpr
from toolkit.vpf.core import THRESHOLD_FILE
from toolkit.vpf.dataset import default_sources, make_specs, run_set

CALIBRATION_SEED = 101  # benchmarks use seeds 1 and 2: disjoint sources and settings


def calibrate(
    n: int = 60,
    fpr: float = 0.03,
    n_frames: int = 250,
    work="/tmp/vpf_calib",
    write: bool = True,
    progress: bool = True,
    jobs: int = 1,
) -> dict:
    """Run the calibration; returns (and optionally writes) the threshold record.

    ``n`` videos of ``n_frames`` frames, target false-positive rate ``fpr``; clips are
    made in ``work``; ``write`` replaces ``toolkit/vpf/threshold.json``.

    >>> rec = calibrate(n=4, n_frames=60, write=False, progress=False)  # doctest: +SKIP
    >>> sorted(rec)[:3]                                                  # doctest: +SKIP
    ['command', 'data', 'date']
    """
    if n < 2:
        raise ValueError("need at least two calibration videos")
    t0 = time.time()
    sources = default_sources(n_photo=8, n_real=4, seed=CALIBRATION_SEED)
    specs = make_specs(0, n // 2, CALIBRATION_SEED, 0, sources) + make_specs(
        0, n - n // 2, CALIBRATION_SEED + 1, 2, sources
    )
    rows = run_set(
        specs, f"{work}/clips", n_frames, cache_dir=f"{work}/sources", progress=progress, jobs=jobs
    )
    scores = np.array([r["vpf_value"] for r in rows])
    thr = threshold_at_fpr(scores, fpr)
    fp = int((scores > thr).sum())
    record = {
        "threshold": thr,
        "rule": "double_encoded = vpf_value > threshold",
        "target_fpr": fpr,
        "measured_fpr_on_calibration_set": fp / len(scores),
        "n_videos": len(scores),
        "data": (
            f"{len(scores)} single-encoded H.264 videos ({n // 2} without B-frames, "
            f"{n - n // 2} with 2 B-frames), {n_frames} frames each, GOP 10-60, QP 16-36, "
            f"made by toolkit.vpf.dataset from sources {sources} (photo sequences 288x352, "
            "real clips downscaled by 2) with seeds "
            f"{CALIBRATION_SEED}/{CALIBRATION_SEED + 1}"
        ),
        "score_quantiles": {q: float(np.quantile(scores, q)) for q in (0.5, 0.9, 0.95, 0.97, 1.0)},
        "scores_no_b": [r["vpf_value"] for r in rows if r["bframes"] == 0],
        "scores_b": [r["vpf_value"] for r in rows if r["bframes"] > 0],
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": f"python -m toolkit.vpf.calibrate --n {n} --fpr {fpr} --frames {n_frames}",
        "python": platform.python_version(),
        "seconds": round(time.time() - t0, 1),
    }
    if write:
        THRESHOLD_FILE.write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv=None) -> None:
    """Command line: ``python -m toolkit.vpf.calibrate [--n 60] [--fpr 0.03] [--dry-run]``.

    >>> main(["--n", "4", "--frames", "60", "--dry-run"])  # doctest: +SKIP
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--fpr", type=float, default=0.03)
    ap.add_argument("--frames", type=int, default=250)
    ap.add_argument("--work", default="/tmp/vpf_calib")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (2 cores at most)")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write threshold.json")
    a = ap.parse_args(argv)
    rec = calibrate(a.n, a.fpr, a.frames, a.work, write=not a.dry_run, jobs=a.jobs)
    print(json.dumps({k: v for k, v in rec.items() if not k.startswith("scores_")}, indent=2))


if __name__ == "__main__":
    main()
