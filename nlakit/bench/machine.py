"""The machine the figures were measured on: what it is (CPU, cores, library versions, load) and what it can do
(the FLOP/s of one large matmul, the peak every path's `vs_peak` divides by)."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import psutil
import torch
import transformers

from ..core.models import native_bf16
from .measure import log


def machine_info() -> dict[str, Any]:
    """What the figures depend on: CPU, cores, threads, library versions, load (another job skews them), date."""
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo_lines() if line.startswith("model name")), platform.processor())
    return {"cpu": cpu or "unknown", "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "memory_gb": psutil.virtual_memory().total / 2**30, "native_bf16": native_bf16(), "torch": torch.__version__,
            "transformers": transformers.__version__, "python": platform.python_version(), "platform": platform.platform(),
            "loadavg_start": list(os.getloadavg()), "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


def _cpuinfo_lines() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def warn_if_busy(machine: dict[str, Any]) -> None:
    """Other jobs on the cores skew every figure (and oversubscribed torch threads can slow steps many times over)."""
    if machine["loadavg_start"][0] > 0.5 * (machine["cores"] or 1):
        log.print(f"[bold yellow]warning:[/] load average {machine['loadavg_start'][0]:.1f} on {machine['cores']} cores: "
                  "other jobs are running, the figures will be skewed (recorded in machine.loadavg_start)")


def matmul_peak(dtype: torch.dtype, device: torch.device | str = "cpu", n: int | None = None, repeats: int = 5) -> dict[str, Any]:
    """The machine's measured matmul limit: FLOP/s of one large [n, n] @ [n, n] GEMM in `dtype` (int8: integer operations
    of the int8 path's product), median of `repeats` after a warm-up (n: 2048 on a CPU, 8192 on a GPU). Every path's
    `vs_peak` divides by this, measured in the same run."""
    device = torch.device(device)
    n = n or (8192 if device.type == "cuda" else 2048)
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, generator=generator, device=device).to(dtype)
    b = torch.randn(n, n, generator=generator, device=device).to(dtype)
    product = torch._int_mm if dtype == torch.int8 else torch.mm  # int8 x int8 -> int32, as the int8 path (core/int8.py) runs it

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times = []
    for i in range(repeats + 1):
        sync()
        t0 = time.perf_counter()
        product(a, b)
        sync()
        if i:  # the first call is the warm-up
            times.append(max(time.perf_counter() - t0, 1e-9))
    step_s = statistics.median(times)
    return {"flops_per_s": 2 * n**3 / step_s, "n": n, "dtype": str(dtype).removeprefix("torch."), "device": str(device),
            "step_s": step_s, "times_s": times}
