"""Optimizers: the update rules of the lecture, with PyTorch's names and arithmetic.

    from tinygrad_edu import optim
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)

SGD (with momentum, Nesterov, weight decay), Adagrad, RMSprop, Adam (RMSprop + momentum)
and AdamW (Adam with decoupled weight decay), each numerically equal to torch.optim.
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
