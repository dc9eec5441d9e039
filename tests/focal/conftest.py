"""Fixtures for the FOCAL tests: small networks with non-trivial batch-norm statistics."""

from __future__ import annotations

import pytest
import torch

from toolkit.focal import FocalNet


def randomized_net(num_classes: int = 4, seed: int = 0, classes=None) -> FocalNet:
    """A FocalNet in eval mode whose BN layers have random (non-identity) running statistics."""
    torch.manual_seed(seed)
    net = FocalNet(num_classes, classes=classes)
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) * 0.4 - 0.2)
    return net.eval()


@pytest.fixture(scope="session")
def codec_net():
    return randomized_net(4, seed=1, classes=("mpeg2", "mpeg4", "h264", "h265"))


@pytest.fixture(scope="session")
def quality_net():
    return randomized_net(4, seed=2, classes=("delta5", "delta10", "delta20", "delta40"))
