"""Geolocation's weights: the shipped demo models, and the large external checkpoints it can use.

Shipped models (``geo/country_demo``, ``geo/city_demo``) are ordinary entries of the
:mod:`toolkit.weights` registry: full SHA-256, checked before reading, read with
``weights_only=True``. :func:`load` is the one loader of :func:`toolkit.geo.country.load_model`
and :func:`toolkit.geo.city.load_siamese`.

The external checkpoints — torchvision's ImageNet files (the seed's starting
point), the seed's own trained models and Places365 — have **no published full
SHA-256**, so they cannot be registry entries (a :class:`toolkit.weights.WeightSpec`
refuses anything but a full hash). They are documented here as
:class:`ExternalWeights`: what the file is, where it comes from, its file name
and, for torchvision, the 8-hex-digit prefix of its SHA-256 that torchvision
publishes in the file name. :func:`registry_file` finds such a file **only in the
user cache** (:func:`toolkit.weights.cache_dir`), never in the current folder.
The prefix is a corruption check, not a security check (a prefix can be
forged): security comes from reading the file with ``torch.load(...,
weights_only=True)``, which cannot run code. Once you know a file's full hash,
register it (``toolkit.weights.register_file(name, file, ship=False, ...)``) and
the normal hashed route is used.

>>> external("geo/imagenet_resnet18").sha256_prefix
'f37072fd'
>>> sorted(EXTERNAL)[:2]
['geo/city_vit_l_16', 'geo/imagenet_resnet101']
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import weights

__all__ = [
    "ExternalWeights",
    "EXTERNAL",
    "SPECS",
    "KINDS",
    "external",
    "registry_file",
    "load_state_dict",
    "load",
]

_TV = "https://download.pytorch.org/models/"
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HEX = re.compile(r"^[0-9a-f]{8,64}$")

#: checkpoint kinds this package builds -> what they are called in messages
KINDS = {"geo.country": "country-classifier", "geo.city": "city-verifier"}


@dataclass(frozen=True)
class ExternalWeights:
    """A checkpoint geolocation can use but that has no published full SHA-256 (documentation entry).

    Attributes
    ----------
    name : look-up name, e.g. ``"geo/imagenet_resnet101"``.
    filename : plain file name expected in the user cache.
    content : ``"state_dict"`` (torchvision / Places365 tensors) or the toolkit checkpoint kind
        (``"geo.country"``, ``"geo.city"``) the file must hold.
    sha256_prefix : the published first hex digits of the file's SHA-256 ("" when none is published).
    urls : where the file can be downloaded from (may be empty).
    train_command : the project's command that reproduces it (or where it comes from).
    card : what it is (data, accuracy, size).
    extra : anything else (torchvision enum name, ...).
    """

    name: str
    filename: str
    content: str = "state_dict"
    sha256_prefix: str = ""
    urls: tuple[str, ...] = ()
    train_command: str = ""
    card: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not _PLAIN.match(self.filename or "") or ".." in self.filename:
            raise ValueError(f"{self.name!r}: file name {self.filename!r} must be a plain name")
        if self.sha256_prefix and not _HEX.match(self.sha256_prefix):
            raise ValueError(
                f"{self.name!r}: sha256_prefix must be lowercase hex, got {self.sha256_prefix!r}"
            )


SPECS: tuple[ExternalWeights, ...] = (
    ExternalWeights(
        name="geo/imagenet_resnet101",
        filename="resnet101-63fe2227.pth",
        sha256_prefix="63fe2227",
        urls=(_TV + "resnet101-63fe2227.pth",),
        train_command="(torchvision ImageNet weights, IMAGENET1K_V1; not trained by this project)",
        card="torchvision ResNet-101 trained on ImageNet-1k (acc@1 77.37). About 171 MB. "
        "Used as the starting point of country-classifier training (seed 001, sec. 7.3).",
        extra={"torchvision": "ResNet101_Weights.IMAGENET1K_V1"},
    ),
    ExternalWeights(
        name="geo/imagenet_resnet50",
        filename="resnet50-0676ba61.pth",
        sha256_prefix="0676ba61",
        urls=(_TV + "resnet50-0676ba61.pth",),
        train_command="(torchvision ImageNet weights, IMAGENET1K_V1; not trained by this project)",
        card="torchvision ResNet-50 trained on ImageNet-1k (acc@1 76.13). About 98 MB. "
        "Optional start for the 'resnet50' country classifier.",
        extra={"torchvision": "ResNet50_Weights.IMAGENET1K_V1"},
    ),
    ExternalWeights(
        name="geo/imagenet_resnet18",
        filename="resnet18-f37072fd.pth",
        sha256_prefix="f37072fd",
        urls=(_TV + "resnet18-f37072fd.pth",),
        train_command="(torchvision ImageNet weights, IMAGENET1K_V1; not trained by this project)",
        card="torchvision ResNet-18 trained on ImageNet-1k (acc@1 69.76). About 45 MB. "
        "Optional start for the small 'resnet18' country classifier.",
        extra={"torchvision": "ResNet18_Weights.IMAGENET1K_V1"},
    ),
    ExternalWeights(
        name="geo/imagenet_vit_l_16",
        filename="vit_l_16-852ce7e3.pth",
        sha256_prefix="852ce7e3",
        urls=(_TV + "vit_l_16-852ce7e3.pth",),
        train_command="(torchvision ImageNet weights, IMAGENET1K_V1; not trained by this project)",
        card="torchvision ViT-L/16 trained on ImageNet-1k (acc@1 79.66). About 1.2 GB. "
        "Starting point of the Siamese city verifier (seed 001, sec. 8.3.2).",
        extra={"torchvision": "ViT_L_16_Weights.IMAGENET1K_V1"},
    ),
    ExternalWeights(
        name="geo/vippgeo_resnet101",
        filename="geo_vippgeo_resnet101.pt",
        content="geo.country",
        train_command="python -m toolkit.geo.train --data VIPPGeo.csv --root IMAGES --arch resnet101 "
        "--epochs 25 --batch-size 320 --pretrained yes --out geo_vippgeo_resnet101.pt",
        card="The seed's country classifier: ResNet-101, 61 classes, trained 25 epochs on the VIPPGeo "
        "training split (96% of 3.8M urban images; https://github.com/alamayreh/VIPPGeo_Dataset). "
        "Seed accuracy (5-crop mean): VIPPGeo test top-1 0.66, top-5 0.87, balanced 0.60. About 170 MB "
        "(fp32). Not shipped and its hash is not published: obtain it from the seed's authors or train "
        "it with the command above on a GPU (it is then written in this project's checkpoint format).",
    ),
    ExternalWeights(
        name="geo/city_vit_l_16",
        filename="geo_city_vit_l_16.pt",
        content="geo.city",
        train_command="python -m toolkit.geo.city_train --data CITIES.csv --root IMAGES --backbone vit_l_16 "
        "--epochs 50 --pairs-per-epoch 16384 --pretrained --out geo_city_vit_l_16.pt",
        card="The seed's Siamese city verifier (ViT-L/16 branches, 64-d embeddings, 128->64->1 head), "
        "50 epochs of 16,384 pairs from 10 cities (https://github.com/alamayreh/city_verifier). Seed "
        "verification: closed set TP 0.82 / FP 0.03, open set TP 0.72 / FP 0.02. About 1.2 GB. Not "
        "shipped; hash not published.",
    ),
    ExternalWeights(
        name="geo/places365_resnet18",
        filename="resnet18_places365.pth.tar",
        urls=("http://places2.csail.mit.edu/models_places365/resnet18_places365.pth.tar",),
        train_command="(Places365-CNN release by Zhou et al.; not trained by this project)",
        card="Places365-CNN ResNet-18 (Zhou et al.), 365 scene classes, used with the Places365 "
        "scene hierarchy (365 -> 16) for the scene-similarity weights of city verification. About 45 MB; "
        "hash not published. Not shipped.",
    ),
)

#: name -> :class:`ExternalWeights`
EXTERNAL: dict[str, ExternalWeights] = {s.name: s for s in SPECS}


def external(name: str) -> ExternalWeights:
    """The :class:`ExternalWeights` entry ``name``; :class:`toolkit.weights.UnknownWeightsError` otherwise.

    >>> external("geo/vippgeo_resnet101").content
    'geo.country'
    >>> external("geo/nope")
    Traceback (most recent call last):
    ...
    toolkit.weights.UnknownWeightsError: no external geolocation weights named 'geo/nope'; known: ...
    """
    try:
        return EXTERNAL[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(EXTERNAL))
        raise weights.UnknownWeightsError(
            f"no external geolocation weights named {name!r}; known: {known}"
        ) from None


def _not_found(s: ExternalWeights, where: Path, errors: list[str]) -> weights.WeightsNotFoundError:
    lines = [
        f"{s.name!r} (file {s.filename!r}) is not in the weights cache: looked at {where}.",
        f"What it is: {s.card}",
        f"Put the file at {where} (or set TOOLKIT_CACHE to a folder holding weights/{s.filename}); "
        "a file elsewhere, e.g. in the current folder, is never used.",
    ]
    if s.urls:
        lines.append("It can be downloaded from: " + ", ".join(s.urls) + " (or call with download=True).")
    if s.train_command:
        lines.append(f"Source / how to reproduce it: {s.train_command}")
    lines.append(
        "When you know its full SHA-256, register it so the hash is checked before every read: "
        f"toolkit.weights.register_file({s.name!r}, FILE, ship=False, train_command=..., card=...)."
    )
    lines += errors
    return weights.WeightsNotFoundError("\n".join(lines))


def _check_prefix(file: Path, s: ExternalWeights) -> Path:
    if s.sha256_prefix:
        digest = weights.sha256_file(file)
        if not digest.startswith(s.sha256_prefix):
            raise weights.WeightsHashError(
                f"{file} has SHA-256 {digest[:12]}..., but the published prefix for {s.name!r} is "
                f"{s.sha256_prefix}...: the file is corrupt or another version; delete it and fetch it again."
            )
    return file


def _download(s: ExternalWeights, dest: Path) -> tuple[Path | None, list[str]]:
    errors = []
    for url in s.urls:
        try:
            return weights.fetch_url(url, dest, check=lambda f: _check_prefix(f, s)), errors
        except weights.WeightsHashError:
            raise
        except Exception as exc:  # network errors vary by platform
            errors.append(f"download from {url} failed: {exc}")
    return None, errors


def registry_file(name: str, *, download: bool = False) -> Path:
    """Local file of the external weights ``name``, from the user cache only.

    * When ``name`` has been registered in :mod:`toolkit.weights` with its full SHA-256
      (``toolkit.weights.register_file(name, file, ship=False, ...)``), the registry's hashed
      route is used (:func:`toolkit.weights.path`).
    * Otherwise the file must be ``toolkit.weights.cache_dir() / filename`` (never the current
      folder); a published SHA-256 prefix is checked as a corruption check. Such a file must then be
      read with ``torch.load(..., weights_only=True)`` (:func:`load_state_dict`, :func:`load`):
      that, not the prefix, is what keeps a crafted file from running code.

    Parameters
    ----------
    name : an :data:`EXTERNAL` name.
    download : fetch it from its URLs into the cache when absent (where a network is available).

    Raises
    ------
    toolkit.weights.UnknownWeightsError
        ``name`` is not an external entry.
    toolkit.weights.WeightsNotFoundError
        The file is not in the cache: the message says where to put it, where it comes from and
        how to register its full hash.
    toolkit.weights.WeightsHashError
        The file does not match the published prefix (or the registered full hash).

    >>> registry_file("geo/places365_resnet18")  # doctest: +SKIP
    PosixPath('/home/me/.cache/forensics-toolkit/weights/resnet18_places365.pth.tar')
    """
    s = external(name)
    if name in weights.available():  # registered with a full hash by the user: the normal route
        return weights.path(name, download=download)
    where = weights.cache_dir() / s.filename
    if where.is_file():
        return _check_prefix(where, s)
    errors: list[str] = []
    if download and s.urls:
        got, errors = _download(s, where)
        if got is not None:
            return got
    raise _not_found(s, where, errors)


def load_state_dict(name: str, *, download: bool = False) -> dict:
    """The tensors of an external ``"state_dict"`` checkpoint (torchvision / Places365), on the CPU.

    Found by :func:`registry_file` (user cache only) and read with ``torch.load(...,
    weights_only=True)``; a ``{"state_dict": ...}`` wrapper (Places365 release) is unwrapped and a
    ``module.`` prefix (``DataParallel``) removed.

    Raises ``WeightsNotFoundError`` / ``WeightsHashError`` (see :func:`registry_file`) and
    ``toolkit.weights.WeightsFormatError`` for a file that is not a plain tensor dict.

    >>> sd = load_state_dict("geo/imagenet_resnet18")  # doctest: +SKIP
    >>> sd["fc.weight"].shape  # doctest: +SKIP
    torch.Size([1000, 512])
    """
    s = external(name)
    if s.content != "state_dict":
        raise ValueError(f"{name!r} is a {KINDS.get(s.content, s.content)} checkpoint: load it with load()")
    return weights.load_state_dict(registry_file(name, download=download))


def _is_path_like(value: str) -> bool:
    p = Path(value)
    return bool(p.suffix) or value.startswith((".", "/", "~")) or os.sep != "/" and os.sep in value


def load(name_or_path: str | os.PathLike, *, kind: str, device: str = "auto"):
    """A geolocation model of ``kind`` through :func:`toolkit.weights.load` (eval mode, on ``device``).

    ``name_or_path`` is resolved without ever looking in the current folder for a name:

    1. a name registered in :mod:`toolkit.weights` (``"geo/country_demo"``): the registry, hash checked;
    2. an :data:`EXTERNAL` name (``"geo/vippgeo_resnet101"``): :func:`registry_file` (user cache);
    3. anything else must be an existing checkpoint file (``weights_only=True``).

    Parameters
    ----------
    name_or_path : registry name, external name or checkpoint path.
    kind : ``"geo.country"`` or ``"geo.city"``.
    device : ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Raises
    ------
    toolkit.weights.UnknownWeightsError
        A name that is neither registered nor external (and not an existing file).
    toolkit.weights.WeightsNotFoundError
        A registered/external file that is missing, or a checkpoint path that does not exist.
    toolkit.weights.WeightsFormatError
        A file that is not a toolkit checkpoint of ``kind``.

    >>> load("geo/country_demo", kind="geo.country", device="cpu").arch
    'tiny'
    >>> load("geo/no_such_model", kind="geo.country")
    Traceback (most recent call last):
    ...
    toolkit.weights.UnknownWeightsError: no geolocation weights named 'geo/no_such_model' ...
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    what = KINDS[kind]
    label = None
    if isinstance(name_or_path, str) and name_or_path in weights.available():
        target = name_or_path
    elif isinstance(name_or_path, str) and name_or_path in EXTERNAL:
        s = EXTERNAL[name_or_path]
        if s.content != kind:
            raise weights.WeightsFormatError(
                f"{name_or_path!r} holds {s.card.split('.')[0]}, not a {what} checkpoint"
            )
        target, label = registry_file(name_or_path), name_or_path
    elif isinstance(name_or_path, (str, os.PathLike)):
        target = Path(name_or_path).expanduser()
        if not target.is_file():
            if isinstance(name_or_path, str) and not _is_path_like(name_or_path):
                names = sorted(n for n in weights.available() if n.startswith("geo/")) + sorted(EXTERNAL)
                raise weights.UnknownWeightsError(
                    f"no geolocation weights named {name_or_path!r} (and no such checkpoint file); "
                    f"known names: {', '.join(names)}"
                )
            raise weights.WeightsNotFoundError(f"no {what} checkpoint at {str(target)!r}")
        label = str(target)
    else:
        raise TypeError(f"expected a weights name or a checkpoint path, got {type(name_or_path).__name__}")
    try:
        model = weights.load(target, device=device, kind=kind)
    except weights.WeightsFormatError as e:
        raise weights.WeightsFormatError(f"{target} is not a {what} checkpoint: {e}") from None
    if label is not None and not getattr(model, "weights_name", None):
        model.weights_file = label
    return model
