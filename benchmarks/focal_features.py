"""Benchmark: FOCAL dense features — exactness vs the patch loop, speed-up, 720p throughput.

Prints the numbers of one run and writes benchmarks/results/focal_features.json.

    python benchmarks/focal_features.py            # full
    TOOLKIT_QUICK=1 python benchmarks/focal_features.py

Timings are wall-clock seconds and process CPU seconds on this machine; the load
average at the start is recorded because the 2 CPU cores are shared.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from toolkit._util import quick_mode, resolve_device
from toolkit.focal import FocalNet, features, features_patchwise, load_model
from toolkit.focal.features import TRUNK_STRIP_ROWS, fused_trunk
from toolkit.weights import WeightsNotFoundError

OUT = Path(__file__).resolve().parent / "results" / "focal_features.json"


def nets():
    """Shipped codec + quality models when present (else random ones: same cost, noted)."""
    try:
        return {"codec": load_model("codec"), "quality": load_model("quality")}, "shipped"
    except WeightsNotFoundError:
        torch.manual_seed(0)
        random_nets = {"codec": FocalNet(4).eval(), "quality": FocalNet(4).eval()}
        return random_nets, "random init (weights not shipped)"


def timed(fn, repeat: int):
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def main() -> dict:
    quick = quick_mode()
    threads = 2
    torch.set_num_threads(threads)
    device = resolve_device("auto")
    models, which = nets()
    models = {k: v.to(device) for k, v in models.items()}
    rng = np.random.default_rng(0)
    res = {
        "quick": quick,
        "device": str(device),
        "threads": threads,
        "models": which,
        "load_average_start": os.getloadavg(),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }

    # 1. exactness on random frames of several sizes
    sizes = (
        [(64, 64), (100, 131), (144, 176)]
        if quick
        else [(64, 64), (100, 131), (144, 176), (240, 320), (288, 352)]
    )
    exact = []
    for h, w in sizes:
        y = rng.integers(0, 256, (1, h, w), dtype=np.uint8)
        for name, net in models.items():
            for stride in (8, 16):
                if (h - 64) < stride and stride > 8:
                    continue
                d, p = features(y, net, stride=stride), features_patchwise(y, net, stride=stride)
                exact.append(
                    {
                        "size": [h, w],
                        "model": name,
                        "stride": stride,
                        "max_abs_descriptor": float(np.abs(d.descriptors - p.descriptors).max()),
                        "max_abs_probs": float(np.abs(d.probs - p.probs).max()),
                    }
                )
    # the same comparison in float64 (net.double()): the dense algorithm itself is exact; in float32 both
    # sides carry ~1e-7 relative rounding (a few ulps of descriptors that reach |16|)
    import copy

    y = rng.integers(0, 256, (1, *sizes[-1]), dtype=np.uint8)
    for name, net in models.items():
        n64 = copy.deepcopy(net).double()
        d, p = features(y, n64), features_patchwise(y, n64)
        exact.append(
            {
                "size": list(sizes[-1]),
                "model": name,
                "stride": 8,
                "dtype": "float64",
                "max_abs_descriptor": float(np.abs(d.descriptors - p.descriptors).max()),
                "max_abs_probs": float(np.abs(d.probs - p.probs).max()),
            }
        )
    for e in exact:
        e.setdefault("dtype", "float32")
    res["exactness"] = exact
    res["max_abs_descriptor_value"] = float(
        max(np.abs(features(y, m).descriptors).max() for m in models.values())
    )
    res["exactness_max_abs"] = max(max(e["max_abs_descriptor"], e["max_abs_probs"]) for e in exact)
    res["exactness_max_abs_float64"] = max(e["max_abs_descriptor"] for e in exact if e["dtype"] == "float64")
    print(
        f"dense vs patchwise: max abs difference {res['exactness_max_abs']:.2e} over {len(exact)} cases "
        f"(float64: {res['exactness_max_abs_float64']:.1e}; "
        f"descriptors reach {res['max_abs_descriptor_value']:.1f})"
    )

    # 2. speed-up over the patch loop (one model, stride 8)
    h, w = (160, 224) if quick else (288, 352)
    y = rng.integers(0, 256, (1, h, w), dtype=np.uint8)
    net = models["codec"]
    features(y, net)
    for nthreads in (1, threads):
        torch.set_num_threads(nthreads)
        dw, dc = timed(lambda: features(y, net), 3)
        pw, pc = timed(lambda: features_patchwise(y, net), 1)
        n_patches = features(y, net).probs.shape[1] * features(y, net).probs.shape[2]
        res.setdefault("speedup", []).append(
            {
                "size": [h, w],
                "threads": nthreads,
                "patches": int(n_patches),
                "dense_wall_s": dw,
                "dense_cpu_s": dc,
                "patchwise_wall_s": pw,
                "patchwise_cpu_s": pc,
                "speedup_wall": pw / dw,
                "speedup_cpu": pc / dc,
            }
        )
        print(
            f"{h}x{w}, {n_patches} patches, {nthreads} thread(s): dense {dw:.3f} s wall / {dc:.3f} s CPU, "
            f"patch loop {pw:.2f} s / {pc:.2f} s -> x{pw / dw:.1f} wall, x{pc / dc:.1f} CPU"
        )
    torch.set_num_threads(threads)

    # 3. throughput at 720p with both models (trunk alone for reference)
    n = 1 if quick else 3
    frame = rng.integers(0, 256, (1, 720, 1280), dtype=np.uint8)
    x = torch.from_numpy(frame).float()[None].to(device)
    for m in models.values():
        features(frame, m)  # warm-up (primitive caches)
    both_w, both_c = timed(lambda: [features(frame, m) for m in models.values()], n)
    with torch.no_grad():
        trunk_w, trunk_c = timed(lambda: [m.trunk(x) for m in models.values()], n)
    res["throughput_720p"] = {
        "frames": n,
        "both_models_s_per_frame_wall": both_w,
        "both_models_s_per_frame_cpu": both_c,
        "trunks_only_s_wall": trunk_w,
        "trunks_only_s_cpu": trunk_c,
        "patches_per_frame": 83 * 153,
        "goal_s_per_frame": 2.5,
    }
    print(
        f"720p, both models, stride 8 (12,699 patches): {both_w:.2f} s/frame wall ({both_c:.2f} s CPU); "
        f"the two conv1-4 trunks alone (unfused, as in training): {trunk_w:.2f} s wall"
    )
    # the fused trunk in one whole-frame pass vs in strips of conv4 rows (TRUNK_STRIP_ROWS, default)
    if device.type == "cpu":
        strategies = {}
        with torch.no_grad():
            for rows in (None, 4, 8, 16):
                wall, _ = timed(lambda r=rows: [fused_trunk(m, x, strip_rows=r) for m in models.values()], n)
                strategies["one_pass" if rows is None else f"strips_{rows}"] = wall
        res["trunk_720p_both_models_s_wall"] = {
            **strategies,
            "default_strip_rows": TRUNK_STRIP_ROWS,
            "one_pass_over_default": strategies["one_pass"] / strategies[f"strips_{TRUNK_STRIP_ROWS}"],
        }
        print(
            "fused conv1-4 trunks at 720p, both models: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in strategies.items())
            + f" (one pass / strips of {TRUNK_STRIP_ROWS}: "
            f"x{res['trunk_720p_both_models_s_wall']['one_pass_over_default']:.2f})"
        )
    if device.type == "cuda":
        frame1080 = rng.integers(0, 256, (1, 1080, 1920), dtype=np.uint8)
        for m in models.values():
            features(frame1080, m)
        torch.cuda.synchronize()
        t = time.perf_counter()
        k = 10 if quick else 60
        for _ in range(k):
            for m in models.values():
                features(frame1080, m)
        torch.cuda.synchronize()
        res["gpu_1080p_fps_both_models"] = k / (time.perf_counter() - t)
        print(f"GPU 1080p: {res['gpu_1080p_fps_both_models']:.1f} frames/s with both models")
    else:
        res["gpu_1080p_fps_both_models"] = None
    res["load_average_end"] = os.getloadavg()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1))
    print(f"wrote {OUT}")
    return res


if __name__ == "__main__":
    main()
