"""Benchmark: city verification (demo Siamese model) — TP/FP (eqs. 8.3-8.4) with and without the
country gate and the scene weighting (a miniature of seed Table 8.4).

    python benchmarks/geo_city.py
    TOOLKIT_QUICK=1 python benchmarks/geo_city.py

'Cities' are the 8 demo photos; queries and references are held-out crops (right 40 % of each photo).
The gate uses the demo country classifier; the scene vectors come from the colour-histogram proxy
(city.proxy_scene_vector), not Places365 (not available offline). Writes benchmarks/results/geo_city.json.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from toolkit._util import quick_mode
from toolkit.geo import city, country, train

SEED = {
    "closed_set": {"TP": 0.82, "FP": 0.03},
    "open_set": {"TP": 0.72, "FP": 0.02},
    "table_8_4_closed_no_gate": {"TP": 0.9079, "FP": 0.2639},
}


def main() -> dict:
    torch.set_num_threads(2)
    quick = quick_mode()
    n_test, m, n_q = (6, 5, 2) if quick else (15, 10, 5)
    work = Path(tempfile.mkdtemp(prefix="geo_city_bench_"))
    csv = train.make_demo_dataset(work, n_train=40, n_test=n_test, seed=0)
    items = [it for it in train.read_dataset(csv) if it["split"] == "test"]
    cities = sorted({it["country"] for it in items})
    by = {c: [it["path"] for it in items if it["country"] == c] for c in cities}
    net = city.load_siamese("geo/city_demo")
    cm = country.load_model("geo/country_demo")
    rng = np.random.default_rng(0)
    # cache: pair probabilities, scene vectors and country predictions per image
    scene = {p: city.proxy_scene_vector(p) for c in cities for p in by[c]}
    cpred = {p: country.analyze(p, cm) for c in cities for p in by[c]}
    configs = {
        "siamese only": (False, False),
        "gate": (True, False),
        "scene weighting": (False, True),
        "gate + scene weighting": (True, True),
    }
    C = len(cities)
    mats = {k: np.zeros((C, C)) for k in configs}
    t0 = time.time()
    for ci, claimed in enumerate(cities):
        for qi, qc in enumerate(cities):
            queries = rng.choice(by[qc], min(n_q, len(by[qc])), replace=False)
            for q in queries:
                pool = [p for p in by[claimed] if p != q]
                refs = list(rng.choice(pool, min(m, len(pool)), replace=False))
                p1 = city.pair_probabilities(net, q, refs)
                s = np.array([city.scene_similarity(scene[q], scene[r]) for r in refs])
                gate_ok = city.country_gate(cpred[q], claimed)["passed"]
                for name, (use_gate, use_scene) in configs.items():
                    ok = city.decide(p1, s if use_scene else None)["verified"] and (gate_ok or not use_gate)
                    mats[name][ci, qi] += ok / len(queries)
    out = {"n_cities": C, "m_references": m, "queries_per_cell": n_q, "quick": quick, "results": {}}
    for name, a in mats.items():
        tp = float(np.trace(a) / C)
        fp = float((a.sum() - np.trace(a)) / (C * (C - 1)))
        out["results"][name] = {"TP": round(tp, 4), "FP": round(fp, 4), "matrix": a.round(3).tolist()}
        print(f"{name:24s} TP {tp:.3f}  FP {fp:.3f}")
    out["seconds"] = round(time.time() - t0, 1)
    out["seed"] = SEED
    res = Path(__file__).resolve().parent / "results" / "geo_city.json"
    res.write_text(json.dumps(out, indent=1) + "\n")
    print(f"seed: closed TP 0.82 FP 0.03; open TP 0.72 FP 0.02.  wrote {res} ({out['seconds']} s)")
    return out


if __name__ == "__main__":
    main()
