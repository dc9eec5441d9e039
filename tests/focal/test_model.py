"""FocalNet follows Table 1 / Figure 3 of seed 000."""

import pytest
import torch

from toolkit.focal import FocalNet, count_parameters, load_model, save_model
from toolkit.focal.model import LAYERS


def test_layer_shapes_match_figure3():
    net = FocalNet(4).eval()
    x = torch.rand(3, 1, 64, 64) * 255
    shapes = []
    h = net.normalize(x)
    for name, k, s, p in LAYERS:
        conv = getattr(net, name)
        assert conv.kernel_size == (k, k) and conv.stride == (s, s) and conv.padding == (p, p)
        assert conv.out_channels == 64
        h = torch.relu(getattr(net, "bn" + name[-1])(conv(h)))
        shapes.append(tuple(h.shape[1:]))
    # Figure 3: m = 61, 30, 27, 13, 7 feature-map sizes; 7x7 = one descriptor per block corner
    assert shapes == [(64, 61, 61), (64, 30, 30), (64, 27, 27), (64, 13, 13), (64, 7, 7)]
    assert tuple(net.trunk(x).shape) == (3, 64, 13, 13)
    assert tuple(net.corners(x).shape) == (3, 64, 7, 7)
    assert tuple(net.descriptor(x).shape) == (3, 64)
    assert tuple(net(x).shape) == (3, 4)
    assert torch.allclose(net(x), net.fc2(net.descriptor(x)))


def test_parameter_count():
    net = FocalNet(4)
    convs = 1 * 64 * 16 + 64 + 64 * 64 * 9 + 64 + 64 * 64 * 16 + 64 + 2 * (64 * 64 * 9 + 64)
    bns = 5 * 2 * 64
    fcs = 64 * 7 * 7 * 64 + 64 + 64 * 4 + 4
    assert count_parameters(net) == convs + bns + fcs == 379_140  # "about 380 K" (issue)
    assert count_parameters(FocalNet(2)) == 379_140 - 2 * 65


def test_bad_construction():
    with pytest.raises(ValueError, match="num_classes"):
        FocalNet(1)
    with pytest.raises(ValueError, match="class names"):
        FocalNet(4, classes=("a", "b"))


def test_save_load_round_trip(tmp_path, codec_net, monkeypatch):
    f = tmp_path / "focal_codec.pt"
    save_model(codec_net, f, meta={"note": "test"})
    net = load_model(f, device="cpu")
    x = torch.rand(2, 1, 64, 64) * 255
    assert net.classes == codec_net.classes and net.meta == {"note": "test"}
    assert not net.training
    assert torch.equal(net(x), codec_net(x))


def test_load_model_reads_a_checkpoint_path(codec_net, tmp_path):
    f = tmp_path / "mine.pt"
    save_model(codec_net, f)
    x = torch.rand(1, 1, 64, 64) * 255
    for name in (f, str(f)):
        net = load_model(name, device="cpu")
        assert net.classes == codec_net.classes and torch.equal(net(x), codec_net(x))
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_model(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a FOCAL checkpoint"):
        load_model(str(tmp_path / "text.pt"))


def test_load_model_errors(tmp_path, monkeypatch):
    from toolkit import weights

    with pytest.raises(ValueError, match="unknown FOCAL model"):
        load_model("resolution")
    # nothing shipped nor cached: a WeightsNotFoundError that names the training command
    monkeypatch.setattr(weights, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    for name in ("codec", "quality"):
        with pytest.raises(weights.WeightsNotFoundError, match=f"toolkit.focal.train {name}"):
            load_model(name)
    # and the same when the registry does not know the name at all
    monkeypatch.setattr(weights, "available", lambda: [])
    with pytest.raises(weights.WeightsNotFoundError, match="focal_codec.pt"):
        load_model("codec")


def test_highpass_init_gives_zero_mean_dct_filters():
    import numpy as np

    from toolkit.focal.model import FocalNet, dct_ac_basis, highpass_init_

    b = dct_ac_basis(4)
    # orthonormal AC functions: zero mean, unit norm, mutually orthogonal
    assert np.allclose(b.sum(axis=(1, 2)), 0, atol=1e-12)
    assert np.allclose(np.einsum("aij,bij->ab", b, b), np.eye(15), atol=1e-12)
    net = FocalNet(4)
    default = net.conv1.weight.detach().clone()
    highpass_init_(net, noise=0.0)
    w = net.conv1.weight.detach()[:, 0].numpy()
    assert not torch.equal(default, net.conv1.weight)
    assert np.allclose(w.sum(axis=(1, 2)), 0, atol=1e-4)  # a flat image gives no response
    assert np.allclose(w[:15], b * 255 / 16, atol=1e-5) and np.allclose(w[15:30], -w[:15])
    assert float(net.conv1.bias.abs().max()) == 0.0
    g = torch.Generator().manual_seed(3)
    a1 = highpass_init_(FocalNet(4), generator=g).conv1.weight
    a2 = highpass_init_(FocalNet(4), generator=torch.Generator().manual_seed(3)).conv1.weight
    assert torch.equal(a1, a2)  # seeded
    assert np.allclose(a1.detach().sum(dim=(1, 2, 3)).numpy(), 0, atol=1e-4)  # noise keeps zero mean
