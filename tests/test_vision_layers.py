"""The window layers of the vision lectures as modules: ConvTranspose2d, grouped Conv2d, MaxPool2d
with ceil_mode, AvgPool2d, AdaptiveAvgPool2d, Upsample (and its two older names).

Their Functions are checked against torch on drawn geometries by the op table
(tests/reference/op_table.py: forward, backward, float64 gradchecks, the fused kernels). Here:
the modules against torch.nn with the same weights (output, input and parameter gradients),
their state_dict names and shapes, their default initialisation, their repr, their errors, the
conversion to and from torch.nn, and a save / load round trip; and the identity the lecture
states: ConvTranspose2d is the backward of Conv2d.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, from_torch, load, nn, save, to_torch

from .conftest import assert_close, upstream_gradient

pytestmark = [pytest.mark.lecture09, pytest.mark.lecture_vision]

TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


def check_module(ours, theirs, x: np.ndarray, device: str, **call) -> None:
    """torch's weights loaded into ours; then output, input gradient and every parameter gradient."""
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    ours.to(device)
    ours_x, theirs_x = Tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    ours_y, theirs_y = ours(ours_x, **call), theirs(theirs_x, **call)
    assert_close(ours_y.detach().numpy(), theirs_y.detach().numpy(), "forward", **TOL)
    g = upstream_gradient(tuple(theirs_y.shape))
    ours_y.backward(Tensor(g, device=device))
    theirs_y.backward(torch.from_numpy(g))
    assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), "gradient of the input", **TOL)
    theirs_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), f"gradient of {name}", **TOL)


# ----------------------------------------------------------------------------- against torch.nn

LAYERS = {
    "ConvTranspose2d": (lambda lib: lib.ConvTranspose2d(3, 4, 3), (2, 3, 5, 6)),
    "ConvTranspose2d x2": (lambda lib: lib.ConvTranspose2d(4, 2, 2, stride=2), (2, 4, 8, 8)),
    "ConvTranspose2d all options": (lambda lib: lib.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0),
                                                                    output_padding=(1, 2), groups=2, bias=False,
                                                                    dilation=(1, 2)), (2, 4, 5, 4)),
    "Conv2d groups": (lambda lib: lib.Conv2d(4, 6, 3, padding=1, groups=2), (2, 4, 6, 5)),
    "Conv2d depthwise": (lambda lib: lib.Conv2d(3, 3, 3, stride=2, groups=3, bias=False), (2, 3, 7, 7)),
    "MaxPool2d ceil_mode": (lambda lib: lib.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7)),
    "AvgPool2d": (lambda lib: lib.AvgPool2d(2), (2, 3, 8, 6)),
    "AvgPool2d all options": (lambda lib: lib.AvgPool2d((3, 2), stride=(2, 1), padding=1, ceil_mode=True,
                                                        count_include_pad=False), (2, 3, 8, 7)),
    "AvgPool2d divisor_override": (lambda lib: lib.AvgPool2d(3, stride=2, divisor_override=4), (1, 2, 7, 7)),
    "AdaptiveAvgPool2d global": (lambda lib: lib.AdaptiveAvgPool2d(1), (2, 3, 7, 5)),
    "AdaptiveAvgPool2d (None, 3)": (lambda lib: lib.AdaptiveAvgPool2d((None, 3)), (2, 3, 7, 5)),
    "AdaptiveAvgPool2d 5x4": (lambda lib: lib.AdaptiveAvgPool2d((5, 4)), (2, 3, 7, 9)),
    "Upsample nearest": (lambda lib: lib.Upsample(scale_factor=2), (2, 3, 4, 5)),
    "Upsample bilinear size": (lambda lib: lib.Upsample(size=(7, 9), mode="bilinear"), (2, 3, 4, 5)),
    "Upsample bilinear corners": (lambda lib: lib.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
                                  (2, 3, 4, 5)),
    "UpsamplingNearest2d": (lambda lib: lib.UpsamplingNearest2d(scale_factor=3), (1, 2, 3, 3)),
    "UpsamplingBilinear2d": (lambda lib: lib.UpsamplingBilinear2d(size=(6, 5)), (1, 2, 3, 3)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch(name, device, rng):
    make, shape = LAYERS[name]
    check_module(make(nn), make(torch.nn), rng.standard_normal(shape).astype(np.float32), device)


@pytest.mark.parametrize("name", LAYERS)
def test_repr_and_state_dict_are_torchs(name):
    make, _ = LAYERS[name]
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("output_size", [(9, 11), (10, 12), [2, 4, 10, 11]], ids=str)
def test_conv_transpose2d_output_size_picks_the_output_padding_as_torch(output_size, device, rng):
    make = lambda lib: lib.ConvTranspose2d(4, 2, 3, stride=2, padding=1)            # noqa: E731
    x = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    check_module(make(nn), make(torch.nn), x, device, output_size=output_size)


def test_conv_transpose2d_output_size_outside_the_valid_range_is_an_error():
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of \(12, 11\), but valid "
                                         r"sizes range from \(9, 11\) to \(10, 12\)"):
        layer(Tensor.zeros(1, 4, 5, 6), output_size=(12, 11))


@pytest.mark.parametrize("make", [lambda lib: lib.ConvTranspose2d(6, 4, (3, 2), groups=2),
                                  lambda lib: lib.Conv2d(6, 4, (3, 2), groups=2)], ids=["transposed", "conv"])
def test_default_init_draws_from_torchs_bounds(make):
    """U(-1/√fan_in, 1/√fan_in), fan_in = weight.shape[1]·kh·kw, for the weight and the bias."""
    ours, theirs = make(nn), make(torch.nn)
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    w = ours.weight.detach().numpy()
    bound = 1 / math.sqrt(w.shape[1] * w.shape[2] * w.shape[3])
    for p in (ours.weight, ours.bias):
        values = np.abs(p.detach().numpy())
        assert values.max() <= bound and values.max() > 0.5 * bound


# ----------------------------------------------------------------------------- the backward of Conv2d

def test_conv_transpose2d_is_the_adjoint_of_conv2d(rng):
    """<conv2d(z, W), x> = <z, conv_transpose2d(x, W)> for every z and x: one is the other's transpose."""
    w = Tensor(rng.standard_normal((3, 2, 3, 2)), dtype="float64")           # conv2d: (C_out=3, C_in=2, ...)
    z = Tensor(rng.standard_normal((2, 2, 9, 8)), dtype="float64")
    geometry = dict(stride=(2, 3), padding=(1, 0), dilation=(1, 2))
    y = F.conv2d(z, w, **geometry)
    x = Tensor(rng.standard_normal(y.shape), dtype="float64")
    back = F.conv_transpose2d(x, w, output_padding=(0, 2), **geometry)
    assert back.shape == z.shape
    assert np.isclose(float((y * x).sum().item()), float((z * back).sum().item()), rtol=1e-12)


def test_conv2d_input_gradient_is_conv_transpose2d_of_the_upstream_gradient(rng, device):
    w = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), device=device)
    z = Tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True, device=device)
    y = F.conv2d(z, w, stride=2, padding=1)
    g = Tensor(upstream_gradient(y.shape), device=device)
    y.backward(g)
    assert_close(z.grad.numpy(), F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=1).numpy(), **TOL)


def test_global_average_pooling_is_the_mean_over_the_image(rng, device):
    x = Tensor(rng.standard_normal((3, 4, 5, 7)).astype(np.float32), device=device)
    assert_close(nn.AdaptiveAvgPool2d(1)(x).numpy(), x.numpy().mean(axis=(2, 3), keepdims=True), **TOL)


# ----------------------------------------------------------------------------- errors

def _raises(kind, pattern, call):
    with pytest.raises(kind, match=pattern):
        call()


X = Tensor.zeros(1, 4, 6, 6)

ERRORS = {
    "output_padding >= stride and dilation": (
        ValueError, r"conv_transpose2d: output_padding \(2, 2\) must be >= 0 and smaller than either stride \(2, 2\) "
                    r"or dilation \(1, 1\)",
        lambda: F.conv_transpose2d(X, Tensor.zeros(4, 2, 3, 3), stride=2, output_padding=2)),
    "transposed weight of the wrong channels": (
        ValueError, r"conv_transpose2d: input \(1, 4, 6, 6\) and weight \(3, 2, 3, 3\) do not fit with groups=1",
        lambda: F.conv_transpose2d(X, Tensor.zeros(3, 2, 3, 3))),
    "padding that leaves no output": (
        ValueError, r"conv_transpose2d: .* gives output size \(-3, -3\), which is too small",
        lambda: F.conv_transpose2d(Tensor.zeros(1, 4, 1, 1), Tensor.zeros(4, 2, 1, 1), padding=2)),
    "bias of the wrong size": (
        ValueError, r"conv_transpose2d: bias of shape \(4,\) does not fit weight of shape \(4, 2, 3, 3\): "
                    r"expected \(2,\)",
        lambda: F.conv_transpose2d(X, Tensor.zeros(4, 2, 3, 3), Tensor.zeros(4))),
    "conv2d groups that do not divide": (
        ValueError, r"conv2d: input \(1, 4, 6, 6\) and weight \(3, 2, 3, 3\) do not fit with groups=2",
        lambda: F.conv2d(X, Tensor.zeros(3, 2, 3, 3), groups=2)),
    "module groups that do not divide": (
        ValueError, r"ConvTranspose2d: out_channels must be divisible by groups, got 3 and 2",
        lambda: nn.ConvTranspose2d(4, 3, 2, groups=2)),
    "padding_mode other than zeros": (
        ValueError, r"Conv2d: only padding_mode='zeros' is supported, got 'reflect'",
        lambda: nn.Conv2d(1, 1, 3, padding_mode="reflect")),
    "avg_pool2d padding over half the kernel": (
        ValueError, r"avg_pool2d: padding \(2, 2\) should be at most half of kernel_size \(3, 3\)",
        lambda: F.avg_pool2d(X, 3, padding=2)),
    "avg_pool2d of a 3-D input": (
        ValueError, r"avg_pool2d: expected input of shape \(N, C, H, W\), got \(4, 6, 6\)",
        lambda: F.avg_pool2d(Tensor.zeros(4, 6, 6), 2)),
    "max_pool2d return_indices": (
        ValueError, r"MaxPool2d: return_indices=True is not supported",
        lambda: nn.MaxPool2d(2, return_indices=True)),
    "adaptive output size 0": (
        ValueError, r"adaptive_avg_pool2d: output_size must be a positive int, got 0",
        lambda: F.adaptive_avg_pool2d(X, (0, 2))),
    "adaptive output size of three numbers": (
        ValueError, r"adaptive_avg_pool2d: output_size must be an int or a pair, got \(1, 2, 3\)",
        lambda: F.adaptive_avg_pool2d(X, (1, 2, 3))),
    "size and scale_factor": (
        ValueError, r"interpolate: only one of size or scale_factor should be defined",
        lambda: F.interpolate(X, size=3, scale_factor=2)),
    "neither size nor scale_factor": (
        ValueError, r"interpolate: either size or scale_factor should be defined",
        lambda: nn.Upsample()(X)),
    "align_corners with nearest": (
        ValueError, r"interpolate: align_corners option can only be set with the interpolating modes",
        lambda: F.interpolate(X, scale_factor=2, align_corners=False)),
    "an unknown mode": (
        ValueError, r"interpolate: mode must be 'nearest', 'nearest-exact', 'bilinear' or 'area', got 'bicubic'",
        lambda: F.interpolate(X, scale_factor=2, mode="bicubic")),
    "a size per axis": (
        ValueError, r"interpolate: the input has 2 spatial dimensions \(6, 6\), but size \(1, 2, 3\) has 3",
        lambda: F.interpolate(X, size=(1, 2, 3))),
    "a float size": (
        TypeError, r"interpolate: size must be an int, got float 2.5", lambda: F.interpolate(X, size=2.5)),
    "a scale that leaves no pixel": (
        ValueError, r"interpolate: input and output sizes should be greater than 0, got input \(6, 6\) and "
                    r"output \(0, 0\)",
        lambda: F.interpolate(X, scale_factor=0.1)),
    "recompute_scale_factor with a size": (
        ValueError, r"interpolate: recompute_scale_factor is not meaningful with an explicit size",
        lambda: F.interpolate(X, size=3, recompute_scale_factor=True)),
    "antialias": (
        ValueError, r"interpolate: antialias=True is not supported",
        lambda: F.interpolate(X, size=3, mode="bilinear", antialias=True)),
    "integer pixels": (
        TypeError, r"interpolate: expected a floating point input, got int64; convert it with .astype\('float32'\)",
        lambda: F.interpolate(Tensor(np.zeros((1, 1, 2, 2), dtype=np.int64)), scale_factor=2)),
    "integer pixels in avg_pool2d": (
        TypeError, r"avg_pool2d: expected a floating point input, got int64",
        lambda: F.avg_pool2d(Tensor(np.zeros((1, 1, 2, 2), dtype=np.int64)), 2)),
    "a 3-D input": (
        ValueError, r"interpolate: expected input of shape \(N, C, H, W\), got \(4, 6, 6\)",
        lambda: F.interpolate(Tensor.zeros(4, 6, 6), scale_factor=2)),
}


@pytest.mark.parametrize("case", ERRORS)
def test_bad_arguments_raise_a_clear_error(case):
    kind, pattern, call = ERRORS[case]
    _raises(kind, pattern, call)


def test_torch_raises_on_the_same_interpolate_arguments():
    """The interpolate errors above are torch's own (a ValueError there too)."""
    x = torch.zeros(1, 4, 6, 6)
    for kwargs in (dict(size=3, scale_factor=2), dict(), dict(scale_factor=2, align_corners=False),
                   dict(size=3, recompute_scale_factor=True)):
        with pytest.raises(ValueError):
            torch.nn.functional.interpolate(x, **kwargs)


# ----------------------------------------------------------------------------- conversion and weights files

def small_unet(lib):
    """A two-level U-Net-like stack of every new layer (no skip connections: Sequential only)."""
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, padding=1, groups=2), lib.ReLU(), lib.MaxPool2d(2, ceil_mode=True),
        lib.Conv2d(4, 6, 3, padding=1), lib.ReLU(), lib.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
        lib.ConvTranspose2d(6, 4, 2, stride=2, output_padding=1, dilation=2), lib.ReLU(),
        lib.Upsample(scale_factor=1.5, mode="bilinear"), lib.Conv2d(4, 3, 1),
        lib.UpsamplingNearest2d(size=(12, 12)), lib.AdaptiveAvgPool2d((5, None)),
        lib.UpsamplingBilinear2d(scale_factor=2))


def test_to_torch_and_back_keep_the_layers_and_the_weights(rng):
    ours = small_unet(nn)
    theirs = to_torch(ours)
    assert repr(theirs) == repr(small_unet(torch.nn))
    x = rng.standard_normal((2, 2, 9, 9)).astype(np.float32)
    expected = ours(Tensor(x)).detach().numpy()
    assert_close(theirs(torch.from_numpy(x)).detach().numpy(), expected, **TOL)
    back = from_torch(theirs)
    assert repr(back) == repr(ours)
    assert_close(back(Tensor(x)).detach().numpy(), expected, **TOL)


def test_from_torch_converts_a_torch_model(rng):
    theirs = small_unet(torch.nn)
    ours = from_torch(theirs)
    x = rng.standard_normal((1, 2, 9, 9)).astype(np.float32)
    assert_close(ours(Tensor(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(), **TOL)


def test_from_torch_refuses_an_upsample_mode_it_does_not_have():
    with pytest.raises(TypeError, match=r"layer '0' .*mode='bicubic' is not supported"):
        from_torch(torch.nn.Sequential(torch.nn.Upsample(scale_factor=2, mode="bicubic")))


def test_save_and_load_round_trip_into_torch(tmp_path, rng):
    ours = small_unet(nn)
    save(ours.state_dict(), tmp_path / "unet.safetensors")
    loaded = load(tmp_path / "unet.safetensors")
    assert list(loaded) == list(ours.state_dict())
    theirs = small_unet(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in loaded.items()})
    again = small_unet(nn)
    again.load_state_dict(loaded)
    x = rng.standard_normal((1, 2, 9, 9)).astype(np.float32)
    expected = ours(Tensor(x)).detach().numpy()
    assert_close(again(Tensor(x)).detach().numpy(), expected, **TOL)
    assert_close(theirs(torch.from_numpy(x)).detach().numpy(), expected, **TOL)
