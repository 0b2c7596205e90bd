"""Fused Functions for neural networks, where one node is more stable or faster than a chain.

log_softmax and logsumexp subtract the maximum before exponentiating, so logits of
±1000 give finite values and gradients; cross-entropy works on logits for the same reason.
"""
from __future__ import annotations

import numpy as np

from .. import backend, kernels
from ..autograd import Function

xp = backend.xp


def _shifted(a, axis):
    """a - max(a, axis): the largest entry becomes 0, so exp() cannot overflow."""
    m = a.max(axis=axis, keepdims=True)
    m = xp(a).where(xp(a).isfinite(m), m, 0)   # a row of all -inf stays -inf, not nan
    return a - m, m


class LogSoftmax(Function):
    """y_i = a_i - log Σ_j e^{a_j};  dL/da = g - softmax(a) Σ_j g_j.

    Fused for stability: computed as s - log Σ e^s with s = a - max(a).
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
    """y_i = e^{a_i} / Σ_j e^{a_j};  dL/da = y (g - Σ_j g_j y_j).  Fused: shifted by max(a)."""

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
    """y = log Σ e^{a} over `axis`;  dy/da = softmax(a).  Fused: max(a) + log Σ e^{a - max(a)}."""

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


_column_cache: dict = {}


def _columns(n, like):
    """arange(n) on the device and in the dtype of `like`, made once: the fused cross-entropy
    kernels compare it with the target to find each row's class without a gather."""
    key = (n, like.dtype.str)
    columns = _column_cache.get(key)
    if columns is None:
        columns = _column_cache[key] = xp(like).arange(n, dtype=like.dtype)
    return columns


class CrossEntropy(Function):
    """L = -log softmax(z)[target], averaged ('mean'), summed ('sum') or per row ('none').

    z: logits of shape (N, C); target: class indices of shape (N,).
    dL/dz = softmax(z) - onehot(target)  (divided by N for 'mean').
    Fused: works on logits through a shifted log-softmax, so it is finite for any logits.
    """

    @staticmethod
    def forward(ctx, z, target, reduction="mean"):
        m = xp(z)
        fused = kernels.get("cross_entropy_forward", z)
        if fused is not None:                  # the same steps in 6 GPU kernels instead of 12
            shift = z.max(axis=1, keepdims=True)
            e = kernels.get("exp_shifted", z)(z, shift)
            total = e.sum(axis=1, keepdims=True)
            p, picked = fused(e, total, z, shift, target[:, None], _columns(z.shape[1], target))
            losses = picked.sum(axis=1)        # one nonzero entry per row
        else:
            s, _ = _shifted(z, 1)
            e = m.exp(s)
            total = e.sum(axis=1, keepdims=True)
            rows = m.arange(z.shape[0])
            losses = m.log(total[:, 0]) - s[rows, target]
            p = e / total
        ctx.save_for_backward(p, target)
        ctx.reduction = reduction
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def backward(ctx, grad):
        p, target = ctx.saved_tensors
        if ctx.reduction == "none":
            scale = grad[:, None]
        else:
            scale = grad / p.shape[0] if ctx.reduction == "mean" else grad
        fused = kernels.get("cross_entropy_backward", p)
        if fused is not None:
            return fused(p, target[:, None], _columns(p.shape[1], target), scale), None
        g = p.copy()
        g[xp(p).arange(p.shape[0]), target] -= 1
        return g * scale, None


# ----------------------------------------------------------------------------- layers

class Linear(Function):
    """Y = X Wᵀ + b, W of shape (out, in) as in torch.nn.Linear;
    dL/dX = G W,  dL/dW = Gᵀ X,  dL/db = Σ_rows G.

    Fused for speed: one node instead of Permute, MatMul and Add. X may have leading axes.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            y += bias                      # y is a fresh array: adding in place is safe
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        rows = grad.reshape(-1, grad.shape[-1])
        grad_x = grad @ weight if need_x else None
        grad_w = rows.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        grad_b = rows.sum(axis=0) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def _out_size(size, k, stride, padding, dilation):
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def _window_slice(i, j, stride, dilation, out_h, out_w):
    """The index of x[:, :, ...] that kernel offset (i, j) sees at every output position."""
    r, c = i * dilation[0], j * dilation[1]
    return (slice(None), slice(None), slice(r, r + stride[0] * out_h, stride[0]),
            slice(c, c + stride[1] * out_w, stride[1]))


def _pad_hw(x, padding, value=0.0):
    if padding == (0, 0):
        return x
    ph, pw = padding
    return xp(x).pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _padded_shape(shape, padding):
    """The shape of _pad_hw(x, padding) for an x of `shape` (the fused kernels never build it)."""
    n, c, h, w = shape
    return (n, c, h + 2 * padding[0], w + 2 * padding[1])


def _unpadded_shape(padded_shape, padding):
    n, c, h, w = padded_shape
    return (n, c, h - 2 * padding[0], w - 2 * padding[1])


def _window_args(shape, out_h, out_w, kernel_size, stride, padding, dilation):
    """The geometry arguments of the fused window kernels (kernels.py), in their order;
    `shape` is that of the unpadded input."""
    return (shape[2], shape[3], out_h, out_w, *kernel_size, *stride, *padding, *dilation)


class Conv2d(Function):
    """Y[n, o] = b[o] + Σ_c W[o, c] ⋆ X[n, c]  (cross-correlation, as in torch.nn.Conv2d).

    im2col: the input values under every kernel offset (c, i, j) are copied into one row
    of a matrix `cols` (C·kh·kw rows, N·oh·ow columns), so the convolution is one matrix
    product W (O × C·kh·kw) @ cols. Backward: dW = G @ colsᵀ, and d cols = Wᵀ @ G is added
    back to the positions each row was copied from (col2im). Both copies loop over the
    kh·kw kernel offsets only, never over pixels. On the GPU each is one fused kernel
    (kernels.py: im2col, col2im) that reads zeros outside x instead of padding it.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        m = xp(x)
        n, c = x.shape[:2]
        o, _, kh, kw = weight.shape
        out_h = _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0])
        out_w = _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1])
        fused = kernels.get("im2col", x)
        if fused is not None:                      # all kh·kw copies and the padding in one kernel
            cols = m.empty((c, kh, kw, n, out_h, out_w), dtype=x.dtype)
            fused(m.ascontiguousarray(x), n, c,
                  *_window_args(x.shape, out_h, out_w, (kh, kw), stride, padding, dilation), cols)
            padded_shape = _padded_shape(x.shape, padding)
        else:
            x = _pad_hw(x, padding)
            cols = m.empty((c, kh, kw, n, out_h, out_w), dtype=x.dtype)
            for i in range(kh):
                for j in range(kw):
                    cols[:, i, j] = x[_window_slice(i, j, stride, dilation, out_h, out_w)].transpose(1, 0, 2, 3)
            padded_shape = x.shape
        cols = cols.reshape(c * kh * kw, n * out_h * out_w)
        y = weight.reshape(o, -1) @ cols                                   # (O, N·oh·ow)
        if bias is not None:
            y += bias[:, None]
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (padded_shape, stride, padding, dilation, out_h, out_w)
        return m.ascontiguousarray(y.reshape(o, n, out_h, out_w).transpose(1, 0, 2, 3))

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        padded_shape, stride, padding, dilation, out_h, out_w = ctx.geometry
        m = xp(grad)
        needs = ctx.needs_input_grad
        n, c = padded_shape[:2]
        o, _, kh, kw = weight.shape
        g = grad.transpose(1, 0, 2, 3).reshape(o, -1)                    # (O, N·oh·ow)
        grad_x = grad_w = grad_b = None
        if needs[1]:
            grad_w = (g @ cols.T).reshape(weight.shape)
        if len(needs) > 2 and needs[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        if needs[0]:
            grad_cols = (weight.reshape(o, -1).T @ g).reshape(c, kh, kw, n, out_h, out_w)
            fused = kernels.get("col2im", grad_cols)
            if fused is not None:                  # one kernel: each pixel of x sums the entries that read it
                shape = _unpadded_shape(padded_shape, padding)
                grad_x = fused(grad_cols, n, c, *_window_args(shape, out_h, out_w, (kh, kw), stride, padding,
                                                              dilation), m.empty(shape, dtype=grad.dtype))
                return grad_x, grad_w, grad_b
            grad_x = m.zeros(padded_shape, dtype=grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    grad_x[_window_slice(i, j, stride, dilation, out_h, out_w)] += \
                        grad_cols[:, i, j].transpose(1, 0, 2, 3)
            ph, pw = padding
            grad_x = grad_x[:, :, ph:padded_shape[2] - ph, pw:padded_shape[3] - pw]
        return grad_x, grad_w, grad_b


class MaxPool2d(Function):
    """Y[n, c, i, j] = max over the kernel window at (i, j);  the gradient goes to the
    window's maximum (the first one on ties, as in PyTorch). Padding counts as -inf.

    Computed one kernel offset at a time: a running maximum over kh·kw shifted views,
    remembering which offset won. On the GPU forward and backward are one fused kernel each
    (kernels.py: max_pool_forward, max_pool_backward).
    """

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1)):
        m = xp(x)
        kh, kw = kernel_size
        out_h = _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0])
        out_w = _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1])
        fused = kernels.get("max_pool_forward", x)
        if fused is not None:                      # one kernel: every output scans its own window
            shape = (x.shape[0], x.shape[1], out_h, out_w)
            best, winner = fused(m.ascontiguousarray(x), -m.inf,
                                 *_window_args(x.shape, out_h, out_w, kernel_size, stride, padding, dilation),
                                 m.empty(shape, dtype=x.dtype), m.empty(shape, dtype=m.int32))
            ctx.save_for_backward(winner)
            ctx.geometry = (_padded_shape(x.shape, padding), kernel_size, stride, padding, dilation, out_h, out_w)
            return best
        x = _pad_hw(x, padding, -m.inf)
        best = x[_window_slice(0, 0, stride, dilation, out_h, out_w)].copy()
        winner = m.zeros(best.shape, dtype=m.int8 if kh * kw < 128 else m.int32)
        for i in range(kh):
            for j in range(kw):
                if i == 0 and j == 0:
                    continue
                candidate = x[_window_slice(i, j, stride, dilation, out_h, out_w)]
                offset = winner.dtype.type(i * kw + j)
                better = candidate > best                  # strictly: ties keep the first offset
                m.maximum(best, candidate, out=best)
                m.maximum(winner, better * offset, out=winner)   # offsets only grow: max() keeps the latest better one
        ctx.save_for_backward(winner)
        ctx.geometry = (x.shape, kernel_size, stride, padding, dilation, out_h, out_w)
        return best

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved_tensors
        padded_shape, (kh, kw), stride, padding, dilation, out_h, out_w = ctx.geometry
        m = xp(grad)
        fused = kernels.get("max_pool_backward", grad)
        if fused is not None:                      # one kernel: each input gathers from the windows it won
            shape = _unpadded_shape(padded_shape, padding)
            return fused(m.ascontiguousarray(grad), winner,
                         *_window_args(shape, out_h, out_w, (kh, kw), stride, padding, dilation),
                         m.empty(shape, dtype=grad.dtype))
        grad_x = m.zeros(padded_shape, dtype=grad.dtype)
        overlapping = stride[0] < dilation[0] * (kh - 1) + 1 or stride[1] < dilation[1] * (kw - 1) + 1
        for i in range(kh):
            for j in range(kw):
                target = grad_x[_window_slice(i, j, stride, dilation, out_h, out_w)]
                won = winner == i * kw + j
                if overlapping:                            # an input may win in several windows
                    target += grad * won
                else:                                      # each input is in one window at most
                    m.multiply(grad, won, out=target)
        ph, pw = padding
        return grad_x[:, :, ph:padded_shape[2] - ph, pw:padded_shape[3] - pw]


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
