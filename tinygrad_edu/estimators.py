"""scikit-learn estimators built on the engine: the homework's MLPRegressor, made real.

    from tinygrad_edu.estimators import MLPRegressor
    model = MLPRegressor(hidden_layer_sizes=(100,), learning_rate=0.001, max_iter=10)
    model.train(X, y)          # the homework's name; fit(X, y) is the same
    model.predict(X)

They are genuine scikit-learn estimators (clone, get_params/set_params, Pipeline,
GridSearchCV work), so they need scikit-learn. The trained network is `model.model_`,
an nn.Sequential: draw its graph, save its state_dict, or move it to PyTorch.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("tinygrad_edu.estimators needs scikit-learn: pip install scikit-learn "
                      '(or install the project with its extras: pip install -e ".[all]")') from exc

from . import arguments, backend, nn
from .autograd import no_grad
from .nn import functional as F
from .optim import SGD, Adam
from .tensor import Tensor

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "sigmoid": nn.Sigmoid,
               "identity": nn.Identity, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU}


class InvalidOptionError(ValueError, TypeError):
    """A bad option: a ValueError, as scikit-learn's checks expect, and a TypeError where its
    type is wrong (scikit-learn's own InvalidParameterError is both, for the same reason)."""


def _option(check: Callable, *args: Any) -> Any:
    """Run one of arguments.py's checks, raising a wrong type as InvalidOptionError."""
    try:
        return check(*args)
    except TypeError as exc:
        raise InvalidOptionError(str(exc)) from None


class _BaseMLP(BaseEstimator):
    """What the regressor and the classifier share: checking options, building the network,
    the mini-batch training loop (forward -> loss -> backward -> update, lecture 8)."""

    def __init__(self, hidden_layer_sizes: Any = (100,), learning_rate: float = 0.001, max_iter: int = 10,
                 activation: str = "relu", solver: str = "adam", batch_size: Any = "auto",
                 alpha: float = 0.0001, momentum: float = 0.9, shuffle: bool = True,
                 random_state: Any = None, device: str | None = None, verbose: bool = False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.activation = activation
        self.solver = solver
        self.batch_size = batch_size
        self.alpha = alpha
        self.momentum = momentum
        self.shuffle = shuffle
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ checks

    def _check_options(self) -> tuple[int, ...]:
        """Check the options at fit time (scikit-learn's rule: __init__ only stores them)."""
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        if arguments.is_int(sizes):
            sizes = (_option(arguments.positive_int, sizes, "hidden_layer_sizes", name),)
        elif isinstance(sizes, str) or not hasattr(sizes, "__iter__"):
            raise InvalidOptionError(f"{name}: hidden_layer_sizes must be an int or a tuple of ints, "
                                     f"got {type(sizes).__name__} {sizes!r}")
        else:
            sizes = tuple(_option(arguments.positive_int, s, f"hidden_layer_sizes[{i}]", name)
                          for i, s in enumerate(sizes))
        _option(arguments.number, self.learning_rate, "learning_rate", name)
        if not self.learning_rate > 0:             # strictly positive: number(minimum=) means >=
            raise ValueError(f"{name}: learning_rate must be a positive float, got {self.learning_rate!r}")
        _option(arguments.positive_int, self.max_iter, "max_iter (the number of epochs)", name)
        arguments.choice(self.activation, sorted(ACTIVATIONS), "activation", name)
        arguments.choice(self.solver, ("sgd", "adam"), "solver", name)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            _option(arguments.positive_int, self.batch_size, "batch_size (or 'auto')", name)
        _option(arguments.number, self.alpha, "alpha (the L2 penalty)", name, 0)
        return sizes

    # ------------------------------------------------------------------ the network

    def _build(self, n_in: int, n_out: int, sizes: tuple[int, ...], rng: np.random.Generator) -> nn.Sequential:
        layers: list[nn.Module] = []
        widths = (n_in,) + sizes
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), ACTIVATIONS[self.activation]()]
        layers.append(nn.Linear(widths[-1], n_out))
        model = nn.Sequential(*layers)
        for layer in model:                   # PyTorch's default init, drawn from our own generator
            if isinstance(layer, nn.Linear):
                bound = 1.0 / np.sqrt(layer.in_features)
                layer.weight.data[...] = rng.uniform(-bound, bound, layer.weight.shape)
                layer.bias.data[...] = rng.uniform(-bound, bound, layer.bias.shape)
        return model.to(backend.parse_device(self.device))

    def _fit(self, X: np.ndarray, target: np.ndarray, n_out: int) -> "_BaseMLP":
        sizes = self._check_options()
        rng = np.random.default_rng(self.random_state if not isinstance(self.random_state, np.random.RandomState)
                                    else self.random_state.randint(2 ** 31))
        self.model_ = self._build(X.shape[1], n_out, sizes, rng)
        params = list(self.model_.parameters())
        if self.solver == "adam":
            optimizer = Adam(params, lr=self.learning_rate)
        else:
            optimizer = SGD(params, lr=self.learning_rate, momentum=self.momentum)
        weights = [layer.weight for layer in self.model_ if isinstance(layer, nn.Linear)]
        device = backend.parse_device(self.device)
        X_all = Tensor(X, device=device)
        t_all = Tensor(target, device=device)
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

        self.loss_curve_ = []
        epochs = _progress(range(self.max_iter), self.verbose, type(self).__name__)
        self.model_.train()
        for _ in epochs:
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            total = None
            for start in range(0, n, batch):
                rows = order[start:start + batch]
                xb, tb = X_all[rows], t_all[rows]
                loss = self._loss(self.model_(xb), tb)
                if self.alpha:                     # L2 penalty on the weights, as scikit-learn's MLP
                    loss = loss + (0.5 * self.alpha / len(rows)) * sum((w * w).sum() for w in weights)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                batch_total = loss.data * len(rows)     # stays on the device: no sync per step
                total = batch_total if total is None else total + batch_total
            self.loss_curve_.append(total.item() / n)
            if hasattr(epochs, "set_postfix"):
                epochs.set_postfix(loss=f"{self.loss_curve_[-1]:.4f}")
            elif self.verbose:
                print(f"epoch {len(self.loss_curve_)}/{self.max_iter}: loss {self.loss_curve_[-1]:.4f}")
        self.n_iter_ = self.max_iter
        self.model_.eval()
        return self

    def _forward(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64]).astype(np.float32)
        device = backend.parse_device(self.device)
        outputs = []
        with no_grad():
            for start in range(0, X.shape[0], 4096):
                outputs.append(self.model_(Tensor(X[start:start + 4096], device=device)).numpy())
        return np.concatenate(outputs) if outputs else np.zeros((0, self._n_out), dtype=np.float32)

    def train(self, X: Any, y: Any) -> "_BaseMLP":
        """The homework's name for fit(X, y)."""
        return self.fit(X, y)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron trained on the mean squared error (lecture 10's homework).

    hidden_layer_sizes: widths of the hidden layers; learning_rate: the step size;
    max_iter: the number of epochs; activation: 'relu', 'tanh', 'logistic', ...;
    solver: 'adam' or 'sgd' (with momentum); alpha: L2 penalty on the weights.
    After fit: model_ (the nn.Sequential), loss_curve_ (mean loss per epoch), n_features_in_.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True       # y may have several columns
        return tags

    def fit(self, X: Any, y: Any) -> "MLPRegressor":
        """Train on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets); returns self.

        Minimises the mean squared error (plus alpha/2 ‖W‖² / batch size) for max_iter epochs.
        """
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float32)
        self._y_is_1d = y.ndim == 1
        target = y.reshape(-1, 1) if y.ndim == 1 else y
        self._n_out = target.shape[1]
        return self._fit(X.astype(np.float32), target, target.shape[1])

    def _loss(self, prediction: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(prediction, target)

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs for X, as float64 (a 1-D array when fit got a 1-D y)."""
        out = self._forward(X).astype(np.float64)   # scikit-learn's regressors predict float64
        return out[:, 0] if self._y_is_1d else out


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron with a softmax output trained on the cross-entropy (lecture 5).

    Options as MLPRegressor. After fit: classes_, model_, loss_curve_, n_features_in_;
    predict_proba gives one column per class in the order of classes_.
    """

    def fit(self, X: Any, y: Any) -> "MLPClassifier":
        """Train on X (n_samples, n_features) and labels y of any kind (classes_ = their sorted unique values).

        Minimises the softmax cross-entropy (plus alpha/2 ‖W‖² / batch size) for max_iter epochs; returns self.
        """
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self._n_out = len(self.classes_)
        return self._fit(X.astype(np.float32), labels.astype(np.int64), max(len(self.classes_), 1))

    def _loss(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits, target)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities softmax(logits), one row per sample and one column per class in classes_."""
        logits = self._forward(X)
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample (argmax of the logits), as a label from classes_."""
        scores = self._forward(X)               # checks that fit was called first
        return self.classes_[np.argmax(scores, axis=1)]


def _progress(epochs: range, verbose: bool, name: str):
    """A tqdm progress bar over the epochs when verbose and tqdm is installed."""
    if not verbose:
        return epochs
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return epochs
    return tqdm(epochs, desc=name, unit="epoch")
