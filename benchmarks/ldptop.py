"""LDP-TOP studies on FakeDance-like videos (seed 001, chapter 4), measured in one run.

* speed: descriptor time per 50-frame 256 x 256 window (goal < 0.5 s on 2 cores), the optical-flow
  input's time for the same window (TV-L1, exact and strip approximation), and per video;
* SSIM / Mask-SSIM of the fakes (Table 4.2);
* matched and mismatched compression (Tables 4.4-4.7): LDP-TOP (five body parts x grey / flow = 10
  MLPs) trained on real vs Fit-like videos of one quality (RAW / HQ / LQ), tested on every quality;
* the local-manipulation case (Table 4.10): trained on RAW Fit-like, tested on Splice-like;
* data scarcity (Table 4.11): 2 / 4 / 8 / 16 / 32 training videos per class (RAW), LDP-TOP vs the
  frame CNN (``toolkit.framecls``, tiny backbone) vs F-SVM (``toolkit.fsvm``);
* LDP-TOP + CNN fusion by mean probability (Tables 4.12-4.14), matched compression.

ACC is the balanced accuracy at the 0.5 threshold, AUC the ROC area of the soft scores; the unit is
the seed's: a 50-frame sequence (window) V. The data is a simulation
(:mod:`toolkit.synth.fakedance`): one static-camera person clip, fakes re-synthesised frame by frame.

    python benchmarks/ldptop.py            # full (about 20 min on 2 cores; data cached in --data)
    python benchmarks/ldptop.py --quick    # tiny sets (the test suite runs this)

Writes ``benchmarks/results/ldptop.json`` (``ldptop_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from toolkit._util import quick_mode
from toolkit.ldptop import PARTS, LDPTOPEnsemble, descriptor, fuse_detectors
from toolkit.ldptop.flow import flow_slices, flow_volume
from toolkit.ldptop.train import build_data, select_segments, split_features, video_features

RESULTS = Path(__file__).resolve().parent / "results"
QUALITIES = ("raw", "hq", "lq")
#: the seed's numbers (Fit dance rows of Tables 4.4-4.7, 4.10, 4.11)
SEED_NUMBERS = {
    "matched_fit_acc": {"raw": 1.00, "hq": 0.94, "lq": 0.87},
    "splice_from_raw_acc": {"raw": 1.00, "hq": 0.60, "lq": 0.50},
    "scarcity_fit_acc_ldptop": {"2": 0.94, "4": 0.98, "8": 0.98, "16": 0.99, "32": 1.00},
    "scarcity_fit_acc_cnn": {"2": 0.73, "4": 0.61, "8": 0.96, "16": 1.00, "32": 1.00},
    "note": "FakeDance (Fit dance rows): Tables 4.4-4.6 diagonal, 4.10, 4.11",
}


def _metrics(y, score, label=None) -> dict:
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    y, score = np.asarray(y, int), np.asarray(score, float)
    label = (score > 0.5).astype(int) if label is None else np.asarray(label, int)
    out = {"n": int(len(y)), "n_fake": int(y.sum())}
    if len(y) == 0:
        return {**out, "acc": None, "auc": None}
    out["acc"] = (
        float(balanced_accuracy_score(y, label)) if len(set(y.tolist())) == 2 else float((label == y).mean())
    )
    out["auc"] = float(roc_auc_score(y, score)) if len(set(y.tolist())) == 2 else None
    return out


def speed(reps: int) -> dict:
    rng = np.random.default_rng(0)
    v = rng.integers(0, 256, (50, 256, 256), dtype=np.uint8)
    t = time.perf_counter()
    for _ in range(reps):
        descriptor(v)
    desc = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    flow_slices(v, band=8)
    band = time.perf_counter() - t
    small = v[:10]
    t = time.perf_counter()
    flow_volume(small)
    exact = (time.perf_counter() - t) / 9 * 49
    return {
        "descriptor_s_per_window_50x256x256": desc,
        "goal_s": 0.5,
        "flow_strips_s_per_window_50x256x256": band,
        "flow_exact_s_per_window_50x256x256_estimated_from_9_pairs": exact,
        "cpu": platform.processor() or platform.machine(),
    }


#: MLP epochs at most: the seed's 300; 15 in quick mode (tiny sets reach a tiny training loss slowly)
MAX_EPOCHS = {False: 300, True: 15}


def _train(X, y, parts, seed=0, quick=False) -> LDPTOPEnsemble:
    return LDPTOPEnsemble(parts=parts, seed=seed, max_iter=MAX_EPOCHS[bool(quick)]).fit(X, y)


def _eval(m, X, y) -> dict:
    labels, scores = m.decide(X)
    return _metrics(y, scores, labels)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", default=quick_mode())
    ap.add_argument("--data", default=None, help="FakeDance-like data folder (built when absent)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-cnn", action="store_true", help="skip the CNN (scarcity and fusion)")
    ap.add_argument("--cnn-minutes", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-train-segments", type=int, default=8, help="training segments used (per class)")
    ap.add_argument("--max-test-segments", type=int, default=None, help="test segments used (default: all)")
    ap.add_argument(
        "--scarcity-segments",
        type=int,
        default=32,
        help="training segments per class available to the data-scarcity study (RAW)",
    )
    ap.add_argument("--windows-per-video", type=int, default=1, help="first windows of each video used")
    args = ap.parse_args(argv)
    quick = bool(args.quick)
    t_start = time.perf_counter()
    data = (
        Path(args.data)
        if args.data
        else Path(tempfile.gettempdir()) / ("ldptop_quick" if quick else "ldptop_fakedance")
    )
    man = build_data(data, quick=quick, progress=not quick)
    parts_kind = "parts"
    parts = PARTS
    train_segs = select_segments(man, "train", args.max_train_segments)
    test_segs = select_segments(man, "test", args.max_test_segments)
    w = args.windows_per_video
    out = {
        "quick": quick,
        "data": {
            "root": str(data),
            "clip": Path(man["clip"]).name,
            "size": man["size"],
            "n_frames": man["n_frames"],
            "n_videos": len(man["videos"]),
            "note": man["note"],
        },
        "settings": {
            "parts": list(parts),
            "mlps": 2 * len(parts),
            "window": 50,
            "hop": 25,
            "max_epochs": MAX_EPOCHS[quick],
            "windows_per_video": w,
            "train_segments": len(train_segs),
            "test_segments": len(test_segs),
            "unit": "50-frame window",
            "command": "python benchmarks/ldptop.py " + " ".join(sys.argv[1:] if argv is None else argv),
        },
        "seed_numbers": SEED_NUMBERS,
    }
    out["speed"] = speed(3 if quick else 10)
    # per-video time of both feature kinds (one RAW test video)
    v0 = next(v for v in man["videos"] if v["split"] == "test" and v["quality"] == "raw")
    t = time.perf_counter()
    nwin = len(video_features(data / v0["path"], "frame", cache=False, max_windows=1))
    t1 = time.perf_counter()
    video_features(data / v0["path"], "parts", cache=False, max_windows=1)
    out["speed"]["per_video"] = {
        "frames": man["n_frames"],
        "size": man["size"],
        "windows": nwin,
        "whole_frame_s": t1 - t,
        "five_parts_s": time.perf_counter() - t1,
    }

    # quality of the fakes (Table 4.2)
    q = {"fit_ssim": [], "splice_mask_ssim": []}
    for v in man["videos"]:
        if v["quality"] != "raw":
            continue
        if v["family"] == "fit":
            q["fit_ssim"].append(v["quality_scores"]["ssim"])
        if v["family"] == "splice":
            q["splice_mask_ssim"].append(v["quality_scores"]["mask_ssim"])
    out["quality_table_4_2"] = {k: float(np.mean(x)) if x else None for k, x in q.items()}
    out["quality_table_4_2"]["seed"] = {"fit_ssim": 0.92, "splice_mask_ssim": 0.93}

    feats = {}
    for qu in QUALITIES:
        kw = {"max_windows": w}
        feats[("train", qu)] = split_features(
            data, man, qu, "train", ("real", "fit"), parts_kind, segments=train_segs, **kw
        )
        feats[("test", qu, "fit")] = split_features(
            data, man, qu, "test", ("real", "fit"), parts_kind, segments=test_segs, **kw
        )
        feats[("test", qu, "splice")] = split_features(
            data, man, qu, "test", ("real", "splice"), parts_kind, segments=test_segs, **kw
        )

    # compression: train on each quality, test on every quality (Fit-like) and Splice-like
    comp, models = {}, {}
    for tq in QUALITIES:
        X, y, _, _ = feats[("train", tq)]
        models[tq] = _train(X, y, parts, args.seed, quick)
        comp[tq] = {}
        for sq in QUALITIES:
            Xt, yt, _, _ = feats[("test", sq, "fit")]
            comp[tq][sq] = _eval(models[tq], Xt, yt)
    out["compression_fit"] = {
        "train_quality -> test_quality": comp,
        "matched": {q2: comp[q2][q2] for q2 in QUALITIES},
        "note": "diagonal: matched compression (Tables 4.4-4.6, Fit row); off-diagonal: mismatched "
        "(Table 4.7)",
    }
    splice = {}
    for sq in QUALITIES:
        Xt, yt, _, _ = feats[("test", sq, "splice")]
        splice[sq] = _eval(models["raw"], Xt, yt)
    out["splice_table_4_10"] = {"train": "raw fit-like", "test": splice}

    # data scarcity (RAW): its own, larger pool of training segments (the seed's 2 ... 32 videos)
    scarce_segs = select_segments(man, "train", args.scarcity_segments)
    X, y, vid, vids = split_features(
        data, man, "raw", "train", ("real", "fit"), parts_kind, segments=scarce_segs, max_windows=w
    )
    segs = sorted({v["segment"] for v in vids})
    rng = np.random.default_rng(args.seed)
    sizes = [1, 2] if quick else [2, 4, 8, 16, 32]
    sizes = [n for n in sizes if n <= len(segs)]
    order = [segs[i] for i in rng.permutation(len(segs))]
    Xt, yt, tvid, tvids = feats[("test", "raw", "fit")]
    Xs, ys, svid, svids = feats[("test", "raw", "splice")]
    scarcity = {
        "sizes": sizes,
        "ldptop": {},
        "fsvm": {},
        "cnn": {},
        "pool_segments": len(segs),
        "note": "n training videos per class (real n, fake n), distinct segments drawn from the pool",
    }
    for n in sizes:
        chosen = set(order[:n])
        keep_v = [k for k, v in enumerate(vids) if v["segment"] in chosen]
        keep = np.isin(vid, keep_v)
        m = _train(X[keep], y[keep], parts, args.seed, quick)
        scarcity["ldptop"][str(n)] = {"fit": _eval(m, Xt, yt), "splice": _eval(m, Xs, ys)}
        scarcity["fsvm"][str(n)] = _fsvm(data, [vids[k] for k in keep_v], tvids, svids)
    cnn_ok = not args.no_cnn
    try:
        import toolkit.framecls  # noqa: F401
    except ImportError:
        cnn_ok = False
        scarcity["cnn"] = "not run: toolkit.framecls missing"
    if args.no_cnn:
        scarcity["cnn"] = "not run: --no-cnn"
    minutes = args.cnn_minutes if args.cnn_minutes is not None else (0.3 if quick else 2.0)
    if cnn_ok:
        for n in sizes:
            chosen = set(order[:n])
            train_v = [v for v in vids if v["segment"] in chosen]
            scarcity["cnn"][str(n)] = _cnn_study(data, train_v, tvids, svids, minutes, args.seed, quick)
    out["scarcity_table_4_11"] = scarcity

    # fusion (matched compression)
    if cnn_ok:
        fusion = {}
        for qu in QUALITIES:
            X, y, vid, vids_q = feats[("train", qu)]
            Xt, yt, tvid, tvids_q = feats[("test", qu, "fit")]
            try:
                cnn = _cnn_model(data, vids_q, minutes, args.seed, quick)
                lab, sc = models[qu].decide(Xt)
                pc = _cnn_window_scores(cnn, data, tvids_q, tvid)
                fusion[qu] = {
                    "ldptop": _metrics(yt, sc, lab),
                    "cnn": _metrics(yt, pc),
                    "fusion": _metrics(yt, fuse_detectors(sc, pc)),
                }
            except Exception as e:  # noqa: BLE001 - recorded, the other studies go on
                fusion[qu] = {"error": f"{type(e).__name__}: {e}"}
        out["fusion_tables_4_12_14"] = fusion
    else:
        out["fusion_tables_4_12_14"] = scarcity["cnn"] if isinstance(scarcity["cnn"], str) else "not run"
    out["total_s"] = time.perf_counter() - t_start
    dest = Path(args.out) if args.out else RESULTS / ("ldptop_quick.json" if quick else "ldptop.json")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=1) + "\n")
    _print(out)
    print(f"wrote {dest}")
    return out


def _fsvm(data: Path, train_v, test_fit, test_splice) -> dict:
    from toolkit.fsvm import FSVM, footprint

    def fp(v):
        side = data / (v["path"] + ".fsvm.npy")
        if side.is_file():
            return np.load(side)
        f = np.asarray(footprint(data / v["path"], n_frames=30, pad=True))
        np.save(side, f)
        return f

    try:
        X = np.stack([fp(v) for v in train_v])
        y = np.array([int(v["label"] == "fake") for v in train_v])
        m = FSVM(n_frames=30, pad=True).fit(X, y)
        res = {}
        for name, tv in (("fit", test_fit), ("splice", test_splice)):
            Xt = np.stack([fp(v) for v in tv])
            yt = np.array([int(v["label"] == "fake") for v in tv])
            d = m.decision_function(Xt)
            res[name] = _metrics(yt, 1 / (1 + np.exp(-d)), (d > 0).astype(int))
        res["unit"] = "video (F-SVM decides a video from its first 30 frames)"
        return res
    except Exception as e:  # noqa: BLE001 - recorded, the other studies go on
        return {"error": f"{type(e).__name__}: {e}"}


def _cnn_model(data: Path, train_v, minutes: float, seed: int, quick: bool):
    from toolkit.framecls import train as ftrain

    pairs = [(str(data / v["path"]), int(v["label"] == "fake")) for v in train_v]
    return ftrain.fit(
        pairs,
        (),
        backbone="tiny",
        max_minutes=minutes,
        max_frames=None,
        fps=None,
        device="cpu",
        threads=1,
        seed=seed,
        progress=False,
        epochs=2 if quick else None,
        recalibrate=False,
    )


def _cnn_window_scores(model, data: Path, vids, window_vid) -> np.ndarray:
    """Mean CNN frame probability over each window's 50 frames (windows in video order, hop 25)."""
    from toolkit.framecls import analyze

    out = np.empty(len(window_vid))
    for k, v in enumerate(vids):
        rows = np.flatnonzero(window_vid == k)
        if not len(rows):
            continue
        fs = analyze(str(data / v["path"]), model=model, device="cpu")
        sc, idx = np.asarray(fs.scores, float), np.asarray(fs.frame_indices)
        for j, r in enumerate(rows):
            sel = (idx >= 25 * j) & (idx < 25 * j + 50)
            out[r] = float(sc[sel].mean()) if sel.any() else float(sc.mean())
    return out


def _cnn_study(data, train_v, test_fit, test_splice, minutes, seed, quick) -> dict:
    try:
        model = _cnn_model(data, train_v, minutes, seed, quick)
        res = {}
        from toolkit.framecls import analyze

        for name, tv in (("fit", test_fit), ("splice", test_splice)):
            y = [int(v["label"] == "fake") for v in tv]
            s = [float(analyze(str(data / v["path"]), model=model, device="cpu").score) for v in tv]
            res[name] = _metrics(y, s)
        res["unit"] = "video (soft vote over frames)"
        return res
    except Exception as e:  # noqa: BLE001 - recorded, the other studies go on
        return {"error": f"{type(e).__name__}: {e}"}


def _fmt(m) -> str:
    if not isinstance(m, dict) or m.get("acc") is None:
        return "  -  "
    auc = "-" if m.get("auc") is None else f"{m['auc']:.2f}"
    return f"{m['acc']:.2f}/{auc}"


def _print(out: dict) -> None:
    s = out["speed"]
    print(
        f"descriptor: {s['descriptor_s_per_window_50x256x256'] * 1000:.1f} ms per 50x256x256 window "
        "(goal 500 ms)"
    )
    exact = s["flow_exact_s_per_window_50x256x256_estimated_from_9_pairs"]
    print(f"flow (strips): {s['flow_strips_s_per_window_50x256x256']:.2f} s per window; exact ~{exact:.1f} s")
    print("compression (ACC/AUC), train rows x test columns:", "  ".join(QUALITIES))
    for tq, row in out["compression_fit"]["train_quality -> test_quality"].items():
        print(f"  {tq}: " + "  ".join(_fmt(row[q]) for q in QUALITIES))
    print(
        "splice (train raw):",
        "  ".join(f"{q} {_fmt(m)}" for q, m in out["splice_table_4_10"]["test"].items()),
    )
    sc = out["scarcity_table_4_11"]
    for n in sc["sizes"]:
        cnn = sc["cnn"].get(str(n), {}) if isinstance(sc["cnn"], dict) else {}
        print(
            f"  scarcity n={n}: ldptop fit {_fmt(sc['ldptop'][str(n)]['fit'])} "
            f"splice {_fmt(sc['ldptop'][str(n)]['splice'])}"
            f" | fsvm fit {_fmt(sc['fsvm'][str(n)].get('fit'))} | cnn fit {_fmt(cnn.get('fit'))}"
        )
    if isinstance(out["fusion_tables_4_12_14"], dict):
        for q, r in out["fusion_tables_4_12_14"].items():
            print(f"  fusion {q}: ldptop {_fmt(r['ldptop'])} cnn {_fmt(r['cnn'])} fused {_fmt(r['fusion'])}")


def readme_rows(result: dict) -> str:
    """Markdown rows for the README from ``ldptop.json`` (the lead's ``readme_tables.py`` may call this)."""
    c = result["compression_fit"]["matched"]
    sp = result["splice_table_4_10"]["test"]
    sc = result["scarcity_table_4_11"]["ldptop"]
    n = result["scarcity_table_4_11"]["sizes"]
    lines = [
        "| LDP-TOP (simulated FakeDance-like) | RAW | HQ | LQ |",
        "|---|---|---|---|",
        "| matched, Fit-like: ACC / AUC | " + " | ".join(_fmt(c[q]) for q in QUALITIES) + " |",
        "| Splice-like, trained on RAW | " + " | ".join(_fmt(sp[q]) for q in QUALITIES) + " |",
        "",
        f"Descriptor: {result['speed']['descriptor_s_per_window_50x256x256'] * 1000:.0f} ms per "
        "50x256x256 window; "
        + "data scarcity (RAW, Fit-like ACC): "
        + ", ".join(f"{k}: {sc[str(k)]['fit']['acc']:.2f}" for k in n),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
