"""Adam and AdamW: RMSprop's per-weight step size plus momentum, with bias correction."""
from __future__ import annotations

import numbers
from typing import Any, Iterable

from .. import backend, kernels
from .optimizer import Optimizer, _lerp_, _new_step


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014) = RMSprop + momentum, with PyTorch's arithmetic.

    Two running averages per weight: m of the gradient (the momentum, "velocity") and v of
    its square (RMSprop's "accumulated"). Both start at 0, so early on they are biased
    towards 0; dividing by 1 - beta^t removes that bias. At step t (counting from 1):

        g  <- g + weight_decay * w                       (if weight_decay != 0)
        m  <- beta1 * m + (1 - beta1) * g
        v  <- beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t),   v_hat = v / (1 - beta2^t)
        w  <- w - lr * m_hat / (sqrt(v_hat) + eps)

    amsgrad=True divides by the largest v seen so far (v_max <- max(v_max, v)) instead of v,
    so the effective step size never grows.

    The code evaluates the last line as PyTorch does:
    w <- w - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).

    Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 decoupled_weight_decay: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        name = type(self).__name__
        self._check_at_least(options, "lr", 0.0, "learning rate")
        self._check_at_least(options, "eps", 0.0, "epsilon value")
        self._check_at_least(options, "weight_decay", 0.0, "weight_decay value")
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not isinstance(beta, numbers.Real) or isinstance(beta, bool):
                raise TypeError(f"{name}: betas must be numbers, got {betas!r}")
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: betas={tuple(betas)}; "
                                 "each beta must be in [0, 1)")

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.xp(param)
        state["step"] = _new_step()
        state["exp_avg"] = xp.zeros_like(param)
        state["exp_avg_sq"] = xp.zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(param)

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.xp(param)
        state["step"] += 1
        t = float(state["step"])
        lr, weight_decay = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        step_size = lr / (1 - beta1 ** t)
        bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5

        amsgrad = group["amsgrad"]
        fused = kernels.get("adam_amsgrad" if amsgrad else "adam", param)
        if fused is None:
            g = grad                               # read only: computed out of place below
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1 - lr * weight_decay     # AdamW: shrink w directly
                else:
                    g = param * weight_decay
                    g += grad                      # g + weight_decay * w

            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            _lerp_(exp_avg, g, 1 - beta1)          # m <- beta1 * m + (1 - beta1) * g
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * g * g

            if amsgrad:
                max_exp_avg_sq = state["max_exp_avg_sq"]
                xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                denom = xp.sqrt(max_exp_avg_sq)
            else:
                denom = xp.sqrt(exp_avg_sq)
            denom /= bias_correction2_sqrt
            denom += group["eps"]
            param -= step_size * exp_avg / denom
            return

        # the same update as one GPU kernel (kernels.py) instead of 13 launches per parameter
        decoupled = group["decoupled_weight_decay"]
        arrays = [param, state["exp_avg"], state["exp_avg_sq"]] + ([state["max_exp_avg_sq"]] if amsgrad else [])
        fused(grad, 1 - lr * weight_decay if decoupled else 1.0, 0.0 if decoupled else weight_decay,
              beta1, 1 - beta1, beta2, 1 - beta2, step_size, bias_correction2_sqrt, group["eps"], *arrays)


class AdamW(Adam):
    """AdamW (Loshchilov and Hutter, 2017): Adam with decoupled weight decay.

    In Adam, weight decay enters the gradient and is then rescaled by 1 / sqrt(v_hat), so
    weights with large gradients are barely regularised. AdamW shrinks the weights directly,
    before the Adam step, and leaves m and v to the loss's gradient alone:

        w <- w * (1 - lr * weight_decay)
        (then the Adam update above, with g the plain gradient)

    AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, decoupled_weight_decay=True)

    def _fill_defaults(self, group: dict[str, Any]) -> None:
        super()._fill_defaults(group)
        group["decoupled_weight_decay"] = True     # AdamW is always decoupled, even after a load
