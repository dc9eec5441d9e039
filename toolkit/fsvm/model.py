"""F-SVM: a linear SVM (C = 0.1) on the flattened ``3N`` footprint (seed 001, Algorithm 1).

:class:`FSVM` is a scikit-learn estimator: it fits on precomputed footprints
(``n x N x 3`` or ``n x 3N`` arrays, or a :class:`~toolkit.fsvm.data.FootprintSet`)
or on a list of video paths (footprints computed on the fly), so it works in
pipelines, ``cross_val_score`` and grid searches.

The SVM is scikit-learn's ``SVC(kernel="linear")``, i.e. LibSVM like the seed.
After fitting only the hyperplane is kept (``coef_``, ``intercept_``): a
linear decision needs nothing else, which is why the saved model is a few KB.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.concatenate([rng.normal(0.1, 0.02, (4, 5, 3)), rng.normal(0.6, 0.02, (4, 5, 3))])
>>> m = FSVM(n_frames=5).fit(X, [0] * 4 + [1] * 4)
>>> m.predict(X).tolist()
[0, 0, 0, 0, 1, 1, 1, 1]
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

__all__ = ["FSVM", "FSVMResult", "LABEL_NAMES"]

#: label convention of :func:`toolkit.fsvm.load_folder` and the simulator
LABEL_NAMES = {0: "real", 1: "fake"}
_FORMAT = "toolkit.fsvm/1"


@dataclass(frozen=True)
class FSVMResult:
    """Decision of a trained F-SVM on one video.

    ``score`` is the SVM decision value (positive: ``classes[1]``, by the
    toolkit's convention 1 = fake); ``label`` the predicted class,
    ``threshold`` the decision threshold (0), ``footprint`` the
    :class:`~toolkit.fsvm.footprint.Footprint` it was computed from.
    """

    label: object
    label_name: str
    score: float
    threshold: float
    footprint: object
    sha256: str
    path: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "label": _plain(self.label),
            "label_name": self.label_name,
            "score": self.score,
            "threshold": self.threshold,
            "footprint": self.footprint.to_dict(),
            "params": dict(self.params),
        }

    def table(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "video": os.path.basename(self.path),
                    "score": self.score,
                    "threshold": self.threshold,
                    "decision": self.label_name,
                }
            ]
        )

    def plot(self):
        """The video's footprint curves, titled with the decision."""
        return self.footprint.plot(
            title=f"{os.path.basename(self.path)}: {self.label_name} "
            f"(SVM score {self.score:+.3f}, threshold {self.threshold:g})"
        )


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _is_pathlike_seq(X) -> bool:
    return (
        isinstance(X, (list, tuple, np.ndarray))
        and len(X) > 0
        and all(isinstance(x, (str, os.PathLike)) for x in X)
    )


class FSVM(ClassifierMixin, BaseEstimator):
    """Linear-SVM detector on macroblock-mode footprints (seed 001, chapter 5).

    Parameters
    ----------
    C : SVM regularisation (seed: 0.1).
    n_frames : N, frames per footprint (seed: 30); the feature has 3N values.
    reencode, roi, pad : passed to :func:`toolkit.fsvm.extract` when ``X`` holds paths.
    progress : tqdm bar while computing footprints of paths.

    ``X`` may be a list of video paths, an ``n x N' x 3`` array of footprints
    (the first N rows of each are used, so footprints computed with a larger
    N' can be reused), an ``n x 3N'`` array (same rule) or a ``FootprintSet``.
    Labels may be anything with two classes; ``decision_function`` is positive
    for ``classes_[1]`` (with the toolkit's 0 = real / 1 = fake: positive = fake).

    Attributes (after fit): ``coef_`` (3N,), ``intercept_``, ``classes_``,
    ``n_support_``, ``fit_time_`` (seconds spent in the SVM fit), ``n_train_``.

    >>> from sklearn.model_selection import cross_val_score      # doctest: +SKIP
    >>> cross_val_score(FSVM(), footprints, labels, cv=5)        # doctest: +SKIP
    """

    def __init__(
        self,
        C: float = 0.1,
        n_frames: int = 30,
        reencode: bool = True,
        roi=None,
        pad: bool = False,
        progress: bool = False,
    ):
        self.C = C
        self.n_frames = n_frames
        self.reencode = reencode
        self.roi = roi
        self.pad = pad
        self.progress = progress

    # ------------------------------------------------------------------ features
    def features(self, X) -> np.ndarray:
        """``n x 3N`` float matrix of footprints for ``X`` (paths, arrays or a FootprintSet)."""
        from toolkit.fsvm.data import FootprintSet

        n = int(self.n_frames)
        if n < 1:
            raise ValueError(f"n_frames must be a positive integer, got {self.n_frames!r}")
        if isinstance(X, FootprintSet):
            X = X.footprints
        if _is_pathlike_seq(X):
            from tqdm.auto import tqdm

            from toolkit.fsvm.footprint import footprint

            rows = [
                footprint(p, n_frames=n, reencode=self.reencode, roi=self.roi, pad=self.pad)
                for p in tqdm(list(X), desc="footprints", unit="video", disable=not self.progress)
            ]
            return np.stack(rows).reshape(len(rows), -1)
        try:
            a = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "X must be a list of video paths or an array of footprints (n x N x 3 or n x 3N)"
            ) from None
        if a.ndim == 2 and a.shape[1] % 3 == 0:
            a = a.reshape(a.shape[0], -1, 3)
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"footprints must be n x N x 3 or n x 3N arrays, got shape {a.shape}")
        if a.shape[1] < n:
            raise ValueError(f"footprints have {a.shape[1]} frames but this F-SVM uses n_frames={n}")
        if not np.isfinite(a).all():
            raise ValueError("footprints contain NaN or infinite values")
        return a[:, :n, :].reshape(a.shape[0], -1)

    # ------------------------------------------------------------------ sklearn API
    def fit(self, X, y):
        """Train the linear SVM on footprints of ``X`` with labels ``y``."""
        F = self.features(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(F):
            raise ValueError(f"y must hold one label per video ({len(F)}), got shape {y.shape}")
        classes = np.unique(y)
        if len(classes) != 2:
            raise ValueError(
                f"F-SVM needs videos of exactly two classes (real and fake), "
                f"got {len(classes)}: {classes.tolist()}"
            )
        t0 = time.perf_counter()
        svc = SVC(kernel="linear", C=float(self.C)).fit(F, y)
        self.fit_time_ = time.perf_counter() - t0
        # for binary SVC, decision_function(X) = X @ coef_[0] + intercept_[0], > 0 -> classes_[1]
        self.coef_ = np.asarray(svc.coef_, dtype=np.float64).reshape(-1)
        self.intercept_ = float(svc.intercept_[0])
        self.classes_ = svc.classes_
        self.n_support_ = svc.n_support_.tolist()
        self.n_train_ = int(len(F))
        self.n_features_in_ = F.shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        """Signed distance-like SVM score per video; > 0 means ``classes_[1]``."""
        check_is_fitted(self, "coef_")
        F = self.features(X)
        if F.shape[1] != self.coef_.size:
            raise ValueError(f"footprints have {F.shape[1]} values, the model {self.coef_.size}")
        return F @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(int)]

    # ------------------------------------------------------------------ one video
    def detect(self, video, *, footprint=None) -> FSVMResult:
        """Decision on one video path (its footprint is computed, or pass a precomputed one)."""
        from toolkit.fsvm.footprint import extract

        check_is_fitted(self, "coef_")
        fp = (
            footprint
            if footprint is not None
            else extract(
                video, n_frames=int(self.n_frames), reencode=self.reencode, roi=self.roi, pad=self.pad
            )
        )
        score = float(self.decision_function(fp.values[None])[0])
        label = self.classes_[int(score > 0)]
        name = LABEL_NAMES.get(_plain(label), str(label)) if not isinstance(label, str) else label
        return FSVMResult(
            label=_plain(label),
            label_name=name,
            score=score,
            threshold=0.0,
            footprint=fp,
            sha256=fp.sha256,
            path=fp.path,
            params={**self.get_params(), "classes": [_plain(c) for c in self.classes_]},
        )

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict:
        check_is_fitted(self, "coef_")
        params = self.get_params()
        if params["roi"] is not None:
            roi = params["roi"]
            if not (isinstance(roi, (tuple, list)) and np.ndim(roi) == 1):
                raise ValueError("only a box roi (top, left, height, width) can be saved with the model")
            params["roi"] = [int(v) for v in roi]
        return {
            "format": _FORMAT,
            "params": params,
            "classes": [_plain(c) for c in self.classes_],
            "coef": [float(c) for c in self.coef_],
            "intercept": float(self.intercept_),
            "n_support": self.n_support_,
            "n_train": self.n_train_,
            "fit_time_s": self.fit_time_,
        }

    def save(self, path: str | os.PathLike) -> int:
        """Write the trained model as JSON (the hyperplane and settings); return its size in bytes."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self._state(), separators=(",", ":")))
        return p.stat().st_size

    @property
    def size_bytes(self) -> int:
        """Size of the saved model in bytes."""
        return len(json.dumps(self._state(), separators=(",", ":")).encode())

    @classmethod
    def load(cls, path: str | os.PathLike) -> FSVM:
        """Read a model written by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no F-SVM model file at {str(p)!r}")
        try:
            state = json.loads(p.read_text())
            if state.get("format") != _FORMAT:
                raise KeyError("format")
            params = dict(state["params"])
            if params.get("roi") is not None:
                params["roi"] = tuple(params["roi"])
            m = cls(**params)
            m.coef_ = np.asarray(state["coef"], dtype=np.float64)
            m.intercept_ = float(state["intercept"])
            m.classes_ = np.asarray(state["classes"])
            m.n_support_ = state["n_support"]
            m.n_train_ = state["n_train"]
            m.fit_time_ = state["fit_time_s"]
            m.n_features_in_ = m.coef_.size
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{str(p)!r} is not an F-SVM model saved by FSVM.save ({exc})") from None
        if m.coef_.size != 3 * int(m.n_frames):
            raise ValueError(f"{str(p)!r}: the model has {m.coef_.size} weights for n_frames={m.n_frames}")
        return m
