"""tinygrad_edu.nn: modules, layers, activations, losses and initialisations, with PyTorch's names.

The files follow torch/nn/modules: module.py (Module), parameter.py, container.py
(Sequential, ModuleList, ModuleDict), linear.py (Identity, Linear), conv.py (Conv2d, ConvTranspose2d),
pooling.py (MaxPool2d, AvgPool2d, AdaptiveAvgPool2d), upsampling.py (Upsample),
normalization.py (BatchNorm1d, BatchNorm2d), dropout.py (Dropout, Dropout2d), flatten.py,
activation.py (ReLU ... SiLU, Maxout, MultiheadAttention), loss.py, rnn.py (RNN, LSTM, GRU and
their cells), sparse.py (Embedding), transformer.py (TransformerEncoderLayer), and LayerNorm in
normalization.py; attention.py holds the attention formula and its masks;
functional.py is torch.nn.functional, init.py torch.nn.init and utils.py torch.nn.utils
(clip_grad_norm_, clip_grad_value_).
"""
from . import functional, init, layers
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, Maxout, ReLU, Sigmoid, Softmax, Softplus, Softsign, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d
from .parameter import Parameter
from .pooling import MaxPool2d
# ---- the vision lectures: normalisation, dropout, activation (helper G2)
from .activation import SiLU
from .dropout import Dropout2d
from .normalization import BatchNorm2d
# ---- the vision lectures: the window layers and upsampling (helper G1)
from .conv import ConvTranspose2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
# ---- the sequence lectures: recurrent layers (helper RNN)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
# ---- the sequence lectures: a dict of modules, gradient clipping (helper S)
from . import utils  # noqa: E402
from .container import ModuleDict  # noqa: E402
# ---- the sequence lectures: embeddings, layer normalisation, attention, the Transformer (helper NLP)
from . import attention  # noqa: E402
from .activation import MultiheadAttention  # noqa: E402
from .normalization import LayerNorm  # noqa: E402
from .sparse import Embedding  # noqa: E402
from .transformer import TransformerEncoderLayer  # noqa: E402

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "functional", "init",
    "Linear", "Conv2d", "MaxPool2d", "BatchNorm1d", "Dropout", "Flatten", "Identity", "Maxout",
    "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "GELU", "Softplus", "Softsign", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "BatchNorm2d", "Dropout2d", "SiLU",          # the vision lectures (helper G2)
    "ConvTranspose2d", "AvgPool2d", "AdaptiveAvgPool2d", "Upsample", "UpsamplingNearest2d",
    "UpsamplingBilinear2d",                      # the vision lectures (helper G1)
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",   # sequences (helper RNN)
    "ModuleDict", "utils",                       # the sequence lectures (helper S)
    "Embedding", "LayerNorm", "MultiheadAttention", "TransformerEncoderLayer",   # sequences (helper NLP)
]
