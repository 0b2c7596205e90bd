"""Loss modules: each wraps the function of the same name in nn.functional (lecture 5)."""
from __future__ import annotations

from typing import Any

from .. import arguments
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = arguments.reduction(reduction, type(self).__name__)


class MSELoss(_Loss):
    """mean (ŷ - y)²"""
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """(input - target)², reduced by self.reduction ('mean', 'sum' or 'none')."""
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """mean |ŷ - y|"""
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """|input - target|, reduced by self.reduction."""
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """quadratic for |ŷ - y| < delta, linear beyond"""
    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """0.5 d² where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target; then reduced."""
        return F.huber_loss(input, target, self.reduction, self.delta)


class BCELoss(_Loss):
    """-(y log p + (1 - y) log(1 - p)) on probabilities"""
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """-(y log p + (1 - y) log(1 - p)) for probabilities p = input and targets y; then reduced."""
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """binary cross-entropy on logits (sigmoid built in, stable)"""
    def __init__(self, reduction: str = "mean", pos_weight: Tensor | None = None):
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """BCE of sigmoid(input) against target, computed stably from the logits; then reduced."""
        return F.binary_cross_entropy_with_logits(input, target, self.reduction, self.pos_weight)


class _WeightedLoss(_Loss):
    """A loss with a weight per class, kept as the buffer `weight` (in the state_dict, as in PyTorch;
    None adds nothing). size_average and reduce are PyTorch's deprecated spellings of reduction:
    they keep its argument positions, and giving one is an error that says so."""
    def __init__(self, weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean"):
        name = type(self).__name__
        if size_average is not None or reduce is not None:
            raise TypeError(f"{name}: size_average= and reduce= are deprecated in PyTorch and not supported "
                            f"here; use reduction='mean', 'sum' or 'none'")
        super().__init__(reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(weight)
        if weight is not None and (weight.ndim != 1 or weight.dtype.kind != "f"):
            raise ValueError(f"{name}: weight must be a 1-D float tensor with one weight per class, got "
                             f"{weight.dtype} of shape {weight.shape}")
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """-log softmax(logits)[class], for logits (N, C) or (N, C, d1, ...) and class indices (N,) or
    (N, d1, ...) (or class probabilities of the logits' shape).

    weight (C,) weighs each class, a target equal to ignore_index counts for nothing, and 'mean'
    divides by the summed weight of the targets that count. A label outside [0, C) is an IndexError
    on the CPU; on "cuda" the labels are not checked (that would wait for the GPU), and such a
    row's loss is NaN instead."""
    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = arguments.int_arg(ignore_index, "ignore_index", "CrossEntropyLoss")
        self.label_smoothing = arguments.number(label_smoothing, "label_smoothing", "CrossEntropyLoss", minimum=0.0)
        if self.label_smoothing > 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """-log softmax(input)[target] per position, weighted, without the ignored targets; then reduced."""
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """-logp[class], for log-probabilities (N, C) or (N, C, d1, ...) and class indices (N,) or
    (N, d1, ...); weight and ignore_index as in CrossEntropyLoss. A label outside [0, C) is an
    IndexError on the CPU and a NaN loss on "cuda", as in CrossEntropyLoss."""
    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = arguments.int_arg(ignore_index, "ignore_index", "NLLLoss")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """-input[i, target_i] · weight[target_i] for log-probabilities and class indices; then reduced."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)
