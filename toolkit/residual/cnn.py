"""The SRM feature recast as a small CNN (seed 004, section III) and its fine-tuning.

Architecture (one "twin" per co-occurrence direction, both fed the image and
its transpose, as the handcrafted feature pools rows and columns):

* ``conv_*``: 4 residual filters, the n-th one holding ``w = [1, -3, 3, -1]``
  shifted by n pixels *along* (kernel 1 x 7) or *across* (kernel 4 x 4) the
  filter direction, scaled by ``255 / delta`` so that on an input in [0, 1]
  (grey / 255, as in the seed) the output is the residual in quantisation steps.
  (The seed quotes 5 x 5 kernels; exact equivalence needs 1 x 7 for the
  along-direction co-occurrence of 4 outputs of a 4-tap filter, and 4 x 4
  across it, so we use those supports.)
* ``vq_*``: 81 1 x 1 filters, one per codeword ``u_k`` in {-1, 0, 1}^4 of the
  product quantiser, weights ``u_k``, bias ``-|u_k|^2 / 2`` (eq. 2-3: the
  largest matching score is the nearest codeword, i.e. rounding + truncation),
  followed by softmax ``exp(alpha m_k) / sum_l exp(alpha m_l)`` (eq. 4) or, with
  ``hard=True``, by a hardmax (one-hot of the argmax, the limit alpha -> inf).
* average pooling of the 81 maps of each twin (image + transpose) -> the 2 x 81
  normalised histogram, which equals :func:`toolkit.residual.features` exactly
  with the hardmax.
* a fixed standardisation (the SVM pipeline's scaler, kept as buffers) and a
  fully-connected layer 162 -> 2 initialised from the linear SVM, so that
  ``logit_1 - logit_0`` equals the SVM decision function.

The scale of the matching scores is a free choice that the seed does not fix
(argmax is invariant to it); ours is "residual in quantisation steps", where a
residual of integer grey levels is at least 0.056 step from a decision
boundary, so that alpha = 216 is close to, but not exactly, a hardmax.

>>> import numpy as np, torch
>>> from toolkit.residual.cnn import RecastCNN
>>> net = RecastCNN.from_handcrafted(hard=True)
>>> x = np.random.default_rng(0).integers(0, 256, (2, 32, 32), dtype=np.uint8)
>>> from toolkit.residual import feature_counts
>>> bool((net.counts(x).numpy() == feature_counts(x)).all())
True
"""

from __future__ import annotations

import copy
import math

import numpy as np

from toolkit._util import lazy_class
from toolkit.residual.features import DELTA, FILTER, MIN_SIZE, N_BINS, N_CODES, ORDER, code_digits, grey_batch

__all__ = ["RecastCNN", "to_tensor", "labelled_tensors", "finetune", "predict_proba", "FineTuneLog"]

ALPHA = 216.0


def _torch():
    import torch

    return torch


def to_tensor(patches, device=None):
    """uint8 patches (B x H x W, B x H x W x 3, or one image) -> float tensor B x 1 x H x W in [0, 1]."""
    torch = _torch()
    if isinstance(patches, torch.Tensor):
        t = patches
        if t.ndim == 3:
            t = t[:, None]
        if t.ndim != 4 or t.shape[1] != 1:
            raise ValueError(f"expected a B x 1 x H x W tensor, got shape {tuple(patches.shape)}")
        if min(t.shape[-2:]) < MIN_SIZE:
            raise ValueError(
                f"patches of {tuple(t.shape[-2:])} pixels are smaller than the "
                f"{MIN_SIZE} x {MIN_SIZE} filter support"
            )
        return t.float().to(device) if device is not None else t.float()
    x = grey_batch(patches)
    t = torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0)[:, None]
    return t.to(device) if device is not None else t


def labelled_tensors(patches, labels):
    """Training pairs as tensors: patches B x 1 x H x W in [0, 1] (:func:`to_tensor`) and labels B (long).

    Raises ValueError when the counts differ or a label is not 0 (pristine) / 1 (manipulated).

    >>> x, y = labelled_tensors(np.zeros((2, 16, 16), np.uint8), [0, 1])
    >>> tuple(x.shape), y.tolist()
    ((2, 1, 16, 16), [0, 1])
    """
    torch = _torch()
    x = to_tensor(patches)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} patches but {len(y)} labels")
    if set(np.unique(y.numpy())) - {0, 1}:
        raise ValueError("labels must be 0 (pristine) or 1 (manipulated)")
    return x, y


def _build_module_class():
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class _RecastCNN(nn.Module):
        def __init__(self, alpha: float = ALPHA, hard: bool = False, delta: float = DELTA):
            super().__init__()
            self.conv_along = nn.Conv2d(1, ORDER, (1, len(FILTER) + ORDER - 1))
            self.conv_across = nn.Conv2d(1, ORDER, (ORDER, len(FILTER)))
            self.vq_along = nn.Conv2d(ORDER, N_CODES, 1)
            self.vq_across = nn.Conv2d(ORDER, N_CODES, 1)
            self.fc = nn.Linear(N_BINS, 2)
            self.register_buffer("feat_mean", torch.zeros(N_BINS))
            self.register_buffer("feat_scale", torch.ones(N_BINS))
            self.alpha = float(alpha)
            self.hard = bool(hard)
            self.delta = float(delta)

        # --- initialisation -------------------------------------------------
        @torch.no_grad()
        def init_handcrafted(self):
            """Set conv and VQ weights to the handcrafted pipeline (section III)."""
            w = torch.tensor(FILTER, dtype=torch.float32) * (255.0 / self.delta)
            self.conv_along.weight.zero_()
            self.conv_across.weight.zero_()
            for n in range(ORDER):
                self.conv_along.weight[n, 0, 0, n : n + len(FILTER)] = w  # shifted along the row
                self.conv_across.weight[n, 0, n, :] = w  # shifted across (next row)
            self.conv_along.bias.zero_()
            self.conv_across.bias.zero_()
            u = torch.tensor(code_digits(np.arange(N_CODES)), dtype=torch.float32)  # 81 x 4
            for vq in (self.vq_along, self.vq_across):
                vq.weight.copy_(u[:, :, None, None])
                vq.bias.copy_(-0.5 * (u**2).sum(1))
            return self

        @torch.no_grad()
        def init_classifier(self, coef, intercept, mean=None, scale=None):
            """FC from a linear decision ``coef . ((h - mean) / scale) + intercept`` (logits -f/2, f/2)."""
            coef = torch.as_tensor(np.asarray(coef, np.float64).ravel(), dtype=torch.float32)
            self.fc.weight.copy_(torch.stack([-coef / 2, coef / 2]))
            b = float(np.asarray(intercept).ravel()[0])
            self.fc.bias.copy_(torch.tensor([-b / 2, b / 2]))
            if mean is not None:
                self.feat_mean.copy_(torch.as_tensor(np.asarray(mean), dtype=torch.float32))
            if scale is not None:
                self.feat_scale.copy_(torch.as_tensor(np.asarray(scale), dtype=torch.float32))
            return self

        # --- forward pieces ---------------------------------------------------
        def _vq(self, vq, r):
            # 1 x 1 convolution written as a channels-last matmul: same numbers, ~1.5x faster on CPU
            return r.permute(0, 2, 3, 1) @ vq.weight[:, :, 0, 0].T + vq.bias

        def scores(self, x):
            """Matching scores (B x h x w x 81, channels last) of the 4 branches:
            along(X), along(X^T), across(X), across(X^T); X^T maps stay in transposed coordinates."""
            xt = x.transpose(-1, -2)
            va, vc = self.vq_along, self.vq_across
            return [
                self._vq(va, self.conv_along(x)),
                self._vq(va, self.conv_along(xt)),
                self._vq(vc, self.conv_across(x)),
                self._vq(vc, self.conv_across(xt)),
            ]

        def assign(self, m):
            """Soft (alpha) or hard assignment maps, B x h x w x 81."""
            if self.hard:
                return F.one_hot(m.argmax(-1), N_CODES).to(m.dtype)
            return torch.softmax(self.alpha * m, dim=-1)

        def counts(self, patches):
            """Pooled (unnormalised) histogram B x 162: sums of the assignment maps."""
            x = to_tensor(patches, self.fc.weight.device)
            with torch.no_grad():
                sums = [self.assign(m).sum((1, 2)) for m in self.scores(x)]
            return torch.cat([sums[0] + sums[1], sums[2] + sums[3]], 1)

        def histogram(self, x):
            """Normalised 162-dim histogram (average pooling over image + transpose), B x 162."""
            ms = self.scores(x)
            halves = []
            for a, b in ((0, 1), (2, 3)):
                n = ms[a].shape[1] * ms[a].shape[2] + ms[b].shape[1] * ms[b].shape[2]
                halves.append((self.assign(ms[a]).sum((1, 2)) + self.assign(ms[b]).sum((1, 2))) / n)
            return torch.cat(halves, 1)

        def classify(self, h):
            return self.fc((h - self.feat_mean) / self.feat_scale)

        def forward(self, x):
            """Logits B x 2 (class 1 = manipulated) of a float B x 1 x H x W input in [0, 1]."""
            return self.classify(self.histogram(x))

        def decision_function(self, patches, batch: int = 64):
            """``logit_1 - logit_0`` of uint8 patches (equals the SVM decision with hardmax)."""
            x = to_tensor(patches)
            out = []
            with torch.no_grad():
                for i in range(0, len(x), batch):
                    z = self(x[i : i + batch].to(self.fc.weight.device))
                    out.append((z[:, 1] - z[:, 0]).cpu())
            return torch.cat(out).numpy().astype(np.float64)

        def predict(self, patches, batch: int = 64):
            """0/1 decisions (1 = manipulated)."""
            return (self.decision_function(patches, batch) > 0).astype(int)

        def predict_proba(self, patches, batch: int = 64):
            """Probability of "manipulated" (softmax of the two logits)."""
            return 1.0 / (1.0 + np.exp(-self.decision_function(patches, batch)))

        def with_alpha(self, alpha: float | None = None, hard: bool | None = None):
            """A copy with another softmax parameter (or hardmax)."""
            m = copy.deepcopy(self)
            if alpha is not None:
                m.alpha = float(alpha)
            if hard is not None:
                m.hard = bool(hard)
            return m

        def extra_repr(self) -> str:
            return f"alpha={self.alpha}, hard={self.hard}, delta={self.delta}"

    return _RecastCNN


# built at first use so that ``import toolkit.residual`` does not import torch
class RecastCNN(metaclass=lazy_class(_build_module_class)):
    """The recast network (a ``torch.nn.Module``); see the module docstring.

    ``RecastCNN(alpha=216, hard=False)`` builds it with random PyTorch
    initialisation; :meth:`from_handcrafted` sets every weight from the
    handcrafted pipeline and, given a trained SVM, the classifier.
    """

    @staticmethod
    def from_handcrafted(
        svm=None, alpha: float = ALPHA, hard: bool = False, delta: float = DELTA, device: str = "auto"
    ):
        """The recast CNN with every weight set from the handcrafted pipeline.

        Parameters
        ----------
        svm : a fitted :func:`toolkit.residual.svm.make_svm` pipeline (StandardScaler +
            LinearSVC), or ``None`` (the classifier then outputs 0: histogram use only).
        alpha : softmax parameter (seed: 216); ``hard=True`` uses the hardmax.
        delta : quantisation step in grey levels.
        device : ``"auto"`` (CUDA when present), ``"cpu"``, ...

        Returns
        -------
        torch.nn.Module whose ``counts(patches)`` equals ``feature_counts`` exactly
        with ``hard=True``, and whose decisions equal the SVM's.

        >>> net = RecastCNN.from_handcrafted(hard=True)
        >>> tuple(net.conv_along.weight.shape), tuple(net.vq_across.weight.shape)
        ((4, 1, 1, 7), (81, 4, 1, 1))
        """
        from toolkit._util import resolve_device

        net = RecastCNN(alpha=alpha, hard=hard, delta=delta).init_handcrafted()
        with _torch().no_grad():
            net.fc.weight.zero_()
            net.fc.bias.zero_()
        if svm is not None:
            from toolkit.residual.svm import linear_parts

            coef, intercept, mean, scale = linear_parts(svm)
            net.init_classifier(coef, intercept, mean, scale)
        return net.to(resolve_device(device))


class FineTuneLog(list):
    """Per-epoch records ``{"epoch", "loss", "train_acc", "lr", "seconds"}`` of :func:`finetune`."""

    def table(self):
        import pandas as pd

        return pd.DataFrame(list(self))


def finetune(
    net,
    patches,
    labels,
    epochs: int = 15,
    lr: float = 1e-6,
    decay: float = 5e-4,
    batch_size: int = 36,
    seed: int = 0,
    crop: int | None = None,
    progress: bool = True,
    device: str = "auto",
):
    """Fine-tune every parameter of ``net`` (in place) with the seed's settings.

    Adam, learning rate ``lr / (1 + decay * iteration)`` (Keras-style time decay,
    our reading of "decay 5e-4"), mini-batches of ``batch_size``, cross-entropy;
    the softmax parameter ``net.alpha`` is kept; all constraints are dropped
    (weights and biases of every layer are free). The hardmax is replaced by
    the softmax during training (it has no gradient).

    Parameters
    ----------
    net : a :class:`RecastCNN` (e.g. from :meth:`RecastCNN.from_handcrafted`).
    patches : uint8 B x H x W (x 3) training patches; ``labels``: 0 pristine, 1 manipulated.
    epochs, lr, decay, batch_size : seed: 15, 1e-6, 5e-4, 36.
    crop : when set, each training patch is replaced, at every step, by a random
        ``crop`` x ``crop`` window of it (cuts the CPU cost by (H / crop)^2; the
        network pools, so it accepts any size at test time). ``None``: whole patches.
    seed : seeds the batch order and the crops.

    Returns
    -------
    FineTuneLog with one record per epoch.
    """
    torch = _torch()
    from tqdm.auto import tqdm

    from toolkit._util import resolve_device

    dev = resolve_device(device)
    net.to(dev)
    net.hard = False
    x, y = labelled_tensors(patches, labels)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: 1.0 / (1.0 + decay * it))
    gen = torch.Generator().manual_seed(seed)
    log = FineTuneLog()
    steps = math.ceil(len(x) / batch_size)
    bar = tqdm(total=epochs * steps, disable=not progress, desc="fine-tune")
    import time

    for ep in range(epochs):
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(len(x), generator=gen)
        tot, correct, n = 0.0, 0, 0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = x[idx], y[idx]
            if crop is not None and crop < min(xb.shape[-2:]):
                oy = torch.randint(0, xb.shape[-2] - crop + 1, (len(idx),), generator=gen)
                ox = torch.randint(0, xb.shape[-1] - crop + 1, (len(idx),), generator=gen)
                xb = torch.stack(
                    [xb[j, :, oy[j] : oy[j] + crop, ox[j] : ox[j] + crop] for j in range(len(idx))]
                )
            xb, yb = xb.to(dev), yb.to(dev)
            logits = net(xb)
            loss = torch.nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            n += len(idx)
            bar.update(1)
        net.eval()
        log.append(
            {
                "epoch": ep + 1,
                "loss": tot / n,
                "train_acc": correct / n,
                "lr": opt.param_groups[0]["lr"],
                "seconds": time.perf_counter() - t0,
            }
        )
    bar.close()
    return log


def predict_proba(net, patches, batch: int = 64) -> np.ndarray:
    """Probability of "manipulated" for uint8 patches (shortcut for ``net.predict_proba``)."""
    return net.predict_proba(patches, batch)
