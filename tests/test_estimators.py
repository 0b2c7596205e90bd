"""The scikit-learn estimators: the homework's interface, real scikit-learn behaviour, quality."""
import time

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from tinygrad_edu import nn  # noqa: E402
from tinygrad_edu.estimators import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = [pytest.mark.lecture10]   # MLPRegressor / MLPClassifier, the homework's API

SMALL = dict(hidden_layer_sizes=(16,), learning_rate=0.01, max_iter=30, random_state=0)


@parametrize_with_checks([MLPClassifier(**SMALL), MLPRegressor(**SMALL)])
def test_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def _sine(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(X[:, 0]) + 0.1 * rng.standard_normal(n)


def test_defaults_are_the_homeworks_signature():
    params = MLPRegressor().get_params()
    assert params["hidden_layer_sizes"] == (100,)
    assert params["learning_rate"] == 0.001
    assert params["max_iter"] == 10


def test_train_is_fit_and_returns_self():
    X, y = _sine(200)
    model = MLPRegressor(max_iter=3, random_state=0)
    assert model.train(X, y) is model
    assert len(model.loss_curve_) == 3
    assert isinstance(model.model_, nn.Sequential)


def test_the_same_random_state_gives_the_same_model():
    X, y = _sine(200)
    a = MLPRegressor(max_iter=5, random_state=3).fit(X, y).predict(X)
    b = MLPRegressor(max_iter=5, random_state=3).fit(X, y).predict(X)
    c = MLPRegressor(max_iter=5, random_state=4).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_regressor_fits_a_noisy_sine():
    X, y = _sine()
    model = MLPRegressor(hidden_layer_sizes=(64, 64), activation="tanh", learning_rate=0.01,
                         max_iter=150, random_state=0).fit(X[:750], y[:750])
    assert model.score(X[750:], y[750:]) >= 0.95
    assert model.loss_curve_[-1] < model.loss_curve_[0] / 5


def test_classifier_reaches_95_percent_on_digits_quickly():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    start = time.perf_counter()
    model = MLPClassifier(max_iter=40, random_state=0).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = model.score(X_test, y_test)
    print(f"digits: test accuracy {accuracy:.4f} after {seconds:.1f} s")
    assert accuracy >= 0.95
    assert seconds < 30


def test_classifier_keeps_the_label_values_and_gives_probabilities():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 1, (50, 2)), rng.normal(2, 1, (50, 2))])
    y = np.array(["cat"] * 50 + ["dog"] * 50)
    model = MLPClassifier(max_iter=40, learning_rate=0.01, random_state=0).fit(X, y)
    assert list(model.classes_) == ["cat", "dog"]
    assert set(model.predict(X)) <= {"cat", "dog"}
    proba = model.predict_proba(X)
    assert proba.shape == (100, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert model.score(X, y) > 0.95


def test_sgd_solver_trains_too():
    X, y = _sine(300)
    model = MLPRegressor(solver="sgd", learning_rate=0.05, momentum=0.9, hidden_layer_sizes=(32,),
                         activation="tanh", max_iter=60, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.8


def test_clone_pipeline_and_grid_search_work():
    X, y = _sine(300)
    pipe = make_pipeline(StandardScaler(), MLPRegressor(max_iter=5, random_state=0))
    copy = clone(pipe)
    assert copy.get_params()["mlpregressor__max_iter"] == 5
    search = GridSearchCV(pipe, {"mlpregressor__learning_rate": [0.001, 0.01]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["mlpregressor__learning_rate"] in (0.001, 0.01)


def test_set_params_changes_the_next_fit():
    X, y = _sine(100)
    model = MLPRegressor(max_iter=2).set_params(max_iter=4, random_state=0)
    assert len(model.fit(X, y).loss_curve_) == 4


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(np.zeros((2, 3)))


@pytest.mark.parametrize("option, value", [
    ("hidden_layer_sizes", (0,)), ("learning_rate", -1.0), ("max_iter", 0), ("activation", "swish"),
    ("solver", "lbfgs"), ("batch_size", 0), ("alpha", -0.1),
])
def test_bad_options_are_refused_with_the_option_named(option, value):
    X, y = _sine(20)
    with pytest.raises(ValueError, match=option):
        MLPRegressor(**{option: value}).fit(X, y)


def test_verbose_shows_a_progress_bar_with_the_loss(capsys):
    pytest.importorskip("tqdm")
    X, y = _sine(100)
    MLPRegressor(max_iter=3, verbose=True, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "MLPRegressor" in err and "loss=" in err


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_device_option_trains_on_that_device_like_on_the_cpu(Estimator, device):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) if Estimator is MLPClassifier else X[:, 0] - 2 * X[:, 2]
    options = dict(hidden_layer_sizes=(8,), learning_rate=0.01, max_iter=5, random_state=0)
    on_cpu = Estimator(**options).fit(X, y)
    on_device = Estimator(**options, device=device).fit(X, y)
    assert all(p.device == device for p in on_device.model_.parameters())
    prediction = on_device.predict(X)
    assert isinstance(prediction, np.ndarray)                 # results come back to the host
    # a GPU sums in another order: float32 results drift apart a little over 5 epochs of Adam
    np.testing.assert_allclose(on_device.loss_curve_, on_cpu.loss_curve_, rtol=1e-3)
    if Estimator is MLPClassifier:
        np.testing.assert_allclose(on_device.predict_proba(X), on_cpu.predict_proba(X), atol=1e-3)
        assert abs(on_device.score(X, y) - on_cpu.score(X, y)) <= 1 / 60   # a point on the boundary may flip
    else:
        np.testing.assert_allclose(prediction, on_cpu.predict(X), rtol=1e-3, atol=1e-3)
