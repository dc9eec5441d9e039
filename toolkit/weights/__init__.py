"""Registry of model weight files: name -> file, SHA-256, URLs, model card.

Weights are looked up, in order, in

1. the weights shipped inside the package (``toolkit/weights/files/``),
2. the user cache (``$TOOLKIT_CACHE`` or ``~/.cache/forensics-toolkit/weights``),
3. the registry's URLs (downloaded into the cache, only when ``download=True``).

Every file is checked against its SHA-256 before it is used. When a file
cannot be found or fetched, :class:`WeightsNotFoundError` says which file it
is, where to put it, and which project command trains it.

Example
-------
>>> from toolkit import weights
>>> weights.register(weights.WeightSpec(name="demo", filename="demo.pt",
...     sha256="0" * 64, train_command="python -m toolkit.demo.train"))
>>> "demo" in weights.available()
True
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from toolkit._util import sha256_file

__all__ = [
    "WeightSpec",
    "WeightsNotFoundError",
    "WeightsHashError",
    "register",
    "spec",
    "available",
    "path",
    "cache_dir",
    "shipped_dir",
    "sha256_file",
    "model_card",
    "register_file",
]

SHIPPED_DIR = Path(__file__).resolve().parent / "files"


class WeightsNotFoundError(FileNotFoundError):
    """A registered weight file is neither shipped, cached nor downloadable."""


class WeightsHashError(ValueError):
    """A weight file exists but its SHA-256 differs from the registry's."""


@dataclass(frozen=True)
class WeightSpec:
    """One registered weight file.

    Attributes
    ----------
    name : registry key, e.g. ``"focal/codec"``.
    filename : file name inside the shipped folder or the cache.
    sha256 : expected hex digest of the file.
    urls : where the file can be downloaded from (may be empty).
    train_command : the project's command that reproduces the file.
    card : model card text (data seen, epochs, measured accuracy).
    size_bytes : size of the file, for information.
    """

    name: str
    filename: str
    sha256: str
    urls: tuple[str, ...] = ()
    train_command: str = ""
    card: str = ""
    size_bytes: int | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


_REGISTRY: dict[str, WeightSpec] = {}


def register(weight_spec: WeightSpec, *, replace: bool = True) -> WeightSpec:
    """Add ``weight_spec`` to the registry (replacing a same-named entry)."""
    if not replace and weight_spec.name in _REGISTRY:
        raise ValueError(f"weights {weight_spec.name!r} are already registered")
    _REGISTRY[weight_spec.name] = weight_spec
    return weight_spec


def available() -> list[str]:
    """Names of all registered weight files (shipped or not)."""
    _load_shipped_index()
    return sorted(_REGISTRY)


def spec(name: str) -> WeightSpec:
    """The :class:`WeightSpec` registered under ``name``."""
    _load_shipped_index()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"no weights registered under {name!r}; known: {', '.join(sorted(_REGISTRY)) or 'none'}"
        ) from None


def model_card(name: str) -> str:
    """The model card text of the weights ``name``."""
    return spec(name).card


def cache_dir() -> Path:
    """User cache folder for weights (``$TOOLKIT_CACHE`` overrides it)."""
    root = os.environ.get("TOOLKIT_CACHE")
    if root:
        return Path(root).expanduser() / "weights"
    return Path.home() / ".cache" / "forensics-toolkit" / "weights"


def shipped_dir() -> Path:
    """Folder of the weights that ship inside the package."""
    return SHIPPED_DIR


def _not_found_message(s: WeightSpec, tried: list[str]) -> str:
    lines = [
        f"weights {s.name!r} (file {s.filename!r}, sha256 {s.sha256[:12]}...) were not found.",
        "Looked in: " + "; ".join(tried) + ".",
        f"Put the file at {cache_dir() / s.filename} (or set TOOLKIT_CACHE to a folder "
        f"holding weights/{s.filename}).",
    ]
    if s.urls:
        lines.append("It can be downloaded from: " + ", ".join(s.urls) + " (call with download=True).")
    if s.train_command:
        lines.append(f"Or train it with the project's own script: {s.train_command}")
    return "\n".join(lines)


def _verify(file: Path, s: WeightSpec) -> Path:
    digest = sha256_file(file)
    if digest != s.sha256:
        raise WeightsHashError(
            f"weights file {file} has SHA-256 {digest}, but the registry expects {s.sha256} "
            f"for {s.name!r}: the file is corrupt or from another version; delete it and "
            f"retrain/download it ({s.train_command or 'see the model card'})."
        )
    return file


def path(name: str, *, download: bool = False, verify: bool = True) -> Path:
    """Local path of the weights ``name``, verified against the registry's SHA-256.

    Raises :class:`WeightsNotFoundError` (saying where to put the file and how
    to train it) when the file is missing and cannot be downloaded.

    >>> path("focal/codec")  # doctest: +SKIP
    PosixPath('.../toolkit/weights/files/focal_codec.pt')
    """
    s = spec(name)
    tried = []
    for folder in (SHIPPED_DIR, cache_dir()):
        candidate = folder / s.filename
        tried.append(str(candidate))
        if candidate.is_file():
            return _verify(candidate, s) if verify else candidate
    if download and s.urls:
        errors = []
        for url in s.urls:
            try:
                return _download(url, s)
            except Exception as exc:  # network errors vary by platform
                errors.append(f"{url}: {exc}")
        tried.extend(errors)
    raise WeightsNotFoundError(_not_found_message(s, tried))


def _download(url: str, s: WeightSpec) -> Path:
    dest = cache_dir() / s.filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
        with urllib.request.urlopen(url, timeout=30) as resp:
            shutil.copyfileobj(resp, tmp)
    tmp_path = Path(tmp.name)
    try:
        _verify(tmp_path, s)
    except WeightsHashError:
        tmp_path.unlink(missing_ok=True)
        raise
    tmp_path.replace(dest)
    return dest


# --- shipped index -------------------------------------------------------------
# Each method that ships weights writes an entry into files/index.json through
# register_file(); the index is read lazily so importing toolkit stays cheap.
_INDEX_LOADED = False


def _load_shipped_index() -> None:
    global _INDEX_LOADED
    if _INDEX_LOADED:
        return
    _INDEX_LOADED = True
    index = SHIPPED_DIR / "index.json"
    if index.is_file():
        for entry in json.loads(index.read_text()):
            entry["urls"] = tuple(entry.get("urls", ()))
            _REGISTRY.setdefault(entry["name"], WeightSpec(**entry))


def register_file(
    name: str,
    file: str | os.PathLike,
    *,
    train_command: str,
    card: str,
    urls: tuple[str, ...] = (),
    extra: dict | None = None,
    ship: bool = True,
) -> WeightSpec:
    """Register a freshly trained weight file and (``ship=True``) record it in the shipped index.

    Used by the training scripts: copies ``file`` into the shipped folder,
    computes its SHA-256 and writes the entry (with the model card) into
    ``files/index.json`` so that later sessions find it.
    """
    file = Path(file)
    _load_shipped_index()
    target_dir = SHIPPED_DIR if ship else cache_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    filename = file.name
    dest = target_dir / filename
    if file.resolve() != dest.resolve():
        shutil.copyfile(file, dest)
    s = WeightSpec(
        name=name,
        filename=filename,
        sha256=sha256_file(dest),
        urls=tuple(urls),
        train_command=train_command,
        card=card,
        size_bytes=dest.stat().st_size,
        extra=dict(extra or {}),
    )
    register(s)
    if ship:
        index = SHIPPED_DIR / "index.json"
        entries = json.loads(index.read_text()) if index.is_file() else []
        entries = [e for e in entries if e["name"] != name] + [s.to_dict()]
        entries.sort(key=lambda e: e["name"])
        for e in entries:
            e["urls"] = list(e.get("urls", ()))
        index.write_text(json.dumps(entries, indent=2) + "\n")
    return s
