"""FOCAL temporal / spatial splicing localization on a scaled replica of seed 000's test set (section 6.3).

What the seed did: 5 pristine 720p videos (210 frames) x 12 versions (MPEG-2, MPEG-4,
H.264 x q = 3, 8, 13, 18, GOP 30); Dtemp = first 100 frames of one version + next 100 of
another (66 pairs per source, 330 videos); Dspat = a central 288x352 window swapped between
two versions (330 videos); every forgery re-encoded with high-quality H.264. Reported:
temporal AUC 0.984 (concatenated features), precision 100 % up to ~80 % recall, best F1
0.902; spatial (patch-level) AUC 0.94.

This replica, scaled to a 2-core CPU (every difference is also written to the JSON):

* sources: real clips never used by the CNNs' training/validation/test splits
  (``car-detection.mp4``, ``one-by-one-person-detection.mp4``, ``bottle-detection.mp4``,
  CC-BY, see ``../shared/real_video/ATTRIBUTION.md``), downscaled by 2 with area averaging
  (they were compressed once by their camera): 384x216, 384x216 and 320x180 frames;
* 12 versions per source exactly as the seed (``toolkit.synth.encode``: mpeg2video /
  mpeg4 with qscale q, libx264 with QP q, q = 3, 8, 13, 18, GOP 30, no B-frames);
* Dtemp: ``--half`` + ``--half`` frames (default 16 + 16 instead of 100 + 100; GOP 30 so
  one I-frame of the final encoding falls inside), ``--temporal-pairs`` random pairs per
  source (default 12 of the 66), order a/b drawn at random;
* Dspat: ``toolkit.synth.spatial_splice``'s central window (the seed's 288x352 scaled to
  half the frame, on the 8-pixel grid), ``--spatial-frames`` frames per video (default 4),
  ``--spatial-pairs`` random pairs per source (default 12);
* final re-encode: H.264 QP 16, GOP 30 (``toolkit.synth`` default);
* evaluation: temporal frame-wise over all pairs of consecutive frames (positive = the
  splice pair), pooled over videos; spatial pixel-level AUC (``toolkit.metrics.pixel_auc``)
  and, as the seed, patch-level AUC (a patch is forged when most of it is in the window).

Features are computed once per video at stride 8 with ``toolkit.focal.features``; the
variants (stride 16/32/64 = sub-grids of the stride-8 patches, frame step, region of
interest, suppression mode, entropy kind) are derived from them with the same functions
``detect`` / ``localize`` use, and one video of each kind is checked against
``detect`` / ``localize`` themselves.

Run:  python benchmarks/focal_localization.py            (full, ~20-40 min on 2 busy cores)
      TOOLKIT_QUICK=1 python benchmarks/focal_localization.py   (1 source, a few videos)
      ... --speed-only / --no-speed
Writes benchmarks/results/focal_localization.json (quick: focal_localization_quick.json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from toolkit._util import quick_mode

CODECS = ("mpeg2", "mpeg4", "h264")
QUALITIES = (3, 8, 13, 18)
SOURCES = ("car-detection.mp4", "one-by-one-person-detection.mp4", "bottle-detection.mp4")
SEED = {
    "temporal_auc": {"codec": None, "quality": None, "both": 0.984},
    "temporal_precision_at_80_recall": 1.0,
    "temporal_pr_auc": 0.926,
    "temporal_best_f1": 0.902,
    "spatial_auc_patch_level": 0.94,
}


def _work_dir() -> Path:
    base = Path(os.environ.get("TOOLKIT_CACHE", Path.home() / ".cache" / "forensics-toolkit"))
    d = base / "focal_localization_bench"
    d.mkdir(parents=True, exist_ok=True)
    return d


def build_versions(work: Path, source: str, n_frames: int) -> list[tuple[str, Path]]:
    """The 12 versions of one source (cached on disk)."""
    from toolkit.synth import CODECS as EXT
    from toolkit.synth import encode
    from toolkit.synth.sources import real_clip_sequence, real_video_dir

    d = work / Path(source).stem / f"n{n_frames}"
    d.mkdir(parents=True, exist_ok=True)
    out, frames = [], None
    for codec, q in itertools.product(CODECS, QUALITIES):
        p = d / f"{codec}_q{q}{EXT[codec][2]}"
        if not p.exists():
            if frames is None:
                frames = real_clip_sequence(real_video_dir() / source, n_frames=n_frames, factor=2)
            encode(frames, p, codec=codec, quality=q, gop=30, bframes=0)
        out.append((f"{codec}_q{q}", p))
    return out


def pick_pairs(n_pairs: int, seed: int) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    pairs = list(itertools.combinations(range(len(CODECS) * len(QUALITIES)), 2))
    idx = rng.choice(len(pairs), size=min(n_pairs, len(pairs)), replace=False)
    return [pairs[i] if rng.random() < 0.5 else pairs[i][::-1] for i in sorted(idx)]


def dense_probs(path: Path, nets: dict, count: int | None, cache: Path, stride: int = 8) -> np.ndarray:
    """T x P_U x P_V x 8 softmax outputs (codec then quality) at ``stride``, cached as .npy."""
    from toolkit.focal import features

    f = cache.with_name(cache.name + f".s{stride}.probs.npy")
    if f.exists():
        return np.load(f)
    p = np.concatenate(
        [features(path, net, stride=stride, count=count).probs for net in nets.values()], axis=-1
    )
    np.save(f, p.astype(np.float32))
    return p


FEATURES = {"codec": slice(0, 4), "quality": slice(4, 8), "both": slice(0, 8)}


def temporal_variant(
    probs: np.ndarray,
    iframes,
    feat: str,
    stride: int = 32,
    step: int = 1,
    roi: bool = False,
    suppress: str | None = "bridge",
    base: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """(distance, frame index of each pair) for one variant, with detect()'s functions.

    ``probs`` were computed at stride ``base``; a coarser ``stride`` takes the sub-grid.
    """
    from toolkit.focal.temporal import distance_signal, frame_descriptors, suppress_iframes

    if stride % base:
        raise ValueError(f"stride {stride} is not a multiple of the computed stride {base}")
    k = stride // base
    p = probs[::step, ::k, ::k, FEATURES[feat]]
    if roi:  # central half of the patch grid in each direction (a quarter of the frame)
        pu, pv = p.shape[1:3]
        p = p[:, pu // 4 : pu // 4 + max(1, pu // 2), pv // 4 : pv // 4 + max(1, pv // 2)]
    f = frame_descriptors(p)
    d = distance_signal(f)
    idx = np.arange(0, len(probs), step)
    if suppress and step == 1:
        d, _ = suppress_iframes(d, f, [i for i in iframes if i < len(probs)], mode=suppress)
    return d, idx[:-1]


def temporal_metrics(
    signals: list[tuple[np.ndarray, np.ndarray]], boundaries: list[int], normalise: bool = True
) -> dict:
    from toolkit.metrics import best_f1, precision_at_recall, roc

    y, s = [], []
    for (d, idx), b in zip(signals, boundaries):
        lab = np.zeros(len(d), int)
        lab[np.searchsorted(idx, b, side="right") - 1] = 1  # the pair (idx[k], idx[k+1]) holding the cut
        y.append(lab)
        s.append(d / max(np.median(d), 1e-12) if normalise else d)
    y, s = np.concatenate(y), np.concatenate(s)
    from sklearn.metrics import average_precision_score

    return {
        "auc": roc(y, s).auc,
        "precision_at_80_recall": precision_at_recall(y, s, 0.8),
        "best_f1": best_f1(y, s),
        "pr_auc": float(average_precision_score(y, s)),
        "positives": int(y.sum()),
        "negatives": int((1 - y).sum()),
    }


def decisions(signals, boundaries, threshold: float) -> dict:
    from toolkit.focal.temporal import find_cuts

    hits, false_alarms, videos_with_fa = 0, 0, 0
    for (d, idx), b in zip(signals, boundaries):
        cuts = [int(idx[k]) for k in find_cuts(d / max(np.median(d), 1e-12), threshold)]
        hits += b in cuts
        fa = len([c for c in cuts if c != b])
        false_alarms += fa
        videos_with_fa += fa > 0
    n = len(boundaries)
    return {
        "threshold": threshold,
        "detected": hits / n,
        "false_alarms_per_video": false_alarms / n,
        "videos_with_false_alarm": videos_with_fa / n,
    }


def spatial_maps(
    probs: np.ndarray,
    feat: str,
    shape,
    stride: int = 8,
    entropy_kind: str = "histogram",
    fusion: str = "ver",
    center: str = "mean",
) -> np.ndarray:
    """Pixel heat map of a (P_U x P_V x K) tensor with localize()'s functions."""
    from toolkit.focal.spatial import activation, fuse, patch_map_to_pixels, ver

    k = stride // 8
    t = probs[::k, ::k, FEATURES[feat]]
    act = activation(t, center=center)
    w = ver(act, kind=entropy_kind) if fusion == "ver" else np.ones(act.shape[-1])
    return patch_map_to_pixels(fuse(act, w), shape, stride)


def patch_labels(mask: np.ndarray, stride: int = 8) -> np.ndarray:
    from toolkit.focal import patch_grid

    pu, pv = patch_grid(*mask.shape, stride)
    m = mask.astype(np.float32)
    return np.array(
        [
            [m[i * stride : i * stride + 64, j * stride : j * stride + 64].mean() > 0.5 for j in range(pv)]
            for i in range(pu)
        ]
    )


def spatial_patch_scores(probs: np.ndarray, feat: str) -> np.ndarray:
    from toolkit.focal.spatial import activation, fuse, ver

    act = activation(probs[..., FEATURES[feat]])
    return fuse(act, ver(act))


# ----------------------------------------------------------------------------------------------
def run_replica(args, nets, weights_info: dict) -> dict:
    from PIL import Image

    from toolkit.focal.spatial import localize
    from toolkit.focal.temporal import DEFAULT_THRESHOLD, detect
    from toolkit.metrics import pixel_auc, roc
    from toolkit.synth import spatial_splice, temporal_splice
    from toolkit.video import gop_structure

    work = _work_dir() / ("quick" if args.quick else "full")
    tag = weights_info["tag"]
    n_frames = 2 * args.half
    t0 = time.perf_counter()
    temporal, spatial = [], []
    for si, source in enumerate(args.sources):
        versions = build_versions(work, source, max(n_frames, args.spatial_frames))
        sdir = work / Path(source).stem
        for a, b in pick_pairs(args.temporal_pairs, 100 + si):
            out = sdir / f"T_h{args.half}_{versions[a][0]}__{versions[b][0]}.mp4"
            if not out.exists():
                temporal_splice(versions[a][1], versions[b][1], out, cut=args.half, length=n_frames)
            truth = json.loads(Path(str(out) + ".json").read_text())
            probs = dense_probs(out, nets, None, out.with_name(out.name + f".{tag}"), args.temporal_stride)
            temporal.append(
                {
                    "path": out,
                    "a": versions[a][0],
                    "b": versions[b][0],
                    "probs": probs,
                    "boundary": truth["boundary"],
                    "iframes": gop_structure(out).i_frames,
                }
            )
            print(
                f"[{time.perf_counter() - t0:6.0f}s] temporal {source} {versions[a][0]} + {versions[b][0]}",
                flush=True,
            )
        for a, b in pick_pairs(args.spatial_pairs, 200 + si):
            out = sdir / f"S_n{args.spatial_frames}_{versions[a][0]}__{versions[b][0]}.mp4"
            if not out.exists():
                spatial_splice(versions[a][1], versions[b][1], out, length=args.spatial_frames)
            mask = np.asarray(Image.open(str(out) + ".mask.png")) > 0
            probs = dense_probs(out, nets, args.spatial_frames, out.with_name(out.name + f".{tag}"))
            spatial.append(
                {"path": out, "a": versions[a][0], "b": versions[b][0], "probs": probs, "mask": mask}
            )
            print(
                f"[{time.perf_counter() - t0:6.0f}s] spatial {source} {versions[a][0]} / {versions[b][0]}",
                flush=True,
            )
    feature_seconds = time.perf_counter() - t0
    bounds = [v["boundary"] for v in temporal]

    # ---- temporal
    base = args.temporal_stride
    res_t: dict = {"auc": {}, "auc_raw_distance": {}, "pr": {}, "stride": base}
    for feat in FEATURES:
        sig = [temporal_variant(v["probs"], v["iframes"], feat, base, base=base) for v in temporal]
        m = temporal_metrics(sig, bounds)
        res_t["auc"][feat] = m["auc"]
        res_t["pr"][feat] = {k: m[k] for k in ("precision_at_80_recall", "best_f1", "pr_auc")}
        raw = temporal_metrics(sig, bounds, normalise=False)  # the seed's way: one global threshold on Δf
        res_t["auc_raw_distance"][feat] = raw["auc"]
        res_t.setdefault("pr_raw_distance", {})[feat] = {
            k: raw[k] for k in ("precision_at_80_recall", "best_f1", "pr_auc")
        }
    res_t["counts"] = {k: m[k] for k in ("positives", "negatives")}
    res_t["suppression"] = {}
    for mode in ("bridge", "discard", None):
        sig = [
            temporal_variant(v["probs"], v["iframes"], "both", base, suppress=mode, base=base)
            for v in temporal
        ]
        res_t["suppression"][str(mode)] = {
            **temporal_metrics(sig, bounds),
            "at_default_threshold": decisions(sig, bounds, DEFAULT_THRESHOLD),
        }
    sig = [temporal_variant(v["probs"], v["iframes"], "both", base, base=base) for v in temporal]
    res_t["thresholds"] = [decisions(sig, bounds, t) for t in (3, 5, 10, 20, 50, 100)]
    res_t["options"] = {}
    options = {
        f"stride{base}": dict(stride=base),
        f"stride{2 * base}": dict(stride=2 * base),
        f"stride{base}_step2": dict(stride=base, step=2),
        f"stride{base}_step5": dict(stride=base, step=5),
        f"stride{base}_roi_center_quarter": dict(stride=base, roi=True),
        f"stride{2 * base}_step5_roi_center_quarter": dict(stride=2 * base, step=5, roi=True),
    }
    for name, kw in options.items():
        sig = [temporal_variant(v["probs"], v["iframes"], "both", base=base, **kw) for v in temporal]
        res_t["options"][name] = temporal_metrics(sig, bounds)["auc"]
    if args.stride_study:
        # the first few videos again at stride 8: effect of the descriptor's stride on the same videos
        sub = temporal[: args.stride_study]
        study = {}
        for v in sub:
            v["probs8"] = dense_probs(
                v["path"], nets, None, v["path"].with_name(v["path"].name + f".{tag}"), 8
            )
        for st in (8, 16, 32, 64):
            sig = [temporal_variant(v["probs8"], v["iframes"], "both", st, base=8) for v in sub]
            study[f"stride{st}"] = temporal_metrics(sig, [v["boundary"] for v in sub])["auc"]
        res_t["stride_study"] = {"videos": len(sub), "auc": study}
    # per pair of codecs: which splices are hard
    per = {}
    for v, s in zip(
        temporal, [temporal_variant(v["probs"], v["iframes"], "both", base, base=base) for v in temporal]
    ):
        d, idx = s
        score = d / max(np.median(d), 1e-12)
        rank = int((score > score[v["boundary"]]).sum())
        per.setdefault(f"{v['a'].split('_')[0]}->{v['b'].split('_')[0]}", []).append(rank == 0)
    res_t["splice_is_top_peak_by_codec_pair"] = {k: float(np.mean(x)) for k, x in sorted(per.items())}
    # consistency: detect() itself on the first video equals the derived signal
    v0 = temporal[0]
    r = detect(v0["path"], models=nets, stride=base)
    d_bench, _ = temporal_variant(v0["probs"], v0["iframes"], "both", stride=base, base=base)
    res_t["detect_matches_benchmark"] = bool(np.allclose(r.distance, d_bench, rtol=1e-3, atol=1e-9))
    res_t["example"] = {
        "video": v0["path"].name,
        "boundary": v0["boundary"],
        "cuts": r.cuts,
        "i_frames": list(r.i_frames),
    }

    # ---- spatial
    res_s: dict = {"pixel_auc_single_frame": {}, "pixel_auc_multi_frame": {}, "patch_auc_multi_frame": {}}
    shape_of = [v["mask"].shape for v in spatial]
    for feat in FEATURES:
        single_h, single_m = [], []
        for v, shp in zip(spatial, shape_of):
            for t in range(len(v["probs"])):
                single_h.append(spatial_maps(v["probs"][t], feat, shp))
                single_m.append(v["mask"])
        res_s["pixel_auc_single_frame"][feat] = pixel_auc(single_m, single_h)
        multi = [spatial_maps(v["probs"].mean(axis=0), feat, shp) for v, shp in zip(spatial, shape_of)]
        res_s["pixel_auc_multi_frame"][feat] = pixel_auc([v["mask"] for v in spatial], multi)
        lab = np.concatenate([patch_labels(v["mask"]).ravel() for v in spatial]).astype(int)
        sc = np.concatenate([spatial_patch_scores(v["probs"].mean(axis=0), feat).ravel() for v in spatial])
        res_s["patch_auc_multi_frame"][feat] = roc(lab, sc).auc
    res_s["ablations_multi_frame_both"] = {
        "ver_histogram_entropy (default)": res_s["pixel_auc_multi_frame"]["both"],
        "ver_spatial_entropy": pixel_auc(
            [v["mask"] for v in spatial],
            [
                spatial_maps(v["probs"].mean(0), "both", s, entropy_kind="spatial")
                for v, s in zip(spatial, shape_of)
            ],
        ),
        "plain_mean_fusion": pixel_auc(
            [v["mask"] for v in spatial],
            [spatial_maps(v["probs"].mean(0), "both", s, fusion="mean") for v, s in zip(spatial, shape_of)],
        ),
        "stride16": pixel_auc(
            [v["mask"] for v in spatial],
            [spatial_maps(v["probs"].mean(0), "both", s, stride=16) for v, s in zip(spatial, shape_of)],
        ),
        "median_center (not the seed)": pixel_auc(
            [v["mask"] for v in spatial],
            [spatial_maps(v["probs"].mean(0), "both", s, center="median") for v, s in zip(spatial, shape_of)],
        ),
    }
    s0 = spatial[0]
    r = localize(s0["path"], frames=range(args.spatial_frames), models=nets)
    res_s["localize_matches_benchmark"] = bool(
        np.allclose(
            r.heatmap, spatial_maps(s0["probs"].mean(0), "both", s0["mask"].shape), rtol=1e-3, atol=1e-9
        )
    )
    res_s["counts"] = {
        "videos": len(spatial),
        "frames_per_video": args.spatial_frames,
        "pixels": int(sum(v["mask"].size for v in spatial)),
    }
    return {
        "temporal": res_t,
        "spatial": res_s,
        "feature_seconds": feature_seconds,
        "videos": {"temporal": len(temporal), "spatial": len(spatial)},
        "frame_sizes": sorted({f"{v['mask'].shape[1]}x{v['mask'].shape[0]}" for v in spatial}),
    }


def run_speed(args, nets) -> dict:
    """A 10 s 720p clip end to end on this machine, with the options a CPU user needs."""
    import torch

    from toolkit.focal.spatial import localize
    from toolkit.focal.temporal import detect
    from toolkit.synth.sources import hd_clip
    from toolkit.video import iter_luma, probe

    secs = 2.0 if args.quick else 10.0
    clip = _work_dir() / f"hd720_{int(secs)}s.mp4"
    if not clip.exists():
        hd_clip(clip, seconds=secs, size=(720, 1280), gop=50)
    info = probe(clip)
    out = {
        "clip": f"{info.width}x{info.height} {info.codec}, {info.n_frames} frames, {info.duration:.1f} s "
        f"(toolkit.synth.sources.hd_clip)",
        "torch_threads": torch.get_num_threads(),
        "load_average_before": os.getloadavg(),
    }
    t, c = time.perf_counter(), time.process_time()
    n = sum(1 for _ in iter_luma(clip))
    out["decode_only_s"] = time.perf_counter() - t
    out["decode_only_cpu_s"] = time.process_time() - c
    roi = (184, 320, 360, 640)  # central quarter of the 720x1280 frame, on the 8-pixel grid
    runs = {
        "temporal_first10_frames_stride32": lambda: detect(clip, models=nets, stride=32, count=10),
        "temporal_step5_stride64_roi_center_360x640": lambda: detect(
            clip, models=nets, stride=64, step=5, roi=roi
        ),
        "spatial_1_frame_stride8": lambda: localize(clip, frames=[0], models=nets),
        "spatial_3_frames_stride16_roi_center_360x640": lambda: localize(
            clip, frames=[0, n // 2, n - 1], models=nets, stride=16, roi=roi
        ),
    }
    for name, fn in runs.items():
        t, c = time.perf_counter(), time.process_time()
        fn()
        out[name + "_s"] = time.perf_counter() - t
        # CPU seconds of this process (all its threads): on a shared machine the wall time depends on
        # the other jobs; cpu_s / torch threads is what an idle machine would need
        out[name + "_cpu_s"] = time.process_time() - c
        print(f"  {name}: {out[name + '_s']:.1f} s wall, {out[name + '_cpu_s']:.1f} s CPU", flush=True)
    per_frame = (out["temporal_first10_frames_stride32_s"] - out["decode_only_s"] * 10 / n) / 10
    out["temporal_every_frame_extrapolated_s"] = per_frame * n + out["decode_only_s"]
    out["full_end_to_end_extrapolated_s"] = (
        out["temporal_every_frame_extrapolated_s"] + out["spatial_1_frame_stride8_s"]
    )
    cpu = ("temporal_step5_stride64_roi_center_360x640", "spatial_3_frames_stride16_roi_center_360x640")
    out["cpu_user_end_to_end_s"] = sum(out[c + "_s"] for c in cpu)
    out["cpu_user_end_to_end_cpu_s"] = sum(out[c + "_cpu_s"] for c in cpu)
    out["cpu_user_idle_2core_estimate_s"] = out["cpu_user_end_to_end_cpu_s"] / 2
    per_frame_cpu = (out["temporal_first10_frames_stride32_cpu_s"] - out["decode_only_cpu_s"] * 10 / n) / 10
    out["full_end_to_end_idle_2core_estimate_s"] = (
        per_frame_cpu * n + out["decode_only_cpu_s"] + out["spatial_1_frame_stride8_cpu_s"]
    ) / 2
    out["cpu_user_options"] = (
        "temporal: every 5th frame, stride 64, central 360x640; spatial: 3 frames, stride 16, same ROI"
    )
    out["load_average_after"] = os.getloadavg()
    out["real_time_factor_cpu_user"] = out["cpu_user_end_to_end_s"] / max(info.duration, 1e-9)
    return out


def load_nets(random_weights: bool, weights_dir: str | None = None) -> tuple[dict, dict]:
    import torch

    from toolkit.focal import FocalNet, load_model

    if random_weights:
        torch.manual_seed(0)
        return (
            {"codec": FocalNet(4).eval(), "quality": FocalNet(4).eval()},
            {"tag": "random", "weights": "RANDOM (pipeline/speed check only; AUCs meaningless)"},
        )
    if weights_dir:  # files written by `python -m toolkit.focal.train ... --out DIR/focal_<name>.pt`
        files = {n: Path(weights_dir) / f"focal_{n}.pt" for n in ("codec", "quality")}
        nets = {n: load_model(f, device="cpu") for n, f in files.items()}
        shas = {n: net.weights_sha256 for n, net in nets.items()}
        return nets, {
            "tag": "w" + "".join(v[:8] for v in shas.values()),
            "weights": {f"file:{files[n]}": shas[n] for n in files},
        }
    nets = {"codec": load_model("codec"), "quality": load_model("quality")}
    from toolkit import weights

    sha = "".join(weights.spec(n).sha256[:8] for n in ("focal/codec", "focal/quality"))
    return nets, {
        "tag": f"w{sha}",
        "weights": {n: weights.spec(n).sha256 for n in ("focal/codec", "focal/quality")},
    }


def main(argv=None) -> dict:
    quick = quick_mode()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sources", nargs="+", default=list(SOURCES[:1] if quick else SOURCES))
    ap.add_argument(
        "--half", type=int, default=8 if quick else 16, help="frames from each version (seed: 100)"
    )
    ap.add_argument("--temporal-pairs", type=int, default=3 if quick else 12)
    ap.add_argument("--spatial-pairs", type=int, default=2 if quick else 12)
    ap.add_argument("--spatial-frames", type=int, default=2)
    ap.add_argument("--temporal-stride", type=int, default=32, help="stride of the temporal descriptor")
    ap.add_argument(
        "--stride-study",
        type=int,
        default=0 if quick else 4,
        help="temporal videos also analysed at stride 8 (effect of the stride on AUC)",
    )
    ap.add_argument(
        "--random-weights", action="store_true", help="untrained nets (pipeline/speed check only)"
    )
    ap.add_argument("--weights-dir", default=None, help="use focal_codec.pt / focal_quality.pt from here")
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    args.quick = quick
    import torch

    torch.set_num_threads(args.threads)
    name = "focal_localization_quick.json" if quick else "focal_localization.json"
    out_path = Path(args.out) if args.out else Path(__file__).parent / "results" / name
    previous = json.loads(out_path.read_text()) if out_path.exists() else {}
    nets, winfo = load_nets(args.random_weights, args.weights_dir)
    result = {
        **previous,
        "benchmark": "focal_localization",
        "quick": quick,
        "weights": winfo["weights"],
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": args.threads},
        "seed_000": SEED,
        "protocol": {
            "sources": args.sources,
            "versions": [f"{c}_q{q}" for c in CODECS for q in QUALITIES],
            "gop": 30,
            "final": "H.264 QP 16 GOP 30",
            "temporal_frames": f"{args.half}+{args.half}",
            "temporal_pairs_per_source": args.temporal_pairs,
            "spatial_pairs_per_source": args.spatial_pairs,
            "spatial_frames": args.spatial_frames,
            "differences_from_seed": "real clips downscaled x2 (384x216 / 320x180) instead of 720p "
            f"raw video; {args.half}+{args.half} frames instead of 100+100; "
            f"{args.temporal_pairs}/{args.spatial_pairs} of 66 pairs per source; "
            f"{len(args.sources)} sources instead of 5; spatial window = half the frame "
            f"instead of CIF in 720p; {args.spatial_frames} frames averaged instead of 200",
        },
    }
    if not args.speed_only:
        t = time.perf_counter()
        result["replica"] = run_replica(args, nets, winfo)
        result["replica"]["seconds"] = time.perf_counter() - t
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, indent=2, default=str))
        rt, rs = result["replica"]["temporal"], result["replica"]["spatial"]
        print("temporal AUC, per-video normalised score:", {k: round(v, 4) for k, v in rt["auc"].items()})
        print(
            "temporal AUC, one global threshold on Δf (the seed's protocol):",
            {k: round(v, 4) for k, v in rt["auc_raw_distance"].items()},
            "(seed: both 0.984)",
        )
        print(
            "temporal P@80%R / best F1 (both, global threshold):",
            round(rt["pr_raw_distance"]["both"]["precision_at_80_recall"], 3),
            round(rt["pr_raw_distance"]["both"]["best_f1"], 3),
            "(seed: 1.0 / 0.902)",
        )
        print(
            "temporal P@80%R / best F1 (both, normalised score):",
            round(rt["pr"]["both"]["precision_at_80_recall"], 3),
            round(rt["pr"]["both"]["best_f1"], 3),
            "(seed: 1.0 / 0.902)",
        )
        print("suppression:", {k: round(v["auc"], 4) for k, v in rt["suppression"].items()})
        print("options (AUC):", {k: round(v, 4) for k, v in rt["options"].items()})
        print(
            "spatial pixel AUC multi-frame:", {k: round(v, 4) for k, v in rs["pixel_auc_multi_frame"].items()}
        )
        print(
            "spatial pixel AUC single frame:",
            {k: round(v, 4) for k, v in rs["pixel_auc_single_frame"].items()},
        )
        print(
            "spatial patch AUC multi-frame:",
            {k: round(v, 4) for k, v in rs["patch_auc_multi_frame"].items()},
            "(seed: 0.94)",
        )
        print("spatial ablations:", {k: round(v, 4) for k, v in rs["ablations_multi_frame_both"].items()})
    if not args.no_speed:
        result["speed"] = run_speed(args, nets)
        result["speed"]["weights"] = winfo["weights"]
        print("speed:", json.dumps(result["speed"], indent=1, default=str))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, default=str))
    print("wrote", out_path)
    return result


if __name__ == "__main__":
    main()
