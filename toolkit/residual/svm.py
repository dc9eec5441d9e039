"""Linear SVM on the 162-dim SRM feature (scikit-learn pipeline: StandardScaler + LinearSVC).

>>> import numpy as np
>>> from toolkit.residual.svm import make_svm
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(0, 1, (20, 162)), rng.normal(1, 1, (20, 162))]; y = np.r_[[0] * 20, [1] * 20]
>>> make_svm(C=1.0).fit(X, y).score(X, y)
1.0
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = [
    "make_svm",
    "train_svm",
    "evaluate",
    "linear_parts",
    "SVMEvaluation",
    "train_for_manipulation",
    "model_for",
    "save_model",
    "load_model",
    "from_checkpoint",
    "shipped_models",
    "DEFAULT_MODEL",
    "KIND",
]

#: checkpoint kind of an SRM+SVM pipeline (``toolkit.weights``)
KIND = "residual.svm"
#: the model :func:`toolkit.residual.heatmap` uses when given none (registry name)
DEFAULT_MODEL = "residual/median5"


def make_svm(C: float = 1.0, max_iter: int = 20000, seed: int = 0):
    """Unfitted pipeline ``StandardScaler() -> LinearSVC(C)`` (scikit-learn)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    return make_pipeline(StandardScaler(), LinearSVC(C=C, max_iter=max_iter, random_state=seed, dual="auto"))


def _check_xy(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 162:
        raise ValueError(f"expected features of shape (n, 162), got {X.shape}")
    if len(X) != len(y):
        raise ValueError(f"{len(X)} feature rows but {len(y)} labels")
    if len(np.unique(y)) != 2:
        raise ValueError("training needs both classes (0 pristine, 1 manipulated)")
    return X, y


def train_svm(X, y, C: float | tuple = (0.01, 0.1, 1.0, 10.0), cv: int = 3, seed: int = 0):
    """Fit the SVM on features ``X`` (n, 162) and labels ``y`` (0/1).

    ``C`` a number, or a tuple of candidates chosen by ``cv``-fold
    cross-validated accuracy (scikit-learn ``GridSearchCV``) on the training set only.
    Returns the fitted pipeline (its ``params_`` attribute records the chosen C).
    """
    X, y = _check_xy(X, y)
    if np.isscalar(C):
        model = make_svm(float(C), seed=seed).fit(X, y)
        model.params_ = {"C": float(C)}
        return model
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    gs = GridSearchCV(
        make_svm(seed=seed),
        {"linearsvc__C": list(C)},
        cv=StratifiedKFold(cv, shuffle=True, random_state=seed),
        n_jobs=1,
    )
    gs.fit(X, y)
    model = gs.best_estimator_
    model.params_ = {
        "C": float(gs.best_params_["linearsvc__C"]),
        "cv_accuracy": float(gs.best_score_),
        "C_grid": [float(c) for c in C],
        "cv": cv,
    }
    return model


def linear_parts(model):
    """``(coef (162,), intercept, mean (162,), scale (162,))`` of a fitted scaler + linear SVM pipeline."""
    try:
        scaler, svc = model[0], model[-1]
        coef, intercept = svc.coef_, svc.intercept_
        mean, scale = scaler.mean_, scaler.scale_
    except (AttributeError, TypeError, IndexError):
        raise ValueError("expected a fitted make_svm() pipeline (StandardScaler + LinearSVC)") from None
    return np.ravel(coef), float(np.ravel(intercept)[0]), np.asarray(mean), np.asarray(scale)


@dataclass(frozen=True)
class SVMEvaluation:
    """Accuracy of a binary classifier on a test set; ``decisions`` 0/1, ``scores`` decision values."""

    accuracy: float
    n: int
    decisions: np.ndarray
    scores: np.ndarray
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["decisions"] = self.decisions.tolist()
        d["scores"] = self.scores.tolist()
        return d


def evaluate(model, X, y) -> SVMEvaluation:
    """Accuracy (probability of correct decision, the seed's Table II figure) of ``model`` on (X, y)."""
    X, y = _check_xy(X, y)
    s = model.decision_function(X)
    d = (s > 0).astype(int)
    return SVMEvaluation(
        accuracy=float((d == y).mean()), n=len(y), decisions=d, scores=s, params=getattr(model, "params_", {})
    )


# --- training for one manipulation ------------------------------------------------------
def train_for_manipulation(
    name: str,
    n_pairs: int = 60,
    window: int = 128,
    seed: int = 0,
    C: float | tuple = 1.0,
    use_clips: bool = False,
):
    """SRM+SVM trained on ``n_pairs`` pristine / ``name``-manipulated patch pairs of the training sources.

    Parameters
    ----------
    name : a key of :data:`toolkit.synth.manipulate.MANIPULATIONS` (``"median5"``, ``"blur0.5"``, ...).
    n_pairs : pristine patches (each with its manipulated twin: ``2 * n_pairs`` training patches).
    window : patch side, pixels (the heat map's window).
    seed : seeds the patch draw (and the AWGN of noise manipulations).
    C : SVM regularisation, or a tuple of candidates chosen by 3-fold CV.
    use_clips : also draw patches from the real clips (``../shared/real_video``) when present;
        ``False`` uses only the photos shipped with scikit-image (the same on every machine).

    Returns
    -------
    Fitted pipeline (StandardScaler + LinearSVC); ``params_`` records the settings.
    Source-disjoint from :mod:`toolkit.residual.data`'s test split.

    >>> m = train_for_manipulation("blur1.1", n_pairs=12, window=64)
    >>> m.params_["manipulation"], m.params_["n_patches"]
    ('blur1.1', 24)
    """
    from toolkit._util import check_stride
    from toolkit.residual.data import manipulated_pairs
    from toolkit.residual.features import features_batch

    n_pairs = check_stride(n_pairs, name="n_pairs")
    window = check_stride(window, name="window")
    tr = manipulated_pairs("train", name, n=n_pairs, size=window, seed=seed, use_clips=use_clips)
    model = train_svm(features_batch(tr.x), tr.y, C=C, seed=seed)
    model.params_ = {
        **model.params_,
        "manipulation": name,
        "n_pairs": n_pairs,
        "n_patches": len(tr),
        "window": window,
        "seed": seed,
        "use_clips": bool(use_clips),
        "data": "toolkit.residual.data train split",
    }
    return model


def shipped_models() -> dict[str, str]:
    """Manipulation -> registry name of the SRM+SVM models in the weights registry.

    >>> shipped_models()["median5"]
    'residual/median5'
    """
    from toolkit import weights

    return {n.split("/", 1)[1]: n for n in weights.available() if n.startswith("residual/")}


def model_for(name: str, window: int = 128, n_pairs: int = 60, seed: int = 0):
    """The heat-map model for manipulation ``name``: the registered one when it was trained on
    ``window``-pixel patches, else one trained now by :func:`train_for_manipulation` (seconds).

    >>> model_for("median5").weights_name
    'residual/median5'
    """
    reg = shipped_models().get(name)
    if reg is not None:
        from toolkit import weights

        if int(weights.load_checkpoint(reg).config.get("window", -1)) == int(window):
            return load_model(reg)
    return train_for_manipulation(name, n_pairs=n_pairs, window=window, seed=seed)


# --- persistence (toolkit.weights; no pickle) -----------------------------------------------
def save_model(model, file: str | os.PathLike, card: dict | None = None, config: dict | None = None):
    """Write a fitted SRM+SVM pipeline as a ``toolkit.weights`` checkpoint (kind ``"residual.svm"``).

    Only tensors (scaler mean / scale, SVM coef / intercept, classes) and JSON
    (``config``: the training settings, ``params_`` included; ``card``) are stored.

    >>> import tempfile, pathlib
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (20, 162)), rng.normal(1, 1, (20, 162))]; y = np.r_[[0] * 20, [1] * 20]
    >>> svm = train_svm(X, y, C=1.0)
    >>> f = save_model(svm, pathlib.Path(tempfile.mkdtemp()) / "svm.pt", card={"data": "toy"})
    >>> np.allclose(load_model(f).decision_function(X), svm.decision_function(X))
    True
    """
    import torch

    from toolkit import weights

    coef, intercept, mean, scale = linear_parts(model)
    classes = np.asarray(model[-1].classes_)
    if classes.dtype.kind not in "iub" or len(classes) != 2:
        raise ValueError(
            f"only a binary SVM with integer classes can be saved, got classes {classes.tolist()}"
        )
    state = {
        "scaler_mean": torch.as_tensor(mean, dtype=torch.float64),
        "scaler_scale": torch.as_tensor(scale, dtype=torch.float64),
        "coef": torch.as_tensor(coef, dtype=torch.float64),
        "intercept": torch.tensor([intercept], dtype=torch.float64),
        "classes": torch.as_tensor(classes.astype(np.int64)),
    }
    cfg = {"params": dict(getattr(model, "params_", {}) or {}), "n_features": int(coef.size)}
    cfg.update(config or {})
    threshold = getattr(model, "threshold", None)
    if threshold is not None:
        cfg.setdefault("threshold", float(threshold))
    return weights.save(state, file, kind=KIND, config=cfg, card=card or {})


def from_checkpoint(ck):
    """The fitted scikit-learn pipeline of a ``"residual.svm"`` checkpoint (builder of
    :func:`toolkit.weights.load`); ``params_`` and ``threshold`` come from its config.

    >>> from toolkit import weights
    >>> m = weights.load("residual/median5")
    >>> m[-1].coef_.shape, 0 < m.threshold < 1
    ((1, 162), True)
    """
    from toolkit.weights import WeightsFormatError

    sd = ck.state_dict
    try:
        mean = sd["scaler_mean"].double().numpy().reshape(-1)
        scale = sd["scaler_scale"].double().numpy().reshape(-1)
        coef = sd["coef"].double().numpy().reshape(1, -1)
        intercept = sd["intercept"].double().numpy().reshape(1)
        classes = sd["classes"].numpy().reshape(-1)
    except (KeyError, AttributeError, RuntimeError) as e:
        raise WeightsFormatError(f"{ck.file}: not a residual.svm checkpoint ({e})") from None
    n = coef.shape[1]
    finite = all(np.isfinite(a).all() for a in (mean, scale, coef, intercept))
    if mean.shape != (n,) or scale.shape != (n,) or len(classes) != 2 or not finite:
        raise WeightsFormatError(f"{ck.file}: inconsistent residual.svm tensors (coef {coef.shape})")
    model = make_svm(C=float(ck.config.get("params", {}).get("C", 1.0)))
    scaler, svc = model[0], model[-1]
    scaler.mean_, scaler.scale_, scaler.var_ = mean, scale, scale**2
    scaler.n_features_in_, scaler.n_samples_seen_ = n, int(ck.config.get("params", {}).get("n_patches", 0))
    svc.coef_, svc.intercept_, svc.classes_ = coef, intercept, classes
    svc.n_features_in_, svc.n_iter_ = n, 0
    model.params_ = dict(ck.config.get("params", {}))
    model.threshold = float(ck.config.get("threshold", 0.5))
    return model


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL):
    """A fitted SRM+SVM pipeline from the weights registry or a checkpoint file.

    Parameters
    ----------
    name_or_path : a manipulation with a registered model (``"median5"``), a registry
        name (``"residual/median5"``) or a file written by :func:`save_model`.

    Returns
    -------
    The pipeline, with ``weights_name``, ``weights_sha256``, ``card``, ``params_`` and ``threshold``.

    Raises
    ------
    toolkit.weights.UnknownWeightsError (a KeyError and a ValueError) for an unknown name;
    WeightsNotFoundError, WeightsHashError, WeightsFormatError as :func:`toolkit.weights.load`.

    >>> m = load_model("median5")
    >>> m.weights_name, len(m.weights_sha256)
    ('residual/median5', 64)
    """
    from toolkit import weights

    return weights.load_named(name_or_path, "residual", KIND)
