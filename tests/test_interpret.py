"""visualize.interpret against references worked out by hand or computed by torch 2.13:
saliency of a linear model is |W[target]|, Grad-CAM and FGSM equal the same recipes written in
torch on the same weights, occlusion of a model with a known output equals its definition; the
model's .grad, train/eval state and hooks are left as they were; the errors say what to fix."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, no_grad
from visualize import fgsm, grad_cam, occlusion, plot_filters, plot_maps, saliency

pytestmark = [pytest.mark.lecture_interpretation]


def _images(n=4, c=1, side=8, seed=0):
    return np.random.default_rng(seed).random((n, c, side, side)).astype(np.float32)


def _small_cnn():
    tg.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 4 * 4, 3))


def _torch_cnn(torch):
    torch.manual_seed(0)
    tnn = torch.nn
    return tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(4, 6, 3, padding=1), tnn.ReLU(), tnn.Flatten(), tnn.Linear(6 * 4 * 4, 3))


def _count_hook_calls(layer, monkeypatch) -> list:
    """Every hook registered on `layer` from now on records its calls here."""
    calls = []
    register = layer.register_forward_hook

    def counting(hook):
        return register(lambda module, args, output: calls.append(1) or hook(module, args, output))
    monkeypatch.setattr(layer, "register_forward_hook", counting)
    return calls


# ----------------------------------------------------------------------------- saliency

def test_saliency_of_a_linear_model_is_the_absolute_weight_row_of_the_target_max_over_channels():
    # s_t(x) = W[t] · vec(x) + b_t, so d s_t / dx = W[t] reshaped to (C, H, W): the same for every image
    tg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 5 * 6, 4))
    x = np.random.default_rng(0).random((3, 2, 5, 6)).astype(np.float32)
    weight = model[1].weight.detach().numpy()
    by_hand = np.abs(weight.reshape(4, 2, 5, 6)).max(axis=1)                   # (classes, H, W)
    np.testing.assert_allclose(saliency(model, x, target=[2, 0, 3]), by_hand[[2, 0, 3]], rtol=1e-6)
    np.testing.assert_allclose(saliency(model, x, target=1), by_hand[[1, 1, 1]], rtol=1e-6)
    with no_grad():
        predicted = model(Tensor(x)).argmax(axis=1).numpy()
    np.testing.assert_allclose(saliency(model, x), by_hand[predicted], rtol=1e-6)


def test_saliency_of_a_cnn_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = _torch_cnn(torch)
    ours = tg.from_torch(theirs)
    x = _images()
    tx = torch.tensor(x, requires_grad=True)
    scores = theirs(tx)
    (g,) = torch.autograd.grad(scores[torch.arange(4), scores.argmax(dim=1)].sum(), tx)
    np.testing.assert_allclose(saliency(ours, x), g.abs().amax(dim=1).numpy(), rtol=1e-5, atol=1e-7)


def test_saliency_works_inside_no_grad_and_takes_a_tensor():
    model = _small_cnn()
    x = _images()
    expected = saliency(model, x)
    with no_grad():
        np.testing.assert_array_equal(saliency(model, Tensor(x)), expected)


# ----------------------------------------------------------------------------- Grad-CAM

def _torch_grad_cam(torch, model, layer, x, target):
    """Grad-CAM written directly in torch: a forward hook keeps A, torch.autograd.grad gives dS/dA."""
    kept = []
    handle = layer.register_forward_hook(lambda module, args, output: kept.append(output))
    try:
        scores = model(torch.tensor(x))
    finally:
        handle.remove()
    activations = kept[0]
    score = scores[torch.arange(len(x)), torch.tensor(target)].sum()
    (grads,) = torch.autograd.grad(score, activations)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * activations).sum(dim=1, keepdim=True))
    cam = torch.nn.functional.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    cam = cam / cam.amax(dim=(1, 2), keepdim=True).clamp_min(1e-30)
    return cam.detach().numpy()


@pytest.mark.parametrize("layer_index", [3, 4])          # the last convolution, and its ReLU
def test_grad_cam_matches_a_direct_torch_computation(layer_index):
    torch = pytest.importorskip("torch")
    theirs = _torch_cnn(torch)
    ours = tg.from_torch(theirs)
    x = _images(n=5)
    target = [0, 1, 2, 1, 0]
    expected = _torch_grad_cam(torch, theirs, theirs[layer_index], x, target)
    cam = grad_cam(ours, ours[layer_index], x, target=target)
    assert cam.shape == (5, 8, 8)
    np.testing.assert_allclose(cam, expected, rtol=1e-4, atol=1e-6)
    assert cam.min() >= 0 and np.allclose(cam.max(axis=(1, 2))[expected.max(axis=(1, 2)) > 0], 1.0)


def test_grad_cam_removes_its_hook_after_success_and_after_an_error(monkeypatch):
    model = _small_cnn()
    calls = _count_hook_calls(model[4], monkeypatch)
    grad_cam(model, model[4], _images())
    assert len(calls) == 1
    with pytest.raises(IndexError):
        grad_cam(model, model[4], _images(), target=7)
    assert len(calls) == 2
    model(Tensor(_images()))
    assert len(calls) == 2, "the forward hook of grad_cam is still registered"


def test_grad_cam_refuses_a_layer_outside_the_model_and_one_without_feature_maps():
    model = _small_cnn()
    with pytest.raises(ValueError, match=r"grad_cam: the layer Conv2d is not a sub-module of the model"):
        grad_cam(model, nn.Conv2d(4, 6, 3), _images())
    with pytest.raises(ValueError, match=r"grad_cam: the layer's output must be feature maps \(N, K, h, w\)"):
        grad_cam(model, model[6], _images())


# ----------------------------------------------------------------------------- occlusion

class RegionSum(nn.Module):
    """logits = [sum of x[:, 0, 2:5, 3:7], 0]: p_0 = sigmoid(the region's sum), known exactly."""

    def forward(self, x):
        region = x[:, 0, 2:5, 3:7].sum(axis=(1, 2)).reshape(-1, 1)
        return Tensor.cat([region, region * 0], axis=1)


def _occlusion_by_definition(x, window, starts, baseline):
    """The mean drop of p_0 over the windows that cover each pixel, for RegionSum, with loops."""
    sigmoid = lambda s: 1 / (1 + np.exp(-s))
    x = x.astype(np.float64)
    n, _, height, width = x.shape
    total, count = np.zeros((n, height, width)), np.zeros((height, width))
    for i in starts:
        for j in starts:
            covered = x.copy()
            covered[:, :, i:i + window, j:j + window] = baseline
            drop = sigmoid(x[:, 0, 2:5, 3:7].sum(axis=(1, 2))) - sigmoid(covered[:, 0, 2:5, 3:7].sum(axis=(1, 2)))
            total[:, i:i + window, j:j + window] += drop[:, None, None]
            count[i:i + window, j:j + window] += 1
    return total / count


@pytest.mark.parametrize("baseline", [0.0, 0.5])
def test_occlusion_of_a_model_with_a_known_output_is_the_mean_drop_of_the_covering_windows(baseline):
    x = _images(n=3, side=9) - 0.3
    # window 4, stride 2 on 9 pixels: starts 0, 2, 4, and 5 so that the last column is covered too
    expected = _occlusion_by_definition(x, 4, [0, 2, 4, 5], baseline)
    found = occlusion(RegionSum(), x, target=0, window=4, stride=2, baseline=baseline)
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6)


def test_occlusion_is_zero_far_from_the_region_the_model_reads():
    found = occlusion(RegionSum(), _images(n=2, side=9), target=0, window=2, stride=2)
    assert np.all(found[:, 7:, :] == 0) and np.all(found[:, :, :2] == 0)
    assert np.all(found[:, 2:5, 3:7] > 0)            # covering positive pixels of the region lowers p_0


def test_occlusion_runs_batches_of_covered_images_not_one_pass_per_window():
    calls = []

    class Counting(RegionSum):
        def forward(self, x):
            calls.append(x.shape[0])
            return super().forward(x)

    x = _images(n=3, side=8)
    big = occlusion(Counting(), x, target=0, window=2, stride=2)              # 16 windows x 3 images
    assert calls == [3, 48]
    calls.clear()
    small = occlusion(Counting(), x, target=0, window=2, stride=2, batch_size=20)
    assert calls == [3, 20, 20, 8]
    np.testing.assert_allclose(small, big)


def test_occlusion_refuses_a_window_larger_than_the_image():
    with pytest.raises(ValueError, match=r"occlusion: the window \(9, 9\) is larger than the images \(8, 8\)"):
        occlusion(RegionSum(), _images(), window=9)
    with pytest.raises(ValueError, match="occlusion: stride must be a positive int"):
        occlusion(RegionSum(), _images(), stride=0)


# ----------------------------------------------------------------------------- FGSM

def test_fgsm_is_x_plus_epsilon_times_the_sign_of_torchs_input_gradient():
    torch = pytest.importorskip("torch")
    theirs = _torch_cnn(torch)
    ours = tg.from_torch(theirs)
    x = _images(n=6)
    labels = np.array([0, 1, 2, 2, 1, 0])
    tx = torch.tensor(x, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(theirs(tx), torch.tensor(labels), reduction="sum")
    (g,) = torch.autograd.grad(loss, tx)
    expected = (tx + 0.1 * g.sign()).detach()
    adversarial = fgsm(ours, x, labels, epsilon=0.1)
    assert isinstance(adversarial, Tensor) and not adversarial.requires_grad
    np.testing.assert_allclose(adversarial.numpy(), expected.numpy(), atol=1e-7)
    clipped = fgsm(ours, x, labels, epsilon=0.1, data_range=(0.0, 1.0))
    np.testing.assert_allclose(clipped.numpy(), expected.clamp(0, 1).numpy(), atol=1e-7)


def test_fgsm_with_epsilon_zero_gives_the_images_back_and_refuses_a_negative_epsilon():
    x = _images()
    np.testing.assert_array_equal(fgsm(_small_cnn(), x, [0, 1, 2, 0], 0.0).numpy(), x)
    with pytest.raises(ValueError, match="fgsm: epsilon must be a number >= 0"):
        fgsm(_small_cnn(), x, [0, 1, 2, 0], -0.1)


def test_fgsm_checks_the_labels():
    with pytest.raises(IndexError, match=r"fgsm: label 3 is out of range: the model has 3 classes"):
        fgsm(_small_cnn(), _images(), [0, 1, 3, 0], 0.1)
    with pytest.raises(ValueError, match="fgsm: label has 2 entries for 4 images"):
        fgsm(_small_cnn(), _images(), [0, 1], 0.1)


# ----------------------------------------------------------------------------- the model is left alone

ALL_FOUR = {
    "saliency": lambda model, x: saliency(model, x),
    "grad_cam": lambda model, x: grad_cam(model, model[4], x),
    "occlusion": lambda model, x: occlusion(model, x),
    "fgsm": lambda model, x: fgsm(model, x, [0, 1, 2, 0], 0.1),
}


@pytest.mark.parametrize("name", ALL_FOUR)
def test_no_parameter_grad_is_created_or_changed(name):
    model = _small_cnn()
    x = _images()
    ALL_FOUR[name](model, x)
    assert all(p.grad is None for p in model.parameters())
    tg.nn.functional.cross_entropy(model(Tensor(x)), Tensor(np.array([0, 1, 2, 0]))).backward()
    before = [p.grad.numpy().copy() for p in model.parameters()]
    ALL_FOUR[name](model, x)
    for old, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), old)


@pytest.mark.parametrize("name", ALL_FOUR)
def test_the_model_runs_in_eval_mode_and_gets_its_own_modes_back(name):
    model = _small_cnn()
    model.train()
    model[3].eval()                                          # a mixed state must come back as it was
    modes = [m.training for m in model.modules()]
    seen = []
    model[1].register_forward_hook(lambda module, args, output: seen.append(module.training))
    ALL_FOUR[name](model, _images())
    assert seen and not any(seen), "the maps must be computed in eval mode"
    assert [m.training for m in model.modules()] == modes


def test_the_modes_come_back_after_an_error():
    model = _small_cnn().train()
    with pytest.raises(IndexError):
        saliency(model, _images(), target=3)
    assert all(m.training for m in model.modules())


# ----------------------------------------------------------------------------- errors about the inputs

@pytest.mark.parametrize("name", ["saliency", "grad_cam", "occlusion", "fgsm"])
def test_images_must_be_n_c_h_w(name):
    one_image = _images(n=1)[0]                                # (1, 8, 8): the batch axis is missing
    with pytest.raises(ValueError, match=rf"{name}: images must have shape \(N, C, H, W\), got \(1, 8, 8\) "
                                         r"\(one image: add the batch axis"):
        ALL_FOUR[name](_small_cnn(), one_image)


def test_a_target_out_of_range_says_which_classes_exist():
    with pytest.raises(IndexError, match=r"saliency: target 5 is out of range: the model has 3 classes, "
                                         r"so a target lies in \[0, 2\]"):
        saliency(_small_cnn(), _images(), target=5)
    model = _small_cnn()
    with pytest.raises(IndexError, match=r"grad_cam: target -1 is out of range"):
        grad_cam(model, model[4], _images(), target=-1)


def test_integer_images_and_a_model_without_class_scores_are_refused():
    with pytest.raises(TypeError, match="saliency: images must be floating point"):
        saliency(_small_cnn(), np.ones((2, 1, 8, 8), dtype=np.int64))
    with pytest.raises(ValueError, match=r"saliency: the model must return scores of shape \(N, classes\)"):
        saliency(nn.Conv2d(1, 2, 3), _images())


# ----------------------------------------------------------------------------- pictures

@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    yield pyplot
    pyplot.close("all")


def test_plot_maps_draws_one_column_per_image_and_one_row_per_kind_of_map(plt):
    from matplotlib.figure import Figure
    x = _images(n=5)
    maps = {"saliency": np.random.default_rng(1).random((5, 8, 8)), "grad-cam": np.zeros((5, 8, 8))}
    fig = plot_maps(x, maps, titles=list("abcde"))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 5 * 3 + 2                       # 3 rows of 5 panels, a colour bar per map row
    assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")
    assert len(plot_maps(x, maps["saliency"], show_images=False).axes) == 5 + 1


def test_plot_maps_refuses_maps_of_another_size(plt):
    with pytest.raises(ValueError, match=r"plot_maps: the maps 'map' have shape \(5, 4, 4\)"):
        plot_maps(_images(n=5), np.zeros((5, 4, 4)))


def test_plot_filters_draws_every_kernel_of_the_first_layer(plt):
    from matplotlib.figure import Figure
    fig = plot_filters(_small_cnn()[0].weight)
    assert isinstance(fig, Figure)
    assert sum(ax.get_visible() for ax in fig.axes) == 4 + 1        # 4 kernels and the colour bar
    assert len(plot_filters(_small_cnn()[3].weight).axes) == 6 * 4 + 1
    with pytest.raises(ValueError, match=r"plot_filters: expected a convolution weight of shape"):
        plot_filters(np.zeros((3, 3)))
