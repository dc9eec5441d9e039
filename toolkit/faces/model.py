"""The joint classification + segmentation FCN of seed 003 (Tarasiou & Zafeiriou, Table I).

128 x 128 x 3 input; eight 3 x 3 convolutions (stride 1, no padding, each followed by batch
norm and ReLU) with one 3 x 3 / stride 2 max-pool after the second; a 49 x 49 x 256 feature
map; a 1 x 1 convolution gives the 49 x 49 x 2 segmentation logits, global average pooling +
a 1 x 1 convolution the 2 classification logits (class 1 = manipulated).

>>> import torch
>>> net = FaceFCN().eval()
>>> cls, seg = net(torch.zeros(1, 3, 128, 128))
>>> tuple(cls.shape), tuple(seg.shape)
((1, 2), (1, 2, 49, 49))
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "FaceFCN",
    "INPUT_SIZE",
    "OUTPUT_SIZE",
    "LAYERS",
    "receptive_field",
    "output_centres",
    "from_checkpoint",
    "KIND",
    "CLASSES",
    "to_tensor",
]

#: checkpoint kind of the FCN (``toolkit.weights``)
KIND = "faces.fcn"
#: side of the network's input crop, pixels
INPUT_SIZE = 128
#: side of the segmentation output grid
OUTPUT_SIZE = 49
#: class names, index = logit position
CLASSES = ("pristine", "manipulated")

#: Table I as (type, kernel, stride, out channels); the source of every geometry number
LAYERS = (
    ("conv", 3, 1, 32),
    ("conv", 3, 1, 32),
    ("pool", 3, 2, None),
    ("conv", 3, 1, 64),
    ("conv", 3, 1, 64),
    ("conv", 3, 1, 128),
    ("conv", 3, 1, 128),
    ("conv", 3, 1, 256),
    ("conv", 3, 1, 256),
)


def receptive_field(layers=LAYERS) -> tuple[int, int, float]:
    """(receptive field side, stride, offset of the first output's centre), pixels, from ``layers``.

    Standard recursion: each layer widens the field by ``(k - 1) * jump`` and multiplies the jump
    by its stride; no padding, so the first centre is at ``(rf - 1) / 2``. For Table I this gives
    a 31-pixel field at stride 2 (the seed's Table I lists 33, counting the max-pool as widening
    the field by 4 instead of 2).

    >>> receptive_field()
    (31, 2, 15.0)
    """
    rf, jump = 1, 1
    for _, k, s, _ in layers:
        rf += (k - 1) * jump
        jump *= s
    return rf, jump, (rf - 1) / 2


def output_centres(size: int = INPUT_SIZE, layers=LAYERS):
    """Input pixel coordinates of the output cells' receptive-field centres (1-D, along one axis).

    >>> c = output_centres(); len(c), int(c[0]), int(c[-1])
    (49, 15, 111)
    """
    import numpy as np

    n = size
    for _, k, s, _ in layers:
        n = (n - k) // s + 1
    rf, jump, off = receptive_field(layers)
    return (off + jump * np.arange(n)).astype(int)


class FaceFCN(nn.Module):
    """The Table I network; ``forward(x)`` -> ``(cls_logits N x 2, seg_logits N x 2 x 49 x 49)``.

    Input: float tensor N x 3 x 128 x 128, RGB scaled to [0, 1] (see :func:`toolkit.faces.to_tensor`).

    >>> sum(p.numel() for p in FaceFCN().parameters())
    1174244
    """

    def __init__(self, width: int = 1):
        super().__init__()
        blocks: list[nn.Module] = []
        c_in = 3
        for kind, k, s, c_out in LAYERS:
            if kind == "pool":
                blocks.append(nn.MaxPool2d(k, s))
                continue
            c_out = c_out * width
            blocks += [nn.Conv2d(c_in, c_out, k, s, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.seg_head = nn.Conv2d(c_in, 2, 1)
        self.cls_head = nn.Conv2d(c_in, 2, 1)
        self.lam = None  # the λ it was trained with (set by the builder)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        seg = self.seg_head(f)
        cls = self.cls_head(f.mean(dim=(2, 3), keepdim=True)).flatten(1)
        return cls, seg


CONFIG_SCHEMA = {
    "type": "object",
    "required": ["arch"],
    "properties": {
        "arch": {"const": "tarasiou2019-tableI"},
        "lam": {"type": ["number", "null"]},
        "classes": {"type": "array"},
        "input_size": {"const": INPUT_SIZE},
    },
}


def from_checkpoint(ck) -> FaceFCN:
    """The :class:`FaceFCN` of a ``"faces.fcn"`` checkpoint (builder used by :func:`toolkit.weights.load`).

    >>> from toolkit import weights
    >>> weights.load("faces/fcn", device="cpu").lam is not None
    True
    """
    from toolkit.weights import check_json

    cfg = check_json(ck.config, CONFIG_SCHEMA, f"{ck.file}: face FCN config")
    net = FaceFCN()
    net.load_state_dict(ck.state_dict)
    net.lam = cfg.get("lam")
    return net


def to_tensor(crops) -> torch.Tensor:
    """N x 3 x 128 x 128 float tensor in [0, 1] from N x 128 x 128 x 3 (or one 128 x 128 x 3) uint8 crops.

    >>> import numpy as np
    >>> tuple(to_tensor(np.zeros((128, 128, 3), np.uint8)).shape)
    (1, 3, 128, 128)
    """
    import numpy as np

    a = np.asarray(crops)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[3] != 3 or a.dtype != np.uint8:
        raise ValueError(f"expected N x H x W x 3 uint8 crops, got {a.dtype} {a.shape}")
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float().div_(255.0)
