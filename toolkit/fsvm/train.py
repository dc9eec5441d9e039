"""Train, measure and (optionally) ship the default F-SVM on simulated DeepStreets-like videos.

Two simulated sets are written by :func:`toolkit.fsvm.simulate.make_dataset` (144 x 176,
40 frames, H.264 CRF 23): a training set (seed ``S``) and a held-out test set (seed
``S + 100``: other videos, whose source photos / clips may repeat the training ones).
An ``FSVM(C=0.1, n_frames=30)`` (the seed's settings) is fitted on the training
footprints and its accuracy measured on the test footprints.

    python -m toolkit.fsvm.train --register

writes ``fsvm_simulated.pt`` (a few KB, :meth:`toolkit.fsvm.FSVM.save`) and, with
``--register``, records it in the shipped weights index as ``fsvm/simulated`` with its
model card (:func:`toolkit.weights.register_file`). The model saw only simulated videos:
it is a working default for the pipeline, not a detector of real GAN output.

>>> from toolkit.fsvm.train import train                       # doctest: +SKIP
>>> model, report = train(n_train=12, n_test=12)               # doctest: +SKIP
>>> report["test"]["accuracy"]                                 # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from toolkit._util import command_line
from toolkit.synth.encode import is_x86_64

__all__ = [
    "train",
    "real_sample_scores",
    "model_card",
    "main",
    "SIZE",
    "VIDEO_FRAMES",
    "N_FRAMES",
    "C",
    "ENCODER",
]

#: simulated video size (height, width), frames per simulated video, footprint N, SVM C
SIZE = (144, 176)
#: encoder settings added to the simulation's: one thread and x264 capped at AVX2 make the
#: simulated videos, hence the model, the same on every run (x86-64; elsewhere the defaults)
ENCODER = {"simd": "avx2", "threads": 1} if is_x86_64() else {"threads": 1}
VIDEO_FRAMES = 40
N_FRAMES = 30
C = 0.1


def train(
    n_train: int = 16,
    n_test: int = 16,
    seed: int = 0,
    workdir: str | Path | None = None,
    real_clips: bool = True,
) -> tuple[object, dict]:
    """Simulate, fit on the training set and measure on the test set; returns ``(model, report)``.

    ``n_train`` / ``n_test``: videos per class. ``real_clips``: let 40 % of the sources be crops
    of the real CC-BY clips (``../shared/real_video``; ``FileNotFoundError`` when absent, so that
    a missing folder never silently trains another model); ``False``: photos only.
    """
    import numpy as np

    from toolkit.fsvm.data import load_folder
    from toolkit.fsvm.model import FSVM
    from toolkit.fsvm.simulate import ENCODE, STRENGTH_RANGE, TEXTURE_RMS, make_dataset

    if real_clips:
        from toolkit.synth.sources import real_clips as list_clips
        from toolkit.synth.sources import real_video_dir

        if not list_clips():
            raise FileNotFoundError(
                f"no real clips in {real_video_dir()}: put them there or train with --no-clips (photos only)"
            )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fsvm_train_") as tmp:
        root = Path(workdir) if workdir is not None else Path(tmp)
        sets = {}
        for name, n, s in (("train", n_train, seed), ("test", n_test, seed + 100)):
            make_dataset(
                root / name,
                n_per_class=n,
                n_frames=VIDEO_FRAMES,
                size=SIZE,
                seed=s,
                real_clips=real_clips,
                progress=False,
                encoder=ENCODER,
            )
            sets[name] = load_folder(root / name, n_frames=N_FRAMES, progress=False)
    tr, te = sets["train"], sets["test"]
    errors = tr.errors + te.errors
    if errors:
        raise RuntimeError(f"some simulated videos could not be analysed: {errors}")
    model = FSVM(C=C, n_frames=N_FRAMES).fit(tr.footprints, tr.labels)
    pred = model.predict(te.footprints)
    y = te.labels
    scores = model.decision_function(te.footprints)

    def mean_fp(ds, k):
        m = ds.footprints[ds.labels == k].mean(axis=(0, 1))
        return {c: round(float(v), 4) for c, v in zip(("intra", "inter", "skip"), m)}

    report = {
        "C": C,
        "n_frames": N_FRAMES,
        "seed": seed,
        "real_clips": bool(real_clips),
        "simulation": {
            "size": list(SIZE),
            "frames_per_video": VIDEO_FRAMES,
            "encode": {**ENCODE, **ENCODER},
            "texture_rms": TEXTURE_RMS,
            "strength_range": list(STRENGTH_RANGE),
        },
        "train": {
            "seed": seed,
            "videos": len(tr),
            "per_class": n_train,
            "mean_footprint": {"real": mean_fp(tr, 0), "fake": mean_fp(tr, 1)},
            "accuracy": float((model.predict(tr.footprints) == tr.labels).mean()),
        },
        "test": {
            "seed": seed + 100,
            "videos": len(te),
            "per_class": n_test,
            "accuracy": float((pred == y).mean()),
            "true_positive_rate": float((pred[y == 1] == 1).mean()),
            "false_positive_rate": float((pred[y == 0] == 1).mean()),
            "score_real_mean": float(np.mean(scores[y == 0])),
            "score_fake_mean": float(np.mean(scores[y == 1])),
        },
        "n_support": model.n_support_,
        "real_samples": real_sample_scores(model),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return model, report


def real_sample_scores(model) -> dict:
    """SVM score of each real clip in ``sample_data/real`` (camera videos, never simulated): how the
    model reads real footage outside its simulated world. ``{file name: score}``; empty when absent."""
    from toolkit.fsvm.footprint import extract

    folder = Path(__file__).resolve().parents[2] / "sample_data" / "real"
    out = {}
    for p in sorted(folder.glob("*.mkv")) if folder.is_dir() else []:
        fp = extract(p, n_frames=int(model.n_frames))
        out[p.name] = round(float(model.decision_function(fp.values[None])[0]), 4)
    return out


def _encoder_text(enc: dict) -> str:
    parts = [f"{enc.get('threads') or 'default'} encoder thread(s)"]
    if enc.get("simd") == "avx2":
        parts.append("x264 capped at AVX2")
    return ", ".join(parts) + ": the same videos on every run"


def _real_text(r: dict) -> str:
    s = r.get("real_samples") or {}
    if not s:
        return ""
    calls = ", ".join(f"{k} {v:+.3f} ({'synthetic' if v > 0 else 'not detected'})" for k, v in s.items())
    return f"On the real camera clips of sample_data/real (full size, never simulated): {calls}.\n"


def model_card(report: dict, command: str) -> str:
    """The model card text (data seen, counts, C, measured held-out accuracy)."""
    r, tr, te = report, report["train"], report["test"]
    src = (
        "virtual-camera sequences over scikit-image / scikit-learn photos and crops of the real CC-BY "
        "clips of ../shared/real_video"
        if r["real_clips"]
        else "virtual-camera sequences over scikit-image / scikit-learn photos only"
    )
    return (
        f"F-SVM default model (seed 001, ch. 5: linear SVM, C = {r['C']:g}, on the 3N = {3 * r['n_frames']} "
        f"values of the first N = {r['n_frames']} frames' intra / inter / skip macroblock fractions after a "
        "lossless H.264 re-encode).\n"
        "Data: ONLY SIMULATED DeepStreets-like videos (toolkit.fsvm.simulate: no GAN, no real data set): "
        f"{src}; 'real' = encoded as is, 'fake' = every frame re-synthesised independently (fresh "
        f"texture, sub-pixel warp, flicker; strength {r['simulation']['strength_range']}), "
        f"{r['simulation']['size'][1]}x{r['simulation']['size'][0]}, {r['simulation']['frames_per_video']} "
        f"frames, H.264 CRF {r['simulation']['encode']['quality']} with B-frames "
        f"({_encoder_text(r['simulation']['encode'])}).\n"
        f"Training: {tr['videos']} videos ({tr['per_class']} per class, make_dataset seed {tr['seed']}), "
        f"training accuracy {tr['accuracy']:.3f}.\n"
        f"Held-out test: {te['videos']} other simulated videos ({te['per_class']} per class, seed "
        f"{te['seed']}; their source photos / clips may repeat the training ones): accuracy "
        f"{te['accuracy']:.3f} (synthetic detected {te['true_positive_rate']:.3f}, real called synthetic "
        f"{te['false_positive_rate']:.3f}).\n"
        + _real_text(r)
        + "Meaning: whether a video's prediction footprint resembles the simulated fakes; it has never seen "
        "real GAN output or DeepStreets. Retrain on a real set (toolkit.fsvm.load_folder + FSVM().fit) "
        "before drawing conclusions on real videos.\n"
        f"Reproduce: {command}"
    )


def main(argv=None) -> dict:
    """Command line: train the default F-SVM, print its report, optionally register (ship) it."""
    from toolkit import weights

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=16, help="training videos per class")
    ap.add_argument("--n-test", type=int, default=16, help="test videos per class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-clips", action="store_true", help="photo sources only (no ../shared/real_video)")
    ap.add_argument("--workdir", default=None, help="keep the simulated videos in this folder")
    ap.add_argument("--out", default=None, help="checkpoint file (default: a temporary folder)")
    ap.add_argument("--register", action="store_true", help="ship it as fsvm/simulated")
    args = ap.parse_args(argv)
    model, report = train(args.n_train, args.n_test, args.seed, args.workdir, real_clips=not args.no_clips)
    defaults = {"n_train": 16, "n_test": 16, "seed": 0}
    command = command_line("python -m toolkit.fsvm.train", args, defaults, ("no_clips",)) + " --register"
    card = model_card(report, command)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "fsvm_simulated.pt"
    model.save(out, card={"text": card, **report})
    report["file"], report["bytes"] = str(out), out.stat().st_size
    if args.register:
        spec = weights.register_file(
            "fsvm/simulated",
            out,
            train_command=command,
            card=card,
            extra={"test": report["test"], "train": report["train"], "C": report["C"]},
        )
        report["registered"], report["sha256"] = spec.name, spec.sha256
    print(card)
    print(json.dumps({k: report[k] for k in ("train", "test", "seconds", "bytes")}, indent=1, default=str))
    return report


if __name__ == "__main__":
    main()
