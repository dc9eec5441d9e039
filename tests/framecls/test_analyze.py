"""analyze(): per-frame scores, the vote, the Result contract and every bad input."""

import json

import numpy as np
import pytest
import torch

from toolkit import weights
from toolkit.framecls import FrameScores, analyze, build, load_model, predict_resized
from toolkit.video import VideoReadError

from .conftest import clip

SAMPLE = "sample_data/real/eat.mkv"


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return build("tiny").eval()


def test_scores_are_per_frame_probabilities_and_the_score_is_their_mean(net):
    frames = clip(1, 0, n=6)
    r = analyze(frames, model=net, device="cpu", batch_size=4)
    assert isinstance(r, FrameScores) and r.path is None
    assert r.scores.dtype == np.float64 and r.frame_indices.tolist() == list(range(6))
    expected = predict_resized(net, net.resize(frames))
    np.testing.assert_allclose(r.scores, expected, atol=1e-6)
    assert r.score == pytest.approx(r.scores.mean())
    assert r.verdict == ("synthetic" if r.score > r.threshold else "not_detected")
    assert json.loads(r.to_json()) == r.to_dict()
    with pytest.raises(ValueError):
        r.scores[0] = 1.0  # read-only


def test_majority_vote_and_threshold_override(net):
    r = analyze(clip(0, 1, n=5), model=net, device="cpu", vote="majority", threshold=0.0)
    assert r.vote == "majority" and r.score == 1.0 and r.verdict == "synthetic"
    again = r.with_threshold(1.0, vote="soft")
    assert again.verdict == "not_detected" and np.array_equal(again.scores, r.scores)


def test_max_frames_and_fps_sampling(net):
    r = analyze(SAMPLE, model=net, device="cpu", max_frames=3)
    assert r.frame_indices.tolist() == [0, 1, 2] and r.params["max_frames"] == 3
    r2 = analyze(SAMPLE, model=net, device="cpu", fps=2, max_frames=3)
    assert r2.frame_indices[0] == 0 and np.all(np.diff(r2.frame_indices) >= 10)


def test_sequence_model_scores_windows_and_short_videos_are_inconclusive():
    m = build("tiny_lstm").eval()
    r = analyze(clip(1, 2, n=9), model=m, device="cpu")
    assert r.frame_indices.tolist() == [6, 7, 8]  # the last frame of each 7-frame window
    short = analyze(clip(1, 2, n=5), model=m, device="cpu")
    assert short.verdict == "inconclusive" and "fewer than the 7" in short.reason
    assert short.scores.size == 0 and np.isnan(short.score)
    assert json.loads(short.to_json()) == short.to_dict()


def test_corrupt_video_is_a_video_read_error(tmp_path, net):
    good = open(SAMPLE, "rb").read()
    bad = tmp_path / "cut.mkv"
    bad.write_bytes(good[:300])
    with pytest.raises(VideoReadError):
        analyze(bad, model=net, device="cpu")
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoReadError):
        analyze(noise, model=net, device="cpu")


def test_wrong_frame_sizes_are_refused(net):
    with pytest.raises(ValueError, match="at least 16 px"):
        analyze(np.zeros((3, 8, 40, 3), np.uint8), model=net, device="cpu")
    with pytest.raises(ValueError, match="channels"):
        analyze(np.zeros((3, 32, 32, 4), np.uint8), model=net, device="cpu")
    with pytest.raises(ValueError, match="max_frames"):
        analyze(clip(0, 0), model=net, device="cpu", max_frames=0)


def test_missing_weight_file_names_it_and_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path))
    weights.register(
        weights.WeightSpec(name="framecls/absent", filename="framecls_absent.pt", sha256="a" * 64)
    )
    with pytest.raises(weights.WeightsNotFoundError) as e:
        load_model("absent", device="cpu")
    assert "framecls_absent.pt" in str(e.value) and str(tmp_path) in str(e.value)
    with pytest.raises(weights.UnknownWeightsError):
        load_model("no-such-model", device="cpu")
    with pytest.raises(ValueError, match="FrameClassifier"):
        analyze(SAMPLE, model=object())


def test_checkpoint_round_trip(tmp_path, net):
    f = tmp_path / "m.pt"
    net.threshold = 0.37
    weights.save(net, f, kind="framecls", config=net.config())
    m = load_model(f, device="cpu")
    assert m.threshold == 0.37 and m.backbone == "tiny"
    a = analyze(clip(0, 3), model=net, device="cpu")
    b = analyze(clip(0, 3), model=m, device="cpu")
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)
    bad = tmp_path / "other.pt"
    weights.save(torch.nn.Linear(2, 2), bad, kind="framecls", config={"backbone": "tiny"})
    with pytest.raises(weights.WeightsFormatError, match="do not fit"):
        load_model(bad, device="cpu")
    net.threshold = 0.5
