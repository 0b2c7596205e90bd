"""Resampling an image by separable linear maps: adaptive average pooling and interpolation.

Each of these ops computes every output row from a few input rows and every output column
from a few input columns, with weights that depend on the sizes only. Along one axis it is
a matrix R (out × in); on an (N, C, H, W) image it is two matrix products,

    Y[n, c] = R_H X[n, c] R_Wᵀ,      and its backward is the same with the matrices transposed:
    dX[n, c] = R_Hᵀ G[n, c] R_W      (each input collects the weights it was read with; exact, no scatter).

The matrices, with PyTorch's index rules:
    adaptive average pooling  R[i, h] = 1 / (end_i - start_i) for start_i <= h < end_i,
                              start_i = ⌊i H / H'⌋,  end_i = ⌈(i + 1) H / H'⌉
    nearest                   R[i, src_i] = 1,  src_i = min(⌊i · scale⌋, H - 1)
    bilinear                  R[i, h0] = 1 - λ and R[i, h0 + 1] = λ,  h0 + λ the source coordinate of i
An axis whose size does not change is the identity (None below): its product is skipped.
"""
from __future__ import annotations

from .. import arguments, backend
from ..autograd import Function
from .conv import spread, window_sums

xp = backend.xp


def _resample(x, rows, cols):
    """Y[n, c] = rows @ X[n, c] @ colsᵀ for rows (H', H) and cols (W', W); None is the identity.
    Always a new array (never x itself, which may be the caller's gradient)."""
    if rows is None and cols is None:
        return x.copy()
    if cols is not None:
        x = x @ cols.T
    if rows is not None:
        x = rows @ x
    return x


def _transposed(matrix):
    """The matrix of the backward map (None, the identity, stays None)."""
    return None if matrix is None else matrix.T


def _one_hot(index, size, dtype, m):
    """The (len(index), size) matrix with a 1 at (i, index[i]): reading x[index] as a product."""
    return (index[:, None] == m.arange(size)[None, :]).astype(dtype)


# ----------------------------------------------------------------------------- adaptive average pooling

def _adaptive_matrix(size, out, dtype, m):
    """R[i, h] = 1 / (end_i - start_i) on [start_i, end_i), with start_i = ⌊i·size/out⌋ and
    end_i = ⌈(i+1)·size/out⌉ (None: the identity)."""
    if out == size:
        return None
    i = m.arange(out)
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    h = m.arange(size)[None, :]
    inside = (h >= start[:, None]) & (h < end[:, None])
    return inside / (end - start)[:, None].astype(dtype)


class AdaptiveAvgPool2d(Function):
    """Y[n, c, i, j] = mean of X[n, c, start_i:end_i, start_j:end_j], with start_i = ⌊i H / H'⌋ and
    end_i = ⌈(i + 1) H / H'⌉ (PyTorch's windows; neighbours may share a row when H' does not divide H).

    Y = A_H X A_Wᵀ with the averaging matrices A; dX = A_Hᵀ G A_W: each input gets the share
    G / (window size) of every window it lies in.
    """

    @staticmethod
    def forward(ctx, x, output_size=(1, 1)):
        m = xp(x)
        n, c, h, w = x.shape
        out_h, out_w = output_size
        ctx.geometry = (x.shape, output_size)
        if h % out_h or w % out_w:
            rows, cols = _adaptive_matrix(h, out_h, x.dtype, m), _adaptive_matrix(w, out_w, x.dtype, m)
            ctx.save_for_backward(rows, cols)
            return _resample(x, rows, cols)
        ctx.save_for_backward()
        if output_size == (1, 1):      # global average pooling: one mean per image, no matrices
            return x.reshape(n, c, h * w).mean(axis=2).reshape(n, c, 1, 1)
        # equal blocks: AvgPool2d with kernel = stride = the block (kh + kw shifted views, no matrices)
        block = (h // out_h, w // out_w)
        return window_sums(x, block, block, out_h, out_w) / x.dtype.type(block[0] * block[1])

    @staticmethod
    def backward(ctx, grad):
        (n, c, h, w), (out_h, out_w) = ctx.geometry
        if h % out_h or w % out_w:
            rows, cols = ctx.saved_tensors
            return _resample(grad, _transposed(rows), _transposed(cols))
        block = (h // out_h, w // out_w)
        share = grad / grad.dtype.type(block[0] * block[1])
        if (out_h, out_w) == (1, 1):
            return xp(grad).broadcast_to(share, (n, c, h, w)).copy()
        return spread(share, (n, c, h, w), block, block)


# ----------------------------------------------------------------------------- nearest

def _nearest_index(size, out, scale, exact, m):
    """The input index each output reads along one axis (None: the identity), PyTorch's rules.

    "nearest" (legacy, as OpenCV's INTER_NEAREST): src = min(⌊dst · r⌋, size - 1);
    "nearest-exact": src = min(⌊(dst + 0.5) r⌋, size - 1); r = 1 / scale_factor when one was
    given, else size / out, computed in float32 as PyTorch does (so the indices match it exactly).
    """
    if not exact and out == size:
        return None
    if not exact and out == 2 * size:
        return m.arange(out) // 2                           # PyTorch's own special case
    ratio = m.float32(1.0 / scale) if scale else m.float32(size) / m.float32(out)
    if exact:           # (dst + 0.5) is a double in PyTorch: the product is a double, floored as a float
        where = ((m.arange(out, dtype=m.float64) + 0.5) * m.float64(ratio)).astype(m.float32)
    else:
        where = m.arange(out, dtype=m.float32) * ratio
    return m.minimum(m.floor(where).astype(m.int64), size - 1)


class UpsampleNearest2d(Function):
    """Y[n, c, i, j] = X[n, c, src_i, src_j]: every output copies the input pixel it falls into.

    src_i = min(⌊i · H / H'⌋, H - 1) (⌊i / scale_factor⌋ when a scale factor was given; see
    _nearest_index). Backward: dX = S_Hᵀ G S_W with the 0/1 matrices S[i, src_i] = 1, that is,
    every input sums the gradients of the outputs that copied it.
    """

    @staticmethod
    def forward(ctx, x, size=(1, 1), scales=(None, None), exact=False):
        m = xp(x)
        h, w = x.shape[2:]
        rows, cols = (_nearest_index(n, out, scale, exact, m) for n, out, scale in zip((h, w), size, scales))
        ctx.save_for_backward(rows, cols)
        ctx.sizes = (h, w)
        y = x if rows is None else x.take(rows, axis=2)          # a gather along each axis that changes
        y = y if cols is None else y.take(cols, axis=3)
        return x.copy() if y is x else y

    @staticmethod
    def backward(ctx, grad):
        rows, cols = ctx.saved_tensors
        m, (h, w) = xp(grad), ctx.sizes
        rows = None if rows is None else _one_hot(rows, h, grad.dtype, m)
        cols = None if cols is None else _one_hot(cols, w, grad.dtype, m)
        return _resample(grad, _transposed(rows), _transposed(cols))


# ----------------------------------------------------------------------------- bilinear

def _linear_matrix(size, out, scale, align_corners, dtype, m):
    """R (out, size): output i reads inputs h0 and h0 + 1 with weights 1 - λ and λ (None: the identity).

    The source coordinate of output i, in PyTorch's formulas (computed in the tensor's dtype):
      align_corners=True:   i · (size - 1) / (out - 1)       (the corner pixels' centres line up)
      align_corners=False:  (i + 0.5) · r - 0.5, at least 0,  r = 1 / scale_factor if given, else size / out
    h0 = ⌊coordinate⌋ (at most size - 1) and λ = coordinate - h0, both clipped at the last pixel.
    """
    if out == size:
        return None
    real = dtype.type
    dst = m.arange(out, dtype=dtype)
    if align_corners:
        ratio = real(size - 1) / real(out - 1) if out > 1 else real(0)
        where = ratio * dst
    else:
        ratio = real(1.0 / scale) if scale else real(size) / real(out)
        where = m.maximum(ratio * (dst + real(0.5)) - real(0.5), real(0))
    # PyTorch floors the coordinate as a float32 (floorf) even in float64
    low = m.minimum(m.floor(where.astype(m.float32)).astype(m.int64), size - 1)
    weight = m.clip(where - low.astype(dtype), real(0), real(1))            # λ
    high = m.minimum(low + 1, size - 1)
    columns = m.arange(size)[None, :]
    return ((low[:, None] == columns) * (real(1) - weight)[:, None]
            + (high[:, None] == columns) * weight[:, None]).astype(dtype)


class UpsampleBilinear2d(Function):
    """Y[n, c, i, j] = Σ over the 2 × 2 nearest input pixels of X, weighted by (1 - λ) or λ along
    each axis (see _linear_matrix for PyTorch's source coordinates, align_corners both ways).

    Y = R_H X R_Wᵀ; backward dX = R_Hᵀ G R_W: each input collects the gradients of the outputs
    that read it, with the same weights.
    """

    @staticmethod
    def forward(ctx, x, size=(1, 1), align_corners=False, scales=(None, None)):
        m = xp(x)
        rows, cols = (_linear_matrix(n, out, scale, align_corners, x.dtype, m)
                      for n, out, scale in zip(x.shape[2:], size, scales))
        ctx.save_for_backward(rows, cols)
        return _resample(x, rows, cols)

    @staticmethod
    def backward(ctx, grad):
        rows, cols = ctx.saved_tensors
        return _resample(grad, _transposed(rows), _transposed(cols))


# ----------------------------------------------------------------------------- interpolate's sizes

def resampling_size(op, shape, size, scale_factor, recompute_scale_factor=None):
    """The output size (H', W') of interpolate and the scales its formulas use, by PyTorch's rules.

    Exactly one of size (an int or a pair) and scale_factor (a number or a pair) is given. With a
    scale factor, H' = ⌊H · scale_factor⌋ and the formulas use 1 / scale_factor itself (which may
    differ from H / H'), unless recompute_scale_factor=True; with a size, the scales are None."""
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if recompute_scale_factor is not None:
        arguments.flag(recompute_scale_factor, "recompute_scale_factor", op)
    spatial = tuple(shape[2:])
    given = size if size is not None else scale_factor
    if isinstance(given, (tuple, list)) and len(given) != len(spatial):
        what = "size" if size is not None else "scale_factor"
        raise ValueError(f"{op}: the input has {len(spatial)} spatial dimensions {spatial}, but {what} "
                         f"{tuple(given)} has {len(given)}; give one value per axis or a single number")
    given = tuple(given) if isinstance(given, (tuple, list)) else (given,) * len(spatial)
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        out = tuple(arguments.int_arg(s, "size", op) for s in given)
        scales = (None,) * len(spatial)
    else:
        scales = tuple(arguments.number(s, "scale_factor", op) for s in given)
        out = tuple(int(n * s) for n, s in zip(spatial, scales))        # truncated, as PyTorch does
        if recompute_scale_factor:
            scales = (None,) * len(spatial)
    if min(out) < 1:
        raise ValueError(f"{op}: input and output sizes should be greater than 0, got input {spatial} and "
                         f"output {out}")
    return out, scales
