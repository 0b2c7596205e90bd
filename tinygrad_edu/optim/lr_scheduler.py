"""Learning-rate schedules: change each parameter group's "lr" as training goes on.

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)      # calls optimizer.step() many times
        scheduler.step()                       # then: the next epoch's learning rate

`last_epoch` counts the scheduler's steps (0 right after construction). Each rule is
written, as in PyTorch, as a change of the *current* lr (so it composes with changes made
from outside), and also in closed form for `step(epoch)`.
"""
from __future__ import annotations

import math
from typing import Any

from ..arguments import int_arg, number
from .optimizer import Optimizer


class LRScheduler:
    """Base class: remembers each group's starting lr (`base_lrs`) and sets group["lr"] on
    every `step()`. Subclasses give the rule in `get_lr()`.

    Creating a scheduler stores group["initial_lr"] (unless resuming with last_epoch >= 0)
    and takes a first step to epoch 0, which leaves the learning rates as they are.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer (e.g. optim.SGD), got "
                            f"{type(optimizer).__name__}")
        int_arg(last_epoch, "last_epoch", type(self).__name__, minimum=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', which "
                                   f"resuming with last_epoch={last_epoch} needs; load the optimizer's "
                                   "state_dict first, or start a fresh schedule with last_epoch=-1")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True                    # the constructor's own step: keep the lrs
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rate of each group for epoch `last_epoch` (subclasses define it)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set each group's lr. Call it after optimizer.step().

        `step(epoch)` (old PyTorch style) jumps to that epoch using the closed form.
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            lrs = self._closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last step, one per parameter group."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything the scheduler keeps except the optimizer (which saves itself)."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what state_dict() returned (the optimizer is not part of it)."""
        self.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in state_dict.items()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    """Multiply the learning rate by gamma every step_size epochs:

        lr_epoch = base_lr * gamma ^ floor(epoch / step_size)

    StepLR(optimizer, step_size, gamma=0.1): with lr=0.05, step_size=30, gamma=0.1 the lr is
    0.05 for epochs 0-29, 0.005 for 30-59, 0.0005 for 60-89, ...
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        int_arg(step_size, "step_size", "StepLR", minimum=1)
        number(gamma, "gamma", "StepLR")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """lr <- gamma * lr when epoch is a non-zero multiple of step_size, else unchanged."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by gamma every epoch:

        lr_epoch = base_lr * gamma ^ epoch

    ExponentialLR(optimizer, gamma)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        number(gamma, "gamma", "ExponentialLR")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """lr <- gamma * lr (the constructor's first step keeps lr)."""
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Lower the learning rate from base_lr to eta_min along half a cosine over T_max epochs
    (SGDR of Loshchilov and Hutter, 2016, without restarts):

        lr_epoch = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    After T_max epochs the curve goes up again (the cosine continues), as in PyTorch.
    step() applies it as a ratio to the current lr, so it composes with outside changes:

        lr_epoch = eta_min + (lr_{epoch-1} - eta_min) * (1 + cos(pi * epoch / T_max))
                                                      / (1 + cos(pi * (epoch - 1) / T_max))

    except at the bottom of the curve, where that ratio would be 0 / 0 and the increase
    (base_lr - eta_min) * (1 - cos(pi / T_max)) / 2 is added instead.

    CosineAnnealingLR(optimizer, T_max, eta_min=0.0)
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        number(T_max, "T_max", "CosineAnnealingLR")
        if not T_max > 0:                          # strictly positive: number(minimum=) means >=
            raise ValueError(f"CosineAnnealingLR: T_max (the number of epochs of the half cosine) must "
                             f"be > 0, got {T_max}")
        number(eta_min, "eta_min", "CosineAnnealingLR")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The cosine step to epoch e, as a ratio of the current lr (the class docstring has the exceptions):

            lr <- eta_min + (lr - eta_min) (1 + cos(π e / T_max)) / (1 + cos(π (e - 1) / T_max))
        """
        epoch, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and epoch > 0:     # resumed without the recursion's history
            return self._closed_form_lr()
        if (epoch - 1 - T_max) % (2 * T_max) == 0:  # leaving the minimum: 0 / 0 in the ratio below
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                    for lr, base_lr in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * epoch / T_max)) / (1 + math.cos(math.pi * (epoch - 1) / T_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]
