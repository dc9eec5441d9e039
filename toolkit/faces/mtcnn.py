"""MTCNN face detection (Zhang, Zhang, Li & Qiao, IEEE SPL 2016), written for this project.

Three cascaded CNNs: P-Net scans an image pyramid fully convolutionally and proposes boxes;
R-Net (24 x 24 crops) and O-Net (48 x 48 crops) reject and refine them; O-Net also regresses
five landmarks (eyes, nose, mouth corners). Non-maximum suppression (``torchvision.ops.nms``)
merges overlapping boxes at every stage. The layer layout matches the pretrained weights
shipped by the MIT-licensed facenet-pytorch 2.6.0 package (converted once by
:mod:`toolkit.faces.convert_mtcnn`, loaded through :func:`toolkit.weights.load`): inputs are RGB
scaled as ``(x - 127.5) / 128``, and the dense layers of R-Net / O-Net read their input
flattened in (width, height, channel) order.

>>> net = MTCNN()
>>> sum(p.numel() for p in net.parameters()) > 400_000
True
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["PNet", "RNet", "ONet", "MTCNN", "from_checkpoint", "KIND"]

#: checkpoint kind of the three MTCNN stages
KIND = "faces.mtcnn"


def _flatten_whc(x: torch.Tensor) -> torch.Tensor:
    # the pretrained dense layers were trained on (N, W, H, C)-ordered features
    return x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)


class PNet(nn.Module):
    """Proposal net (12 x 12 window, stride 2); ``forward`` -> (offsets N x 4 x h x w, prob N x h x w)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), F.softmax(self.conv4_1(x), dim=1)[:, 1]


class RNet(nn.Module):
    """Refinement net on 24 x 24 crops; ``forward`` -> (box offsets N x 4, face prob N)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = self.prelu4(self.dense4(_flatten_whc(x)))
        return self.dense5_2(x), F.softmax(self.dense5_1(x), dim=1)[:, 1]


class ONet(nn.Module):
    """Output net on 48 x 48 crops; ``forward`` -> (box offsets N x 4, landmarks N x 10, face prob N)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = self.prelu5(self.dense5(_flatten_whc(x)))
        return self.dense6_2(x), self.dense6_3(x), F.softmax(self.dense6_1(x), dim=1)[:, 1]


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Boxes (x0, y0, x1, y1) grown to squares around their centres."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    x0 = boxes[:, 0] + (w - side) / 2
    y0 = boxes[:, 1] + (h - side) / 2
    return torch.stack([x0, y0, x0 + side, y0 + side], dim=1)


def _regress(boxes: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Apply MTCNN's box regression: each side moves by its offset times the box size."""
    w = (boxes[:, 2] - boxes[:, 0] + 1).unsqueeze(1)
    h = (boxes[:, 3] - boxes[:, 1] + 1).unsqueeze(1)
    return boxes + offsets * torch.cat([w, h, w, h], dim=1)


def _patches(img: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Crops of ``boxes`` from ``img`` (1 x 3 x H x W), zero-padded outside, resized to ``size``."""
    h, w = img.shape[2:]
    out = []
    for x0, y0, x1, y1 in boxes.round().long().tolist():
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        patch = img.new_zeros((1, 3, y1 - y0, x1 - x0))
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if xb > xa and yb > ya:
            patch[:, :, ya - y0 : yb - y0, xa - x0 : xb - x0] = img[:, :, ya:yb, xa:xb]
        out.append(F.interpolate(patch, size=(size, size), mode="area"))
    return torch.cat(out)


def _nms(boxes: torch.Tensor, scores: torch.Tensor, iou: float) -> torch.Tensor:
    from torchvision.ops import nms

    return nms(boxes, scores, iou)


class MTCNN(nn.Module):
    """The P/R/O-Net cascade.

    :meth:`detect` -> ``(boxes K x 4 (x0, y0, x1, y1), scores K, landmarks K x 5 x 2)``.

    Parameters
    ----------
    min_face : smallest face side searched for, pixels.
    thresholds : face-probability thresholds of the three stages.
    factor : scale step of the image pyramid.
    """

    def __init__(self, min_face: int = 20, thresholds=(0.6, 0.7, 0.7), factor: float = 0.709):
        super().__init__()
        self.pnet, self.rnet, self.onet = PNet(), RNet(), ONet()
        self.min_face, self.thresholds, self.factor = int(min_face), tuple(thresholds), float(factor)

    def _pyramid(self, h: int, w: int) -> list[float]:
        scales, s = [], 12.0 / self.min_face
        side = min(h, w) * s
        while side >= 12:
            scales.append(s)
            s *= self.factor
            side *= self.factor
        return scales

    @torch.no_grad()
    def detect(self, rgb: np.ndarray):
        """Faces in one H x W x 3 uint8 RGB image (numpy arrays; empty arrays when none)."""
        dev = next(self.parameters()).device
        img = torch.as_tensor(np.array(rgb), device=dev).permute(2, 0, 1)[None].float()
        h, w = img.shape[2:]
        empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32))
        # stage 1: P-Net over the pyramid; a cell (i, j) at scale s is the 12 x 12 window at (2j, 2i) / s
        props = []
        for s in self._pyramid(h, w):
            small = F.interpolate(img, size=(int(h * s + 1), int(w * s + 1)), mode="area")
            reg, prob = self.pnet((small - 127.5) / 128.0)
            iy, ix = torch.nonzero(prob[0] >= self.thresholds[0], as_tuple=True)
            if len(iy) == 0:
                continue
            x0, y0 = ((2 * ix + 1) / s).floor(), ((2 * iy + 1) / s).floor()
            x1, y1 = ((2 * ix + 12) / s).floor(), ((2 * iy + 12) / s).floor()
            boxes = torch.stack([x0, y0, x1, y1], 1).float()
            score = prob[0, iy, ix]
            off = reg[0][:, iy, ix].T
            keep = _nms(boxes, score, 0.5)
            props.append((boxes[keep], score[keep], off[keep]))
        if not props:
            return empty
        boxes, score, off = (torch.cat(t) for t in zip(*props))
        keep = _nms(boxes, score, 0.7)
        boxes = _square(_regress(boxes[keep], off[keep]))
        # stage 2: R-Net
        reg, score = self.rnet((_patches(img, boxes, 24) - 127.5) / 128.0)
        ok = score > self.thresholds[1]
        boxes, score, reg = boxes[ok], score[ok], reg[ok]
        if len(boxes) == 0:
            return empty
        keep = _nms(boxes, score, 0.7)
        boxes = _square(_regress(boxes[keep], reg[keep]))
        # stage 3: O-Net, with landmarks relative to the box
        reg, lm, score = self.onet((_patches(img, boxes, 48) - 127.5) / 128.0)
        ok = score > self.thresholds[2]
        boxes, score, reg, lm = boxes[ok], score[ok], reg[ok], lm[ok]
        if len(boxes) == 0:
            return empty
        bw = (boxes[:, 2] - boxes[:, 0] + 1).unsqueeze(1)
        bh = (boxes[:, 3] - boxes[:, 1] + 1).unsqueeze(1)
        pts = torch.stack([boxes[:, :1] + bw * lm[:, :5] - 1, boxes[:, 1:2] + bh * lm[:, 5:] - 1], dim=2)
        boxes = _regress(boxes, reg)
        keep = _min_nms(boxes, score, 0.7)
        return (
            boxes[keep].cpu().numpy().astype(np.float32),
            score[keep].cpu().numpy().astype(np.float32),
            pts[keep].cpu().numpy().astype(np.float32),
        )


def _min_nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> torch.Tensor:
    """NMS with overlap = intersection / smaller area (MTCNN's last stage: drops boxes nested in others).

    Hand-written because torchvision's NMS only measures IoU.
    """
    order = torch.argsort(scores, descending=True).tolist()
    b = boxes.cpu().numpy()
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            iw = min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0]) + 1
            ih = min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1]) + 1
            if iw > 0 and ih > 0 and iw * ih / min(area[i], area[j]) > thr:
                ok = False
                break
        if ok:
            keep.append(i)
    return torch.as_tensor(keep, dtype=torch.long)


def from_checkpoint(ck) -> MTCNN:
    """The :class:`MTCNN` of a ``"faces.mtcnn"`` checkpoint (builder used by :func:`toolkit.weights.load`).

    >>> from toolkit import weights
    >>> type(weights.load("faces/mtcnn", device="cpu")).__name__
    'MTCNN'
    """
    net = MTCNN(**{k: v for k, v in ck.config.items() if k in ("min_face", "thresholds", "factor")})
    net.load_state_dict(ck.state_dict)
    return net
