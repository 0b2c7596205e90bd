"""tinygrad_edu.nn: modules, layers, activations, losses and initialisations, with PyTorch's names."""
from . import functional, init
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Softsign, Tanh
from .container import ModuleList, Sequential
from .layers import BatchNorm1d, Conv2d, Dropout, Flatten, Identity, Linear, Maxout, MaxPool2d
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .parameter import Parameter

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "functional", "init",
    "Linear", "Conv2d", "MaxPool2d", "BatchNorm1d", "Dropout", "Flatten", "Identity", "Maxout",
    "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "GELU", "Softplus", "Softsign", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
]
