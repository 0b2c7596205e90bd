"""Functions for neural networks where one node is more stable or faster than a chain of ops:
LogSoftmax, Softmax, LogSumExp, CrossEntropy, NegativeLogLikelihood, Linear, BatchNorm and
BinaryCrossEntropy; for the sequence lectures Embedding (a gather whose backward is a scatter-add)
and LayerNorm.

log_softmax and logsumexp are computed in a stable form, subtracting the maximum before
exponentiating, so logits of ±1000 give finite values and gradients; cross-entropy works on
logits for the same reason. The class-index losses take scores (N, C) or per pixel (N, C, H, W),
with a weight per class and ignored targets. Conv2d and MaxPool2d live in functions/conv.py (and
are re-exported here, their old home).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, kernels
from ..autograd import Function
from .conv import Conv2d, MaxPool2d  # noqa: F401  (their old home; they live in functions/conv.py)

xp = backend.xp


def _shifted(a, axis):
    """a - max(a, axis): the largest entry becomes 0, so exp() cannot overflow."""
    m = a.max(axis=axis, keepdims=True)
    m = xp(a).where(xp(a).isfinite(m), m, 0)   # a row of all -inf stays -inf, not nan
    return a - m, m


class LogSoftmax(Function):
    """y_i = a_i - log Σ_j e^{a_j};  dL/da = g - softmax(a) Σ_j g_j.

    Stable form: computed as s - log Σ e^s with s = a - max(a), so exp() cannot overflow.
    """

    @staticmethod
    def forward(ctx, a, axis=-1):
        m = xp(a)
        s, _ = _shifted(a, axis)
        y = s - m.log(m.exp(s).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - xp(y).exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


class Softmax(Function):
    """y_i = e^{a_i} / Σ_j e^{a_j};  dL/da = y (g - Σ_j g_j y_j).  Stable form: shifted by max(a)."""

    @staticmethod
    def forward(ctx, a, axis=-1):
        e = xp(a).exp(_shifted(a, axis)[0])
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSumExp(Function):
    """y = log Σ e^{a} over `axis`;  dy/da = softmax(a).  Stable form: max(a) + log Σ e^{a - max(a)}."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        m = xp(a)
        s, shift = _shifted(a, axis)
        y = m.log(m.exp(s).sum(axis=axis, keepdims=True)) + shift
        ctx.save_for_backward(a, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        if keepdims:
            return y
        return y.reshape(()) if axis is None else y.squeeze(axis)

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        if not ctx.keepdims:
            grad = grad.reshape(y.shape)
        return grad * xp(a).exp(a - y)


# ----------------------------------------------------------------------------- class-index losses
# Logits or log-probabilities z have the classes on axis 1: (N, C) or (N, C, d1, d2, ...), one
# class index per position in target, of shape (N,) or (N, d1, d2, ...). Each position i counts
# with the weight w_i = weight[t_i] (1 without a weight), and w_i = 0 where t_i is ignore_index;
# 'mean' divides by Σ w_i, the weight of the targets that count, as in PyTorch. `target[:, None]`
# puts a position's class index beside the class axis: comparing it with the column numbers
# 0 .. C-1 gives the one-hot matrix, and take_along_axis gathers each position's target score.

_column_cache: dict = {}


def _columns(classes, target):
    """The column numbers 0 .. C-1 shaped (C, 1, ...) to line up with target[:, None]; made once
    per device, dtype and rank (the fused kernels compare them with the target themselves)."""
    key = (classes, target.dtype.str, type(target), target.ndim)
    columns = _column_cache.get(key)
    if columns is None:
        columns = xp(target).arange(classes, dtype=target.dtype).reshape((classes,) + (1,) * (target.ndim - 1))
        _column_cache[key] = columns
    return columns


def _onehot(target, classes):
    """onehot[i, c] = (t_i == c), shaped (N, C, d1, ...) like the scores; False everywhere in the
    row of a label outside [0, C)."""
    return _columns(classes, target) == target[:, None]


def _clipped(target, classes):
    """The labels moved into [0, classes) (a gather with a label outside would fail or wrap around;
    that row is ruled out afterwards). minimum(maximum()), not clip: a third of the time in NumPy."""
    m = xp(target)
    return m.minimum(m.maximum(target, 0), classes - 1)


def _subtract_onehot(g, target):
    """g - onehot(t), in place: g[i, t_i] -= 1 for every position i (a label outside [0, C) at the
    edge instead: its row is ruled out afterwards)."""
    if g.ndim == 2:                                     # (N, C): plain indexing, twice as fast
        g[xp(g).arange(g.shape[0]), _clipped(target, g.shape[1])] -= 1
    else:
        g -= _onehot(target, g.shape[1])
    return g


def _label_inside(target, classes):
    """True for each label in [0, classes). An array on the labels' device, never read back:
    reading it would make the GPU step wait (and CuPy would wrap a bad label around silently)."""
    return (target >= 0) & (target < classes)


def _target_weights(target, weight, ignore_index, dtype):
    """w_i = weight[t_i] (1 without a weight), 0 where t_i == ignore_index."""
    kept = target != ignore_index
    if weight is None:
        return kept.astype(dtype)
    return (weight[_clipped(target, weight.shape[0])] * kept).astype(dtype)   # a bad label's row is NaN anyway


def _picked(a, target):
    """a[i, t_i] for each position i: the score of its target class, gathered along axis 1. A label
    outside [0, C) reads a class at the edge instead; _rule_out then makes its row NaN."""
    m = xp(a)
    safe = _clipped(target, a.shape[1])
    if a.ndim == 2:                                     # (N, C): plain indexing, 5x faster on small arrays
        return a[m.arange(a.shape[0]), safe]
    return m.take_along_axis(a, safe[:, None], axis=1)[:, 0]


def _rule_out(rows, target, ignore_index, classes):
    """Per position: 0 where the target is ignored, NaN where it is a label outside [0, C)."""
    m = xp(rows)
    bad = m.where(_label_inside(target, classes), rows, rows.dtype.type("nan"))
    return m.where(target == ignore_index, 0, bad)


def _reduce_losses(ctx, losses, w, reduction):
    """'none': the losses; 'sum': Σ losses; 'mean': Σ losses / Σ w (NaN when every target is ignored).
    0-d losses and w are the sums already (the fused cross-entropy adds them up in one launch)."""
    ctx.reduction = reduction
    if reduction == "none":
        return losses
    loss_sum = losses.sum() if losses.ndim else losses
    if reduction == "sum":
        return loss_sum
    ctx.total_weight = w.sum() if w.ndim else w
    with np.errstate(invalid="ignore", divide="ignore"):
        return loss_sum / ctx.total_weight


def _grad_scale(ctx, grad):
    """dL/dloss_i per position: grad / Σ w ('mean'), grad ('sum' and 'none')."""
    if ctx.reduction != "mean":
        return grad
    with np.errstate(invalid="ignore", divide="ignore"):
        return grad / ctx.total_weight


class CrossEntropy(Function):
    """L_i = w_i · (-log softmax(z_i)[t_i]) for logits z (N, C, ...) and class indices t (N, ...),
    summed ('sum'), divided by Σ w_i ('mean') or kept per position ('none').

    dL/dz_i = w_i (softmax(z_i) - onehot(t_i))   (times dL/dL_i: 1 / Σ w for 'mean').
    Stable form: works on logits through a shifted log-softmax, so it is finite for any logits.
    One node for speed: its backward is the line above, not a chain through exp, sum and log.

    weight (C,) gives w_i = weight[t_i]; a target equal to ignore_index has w_i = 0: no loss and
    no gradient, and it does not count in the mean. label_smoothing = ε mixes the one-hot target
    with the uniform one, as PyTorch does: L_i = (1 - ε) w_i (-log p_i[t_i]) + (ε / C) Σ_c weight_c
    (-log p_i[c]), whose gradient adds (ε / C)(p_i Σ_c weight_c - weight).

    A label outside [0, C) (other than ignore_index) gives its row a NaN loss and a NaN gradient,
    so the mean is NaN too: on "cuda" a NaN loss means a label outside [0, C). The range is not
    checked on the host, which would make every GPU step wait (F.cross_entropy checks it on the
    CPU: IndexError).
    """

    @staticmethod
    def forward(ctx, z, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        m = xp(z)
        classes = z.shape[1]
        fused = kernels.get("cross_entropy_forward", z)
        if fused is None:
            w = _target_weights(target, weight, ignore_index, z.dtype)
            s, _ = _shifted(z, 1)
            e = m.exp(s)
            total = e.sum(axis=1, keepdims=True)
            losses = _rule_out(w * (m.log(total[:, 0]) - _picked(s, target)), target, ignore_index, classes)
        else:                                  # the same steps in 6 GPU launches ('mean') instead of about 20
            shift = z.max(axis=1, keepdims=True)
            e = kernels.get("exp_shifted", z)(z, shift)
            total = e.sum(axis=1, keepdims=True)
            # per position and class, two numbers on a last axis of size 2: w_i loss_i and w_i at the
            # target's column (0 elsewhere), so that one reduction adds up the losses and Σ w together
            class_weight = 1.0 if weight is None else weight.reshape(_columns(classes, target).shape)[..., None]
            planes = fused(e[..., None], total[..., None], z[..., None], shift[..., None], target[:, None, ..., None],
                           _columns(classes, target)[..., None], class_weight, _planes(z), classes, ignore_index,
                           m.nan)
            if reduction == "none" or label_smoothing:
                both = planes.sum(axis=1)                       # per position
                losses, w = both[..., 0], both[..., 1]
            else:
                losses, w = planes.reshape(-1, 2).sum(axis=0)   # summed over every position already
        if label_smoothing:
            s = _shifted(z, 1)[0] if fused is not None else s
            smooth = label_smoothing / classes * _smoothing_loss(s, total, weight)
            losses = (1 - label_smoothing) * losses + m.where(target == ignore_index, 0, smooth)
        ctx.save_for_backward(e, total, target, weight)
        ctx.ignore_index, ctx.label_smoothing = ignore_index, label_smoothing
        return _reduce_losses(ctx, losses, w, reduction)

    @staticmethod
    def backward(ctx, grad):
        e, total, target, weight = ctx.saved_tensors
        m = xp(e)
        classes = e.shape[1]
        scale = _grad_scale(ctx, grad)
        fused = kernels.get("cross_entropy_backward", e)
        if fused is None:
            w = _target_weights(target, weight, ctx.ignore_index, e.dtype)
            with np.errstate(invalid="ignore"):     # 0 · inf where every target is ignored: ruled out to 0
                rows = _rule_out(w * scale, target, ctx.ignore_index, classes)
            g = _subtract_onehot(e / total, target)          # softmax(z) - onehot(t), in place
            g *= rows[:, None]
        else:   # one kernel instead of about 10 launches: softmax, the one-hot subtraction, the scaling, the rule-outs
            if weight is None:
                row_weight = 1.0
            else:                              # the kernel rules the ignored and bad targets out itself
                row_weight = weight[_clipped(target, classes)][:, None]
            g = fused(e, total, target[:, None], _columns(classes, target), row_weight,
                      scale[:, None] if scale.ndim else scale, classes, ctx.ignore_index, m.nan)
        if ctx.label_smoothing:
            eps = ctx.label_smoothing
            p = e / total
            if weight is None:
                smooth = p * classes - 1
            else:
                smooth = p * weight.sum() - weight.reshape((classes,) + (1,) * (p.ndim - 2))
            kept = m.where(target == ctx.ignore_index, 0, eps / classes * scale)
            g = (1 - eps) * g + smooth * kept[:, None]
        return g, None


_plane_cache: dict = {}


def _planes(like):
    """[0, 1] as int32 on the device of `like`: the last axis of the fused cross-entropy's output."""
    key = type(like)
    if key not in _plane_cache:
        _plane_cache[key] = xp(like).arange(2, dtype=np.int32)
    return _plane_cache[key]


def _smoothing_loss(s, total, weight):
    """Σ_c weight_c (-log softmax(z)[c]) per position (weight_c = 1 without a weight), from the
    shifted logits s = z - max and total = Σ e^s: -log softmax(z)[c] = log total - s_c."""
    minus_log_p = xp(s).log(total) - s
    if weight is not None:
        minus_log_p = minus_log_p * weight.reshape((s.shape[1],) + (1,) * (s.ndim - 2))
    return minus_log_p.sum(axis=1)


class NegativeLogLikelihood(Function):
    """L_i = -w_i · a_i[t_i] for log-probabilities a (N, C, ...) and class indices t (N, ...);
    dL/da_i = -w_i · onehot(t_i). Reduced, weighted and ignored as in CrossEntropy (F.nll_loss).

    One node: a pick and a weighting, where a chain would index, multiply and mask. A label
    outside [0, C) makes its row's loss and gradient NaN, as in CrossEntropy.
    """

    @staticmethod
    def forward(ctx, a, target, weight=None, ignore_index=-100, reduction="mean"):
        classes = a.shape[1]
        w = _target_weights(target, weight, ignore_index, a.dtype)
        losses = _rule_out(-w * _picked(a, target), target, ignore_index, classes)
        ctx.save_for_backward(target, w)
        ctx.ignore_index, ctx.classes = ignore_index, classes
        return _reduce_losses(ctx, losses, w, reduction)

    @staticmethod
    def backward(ctx, grad):
        target, w = ctx.saved_tensors
        with np.errstate(invalid="ignore"):         # 0 · inf where every target is ignored: ruled out to 0
            rows = _rule_out(-w * _grad_scale(ctx, grad), target, ctx.ignore_index, ctx.classes)
        return _onehot(target, ctx.classes) * rows[:, None], None


# ----------------------------------------------------------------------------- layers

class Linear(Function):
    """Y = X Wᵀ + b, W of shape (out, in) as in torch.nn.Linear;
    dL/dX = G W,  dL/dW = Gᵀ X,  dL/db = Σ_rows G.

    One node for speed: instead of Permute, MatMul and Add. X may have leading axes.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        if x.ndim > 2:      # (..., in) as one (rows, in) matrix: one BLAS call, not one per leading index
            y = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        else:
            y = x @ weight.T
        if bias is not None:
            y += bias                      # y is a fresh array: adding in place is safe
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        rows = grad.reshape(-1, grad.shape[-1])
        grad_x = (rows @ weight).reshape(x.shape) if need_x else None
        grad_w = rows.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        grad_b = rows.sum(axis=0) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def _channel_shape(x):
    """(1, C, 1, ...): a per-channel vector of shape (C,) reshaped to broadcast against x (N, C, ...)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _channel_sum(a, b=None):
    """Σ a (or Σ a·b, without building the product) over every axis but the channel axis 1: shape (C,).
    einsum over an (N, C, L) view: about 3 times faster than a.sum(axis=(0, 2, 3)) in NumPy."""
    m = xp(a)
    rows = a.reshape(a.shape[0], a.shape[1], -1)
    if b is None:
        return m.einsum("ncl->c", rows)
    return m.einsum("ncl,ncl->c", rows, b.reshape(rows.shape))


class BatchNorm(Function):
    """Batch normalisation of x (N, C, ...) per channel c (axis 1), over the M = N·(other sizes)
    values of that channel:

        x̂ = (x - μ_c) / √(σ²_c + eps),    y = γ_c x̂ + β_c        (γ = weight, β = bias, both (C,))

    training=True: μ, σ² are the batch's mean and biased variance. They depend on x, so the
    gradient has two more terms than a plain scaling (sums per channel, g = dL/dy):
        dL/dx = γ / (M √(σ² + eps)) · (M g - Σ g - x̂ Σ g x̂),   dL/dγ = Σ g x̂,   dL/dβ = Σ g
    and the running statistics, when given, are updated in place as in torch.batch_norm:
        running_mean ← (1 - momentum) running_mean + momentum μ
        running_var  ← (1 - momentum) running_var  + momentum σ² M / (M - 1)   (unbiased)
    training=False: μ, σ² are running_mean and running_var, constants: dL/dx = γ g / √(σ² + eps).

    One node for speed: the chain mean, sub, mul, mean, add, sqrt, div, mul, add has nine nodes
    and nine temporary arrays, and its backward walks every one of them.
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, running_mean=None, running_var=None, training=False,
                momentum=0.1, eps=1e-5):
        m = xp(x)
        shape = _channel_shape(x)
        count = x.size // x.shape[1]
        if weight is not None:                 # the per-channel vectors in x's dtype, as the kernels need
            weight = weight.astype(x.dtype, copy=False)
        if bias is not None:
            bias = bias.astype(x.dtype, copy=False)
        if training:
            # two passes, the second removing the first mean's rounding error: for x such as 1e4 ± 1
            # a float32 mean is off by up to 5e-4, and x - mean would carry that into every x̂
            mean = _channel_sum(x) / count
            centred = x - mean.reshape(shape)
            error = _channel_sum(centred) / count        # the mean of `centred`: about 0
            var = _channel_sum(centred, centred) / count - error * error
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * (mean + error)
                running_var *= 1 - momentum
                running_var += momentum * count / max(count - 1, 1) * var
        else:
            centred, error, var = x, running_mean.astype(x.dtype, copy=False), running_var.astype(x.dtype, copy=False)
        invstd = 1 / m.sqrt(var + eps)
        gamma = 1 if weight is None else weight.reshape(shape)
        beta = 0 if bias is None else bias.reshape(shape)
        fused = kernels.get("batch_norm_forward", x)
        if fused is None:
            # x̂ = (centred - error) invstd, y = γ x̂ + β; written in place where the array is ours
            # (in training `centred` is), which saves NumPy three temporaries of x's size
            if centred is x:                   # eval: x is the caller's array; make a new one
                xhat = x - error.reshape(shape)
            else:                              # training: `centred` is ours; change it in place
                xhat = centred
                xhat -= error.reshape(shape)
            xhat *= invstd.reshape(shape)
            y = xhat * gamma if weight is not None else xhat.copy()     # y is not x̂: the caller may change it
            if bias is not None:
                y += beta
        else:                                  # one GPU kernel instead of 4 launches and 3 temporaries
            xhat, y = fused(centred, error.reshape(shape), invstd.reshape(shape), gamma, beta)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.training = training
        return y

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        m = xp(xhat)
        inputs = len(ctx.needs_input_grad)                   # BatchNorm.apply(x) alone has one input
        need_x, need_w, need_b = (tuple(ctx.needs_input_grad) + (False, False))[:3]
        shape = _channel_shape(xhat)
        sum_g = _channel_sum(grad) if need_b or (need_x and ctx.training) else None
        sum_gx = _channel_sum(grad, xhat) if need_w or (need_x and ctx.training) else None
        grad_x = None
        if need_x:
            scale = invstd if weight is None else weight * invstd             # γ / √(σ² + eps), (C,)
            if not ctx.training:
                grad_x = grad * scale.reshape(shape)
            else:
                count = xhat.size // xhat.shape[1]
                fused = kernels.get("batch_norm_backward", grad)
                if fused is None:
                    # (γ invstd / M) (M g - Σ g - x̂ Σ g x̂), written as g k M - (x̂ k Σ g x̂ + k Σ g) with
                    # k = γ invstd / M, in place: two temporaries of x's size instead of five
                    k = scale / count
                    grad_x = xhat * (k * sum_gx).reshape(shape)
                    grad_x += (k * sum_g).reshape(shape)
                    grad_x = m.subtract(grad * (k * count).reshape(shape), grad_x, out=grad_x)
                else:                          # one GPU kernel instead of 6 launches
                    grad_x = fused(grad, xhat, (scale / count).reshape(shape), count, sum_g.reshape(shape),
                                   sum_gx.reshape(shape))
        return (grad_x, (sum_gx if need_w else None), (sum_g if need_b else None))[:inputs]


class BinaryCrossEntropy(Function):
    """L = -(y log p + (1 - y) log(1 - p)) per element, each log clamped at -100 as in PyTorch;
    dL/dp = (p - y) / (p (1 - p)), with the denominator kept >= 1e-12 so p = 0 or 1 stays finite;
    dL/dy = log(1 - p) - log(p)."""

    @staticmethod
    def forward(ctx, p, y):
        m = xp(p)
        with np.errstate(divide="ignore"):
            log_p = m.maximum(m.log(p), -100)
            log_q = m.maximum(m.log1p(-p), -100)
        ctx.save_for_backward(p, y, log_p, log_q)
        return -(y * log_p + (1 - y) * log_q)

    @staticmethod
    def backward(ctx, grad):
        p, y, log_p, log_q = ctx.saved_tensors
        need_p, need_y = ctx.needs_input_grad
        grad_p = grad * (p - y) / xp(p).maximum(p * (1 - p), 1e-12) if need_p else None
        grad_y = grad * (log_q - log_p) if need_y else None
        return grad_p, grad_y


# ----------------------------------------------------------------------------- the sequence lectures

class Embedding(Function):
    """y[p] = W[i_p]: each index i_p picks a row of the table W (num_embeddings, embedding_dim), so y has
    the indices' shape and one more axis of size embedding_dim;
    dL/dW[r] = Σ_{p : i_p = r} g_p, a scatter-add (a row picked twice gets both gradients),
    dL/dW[padding_idx] = 0, and with scale_grad_by_freq each row's sum is divided by how often it was
    picked. The indices are constants: they get no gradient.

    An index outside [0, num_embeddings) gives a row of NaN and no gradient, unless checked=True says
    that the caller has made sure there is none (F.embedding does on the CPU: IndexError). On "cuda"
    the indices are not checked, since reading them back would make every step wait for the GPU.
    """

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None, scale_grad_by_freq=False, checked=False):
        m = xp(weight)
        indices, inside = indices.astype(np.int64, copy=False), None
        if not checked:                          # rows outside the table: read row 0, then make them NaN
            inside = (indices >= 0) & (indices < weight.shape[0])
            indices = m.where(inside, indices, 0)
        y = m.take(weight, indices, axis=0)                      # the gather: y[p] = W[i_p]
        if inside is not None:
            y = m.where(inside[..., None], y, weight.dtype.type("nan"))
        ctx.save_for_backward(indices, inside)
        ctx.rows, ctx.padding_idx, ctx.scale_grad_by_freq = weight.shape[0], padding_idx, scale_grad_by_freq
        return y

    @staticmethod
    def backward(ctx, grad):
        indices, inside = ctx.saved_tensors
        m = xp(grad)
        rows, dim = ctx.rows, grad.shape[-1]
        if inside is not None:
            grad = m.where(inside[..., None], grad, 0)           # an index outside the table: no gradient
        grad_w = m.zeros((rows, dim), dtype=grad.dtype)
        # grad_w[i_p, c] += g[p, c] for every position p and column c, as one scatter-add into the flat
        # table at i_p · dim + c: NumPy's add.at takes its fast 1-D loop there (3x faster than on the
        # rows of the 2-D table, and faster than sorting or bincount); CuPy adds atomically
        flat = (indices.reshape(-1, 1) * dim + m.arange(dim)).reshape(-1)
        backend.scatter_add(grad_w.reshape(-1), flat, grad.reshape(-1))
        if ctx.scale_grad_by_freq:
            counted = None if inside is None else inside.reshape(-1).astype(grad.dtype)
            counts = m.bincount(indices.reshape(-1), weights=counted, minlength=rows)
            grad_w /= m.maximum(counts, 1).astype(grad.dtype, copy=False)[:, None]
        if ctx.padding_idx is not None:
            grad_w[ctx.padding_idx] = 0                          # the padding row gets no gradient
        return grad_w, None


class LayerNorm(Function):
    """Layer normalisation over the last axes (normalized_shape) of x: each position (an index of the
    leading axes) is normalised over its own M values, the product of normalized_shape:

        x̂ = (x - μ) / √(σ² + eps),    y = γ x̂ + β      (μ, σ²: the mean and biased variance there)

    With g = dL/dy, ĝ = γ g and the means taken over the M values of each position:
        dL/dx = (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) / √(σ² + eps)
        dL/dγ = Σ_positions g x̂,    dL/dβ = Σ_positions g
    The two subtracted terms are the gradient through μ and σ², which depend on x. Unlike BatchNorm,
    the statistics are each position's own, so training and evaluation compute the same thing.
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, normalized_ndim=1, eps=1e-5):
        m = xp(x)
        rows = x.reshape(-1, math.prod(x.shape[x.ndim - normalized_ndim:]))    # one row per position
        # two passes, the second removing the first mean's rounding error (as in BatchNorm): for x such
        # as 100 ± 1 a float32 mean is off by about 1e-5, and x - μ would carry that into every x̂
        centred = rows - rows.mean(axis=1, keepdims=True)
        error = centred.mean(axis=1, keepdims=True)                 # the mean of `centred`: about 0
        invstd = 1 / m.sqrt((centred * centred).mean(axis=1, keepdims=True) - error * error + eps)
        xhat = centred                         # x̂ = (centred - error) invstd, in place: `centred` is ours
        xhat -= error
        xhat *= invstd
        y = xhat * weight.reshape(-1) if weight is not None else xhat.copy()   # not x̂ itself: it is saved
        if bias is not None:
            y += bias.reshape(-1)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.normalized_shape = x.shape[x.ndim - normalized_ndim:]
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        inputs = len(ctx.needs_input_grad)                   # LayerNorm.apply(x) alone has one input
        need_x, need_w, need_b = (tuple(ctx.needs_input_grad) + (False, False))[:3]
        g = grad.reshape(xhat.shape)
        grad_x = grad_w = grad_b = None
        if need_x:
            gh = g if weight is None else g * weight.reshape(-1)             # ĝ = γ g
            grad_x = gh - gh.mean(axis=1, keepdims=True) - xhat * (gh * xhat).mean(axis=1, keepdims=True)
            grad_x = (grad_x * invstd).reshape(grad.shape)
        if need_w:
            grad_w = (g * xhat).sum(axis=0).reshape(ctx.normalized_shape)
        if need_b:
            grad_b = g.sum(axis=0).reshape(ctx.normalized_shape)
        return (grad_x, grad_w, grad_b)[:inputs]
