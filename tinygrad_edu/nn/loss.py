"""Loss modules: each wraps the function of the same name in nn.functional (lecture 5)."""
from __future__ import annotations

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


class CrossEntropyLoss(_Loss):
    """-log softmax(logits)[class], for logits (N, C) and class indices (N,).

    A label outside [0, C) is an IndexError on the CPU; on "cuda" the labels are not checked
    (that would wait for the GPU), and such a row's loss is NaN instead."""
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """-log softmax(input)[target] for logits (N, C) and class indices (N,) (or probabilities (N, C))."""
        return F.cross_entropy(input, target, self.reduction)


class NLLLoss(_Loss):
    """-logp[class], for log-probabilities (N, C) and class indices (N,); a label outside
    [0, C) is an IndexError on the CPU and a NaN loss on "cuda", as in CrossEntropyLoss."""
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """-input[i, target_i] for log-probabilities (N, C) and class indices (N,); then reduced."""
        return F.nll_loss(input, target, self.reduction)
