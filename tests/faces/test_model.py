"""Table I: shapes, parameter count, heads."""

import numpy as np
import pytest
import torch

from toolkit.faces import FaceFCN, to_tensor
from toolkit.faces.model import LAYERS


def test_output_shapes_and_intermediate_sizes():
    net = FaceFCN().eval()
    x = torch.zeros(3, 3, 128, 128)
    sizes = []
    h = x
    for m in net.features:
        h = m(h)
        if isinstance(m, (torch.nn.ReLU, torch.nn.MaxPool2d)):
            sizes.append((h.shape[1], h.shape[2]))
    # Table I: 126, 124, 61, 59, 57, 55, 53, 51, 49
    assert sizes == [
        (32, 126),
        (32, 124),
        (32, 61),
        (64, 59),
        (64, 57),
        (128, 55),
        (128, 53),
        (256, 51),
        (256, 49),
    ]
    cls, seg = net(x)
    assert cls.shape == (3, 2) and seg.shape == (3, 2, 49, 49)


def test_parameter_count_about_1_2_million():
    n = sum(p.numel() for p in FaceFCN().parameters())
    assert 1.1e6 < n < 1.25e6


def test_every_conv_has_batchnorm_and_relu_no_padding():
    convs = [m for m in FaceFCN().features if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == sum(1 for t in LAYERS if t[0] == "conv") == 8
    assert all(c.padding == (0, 0) and c.stride == (1, 1) and c.kernel_size == (3, 3) for c in convs)
    mods = list(FaceFCN().features)
    for i, m in enumerate(mods):
        if isinstance(m, torch.nn.Conv2d):
            assert isinstance(mods[i + 1], torch.nn.BatchNorm2d) and isinstance(mods[i + 2], torch.nn.ReLU)


def test_classification_is_gap_of_features():
    net = FaceFCN().eval()
    x = torch.rand(2, 3, 128, 128)
    with torch.no_grad():
        f = net.features(x)
        expected = net.cls_head(f.mean((2, 3), keepdim=True)).flatten(1)
        cls, _ = net(x)
    assert torch.allclose(cls, expected)


def test_to_tensor_checks_input():
    t = to_tensor(np.full((2, 128, 128, 3), 255, np.uint8))
    assert t.shape == (2, 3, 128, 128) and float(t.max()) == 1.0
    with pytest.raises(ValueError):
        to_tensor(np.zeros((2, 128, 128), np.float32))
