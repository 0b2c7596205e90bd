"""Dataset, TensorDataset and DataLoader: the mini-batches of lecture 8 (torch.utils.data's names).

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for xb, yb in loader:             # xb: Tensor (32, ...) of X's dtype, yb: Tensor (32,)
        ...

The names and semantics are PyTorch's, so the training loop a student writes here runs
under PyTorch unchanged.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from .. import arguments, backend
from ..tensor import Tensor


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
        self.batch_size = arguments.positive_int(batch_size, "batch_size", op)
        self.shuffle = arguments.flag(shuffle, "shuffle", op)
        self.drop_last = arguments.flag(drop_last, "drop_last", op)
        if seed is not None and not arguments.is_int(seed):
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
    arguments.same_device("DataLoader", *arrays)
    return Tensor(backend.xp(arrays[0]).stack(arrays), device=device)


def _describe(sample: Any) -> str:
    if isinstance(sample, (tuple, list)):
        return f"a {type(sample).__name__} of {len(sample)} fields"
    return f"a {type(sample).__name__}"
