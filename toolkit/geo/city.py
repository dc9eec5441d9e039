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

>>> import numpy as np
>>> from toolkit.geo.city import decide
>>> decide(np.array([0.2, 0.9]), np.array([1.0, 0.1]))["verified"]
True
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
]

N_SCENE_CLASSES = 16
DEMO_WEIGHTS = "geo/city_demo"


def _module():
    import torch.nn as nn

    return nn.Module


class SiameseNet(_module()):
    """Siamese verifier: shared branch -> 64-d embedding; concat(128) -> ReLU -> 64 -> ReLU -> 1 (logit).

    ``forward(a, b)`` returns N logits of "different cities"; ``sigmoid`` gives ``P1``.
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
            from toolkit.geo.country import _tiny_backbone

            feat, dim = _tiny_backbone()
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
    """A fresh :class:`SiameseNet`; ``pretrained=True`` loads torchvision ImageNet ViT weights
    from the registry (``geo/imagenet_vit_l_16``; ``WeightsNotFoundError`` when absent)."""
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    net = SiameseNet(backbone)
    if pretrained:
        if backbone != "vit_l_16":
            raise ValueError("ImageNet weights are registered for the 'vit_l_16' backbone only")
        from toolkit.geo.pretrained import registry_file

        sd = torch.load(registry_file("geo/imagenet_vit_l_16"), map_location="cpu", weights_only=True)
        sd = {k: v for k, v in sd.items() if not k.startswith("heads.")}
        net.branch.load_state_dict(sd, strict=False)
    return net


def save_siamese(net: SiameseNet, file: str | os.PathLike, **extra) -> Path:
    """Save a Siamese checkpoint (backbone name, weights, meta, ``extra``)."""
    from toolkit.geo.pretrained import save_checkpoint_dict

    return save_checkpoint_dict(
        file,
        {
            "kind": "geo.city",
            "backbone": net.backbone_name,
            "state_dict": net.state_dict(),
            "meta": dict(net.meta),
            **extra,
        },
    )


def load_siamese(name_or_path: str | os.PathLike = DEMO_WEIGHTS, device: str = "auto") -> SiameseNet:
    """Load a Siamese verifier from a file or registry name (``WeightsNotFoundError`` when missing)."""
    from toolkit._util import resolve_device
    from toolkit.geo.pretrained import load_checkpoint_dict

    ck = load_checkpoint_dict(name_or_path, "geo.city", "city-verifier")
    net = SiameseNet(ck["backbone"])
    net.load_state_dict(ck["state_dict"])
    net.meta = dict(ck.get("meta", {}))
    return net.to(resolve_device(device)).eval()


#: house convention: ``toolkit.<method>.load_model(name)``
load_model = load_siamese


def preprocess(image) -> np.ndarray:
    """Seed's test-time view: shorter side -> 256, centre crop 224 x 224 (uint8 RGB)."""
    from toolkit.geo.country import crop_boxes, resize_shorter

    img = resize_shorter(load_image(image), 256)
    t, lft, h, w = crop_boxes(*img.shape[:2])[4]
    return img[t : t + h, lft : lft + w].copy()


def _batch(views: list[np.ndarray]):
    from toolkit.geo.country import _to_tensor

    return _to_tensor(views)


# --- scene similarity ----------------------------------------------------------------
def scene_similarity(u, v) -> float:
    """Cosine similarity of two scene-probability vectors (eq. 8.1); 0 when one is all zeros.

    >>> scene_similarity([1, 0, 1], [1, 1, 0])
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
    hierarchy sheet are not shipped (registry entry ``geo/places365_resnet18``).
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
    class names already ranked. Returns ``{'passed', 'claimed_class', 'top'}``.
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
    """``P1`` (different-city probability) of the query against each reference image."""
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
@dataclass(frozen=True)
class CityVerification:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    verified : True when the query is judged to be from the claimed city.
    stage : 'country_gate' (rejected by the country classifier) or 'siamese'.
    gate : country-gate evidence (claimed class, top-N classes) or None when skipped.
    p_different : (m,) Siamese ``P1`` per reference pair (empty when gated out).
    similarity : (m,) scene similarities ``s_j`` (ones when no scene model).
    scores : [sum s P0, sum s P1] (eq. 8.2).
    """

    verified: bool
    stage: str
    gate: dict | None
    p_different: np.ndarray
    similarity: np.ndarray
    scores: list
    sha256: str
    params: dict = field(default_factory=dict)

    def table(self) -> pandas.DataFrame:  # noqa: F821
        """One row per reference pair: reference, P(same), P(different), similarity, weighted votes."""
        import pandas as pd

        p1 = self.p_different
        return pd.DataFrame(
            {
                "reference": np.arange(len(p1)),
                "p_same": 1 - p1,
                "p_different": p1,
                "similarity": self.similarity,
                "vote_same": self.similarity * (1 - p1),
                "vote_different": self.similarity * p1,
            }
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["p_different"] = self.p_different.tolist()
        d["similarity"] = self.similarity.tolist()
        return json.loads(json.dumps(d, default=str))

    def plot(self):
        """Plotly bars of each pair's P(same) with its scene similarity as marker opacity."""
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
        verdict = "VERIFIED" if self.verified else f"NOT verified ({self.stage})"
        fig.update_layout(
            title=f"City verification: {verdict}; votes same/different = "
            f"{self.scores[0]:.2f}/{self.scores[1]:.2f}"
            if self.scores
            else verdict,
            xaxis_title="reference image",
            yaxis_range=[0, 1.05],
        )
        return fig


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
) -> CityVerification:
    """Decide whether ``query`` was shot in the city the ``references`` show.

    Parameters
    ----------
    query : image (path, bytes, PIL, array).
    references : list of m >= 1 images of the claimed city.
    model : :class:`SiameseNet`, checkpoint path / registry name, or None for the shipped demo.
    claimed_country : country of the claimed city (ISO code or name); enables the top-``top_n``
        country gate with ``country_model`` (a CountryModel, path/name, or None for the demo model).
    scene_model : callable image -> 16-vector (e.g. :class:`Places365Scene`, or
        :func:`proxy_scene_vector`); None gives every pair weight 1.
    """
    from toolkit.geo import country as country_mod

    if isinstance(references, (str, os.PathLike, bytes, np.ndarray)) and not (
        isinstance(references, np.ndarray) and references.ndim == 4
    ):
        raise ValueError("references must be a list of images of the claimed city")
    references = list(references)
    if not references:
        raise ValueError("need at least one reference image of the claimed city")
    q = load_image(query)
    refs = [load_image(r) for r in references]
    params = {
        "top_n": top_n,
        "claimed_country": claimed_country,
        "m": len(refs),
        "scene_model": getattr(scene_model, "__name__", type(scene_model).__name__) if scene_model else None,
    }
    gate = None
    if claimed_country is not None:
        cpred = country_mod.analyze(q, country_model, device=device)
        gate = country_gate(cpred, claimed_country, top_n)
        params["country_model"] = cpred.params.get("model")
        if not gate["passed"]:
            return CityVerification(
                False, "country_gate", gate, np.zeros(0), np.zeros(0), [], image_sha256(query), params
            )
    if model is None or isinstance(model, (str, os.PathLike)):
        model = load_siamese(model or DEMO_WEIGHTS, device=device)
    params["siamese"] = model.meta.get("name", "in-memory model")
    params["backbone"] = model.backbone_name
    p1 = pair_probabilities(model, q, refs, device=device)
    if scene_model is not None:
        u = np.asarray(scene_model(q), dtype=float)
        s = np.array([scene_similarity(u, scene_model(r)) for r in refs])
    else:
        s = np.ones(len(refs))
    d = decide(p1, s)
    return CityVerification(d["verified"], "siamese", gate, p1, s, d["scores"], image_sha256(query), params)
