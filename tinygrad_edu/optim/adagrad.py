"""Adagrad: a learning rate per weight, shrinking with the gradients that weight has seen."""
from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from .optimizer import Optimizer, _new_step


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan and Singer, 2011), with PyTorch's arithmetic.

    Each weight keeps the sum of its squared gradients; weights that received large
    gradients take smaller steps. At step t (counting from 1), for a weight w with gradient g:

        g     <- g + weight_decay * w                    (if weight_decay != 0)
        lr_t   = lr / (1 + (t - 1) * lr_decay)
        sum   <- sum + g^2                               (sum starts at initial_accumulator_value)
        w     <- w - lr_t * g / (sqrt(sum) + eps)

    eps keeps the division finite while sum is still 0.

    Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """As Optimizer.add_param_group; the sums are created at once, as PyTorch does."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p.data, self.state[p], group)

    def _check_options(self, options: dict[str, Any]) -> None:
        self._check_at_least(options, "lr", 0.0, "learning rate")
        self._check_at_least(options, "lr_decay", 0.0, "lr_decay value")
        self._check_at_least(options, "weight_decay", 0.0, "weight_decay value")
        self._check_at_least(options, "initial_accumulator_value", 0.0, "initial_accumulator_value")
        self._check_at_least(options, "eps", 0.0, "epsilon value")

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = _new_step()
        state["sum"] = backend.xp(param).full_like(param, group["initial_accumulator_value"])

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.xp(param)
        state["step"] += 1
        t = float(state["step"])
        weight_decay = group["weight_decay"]

        g = grad                                   # read only: computed out of place below
        if weight_decay != 0:
            g = param * weight_decay
            g += grad                              # g + weight_decay * w

        lr_t = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        state["sum"] += g * g
        std = xp.sqrt(state["sum"])
        std += group["eps"]
        param -= lr_t * g / std
