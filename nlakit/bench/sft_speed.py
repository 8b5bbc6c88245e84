"""SFT speed against the peak (the GPU check, `nlakit bench --sft-only`, scripts/gpu_sft_bench.sh): the matmul peak,
then AR and AV SFT steps exactly as `nlakit train-ar/train-av` take them with the given trainer settings."""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from ..core.config import ARConfig, AVConfig, BenchConfig
from ..core.models import default_device, native_bf16
from ..stages import sft
from ..stages.trainer import bucketed_batches
from .ar_sft import ar_step
from .av_sft import av_step
from .data import build_small_dataset, cycle_batches, load_bench_data
from .machine import matmul_peak
from .measure import log, measure
from .report import write_results


def sft_speed(cfg: BenchConfig, out: Path | None = None) -> dict[str, Any]:
    """The matmul peak, then AR and AV SFT steps as `nlakit train-ar/train-av` take them with `cfg`'s batch_tokens,
    bf16_weights and compile (`sft.sft_model`, `sft.ar_part`/`av_part`, `optimise`): tokens/s, FLOP/s and fraction
    of the peak. Compilation happens in the warm-up steps, so the timed ones run compiled code."""
    started = time.perf_counter()
    device = default_device()
    bf16 = native_bf16(device)
    peak = matmul_peak(torch.bfloat16 if bf16 else torch.float32, device, cfg.peak_n)
    log.log(f"peak: {peak['flops_per_s'] / 1e12:.3g} TFLOP/s ({peak['dtype']}, {peak['n']}³)")
    with tempfile.TemporaryDirectory(prefix="nlakit-bench-") as tmp:
        folder = Path(cfg.data) if cfg.data else build_small_dataset(cfg.model, cfg.corpus, Path(tmp) / "data", cfg.sft_docs, 8)
        data = load_bench_data(folder, cfg.model)
    settings = dict(batch_size=cfg.batch_size, batch_tokens=cfg.batch_tokens, bf16_weights=cfg.bf16_weights, compile=cfg.compile,
                    seed=cfg.seed)
    results: dict[str, Any] = {"device": str(device), "precision": "bf16" if bf16 else "fp32", "peak_flops_per_s": peak["flops_per_s"],
                               "settings": settings, "train_rows": len(data.texts)}
    for role, make, part_of, step_of in (("ar", ARConfig, sft.ar_part, ar_step), ("av", AVConfig, sft.av_part, av_step)):
        train = make(**settings)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        model = sft.sft_model(role, data.meta, train)
        part = part_of(model, train)
        model.train()
        lengths = model.token_lengths(data.texts)
        rows_per_step = len(lengths) / len(bucketed_batches(lengths, train.batch_size, train.seed, 0, train.batch_tokens))
        batches = cycle_batches(lengths, train.batch_size, train.seed, train.batch_tokens)
        log.log(f"{role.upper()} SFT: {cfg.warmup} warm-up steps (compiling, if on), {cfg.repeats} timed")
        m = measure(step_of(model, part, data.texts, data.vectors, batches, None), cfg.warmup, cfg.repeats)
        results[role] = {"tokens_per_s": m["tokens_per_s"], "flops_per_s": m["flops_per_s"], "vs_peak": m["flops_per_s"] / peak["flops_per_s"],
                         "step_s": m["step_s"], "rows_per_step": rows_per_step, "peak_rss_mb": m["peak_rss_mb"]}
        if device.type == "cuda":
            results[role]["max_memory_gb"] = torch.cuda.max_memory_allocated(device) / 2**30
        del model, part
        gc.collect()
    results["total_s"] = time.perf_counter() - started
    write_results(results, out)
    return results
