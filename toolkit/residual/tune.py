"""Fine-tuning of the fast recast CNN that can move: soft alpha, O(1) weights, validated learning rate.

Why the plain recipe does not move (issue 23): in quantisation-step units alpha = 216 is a
hardmax (no gradient reaches the filters or the codebook) and, with Adam, each step moves a
weight by about ``lr``, so a few steps at lr 1e-6 change nothing. Here:

* the network is :class:`~toolkit.residual.fast.FastRecastCNN`: input in [0, 1], unit filter
  taps and unit codeword levels (the seed's units for the input and filters), so every learned
  weight is O(1) and one Adam learning rate suits all layers;
* ``alpha`` is in step units and of order 1-30 (``alpha * step`` is O(1): a soft assignment
  whose gradient reaches every layer); the classifier is re-fitted (linear SVM) on the soft
  histogram of that alpha before fine-tuning (:func:`refit_classifier`), so fine-tuning starts
  from the SVM's operating point;
* the learning rate (and alpha) are chosen on a validation split whose sources are disjoint
  from the fitting sources (:func:`source_split`, :func:`select_and_finetune`).

>>> import numpy as np
>>> from toolkit.residual.data import Patches
>>> p = Patches(x=np.zeros((4, 8, 8), np.uint8), y=np.array([0, 0, 1, 1]),
...             source=["a", "b", "a", "b"], pos=np.zeros((4, 2), int))
>>> fit, val = source_split(p, ["b"])
>>> len(fit), len(val), sorted(set(val.source))
(2, 2, ['b'])
"""

from __future__ import annotations

import numpy as np

__all__ = ["source_split", "refit_classifier", "select_and_finetune", "LR_GRID", "ALPHA_GRID"]

#: learning rates tried on the validation split
LR_GRID = (1e-3, 3e-3, 1e-2)
#: softmax parameters (step units) tried on the validation split
ALPHA_GRID = (3.0, 10.0)


def source_split(patches, val_sources):
    """Split a :class:`~toolkit.residual.data.Patches` set by source (clip frames ``name#k`` grouped).

    Returns ``(fit, val)``: patches whose source (before ``#``) is in ``val_sources`` go to
    ``val``. ``ValueError`` when either part is empty.
    """
    from toolkit.residual.data import Patches

    base = np.array([s.split("#")[0] for s in patches.source])
    is_val = np.isin(base, list(val_sources))
    if is_val.all() or not is_val.any():
        raise ValueError(f"validation sources {list(val_sources)} leave an empty fit or validation part")

    def take(m):
        return Patches(
            x=patches.x[m],
            y=np.asarray(patches.y)[m],
            source=[s for s, k in zip(patches.source, m) if k],
            pos=np.asarray(patches.pos)[m],
            params={**patches.params, "subset": "validation" if m is is_val else "fit"},
        )

    return take(~is_val), take(is_val)


def refit_classifier(net, patches, labels, C=(0.01, 0.1, 1.0, 10.0), seed: int = 0):
    """Fit a linear SVM on ``net``'s own (soft) histograms of ``patches`` and load it into ``net.fc``.

    Returns the fitted scikit-learn pipeline. ``net`` is changed in place (classifier only).
    """
    from toolkit.residual.svm import linear_parts, train_svm

    svm = train_svm(net.features(patches), labels, C=C, seed=seed)
    net.init_classifier(*linear_parts(svm))
    return svm


def _loss_acc(net, x, y, batch: int = 64) -> tuple[float, float]:
    import torch

    from toolkit.residual.cnn import to_tensor

    t = to_tensor(x)
    yy = torch.as_tensor(np.asarray(y), dtype=torch.long)
    tot, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(t), batch):
            z = net(t[i : i + batch])
            tot += float(torch.nn.functional.cross_entropy(z, yy[i : i + batch], reduction="sum"))
            correct += int((z.argmax(1) == yy[i : i + batch]).sum())
    return tot / len(t), correct / len(t)


def select_and_finetune(
    fit,
    val,
    lrs=LR_GRID,
    alphas=ALPHA_GRID,
    epochs: int = 2,
    batch_size: int = 36,
    crop: int | None = 64,
    decay: float = 5e-4,
    seed: int = 0,
    codebook: str = "product",
    keep_unchanged: bool = False,
):
    """Choose ``(alpha, lr)`` by validation accuracy (then loss) after fine-tuning, and return that net.

    For each alpha the classifier is re-fitted on ``fit`` (:func:`refit_classifier`); each
    ``lr`` fine-tunes a copy for ``epochs`` epochs (:func:`toolkit.residual.finetune`, Adam with
    the seed's decay and batch) and is scored on ``val`` (whole patches). Returns
    ``(net, report)``; ``report["trials"]`` lists every trial with its validation accuracy/loss
    before and after. ``keep_unchanged``: the not fine-tuned net (``lr`` 0) is a candidate too.
    """
    import copy

    from toolkit.residual.cnn import finetune
    from toolkit.residual.fast import FastRecastCNN

    trials, best = [], None
    for alpha in alphas:
        base = FastRecastCNN.from_handcrafted(alpha=alpha, codebook=codebook)
        refit_classifier(base, fit.x, fit.y, seed=seed)
        l0, a0 = _loss_acc(base, val.x, val.y)
        if keep_unchanged:  # lr 0: the refitted, not fine-tuned net competes too
            rec = {
                "alpha": alpha,
                "lr": 0.0,
                "val_acc_before": a0,
                "val_loss_before": l0,
                "val_acc": a0,
                "val_loss": l0,
            }
            trials.append(rec)
            if best is None or (a0, -l0) > (best[0]["val_acc"], -best[0]["val_loss"]):
                best = (rec, copy.deepcopy(base), base)
        for lr in lrs:
            net = copy.deepcopy(base)
            log = finetune(
                net, fit.x, fit.y, epochs=epochs, lr=lr, decay=decay, batch_size=batch_size,
                seed=seed, crop=crop, progress=False, device="cpu",
            )  # fmt: skip
            l1, a1 = _loss_acc(net, val.x, val.y)
            rec = {
                "alpha": alpha, "lr": lr, "val_acc_before": a0, "val_loss_before": l0,
                "val_acc": a1, "val_loss": l1, "train_log": list(log),
            }  # fmt: skip
            trials.append(rec)
            if best is None or (a1, -l1) > (best[0]["val_acc"], -best[0]["val_loss"]):
                best = (rec, net, base)
    rec, net, base = best
    return net, {"alpha": rec["alpha"], "lr": rec["lr"], "trials": trials, "before": base}
