"""SGD: stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

from typing import Any, Iterable

from .. import backend, kernels
from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's arithmetic.

    Plain gradient descent, for each parameter w with gradient g:

        w <- w - lr * g

    Weight decay (L2 regularisation, the gradient of (weight_decay / 2) * ||w||^2) is added
    to the gradient first:

        g <- g + weight_decay * w

    Momentum keeps a velocity buffer b (started as b = g on the first step) that
    accumulates past gradients, so steps along a consistent direction grow and noisy
    directions cancel:

        b <- momentum * b + (1 - dampening) * g
        w <- w - lr * b                                  (classic momentum)
        w <- w - lr * (g + momentum * b)                 (nesterov=True: look one step ahead)

    With dampening = 0 and a constant lr this is the lecture's `v <- momentum * v - lr * g;
    w <- w + v` with v = -lr * b.

    SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        self._check_at_least(options, "lr", 0.0, "learning rate")
        self._check_at_least(options, "momentum", 0.0, "momentum value")
        self._check_at_least(options, "weight_decay", 0.0, "weight_decay value")
        self._check_number(options, "dampening")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={options['momentum']}, dampening={options['dampening']}")

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        weight_decay = group["weight_decay"]
        fused = kernels.get("sgd_momentum" if momentum != 0 else "sgd", param)
        if fused is None:
            g = grad                               # read only: computed out of place below
            if weight_decay != 0:
                g = param * weight_decay
                g += grad                          # g + weight_decay * w

            if momentum != 0:
                buf = state.get("momentum_buffer")
                if buf is None:                    # first step: the velocity is the gradient
                    buf = state["momentum_buffer"] = g.copy()
                else:
                    buf *= momentum
                    dampening = group["dampening"]
                    buf += g if dampening == 0 else (1 - dampening) * g
                g = g + momentum * buf if group["nesterov"] else buf

            param -= group["lr"] * g
            return

        # the same update as one GPU kernel (kernels.py) instead of up to 8 launches per parameter
        if momentum == 0:
            fused(grad, group["lr"], weight_decay, param)
            return
        first = state.get("momentum_buffer") is None   # then the kernel starts the buffer as g
        if first:
            state["momentum_buffer"] = backend.xp(param).empty_like(param)
        fused(grad, group["lr"], weight_decay, momentum, 1 - group["dampening"],
              int(bool(group["nesterov"])), int(first), param, state["momentum_buffer"])
