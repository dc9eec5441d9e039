import numpy as np
import pytest
import torch

from toolkit.residual import RecastCNN, feature_counts, features_batch, finetune
from toolkit.residual.cnn import to_tensor
from toolkit.residual.svm import evaluate


@pytest.mark.parametrize("shape", [(5, 32, 32), (3, 40, 27)])
def test_hardmax_counts_equal_handcrafted_random(shape):
    x = np.random.default_rng(shape[1]).integers(0, 256, shape, dtype=np.uint8)
    net = RecastCNN.from_handcrafted(hard=True, device="cpu")
    c = net.counts(x).numpy()
    assert np.array_equal(c, np.round(c))  # integer counts
    np.testing.assert_array_equal(c.astype(np.int64), feature_counts(x))


def test_hardmax_counts_equal_on_low_noise_images(photo_patches):
    # low-amplitude images put many residuals right next to the quantiser thresholds (|r| = 2 or 3)
    rng = np.random.default_rng(7)
    smooth = np.clip(128 + rng.normal(0, 2, (4, 48, 48)), 0, 255).astype(np.uint8)
    net = RecastCNN.from_handcrafted(hard=True, device="cpu")
    for x in (smooth, photo_patches):
        np.testing.assert_array_equal(net.counts(x).numpy().astype(np.int64), feature_counts(x))


def test_wrong_init_breaks_equality():
    x = np.random.default_rng(3).integers(0, 256, (2, 32, 32), dtype=np.uint8)
    net = RecastCNN.from_handcrafted(hard=True, delta=6.0, device="cpu")
    assert not np.array_equal(net.counts(x).numpy().astype(np.int64), feature_counts(x))


def test_softmax216_close_to_feature(photo_patches):
    soft = RecastCNN.from_handcrafted(alpha=216.0, device="cpu")
    with torch.no_grad():
        h = soft.histogram(to_tensor(photo_patches)).numpy()
    diff = np.abs(h - features_batch(photo_patches)).sum(1)
    assert diff.max() < 1e-3
    # a small alpha is visibly soft: the difference is measurable, not zero by construction
    with torch.no_grad():
        h2 = soft.with_alpha(2.0).histogram(to_tensor(photo_patches)).numpy()
    assert np.abs(h2 - features_batch(photo_patches)).sum(1).mean() > 0.1


def test_decisions_equal_svm(blur_data, blur_svm):
    _, te = blur_data
    ev = evaluate(blur_svm, features_batch(te.x), te.y)
    assert ev.accuracy > 0.8  # blur 1.1 is an easy manipulation
    hard = RecastCNN.from_handcrafted(blur_svm, hard=True, device="cpu")
    np.testing.assert_allclose(hard.decision_function(te.x), ev.scores, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(hard.predict(te.x), ev.decisions)
    soft = RecastCNN.from_handcrafted(blur_svm, alpha=216.0, device="cpu")
    assert (soft.predict(te.x) == ev.decisions).mean() >= 0.97


def test_finetune_learns(blur_data):
    # from the handcrafted extractor with a zero classifier, a few epochs at a large learning
    # rate must reach a clearly better-than-chance training accuracy and lower the loss
    tr, _ = blur_data
    net = RecastCNN.from_handcrafted(alpha=216.0, device="cpu")
    w0 = net.conv_along.weight.detach().clone()
    log = finetune(net, tr.x, tr.y, epochs=3, lr=3e-2, decay=0.0, batch_size=16, crop=32, progress=False)
    assert log[-1]["loss"] < log[0]["loss"]
    assert log[-1]["train_acc"] > 0.7
    assert not torch.equal(w0, net.conv_along.weight)  # unconstrained: the filters move too
    assert len(log.table()) == 3
