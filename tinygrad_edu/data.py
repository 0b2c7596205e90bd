"""Data: datasets, the mini-batch loader, toy sets for the lectures, real sets, standardisation.

    from tinygrad_edu.data import TensorDataset, DataLoader, make_moons, StandardScaler
    X, y = make_moons(200, noise=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)                 # x' = (x - mean) / sigma, per feature
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for xb, yb in loader:                                 # xb: Tensor (32, 2) float32, yb: Tensor (32,) int64
        ...

The names and semantics are PyTorch's (torch.utils.data), so the training loop a student
writes here runs under PyTorch unchanged. The sections below, in order:

    Dataset, TensorDataset, DataLoader     the mini-batches of lecture 8
    make_xor ... make_regression_1d        toy sets (NumPy arrays), deterministic with random_state
    read_idx, load_digits, load_mnist      real sets: scikit-learn's digits, MNIST from IDX files
    StandardScaler                         standardisation x' = (x - mean) / sigma (lecture 8)
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from . import backend
from .tensor import Tensor

__all__ = [
    "Dataset", "TensorDataset", "DataLoader",
    "make_xor", "make_moons", "make_circles", "make_spirals", "make_regression_1d",
    "read_idx", "load_digits", "load_mnist", "mnist_root", "StandardScaler",
]


# ----------------------------------------------------------------------------- argument helpers

def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _positive_int(value: Any, name: str, op: str) -> int:
    if not _is_int(value):
        raise TypeError(f"{op}: {name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value}")
    return int(value)


def _flag(value: Any, name: str, op: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _non_negative(value: Any, name: str, op: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r}")
    if not value >= 0:                                  # also rejects NaN
        raise ValueError(f"{op}: {name} must be >= 0, got {value}")
    return float(value)


def _rng(random_state: Any, op: str) -> np.random.Generator:
    """A NumPy Generator from random_state: an int seed, a Generator, or None.

    None draws from tinygrad_edu's global generator, so `tinygrad_edu.manual_seed(n)` makes
    the result reproducible (and without a manual_seed it is fresh entropy).
    """
    if random_state is None:
        return backend.generator("cpu")
    if isinstance(random_state, np.random.Generator):
        return random_state
    if _is_int(random_state):
        if random_state < 0:
            raise ValueError(f"{op}: random_state must be >= 0, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(f"{op}: random_state must be None, an int or a numpy.random.Generator, "
                    f"got {type(random_state).__name__} {random_state!r}")


# ============================================================================= Dataset, DataLoader

class Dataset:
    """A map-style data set, PyTorch's protocol: `len(ds)` samples, `ds[i]` is the i-th one.

    Subclass it and define both methods; a sample is a number, an array, a Tensor or a
    tuple of them (typically `(features, label)`):

        class Squares(Dataset):
            def __len__(self):         return 100
            def __getitem__(self, i):  return np.array([i], dtype=np.float32), i * i
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index) "
                                  "returning the sample at position index")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__(self) "
                                  "returning the number of samples")


class TensorDataset(Dataset):
    """Samples are slices along the first axis: `ds[i] == (t[i] for t in tensors)`.

    TensorDataset(X, y) with Tensors or arrays (arrays become Tensors, keeping their dtype:
    float32 features stay float32, int64 labels stay int64). All share the first dimension.
    """

    def __init__(self, *tensors: Any):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor, e.g. TensorDataset(X, y)")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        shapes = [t.shape for t in self.tensors]
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"TensorDataset: every tensor needs a first (sample) dimension, "
                             f"got shapes {', '.join(map(str, shapes))}")
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(f"TensorDataset: all tensors must have the same size in the first "
                             f"dimension, got shapes {', '.join(map(str, shapes))}")

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


def _looks_like_columns(dataset: Any) -> bool:
    """True for DataLoader((X, y)): a tuple or list of a few arrays with one number of rows,
    which are the data's columns, not its samples (a list of samples holds alike items)."""
    if not isinstance(dataset, (tuple, list)) or not 2 <= len(dataset) <= 4:
        return False
    items = dataset
    if not all(isinstance(a, (Tensor, np.ndarray)) and a.ndim >= 1 for a in items):
        return False
    rows = {a.shape[0] for a in items}
    if len(rows) != 1 or rows.pop() <= len(items):
        return False
    alike = len({(a.shape, a.dtype) for a in items}) == 1
    return isinstance(dataset, tuple) or not alike


class DataLoader:
    """Mini-batches of a data set: `for xb, yb in DataLoader(ds, batch_size=32, shuffle=True)`.

    Each batch is a tuple of Tensors whose first axis is the batch (a data set whose samples
    are single values gives single Tensors, as in PyTorch). len(loader) is the number of
    batches: ceil(N / batch_size), or floor(N / batch_size) with drop_last=True, which drops
    a last, smaller batch.

    shuffle=True draws a new order of the samples for every epoch (every `for` over the
    loader) from a NumPy Generator seeded once, when the loader is made: from `seed` if
    given, else from tinygrad_edu's global generator (`tinygrad_edu.manual_seed`). So the
    epochs differ from each other, yet the whole sequence repeats for the same seed.

    device="cuda" (or "cpu") puts every batch on that device; None keeps the data's device.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, device: str | None = None):
        op = "DataLoader"
        if _looks_like_columns(dataset):
            raise TypeError(
                f"{op}: got a {type(dataset).__name__} of {len(dataset)} arrays of {len(dataset[0])} samples each; "
                f"a {type(dataset).__name__} would be read as {len(dataset)} samples. Wrap the arrays in a data set "
                f"whose samples are rows: DataLoader(TensorDataset(X, y), ...)")
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"{op}: the dataset must define __len__ and __getitem__ (for example a "
                            f"TensorDataset(X, y)), got {type(dataset).__name__}")
        len(dataset)                           # a Dataset subclass without __len__ fails here, early
        self.dataset = dataset
        self.batch_size = _positive_int(batch_size, "batch_size", op)
        self.shuffle = _flag(shuffle, "shuffle", op)
        self.drop_last = _flag(drop_last, "drop_last", op)
        if seed is not None and not _is_int(seed):
            raise TypeError(f"{op}: seed must be None or an int, got {type(seed).__name__} {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"{op}: seed must be >= 0, got {seed}")
        self.seed = seed
        self.device = None if device is None else backend.parse_device(device)  # "cuda" fails here if unavailable
        self._generator: np.random.Generator | None = None
        if self.shuffle:
            if seed is None:
                seed = int(backend.generator("cpu").integers(2**63))
            self._generator = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        # The epoch's order is drawn now, when the `for` loop starts.
        order = self._generator.permutation(n) if self.shuffle else None
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        starts = range(0, stop, self.batch_size)
        if isinstance(self.dataset, TensorDataset) and \
                type(self.dataset).__getitem__ is TensorDataset.__getitem__:
            return self._tensor_batches(order, starts, stop)
        return self._collated_batches(order, starts, stop)

    def _tensor_batches(self, order: np.ndarray | None, starts: range, stop: int) -> Iterator[tuple]:
        """The fast path for a TensorDataset: one slice or one fancy index per tensor and batch."""
        arrays = [t.data for t in self.dataset.tensors]
        if order is not None:                       # the index array, once per epoch, on each array's device
            orders = [backend.xp(a).asarray(order) for a in arrays]
        for start in starts:
            end = min(start + self.batch_size, stop)
            if order is None:
                parts = [a[start:end] for a in arrays]
            else:
                parts = [a[o[start:end]] for a, o in zip(arrays, orders)]
            yield tuple(Tensor(p, device=self.device) for p in parts)

    def _collated_batches(self, order: np.ndarray | None, starts: range, stop: int) -> Iterator[Any]:
        """Any Dataset: fetch the samples one by one, then stack them into batch Tensors."""
        for start in starts:
            end = min(start + self.batch_size, stop)
            indices = range(start, end) if order is None else order[start:end].tolist()
            yield _collate([self.dataset[i] for i in indices], self.device)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)} samples, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, "
                f"seed={self.seed})")


def _collate(samples: list, device: str | None) -> Any:
    """Stack a list of samples into a batch, keeping their structure.

    Tuples (or lists) of fields become a tuple of batches, one per field; numbers, arrays and
    Tensors are stacked along a new first axis. Python floats become float32 and ints int64,
    as in Tensor([...]); arrays and Tensors keep their dtype.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        for s in samples:
            if not isinstance(s, (tuple, list)) or len(s) != width:
                raise ValueError(f"DataLoader: every sample must have the same structure, but one is "
                                 f"a {type(first).__name__} of {width} fields and another is {_describe(s)}")
        return tuple(_collate([s[k] for s in samples], device) for k in range(width))
    if all(isinstance(s, (bool, int, float)) for s in samples):
        return Tensor(list(samples), device=device)        # the Tensor constructor picks the dtype
    arrays = []
    for s in samples:
        if isinstance(s, Tensor):
            arrays.append(s.data)
        elif isinstance(s, (np.ndarray, np.generic, bool, int, float)) or backend.is_device_array(s):
            arrays.append(s)
        else:
            raise TypeError(f"DataLoader: cannot batch a sample field of type {type(s).__name__}; a "
                            "sample must be a number, an array, a Tensor or a tuple of them")
    shapes = {np.shape(a) for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"DataLoader: cannot stack samples of different shapes "
                         f"{', '.join(map(str, sorted(shapes, key=str)))} into one batch")
    devices = {backend.device_of(a) for a in arrays}
    if len(devices) > 1:
        raise RuntimeError("DataLoader: the samples of one batch live on different devices (cpu and cuda)")
    return Tensor(backend.xp(arrays[0]).stack(arrays), device=device)


def _describe(sample: Any) -> str:
    if isinstance(sample, (tuple, list)):
        return f"a {type(sample).__name__} of {len(sample)} fields"
    return f"a {type(sample).__name__}"


# ============================================================================= toy sets
#
# Each returns NumPy arrays: X float32 of shape (n, 2) and y int64 class labels for the
# classification sets; X and y float32 of shape (n, 1) for the regression set. The same
# random_state gives the same arrays; random_state=None draws from tinygrad_edu's global
# generator (reproducible after tinygrad_edu.manual_seed). `noise` is the standard deviation
# of Gaussian noise added to every coordinate.

def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator,
            shuffle: bool) -> tuple[np.ndarray, np.ndarray]:
    """Add the noise, shuffle the rows if asked, and give the documented dtypes."""
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def make_xor(n_samples: int = 4, noise: float | None = None, random_state: Any = None,
             shuffle: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem of lecture 2: the corners of the unit square, label = x1 XOR x2.

    Row i is the corner i % 4 of (0, 0) -> 0, (0, 1) -> 1, (1, 0) -> 1, (1, 1) -> 0, so the
    default n_samples=4 is the truth table itself; more samples repeat the corners (as
    evenly as possible), each moved by Gaussian noise of standard deviation `noise`;
    shuffle=True mixes the rows. No straight line separates the classes; one hidden layer does.
    """
    op = "make_xor"
    n = _positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else _non_negative(noise, "noise", op)
    shuffle = _flag(shuffle, "shuffle", op)
    rng = _rng(random_state, op)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    rows = np.arange(n) % 4
    X, y = corners[rows], (corners[rows, 0] != corners[rows, 1])
    return _finish(X, y, noise, rng, shuffle)


def make_moons(n_samples: int = 100, noise: float | None = None, random_state: Any = None,
               shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's make_moons).

    Class 0, ceil(n/2) points: (cos t, sin t), t evenly spaced in [0, pi] (the upper moon).
    Class 1, floor(n/2) points: (1 - cos t, 0.5 - sin t) (the lower moon, shifted into the
    gap of the first). Then Gaussian noise of standard deviation `noise`, then a shuffle.
    """
    op = "make_moons"
    n = _positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else _non_negative(noise, "noise", op)
    rng = _rng(random_state, op)
    n1 = n // 2
    n0 = n - n1
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return _finish(X, y, noise, rng, _flag(shuffle, "shuffle", op))


def make_circles(n_samples: int = 100, noise: float | None = None, factor: float = 0.8,
                 random_state: Any = None, shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (scikit-learn's make_circles).

    Class 0, ceil(n/2) points: (cos t, sin t), the unit circle; class 1, floor(n/2) points:
    factor * (cos t, sin t), a smaller circle inside it; t evenly spaced in [0, 2 pi).
    Then Gaussian noise of standard deviation `noise`, then a shuffle. No line separates
    them, but the feature x1^2 + x2^2 does.
    """
    op = "make_circles"
    n = _positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else _non_negative(noise, "noise", op)
    factor = _non_negative(factor, "factor", op)
    if factor >= 1:
        raise ValueError(f"{op}: factor (the inner radius) must be in [0, 1), got {factor}")
    rng = _rng(random_state, op)
    n1 = n // 2
    n0 = n - n1
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = factor * np.stack([np.cos(t1), np.sin(t1)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return _finish(X, y, noise, rng, _flag(shuffle, "shuffle", op))


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float | None = None,
                 turns: float = 1.0, random_state: Any = None,
                 shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """K spiral arms winding out of the centre, one class per arm.

    Arm k (k = 0 .. K-1) gets n/K points (the first n % K arms one more), at
        r = 0.1 + 0.9 t,   theta = 2 pi k / K + 2 pi turns t,   x = (r cos theta, r sin theta)
    with t evenly spaced in [0, 1]: the arms are the same curve rotated by 2 pi / K.
    Then Gaussian noise of standard deviation `noise`, then a shuffle. Hard for a linear
    model, easy for a small MLP: a classic picture of a curved decision boundary.
    """
    op = "make_spirals"
    n = _positive_int(n_samples, "n_samples", op)
    k_arms = _positive_int(n_classes, "n_classes", op)
    if k_arms < 2:
        raise ValueError(f"{op}: n_classes must be at least 2, got {k_arms}")
    noise = 0.0 if noise is None else _non_negative(noise, "noise", op)
    turns = _non_negative(turns, "turns", op)
    rng = _rng(random_state, op)
    points, labels = [], []
    for k in range(k_arms):
        m = n // k_arms + (1 if k < n % k_arms else 0)
        t = np.linspace(0.0, 1.0, m)
        r = 0.1 + 0.9 * t
        theta = 2 * np.pi * k / k_arms + 2 * np.pi * turns * t
        points.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))
        labels.append(np.full(m, k))
    return _finish(np.concatenate(points), np.concatenate(labels), noise, rng, _flag(shuffle, "shuffle", op))


_REGRESSION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": lambda x: np.sin(np.pi * x),
    "square": lambda x: x * x,
    "abs": np.abs,
    "step": lambda x: (x >= 0).astype(np.float64),     # Heaviside H(x): not smooth, a hard case
}


def make_regression_1d(n_samples: int = 50, noise: float | None = 0.1, function: Any = "sin",
                       random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The toy fit of lecture 3 (universal approximation): N = 50 noisy points of f on [-1, 1].

    x is drawn uniformly from [-1, 1] and sorted (so that plt.plot(X, y) draws a line);
    y = f(x) + Gaussian noise of standard deviation `noise`. `function` is one of
    "sin" (sin(pi x), the default), "square" (x^2), "abs" (|x|), "step" (Heaviside H(x)),
    or any callable on a NumPy array. An MLP with 3 tanh hidden units fits each of them.
    Returns X and y, float32 of shape (n, 1).
    """
    op = "make_regression_1d"
    n = _positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else _non_negative(noise, "noise", op)
    if callable(function):
        f = function
    elif isinstance(function, str) and function in _REGRESSION_FUNCTIONS:
        f = _REGRESSION_FUNCTIONS[function]
    else:
        raise ValueError(f"{op}: function must be a callable or one of "
                         f"{', '.join(map(repr, _REGRESSION_FUNCTIONS))}, got {function!r}")
    rng = _rng(random_state, op)
    x = np.sort(rng.uniform(-1.0, 1.0, size=n))
    y = np.asarray(f(x), dtype=np.float64)
    if y.shape != x.shape:
        raise ValueError(f"{op}: function must map an array of shape {x.shape} to the same shape, "
                         f"got {y.shape}")
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=n)
    return x.reshape(n, 1).astype(np.float32), y.reshape(n, 1).astype(np.float32)


# ============================================================================= real sets

def load_digits(return_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's handwritten digits: 1797 images of 8x8 pixels, classes 0..9.

    Returns X float32 of shape (1797, 64), or (1797, 1, 8, 8) with return_images=True (ready
    for Conv2d), with the original pixel values 0..16 (standardise them, or divide by 16),
    and y int64 of shape (1797,). The data ships inside scikit-learn: nothing is downloaded.
    """
    return_images = _flag(return_images, "return_images", "load_digits")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn, which ships the digits data: "
                          "pip install scikit-learn (or install the project's `all` extra: "
                          'pip install -e ".[all]")') from None
    bunch = sklearn_load_digits()
    X = np.asarray(bunch.data, dtype=np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    if return_images:
        X = X.reshape(len(X), 1, 8, 8)
    return X, y


# The IDX format (the MNIST files): two zero bytes, one byte for the element type, one byte
# for the number of dimensions, each dimension as a big-endian uint32, then the elements,
# big-endian, in C order.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped when its name ends in .gz) into a NumPy array.

    The array has the file's dimensions and element type in the machine's byte order
    (uint8 for MNIST). A file that is not IDX, or is truncated, or too long, raises a
    ValueError that names the file and what is wrong with it.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"read_idx: {path} is not a complete gzip file ({exc}); "
                         "delete it and download it again") from None
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path} is too short to be an IDX file ({len(raw)} bytes)")
    zero1, zero2, type_code, ndim = raw[:4]
    if zero1 != 0 or zero2 != 0 or type_code not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file: bad magic number "
                         f"0x{int.from_bytes(raw[:4], 'big'):08x} (expected 0x0000TTDD with type TT "
                         f"one of {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated: its header announces {ndim} dimensions "
                         f"but the file has only {len(raw)} bytes")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(f"read_idx: {path} is {problem}: shape {shape} of {dtype.newbyteorder('=')} "
                         f"needs {expected} bytes, the file has {len(raw)}; delete it and download "
                         "it again")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),     # train=True: 60000 images
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),      # train=False: 10000 images
}

MNIST_MD5 = {    # of the .gz files as the mirrors serve them
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def mnist_root() -> Path:
    """Where load_mnist keeps MNIST by default: $TINYGRAD_EDU_DATA/mnist when that variable is
    set, else ~/.cache/tinygrad_edu/mnist."""
    base = os.environ.get("TINYGRAD_EDU_DATA")
    if base:
        return Path(base).expanduser() / "mnist"
    return Path.home() / ".cache" / "tinygrad_edu" / "mnist"


def load_mnist(root: str | os.PathLike | None = None, train: bool = True,
               download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits: 60000 training (train=True) or 10000 test images of 28x28.

    Returns X float32 of shape (N, 1, 28, 28) with pixels scaled to [0, 1] (ready for
    Conv2d; use X.reshape(N, -1) for an MLP) and y int64 of shape (N,), classes 0..9.

    The four standard IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or .gz) are read from `root`
    (default: mnist_root(), i.e. ~/.cache/tinygrad_edu/mnist or $TINYGRAD_EDU_DATA/mnist).
    Missing files are downloaded once when download=True, from the first MNIST_MIRRORS
    entry that answers, and kept only if their MD5 checksum is right. Files in the same
    format with the same names (Fashion-MNIST, say) load the same way.
    """
    op = "load_mnist"
    train, download = _flag(train, "train", op), _flag(download, "download", op)
    root = mnist_root() if root is None else Path(root).expanduser()
    paths = []
    for name in MNIST_FILES[train]:
        path = next((p for p in (root / name, root / f"{name}.gz") if p.is_file()), None)
        if path is None:
            if not download:
                raise FileNotFoundError(f"{op}: {name} (or {name}.gz) is not in {root}. Call "
                                        f"load_mnist(download=True), or {_by_hand(root)}")
            path = _download(root, f"{name}.gz")
        paths.append(path)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{op}: {paths[0].name} and {paths[1].name} do not hold images (N, H, W) "
                         f"and their N labels: got shapes {images.shape} and {labels.shape}")
    X = (images.astype(np.float32) / 255.0).reshape(len(images), 1, *images.shape[1:])
    return X, labels.astype(np.int64)


def _by_hand(root: Path) -> str:
    return (f"put the files there by hand: download {', '.join(sorted(MNIST_MD5))} from "
            f"{MNIST_MIRRORS[0]} (or any MNIST mirror) into {root}")


def _download(root: Path, filename: str) -> Path:
    """Fetch `filename` into `root` from the first mirror that serves it with the right MD5.

    The bytes go to a temporary file in `root`, which is renamed only once the checksum
    matches, so an interrupted download never leaves a half file under the real name.
    """
    root.mkdir(parents=True, exist_ok=True)
    target = root / filename
    failures, bad_checksum = [], False
    for mirror in MNIST_MIRRORS:
        url = mirror + filename
        fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=root)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _fetch(url, out, filename)
            expected = MNIST_MD5[filename]
            if digest != expected:
                failures.append(f"{url}: MD5 checksum mismatch (got {digest}, expected {expected})")
                bad_checksum = True
                continue
            os.replace(tmp_name, target)
            return target
        except (OSError, http.client.HTTPException) as exc:   # URLError (an OSError), timeouts, cut connections
            failures.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp_name):
                os.remove(tmp_name)
    raise RuntimeError(f"load_mnist: could not download {filename}"
                       f"{'' if bad_checksum else ' (are you offline?)'}:\n  " + "\n  ".join(failures)
                       + f"\nTo use MNIST without the network, {_by_hand(root)}")


def _fetch(url: str, out: Any, label: str) -> str:
    """Stream `url` into the open file `out`; return the MD5 hex digest of what was written.
    Shows a tqdm progress bar when tqdm is installed."""
    md5 = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(url, timeout=60) as response:
        headers = getattr(response, "headers", None)
        size = headers.get("Content-Length") if headers is not None else None
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
            print(f"downloading {url}", file=sys.stderr)
        bar = None if tqdm is None else tqdm(total=int(size) if size else None, unit="B",
                                             unit_scale=True, desc=label, leave=False)
        try:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                md5.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    return md5.hexdigest()


# ============================================================================= StandardScaler

class StandardScaler:
    """Standardisation of lecture 8: x' = (x - mean) / sigma, per feature (scikit-learn's API).

    fit(X) learns mean_ and scale_ over the samples (axis 0): the mean and the population
    standard deviation sigma = sqrt(mean((x - mean)^2)) (ddof=0, as scikit-learn); a feature
    that is constant gets scale 1, so it becomes 0 instead of a division by zero.
    transform / inverse_transform take NumPy arrays or Tensors and return the same kind
    (a Tensor on its own device, built from Tensor ops, so gradients flow through it).
    Learn the statistics on the training set only, then transform train and test with them.
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = _flag(with_mean, "with_mean", "StandardScaler")
        self.with_std = _flag(with_std, "with_std", "StandardScaler")
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_samples_seen_: int | None = None
        self._shape: tuple | None = None

    def fit(self, X: Any, y: Any = None) -> "StandardScaler":
        """Learn mean_, var_ and scale_ (float64, one per feature) from X of shape (n, ...)."""
        data = _as_numpy(X, "StandardScaler.fit")
        if data.ndim == 0 or len(data) == 0:
            raise ValueError(f"StandardScaler.fit: X needs at least one sample along axis 0, "
                             f"got shape {data.shape}")
        data = data.astype(np.float64)
        mean = data.mean(axis=0)
        var = ((data - mean) ** 2).mean(axis=0)
        constant = np.ptp(data, axis=0) == 0
        self.n_samples_seen_, self._shape = len(data), data.shape[1:]
        self.mean_ = mean if self.with_mean else None
        self.var_ = np.where(constant, 0.0, var) if self.with_std else None
        self.scale_ = np.where(constant, 1.0, np.sqrt(var)) if self.with_std else None
        return self

    def transform(self, X: Any) -> Any:
        """x' = (x - mean_) / scale_."""
        X = _floating(X)
        mean, scale = self._statistics(X, "transform")
        out = X
        if mean is not None:
            out = out - mean
        if scale is not None:
            out = out / scale
        return out

    def inverse_transform(self, X: Any) -> Any:
        """x = x' * scale_ + mean_ (undoes transform)."""
        X = _floating(X)
        mean, scale = self._statistics(X, "inverse_transform")
        out = X
        if scale is not None:
            out = out * scale
        if mean is not None:
            out = out + mean
        return out

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """fit(X), then transform(X): x' = (x - mean_) / scale_."""
        return self.fit(X).transform(X)

    def _statistics(self, X: Any, op: str) -> tuple[Any, Any]:
        """Check X against the fit; return mean_ and scale_ in X's kind, dtype and device."""
        name = f"StandardScaler.{op}"
        if self._shape is None:
            raise RuntimeError(f"{name}: this StandardScaler is not fitted yet; call fit(X_train) first")
        if not isinstance(X, (Tensor, np.ndarray)):
            raise TypeError(f"{name}: X must be a NumPy array or a Tensor, got {type(X).__name__}")
        if X.shape[1:] != self._shape:
            raise ValueError(f"{name}: X has shape {X.shape}, but the scaler was fitted on samples "
                             f"of shape {self._shape}")
        stats = [self.mean_, self.scale_]
        if isinstance(X, Tensor):
            return tuple(None if s is None else Tensor(s.astype(X.dtype), device=X.device) for s in stats)
        return tuple(None if s is None else s.astype(X.dtype) for s in stats)

    def __repr__(self) -> str:
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


def _floating(X: Any) -> Any:
    """Integer (or bool) data becomes float32 before scaling; float data keeps its dtype."""
    if isinstance(X, (Tensor, np.ndarray)) and X.dtype.kind != "f":
        return X.astype(np.float32)
    return X


def _as_numpy(X: Any, op: str) -> np.ndarray:
    if isinstance(X, Tensor):
        return X.detach().numpy()
    if isinstance(X, np.ndarray):
        return X
    raise TypeError(f"{op}: X must be a NumPy array or a Tensor, got {type(X).__name__}")
