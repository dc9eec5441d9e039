import numpy as np
import pytest

from toolkit import metrics


def test_roc_and_auc_against_hand_values():
    r = metrics.roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert r.auc == pytest.approx(0.75)
    assert metrics.tpr_at_fpr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.0) == 0.5
    assert metrics.tpr_at_fpr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.5) == 1.0
    assert len(r.plot().data) == 2
    with pytest.raises(ValueError, match="both"):
        metrics.roc([1, 1], [0.2, 0.3])


def test_threshold_at_fpr_calibrates_on_negatives():
    neg = np.arange(100, dtype=float)
    t = metrics.threshold_at_fpr(neg, 0.03)
    assert (neg > t).mean() <= 0.03
    assert (neg > t - 1).mean() > 0.03  # the tightest such threshold
    with pytest.raises(ValueError):
        metrics.threshold_at_fpr([], 0.03)


def test_pixel_auc_topk_balanced_pr():
    mask = np.zeros((4, 4), int)
    mask[:2] = 1
    assert metrics.pixel_auc(mask, mask * 0.9 + 0.05) == 1.0
    assert metrics.pixel_auc([mask], [1 - mask]) == 0.0
    p = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]])
    assert metrics.topk_accuracy([2, 0, 1], p, k=1) == pytest.approx(1 / 3)
    assert metrics.topk_accuracy([2, 0, 1], p, k=2) == pytest.approx(1.0)
    assert metrics.balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0]) == 0.5
    assert metrics.best_f1([0, 1, 1], [0.1, 0.9, 0.8]) == 1.0
    assert metrics.precision_at_recall([0, 1, 0, 1], [0.9, 0.8, 0.1, 0.2], 1.0) == pytest.approx(2 / 3)
