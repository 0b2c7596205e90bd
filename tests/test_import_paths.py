"""Every import path of the course keeps working after the move to PyTorch's layout (issue 11).

OLD_PUBLIC_NAMES lists, module by module, the public names of the tree before the move
(commit 44c977e): the classes and functions each module defined, its __all__, and its
UPPER_CASE constants. Each one must still import from its old module. A name that moved
must be the very same object at its old path and at its new home, so that isinstance,
monkeypatching and the docs all see one class, not a copy.

The same file holds the house's size rule: no file of tinygrad_edu/ or visualize/ is
longer than 600 lines, and tensor.py stays under 750.
"""
import importlib
from pathlib import Path

import pytest

import tinygrad_edu
import visualize

pytestmark = [pytest.mark.lecture09]       # the framework's layout: where nn, data and functions live

OLD_PUBLIC_NAMES = {
    "tinygrad_edu": """
        Context Function GradcheckError Tensor arange cat cuda_available data enable_grad eye
        float32 float64 from_torch full functions get_default_device gradcheck int64
        is_grad_enabled load manual_seed nn no_grad ones ones_like optim rand randn save
        set_default_device set_grad_enabled stack to_torch where zeros zeros_like""",
    "tinygrad_edu.autograd": """
        Context Function backward enable_grad is_grad_enabled no_grad set_grad_enabled
        topological_order unbroadcast""",
    "tinygrad_edu.backend": """
        DEVICES cuda_available device_of ensure_array erf generator get_default_device is_array
        is_device_array manual_seed module_for parse_device scatter_add set_default_device
        to_device to_numpy xp""",
    "tinygrad_edu.data": """
        DataLoader Dataset MNIST_FILES MNIST_MD5 MNIST_MIRRORS StandardScaler TensorDataset
        load_digits load_mnist make_circles make_moons make_regression_1d make_spirals make_xor
        mnist_root read_idx""",
    "tinygrad_edu.demo": """EXIT_OK EXIT_UNAVAILABLE GRAPH_DPI build_parser main""",
    "tinygrad_edu.estimators": """ACTIVATIONS MLPClassifier MLPRegressor""",
    "tinygrad_edu.functions": """
        Abs Add BinaryCrossEntropy Cast Cat Clip Conv2d CrossEntropy Div ELU Exp Expand GELU
        GetItem LeakyReLU Linear Log LogSoftmax LogSumExp MatMul Max MaxPool2d Maximum Mean Min
        Minimum Mul Neg Pad Permute Pow ReLU Reshape Sigmoid Softmax Softplus Softsign Sqrt Sub
        Sum Tanh ToDevice Where""",
    "tinygrad_edu.functions.elementwise": """
        Abs Add Clip Div ELU Exp GELU LeakyReLU Log Maximum Minimum Mul Neg Pow ReLU Sigmoid
        Softplus Softsign Sqrt Sub Tanh Where""",
    "tinygrad_edu.functions.linalg": """MatMul""",
    "tinygrad_edu.functions.movement": """Cast Cat Expand GetItem Pad Permute Reshape ToDevice""",
    "tinygrad_edu.functions.nn": """BinaryCrossEntropy Conv2d CrossEntropy Linear LogSoftmax LogSumExp MaxPool2d Softmax""",
    "tinygrad_edu.functions.reduce": """Max Mean Min Sum""",
    "tinygrad_edu.gradcheck": """GradcheckError gradcheck""",
    "tinygrad_edu.kernels": """SPECS fused_enabled get set_fused""",
    "tinygrad_edu.nn": """
        BCELoss BCEWithLogitsLoss BatchNorm1d Conv2d CrossEntropyLoss Dropout ELU Flatten GELU
        HuberLoss Identity L1Loss LeakyReLU Linear LogSoftmax MSELoss MaxPool2d Maxout Module
        ModuleList NLLLoss Parameter ReLU Sequential Sigmoid Softmax Softplus Softsign Tanh
        functional init""",
    "tinygrad_edu.nn.activation": """ELU GELU LeakyReLU LogSoftmax ReLU Sigmoid Softmax Softplus Softsign Tanh""",
    "tinygrad_edu.nn.container": """ModuleList Sequential""",
    "tinygrad_edu.nn.functional": """
        binary_cross_entropy binary_cross_entropy_with_logits conv2d cross_entropy dropout elu
        gelu heaviside_step huber_loss l1_loss leaky_relu linear log_softmax max_pool2d mse_loss
        nll_loss one_hot pad relu sigmoid softmax softplus softsign tanh""",
    "tinygrad_edu.nn.init": """
        calculate_gain constant_ kaiming_normal_ kaiming_uniform_ normal_ ones_ uniform_
        xavier_normal_ xavier_uniform_ zeros_""",
    "tinygrad_edu.nn.layers": """BatchNorm1d Conv2d Dropout Flatten Identity Linear MaxPool2d Maxout""",
    "tinygrad_edu.nn.loss": """BCELoss BCEWithLogitsLoss CrossEntropyLoss HuberLoss L1Loss MSELoss NLLLoss""",
    "tinygrad_edu.nn.module": """IncompatibleKeys Module""",
    "tinygrad_edu.nn.parameter": """Parameter""",
    "tinygrad_edu.optim": """Adagrad Adam AdamW Optimizer RMSprop SGD lr_scheduler""",
    "tinygrad_edu.optim.adagrad": """Adagrad""",
    "tinygrad_edu.optim.adam": """Adam AdamW""",
    "tinygrad_edu.optim.lr_scheduler": """CosineAnnealingLR ExponentialLR LRScheduler StepLR""",
    "tinygrad_edu.optim.optimizer": """Optimizer""",
    "tinygrad_edu.optim.rmsprop": """RMSprop""",
    "tinygrad_edu.optim.sgd": """SGD""",
    "tinygrad_edu.serialization": """from_torch load save to_torch""",
    "tinygrad_edu.tensor": """DEFAULT_FLOAT Tensor ones_like where zeros_like""",
    "visualize": """
        backward_steps draw_graph explain_backward find_dot plot_activations
        plot_decision_boundary plot_grad_flow plot_history plot_optimizer_paths render""",
    "visualize.graph": """
        BackwardStep FONT GRAD_SCALE GRAD_UNKNOWN HIGHLIGHT HIGHLIGHT_FILL InputGradient
        NO_GRAD_EDGE ROLES ROOT_NAMES SPINE backward_steps draw_graph explain_backward node_id""",
    "visualize.plots": """
        ACTIVATION_NAMES ActivationCurves activation_curves default_optimizers grad_norms
        optimizer_paths plot_activations plot_decision_boundary plot_grad_flow plot_history
        plot_optimizer_paths rosenbrock""",
    "visualize.render": """
        BITMAP_DPI BITMAP_FORMATS Digraph GRAPHVIZ_INSTALL INSTALL_HINT NO_RENDERER
        VECTOR_FORMATS find_dot new_digraph render""",
}


def _names(module: str) -> list:
    return OLD_PUBLIC_NAMES[module].split()


@pytest.mark.parametrize("module", sorted(OLD_PUBLIC_NAMES))
def test_every_old_module_path_still_imports(module):
    importlib.import_module(module)


@pytest.mark.parametrize("module", sorted(OLD_PUBLIC_NAMES))
def test_every_old_public_name_still_imports_from_its_old_module(module):
    imported = importlib.import_module(module)
    missing = [name for name in _names(module) if not hasattr(imported, name)]
    assert not missing, f"{module} no longer has {', '.join(missing)}: re-export them from their new home"


# old path -> new home, for every name issue 11 moved
MOVED = {
    "tinygrad_edu.nn.layers": {
        "Identity": "tinygrad_edu.nn.linear", "Linear": "tinygrad_edu.nn.linear",
        "Conv2d": "tinygrad_edu.nn.conv", "MaxPool2d": "tinygrad_edu.nn.pooling",
        "BatchNorm1d": "tinygrad_edu.nn.normalization", "Dropout": "tinygrad_edu.nn.dropout",
        "Flatten": "tinygrad_edu.nn.flatten", "Maxout": "tinygrad_edu.nn.activation",
    },
    "tinygrad_edu.functions.nn": {
        "Conv2d": "tinygrad_edu.functions.conv", "MaxPool2d": "tinygrad_edu.functions.conv",
    },
    "tinygrad_edu.functions": {
        "Conv2d": "tinygrad_edu.functions.conv", "MaxPool2d": "tinygrad_edu.functions.conv",
    },
    "tinygrad_edu.data": {
        **dict.fromkeys(["Dataset", "TensorDataset", "DataLoader"], "tinygrad_edu.data.loader"),
        **dict.fromkeys(["make_xor", "make_moons", "make_circles", "make_spirals", "make_regression_1d"],
                        "tinygrad_edu.data.toy"),
        **dict.fromkeys(["read_idx", "load_digits", "load_mnist", "mnist_root", "MNIST_FILES", "MNIST_MD5",
                         "MNIST_MIRRORS"], "tinygrad_edu.data.datasets"),
        "StandardScaler": "tinygrad_edu.data.scaler",
    },
}
MOVED_PAIRS = [(old, name, new) for old, names in MOVED.items() for name, new in names.items()]


@pytest.mark.parametrize("old, name, new", MOVED_PAIRS, ids=[f"{o}.{n}" for o, n, _ in MOVED_PAIRS])
def test_a_moved_name_is_the_same_object_at_its_old_path_and_its_new_home(old, name, new):
    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize("name", sorted(MOVED["tinygrad_edu.nn.layers"]))
def test_a_moved_layer_is_the_one_nn_exports(name):
    assert getattr(tinygrad_edu.nn.layers, name) is getattr(tinygrad_edu.nn, name)


def test_the_old_from_imports_of_the_notebooks_and_tests_still_work():
    from tinygrad_edu.data import DataLoader, StandardScaler, TensorDataset, load_digits, make_moons
    from tinygrad_edu.functions import Conv2d, CrossEntropy
    from tinygrad_edu.functions.nn import LogSoftmax, MaxPool2d
    from tinygrad_edu.nn.layers import BatchNorm1d, Linear
    assert (DataLoader, StandardScaler, TensorDataset, load_digits, make_moons) == (
        tinygrad_edu.data.DataLoader, tinygrad_edu.data.StandardScaler, tinygrad_edu.data.TensorDataset,
        tinygrad_edu.data.load_digits, tinygrad_edu.data.make_moons)
    assert Conv2d is tinygrad_edu.functions.conv.Conv2d and MaxPool2d is tinygrad_edu.functions.conv.MaxPool2d
    assert CrossEntropy is tinygrad_edu.functions.nn.CrossEntropy
    assert LogSoftmax is tinygrad_edu.functions.nn.LogSoftmax
    assert BatchNorm1d is tinygrad_edu.nn.BatchNorm1d and Linear is tinygrad_edu.nn.Linear


def test_the_old_module_paths_are_reachable_as_attributes_after_import_tinygrad_edu():
    assert tinygrad_edu.data.make_moons is tinygrad_edu.data.toy.make_moons
    assert tinygrad_edu.nn.layers.Linear is tinygrad_edu.nn.Linear
    assert tinygrad_edu.functions.nn.Conv2d is tinygrad_edu.functions.Conv2d


# ----------------------------------------------------------------------------- the size rule

LONGEST = 600
LONGEST_TENSOR = 749            # "tensor.py under 750"


def _python_files():
    """(path, its name relative to the packages' folder, e.g. "tinygrad_edu/nn/conv.py")."""
    for package in (tinygrad_edu, visualize):
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            yield path, path.relative_to(root.parent).as_posix()


def test_no_file_of_the_engine_or_visualize_is_longer_than_the_house_allows():
    too_long = []
    for path, name in _python_files():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = LONGEST_TENSOR if name == "tinygrad_edu/tensor.py" else LONGEST
        if lines > limit:
            too_long.append(f"{name}: {lines} lines (at most {limit})")
    assert not too_long, "files too long for one concept each:\n  " + "\n  ".join(too_long)
