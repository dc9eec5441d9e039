"""Frame-level synthetic-video detection: per-frame fake probabilities and a video vote (:func:`analyze`).

Seed 001, chapters 3-5: a CNN scores every frame (the whole frame, no crop); the video's decision is
the soft vote, the mean frame score, against a threshold (0.5, or one recalibrated on validation videos
of matched quality). A sequence model (ResNetLSTM) scores each window of ``seq_len`` consecutive frames
by its last frame's output; the score is attached to that last frame.

>>> r = analyze("sample_data/real/eat.mkv", max_frames=4)
>>> r.scores.shape, r.frame_indices.tolist(), r.verdict in ("synthetic", "not_detected")
((4,), [0, 1, 2, 3], True)
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

from toolkit._util import resolve_device
from toolkit.framecls.backbones import BACKBONES, FrameClassifier, build
from toolkit.framecls.voting import VOTES, decide, fps_indices, majority_vote
from toolkit.result import INCONCLUSIVE, Result

__all__ = [
    "FrameScores",
    "analyze",
    "load_model",
    "from_checkpoint",
    "predict_resized",
    "KIND",
    "DEFAULT_MODEL",
    "MIN_SIDE",
]

#: checkpoint kind of a frame classifier (:mod:`toolkit.weights`)
KIND = "framecls"
#: the model :func:`analyze` uses when given none (shipped demo weights, simulated data only)
DEFAULT_MODEL = "framecls/tiny_demo"
#: smallest frame side (pixels) analysed; smaller frames are refused with a ValueError
MIN_SIDE = 16


@dataclass(frozen=True, eq=False)
class FrameScores(Result):
    """Per-frame fake probabilities of one video and its vote (method ``"framecls"``).

    Attributes
    ----------
    scores : float64 array (n,), each analysed frame's fake probability (softmax of the fake logit).
    frame_indices : int array (n,), the frame (display order) each score belongs to.
    score : the video's score: the soft vote (mean of ``scores``) or, with ``vote="majority"``, the
        share of frames above the threshold; NaN when no frame was scored.
    threshold : the decision threshold on the soft vote (and the frame threshold of the majority vote).
    vote : ``"soft"`` or ``"majority"``; majority : share of frames above ``threshold`` (both rules).
    backbone : the network; reason : why the verdict is ``"inconclusive"`` (empty otherwise).
    verdict : ``"synthetic"`` / ``"not_detected"`` / ``"inconclusive"``.

    >>> r = FrameScores(scores=np.array([0.9, 0.7]), frame_indices=np.array([0, 1]), score=0.8)
    >>> r.verdict, r.summary()
    ('synthetic', 'framecls on array: synthetic (score 0.8 vs threshold 0.5); 2 frames, 2 above 0.5')
    """

    method = "framecls"

    scores: np.ndarray = None
    frame_indices: np.ndarray = None
    score: float = float("nan")
    threshold: float = 0.5
    vote: str = "soft"
    majority: float = float("nan")
    backbone: str = ""
    inconclusive_reason: str = ""

    def __post_init__(self):
        s = np.array([] if self.scores is None else self.scores, dtype=np.float64).reshape(-1)
        i = np.array([] if self.frame_indices is None else self.frame_indices, dtype=np.int64).reshape(-1)
        if s.shape != i.shape:
            raise ValueError(f"{s.size} scores for {i.size} frame indices")
        s.flags.writeable = False
        i.flags.writeable = False
        object.__setattr__(self, "scores", s)
        object.__setattr__(self, "frame_indices", i)
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "threshold", float(self.threshold))
        if np.isnan(self.majority) and s.size:
            object.__setattr__(self, "majority", majority_vote(s, self.threshold))

    @property
    def verdict(self) -> str:
        """``"synthetic"`` when the vote is above the threshold, ``"not_detected"`` otherwise,
        ``"inconclusive"`` without scores (or on a majority tie)."""
        if self.inconclusive_reason or self.scores.size == 0:
            return INCONCLUSIVE
        return decide(self.scores, self.threshold, self.vote)[0]

    @property
    def reason(self) -> str:
        """The decision in words."""
        if self.verdict == INCONCLUSIVE:
            return self.inconclusive_reason or (
                f"exactly half of the {self.scores.size} frames are above the threshold {self.threshold:g}"
            )
        n_above = int((self.scores > self.threshold).sum())
        rule = "mean frame score" if self.vote == "soft" else "share of frames above the threshold"
        return (
            f"{rule} {self.score:.3f} vs threshold {self.threshold:g} ({n_above} of {self.scores.size} "
            f"frames above it)"
        )

    def summary(self) -> str:
        """One line: verdict, score vs threshold, frames and how many are above the threshold."""
        text = super().summary()
        if self.scores.size:
            text += f"; {self.scores.size} frames, {int((self.scores > self.threshold).sum())} above "
            text += f"{self.threshold:.4g}"
        return text

    def with_threshold(self, threshold: float, vote: str | None = None) -> FrameScores:
        """The same scores decided with another threshold (and vote rule): no frame is scored again.

        >>> r = FrameScores(scores=np.array([0.3, 0.4]), frame_indices=np.array([0, 1]), score=0.35)
        >>> r.verdict, r.with_threshold(0.2).verdict
        ('not_detected', 'synthetic')
        """
        vote = self.vote if vote is None else vote
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}, got {vote!r}")
        score = decide(self.scores, threshold, vote)[1] if self.scores.size else float("nan")
        params = {**self.params, "threshold": float(threshold), "vote": vote}
        return FrameScores(
            scores=self.scores,
            frame_indices=self.frame_indices,
            score=score,
            threshold=float(threshold),
            vote=vote,
            backbone=self.backbone,
            inconclusive_reason=self.inconclusive_reason,
            path=self.path,
            sha256=self.sha256,
            params=params,
            toolkit_version=self.toolkit_version,
        )

    def table(self):
        """pandas table, one row per scored frame: frame index, fake probability, above threshold."""
        import pandas as pd

        return pd.DataFrame(
            {
                "frame": self.frame_indices,
                "fake_probability": self.scores,
                "above_threshold": self.scores > self.threshold,
            }
        ).set_index("frame")

    def plot(self):
        """Per-frame fake probability with the threshold and the soft vote (plotly)."""
        import plotly.graph_objects as go

        fig = go.Figure()
        fig.add_trace(
            go.Scatter(
                x=self.frame_indices, y=self.scores, mode="lines+markers", name="frame fake probability"
            )
        )
        fig.add_hline(y=self.threshold, line_dash="dash", line_color="red", annotation_text="threshold")
        if self.scores.size:
            fig.add_hline(
                y=float(self.scores.mean()), line_dash="dot", line_color="black", annotation_text="soft vote"
            )
        name = os.path.basename(self.path) if self.path else "array"
        fig.update_layout(
            title=f"{name}: {self.verdict} ({self.backbone or 'frame CNN'})",
            xaxis_title="frame",
            yaxis_title="fake probability",
            yaxis_range=[-0.02, 1.02],
            height=360,
        )
        return fig


def from_checkpoint(ck) -> FrameClassifier:
    """The :class:`FrameClassifier` of a ``"framecls"`` checkpoint (builder of :func:`toolkit.weights.load`).

    >>> from toolkit import weights
    >>> m = weights.load("framecls/tiny_demo", device="cpu")
    >>> m.backbone, 0.0 < m.threshold < 1.0
    ('tiny', True)
    """
    from toolkit.weights import WeightsFormatError

    cfg = ck.config
    backbone = cfg.get("backbone")
    if backbone not in BACKBONES:
        raise WeightsFormatError(f"{ck.file}: unknown backbone {backbone!r} in a framecls checkpoint")
    model = build(backbone)
    try:
        model.load_state_dict(ck.state_dict)
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise WeightsFormatError(
            f"{ck.file}: the weights do not fit the {backbone} network ({first})"
        ) from None
    model.threshold = float(cfg.get("threshold", 0.5))
    return model


def load_model(name: str | os.PathLike = DEFAULT_MODEL, device: str = "auto") -> FrameClassifier:
    """A trained frame classifier: a registry name (``"tiny_demo"`` = ``"framecls/tiny_demo"``) or a
    checkpoint file written by :mod:`toolkit.framecls.train`; on ``device``, in eval mode, with
    ``weights_name`` / ``weights_sha256`` set.

    Raises :class:`toolkit.weights.UnknownWeightsError` for an unknown name and
    :class:`toolkit.weights.WeightsNotFoundError` (naming the file and where to put it) for a registered
    but absent file.

    >>> load_model("tiny_demo", device="cpu").weights_name
    'framecls/tiny_demo'
    """
    from toolkit import weights

    return weights.load_named(name, "framecls", KIND, device=str(resolve_device(device)))


@torch.no_grad()
def predict_resized(model: FrameClassifier, resized: torch.Tensor, batch_size: int = 32) -> np.ndarray:
    """Fake probability of each frame (frame models: ``T x 3 x H x W`` uint8 from
    :meth:`FrameClassifier.resize`) or each sequence (sequence models: ``S x L x 3 x H x W``, the last
    frame's output), as a float64 array.

    >>> m = build("tiny").eval()
    >>> predict_resized(m, m.resize(np.zeros((3, 8, 8, 3), np.uint8))).shape
    (3,)
    """
    device = next(model.parameters()).device
    out = []
    for k in range(0, len(resized), int(batch_size)):
        x = model.normalize(resized[k : k + int(batch_size)].to(device))
        logits = model(x)
        if logits.ndim == 3:
            logits = logits[:, -1]
        out.append(torch.softmax(logits.float(), dim=-1)[:, 1].double().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def _resolve_model(model, device) -> FrameClassifier:
    if model is None:
        model = DEFAULT_MODEL
    if isinstance(model, (str, os.PathLike)):
        return load_model(model, device=device)
    if not isinstance(model, FrameClassifier):
        raise ValueError(
            "model must be a FrameClassifier, a registered name or a checkpoint file, got "
            f"{type(model).__name__}"
        )
    return model


def analyze(
    path,
    model=None,
    device: str = "auto",
    fps: float | None = None,
    max_frames: int | None = None,
    progress: bool = False,
    *,
    vote: str = "soft",
    threshold: float | None = None,
    batch_size: int = 16,
) -> FrameScores:
    """Score the frames of a video with a frame CNN and decide by voting (the registry's ``"framecls"``).

    Parameters
    ----------
    path : video file, or a uint8 frame array (``T x H x W x 3`` RGB or ``T x H x W`` grey).
    model : ``None`` (:data:`DEFAULT_MODEL`, a tiny CNN trained on simulated data only), a registry name,
        a checkpoint file or a :class:`FrameClassifier`.
    device : ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    fps : sample the video at this frame rate (``None``: every frame; ch. 4's EfficientNet used 2).
    max_frames : analyse at most this many (sampled) frames.
    progress : tqdm bar over frames.
    vote : ``"soft"`` (mean frame score, the seed's rule) or ``"majority"``.
    threshold : decision threshold (default: the model's, 0.5 or recalibrated at training).
    batch_size : frames (or windows) per forward pass.

    Returns
    -------
    FrameScores : ``scores`` (per-frame fake probability, float64), ``frame_indices``, ``score`` (the
    vote), ``verdict``, ``threshold``. A video with fewer frames than a sequence model's length is
    ``"inconclusive"`` with a reason.

    Raises
    ------
    FileNotFoundError, toolkit.video.VideoReadError (not a decodable video), ValueError (frames smaller
    than :data:`MIN_SIDE` pixels, bad arguments), toolkit.weights errors for the model.

    Frames are decoded one at a time and scored in batches: memory is flat in video length.

    >>> r = analyze(np.zeros((3, 32, 32, 3), np.uint8), model="tiny_demo", device="cpu")
    >>> r.path is None, r.scores.dtype, len(r.frame_indices)
    (True, dtype('float64'), 3)
    """
    from tqdm.auto import tqdm

    from toolkit.video import FrameSource

    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, got {vote!r}")
    if max_frames is not None and (int(max_frames) != max_frames or max_frames < 1):
        raise ValueError(f"max_frames must be a positive whole number or None, got {max_frames!r}")
    src = FrameSource(path, fmt="rgb")
    h, w = src.shape
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"frames are {w}x{h} pixels; the frame CNN needs at least {MIN_SIDE} px per side")
    net = _resolve_model(model, device)
    net.eval()
    video_fps = src.info.fps if src.info is not None else None
    idx = fps_indices(src.n_total, video_fps, fps).tolist()
    if max_frames is not None:
        idx = idx[: int(max_frames)]
    src = FrameSource(path, indices=idx, fmt="rgb") if idx else src
    thr = float(net.threshold if threshold is None else threshold)
    L = net.seq_len
    scores: list[float] = []
    kept: list[int] = []
    pending: list = []  # resized frames (frame model) or windows (sequence model) waiting for a batch
    pending_idx: list[int] = []
    window: deque = deque(maxlen=L or 1)
    n_seen = 0

    def flush():
        if pending:
            scores.extend(predict_resized(net, torch.stack(pending), batch_size).tolist())
            kept.extend(pending_idx)
            pending.clear()
            pending_idx.clear()

    bar = tqdm(total=len(idx), desc="frames", unit="frame", disable=not progress)
    try:
        for i, frame in src if idx else ():
            n_seen += 1
            bar.update(1)
            resized = net.resize(frame[None])[0]
            if L is None:
                pending.append(resized)
            else:
                window.append(resized)
                if len(window) < L:
                    continue
                pending.append(torch.stack(list(window)))
            pending_idx.append(int(i))
            if len(pending) >= batch_size:
                flush()
        flush()
    finally:
        bar.close()
    reason = ""
    if n_seen == 0:
        from toolkit.video import VideoReadError

        if src.path is not None:
            raise VideoReadError(f"{src.path!r}: no frame could be decoded")
        raise ValueError("no frame to analyse")
    if not scores:
        reason = (
            f"the video gave {n_seen} frame(s), fewer than the {L} consecutive frames the {net.backbone} "
            "sequence model needs"
        )
    s = np.asarray(scores, dtype=np.float64)
    score = decide(s, thr, vote)[1] if s.size else float("nan")
    params = {
        "model": getattr(net, "weights_name", None) or getattr(net, "weights_file", None) or "(in memory)",
        "weights_sha256": getattr(net, "weights_sha256", None),
        "backbone": net.backbone,
        "input_size": list(net.input_size),
        "seq_len": L,
        "device": str(next(net.parameters()).device),
        "fps": fps,
        "max_frames": max_frames,
        "vote": vote,
        "threshold": thr,
        "batch_size": int(batch_size),
    }
    return FrameScores(
        scores=s,
        frame_indices=np.asarray(kept, dtype=np.int64),
        score=score,
        threshold=thr,
        vote=vote,
        backbone=net.backbone,
        inconclusive_reason=reason,
        path=src.path,
        sha256=src.sha256,
        params=params,
    )
