"""The built-in Function classes, importable as `from tinygrad_edu.functions import Mul`.

elementwise, reduce, movement and linalg hold the primitives; nn the one-node ops for stability
or speed; conv the windowed ops; sampling the separable resamplings (adaptive pooling, upsampling);
rnn the one-node LSTM and GRU steps and layers; movement also the scatter-adds of message passing.
operands is not a Function module: it prepares the operands
of Tensor methods (numbers, arrays, dtype promotion, index conversion) for these Functions."""
from .elementwise import (ELU, GELU, Abs, Add, Clip, Div, Exp, LeakyReLU, Log, Maximum, Minimum,
                          Mul, Neg, Pow, ReLU, Sigmoid, Softplus, Softsign, Sqrt, Sub, Tanh, Where)
from .conv import Conv2d, MaxPool2d
from .linalg import MatMul
from .movement import Cast, Cat, Expand, GetItem, Pad, Permute, Reshape, ToDevice
from .nn import BinaryCrossEntropy, CrossEntropy, Linear, LogSoftmax, LogSumExp, Softmax
from .reduce import Max, Mean, Min, Sum
# ---- the vision lectures: normalisation, SiLU, class-index losses (helper G2)
from .elementwise import SiLU
from .nn import BatchNorm, NegativeLogLikelihood
# ---- the vision lectures: the window layers and resampling (helper G1)
from .conv import AvgPool2d, ConvTranspose2d
from .sampling import AdaptiveAvgPool2d, UpsampleBilinear2d, UpsampleNearest2d
# ---- the sequence lectures: trigonometry, masks, running sums, top-k
from .elementwise import Cos, MaskedFill, Sin, Tril, Triu
from .reduce import CumSum, TopK
# ---- the sequence lectures: embeddings and layer normalisation (helper NLP)
from .nn import Embedding, LayerNorm
# ---- the sequence lectures: one-node recurrent steps and layers (helper RNN)
from .rnn import GRUSequence, GRUStep, LSTMSequence, LSTMStep
# ---- the graph lectures: scatter-add (message passing)
from .movement import IndexAdd, ScatterAdd

__all__ = [
    "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "Sqrt", "Abs",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "Softsign",
    "Clip", "Maximum", "Minimum", "Where",
    "Sum", "Mean", "Max", "Min",
    "Reshape", "Permute", "Expand", "GetItem", "Cat", "Pad", "Cast", "ToDevice",
    "MatMul",
    "LogSoftmax", "Softmax", "LogSumExp", "CrossEntropy", "BinaryCrossEntropy",
    "Linear", "Conv2d", "MaxPool2d",
    "SiLU", "BatchNorm", "NegativeLogLikelihood",       # the vision lectures (helper G2)
    "ConvTranspose2d", "AvgPool2d", "AdaptiveAvgPool2d", "UpsampleNearest2d", "UpsampleBilinear2d",  # (helper G1)
    "Sin", "Cos", "Tril", "Triu", "MaskedFill", "CumSum", "TopK",       # the sequence lectures
    "Embedding", "LayerNorm",                           # the sequence lectures (helper NLP)
    "LSTMStep", "LSTMSequence", "GRUStep", "GRUSequence",   # the sequence lectures (helper RNN)
    "ScatterAdd", "IndexAdd",                           # the graph lectures
]
