"""The frame-level detectors' networks: Xception (timm), EfficientNet-B3 (torchvision), ResNetLSTM, tiny.

Every network is wrapped in a :class:`FrameClassifier` that knows its input size, its normalisation,
its decision threshold and (for the sequence model) its sequence length, and that turns uint8 RGB frames
into the network's input (:meth:`FrameClassifier.preprocess`). The output has two logits (real, fake);
``softmax(...)[..., 1]`` is the frame's fake probability.

==================  ==========  ========  ======================================================
backbone            input       params    seed 001
==================  ==========  ========  ======================================================
``xception``        256 x 512   20.8 M    ch. 3: frames resized to 256x512, Adam 1e-4, batch 8,
                                          stop after 10 epochs without val-loss improvement
``xception299``     299 x 299   20.8 M    ch. 5 baseline: Adam 2e-4, batch 24, 50 epochs
``efficientnet_b3`` 300 x 300   10.7 M    ch. 4: frames at 2 fps, Adam 2e-4, patience 5
``resnet_lstm``     7 x 224^2   25.1 M    ch. 5: ResNet-50 -> 1x1 conv 128 -> pool -> LSTM 512 -> FC
``tiny``            64 x 128    0.06 M    CPU quick mode (this toolkit)
``tiny_lstm``       7 x 64x128  0.07 M    CPU quick mode of ``resnet_lstm`` (this toolkit)
==================  ==========  ========  ======================================================

Xception's 22.8 M of Table 5.4 is the ImageNet network with its 1000-class head (22,855,952
parameters, :func:`count_parameters` of ``timm.create_model("legacy_xception")``); with the two-output
head the detector has 20,811,050, whose float32 size (79.4 MiB) is the table's 79.7 MB model size.
ResNetLSTM has 25,086,146 (Table 5.4: 25.1 M, 96.0 MB).

No network is ever downloaded: everything is built with random weights (``pretrained=False``); ImageNet
weights are the user's to register (:func:`pretrained_state`).

>>> net = build("tiny")
>>> net.input_size, net.seq_len, tuple(net(torch.zeros(2, 3, 64, 128)).shape)
((64, 128), None, (2, 2))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "BackboneSpec",
    "BACKBONES",
    "FrameClassifier",
    "ResNetLSTM",
    "TinyNet",
    "TinyLSTM",
    "build",
    "count_parameters",
    "pretrained_state",
    "PRETRAINED_NAMES",
]

_IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
_HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


@dataclass(frozen=True)
class BackboneSpec:
    """A backbone and the seed's training recipe for it.

    Attributes
    ----------
    name : key in :data:`BACKBONES`; input_size : (H, W) pixels the frames are resized to.
    seq_len : frames per sequence (sequence models) or ``None`` (frame models).
    lr, batch_size, epochs, patience : Adam learning rate, frames (or sequences) per batch,
        maximum epochs, epochs without validation-loss improvement before stopping (``None``: never).
    fps : frames per second sampled for training and analysis (``None``: every frame).
    mean, std : input normalisation; source : where the recipe comes from.
    """

    name: str
    input_size: tuple[int, int]
    seq_len: int | None
    lr: float
    batch_size: int
    epochs: int
    patience: int | None
    fps: float | None = None
    mean: tuple = _IMAGENET[0]
    std: tuple = _IMAGENET[1]
    source: str = ""
    extra: dict = field(default_factory=dict)


#: every backbone :func:`build` knows, with the seed's training settings
BACKBONES: dict[str, BackboneSpec] = {
    "xception": BackboneSpec(
        "xception", (256, 512), None, 1e-4, 8, 200, 10, None, *_HALF, "seed 001 ch. 3 (DeepStreets)"
    ),
    "xception299": BackboneSpec(
        "xception299", (299, 299), None, 2e-4, 24, 50, None, None, *_HALF, "seed 001 ch. 5 baseline"
    ),
    "efficientnet_b3": BackboneSpec(
        "efficientnet_b3", (300, 300), None, 2e-4, 24, 200, 5, 2.0, *_IMAGENET, "seed 001 ch. 4 CNN"
    ),
    "resnet_lstm": BackboneSpec(
        "resnet_lstm", (224, 224), 7, 2e-4, 24, 50, None, None, *_IMAGENET, "seed 001 ch. 5 ResNetLSTM"
    ),
    "tiny": BackboneSpec("tiny", (64, 128), None, 1e-3, 16, 30, 5, None, *_HALF, "toolkit (CPU quick mode)"),
    "tiny_lstm": BackboneSpec(
        "tiny_lstm", (64, 128), 7, 1e-3, 8, 30, 5, None, *_HALF, "toolkit (CPU quick mode of ResNetLSTM)"
    ),
}

#: registry names of user-registered ImageNet weights, per backbone (never shipped, never downloaded)
PRETRAINED_NAMES = {
    "xception": "framecls/xception_imagenet",
    "xception299": "framecls/xception_imagenet",
    "efficientnet_b3": "framecls/efficientnet_b3_imagenet",
    "resnet_lstm": "framecls/resnet50_imagenet",
}
_PRETRAINED_FILES = {
    "framecls/xception_imagenet": "xception_imagenet.pth",
    "framecls/efficientnet_b3_imagenet": "efficientnet_b3_imagenet.pth",
    "framecls/resnet50_imagenet": "resnet50_imagenet.pth",
}


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module``.

    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    return int(sum(p.numel() for p in module.parameters()))


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


class TinyNet(nn.Module):
    """A small CNN for CPU quick mode: the first convolution keeps full resolution (the fine texture a
    generator leaves is high-frequency), then three stride-2 stages and global average pooling."""

    def __init__(self, num_classes: int = 2, width: int = 16):
        super().__init__()
        w = int(width)
        self.features = nn.Sequential(
            _conv(3, w), _conv(w, 2 * w, 2), _conv(2 * w, 4 * w, 2), _conv(4 * w, 4 * w, 2)
        )
        self.fc = nn.Linear(4 * w, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean(dim=(2, 3)))


class ResNetLSTM(nn.Module):
    """ResNetLSTM of seed 001, ch. 5: a frame CNN's last feature map -> 1x1 conv (``conv_channels``) ->
    adaptive average pooling -> LSTM (``hidden``) -> linear layer, per frame of a sequence.

    ``forward`` takes ``B x T x 3 x H x W`` and returns ``B x T x 2`` logits (the loss is computed on all
    frames in training; the last frame's output decides a sequence).
    """

    def __init__(self, cnn: nn.Module, cnn_channels: int, conv_channels: int = 128, hidden: int = 512):
        super().__init__()
        self.cnn = cnn
        self.reduce = nn.Conv2d(cnn_channels, conv_channels, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.lstm = nn.LSTM(conv_channels, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5:
            raise ValueError(f"a sequence model takes B x T x 3 x H x W input, got shape {tuple(x.shape)}")
        b, t = x.shape[:2]
        f = self.pool(self.reduce(self.cnn(x.flatten(0, 1)))).flatten(1)
        out, _ = self.lstm(f.view(b, t, -1))
        return self.fc(out)


class TinyLSTM(ResNetLSTM):
    """:class:`ResNetLSTM` with :class:`TinyNet`'s features, 32 channels and a 64-unit LSTM (CPU)."""

    def __init__(self, width: int = 16):
        tiny = TinyNet(width=width)
        super().__init__(tiny.features, 4 * width, conv_channels=32, hidden=64)


def _resnet50_features() -> nn.Module:
    import torchvision

    r = torchvision.models.resnet50(weights=None)
    return nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4)


def _network(name: str) -> nn.Module:
    if name in ("xception", "xception299"):
        import timm

        return timm.create_model("legacy_xception", pretrained=False, num_classes=2)
    if name == "efficientnet_b3":
        import torchvision

        return torchvision.models.efficientnet_b3(weights=None, num_classes=2)
    if name == "resnet_lstm":
        return ResNetLSTM(_resnet50_features(), 2048)
    if name == "tiny":
        return TinyNet()
    if name == "tiny_lstm":
        return TinyLSTM()
    raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(BACKBONES)}")


class FrameClassifier(nn.Module):
    """A backbone network with what analysis needs: input size, normalisation, threshold, sequence length.

    Attributes
    ----------
    backbone : key of :data:`BACKBONES`; spec : its :class:`BackboneSpec`; net : the network.
    input_size : (H, W); seq_len : frames per sequence or ``None``.
    threshold : decision threshold on the soft vote (0.5 until recalibrated on validation videos).

    ``forward`` takes ``B x 3 x H x W`` (frame models) or ``B x T x 3 x H x W`` (sequence models)
    normalised frames and returns the network's logits.
    """

    def __init__(self, backbone: str, net: nn.Module | None = None, threshold: float = 0.5):
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; choose from {', '.join(BACKBONES)}")
        self.backbone = backbone
        self.spec = BACKBONES[backbone]
        self.net = net if net is not None else _network(backbone)
        self.threshold = float(threshold)
        self.register_buffer("mean", torch.tensor(self.spec.mean, dtype=torch.float32).view(3, 1, 1))
        self.register_buffer("std", torch.tensor(self.spec.std, dtype=torch.float32).view(3, 1, 1))

    @property
    def input_size(self) -> tuple[int, int]:
        return tuple(self.spec.input_size)

    @property
    def seq_len(self) -> int | None:
        return self.spec.seq_len

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def resize(self, frames) -> torch.Tensor:
        """``T x 3 x H x W`` uint8 tensor of ``frames`` (``T x h x w x 3`` uint8 RGB) resized to
        :attr:`input_size` (bilinear with antialiasing); the memory form the trainer keeps.

        >>> build("tiny").resize(np.zeros((2, 32, 48, 3), np.uint8)).shape
        torch.Size([2, 3, 64, 128])
        """
        a = np.asarray(frames)
        if a.dtype != np.uint8 or a.ndim != 4 or a.shape[-1] != 3:
            raise ValueError(f"frames must be T x H x W x 3 uint8 RGB arrays, got {a.dtype} {a.shape}")
        t = torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float()
        if tuple(t.shape[2:]) != self.input_size:
            t = F.interpolate(t, size=self.input_size, mode="bilinear", antialias=True, align_corners=False)
        return t.round().clamp(0, 255).to(torch.uint8)

    def normalize(self, resized: torch.Tensor) -> torch.Tensor:
        """Float network input of uint8 frames from :meth:`resize` (``... x 3 x H x W``)."""
        return (resized.float() / 255.0 - self.mean) / self.std

    def preprocess(self, frames) -> torch.Tensor:
        """Network input (``T x 3 x H x W`` float) of ``T x h x w x 3`` uint8 RGB frames."""
        return self.normalize(self.resize(frames))

    def config(self) -> dict:
        """What rebuilds the model (stored in its checkpoint)."""
        return {"backbone": self.backbone, "threshold": self.threshold}


def build(backbone: str = "tiny", pretrained: str | os.PathLike | None = None) -> FrameClassifier:
    """A :class:`FrameClassifier` with random weights (``pretrained=None``) or with the backbone
    initialised from user-registered weights (a registry name or a state-dict file;
    :func:`pretrained_state`), its two-output head always fresh.

    >>> count_parameters(build("resnet_lstm"))
    25086146
    """
    model = FrameClassifier(backbone)
    if pretrained is not None:
        state = pretrained_state(pretrained, backbone)
        target = model.net.cnn if backbone == "resnet_lstm" else model.net
        own = target.state_dict()
        if backbone == "resnet_lstm":  # torchvision's resnet50 keys: conv1, bn1, layer1..4 -> Sequential
            names = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
            state = {
                f"{names.index(k.split('.')[0])}.{k.split('.', 1)[1]}": v
                for k, v in state.items()
                if k.split(".")[0] in names
            }
        usable = {k: v for k, v in state.items() if k in own and tuple(own[k].shape) == tuple(v.shape)}
        if not usable:
            raise ValueError(f"the pretrained weights hold no tensor of the {backbone} network")
        target.load_state_dict(usable, strict=False)
        model.pretrained = {"weights": str(pretrained), "tensors_loaded": len(usable), "tensors": len(own)}
    return model


def pretrained_state(name_or_path: str | os.PathLike, backbone: str) -> dict:
    """State dict of ImageNet (or other) weights for ``backbone``, from a file or a registry name.

    Nothing is downloaded. ``"imagenet"`` means :data:`PRETRAINED_NAMES` ``[backbone]``; a registered
    name resolves through :mod:`toolkit.weights` (hash checked); a file is read with
    :func:`toolkit.weights.load_state_dict` (``weights_only=True``). When the weights are not there,
    :class:`toolkit.weights.WeightsNotFoundError` names the file and how to register it.

    >>> pretrained_state("imagenet", "xception")
    Traceback (most recent call last):
    ...
    toolkit.weights.WeightsNotFoundError: ImageNet weights for 'xception' ...
    """
    from pathlib import Path

    from toolkit import weights

    key = str(name_or_path)
    if key == "imagenet":
        if backbone not in PRETRAINED_NAMES:
            raise ValueError(f"there are no ImageNet weights for the {backbone!r} backbone")
        key = PRETRAINED_NAMES[backbone]
    if key in weights.available():
        return weights.load_state_dict(weights.path(key))
    if key in _PRETRAINED_FILES:
        file = weights.cache_dir() / _PRETRAINED_FILES[key]
        raise weights.WeightsNotFoundError(
            f"ImageNet weights for {backbone!r} ({key!r}) are not registered; the toolkit never downloads "
            f"them. Put the state-dict file (e.g. timm's / torchvision's) at {file} and register it once: "
            f"toolkit.weights.register_file({key!r}, {str(file)!r}, ship=False, train_command='(ImageNet, "
            "external)', card='ImageNet weights'); then pass pretrained='imagenet'. Without them the "
            "network trains from scratch (as seed 001 ch. 5 does)."
        )
    p = Path(key).expanduser()
    if not p.is_file():
        raise weights.WeightsNotFoundError(
            f"pretrained weights {key!r} are neither a registered name nor a file; put the file there or "
            f"register it with toolkit.weights.register_file(name, file, ship=False, ...)"
        )
    return weights.load_state_dict(p)
