"""A fast recast CNN: the maths of :class:`~toolkit.residual.RecastCNN` with cheap torch ops.

Same network as :mod:`toolkit.residual.cnn` (seed 004, section III), organised for speed:

* **two convolutions** for the 8 shifted residual filters (4 along the filter direction,
  support 1 x 7, and 4 across it, support 4 x 4; the learnable taps are kept in one 4 x 7
  tensor with a fixed support mask), applied to the image and its transpose stacked in the
  batch;
* **codeword matching** in one of two codebooks:

  - ``codebook="product"`` (default): the product quantiser of the handcrafted feature with
    learnable levels: codeword ``k`` with digits ``(d_1..d_4)`` has coordinates
    ``levels[n, d_n]`` and bias ``sum_n bias[n, d_n]``. Its score is a sum over the 4 filters,
    so its softmax over the 81 codewords is the product of 4 softmaxes over 3 levels
    (12 exponentials per pixel instead of 81), and the average pooling of the 81 products
    is one batched matrix product of two 9-column maps. It is a special case of the free
    codebook (:meth:`FastRecastCNN.to_recast` converts it exactly);
  - ``codebook="free"``: the seed's unconstrained 81 x 4 codewords and 81 biases (a 1 x 1
    convolution + softmax over 81), pooled by a fused, chunked softmax-mean whose backward
    recomputes the softmax instead of storing it (slower: 81 exponentials per pixel);

* pooling as a mean; the classifier (fixed standardisation + a 162 -> 2 linear layer) as in
  :class:`RecastCNN`.

Units: the input is the green band in [0, 1] and the filter taps are the seed's unit taps
(``[1, -3, 3, -1]``), as in the seed; a fixed (not learned) factor ``255 / delta`` turns the
residual into quantisation steps, where the codeword levels are -1, 0, 1 and biases -1/2, 0,
-1/2. ``alpha`` is in step units: ``alpha * 1`` is the score gap per step, so alpha of order
1-30 is a soft, trainable assignment, while the seed's alpha = 216 in step units is a hardmax in
practice (runner-up weight <= e^-12 for integer grey levels). The seed's alpha = 216 was quoted
in its own units (scores in ([0, 1] grey)^2 units), i.e. :func:`alpha_step_units` (216) = 0.067
here: very soft. Keeping every learned weight O(1) (unit taps, unit levels) is what lets Adam
at a common learning rate move all layers.

>>> import numpy as np
>>> from toolkit.residual import feature_counts
>>> from toolkit.residual.fast import FastRecastCNN
>>> x = np.random.default_rng(0).integers(0, 256, (2, 32, 32), dtype=np.uint8)
>>> net = FastRecastCNN.from_handcrafted(hard=True)
>>> bool((net.counts(x).numpy() == feature_counts(x)).all())
True
"""

from __future__ import annotations

import contextlib

import numpy as np

from toolkit._util import lazy_class
from toolkit.residual.features import DELTA, FILTER, LEVELS, N_BINS, N_CODES, ORDER, code_digits

__all__ = ["FastRecastCNN", "alpha_step_units"]  # SoftmaxMeanPool, ProductPool, ResidualConv: lazy attributes

#: rows / columns of the combined residual kernel (4 x 7: across 4 x 4, along 1 x 7)
KH, KW = ORDER, len(FILTER) + ORDER - 1


def alpha_step_units(alpha_seed: float, delta: float = DELTA) -> float:
    """The softmax parameter in quantisation-step units of a seed-units ``alpha_seed``.

    In the seed's units (input in [0, 1], unit taps) a score is ``(delta / 255)^2`` times
    the step-unit score, so ``alpha_step = alpha_seed * (delta / 255) ** 2``.

    >>> round(alpha_step_units(216.0), 4)
    0.0673
    """
    if not np.isfinite(alpha_seed) or alpha_seed <= 0:
        raise ValueError(f"alpha must be a positive number, got {alpha_seed}")
    return float(alpha_seed) * (float(delta) / 255.0) ** 2


def _torch():
    import torch

    return torch


def _build():
    from toolkit.residual.cnn import RecastCNN

    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional
    _recast = RecastCNN._cls()

    class SoftmaxMeanPool(torch.autograd.Function):
        """``mean_s softmax(alpha (r_s W + b))`` for r (N, S, 4), W (4, K), b (K,) -> (N, K).

        Worked ``chunk`` positions at a time; the backward recomputes the softmax per chunk
        (no N x S x K tensor is kept)."""

        @staticmethod
        def forward(ctx, r, w, b, alpha, chunk):
            n, s, c = r.shape
            out = r.new_zeros(n, w.shape[1])
            for i in range(0, s, chunk):
                m = torch.addmm(b, r[:, i : i + chunk].reshape(-1, c), w).view(n, -1, w.shape[1])
                out += torch.softmax(m.mul_(alpha), -1).sum(1)
            ctx.save_for_backward(r, w, b)
            ctx.alpha, ctx.chunk = alpha, chunk
            return out / s

        @staticmethod
        def backward(ctx, g):
            r, w, b = ctx.saved_tensors
            alpha, chunk = ctx.alpha, ctx.chunk
            n, s, c = r.shape
            gr, gw, gb = torch.empty_like(r), torch.zeros_like(w), torch.zeros_like(b)
            gs = (g * (alpha / s))[:, None, :]
            for i in range(0, s, chunk):
                rc = r[:, i : i + chunk].reshape(-1, c)
                m = torch.addmm(b, rc, w).view(n, -1, w.shape[1])
                p = torch.softmax(m.mul_(alpha), -1)
                dm = p.mul_(gs - torch.bmm(p, gs.transpose(1, 2))).view(-1, w.shape[1])
                gw.addmm_(rc.T, dm)
                gb += dm.sum(0)
                gr[:, i : i + chunk] = (dm @ w.T).view(n, -1, c)
            return gr, gw, gb, None, None

    @contextlib.contextmanager
    def _native_conv():
        # oneDNN's kernels for these 1-input-channel, 4-output-channel convolutions run at about
        # 1 GFLOP/s on CPU; ATen's native (im2col + GEMM) path is 2.5-3x faster forward + backward.
        # The switch is process-wide while it lasts (other threads' convolutions only change speed).
        prev = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        try:
            yield
        finally:
            torch.backends.mkldnn.enabled = prev

    class ResidualConv(torch.autograd.Function):
        """``conv2d(x, w)`` (no padding, stride 1) on ATen's native CPU path, forward and backward."""

        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            with _native_conv():
                return F.conv2d(x, w)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            with _native_conv():
                gx = torch.nn.grad.conv2d_input(x.shape, w, g) if ctx.needs_input_grad[0] else None
                gw = torch.nn.grad.conv2d_weight(x, w.shape, g) if ctx.needs_input_grad[1] else None
            return gx, gw

    def _level_softmax(r, lev, bias, alpha):
        """Softmax over the 3 levels of ``alpha (lev r + bias)``: r (N, 4, S) -> (N, 4, 3, S)."""
        # alpha folded into the (4 x 3) levels and biases: one pass fewer over N x 4 x 3 x S
        a = (lev * alpha)[None, :, :, None]
        return torch.softmax(torch.addcmul((bias * alpha)[None, :, :, None], r[:, :, None, :], a), 2)

    def _pair_products(p):
        """The 9 products of filters 1, 2 and of filters 3, 4 per position: two (N, 9, S) maps."""
        q12 = (p[:, 0, :, None] * p[:, 1, None, :]).flatten(1, 2)
        q34 = (p[:, 2, :, None] * p[:, 3, None, :]).flatten(1, 2)
        return q12, q34

    def _product_sums(p):
        q12, q34 = _pair_products(p)
        return torch.bmm(q12, q34.transpose(1, 2)).flatten(1)

    class ProductPool(torch.autograd.Function):
        """Sums over positions of the 81 products of 4 softmaxes over 3 levels.

        ``r`` (N, 4, S) residuals, ``lev`` / ``bias`` (4, 3) levels and biases; score of level v of
        filter n: ``alpha (lev[n, v] r_n + bias[n, v])``. Returns (N, 81) sums (code
        ``27 v_1 + 9 v_2 + 3 v_3 + v_4``); hand-written backward (fewer passes than autograd,
        nothing but ``r`` kept between the passes)."""

        @staticmethod
        def forward(ctx, r, lev, bias, alpha):
            out = _product_sums(_level_softmax(r, lev, bias, alpha))
            ctx.save_for_backward(r, lev, bias)
            ctx.alpha = alpha
            return out

        @staticmethod
        def backward(ctx, g):
            # p, q12, q34 are recomputed from r (4 values per position) rather than saved (30):
            # the forward's working set then stays in the cache, and the recomputation costs less
            # than reading the saved maps back from memory
            r, lev, bias = ctx.saved_tensors
            n, _, s = r.shape
            p = _level_softmax(r, lev, bias, ctx.alpha)
            q12, q34 = _pair_products(p)
            g = g.reshape(n, LEVELS**2, LEVELS**2)
            dq12 = torch.bmm(g, q34).view(n, LEVELS, LEVELS, s)
            dq34 = torch.bmm(g.transpose(1, 2), q12).view(n, LEVELS, LEVELS, s)
            dp = torch.empty_like(p)
            # d out / d p_f: the other filter of the pair contracted with dq, one level at a time
            for f, dq, other, rows in (
                (0, dq12, 1, False),
                (1, dq12, 0, True),
                (2, dq34, 3, False),
                (3, dq34, 2, True),
            ):
                d, po = dp[:, f], p[:, other]
                m = dq.transpose(1, 2) if rows else dq  # m[:, :, v]: dq with the other level = v
                torch.mul(m[:, :, 0], po[:, 0:1], out=d)
                for v in range(1, LEVELS):
                    d.addcmul_(m[:, :, v], po[:, v : v + 1])
            ds = torch.ops.aten._softmax_backward_data(dp, p, 2, p.dtype)  # p (dp - <dp, p>)
            dlev = (ds * r[:, :, None, :]).sum((0, 3)).mul_(ctx.alpha)
            dr = (ds * lev[None, :, :, None]).sum(2).mul_(ctx.alpha)
            return dr, dlev, ds.sum((0, 3)).mul_(ctx.alpha), None

    class _Fast(nn.Module):
        def __init__(self, alpha=10.0, hard=False, delta=DELTA, codebook="product", chunk=512):
            super().__init__()
            if codebook not in ("product", "free"):
                raise ValueError(f"codebook must be 'product' or 'free', got {codebook!r}")
            if not hard and (not np.isfinite(alpha) or alpha <= 0):
                raise ValueError(f"alpha must be a positive number, got {alpha}")
            self.codebook, self.alpha, self.hard, self.delta = (
                codebook,
                float(alpha),
                bool(hard),
                float(delta),
            )
            self.chunk = int(chunk)
            self.pool_samples = 4  # samples per product-pool call (cache-sized passes)
            self.taps = nn.Parameter(torch.zeros(2 * ORDER, 1, KH, KW))
            mask = torch.zeros(2 * ORDER, 1, KH, KW)
            mask[:ORDER, :, 0, :] = 1  # along: row 0, 7 columns
            mask[ORDER:, :, :, : len(FILTER)] = 1  # across: 4 rows, 4 columns
            self.register_buffer("mask", mask)
            self.register_buffer("scale", torch.tensor(255.0 / self.delta))
            if codebook == "product":
                self.levels = nn.Parameter(torch.zeros(2, ORDER, LEVELS))  # twin, filter, level
                self.level_bias = nn.Parameter(torch.zeros(2, ORDER, LEVELS))
            else:
                self.codewords = nn.Parameter(torch.zeros(2, ORDER, N_CODES))
                self.code_bias = nn.Parameter(torch.zeros(2, N_CODES))
            self.fc = nn.Linear(N_BINS, 2)
            self.register_buffer("feat_mean", torch.zeros(N_BINS))
            self.register_buffer("feat_scale", torch.ones(N_BINS))

        @torch.no_grad()
        def init_handcrafted(self):
            w = torch.tensor(FILTER, dtype=torch.float32)
            self.taps.zero_()
            for n in range(ORDER):
                self.taps[n, 0, 0, n : n + len(FILTER)] = w
                self.taps[ORDER + n, 0, n, : len(FILTER)] = w
            v = torch.arange(LEVELS, dtype=torch.float32) - (LEVELS - 1) // 2  # -1, 0, 1
            if self.codebook == "product":
                self.levels.copy_(v.expand(2, ORDER, LEVELS))
                self.level_bias.copy_((-0.5 * v**2).expand(2, ORDER, LEVELS))
            else:
                u = torch.tensor(code_digits(np.arange(N_CODES)), dtype=torch.float32)  # 81 x 4
                self.codewords.copy_(u.T.expand(2, ORDER, N_CODES))
                self.code_bias.copy_((-0.5 * (u**2).sum(1)).expand(2, N_CODES))
            return self

        def init_classifier(self, coef, intercept, mean=None, scale=None):
            """FC from a linear decision ``coef . ((h - mean) / scale) + intercept``."""
            from toolkit.residual.cnn import RecastCNN

            return RecastCNN._cls().init_classifier(self, coef, intercept, mean, scale)

        # --- forward ---------------------------------------------------------
        def residual_maps(self, x):
            """Residuals (steps) of ``x`` N x 1 x H x W: along N x 4 x H x W-6, across N x 4 x H-3 x W-3."""
            w = self.taps * self.mask * self.scale
            # two unpadded convolutions on their own supports (not one padded 4 x 7 conv sliced
            # afterwards): 92 instead of 224 taps per position, and no slice whose backward
            # zero-fills a full-size gradient
            conv = ResidualConv.apply if x.device.type == "cpu" else F.conv2d
            return conv(x, w[:ORDER, :, :1, :]), conv(x, w[ORDER:, :, :, : len(FILTER)])

        def _pool_product(self, r, t):
            n, c, h, w = r.shape
            r = r.reshape(n, c, h * w)
            if not self.hard:
                # a few samples at a time: the N x 4 x 3 x S passes then stay in the cache (about 2.5x
                # faster on 2 cores than one pass over the batch); split, not slicing, so that the
                # backward concatenates instead of adding into zero-filled copies of r
                lev, bias = self.levels[t], self.level_bias[t]
                return torch.cat(
                    [ProductPool.apply(rc, lev, bias, self.alpha) for rc in r.split(self.pool_samples)]
                )
            s = r[:, :, None] * self.levels[t][None, :, :, None] + self.level_bias[t][None, :, :, None]
            p = F.one_hot(s.argmax(2), LEVELS).to(r.dtype).transpose(2, 3)  # N x 4 x 3 x S
            return _product_sums(p)

        def _pool_free(self, r, t):
            n, c, h, w = r.shape
            rl = r.permute(0, 2, 3, 1).reshape(n, h * w, c).contiguous()
            if self.hard:
                m = rl @ self.codewords[t] + self.code_bias[t]
                return F.one_hot(m.argmax(-1), N_CODES).to(r.dtype).sum(1)
            return SoftmaxMeanPool.apply(rl, self.codewords[t], self.code_bias[t], self.alpha, self.chunk) * (
                h * w
            )

        def _sums(self, x):
            """Unnormalised pooled assignments (N x 162) and the positions per half (2,)."""
            if x.shape[-1] == x.shape[-2]:
                parts = [torch.cat([x, x.transpose(-1, -2)], 0)]
            else:
                parts = [x, x.transpose(-1, -2).contiguous()]
            pool = self._pool_product if self.codebook == "product" else self._pool_free
            sums, npos = [0, 0], [0, 0]
            b = len(x)
            for xx in parts:
                for t, r in enumerate(self.residual_maps(xx)):
                    c = pool(r, t)
                    c = c[:b] + c[b:] if len(parts) == 1 else c
                    sums[t] = sums[t] + c
                    npos[t] += r.shape[-1] * r.shape[-2] * (2 if len(parts) == 1 else 1)
            return torch.cat(sums, 1), npos

        def histogram(self, x):
            """Normalised 162-dim histogram, B x 162, of a float B x 1 x H x W input in [0, 1]."""
            s, npos = self._sums(x)
            return torch.cat([s[:, :N_CODES] / npos[0], s[:, N_CODES:] / npos[1]], 1)

        def counts(self, patches):
            """Pooled (unnormalised) histogram B x 162 of uint8 patches (no gradient)."""
            from toolkit.residual.cnn import to_tensor

            with torch.no_grad():
                return self._sums(to_tensor(patches, self.fc.weight.device))[0]

        def classify(self, h):
            return self.fc((h - self.feat_mean) / self.feat_scale)

        def forward(self, x):
            """Logits B x 2 (class 1 = manipulated) of a float B x 1 x H x W input in [0, 1]."""
            return self.classify(self.histogram(x))

        def features(self, patches, batch: int = 64) -> np.ndarray:
            """Normalised histograms (B x 162, float64) of uint8 patches, no gradient."""
            from toolkit.residual.cnn import to_tensor

            x = to_tensor(patches)
            with torch.no_grad():
                out = [
                    self.histogram(x[i : i + batch].to(self.fc.weight.device)).cpu()
                    for i in range(0, len(x), batch)
                ]
            return torch.cat(out).numpy().astype(np.float64)

        # the decision helpers of RecastCNN (uint8 patches in, numpy out) serve this module too
        decision_function = _recast.decision_function
        predict = _recast.predict
        predict_proba = _recast.predict_proba
        with_alpha = _recast.with_alpha

        @torch.no_grad()
        def to_recast(self):
            """The equivalent :class:`~toolkit.residual.RecastCNN` (same outputs), e.g. for heat maps."""
            from toolkit.residual.cnn import RecastCNN

            net = RecastCNN(alpha=self.alpha, hard=self.hard, delta=self.delta).to(self.fc.weight.device)
            w = self.taps * self.mask * self.scale
            net.conv_along.weight.copy_(w[:ORDER, :, :1, :])
            net.conv_across.weight.copy_(w[ORDER:, :, :, : len(FILTER)])
            net.conv_along.bias.zero_()
            net.conv_across.bias.zero_()
            d = torch.as_tensor(code_digits(np.arange(N_CODES)) + (LEVELS - 1) // 2)  # 81 x 4 level indices
            for t, vq in enumerate((net.vq_along, net.vq_across)):
                if self.codebook == "product":
                    cw = torch.stack([self.levels[t, n, d[:, n]] for n in range(ORDER)], 1)  # 81 x 4
                    cb = sum(self.level_bias[t, n, d[:, n]] for n in range(ORDER))
                else:
                    cw, cb = self.codewords[t].T, self.code_bias[t]
                vq.weight.copy_(cw[:, :, None, None])
                vq.bias.copy_(cb)
            net.fc.load_state_dict(self.fc.state_dict())
            net.feat_mean.copy_(self.feat_mean)
            net.feat_scale.copy_(self.feat_scale)
            return net

        def extra_repr(self) -> str:
            return f"codebook={self.codebook}, alpha={self.alpha}, hard={self.hard}, delta={self.delta}"

    return _Fast, SoftmaxMeanPool, ProductPool, ResidualConv


_BUILT = None


def _classes():
    global _BUILT
    if _BUILT is None:
        _BUILT = _build()
    return _BUILT


class FastRecastCNN(metaclass=lazy_class(lambda: _classes()[0])):
    """The fast recast network (a ``torch.nn.Module``); see the module docstring.

    ``FastRecastCNN(alpha=10, hard=False, codebook="product")`` builds it with zero weights;
    :meth:`from_handcrafted` sets them from the handcrafted pipeline (and an SVM).
    """

    @staticmethod
    def from_handcrafted(
        svm=None,
        alpha: float = 10.0,
        hard: bool = False,
        delta: float = DELTA,
        codebook: str = "product",
        device: str = "cpu",
    ):
        """The fast recast CNN with every weight set from the handcrafted pipeline.

        Parameters
        ----------
        svm : a fitted :func:`toolkit.residual.svm.make_svm` pipeline, or ``None`` (zero classifier).
        alpha : softmax parameter in quantisation-step units (see the module docstring);
            ``hard=True``: hardmax (then ``counts`` equals :func:`~toolkit.residual.feature_counts`).
        delta : quantisation step, grey levels.
        codebook : ``"product"`` (fast, learnable levels) or ``"free"`` (81 free codewords).
        device : ``"cpu"``, ``"cuda"`` or ``"auto"``.

        >>> net = FastRecastCNN.from_handcrafted(hard=True)
        >>> tuple(net.taps.shape), tuple(net.levels.shape)
        ((8, 1, 4, 7), (2, 4, 3))
        """
        from toolkit._util import resolve_device

        net = FastRecastCNN(alpha=alpha, hard=hard, delta=delta, codebook=codebook).init_handcrafted()
        with _torch().no_grad():
            net.fc.weight.zero_()
            net.fc.bias.zero_()
        if svm is not None:
            from toolkit.residual.svm import linear_parts

            net.init_classifier(*linear_parts(svm))
        return net.to(resolve_device(device))


def __getattr__(name):
    lazy = {"SoftmaxMeanPool": 1, "ProductPool": 2, "ResidualConv": 3}
    if name in lazy:
        return _classes()[lazy[name]]
    raise AttributeError(name)
