"""FrameScoreExplorer: driving its controls re-draws the scores, the decision and the frame."""

import numpy as np
import pytest
import torch

from toolkit.framecls import analyze, build
from widgets import FrameScoreExplorer


@pytest.fixture(scope="module")
def result_and_frames():
    torch.manual_seed(0)
    frames = np.random.default_rng(0).integers(0, 255, (5, 32, 48, 3), dtype=np.uint8)
    frames[3] = 0  # a black frame, to see the image change
    return analyze(frames, model=build("tiny").eval(), device="cpu"), frames


def test_controls_redraw(result_and_frames):
    r, frames = result_and_frames
    ex = FrameScoreExplorer(r, frames=frames)
    assert list(ex.score_figure.data[0].y) == pytest.approx(r.scores.tolist())
    sel = [t for t in ex.score_figure.data if t.name == "selected"][0]
    assert sel.x == (0,)
    img0 = ex.image.value
    ex.frame.value = 3
    sel = [t for t in ex.score_figure.data if t.name == "selected"][0]
    assert sel.x == (3,) and sel.y[0] == pytest.approx(r.scores[3])
    assert ex.image.value != img0 and "frame 3" in ex.decision.value
    ex.threshold.value = 0.0
    assert ex.result.verdict == "synthetic" and "synthetic" in ex.decision.value
    ex.threshold.value = 1.0
    assert ex.result.verdict == "not_detected"
    assert np.array_equal(ex.result.scores, r.scores)  # re-decided, not re-scored
    ex.vote.value = "majority"
    assert ex.result.vote == "majority" and ex.result.score == 0.0 and "share of frames" in ex.decision.value


def test_from_a_path_reads_the_frame_from_the_file():
    ex = FrameScoreExplorer(
        "sample_data/real/eat.mkv", model=build("tiny").eval(), device="cpu", max_frames=3
    )
    assert len(ex.result.scores) == 3 and ex.image.value[:4] == b"\x89PNG"
    ex.frame.value = 2
    assert "frame 2" in ex.decision.value


def test_inconclusive_result_draws_its_reason():
    r = analyze(np.zeros((3, 32, 32, 3), np.uint8), model=build("tiny_lstm").eval(), device="cpu")
    ex = FrameScoreExplorer(r)
    assert ex.frame.disabled and "fewer than the 7" in ex.decision.value
    with pytest.raises(ValueError, match="needs a FrameScores"):
        FrameScoreExplorer()
