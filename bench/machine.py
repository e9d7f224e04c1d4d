# SPDX-License-Identifier: MIT
"""The line that names the machine in every benchmark's results: the
number of CPUs, the CPU model and the kernel.  One function, so that the
results of bench/sse, bench/watch and bench/preview name it alike."""
from __future__ import annotations

import os
import platform


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"
