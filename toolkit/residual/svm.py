"""Linear SVM on the 162-dim SRM feature (scikit-learn pipeline: StandardScaler + LinearSVC).

>>> import numpy as np
>>> from toolkit.residual.svm import make_svm
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(0, 1, (20, 162)), rng.normal(1, 1, (20, 162))]; y = np.r_[[0] * 20, [1] * 20]
>>> make_svm(C=1.0).fit(X, y).score(X, y)
1.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["make_svm", "train_svm", "evaluate", "linear_parts", "SVMEvaluation"]


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
