"""Real data sets: scikit-learn's digits (load_digits) and MNIST (load_mnist, read_idx, mnist_root).

MNIST is read from its four IDX files and downloaded once, when missing, from the first of
MNIST_MIRRORS that answers; a file is kept only if its MD5 checksum is MNIST_MD5's.
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
from typing import Any

import numpy as np

from .. import arguments


def load_digits(return_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's handwritten digits: 1797 images of 8x8 pixels, classes 0..9.

    Returns X float32 of shape (1797, 64), or (1797, 1, 8, 8) with return_images=True (ready
    for Conv2d), with the original pixel values 0..16 (standardise them, or divide by 16),
    and y int64 of shape (1797,). The data ships inside scikit-learn: nothing is downloaded.
    """
    return_images = arguments.flag(return_images, "return_images", "load_digits")
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
    train, download = arguments.flag(train, "train", op), arguments.flag(download, "download", op)
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
