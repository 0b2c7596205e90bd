"""What the benchmark scripts print about the machine they ran on, and how busy it was."""
from __future__ import annotations

import os
import platform
import time


def cpu_model() -> str:
    """The processor's name from /proc/cpuinfo (Linux), else whatever `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> float:
    """The 1-minute load average: how many processes wanted a CPU, lately (nan if unknown)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def cpu_usage() -> tuple | None:
    """(wall clock, CPU seconds used by every process on the machine, CPU seconds used by
    this one), or None where /proc/stat does not exist (it is Linux's)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    return time.perf_counter(), busy, time.process_time()


def other_processes_cpus(start: tuple | None) -> float | None:
    """How many CPUs other processes (and the hypervisor) kept busy, on average, since
    `start` (a cpu_usage() taken then); None where that cannot be known."""
    end = cpu_usage()
    if start is None or end is None:
        return None
    wall = end[0] - start[0]
    others = (end[1] - start[1]) - (end[2] - start[2])
    return max(others, 0.0) / wall
