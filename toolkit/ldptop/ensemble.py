"""The LDP-TOP classifier: one MLP per (body part, input), fusion, voting (seed 001, section 4.3.1).

* one scikit-learn ``MLPClassifier`` per part ``b`` and input ``ρ`` (grey ``g`` / flow ``o``):
  3072 -> 100 -> 100 -> 50 -> 25 -> 2, ReLU, cross-entropy, Adam with a constant learning rate of
  1e-3, at most 300 epochs, stopped when the loss has not decreased for 10 epochs (the training loss,
  or with ``early_stopping=True`` scikit-learn's held-out validation score). For two classes
  scikit-learn's output layer is one logistic unit, the same model as two softmax units;
* eq. (4.1): ``p_b = (p_b^(g) + p_b^(o)) / 2`` — :func:`fuse_inputs`;
* eq. (4.2)-(4.3): ``ŷ_b = argmax p_b`` and ``ŷ = maj(ŷ_b)`` over the parts — :func:`vote_parts`;
  the soft score is the mean over parts of ``(p_b)_1`` (the fake class);
* the windows of a video are voted the same way — :func:`vote_windows`;
* the LDP-TOP + CNN fusion is the mean of the two detectors' fake probabilities — :func:`fuse_detectors`.

Ties (an even number of voters split in half) are decided by the soft score (> 0.5: fake).
The functions are pure: arrays of probabilities in, arrays out.

>>> import numpy as np
>>> p = fuse_inputs([0.9, 0.2, 0.7, 0.4, 0.6], [0.7, 0.4, 0.5, 0.2, 0.8])   # fake probability per part
>>> p.round(2).tolist()
[0.8, 0.3, 0.6, 0.3, 0.7]
>>> vote_parts(p)                                   # 3 of 5 parts say fake
(1, 0.54)
"""

from __future__ import annotations

import os
import time

import numpy as np

__all__ = [
    "KIND",
    "HIDDEN",
    "INPUTS",
    "fuse_inputs",
    "vote_parts",
    "vote_windows",
    "fuse_detectors",
    "make_mlp",
    "LDPTOPEnsemble",
    "from_checkpoint",
]

#: checkpoint kind of a trained LDP-TOP ensemble (``toolkit.weights``)
KIND = "ldptop"
#: hidden layers of every MLP (the seed: an input layer of 100, then 100, 50 and 25)
HIDDEN = (100, 100, 50, 25)
#: the two pre-processed inputs: grey frames V(g), optical-flow gradient V(o)
INPUTS = ("grey", "flow")


def _prob(p, name: str) -> np.ndarray:
    a = np.asarray(p, dtype=np.float64)
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(a).all() or (a < 0).any() or (a > 1).any():
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    return a


def fuse_inputs(p_grey, p_flow) -> np.ndarray:
    """Eq. (4.1): the mean of the grey and flow MLPs' fake probabilities, element-wise (any shape).

    >>> fuse_inputs([1.0, 0.0], [0.0, 0.0]).tolist()
    [0.5, 0.0]
    """
    g, o = _prob(p_grey, "p_grey"), _prob(p_flow, "p_flow")
    if g.shape != o.shape:
        raise ValueError(f"p_grey and p_flow must have the same shape, got {g.shape} and {o.shape}")
    return (g + o) / 2.0


def _majority(labels: np.ndarray, score: np.ndarray) -> np.ndarray:
    n_fake = labels.sum(axis=-1)
    n = labels.shape[-1]
    return np.where(2 * n_fake > n, 1, np.where(2 * n_fake < n, 0, (score > 0.5).astype(int)))


def vote_parts(p_parts):
    """Eqs. (4.2)-(4.3): per-part argmax and majority vote, with the soft score (mean fake probability).

    Parameters
    ----------
    p_parts : (n_parts,) fake probabilities of one window, or (n_windows, n_parts); ``NaN`` marks a
        part that is missing in a window (it does not vote).

    Returns
    -------
    ``(label, score)`` for one window (int, float); arrays ``(labels, scores)`` for many.

    >>> vote_parts([0.9, 0.1])             # a tie: the soft score 0.5 is not > 0.5
    (0, 0.5)
    >>> labels, scores = vote_parts([[0.6, 0.6, 0.0], [0.2, np.nan, 0.9]])
    >>> labels.tolist(), scores.round(3).tolist()
    ([1, 1], [0.4, 0.55])
    """
    a = np.asarray(p_parts, dtype=np.float64)
    one = a.ndim == 1
    a = np.atleast_2d(a)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"p_parts must be (n_parts,) or (n_windows, n_parts), got shape {np.shape(p_parts)}")
    present = np.isfinite(a)
    if not present.any(axis=1).all():
        raise ValueError("every window needs at least one part with a probability (not NaN)")
    _prob(a[present], "p_parts")
    score = np.nanmean(a, axis=1)
    votes = np.where(present, (a > 0.5).astype(float), np.nan)  # argmax of [1 - p, p]; p = 0.5 -> real
    n = present.sum(axis=1)
    n_fake = np.nansum(votes, axis=1)
    labels = np.where(2 * n_fake > n, 1, np.where(2 * n_fake < n, 0, (score > 0.5).astype(int)))
    if one:
        return int(labels[0]), float(score[0])
    return labels.astype(int), score


def vote_windows(window_labels, window_scores) -> tuple[int, float]:
    """The video's decision: majority of its windows' labels (ties by the mean score > 0.5) and the
    mean of their scores.

    >>> label, score = vote_windows([1, 0, 1], [0.9, 0.2, 0.6]); label, round(score, 3)
    (1, 0.567)
    """
    lab = np.asarray(window_labels).astype(int).reshape(-1)
    sc = _prob(window_scores, "window_scores").reshape(-1)
    if lab.shape != sc.shape or not np.isin(lab, (0, 1)).all():
        raise ValueError("window_labels (0 / 1) and window_scores must have one value per window")
    score = float(sc.mean())
    return int(_majority(lab[None], np.array([score]))[0]), score


def fuse_detectors(p_ldptop, p_cnn, weight: float = 0.5) -> np.ndarray:
    """LDP-TOP + CNN fusion (seed 001, section 4.4.3): ``weight · p_ldptop + (1 - weight) · p_cnn``,
    the plain mean for ``weight = 0.5``; element-wise on per-video (or per-window) fake probabilities.

    >>> fuse_detectors([0.2, 0.9], [0.6, 0.7]).round(2).tolist()
    [0.4, 0.8]
    """
    a, b = _prob(p_ldptop, "p_ldptop"), _prob(p_cnn, "p_cnn")
    if a.shape != b.shape:
        raise ValueError(
            f"the two detectors' probabilities must have the same shape, got {a.shape} and {b.shape}"
        )
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    return weight * a + (1.0 - weight) * b


def make_mlp(seed: int = 0, max_iter: int = 300, patience: int = 10, early_stopping: bool = False):
    """One unfitted MLP of the seed's architecture (scikit-learn ``MLPClassifier``)."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        solver="adam",
        learning_rate="constant",
        learning_rate_init=1e-3,
        max_iter=int(max_iter),
        n_iter_no_change=int(patience),
        early_stopping=bool(early_stopping),
        random_state=int(seed),
    )


class LDPTOPEnsemble:
    """The 2 x n_parts MLPs of LDP-TOP with the seed's fusion and voting.

    Parameters
    ----------
    parts : the part names the features hold, in order (:data:`toolkit.ldptop.PARTS`, or
        ``("frame",)`` for the whole frame).
    seed, max_iter, patience, early_stopping : training settings of every MLP (:func:`make_mlp`).

    Features are ``(n_windows, n_parts, 2, 3072)`` arrays (``[:, :, 0]`` grey, ``[:, :, 1]`` flow;
    ``NaN`` rows for a part missing in a window), labels 0 = real, 1 = fake, one per window.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 1, 2, 3072)); y = np.r_[[0] * 10, [1] * 10]; X[y == 1] += 0.5
    >>> m = LDPTOPEnsemble(parts=("frame",), max_iter=30).fit(X, y)
    >>> m.predict(X).tolist() == y.tolist()
    True
    """

    def __init__(
        self,
        parts=("frame",),
        seed: int = 0,
        max_iter: int = 300,
        patience: int = 10,
        early_stopping: bool = False,
    ):
        self.parts = tuple(parts)
        self.seed = seed
        self.max_iter = max_iter
        self.patience = patience
        self.early_stopping = early_stopping
        self.mlps_: dict = {}

    # ------------------------------------------------------------------ data checks
    def _check_X(self, X) -> np.ndarray:
        a = np.asarray(X, dtype=np.float64)
        if a.ndim != 4 or a.shape[1:] != (len(self.parts), 2, 3072):
            raise ValueError(
                f"features must be (n_windows, {len(self.parts)} parts, 2 inputs, 3072), got shape {a.shape}"
            )
        return a

    def fit(self, X, y) -> LDPTOPEnsemble:
        """Train the 2 x n_parts MLPs; each on the windows where its part is present."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        a = self._check_X(X)
        y = np.asarray(y).astype(int).reshape(-1)
        if len(y) != len(a) or set(np.unique(y).tolist()) != {0, 1}:
            raise ValueError("y must hold one label per window, with both classes (0 real, 1 fake)")
        t0 = time.perf_counter()
        self.mlps_ = {}
        self.n_iter_ = {}
        for j, part in enumerate(self.parts):
            ok = np.isfinite(a[:, j, 0, 0])
            if len(np.unique(y[ok])) < 2:
                raise ValueError(
                    f"part {part!r} is present in windows of one class only; it cannot be trained"
                )
            for k, inp in enumerate(INPUTS):
                mlp = make_mlp(self.seed + 7 * j + k, self.max_iter, self.patience, self.early_stopping)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    mlp.fit(a[ok, j, k], y[ok])
                self.mlps_[(part, inp)] = mlp
                self.n_iter_[f"{part}.{inp}"] = int(mlp.n_iter_)
        self.fit_time_ = time.perf_counter() - t0
        self.n_train_ = int(len(a))
        return self

    def input_probabilities(self, X) -> np.ndarray:
        """(n_windows, n_parts, 2) fake probability of each MLP (``NaN`` where the part is missing)."""
        if not self.mlps_:
            raise ValueError("the ensemble is not trained: call fit() or load a trained model")
        a = self._check_X(X)
        out = np.full(a.shape[:3], np.nan)
        for j, part in enumerate(self.parts):
            ok = np.isfinite(a[:, j, 0, 0])
            if not ok.any():
                continue
            for k, inp in enumerate(INPUTS):
                mlp = self.mlps_[(part, inp)]
                fake = int(np.flatnonzero(mlp.classes_ == 1)[0])
                out[ok, j, k] = mlp.predict_proba(a[ok, j, k])[:, fake]
        return out

    def part_probabilities(self, X) -> np.ndarray:
        """(n_windows, n_parts) fused fake probability per part, eq. (4.1) (``NaN`` where missing)."""
        p = self.input_probabilities(X)
        out = np.full(p.shape[:2], np.nan)
        ok = np.isfinite(p[..., 0])
        out[ok] = fuse_inputs(p[..., 0][ok], p[..., 1][ok])
        return out

    def decide(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-window ``(labels, scores)``: majority over parts and mean part probability."""
        return vote_parts(self.part_probabilities(X))

    def predict(self, X) -> np.ndarray:
        """Label (0 real / 1 fake) per window."""
        return self.decide(X)[0]

    def predict_proba(self, X) -> np.ndarray:
        """(n_windows, 2) ``[1 - score, score]`` per window."""
        s = self.decide(X)[1]
        return np.stack([1 - s, s], axis=1)

    # ------------------------------------------------------------------ persistence
    def config(self) -> dict:
        """The settings and training facts (plain JSON types)."""
        return {
            "parts": list(self.parts),
            "inputs": list(INPUTS),
            "hidden": list(HIDDEN),
            "seed": int(self.seed),
            "max_iter": int(self.max_iter),
            "patience": int(self.patience),
            "early_stopping": bool(self.early_stopping),
            "n_iter": dict(getattr(self, "n_iter_", {})),
            "n_train": int(getattr(self, "n_train_", 0)),
        }

    def save(
        self,
        path: str | os.PathLike,
        card: dict | None = None,
        settings: dict | None = None,
        dtype: str = "float32",
    ) -> int:
        """Write a ``toolkit.weights`` checkpoint (kind ``"ldptop"``): every MLP's ``coefs_`` and
        ``intercepts_`` as tensors, the settings as JSON (no pickle). ``settings``: the feature
        settings (variant, window, hop, flow, ...) the model was trained with. Returns the size in bytes.
        """
        import torch

        from toolkit import weights

        if not self.mlps_:
            raise ValueError("only a trained ensemble can be saved")
        tdtype = {"float32": torch.float32, "float16": torch.float16}[dtype]
        state = {}
        for (part, inp), mlp in self.mlps_.items():
            for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
                state[f"{part}.{inp}.coef{i}"] = torch.tensor(np.asarray(W), dtype=tdtype)
                state[f"{part}.{inp}.intercept{i}"] = torch.tensor(np.asarray(b), dtype=tdtype)
        config = {**self.config(), "settings": dict(settings or {})}
        p = weights.save(state, path, kind=KIND, config=config, card=card or {})
        return p.stat().st_size


def from_checkpoint(ck) -> LDPTOPEnsemble:
    """Rebuild a trained :class:`LDPTOPEnsemble` from a ``"ldptop"`` checkpoint (builder of
    :func:`toolkit.weights.load`): the MLPs get their arrays back; ``settings`` holds the
    feature settings it was trained with.

    >>> from toolkit import weights
    >>> m = weights.load("ldptop/frame_fitlike")
    >>> m.parts, len(m.mlps_), m.settings["window"]
    (('frame',), 2, 50)
    """
    from sklearn.preprocessing import LabelBinarizer

    from toolkit.weights import WeightsFormatError

    cfg = ck.config
    try:
        m = LDPTOPEnsemble(
            parts=tuple(cfg["parts"]),
            seed=int(cfg.get("seed", 0)),
            max_iter=int(cfg.get("max_iter", 300)),
            patience=int(cfg.get("patience", 10)),
            early_stopping=bool(cfg.get("early_stopping", False)),
        )
        n_layers = len(cfg["hidden"]) + 1
        for part in m.parts:
            for inp in INPUTS:
                mlp = make_mlp(m.seed, m.max_iter, m.patience, m.early_stopping)
                mlp.coefs_ = [
                    ck.state_dict[f"{part}.{inp}.coef{i}"].double().numpy() for i in range(n_layers)
                ]
                mlp.intercepts_ = [
                    ck.state_dict[f"{part}.{inp}.intercept{i}"].double().numpy() for i in range(n_layers)
                ]
                if mlp.coefs_[0].shape[0] != 3072 or mlp.coefs_[-1].shape[1] != 1:
                    raise ValueError(
                        f"MLP {part}.{inp} has shape {mlp.coefs_[0].shape} ... {mlp.coefs_[-1].shape}"
                    )
                mlp.n_features_in_ = 3072
                mlp.n_layers_ = n_layers + 1
                mlp.n_outputs_ = 1
                mlp.out_activation_ = "logistic"
                mlp.classes_ = np.array([0, 1])
                mlp._label_binarizer = LabelBinarizer().fit([0, 1])
                mlp.n_iter_ = int(cfg.get("n_iter", {}).get(f"{part}.{inp}", 0))
                m.mlps_[(part, inp)] = mlp
        m.n_iter_ = dict(cfg.get("n_iter", {}))
        m.n_train_ = int(cfg.get("n_train", 0))
        m.settings = dict(cfg.get("settings", {}))
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError, IndexError) as exc:
        raise WeightsFormatError(f"{ck.file}: not an LDP-TOP checkpoint ({exc})") from None
    return m
