"""cupy.cuda.runtime on the CPU: one device, named like an H100."""
from __future__ import annotations

_PROPERTIES = {
    "name": b"Fake CuPy device (NumPy on the CPU)",
    "totalGlobalMem": 80 * 2**30,
    "major": 9,
    "minor": 0,
    "multiProcessorCount": 132,
    "maxThreadsPerBlock": 1024,
    "warpSize": 32,
}


def getDeviceCount() -> int:
    return 1


def getDevice() -> int:
    return 0


def setDevice(device: int) -> None:
    if int(device) != 0:
        raise RuntimeError("fake cupy: only device 0 exists")


def getDeviceProperties(device: int) -> dict:
    if int(device) != 0:
        raise RuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    return dict(_PROPERTIES)


def deviceSynchronize() -> None:
    pass


def runtimeGetVersion() -> int:
    return 12080


def driverGetVersion() -> int:
    return 12080


def memGetInfo() -> tuple:
    return (80 * 2**30, 80 * 2**30)
