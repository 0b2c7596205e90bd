"""visualize.plots: every plot renders to a valid, non-blank PNG, and the numbers behind the
pictures are right (autograd derivatives equal the lecture's formulas; Adam finds Rosenbrock's minimum)."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Tensor, nn, optim  # noqa: E402
from tinygrad_edu.data import make_moons  # noqa: E402
from visualize import plots  # noqa: E402
from visualize import (plot_activations, plot_decision_boundary, plot_grad_flow, plot_history,  # noqa: E402
                       plot_optimizer_paths)

pytestmark = [pytest.mark.lecture03, pytest.mark.lecture04, pytest.mark.lecture08]   # boundaries; activations; optimizers

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_valid_png(path):
    """A PNG file (magic bytes), readable as an RGB(A) image of some size, and not one flat colour."""
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC, f"{path} is not a PNG file"
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4), image.shape
    assert image.shape[0] > 100 and image.shape[1] > 100, image.shape
    assert image[..., :3].std() > 0.02, f"{path} looks blank"


def save(fig, tmp_path, name):
    assert isinstance(fig, Figure)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert_valid_png(path)
    return path


# ----------------------------------------------------------------------------- plot_history

def test_plot_history_of_a_dict_draws_losses_and_metrics_side_by_side(tmp_path):
    history = {"loss": [0.9, 0.5, 0.3, 0.2], "val_loss": [1.0, 0.6, 0.45, 0.4],
               "accuracy": [0.6, 0.8, 0.9, 0.95], "val_accuracy": [0.55, 0.75, 0.85, 0.88]}
    fig = plot_history(history)
    save(fig, tmp_path, "history")
    loss_ax, metric_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and len(loss_ax.lines) == 2
    assert "accuracy" in metric_ax.get_ylabel() and len(metric_ax.lines) == 2
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), history["val_loss"])


def test_plot_history_of_a_list_of_losses_draws_one_curve(tmp_path):
    fig = plot_history([1.0, 0.7, 0.5, 0.45, 0.41])
    save(fig, tmp_path, "history_list")
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), [1, 2, 3, 4, 5])


def test_plot_history_draws_into_the_axes_it_is_given(tmp_path):
    fig, ax = plt.subplots()
    assert plot_history({"loss": [0.5, 0.25], "val_accuracy": [0.7, 0.9]}, ax=ax) is fig
    save(fig, tmp_path, "history_ax")


def visible_ticks(axis_owner):
    """The x ticks matplotlib shows (inside the view), after drawing the figure."""
    axis_owner.figure.canvas.draw()
    low, high = axis_owner.get_xlim()
    return [t for t in axis_owner.get_xticks() if low <= t <= high]


@pytest.mark.parametrize("epochs", [1, 2, 20, 150])
@pytest.mark.parametrize("own_axes", [False, True], ids=["new-figure", "ax="])
def test_plot_history_puts_epoch_ticks_on_whole_numbers_only(epochs, own_axes):
    history = {"loss": list(np.linspace(1.0, 0.1, epochs)), "val_accuracy": list(np.linspace(0.5, 0.9, epochs))}
    ax = plt.subplots()[1] if own_axes else None
    fig = plot_history(history, ax=ax)
    for panel in fig.axes:
        ticks = visible_ticks(panel)
        assert ticks, "no epoch tick at all"
        assert all(float(t).is_integer() for t in ticks), ticks     # one epoch: 1, not 0.96, 0.98, ...
        assert 2.5 not in ticks and 7.5 not in ticks


def test_plot_history_rejects_an_empty_history():
    with pytest.raises(ValueError, match="plot_history"):
        plot_history([])


# ----------------------------------------------------------------------------- plot_decision_boundary

def _linear_classifier(w, b, n_out=2):
    """A network whose decision is known: logits = X @ w.T + b."""
    layer = nn.Linear(2, n_out)
    layer.weight.data[...] = np.asarray(w, dtype=np.float32)
    layer.bias.data[...] = np.asarray(b, dtype=np.float32)
    return layer


def _two_blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal([-1.5, 0], 0.4, (50, 2)), rng.normal([1.5, 0], 0.4, (50, 2))])
    return X.astype(np.float32), np.repeat([0, 1], 50)


def test_plot_decision_boundary_of_a_module_uses_the_argmax_of_its_logits(tmp_path):
    X, y = _two_blobs()
    model = _linear_classifier([[-1.0, 0.0], [1.0, 0.0]], [0.0, 0.0])      # class 1 where x1 > 0
    fig = plot_decision_boundary(model, X, y)
    save(fig, tmp_path, "boundary")
    assert "accuracy 100.0%" in fig.axes[0].get_title()


@pytest.mark.parametrize("probability", [False, True], ids=["logit-sign", "sigmoid-0.5"])
def test_plot_decision_boundary_of_a_single_output_thresholds_it(tmp_path, probability):
    X, y = _two_blobs()
    layer = _linear_classifier([[1.0, 0.0]], [0.0], n_out=1)
    model = nn.Sequential(layer, nn.Sigmoid()) if probability else layer
    fig = plot_decision_boundary(model, Tensor(X), Tensor(y))          # Tensors work as well as arrays
    save(fig, tmp_path, "boundary_single")
    assert "accuracy 100.0%" in fig.axes[0].get_title()


def test_plot_decision_boundary_of_several_classes(tmp_path):
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    X = np.concatenate([rng.normal(c, 0.3, (30, 2)) for c in centres]).astype(np.float32)
    y = np.repeat([0, 1, 2], 30)
    model = _linear_classifier(centres, -0.5 * (centres ** 2).sum(axis=1), n_out=3)   # nearest centre
    fig = plot_decision_boundary(model, X, y, resolution=80)
    save(fig, tmp_path, "boundary_three")
    assert "accuracy 100.0%" in fig.axes[0].get_title()


def test_plot_decision_boundary_leaves_the_model_in_its_training_mode():
    X, y = _two_blobs()
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    plot_decision_boundary(model, X, y, resolution=20)
    assert model.training


def test_plot_decision_boundary_of_a_scikit_learn_estimator(tmp_path):
    pytest.importorskip("sklearn")
    from tinygrad_edu.estimators import MLPClassifier
    X, y = make_moons(200, noise=0.1, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, max_iter=30, random_state=0).fit(X, y)
    fig = plot_decision_boundary(clf, X, y, resolution=60)
    save(fig, tmp_path, "boundary_estimator")
    save(plot_history(clf.loss_curve_), tmp_path, "estimator_loss_curve")


def test_plot_decision_boundary_needs_two_features():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot_decision_boundary(nn.Linear(3, 2), np.zeros((5, 3), dtype=np.float32), np.zeros(5))


# ----------------------------------------------------------------------------- plot_activations

@pytest.mark.parametrize("name", plots.ACTIVATION_NAMES)
def test_autograd_derivative_of_each_activation_equals_the_lecture_formula(name):
    x = np.linspace(-4, 4, 161)
    curves = plots.activation_curves(name, x)
    assert curves.autograd.shape == x.shape
    np.testing.assert_allclose(curves.autograd, curves.closed_form, atol=1e-5, rtol=0)


def test_activation_curves_compute_the_function_with_the_engine():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(plots.activation_curves("relu", x).y, [0.0, 0.0, 3.0])
    np.testing.assert_allclose(plots.activation_curves("sigmoid", x).y, 1 / (1 + np.exp(-x)), atol=1e-12)


def test_plot_activations_draws_one_panel_per_function(tmp_path):
    fig = plot_activations()
    save(fig, tmp_path, "activations")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(plots.ACTIVATION_NAMES) == 8
    assert all(len(ax.lines) >= 3 for ax in panels)        # f, f' by autograd, f' by formula


def test_plot_activations_of_chosen_names_into_given_axes(tmp_path):
    fig, axes = plt.subplots(1, 2)
    assert plot_activations(["tanh", "softsign"], x_range=(-2, 2), ax=axes) is fig
    save(fig, tmp_path, "activations_two")


def test_plot_activations_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="swish"):
        plot_activations(["swish"])


# ----------------------------------------------------------------------------- plot_grad_flow

def _deep_sigmoid_net(depth=6):
    layers = [nn.Linear(2, 16), nn.Sigmoid()]
    for _ in range(depth - 1):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(16, 2))


def test_plot_grad_flow_shows_vanishing_gradients_in_a_deep_sigmoid_net(tmp_path):
    X, y = make_moons(64, noise=0.1, random_state=0)
    model = _deep_sigmoid_net()
    nn.CrossEntropyLoss()(model(Tensor(X)), Tensor(y)).backward()
    fig = plot_grad_flow(model)
    save(fig, tmp_path, "grad_flow")
    norms = plots.grad_norms(model)
    assert list(norms) == [name for name, _ in model.named_parameters()]
    assert norms["0.weight"] < 0.01 * norms["12.weight"]   # every sigma' <= 1/4 on the way back
    assert len(fig.axes[0].patches) == len(norms)


def legend_entries(ax) -> dict:
    """legend label -> its colour (RGBA)."""
    legend = ax.get_legend()
    return {text.get_text(): tuple(handle.get_facecolor())
            for text, handle in zip(legend.get_texts(), legend.legend_handles)}


def test_plot_grad_flow_legend_names_only_the_kinds_of_bar_it_draws():
    X, y = make_moons(64, noise=0.1, random_state=0)
    model = _deep_sigmoid_net(2)
    nn.CrossEntropyLoss()(model(Tensor(X)), Tensor(y)).backward()
    weights = [(name, p) for name, p in model.named_parameters() if name.endswith("weight")]
    only_weights = plot_grad_flow(weights).axes[0]                  # as notebook 04 calls it
    assert list(legend_entries(only_weights)) == ["weight"]         # no "bias" entry without a bias bar
    everything = plot_grad_flow(model).axes[0]
    entries = legend_entries(everything)
    assert list(entries) == ["weight", "bias"]
    bar_colours = {tuple(bar.get_facecolor()) for bar in everything.patches}
    assert set(entries.values()) <= bar_colours                     # every entry is a colour in the picture


def test_plot_grad_flow_marks_parameters_without_a_gradient_in_the_legend():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    model[1](Tensor(np.ones((4, 3), dtype=np.float32))).sum().backward()   # the first layer gets no gradient
    entries = legend_entries(plot_grad_flow(model).axes[0])
    assert list(entries) == ["weight", "bias", "no gradient (or 0)"]


def test_grad_norms_do_not_read_the_grad_backward_does_not_keep(recwarn):
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2.0                                                # not a leaf, no retain_grad()
    (hidden * hidden).sum().backward()
    assert plots.grad_norms([("x", x), ("hidden", hidden)]) == {"x": pytest.approx(np.hypot(8, 16)), "hidden": None}
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_plot_grad_flow_needs_a_backward_first():
    with pytest.raises(ValueError, match="backward"):
        plot_grad_flow(_deep_sigmoid_net(2))


# ----------------------------------------------------------------------------- plot_optimizer_paths

def test_plot_optimizer_paths_on_rosenbrock_renders(tmp_path):
    fig = plot_optimizer_paths()
    save(fig, tmp_path, "optimizer_paths")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    for name in ("SGD", "Momentum", "Adagrad", "RMSprop", "Adam"):
        assert any(label.startswith(name) for label in labels), labels


def test_adam_path_reaches_the_rosenbrock_minimum():
    paths = plots.optimizer_paths(steps=200)
    adam = next(path for label, path in paths.items() if label.startswith("Adam"))
    assert adam.shape == (201, 2)
    np.testing.assert_allclose(adam[0], [-1.5, 2.0])
    assert np.linalg.norm(adam[-1] - [1.0, 1.0]) < 0.1
    assert all(np.isfinite(path).all() for path in paths.values())


def test_optimizer_paths_take_any_function_and_optimizers(tmp_path):
    def bowl(p):                          # minimum 0 at (1, -2)
        return (p[0] - 1) ** 2 + 3 * (p[1] + 2) ** 2

    chosen = {"SGD": lambda params: optim.SGD(params, lr=0.1),
              "Adam": lambda params: optim.Adam(params, lr=0.2)}
    paths = plots.optimizer_paths(bowl, chosen, start=(-2.0, 1.0), steps=150)
    assert set(paths) == {"SGD", "Adam"}
    np.testing.assert_allclose(paths["SGD"][-1], [1.0, -2.0], atol=1e-4)
    fig = plot_optimizer_paths(bowl, chosen, start=(-2.0, 1.0), steps=150, minimum=(1.0, -2.0))
    save(fig, tmp_path, "optimizer_paths_bowl")


def test_optimizer_paths_stop_where_a_path_diverges():
    paths = plots.optimizer_paths(optimizers={"too fast": lambda params: optim.SGD(params, lr=0.1)}, steps=50)
    path = paths["too fast"]
    assert len(path) < 51 and np.isfinite(path).all()


def test_plots_leave_grad_mode_on_and_record_no_graph():
    X, y = _two_blobs()
    model = _linear_classifier([[-1.0, 0.0], [1.0, 0.0]], [0.0, 0.0])
    plot_decision_boundary(model, X, y, resolution=10)
    assert tg.is_grad_enabled()
    assert model.weight.grad is None


def test_every_plot_still_imports_from_visualize_plots_and_lives_in_its_pictures_file():
    import importlib
    homes = {"history": ["plot_history"], "decision_boundary": ["plot_decision_boundary"],
             "activations": ["plot_activations", "activation_curves", "ActivationCurves", "ACTIVATION_NAMES"],
             "grad_flow": ["plot_grad_flow", "grad_norms"],
             "optimizer_paths": ["plot_optimizer_paths", "optimizer_paths", "default_optimizers", "rosenbrock"]}
    assert sorted(n for names in homes.values() for n in names) == sorted(plots.__all__)
    for module, names in homes.items():
        home = importlib.import_module(f"visualize.plots.{module}")
        for name in names:
            assert getattr(plots, name) is getattr(home, name)
