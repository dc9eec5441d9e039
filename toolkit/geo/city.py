"""City verification (seed 001, chapter 8): Siamese network + country gating + scene weighting.

Pipeline of :func:`verify` (sec. 8.3.2):

1. the query goes through the country classifier; if the claimed city's country
   is not in its top-2 classes the claim fails at once (``stage='country_gate'``);
2. otherwise the query is paired with the m reference images of the claimed city;
   the Siamese network gives ``P1_j`` = probability that pair j shows different
   cities (``P0_j = 1 - P1_j``);
3. each pair is weighted by the scene similarity ``s_j = cos(u, v)`` of the two
   images' 16-class scene vectors (eq. 8.1; Places365 365 -> 16 hierarchy);
4. decision ``y = argmax_i sum_j s_j P_ij`` (eq. 8.2): 0 = same city (verified).

Siamese network: two weight-sharing branches (ViT-L/16 in the seed; 'tiny' CNN
for tests/demo) whose last layer has 64 units; the two 64-d embeddings are
concatenated (128), passed through ReLU, a 64-unit layer (+ReLU) and a 1-unit
output with a sigmoid.

:func:`verify` (the registry's ``geo.city``) returns a :class:`CityVerification` result:
verdict ``"different_city"`` (the vote says another city), ``"not_detected"`` (nothing
contradicts the claim: same city) or ``"inconclusive"`` (the country gate rejected the claim
before the Siamese comparison, or no pair carries weight); ``score`` = the similarity-weighted
mean P(different), threshold 0.5.

>>> import numpy as np
>>> from toolkit.geo.city import decide
>>> decide(np.array([0.2, 0.9]), np.array([1.0, 0.1]))["verified"]
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.geo import groups
from toolkit.geo._common import tiny_backbone, to_tensor, weights_id
from toolkit.geo.image import load_image
from toolkit.result import INCONCLUSIVE, NOT_DETECTED, Result

__all__ = [
    "N_SCENE_CLASSES",
    "DEMO_WEIGHTS",
    "SiameseNet",
    "build_siamese",
    "save_siamese",
    "load_siamese",
    "load_model",
    "preprocess",
    "scene_similarity",
    "places_to_hierarchy",
    "Places365Scene",
    "proxy_scene_vector",
    "country_gate",
    "decide",
    "pair_probabilities",
    "sample_pairs",
    "CityVerification",
    "verify",
    "from_checkpoint",
    "reference_images",
    "THRESHOLD",
]

N_SCENE_CLASSES = 16
DEMO_WEIGHTS = "geo/city_demo"
#: a weighted mean P(different) above this is a vote for "different city" (eq. 8.2's argmax)
THRESHOLD = 0.5


def _module():
    import torch.nn as nn

    return nn.Module


class SiameseNet(_module()):
    """Siamese verifier: shared branch -> 64-d embedding; concat(128) -> ReLU -> 64 -> ReLU -> 1 (logit).

    ``forward(a, b)`` on two N x 3 x 224 x 224 batches returns N logits of "different cities";
    ``sigmoid`` gives ``P1``.

    >>> import torch
    >>> SiameseNet("tiny")(torch.zeros(2, 3, 224, 224), torch.zeros(2, 3, 224, 224)).shape
    torch.Size([2])
    """

    def __init__(self, backbone: str = "vit_l_16", embed_dim: int = 64):
        import torch.nn as nn
        import torchvision

        super().__init__()
        self.backbone_name = backbone
        if backbone in ("vit_l_16", "vit_b_16"):
            net = getattr(torchvision.models, backbone)(weights=None)
            dim = net.heads.head.in_features
            net.heads = nn.Linear(dim, embed_dim)  # "last layer of the ViT set to 64 output units"
            self.branch = net
        elif backbone == "tiny":
            feat, dim = tiny_backbone()
            self.branch = nn.Sequential(feat, nn.Linear(dim, embed_dim))
        else:
            raise ValueError(f"unknown backbone {backbone!r}: use 'vit_l_16' (seed), 'vit_b_16' or 'tiny'")
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(2 * embed_dim, 64), nn.ReLU(), nn.Linear(64, 1))
        self.meta: dict = {}

    def embed(self, x):
        return self.branch(x)

    def forward(self, a, b):
        import torch

        return self.head(torch.cat([self.embed(a), self.embed(b)], dim=1)).squeeze(1)


def build_siamese(
    backbone: str = "vit_l_16", *, pretrained: bool = False, seed: int | None = 0
) -> SiameseNet:
    """A fresh :class:`SiameseNet`; ``pretrained=True`` starts the branches from torchvision's ImageNet
    ViT-L/16 (``geo/imagenet_vit_l_16``, found in the user cache by
    :func:`toolkit.geo.pretrained.registry_file`, read with ``weights_only=True``;
    ``WeightsNotFoundError`` with instructions when absent).

    >>> build_siamese("tiny").backbone_name
    'tiny'
    """
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    net = SiameseNet(backbone)
    if pretrained:
        if backbone != "vit_l_16":
            raise ValueError("ImageNet weights are registered for the 'vit_l_16' backbone only")
        from toolkit.geo.pretrained import load_state_dict

        sd = load_state_dict("geo/imagenet_vit_l_16")
        sd = {k: v for k, v in sd.items() if not k.startswith("heads.")}
        net.branch.load_state_dict(sd, strict=False)
    return net


def save_siamese(net: SiameseNet, file: str | os.PathLike, **extra) -> Path:
    """Save a Siamese verifier with :func:`toolkit.weights.save` (kind ``"geo.city"``).

    ``config`` = ``{"backbone"}``, ``card`` = ``net.meta``, ``extra`` = the keyword arguments
    (``optimizer=``, ``epoch=``, ``history=`` for resuming; tensors and plain types only).

    >>> import tempfile, pathlib
    >>> f = save_siamese(build_siamese("tiny"), pathlib.Path(tempfile.mkdtemp()) / "s.pt")
    >>> load_siamese(f).backbone_name
    'tiny'
    """
    from toolkit import weights

    return weights.save(
        net, file, kind="geo.city", config={"backbone": net.backbone_name}, card=dict(net.meta), extra=extra
    )


#: JSON schema of a ``"geo.city"`` checkpoint's config (checked by :func:`from_checkpoint`)
CONFIG_SCHEMA = {
    "type": "object",
    "required": ["backbone"],
    "properties": {"backbone": {"enum": ["vit_l_16", "tiny"]}},
}


def from_checkpoint(ck) -> SiameseNet:
    """The :class:`SiameseNet` of a ``toolkit.weights`` checkpoint of kind ``"geo.city"``
    (the builder :func:`toolkit.weights.load` calls); ``meta`` is the model card.

    >>> from toolkit import weights
    >>> from_checkpoint(weights.load_checkpoint("geo/city_demo")).meta["name"]
    'geo/city_demo'
    """
    from toolkit import weights

    weights.check_json(ck.config, CONFIG_SCHEMA, f"{ck.file}: city-verifier config")
    net = SiameseNet(ck.config["backbone"])
    net.load_state_dict(ck.state_dict)
    net.meta = dict(ck.card)
    return net


def load_siamese(name_or_path: str | os.PathLike = DEMO_WEIGHTS, device: str = "auto") -> SiameseNet:
    """A Siamese verifier in eval mode (default: the shipped demo), via :func:`toolkit.weights.load`.

    ``name_or_path``: a registered name (``"geo/city_demo"``; never looked up in the current
    folder), an external name (``"geo/city_vit_l_16"``, user cache) or a checkpoint file; see
    :func:`toolkit.geo.pretrained.load`. Raises ``UnknownWeightsError``, ``WeightsNotFoundError``
    (with instructions) or ``WeightsFormatError``.

    >>> load_siamese(device="cpu").weights_name
    'geo/city_demo'
    """
    from toolkit.geo.pretrained import load

    return load(name_or_path, kind="geo.city", device=device)


#: house convention: ``toolkit.<method>.load_model(name)``
load_model = load_siamese


def preprocess(image) -> np.ndarray:
    """Seed's test-time view: shorter side -> 256, centre crop 224 x 224 x 3 (uint8 RGB).

    >>> preprocess(np.zeros((300, 400, 3), np.uint8)).shape
    (224, 224, 3)
    """
    from toolkit.geo.country import crop_boxes, resize_shorter

    img = resize_shorter(load_image(image), 256)
    t, lft, h, w = crop_boxes(*img.shape[:2])[4]
    return img[t : t + h, lft : lft + w].copy()


def _batch(views: list[np.ndarray]):
    return to_tensor(views)


# --- scene similarity ----------------------------------------------------------------
def scene_similarity(u, v) -> float:
    """Cosine similarity of two scene-probability vectors (eq. 8.1); 0 when one is all zeros.

    >>> round(scene_similarity([1, 0, 1], [1, 1, 0]), 6)
    0.5
    """
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    if u.shape != v.shape or u.ndim != 1:
        raise ValueError(f"scene vectors must be 1-D of equal length, got {u.shape} and {v.shape}")
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    return float(u @ v / (nu * nv))


def places_to_hierarchy(p365, hierarchy) -> np.ndarray:
    """Reduce 365 Places365 probabilities to the 16 hierarchy classes: ``p @ H``, renormalised.

    ``hierarchy``: 365 x 16 0/1 matrix (Places365 scene hierarchy; a class may belong to several).

    >>> H = np.zeros((365, 16)); H[:, 3] = 1
    >>> round(float(places_to_hierarchy(np.full(365, 1 / 365), H)[3]), 6)
    1.0
    """
    p = np.asarray(p365, dtype=float)
    H = np.asarray(hierarchy, dtype=float)
    if H.ndim != 2 or H.shape[1] != N_SCENE_CLASSES or p.shape[-1] != H.shape[0]:
        raise ValueError(
            f"need p (..., {H.shape[0] if H.ndim == 2 else '?'}) and H (365, 16); got {p.shape}, {H.shape}"
        )
    u = p @ H
    s = u.sum(axis=-1, keepdims=True)
    return np.where(s > 0, u / np.where(s > 0, s, 1), u)


class Places365Scene:
    """Scene model for the weighting: a 365-way Places365 network + the 365 x 16 hierarchy matrix.

    ``Places365Scene(model, hierarchy)(image) -> 16-vector``. The Places365 weights and its
    hierarchy sheet are not shipped (external entry ``geo/places365_resnet18``; its tensors load with
    ``toolkit.geo.pretrained.load_state_dict``).

    >>> import torch
    >>> H = np.zeros((365, 16)); H[:, 0] = 1
    >>> scene = Places365Scene(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(365)), H, "cpu")
    >>> scene(np.zeros((240, 320, 3), np.uint8)).round(6).tolist()[:2]
    [1.0, 0.0]
    """

    def __init__(self, model, hierarchy, device: str = "auto"):
        from toolkit._util import resolve_device

        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.hierarchy = np.asarray(hierarchy, dtype=float)

    def __call__(self, image) -> np.ndarray:
        import torch

        with torch.no_grad():
            logits = self.model(_batch([preprocess(image)]).to(self.device))
            p = torch.softmax(logits.float(), dim=1).cpu().numpy()[0]
        return places_to_hierarchy(p, self.hierarchy)


def proxy_scene_vector(image) -> np.ndarray:
    """A 16-bin colour/brightness histogram (8 hues x dark/bright), normalised to sum 1.

    A stand-in for the Places365 16-class scene vector when no scene model is
    available (offline demo): images with similar colour content get similar
    vectors. It is NOT a scene classifier.

    >>> v = proxy_scene_vector(np.zeros((240, 320, 3), np.uint8))
    >>> v.shape, round(float(v.sum()), 6)
    ((16,), 1.0)
    """
    from skimage.color import rgb2hsv

    hsv = rgb2hsv(preprocess(image))
    hue = np.minimum((hsv[..., 0] * 8).astype(int), 7)
    bright = (hsv[..., 2] >= 0.5).astype(int)
    hist = np.bincount((hue * 2 + bright).ravel(), weights=(0.2 + hsv[..., 1]).ravel(), minlength=16)
    return hist / hist.sum()


# --- decision rules ------------------------------------------------------------------
def country_gate(country_prediction, claimed_country: str, top_n: int = 2) -> dict:
    """Seed's gate: passes when the claimed country's class is among the classifier's top-``top_n``.

    ``country_prediction``: a :class:`toolkit.geo.country.CountryPrediction` or a sequence of
    class names already ranked. Returns ``{'passed', 'claimed_class', 'claimed_country', 'top',
    'top_n'}``.

    >>> country_gate(["Italy", "France", "Spain"], "VA")["passed"]
    True
    """
    cc = groups.resolve_country(claimed_country)
    cls = groups.country_to_group()[cc]
    top = (
        country_prediction.topk(top_n)
        if hasattr(country_prediction, "topk")
        else list(country_prediction)[:top_n]
    )
    return {
        "passed": cls in top,
        "claimed_class": cls,
        "claimed_country": cc,
        "top": list(top),
        "top_n": top_n,
    }


def decide(p_different, similarity=None) -> dict:
    """Eq. 8.2: ``y = argmax_i sum_j s_j P_ij`` with ``P1 = p_different``, ``P0 = 1 - P1``.

    ``similarity`` None means ``s_j = 1`` (unweighted). Ties go to ``y = 0`` (same city).
    Returns ``{'y', 'verified', 'scores': [sum s P0, sum s P1]}``.

    >>> decide([0.6, 0.6, 0.1], [0.1, 0.1, 1.0])["scores"]
    [0.98, 0.22]
    """
    p1 = np.asarray(p_different, dtype=float).ravel()
    if p1.size == 0:
        raise ValueError("need at least one reference pair")
    if ((p1 < 0) | (p1 > 1)).any():
        raise ValueError("pair probabilities must lie in [0, 1]")
    s = np.ones_like(p1) if similarity is None else np.asarray(similarity, dtype=float).ravel()
    if s.shape != p1.shape:
        raise ValueError(f"{s.size} similarities for {p1.size} pairs")
    scores = [float(np.round(np.sum(s * (1 - p1)), 12)), float(np.round(np.sum(s * p1), 12))]
    y = int(np.argmax(scores))
    return {"y": y, "verified": y == 0, "scores": scores}


def pair_probabilities(
    net: SiameseNet, query, references, device: str = "auto", batch_size: int = 16
) -> np.ndarray:
    """``P1`` (different-city probability) of the query against each of the m reference images: (m,).

    >>> img = np.zeros((240, 320, 3), np.uint8)
    >>> pair_probabilities(build_siamese("tiny"), img, [img, img], device="cpu").shape
    (2,)
    """
    import torch

    from toolkit._util import resolve_device

    dev = resolve_device(device)
    net = net.to(dev).eval()
    q = _batch([preprocess(query)]).to(dev)
    out = []
    with torch.no_grad():
        for b in range(0, len(references), batch_size):
            r = _batch([preprocess(x) for x in references[b : b + batch_size]]).to(dev)
            out.append(torch.sigmoid(net(q.expand(len(r), -1, -1, -1), r)).cpu().numpy())
    return np.concatenate(out).astype(float)


def sample_pairs(
    labels, n_pairs: int, rng: np.random.Generator, top2=None, plausible_fraction: float = 0.5
) -> np.ndarray:
    """n_pairs x 3 array (i, j, different) of balanced training pairs (seed sec. 8.3.2).

    Half the pairs are positives (same city), half negatives; negatives are spread
    evenly over ordered city pairs. With ``top2`` (N x 2 predicted classes per
    image), at least ``plausible_fraction`` of the negatives satisfy the seed's
    country-plausibility condition (the two images share a top-2 class) when such
    pairs exist.

    >>> pairs = sample_pairs([0, 0, 1, 1], 8, np.random.default_rng(0))
    >>> pairs.shape, int((pairs[:, 2] == 0).sum())
    ((8, 3), 4)
    """
    y = np.asarray(labels)
    cities = np.unique(y)
    if len(cities) < 2:
        raise ValueError("need images of at least two cities to form negative pairs")
    by = {c: np.flatnonzero(y == c) for c in cities}
    n_pos = n_pairs // 2
    n_neg = n_pairs - n_pos
    pairs = []
    for k in range(n_pos):
        c = cities[k % len(cities)]
        i, j = rng.choice(by[c], 2, replace=len(by[c]) < 2)
        pairs.append((i, j, 0))
    combos = [(a, b) for a in cities for b in cities if a != b]
    n_plaus = int(np.ceil(plausible_fraction * n_neg)) if top2 is not None else 0
    t2 = None if top2 is None else [set(r) for r in np.asarray(top2).tolist()]
    neg = []
    tries = 0
    while len(neg) < n_plaus and tries < 50 * max(n_plaus, 1):
        a, b = combos[(len(neg) + tries) % len(combos)]
        i, j = rng.choice(by[a]), rng.choice(by[b])
        tries += 1
        if t2[i] & t2[j]:
            neg.append((i, j, 1))
    k = 0
    while len(neg) < n_neg:
        a, b = combos[k % len(combos)]
        neg.append((rng.choice(by[a]), rng.choice(by[b]), 1))
        k += 1
    out = np.array(pairs + neg, dtype=np.int64)
    return out[rng.permutation(len(out))]


# --- result ----------------------------------------------------------------------------
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".ppm")


def reference_images(references) -> list:
    """The reference images as a list: a list/tuple of images, a 4-D array (m x H x W x 3), or a
    folder whose image files (sorted by name) are the references.

    Raises ``ValueError`` for a single image (a path, bytes or 3-D array): references are images of
    the claimed city, so a list is required even for one; ``FileNotFoundError`` for a missing folder
    or file path given as a folder.

    >>> len(reference_images(np.zeros((2, 40, 40, 3), np.uint8)))
    2
    >>> reference_images("sample_data/no_such_folder/")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no folder of reference images at 'sample_data/no_such_folder/'
    """
    if isinstance(references, (str, os.PathLike)):
        p = Path(references).expanduser()
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in _IMAGE_SUFFIXES)
            if not files:
                raise ValueError(f"the folder {str(p)!r} holds no image files to use as references")
            return [str(f) for f in files]
        if not p.exists() and (str(references).endswith(("/", os.sep)) or not p.suffix):
            raise FileNotFoundError(f"no folder of reference images at {str(references)!r}")
        raise ValueError(
            "references must be a list of images of the claimed city (or a folder of them), "
            f"not the single image {str(references)!r}"
        )
    if isinstance(references, (bytes, bytearray)) or (
        isinstance(references, np.ndarray) and references.ndim != 4
    ):
        raise ValueError("references must be a list of images of the claimed city (or a folder of them)")
    return list(references)


def _example_verification(**kw) -> CityVerification:
    """A hand-made verification for the doctests: three pairs, P(different) 0.2, 0.3, 0.9."""
    p1 = np.array([0.2, 0.3, 0.9])
    d = decide(p1)
    return CityVerification(d["verified"], "siamese", None, p1, np.ones(3), d["scores"], **kw)


@dataclass(frozen=True)
class CityVerification(Result):
    """Outcome of :func:`verify` (registry ``geo.city``).

    Attributes
    ----------
    verified : True when the query is judged to be from the claimed city (the seed's output; False
        when the country gate rejected the claim).
    stage : 'country_gate' (rejected by the country classifier) or 'siamese'.
    gate : country-gate evidence (claimed class, top-N classes) or None when skipped.
    p_different : (m,) Siamese ``P1`` per reference pair (empty when gated out).
    similarity : (m,) scene similarities ``s_j`` (ones when no scene model).
    scores : [sum s P0, sum s P1] (eq. 8.2).
    references : one ``{"path", "sha256"}`` per reference image (path None for an array).
    country_prediction : the gate's :class:`toolkit.geo.country.CountryPrediction`, or None.
    path, sha256, params, toolkit_version : see :class:`toolkit.result.Result` (of the query).

    The decision: :attr:`verdict` ("different_city" / "not_detected" / "inconclusive"),
    :attr:`score` (weighted mean P(different) = ``scores[1] / sum(scores)``), :attr:`threshold` (0.5)
    and :attr:`reason`.

    >>> r = _example_verification()
    >>> r.verdict, round(r.score, 3), r.threshold
    ('not_detected', 0.467, 0.5)
    """

    method = "geo.city"

    verified: bool = False
    stage: str = "siamese"
    gate: dict | None = None
    p_different: np.ndarray = field(default_factory=lambda: np.zeros(0))
    similarity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scores: list = field(default_factory=list)
    references: list = field(default_factory=list)
    country_prediction: Result | None = None

    def __post_init__(self):
        if self.stage not in ("country_gate", "siamese"):
            raise ValueError(f"stage must be 'country_gate' or 'siamese', got {self.stage!r}")
        p1, s = np.asarray(self.p_different, dtype=float), np.asarray(self.similarity, dtype=float)
        if p1.shape != s.shape:
            raise ValueError(f"{p1.size} pair probabilities for {s.size} similarities")
        object.__setattr__(self, "p_different", p1)
        object.__setattr__(self, "similarity", s)

    # --- decision ------------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        """:data:`THRESHOLD`: a score above it is a vote for a different city."""
        return THRESHOLD

    @property
    def score(self) -> float | None:
        """Similarity-weighted mean P(different) over the pairs (None when gated out or no weight).

        >>> round(_example_verification().score, 4)  # (0.2 + 0.3 + 0.9) / 3
        0.4667
        """
        if self.stage != "siamese" or len(self.scores) != 2 or sum(self.scores) <= 0:
            return None
        return float(self.scores[1] / (self.scores[0] + self.scores[1]))

    @property
    def verdict(self) -> str:
        """'different_city' when the vote says another city, 'not_detected' when it says the claimed
        one (same city), 'inconclusive' when the country gate rejected the claim or no pair has weight.

        >>> _example_verification().verdict
        'not_detected'
        """
        if self.score is None:
            return INCONCLUSIVE
        return NOT_DETECTED if self.verified else "different_city"

    @property
    def reason(self) -> str:
        """Why the verdict, in a sentence.

        >>> _example_verification().reason
        'the similarity-weighted vote of 3 reference pairs says the same city (votes same/different 1.6/1.4)'
        """
        if self.stage == "country_gate":
            g = self.gate or {}
            return (
                f"country gate: the claimed country {g.get('claimed_country')} "
                f"(class {g.get('claimed_class')}) is not among the country classifier's "
                f"top-{g.get('top_n')} classes "
                f"({', '.join(g.get('top', []))}); the seed rejects such a claim before the Siamese "
                "comparison, which was not run"
            )
        m = len(self.p_different)
        votes = f"votes same/different {self.scores[0]:.2g}/{self.scores[1]:.2g}" if self.scores else ""
        if self.score is None:
            return f"no reference pair carries weight (scene similarities sum to 0; {votes})"
        said = "the same city" if self.verified else "a different city"
        pairs = f"{m} reference pair{'s' if m != 1 else ''}"
        return f"the similarity-weighted vote of {pairs} says {said} ({votes})"

    # --- views -----------------------------------------------------------------------------
    def summary(self) -> str:
        """One line: verdict, score vs threshold, number of references (base summary + references).

        >>> _example_verification().summary()
        'geo.city on array: not_detected (score 0.4667 vs threshold 0.5); 3 reference pairs'
        """
        text = super().summary()
        if self.stage == "siamese":
            m = len(self.p_different)
            text += f"; {m} reference pair{'s' if m != 1 else ''}"
        return text

    def table(self) -> pandas.DataFrame:  # noqa: F821
        """One row per reference pair: reference (index), file (name or None), P(same), P(different),
        similarity, weighted votes.

        >>> _example_verification().table()["p_different"].tolist()
        [0.2, 0.3, 0.9]
        """
        import pandas as pd

        p1 = self.p_different
        refs = self.references if len(self.references) == len(p1) else [{}] * len(p1)
        return pd.DataFrame(
            {
                "reference": np.arange(len(p1)),
                "file": [os.path.basename(r["path"]) if r.get("path") else None for r in refs],
                "p_same": 1 - p1,
                "p_different": p1,
                "similarity": self.similarity,
                "vote_same": self.similarity * (1 - p1),
                "vote_different": self.similarity * p1,
            }
        )

    def plot(self):
        """Plotly bars of each pair's P(same) with its scene similarity as marker opacity.

        >>> len(_example_verification().plot().data)
        2
        """
        import plotly.graph_objects as go

        t = self.table()
        fig = go.Figure()
        fig.add_bar(
            x=t["reference"],
            y=t["p_same"],
            name="P(same city)",
            marker_opacity=np.clip(t["similarity"], 0.15, 1.0) if len(t) else None,
        )
        fig.add_scatter(x=t["reference"], y=t["similarity"], mode="markers", name="scene similarity")
        title = f"City verification: {self.verdict}"
        if self.stage == "country_gate":
            title += " (rejected by the country gate)"
        elif self.scores:
            title += f"; votes same/different = {self.scores[0]:.2f}/{self.scores[1]:.2f}"
        fig.update_layout(title=title, xaxis_title="reference image", yaxis_range=[0, 1.05])
        return fig


def _describe(image, info) -> dict:
    """``{"path", "sha256", "image"}`` of an image already read by :func:`load_image` (``info``)."""
    from toolkit._util import input_sha256

    path = os.fspath(image) if isinstance(image, (str, os.PathLike)) else None
    return {"path": path, "sha256": input_sha256(image), "image": info.to_dict()}


def verify(
    query,
    references,
    model: SiameseNet | str | None = None,
    *,
    claimed_country: str | None = None,
    country_model=None,
    scene_model=None,
    top_n: int = 2,
    device: str = "auto",
    max_pixels: int | None = None,
) -> CityVerification:
    """Decide whether ``query`` was shot in the city the ``references`` show (registry ``geo.city``).

    Parameters
    ----------
    query : image (path, bytes, PIL, array).
    references : m >= 1 images of the claimed city: a list, an m x H x W x 3 array, or a folder
        (see :func:`reference_images`).
    model : :class:`SiameseNet`, registry name / checkpoint path, or None for the shipped demo.
    claimed_country : country of the claimed city (ISO code or name); enables the top-``top_n``
        country gate with ``country_model`` (a CountryModel, name/path, or None for the demo model).
    scene_model : callable image -> 16-vector (e.g. :class:`Places365Scene`, or
        :func:`proxy_scene_vector`); None gives every pair weight 1.
    top_n : the gate's rank limit (seed: 2).
    device : 'auto', 'cpu' or 'cuda'.
    max_pixels : largest accepted width x height of each image (default
        :data:`toolkit.image.MAX_PIXELS`).

    Returns
    -------
    CityVerification
        verdict 'different_city' / 'not_detected' / 'inconclusive' (gate), score, threshold.
        ``params["image"]`` records how the query was read and converted, ``params["references"]``
        each reference's path, SHA-256 and conversions (as the ``references`` field).

    >>> img = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    >>> r = verify(img, [img, img[:, ::-1]], model=build_siamese("tiny"))
    >>> r.verdict in ("different_city", "not_detected"), r.p_different.shape
    (True, (2,))
    """
    from toolkit._util import input_sha256

    q, q_info = load_image(query, max_pixels=max_pixels, return_info=True)
    references = reference_images(references)
    if not references:
        raise ValueError("need at least one reference image of the claimed city")
    refs, ref_ids = [], []
    for r in references:
        rgb, info = load_image(r, max_pixels=max_pixels, return_info=True)
        refs.append(rgb)
        ref_ids.append(_describe(r, info))
    base = {"path": os.fspath(query) if isinstance(query, (str, os.PathLike)) else None}
    base["sha256"] = input_sha256(query)
    params = {
        "top_n": top_n,
        "claimed_country": claimed_country,
        "m": len(refs),
        "image": q_info.to_dict(),
        "references": [dict(r) for r in ref_ids],
        "max_pixels": max_pixels,
        "scene_model": getattr(scene_model, "__name__", type(scene_model).__name__) if scene_model else None,
    }
    gate, cpred = None, None
    if claimed_country is not None:
        from toolkit.geo import country as country_mod

        cpred = country_mod.analyze(
            query, country_model, device=device, k=max(1, top_n), max_pixels=max_pixels
        )
        gate = country_gate(cpred, claimed_country, top_n)
        params["country_model"] = cpred.params.get("model")
        params["country_model_sha256"] = cpred.params.get("model_sha256")
        if not gate["passed"]:
            return CityVerification(
                False,
                "country_gate",
                gate,
                np.zeros(0),
                np.zeros(0),
                [],
                ref_ids,
                cpred,
                params=params,
                **base,
            )
    if model is None or isinstance(model, (str, os.PathLike)):
        model = load_siamese(model or DEMO_WEIGHTS, device=device)
    params["siamese"], params["siamese_sha256"] = weights_id(model)
    params["backbone"] = model.backbone_name
    p1 = pair_probabilities(model, q, refs, device=device)
    if scene_model is not None:
        u = np.asarray(scene_model(q), dtype=float)
        s = np.array([scene_similarity(u, scene_model(r)) for r in refs])
    else:
        s = np.ones(len(refs))
    d = decide(p1, s)
    return CityVerification(
        d["verified"], "siamese", gate, p1, s, d["scores"], ref_ids, cpred, params=params, **base
    )
