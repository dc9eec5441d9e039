"""Model weights: one registry, one checkpoint format, one safe loader.

Registry names (``"focal/codec"``) map to a file, its full SHA-256, URLs, the
command that trains it and a model card. A name is looked up, in order, in

1. the weights shipped inside the package (``toolkit/weights/files/``),
2. the user cache (``$TOOLKIT_CACHE/weights`` or ``~/.cache/forensics-toolkit/weights``),
3. the registry's URLs (downloaded into the cache, only when ``download=True``),

and never through the current directory. Every registered file is checked
against its full SHA-256 before it is read, and every checkpoint is read with
``torch.load(..., weights_only=True)``, so a crafted file cannot run code.

* :func:`load` — a model (or a :class:`Checkpoint`) from a registry name or a file;
* :func:`save` — the one checkpoint format: state dict + config + JSON model card;
* :func:`register` / :func:`register_file` — add weights to the registry.

When a file cannot be found or fetched, :class:`WeightsNotFoundError` says
which file it is, where to put it, and which project command trains it.

Example
-------
>>> from toolkit import weights
>>> _ = weights.register(weights.WeightSpec(name="demo", filename="demo.pt",
...     sha256="0" * 64, train_command="python -m toolkit.demo.train"))
>>> "demo" in weights.available()
True
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import urllib.request
from dataclasses import asdict, dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from toolkit._util import resolve_device, sha256_file

__all__ = [
    "WeightSpec",
    "Checkpoint",
    "WeightsNotFoundError",
    "WeightsHashError",
    "WeightsFormatError",
    "UnknownWeightsError",
    "FORMAT",
    "load",
    "load_checkpoint",
    "load_state_dict",
    "load_named",
    "registry_name",
    "fetch_url",
    "save",
    "register",
    "register_builder",
    "spec",
    "available",
    "path",
    "cache_dir",
    "shipped_dir",
    "sha256_file",
    "model_card",
    "register_file",
    "check_json",
    "INDEX_SCHEMA",
]

SHIPPED_DIR = Path(__file__).resolve().parent / "files"


class WeightsNotFoundError(FileNotFoundError):
    """A registered weight file is neither shipped, cached nor downloadable."""


class WeightsHashError(ValueError):
    """A weight file exists but its SHA-256 differs from the registry's."""


class WeightsFormatError(ValueError):
    """A file is not a checkpoint this toolkit can read safely (or not of the expected kind)."""


class UnknownWeightsError(KeyError, ValueError):
    """No weights are registered under a name (a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


#: the checkpoint format written by :func:`save`
FORMAT = "forensics-toolkit.checkpoint/1"

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


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

    def __post_init__(self):
        if (
            not isinstance(self.filename, str)
            or not _PLAIN_NAME.match(self.filename)
            or ".." in self.filename
        ):
            raise ValueError(
                f"weights {self.name!r}: file name {self.filename!r} must be a plain name "
                "(letters, digits, '.', '_', '-'; no folder, no '..', not absolute)"
            )
        if not isinstance(self.sha256, str) or not _HEX64.match(self.sha256):
            raise ValueError(
                f"weights {self.name!r}: a registry entry needs the file's full SHA-256 (64 lowercase hex "
                f"digits), got {self.sha256!r}; a prefix can be forged"
            )

    def to_dict(self) -> dict:
        """The entry as plain JSON types (the shipped index's format)."""
        d = asdict(self)
        d["urls"] = list(self.urls)
        return d


_REGISTRY: dict[str, WeightSpec] = {}


def register(weight_spec: WeightSpec, *, replace: bool = True) -> WeightSpec:
    """Add ``weight_spec`` to the registry (replacing a same-named entry).

    >>> register(WeightSpec(name="doc/x", filename="x.pt", sha256="1" * 64)).name
    'doc/x'
    """
    _load_shipped_index()
    if not replace and weight_spec.name in _REGISTRY:
        raise ValueError(f"weights {weight_spec.name!r} are already registered")
    _REGISTRY[weight_spec.name] = weight_spec
    return weight_spec


def available() -> list[str]:
    """Names of all registered weight files (shipped or not).

    >>> "focal/codec" in available()
    True
    """
    _load_shipped_index()
    return sorted(_REGISTRY)


def spec(name: str) -> WeightSpec:
    """The :class:`WeightSpec` registered under ``name``; :class:`UnknownWeightsError` otherwise.

    >>> spec("focal/codec").filename
    'focal_codec.pt'
    """
    _load_shipped_index()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownWeightsError(
            f"no weights registered under {name!r}; known: {', '.join(sorted(_REGISTRY)) or 'none'}"
        ) from None


def model_card(name: str) -> str:
    """The model card text of the weights ``name``.

    >>> "H.264" in model_card("focal/codec")
    True
    """
    return spec(name).card


def cache_dir() -> Path:
    """User cache folder for weights (``$TOOLKIT_CACHE`` overrides it).

    >>> cache_dir().name
    'weights'
    """
    root = os.environ.get("TOOLKIT_CACHE")
    if root:
        return Path(root).expanduser() / "weights"
    return Path.home() / ".cache" / "forensics-toolkit" / "weights"


def shipped_dir() -> Path:
    """Folder of the weights that ship inside the package.

    >>> (shipped_dir() / "index.json").is_file()
    True
    """
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

    >>> path("focal/codec").name
    'focal_codec.pt'
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


def fetch_url(url: str, dest: str | os.PathLike, check=None) -> Path:
    """Download ``url`` to ``dest`` atomically (a ``.part`` file renamed when complete).

    ``check(tmp_path)`` runs on the downloaded file before it is renamed; an
    exception from it deletes the file and propagates (a hash check, typically).

    >>> fetch_url("http://127.0.0.1:9/x.pt", "/tmp/never-written.pt")  # doctest: +SKIP
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, suffix=".part") as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                shutil.copyfileobj(resp, tmp)
        except BaseException:
            tmp.close()
            tmp_path.unlink(missing_ok=True)
            raise
    try:
        if check is not None:
            check(tmp_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    tmp_path.replace(dest)
    return dest


def _download(url: str, s: WeightSpec) -> Path:
    return fetch_url(url, cache_dir() / s.filename, check=lambda f: _verify(f, s))


# --- shipped index -------------------------------------------------------------
# Each method that ships weights writes an entry into files/index.json through
# register_file(); the index is read lazily so importing toolkit stays cheap.
_INDEX_LOADED = False


#: JSON schema of ``index.json`` (a list of registry entries, see :class:`WeightSpec`)
INDEX_SCHEMA = {
    "type": "array",
    "maxItems": 10000,
    "items": {
        "type": "object",
        "required": ["name", "filename", "sha256"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "filename": {"type": "string", "minLength": 1, "maxLength": 255},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "urls": {"type": "array", "items": {"type": "string", "maxLength": 2000}, "maxItems": 20},
            "train_command": {"type": "string"},
            "card": {"type": "string"},
            "size_bytes": {"type": ["integer", "null"], "minimum": 0},
            "extra": {"type": "object"},
        },
    },
}

#: deepest nesting :func:`check_json` accepts in a model's JSON
MAX_JSON_DEPTH = 32


def check_json(value: Any, schema: dict, what: str) -> Any:
    """``value`` itself when it is plain JSON data that matches ``schema`` (a JSON schema, checked
    with ``jsonschema``), nested at most :data:`MAX_JSON_DEPTH` deep and holding only finite
    numbers; :class:`WeightsFormatError` (a ``ValueError``) saying ``what`` is wrong otherwise.

    >>> check_json({"n": 3}, {"type": "object", "properties": {"n": {"type": "integer"}}}, "cfg")
    {'n': 3}
    >>> check_json({"n": float("nan")}, {"type": "object"}, "cfg")
    Traceback (most recent call last):
    ...
    toolkit.weights.WeightsFormatError: cfg: n is nan; only finite numbers are accepted
    """
    import math

    import jsonschema

    stack = [(value, 1, "")]
    while stack:  # iterative: a hostile file must not reach Python's recursion limit
        v, depth, where = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise WeightsFormatError(
                f"{what}: nested more than {MAX_JSON_DEPTH} levels deep (at {where or 'top'})"
            )
        if isinstance(v, float) and not math.isfinite(v):
            raise WeightsFormatError(
                f"{what}: {where or 'the value'} is {v}; only finite numbers are accepted"
            )
        if isinstance(v, dict):
            stack += [(x, depth + 1, f"{where}.{k}" if where else str(k)) for k, x in v.items()]
        elif isinstance(v, (list, tuple)):
            stack += [(x, depth + 1, f"{where}[{i}]") for i, x in enumerate(v)]
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "the top level"
        raise WeightsFormatError(f"{what}: at {where}: {error.message[:300]}")
    return value


def _read_index(index: Path) -> list[WeightSpec]:
    if not index.is_file():
        return []
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise WeightsFormatError(f"the weights index {index} is not valid JSON ({e})") from None
    check_json(entries, INDEX_SCHEMA, f"the weights index {index}")
    specs = []
    for entry in entries:
        entry["urls"] = tuple(entry.get("urls", ()))
        try:
            specs.append(WeightSpec(**entry))
        except (TypeError, ValueError) as e:
            raise WeightsFormatError(f"the weights index {index} has an invalid entry: {e}") from None
    return specs


def _write_index(index: Path, s: WeightSpec) -> None:
    entries = [e.to_dict() for e in _read_index(index) if e.name != s.name] + [s.to_dict()]
    entries.sort(key=lambda e: e["name"])
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(entries, indent=2) + "\n")


def _load_shipped_index() -> None:
    """Read the shipped index, then the user cache's (``register_file(..., ship=False)``); shipped wins."""
    global _INDEX_LOADED
    if _INDEX_LOADED:
        return
    _INDEX_LOADED = True
    for index in (SHIPPED_DIR / "index.json", cache_dir() / "index.json"):
        for s in _read_index(index):
            _REGISTRY.setdefault(s.name, s)


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

    Used by the training scripts: copies ``file`` into the shipped folder
    (or, ``ship=False``, the user cache), computes its SHA-256 and writes the
    entry (with the model card) into that folder's ``index.json``, so that
    later processes find it.

    >>> register_file("doc/cached", "model.pt", train_command="cmd", card="...", ship=False)  # doctest: +SKIP
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
    _write_index((SHIPPED_DIR if ship else cache_dir()) / "index.json", s)
    return s


# --- the checkpoint format and the one loader ----------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read by :func:`load_checkpoint`.

    Attributes
    ----------
    kind : what the state dict belongs to (``"focal"``, ``"geo.country"``, ...).
    state_dict : tensor name -> tensor (CPU).
    config : what rebuilds the model (architecture, class names, ...), plain JSON types.
    card : model card (plain JSON types: data seen, training, measured figures).
    extra : anything else saved beside (optimizer state for resuming training, ...).
    file : the file read; sha256 : its SHA-256; name : the registry name, or None.
    """

    kind: str
    state_dict: dict
    config: dict
    card: dict
    extra: dict
    file: str
    sha256: str
    name: str | None = None


_BUILDERS: dict[str, str] = {}


def register_builder(kind: str, target: str) -> None:
    """Say which function builds a model from a :class:`Checkpoint` of ``kind``.

    ``target`` is ``"module:function"``, imported when first needed (so this
    module imports no method package).

    >>> register_builder("doc.kind", "toolkit.doc:build")
    """
    if ":" not in target:
        raise ValueError(f"builder target must be 'module:function', got {target!r}")
    _BUILDERS[kind] = target


register_builder("focal", "toolkit.focal.model:from_checkpoint")
register_builder("geo.country", "toolkit.geo.country:from_checkpoint")
register_builder("geo.city", "toolkit.geo.city:from_checkpoint")
register_builder("residual.svm", "toolkit.residual.svm:from_checkpoint")
register_builder("fsvm", "toolkit.fsvm.model:from_checkpoint")
register_builder("ldptop", "toolkit.ldptop.ensemble:from_checkpoint")
register_builder("framecls", "toolkit.framecls.core:from_checkpoint")
register_builder("faces.fcn", "toolkit.faces.model:from_checkpoint")
register_builder("faces.mtcnn", "toolkit.faces.mtcnn:from_checkpoint")


def _resolve(name_or_path, *, download: bool) -> tuple[Path, str, str | None]:
    """(file, sha256, registry name) — a registered name first, then an explicit file path."""
    if isinstance(name_or_path, str):
        _load_shipped_index()
        if name_or_path in _REGISTRY:
            file = path(name_or_path, download=download, verify=False)
            digest = sha256_file(file)
            _verify_digest(file, digest, _REGISTRY[name_or_path])
            return file, digest, name_or_path
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"expected a registry name or a checkpoint path, got {type(name_or_path).__name__}")
    p = Path(name_or_path).expanduser()
    if not p.is_file():
        raise WeightsNotFoundError(
            f"{str(name_or_path)!r} is neither a registered weights name nor a checkpoint file. "
            f"Registered names: {', '.join(available()) or 'none'}."
        )
    return p, sha256_file(p), None


def _verify_digest(file: Path, digest: str, s: WeightSpec) -> None:
    if digest != s.sha256:
        raise WeightsHashError(
            f"weights file {file} has SHA-256 {digest}, but the registry expects {s.sha256} "
            f"for {s.name!r}: the file is corrupt, from another version, or not what it claims; "
            "it was not loaded. Delete it and retrain/download it "
            f"({s.train_command or 'see the model card'})."
        )


def load_state_dict(file: str | os.PathLike) -> dict:
    """A plain dict of tensors from a checkpoint file someone else wrote (torchvision, Places365),
    read with ``torch.load(..., weights_only=True)``.

    A ``{"state_dict": ...}`` wrapper is unwrapped and a ``module.`` prefix
    (``DataParallel``) removed. :class:`WeightsFormatError` for anything else.

    >>> import torch, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sd.pt"
    >>> torch.save({"module.w": torch.zeros(2)}, f)
    >>> list(load_state_dict(f))
    ['w']
    """
    file = Path(file)
    sd = _torch_load(file)
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(hasattr(v, "shape") for v in sd.values()):
        raise WeightsFormatError(f"{file} does not hold a state dict of tensors")
    return {str(k).removeprefix("module."): v for k, v in sd.items()}


def _torch_load(file: Path) -> Any:
    import torch

    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError, EOFError, BadZipFile, RuntimeError, KeyError, ... all mean
        # "not a readable checkpoint"; none may escape raw
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WeightsFormatError(
            f"{file} cannot be read safely as a checkpoint (torch.load with weights_only=True refused it: "
            f"{first}). It may be corrupt, or a pickle that would run code; it was not loaded."
        ) from None


def load_checkpoint(
    name_or_path: str | os.PathLike, *, kind: str | None = None, download: bool = False
) -> Checkpoint:
    """Read a checkpoint safely: registry name (hash checked first) or file path, ``weights_only=True``.

    Parameters
    ----------
    name_or_path : registry name (``"focal/codec"``) or a checkpoint file.
    kind : expected kind; another kind raises :class:`WeightsFormatError`.
    download : fetch a registered file from its URLs when it is not local.

    Raises
    ------
    WeightsNotFoundError, WeightsHashError, WeightsFormatError

    >>> load_checkpoint("focal/codec").config["classes"]
    ['mpeg2', 'mpeg4', 'h264', 'h265']
    """
    file, digest, name = _resolve(name_or_path, download=download)
    ck = _torch_load(file)
    if not isinstance(ck, dict) or ck.get("format") != FORMAT or not isinstance(ck.get("state_dict"), dict):
        raise WeightsFormatError(
            f"{file} is not a checkpoint written by toolkit.weights.save (format {FORMAT!r})"
        )
    if not isinstance(ck.get("kind"), str):
        raise WeightsFormatError(f"{file}: the checkpoint's kind is {ck.get('kind')!r}, not a name")
    if kind is not None and ck.get("kind") != kind:
        raise WeightsFormatError(f"{file} holds a {ck.get('kind')!r} checkpoint, not {kind!r}")
    bad = [k for k, v in ck["state_dict"].items() if not isinstance(k, str) or not hasattr(v, "shape")]
    if bad:
        raise WeightsFormatError(
            f"{file}: the state dict holds entries that are not named tensors: {bad[:3]}"
        )
    extra = ck.get("extra", {})
    if not isinstance(extra, dict):
        raise WeightsFormatError(f"{file}: the checkpoint's extra is a {type(extra).__name__}, not a dict")
    return Checkpoint(
        kind=ck["kind"],
        state_dict=ck["state_dict"],
        config=_json_field(file, ck, "config"),
        card=_json_field(file, ck, "card"),
        extra=dict(extra),
        file=str(file),
        sha256=digest,
        name=name,
    )


def _no_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def _json_field(file: Path, ck: dict, key: str) -> dict:
    """``config`` / ``card`` of a checkpoint: JSON text (or a dict) holding a JSON object."""
    value = ck.get(key, "{}")
    if isinstance(value, str):
        try:  # strict JSON: save() never writes NaN / Infinity (json_safe turns them into null)
            value = json.loads(value, parse_constant=_no_constant)
        except (ValueError, RecursionError) as e:
            raise WeightsFormatError(f"{file}: the checkpoint's {key} is not valid JSON ({e})") from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise WeightsFormatError(
            f"{file}: the checkpoint's {key} must be a JSON object, got {type(value).__name__}"
        )
    return dict(value)


def load(
    name_or_path: str | os.PathLike, device: str = "auto", *, kind: str | None = None, download: bool = False
):
    """The model of a checkpoint, built, on ``device`` and in eval mode.

    The model gets ``weights_name`` (registry name or None), ``weights_sha256``,
    ``weights_kind`` and ``card`` attributes, for results' ``params``.

    Parameters
    ----------
    name_or_path : registry name or checkpoint file (see :func:`load_checkpoint`).
    device : ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    kind : expected kind (optional).

    >>> net = load("focal/codec", device="cpu")
    >>> net.classes, len(net.weights_sha256)
    (('mpeg2', 'mpeg4', 'h264', 'h265'), 64)
    """
    ck = load_checkpoint(name_or_path, kind=kind, download=download)
    target = _BUILDERS.get(ck.kind)
    if target is None:
        raise WeightsFormatError(f"{ck.file}: no builder is registered for checkpoint kind {ck.kind!r}")
    module, func = target.split(":")
    builder = getattr(import_module(module), func)
    try:
        model = builder(ck)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as e:
        # a checkpoint of the right kind whose config or tensors do not fit the model class
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise WeightsFormatError(
            f"{ck.file}: this {ck.kind!r} checkpoint does not build its model "
            f"({type(e).__name__}: {first[:300]}); it is corrupt, from another version or not what it claims"
        ) from None
    if hasattr(model, "to") and hasattr(model, "eval"):
        model = model.to(resolve_device(device)).eval()
    named = (
        ("weights_name", ck.name),
        ("weights_sha256", ck.sha256),
        ("weights_kind", ck.kind),
        ("card", ck.card),
    )
    for attr, value in named:
        try:
            setattr(model, attr, value)
        except AttributeError:
            pass
    return model


def save(
    model_or_state,
    file: str | os.PathLike,
    *,
    kind: str,
    config: dict | None = None,
    card: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """Write the one checkpoint format: ``{format, kind, state_dict, config, card, extra}``.

    ``model_or_state`` is a ``torch.nn.Module`` or a state dict of tensors.
    ``config`` and ``card`` must be plain JSON types (they are stored as JSON
    text); ``extra`` holds tensors / plain types only (e.g. an optimizer's
    state dict), so that :func:`load_checkpoint` reads it with ``weights_only=True``.
    The parent folder is created; the file is written atomically.

    >>> import torch, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "lin.pt"
    >>> _ = save(torch.nn.Linear(2, 1), f, kind="doc.linear", config={"in": 2})
    >>> load_checkpoint(f).config
    {'in': 2}
    """
    import torch

    from toolkit.result import json_safe

    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else dict(model_or_state)
    state = {k: v.detach().cpu() if hasattr(v, "detach") else v for k, v in state.items()}
    payload = {
        "format": FORMAT,
        "kind": str(kind),
        "state_dict": state,
        "config": json.dumps(json_safe(config or {})),
        "card": json.dumps(json_safe(card or {})),
        "extra": dict(extra or {}),
    }
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=file.parent, delete=False, suffix=".tmp") as tmp:
        torch.save(payload, tmp)
    Path(tmp.name).replace(file)
    return file


# --- short method names ------------------------------------------------------------
def registry_name(name: str, prefix: str) -> str | None:
    """The registered weights name that ``name`` means: itself or ``prefix/name`` (None when neither).

    >>> registry_name("codec", "focal"), registry_name("focal/codec", "focal"), registry_name("x", "focal")
    ('focal/codec', 'focal/codec', None)
    """
    known = set(available())
    for candidate in (name, f"{prefix}/{name}"):
        if candidate in known:
            return candidate
    return None


def load_named(name_or_path: str | os.PathLike, prefix: str, kind: str, device: str = "cpu"):
    """Model from a short name (``prefix/name``), a registry name or a checkpoint file.

    Registry names are looked up first (never through the current directory);
    a string that names no registered weights is read as a file only when it
    looks like one (``.pt`` suffix or a folder in it); otherwise
    :class:`toolkit.weights.UnknownWeightsError` lists the known names.

    >>> load_named("no-such-model", "residual", "residual.svm")
    Traceback (most recent call last):
    ...
    toolkit.weights.UnknownWeightsError: no weights registered under 'residual/no-such-model'; known: ...
    """
    if isinstance(name_or_path, os.PathLike):
        return load(Path(name_or_path), device=device, kind=kind)
    if not isinstance(name_or_path, str):
        raise TypeError(f"expected a model name or a checkpoint path, got {type(name_or_path).__name__}")
    name = registry_name(name_or_path, prefix)
    if name is not None:
        return load(name, device=device, kind=kind)
    looks_like_file = name_or_path.endswith(".pt") or (
        os.sep in name_or_path and not name_or_path.startswith(prefix + "/")
    )
    if looks_like_file:
        return load(Path(name_or_path), device=device, kind=kind)
    full = name_or_path if name_or_path.startswith(prefix + "/") else f"{prefix}/{name_or_path}"
    spec(full)  # raises UnknownWeightsError listing the known names
    raise AssertionError("unreachable")  # pragma: no cover
