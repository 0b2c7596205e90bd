"""Data: datasets, the mini-batch loader, toy sets for the lectures, real sets, standardisation.

    from tinygrad_edu.data import TensorDataset, DataLoader, make_moons, StandardScaler
    X, y = make_moons(200, noise=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)                 # x' = (x - mean) / sigma, per feature
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for xb, yb in loader:                                 # xb: Tensor (32, 2) float32, yb: Tensor (32,) int64
        ...

The names and semantics are PyTorch's (torch.utils.data), so the training loop a student
writes here runs under PyTorch unchanged. The files:

    loader.py     Dataset, TensorDataset, DataLoader      the mini-batches of lecture 8
    toy.py        make_xor ... make_regression_1d         toy sets (NumPy arrays), deterministic with random_state
    datasets.py   read_idx, load_digits, load_mnist       real sets: scikit-learn's digits, MNIST from IDX files
    scaler.py     StandardScaler                          standardisation x' = (x - mean) / sigma (lecture 8)
    text.py       load_corpus                             the language lecture's texts: Russian prose, Python's help
    graphs.py     load_karate_club, make_sbm              graphs as edge lists: Zachary's karate club, a block model
"""
from .datasets import MNIST_FILES, MNIST_MD5, MNIST_MIRRORS, load_digits, load_mnist, mnist_root, read_idx
from .graphs import load_karate_club, make_sbm
from .loader import DataLoader, Dataset, TensorDataset
from .scaler import StandardScaler
from .text import load_corpus
from .toy import make_circles, make_moons, make_regression_1d, make_spirals, make_xor

__all__ = [
    "Dataset", "TensorDataset", "DataLoader",
    "make_xor", "make_moons", "make_circles", "make_spirals", "make_regression_1d",
    "read_idx", "load_digits", "load_mnist", "mnist_root", "StandardScaler", "load_corpus",
    "load_karate_club", "make_sbm",
]
