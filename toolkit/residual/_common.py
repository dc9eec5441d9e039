"""Pieces shared by the residual and F-SVM packages: array-like results and model-name look-up.

* :class:`ArrayLike` — mixin that lets a frozen :class:`~toolkit.result.Result`
  whose content is one array (a heat map, a footprint) behave like that array:
  ``np.asarray(r)``, ``r.shape``, ``r[i, j]``, ``len(r)``, arithmetic and
  comparisons (plain ``ndarray`` out), and the usual reductions (``r.max()``).
* :func:`load_registered` — a method's ``load_model``: short name, registry name
  or checkpoint file, through :func:`toolkit.weights.load`.

>>> import numpy as np
>>> from dataclasses import dataclass
>>> from toolkit.result import Result
>>> @dataclass(frozen=True, eq=False)
... class Grid(ArrayLike, Result):
...     method = "demo.grid"
...     values: np.ndarray = None
>>> g = Grid(np.arange(6.0).reshape(2, 3))
>>> g.shape, float(g.max()), (g * 2)[1, 2], np.asarray(g).dtype
((2, 3), 5.0, np.float64(10.0), dtype('float64'))
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["ArrayLike", "load_registered", "registry_name"]

#: ndarray methods and attributes a result forwards to its array (read-only ones)
_FORWARDED = frozenset(
    {
        "dtype",
        "ndim",
        "size",
        "T",
        "sum",
        "min",
        "max",
        "std",
        "var",
        "any",
        "all",
        "argmax",
        "argmin",
        "cumsum",
        "round",
        "clip",
        "reshape",
        "ravel",
        "flatten",
        "copy",
        "astype",
        "tolist",
        "nonzero",
        "item",
    }
)


class ArrayLike(NDArrayOperatorsMixin):
    """Array behaviour for a frozen result whose main content is the array field ``values``.

    The array is stored read-only (the result is frozen); operators, ufuncs and
    forwarded methods return plain ``ndarray`` values. Put the mixin *before*
    :class:`~toolkit.result.Result` and declare the dataclass with ``eq=False``
    (``==`` is then element-wise, as for an array).
    """

    #: name of the field that holds the array
    _array_field: ClassVar[str] = "values"

    def __post_init__(self):
        a = np.array(getattr(self, self._array_field), dtype=np.float64)  # own copy
        a.flags.writeable = False
        object.__setattr__(self, self._array_field, a)

    def _array(self) -> np.ndarray:
        return self.__dict__[self._array_field]

    def __array__(self, dtype=None, copy=None):
        a = self._array()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(o, ArrayLike) for o in kwargs.get("out", ())):
            return NotImplemented  # a frozen result is never written into
        inputs = tuple(x._array() if isinstance(x, ArrayLike) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    @property
    def shape(self) -> tuple:
        """Shape of the array."""
        return self._array().shape

    def __len__(self) -> int:
        return len(self._array())

    def __getitem__(self, index):
        return self._array()[index]

    def __iter__(self):
        return iter(self._array())

    def mean(self, *args, **kwargs):
        """Mean of the array (as ``ndarray.mean``)."""
        return self._array().mean(*args, **kwargs)

    def __getattr__(self, name):
        # only reached when normal look-up fails: forward a few read-only ndarray members
        if name in _FORWARDED and self._array_field in self.__dict__:
            return getattr(self._array(), name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def registry_name(name: str, prefix: str) -> str | None:
    """The registered weights name that ``name`` means: itself or ``prefix/name`` (None when neither).

    >>> registry_name("codec", "focal"), registry_name("focal/codec", "focal"), registry_name("x", "focal")
    ('focal/codec', 'focal/codec', None)
    """
    from toolkit import weights

    known = set(weights.available())
    for candidate in (name, f"{prefix}/{name}"):
        if candidate in known:
            return candidate
    return None


def load_registered(name_or_path, prefix: str, kind: str):
    """Model from a short name (``prefix/name``), a registry name or a checkpoint file.

    Registry names are looked up first (never through the current directory);
    a string that names no registered weights is read as a file only when it
    looks like one (``.pt`` suffix or a folder in it); otherwise
    :class:`toolkit.weights.UnknownWeightsError` lists the known names.

    >>> load_registered("no-such-model", "residual", "residual.svm")
    Traceback (most recent call last):
    ...
    toolkit.weights.UnknownWeightsError: no weights registered under 'residual/no-such-model'; known: ...
    """
    from toolkit import weights

    if isinstance(name_or_path, os.PathLike):
        return weights.load(Path(name_or_path), device="cpu", kind=kind)
    if not isinstance(name_or_path, str):
        raise TypeError(f"expected a model name or a checkpoint path, got {type(name_or_path).__name__}")
    name = registry_name(name_or_path, prefix)
    if name is not None:
        return weights.load(name, device="cpu", kind=kind)
    looks_like_file = name_or_path.endswith(".pt") or (
        os.sep in name_or_path and not name_or_path.startswith(prefix + "/")
    )
    if looks_like_file:
        return weights.load(Path(name_or_path), device="cpu", kind=kind)
    full = name_or_path if name_or_path.startswith(prefix + "/") else f"{prefix}/{name_or_path}"
    weights.spec(full)  # raises UnknownWeightsError listing the known names
    raise AssertionError("unreachable")  # pragma: no cover
