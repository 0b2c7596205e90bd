"""End to end: real models trained with nn, optim and data reach the accuracy a course expects."""
import time

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, no_grad, optim
from tinygrad_edu.data import DataLoader, TensorDataset, make_moons

pytestmark = [pytest.mark.lecture03, pytest.mark.lecture08]   # MLPs and a CNN trained to an accuracy


def _train(model, X, y, epochs, lr, batch_size=64, seed=0):
    loader = DataLoader(TensorDataset(Tensor(X), Tensor(y)), batch_size=batch_size, shuffle=True, seed=seed)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    return model


def _accuracy(model, X, y):
    with no_grad():
        return float((model(Tensor(X)).argmax(axis=1).numpy() == y).mean())


def test_an_mlp_learns_the_two_moons():
    tg.manual_seed(0)
    X, y = make_moons(n_samples=1200, noise=0.1, random_state=0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    _train(model, X[:1000], y[:1000], epochs=30, lr=0.01)
    assert _accuracy(model, X[1000:], y[1000:]) >= 0.97


def test_a_small_cnn_learns_the_digits():
    pytest.importorskip("sklearn")
    from tinygrad_edu.data import load_digits
    tg.manual_seed(0)
    X, y = load_digits(return_images=True)              # (1797, 1, 8, 8), pixel values 0..16
    X = (X / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1350], order[1350:]
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    start = time.perf_counter()
    _train(model, X[train], y[train], epochs=15, lr=0.01)
    seconds = time.perf_counter() - start
    accuracy = _accuracy(model, X[test], y[test])
    print(f"CNN on digits: test accuracy {accuracy:.3f} after {seconds:.1f} s")
    assert accuracy >= 0.95
