"""Training: λ-weighted loss, resumable runs, identity-disjoint splits, the FF++ loader on a tiny layout."""

import json

import numpy as np
import pytest

from toolkit import weights
from toolkit.faces import train as T
from toolkit.faces.ffpp import ffpp_videos, load_ffpp
from toolkit.synth.faces import FaceDataset

from .conftest import FixedDetector, textured


def _ds(n=8, ids=("A", "B")):
    rng = np.random.default_rng(0)
    masks = np.zeros((n, 128, 128), bool)
    masks[1::2, 30:90, 30:90] = True
    return FaceDataset(
        crops=rng.integers(0, 255, (n, 128, 128, 3), dtype=np.uint8),
        masks=masks,
        labels=np.array([0, 1] * (n // 2)),
        kinds=np.array(["pristine", "faceswap"] * (n // 2)),
        compression=np.array(["c23"] * n),
        identity=np.array([ids[i % len(ids)] for i in range(n)]),
        clip=np.array(["x"] * n),
    )


def test_split_is_identity_disjoint():
    ds = _ds(12, ("A", "B", "C"))
    parts = T.split(ds, train=("A",), val=("B",), test=("C",))
    assert [set(parts[k].identity) for k in ("train", "val", "test")] == [{"A"}, {"B"}, {"C"}]
    with pytest.raises(ValueError):
        T.split(ds, train=("A",), val=("A",), test=())


def test_train_one_and_resume(tmp_path):
    ds = _ds()
    ck = tmp_path / "run.pt"
    model, hist = T.train_one(ds, ds, 0.5, epochs=1, per_epoch=4, batch=4, checkpoint=ck, progress=False)
    assert len(hist) == 1 and np.isfinite(hist[0]["loss"]) and model.lam == 0.5
    assert weights.load_checkpoint(ck).extra["history"]
    _, hist2 = T.train_one(
        ds, ds, 0.5, epochs=2, per_epoch=4, batch=4, resume=ck, checkpoint=ck, progress=False
    )
    assert [h["epoch"] for h in hist2] == [1, 2]  # continued, not restarted
    with pytest.raises(ValueError):
        T.train_one(ds, ds, 1.5, epochs=1)


def test_sweep_writes_models_and_scores(tmp_path):
    ds = _ds(8, ("A", "B"))
    s = T.sweep(
        ds,
        [0.0],
        out=tmp_path,
        epochs=1,
        per_epoch=4,
        batch=4,
        progress=False,
        splits={"train": ("A",), "val": ("B",), "test": ()},
    )
    assert "0" in s["models"] and (tmp_path / "lam_0.pt").is_file()
    assert json.loads((tmp_path / "sweep.json").read_text())["models"]["0"]["lam"] == 0.0
    net = weights.load(tmp_path / "lam_0.pt", device="cpu")
    assert net.lam == 0.0


def test_evaluate_scores_perfect_and_wrong_predictions():
    ds = _ds()
    tgt = T.seg_targets(ds.masks)
    good = T.prediction_scores(ds.labels.astype(float), tgt, ds.labels, ds.masks)
    assert good["accuracy"] == 1.0 and good["pixel_accuracy"] == 1.0 and good["iou"] == 1.0
    bad = T.prediction_scores(1.0 - ds.labels, 1 - tgt, ds.labels, ds.masks)
    assert bad["accuracy"] == 0.0 and bad["iou"] == 0.0


def _tiny_ffpp(root):
    from toolkit.synth import encode

    (root / "splits").mkdir(parents=True)
    for split, pair in (("train", ["000", "001"]), ("val", ["002", "003"]), ("test", ["004", "005"])):
        (root / "splits" / f"{split}.json").write_text(json.dumps([pair]))
    o = root / "original_sequences/youtube/c23/videos"
    m = root / "manipulated_sequences/Deepfakes/c23/videos"
    k = root / "manipulated_sequences/Deepfakes/masks/videos"
    for t in range(6):
        frames = [textured(64, 64, t + s) for s in range(2)]
        encode(frames, o / f"{t:03d}.mp4", codec="h264", quality=23, preset="ultrafast")
    for a, b in ((0, 1), (2, 3), (4, 5)):
        for t, s in ((a, b), (b, a)):
            frames = [textured(64, 64, 50 + t + s) for _ in range(2)]
            encode(frames, m / f"{t:03d}_{s:03d}.mp4", codec="h264", quality=23, preset="ultrafast")
            mask = np.zeros((64, 64, 3), np.uint8)
            mask[16:48, 20:44] = 255
            encode([mask, mask], k / f"{t:03d}_{s:03d}.mp4", codec="h264", quality=0, preset="ultrafast")


def test_ffpp_loader_on_tiny_layout(tmp_path):
    _tiny_ffpp(tmp_path)
    vids = ffpp_videos(tmp_path, "Deepfakes")
    assert {k: len(v) for k, v in vids.items()} == {"train": 2, "val": 2, "test": 2}
    ds = load_ffpp(tmp_path, detector=FixedDetector(), every=1)
    # 6 originals + 6 manipulated videos, 2 frames each
    assert len(ds) == 24 and (ds.labels == 1).sum() == 12
    assert set(ds.identity) == {"train", "val", "test"}
    assert ds.masks[ds.labels == 1].any(axis=(1, 2)).all() and not ds.masks[ds.labels == 0].any()
    with pytest.raises(FileNotFoundError, match="original_sequences"):
        ffpp_videos(tmp_path / "nothing", "Deepfakes")
