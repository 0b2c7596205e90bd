"""Elementwise Functions: arithmetic and the activation table of lecture 4.

Every forward works on raw arrays with NumPy broadcasting; every backward returns a
gradient shaped like the *output*, and the engine sums it back to each input's shape
(see autograd.unbroadcast), so no Function here thinks about broadcasting.
An input may also be a plain Python number (x * 2): it gets no gradient.
"""
from __future__ import annotations

import math

from .. import backend, kernels
from ..autograd import Function

xp = backend.xp


# ----------------------------------------------------------------------------- arithmetic

class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1.  (A primitive rather than a + (-b): one node for speed.)"""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """y = a / b;  dy/da = 1 / b, dy/db = -a / b^2.  (A primitive rather than a * b^-1: one node for speed.)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad / b
        grad_b = -grad_a * a / b if ctx.needs_input_grad[1] else None
        return (grad_a if ctx.needs_input_grad[0] else None), grad_b


class Neg(Function):
    """y = -a;  dy/da = -1."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """y = a ** b;  dy/da = b * a^(b-1),  dy/db = y * log(a)."""

    @staticmethod
    def forward(ctx, a, b):
        y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = grad * (2 * a if isinstance(b, (int, float)) and b == 2 else b * a ** (b - 1))
        if need_b:
            grad_b = grad * y * xp(y).log(a)
        return grad_a, grad_b


class Exp(Function):
    """y = e^a;  dy/da = y."""

    @staticmethod
    def forward(ctx, a):
        y = xp(a).exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln(a);  dy/da = 1 / a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp(a).log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


class Sqrt(Function):
    """y = sqrt(a);  dy/da = 1 / (2 y)."""

    @staticmethod
    def forward(ctx, a):
        y = xp(a).sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


class Abs(Function):
    """y = |a|;  dy/da = sign(a), which is 0 at a = 0 (PyTorch's choice)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp(a).abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * xp(a).sign(a)


class Sin(Function):
    """y = sin(a);  dy/da = cos(a)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp(a).sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * xp(a).cos(a)


class Cos(Function):
    """y = cos(a);  dy/da = -sin(a)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp(a).cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -grad * xp(a).sin(a)


# ----------------------------------------------------------------------------- activations

class Sigmoid(Function):
    """y = 1 / (1 + e^-a);  dy/da = y (1 - y).

    Stable form: e^-|a| never overflows, and the two branches
    1 / (1 + e^-|a|) for a >= 0 and e^-|a| / (1 + e^-|a|) for a < 0 are both exact.
    """

    @staticmethod
    def forward(ctx, a):
        fused = kernels.get("sigmoid_forward", a)
        if fused is None:
            m = xp(a)
            e = m.exp(-m.abs(a))
            y = m.where(a >= 0, 1, e) / (1 + e)
        else:                                  # one GPU kernel instead of 7 launches
            y = fused(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        fused = kernels.get("sigmoid_backward", y)
        if fused is None:
            return grad * y * (1 - y)
        return fused(grad, y)                  # one GPU kernel instead of 3 launches


class SiLU(Function):
    """y = a σ(a) (the "swish"), σ the sigmoid;  dy/da = σ(a) (1 + a (1 - σ(a))) = y + σ(a) (1 - y).

    Stable form: σ(a) as in Sigmoid (e^-|a| never overflows), so y -> a for large a and y -> -0
    for very negative a, and the gradient goes to 1 and 0 there without overflow.
    """

    @staticmethod
    def forward(ctx, a):
        fused = kernels.get("silu_forward", a)
        if fused is None:
            m = xp(a)
            e = m.exp(-m.abs(a))
            s = m.where(a >= 0, 1, e) / (1 + e)
            y = a * s
        else:                                  # one GPU kernel instead of 8 launches
            y, s = fused(a)
        ctx.save_for_backward(a, s)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, s = ctx.saved_tensors
        fused = kernels.get("silu_backward", a)
        if fused is None:
            return grad * s * (1 + a * (1 - s))
        return fused(grad, a, s)               # one GPU kernel instead of 5 launches


class Tanh(Function):
    """y = tanh(a);  dy/da = 1 - y^2."""

    @staticmethod
    def forward(ctx, a):
        y = xp(a).tanh(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        fused = kernels.get("tanh_backward", y)
        if fused is None:
            return grad * (1 - y * y)
        return fused(grad, y)                  # one GPU kernel instead of 3 launches


class ReLU(Function):
    """y = max(a, 0);  dy/da = 1 where a > 0, else 0 (also 0 at a = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        y = xp(a).maximum(a, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        fused = kernels.get("relu_backward", y)
        if fused is None:
            return grad * (y > 0)
        return fused(grad, y)                  # one GPU kernel instead of 2 launches and a mask array


class LeakyReLU(Function):
    """y = a if a > 0 else slope * a;  dy/da = 1 if a > 0 else slope."""

    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.save_for_backward(a)
        ctx.slope = negative_slope
        fused = kernels.get("leaky_relu_forward", a)
        if fused is None:
            return xp(a).where(a > 0, a, a * negative_slope)
        return fused(a, negative_slope)        # one GPU kernel instead of 3 launches

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        fused = kernels.get("leaky_relu_backward", a)
        if fused is None:
            return xp(a).where(a > 0, grad, grad * ctx.slope)
        return fused(grad, a, ctx.slope)       # one GPU kernel instead of 3 launches


class ELU(Function):
    """y = a if a > 0 else alpha (e^a - 1);  dy/da = 1 if a > 0 else y + alpha."""

    @staticmethod
    def forward(ctx, a, alpha=1.0):
        fused = kernels.get("elu_forward", a)
        if fused is None:
            m = xp(a)
            y = m.where(a > 0, a, alpha * m.expm1(m.minimum(a, 0)))  # min(): no overflow in the branch not taken
        else:                                  # one GPU kernel instead of 5 launches
            y = fused(a, alpha)
        ctx.save_for_backward(a, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        fused = kernels.get("elu_backward", a)
        if fused is None:
            return xp(a).where(a > 0, grad, grad * (y + ctx.alpha))
        return fused(grad, a, y, ctx.alpha)    # one GPU kernel instead of 4 launches


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Function):
    """y = a Φ(a), Φ the standard normal CDF;  dy/da = Φ(a) + a φ(a).

    approximate="tanh": y = a/2 (1 + tanh(t)), t = sqrt(2/π) (a + 0.044715 a^3).
    """

    @staticmethod
    def forward(ctx, a, approximate="none"):
        ctx.approximate = approximate
        fused = kernels.get("gelu_tanh_forward" if approximate == "tanh" else "gelu_forward", a)
        if fused is None:
            if approximate == "tanh":
                s = xp(a).tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a ** 3))   # tanh(t), kept for backward
                y = 0.5 * a * (1 + s)
            else:
                s = 0.5 * (1 + backend.erf(a / _SQRT_2))                     # Φ(a), kept for backward
                y = a * s
        else:                                  # one GPU kernel instead of 5 (tanh form: 8) launches
            y, s = fused(a)
        ctx.save_for_backward(a, s)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, s = ctx.saved_tensors
        fused = kernels.get("gelu_tanh_backward" if ctx.approximate == "tanh" else "gelu_backward", a)
        if fused is None:
            if ctx.approximate == "tanh":
                dt = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
                return grad * (0.5 * (1 + s) + 0.5 * a * (1 - s * s) * dt)
            pdf = _INV_SQRT_2PI * xp(a).exp(-0.5 * a * a)
            return grad * (s + a * pdf)
        return fused(grad, a, s)               # one GPU kernel instead of 7 (tanh form: 13) launches


class Softplus(Function):
    """y = ln(1 + e^a);  dy/da = sigmoid(a).

    Stable form: written as max(a, 0) + ln(1 + e^-|a|), which never overflows.
    As in PyTorch, y = a where beta * a > threshold.
    """

    @staticmethod
    def forward(ctx, a, beta=1.0, threshold=20.0):
        fused = kernels.get("softplus_forward", a)
        if fused is None:
            m = xp(a)
            z = a * beta
            y = (m.maximum(z, 0) + m.log1p(m.exp(-m.abs(z)))) / beta
            y = m.where(z > threshold, a, y)
        else:                                  # one GPU kernel instead of 10 launches
            y, z = fused(a, beta, threshold)
        ctx.save_for_backward(z)
        ctx.threshold = threshold
        return y

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        fused = kernels.get("softplus_backward", z)
        if fused is None:
            m = xp(z)
            e = m.exp(-m.abs(z))
            sig = m.where(z >= 0, 1, e) / (1 + e)
            return m.where(z > ctx.threshold, grad, grad * sig)
        return fused(grad, z, ctx.threshold)   # one GPU kernel instead of 10 launches


class Softsign(Function):
    """y = a / (1 + |a|);  dy/da = 1 / (1 + |a|)^2."""

    @staticmethod
    def forward(ctx, a):
        d = 1 + xp(a).abs(a)
        ctx.save_for_backward(d)
        return a / d

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        return grad / (d * d)


# ----------------------------------------------------------------------------- selection

class Clip(Function):
    """y = min(max(a, lo), hi);  dy/da = 1 where lo <= a <= hi, else 0 (PyTorch's clamp)."""

    @staticmethod
    def forward(ctx, a, min=None, max=None):
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        return xp(a).clip(a, min, max)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = True
        if lo is not None:
            inside = a >= lo
        if hi is not None:
            inside = inside & (a <= hi)
        return grad * inside


class Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input, split in half on ties (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp(a).maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _route_to_winner(grad, a > b, b > a, a == b, ctx.needs_input_grad)


class Minimum(Function):
    """y = min(a, b);  the gradient goes to the smaller input, split in half on ties (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp(a).minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _route_to_winner(grad, a < b, b < a, a == b, ctx.needs_input_grad)


def _route_to_winner(grad, a_wins, b_wins, tie, needs):
    """Backward of max/min of two inputs: all of grad to the winner, half to each on a tie."""
    m = xp(grad)
    half = grad * 0.5
    grad_a = m.where(a_wins, grad, m.where(tie, half, 0)) if needs[0] else None
    grad_b = m.where(b_wins, grad, m.where(tie, half, 0)) if needs[1] else None
    return grad_a, grad_b


class Where(Function):
    """y = x where cond else other;  the gradient is routed, never multiplied, so a NaN or inf
    in the branch not taken does not reach the branch that was."""

    @staticmethod
    def forward(ctx, cond, x, other):
        ctx.save_for_backward(cond)
        return xp(cond).where(cond, x, other)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        m = xp(cond)
        _, need_x, need_other = ctx.needs_input_grad
        return (None,
                m.where(cond, grad, 0) if need_x else None,
                m.where(cond, 0, grad) if need_other else None)


# ----------------------------------------------------------------------------- masks

def _triangle(shape, diagonal, upper, m):
    """The bool mask of the lower (upper) triangle of the last two axes: True where
    j - i <= diagonal (j - i >= diagonal), i the row and j the column."""
    rows, cols = shape[-2], shape[-1]
    lower = m.tri(rows, cols, k=diagonal - 1 if upper else diagonal, dtype=bool)
    return ~lower if upper else lower


def _keep_triangle(ctx, a, diagonal, upper):
    """Tril's and Triu's forward: a where the triangle's mask is True, else 0 (the mask is saved)."""
    m = xp(a)
    keep = _triangle(a.shape, diagonal, upper, m)
    ctx.save_for_backward(keep)
    return m.where(keep, a, a.dtype.type(0))      # where, not a * mask: inf * 0 would be nan


class Tril(Function):
    """y[..., i, j] = a[..., i, j] where j - i <= diagonal, else 0 (the lower triangle of each
    matrix);  the gradient is masked the same way: dL/da = g where kept, 0 elsewhere."""

    @staticmethod
    def forward(ctx, a, diagonal=0):
        return _keep_triangle(ctx, a, diagonal, upper=False)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return xp(grad).where(keep, grad, grad.dtype.type(0))


class Triu(Tril):
    """y[..., i, j] = a[..., i, j] where j - i >= diagonal, else 0 (the upper triangle of each
    matrix);  dL/da = g where kept, 0 elsewhere (Tril's backward)."""

    @staticmethod
    def forward(ctx, a, diagonal=0):
        return _keep_triangle(ctx, a, diagonal, upper=True)


class MaskedFill(Function):
    """y = value where mask else a (mask broadcasts against a; value is a number, cast to a's
    dtype);  dL/da = g where the mask is False, 0 where it is True (value replaced a there)."""

    @staticmethod
    def forward(ctx, a, mask, value=0.0):
        ctx.save_for_backward(mask)
        return xp(a).where(mask, a.dtype.type(value), a)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return xp(grad).where(mask, grad.dtype.type(0), grad), None
