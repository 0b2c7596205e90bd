"""cupy.cuda on the CPU: one device "0" (compute capability 9.0); synchronising is a no-op."""
from __future__ import annotations

import time

from .._real_names import NAMES
from . import runtime  # noqa: F401

_REAL = frozenset(NAMES["cuda"])


def __getattr__(name):
    if name in _REAL:
        raise AttributeError(f"fake cupy does not implement cupy.cuda.{name}")
    raise AttributeError(f"module 'cupy.cuda' has no attribute '{name}'")


def is_available() -> bool:
    return True


class Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise RuntimeError(f"fake cupy: only device 0 exists (asked for {self.id})")

    compute_capability = "90"

    def synchronize(self) -> None:
        runtime.deviceSynchronize()

    def use(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __int__(self):
        return self.id

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


def get_device_id() -> int:
    return 0


class Stream:
    null: "Stream"

    def __init__(self, null=False, non_blocking=False, ptr=0):
        self.ptr = 0 if null else id(self)

    def synchronize(self) -> None:
        pass

    def use(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return f"<Stream {self.ptr} (device 0)>"


Stream.null = Stream(null=True)


def get_current_stream(device_id=-1) -> Stream:
    return Stream.null


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self._time = None

    def record(self, stream=None) -> None:
        self._time = time.perf_counter()

    def synchronize(self) -> None:
        pass

    @property
    def done(self) -> bool:
        return True


def get_elapsed_time(start_event: Event, end_event: Event) -> float:
    """Milliseconds between two recorded events (host wall-clock time here)."""
    if start_event._time is None or end_event._time is None:
        raise RuntimeError("cudaErrorInvalidResourceHandle: an event was not recorded")
    return (end_event._time - start_event._time) * 1000.0


class MemoryPointer:
    def __init__(self, ptr: int):
        self.ptr = ptr

    def __int__(self):
        return self.ptr


class MemoryPool:
    """Reports nothing in use: the fake's arrays live in host memory owned by NumPy."""

    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0

    def free_bytes(self) -> int:
        return 0

    def free_all_blocks(self, stream=None) -> None:
        pass

    def n_free_blocks(self) -> int:
        return 0

    def set_limit(self, size=None, fraction=None) -> None:
        pass

    def get_limit(self) -> int:
        return 0


class PinnedMemoryPool(MemoryPool):
    pass


_pool = MemoryPool()
_pinned_pool = PinnedMemoryPool()


def get_default_memory_pool() -> MemoryPool:
    return _pool


def get_default_pinned_memory_pool() -> PinnedMemoryPool:
    return _pinned_pool
