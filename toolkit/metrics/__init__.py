"""Thin layer over scikit-learn for the figures every method reports.

All functions take plain sequences / numpy arrays; labels are 1 = forged /
positive, 0 = pristine / negative, and scores are "higher = more likely
positive".

>>> from toolkit.metrics import roc, tpr_at_fpr
>>> r = roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
>>> round(r.auc, 2)
0.75
>>> tpr_at_fpr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.0)
0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import metrics as _skm

__all__ = [
    "ROC",
    "roc",
    "tpr_at_fpr",
    "threshold_at_fpr",
    "pixel_auc",
    "topk_accuracy",
    "balanced_accuracy",
    "precision_at_recall",
    "best_f1",
]


@dataclass(frozen=True)
class ROC:
    """A ROC curve: ``fpr``, ``tpr`` and ``thresholds`` arrays (scikit-learn's) and ``auc``."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float

    def __repr__(self) -> str:
        return f"ROC(auc={self.auc:.4f}, points={len(self.fpr)})"

    def plot(self, name: str = "ROC"):
        """Plotly figure of the curve (FPR on x, TPR on y)."""
        import plotly.graph_objects as go

        fig = go.Figure()
        fig.add_scatter(x=self.fpr, y=self.tpr, mode="lines", name=f"{name} (AUC {self.auc:.3f})")
        fig.add_scatter(
            x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), showlegend=False
        )
        fig.update_layout(
            xaxis_title="false positive rate",
            yaxis_title="true positive rate",
            xaxis_range=[0, 1],
            yaxis_range=[0, 1.01],
            width=480,
            height=420,
        )
        return fig


def _numbers(values, what: str) -> np.ndarray:
    """``values`` as a flat float array; ``ValueError`` with a sentence for anything else."""
    try:
        a = np.asarray(values)
    except (ValueError, TypeError) as e:  # ragged nested sequences
        raise ValueError(f"{what} must be a flat sequence of numbers ({e})") from None
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ValueError(
            f"{what} must be numbers, got values of type {a.dtype} (e.g. {a.ravel()[:1].tolist()})"
        )
    a = a.astype(float).ravel()
    if a.size == 0:
        raise ValueError(f"{what} are empty")
    bad = ~np.isfinite(a)
    if bad.any():
        raise ValueError(f"{what} must be finite numbers; {int(bad.sum())} of {a.size} are NaN or infinite")
    return a


def _check(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    """Binary labels (0 / 1, or booleans) and finite scores of the same length, as flat arrays.

    >>> _check([0, 1], ["a", "b"])
    Traceback (most recent call last):
    ...
    ValueError: scores must be numbers, got values of type <U1 (e.g. ['a'])
    """
    y = _numbers(labels, "labels")
    s = _numbers(scores, "scores")
    if y.shape != s.shape:
        raise ValueError(f"labels ({y.size} values) and scores ({s.size} values) must have the same length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"labels must be 0 (negative) or 1 (positive), got {sorted(set(y.tolist()))[:5]}")
    if len(np.unique(y)) < 2:
        raise ValueError("ROC needs both positive (1) and negative (0) labels")
    return y.astype(int), s


def roc(labels, scores) -> ROC:
    """ROC curve and AUC (``sklearn.metrics.roc_curve`` / ``roc_auc_score``).

    ``labels``: 0 / 1 (or booleans); ``scores``: finite numbers, higher = more likely positive,
    one per label. ``ValueError`` with a sentence for strings, NaN / infinite values, empty or
    mismatched inputs, labels other than 0 / 1, or a single class.

    >>> roc([0, 1], [0.2, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: scores must be finite numbers; 1 of 2 are NaN or infinite
    """
    y, s = _check(labels, scores)
    fpr, tpr, thr = _skm.roc_curve(y, s)
    return ROC(fpr=fpr, tpr=tpr, thresholds=thr, auc=float(_skm.roc_auc_score(y, s)))


def tpr_at_fpr(labels, scores, fpr: float = 0.03) -> float:
    """Largest true-positive rate reachable with false-positive rate <= ``fpr``."""
    r = roc(labels, scores)
    ok = r.fpr <= fpr + 1e-12
    return float(r.tpr[ok].max()) if ok.any() else 0.0


def threshold_at_fpr(negative_scores, fpr: float = 0.03) -> float:
    """Threshold ``t`` such that at most ``fpr`` of the negatives score strictly above ``t``.

    The decision rule is ``score > t``: ``t`` is the (k+1)-th largest negative
    score with k = floor(fpr * n), the tightest threshold that lets at most k
    negatives through (ties only lower the count). It needs no positives:
    this is how a detector is calibrated on pristine material.
    """
    if np.size(negative_scores) == 0:
        raise ValueError("need at least one negative score to calibrate a threshold")
    s = np.sort(_numbers(negative_scores, "negative scores"))[::-1]
    if not 0 <= fpr < 1:
        raise ValueError("fpr must be in [0, 1)")
    k = int(np.floor(fpr * s.size + 1e-9))
    return float(s[min(k, s.size - 1)])


def pixel_auc(masks, heatmaps) -> float:
    """Pixel-level AUC of heat maps against binary ground-truth masks (any shapes, flattened)."""
    y = np.concatenate([np.asarray(m).ravel() > 0 for m in _as_list(masks)]).astype(int)
    s = np.concatenate([np.asarray(h, dtype=float).ravel() for h in _as_list(heatmaps)])
    y, s = _check(y, s)
    return float(_skm.roc_auc_score(y, s))


def _as_list(x):
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return [x]
    return list(x)


def topk_accuracy(labels, probabilities, k: int = 1) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    ``probabilities`` is N x K; ``labels`` are integer class indices.
    (``sklearn.metrics.top_k_accuracy_score``.)
    """
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError("probabilities must be N x K with one row per label")
    return float(_skm.top_k_accuracy_score(y, p, k=k, labels=np.arange(p.shape[1])))


def balanced_accuracy(labels, predictions) -> float:
    """Mean per-class recall (``sklearn.metrics.balanced_accuracy_score``)."""
    return float(_skm.balanced_accuracy_score(np.asarray(labels), np.asarray(predictions)))


def precision_at_recall(labels, scores, recall: float = 0.8) -> float:
    """Best precision among operating points whose recall is >= ``recall``."""
    y, s = _check(labels, scores)
    p, r, _ = _skm.precision_recall_curve(y, s)
    ok = r >= recall - 1e-12
    return float(p[ok].max()) if ok.any() else 0.0


def best_f1(labels, scores) -> float:
    """Maximum F1 score over all thresholds."""
    y, s = _check(labels, scores)
    p, r, _ = _skm.precision_recall_curve(y, s)
    f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    return float(f1.max())
