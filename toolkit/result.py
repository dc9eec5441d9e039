"""The one base of every method's result: :class:`Result`.

A result is a frozen dataclass. Every result carries

* ``path`` — the analysed file (``None`` for an in-memory array),
* ``sha256`` — of the file's bytes, or of an array's bytes + shape + dtype
  (:func:`toolkit._util.input_sha256`),
* ``params`` — every setting used, model names with their weights' SHA-256,
* ``toolkit_version``,

and shows itself: :meth:`~Result.summary` (one line), :meth:`~Result.table`
(pandas), :meth:`~Result.plot` (plotly; folium for maps), ``_repr_html_``
(summary + table + figure, so a bare result in a notebook cell draws itself),
:meth:`~Result.to_dict` / :meth:`~Result.to_json` (JSON-safe; the JSON text
loads back to the same dict).

A method that decides has ``verdict`` (one of :data:`VERDICTS`), ``score``,
``threshold`` and, when inconclusive, ``reason``. Subclasses provide them as
fields or properties; the base class only reads them.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo(Result):
...     method = "demo"
...     value: float = 0.0
>>> r = Demo(value=0.5, sha256="ab" * 32, params={"stride": 8})
>>> r.to_dict()["value"], r.to_dict()["method"]
(0.5, 'demo')
>>> import json; json.loads(r.to_json()) == r.to_dict()
True
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, ClassVar

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from toolkit import __version__

__all__ = [
    "Result",
    "ArrayLike",
    "VERDICTS",
    "POSITIVE_VERDICTS",
    "NOT_DETECTED",
    "INCONCLUSIVE",
    "json_safe",
    "check_verdict",
]

#: verdict of a deciding method that found nothing
NOT_DETECTED = "not_detected"
#: verdict of a method that could not decide (``reason`` says why)
INCONCLUSIVE = "inconclusive"
#: what a deciding method can find
POSITIVE_VERDICTS = ("forged", "double_encoded", "manipulated", "synthetic", "different_city")
#: the fixed vocabulary of ``Result.verdict``
VERDICTS = POSITIVE_VERDICTS + (NOT_DETECTED, INCONCLUSIVE)


def check_verdict(verdict: str | None) -> str | None:
    """``verdict`` itself when it is ``None`` or in :data:`VERDICTS`; ``ValueError`` otherwise.

    >>> check_verdict("forged")
    'forged'
    """
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    return verdict


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types: arrays and tuples to lists, numpy scalars to Python,
    non-finite floats to ``None``, paths to strings, nested results to dicts.

    >>> json_safe({"a": np.arange(3), "b": (1.0, float("nan")), "c": np.float32(2)})
    {'a': [0, 1, 2], 'b': [1.0, None], 'c': 2.0}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        seq = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [json_safe(v) for v in seq]
    if isinstance(value, (PurePath, os.PathLike)):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "to_dict"):
        return json_safe(value.to_dict())
    if hasattr(value, "tolist"):  # torch tensors and other array types
        return json_safe(value.tolist())
    return str(value)


_PLOTLY_JS_SENT = False


def _figure_html(fig) -> str:
    """HTML of a plotly or folium figure for a notebook cell, working offline.

    plotly.js (about 4.7 MB) is inlined in the first figure a process renders
    and reused by later ones on the same page; folium maps render their own
    HTML (see ``toolkit.geo.maps`` for offline assets).
    """
    global _PLOTLY_JS_SENT
    if fig is None:
        return ""
    if hasattr(fig, "to_html") and hasattr(fig, "to_plotly_json"):
        include = not _PLOTLY_JS_SENT
        _PLOTLY_JS_SENT = True
        return fig.to_html(full_html=False, include_plotlyjs=include)
    if hasattr(fig, "_repr_html_"):
        return fig._repr_html_()
    return ""


@dataclass(frozen=True, kw_only=True)
class Result:
    """Base of every method result (frozen dataclass; keyword-only common fields).

    Attributes
    ----------
    path : str or None
        Analysed file, ``None`` for an in-memory array.
    sha256 : str
        SHA-256 of the file, or of the array's bytes + shape + dtype.
    params : dict
        Every setting used (model names with their weights' SHA-256).
    toolkit_version : str
        Version of the toolkit that computed the result.
    """

    #: registry name of the method (``toolkit.methods``), set by each subclass
    method: ClassVar[str] = ""

    path: str | None = None
    sha256: str = ""
    params: dict = field(default_factory=dict)
    toolkit_version: str = __version__

    # --- decision --------------------------------------------------------------
    def decision(self) -> dict:
        """``verdict``, ``score``, ``threshold``, ``reason`` (``None`` where the method does not decide)."""
        out = {}
        for key in ("verdict", "score", "threshold", "reason"):
            v = getattr(self, key, None)
            out[key] = json_safe(v)
        check_verdict(out["verdict"])
        return out

    # --- views -------------------------------------------------------------------
    def summary(self) -> str:
        """One line: the method, its verdict, score and threshold (subclasses add their key number)."""
        d = self.decision()
        name = self.method or type(self).__name__
        where = os.path.basename(self.path) if self.path else "array"
        if d["verdict"] is None:
            return f"{name} on {where}"
        text = f"{name} on {where}: {d['verdict']}"
        if d["score"] is not None:
            text += f" (score {d['score']:.4g}"
            text += f" vs threshold {d['threshold']:.4g})" if d["threshold"] is not None else ")"
        if d["verdict"] == INCONCLUSIVE and d["reason"]:
            text += f" — {d['reason']}"
        return text

    def table(self):
        """pandas table of the result (default: one row per scalar field)."""
        import pandas as pd

        rows = [(k, v) for k, v in self.to_dict().items() if not isinstance(v, (list, dict))]
        return pd.DataFrame(rows, columns=["field", "value"]).set_index("field")

    def plot(self):
        """Figure of the result (plotly; a folium map for geolocation)."""
        raise NotImplementedError(f"{type(self).__name__} has no plot()")

    def to_dict(self) -> dict:
        """JSON-safe dict: ``method``, ``type``, the decision, every field, ``toolkit_version``."""
        out = {"method": self.method, "type": type(self).__name__}
        out.update(self.decision())
        for f in dataclasses.fields(self):
            out[f.name] = json_safe(getattr(self, f.name))
        return out

    def to_json(self, file: str | os.PathLike | None = None, **kwargs) -> str:
        """JSON text of :meth:`to_dict` (strict JSON: no NaN); written to ``file`` when given."""
        kwargs.setdefault("indent", 1)
        text = json.dumps(self.to_dict(), allow_nan=False, **kwargs)
        if file is not None:
            with open(file, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self.summary())}</b></p>"]
        try:
            parts.append(self.table().to_html(max_rows=30, escape=True))
        except Exception as e:  # a view must never hide the result
            parts.append(f"<p>(table unavailable: {html.escape(str(e))})</p>")
        try:
            parts.append(_figure_html(self.plot()))
        except NotImplementedError:
            pass
        except Exception as e:
            parts.append(f"<p>(figure unavailable: {html.escape(str(e))})</p>")
        sha = f"sha256 {self.sha256[:16]}…" if self.sha256 else ""
        foot = html.escape(f"{sha} · toolkit {self.toolkit_version}")  # both may come from a loaded file
        parts.append(f"<p style='color:#666;font-size:90%'>{foot}</p>")
        return "\n".join(parts)


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
    """Array behaviour for a frozen result whose main content is one array field (``values``).

    ``np.asarray(r)``, ``r.shape``, ``r[i, j]``, ``len(r)``, arithmetic and
    comparisons (plain ``ndarray`` out), and the usual reductions (``r.max()``).

    The array is stored read-only (the result is frozen); operators, ufuncs and
    forwarded methods return plain ``ndarray`` values. Put the mixin *before*
    :class:`~toolkit.result.Result` and declare the dataclass with ``eq=False``
    (``==`` is then element-wise, as for an array).

    >>> @dataclass(frozen=True, eq=False)
    ... class Grid(ArrayLike, Result):
    ...     method = "demo.grid"
    ...     values: np.ndarray = None
    >>> g = Grid(np.arange(6.0).reshape(2, 3))
    >>> g.shape, float(g.max()), (g * 2)[1, 2], np.asarray(g).dtype
    ((2, 3), 5.0, np.float64(10.0), dtype('float64'))
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
