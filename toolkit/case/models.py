"""Models of a case: loaded once per process (per Dask worker), handed to the methods.

:func:`get_model` turns a weights name (``"fsvm/simulated"``, ``"focal/codec"``, a short name a
method knows such as ``"codec"``) or a checkpoint file into the model, through
:func:`toolkit.weights.load` and a per-process cache; a model object passes through.
:func:`method_models` gives the ``model=`` / ``models=`` argument of one method: the caller's
model, else the method's own default weights (its registry entry's ``default_model``,
:mod:`toolkit.methods`) from the same cache, so that a case of a thousand files loads every
network once. Which parameter takes the model and of which checkpoint kind also comes from the
registry entry (``model_param``, ``model_kind``).

>>> get_model("focal/codec") is get_model("focal/codec")
True
>>> get_model("codec", kind="focal", prefix="focal").weights_name
'focal/codec'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from toolkit.result import json_safe

__all__ = [
    "get_model",
    "method_models",
    "model_ref",
    "describe_params",
    "collect_models",
    "clear_cache",
]

#: the patch window the shipped residual model was trained on (another window: the method picks)
_RESIDUAL_WINDOW = 128


@lru_cache(maxsize=32)
def _load_registered(name: str, device: str):
    from toolkit import weights

    return weights.load(name, device=device)


@lru_cache(maxsize=32)
def _load_file(file: str, mtime_ns: int, size: int, device: str):
    from toolkit import weights

    return weights.load(Path(file), device=device)


def _checked(model, source, kind: str | None):
    """``model`` when its checkpoint (``source``) is of ``kind``; ``WeightsFormatError`` if not.

    :func:`toolkit.weights.load` records the kind on the model (``weights_kind``), so a cached
    model is checked without reading its file again.
    """
    loaded = getattr(model, "weights_kind", kind)
    if kind is not None and loaded != kind:
        from toolkit import weights

        raise weights.WeightsFormatError(f"{source} holds a {loaded!r} checkpoint, not {kind!r}")
    return model


def clear_cache() -> None:
    """Forget the models loaded by this process.

    >>> clear_cache()
    """
    _load_registered.cache_clear()
    _load_file.cache_clear()


def get_model(spec, *, kind: str | None = None, prefix: str | None = None, device: str = "auto"):
    """The model ``spec`` names, loaded once per process (cache keyed on the registry name and
    device, or the file's path, size, mtime and device; its checkpoint kind checked on each call).

    Parameters
    ----------
    spec : a registry name (``"fsvm/simulated"``), a short name under ``prefix`` (``"codec"``
        with ``prefix="focal"``), a checkpoint file, a mapping of those (FOCAL's
        ``{"codec": ..., "quality": ...}``), a model object (returned as is), or ``None``.
        A string that names no registered weights and no file is returned unchanged: the
        method resolves it (and raises its own typed error).
    kind : the checkpoint kind expected (:func:`toolkit.weights.load`).
    prefix : the short-name prefix (``"focal"``, ``"residual"``, ``"fsvm"``, ``"geo"``).
    device : ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    >>> get_model("fsvm/simulated").weights_name
    'fsvm/simulated'
    >>> get_model("no/such/name")
    'no/such/name'
    """
    if spec is None:
        return None
    if isinstance(device, str) and device == "auto":
        from toolkit._util import resolve_device

        device = str(resolve_device(device))
    if isinstance(spec, Mapping):
        return {k: get_model(v, kind=kind, prefix=prefix, device=device) for k, v in spec.items()}
    if isinstance(spec, str):
        from toolkit import weights

        name = (
            weights.registry_name(spec, prefix) if prefix else (spec if spec in weights.available() else None)
        )
        if name is not None:
            return _checked(_load_registered(name, device), name, kind)
    if isinstance(spec, (str, os.PathLike)):
        p = Path(spec).expanduser()
        if p.is_file():
            st = p.stat()
            model = _load_file(str(p.absolute()), st.st_mtime_ns, st.st_size, device)
            return _checked(model, p.absolute(), kind)
        return os.fspath(spec) if isinstance(spec, str) else spec
    return spec


def method_models(name: str, params: Mapping, models: Mapping | None = None) -> dict:
    """The model argument(s) method ``name`` runs with in a case, loaded through :func:`get_model`.

    The caller's ``models[name]`` first, else a model named in ``params`` (``model=`` /
    ``models=``), else the method's default weights (``toolkit.methods.get(name).default_model``);
    ``{}`` for a method that takes no model. ``ValueError`` when ``models`` gives one to such a method.

    >>> sorted(method_models("focal.temporal", {}))
    ['models']
    >>> method_models("vpf", {})
    {}
    """
    from toolkit import methods

    entry = methods.get(name)
    param = entry.model_param
    given = models is not None and name in models
    if param is None:
        if given:
            raise ValueError(f"method {name!r} takes no model (models= names one for it)")
        return {}
    if given:
        spec = models[name]
    elif param in params:
        spec = params[param]
    elif name == "residual.heatmap" and int(params.get("window", _RESIDUAL_WINDOW)) != _RESIDUAL_WINDOW:
        return {}  # the shipped model is for 128-pixel windows: the method picks one for this window
    else:
        spec = entry.default_model
    if spec is None:
        return {}
    if param == "models" and not isinstance(spec, Mapping):
        raise ValueError(
            f"method {name!r} takes a mapping of models ({{'codec': ..., 'quality': ...}}), "
            f"got {type(spec).__name__}"
        )
    return {param: get_model(spec, kind=entry.model_kind, prefix=entry.model_prefix)}


def model_ref(model) -> dict | str:
    """How a model is named in a record: ``{'weights_name', 'weights_sha256'}`` of a model loaded
    from weights, a plain value as itself, else ``{'object': class name}``.

    >>> model_ref(get_model("fsvm/simulated"))["weights_name"]
    'fsvm/simulated'
    """
    if model is None or isinstance(model, (str, int, float, bool, os.PathLike)):
        return json_safe(model)
    ref = {
        "weights_name": getattr(model, "weights_name", None),
        "weights_sha256": getattr(model, "weights_sha256", None),
    }
    if ref["weights_name"] is None and ref["weights_sha256"] is None:
        ref = {"object": type(model).__name__}
        file = getattr(model, "weights_file", None)
        if file:
            ref["weights_file"] = str(file)
    return ref


def _plain(value) -> bool:
    import numpy as np

    return value is None or isinstance(value, (str, int, float, bool, np.number, np.ndarray, os.PathLike))


def describe_params(params: Mapping) -> dict:
    """``params`` as JSON-safe data, model objects replaced by :func:`model_ref`.

    >>> describe_params({"count": 8, "model": get_model("focal/codec")})["model"]["weights_name"]
    'focal/codec'
    """

    def walk(v):
        if isinstance(v, Mapping):
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return json_safe(v) if _plain(v) else model_ref(v)

    return walk(dict(params))


def collect_models(records) -> dict:
    """``{method: {param: ref}}`` of the models the methods of ``records`` (FileRecords) ran with,
    from their params (refs with a ``weights_sha256``, or named objects).

    >>> collect_models([])
    {}
    """
    from toolkit import methods

    params = {name: methods.get(name).model_param for name in methods.names()}
    out: dict[str, dict] = {}
    for rec in records:
        for m in rec.methods:
            param = params.get(m.method)
            if param is None or param not in m.params or m.status != "ok":
                continue
            out.setdefault(m.method, {})
            ref = m.params[param]
            if ref not in out[m.method].values():
                key = param if not out[m.method] else f"{param}#{len(out[m.method]) + 1}"
                out[m.method][key] = ref
    return out
