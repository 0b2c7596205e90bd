"""cupy.ElementwiseKernel on the CPU: the CUDA C operation is compiled as C++ and run in a loop.

For each kernel and each set of concrete types the operation is pasted into a small C++ file,
compiled once with `g++ -O2 -shared -fPIC` (cached on disk, keyed by a hash of the source),
loaded with ctypes and called with pointers to contiguous buffers. The rules are CuPy's:

- a parameter is `TYPE NAME`; a one-letter TYPE (`T`) is a placeholder, anything else must
  be a NumPy dtype name (`float32`, `int64`, `bool`, ...);
- a placeholder takes the dtype of the array arguments that use it (outputs first, then
  inputs); arrays whose dtype disagrees raise TypeError; scalars are converted to the type
  of their parameter;
- arrays broadcast together; outputs not passed are allocated, outputs passed must have the
  broadcast shape (ValueError) and are written in place;
- in the operation an input's name is a const reference to its element, an output's name a
  reference (it can be read and written), `i` is the flat index over the loop shape (C order)
  and `_ind.size()` the count;
- a parameter declared `raw TYPE NAME` is neither broadcast nor part of the loop shape: in the
  operation `NAME[k]` is its element k in C order and `NAME.size()` its size. The loop shape
  comes from the other arrays (outputs included), or from `size=` when every array is raw.
  Raw inputs are read-only here (CuPy would let a kernel write them), and every raw index is
  bounds-checked on the CPU: an out-of-range `NAME[k]` raises IndexError after the run.

With FAKE_CUPY_NVCC=1 and nvcc on PATH, the same operation is also compiled once as a CUDA
kernel (`nvcc -cubin -arch=sm_90`), so that code valid in C++ but not in CUDA C fails here too.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

from ._array import counters, ndarray, _new

_C_TYPES = {
    np.dtype(np.bool_): "bool",
    np.dtype(np.int8): "signed char",
    np.dtype(np.uint8): "unsigned char",
    np.dtype(np.int16): "short",
    np.dtype(np.uint16): "unsigned short",
    np.dtype(np.int32): "int",
    np.dtype(np.uint32): "unsigned int",
    np.dtype(np.int64): "long long",
    np.dtype(np.uint64): "unsigned long long",
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
}

_HOST_PRELUDE = r"""
#include <cmath>
#include <cstdint>
#include <algorithm>
using namespace std;
#define __device__
#define __host__
#define __forceinline__ inline
// CUDA device functions that the C++ library lacks
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float rsqrt(float x) { return 1.0f / sqrtf(x); }
#define __expf expf
#define __logf logf
#define __sinf sinf
#define __cosf cosf
#define __powf powf
static inline float __fdividef(float a, float b) { return a / b; }
static inline float fdividef(float a, float b) { return a / b; }
static inline double fdivide(double a, double b) { return a / b; }
// CUDA's max/min also take two different arithmetic types
template <class A, class B> static inline auto max(A a, B b) -> decltype(a + b) { return a < b ? b : a; }
template <class A, class B> static inline auto min(A a, B b) -> decltype(a + b) { return b < a ? b : a; }
"""

_INDEX_STRUCT = r"""
struct _FakeIndex {
    long long n, i;
    __device__ long long size() const { return n; }
    __device__ long long get() const { return i; }
};
"""

_RAW_STRUCT_HOST = r"""
#include <type_traits>
// a raw parameter: element k in C order, bounds-checked (the first bad index goes to _bad)
template <class T> struct _FakeRaw {
    T* data; long long n; int which; long long* bad;
    T& operator[](long long k) const {
        if (k < 0 || k >= n) {
            if (bad[0] < 0) { bad[0] = which; bad[1] = k; bad[2] = n; }
            static typename std::remove_const<T>::type dummy;
            dummy = {};
            return dummy;
        }
        return data[k];
    }
    long long size() const { return n; }
};
"""

_RAW_STRUCT_CUDA = r"""
template <class T> struct _FakeRaw {
    T* data; long long n; int which; long long* bad;
    __device__ T& operator[](long long k) const { return data[k]; }
    __device__ long long size() const { return n; }
};
"""

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CompileException(RuntimeError):
    """The operation did not compile (g++ for the CPU run, or nvcc for the CUDA check)."""


def _cache_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), "fake_cupy_kernels")
    os.makedirs(path, exist_ok=True)
    return path


class _Param:
    def __init__(self, text: str, kernel: str):
        parts = text.split()
        self.raw = bool(parts) and parts[0] == "raw"
        if self.raw:
            parts = parts[1:]
        if len(parts) != 2 or not _IDENT.match(parts[1]):
            raise ValueError(f"Syntax error: {text!r} (expected 'TYPE NAME')")
        type_name, self.name = parts
        if len(type_name) == 1:                   # CuPy: a one-character type is a placeholder
            self.placeholder, self.dtype = type_name, None
        else:
            try:
                dtype = np.dtype(type_name)
            except TypeError:
                raise ValueError(f"Wrong type {type_name}") from None
            if dtype.name != type_name:
                raise ValueError(f"Wrong type {type_name}")
            self.placeholder, self.dtype = None, dtype


def _parse(params: str, kernel: str) -> list:
    return [_Param(p, kernel) for p in params.split(",") if p.strip()]


def _is_scalar(value) -> bool:
    return type(value) in (int, float, bool) or isinstance(value, (np.bool_, np.integer, np.floating))


class ElementwiseKernel:
    """cupy.ElementwiseKernel(in_params, out_params, operation, name, ...) running on the CPU."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel",
                 reduce_dims: bool = True, preamble: str = "", no_return: bool = False,
                 return_tuple: bool = False, loop_prep: str = "", after_loop: str = "", **kwargs):
        if loop_prep or after_loop:
            raise NotImplementedError("fake cupy: loop_prep / after_loop are not supported")
        if not _IDENT.match(name):
            raise ValueError(f"kernel name {name!r} is not a C identifier")
        self.in_params = _parse(in_params, name)
        self.out_params = _parse(out_params, name)
        names = [p.name for p in self.in_params + self.out_params]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: a parameter name appears twice in {names}")
        self.nin, self.nout = len(self.in_params), len(self.out_params)
        self.nargs = self.nin + self.nout
        self.operation, self.name, self.preamble = operation, name, preamble
        self.no_return, self.return_tuple = no_return, return_tuple
        self._compiled: dict = {}

    # ------------------------------------------------------------------ call
    def __call__(self, *args, size=None, block_size=None, stream=None):
        if len(args) not in (self.nin, self.nargs):
            raise TypeError(f"Wrong number of arguments for {self.name!r}")
        ins, outs = args[:self.nin], args[self.nin:]
        for p, a in zip(self.in_params, ins):
            if type(a) is not ndarray and not _is_scalar(a):
                raise TypeError(f"Unsupported type {type(a)}")
            if p.raw and type(a) is not ndarray:
                raise TypeError(f"{self.name}: the raw parameter {p.name} needs a cupy.ndarray, "
                                f"got {type(a).__name__}")
        for a in outs:
            if type(a) is not ndarray:
                raise TypeError("Output arguments must be cupy.ndarray")

        types = self._decide_types(ins, outs)
        # the loop shape: the broadcast of the arrays that are not raw (outputs included)
        arrays = [a._a for p, a in zip(self.in_params + self.out_params, list(ins) + list(outs))
                  if type(a) is ndarray and not p.raw]
        if size is not None and arrays:
            raise ValueError("Specified 'size' can be used only if all of the ndarray are 'raw'.")
        if size is None and not arrays:
            raise ValueError("Loop size is undecided")
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else (int(size),)
        for p, a in zip(self.out_params, outs):
            if not p.raw and a._a.shape != shape:
                raise ValueError("Out shape is mismatched")
        launches = counters["launch"]
        outs = list(outs) or [_new(np.empty(shape, dtype=self._dtype_of(p, types)))
                              for p in self.out_params]
        counters["launch"] = launches + 1          # allocating the outputs launches nothing

        n = int(np.prod(shape, dtype=np.int64))
        if n:
            self._run(ins, outs, shape, n, types)
        if self.no_return:
            return None
        if self.nout == 1 and not self.return_tuple:
            return outs[0]
        return tuple(outs)

    def _dtype_of(self, p, types):
        return p.dtype if p.dtype is not None else types[p.placeholder]

    def _decide_types(self, ins, outs) -> dict:
        """Bind placeholders to dtypes: from the output arrays first, then the input arrays."""
        types: dict = {}
        for params, values in ((self.out_params, outs), (self.in_params, ins)):
            for p, a in zip(params, values):
                if type(a) is not ndarray:
                    continue
                if p.dtype is not None:
                    if a.dtype != p.dtype:
                        raise TypeError(f"Type is mismatched. {p.name} {a.dtype} {p.dtype}")
                elif p.placeholder in types:
                    if a.dtype != types[p.placeholder]:
                        raise TypeError(f"Type is mismatched. {p.name} {a.dtype} "
                                        f"{types[p.placeholder]} {p.placeholder}")
                else:
                    types[p.placeholder] = a.dtype
        for p in self.in_params + self.out_params:
            if p.dtype is None and p.placeholder not in types:
                raise TypeError(f"{self.name}: cannot decide the type {p.placeholder} of {p.name}: "
                                f"no array argument with type {p.placeholder} was given")
        return types

    def _run(self, ins, outs, shape, n, types):
        kinds = tuple("s" if type(a) is not ndarray else "r" if p.raw else "a"
                      for p, a in zip(self.in_params, ins))
        key = (kinds, tuple(sorted((k, v.str) for k, v in types.items())))
        func = self._compiled.get(key)
        if func is None:
            func = self._compiled[key] = self._build(kinds, types)

        pointers, sizes, keep, copy_back = [], [], [], []
        scalars = np.zeros(max(1, kinds.count("s")), dtype=np.uint64)
        k = 0
        for p, a in zip(self.in_params, ins):
            if type(a) is ndarray:
                # a raw array keeps its own shape; k in x[k] counts its elements in C order
                buf = np.ascontiguousarray(a._a if p.raw else np.broadcast_to(a._a, shape))
                keep.append(buf)
                pointers.append(buf.ctypes.data)
                sizes.append(buf.size)
            else:
                scalars[k:k + 1].view(self._dtype_of(p, types))[0] = a
                k += 1
        for a in outs:
            target = a._a
            if target.flags.c_contiguous and target.flags.writeable:
                buf = target
            else:
                buf = np.ascontiguousarray(target)           # a copy: outputs may also be read
                copy_back.append((target, buf))
            keep.append(buf)
            pointers.append(buf.ctypes.data)
            sizes.append(buf.size)
        arg_array = (ctypes.c_void_p * max(1, len(pointers)))(*pointers)
        size_array = np.array(sizes or [0], dtype=np.int64)
        bad = np.array([-1, 0, 0], dtype=np.int64)          # (raw parameter, index, size) of a bad read
        func(arg_array, scalars.ctypes.data, size_array.ctypes.data, bad.ctypes.data, ctypes.c_longlong(n))
        if bad[0] >= 0:
            p = (self.in_params + self.out_params)[bad[0]]
            raise IndexError(f"fake cupy: kernel {self.name!r} indexed the raw parameter {p.name} "
                             f"with {bad[1]}, outside [0, {bad[2]})")
        for target, buf in copy_back:
            target[...] = buf

    # ------------------------------------------------------------------ code generation
    def _ctype(self, p, types):
        dtype = self._dtype_of(p, types)
        if dtype not in _C_TYPES:
            raise NotImplementedError(f"fake cupy: dtype {dtype} is not supported in ElementwiseKernel")
        return p.placeholder or _C_TYPES[dtype]

    def source(self, kinds, types, cuda: bool) -> str:
        """The C++ (cuda=False) or CUDA (cuda=True) source of this kernel for concrete types."""
        lines = [] if cuda else [_HOST_PRELUDE]
        for placeholder, dtype in sorted(types.items()):
            if dtype not in _C_TYPES:
                raise NotImplementedError(f"fake cupy: dtype {dtype} is not supported in ElementwiseKernel")
            lines.append(f"typedef {_C_TYPES[dtype]} {placeholder};")
        lines += [self.preamble, _INDEX_STRUCT, _RAW_STRUCT_CUDA if cuda else _RAW_STRUCT_HOST]
        entry = (f'extern "C" __global__ void {self.name}' if cuda else 'extern "C" void fake_cupy_run')
        lines.append(f"{entry}(void* const* _arrays, const unsigned long long* _scalars, "
                     f"const long long* _sizes, long long* _bad, long long _n) {{")
        scalar_lines, element_lines = [], []
        j = k = 0
        for position, (p, kind) in enumerate(zip(self.in_params + self.out_params, kinds + ("a",) * self.nout)):
            ct = self._ctype(p, types)
            const = "const " if position < self.nin else ""
            if kind == "s":
                scalar_lines.append(f"    const {ct} {p.name} = *reinterpret_cast<const {ct}*>(&_scalars[{k}]);")
                k += 1
                continue
            if p.raw:
                scalar_lines.append(f"    const _FakeRaw<{const}{ct}> {p.name} = "
                                    f"{{static_cast<{const}{ct}*>(_arrays[{j}]), _sizes[{j}], {position}, _bad}};")
            else:
                element_lines.append(f"    {const}{ct}& {p.name} = static_cast<{const}{ct}*>(_arrays[{j}])[i];")
            j += 1
        if cuda:
            lines.append("  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;")
            lines.append("  if (i >= _n) return;")
            lines += scalar_lines
            body_indent = "  "
        else:
            lines += scalar_lines
            lines.append("  for (long long i = 0; i < _n; ++i) {")
            body_indent = "    "
        lines.append(f"{body_indent}_FakeIndex _ind = {{_n, i}}; (void)_ind;")
        lines += [body_indent + line.strip() for line in element_lines]
        lines.append(f"{body_indent}{{\n{self.operation}\n;\n{body_indent}}}")
        if not cuda:
            lines.append("  }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _build(self, kinds, types):
        cpp = self.source(kinds, types, cuda=False)
        digest = hashlib.sha256(cpp.encode()).hexdigest()[:24]
        directory = _cache_dir()
        library = os.path.join(directory, f"{self.name}_{digest}.so")
        if not os.path.exists(library):
            source_path = os.path.join(directory, f"{self.name}_{digest}.{os.getpid()}.cpp")
            with open(source_path, "w") as f:        # per process: parallel runs never share a half-written file
                f.write(cpp)
            partial = f"{library}.{os.getpid()}.tmp"
            _compile(["g++", "-O2", "-shared", "-fPIC", "-std=c++17", "-o", partial, source_path],
                     self.name, cpp, "g++")
            os.replace(partial, library)
            os.remove(source_path)
        if os.environ.get("FAKE_CUPY_NVCC") == "1" and shutil.which("nvcc"):
            self._check_cuda(kinds, types, directory)
        function = ctypes.CDLL(library).fake_cupy_run
        function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_longlong]
        function.restype = None
        return function

    def _check_cuda(self, kinds, types, directory):
        cu = self.source(kinds, types, cuda=True)
        digest = hashlib.sha256(cu.encode()).hexdigest()[:24]
        marker = os.path.join(directory, f"{self.name}_{digest}.nvcc-ok")
        if os.path.exists(marker):
            return
        source_path = os.path.join(directory, f"{self.name}_{digest}.{os.getpid()}.cu")
        with open(source_path, "w") as f:
            f.write(cu)
        _compile(["nvcc", "-cubin", "-arch=sm_90", "-o", os.devnull, source_path], self.name, cu, "nvcc")
        os.remove(source_path)
        open(marker, "w").close()


def _compile(command, name, source, compiler):
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise CompileException(f"fake cupy: {compiler} is needed to run ElementwiseKernel {name!r} "
                               f"on the CPU, and it was not found") from None
    if result.returncode != 0:
        numbered = "\n".join(f"{n:4d}  {line}" for n, line in enumerate(source.splitlines(), 1))
        raise CompileException(f"ElementwiseKernel {name!r} does not compile with {compiler}:\n"
                               f"{result.stderr.strip()}\n--- source ---\n{numbered}")
