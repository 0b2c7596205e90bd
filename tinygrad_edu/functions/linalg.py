"""Matrix multiplication, with NumPy's rules for 1-D operands and batch broadcasting."""
from __future__ import annotations

from ..autograd import Function


class MatMul(Function):
    """Y = A @ B;  dL/dA = dL/dY @ Bᵀ,  dL/dB = Aᵀ @ dL/dY  (lecture 6: ∇_W f = Xᵀ ∇_a f).

    Leading (batch) axes broadcast; the engine sums their gradient back. A 1-D operand
    behaves like a row (on the left) or a column (on the right) whose size-1 axis is then
    dropped, so backward first puts that axis back.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if b.ndim == 1:
            grad = grad[..., None]
            b = b[:, None]
        if a.ndim == 1:
            grad = grad[..., None, :]
            a = a[None, :]
        grad_a = grad @ b.swapaxes(-1, -2) if need_a else None
        grad_b = a.swapaxes(-1, -2) @ grad if need_b else None
        if ctx.saved_tensors[0].ndim == 1 and grad_a is not None:
            grad_a = grad_a[..., 0, :]
        if ctx.saved_tensors[1].ndim == 1 and grad_b is not None:
            grad_b = grad_b[..., 0]
        return grad_a, grad_b
