"""What the benchmark scripts print about the machine they ran on."""
from __future__ import annotations

import platform


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
