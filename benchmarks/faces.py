"""Face FCN (seed 003) benchmark: the λ sweep's models on the held-out identity, per manipulation type and
per compression level (raw / c23 / c40), and CPU inference time per 128 x 128 crop.

Measures, in one run, every ``lam_<λ>.pt`` of a sweep folder written by ``python -m toolkit.faces.train``
(and the shipped ``faces/fcn``) on the dataset's held-out identity:

* classification accuracy (threshold 0.5), per compression and per manipulation type (each type
  with the pristine crops of the same compression);
* segmentation pixel accuracy and IoU of the manipulated class on the 49 x 49 grid;
* CPU time per crop (batch 1 and batch 32, one thread, float32).

The training history (epochs done, validation accuracy, wall-clock minutes) is copied from the sweep's
``sweep.json``. The seed's Table II / III numbers (FaceForensics++, method-specific training) are
stored beside them for comparison.

    python -m toolkit.faces.train --data D.npz --out RUNS ...   # the sweep (see toolkit.faces.train)
    python benchmarks/faces.py --data D.npz --runs RUNS           # -> benchmarks/results/faces.json
    TOOLKIT_QUICK=1 python benchmarks/faces.py --out /tmp/f.json  # tiny: 1 clip pair, shipped model only
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from toolkit._util import quick_mode

RESULTS = Path(__file__).resolve().parent / "results"
#: seed 003, Table II (classification accuracy, %) and Table III (segmentation accuracy, %), method-specific
SEED_TABLES = {
    "table2_classification_c23": {
        "0.0": [96.80, 97.72, 97.57],
        "0.2": [97.90, 98.37, 97.90],
        "0.3": [97.86, 98.58, 98.32],
        "0.4": [97.86, 98.44, 98.10],
        "0.5": [97.75, 98.43, 98.24],
        "0.6": [97.55, 98.45, 98.09],
        "0.7": [97.51, 98.38, 98.17],
    },
    "table2_classification_c40": {
        "0.0": [91.60, 84.47, 89.72],
        "0.2": [91.68, 84.88, 89.69],
        "0.3": [92.40, 86.32, 89.77],
        "0.4": [91.95, 86.20, 90.15],
        "0.5": [91.80, 86.40, 90.23],
        "0.6": [91.83, 87.11, 90.56],
        "0.7": [91.71, 86.81, 91.26],
    },
    "table3_segmentation_c23": {
        "0.2": [87.54, 84.34, 84.26],
        "0.3": [89.28, 85.45, 85.37],
        "0.4": [89.24, 85.32, 86.34],
        "0.5": [88.43, 85.60, 86.19],
        "0.6": [88.23, 85.68, 86.43],
        "0.7": [88.58, 85.22, 86.22],
        "1.0": [89.62, 86.38, 86.80],
    },
    "columns": ["Deepfakes", "Face2Face", "FaceSwap"],
    "note": "FaceForensics++ test set, training per manipulation method; not comparable with the project's "
    "generated data except in the direction of the λ effect",
}


def inference_time(model, repeats: int = 5) -> dict:
    """Seconds per 128 x 128 crop on the CPU, one thread, batch 1 and batch 32 (median of ``repeats``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = model.cpu().eval()
    out = {}
    try:
        for batch in (1, 32):
            x = torch.rand(batch, 3, 128, 128)
            times = []
            with torch.no_grad():
                model(x)
                for _ in range(repeats if batch == 1 else max(1, repeats // 2)):
                    t = time.perf_counter()
                    model(x)
                    times.append((time.perf_counter() - t) / batch)
            out[f"batch{batch}_s_per_crop"] = float(np.median(times))
    finally:
        torch.set_num_threads(threads)
    return out


def evaluate_models(ds, models: dict, test_identities) -> dict:
    from toolkit.faces.train import subset_scores

    test = ds.select(np.isin(ds.identity, list(test_identities)))
    return {key: subset_scores(m, test) for key, m in models.items()}


def readme_rows(result: dict) -> str:
    """Markdown table of the λ sweep (held-out identity) beside the seed's Table II / III."""
    lines = [
        "| λ | epochs | acc raw | acc c23 | acc c40 | pixel acc c23 | IoU c23 | seed acc c23 (DF/F2F/FS) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    seed = result["seed_tables"]["table2_classification_c23"]
    seed_seg = result["seed_tables"]["table3_segmentation_c23"]
    for key in sorted(result["models"], key=float):
        m = result["models"][key]
        t = m["test"]

        def f(c, k, t=t):
            v = t.get(c, {}).get(k)
            return f"{v:.3f}" if isinstance(v, (int, float)) else "–"

        ref = seed.get(f"{float(key):.1f}") or seed_seg.get(f"{float(key):.1f}")
        ref_text = "/".join(f"{v:.1f}" for v in ref) if ref else "–"
        ep = f"{m.get('epochs_done', '?')}" + (" (partial)" if m.get("partial") else "")
        lines.append(
            f"| {key} | {ep} | {f('raw', 'accuracy')} | {f('c23', 'accuracy')} | {f('c40', 'accuracy')} | "
            f"{f('c23', 'pixel_accuracy')} | {f('c23', 'iou')} | {ref_text} |"
        )
    return "\n".join(lines)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data", default=None, help="dataset .npz of toolkit.synth.faces (built small in quick mode)"
    )
    p.add_argument("--runs", default=None, help="sweep folder of python -m toolkit.faces.train")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    import torch

    from toolkit import weights
    from toolkit.faces import load_model
    from toolkit.synth.faces import FaceDataset, build_dataset, load_clips

    torch.set_num_threads(1)
    quick = quick_mode()
    t0 = time.time()
    if a.data and Path(a.data).is_file():
        ds = FaceDataset.load(a.data)
    else:
        clips = load_clips(["eat", "hungry"], step=12, max_frames=3) if quick else load_clips(step=2)
        ds = build_dataset(clips, ae_steps=5 if quick else 600)
    test_ids = ("C",) if "C" in set(ds.identity.tolist()) else tuple(sorted(set(ds.identity.tolist()))[-1:])
    models, history = {}, {}
    if a.runs:
        runs = Path(a.runs)
        summary = json.loads((runs / "sweep.json").read_text())
        for key, entry in summary["models"].items():
            models[key] = weights.load(runs / f"lam_{key}.pt", device="cpu")
            history[key] = entry
        test_ids = tuple(summary.get("test_identities", test_ids))
    shipped = load_model(device="cpu")
    scores = evaluate_models(ds, {**models, "shipped": shipped}, test_ids)
    out = {
        "quick": quick,
        "test_identities": list(test_ids),
        "n_test": int(np.isin(ds.identity, list(test_ids)).sum()),
        "models": {},
        "shipped": {
            "name": shipped.weights_name,
            "sha256": shipped.weights_sha256,
            "lam": shipped.lam,
            "test": scores.pop("shipped"),
        },
        "inference_cpu": inference_time(shipped, repeats=2 if quick else 5),
        "seed_tables": SEED_TABLES,
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpu": platform.processor(),
        },
    }
    for key, test in scores.items():
        h = history.get(key, {})
        val = [x["val_accuracy"] for x in h.get("history", []) if x.get("val_accuracy") is not None]
        out["models"][key] = {
            "lam": float(key),
            "epochs_done": len(h.get("history", [])),
            "partial": bool(h.get("partial", False)),
            "train_wall_minutes": round(h.get("train_seconds", 0.0) / 60, 2),
            "best_val_accuracy": max(val) if val else None,
            "test": test,
        }
    if a.runs:
        out["training"] = {k: summary[k] for k in summary if k != "models"}
    out["seconds"] = round(time.time() - t0, 1)
    target = Path(a.out) if a.out else RESULTS / ("faces_quick.json" if quick else "faces.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    from toolkit.result import json_safe

    out = json_safe(out)
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: out[k] for k in ("test_identities", "n_test", "inference_cpu")}, indent=1))
    for key, m in out["models"].items():
        t = m["test"]
        print(
            f"λ={key}: "
            + ", ".join(f"{c}: acc {t[c]['accuracy']:.3f} pix {t[c]['pixel_accuracy']:.3f}" for c in t)
        )
    print(readme_rows(out))
    return out


if __name__ == "__main__":
    main()
