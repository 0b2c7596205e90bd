"""Functions that slide a window over images: Conv2d, ConvTranspose2d, MaxPool2d and AvgPool2d,
with their window helpers.

All take (N, C, H, W) arrays. A window of kh × kw positions, `dilation` apart, moves over
the (padded) image in steps of `stride`; the output has

    H' = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1   positions down, W' likewise

(with ceil_mode, the division rounds up: a last, partial window is kept if it starts inside
the image or its left padding, as in PyTorch).

The plain code loops over the kh·kw kernel offsets only, never over pixels: offset (i, j)
sees one strided view of the whole image (_window_slice). Two helpers do the copying:
_im2col gathers every window into the columns of a matrix, _col2im is its adjoint (it adds
each column back to the pixels it was read from). Conv2d is im2col and a matrix product;
ConvTranspose2d, the backward of Conv2d, is a matrix product and col2im. On the GPU these
two copies and max pooling are one fused kernel each (kernels.py), which reads zeros (or
-inf) outside the image instead of building a padded copy; on the CPU a stride-1 Conv2d has a
fast path (the last section). The separable resamplings (AdaptiveAvgPool2d, Upsample) live in
sampling.py.
"""
from __future__ import annotations

from .. import arguments, backend, kernels
from ..autograd import Function

xp = backend.xp


# ----------------------------------------------------------------------------- window helpers

def _out_size(size, k, stride, padding, dilation, ceil_mode=False):
    """The number of window positions along one axis: (size + 2 p - d (k - 1) - 1) // s + 1.

    ceil_mode rounds the division up, but drops a last window that would start in the right
    padding (PyTorch's rule: every window starts inside the image or its left padding)."""
    span = size + 2 * padding - dilation * (k - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


def _pads(size, out, kernel_size, stride, padding, dilation):
    """((top, bottom), (left, right)): `padding` on each side, and on the bottom and right as
    many more rows and columns as the last window reaches past it (ceil_mode)."""
    return tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
                 for n, o, k, s, p, d in zip(size, out, kernel_size, stride, padding, dilation))


def _window_slice(i, j, stride, dilation, out_h, out_w):
    """The index of x[:, :, ...] that kernel offset (i, j) sees at every output position."""
    r, c = i * dilation[0], j * dilation[1]
    return (slice(None), slice(None), slice(r, r + stride[0] * out_h, stride[0]),
            slice(c, c + stride[1] * out_w, stride[1]))


def _pad_hw(x, pads, value=0.0):
    """x with pads = ((top, bottom), (left, right)) rows and columns of `value` around its last two axes."""
    if pads == ((0, 0), (0, 0)):
        return x
    return xp(x).pad(x, ((0, 0), (0, 0), *pads), constant_values=value)


def _padded_shape(shape, pads):
    """The shape of _pad_hw(x, pads) for an x of `shape`."""
    (top, bottom), (left, right) = pads
    return (shape[0], shape[1], shape[2] + top + bottom, shape[3] + left + right)


def _unpad(x, pads):
    """x without the rows and columns that _pad_hw added (a view)."""
    (top, bottom), (left, right) = pads
    return x[:, :, top:x.shape[2] - bottom, left:x.shape[3] - right]


def _overlapping(kernel_size, stride, dilation):
    """True when two kernel offsets can read the same pixel, so that adding back must accumulate."""
    return any(s < d * (k - 1) + 1 for k, s, d in zip(kernel_size, stride, dilation))


def _window_args(shape, out_h, out_w, kernel_size, stride, padding, dilation):
    """The geometry arguments of the fused window kernels (kernels.py), in their order;
    `shape` is that of the unpadded input."""
    return (shape[2], shape[3], out_h, out_w, *kernel_size, *stride, *padding, *dilation)


def _im2col(x, kernel_size, stride, padding, dilation, out_h, out_w):
    """cols[c, i, j, n, y, x'] = padded x[n, c, y s + i d, x' s + j d]: every window as a column.

    Returns an array (C, kh, kw, N, out_h, out_w); reshaped to (C·kh·kw, N·out_h·out_w) it is
    the matrix whose product with a weight matrix is a convolution."""
    m = xp(x)
    n, c = x.shape[:2]
    kh, kw = kernel_size
    cols = m.empty((c, kh, kw, n, out_h, out_w), dtype=x.dtype)
    fused = kernels.get("im2col", x)
    if fused is None:
        padded = _pad_hw(x, _pads(x.shape[2:], (out_h, out_w), kernel_size, stride, padding, dilation))
        for i in range(kh):
            for j in range(kw):
                cols[:, i, j] = padded[_window_slice(i, j, stride, dilation, out_h, out_w)].transpose(1, 0, 2, 3)
    else:                                      # one kernel for all kh·kw copies, and no padded copy of x
        fused(m.ascontiguousarray(x), n, c, *_window_args(x.shape, out_h, out_w, kernel_size, stride, padding,
                                                          dilation), cols)
    return cols


def _col2im(cols, shape, stride, padding, dilation):
    """The adjoint of _im2col: an array of `shape` (N, C, H, W) in which every pixel holds the
    sum of the entries of cols (C, kh, kw, N, out_h, out_w) that _im2col copied from it."""
    m = xp(cols)
    c, kh, kw, n, out_h, out_w = cols.shape
    fused = kernels.get("col2im", cols)
    if fused is None:
        pads = _pads(shape[2:], (out_h, out_w), (kh, kw), stride, padding, dilation)
        out = m.zeros(_padded_shape(shape, pads), dtype=cols.dtype)
        overlapping = _overlapping((kh, kw), stride, dilation)
        for i in range(kh):
            for j in range(kw):
                target = out[_window_slice(i, j, stride, dilation, out_h, out_w)]
                if overlapping:                          # a pixel may be read by several offsets
                    target += cols[:, i, j].transpose(1, 0, 2, 3)
                else:                                    # each pixel is read by one offset at most
                    target[...] = cols[:, i, j].transpose(1, 0, 2, 3)
        return _unpad(out, pads)
    # one kernel: each pixel sums the entries that read it, with no padded array
    return fused(m.ascontiguousarray(cols), n, c, *_window_args(shape, out_h, out_w, (kh, kw), stride, padding,
                                                                dilation), m.empty(shape, dtype=cols.dtype))


# ----------------------------------------------------------------------------- Functions

class Conv2d(Function):
    """Y[n, o] = b[o] + Σ_c W[o, c] ⋆ X[n, c]  (cross-correlation, as in torch.nn.Conv2d).

    im2col: the input values under every kernel offset (c, i, j) are copied into one row
    of a matrix `cols` (C·kh·kw rows, N·oh·ow columns), so the convolution is one matrix
    product W (O × C·kh·kw) @ cols. Backward: dW = G @ colsᵀ, and d cols = Wᵀ @ G is added
    back to the positions each row was copied from (col2im). Both copies loop over the
    kh·kw kernel offsets only, never over pixels. On the GPU each is one fused kernel
    (kernels.py: im2col, col2im) that reads zeros outside x instead of padding it.

    groups = g splits the channels into g independent convolutions: input channels
    [k C/g, (k + 1) C/g) meet only the weights of output channels [k O/g, (k + 1) O/g), whose
    weight is (O, C/g, kh, kw). The matrix product becomes g products, one batched matmul.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        m = xp(x)
        n = x.shape[0]
        o, _, kh, kw = weight.shape
        out_h = _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0])
        out_w = _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1])
        ctx.geometry = (x.shape, stride, padding, dilation, out_h, out_w)
        ctx.by_slices = _by_slices(x, stride)
        if not ctx.by_slices:
            cols = _im2col(x, (kh, kw), stride, padding, dilation, out_h, out_w)
            cols = cols.reshape(groups, -1, n * out_h * out_w)                # (g, C/g·kh·kw, N·oh·ow)
            y = (weight.reshape(groups, o // groups, -1) @ cols).reshape(o, -1)  # (O, N·oh·ow)
            if bias is not None:
                y += bias[:, None]
            ctx.save_for_backward(cols, weight)
            return m.ascontiguousarray(y.reshape(o, n, out_h, out_w).transpose(1, 0, 2, 3))
        # CPU fast path (stride 1): the same product, a slice of the batch at a time (see below)
        ctx.save_for_backward(x, weight)
        return _conv2d_by_slices(x, weight, bias, padding, dilation, out_h, out_w)

    @staticmethod
    def backward(ctx, grad):
        shape, stride, padding, dilation, out_h, out_w = ctx.geometry
        needs = ctx.needs_input_grad
        grad_b = grad.sum(axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        if ctx.by_slices:
            x, weight = ctx.saved_tensors
            grad_x, grad_w = _conv2d_by_slices_backward(grad, x, weight, padding, dilation, needs[0], needs[1])
            return grad_x, grad_w, grad_b
        cols, weight = ctx.saved_tensors
        groups = cols.shape[0]
        o, _, kh, kw = weight.shape
        g = grad.transpose(1, 0, 2, 3).reshape(groups, o // groups, -1)      # (g, O/g, N·oh·ow)
        grad_x = grad_w = None
        if needs[1]:   # dWᵀ = cols @ Gᵀ: the long matrix first, which OpenBLAS multiplies faster than G @ colsᵀ
            grad_w = (cols @ g.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(weight.shape)
        if needs[0]:
            w = weight.reshape(groups, o // groups, -1)
            grad_cols = (w.transpose(0, 2, 1) @ g).reshape(shape[1], kh, kw, shape[0], out_h, out_w)
            grad_x = _col2im(grad_cols, shape, stride, padding, dilation)
        return grad_x, grad_w, grad_b


def conv_transpose_size(size, k, stride, padding, output_padding, dilation):
    """The output length of a transposed convolution along one axis:
    (size - 1) s - 2 p + d (k - 1) + output_padding + 1, the input length of the Conv2d it reverses."""
    return (size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1


class ConvTranspose2d(Function):
    """Y = conv_transpose2d(X, W): the backward of Conv2d with respect to its input, used as a layer.

    A Conv2d with weight W (C_in, C_out/g, kh, kw) maps an image Z of C_out channels to one of
    C_in channels. Its input gradient sends every value X[n, c_in, y, x] back along the window
    that produced it:  Y[n, c_out, y s - p + i d, x s - p + j d] += W[c_in, c_out, i, j] X[n, c_in, y, x].
    That is Conv2d's backward line for line: cols = Wᵀ @ X, then col2im (the same window helpers),
    plus b[c_out]. Each input pixel paints a kh × kw stamp, `stride` apart: it upsamples.

        H' = (H - 1) s - 2 p + d (kh - 1) + output_padding + 1

    (output_padding adds rows at the bottom and right that no stamp reaches, only the bias;
    it picks one of the `stride` input sizes that a Conv2d maps to H).
    Backward: dX = conv2d(G, W), Conv2d's forward (im2col of G, then W @ cols);
    dW = X @ colsᵀ with the same cols; db = Σ G over n, y, x.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                dilation=(1, 1), groups=1):
        m = xp(x)
        n, c_in, h, w = x.shape
        _, c_out_g, kh, kw = weight.shape
        out_h, out_w = (conv_transpose_size(size, k, s, p, op, d) for size, k, s, p, op, d in
                        zip((h, w), (kh, kw), stride, padding, output_padding, dilation))
        xs = x.transpose(1, 0, 2, 3).reshape(groups, c_in // groups, n * h * w)       # (g, C_in/g, N·H·W)
        ws = weight.reshape(groups, c_in // groups, c_out_g * kh * kw)
        cols = (ws.transpose(0, 2, 1) @ xs).reshape(groups * c_out_g, kh, kw, n, h, w)  # Wᵀ @ X
        y = m.ascontiguousarray(_col2im(cols, (n, groups * c_out_g, out_h, out_w), stride, padding, dilation))
        if bias is not None:
            y += bias[:, None, None]
        ctx.save_for_backward(xs, weight)
        ctx.geometry = (x.shape, stride, padding, dilation)
        return y

    @staticmethod
    def backward(ctx, grad):
        xs, weight = ctx.saved_tensors
        (n, c_in, h, w), stride, padding, dilation = ctx.geometry
        needs = ctx.needs_input_grad
        groups = xs.shape[0]
        kernel_size = weight.shape[2:]
        grad_x = grad_w = grad_b = None
        if needs[0] or needs[1]:
            cols = _im2col(grad, kernel_size, stride, padding, dilation, h, w)    # Conv2d's forward of G
            cols = cols.reshape(groups, -1, n * h * w)                           # (g, C_out/g·kh·kw, N·H·W)
            if needs[0]:
                ws = weight.reshape(groups, c_in // groups, -1)
                grad_x = xp(grad).ascontiguousarray((ws @ cols).reshape(c_in, n, h, w).transpose(1, 0, 2, 3))
            if needs[1]:
                grad_w = (xs @ cols.transpose(0, 2, 1)).reshape(weight.shape)
        if len(needs) > 2 and needs[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class MaxPool2d(Function):
    """Y[n, c, i, j] = max over the kernel window at (i, j);  the gradient goes to the
    window's maximum (the first one on ties, as in PyTorch). Padding counts as -inf.

    Computed one kernel offset at a time: a running maximum over kh·kw shifted views,
    remembering which offset won. On the GPU forward and backward are one fused kernel each
    (kernels.py: max_pool_forward, max_pool_backward).
    """

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        m = xp(x)
        kh, kw = kernel_size
        out_h = _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0], ceil_mode)
        out_w = _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1], ceil_mode)
        pads = _pads(x.shape[2:], (out_h, out_w), kernel_size, stride, padding, dilation)
        fused = kernels.get("max_pool_forward", x)
        if fused is None:
            padded = _pad_hw(x, pads, -m.inf)
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
        ctx.geometry = (x.shape, pads, kernel_size, stride, padding, dilation, out_h, out_w)
        return best

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved_tensors
        shape, pads, (kh, kw), stride, padding, dilation, out_h, out_w = ctx.geometry
        m = xp(grad)
        fused = kernels.get("max_pool_backward", grad)
        if fused is None:
            grad_x = m.zeros(_padded_shape(shape, pads), dtype=grad.dtype)
            overlapping = _overlapping((kh, kw), stride, dilation)
            for i in range(kh):
                for j in range(kw):
                    target = grad_x[_window_slice(i, j, stride, dilation, out_h, out_w)]
                    won = winner == i * kw + j
                    if overlapping:                            # an input may win in several windows
                        target += grad * won
                    else:                                      # each input is in one window at most
                        m.multiply(grad, won, out=target)
            return _unpad(grad_x, pads)
        # one kernel: each input gathers from the windows it won, with no padded gradient array
        return fused(m.ascontiguousarray(grad), winner,
                     *_window_args(shape, out_h, out_w, (kh, kw), stride, padding, dilation),
                     m.empty(shape, dtype=grad.dtype))


def _divisors(size, out, k, stride, padding, count_include_pad, m):
    """The number of positions each window counts along one axis (an int array of length `out`):
    the window clipped to the padded image (count_include_pad), or to the image itself."""
    start = m.arange(out) * stride - padding
    end = m.minimum(start + k, size + padding)             # a ceil_mode window stops at the padding
    if count_include_pad:
        return end - start
    return m.minimum(end, size) - m.maximum(start, 0)


def window_sums(padded, kernel_size, stride, out_h, out_w):
    """Σ over every kh × kw window (dilation 1) of padded (N, C, H, W) -> (N, C, out_h, out_w).

    A sum over a rectangle is separable: the rows of each window first, then its columns, so
    kh + kw shifted views are added instead of kh·kw."""
    (kh, kw), (sh, sw) = kernel_size, stride
    rows = padded[:, :, 0:sh * out_h:sh].copy()
    for i in range(1, kh):
        rows += padded[:, :, i:i + sh * out_h:sh]
    total = rows[..., 0:sw * out_w:sw].copy()
    for j in range(1, kw):
        total += rows[..., j:j + sw * out_w:sw]
    return total


def spread(share, padded_shape, kernel_size, stride):
    """The adjoint of window_sums: an array of padded_shape in which every pixel holds the sum of
    share[n, c, i, j] over the windows (i, j) it lies in (columns first, then rows)."""
    m = xp(share)
    (kh, kw), (sh, sw) = kernel_size, stride
    n, c, out_h, out_w = share.shape
    rows = m.zeros((n, c, out_h, padded_shape[3]), dtype=share.dtype)
    for j in range(kw):
        target = rows[..., j:j + sw * out_w:sw]
        if sw < kw:                                    # neighbouring windows share columns
            target += share
        else:
            target[...] = share
    out = m.zeros(padded_shape, dtype=share.dtype)
    for i in range(kh):
        target = out[:, :, i:i + sh * out_h:sh]
        if sh < kh:
            target += rows
        else:
            target[...] = rows
    return out


class AvgPool2d(Function):
    """Y[n, c, i, j] = (1 / D[i, j]) Σ over the kernel window at (i, j) of X (padding counts as 0);
    dX: each input gets G[n, c, i, j] / D[i, j] from every window (i, j) it lies in.

    The divisor D is the window's size kh·kw, clipped where a ceil_mode window runs past the
    padding (count_include_pad=True); the number of real pixels in it (count_include_pad=False);
    or divisor_override. It is a product of a row count and a column count, as in PyTorch.
    The window sums are shifted views added up, rows then columns (window_sums; its adjoint,
    spread, is the backward).
    """

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False, count_include_pad=True,
                divisor_override=None):
        m = xp(x)
        h, w = x.shape[2:]
        kh, kw = kernel_size
        out_h = _out_size(h, kh, stride[0], padding[0], 1, ceil_mode)
        out_w = _out_size(w, kw, stride[1], padding[1], 1, ceil_mode)
        if divisor_override is None:
            rows = _divisors(h, out_h, kh, stride[0], padding[0], count_include_pad, m)
            cols = _divisors(w, out_w, kw, stride[1], padding[1], count_include_pad, m)
            divisor = (rows[:, None] * cols[None, :]).astype(x.dtype)          # (out_h, out_w)
        else:
            divisor = m.full((out_h, out_w), divisor_override, dtype=x.dtype)
        pads = _pads((h, w), (out_h, out_w), kernel_size, stride, padding, (1, 1))
        total = window_sums(_pad_hw(x, pads), kernel_size, stride, out_h, out_w)
        ctx.save_for_backward(divisor)
        ctx.geometry = (x.shape, pads, kernel_size, stride)
        return total / divisor

    @staticmethod
    def backward(ctx, grad):
        (divisor,) = ctx.saved_tensors
        shape, pads, kernel_size, stride = ctx.geometry
        return _unpad(spread(grad / divisor, _padded_shape(shape, pads), kernel_size, stride), pads)


# ----------------------------------------------------------------------------- the CPU fast path
# What it saves: on the CPU, Conv2d's time goes to moving cols (kh·kw times the input: 60 MB for
# 128 images of 16 × 28 × 28) more than to the arithmetic. _im2col fills it with one short copy
# per image row and kernel offset (NumPy pays a fixed cost for each), it goes out to memory and
# back for the product, and backward reads it again beside a grad_cols as large. A stride-1
# Conv2d on the CPU computes the same products in two ways that NumPy runs 2-3 times faster:
#   - a slice of the batch at a time, so that the columns of one slice (about _SLICE_BYTES)
#     stay in the processor's cache; backward copies them again instead of keeping them.
#   - the images of a slice laid end to end in one flat array per channel, with zeros between
#     rows and between images for the padding (the zeros after a row are also the left padding
#     of the next). Kernel offset (i, j) is then a shift by i dh width + j dw positions: the cols
#     of an offset are one contiguous copy, col2im adds kh·kw contiguous stretches. The product
#     also gives outputs at the zeros, where a window hangs past the right or bottom edge: they
#     are dropped, and their gradient is 0. Rows of cols come in the order (kernel offset,
#     channel), so the weight is permuted to (O, kh, kw, C) to match.
# The plain code above (_im2col, _col2im) remains the definition; tests check one against the other.

_SLICE_BYTES = 1 << 20          # the columns of one slice of the batch: about one L2 cache


def _by_slices(x, stride):
    """True where Conv2d takes the fast path: stride 1, no fused kernel, NumPy (on CuPy, slices cost launches)."""
    return tuple(stride) == (1, 1) and kernels.get("im2col", x) is None and not backend.is_device_array(x)


class _Slices:
    """The layout of the fast path for input x (N, C, H, W), weight (O, C/g, kh, kw), padding and dilation.

    One channel of a slice of b images is a flat array of `front` zeros, then b blocks of `pitch`
    rows of `width` positions: the image's H rows of W pixels, each row followed by `width - W`
    zeros, then `pitch - H` rows of zeros. Output (n, y, x) sits at position (n pitch + y) width + x
    of the product, and kernel offset k reads position + shifts[k] of the flat array."""

    def __init__(self, x, weight, padding, dilation):
        self.n, self.c, self.h, self.w = x.shape
        self.o, c_g, kh, kw = weight.shape
        self.groups = self.c // c_g
        (ph, pw), (dh, dw) = padding, dilation
        # enough zeros for the padding on both sides, and for every output row (column) of an image
        self.pitch = self.h + max(ph, 2 * ph - dh * (kh - 1))
        self.width = self.w + max(pw, 2 * pw - dw * (kw - 1))
        self.front = ph * self.width + pw
        self.shifts = [i * dh * self.width + j * dw for i in range(kh) for j in range(kw)]
        per_image = self.c * kh * kw * self.pitch * self.width * x.itemsize
        self.step = max(1, min(self.n, _SLICE_BYTES // per_image))

    def length(self, b):
        """The positions of one channel of a slice of b images (and the columns of its cols)."""
        return self.front + b * self.pitch * self.width

    def blocks(self, flat, b):
        """The b image blocks (C, b, pitch, width) inside the flat array (C·length + tail) of a slice."""
        planes = flat[:self.c * self.length(b)].reshape(self.c, -1)[:, self.front:]
        return planes.reshape(self.c, b, self.pitch, self.width)

    def flat(self, images):
        """images (b, C, H, W) in the layout above: (C·length(b) + the zeros the largest shift reads)."""
        b = len(images)
        flat = xp(images).zeros(self.c * self.length(b) + self.shifts[-1], dtype=images.dtype)
        self.blocks(flat, b)[:, :, :self.h, :self.w] = images.transpose(1, 0, 2, 3)
        return flat

    def im2col(self, flat, b):
        """cols[g, k, c, q] = flat[(g C/g + c) length + q + shifts[k]]: (g, kh·kw·C/g, length)."""
        size = self.c // self.groups * self.length(b)                       # the positions of one group
        cols = xp(flat).empty((self.groups, len(self.shifts), size), dtype=flat.dtype)
        for g in range(self.groups):
            for k, shift in enumerate(self.shifts):
                cols[g, k] = flat[g * size + shift:g * size + shift + size]
        return cols.reshape(self.groups, -1, self.length(b))

    def col2im(self, grad_cols, b):
        """The adjoint of im2col, without the zeros: grad_x (C, b, H, W) of grad_cols (g, kh·kw·C/g, length)."""
        size = self.c // self.groups * self.length(b)
        grad_cols = grad_cols.reshape(self.groups, len(self.shifts), size)
        out = xp(grad_cols).zeros(self.groups * size + self.shifts[-1], dtype=grad_cols.dtype)
        for g in range(self.groups):
            for k, shift in enumerate(self.shifts):
                out[g * size + shift:g * size + shift + size] += grad_cols[g, k]
        return self.blocks(out, b)[:, :, :self.h, :self.w]

    def outputs(self, product, b, out_h, out_w):
        """The outputs (O, b, out_h, out_w) kept from a product (O, length(b)) at every position."""
        blocks = product[:, :b * self.pitch * self.width].reshape(self.o, b, self.pitch, self.width)
        return blocks[:, :, :out_h, :out_w]

    def weight_matrix(self, weight):
        """weight (O, C/g, kh, kw) as (g, O/g, kh·kw·C/g), its columns in the order of the rows of cols."""
        w = weight.reshape(self.groups, self.o // self.groups, weight.shape[1], -1).transpose(0, 1, 3, 2)
        return w.reshape(self.groups, self.o // self.groups, -1)


def _conv2d_by_slices(x, weight, bias, padding, dilation, out_h, out_w):
    """Conv2d's forward with stride 1 on the CPU: y = W @ cols, a slice of the batch at a time."""
    m = xp(x)
    s = _Slices(x, weight, padding, dilation)
    w = s.weight_matrix(weight)
    y = m.empty((s.n, s.o, out_h, out_w), dtype=m.result_type(x, weight))
    for start in range(0, s.n, s.step):
        xs = x[start:start + s.step]
        b = len(xs)
        product = (w @ s.im2col(s.flat(xs), b)).reshape(s.o, -1)          # (O, length): every position
        if bias is not None:
            product += bias[:, None]
        y[start:start + b] = s.outputs(product, b, out_h, out_w).transpose(1, 0, 2, 3)
    return y


def _conv2d_by_slices_backward(grad, x, weight, padding, dilation, needs_x, needs_w):
    """Conv2d's backward with stride 1 on the CPU, a slice of the batch at a time:
    dW = Σ G @ colsᵀ over the slices (cols copied again from x), dX = col2im(Wᵀ @ G)."""
    m = xp(x)
    s = _Slices(x, weight, padding, dilation)
    out_h, out_w = grad.shape[2:]
    w = s.weight_matrix(weight)                                             # (g, O/g, K)
    grad_x = m.empty(x.shape, dtype=grad.dtype) if needs_x else None
    grad_w_t = m.zeros((s.groups, w.shape[2], w.shape[1]), dtype=grad.dtype) if needs_w else None
    for start in range(0, s.n, s.step):
        b = min(s.step, s.n - start)
        g = m.zeros((s.o, s.length(b)), dtype=grad.dtype)                  # G at the outputs kept, 0 elsewhere
        s.outputs(g, b, out_h, out_w)[...] = grad[start:start + b].transpose(1, 0, 2, 3)
        g = g.reshape(s.groups, s.o // s.groups, -1)
        if needs_w:                                                         # dWᵀ = cols @ Gᵀ, as in the plain code
            grad_w_t += s.im2col(s.flat(x[start:start + b]), b) @ g.transpose(0, 2, 1)
        if needs_x:
            grad_x[start:start + b] = s.col2im(w.transpose(0, 2, 1) @ g, b).transpose(1, 0, 2, 3)
    if not needs_w:
        return grad_x, None
    o, c_g, kh, kw = weight.shape                                           # (g, kh·kw·C/g, O/g) -> (O, C/g, kh, kw)
    return grad_x, grad_w_t.reshape(s.groups, kh * kw, c_g, o // s.groups).transpose(0, 3, 2, 1).reshape(weight.shape)


# ----------------------------------------------------------------------------- the arguments, checked
# nn.functional calls these before a Function runs, so that a bad geometry is a clear error.

def conv_arguments(op, x_shape, w_shape, b_shape, stride, padding, dilation, groups, output_padding=None):
    """The arguments of conv2d (output_padding None) or conv_transpose2d, checked against the shapes of
    input, weight and bias (None: no bias); stride, padding, dilation, output_padding come back as pairs."""
    stride, padding, dilation = (arguments.pair(stride, "stride", op), arguments.pair(padding, "padding", op),
                                 arguments.pair(dilation, "dilation", op))
    groups = arguments.positive_int(groups, "groups", op)
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: stride and dilation must be >= 1 and padding >= 0, got stride={stride}, "
                         f"padding={padding}, dilation={dilation}")
    transposed = output_padding is not None
    layout = "(C_in, C_out/groups, kh, kw)" if transposed else "(C_out, C_in/groups, kh, kw)"
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(f"{op}: expected input (N, C_in, H, W) and weight {layout}, got input {x_shape} "
                         f"and weight {w_shape}")
    c_in, c_out = (w_shape[0], w_shape[1] * groups) if transposed else (w_shape[1] * groups, w_shape[0])
    if x_shape[1] != c_in or w_shape[0] % groups:
        first = "C_in" if transposed else "C_out"
        raise ValueError(f"{op}: input {x_shape} and weight {w_shape} do not fit with groups={groups}: a weight "
                         f"{layout} needs C_in = {c_in} input channels and {first} = {w_shape[0]} divisible by groups")
    if b_shape is not None and tuple(b_shape) != (c_out,):
        raise ValueError(f"{op}: bias of shape {b_shape} does not fit weight of shape {w_shape}: expected "
                         f"({c_out},), one value per output channel")
    if not transposed:
        out = tuple(_out_size(*a) for a in zip(x_shape[2:], w_shape[2:], stride, padding, dilation))
        if min(out) < 1:
            raise ValueError(f"{op}: the kernel {w_shape[2:]} (dilation {dilation}) is larger than the padded "
                             f"input {x_shape[2:]} (padding {padding})")
        return stride, padding, dilation, groups
    output_padding = arguments.pair(output_padding, "output_padding", op)
    if any(not 0 <= p < max(s, d) for p, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be >= 0 and smaller than either stride "
                         f"{stride} or dilation {dilation}")
    out = tuple(conv_transpose_size(*a) for a in zip(x_shape[2:], w_shape[2:], stride, padding, output_padding,
                                                        dilation))
    if min(out) < 1:
        raise ValueError(f"{op}: input {x_shape[2:]} with kernel {w_shape[2:]}, stride {stride} and padding "
                         f"{padding} gives output size {out}, which is too small; lower the padding")
    return stride, padding, output_padding, dilation, groups


def pool_arguments(op, shape, kernel_size, stride, padding, dilation, ceil_mode):
    """A pooling op's kernel_size, stride (None: the kernel size), padding and dilation as pairs, and
    ceil_mode, checked against an input of `shape` (padding at most half the kernel, as in PyTorch)."""
    kernel = arguments.pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else arguments.pair(stride, "stride", op)
    padding, dilation = arguments.pair(padding, "padding", op), arguments.pair(dilation, "dilation", op)
    ceil_mode = arguments.flag(ceil_mode, "ceil_mode", op)
    if len(shape) != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {shape}")
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be >= 1 and padding >= 0, got "
                         f"kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} should be at most half of kernel_size {kernel}")
    for n, k, p, d in zip(shape[2:], kernel, padding, dilation):
        if n + 2 * p < d * (k - 1) + 1:
            raise ValueError(f"{op}: kernel {kernel} is larger than the input {shape[2:]} (padding {padding})")
    return kernel, stride, padding, dilation, ceil_mode
