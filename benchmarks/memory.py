"""Peak resident memory of this process over a stretch of work (Linux: VmHWM, reset through
/proc/self/clear_refs; elsewhere the lifetime `ru_maxrss`)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak() -> str:
    """Reset the peak so the next reading covers only what follows; returns the method used."""
    try:
        CLEAR_REFS.write_text("5")  # 5: reset the peak RSS (VmHWM) to the current RSS
        return "VmHWM reset before the recompute"
    except OSError:
        return "ru_maxrss over the whole bench process (peak could not be reset)"


def peak_bytes() -> int:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage if sys.platform == "darwin" else usage * 1024  # bytes on macOS, KiB on Linux
