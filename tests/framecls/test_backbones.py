"""Each backbone builds at the seed's input size with the expected output shape and parameter count."""

import numpy as np
import pytest
import torch

from toolkit import weights
from toolkit.framecls import BACKBONES, build, count_parameters
from toolkit.framecls.backbones import pretrained_state


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize(
    "name, size, params",
    [
        ("xception", (256, 512), 20_811_050),  # ch. 3 input
        ("xception299", (299, 299), 20_811_050),  # ch. 5 input
        ("efficientnet_b3", (300, 300), 10_699_306),
        ("tiny", (64, 128), None),
    ],
)
def test_frame_backbones_build_at_the_seed_size(name, size, params):
    m = build(name).eval()
    assert m.input_size == size and m.seq_len is None
    if params is not None:
        assert count_parameters(m.net) == params
    with torch.no_grad():
        out = m(torch.zeros(1, 3, *size))
    assert tuple(out.shape) == (1, 2)


def test_xception_is_table_5_4s_22_8_million_with_the_imagenet_head():
    import timm

    full = timm.create_model("legacy_xception", pretrained=False)
    assert 22.8e6 <= count_parameters(full) < 22.9e6  # 22,855,952: Table 5.4's 22.8 M
    # the two-output detector's float32 size is Table 5.4's 79.7 MB (79.4 MiB)
    assert abs(count_parameters(build("xception").net) * 4 / 2**20 - 79.7) < 0.5


def test_resnet_lstm_is_25_1_million_and_scores_every_frame_of_a_7_frame_sequence():
    m = build("resnet_lstm").eval()
    assert m.seq_len == 7 and m.input_size == (224, 224)
    assert round(count_parameters(m) / 1e6, 1) == 25.1
    with torch.no_grad():
        out = m(torch.zeros(1, 7, 3, 224, 224))
    assert tuple(out.shape) == (1, 7, 2)
    with pytest.raises(ValueError, match="B x T x 3"):
        m(torch.zeros(1, 3, 224, 224))


def test_tiny_lstm_has_the_same_interface():
    m = build("tiny_lstm").eval()
    with torch.no_grad():
        assert tuple(m(torch.zeros(2, 7, 3, 64, 128)).shape) == (2, 7, 2)


def test_every_listed_backbone_builds():
    assert set(BACKBONES) == {
        "xception",
        "xception299",
        "efficientnet_b3",
        "resnet_lstm",
        "tiny",
        "tiny_lstm",
    }
    with pytest.raises(ValueError, match="unknown backbone"):
        build("vgg")


def test_resize_and_normalise():
    m = build("tiny")
    x = m.resize(np.full((3, 20, 30, 3), 255, np.uint8))
    assert x.dtype == torch.uint8 and tuple(x.shape) == (3, 3, 64, 128) and int(x.min()) == 255
    assert torch.allclose(m.normalize(x), torch.ones(3, 3, 64, 128))  # (1 - 0.5) / 0.5
    with pytest.raises(ValueError, match="uint8 RGB"):
        m.resize(np.zeros((3, 20, 30), np.uint8))


def test_missing_pretrained_weights_name_the_file_and_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path))
    with pytest.raises(weights.WeightsNotFoundError) as e:
        build("xception", pretrained="imagenet")
    msg = str(e.value)
    assert "xception_imagenet.pth" in msg and str(tmp_path) in msg and "register_file" in msg
    with pytest.raises(weights.WeightsNotFoundError, match="neither a registered name nor a file"):
        pretrained_state(tmp_path / "none.pth", "tiny")


def test_pretrained_state_dict_initialises_the_backbone_but_not_the_head(tmp_path):
    src = build("tiny")
    torch.nn.init.constant_(src.net.features[0][0].weight, 0.25)
    f = tmp_path / "tiny.pth"
    torch.save({k: v for k, v in src.net.state_dict().items() if not k.startswith("fc.")}, f)
    m = build("tiny", pretrained=f)
    assert torch.all(m.net.features[0][0].weight == 0.25)
    assert m.pretrained["tensors_loaded"] < m.pretrained["tensors"]


def test_torchvision_resnet50_weights_initialise_resnet_lstm(tmp_path):
    import torchvision

    r = torchvision.models.resnet50(weights=None)
    torch.nn.init.constant_(r.layer4[2].conv3.weight, 0.125)
    f = tmp_path / "resnet50.pth"
    torch.save(r.state_dict(), f)
    m = build("resnet_lstm", pretrained=f)
    assert torch.all(m.net.cnn[7][2].conv3.weight == 0.125)  # layer4 is the 8th module
    assert m.pretrained["tensors_loaded"] == m.pretrained["tensors"]  # the whole CNN, no fc
