"""Time and memory of one step: warm-up runs, timed repetitions, their medians, and the peak resident memory.

Every bench figure comes out of `measure`. A training step is timed through `train_step`, which takes the
optimiser step every training stage takes (`trainer.optimise`), so the bench times that step and not a copy of it.
Tokens/s counts real (non-padding) tokens only: a step reports the work it did, and padding is work wasted.
"""

from __future__ import annotations

import ctypes
import gc
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import torch
from rich.console import Console
from torch import nn

from ..stages.trainer import Part, optimise

log = Console(stderr=True)
Step = Callable[[], dict[str, float]]


def rss_bytes() -> int:
    return psutil.Process().memory_info().rss


def release_free_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc malloc_trim).

    Without it, a later measurement reuses pages an earlier one freed and its RSS delta reads near zero.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM), so it covers only the block being measured."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _read_hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRSS:
    """Peak resident memory while a block runs: a sampling thread, plus VmHWM where it can be reset.

    The thread catches peaks on any OS; VmHWM (Linux) catches the short ones the thread misses.
    """

    def __init__(self, interval_s: float = 0.005):
        self.interval_s, self.start, self.peak = interval_s, 0, 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakRSS:
        release_free_memory()
        self.start = self.peak = rss_bytes()
        self._hwm = _reset_hwm()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(), _read_hwm() if self._hwm else 0)

    def record(self) -> dict[str, float]:
        return {"peak_rss_mb": self.peak / 2**20, "rss_delta_mb": (self.peak - self.start) / 2**20}


def measure(step: Step, warmup: int, repeats: int) -> dict[str, Any]:
    """Time `step` (which returns the work it did, e.g. {"tokens": n}) after warm-up; medians of the repetitions.

    Warm-up runs first because the first calls pay for allocator growth and lazy initialisation.
    """
    times: list[float] = []
    rates: dict[str, list[float]] = {}
    with PeakRSS() as memory:
        for _ in range(warmup):
            step()
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            units = step()
            elapsed = max(time.perf_counter() - t0, 1e-9)
            times.append(elapsed)
            for name, value in units.items():
                rates.setdefault(name, []).append(value / elapsed)
    out: dict[str, Any] = {"step_s": statistics.median(times), "times_s": times}
    out.update({f"{name}_per_s": statistics.median(values) for name, values in rates.items()})
    return {**out, **memory.record()}


def train_step(part: Part, loss_fn: Callable[[], tuple[torch.Tensor, dict[str, float]]]) -> Step:
    """One optimiser step of `part` through `trainer.optimise`, the step every training stage takes, so the bench
    times that step and not a copy of it; only the loss differs between the paths compared."""

    def step() -> dict[str, float]:
        loss, units = loss_fn()
        optimise(part, loss)
        return units

    return step


def adamw_part(name: str, module: nn.Module, params: list[nn.Parameter], lr: float = 1e-4) -> Part:
    """A constant-lr AdamW part for the baselines and synthetic models, which have no stage config of their own."""
    return Part.adamw(name, module, [{"params": params, "lr": lr}], lambda _step: 1.0)
