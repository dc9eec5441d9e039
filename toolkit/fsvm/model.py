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

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from toolkit.fsvm._common import LABEL_NAMES, label_name
from toolkit.result import NOT_DETECTED, Result

__all__ = [
    "FSVM",
    "FSVMResult",
    "LABEL_NAMES",
    "KIND",
    "DEFAULT_MODEL",
    "THRESHOLD",
    "from_checkpoint",
    "load_model",
    "detect",
    "leave_one_out",
    "LeaveOneOutDecisions",
    "CONFIG_SCHEMA",
]

#: checkpoint kind of an F-SVM (``toolkit.weights``)
KIND = "fsvm"
#: the model :func:`detect` uses when given none (registry name)
DEFAULT_MODEL = "fsvm/simulated"
#: decision threshold on the SVM score (the hyperplane)
THRESHOLD = 0.0


@dataclass(frozen=True, eq=False)
class FSVMResult(Result):
    """Decision of a trained F-SVM on one video (a frozen :class:`~toolkit.result.Result`, method ``"fsvm"``).

    Attributes
    ----------
    label : the predicted class (by the toolkit's convention 0 = real, 1 = fake).
    label_name : ``"real"`` / ``"fake"`` (or the class itself for other labels).
    score : the SVM decision value, signed so that positive means the fake class
        (for the 0 / 1 labels it is ``decision_function``; > 0 means ``classes_[1]``).
    threshold : 0.0 (the hyperplane).
    footprint : the :class:`~toolkit.fsvm.Footprint` it was computed from.
    verdict : ``"synthetic"`` when ``score > threshold``, else ``"not_detected"``; ``reason`` says why.

    >>> from toolkit.fsvm import Footprint
    >>> fp = Footprint(np.full((2, 3), 1 / 3), frame_types=("P", "P"), n_valid=2, mb_used=9)
    >>> r = FSVMResult(label=1, label_name="fake", score=0.8, footprint=fp)
    >>> r.verdict, r.summary()
    ('synthetic', 'fsvm on array: synthetic (score 0.8 vs threshold 0); N = 2, mean intra 0.33')
    """

    method = "fsvm"

    label: object = None
    label_name: str = ""
    score: float = 0.0
    threshold: float = THRESHOLD
    footprint: object = None

    @property
    def verdict(self) -> str:
        """``"synthetic"`` when the score is above the threshold, else ``"not_detected"``;
        ``"inconclusive"`` when the video's stream was damaged (its footprint is not the coding's)."""
        if self._damage() is not None:
            return "inconclusive"
        return "synthetic" if self.score > self.threshold else NOT_DETECTED

    def _damage(self) -> str | None:
        fp = self.footprint.params if self.footprint is not None else {}
        if fp.get("decode_complete", True) is False:
            return str(fp.get("decode_error") or "decode errors")
        return None

    @property
    def reason(self) -> str:
        """The decision in words: score, threshold and the footprint's intra share."""
        damage = self._damage()
        if damage is not None:
            return f"the video's stream is damaged ({damage}): its footprint does not describe its coding"
        side = "above" if self.score > self.threshold else "not above"
        intra = float(self.footprint.mean()[0]) if self.footprint is not None else float("nan")
        return (
            f"the SVM score {self.score:+.3f} is {side} the threshold {self.threshold:g} "
            f"(mean intra share {intra:.2f} over the footprint's frames): the footprint resembles "
            f"the {'synthetic' if self.score > self.threshold else 'real'} training videos"
        )

    def summary(self) -> str:
        """One line: verdict, score vs threshold, N and the mean intra share."""
        where = os.path.basename(self.path) if self.path else "array"
        text = f"{self.method} on {where}: {self.verdict} (score {self.score:.4g} vs threshold "
        text += f"{self.threshold:g})"
        if self.footprint is not None:
            text += f"; N = {self.footprint.n_frames}, mean intra {float(self.footprint.mean()[0]):.2f}"
        return text

    def table(self):
        """pandas table, one row: video, score, threshold, decision, verdict."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "video": os.path.basename(self.path) if self.path else None,
                    "score": self.score,
                    "threshold": self.threshold,
                    "decision": self.label_name,
                    "verdict": self.verdict,
                }
            ]
        )

    def plot(self):
        """The video's footprint curves, titled with the decision."""
        name = os.path.basename(self.path) if self.path else "video"
        return self.footprint.plot(
            title=f"{name}: {self.label_name} (SVM score {self.score:+.3f}, threshold {self.threshold:g})"
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

    >>> from sklearn.model_selection import cross_val_score
    >>> rng = np.random.default_rng(1)
    >>> X = np.concatenate([rng.normal(0.1, 0.02, (6, 5, 3)), rng.normal(0.6, 0.02, (6, 5, 3))])
    >>> cross_val_score(FSVM(n_frames=5), X, [0] * 6 + [1] * 6, cv=3).tolist()
    [1.0, 1.0, 1.0]
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
    def _fake_index(self) -> int:
        names = [label_name(c) for c in self.classes_]
        return names.index("fake") if "fake" in names else 1

    def detect(self, video, *, footprint=None, roi=None, pad=None, workdir=None) -> FSVMResult:
        """Decision on one video path (its footprint is computed, or pass a precomputed one).

        ``roi`` / ``pad`` override the model's settings for this video (``None``: the model's);
        ``workdir`` is the folder of the temporary re-encode.
        """
        from toolkit.fsvm.footprint import extract

        check_is_fitted(self, "coef_")
        roi = self.roi if roi is None else roi
        pad = self.pad if pad is None else bool(pad)
        fp = (
            footprint
            if footprint is not None
            else extract(
                video, n_frames=int(self.n_frames), reencode=self.reencode, roi=roi, pad=pad, workdir=workdir
            )
        )
        d = float(self.decision_function(np.asarray(fp)[None])[0])
        label = self.classes_[int(d > 0)]
        score = d if self._fake_index() == 1 else -d
        params = {
            **self.get_params(),
            "roi": _roi_param(roi),
            "pad": pad,
            "classes": [_plain(c) for c in self.classes_],
            "model": getattr(self, "weights_name", None) or "FSVM (in memory)",
            "weights_sha256": getattr(self, "weights_sha256", None),
        }
        params.pop("progress", None)
        return FSVMResult(
            label=_plain(label),
            label_name=label_name(label),
            score=score,
            threshold=THRESHOLD,
            footprint=fp,
            path=fp.path,
            sha256=fp.sha256,
            params=params,
        )

    # ------------------------------------------------------------------ persistence
    def _checkpoint(self) -> tuple[dict, dict]:
        """(tensors, config) of the trained model: the hyperplane and every setting, no pickle."""
        import torch

        check_is_fitted(self, "coef_")
        params = self.get_params()
        if params["roi"] is not None:
            roi = params["roi"]
            if not (isinstance(roi, (tuple, list)) and np.ndim(roi) == 1):
                raise ValueError("only a box roi (top, left, height, width) can be saved with the model")
            params["roi"] = [int(v) for v in roi]
        state = {
            "coef": torch.tensor(np.array(self.coef_, np.float64)),
            "intercept": torch.tensor([float(self.intercept_)], dtype=torch.float64),
        }
        config = {
            "params": params,
            "classes": [_plain(c) for c in self.classes_],
            "n_support": [int(v) for v in self.n_support_],
            "n_train": int(self.n_train_),
            "fit_time_s": float(self.fit_time_),
        }
        return state, config

    def save(self, path: str | os.PathLike, card: dict | None = None) -> int:
        """Write the trained model as a ``toolkit.weights`` checkpoint (kind ``"fsvm"``: the
        hyperplane as tensors, the settings as JSON; no pickle); return its size in bytes.

        ``card``: a model card (plain JSON types: data seen, measured accuracy).
        """
        from toolkit import weights

        state, config = self._checkpoint()
        p = weights.save(state, path, kind=KIND, config=config, card=card or {})
        return p.stat().st_size

    @property
    def size_bytes(self) -> int:
        """Size in bytes of the file :meth:`save` writes (without a card)."""
        with tempfile.TemporaryDirectory(prefix="fsvm_size_") as tmp:
            return self.save(Path(tmp) / "model.pt")

    @classmethod
    def load(cls, path: str | os.PathLike) -> FSVM:
        """Read a model written by :meth:`save` (through :func:`toolkit.weights.load`, no pickle).

        Raises ``FileNotFoundError`` (:class:`toolkit.weights.WeightsNotFoundError`) for a missing
        file and :class:`toolkit.weights.WeightsFormatError` (a ``ValueError``) for a file that is not
        an F-SVM checkpoint.
        """
        from toolkit import weights

        p = Path(path)
        if not p.is_file():
            raise weights.WeightsNotFoundError(f"no F-SVM model file at {str(p)!r}")
        try:
            return weights.load(p, device="cpu", kind=KIND)
        except weights.WeightsFormatError as exc:
            raise weights.WeightsFormatError(
                f"{str(p)!r} is not an F-SVM model saved by FSVM.save ({exc})"
            ) from None


def _roi_param(roi):
    from toolkit.fsvm._common import describe_roi

    return describe_roi(roi)


_COUNT = {"type": "integer", "minimum": 0}
#: JSON schema of an F-SVM checkpoint's ``config`` (checked by :func:`from_checkpoint`)
CONFIG_SCHEMA = {
    "type": "object",
    "required": ["params", "classes"],
    "properties": {
        "params": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "C": {"type": "number", "exclusiveMinimum": 0},
                "n_frames": {"type": "integer", "minimum": 1, "maximum": 100000},
                "reencode": {"type": "boolean"},
                "pad": {"type": "boolean"},
                "progress": {"type": "boolean"},
                "roi": {
                    "oneOf": [
                        {"type": "null"},
                        {"type": "array", "items": _COUNT, "minItems": 4, "maxItems": 4},
                    ]
                },
            },
        },
        "classes": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"type": ["integer", "string", "boolean"]},
        },
        "n_support": {"type": "array", "items": _COUNT, "maxItems": 2},
        "n_train": _COUNT,
        "fit_time_s": {"type": "number", "minimum": 0},
    },
}


def from_checkpoint(ck) -> FSVM:
    """The :class:`FSVM` of a ``"fsvm"`` checkpoint (the builder :func:`toolkit.weights.load` calls).

    >>> from toolkit import weights
    >>> m = weights.load("fsvm/simulated")
    >>> type(m).__name__, m.coef_.shape == (3 * m.n_frames,)
    ('FSVM', True)
    """
    from toolkit.weights import WeightsFormatError, check_json

    cfg = check_json(ck.config, CONFIG_SCHEMA, f"{ck.file}: F-SVM config")
    try:
        params = dict(cfg["params"])
        if params.get("roi") is not None:
            params["roi"] = tuple(int(v) for v in params["roi"])
        unknown = set(params) - set(FSVM().get_params())
        if unknown:
            raise KeyError(f"unknown settings {sorted(unknown)}")
        m = FSVM(**params)
        m.coef_ = ck.state_dict["coef"].double().numpy().reshape(-1).copy()
        m.intercept_ = float(ck.state_dict["intercept"].double().reshape(-1)[0])
        m.classes_ = np.asarray(cfg["classes"])
        m.n_support_ = [int(v) for v in cfg.get("n_support", [])]
        m.n_train_ = int(cfg.get("n_train", 0))
        m.fit_time_ = float(cfg.get("fit_time_s", 0.0))
        m.n_features_in_ = m.coef_.size
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError, IndexError) as exc:
        raise WeightsFormatError(f"{ck.file}: not an F-SVM checkpoint ({exc})") from None
    if not (np.isfinite(m.coef_).all() and np.isfinite(m.intercept_)):
        raise WeightsFormatError(f"{ck.file}: the F-SVM's coefficients or intercept are not finite numbers")
    if m.coef_.size != 3 * int(m.n_frames) or len(m.classes_) != 2:
        raise WeightsFormatError(
            f"{ck.file}: the F-SVM has {m.coef_.size} weights and {len(m.classes_)} classes for "
            f"n_frames={m.n_frames} (expected {3 * int(m.n_frames)} and 2)"
        )
    return m


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL) -> FSVM:
    """An F-SVM from the weights registry (``"simulated"`` or ``"fsvm/simulated"``) or a file
    written by :meth:`FSVM.save`.

    Raises :class:`toolkit.weights.UnknownWeightsError` (a KeyError and a ValueError) for an
    unknown name, and the errors of :func:`toolkit.weights.load` otherwise.

    >>> m = load_model()
    >>> m.weights_name, m.n_frames
    ('fsvm/simulated', 30)
    """
    from toolkit import weights

    return weights.load_named(name_or_path, "fsvm", KIND)


def detect(path: str | os.PathLike, model=None, **kw) -> FSVMResult:
    """F-SVM decision on one video: ``"synthetic"`` or ``"not_detected"`` (the registry's ``"fsvm"``).

    Parameters
    ----------
    path : the video (any codec PyAV decodes: it is re-encoded losslessly first).
    model : ``None`` (the shipped :data:`DEFAULT_MODEL`, trained on simulated DeepStreets-like
        videos only), a registry name or checkpoint file (:func:`load_model`), or a fitted :class:`FSVM`.
    **kw : ``roi``, ``pad``, ``workdir``, ``footprint`` as in :meth:`FSVM.detect`.

    Returns
    -------
    FSVMResult: ``score`` = SVM decision value (> 0: synthetic), ``threshold`` 0.

    >>> r = detect("sample_data/real/eat.mkv")
    >>> r.verdict in ("synthetic", "not_detected"), r.params["model"]
    (True, 'fsvm/simulated')
    """
    if model is None or isinstance(model, (str, os.PathLike)):
        model = load_model(DEFAULT_MODEL if model is None else model)
    if not isinstance(model, FSVM):
        raise ValueError(
            f"model must be a fitted FSVM, a registered name or a checkpoint file, got {type(model).__name__}"
        )
    return model.detect(path, **kw)


# --------------------------------------------------------------------------- leave-one-out
@dataclass(frozen=True)
class LeaveOneOutDecisions:
    """Leave-one-out F-SVM decisions on a :class:`~toolkit.fsvm.FootprintSet`: video ``i`` is decided
    by an SVM trained on every other video (``None`` where the others hold one class only).

    Attributes
    ----------
    n_frames, C : the F-SVM's N and C.
    results : one :class:`FSVMResult` (or ``None``) per video.
    truth : ``"real"`` / ``"fake"`` of each video.
    """

    n_frames: int
    C: float
    results: tuple
    truth: tuple

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> FSVMResult | None:
        return self.results[i]

    @property
    def scores(self) -> np.ndarray:
        """SVM score of each video (NaN where undecided)."""
        return np.array([np.nan if r is None else r.score for r in self.results])

    @property
    def correct(self) -> np.ndarray:
        """Whether each decided video's decision equals its truth (False where undecided)."""
        return np.array([r is not None and r.label_name == t for r, t in zip(self.results, self.truth)])

    @property
    def accuracy(self) -> float:
        """Share of the decided videos decided correctly (NaN when none is decided)."""
        n = sum(r is not None for r in self.results)
        return float(self.correct.sum() / n) if n else float("nan")

    def table(self):
        """pandas table: one row per video (video, truth, decision, score, correct)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "video": [
                    os.path.basename(r.path) if r is not None and r.path else None for r in self.results
                ],
                "truth": list(self.truth),
                "decision": [None if r is None else r.label_name for r in self.results],
                "score": self.scores,
                "correct": self.correct,
            }
        )


def leave_one_out(dataset, n_frames: int | None = None, C: float = 0.1) -> LeaveOneOutDecisions:
    """Decide every video of ``dataset`` with an ``FSVM(C, n_frames)`` trained on all the *other* videos.

    Parameters
    ----------
    dataset : :class:`~toolkit.fsvm.FootprintSet` (footprints ``n x N' x 3``, labels 0 real / 1 fake).
    n_frames : N (the first N rows of each footprint; default all ``N'``).
    C : SVM regularisation (seed: 0.1).

    Returns
    -------
    LeaveOneOutDecisions; a video whose removal leaves one class only gets ``None``.

    >>> from toolkit.fsvm import FootprintSet
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0.1, 0.02, (4, 5, 3)), rng.normal(0.6, 0.02, (4, 5, 3))]
    >>> ds = FootprintSet([f"v{i}.mp4" for i in range(8)], np.r_[[0] * 4, [1] * 4], X, ["0" * 64] * 8)
    >>> leave_one_out(ds).accuracy
    1.0
    """
    from toolkit.fsvm.data import FootprintSet

    if not isinstance(dataset, FootprintSet):
        raise ValueError("leave_one_out needs a FootprintSet (from toolkit.fsvm.load_folder)")
    n = dataset.footprints.shape[1] if n_frames is None else int(n_frames)
    labels = np.asarray(dataset.labels)
    results = []
    for i in range(len(dataset)):
        keep = np.arange(len(dataset)) != i
        if len(set(labels[keep].tolist())) < 2:
            results.append(None)
            continue
        m = FSVM(C=C, n_frames=n).fit(dataset.footprints[keep], labels[keep])
        r = m.detect(None, footprint=dataset.footprint(i, n))
        note = f"leave-one-out: FSVM(C={C:g}, N={n}) trained on the other {int(keep.sum())} videos"
        results.append(
            FSVMResult(
                label=r.label,
                label_name=r.label_name,
                score=r.score,
                threshold=r.threshold,
                footprint=r.footprint,
                path=r.path,
                sha256=r.sha256,
                params={**r.params, "model": note},
            )
        )
    truth = tuple(label_name(v) for v in labels)
    return LeaveOneOutDecisions(n_frames=n, C=float(C), results=tuple(results), truth=truth)
