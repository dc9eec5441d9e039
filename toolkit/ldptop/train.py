"""Train LDP-TOP ensembles on FakeDance-like videos and ship one: ``python -m toolkit.ldptop.train``.

:func:`build_data` writes the FakeDance-like set (:func:`toolkit.synth.fakedance.make_dataset`) once;
:func:`video_features` computes (and caches beside each video as ``<video>.ldptop-<parts>.npz``) its
window features; :func:`split_features` gathers them for one quality / split / family; the
benchmark (``benchmarks/ldptop.py``) reads the same cache.

``python -m toolkit.ldptop.train --data DIR --register`` trains the whole-frame model on the
training split (real vs Fit-like, RAW + HQ + LQ) and registers it as ``ldptop/frame_fitlike``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from toolkit.ldptop.analyze import FEATURE_DEFAULTS, features
from toolkit.ldptop.ensemble import LDPTOPEnsemble

__all__ = ["build_data", "select_segments", "video_features", "split_features", "train", "main", "SHIP_NAME"]

SHIP_NAME = "ldptop/frame_fitlike"


def build_data(root: str | os.PathLike, quick: bool = False, progress: bool = True) -> dict:
    """The FakeDance-like set under ``root`` (built when ``root/manifest.json`` is absent).

    ``quick``: the 300-frame head in ``sample_data``, downscaled 8x, 50-frame videos, one segment
    (and its mirror) per split.
    """
    from toolkit.synth import fakedance

    root = Path(root)
    man = root / "manifest.json"
    if man.is_file():
        return json.loads(man.read_text())
    if quick:
        head = Path(__file__).resolve().parents[2] / "sample_data" / "real" / "person_gop10_head300.mp4"
        return fakedance.make_dataset(
            root, n_frames=50, factor=8, clip=head, train_hop=25, test_hop=50, max_videos=1, progress=progress
        )
    return fakedance.make_dataset(root, progress=progress)


def select_segments(manifest: dict, split: str, max_n: int | None = None) -> list[str]:
    """The segment names of a split, at most ``max_n`` of them evenly spread in time (sorted).

    >>> man = {"videos": [{"split": "test", "segment": f"seg{i:04d}"} for i in range(5)]}
    >>> select_segments(man, "test", 3)
    ['seg0000', 'seg0002', 'seg0004']
    """
    segs = sorted({v["segment"] for v in manifest["videos"] if v["split"] == split})
    if max_n is None or len(segs) <= max_n:
        return segs
    return [segs[i] for i in np.linspace(0, len(segs) - 1, int(max_n)).round().astype(int)]


def video_features(
    path: str | os.PathLike, parts: str = "frame", cache: bool = True, max_windows: int | None = None
):
    """(n_windows, n_parts, 2, 3072) features of one generated video; ``parts``: ``"frame"`` (whole
    frame) or ``"parts"`` (the generator's five body-part boxes); ``max_windows``: the first windows
    only (``None``: all). Cached beside the video."""
    path = Path(path)
    side = path.with_name(
        f"{path.name}.ldptop-{parts}{'' if max_windows is None else f'-w{max_windows}'}.npz"
    )
    if cache and side.is_file():
        return np.load(side)["values"]
    regions = None if parts == "frame" else "generator"
    kw = {k: FEATURE_DEFAULTS[k] for k in ("variant", "flow_band", "part_margin")}
    if max_windows is not None:
        from toolkit.ldptop.descriptor import window_starts
        from toolkit.video import probe

        n = min(probe(path).n_frames, 50 + 25 * (int(max_windows) - 1))
        kw["max_windows"] = len(window_starts(n))
        from toolkit.video import read_frames

        f = features(read_frames(path, 0, n), None, **kw) if regions is None else None
        if f is None:
            from toolkit.ldptop.regions import Regions, from_sidecar

            r = from_sidecar(path)
            r = Regions.from_dict({p: b[:n] for p, b in r.boxes.items()}, r.source)
            f = features(read_frames(path, 0, n), r, **kw)
        if cache:
            np.savez_compressed(side, values=f.values.astype(np.float32))
        return f.values
    f = features(path, regions, **kw)
    if cache:
        np.savez_compressed(side, values=f.values.astype(np.float32))
    return f.values


def split_features(
    root,
    manifest: dict,
    quality: str,
    split: str,
    families=("real", "fit"),
    parts="frame",
    progress: bool = False,
    segments=None,
    max_windows: int | None = None,
):
    """``(X, y, video_index, videos)`` of every window of the videos of one quality / split / families:
    X (n_windows, n_parts, 2, 3072), y (0 real / 1 fake), the video each window belongs to."""
    from tqdm.auto import tqdm

    vids = [
        v
        for v in manifest["videos"]
        if v["quality"] == quality and v["split"] == split and v["family"] in families
    ]
    if segments is not None:
        vids = [v for v in vids if v["segment"] in segments]
    X, y, idx = [], [], []
    for k, v in enumerate(tqdm(vids, desc=f"features {quality}/{split}", disable=not progress)):
        f = video_features(Path(root) / v["path"], parts, max_windows=max_windows)
        X.append(f)
        y += [int(v["label"] == "fake")] * len(f)
        idx += [k] * len(f)
    X = np.concatenate(X) if X else np.zeros((0, 5 if parts == "parts" else 1, 2, 3072))
    return X, np.asarray(y, int), np.asarray(idx, int), vids


def train(X, y, parts=("frame",), seed: int = 0) -> LDPTOPEnsemble:
    """An :class:`LDPTOPEnsemble` fitted on window features ``X`` and labels ``y``."""
    return LDPTOPEnsemble(parts=parts, seed=seed).fit(X, y)


def main(argv=None) -> None:
    from toolkit import weights

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/forensics-toolkit/fakedance"))
    ap.add_argument("--out", default="ldptop_frame_fitlike.pt")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--register", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-train-segments", type=int, default=8)
    ap.add_argument("--max-test-segments", type=int, default=6)
    ap.add_argument("--windows-per-video", type=int, default=1)
    args = ap.parse_args(argv)
    man = build_data(args.data, quick=args.quick)
    train_segs = select_segments(man, "train", args.max_train_segments)
    test_segs = select_segments(man, "test", args.max_test_segments)
    w = args.windows_per_video
    Xs, ys = [], []
    for q in ("raw", "hq", "lq"):
        X, y, _, _ = split_features(
            args.data, man, q, "train", progress=True, segments=train_segs, max_windows=w
        )
        Xs.append(X)
        ys.append(y)
    X, y = np.concatenate(Xs), np.concatenate(ys)
    m = train(X, y, seed=args.seed)
    acc = {}
    for q in ("raw", "hq", "lq"):
        Xt, yt, _, _ = split_features(args.data, man, q, "test", segments=test_segs, max_windows=w)
        acc[q] = float((m.predict(Xt) == yt).mean()) if len(yt) else None
    card = {
        "data": "FakeDance-like simulation (toolkit.synth.fakedance): real vs Fit-like, "
        "RAW+HQ+LQ training split",
        "n_train_windows": int(len(y)),
        "train_segments": train_segs,
        "windows_per_video": w,
        "test_window_accuracy": acc,
        "warning": "trained on simulated fakes of one clip; retrain on real material for evidence",
    }
    size = m.save(
        args.out,
        card=card,
        settings={k: FEATURE_DEFAULTS[k] for k in FEATURE_DEFAULTS} | {"window": 50, "hop": 25},
    )
    print(f"wrote {args.out} ({size} bytes); test window accuracy {acc}")
    if args.register:
        weights.register_file(
            SHIP_NAME,
            args.out,
            train_command="python -m toolkit.ldptop.train --register",
            card=json.dumps(card),
            ship=True,
        )
        print(f"registered {SHIP_NAME}")


if __name__ == "__main__":  # pragma: no cover
    main()
