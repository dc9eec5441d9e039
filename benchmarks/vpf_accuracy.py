"""VPF accuracy: double-encoding detection and first-GOP estimation on a generated set.

Run: ``python benchmarks/vpf_accuracy.py [--n-pos 40] [--n-neg 40] [--frames 250]``
(``TOOLKIT_QUICK=1`` shrinks it to a few clips). Writes
``benchmarks/results/vpf_accuracy.json``.

Data (``toolkit.vpf.dataset``, seeds 1 and 2, disjoint from the calibration
seeds 101/102): pristine sources = photo sequences 288x352 (pan / zoom /
mixed motion) and real clips downscaled by 2; positives: first codec MPEG-2 /
MPEG-4 / H.264 with GOP 10-50, then H.264 QP 16-36 with a GOP 10-60 that is
not a multiple or divisor of the first; negatives: single H.264 encodes.
Measured separately without and with (2) B-frames in the last encoding:

* TPR at the shipped calibrated threshold and its FPR on these negatives;
* TPR at 3% FPR from the ROC of this set (scikit-learn, via toolkit.metrics), AUC;
* GOP estimation accuracy: exact first GOP among detected positives.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from toolkit._util import quick_mode
from toolkit.metrics import roc, tpr_at_fpr
from toolkit.vpf import default_threshold, threshold_provenance
from toolkit.vpf.dataset import default_sources, make_specs, run_set

RESULTS = Path(__file__).resolve().parent / "results"


def summarize(df: pd.DataFrame, thr: float, fpr: float = 0.03) -> dict:
    """Detection and GOP-estimation numbers for one set (rows of run_set)."""
    y = df["label"].to_numpy()
    s = df["vpf_value"].to_numpy(dtype=float)
    pos, neg = df[y == 1], df[y == 0]
    detected = pos[pos["vpf_value"] > thr]
    out = {
        "n_pos": int(len(pos)),
        "n_neg": int(len(neg)),
        "threshold": thr,
        "tpr_at_calibrated_threshold": float((pos["vpf_value"] > thr).mean()),
        "fpr_at_calibrated_threshold": float((neg["vpf_value"] > thr).mean()),
        "tpr_at_3pct_fpr_roc": tpr_at_fpr(y, s, fpr) if len(pos) and len(neg) else None,
        "auc": roc(y, s).auc if len(pos) and len(neg) else None,
        "gop_exact_among_detected": (
            float((detected["best_gop"] == detected["true_gop"]).mean()) if len(detected) else None
        ),
        "n_detected": int(len(detected)),
        "gop_exact_among_all_positives": float((pos["best_gop"] == pos["true_gop"]).mean()),
        "inconclusive": int((df["status"] == "inconclusive").sum()),
    }
    by_codec = {}
    for codec, g in pos.groupby("first_codec"):
        d = g[g["vpf_value"] > thr]
        by_codec[codec] = {
            "n": int(len(g)),
            "tpr_at_calibrated_threshold": float((g["vpf_value"] > thr).mean()),
            "gop_exact_among_detected": float((d["best_gop"] == d["true_gop"]).mean()) if len(d) else None,
        }
    out["by_first_codec"] = by_codec
    qp = pd.cut(pos["second_qp"], [15, 22, 29, 36], labels=["QP16-22", "QP23-29", "QP30-36"])
    out["tpr_by_second_qp"] = {
        str(k): float((g["vpf_value"] > thr).mean()) for k, g in pos.groupby(qp, observed=True)
    }
    return out


def main(argv=None) -> dict:
    quick = quick_mode()
    ap = argparse.ArgumentParser(description="VPF accuracy benchmark")
    ap.add_argument("--n-pos", type=int, default=6 if quick else 40)
    ap.add_argument("--n-neg", type=int, default=6 if quick else 40)
    ap.add_argument("--frames", type=int, default=120 if quick else 250)
    ap.add_argument("--work", default="/tmp/vpf_bench")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (2 cores at most)")
    ap.add_argument(
        "--out", default=str(RESULTS / ("vpf_accuracy_quick.json" if quick else "vpf_accuracy.json"))
    )
    a = ap.parse_args(argv)
    t0 = time.time()
    thr = default_threshold()
    sources = default_sources(n_photo=12, n_real=6, seed=1)
    results = {}
    rows_all = []
    for name, seed, bframes in (("no_b", 1, 0), ("b", 2, 2)):
        specs = make_specs(a.n_pos, a.n_neg, seed, bframes, sources)
        clip_dir = f"{a.work}/clips_{a.n_pos}_{a.n_neg}_{a.frames}"  # spec ids depend on the sizes
        rows = run_set(specs, clip_dir, a.frames, cache_dir=f"{a.work}/sources", jobs=a.jobs)
        df = pd.DataFrame(rows)
        rows_all += rows
        results[name] = summarize(df, thr)
        print(
            f"[{name}] " + json.dumps({k: v for k, v in results[name].items() if not isinstance(v, dict)}),
            flush=True,
        )
    report = {
        "benchmark": "vpf_accuracy",
        "command": "python benchmarks/vpf_accuracy.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "quick_mode": quick,
        "frames_per_clip": a.frames,
        "sources": sources,
        "threshold_provenance": {
            k: v for k, v in threshold_provenance().items() if not k.startswith("scores_")
        },
        "results": results,
        "seed_reference": {"tpr_at_3pct_fpr_no_b": 0.75, "tpr_at_3pct_fpr_b": 0.43},
        "seconds": round(time.time() - t0, 1),
        "clips": rows_all,
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"wrote {a.out} in {report['seconds']} s")
    return report


if __name__ == "__main__":
    main()
