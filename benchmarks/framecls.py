"""Frame-level CNN studies on the DeepStreets-like families (seed 001, chapters 3 and 5).

Measures, in one run, on the families of :mod:`toolkit.synth.synthetic_video` (split by source
60 / 25 / 15 %, every video in RAW / HQ / LQ):

* **matched compression** per family (Table 3.2): train and test on the same family and quality;
* **compression mismatch** (Table 3.3): trained on all families pooled at one quality, tested at each
  quality, with the training threshold and with the threshold recalibrated on validation videos of the
  test quality (Tables 4.8 / 4.9);
* **cross-family** generalisation on RAW (Table 3.4): each matched RAW model on every family's test set;
* **data scarcity** (Tables 5.1 / 5.3): F-SVM vs the frame CNN vs the sequence CNN trained on
  1, 2, 4, ... videos per class of one family, tested on its test split;
* **cost** (Table 5.4): parameters, float32 model size and training time of each model, and the
  parameter counts of the full-size Xception / ResNetLSTM / EfficientNet-B3.

Accuracy is video-level (soft vote > threshold). The frame CNN is ``tiny`` on CPU; the full-size networks
run by the documented command on a GPU::

    TOOLKIT_QUICK=1 python benchmarks/framecls.py     # smoke run (< 1 min): tiny sets, a few epochs
    python benchmarks/framecls.py                     # CPU run: 20 sources per family, 128x256, tiny,
                                                      # first 15 frames, 10 epochs (about 15 CPU-minutes)
    python benchmarks/framecls.py --backbone xception --sequence-backbone resnet_lstm \\
        --n-sources 110 --size 512 1024 --epochs 50 --device auto --out framecls_gpu.json   # GPU

Writes ``benchmarks/results/framecls.json`` (``framecls_quick.json`` in quick mode, or ``--out``).
Families are cached in ``$TOOLKIT_CACHE/synthetic_video``; ``readme_rows(json)`` renders the README rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from toolkit._util import quick_mode
from toolkit.framecls import build, count_parameters
from toolkit.framecls.train import clips, evaluate, fit, video_scores
from toolkit.framecls.voting import accuracy_at, recalibrate_threshold
from toolkit.synth import synthetic_video as sv

RESULTS = Path(__file__).resolve().parent / "results"
QUALITIES = ("raw", "hq", "lq")
SEED_PAPER = {
    "table_3_2_matched": {
        "cityvid": {"raw": 100.00, "hq": 100.00, "lq": 97.93},
        "citywcvid": {"raw": 99.76, "hq": 99.62, "lq": 99.96},
        "kittivid": {"raw": 100.00, "hq": 100.00, "lq": 100.00},
        "pooled": {"raw": 99.86, "hq": 100.00, "lq": 99.19},
    },
    "table_3_3_mismatch": {
        "raw": {"raw": 99.89, "hq": 99.90, "lq": 95.41},
        "hq": {"raw": 100.00, "hq": 100.00, "lq": 95.72},
        "lq": {"raw": 99.70, "hq": 99.63, "lq": 99.19},
    },
    "table_3_4_cross": {
        "cityvid": {"cityvid": 100.00, "citywcvid": 71.50, "kittivid": 88.16},
        "citywcvid": {"cityvid": 98.76, "citywcvid": 99.76, "kittivid": 50.00},
        "kittivid": {"cityvid": 50.03, "citywcvid": 50.00, "kittivid": 100.00},
    },
    "table_5_4": {
        "parameters": {"F-SVM": 2, "Xception": 22.8e6, "ResNetLSTM": 25.1e6},
        "model_size_MB": {"F-SVM": 0.010, "Xception": 79.7, "ResNetLSTM": 96.0},
        "train_time_DeepFor_s": {"F-SVM": 0.7281, "Xception": 1114, "ResNetLSTM": 4524},
    },
    "note": "accuracies in %; Table 5.1 (F-SVM ~98 % with 4 videos per class on Cityvid/Citywcvid, "
    "Xception needs 32-64) is stated in the chapter's text",
}


def _acc(model, test, threshold=None) -> dict:
    e = evaluate(model, test, threshold=threshold, max_frames=_ARGS["max_frames"])
    return {k: e[k] for k in ("n", "accuracy", "auc", "threshold")}


def _fit(train, val, backbone, seed):
    return fit(
        train,
        val,
        backbone,
        epochs=_ARGS["epochs"],
        max_frames=_ARGS["max_frames"],
        device=_ARGS["device"],
        seed=seed,
        progress=False,
        fps=None,
    )


_ARGS: dict = {}


def _fsvm_scarcity(fam, quality, sizes, n_frames, rng, splits):
    from toolkit.fsvm import FSVM
    from toolkit.fsvm.footprint import footprint

    t0 = time.perf_counter()
    train = sv.videos(fam, "train", quality) + sv.videos(fam, "val", quality)
    test = sv.videos(fam, "test", quality)
    F_tr = np.stack([footprint(p, n_frames=n_frames) for p, _ in train])
    F_te = np.stack([footprint(p, n_frames=n_frames) for p, _ in test])
    per_video = (time.perf_counter() - t0) / (len(train) + len(test))
    y_tr = np.array([lab for _, lab in train])
    y_te = np.array([lab for _, lab in test])
    rows = []
    for c in sizes:
        if c > min((y_tr == 0).sum(), (y_tr == 1).sum()):
            continue
        acc, fit_s = [], []
        for _ in range(splits):
            pick = np.concatenate([rng.choice(np.flatnonzero(y_tr == k), c, replace=False) for k in (0, 1)])
            m = FSVM(n_frames=n_frames).fit(F_tr[pick], y_tr[pick])
            acc.append(float((m.predict(F_te) == y_te).mean()))
            fit_s.append(m.fit_time_)
        rows.append(
            {
                "videos_per_class": c,
                "accuracy_mean": float(np.mean(acc)),
                "accuracy_std": float(np.std(acc)),
                "repeats": splits,
                "train_s_with_features": float(np.mean(fit_s) + 2 * c * per_video),
                "model_bytes": int(m.size_bytes),
                "parameters": int(m.coef_.size + 1),
            }
        )
    return rows, per_video


def _cnn_scarcity(fam, quality, sizes, backbone, seed, repeats):
    train = sv.videos(fam, "train", quality)
    val = sv.videos(fam, "val", quality)
    test = sv.videos(fam, "test", quality)
    rng = np.random.default_rng(seed)
    by_label = {k: [v for v in train if v[1] == k] for k in (0, 1)}
    rows = []
    for c in sizes:
        if c > min(len(by_label[0]), len(by_label[1])):
            continue
        acc, secs, auc = [], [], []
        for r in range(repeats):
            pick = [by_label[k][i] for k in (0, 1) for i in rng.choice(len(by_label[k]), c, replace=False)]
            m = _fit(pick, val, backbone, seed + 17 * r + c)
            e = _acc(m, test)
            acc.append(e["accuracy"])
            auc.append(e["auc"])
            secs.append(m.train_info["train_s"])
        rows.append(
            {
                "videos_per_class": c,
                "accuracy_mean": float(np.mean(acc)),
                "accuracy_std": float(np.std(acc)),
                "auc_mean": float(np.nanmean(auc)),
                "repeats": repeats,
                "train_s": float(np.mean(secs)),
                "parameters": count_parameters(m.net),
                "model_bytes_float32": 4 * count_parameters(m),
            }
        )
    return rows


def main(argv=None) -> dict:
    quick = quick_mode()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-sources", type=int, default=4 if quick else 20, help="sources per family")
    ap.add_argument("--scarcity-sources", type=int, default=None, help="sources of the scarcity family")
    ap.add_argument("--size", type=int, nargs=2, default=[32, 64] if quick else list(sv.DEFAULT_SIZE))
    ap.add_argument("--max-frames", type=int, default=8 if quick else 15)
    ap.add_argument("--epochs", type=int, default=1 if quick else 10)
    ap.add_argument("--backbone", default="tiny")
    ap.add_argument("--sequence-backbone", default="tiny_lstm")
    ap.add_argument("--scarcity-family", default="cityvid", choices=sorted(sv.FAMILIES))
    ap.add_argument("--scarcity-quality", default="raw", choices=QUALITIES)
    ap.add_argument("--repeats", type=int, default=1 if quick else 2)
    ap.add_argument("--device", default="cpu" if quick else "auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    _ARGS.update(epochs=args.epochs, max_frames=args.max_frames, device=args.device)
    size = tuple(args.size)
    t_start = time.perf_counter()
    root = sv.cache_dir() / f"{size[0]}x{size[1]}_seed{args.seed}"
    fams = sv.make_families(root, n_sources=args.n_sources, size=size, seed=args.seed, progress=not quick)
    gen_s = time.perf_counter() - t_start
    out: dict = {
        "benchmark": "framecls",
        "quick": quick,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads "
        f"{torch.get_num_threads()}, device {args.device}",
        "settings": {
            "n_sources": args.n_sources,
            "size": list(size),
            "frames_per_video": sv.N_FRAMES,
            "max_frames": args.max_frames,
            "epochs": args.epochs,
            "backbone": args.backbone,
            "sequence_backbone": args.sequence_backbone,
            "qualities_crf": sv.QUALITIES,
            "split": list(sv.SPLIT),
            "seed": args.seed,
            "threshold": "recalibrated on the validation split of the training data",
        },
        "seed_paper": SEED_PAPER,
        "families": {
            f: {"source": m["source"], "generator": m["generator"], "videos": len(m["videos"])}
            for f, m in fams.items()
        },
        "generate_s": round(gen_s, 1),
    }

    # --- Table 3.2: matched compression, per family; Table 3.4 from the RAW models -------------------
    matched, models_raw = {}, {}
    for f, m in fams.items():
        matched[f] = {}
        for q in QUALITIES:
            model = _fit(sv.videos(m, "train", q), sv.videos(m, "val", q), args.backbone, args.seed)
            matched[f][q] = _acc(model, sv.videos(m, "test", q))
            if q == "raw":
                models_raw[f] = model
        print(f"  matched {f}: " + ", ".join(f"{q} {100 * matched[f][q]['accuracy']:.1f}" for q in QUALITIES))
    out["matched"] = matched
    out["cross_family_raw"] = {
        tr: {te: _acc(models_raw[tr], sv.videos(fams[te], "test", "raw")) for te in fams} for tr in fams
    }

    # --- Table 3.3 (+ 4.8): pooled families, train quality x test quality ----------------------------
    def pooled(split, q):
        return [v for m in fams.values() for v in sv.videos(m, split, q)]

    mismatch = {}
    for qtr in QUALITIES:
        model = _fit(pooled("train", qtr), pooled("val", qtr), args.backbone, args.seed)
        mismatch[qtr] = {}
        for qte in QUALITIES:
            test, val = pooled("test", qte), pooled("val", qte)
            fixed = _acc(model, test)
            vs = video_scores(model, clips(val, model, args.max_frames))
            thr = recalibrate_threshold(vs, [lab for _, lab in val])
            ts = video_scores(model, clips(test, model, args.max_frames))
            recal = accuracy_at(ts, [lab for _, lab in test], thr)
            mismatch[qtr][qte] = {**fixed, "accuracy_recalibrated": recal, "threshold_recalibrated": thr}
        print(
            f"  pooled train {qtr}: "
            + ", ".join(
                f"{q} {100 * c['accuracy']:.1f}/{100 * c['accuracy_recalibrated']:.1f}"
                for q, c in mismatch[qtr].items()
            )
        )
    out["mismatch_pooled"] = mismatch

    # --- Tables 5.1 / 5.4: data scarcity, F-SVM vs frame CNN vs sequence CNN -------------------------
    sfam = fams[args.scarcity_family]
    if args.scarcity_sources and args.scarcity_sources != args.n_sources:
        sfam = sv.make_family(
            root / "scarcity",
            args.scarcity_family,
            n_sources=args.scarcity_sources,
            size=size,
            seed=args.seed + 1,
            progress=not quick,
        )
    sizes = (1, 2, 4, 8, 16, 64)
    n_fp = min(29, sv.N_FRAMES - 1)
    rng = np.random.default_rng(args.seed)
    fsvm_rows, fp_s = _fsvm_scarcity(sfam, args.scarcity_quality, sizes, n_fp, rng, max(5, 3 * args.repeats))
    out["scarcity"] = {
        "family": args.scarcity_family,
        "quality": args.scarcity_quality,
        "train_sources": sum(1 for v in sfam["videos"] if v["split"] == "train") // 2,
        "fsvm_n_frames": n_fp,
        "fsvm_footprint_s_per_video": fp_s,
        "fsvm": fsvm_rows,
        args.backbone: _cnn_scarcity(
            sfam, args.scarcity_quality, sizes, args.backbone, args.seed, args.repeats
        ),
        args.sequence_backbone: _cnn_scarcity(
            sfam, args.scarcity_quality, sizes, args.sequence_backbone, args.seed, args.repeats
        ),
    }
    for key in ("fsvm", args.backbone, args.sequence_backbone):
        print(
            f"  scarcity {key}: "
            + ", ".join(
                f"c={r['videos_per_class']} {100 * r['accuracy_mean']:.1f}" for r in out["scarcity"][key]
            )
        )
    out["full_size_parameters"] = {
        name: {
            "parameters": count_parameters(build(name).net),
            "float32_MiB": round(4 * count_parameters(build(name).net) / 2**20, 1),
        }
        for name in ("xception", "efficientnet_b3", "resnet_lstm")
    }
    import timm

    out["full_size_parameters"]["xception"]["parameters_with_imagenet_head"] = count_parameters(
        timm.create_model("legacy_xception", pretrained=False)
    )
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / (args.out or ("framecls_quick.json" if quick else "framecls.json"))
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path} in {out['seconds']} s")
    return out


def readme_rows(result: dict) -> str:
    """Markdown table rows (measured beside the seed) for README, from a ``framecls.json`` result.

    >>> r = {"matched": {f: {q: {"accuracy": 1.0} for q in QUALITIES} for f in ("cityvid",)},
    ...      "mismatch_pooled": {}, "cross_family_raw": {}, "settings": {"backbone": "tiny"}}
    >>> readme_rows(r).splitlines()[2]
    '| matched cityvid | 100.0 / 100.0 / 100.0 | 100.00 / 100.00 / 97.93 |'
    """
    seed = SEED_PAPER
    lines = [
        f"| study ({result['settings']['backbone']}; RAW / HQ / LQ, accuracy %) | measured | seed |",
        "|---|---|---|",
    ]
    for f, row in result["matched"].items():
        ours = " / ".join(f"{100 * row[q]['accuracy']:.1f}" for q in QUALITIES)
        theirs = " / ".join(f"{seed['table_3_2_matched'][f][q]:.2f}" for q in QUALITIES)
        lines.append(f"| matched {f} | {ours} | {theirs} |")
    for qtr, row in result["mismatch_pooled"].items():
        ours = " / ".join(
            f"{100 * row[q]['accuracy']:.1f} ({100 * row[q]['accuracy_recalibrated']:.1f})" for q in QUALITIES
        )
        theirs = " / ".join(f"{seed['table_3_3_mismatch'][qtr][q]:.2f}" for q in QUALITIES)
        lines.append(f"| pooled, trained on {qtr.upper()} (recalibrated) | {ours} | {theirs} |")
    for tr, row in result["cross_family_raw"].items():
        fams = list(row)
        ours = " / ".join(f"{100 * row[te]['accuracy']:.1f}" for te in fams)
        theirs = " / ".join(f"{seed['table_3_4_cross'][tr][te]:.2f}" for te in fams)
        lines.append(f"| RAW, trained on {tr}, tested on {' / '.join(fams)} | {ours} | {theirs} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
