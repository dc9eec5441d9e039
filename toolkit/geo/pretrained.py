"""Registry entries for the large checkpoints geolocation can use but cannot ship.

None of these files can be downloaded on the project's machines (no internet);
they are registered so that the loading code is real: put the file in the
weights cache (``$TOOLKIT_CACHE/weights/``) or call ``weights.path(name,
download=True)`` where the network is available.

* torchvision's ImageNet checkpoints (start of training in the seed). torchvision
  publishes only the first 8 hex digits of each file's SHA-256 (in the file
  name, checked by ``torch.hub``); the full digest is not published, so these
  entries record the prefix and :func:`registry_file` checks it.
* the seed's own trained models (VIPPGeo ResNet-101, 61 classes; ViT-L/16
  Siamese city verifier; Places365 ResNet-18 scene model). Their hashes are not
  published in the seed: the entries say how to obtain or train them.
"""

from __future__ import annotations

from pathlib import Path

from toolkit import weights

__all__ = ["SPECS", "register_all", "registry_file"]

_TV = "https://download.pytorch.org/models/"

SPECS = [
    weights.WeightSpec(
        name="geo/imagenet_resnet101",
        filename="resnet101-63fe2227.pth",
        sha256="",
        urls=(_TV + "resnet101-63fe2227.pth",),
        train_command="(torchvision ImageNet weights, IMAGENET1K_V1; not trained by this project)",
        card="torchvision ResNet-101 trained on ImageNet-1k (acc@1 77.37). About 171 MB. "
        "Used as the starting point of country-classifier training (seed 001, sec. 7.3).",
        extra={"sha256_prefix": "63fe2227", "torchvision": "ResNet101_Weights.IMAGENET1K_V1"},
    ),
    weights.WeightSpec(
        name="geo/imagenet_vit_l_16",
        filename="vit_l_16-852ce7e3.pth",
        sha256="",
        urls=(_TV + "vit_l_16-852ce7e3.pth",),
        train_command="(torchvision ImageNet weights, IMAGENET1K_V1; not trained by this project)",
        card="torchvision ViT-L/16 trained on ImageNet-1k (acc@1 79.66). About 1.2 GB. "
        "Starting point of the Siamese city verifier (seed 001, sec. 8.3.2).",
        extra={"sha256_prefix": "852ce7e3", "torchvision": "ViT_L_16_Weights.IMAGENET1K_V1"},
    ),
    weights.WeightSpec(
        name="geo/imagenet_resnet18",
        filename="resnet18-f37072fd.pth",
        sha256="",
        urls=(_TV + "resnet18-f37072fd.pth",),
        train_command="(torchvision ImageNet weights, IMAGENET1K_V1; not trained by this project)",
        card="torchvision ResNet-18 trained on ImageNet-1k (acc@1 69.76). About 45 MB. "
        "Optional start for the small 'resnet18' country classifier.",
        extra={"sha256_prefix": "f37072fd", "torchvision": "ResNet18_Weights.IMAGENET1K_V1"},
    ),
    weights.WeightSpec(
        name="geo/vippgeo_resnet101",
        filename="geo_vippgeo_resnet101.pt",
        sha256="",
        train_command="python -m toolkit.geo.train --data VIPPGeo.csv --root IMAGES --arch resnet101 "
        "--epochs 25 --batch-size 320 --pretrained yes --out geo_vippgeo_resnet101.pt",
        card="The seed's country classifier: ResNet-101, 61 classes, trained 25 epochs on the VIPPGeo "
        "training split (96% of 3.8M urban images; https://github.com/alamayreh/VIPPGeo_Dataset). "
        "Seed accuracy (5-crop mean): VIPPGeo test top-1 0.66, top-5 0.87, balanced 0.60. About 170 MB "
        "(fp32). Not shipped and its hash is not published: obtain it from the seed's authors or train "
        "it with the command above on a GPU, then save it in this project's checkpoint format.",
        extra={"sha256_known": False},
    ),
    weights.WeightSpec(
        name="geo/city_vit_l_16",
        filename="geo_city_vit_l_16.pt",
        sha256="",
        train_command="python -m toolkit.geo.city_train --data CITIES.csv --root IMAGES --backbone vit_l_16 "
        "--epochs 50 --pairs-per-epoch 16384 --pretrained --out geo_city_vit_l_16.pt",
        card="The seed's Siamese city verifier (ViT-L/16 branches, 64-d embeddings, 128->64->1 head), "
        "50 epochs of 16,384 pairs from 10 cities (https://github.com/alamayreh/city_verifier). Seed "
        "verification: closed set TP 0.82 / FP 0.03, open set TP 0.72 / FP 0.02. About 1.2 GB. Not "
        "shipped; hash not published.",
        extra={"sha256_known": False},
    ),
    weights.WeightSpec(
        name="geo/places365_resnet18",
        filename="resnet18_places365.pth.tar",
        sha256="",
        urls=("http://places2.csail.mit.edu/models_places365/resnet18_places365.pth.tar",),
        card="Places365-CNN ResNet-18 (Zhou et al.), 365 scene classes, used with the Places365 "
        "scene hierarchy (365 -> 16) for the scene-similarity weights of city verification. About 45 MB; "
        "hash not published. Not shipped.",
        extra={"sha256_known": False},
    ),
]


def register_all() -> None:
    """Register every entry of :data:`SPECS` (keeps entries already registered, e.g. from the index)."""
    known = set(weights.available())
    for s in SPECS:
        if s.name not in known:
            weights.register(s)


def registry_file(name: str, *, download: bool = False) -> Path:
    """Local path of registered weights, checked by full SHA-256 or by the published prefix.

    Raises ``toolkit.weights.WeightsNotFoundError`` (with instructions) when missing.
    """
    register_all()
    s = weights.spec(name)
    full = len(s.sha256) == 64
    p = weights.path(name, download=download, verify=full)
    prefix = s.extra.get("sha256_prefix")
    if not full and prefix:
        digest = weights.sha256_file(p)
        if not digest.startswith(prefix):
            raise weights.WeightsHashError(
                f"{p} has SHA-256 {digest[:12]}..., but torchvision publishes {prefix}... for {name!r}: "
                "the file is corrupt or another version; delete it and fetch it again."
            )
    return p


def save_checkpoint_dict(file, payload: dict) -> Path:
    """``torch.save`` a checkpoint dict to ``file`` (parent folders created); returns the path."""
    import torch

    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, file)
    return file


def load_checkpoint_dict(name_or_path, kind: str, what: str) -> dict:
    """Checkpoint dict of ``kind`` from a file or a registry name (``"geo/..."``).

    A missing registry file raises ``WeightsNotFoundError``; a missing path
    ``FileNotFoundError``; a file of another kind ``ValueError`` naming ``what``.
    """
    import torch

    p = Path(name_or_path)
    if not p.is_file():
        if isinstance(name_or_path, str) and "/" in name_or_path and not p.suffix:
            p = registry_file(name_or_path)
        else:
            raise FileNotFoundError(f"no checkpoint at {str(p)!r}")
    ck = torch.load(p, map_location="cpu", weights_only=False)
    if not isinstance(ck, dict) or ck.get("kind") != kind:
        raise ValueError(f"{str(p)!r} is not a {what} checkpoint written by toolkit.geo")
    return ck
