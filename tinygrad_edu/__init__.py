"""tinygrad_edu: a small tensor autograd engine for learning how neural networks train.

    from tinygrad_edu import Tensor
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad      # Tensor([2., 4.])
"""
from . import data, distributions, functions, nn, optim
from .autograd import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import cuda_available, get_default_device, manual_seed, set_default_device
from .gradcheck import GradcheckError, gradcheck
from .serialization import from_torch, load, save, to_torch
from .tensor import Tensor, ones_like, where, zeros_like

float32 = "float32"
float64 = "float64"
int64 = "int64"

zeros = Tensor.zeros
ones = Tensor.ones
full = Tensor.full
rand = Tensor.rand
randn = Tensor.randn
arange = Tensor.arange
eye = Tensor.eye
cat = Tensor.cat
stack = Tensor.stack
# ---- the sequence lectures (torch.sin, torch.tril, ...: the Tensor methods as functions)
from .random import multinomial  # noqa: E402
sin = Tensor.sin
cos = Tensor.cos
tril = Tensor.tril
triu = Tensor.triu
cumsum = Tensor.cumsum
topk = Tensor.topk
masked_fill = Tensor.masked_fill
# ---- the reinforcement-learning lecture: environments with gymnasium's API
from . import envs  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "Context", "functions", "nn", "optim", "data", "distributions", "save", "load", "to_torch",
    "from_torch", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "gradcheck", "GradcheckError", "manual_seed", "set_default_device",
    "get_default_device", "cuda_available", "where", "zeros_like", "ones_like", "zeros", "ones", "full",
    "rand", "randn", "arange", "eye", "cat", "stack", "float32", "float64", "int64",
    "multinomial", "sin", "cos", "tril", "triu", "cumsum", "topk", "masked_fill",     # the sequence lectures
    "envs",                                                                             # the RL lecture
]
