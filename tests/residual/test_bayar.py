"""The Bayar2016 constrained layer keeps its constraint through training; bad inputs are refused."""

import numpy as np
import pytest
import torch

from toolkit.residual.bayar import BayarCNN, project_constrained, train_bayar


def _check_constraint(w):
    c = w.shape[-1] // 2
    torch.testing.assert_close(w[:, :, c, c], torch.full(w.shape[:2], -1.0))
    torch.testing.assert_close(w.sum((2, 3)), torch.zeros(w.shape[:2]), atol=1e-5, rtol=0)


def test_projection_restores_the_constraint():
    w = torch.randn(4, 1, 5, 5)
    project_constrained(w)
    _check_constraint(w)
    with pytest.raises(ValueError, match="odd"):
        project_constrained(torch.zeros(1, 1, 4, 4))


def test_constraint_holds_after_steps_and_weights_move():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 64, 64), dtype=np.uint8)
    x[8:] = (x[8:] // 2).astype(np.uint8)  # a learnable difference
    y = np.r_[np.zeros(8, int), np.ones(8, int)]
    net = BayarCNN()
    w0 = net.constrained.weight.detach().clone()
    net, log = train_bayar(x, y, epochs=2, lr=1e-2, batch_size=8, net=net)
    w = net.constrained.weight.detach()
    _check_constraint(w)
    assert not torch.allclose(w, w0)  # the projected step changed the filters
    assert len(log) == 2 and log[0]["steps"] == 2
    assert net.predict(x).shape == (16,)


def test_bad_inputs():
    x = np.zeros((4, 32, 32), np.uint8)
    with pytest.raises(ValueError, match="64"):
        train_bayar(x, [0, 0, 1, 1], epochs=1)
    with pytest.raises(ValueError, match="labels"):
        train_bayar(np.zeros((2, 64, 64), np.uint8), [0, 2], epochs=1)
