"""A class label outside [0, C) never gives a silently wrong loss, and the GPU step never waits.

On the CPU, F.cross_entropy and F.nll_loss read the labels and raise IndexError. On "cuda"
reading them back would make every training step wait for the device, and CuPy wraps an
out-of-range index around instead of raising, so there the loss of such a row is NaN (and so
is its gradient): a NaN loss on cuda means a label outside [0, C). The CrossEntropy Function
itself follows the NaN rule on every device, on the plain path and in the fused kernels.

The "cuda" cases run on a GPU or on tests/fake_cupy (`pytest --fake-gpu`), which also counts
the device-to-host copies a training step makes.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, backend, kernels, nn, optim
from tinygrad_edu.functions import CrossEntropy

from .conftest import assert_close

pytestmark = [pytest.mark.lecture05, pytest.mark.lecture09]   # cross-entropy; the GPU step that never waits

N, C = 5, 4
BAD_ROW = 2


@pytest.fixture
def fusion():
    """Sets the fused-kernel switch for one test and restores it afterwards."""
    before = kernels.fused_enabled()
    yield kernels.set_fused
    kernels.set_fused(before)




def logits(dtype=np.float32):
    return np.random.default_rng(0).normal(size=(N, C)).astype(dtype)


def reference_rows(z, target):
    """-log softmax(z)[row, target] per row, in float64 with NumPy."""
    z = z.astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(target)), target]


def reference_grad_of_mean(z, target):
    z = z.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(target)), target] -= 1
    return p / len(target)


def labels_with(bad):
    labels = np.array([0, 3, 1, 2, 1])
    labels[BAD_ROW] = bad
    return labels


FUSION = pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
BAD_LABELS = pytest.mark.parametrize("bad", [C, C + 7, -1], ids=["C", "C+7", "-1"])


# ----------------------------------------------------------------------------- good labels

@FUSION
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_good_labels_give_the_exact_loss_and_gradient(reduction, fused, device, fusion):
    fusion(fused)
    z, target = logits(np.float64), labels_with(1)
    x = Tensor(z, device=device, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(target, device=device), reduction=reduction)
    rows = reference_rows(z, target)
    expected = {"mean": rows.mean(), "sum": rows.sum(), "none": rows}[reduction]
    assert_close(loss, np.asarray(expected))
    loss.sum().backward() if reduction == "none" else loss.backward()
    scale = {"mean": 1.0, "sum": N, "none": N}[reduction]
    assert_close(x.grad, reference_grad_of_mean(z, target) * scale)


@FUSION
def test_nll_loss_of_good_labels_is_the_picked_log_probability(fused, device, fusion):
    fusion(fused)
    z, target = logits(np.float64), labels_with(1)
    x = Tensor(z, device=device, requires_grad=True)
    loss = F.nll_loss(x.log_softmax(axis=1), Tensor(target, device=device))
    assert_close(loss, np.asarray(reference_rows(z, target).mean()))
    loss.backward()
    assert_close(x.grad, reference_grad_of_mean(z, target))


# ----------------------------------------------------------------------------- bad labels on the CPU

@BAD_LABELS
@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
def test_on_the_cpu_a_label_outside_the_classes_is_an_index_error_that_mentions_cuda(loss_fn, bad):
    x = Tensor(logits(), requires_grad=True)
    with pytest.raises(IndexError, match=rf"target holds class {bad}, outside \[0, {C - 1}\] for {C} classes"
                                         rf".*cuda.*NaN loss"):
        loss_fn(x, Tensor(labels_with(bad)))


@BAD_LABELS
def test_the_cross_entropy_function_gives_a_bad_row_nan_on_the_cpu_too(bad):
    """CrossEntropy.apply does not check: NumPy would wrap -1 around to the last class."""
    z = logits()
    x = Tensor(z, requires_grad=True)
    rows = CrossEntropy.apply(x, labels_with(bad), reduction="none")
    assert np.isnan(rows.detach().numpy()[BAD_ROW])
    good = np.arange(N) != BAD_ROW
    assert_close(rows.detach().numpy()[good], reference_rows(z, labels_with(1))[good].astype(np.float32))


# ----------------------------------------------------------------------------- bad labels on the GPU

@pytest.mark.gpu
@FUSION
@BAD_LABELS
def test_on_cuda_a_bad_label_makes_the_mean_loss_nan(bad, fused, cuda, fusion):
    fusion(fused)
    x = Tensor(logits(), device=cuda, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(labels_with(bad), device=cuda))
    assert np.isnan(loss.item())
    loss.backward()
    grad = x.grad.numpy()
    assert np.isnan(grad[BAD_ROW]).all(), "the bad row's gradient must be NaN"
    assert np.isfinite(np.delete(grad, BAD_ROW, axis=0)).all(), "the other rows keep their gradient"


@pytest.mark.gpu
@FUSION
@BAD_LABELS
def test_on_cuda_only_the_bad_row_is_nan_and_the_others_are_exact(bad, fused, cuda, fusion):
    fusion(fused)
    z, target = logits(np.float64), labels_with(bad)
    x = Tensor(z, device=cuda, requires_grad=True)
    rows = F.cross_entropy(x, Tensor(target, device=cuda), reduction="none")
    values = rows.detach().numpy()
    good = np.arange(N) != BAD_ROW
    assert np.isnan(values[BAD_ROW])
    assert_close(values[good], reference_rows(z, labels_with(1))[good])
    rows.backward(Tensor(np.ones(N), device=cuda))
    grad = x.grad.numpy()
    assert np.isnan(grad[BAD_ROW]).all()
    assert_close(grad[good], (reference_grad_of_mean(z, labels_with(1)) * N)[good])


@pytest.mark.gpu
@BAD_LABELS
def test_on_cuda_nll_loss_of_a_bad_label_is_nan_with_a_nan_gradient(bad, cuda):
    x = Tensor(logits(), device=cuda, requires_grad=True)
    rows = F.nll_loss(x.log_softmax(axis=1), Tensor(labels_with(bad), device=cuda), reduction="none")
    values = rows.detach().numpy()
    assert np.isnan(values[BAD_ROW]) and np.isfinite(np.delete(values, BAD_ROW)).all()
    rows.sum().backward()
    grad = x.grad.numpy()
    assert np.isnan(grad[BAD_ROW]).all() and np.isfinite(np.delete(grad, BAD_ROW, axis=0)).all()


# ----------------------------------------------------------------------------- no wait for the GPU

def syncs_in_steps(cupy, step, warmup=1, steps=3):
    for _ in range(warmup):
        step()
    cupy._fake_reset_sync_count()
    for _ in range(steps):
        step()
    return cupy._fake_sync_count


@pytest.mark.gpu
@FUSION
@pytest.mark.parametrize("loss_name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("bad", [None, C], ids=["good-labels", "a-bad-label"])
def test_a_training_step_with_the_label_check_makes_no_host_copy(bad, loss_name, fused, fake_cupy, fusion):
    fusion(fused)
    model = nn.Sequential(nn.Linear(C, 8), nn.ReLU(), nn.Linear(8, C)).to("cuda")
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    x = Tensor(logits(), device="cuda")
    y = Tensor(labels_with(1 if bad is None else bad), device="cuda")
    losses = []

    def step():
        optimizer.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y) if loss_name == "cross_entropy" else F.nll_loss(out.log_softmax(axis=1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())         # kept on the device, read after the loop

    assert syncs_in_steps(fake_cupy, step) == 0
    values = np.array([t.item() for t in losses])
    assert np.isfinite(values).all() if bad is None else np.isnan(values).all()
