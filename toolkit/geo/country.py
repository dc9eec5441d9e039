"""Country recognition (seed 001, chapter 7): ResNet-101, 61 classes, 5-crop fusion.

Inference resizes the image so that its shorter side is 256 px, cuts five
224 x 224 crops (upper-left, upper-right, lower-left, lower-right, centre),
classifies each and averages the five softmax vectors (eq. 7.1, the seed's best
fusion); max fusion, one crop, or a plain resize to 224 x 224 are options.
:func:`predict` (the registry's ``geo.country``) returns a :class:`CountryPrediction`
result: ``table()`` ranks the top-k classes, ``plot()`` draws them on a folium map.

>>> import numpy as np
>>> from toolkit.geo.country import five_crops, build_model, predict
>>> [c.shape for c in five_crops(np.zeros((300, 400, 3), np.uint8))][0]
(224, 224, 3)
>>> pred = predict(np.zeros((300, 400, 3), np.uint8), k=3, model=build_model("tiny"))
>>> list(pred.table().columns), pred.params["k"]
(['rank', 'class', 'countries', 'codes', 'probability'], 3)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.geo import groups
from toolkit.geo._common import IMAGENET_MEAN, IMAGENET_STD, tiny_backbone, to_tensor, weights_id
from toolkit.geo.image import load_image
from toolkit.result import Result, json_safe

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
    "from_checkpoint",
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
#: the small demo model shipped with the project (see its model card)
DEMO_WEIGHTS = "geo/country_demo"


# --- geometry ----------------------------------------------------------------------
def resize_shorter(image: np.ndarray, size: int = 256) -> np.ndarray:
    """Resize an RGB uint8 image so that its shorter side is ``size`` px (aspect kept, bilinear).

    The longer side is ``round(long * size / short)`` (575 x 1200 -> 256 x 534, seed Fig. 7.10).

    >>> resize_shorter(np.zeros((575, 1200, 3), np.uint8)).shape
    (256, 534, 3)
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
def _backbone(arch: str):
    """(feature extractor returning N x D, D) for ``arch`` in resnet101 / resnet50 / resnet18 / tiny."""
    import torch.nn as nn
    import torchvision

    if arch in ("resnet101", "resnet50", "resnet18"):
        net = getattr(torchvision.models, arch)(weights=None)
        dim = net.fc.in_features
        net.fc = nn.Identity()
        return net, dim
    if arch == "tiny":
        # a 5-layer CNN (~0.25 M parameters) for tests and the CPU demo model
        return tiny_backbone()
    raise ValueError(f"unknown arch {arch!r}: use 'resnet101' (seed), 'resnet50', 'resnet18' or 'tiny'")


def _torch_module_base():
    import torch.nn as nn

    return nn.Module


class CountryModel(_torch_module_base()):
    """Backbone + linear head over the classes (61 by default), with its class names.

    Call it on an N x 3 x 224 x 224 ImageNet-normalised float tensor -> N x K logits.
    ``meta`` holds the model card (training settings, history) saved with the checkpoint.

    >>> import torch
    >>> CountryModel("tiny")(torch.zeros(1, 3, 224, 224)).shape
    torch.Size([1, 61])
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
    """A fresh :class:`CountryModel` (``arch``: 'resnet101' as in the seed, 'resnet50', 'resnet18', 'tiny').

    ``pretrained=True`` starts the ResNet backbone from torchvision's ImageNet weights
    (``geo/imagenet_<arch>``, looked up in the user cache by
    :func:`toolkit.geo.pretrained.registry_file`, read with ``weights_only=True``) and raises
    ``toolkit.weights.WeightsNotFoundError`` with instructions when they are absent;
    ``pretrained="auto"`` uses them when present and otherwise starts from random
    weights (recorded in ``model.meta['pretrained']``).

    >>> m = build_model("tiny", seed=0)
    >>> m.head.out_features, m.meta["pretrained"]
    (61, False)
    """
    import torch

    from toolkit import weights
    from toolkit.geo.pretrained import load_state_dict

    if pretrained not in (True, False, "auto"):
        raise ValueError(f"pretrained must be True, False or 'auto', got {pretrained!r}")
    if seed is not None:
        torch.manual_seed(seed)
    model = CountryModel(arch, class_names)
    model.meta["pretrained"] = False
    if pretrained == "auto" and arch == "tiny":
        return model
    if pretrained:
        if arch == "tiny":
            raise ValueError("there are no ImageNet weights for the 'tiny' arch; use pretrained=False")
        try:
            sd = load_state_dict(f"geo/imagenet_{arch}")
        except weights.WeightsNotFoundError:
            if pretrained == "auto":
                return model
            raise
        sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
        missing, unexpected = model.backbone.load_state_dict(sd, strict=False)
        if unexpected or [m for m in missing if not m.startswith("fc.")]:
            raise ValueError(
                f"ImageNet weights do not fit {arch}: missing {missing}, unexpected {unexpected}"
            )
        model.meta["pretrained"] = f"geo/imagenet_{arch}"
    return model


def save_checkpoint(model: CountryModel, file: str | os.PathLike, **extra) -> Path:
    """Save ``model`` with :func:`toolkit.weights.save` (kind ``"geo.country"``).

    ``config`` = ``{"arch", "class_names"}`` (what :func:`from_checkpoint` rebuilds from),
    ``card`` = ``model.meta``, ``extra`` = the keyword arguments (e.g. ``optimizer=``
    state dict, ``epoch=``, ``history=`` for resuming training; tensors and plain types only).

    >>> import tempfile, pathlib
    >>> f = save_checkpoint(build_model("tiny"), pathlib.Path(tempfile.mkdtemp()) / "m.pt", epoch=1)
    >>> load_model(f).arch
    'tiny'
    """
    from toolkit import weights

    return weights.save(
        model,
        file,
        kind="geo.country",
        config={"arch": model.arch, "class_names": list(model.class_names)},
        card=dict(model.meta),
        extra=extra,
    )


#: JSON schema of a ``"geo.country"`` checkpoint's config (checked by :func:`from_checkpoint`)
CONFIG_SCHEMA = {
    "type": "object",
    "required": ["arch", "class_names"],
    "properties": {
        "arch": {"enum": ["resnet101", "resnet50", "resnet18", "tiny"]},
        "class_names": {
            "type": "array",
            "minItems": 2,
            "maxItems": 10000,
            "items": {"type": "string", "maxLength": 200},
        },
    },
}


def from_checkpoint(ck) -> CountryModel:
    """The :class:`CountryModel` of a ``toolkit.weights`` checkpoint of kind ``"geo.country"``
    (the builder :func:`toolkit.weights.load` calls); ``meta`` is the model card.

    >>> from toolkit import weights
    >>> m = from_checkpoint(weights.load_checkpoint("geo/country_demo"))
    >>> m.arch, len(m.class_names), m.meta["name"]
    ('tiny', 61, 'geo/country_demo')
    """
    from toolkit import weights

    weights.check_json(ck.config, CONFIG_SCHEMA, f"{ck.file}: country-classifier config")
    model = CountryModel(ck.config["arch"], ck.config["class_names"])
    model.load_state_dict(ck.state_dict)
    model.meta = dict(ck.card)
    return model


def load_model(name_or_path: str | os.PathLike = DEMO_WEIGHTS, device: str = "auto") -> CountryModel:
    """A country classifier in eval mode (default: the shipped demo model), via :func:`toolkit.weights.load`.

    ``name_or_path``: a registered name (``"geo/country_demo"``; the current folder is never
    searched for it), an external name (``"geo/vippgeo_resnet101"``, found in the user cache), or
    an existing checkpoint file. See :func:`toolkit.geo.pretrained.load`.

    Raises ``toolkit.weights.UnknownWeightsError`` (unknown name), ``WeightsNotFoundError``
    (missing file, with instructions) or ``WeightsFormatError`` (not a country classifier).

    >>> m = load_model(device="cpu")
    >>> m.weights_name, len(m.weights_sha256)
    ('geo/country_demo', 64)
    """
    from toolkit.geo.pretrained import load

    return load(name_or_path, kind="geo.country", device=device)


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


def _safe_name(code: str) -> str:
    try:
        return groups.country_name(code)
    except (KeyError, ValueError):
        return code


def _example_prediction(**kw) -> CountryPrediction:
    """A hand-made prediction for the doctests (Italy 0.5, France 0.3, the rest shared)."""
    names = groups.class_names()
    p = np.full(len(names), 0.2 / (len(names) - 2))
    p[names.index("Italy")], p[names.index("France")] = 0.5, 0.3
    return CountryPrediction(p, np.tile(p, (5, 1)), names, groups.class_members(), "mean", **kw)


@dataclass(frozen=True)
class CountryPrediction(Result):
    """Country-class probabilities of one image (the result of :func:`predict` / :func:`analyze`).

    Attributes
    ----------
    probabilities : (K,) fused class probabilities (sum 1).
    crop_probabilities : (5, K) per-crop softmax (upper-left, upper-right, lower-left,
        lower-right, centre); empty (0, K) for fusion 'resize'.
    class_names : the K class names; ``members`` maps each to its ISO alpha-2 codes.
    fusion : how the crops were fused.
    k : how many classes :meth:`table`, :meth:`plot` and :meth:`summary` show (recorded in ``params``).
    claimed : the claimed location (``toolkit.geo.maps.parse_claim`` dict: lat, lon, country, label,
        source) or None. With a claim, :attr:`claim_check` says whether its country's class is in the
        top-k. The result has no verdict: a country ranking is evidence about a claim, not a decision.
    path, sha256, params, toolkit_version : see :class:`toolkit.result.Result`.

    For old callers of ``predict`` (which returned the top-k table), ``attrs["prediction"]``,
    ``result["class"]`` (a column of :meth:`table`), ``iloc``, ``columns`` and ``len()`` still work.

    >>> pred = _example_prediction(k=2, claimed={"country": "FR"})
    >>> pred.summary()
    'geo.country on array: top-1 Italy (p 0.500); claimed FR -> class France, rank 2, within the top-2'
    >>> pred.table()["class"].tolist()
    ['Italy', 'France']
    """

    method = "geo.country"

    probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    crop_probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    class_names: list[str] = field(default_factory=list)
    members: dict[str, list[str]] = field(default_factory=dict)
    fusion: str = "mean"
    k: int = 5
    claimed: dict | None = None

    def __post_init__(self):
        n = len(self.class_names)
        if np.shape(self.probabilities) != (n,):
            raise ValueError(f"{np.shape(self.probabilities)} probabilities for {n} class names")
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or not 1 <= self.k <= n:
            raise ValueError(f"k must be between 1 and {n}, got {self.k!r}")
        if self.claimed is not None:
            from toolkit.geo.maps import parse_claim

            object.__setattr__(self, "claimed", parse_claim(self.claimed))

    # --- ranking ---------------------------------------------------------------------
    def ranking(self) -> np.ndarray:
        """Class indices by decreasing probability (stable for ties).

        >>> [_example_prediction().class_names[i] for i in _example_prediction().ranking()[:2]]
        ['Italy', 'France']
        """
        return np.argsort(-self.probabilities, kind="stable")

    def topk(self, k: int | None = None) -> list[str]:
        """Names of the ``k`` (default :attr:`k`) most probable classes.

        >>> _example_prediction().topk(2)
        ['Italy', 'France']
        """
        return [self.class_names[i] for i in self.ranking()[: self._k(k)]]

    def _k(self, k) -> int:
        k = self.k if k is None else k
        if not 1 <= int(k) <= len(self.class_names):
            raise ValueError(f"k must be between 1 and {len(self.class_names)}, got {k}")
        return int(k)

    def table(self, k: int | None = None) -> pandas.DataFrame:  # noqa: F821
        """Ranked top-``k`` table (default :attr:`k`): rank, class, countries (names), codes (ISO alpha-2),
        probability.

        >>> _example_prediction().table(2)[["rank", "class", "probability"]].values.tolist()
        [[1, 'Italy', 0.5], [2, 'France', 0.3]]
        """
        import pandas as pd

        rows = []
        for r, i in enumerate(self.ranking()[: self._k(k)], start=1):
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

    def claimed_in_topk(self, country: str, k: int | None = None) -> bool:
        """True when the class of ``country`` (code or name) is among the top ``k`` (default :attr:`k`).

        >>> _example_prediction().claimed_in_topk("VA", 1), _example_prediction().claimed_in_topk("ES")
        (True, False)
        """
        return groups.country_to_group()[groups.resolve_country(country)] in self.topk(k)

    @property
    def claim_check(self) -> dict | None:
        """Where the claimed country's class ranks: ``{'claimed_country', 'claimed_class', 'rank',
        'probability', 'k', 'consistent'}`` (``consistent``: rank <= k); None without a claim.

        >>> _example_prediction(claimed="Spain").claim_check["consistent"]
        False
        """
        if self.claimed is None:
            return None
        from toolkit.geo.maps import consistency

        out = consistency(self, self.claimed, k=self.k)
        out.pop("claim", None)
        return out

    def with_fusion(self, fusion: str) -> CountryPrediction:
        """The same prediction fused another way, from the stored per-crop probabilities (no model run).

        'resize' needs the model (the whole image at 224 x 224): use :func:`analyze`.

        >>> _example_prediction().with_fusion("max").fusion
        'max'
        """
        if fusion == "resize" or len(self.crop_probabilities) != len(CROP_NAMES):
            raise ValueError(
                f"fusion {fusion!r} cannot be derived from this prediction's per-crop probabilities "
                f"(fusion {self.fusion!r}); run analyze(image, model, fusion={fusion!r})"
            )
        probs = fuse(self.crop_probabilities, fusion)
        return dataclasses.replace(
            self, probabilities=probs.astype(float), fusion=fusion, params={**self.params, "fusion": fusion}
        )

    # --- views -----------------------------------------------------------------------
    def summary(self) -> str:
        """One line: the top-1 class and its probability; with a claim, its class's rank.

        >>> _example_prediction().summary()
        'geo.country on array: top-1 Italy (p 0.500)'
        """
        where = os.path.basename(self.path) if self.path else "array"
        i = int(self.ranking()[0])
        text = f"geo.country on {where}: top-1 {self.class_names[i]} (p {self.probabilities[i]:.3f})"
        c = self.claim_check
        if c is not None:
            rank = f"rank {c['rank']}" if c["rank"] else "not ranked"
            inside = "within" if c["consistent"] else "outside"
            text += (
                f"; claimed {c['claimed_country']} -> class {c['claimed_class']}, {rank}, "
                f"{inside} the top-{c['k']}"
            )
        return text

    def plot(self, k: int | None = None, *, tiles: str | None = None):
        """Folium map of the top-``k`` classes' countries filled by probability (offline outlines),
        with the claimed location marked (:func:`toolkit.geo.maps.topk_map`).

        >>> type(_example_prediction().plot(3)).__name__
        'Map'
        """
        from toolkit.geo.maps import topk_map

        return topk_map(self, claimed=self.claimed, k=self._k(k), tiles=tiles)

    def plot_bars(self, k: int | None = None):
        """Plotly bar chart of the top-``k`` classes (hover: member countries).

        >>> len(_example_prediction().plot_bars(3).data[0].y)
        3
        """
        import plotly.graph_objects as go

        k = self._k(k)
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

    def to_dict(self) -> dict:
        """The base :meth:`toolkit.result.Result.to_dict` plus ``top`` (the top-k class names) and
        ``claim_check``.

        >>> d = _example_prediction(k=2).to_dict()
        >>> d["top"], len(d["probabilities"]), d["verdict"]
        (['Italy', 'France'], 61, None)
        """
        d = super().to_dict()
        d["top"] = self.topk()
        d["claim_check"] = json_safe(self.claim_check)
        return d

    # --- the old ``predict`` table's interface ------------------------------------------
    @property
    def attrs(self) -> dict:
        """``{"prediction": self}`` (old ``predict(...).attrs["prediction"]`` callers)."""
        return {"prediction": self}

    def __getitem__(self, column: str):
        return self.table()[column]

    def __len__(self) -> int:
        return self.k

    @property
    def iloc(self):
        """Row access into :meth:`table` (old callers of the DataFrame ``predict`` returned)."""
        return self.table().iloc

    @property
    def columns(self):
        """Columns of :meth:`table`."""
        return self.table().columns


def _input_path(image) -> str | None:
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else None


def analyze(
    image,
    model: CountryModel | str | None = None,
    *,
    fusion: str = "mean",
    device: str = "auto",
    k: int = 5,
    claimed=None,
    max_pixels: int | None = None,
) -> CountryPrediction:
    """Classify an image into the country classes with 5-crop fusion.

    Parameters
    ----------
    image : path, bytes, PIL image or H x W x 3 array (any size >= 32 px; CMYK, RGBA, 16-bit accepted).
    model : a :class:`CountryModel`, a registry name / checkpoint path, or ``None`` for the shipped demo.
    fusion : 'mean' (seed), 'max', 'resize' (whole image squeezed to 224 x 224) or a crop name.
    device : 'auto', 'cpu' or 'cuda'.
    k : classes shown by the result's table / map / summary (1..K).
    claimed : optional claimed location (country code/name, ``(lat, lon)`` degrees or a dict; see
        :func:`toolkit.geo.maps.parse_claim`) checked against the top-k.
    max_pixels : largest accepted width x height (default :data:`toolkit.image.MAX_PIXELS`).

    Returns
    -------
    CountryPrediction
        ``params["image"]`` records what was read and which conversions were made (CMYK, palette,
        16-bit, alpha, EXIF orientation, first frame of an animation, ...).

    >>> pred = analyze(np.zeros((300, 400, 3), np.uint8), build_model("tiny"), fusion="max")
    >>> pred.fusion, pred.probabilities.shape, pred.params["model"]
    ('max', (61,), 'in-memory model')
    """
    import torch

    from toolkit._util import input_sha256, resolve_device

    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}: choose from {', '.join(FUSIONS)}")
    rgb, image_info = load_image(image, max_pixels=max_pixels, return_info=True)
    sha = input_sha256(image)
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
        probs = torch.softmax(model(to_tensor(crops).to(dev)).float(), dim=1).cpu().numpy()
    if fusion == "resize":
        fused, crop_probs = probs[0], np.zeros((0, probs.shape[1]))
    else:
        fused, crop_probs = fuse(probs, fusion), probs
    all_members = groups.class_members()
    model_name, model_sha = weights_id(model)
    return CountryPrediction(
        probabilities=fused.astype(float),
        crop_probabilities=crop_probs.astype(float),
        class_names=list(model.class_names),
        members={c: all_members.get(c, []) for c in model.class_names},
        fusion=fusion,
        k=k,
        claimed=claimed,
        path=_input_path(image),
        sha256=sha,
        params={
            "fusion": fusion,
            "k": k,
            "resize": 256,
            "crop": 224,
            "arch": model.arch,
            "model": model_name,
            "model_sha256": model_sha,
            "claimed": json_safe(claimed),
            "image_shape": list(rgb.shape),
            "image": image_info.to_dict(),
        },
    )


def predict(
    image,
    k: int = 5,
    model: CountryModel | str | None = None,
    *,
    fusion: str = "mean",
    device: str = "auto",
    claimed=None,
    max_pixels: int | None = None,
) -> CountryPrediction:
    """Top-``k`` country classes of one image: the registry's ``geo.country``.

    The same as :func:`analyze` with ``k`` first. The result's :meth:`~CountryPrediction.table`
    is the ranked top-``k`` table (rank, class, countries, codes, probability), its
    :meth:`~CountryPrediction.plot` the folium map; ``params["k"]`` records ``k``.

    >>> pred = predict(np.zeros((300, 400, 3), np.uint8), k=2, model=build_model("tiny"), claimed="IT")
    >>> len(pred.table()), pred.claim_check["claimed_class"]
    (2, 'Italy')
    """
    return analyze(image, model, fusion=fusion, device=device, k=k, claimed=claimed, max_pixels=max_pixels)


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
    ``logits``: N x K tensor; ``targets``: N class indices; ``counts``: K training images per class.

    >>> import torch
    >>> loss = weighted_cross_entropy(torch.zeros(2, 2), torch.tensor([0, 1]), [4, 100], "sum")
    >>> round(float(loss), 4)  # (1/2 + 1/10) ln 2
    0.4159
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

    ``labels``: N class indices; ``probabilities``: N x K. Returns ``{'top1', ..., 'balanced', 'n'}``
    (``top<k>`` only for k < K).

    >>> evaluate([0, 1], [[0.9, 0.1, 0.0], [0.6, 0.3, 0.1]], ks=(1, 2))
    {'top1': 0.5, 'top2': 1.0, 'balanced': 0.5, 'n': 2}
    """
    from toolkit import metrics

    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels)
    out = {f"top{k}": metrics.topk_accuracy(y, p, k=k) for k in ks if k < p.shape[1]}
    out["balanced"] = metrics.balanced_accuracy(y, p.argmax(axis=1))
    out["n"] = int(len(y))
    return out
