"""The in-process trainer: it learns, is seeded, resumes, recalibrates, and refuses bad input."""

import numpy as np
import pytest
import torch

from toolkit import weights
from toolkit.framecls import KIND, analyze
from toolkit.framecls.train import clips, evaluate, fit, label_of


def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_fit_learns_noise_vs_smooth_and_recalibrates(toy_videos):
    m = fit(toy_videos["train"], toy_videos["val"], "tiny", epochs=8, patience=None, progress=False, seed=0)
    ev = evaluate(m, toy_videos["test"])
    assert ev["auc"] == 1.0 and ev["accuracy"] >= 0.75
    assert len(m.history) == 8 and all("val_loss" in h for h in m.history)
    assert m.history[-1]["train_loss"] < m.history[0]["train_loss"]
    info = m.train_info
    assert info["train_samples"] == 8 * 8 and info["epochs"] == 8 and info["stopped_by"] == "epochs"
    # the threshold is the validation-optimal one: validation accuracy at it is perfect
    val = evaluate(m, toy_videos["val"])
    assert val["accuracy"] == 1.0 and 0.0 < m.threshold < 1.0
    # analyze() agrees with the trainer's own soft vote
    path, label = toy_videos["test"][1]
    r = analyze(path, model=m, device="cpu")
    assert r.score == pytest.approx(ev["scores"][1], abs=1e-4) and r.verdict == "synthetic"


def test_fit_is_seeded_and_resumes_exactly(toy_videos, tmp_path):
    kw = dict(epochs=2, patience=None, progress=False, max_frames=4)
    a = fit(toy_videos["train"], toy_videos["val"], "tiny", seed=3, **kw)
    b = fit(toy_videos["train"], toy_videos["val"], "tiny", seed=3, **kw)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    c = fit(toy_videos["train"], toy_videos["val"], "tiny", seed=4, **kw)
    assert not all(torch.equal(a.state_dict()[k], c.state_dict()[k]) for k in a.state_dict())
    # one epoch, then resume to two from the checkpoint: the same as two in one go
    ck = tmp_path / "run.pt"
    fit(toy_videos["train"], toy_videos["val"], "tiny", seed=3, checkpoint=ck, **{**kw, "epochs": 1})
    saved = weights.load_checkpoint(ck, kind=KIND)
    assert saved.extra["epoch"] == 1 and "optimizer" in saved.extra
    r = fit(toy_videos["train"], toy_videos["val"], "tiny", seed=3, checkpoint=ck, **kw)
    assert [h["epoch"] for h in r.history] == [1, 2]
    assert r.history[1]["train_loss"] == pytest.approx(a.history[1]["train_loss"], rel=1e-5)
    assert all(
        torch.allclose(r.state_dict()[k].float(), a.state_dict()[k].float(), atol=1e-6)
        for k in a.state_dict()
    )


def test_max_minutes_stops_early(toy_videos):
    m = fit(toy_videos["train"], [], "tiny", epochs=50, max_minutes=1e-6, progress=False, max_frames=2)
    assert m.train_info["stopped_by"] == "max_minutes" and m.train_info["epochs"] == 1
    assert m.threshold == 0.5  # nothing to recalibrate on


def test_sequence_model_trains_on_windows(toy_videos):
    m = fit(toy_videos["train"][:4], toy_videos["val"], "tiny_lstm", epochs=1, progress=False)
    assert m.train_info["train_samples"] == 4 * (8 - 7 + 1)
    with pytest.raises(ValueError, match="fewer than the sequence length 7"):
        fit(toy_videos["train"][:2], [], "tiny_lstm", epochs=1, progress=False, max_frames=5)


def test_bad_labels_and_one_class(toy_videos):
    assert label_of("real") == 0 and label_of("synthetic") == 1
    with pytest.raises(ValueError, match="labels must be"):
        label_of(2)
    with pytest.raises(ValueError, match="both classes"):
        fit([v for v in toy_videos["train"] if v[1] == 1], [], progress=False)
    with pytest.raises(ValueError, match="unknown backbone"):
        fit(toy_videos["train"], [], "resnet18", progress=False)


def test_clips_are_resized_uint8_and_cached(toy_videos):
    from toolkit.framecls import build

    m = build("tiny")
    a = clips(toy_videos["test"][:1], m, max_frames=3)
    assert a[0].dtype == torch.uint8 and tuple(a[0].shape) == (3, 3, 64, 128)
    assert clips(toy_videos["test"][:1], m, max_frames=3)[0] is a[0]
    assert np.isfinite(evaluate(m, toy_videos["test"], max_frames=2)["auc"])


def test_command_line_trains_on_a_family_and_writes_a_loadable_checkpoint(tmp_path, capsys):
    from toolkit.framecls import load_model
    from toolkit.framecls.train import main

    out = tmp_path / "m.pt"
    argv = [
        "--n-sources",
        "3",
        "--epochs",
        "1",
        "--size",
        "32",
        "64",
        "--data",
        str(tmp_path / "d"),
        "--out",
        str(out),
        "--no-progress",
        "--threads",
        "1",
        "--quality",
        "lq",
    ]
    rep = main(argv)
    assert rep["data"]["quality"] == "lq" and rep["test"]["n"] == 2 and rep["train_info"]["epochs"] == 1
    m = load_model(out, device="cpu")
    assert m.backbone == "tiny" and m.threshold == rep["train_info"]["threshold"]
    card = m.card["text"]
    assert "ONLY SIMULATED" in card and "--size 32 64" in card and "--quality lq" in card
    assert "Held-out test (2 videos" in capsys.readouterr().out
