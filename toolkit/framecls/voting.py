"""Video-level decisions from frame scores: soft / majority voting, window sampling, threshold recalibration.

Pure functions on arrays (no model, no video), shared by :func:`toolkit.framecls.analyze`, the trainer
and the benchmark.

* :func:`soft_vote` — the mean of the per-frame fake probabilities (seed 001, ch. 3-5: "soft majority
  voting, i.e. the average of the detection scores of all the frames");
* :func:`majority_vote` — the share of frames whose score is above the threshold;
* :func:`decide` — ``"synthetic"`` / ``"not_detected"`` / ``"inconclusive"`` from scores and a rule;
* :func:`sample_windows` — sequences of ``length`` consecutive frames (ResNetLSTM, ch. 5: sequences of 7);
* :func:`fps_indices` — frame indices at a target frame rate (EfficientNet-B3, ch. 4: 2 fps);
* :func:`recalibrate_threshold` — the threshold that maximises accuracy on a validation set of matched
  quality (ch. 4, Tables 4.8 / 4.9), and :func:`accuracy_at`.

>>> import numpy as np
>>> s = np.array([0.9, 0.8, 0.2, 0.7])
>>> soft_vote(s), majority_vote(s)
(0.65, 0.75)
>>> decide(s, threshold=0.5)
('synthetic', 0.65)
>>> [w.tolist() for w in sample_windows(5, 3)]
[[0, 1, 2], [1, 2, 3], [2, 3, 4]]
"""

from __future__ import annotations

import numpy as np

from toolkit.result import INCONCLUSIVE, NOT_DETECTED

__all__ = [
    "VOTES",
    "check_scores",
    "soft_vote",
    "majority_vote",
    "decide",
    "sample_windows",
    "fps_indices",
    "recalibrate_threshold",
    "accuracy_at",
]

#: video-level voting rules
VOTES = ("soft", "majority")


def check_scores(scores) -> np.ndarray:
    """``scores`` as a float64 1-D array of probabilities in ``[0, 1]``; ``ValueError`` with a sentence
    for NaN, values outside ``[0, 1]`` or more than one dimension (an empty array is returned as is).

    >>> check_scores([0.2, 1]).dtype
    dtype('float64')
    """
    a = np.asarray(scores, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"frame scores must be a 1-D sequence, got shape {a.shape}")
    if a.size and (not np.isfinite(a).all() or a.min() < 0.0 or a.max() > 1.0):
        raise ValueError("frame scores must be finite probabilities in [0, 1]")
    return a


def soft_vote(scores) -> float:
    """Mean frame score (the video's fake probability under soft voting); ``ValueError`` when empty.

    >>> soft_vote([0.0, 1.0, 0.5])
    0.5
    """
    a = check_scores(scores)
    if a.size == 0:
        raise ValueError("no frame scores to vote on")
    return float(a.mean())


def majority_vote(scores, threshold: float = 0.5) -> float:
    """Share of frames whose score is above ``threshold`` (the video is fake when the share is > 0.5).

    >>> majority_vote([0.6, 0.4, 0.9], threshold=0.5)
    0.6666666666666666
    """
    a = check_scores(scores)
    if a.size == 0:
        raise ValueError("no frame scores to vote on")
    return float((a > float(threshold)).mean())


def decide(scores, threshold: float = 0.5, vote: str = "soft") -> tuple[str, float]:
    """``(verdict, score)`` of a video from its frame scores.

    ``vote="soft"``: score = mean frame score, synthetic when it is above ``threshold``.
    ``vote="majority"``: score = share of frames above ``threshold``, synthetic when above 0.5;
    a tie (exactly half) is ``"inconclusive"``. No scores at all: ``("inconclusive", nan)``.

    >>> decide([0.9, 0.1], vote="majority")
    ('inconclusive', 0.5)
    >>> decide([0.3, 0.5], threshold=0.3)
    ('synthetic', 0.4)
    """
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, got {vote!r}")
    a = check_scores(scores)
    if a.size == 0:
        return INCONCLUSIVE, float("nan")
    if vote == "soft":
        s = soft_vote(a)
        return ("synthetic" if s > threshold else NOT_DETECTED), s
    share = majority_vote(a, threshold)
    if share == 0.5:
        return INCONCLUSIVE, share
    return ("synthetic" if share > 0.5 else NOT_DETECTED), share


def sample_windows(n_frames: int, length: int, stride: int = 1, max_windows: int | None = None) -> list:
    """Index arrays of the windows of ``length`` consecutive frames in ``0 .. n_frames - 1``.

    Windows start every ``stride`` frames; ``max_windows`` keeps that many, evenly spread over the
    video (first and last included). ``ValueError`` when the video is shorter than ``length``.

    >>> [w.tolist() for w in sample_windows(10, 7, stride=2)]
    [[0, 1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7, 8]]
    >>> [int(w[0]) for w in sample_windows(30, 7, max_windows=3)]
    [0, 12, 23]
    """
    n, length, stride = int(n_frames), int(length), int(stride)
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1, got {length} and {stride}")
    if n < length:
        raise ValueError(f"the video has {n} frames, fewer than the sequence length {length}")
    starts = np.arange(0, n - length + 1, stride)
    if max_windows is not None and len(starts) > int(max_windows):
        if int(max_windows) < 1:
            raise ValueError("max_windows must be >= 1")
        pick = np.unique(np.round(np.linspace(0, len(starts) - 1, int(max_windows))).astype(int))
        starts = starts[pick]
    return [np.arange(s, s + length) for s in starts]


def fps_indices(n_frames: int, video_fps: float, fps: float | None) -> np.ndarray:
    """Frame indices that sample a ``video_fps`` video at ``fps`` frames per second (all when ``None``
    or when ``fps`` is not below ``video_fps``): the frame nearest each tick ``k / fps`` seconds.

    >>> fps_indices(50, 25.0, 2).tolist()
    [0, 13, 25, 38]
    """
    n = int(n_frames)
    if fps is None or video_fps is None or fps >= video_fps:
        return np.arange(n)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    ticks = np.arange(0.0, n / float(video_fps), 1.0 / float(fps))
    idx = np.unique(np.floor(ticks * float(video_fps) + 0.5).astype(int))
    return idx[idx < n]


def accuracy_at(scores, labels, threshold: float) -> float:
    """Accuracy of ``score > threshold`` against ``labels`` (1 = fake, 0 = real).

    >>> accuracy_at([0.2, 0.7, 0.6], [0, 1, 0], 0.65)
    1.0
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(int)
    if s.shape != y.shape or s.ndim != 1 or s.size == 0:
        raise ValueError("scores and labels must be 1-D sequences of the same, non-zero length")
    return float(((s > threshold).astype(int) == y).mean())


def recalibrate_threshold(scores, labels) -> float:
    """The threshold that maximises accuracy of ``score > threshold`` on a validation set.

    Seed 001, ch. 4: under mismatched compression the score distributions stay separated (high AUC)
    but move away from the training threshold; the threshold is re-set on validation videos of the
    *same quality* as the test videos. Candidates are the midpoints between consecutive distinct
    sorted scores (and just below / above all of them); among equally accurate ones the one nearest
    0.5 is taken. ``ValueError`` unless both classes are present.

    >>> recalibrate_threshold([0.01, 0.02, 0.05, 0.08], [0, 0, 1, 1])
    0.035
    """
    s = check_scores(scores)
    y = np.asarray(labels).astype(int)
    if s.shape != y.shape or s.size == 0:
        raise ValueError("scores and labels must be 1-D sequences of the same, non-zero length")
    if set(np.unique(y).tolist()) != {0, 1}:
        raise ValueError("threshold recalibration needs validation videos of both classes (0 real, 1 fake)")
    u = np.unique(s)
    cands = np.concatenate([[u[0] - 1e-6], (u[:-1] + u[1:]) / 2.0, [u[-1] + 1e-6]])
    acc = np.array([((s > t).astype(int) == y).mean() for t in cands])
    best = cands[acc >= acc.max() - 1e-12]
    return float(best[np.argmin(np.abs(best - 0.5))])
