"""Bayar & Stamm 2016 baseline: a constrained first convolution + a small CNN (seed 004's "Bayar2016").

The first layer holds 3 filters of 5 x 5 on the grey patch, constrained to be prediction-error
filters: centre tap -1 and the other 24 taps summing to 1. The constraint is restored after
every optimiser step (:func:`project_constrained`: centre set to 0, the rest divided by their sum,
centre set to -1), as in the paper. Then conv 96 @ 7 x 7 stride 2 -> max-pool 3 x 3 stride 2 ->
conv 64 @ 5 x 5 -> max-pool 3 x 3 stride 2 -> fully connected 200 -> 200 -> 2 (ReLU, dropout 0.5
before the last two layers); the paper's fully connected layers had 4096 units on 227 x 227 inputs,
scaled here to 200 for 128 x 128 patches and small training sets. Training: SGD, momentum 0.9,
weight decay 5e-4, learning rate ``lr`` (paper: 1e-3), cross-entropy.

>>> import torch
>>> net = BayarCNN()
>>> w = net.constrained.weight.detach()
>>> bool(torch.allclose(w[:, 0, 2, 2], torch.tensor(-1.0))), abs(float(w[0].sum())) < 1e-5
(True, True)
"""

from __future__ import annotations

import math
import time

import numpy as np

__all__ = ["BayarCNN", "project_constrained", "train_bayar"]


def project_constrained(weight) -> None:
    """Restore the Bayar constraint in place on a (C_out, C_in, k, k) weight (k odd): centre -1, rest sum 1.

    >>> import torch
    >>> w = torch.rand(2, 1, 5, 5)
    >>> project_constrained(w)
    >>> bool(w.sum((1, 2, 3)).abs().max() < 1e-5), float(w[0, 0, 2, 2])
    (True, -1.0)
    """
    import torch

    k = weight.shape[-1]
    if weight.ndim != 4 or weight.shape[-2] != k or k % 2 == 0:
        raise ValueError(f"expected a (C_out, C_in, k, k) weight with odd k, got {tuple(weight.shape)}")
    c = k // 2
    with torch.no_grad():
        weight[:, :, c, c] = 0
        s = weight.sum((2, 3), keepdim=True)
        s = torch.where(s.abs() < 1e-8, torch.full_like(s, 1e-8), s)
        weight.div_(s)
        weight[:, :, c, c] = -1


class BayarCNN:
    """The Bayar2016 network (a ``torch.nn.Module``) for B x 1 x H x W inputs in [0, 1], H, W >= 64."""

    def __new__(cls, n_filters: int = 3, fc: int = 200):
        import torch
        from torch import nn

        class _Bayar(nn.Module):
            def __init__(self):
                super().__init__()
                self.constrained = nn.Conv2d(1, n_filters, 5, padding=0, bias=False)
                project_constrained(self.constrained.weight.data)
                self.features = nn.Sequential(
                    nn.Conv2d(n_filters, 96, 7, stride=2),
                    nn.ReLU(),
                    nn.MaxPool2d(3, 2),
                    nn.Conv2d(96, 64, 5),
                    nn.ReLU(),
                    nn.MaxPool2d(3, 2),
                    nn.AdaptiveAvgPool2d(6),
                )
                self.head = nn.Sequential(
                    nn.Flatten(),
                    nn.Linear(64 * 36, fc),
                    nn.ReLU(),
                    nn.Dropout(0.5),
                    nn.Linear(fc, fc),
                    nn.ReLU(),
                    nn.Dropout(0.5),
                    nn.Linear(fc, 2),
                )

            def forward(self, x):
                """Logits B x 2 (class 1 = manipulated); grey levels in [0, 1] scaled to 0-255 first."""
                return self.head(self.features(self.constrained(x * 255.0)))

            def decision_function(self, patches, batch: int = 64):
                """``logit_1 - logit_0`` of uint8 patches."""
                from toolkit.residual.cnn import to_tensor

                x = to_tensor(patches)
                self.eval()
                with torch.no_grad():
                    z = torch.cat([self(x[i : i + batch]) for i in range(0, len(x), batch)])
                return (z[:, 1] - z[:, 0]).numpy().astype(np.float64)

            def predict(self, patches, batch: int = 64):
                """0/1 decisions (1 = manipulated)."""
                return (self.decision_function(patches, batch) > 0).astype(int)

        return _Bayar()


def train_bayar(
    patches,
    labels,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    net=None,
    max_seconds: float | None = None,
):
    """Train a :class:`BayarCNN` (SGD momentum 0.9, decay 5e-4), re-projecting the constraint after each step.

    ``patches`` uint8 B x H x W, ``labels`` 0/1. ``max_seconds`` stops early (recorded in the log).
    Returns ``(net, log)``; ``log`` is a list of per-epoch ``{"epoch", "loss", "train_acc", "seconds"}``.
    """
    import torch

    from toolkit.residual.cnn import labelled_tensors

    x, y = labelled_tensors(patches, labels)
    if min(x.shape[-2:]) < 64:
        raise ValueError(f"BayarCNN needs patches of at least 64 x 64 pixels, got {tuple(x.shape[-2:])}")
    torch.manual_seed(seed)
    net = BayarCNN() if net is None else net
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(seed)
    log, t_start = [], time.perf_counter()
    for ep in range(epochs):
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(len(x), generator=gen)
        tot, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            z = net(x[idx])
            loss = torch.nn.functional.cross_entropy(z, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            project_constrained(net.constrained.weight.data)
            tot += float(loss.detach()) * len(idx)
            correct += int((z.argmax(1) == y[idx]).sum())
        log.append(
            {
                "epoch": ep + 1,
                "loss": tot / len(x),
                "train_acc": correct / len(x),
                "steps": math.ceil(len(x) / batch_size),
                "seconds": time.perf_counter() - t0,
            }
        )
        if max_seconds is not None and time.perf_counter() - t_start > max_seconds:
            break
    net.eval()
    return net, log
