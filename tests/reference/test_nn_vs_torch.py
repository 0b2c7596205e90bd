"""Every layer, activation module and loss of tinygrad_edu.nn against torch.nn 2.13 (CPU).

The Functions under the layers (Linear, Conv2d, MaxPool2d, the activations, softmax, the
cross-entropies) are checked one by one, on drawn shapes and geometries and at the edges of
their domains, by the op table (tests/reference/op_table.py). This file checks the modules
around them: a layer case builds the torch module, copies its weights into ours with
load_state_dict (NumPy arrays, as a student moving weights across would), runs the same
input through both and compares the output; then it runs backward with the same random
upstream gradient and compares the input's gradient and every parameter's gradient, by name.
A loss case does the same for each reduction ('mean', 'sum', 'none').
What torch cannot referee directly is checked by what it must satisfy: Dropout's random
mask (its statistics, its scaling, the same mask in backward) and Maxout (a NumPy formula).
The main pass is float32, the default dtype, with float32 tolerances.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor

from ..conftest import assert_close as _assert_close
from ..conftest import upstream_gradient

pytestmark = [pytest.mark.lecture09]

TOL = dict(rtol=1e-4, atol=1e-5)          # float32 layers against float32 layers: rounding only
REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture(autouse=True)
def _seed_torch():
    """torch's own initialisation is part of every case: make it the same on every run."""
    torch.manual_seed(0)


# ----------------------------------------------------------------------------- helpers

def copy_weights(ours: nn.Module, theirs: torch.nn.Module, as_tensors: bool = False) -> None:
    """Load torch's state_dict into ours (strict: every name and shape must agree)."""
    arrays = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    if as_tensors:
        arrays = {k: Tensor(v) for k, v in arrays.items()}
    ours.load_state_dict(arrays)


def assert_close(ours: np.ndarray, theirs: np.ndarray, what: str, tol: dict = TOL) -> None:
    _assert_close(ours, theirs, what, **tol)


def check_module(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, device: str,
                 tol: dict = TOL) -> None:
    """Same input through both modules: output, input gradient and every parameter gradient."""
    ours_x = Tensor(x, requires_grad=True, device=device)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours_y, theirs_y = ours(ours_x), theirs(theirs_x)
    assert_close(ours_y.detach().numpy(), theirs_y.detach().numpy(), "forward", tol)

    g = upstream_gradient(tuple(theirs_y.shape))
    ours_y.backward(Tensor(g, device=device))
    theirs_y.backward(torch.from_numpy(g))
    assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), "gradient of the input", tol)

    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert list(ours_params) == list(theirs_params), "parameter names differ from torch's"
    for name, theirs_p in theirs_params.items():
        assert ours_params[name].grad is not None, f"{name} received no gradient"
        assert_close(ours_params[name].grad.numpy(), theirs_p.grad.numpy(), f"gradient of {name}", tol)


def randomize_affine(bn: torch.nn.BatchNorm1d) -> None:
    """γ = 1, β = 0 (the defaults) would hide a mix-up of the two: draw them instead."""
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.normal_()


# ----------------------------------------------------------------------------- Linear

@pytest.mark.lecture03
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)], ids=["2d", "3d"])
def test_linear_matches_torch(shape, bias, device, rng):
    theirs = torch.nn.Linear(4, 6, bias=bias)
    ours = nn.Linear(4, 6, bias=bias).to(device)
    copy_weights(ours, theirs)
    check_module(ours, theirs, rng.standard_normal(shape).astype(np.float32), device)


@pytest.mark.lecture03
def test_linear_weights_load_from_our_tensors_as_from_arrays(rng):
    theirs = torch.nn.Linear(3, 2)
    ours = nn.Linear(3, 2)
    copy_weights(ours, theirs, as_tensors=True)
    check_module(ours, theirs, rng.standard_normal((4, 3)).astype(np.float32), "cpu")


# ----------------------------------------------------------------------------- Conv2d

CONV_CASES = [                      # kernel_size, stride, padding, dilation (the op table draws the rest)
    (3, 1, 1, 1),
    ((2, 3), (2, 1), (2, 1), (1, 2)),
]


@pytest.mark.parametrize("kernel_size,stride,padding,dilation", CONV_CASES,
                         ids=[f"k{k}-s{s}-p{p}-d{d}" for k, s, p, d in CONV_CASES])
def test_conv2d_matches_torch(kernel_size, stride, padding, dilation, device, rng):
    theirs = torch.nn.Conv2d(3, 4, kernel_size, stride=stride, padding=padding, dilation=dilation)
    ours = nn.Conv2d(3, 4, kernel_size, stride=stride, padding=padding, dilation=dilation).to(device)
    copy_weights(ours, theirs)
    x = rng.standard_normal((2, 3, 9, 10)).astype(np.float32)
    check_module(ours, theirs, x, device)


def test_conv2d_without_bias_matches_torch(device, rng):
    theirs = torch.nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1, bias=False)
    ours = nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1, bias=False).to(device)
    copy_weights(ours, theirs)
    assert ours.bias is None
    check_module(ours, theirs, rng.standard_normal((2, 2, 7, 6)).astype(np.float32), device)


# ----------------------------------------------------------------------------- MaxPool2d

@pytest.mark.parametrize("kernel_size,stride,padding,dilation", [(2, None, 0, 1), ((2, 3), (1, 2), (1, 0), 2)],
                         ids=["k2", "k(2,3)-s(1,2)-p(1,0)-d2"])
def test_max_pool2d_matches_torch(kernel_size, stride, padding, dilation, device, rng):
    theirs = torch.nn.MaxPool2d(kernel_size, stride=stride, padding=padding, dilation=dilation)
    ours = nn.MaxPool2d(kernel_size, stride=stride, padding=padding, dilation=dilation)
    x = rng.standard_normal((2, 3, 9, 10)).astype(np.float32)
    check_module(ours, theirs, x, device)


# ----------------------------------------------------------------------------- BatchNorm1d

BN_SHAPES = [pytest.param((8, 4), id="N,C"), pytest.param((6, 4, 5), id="N,C,L")]


@pytest.mark.lecture08
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "no_affine"])
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm1d_in_training_mode_matches_torch(shape, affine, device, rng):
    theirs = torch.nn.BatchNorm1d(4, affine=affine)
    if affine:
        randomize_affine(theirs)
    ours = nn.BatchNorm1d(4, affine=affine).to(device)
    copy_weights(ours, theirs)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    check_module(ours, theirs, x, device)


def run_training_steps(ours: nn.BatchNorm1d, theirs: torch.nn.BatchNorm1d, shape: tuple, device: str,
                       steps: int = 4) -> None:
    """Feed both the same batches, each with its own mean and spread."""
    rng = np.random.default_rng(0)
    for step in range(steps):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        ours(Tensor(x, device=device))
        theirs(torch.tensor(x))


@pytest.mark.parametrize("momentum", [0.1, 0.5, None], ids=["momentum0.1", "momentum0.5", "cumulative"])
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm1d_running_statistics_after_several_steps_match_torch(shape, momentum, device):
    theirs = torch.nn.BatchNorm1d(4, momentum=momentum)
    ours = nn.BatchNorm1d(4, momentum=momentum).to(device)
    run_training_steps(ours, theirs, shape, device)
    assert_close(ours.running_mean.numpy(), theirs.running_mean.numpy(), "running_mean", dict(rtol=1e-5, atol=1e-6))
    assert_close(ours.running_var.numpy(), theirs.running_var.numpy(), "running_var (unbiased)",
                 dict(rtol=1e-5, atol=1e-6))
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 4


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm1d_in_eval_mode_uses_the_running_statistics_like_torch(shape, device):
    theirs = torch.nn.BatchNorm1d(4)
    randomize_affine(theirs)
    ours = nn.BatchNorm1d(4).to(device)
    copy_weights(ours, theirs)
    run_training_steps(ours, theirs, shape, device, steps=3)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    check_module(ours, theirs, x, device)


def test_batchnorm1d_in_eval_mode_leaves_the_running_statistics_alone(device):
    ours = nn.BatchNorm1d(4).to(device)
    run_training_steps(ours, torch.nn.BatchNorm1d(4), (8, 4), device, steps=2)
    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    ours.eval()
    ours(Tensor(np.random.default_rng(1).standard_normal((8, 4)).astype(np.float32) * 7, device=device))
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key], err_msg=key)


def test_batchnorm1d_without_running_statistics_uses_the_batch_in_eval_mode_like_torch(device, rng):
    theirs = torch.nn.BatchNorm1d(4, track_running_stats=False).eval()
    ours = nn.BatchNorm1d(4, track_running_stats=False).to(device).eval()
    copy_weights(ours, theirs)
    check_module(ours, theirs, rng.standard_normal((8, 4)).astype(np.float32) * 2 + 3, device)


# ----------------------------------------------------------------------------- Dropout

def test_dropout_in_eval_mode_is_the_identity(device, rng):
    x = Tensor(rng.standard_normal((50, 40)).astype(np.float32), requires_grad=True,
               device=device)
    y = nn.Dropout(0.5).eval()(x)
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    g = upstream_gradient(x.shape)
    y.backward(Tensor(g, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), g)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_in_training_zeroes_a_fraction_p(p, device, rng):
    x = Tensor(rng.uniform(1, 2, size=(400, 500)).astype(np.float32), device=device)
    zeroed = (nn.Dropout(p)(x).numpy() == 0).mean()
    assert abs(zeroed - p) < 0.01, f"zeroed {zeroed:.4f} of the inputs, expected about {p}"


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_in_training_scales_the_kept_inputs_by_one_over_one_minus_p(p, device, rng):
    x_np = rng.uniform(1, 2, size=(100, 100)).astype(np.float32)
    y = nn.Dropout(p)(Tensor(x_np, device=device)).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x_np[kept] / (1 - p), rtol=1e-6)


def test_dropout_backward_uses_the_forward_mask(device, rng):
    p = 0.3
    x = Tensor(rng.uniform(1, 2, size=(60, 70)).astype(np.float32), requires_grad=True,
               device=device)
    y = nn.Dropout(p)(x)
    g = upstream_gradient(x.shape)
    y.backward(Tensor(g, device=device))
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, g / (1 - p), 0), rtol=1e-6)


def test_dropout_draws_a_new_mask_on_every_call(device):
    x = Tensor(np.ones((40, 40), np.float32), device=device)
    layer = nn.Dropout(0.5)
    assert not np.array_equal(layer(x).numpy(), layer(x).numpy())


def test_dropout_with_p_zero_keeps_everything_in_training(device, rng):
    x_np = rng.standard_normal((5, 6)).astype(np.float32)
    np.testing.assert_array_equal(nn.Dropout(0.0)(Tensor(x_np, device=device)).numpy(), x_np)


def test_dropout_with_p_one_drops_everything_in_training_like_torch(device, rng):
    x_np = rng.standard_normal((5, 6)).astype(np.float32)
    np.testing.assert_array_equal(nn.Dropout(1.0)(Tensor(x_np, device=device)).numpy(),
                                  torch.nn.Dropout(1.0)(torch.tensor(x_np)).numpy())


# ----------------------------------------------------------------------------- Flatten

@pytest.mark.parametrize("start_dim,end_dim", [(1, -1), (0, -1), (1, 2), (2, 3), (-2, -1)])
def test_flatten_matches_torch(start_dim, end_dim, device, rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    check_module(nn.Flatten(start_dim, end_dim), torch.nn.Flatten(start_dim, end_dim), x, device)


# ----------------------------------------------------------------------------- activations

ACTIVATIONS = {
    "ReLU": (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    "Sigmoid": (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    "Tanh": (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    "Softsign": (lambda: nn.Softsign(), lambda: torch.nn.Softsign()),
    "LeakyReLU": (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    "LeakyReLU(0.2)": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    "ELU": (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    "ELU(0.5)": (lambda: nn.ELU(0.5), lambda: torch.nn.ELU(0.5)),
    "GELU": (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    "GELU(tanh)": (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    "Softplus": (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    "Softplus(beta=2,threshold=5)": (lambda: nn.Softplus(2.0, 5.0), lambda: torch.nn.Softplus(2.0, 5.0)),
    "Softmax(dim=1)": (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    "Softmax(dim=-1)": (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    "Softmax(dim=0)": (lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0)),
    "LogSoftmax(dim=1)": (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    "LogSoftmax(dim=-1)": (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    "Identity": (lambda: nn.Identity(), lambda: torch.nn.Identity()),
}


@pytest.mark.lecture04
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_module_matches_torch(name, device, rng):
    ours, theirs = (make() for make in ACTIVATIONS[name])
    x = (rng.standard_normal((4, 5, 6)) * 4).astype(np.float32)   # beyond every threshold
    check_module(ours, theirs, x, device)


# ----------------------------------------------------------------------------- containers

def mlp(lib):
    """The same small model in either library (lib is torch.nn or tinygrad_edu.nn)."""
    return lib.Sequential(lib.Linear(6, 8), lib.ReLU(), lib.Linear(8, 8), lib.BatchNorm1d(8), lib.Tanh(),
                          lib.Linear(8, 3))


def cnn(lib):
    return lib.Sequential(lib.Conv2d(2, 4, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
                          lib.Conv2d(4, 6, (2, 3), stride=(1, 2)), lib.Flatten(), lib.Linear(48, 5))


@pytest.mark.parametrize("build,shape", [(mlp, (10, 6)), (cnn, (3, 2, 10, 10))], ids=["mlp", "cnn"])
def test_sequential_matches_torch(build, shape, device, rng):
    theirs = build(torch.nn)
    ours = build(nn).to(device)
    copy_weights(ours, theirs)
    check_module(ours, theirs, rng.standard_normal(shape).astype(np.float32), device)


def test_sequential_in_eval_mode_matches_torch(device, rng):
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Dropout(0.5), torch.nn.BatchNorm1d(7),
                                 torch.nn.Linear(7, 2)).eval()
    ours = nn.Sequential(nn.Linear(5, 7), nn.Dropout(0.5), nn.BatchNorm1d(7), nn.Linear(7, 2)).to(device).eval()
    copy_weights(ours, theirs)
    check_module(ours, theirs, rng.standard_normal((6, 5)).astype(np.float32), device)


# ----------------------------------------------------------------------------- Maxout (no torch twin)

def maxout_by_numpy(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, pieces: int, g: np.ndarray):
    """y_j = max_k (x W_kᵀ + b_k)_j, piece k being rows k·out ... (k+1)·out - 1 of the weight;
    the gradient reaches only the winning piece. Returns y, dx, dW, db."""
    out = weight.shape[0] // pieces
    rows = x.reshape(-1, x.shape[-1])
    z = (rows @ weight.T + bias).reshape(-1, pieces, out)
    winner = z.argmax(axis=1)                                     # (rows, out)
    y = z.max(axis=1)
    dz = np.zeros_like(z)
    np.put_along_axis(dz, winner[:, None, :], g.reshape(-1, 1, out), axis=1)
    dz = dz.reshape(-1, pieces * out)
    dx = (dz @ weight).reshape(x.shape)
    return y.reshape(x.shape[:-1] + (out,)), dx, dz.T @ rows, dz.sum(axis=0)


def test_maxout_parameters_are_one_linear_layer_holding_every_piece():
    layer = nn.Maxout(5, 3, pieces=4)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [("linear.weight", (12, 5)), ("linear.bias", (12,))]


@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 5)], ids=["2d", "3d"])
def test_maxout_matches_its_numpy_formula(shape, device, rng):
    layer = nn.Maxout(5, 3, pieces=4).to(device)
    x_np = rng.standard_normal(shape).astype(np.float32)
    x = Tensor(x_np, requires_grad=True, device=device)
    y = layer(x)
    g = upstream_gradient(y.shape)
    y.backward(Tensor(g, device=device))
    expected_y, dx, dw, db = maxout_by_numpy(x_np, layer.linear.weight.detach().numpy(),
                                             layer.linear.bias.detach().numpy(), 4, g)
    assert_close(y.detach().numpy(), expected_y, "forward")
    assert_close(x.grad.numpy(), dx, "gradient of the input")
    assert_close(layer.linear.weight.grad.numpy(), dw, "gradient of linear.weight")
    assert_close(layer.linear.bias.grad.numpy(), db, "gradient of linear.bias")


# ----------------------------------------------------------------------------- losses

POS_WEIGHT = np.array([0.5, 1.0, 2.0, 3.0], np.float32)


def _regression(rng):
    return (rng.standard_normal((5, 4)) * 2).astype(np.float32), (rng.standard_normal((5, 4)) * 2).astype(np.float32)


def _probabilities(rng, hard):
    p = 1 / (1 + np.exp(-rng.standard_normal((5, 4))))
    y = rng.integers(0, 2, (5, 4)) if hard else rng.uniform(0, 1, (5, 4))
    return p.astype(np.float32), y.astype(np.float32)


def _logits_and_binary_targets(rng):
    return (rng.standard_normal((5, 4)) * 3).astype(np.float32), rng.uniform(0, 1, (5, 4)).astype(np.float32)


def _logits_and_classes(rng):
    return (rng.standard_normal((6, 5)) * 2).astype(np.float32), rng.integers(0, 5, 6).astype(np.int64)


def _logits_and_class_probabilities(rng):
    q = np.exp(rng.standard_normal((6, 5)))
    return (rng.standard_normal((6, 5)) * 2).astype(np.float32), (q / q.sum(1, keepdims=True)).astype(np.float32)


def _log_probabilities_and_classes(rng):
    z, y = _logits_and_classes(rng)
    return (z - np.log(np.exp(z).sum(1, keepdims=True))).astype(np.float32), y


# name: (our loss, torch's loss, inputs) — the losses are built for a given reduction
LOSSES = {
    "MSELoss": (lambda r: nn.MSELoss(reduction=r), lambda r: torch.nn.MSELoss(reduction=r), _regression),
    "L1Loss": (lambda r: nn.L1Loss(reduction=r), lambda r: torch.nn.L1Loss(reduction=r), _regression),
    "HuberLoss": (lambda r: nn.HuberLoss(reduction=r), lambda r: torch.nn.HuberLoss(reduction=r), _regression),
    "HuberLoss(delta=0.5)": (lambda r: nn.HuberLoss(reduction=r, delta=0.5),
                             lambda r: torch.nn.HuberLoss(reduction=r, delta=0.5), _regression),
    "HuberLoss(delta=2.5)": (lambda r: nn.HuberLoss(reduction=r, delta=2.5),
                             lambda r: torch.nn.HuberLoss(reduction=r, delta=2.5), _regression),
    "BCELoss(hard targets)": (lambda r: nn.BCELoss(reduction=r), lambda r: torch.nn.BCELoss(reduction=r),
                              lambda rng: _probabilities(rng, hard=True)),
    "BCELoss(soft targets)": (lambda r: nn.BCELoss(reduction=r), lambda r: torch.nn.BCELoss(reduction=r),
                              lambda rng: _probabilities(rng, hard=False)),
    "BCEWithLogitsLoss": (lambda r: nn.BCEWithLogitsLoss(reduction=r),
                          lambda r: torch.nn.BCEWithLogitsLoss(reduction=r), _logits_and_binary_targets),
    "BCEWithLogitsLoss(pos_weight)": (
        lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=Tensor(POS_WEIGHT)),
        lambda r: torch.nn.BCEWithLogitsLoss(reduction=r, pos_weight=torch.tensor(POS_WEIGHT)),
        _logits_and_binary_targets),
    "CrossEntropyLoss(class indices)": (lambda r: nn.CrossEntropyLoss(reduction=r),
                                        lambda r: torch.nn.CrossEntropyLoss(reduction=r), _logits_and_classes),
    "CrossEntropyLoss(class probabilities)": (lambda r: nn.CrossEntropyLoss(reduction=r),
                                              lambda r: torch.nn.CrossEntropyLoss(reduction=r),
                                              _logits_and_class_probabilities),
    "NLLLoss": (lambda r: nn.NLLLoss(reduction=r), lambda r: torch.nn.NLLLoss(reduction=r),
                _log_probabilities_and_classes),
}


def check_loss(ours: nn.Module, theirs: torch.nn.Module, input: np.ndarray, target: np.ndarray,
               tol: dict = TOL) -> None:
    """Loss value(s) and the gradient of the input, for the same random upstream gradient."""
    ours_x = Tensor(input, requires_grad=True)
    theirs_x = torch.tensor(input, requires_grad=True)
    ours_loss = ours(ours_x, Tensor(target))
    theirs_loss = theirs(theirs_x, torch.tensor(target))
    assert np.all(np.isfinite(ours_loss.detach().numpy())), f"loss is not finite: {ours_loss.detach().numpy()}"
    assert_close(ours_loss.detach().numpy(), theirs_loss.detach().numpy(), "loss", tol)
    g = upstream_gradient(tuple(theirs_loss.shape))
    ours_loss.backward(Tensor(g))
    theirs_loss.backward(torch.from_numpy(g))
    assert np.all(np.isfinite(ours_x.grad.numpy())), f"gradient is not finite: {ours_x.grad.numpy()}"
    assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), "gradient of the input", tol)


@pytest.mark.lecture05
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_torch(name, reduction, rng):
    make_ours, make_theirs, inputs = LOSSES[name]
    check_loss(make_ours(reduction), make_theirs(reduction), *inputs(rng))


EXTREME_LOGITS = np.array([[1000.0, -1000.0, 0.0, 1.0],
                           [-1000.0, 1000.0, 1000.0, -1000.0],
                           [1000.0, 1000.0, 1000.0, 1000.0],
                           [-1000.0, -1000.0, -1000.0, -1000.0]], np.float32)
EXTREME_CASES = {
    "BCEWithLogitsLoss": ("BCEWithLogitsLoss", np.array([[1, 0, 1, 0.5], [1, 0, 1, 0], [0, 1, 0.5, 1],
                                                         [1, 0, 0.5, 0]], np.float32)),
    "BCEWithLogitsLoss(pos_weight)": ("BCEWithLogitsLoss(pos_weight)",
                                      np.array([[0, 1, 1, 0.5], [1, 1, 0, 0], [0, 1, 0.5, 1], [1, 0, 0.5, 1]],
                                               np.float32)),
    "CrossEntropyLoss(class indices)": ("CrossEntropyLoss(class indices)", np.array([1, 0, 3, 2], np.int64)),
    "CrossEntropyLoss(class probabilities)": ("CrossEntropyLoss(class probabilities)",
                                              np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.0, 0.5, 0.0],
                                                        [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 1.0]], np.float32)),
}


@pytest.mark.lecture05
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(EXTREME_CASES))
def test_logit_loss_of_logits_of_plus_minus_1000_is_finite_and_equal_to_torch(case, reduction):
    name, target = EXTREME_CASES[case]
    make_ours, make_theirs, _ = LOSSES[name]
    check_loss(make_ours(reduction), make_theirs(reduction), EXTREME_LOGITS, target)


# ----------------------------------------------------------------------------- nn.functional = the modules

def random_tensor(shape=(4, 5, 6), seed=0):
    return Tensor((np.random.default_rng(seed).standard_normal(shape) * 4).astype(np.float32))


FUNCTIONAL_ACTIVATIONS = {
    "relu": (lambda x: F.relu(x), nn.ReLU()),
    "sigmoid": (lambda x: F.sigmoid(x), nn.Sigmoid()),
    "tanh": (lambda x: F.tanh(x), nn.Tanh()),
    "softsign": (lambda x: F.softsign(x), nn.Softsign()),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), nn.LeakyReLU(0.2)),
    "elu": (lambda x: F.elu(x, 0.5), nn.ELU(0.5)),
    "gelu": (lambda x: F.gelu(x), nn.GELU()),
    "gelu(tanh)": (lambda x: F.gelu(x, approximate="tanh"), nn.GELU("tanh")),
    "softplus": (lambda x: F.softplus(x, beta=2.0, threshold=5.0), nn.Softplus(2.0, 5.0)),
    "softmax": (lambda x: F.softmax(x, dim=1), nn.Softmax(dim=1)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), nn.LogSoftmax(dim=-1)),
}


@pytest.mark.lecture04
@pytest.mark.parametrize("name", list(FUNCTIONAL_ACTIVATIONS))
def test_functional_activation_equals_its_module(name):
    function, module = FUNCTIONAL_ACTIVATIONS[name]
    np.testing.assert_array_equal(function(random_tensor()).numpy(), module(random_tensor()).numpy())


def test_functional_linear_equals_the_module():
    layer = nn.Linear(6, 3)
    np.testing.assert_array_equal(F.linear(random_tensor(), layer.weight, layer.bias).detach().numpy(),
                                  layer(random_tensor()).detach().numpy())


def test_functional_conv2d_equals_the_module():
    layer = nn.Conv2d(4, 2, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2))
    x = random_tensor((2, 4, 8, 7))
    np.testing.assert_array_equal(F.conv2d(x, layer.weight, layer.bias, stride=(2, 1), padding=1,
                                           dilation=(1, 2)).detach().numpy(), layer(x).detach().numpy())


def test_functional_max_pool2d_equals_the_module():
    x = random_tensor((2, 3, 8, 9))
    np.testing.assert_array_equal(F.max_pool2d(x, 3, stride=2, padding=1).numpy(),
                                  nn.MaxPool2d(3, stride=2, padding=1)(x).numpy())


def test_functional_dropout_when_not_training_is_the_identity():
    x = random_tensor()
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())


FUNCTIONAL_LOSSES = {
    "MSELoss": (lambda x, y, r: F.mse_loss(x, y, reduction=r), "MSELoss"),
    "L1Loss": (lambda x, y, r: F.l1_loss(x, y, reduction=r), "L1Loss"),
    "HuberLoss(delta=0.5)": (lambda x, y, r: F.huber_loss(x, y, reduction=r, delta=0.5), "HuberLoss(delta=0.5)"),
    "BCELoss": (lambda x, y, r: F.binary_cross_entropy(x, y, reduction=r), "BCELoss(soft targets)"),
    "BCEWithLogitsLoss": (lambda x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
                          "BCEWithLogitsLoss"),
    "BCEWithLogitsLoss(pos_weight)": (
        lambda x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r, pos_weight=Tensor(POS_WEIGHT)),
        "BCEWithLogitsLoss(pos_weight)"),
    "CrossEntropyLoss(class indices)": (lambda x, y, r: F.cross_entropy(x, y, reduction=r),
                                        "CrossEntropyLoss(class indices)"),
    "CrossEntropyLoss(class probabilities)": (lambda x, y, r: F.cross_entropy(x, y, reduction=r),
                                              "CrossEntropyLoss(class probabilities)"),
    "NLLLoss": (lambda x, y, r: F.nll_loss(x, y, reduction=r), "NLLLoss"),
}


@pytest.mark.lecture05
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(FUNCTIONAL_LOSSES))
def test_functional_loss_equals_its_module(name, reduction, rng):
    function, case = FUNCTIONAL_LOSSES[name]
    make_module, _, inputs = LOSSES[case]
    x, y = inputs(rng)
    np.testing.assert_array_equal(function(Tensor(x), Tensor(y), reduction).numpy(),
                                  make_module(reduction)(Tensor(x), Tensor(y)).numpy())
