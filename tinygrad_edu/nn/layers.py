"""The old home of the layers, kept so that `from tinygrad_edu.nn.layers import Linear` still works.

Each layer now lives in the file PyTorch keeps it in (torch/nn/modules/...):

    Identity, Linear      nn/linear.py
    Conv2d                nn/conv.py
    MaxPool2d             nn/pooling.py
    BatchNorm1d           nn/normalization.py   (torch: batchnorm.py)
    Dropout               nn/dropout.py
    Flatten               nn/flatten.py
    Maxout                nn/activation.py      (a learned activation, beside PyTorch's PReLU there)

New code imports them from tinygrad_edu.nn.
"""
from .activation import Maxout
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .normalization import BatchNorm1d
from .pooling import MaxPool2d

__all__ = ["Identity", "Linear", "Conv2d", "MaxPool2d", "BatchNorm1d", "Dropout", "Flatten", "Maxout"]
