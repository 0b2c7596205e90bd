"""Functions that slide a window over images: Conv2d and MaxPool2d, with their window helpers.

Both take (N, C, H, W) arrays. A window of kh × kw positions, `dilation` apart, moves over
the (padded) image in steps of `stride`; the output has

    H' = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1   positions down, W' likewise.

The plain code loops over the kh·kw kernel offsets only, never over pixels: offset (i, j)
sees one strided view of the whole image (_window_slice). On the GPU each forward and
backward is one fused kernel (kernels.py), which reads zeros (or -inf) outside the image
instead of building a padded copy.
"""
from __future__ import annotations

from .. import backend, kernels
from ..autograd import Function

xp = backend.xp


# ----------------------------------------------------------------------------- window helpers

def _out_size(size, k, stride, padding, dilation):
    """The number of window positions along one axis: (size + 2 p - d (k - 1) - 1) // s + 1."""
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def _window_slice(i, j, stride, dilation, out_h, out_w):
    """The index of x[:, :, ...] that kernel offset (i, j) sees at every output position."""
    r, c = i * dilation[0], j * dilation[1]
    return (slice(None), slice(None), slice(r, r + stride[0] * out_h, stride[0]),
            slice(c, c + stride[1] * out_w, stride[1]))


def _pad_hw(x, padding, value=0.0):
    """x with `padding` rows and columns of `value` added on each side of its last two axes."""
    if padding == (0, 0):
        return x
    ph, pw = padding
    return xp(x).pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _padded_shape(shape, padding):
    """The shape of _pad_hw(x, padding) for an x of `shape` (the fused kernels never build it)."""
    n, c, h, w = shape
    return (n, c, h + 2 * padding[0], w + 2 * padding[1])


def _unpadded_shape(padded_shape, padding):
    """The inverse of _padded_shape: the shape of x itself."""
    n, c, h, w = padded_shape
    return (n, c, h - 2 * padding[0], w - 2 * padding[1])


def _unpad(x, padding):
    """x without the `padding` rows and columns that _pad_hw added."""
    ph, pw = padding
    return x[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw]


def _window_args(shape, out_h, out_w, kernel_size, stride, padding, dilation):
    """The geometry arguments of the fused window kernels (kernels.py), in their order;
    `shape` is that of the unpadded input."""
    return (shape[2], shape[3], out_h, out_w, *kernel_size, *stride, *padding, *dilation)


# ----------------------------------------------------------------------------- Functions

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
        cols = m.empty((c, kh, kw, n, out_h, out_w), dtype=x.dtype)
        fused = kernels.get("im2col", x)
        if fused is None:
            padded = _pad_hw(x, padding)
            for i in range(kh):
                for j in range(kw):
                    cols[:, i, j] = padded[_window_slice(i, j, stride, dilation, out_h, out_w)].transpose(1, 0, 2, 3)
        else:                                      # one kernel for all kh·kw copies, and no padded copy of x
            fused(m.ascontiguousarray(x), n, c,
                  *_window_args(x.shape, out_h, out_w, (kh, kw), stride, padding, dilation), cols)
        cols = cols.reshape(c * kh * kw, n * out_h * out_w)
        y = weight.reshape(o, -1) @ cols                                   # (O, N·oh·ow)
        if bias is not None:
            y += bias[:, None]
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (_padded_shape(x.shape, padding), stride, padding, dilation, out_h, out_w)
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
            if fused is None:
                grad_x = m.zeros(padded_shape, dtype=grad.dtype)
                for i in range(kh):
                    for j in range(kw):
                        grad_x[_window_slice(i, j, stride, dilation, out_h, out_w)] += \
                            grad_cols[:, i, j].transpose(1, 0, 2, 3)
                grad_x = _unpad(grad_x, padding)
            else:                                  # one kernel: each pixel of x sums the entries that read it
                shape = _unpadded_shape(padded_shape, padding)
                grad_x = fused(grad_cols, n, c, *_window_args(shape, out_h, out_w, (kh, kw), stride, padding,
                                                              dilation), m.empty(shape, dtype=grad.dtype))
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
        if fused is None:
            padded = _pad_hw(x, padding, -m.inf)
            best = padded[_window_slice(0, 0, stride, dilation, out_h, out_w)].copy()
            winner = m.zeros(best.shape, dtype=m.int8 if kh * kw < 128 else m.int32)
            for i in range(kh):
                for j in range(kw):
                    if i == 0 and j == 0:
                        continue
                    candidate = padded[_window_slice(i, j, stride, dilation, out_h, out_w)]
                    offset = winner.dtype.type(i * kw + j)
                    better = candidate > best                  # strictly: ties keep the first offset
                    m.maximum(best, candidate, out=best)
                    # offsets only grow, so max() keeps the latest offset that was better
                    m.maximum(winner, better * offset, out=winner)
        else:                                      # one kernel, every output scanning its own window: no padded copy
            shape = (x.shape[0], x.shape[1], out_h, out_w)
            best, winner = fused(m.ascontiguousarray(x), -m.inf,
                                 *_window_args(x.shape, out_h, out_w, kernel_size, stride, padding, dilation),
                                 m.empty(shape, dtype=x.dtype), m.empty(shape, dtype=m.int32))
        ctx.save_for_backward(winner)
        ctx.geometry = (_padded_shape(x.shape, padding), kernel_size, stride, padding, dilation, out_h, out_w)
        return best

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved_tensors
        padded_shape, (kh, kw), stride, padding, dilation, out_h, out_w = ctx.geometry
        m = xp(grad)
        fused = kernels.get("max_pool_backward", grad)
        if fused is None:
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
            return _unpad(grad_x, padding)
        # one kernel: each input gathers from the windows it won, with no padded gradient array
        shape = _unpadded_shape(padded_shape, padding)
        return fused(m.ascontiguousarray(grad), winner,
                     *_window_args(shape, out_h, out_w, (kh, kw), stride, padding, dilation),
                     m.empty(shape, dtype=grad.dtype))
