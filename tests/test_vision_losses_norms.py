"""The vision lectures' normalisation, dropout, activation and per-pixel losses, as modules:
nn.BatchNorm2d (and BatchNorm1d, the same code), nn.Dropout2d, nn.SiLU, nn.CrossEntropyLoss and
nn.NLLLoss with weight= and ignore_index= on (N, C, H, W), against torch.nn 2.13.

The Functions under them (BatchNorm, SiLU, CrossEntropy, NegativeLogLikelihood) are checked
one call at a time by the op table (tests/reference/op_table.py): drawn shapes, float64
gradchecks, the domain edges and the fused kernels. This file checks what the table cannot see:
signatures, state_dict names, train and eval mode, the running statistics over several steps,
the random channel masks, conversion to and from torch and save / load, the errors, and that a
GPU training step never waits for the device (on "cuda", fake CuPy included).
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.functions import BatchNorm, CrossEntropy, NegativeLogLikelihood
from tinygrad_edu.serialization import from_torch, load, save, to_torch

from .conftest import assert_close, upstream_gradient

pytestmark = [pytest.mark.lecture05, pytest.mark.lecture08, pytest.mark.lecture09, pytest.mark.lecture_vision]

TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


def images(shape=(4, 3, 5, 6), scale=2.0, offset=1.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + offset).astype(np.float32)


def copy_state(ours, theirs) -> None:
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def check_module(ours, theirs, x: np.ndarray, device: str, tol: dict = TOL) -> None:
    """Output, input gradient and every parameter gradient, for one random upstream gradient."""
    ours_x, theirs_x = Tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    ours_y, theirs_y = ours(ours_x), theirs(theirs_x)
    assert_close(ours_y.detach().numpy(), theirs_y.detach().numpy(), "forward", **tol)
    g = upstream_gradient(tuple(theirs_y.shape))
    ours_y.backward(Tensor(g, device=device))
    theirs_y.backward(torch.from_numpy(g))
    assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), "input gradient", **tol)
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), f"gradient of {name}", **tol)


def signature(obj) -> list:
    """(name, default, kind) of every parameter: torch's annotations aside."""
    return [(p.name, p.default, p.kind) for p in inspect.signature(obj).parameters.values()]


# ============================================================================ BatchNorm2d

@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_batchnorm_signature_is_torchs(name):
    assert signature(getattr(nn, name)) == signature(getattr(torch.nn, name))


def test_batch_norm_functional_signature_is_torchs():
    assert signature(F.batch_norm) == signature(torch.nn.functional.batch_norm)


BN_OPTIONS = [dict(), dict(affine=False), dict(bias=False), dict(track_running_stats=False),
              dict(eps=1e-3, momentum=None)]


@pytest.mark.parametrize("options", BN_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_batchnorm2d_state_dict_and_repr_are_torchs(options):
    ours, theirs = nn.BatchNorm2d(6, **options), torch.nn.BatchNorm2d(6, **options)
    assert repr(ours) == repr(theirs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert ours_sd[key].shape == tuple(value.shape), key
        assert_close(ours_sd[key].numpy(), value.numpy(), key)
    if "num_batches_tracked" in ours_sd:
        assert ours_sd["num_batches_tracked"].dtype == np.int64 and ours_sd["num_batches_tracked"].shape == ()


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "no_affine"])
def test_batchnorm2d_in_training_mode_matches_torch(affine, device):
    theirs = torch.nn.BatchNorm2d(3, affine=affine)
    if affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.normal_()
    ours = nn.BatchNorm2d(3, affine=affine).to(device)
    copy_state(ours, theirs)
    check_module(ours, theirs, images(), device)
    assert_close(ours.running_mean.numpy(), theirs.running_mean.numpy(), "running_mean")
    assert_close(ours.running_var.numpy(), theirs.running_var.numpy(), "running_var")


def run_steps(ours, theirs, shape, device, steps=4):
    for step in range(steps):
        x = images(shape, scale=step + 1.0, offset=float(step), seed=step)
        ours(Tensor(x, device=device))
        theirs(torch.tensor(x))


@pytest.mark.parametrize("momentum", [0.1, 0.5, None], ids=["momentum0.1", "momentum0.5", "cumulative"])
@pytest.mark.parametrize("layer, shape", [("BatchNorm2d", (4, 3, 5, 6)), ("BatchNorm1d", (6, 3, 5)),
                                          ("BatchNorm1d", (7, 3))], ids=["2d", "1d(N,C,L)", "1d(N,C)"])
def test_running_statistics_after_several_steps_match_torch(layer, shape, momentum, device):
    ours, theirs = getattr(nn, layer)(3, momentum=momentum).to(device), getattr(torch.nn, layer)(3, momentum=momentum)
    run_steps(ours, theirs, shape, device)
    assert_close(ours.running_mean.numpy(), theirs.running_mean.numpy(), "running_mean", rtol=1e-5, atol=1e-6)
    assert_close(ours.running_var.numpy(), theirs.running_var.numpy(), "running_var (unbiased)", rtol=1e-5, atol=1e-6)
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 4


def test_batchnorm2d_in_eval_mode_uses_the_running_statistics_like_torch(device):
    ours, theirs = nn.BatchNorm2d(3).to(device), torch.nn.BatchNorm2d(3)
    run_steps(ours, theirs, (4, 3, 5, 6), device)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.normal_()
    copy_state(ours, theirs)
    ours.eval(), theirs.eval()
    check_module(ours, theirs, images(seed=9, scale=3.0), device)


def test_eval_mode_leaves_every_buffer_alone_and_train_mode_updates_them_again(device):
    bn = nn.BatchNorm2d(3).to(device)
    bn(Tensor(images(), device=device))
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    bn.eval()
    bn(Tensor(images(seed=1) * 5, device=device))
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key], err_msg=key)
    bn.train()
    bn(Tensor(images(seed=1), device=device))
    assert bn.num_batches_tracked.item() == 2
    assert not np.array_equal(bn.running_mean.numpy(), before["running_mean"])


def test_without_running_statistics_eval_mode_normalises_with_the_batch_like_torch(device):
    ours, theirs = nn.BatchNorm2d(3, track_running_stats=False).to(device).eval(), \
        torch.nn.BatchNorm2d(3, track_running_stats=False).eval()
    copy_state(ours, theirs)
    check_module(ours, theirs, images(), device)


def test_batchnorm2d_is_one_node_whose_inputs_are_x_weight_and_bias():
    bn = nn.BatchNorm2d(3)
    x = Tensor(images(), requires_grad=True)
    y = bn(x)
    assert isinstance(y.grad_fn, BatchNorm)
    assert y.grad_fn.parents[0] is x and y.grad_fn.parents[1] is bn.weight and y.grad_fn.parents[2] is bn.bias


def test_batchnorm_is_exact_where_float32_torch_loses_digits():
    """x = 1e4 ± 1 in float32: a plain mean is off by up to 5e-4 (float32 spacing at 1e4 is 1e-3),
    and torch's float32 output by 4e-4; the corrected second pass keeps ours within 1e-5 of the
    float64 result. The same holds for the gradient of a channel of two nearly equal values."""
    x = (1e4 + np.random.default_rng(0).standard_normal((4, 2, 5, 5))).astype(np.float32)
    exact = torch.nn.functional.batch_norm(torch.tensor(x, dtype=torch.float64), None, None, training=True).numpy()
    ours = F.batch_norm(Tensor(x), None, None, training=True).numpy()
    np.testing.assert_allclose(ours, exact, atol=1e-5)
    x = np.array([[-1.6558666], [-1.6356386]], np.float32)       # var 1e-4: γ / σ is 100
    g = np.array([[0.3], [-1.2]], np.float32)
    t = torch.tensor(x.astype(np.float64), requires_grad=True)
    torch.nn.functional.batch_norm(t, None, None, training=True).backward(torch.tensor(g.astype(np.float64)))
    ours_x = Tensor(x, requires_grad=True)
    F.batch_norm(ours_x, None, None, training=True).backward(Tensor(g))
    np.testing.assert_allclose(ours_x.grad.numpy(), t.grad.numpy(), atol=1e-5)


@pytest.mark.parametrize("layer, shape, message", [
    ("BatchNorm2d", (2, 3, 5), r"BatchNorm2d\(3\): expected input of shape \(N, 3, H, W\), got \(2, 3, 5\)"),
    ("BatchNorm2d", (2, 4, 5, 5), r"BatchNorm2d\(3\): expected input of shape \(N, 3, H, W\), got \(2, 4, 5, 5\)"),
    ("BatchNorm1d", (2, 3, 5, 5), r"BatchNorm1d\(3\): expected input of shape \(N, 3\) or \(N, 3, L\)"),
])
def test_a_wrong_input_shape_is_a_value_error_naming_the_layer(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        getattr(nn, layer)(3)(Tensor(np.zeros(shape, np.float32)))


def test_one_value_per_channel_in_training_is_an_error_before_any_buffer_changes():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training.*\(1, 3, 1, 1\)"):
        bn(Tensor(np.ones((1, 3, 1, 1), np.float32)))
    assert bn.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(3, np.float32))


@pytest.mark.parametrize("call, error, message", [
    (lambda x: F.batch_norm(x, None, None), ValueError, r"batch_norm: running_mean and running_var must be given"),
    (lambda x: F.batch_norm(x, Tensor(np.zeros(4)), Tensor(np.ones(4)), training=True), ValueError,
     r"batch_norm: running_mean of shape \(4,\) does not fit input of shape \(2, 3, 4, 4\): expected \(3,\)"),
    (lambda x: F.batch_norm(x, None, None, weight=Tensor(np.ones(2)), training=True), ValueError,
     r"weight of shape \(2,\)"),
    (lambda x: F.batch_norm(x, None, None, training=1), TypeError, r"batch_norm: training must be True or False"),
])
def test_batch_norm_checks_its_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.zeros((2, 3, 4, 4), np.float32)))


def test_batchnorm_options_are_checked():
    with pytest.raises(TypeError, match="BatchNorm2d: num_features must be a positive int"):
        nn.BatchNorm2d(3.0)
    with pytest.raises(TypeError, match="BatchNorm2d: affine must be True or False"):
        nn.BatchNorm2d(3, affine=1)


@pytest.mark.gpu
@pytest.mark.parametrize("momentum", [0.1, None], ids=["momentum0.1", "cumulative"])
def test_a_batchnorm2d_training_step_on_cuda_makes_no_host_copy(momentum, fake_cupy):
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4, momentum=momentum), nn.SiLU(),
                          nn.Dropout2d(0.2)).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = Tensor(images((3, 2, 6, 6)), device="cuda")

    def step():
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()

    step()
    fake_cupy._fake_reset_sync_count()
    for _ in range(3):
        step()
    assert fake_cupy._fake_sync_count == 0
    assert model[1].num_batches_tracked.item() == 4


# ============================================================================ Dropout2d

def test_dropout2d_signature_and_repr_are_torchs():
    assert signature(nn.Dropout2d) == signature(torch.nn.Dropout2d)
    assert signature(F.dropout2d) == signature(torch.nn.functional.dropout2d)
    assert signature(nn.Dropout) == signature(torch.nn.Dropout)
    assert signature(F.dropout) == signature(torch.nn.functional.dropout)
    for args in [(), (0.2,), (0.3, True)]:
        assert repr(nn.Dropout2d(*args)) == repr(torch.nn.Dropout2d(*args))
        assert repr(nn.Dropout(*args)) == repr(torch.nn.Dropout(*args))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest(p, device):
    x_np = np.random.default_rng(0).uniform(1, 2, size=(40, 50, 3, 4)).astype(np.float32)
    y = nn.Dropout2d(p)(Tensor(x_np, device=device)).numpy()
    dropped = (y == 0).all(axis=(2, 3))
    kept = (y != 0).all(axis=(2, 3))
    assert (dropped | kept).all(), "a channel is either dropped as a whole or kept as a whole"
    np.testing.assert_allclose(y[kept], x_np[kept] / (1 - p), rtol=1e-6)
    assert abs(dropped.mean() - p) < 0.04, f"dropped {dropped.mean():.3f} of the channels, expected about {p}"


def test_dropout2d_backward_uses_the_forward_channel_mask(device):
    x = Tensor(np.random.default_rng(1).uniform(1, 2, (6, 8, 4, 4)).astype(np.float32), requires_grad=True,
               device=device)
    y = F.dropout2d(x, 0.4)
    g = upstream_gradient(x.shape)
    y.backward(Tensor(g, device=device))
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, g / 0.6, 0), rtol=1e-6)


def test_dropout2d_in_eval_mode_and_with_p_zero_is_the_identity_and_with_p_one_zero(device):
    x_np = images()
    x = Tensor(x_np, device=device)
    np.testing.assert_array_equal(nn.Dropout2d(0.5).eval()(x).numpy(), x_np)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5, training=False).numpy(), x_np)
    np.testing.assert_array_equal(nn.Dropout2d(0.0)(x).numpy(), x_np)
    np.testing.assert_array_equal(nn.Dropout2d(1.0)(x).numpy(), np.zeros_like(x_np))


def test_dropout2d_of_a_3d_input_drops_channels_of_n_c_l_with_a_warning_like_torch():
    x = Tensor(np.ones((20, 30, 7), np.float32))
    with pytest.warns(UserWarning, match=r"3-D input.*\(N, C, L\)"):
        y = F.dropout2d(x, 0.5).numpy()
    assert ((y == 0).all(axis=2) | (y == 2).all(axis=2)).all()


def test_dropout2d_refuses_other_ranks_and_bad_probabilities():
    with pytest.raises(ValueError, match=r"dropout2d: expected input of shape \(N, C, H, W\), got \(4, 5\)"):
        F.dropout2d(Tensor(np.ones((4, 5), np.float32)))
    with pytest.raises(ValueError, match="Dropout2d: probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout2d(1.5)
    with pytest.raises(TypeError, match="Dropout2d: inplace must be True or False"):
        nn.Dropout2d(0.5, inplace="yes")


# ============================================================================ SiLU

def test_silu_signature_and_repr_are_torchs():
    assert signature(nn.SiLU) == signature(torch.nn.SiLU)
    assert signature(F.silu) == signature(torch.nn.functional.silu)
    assert repr(nn.SiLU()) == repr(torch.nn.SiLU()) and repr(nn.SiLU(True)) == repr(torch.nn.SiLU(True))


def test_silu_module_matches_torch_and_is_x_times_its_sigmoid(device):
    x = (np.random.default_rng(0).standard_normal((5, 7)) * 8).astype(np.float32)
    check_module(nn.SiLU(), torch.nn.SiLU(), x, device)
    t = Tensor(x, device=device)
    assert_close(F.silu(t).numpy(), (t * t.sigmoid()).numpy(), "x σ(x)", rtol=1e-6, atol=1e-6)


def test_silu_of_an_integer_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="silu: expected a floating point tensor, got int64"):
        F.silu(Tensor([1, 2]))


# ============================================================================ conversion and files

def vision_block(lib):
    return lib.Sequential(lib.Conv2d(2, 4, 3, padding=1), lib.BatchNorm2d(4, eps=1e-3, momentum=0.2), lib.SiLU(),
                          lib.Dropout2d(0.25), lib.Conv2d(4, 3, 1), lib.BatchNorm2d(3, affine=False))


def trained(model, steps=3):
    for step in range(steps):
        model(Tensor(images((4, 2, 5, 5), seed=step)))
    return model


def test_a_model_with_batchnorm2d_dropout2d_and_silu_goes_to_torch_and_back():
    model = trained(vision_block(nn)).eval()
    theirs = to_torch(model)
    assert [type(m).__name__ for m in theirs] == ["Conv2d", "BatchNorm2d", "SiLU", "Dropout2d", "Conv2d", "BatchNorm2d"]
    assert list(theirs.state_dict()) == list(model.state_dict())
    x = images((2, 2, 5, 5), seed=7)
    with torch.no_grad():
        np.testing.assert_allclose(theirs(torch.tensor(x)).numpy(), model(Tensor(x)).detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
    back = from_torch(theirs)
    assert repr(back) == repr(model)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_a_torch_model_with_batchnorm2d_converts_with_its_running_statistics():
    theirs = vision_block(torch.nn)
    with torch.no_grad():
        for step in range(3):
            theirs(torch.tensor(images((4, 2, 5, 5), seed=step)))
    theirs.eval()
    model = from_torch(theirs)
    assert model[1].num_batches_tracked.item() == 3
    x = images((2, 2, 5, 5), seed=8)
    with torch.no_grad():
        np.testing.assert_allclose(model(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-5,
                                   atol=1e-5)


def test_save_and_load_keep_every_batchnorm2d_buffer(tmp_path):
    pytest.importorskip("safetensors")
    model = trained(vision_block(nn))
    save(model.state_dict(), tmp_path / "block.safetensors")
    fresh = vision_block(nn)
    fresh.load_state_dict(load(tmp_path / "block.safetensors"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    assert fresh[1].num_batches_tracked.item() == 3


# ============================================================================ the class-index losses

@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss"])
def test_loss_signature_is_torchs(name):
    assert signature(getattr(nn, name)) == signature(getattr(torch.nn, name))


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_functional_loss_signature_is_torchs(name):
    assert signature(getattr(F, name)) == signature(getattr(torch.nn.functional, name))


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss"])
def test_the_class_weight_is_a_buffer_in_the_state_dict_as_in_torch(name, tmp_path, device):
    w = np.array([0.5, 2.0, 1.0], np.float32)
    ours, theirs = getattr(nn, name)(weight=Tensor(w)), getattr(torch.nn, name)(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(getattr(nn, name)().state_dict()) == list(getattr(torch.nn, name)().state_dict()) == []
    assert [n for n, _ in ours.named_parameters()] == []
    ours.to(device)
    assert ours.weight.device == device
    pytest.importorskip("safetensors")
    save(ours.state_dict(), tmp_path / "loss.safetensors")
    again = getattr(nn, name)(weight=Tensor(np.ones(3, np.float32)))
    again.load_state_dict(load(tmp_path / "loss.safetensors"))
    np.testing.assert_array_equal(again.weight.numpy(), w)


def segmentation_batch(n=3, c=4, h=5, w=6, ignore_index=-100, seed=0):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, c, h, w)) * 2).astype(np.float32)
    target = rng.integers(0, c, (n, h, w))
    target[rng.random(target.shape) < 0.2] = ignore_index
    return logits, target.astype(np.int64)


LOSS_CASES = {
    "CrossEntropyLoss": lambda lib, w: lib.CrossEntropyLoss(),
    "CrossEntropyLoss(weight)": lambda lib, w: lib.CrossEntropyLoss(weight=w),
    "CrossEntropyLoss(weight, ignore_index=255)": lambda lib, w: lib.CrossEntropyLoss(w, ignore_index=255),
    "CrossEntropyLoss(weight, label_smoothing)": lambda lib, w: lib.CrossEntropyLoss(w, label_smoothing=0.1),
    "NLLLoss(weight)": lambda lib, w: lib.NLLLoss(w),
    "NLLLoss(ignore_index=1)": lambda lib, w: lib.NLLLoss(ignore_index=1),
}


def check_loss(ours, theirs, x: np.ndarray, target: np.ndarray, device: str) -> None:
    ours_x, theirs_x = Tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    ours_loss = ours(ours_x, Tensor(target, device=device))
    theirs_loss = theirs(theirs_x, torch.tensor(target))
    assert_close(ours_loss.detach().numpy(), theirs_loss.detach().numpy(), "loss", **TOL)
    g = upstream_gradient(tuple(theirs_loss.shape))
    ours_loss.backward(Tensor(g, device=device))
    theirs_loss.backward(torch.from_numpy(g))
    assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), "input gradient", **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_per_pixel_loss_matches_torch(case, reduction, device):
    ignore = 255 if "255" in case else (1 if "ignore_index=1" in case else -100)
    x, target = segmentation_batch(ignore_index=ignore)
    w = np.array([0.5, 2.0, 1.0, 0.25], np.float32)
    ours = LOSS_CASES[case](nn, Tensor(w)).to(device)
    theirs = LOSS_CASES[case](torch.nn, torch.tensor(w))
    ours.reduction = theirs.reduction = reduction
    if case.startswith("NLL"):
        x = (x - np.log(np.exp(x).sum(axis=1, keepdims=True))).astype(np.float32)
    check_loss(ours, theirs, x, target, device)


def test_ignored_pixels_add_no_loss_no_gradient_and_do_not_count_in_the_mean(device):
    x, target = segmentation_batch(n=2, c=3, h=4, w=4)
    w = Tensor(np.array([1.0, 3.0, 0.5], np.float32), device=device)
    z = Tensor(x, requires_grad=True, device=device)
    loss = F.cross_entropy(z, Tensor(target, device=device), weight=w)
    loss.backward()
    ignored = target == -100
    assert (z.grad.numpy().transpose(0, 2, 3, 1)[ignored] == 0).all()
    kept = ~ignored
    rows = x.transpose(0, 2, 3, 1)[kept]                           # the counted pixels as (M, C) rows
    alone = F.cross_entropy(Tensor(rows, device=device), Tensor(target[kept], device=device), weight=w)
    assert_close(loss.detach().numpy(), alone.detach().numpy(), "the mean over the counted pixels", rtol=1e-6)


def test_a_mean_over_nothing_but_ignored_targets_is_nan_with_a_zero_gradient_like_torch(device):
    z = Tensor(np.ones((2, 3, 2, 2), np.float32), requires_grad=True, device=device)
    loss = F.cross_entropy(z, Tensor(np.full((2, 2, 2), -100), device=device))
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(z.grad.numpy(), np.zeros((2, 3, 2, 2), np.float32))


def test_one_sample_of_shape_c_with_a_weight_matches_torch():
    x = np.array([0.5, -1.0, 2.0], np.float32)
    w = np.array([1.0, 2.0, 3.0], np.float32)
    for target in (0, 2):
        ours = F.cross_entropy(Tensor(x), Tensor(target), weight=Tensor(w), reduction="none")
        theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(target), weight=torch.tensor(w),
                                                   reduction="none")
        assert ours.shape == () and abs(ours.item() - theirs.item()) < 1e-6


def test_probability_targets_per_pixel_with_a_weight_match_torch(device):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    q = np.exp(rng.standard_normal(x.shape))
    target = (q / q.sum(axis=1, keepdims=True)).astype(np.float32)
    w = np.array([0.5, 1.0, 2.0], np.float32)
    for reduction in ("mean", "sum", "none"):
        ours = nn.CrossEntropyLoss(Tensor(w), reduction=reduction, label_smoothing=0.2).to(device)
        theirs = torch.nn.CrossEntropyLoss(torch.tensor(w), reduction=reduction, label_smoothing=0.2)
        check_loss(ours, theirs, x, target, device)


# ---------------------------------------------------------------- labels outside [0, C)

@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
def test_on_the_cpu_a_pixel_label_outside_the_classes_is_an_index_error(loss_fn):
    x, target = segmentation_batch()
    target[1, 2, 3] = 4
    with pytest.raises(IndexError, match=r"target holds class 4, outside \[0, 3\] for 4 classes"):
        loss_fn(Tensor(x), Tensor(target))


@pytest.mark.parametrize("ignore_index", [-100, -1, 255, 2])
def test_the_label_check_lets_ignore_index_through_wherever_it_lies(ignore_index):
    x, target = segmentation_batch(ignore_index=ignore_index)
    loss = F.cross_entropy(Tensor(x), Tensor(target), ignore_index=ignore_index)
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(target), ignore_index=ignore_index)
    assert abs(loss.item() - theirs.item()) < 1e-5
    target[0, 0, 0] = -7
    with pytest.raises(IndexError, match="target holds class -7"):
        F.cross_entropy(Tensor(x), Tensor(target), ignore_index=ignore_index)


@pytest.mark.gpu
@pytest.mark.parametrize("function", [CrossEntropy, NegativeLogLikelihood], ids=["CrossEntropy", "NLL"])
def test_on_cuda_a_bad_pixel_label_makes_its_pixel_nan_and_an_ignored_one_zero(function, cuda):
    x, target = segmentation_batch(n=1, c=3, h=2, w=3)
    target[0, 0, :] = [7, -100, 1]
    z = Tensor(x, requires_grad=True, device=cuda)
    rows = function.apply(z, Tensor(target, device=cuda).data, reduction="none")
    values = rows.detach().numpy()
    assert np.isnan(values[0, 0, 0]) and values[0, 0, 1] == 0 and np.isfinite(values[0, 1]).all()
    rows.backward(Tensor(np.ones(rows.shape, np.float32), device=cuda))
    grad = z.grad.numpy()
    assert np.isnan(grad[0, :, 0, 0]).all() and (grad[0, :, 0, 1] == 0).all() and np.isfinite(grad[0, :, 1]).all()


@pytest.mark.gpu
def test_a_segmentation_training_step_on_cuda_makes_no_host_copy(fake_cupy):
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.SiLU(), nn.Conv2d(4, 3, 1)).to("cuda")
    loss_fn = nn.CrossEntropyLoss(weight=Tensor(np.array([0.5, 1.0, 2.0], np.float32)), ignore_index=255,
                                  label_smoothing=0.1).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = Tensor(images((2, 2, 6, 6)), device="cuda")
    target = np.random.default_rng(0).integers(0, 3, (2, 6, 6))
    target[0, :2] = 255
    y = Tensor(target, device="cuda")
    losses = []

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.detach())

    step()
    fake_cupy._fake_reset_sync_count()
    for _ in range(3):
        step()
    assert fake_cupy._fake_sync_count == 0
    assert all(np.isfinite(t.item()) for t in losses)


# ---------------------------------------------------------------- the errors a student meets

@pytest.mark.parametrize("call, error, message", [
    (lambda x, t: F.cross_entropy(x, t[:, :, :3]), ValueError,
     r"cross_entropy: target of shape \(3, 5, 3\) does not fit input of shape \(3, 4, 5, 6\): expected \(3, 5, 6\)"),
    (lambda x, t: F.cross_entropy(x, t.astype("float32")), TypeError,
     r"class labels as float32 \(shape \(3, 5, 6\)\).*astype\('int64'\)"),
    (lambda x, t: F.cross_entropy(x, t, weight=Tensor(np.ones(3, np.float32))), ValueError,
     r"cross_entropy: weight of shape \(3,\) does not fit input of shape \(3, 4, 5, 6\): expected \(4,\)"),
    (lambda x, t: F.nll_loss(x, t, weight=Tensor([1, 2, 3, 4])), TypeError, r"nll_loss: weight must be a float"),
    (lambda x, t: F.cross_entropy(x, t, ignore_index=1.0), TypeError, r"cross_entropy: ignore_index must be an int"),
    (lambda x, t: F.cross_entropy(x, t, label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.5"),
    (lambda x, t: F.cross_entropy(x, t, size_average=True), TypeError, r"size_average= and reduce= are deprecated"),
    (lambda x, t: F.nll_loss(x, t, reduction="avg"), ValueError, r"nll_loss: reduction must be 'mean', 'sum' or 'none'"),
])
def test_a_bad_argument_names_the_loss_the_shapes_and_the_fix(call, error, message):
    x, target = segmentation_batch()
    with pytest.raises(error, match=message):
        call(Tensor(x), Tensor(target))


def test_the_loss_modules_check_their_options():
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: size_average= and reduce= are deprecated"):
        nn.CrossEntropyLoss(None, True)
    with pytest.raises(ValueError, match=r"NLLLoss: weight must be a 1-D float tensor"):
        nn.NLLLoss(Tensor(np.ones((2, 2), np.float32)))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0"):
        nn.CrossEntropyLoss(label_smoothing=2.0)
