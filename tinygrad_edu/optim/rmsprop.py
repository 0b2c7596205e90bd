"""RMSprop: divide each step by a running root-mean-square of recent gradients."""
from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from .optimizer import Optimizer, _lerp_, _new_step


class RMSprop(Optimizer):
    """RMSprop (Hinton, lecture 6.5 of "Neural Networks for Machine Learning", 2012), with
    PyTorch's arithmetic.

    Like Adagrad, but the squared gradients are averaged with exponential forgetting
    (alpha is the lecture's rho, typically 0.9-0.99), so the step size does not shrink
    forever. For a weight w with gradient g:

        g          <- g + weight_decay * w                         (if weight_decay != 0)
        square_avg <- alpha * square_avg + (1 - alpha) * g^2
        avg         = sqrt(square_avg) + eps

    centered=True subtracts the squared mean gradient, estimating the variance instead of
    the second moment:

        grad_avg   <- alpha * grad_avg + (1 - alpha) * g
        avg         = sqrt(square_avg - grad_avg^2) + eps

    Then, without and with momentum (a velocity buffer b, starting at 0):

        w <- w - lr * g / avg
        b <- momentum * b + g / avg;    w <- w - lr * b

    RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        self._check_at_least(options, "lr", 0.0, "learning rate")
        self._check_at_least(options, "eps", 0.0, "epsilon value")
        self._check_at_least(options, "momentum", 0.0, "momentum value")
        self._check_at_least(options, "weight_decay", 0.0, "weight_decay value")
        self._check_at_least(options, "alpha", 0.0, "alpha value")

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.xp(param)
        state["step"] = _new_step()
        state["square_avg"] = xp.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(param)

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.xp(param)
        state["step"] += 1
        alpha, weight_decay, momentum = group["alpha"], group["weight_decay"], group["momentum"]

        g = grad                                   # read only: computed out of place below
        if weight_decay != 0:
            g = param * weight_decay
            g += grad                              # g + weight_decay * w

        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g

        if group["centered"]:
            grad_avg = state["grad_avg"]
            _lerp_(grad_avg, g, 1 - alpha)
            avg = grad_avg * grad_avg
            xp.subtract(square_avg, avg, out=avg)  # square_avg - grad_avg^2
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]

        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * g / avg
