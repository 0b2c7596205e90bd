"""tinygrad_edu.data: datasets and the DataLoader, the lecture toy sets, the real sets
(digits, MNIST from IDX files) and the StandardScaler of lecture 8.

No test touches the network: the MNIST downloader is exercised against a fake urlopen.
"""
import gzip
import hashlib
import io
import os
import struct
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor, data
from tinygrad_edu.data import (DataLoader, Dataset, StandardScaler, TensorDataset, load_digits,
                               load_mnist, make_circles, make_moons, make_regression_1d,
                               make_spirals, make_xor, read_idx)

pytestmark = [pytest.mark.lecture08]   # mini-batches (DataLoader), the toy data sets, standardization

needs_no_gpu = pytest.mark.skipif(tinygrad_edu.cuda_available(),
                                  reason="CuPy and a GPU are present: 'cuda' is available")
needs_gpu = pytest.mark.skipif(not tinygrad_edu.cuda_available(), reason="needs CuPy and an NVIDIA GPU")


def labelled(n=10, features=3):
    """A TensorDataset whose label is the sample's index, so batches can be traced back."""
    X = np.arange(n * features, dtype=np.float32).reshape(n, features)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(X, y)


def labels_of(loader):
    return [yb.numpy().tolist() for _, yb in loader]


# ============================================================================= TensorDataset

def test_tensor_dataset_item_is_a_tuple_of_the_rows():
    ds = labelled(5)
    x, y = ds[2]
    assert len(ds) == 5
    np.testing.assert_array_equal(x.numpy(), [6, 7, 8])
    assert y.item() == 2


def test_tensor_dataset_accepts_arrays_and_tensors_and_keeps_their_dtypes():
    ds = TensorDataset(Tensor(np.zeros((4, 2), np.float32)), np.arange(4))
    assert all(isinstance(t, Tensor) for t in ds.tensors)
    assert ds.tensors[0].dtype == np.float32 and ds.tensors[1].dtype == np.int64


def test_tensor_dataset_with_different_first_dimensions_is_a_value_error_naming_the_shapes():
    with pytest.raises(ValueError, match=r"TensorDataset.*\(4, 2\).*\(5,\)"):
        TensorDataset(np.zeros((4, 2)), np.zeros(5))


def test_tensor_dataset_needs_at_least_one_tensor_with_a_sample_dimension():
    with pytest.raises(ValueError, match="TensorDataset"):
        TensorDataset()
    with pytest.raises(ValueError, match=r"TensorDataset.*\(\)"):
        TensorDataset(np.zeros(3), np.float32(1.0))


def test_dataset_subclass_without_its_methods_says_what_to_define():
    class Empty(Dataset):
        pass
    with pytest.raises(NotImplementedError, match="Empty must define __getitem__"):
        Empty()[0]
    with pytest.raises(NotImplementedError, match="Empty must define __len__"):
        len(Empty())


# ============================================================================= DataLoader: batches

def test_loader_yields_tuples_of_tensors_with_the_batch_first():
    batches = list(DataLoader(labelled(10), batch_size=4))
    assert all(isinstance(b, tuple) and all(isinstance(t, Tensor) for t in b) for b in batches)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert [b[1].shape for b in batches] == [(4,), (4,), (2,)]


def test_loader_len_counts_the_last_smaller_batch():
    assert len(DataLoader(labelled(10), batch_size=4)) == 3
    assert len(DataLoader(labelled(12), batch_size=4)) == 3
    assert len(DataLoader(labelled(10), batch_size=1)) == 10


def test_drop_last_drops_the_smaller_last_batch():
    loader = DataLoader(labelled(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[0].shape for b in loader] == [(4, 3), (4, 3)]
    assert len(list(DataLoader(labelled(3), batch_size=4, drop_last=True))) == 0


def test_batches_keep_float32_features_and_int64_labels():
    X, y = make_moons(20, random_state=0)
    xb, yb = next(iter(DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=0)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert xb.device == "cpu" and not xb.requires_grad


def test_without_shuffle_the_order_is_the_data_sets_order():
    assert labels_of(DataLoader(labelled(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_shuffled_batches_pair_each_feature_row_with_its_own_label():
    for xb, yb in DataLoader(labelled(20), batch_size=6, shuffle=True, seed=3):
        np.testing.assert_array_equal(xb.numpy()[:, 0], 3 * yb.numpy())


@pytest.mark.parametrize("drop_last", [False, True])
def test_every_sample_is_seen_exactly_once_per_epoch(drop_last):
    loader = DataLoader(labelled(23), batch_size=5, shuffle=True, seed=0, drop_last=drop_last)
    for _ in range(3):
        seen = np.concatenate([yb.numpy() for _, yb in loader])
        assert len(seen) == (20 if drop_last else 23)
        assert len(np.unique(seen)) == len(seen)          # nothing twice
    if not drop_last:
        np.testing.assert_array_equal(np.sort(seen), np.arange(23))


def test_batches_are_copies_that_do_not_write_through_to_the_data_set():
    ds = labelled(4)
    xb, _ = next(iter(DataLoader(ds, batch_size=4)))
    xb.data[...] = -1
    assert ds.tensors[0].numpy().min() == 0


def test_a_tensor_dataset_is_batched_without_a_per_sample_getitem(monkeypatch):
    def per_sample(self, index):
        raise AssertionError("DataLoader fetched a TensorDataset sample by sample")
    monkeypatch.setattr(TensorDataset, "__getitem__", per_sample)
    for shuffle in (False, True):
        assert sum(len(yb) for _, yb in DataLoader(labelled(10), batch_size=4, shuffle=shuffle)) == 10


def test_an_epoch_of_mnist_size_is_fast():
    X = np.zeros((60000, 64), np.float32)
    y = np.zeros(60000, np.int64)
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, seed=0)
    start = time.perf_counter()
    count = sum(1 for _ in loader)
    assert count == 938
    assert time.perf_counter() - start < 2.0       # whole batches by fancy indexing: ~0.05 s


# ============================================================================= DataLoader: shuffling

def test_shuffle_with_a_seed_repeats_across_two_loaders():
    a = DataLoader(labelled(30), batch_size=7, shuffle=True, seed=42)
    b = DataLoader(labelled(30), batch_size=7, shuffle=True, seed=42)
    assert [labels_of(a) for _ in range(3)] == [labels_of(b) for _ in range(3)]


def test_shuffle_draws_a_different_order_every_epoch():
    loader = DataLoader(labelled(30), batch_size=30, shuffle=True, seed=42)
    epochs = [labels_of(loader)[0] for _ in range(3)]
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2] and epochs[0] != epochs[2]
    assert epochs[0] != list(range(30))


def test_different_seeds_give_different_orders():
    a = DataLoader(labelled(30), batch_size=30, shuffle=True, seed=1)
    b = DataLoader(labelled(30), batch_size=30, shuffle=True, seed=2)
    assert labels_of(a) != labels_of(b)


def test_shuffle_without_a_seed_follows_manual_seed():
    tinygrad_edu.manual_seed(7)
    first = labels_of(DataLoader(labelled(30), batch_size=30, shuffle=True))
    tinygrad_edu.manual_seed(7)
    again = labels_of(DataLoader(labelled(30), batch_size=30, shuffle=True))
    assert first == again


# ============================================================================= DataLoader: any Dataset

class Squares(Dataset):
    """Sample i: (features float32 (2,), label int, target float, a Tensor (3,))."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], np.float32), i, float(i) / 2, Tensor.full((3,), float(i))


def test_generic_dataset_samples_are_stacked_field_by_field():
    xb, yb, tb, vb = next(iter(DataLoader(Squares(10), batch_size=4)))
    assert xb.shape == (4, 2) and xb.dtype == np.float32
    assert yb.shape == (4,) and yb.dtype == np.int64            # Python ints -> int64
    assert tb.shape == (4,) and tb.dtype == np.float32          # Python floats -> float32
    assert vb.shape == (4, 3) and vb.dtype == np.float32
    np.testing.assert_array_equal(xb.numpy()[:, 1], [0, 1, 4, 9])
    np.testing.assert_array_equal(vb.numpy()[:, 0], [0, 1, 2, 3])


def test_generic_dataset_is_shuffled_and_covered_once_per_epoch():
    loader = DataLoader(Squares(11), batch_size=3, shuffle=True, seed=0)
    assert len(loader) == 4
    seen = np.concatenate([b[1].numpy() for b in loader])
    assert sorted(seen.tolist()) == list(range(11)) and seen.tolist() != list(range(11))


def test_generic_dataset_with_single_value_samples_gives_single_tensors():
    class Numbers(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.float32(i)
    batches = list(DataLoader(Numbers(), batch_size=2))
    assert all(isinstance(b, Tensor) for b in batches)
    np.testing.assert_array_equal(batches[0].numpy(), [0.0, 1.0])


def test_a_tensor_dataset_subclass_with_its_own_getitem_is_respected():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y
    xb, _ = next(iter(DataLoader(Doubled(np.ones((4, 2), np.float32), np.arange(4)), batch_size=4)))
    np.testing.assert_array_equal(xb.numpy(), np.full((4, 2), 2.0))


def test_samples_of_different_shapes_cannot_be_stacked():
    class Ragged(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.zeros(i + 1), 0
    with pytest.raises(ValueError, match=r"DataLoader.*\(1,\).*\(2,\)"):
        next(iter(DataLoader(Ragged(), batch_size=2)))


def test_samples_of_an_unsupported_type_are_a_type_error():
    class Words(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return "word", i
    with pytest.raises(TypeError, match="DataLoader.*str"):
        next(iter(DataLoader(Words(), batch_size=2)))


# ============================================================================= DataLoader: arguments, devices

@pytest.mark.parametrize("kwargs, error, message", [
    (dict(batch_size=0), ValueError, "batch_size must be a positive int, got 0"),
    (dict(batch_size=2.5), TypeError, "batch_size must be a positive int"),
    (dict(batch_size=True), TypeError, "batch_size must be a positive int"),
    (dict(shuffle="yes"), TypeError, "shuffle must be True or False"),
    (dict(drop_last=1), TypeError, "drop_last must be True or False"),
    (dict(seed=1.5), TypeError, "seed must be None or an int"),
    (dict(seed=-1), ValueError, "seed must be >= 0"),
    (dict(device="tpu"), ValueError, "unknown device"),
])
def test_bad_loader_arguments_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(labelled(4), **kwargs)


def test_a_loader_needs_a_map_style_dataset():
    with pytest.raises(TypeError, match="DataLoader: the dataset must define __len__ and __getitem__"):
        DataLoader(42)


@needs_no_gpu
def test_device_cuda_without_cupy_fails_when_the_loader_is_made():
    with pytest.raises(RuntimeError, match=r"cuda.*gpu"):
        DataLoader(labelled(4), batch_size=2, device="cuda")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("shuffle", [False, True])
def test_device_cuda_puts_every_batch_on_the_gpu(shuffle):
    for xb, yb in DataLoader(labelled(10), batch_size=4, shuffle=shuffle, seed=0, device="cuda"):
        assert xb.device == "cuda" and yb.device == "cuda" and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy()[:, 0], 3 * yb.numpy())


# ============================================================================= toy sets

CLASSIFICATION_SETS = {
    "xor": lambda **kw: make_xor(40, noise=0.1, **kw),
    "moons": lambda **kw: make_moons(101, noise=0.1, **kw),
    "circles": lambda **kw: make_circles(101, noise=0.1, **kw),
    "spirals": lambda **kw: make_spirals(101, n_classes=3, noise=0.1, **kw),
}


@pytest.mark.parametrize("name", CLASSIFICATION_SETS)
def test_classification_sets_give_float32_points_and_int64_labels(name):
    X, y = CLASSIFICATION_SETS[name](random_state=0)
    assert isinstance(X, np.ndarray) and X.dtype == np.float32 and X.shape == (len(y), 2)
    assert isinstance(y, np.ndarray) and y.dtype == np.int64 and y.ndim == 1


@pytest.mark.parametrize("name", CLASSIFICATION_SETS)
def test_classification_sets_are_balanced(name):
    _, y = CLASSIFICATION_SETS[name](random_state=0)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", CLASSIFICATION_SETS)
def test_the_same_random_state_gives_the_same_data(name):
    X1, y1 = CLASSIFICATION_SETS[name](random_state=3)
    X2, y2 = CLASSIFICATION_SETS[name](random_state=3)
    X3, _ = CLASSIFICATION_SETS[name](random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", CLASSIFICATION_SETS)
def test_random_state_none_follows_manual_seed(name):
    tinygrad_edu.manual_seed(5)
    X1, _ = CLASSIFICATION_SETS[name]()
    tinygrad_edu.manual_seed(5)
    X2, _ = CLASSIFICATION_SETS[name]()
    np.testing.assert_array_equal(X1, X2)


def test_make_xor_by_default_is_the_truth_table():
    X, y = make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_make_xor_repeats_the_corners_around_which_the_noise_scatters():
    X, y = make_xor(400, noise=0.05, random_state=0)
    corners = np.rint(X).astype(int)
    np.testing.assert_array_equal(corners[:, 0] ^ corners[:, 1], y)
    assert 0 < np.abs(X - corners).max() < 0.5


def test_noise_free_moons_lie_on_their_two_half_circles():
    X, y = make_moons(50, random_state=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6


def test_noise_free_circles_have_radius_one_and_factor():
    X, y = make_circles(60, factor=0.3, random_state=0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3, atol=1e-6)


def test_make_circles_rejects_an_inner_circle_that_is_not_inside():
    with pytest.raises(ValueError, match=r"make_circles: factor .* \[0, 1\)"):
        make_circles(factor=1.5)


def test_make_spirals_has_one_arm_per_class_within_the_unit_disc():
    X, y = make_spirals(100, n_classes=4, random_state=0)
    assert np.bincount(y).tolist() == [25, 25, 25, 25]
    r = np.hypot(*X.T)
    assert r.min() >= 0.1 - 1e-6 and r.max() <= 1 + 1e-6


def test_make_regression_1d_is_lecture_3s_fifty_points():
    X, y = make_regression_1d(random_state=0)
    assert X.shape == (50, 1) and y.shape == (50, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32
    assert X.min() >= -1 and X.max() <= 1 and np.all(np.diff(X[:, 0]) >= 0)     # sorted, on [-1, 1]
    residual = y[:, 0] - np.sin(np.pi * X[:, 0])
    assert 0.02 < residual.std() < 0.2                                          # noise 0.1


@pytest.mark.parametrize("function, f", [("sin", lambda x: np.sin(np.pi * x)), ("square", np.square),
                                         ("abs", np.abs), ("step", lambda x: (x >= 0) * 1.0),
                                         (np.cos, np.cos)])
def test_make_regression_1d_without_noise_is_the_function_itself(function, f):
    X, y = make_regression_1d(30, noise=0, function=function, random_state=1)
    np.testing.assert_allclose(y[:, 0], f(X[:, 0].astype(np.float64)), atol=1e-6)


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_moons(0), ValueError, "make_moons: n_samples must be a positive int"),
    (lambda: make_moons(10.0), TypeError, "make_moons: n_samples must be a positive int"),
    (lambda: make_circles(noise=-0.1), ValueError, "make_circles: noise must be >= 0"),
    (lambda: make_xor(random_state="a"), TypeError, "make_xor: random_state must be"),
    (lambda: make_spirals(n_classes=1), ValueError, "make_spirals: n_classes must be at least 2"),
    (lambda: make_regression_1d(function="cubic"), ValueError, "make_regression_1d: function must be"),
])
def test_bad_toy_set_arguments_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ============================================================================= load_digits

def test_load_digits_matches_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = load_digits()
    reference = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, reference.data)
    np.testing.assert_array_equal(y, reference.target)


def test_load_digits_as_images_has_one_channel():
    pytest.importorskip("sklearn")
    X, _ = load_digits(return_images=True)
    flat, _ = load_digits()
    assert X.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(X.reshape(1797, 64), flat)


def test_load_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sklearn", None)
    monkeypatch.setitem(__import__("sys").modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digits()


# ============================================================================= IDX files and MNIST

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array):
    """The IDX encoding of `array`, written here independently of the reader."""
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array):
    raw = idx_bytes(array)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def tiny_mnist(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_reads_raw_and_gzipped_files(tmp_path, name):
    images, _ = tiny_mnist()
    out = read_idx(write_idx(tmp_path / name, images))
    assert out.dtype == np.uint8 and out.shape == (5, 28, 28)
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_reads_every_element_type_big_endian(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 12).astype(dtype) * 3
    out = read_idx(write_idx(tmp_path / "a.idx", array))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_a_truncated_idx_file_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(tiny_mnist()[0])[:-10])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte is truncated.*\(5, 28, 28\)"):
        read_idx(path)


def test_an_idx_file_with_extra_bytes_is_a_value_error(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(3, dtype=np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="labels is longer than its header says"):
        read_idx(path)


def test_a_truncated_gzip_file_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(tiny_mnist()[0]))[:200])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz is not a complete gzip file"):
        read_idx(path)


@pytest.mark.parametrize("content", [b"\x1f\x8b\x08\x03" + bytes(20), b"\x00\x00\x07\x01" + bytes(8), b"\x00"])
def test_a_file_that_is_not_idx_is_a_value_error(tmp_path, content):
    path = tmp_path / "not-idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not-idx is (not an IDX file: bad magic number|too short)"):
        read_idx(path)


def write_mnist(root, train=True, gz=False, n=5, seed=0):
    images, labels = tiny_mnist(n, seed)
    prefix = "train" if train else "t10k"
    suffix = ".gz" if gz else ""
    root.mkdir(parents=True, exist_ok=True)
    write_idx(root / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(root / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a URL fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to use the network")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.parametrize("train, gz", [(True, False), (False, True)])
def test_load_mnist_reads_the_idx_files_in_root(tmp_path, no_network, train, gz):
    images, labels = write_mnist(tmp_path, train=train, gz=gz)
    X, y = load_mnist(root=tmp_path, train=train, download=False)
    assert X.shape == (5, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (5,) and y.dtype == np.int64
    assert 0 <= X.min() and X.max() <= 1
    np.testing.assert_allclose(X[:, 0] * 255, images, atol=1e-4)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_uses_the_data_folder_of_the_environment(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tmp_path))
    _, labels = write_mnist(tmp_path / "mnist", train=False)
    _, y = load_mnist(train=False)
    np.testing.assert_array_equal(y, labels)


def test_the_default_root_is_in_the_users_cache(monkeypatch):
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)
    assert data.mnist_root() == Path.home() / ".cache" / "tinygrad_edu" / "mnist"


def test_missing_files_without_download_say_where_they_belong(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"train-images-idx3-ubyte.*{tmp_path}"):
        load_mnist(root=tmp_path, download=False)


def test_images_and_labels_of_different_counts_are_a_value_error(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"load_mnist.*\(5, 28, 28\).*\(4,\)"):
        load_mnist(root=tmp_path, download=False)


class FakeResponse(io.BytesIO):
    """What urlopen returns, enough for the downloader: read(n), a context manager, headers."""

    def __init__(self, payload):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A fake MNIST mirror serving tiny test-set files, with MNIST_MD5 set to their checksums.

    `served` maps a file name to the bytes served; `requests` records every URL asked for.
    """
    images, labels = tiny_mnist(3, seed=1)
    served = {"t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images)),
              "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels))}
    md5 = {name: hashlib.md5(payload).hexdigest() for name, payload in served.items()}
    monkeypatch.setattr(data.datasets, "MNIST_MD5", {**data.MNIST_MD5, **md5})   # where load_mnist reads it
    requests = []

    def urlopen(url, timeout=None):
        requests.append(url)
        return FakeResponse(served[url.rsplit("/", 1)[1]])
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return dict(served=served, requests=requests, images=images, labels=labels, root=tmp_path / "cache")


def test_download_fetches_missing_files_once_and_keeps_them(mirror, monkeypatch):
    X, y = load_mnist(root=mirror["root"], train=False)
    np.testing.assert_array_equal(y, mirror["labels"])
    np.testing.assert_allclose(X[:, 0] * 255, mirror["images"], atol=1e-4)
    assert sorted(os.listdir(mirror["root"])) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert len(mirror["requests"]) == 2 and mirror["requests"][0].startswith(data.MNIST_MIRRORS[0])
    load_mnist(root=mirror["root"], train=False)                 # cached: no new requests
    assert len(mirror["requests"]) == 2


def test_download_falls_back_to_the_next_mirror(mirror, monkeypatch):
    serve = urllib.request.urlopen

    def first_mirror_down(url, timeout=None):
        if url.startswith(data.MNIST_MIRRORS[0]):
            raise urllib.error.URLError("connection refused")
        return serve(url, timeout)
    monkeypatch.setattr(urllib.request, "urlopen", first_mirror_down)
    _, y = load_mnist(root=mirror["root"], train=False)
    np.testing.assert_array_equal(y, mirror["labels"])


def test_a_download_with_a_wrong_checksum_is_rejected_and_not_kept(mirror):
    mirror["served"]["t10k-images-idx3-ubyte.gz"] = b"these are not the bytes you are looking for"
    with pytest.raises(RuntimeError, match="t10k-images-idx3-ubyte.gz.*MD5 checksum mismatch"):
        load_mnist(root=mirror["root"], train=False)
    assert os.listdir(mirror["root"]) == []                      # no half or bad file left behind


def test_offline_download_says_where_to_put_the_files_by_hand(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="offline") as info:
        load_mnist(root=tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "by hand" in message
    assert "train-images-idx3-ubyte.gz" in message and data.MNIST_MIRRORS[0] in message


# ============================================================================= StandardScaler

def feature_matrix():
    rng = np.random.default_rng(0)
    X = rng.normal([3.0, -2.0, 0.0], [2.0, 0.5, 1.0], size=(200, 3)).astype(np.float32)
    X[:, 2] = 4.0                                               # a constant feature
    return X


def test_standard_scaler_matches_scikit_learn():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = feature_matrix()
    ours, theirs = StandardScaler().fit(X), preprocessing.StandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-6)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-6)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-5)


def test_standardised_features_have_mean_zero_and_population_std_one():
    Z = StandardScaler().fit_transform(feature_matrix())
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1, atol=1e-5)        # ddof=0


def test_a_constant_feature_gets_scale_one_and_becomes_zero():
    scaler = StandardScaler()
    Z = scaler.fit_transform(feature_matrix())
    assert scaler.scale_[2] == 1.0
    np.testing.assert_array_equal(Z[:, 2], 0)


def test_inverse_transform_undoes_transform():
    X = feature_matrix()
    scaler = StandardScaler().fit(X)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-5)


def test_standard_scaler_on_tensors_returns_tensors_with_the_same_values():
    X = feature_matrix()
    scaler = StandardScaler().fit(Tensor(X))
    Z = scaler.transform(Tensor(X))
    assert isinstance(Z, Tensor) and Z.dtype == np.float32 and Z.device == "cpu"
    np.testing.assert_allclose(Z.numpy(), StandardScaler().fit_transform(X), atol=1e-6)
    back = scaler.inverse_transform(Z)
    assert isinstance(back, Tensor)
    np.testing.assert_allclose(back.numpy(), X, atol=1e-5)


def test_gradients_flow_through_the_tensor_transform():
    X = Tensor(feature_matrix()[:, :2], requires_grad=True)
    scaler = StandardScaler().fit(X)
    scaler.transform(X).sum().backward()
    np.testing.assert_allclose(X.grad.numpy(), np.broadcast_to(1 / scaler.scale_, (200, 2)), rtol=1e-6)


def test_integer_data_is_scaled_as_float32():
    X = np.array([[1, 10], [3, 30]])
    Z = StandardScaler().fit_transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z, [[-1, -1], [1, 1]])


def test_with_mean_false_only_divides_by_the_scale():
    X = feature_matrix()
    scaler = StandardScaler(with_mean=False).fit(X)
    assert scaler.mean_ is None
    np.testing.assert_allclose(scaler.transform(X), X / scaler.scale_.astype(np.float32), rtol=1e-6)


def test_transform_before_fit_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="not fitted yet; call fit"):
        StandardScaler().transform(np.zeros((2, 3), np.float32))


def test_transform_with_another_number_of_features_is_a_value_error():
    scaler = StandardScaler().fit(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"StandardScaler.transform: X has shape \(4, 2\).*\(3,\)"):
        scaler.transform(np.zeros((4, 2), np.float32))


def test_the_scaler_takes_arrays_or_tensors_only():
    with pytest.raises(TypeError, match="StandardScaler.fit: X must be a NumPy array or a Tensor"):
        StandardScaler().fit([[1.0, 2.0]])
