"""Benchmark: country classifier (demo model) on held-out demo images, every fusion rule (seed Table 7.3).

    python benchmarks/geo_country.py            # full: 15 held-out images per class
    TOOLKIT_QUICK=1 python benchmarks/geo_country.py

Writes benchmarks/results/geo_country.json. The shipped demo model was trained on crops of the left
60 % of 8 photos (toolkit.geo.train.DEMO_PHOTOS); the held-out images are crops of the right 40 %.
These numbers measure the pipeline on that toy task, not geolocation (see the model card).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from toolkit._util import quick_mode
from toolkit.geo import country, train

SEED_TABLE_7_3_VIPPGEO = {  # seed 001, Table 7.3, VIPPGeo test set (76,269 images): top1/3/5/10/bal
    "upper_left": [0.57, 0.76, 0.83, 0.90, 0.50],
    "upper_right": [0.57, 0.75, 0.82, 0.90, 0.49],
    "lower_left": [0.60, 0.77, 0.83, 0.91, 0.53],
    "lower_right": [0.59, 0.77, 0.83, 0.91, 0.52],
    "centre": [0.60, 0.78, 0.84, 0.91, 0.54],
    "max": [0.65, 0.80, 0.86, 0.92, 0.59],
    "resize": [0.64, 0.80, 0.86, 0.92, 0.60],
    "mean": [0.66, 0.81, 0.87, 0.93, 0.60],
}


def main() -> dict:
    torch.set_num_threads(2)
    n_test = 4 if quick_mode() else 15
    work = Path(tempfile.mkdtemp(prefix="geo_bench_"))
    # same generator and seed as the training run, so the test crops are the held-out ones
    csv = train.make_demo_dataset(work, n_train=40, n_test=n_test, seed=0)
    items = [it for it in train.read_dataset(csv) if it["split"] == "test"]
    model = country.load_model("geo/country_demo")
    labels = [it["label"] for it in items]
    out = {"model": "geo/country_demo", "n_test": len(items), "quick": quick_mode(), "fusions": {}}
    t0 = time.time()
    # classify each image's 5 crops once, then fuse them every way (and one pass for 'resize')
    crop_probs = [country.analyze(it["path"], model).crop_probabilities for it in items]
    resized = np.stack([country.analyze(it["path"], model, fusion="resize").probabilities for it in items])
    for fusion in country.FUSIONS:
        if fusion == "resize":
            probs = resized
        else:
            probs = np.stack([country.fuse(cp, fusion) for cp in crop_probs])
        out["fusions"][fusion] = country.evaluate(labels, probs)
        r = out["fusions"][fusion]
        print(
            f"{fusion:12s} top1 {r['top1']:.3f} top3 {r['top3']:.3f} top5 {r['top5']:.3f} "
            f"top10 {r['top10']:.3f} balanced {r['balanced']:.3f}   "
            f"seed (VIPPGeo): {SEED_TABLE_7_3_VIPPGEO[fusion]}"
        )
    out["seconds"] = round(time.time() - t0, 1)
    out["chance_top1"] = 1 / len(train.DEMO_PHOTOS)
    out["seed_table_7_3_vippgeo"] = SEED_TABLE_7_3_VIPPGEO
    res = Path(__file__).resolve().parent / "results" / "geo_country.json"
    res.parent.mkdir(exist_ok=True)
    res.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {res} ({out['seconds']} s)")
    return out


if __name__ == "__main__":
    main()
