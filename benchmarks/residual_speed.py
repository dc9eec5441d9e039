"""Speed of the SRM feature extraction vs the recast CNN, plus the equivalence check, on 128 x 128 patches.

Patches: 128 x 128 green-band windows (stride 64) of the scikit-image / scikit-learn photos.
Measures patches/s of :func:`toolkit.residual.features_batch` (numpy, vectorised) and of the
recast CNN's pooled histogram (hardmax and alpha = 216 softmax, torch, 2 threads, no grad), the
hardmax/handcrafted count equality and the alpha = 216 histogram difference; then the training speed
(forward + backward, cross-entropy, batch 36 of 128 x 128 patches, 2 threads) of the recast CNN and of
the fast recast CNN (:mod:`toolkit.residual.fast`, product and free codebooks), with the fast
model's hardmax/handcrafted equality. The 1-minute load average is recorded before and after
(the machine is shared: patches/s scale with the free CPU).

Run:  python benchmarks/residual_speed.py     (TOOLKIT_QUICK=1: fewer patches)
Writes benchmarks/results/residual_speed.json.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np


def _fwd_bwd_rate(net, x, y, reps: int) -> float:
    import torch

    best = float("inf")
    for _ in range(reps + 1):  # the first pass warms up
        t = time.perf_counter()
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        best = min(best, time.perf_counter() - t) if _ else best
    return len(x) / best


def _train_speed(tiles, quick: bool) -> dict:
    """Forward + backward patches/s (batch 36, 128 x 128) of the recast and the fast recast CNN."""
    import torch

    from toolkit.residual import RecastCNN, feature_counts
    from toolkit.residual.cnn import to_tensor
    from toolkit.residual.fast import FastRecastCNN

    b = 12 if quick else 36
    reps = 1 if quick else 3
    xb = tiles[:b]
    x = to_tensor(xb)
    y = torch.arange(b) % 2
    load0 = os.getloadavg()[0]
    out = {"train_batch": b, "train_load_avg_1min_before": load0}
    out["recast_fwd_bwd_patches_per_s"] = _fwd_bwd_rate(
        RecastCNN.from_handcrafted(alpha=216.0, device="cpu"), x, y, 1
    )
    for cb in ("product", "free"):
        net = FastRecastCNN.from_handcrafted(alpha=10.0, codebook=cb)
        out[f"fast_{cb}_fwd_bwd_patches_per_s"] = _fwd_bwd_rate(net, x, y, reps if cb == "product" else 1)
        hard = FastRecastCNN.from_handcrafted(hard=True, codebook=cb)
        out[f"fast_{cb}_hardmax_counts_identical"] = bool(
            (hard.counts(xb).numpy().astype(np.int64) == feature_counts(xb)).all()
        )
    net = FastRecastCNN.from_handcrafted(alpha=10.0)
    out["fast_product_fwd_bwd_patches_per_s_crop64"] = _fwd_bwd_rate(
        net, x[..., :64, :64].contiguous(), y, reps
    )
    out["fast_product_speedup_vs_recast"] = (
        out["fast_product_fwd_bwd_patches_per_s"] / out["recast_fwd_bwd_patches_per_s"]
    )
    out["train_load_avg_1min_after"] = os.getloadavg()[0]
    out["target_fwd_bwd_patches_per_s"] = 300
    return out


def main() -> dict:
    import torch

    from toolkit._util import quick_mode
    from toolkit.residual import RecastCNN, feature_counts, features_batch
    from toolkit.residual.cnn import to_tensor
    from toolkit.synth.sources import PHOTOS, photo

    torch.set_num_threads(2)
    quick = quick_mode()
    n_feat, n_cnn = (300, 16) if quick else (2000, 64)
    tiles = []
    for name in PHOTOS:
        g = photo(name)[..., 1]
        tiles += [
            g[t : t + 128, lf : lf + 128]
            for t in range(0, g.shape[0] - 127, 64)
            for lf in range(0, g.shape[1] - 127, 64)
        ]
    tiles = np.stack(tiles)
    x = tiles[np.resize(np.arange(len(tiles)), n_feat)]
    features_batch(x[:32])  # warm-up
    reps = []
    for _ in range(3):
        t = time.perf_counter()
        f = features_batch(x)
        reps.append(time.perf_counter() - t)
    feat_rate = n_feat / min(reps)
    xc = x[:n_cnn]
    hard = RecastCNN.from_handcrafted(hard=True, device="cpu")
    soft = RecastCNN.from_handcrafted(alpha=216.0, device="cpu")
    t = time.perf_counter()
    counts_cnn = np.concatenate([hard.counts(xc[i : i + 16]).numpy() for i in range(0, n_cnn, 16)])
    hard_rate = n_cnn / (time.perf_counter() - t)
    t = time.perf_counter()
    with torch.no_grad():
        h_soft = np.concatenate(
            [soft.histogram(to_tensor(xc[i : i + 16])).numpy() for i in range(0, n_cnn, 16)]
        )
    soft_rate = n_cnn / (time.perf_counter() - t)
    counts_np = feature_counts(xc)
    train = _train_speed(tiles, quick)
    diff = np.abs(h_soft - f[:n_cnn])
    res = {
        "benchmark": "residual_speed",
        "quick": quick,
        "patch": [128, 128],
        "n_patches_features": n_feat,
        "n_patches_cnn": n_cnn,
        "features_patches_per_s": feat_rate,
        "cnn_hardmax_patches_per_s": hard_rate,
        "cnn_softmax216_patches_per_s": soft_rate,
        "ratio_features_to_cnn_hardmax": feat_rate / hard_rate,
        "ratio_features_to_cnn_softmax216": feat_rate / soft_rate,
        "hardmax_counts_identical": bool((counts_cnn.astype(np.int64) == counts_np).all()),
        "hardmax_counts_exact_integers": bool((counts_cnn == np.round(counts_cnn)).all()),
        "softmax216_max_abs_diff": float(diff.max()),
        "softmax216_mean_l1_diff_per_patch": float(diff.sum(1).mean()),
        **train,
        "cpu_count": os.cpu_count(),
        "load_avg_1min": os.getloadavg()[0],
        "machine": platform.platform(),
        "torch_threads": torch.get_num_threads(),
    }
    out = Path(__file__).parent / "results" / "residual_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    for k, v in res.items():
        print(f"{k}: {v}")
    return res


if __name__ == "__main__":
    main()
