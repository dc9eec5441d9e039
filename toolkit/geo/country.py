"""Country recognition (seed 001, chapter 7): ResNet-101, 61 classes, 5-crop fusion.

Inference resizes the image so that its shorter side is 256 px, cuts five
224 x 224 crops (upper-left, upper-right, lower-left, lower-right, centre),
classifies each and averages the five softmax vectors (eq. 7.1, the seed's best
fusion); max fusion, one crop, or a plain resize to 224 x 224 are options.

>>> import numpy as np
>>> from toolkit.geo.country import five_crops, build_model, predict
>>> [c.shape for c in five_crops(np.zeros((300, 400, 3), np.uint8))][0]
(224, 224, 3)
>>> table = predict(np.zeros((300, 400, 3), np.uint8), k=3, model=build_model("tiny"))
>>> list(table.columns)
['rank', 'class', 'countries', 'codes', 'probability']
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from toolkit.geo import groups
from toolkit.geo.image import image_sha256, load_image
from toolkit.geo.pretrained import register_all as _register_all

_register_all()  # the large checkpoints are known to the registry (with instructions) once geo is used

__all__ = [
    "CROP_NAMES",
    "FUSIONS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DEMO_WEIGHTS",
    "crop_boxes",
    "resize_shorter",
    "five_crops",
    "build_model",
    "save_checkpoint",
    "load_model",
    "CountryModel",
    "CountryPrediction",
    "analyze",
    "predict",
    "fuse",
    "class_weights",
    "weighted_cross_entropy",
    "evaluate",
]

CROP_NAMES = ("upper_left", "upper_right", "lower_left", "lower_right", "centre")
FUSIONS = ("mean", "max", "resize") + CROP_NAMES
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: the small demo model shipped with the project (see its model card)
DEMO_WEIGHTS = "geo/country_demo"


# --- geometry ----------------------------------------------------------------------
def resize_shorter(image: np.ndarray, size: int = 256) -> np.ndarray:
    """Resize an RGB uint8 image so that its shorter side is ``size`` px (aspect kept, bilinear).

    The longer side is ``round(long * size / short)`` (575 x 1200 -> 256 x 534, seed Fig. 7.10).
    """
    from PIL import Image

    h, w = image.shape[:2]
    if h <= w:
        nh, nw = size, max(size, int(round(w * size / h)))
    else:
        nh, nw = max(size, int(round(h * size / w))), size
    if (nh, nw) == (h, w):
        return image
    return np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR))


def crop_boxes(height: int, width: int, crop: int = 224) -> list[tuple[int, int, int, int]]:
    """(top, left, height, width) of the five crops in a ``height`` x ``width`` image.

    Order: :data:`CROP_NAMES`. The centre crop starts at ``round((H - crop) / 2)`` (as torchvision).

    >>> crop_boxes(256, 534)[4]
    (16, 155, 224, 224)
    """
    if height < crop or width < crop:
        raise ValueError(f"a {height}x{width} image is smaller than the {crop}x{crop} crop")
    t, lft = int(round((height - crop) / 2.0)), int(round((width - crop) / 2.0))
    return [
        (0, 0, crop, crop),
        (0, width - crop, crop, crop),
        (height - crop, 0, crop, crop),
        (height - crop, width - crop, crop, crop),
        (t, lft, crop, crop),
    ]


def five_crops(image, resize: int = 256, crop: int = 224) -> list[np.ndarray]:
    """The five ``crop`` x ``crop`` x 3 uint8 crops of an image after resizing its shorter side to ``resize``.

    ``image``: path, bytes, PIL image or array (see :func:`toolkit.geo.image.load_image`).
    Order: upper-left, upper-right, lower-left, lower-right, centre.

    >>> len(five_crops(np.zeros((100, 300, 3), np.uint8)))
    5
    """
    if resize < crop:
        raise ValueError(f"resize ({resize}) must be at least the crop size ({crop})")
    img = resize_shorter(load_image(image), resize)
    return [img[t : t + h, lft : lft + w].copy() for t, lft, h, w in crop_boxes(*img.shape[:2], crop)]


# --- models ------------------------------------------------------------------------
def _tiny_backbone(width: int = 32):
    import torch.nn as nn

    def block(cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    return nn.Sequential(
        block(3, width // 2),
        block(width // 2, width),
        block(width, width * 2),
        block(width * 2, width * 4),
        block(width * 4, width * 4),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    ), width * 4


def _backbone(arch: str):
    """(feature extractor returning N x D, D) for ``arch`` in resnet101 / resnet18 / tiny."""
    import torch.nn as nn
    import torchvision

    if arch in ("resnet101", "resnet50", "resnet18"):
        net = getattr(torchvision.models, arch)(weights=None)
        dim = net.fc.in_features
        net.fc = nn.Identity()
        return net, dim
    if arch == "tiny":
        # a 5-layer CNN (~0.3 M parameters) for tests and the CPU demo model
        return _tiny_backbone()
    raise ValueError(f"unknown arch {arch!r}: use 'resnet101' (seed), 'resnet50', 'resnet18' or 'tiny'")


def _torch_module_base():
    import torch.nn as nn

    return nn.Module


class CountryModel(_torch_module_base()):
    """Backbone + linear head over the classes (61 by default), with its class names.

    Call it on an N x 3 x 224 x 224 ImageNet-normalised float tensor -> N x K logits.
    """

    def __init__(self, arch: str = "resnet101", class_names: list[str] | None = None):
        import torch.nn as nn

        super().__init__()
        self.arch = arch
        self.class_names = list(class_names or groups.class_names())
        self.backbone, dim = _backbone(arch)
        self.head = nn.Linear(dim, len(self.class_names))
        self.meta: dict = {}

    def forward(self, x):
        return self.head(self.backbone(x))


def build_model(
    arch: str = "resnet101",
    class_names: list[str] | None = None,
    *,
    pretrained: bool | str = False,
    seed: int | None = 0,
) -> CountryModel:
    """A fresh :class:`CountryModel` (``arch``: 'resnet101' as in the seed, 'resnet18', 'tiny').

    ``pretrained=True`` starts the ResNet backbone from torchvision's ImageNet weights
    found through the registry (``geo/imagenet_<arch>``) and raises
    ``toolkit.weights.WeightsNotFoundError`` with instructions when they are absent;
    ``pretrained="auto"`` uses them when present and otherwise starts from random
    weights (recorded in ``model.meta['pretrained']``).
    """
    import torch

    from toolkit import weights

    if pretrained not in (True, False, "auto"):
        raise ValueError(f"pretrained must be True, False or 'auto', got {pretrained!r}")
    if seed is not None:
        torch.manual_seed(seed)
    model = CountryModel(arch, class_names)
    model.meta["pretrained"] = False
    if pretrained == "auto" and arch == "tiny":
        return model
    if pretrained:
        from toolkit.geo.pretrained import registry_file

        if arch == "tiny":
            raise ValueError("there are no ImageNet weights for the 'tiny' arch; use pretrained=False")
        try:
            file = registry_file(f"geo/imagenet_{arch}")
        except weights.WeightsNotFoundError:
            if pretrained == "auto":
                return model
            raise
        sd = torch.load(file, map_location="cpu", weights_only=True)
        sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
        missing, unexpected = model.backbone.load_state_dict(sd, strict=False)
        if unexpected or [m for m in missing if not m.startswith("fc.")]:
            raise ValueError(
                f"ImageNet weights do not fit {arch}: missing {missing}, unexpected {unexpected}"
            )
        model.meta["pretrained"] = f"geo/imagenet_{arch}"
    return model


def save_checkpoint(model: CountryModel, file: str | os.PathLike, **extra) -> Path:
    """Save ``model`` (arch, class names, weights, meta and ``extra``) to ``file``."""
    from toolkit.geo.pretrained import save_checkpoint_dict

    return save_checkpoint_dict(
        file,
        {
            "kind": "geo.country",
            "arch": model.arch,
            "class_names": model.class_names,
            "state_dict": model.state_dict(),
            "meta": dict(model.meta),
            **extra,
        },
    )


def load_model(name_or_path: str | os.PathLike = DEMO_WEIGHTS, device: str = "auto") -> CountryModel:
    """Load a country classifier from a checkpoint file or a registry name (default: the demo model).

    Missing registry files raise ``toolkit.weights.WeightsNotFoundError`` saying how to get them.
    """
    from toolkit._util import resolve_device
    from toolkit.geo.pretrained import load_checkpoint_dict

    ck = load_checkpoint_dict(name_or_path, "geo.country", "country-classifier")
    model = CountryModel(ck["arch"], ck["class_names"])
    model.load_state_dict(ck["state_dict"])
    model.meta = dict(ck.get("meta", {}))
    return model.to(resolve_device(device)).eval()


def _to_tensor(crops: list[np.ndarray]):
    import torch

    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


# --- fusion and prediction ----------------------------------------------------------
def fuse(crop_probs: np.ndarray, fusion: str = "mean") -> np.ndarray:
    """Fuse 5 x K per-crop probabilities into one K vector.

    'mean' (eq. 7.1), 'max' (per-class maximum, renormalised to sum 1) or a crop name.

    >>> fuse(np.array([[0.2, 0.8], [0.6, 0.4]] + [[0.5, 0.5]] * 3), "max").round(3).tolist()
    [0.429, 0.571]
    """
    p = np.asarray(crop_probs, dtype=float)
    if fusion == "mean":
        return p.mean(axis=0)
    if fusion == "max":
        m = p.max(axis=0)
        return m / m.sum()
    if fusion in CROP_NAMES:
        return p[CROP_NAMES.index(fusion)]
    raise ValueError(f"unknown fusion {fusion!r}: choose from {', '.join(FUSIONS)}")


@dataclass(frozen=True)
class CountryPrediction:
    """Country-class probabilities of one image.

    Attributes
    ----------
    probabilities : (K,) fused class probabilities (sum 1).
    crop_probabilities : (5, K) per-crop softmax (upper-left, upper-right, lower-left,
        lower-right, centre); empty (0, K) for fusion 'resize'.
    class_names : the K class names; ``members`` maps each to its ISO alpha-2 codes.
    fusion : how the crops were fused; sha256 : of the input; params : every setting.
    """

    probabilities: np.ndarray
    crop_probabilities: np.ndarray
    class_names: list[str]
    members: dict[str, list[str]]
    fusion: str
    sha256: str
    params: dict = field(default_factory=dict)

    def ranking(self) -> np.ndarray:
        """Class indices by decreasing probability (stable for ties)."""
        return np.argsort(-self.probabilities, kind="stable")

    def topk(self, k: int = 5) -> list[str]:
        """Names of the ``k`` most probable classes."""
        return [self.class_names[i] for i in self.ranking()[:k]]

    def table(self, k: int = 5) -> pandas.DataFrame:  # noqa: F821
        """Ranked top-``k`` table: rank, class, countries (names), codes (ISO alpha-2), probability."""
        import pandas as pd

        if not 1 <= int(k) <= len(self.class_names):
            raise ValueError(f"k must be between 1 and {len(self.class_names)}, got {k}")
        rows = []
        for r, i in enumerate(self.ranking()[: int(k)], start=1):
            name = self.class_names[i]
            codes = list(self.members.get(name, []))
            rows.append(
                {
                    "rank": r,
                    "class": name,
                    "countries": ", ".join(_safe_name(c) for c in codes),
                    "codes": codes,
                    "probability": float(self.probabilities[i]),
                }
            )
        return pd.DataFrame(rows, columns=["rank", "class", "countries", "codes", "probability"])

    def claimed_in_topk(self, country: str, k: int = 5) -> bool:
        """True when the class of ``country`` (code or name) is among the top ``k``."""
        return groups.country_to_group()[groups.resolve_country(country)] in self.topk(k)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["probabilities"] = self.probabilities.tolist()
        d["crop_probabilities"] = self.crop_probabilities.tolist()
        return json.loads(json.dumps(d, default=str))

    def plot(self, k: int = 5):
        """Plotly bar chart of the top-``k`` classes (hover: member countries)."""
        import plotly.graph_objects as go

        t = self.table(k)
        fig = go.Figure(
            go.Bar(
                x=t["probability"], y=t["class"], orientation="h", hovertext=t["countries"], name=self.fusion
            )
        )
        fig.update_layout(
            title=f"Top-{k} country classes ({self.fusion} fusion)",
            xaxis_title="probability",
            yaxis=dict(autorange="reversed"),
            height=300 + 20 * k,
        )
        return fig


def _safe_name(code: str) -> str:
    try:
        return groups.country_name(code)
    except (KeyError, ValueError):
        return code


def analyze(
    image, model: CountryModel | str | None = None, *, fusion: str = "mean", device: str = "auto"
) -> CountryPrediction:
    """Classify an image into the country classes with 5-crop fusion.

    Parameters
    ----------
    image : path, bytes, PIL image or H x W x 3 array (any size >= 32 px; CMYK, RGBA, 16-bit accepted).
    model : a :class:`CountryModel`, a checkpoint path/registry name, or ``None`` for the shipped demo.
    fusion : 'mean' (seed), 'max', 'resize' (whole image squeezed to 224 x 224) or a crop name.
    """
    import torch

    from toolkit._util import resolve_device

    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}: choose from {', '.join(FUSIONS)}")
    rgb = load_image(image)
    if model is None or isinstance(model, (str, os.PathLike)):
        model = load_model(model or DEMO_WEIGHTS, device=device)
    dev = resolve_device(device)
    model = model.to(dev).eval()
    if fusion == "resize":
        from PIL import Image

        crops = [np.asarray(Image.fromarray(rgb).resize((224, 224), Image.BILINEAR))]
    else:
        crops = five_crops(rgb)
    with torch.no_grad():
        probs = torch.softmax(model(_to_tensor(crops).to(dev)).float(), dim=1).cpu().numpy()
    if fusion == "resize":
        fused, crop_probs = probs[0], np.zeros((0, probs.shape[1]))
    else:
        fused, crop_probs = fuse(probs, fusion), probs
    all_members = groups.class_members()
    return CountryPrediction(
        probabilities=fused.astype(float),
        crop_probabilities=crop_probs.astype(float),
        class_names=list(model.class_names),
        members={c: all_members.get(c, []) for c in model.class_names},
        fusion=fusion,
        sha256=image_sha256(image),
        params={
            "fusion": fusion,
            "resize": 256,
            "crop": 224,
            "arch": model.arch,
            "model": model.meta.get("name", "in-memory model"),
            "image_shape": list(rgb.shape),
        },
    )


def predict(
    image, k: int = 5, model: CountryModel | str | None = None, *, fusion: str = "mean", device: str = "auto"
) -> pandas.DataFrame:  # noqa: F821
    """Ranked top-``k`` table (rank, class, countries, codes, probability) for one image.

    The full result (all probabilities, per-crop scores) is in ``table.attrs['prediction']``.
    """
    pred = analyze(image, model, fusion=fusion, device=device)
    table = pred.table(k)
    table.attrs["prediction"] = pred
    return table


# --- training helpers ----------------------------------------------------------------
def class_weights(counts) -> np.ndarray:
    """Loss weights ``1 / sqrt(n_i)`` per class (seed eq. 7.2); classes with no image get weight 0.

    >>> class_weights([4, 100, 0]).tolist()
    [0.5, 0.1, 0.0]
    """
    n = np.asarray(counts, dtype=float)
    if (n < 0).any():
        raise ValueError("class counts must be non-negative")
    with np.errstate(divide="ignore"):
        return np.where(n > 0, 1.0 / np.sqrt(np.maximum(n, 1e-12)), 0.0)


def weighted_cross_entropy(logits, targets, counts, reduction: str = "mean"):
    """Seed eq. 7.2: ``-sum_y (1/sqrt(n_y)) log softmax(logits)_y``.

    ``reduction='sum'`` is the seed's sum; 'mean' divides it by the batch size
    (not by the sum of weights, unlike ``torch.nn.CrossEntropyLoss(weight=...)``).
    """
    import torch
    import torch.nn.functional as F

    w = torch.as_tensor(class_weights(counts), dtype=logits.dtype, device=logits.device)
    per = -F.log_softmax(logits, dim=1).gather(1, targets.view(-1, 1)).squeeze(1) * w[targets]
    if reduction == "sum":
        return per.sum()
    if reduction == "mean":
        return per.mean()
    raise ValueError("reduction must be 'sum' or 'mean'")


def evaluate(labels, probabilities, ks=(1, 3, 5, 10)) -> dict:
    """Top-k accuracies and balanced accuracy (scikit-learn via ``toolkit.metrics``).

    ``labels``: N class indices; ``probabilities``: N x K.
    """
    from toolkit import metrics

    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels)
    out = {f"top{k}": metrics.topk_accuracy(y, p, k=k) for k in ks if k < p.shape[1]}
    out["balanced"] = metrics.balanced_accuracy(y, p.argmax(axis=1))
    out["n"] = int(len(y))
    return out
