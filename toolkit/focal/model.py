"""FOCAL coding-trace CNN (seed 000, section 4, Table 1 and Figure 3).

Input: one 64x64 luma patch aligned to the 8x8 coding grid. Five conv layers
(BN + ReLU each) condense the grid into a 7x7x64 map, one 64-d vector per block
corner; FC-1 (64, the patch descriptor) and FC-2 (K, softmax) classify it.

==========  =======  ======  ======  =======  =================
layer       kernels  size    stride  padding  output (64x64 in)
==========  =======  ======  ======  =======  =================
conv1       64       4x4     1       0        61x61x64
conv2       64       3x3     2       0        30x30x64
conv3       64       4x4     1       0        27x27x64
conv4       64       3x3     2       0        13x13x64
conv5       64       3x3     2       1        7x7x64
fc1         64                                64 (descriptor)
fc2         K                                 K (softmax)
==========  =======  ======  ======  =======  =================

Table 1 lists no activation after FC-1, so none is used (the descriptor is the
linear FC-1 output). Pixels enter as ``y / 255 - 0.5`` (a fixed per-pixel map,
so the network stays fully convolutional on whole frames).

>>> import torch
>>> net = FocalNet(num_classes=4).eval()
>>> net(torch.zeros(2, 1, 64, 64)).shape
torch.Size([2, 4])
>>> sum(p.numel() for p in net.parameters())
379140
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = [
    "FocalNet",
    "from_checkpoint",
    "PATCH",
    "GRID",
    "CODEC_CLASSES",
    "QUALITY_CLASSES",
    "QUALITY_DELTAS",
    "LAYERS",
    "count_parameters",
    "highpass_init_",
    "dct_ac_basis",
]

PATCH = 64  #: patch side in pixels
GRID = 8  #: coding block side in pixels (patch offsets must be multiples of it)
CODEC_CLASSES = ("mpeg2", "mpeg4", "h264", "h265")
QUALITY_DELTAS = (5, 10, 20, 40)  #: quantisation steps (high, medium-high, medium-low, low)
QUALITY_CLASSES = tuple(f"delta{d}" for d in QUALITY_DELTAS)

#: (name, kernel, stride, padding) of the five conv layers (Table 1)
LAYERS = (("conv1", 4, 1, 0), ("conv2", 3, 2, 0), ("conv3", 4, 1, 0), ("conv4", 3, 2, 0), ("conv5", 3, 2, 1))


class FocalNet(nn.Module):
    """The seed's patch CNN: 64x64 luma -> 64-d descriptor -> K logits.

    Parameters
    ----------
    num_classes : int
        K, the number of output classes (4 for both shipped models).
    classes : sequence of str, optional
        Class names, kept with the weights (default ``'0'..'K-1'``).
    channels : int
        Kernels per conv layer (64 in the seed).

    Inputs are float tensors ``N x 1 x 64 x 64`` holding luma in 0..255
    (``uint8`` values cast to float); :meth:`forward` returns logits ``N x K``.

    >>> net = FocalNet(4, classes=("a", "b", "c", "d"))
    >>> net.descriptor(torch.zeros(1, 1, 64, 64)).shape
    torch.Size([1, 64])
    """

    def __init__(self, num_classes: int = 4, classes: Sequence[str] | None = None, channels: int = 64):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        self.num_classes = int(num_classes)
        self.channels = int(channels)
        self.classes = tuple(classes) if classes is not None else tuple(str(i) for i in range(num_classes))
        if len(self.classes) != self.num_classes:
            raise ValueError(f"{len(self.classes)} class names given for {num_classes} classes")
        c_in = 1
        for name, k, s, p in LAYERS:
            setattr(self, name, nn.Conv2d(c_in, channels, k, stride=s, padding=p))
            setattr(self, "bn" + name[-1], nn.BatchNorm2d(channels))
            c_in = channels
        self.fc1 = nn.Linear(channels * 7 * 7, 64)
        self.fc2 = nn.Linear(64, num_classes)

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        """Luma 0..255 -> ``x / 255 - 0.5`` (pointwise, so it commutes with dense evaluation)."""
        return x / 255.0 - 0.5

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """conv1-conv4 (+BN+ReLU) on luma ``N x 1 x H x W`` (any H, W >= 64; no padding).

        For a 64x64 patch the output is ``N x 64 x 13 x 13``; on a whole frame the
        map of the patch at pixel offset (8a, 8b) is the 13x13 window at (2a, 2b).
        """
        # conv1 always runs in float32, also under a bfloat16 autocast (the trainer's
        # precision='bf16'): bfloat16 keeps 8 significant bits, so the normalised luma and the
        # high-pass filters would lose the sub-grey-level differences the coding traces live in
        with torch.autocast(x.device.type, enabled=False):
            x = torch.relu(self.bn1(self.conv1(self.normalize(x.float()))))
        for i in (2, 3, 4):
            x = torch.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
        return x

    def corners(self, x: torch.Tensor) -> torch.Tensor:
        """The 7x7x64 corner map (conv5 + BN + ReLU) of patches ``N x 1 x 64 x 64``."""
        return torch.relu(self.bn5(self.conv5(self.trunk(x))))

    def descriptor(self, x: torch.Tensor) -> torch.Tensor:
        """FC-1 output, the 64-d patch descriptor, of patches ``N x 1 x 64 x 64``."""
        return self.fc1(self.corners(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``N x K`` of patches ``N x 1 x 64 x 64`` (softmax gives the class probabilities)."""
        return self.fc2(self.descriptor(x))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, classes={self.classes}"


def dct_ac_basis(size: int = 4) -> np.ndarray:
    """The ``size**2 - 1`` AC functions of the orthonormal 2-D DCT-II, ``(size**2-1) x size x size``.

    >>> b = dct_ac_basis(4)
    >>> b.shape, bool(np.allclose(b.sum(axis=(1, 2)), 0))
    ((15, 4, 4), True)
    """
    from scipy.fft import idctn

    out = []
    for i in range(size):
        for j in range(size):
            if i or j:
                e = np.zeros((size, size))
                e[i, j] = 1.0
                out.append(idctn(e, norm="ortho"))
    return np.array(out)


@torch.no_grad()
def highpass_init_(net: FocalNet, noise: float = 0.1, generator: torch.Generator | None = None) -> FocalNet:
    """Initialise conv1 with 4x4 DCT AC (zero-mean, high-pass) filters, in place; returns ``net``.

    The architecture is the seed's (Table 1); only the starting point changes.
    Coding traces are small high-frequency signals under a large image content, and
    conv1's default random filters pass mostly content, which batch norm then
    normalises: measured here, the quality CNN stays at chance for thousands of
    steps from the default initialisation (validation accuracy 0.22 after 520 steps of
    250 patches), while from DCT filters it reaches 0.53 in the same steps. The 64
    filters are the 15 AC functions times (+1, -1, +1/2, -1/2) plus 4 more, scaled to
    luma units, with ``noise`` (relative Gaussian, then the mean removed again) to break ties.

    >>> net = highpass_init_(FocalNet(4))
    >>> net.conv1.weight.shape
    torch.Size([64, 1, 4, 4])
    """
    basis = dct_ac_basis(4)
    w = np.concatenate([basis * s for s in (1.0, -1.0, 0.5, -0.5)] + [basis * 2.0])[: net.conv1.out_channels]
    w = torch.tensor(w[:, None], dtype=net.conv1.weight.dtype) * (255.0 / 16.0)
    w = w * (1 + noise * torch.randn(w.shape, generator=generator, dtype=w.dtype))
    # keep every filter zero-mean: a DC leak of even 10 % lets the image content (much larger
    # than the coding noise) dominate conv1's batch norm, and the codec CNN then stayed at chance
    w = w - w.mean(dim=(2, 3), keepdim=True)
    net.conv1.weight.copy_(w.to(net.conv1.weight.device))
    net.conv1.bias.zero_()
    return net


#: JSON schema of a ``"focal"`` checkpoint's config (checked by :func:`from_checkpoint`)
CONFIG_SCHEMA = {
    "type": "object",
    "required": ["num_classes", "classes"],
    "properties": {
        "num_classes": {"type": "integer", "minimum": 2, "maximum": 1000},
        "classes": {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 1000},
    },
}


def from_checkpoint(ck) -> FocalNet:
    """A :class:`FocalNet` from a ``toolkit.weights`` checkpoint of kind ``"focal"``
    (the builder :func:`toolkit.weights.load` calls); ``meta`` is the model card.

    >>> from toolkit import weights
    >>> weights.load("focal/quality", device="cpu").classes
    ('delta5', 'delta10', 'delta20', 'delta40')
    """
    from toolkit import weights

    weights.check_json(ck.config, CONFIG_SCHEMA, f"{ck.file}: FOCAL config")
    if len(ck.config["classes"]) != ck.config["num_classes"]:
        raise weights.WeightsFormatError(
            f"{ck.file}: FOCAL config names {len(ck.config['classes'])} classes for "
            f"num_classes={ck.config['num_classes']}"
        )
    net = FocalNet(int(ck.config["num_classes"]), classes=ck.config["classes"])
    net.load_state_dict(ck.state_dict)
    net.meta = dict(ck.card)
    return net


def count_parameters(net: nn.Module) -> int:
    """Number of trainable parameters (379,140 for the seed's K=4 network).

    >>> count_parameters(FocalNet(4))
    379140
    """
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
