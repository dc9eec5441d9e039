"""The fast recast CNN computes the handcrafted feature exactly (hardmax), equals the recast CNN
(softmax), and its fine-tuning moves decisions where the frozen alpha = 216 / lr 1e-6 recipe does not."""

import copy

import numpy as np
import pytest
import torch

from toolkit.residual import RecastCNN, feature_counts, features_batch, finetune
from toolkit.residual.cnn import to_tensor
from toolkit.residual.fast import FastRecastCNN, alpha_step_units
from toolkit.residual.svm import evaluate
from toolkit.residual.tune import refit_classifier, source_split


@pytest.mark.parametrize("codebook", ["product", "free"])
@pytest.mark.parametrize("shape", [(4, 32, 32), (3, 40, 27)])
def test_fast_hardmax_counts_equal_handcrafted(codebook, shape):
    x = np.random.default_rng(shape[1]).integers(0, 256, shape, dtype=np.uint8)
    net = FastRecastCNN.from_handcrafted(hard=True, codebook=codebook)
    c = net.counts(x).numpy()
    assert np.array_equal(c, np.round(c))
    np.testing.assert_array_equal(c.astype(np.int64), feature_counts(x))


def test_fast_hardmax_on_photos_and_low_noise(photo_patches):
    rng = np.random.default_rng(7)
    smooth = np.clip(128 + rng.normal(0, 2, (4, 48, 48)), 0, 255).astype(np.uint8)
    net = FastRecastCNN.from_handcrafted(hard=True)
    for x in (smooth, photo_patches):
        np.testing.assert_array_equal(net.counts(x).numpy().astype(np.int64), feature_counts(x))
    # another quantisation step gives other counts: the equality is not vacuous
    other = FastRecastCNN.from_handcrafted(hard=True, delta=6.0)
    assert not np.array_equal(other.counts(smooth).numpy().astype(np.int64), feature_counts(smooth))


@pytest.mark.parametrize("codebook", ["product", "free"])
def test_fast_softmax_equals_recast_and_gradients_agree(codebook, photo_patches):
    fast = FastRecastCNN.from_handcrafted(alpha=3.0, codebook=codebook)
    with torch.no_grad():  # perturb every parameter so that the product structure is general
        for p in fast.parameters():
            p.add_(0.05 * torch.randn_like(p))
    slow = fast.to_recast()
    x = to_tensor(photo_patches[:4])
    hf, hs = fast.histogram(x), slow.histogram(x)
    torch.testing.assert_close(hf, hs, rtol=1e-4, atol=1e-6)
    w = torch.randn_like(hf)
    (hf * w).sum().backward()
    (hs * w).sum().backward()
    g_fast = (fast.taps.grad * fast.mask)[:4, :, :1, :]
    torch.testing.assert_close(
        g_fast * fast.scale, slow.conv_along.weight.grad * (255 / 4.5) ** 2, rtol=2e-3, atol=1e-4
    )


def test_hand_written_backwards_pass_gradcheck():
    from toolkit.residual import fast

    g = torch.Generator().manual_seed(0)
    r = (2 * torch.randn(3, 4, 11, generator=g, dtype=torch.float64)).requires_grad_()
    lev = (
        torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
        + 0.1 * torch.randn(4, 3, generator=g, dtype=torch.float64)
    ).requires_grad_()
    bias = (0.1 * torch.randn(4, 3, generator=g, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda *a: fast.ProductPool.apply(*a, 1.7), (r, lev, bias))
    x = torch.rand(2, 1, 9, 10, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 1, 4, 4, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fast.ResidualConv.apply, (x, w))


def test_pooling_in_sample_chunks_changes_nothing(photo_patches):
    net = FastRecastCNN.from_handcrafted(alpha=3.0)
    x = to_tensor(photo_patches[:5])
    grads = []
    for chunk in (1, 3, 64):
        net.pool_samples = chunk
        net.zero_grad()
        h = net.histogram(x)
        (h * torch.linspace(-1, 1, h.shape[1])).sum().backward()
        grads.append(
            (h.detach(), net.taps.grad.clone(), net.levels.grad.clone(), net.level_bias.grad.clone())
        )
    for other in grads[1:]:
        for a, b in zip(grads[0], other):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_fast_decisions_equal_svm(blur_data, blur_svm):
    _, te = blur_data
    ev = evaluate(blur_svm, features_batch(te.x), te.y)
    hard = FastRecastCNN.from_handcrafted(blur_svm, hard=True)
    np.testing.assert_allclose(hard.decision_function(te.x), ev.scores, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(hard.predict(te.x), ev.decisions)


def test_alpha_units_and_bad_input():
    assert alpha_step_units(216.0) == pytest.approx(216 * (4.5 / 255) ** 2)
    with pytest.raises(ValueError, match="alpha"):
        alpha_step_units(-1.0)
    with pytest.raises(ValueError, match="codebook"):
        FastRecastCNN(codebook="lattice")
    with pytest.raises(ValueError, match="alpha"):
        FastRecastCNN(alpha=float("nan"))


def test_finetune_moves_decisions_where_frozen_recipe_does_not(blur_data):
    # pristine vs blur 1.1 on 64 x 64 patches; a few Adam steps of the soft fast model (alpha 3 in
    # step units, O(1) weights, lr 1e-2) change the loss and decisions; the frozen recipe
    # (recast CNN at alpha 216 in step units, lr 1e-6) leaves every decision as it was
    tr, _ = blur_data
    fit, val = source_split(tr, ["flower", "chelsea"])
    net = FastRecastCNN.from_handcrafted(alpha=3.0)
    refit_classifier(net, fit.x, fit.y, C=1.0)
    d0 = net.decision_function(val.x)
    before = copy.deepcopy(net)
    log = finetune(net, fit.x, fit.y, epochs=3, lr=1e-2, batch_size=16, progress=False, device="cpu")
    d1 = net.decision_function(val.x)
    assert np.abs(d1 - d0).mean() > 0.05
    assert float((net.taps - before.taps).detach().abs().max()) > 1e-3  # the filters move
    assert float((net.levels - before.levels).detach().abs().max()) > 1e-3  # and the codebook
    assert log[-1]["loss"] < log[0]["loss"]

    frozen = RecastCNN.from_handcrafted(alpha=216.0, device="cpu")
    frozen.init_classifier(net.fc.weight.detach()[1].numpy() * 2, 0.0)
    f0 = frozen.decision_function(val.x)
    finetune(frozen, fit.x, fit.y, epochs=1, lr=1e-6, batch_size=16, progress=False, device="cpu")
    assert np.abs(frozen.decision_function(val.x) - f0).max() < 0.05
    assert np.array_equal(frozen.decision_function(val.x) > 0, f0 > 0)


def test_heatmap_accepts_the_fast_model(blur_svm):
    from toolkit.residual import heatmap

    img = np.random.default_rng(4).integers(0, 256, (96, 96), dtype=np.uint8)
    fast = FastRecastCNN.from_handcrafted(blur_svm, alpha=5.0)
    a = np.asarray(heatmap(img, fast, window=64, stride=32))
    b = np.asarray(heatmap(img, fast.to_recast(), window=64, stride=32))
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a.shape == (2, 2) and not np.allclose(a, 0.5)
