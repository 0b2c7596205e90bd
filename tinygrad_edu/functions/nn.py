"""Fused Functions for neural networks, where one node is more stable or faster than a chain.

log_softmax and logsumexp subtract the maximum before exponentiating, so logits of
±1000 give finite values and gradients; cross-entropy works on logits for the same reason.
"""
from __future__ import annotations

import numpy as np

from .. import backend
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


class CrossEntropy(Function):
    """L = -log softmax(z)[target], averaged ('mean'), summed ('sum') or per row ('none').

    z: logits of shape (N, C); target: class indices of shape (N,).
    dL/dz = softmax(z) - onehot(target)  (divided by N for 'mean').
    Fused: works on logits through a shifted log-softmax, so it is finite for any logits.
    """

    @staticmethod
    def forward(ctx, z, target, reduction="mean"):
        m = xp(z)
        s, _ = _shifted(z, 1)
        e = m.exp(s)
        total = e.sum(axis=1, keepdims=True)
        rows = m.arange(z.shape[0])
        losses = m.log(total[:, 0]) - s[rows, target]
        ctx.save_for_backward(e / total, target)
        ctx.reduction = reduction
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def backward(ctx, grad):
        p, target = ctx.saved_tensors
        g = p.copy()
        g[xp(p).arange(p.shape[0]), target] -= 1
        if ctx.reduction == "none":
            return g * grad[:, None], None
        scale = grad / p.shape[0] if ctx.reduction == "mean" else grad
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


def _windows(x, kh, kw, stride, dilation, out_h, out_w):
    """A strided view (N, C, out_h, out_w, kh, kw) of every kernel window of x (no copy)."""
    n, c = x.shape[:2]
    sn, sc, sh, sw = x.strides
    return xp(x).lib.stride_tricks.as_strided(
        x, shape=(n, c, out_h, out_w, kh, kw),
        strides=(sn, sc, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]))


def _out_size(size, k, stride, padding, dilation):
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


class Conv2d(Function):
    """Y[n, o] = b[o] + Σ_c W[o, c] ⋆ X[n, c]  (cross-correlation, as in torch.nn.Conv2d).

    im2col: every kernel window of the padded input becomes a row, and the convolution is
    one matrix product of those rows with the flattened kernels. Backward: dW is the
    product of the incoming gradient with the same rows; dX puts each row's gradient back
    where its window came from (col2im), one kernel offset at a time.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        m = xp(x)
        kh, kw = weight.shape[2:]
        out_h = _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0])
        out_w = _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1])
        if padding != (0, 0):
            x = m.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
        cols = _windows(x, kh, kw, stride, dilation, out_h, out_w)
        y = m.tensordot(cols, weight, axes=((1, 4, 5), (1, 2, 3)))      # (N, out_h, out_w, O)
        if bias is not None:
            y += bias
        ctx.save_for_backward(x, weight)
        ctx.geometry = (stride, padding, dilation, out_h, out_w)
        return m.ascontiguousarray(y.transpose(0, 3, 1, 2))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors                 # x is the padded input
        stride, padding, dilation, out_h, out_w = ctx.geometry
        m = xp(x)
        needs = ctx.needs_input_grad
        kh, kw = weight.shape[2:]
        grad_x = grad_w = grad_b = None
        if needs[1]:
            cols = _windows(x, kh, kw, stride, dilation, out_h, out_w)
            grad_w = m.tensordot(grad, cols, axes=((0, 2, 3), (0, 2, 3)))    # (O, C, kh, kw)
        if len(needs) > 2 and needs[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        if needs[0]:
            grad_cols = m.tensordot(grad, weight, axes=((1,), (0,)))         # (N, oh, ow, C, kh, kw)
            grad_cols = grad_cols.transpose(0, 3, 1, 2, 4, 5)
            grad_x = m.zeros(x.shape, dtype=grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    r, c = i * dilation[0], j * dilation[1]
                    grad_x[:, :, r:r + stride[0] * out_h:stride[0], c:c + stride[1] * out_w:stride[1]] += \
                        grad_cols[:, :, :, :, i, j]
            ph, pw = padding
            grad_x = grad_x[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw]
        return grad_x, grad_w, grad_b


class MaxPool2d(Function):
    """Y[n, c, i, j] = max over the kernel window at (i, j);  the gradient goes to the
    window's maximum (the first one on ties, as in PyTorch). Padding counts as -inf."""

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1)):
        m = xp(x)
        kh, kw = kernel_size
        out_h = _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0])
        out_w = _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1])
        if padding != (0, 0):
            x = m.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=-m.inf)
        cols = _windows(x, kh, kw, stride, dilation, out_h, out_w)
        cols = cols.reshape(cols.shape[:4] + (kh * kw,))
        winner = cols.argmax(axis=-1)
        y = m.take_along_axis(cols, winner[..., None], axis=-1)[..., 0]
        ctx.save_for_backward(winner)
        ctx.geometry = (x.shape, kernel_size, stride, padding, dilation, out_h, out_w)
        return y

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved_tensors
        padded_shape, (kh, kw), stride, padding, dilation, out_h, out_w = ctx.geometry
        m = xp(grad)
        grad_x = m.zeros(padded_shape, dtype=grad.dtype)
        for i in range(kh):
            for j in range(kw):
                r, c = i * dilation[0], j * dilation[1]
                grad_x[:, :, r:r + stride[0] * out_h:stride[0], c:c + stride[1] * out_w:stride[1]] += \
                    m.where(winner == i * kw + j, grad, 0)
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
