"""`nlakit bench`: how fast nlakit trains and explains, next to a naive baseline and the machine's limit.

Every figure is measured in one process on the given model and shown beside
- a naive baseline: the obvious Hugging Face way of doing the same work (full model, hidden states
  or labels over every position, padding to the longest row, one `generate` call per activation), and
- a limit: what a plain forward+backward (or a plain batched KV-cache decoding loop) of the same
  model reaches on this machine, so `vs_limit` says how much room is left, whatever the hardware.

Tokens/s counts real (non-padding) tokens only: padding is work the method wastes, not work it did.
Each measurement runs warm-up iterations first, then several timed repetitions (time.perf_counter);
the JSON reports medians and the peak resident memory sampled while it ran.

One module per thing measured, in the order `run_bench` takes them: `machine` (what the machine is, its matmul
peak), `ar_sft`, `av_sft` (with `generation` on the same AV), `rl_step`, `scaling`; beneath them `measure` (time
and memory of a step), `flops` (what a step costs), `limits` (the plain paths), `data`; `report` puts the figures
side by side; `sft_speed` is the `--sft-only` GPU check. The settings are `config.BenchConfig`.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from ..core.config import BENCH_AXES, BenchConfig
from ..core.files import check_output_file
from ..core.models import default_device, load_tokenizer, native_bf16
from .ar_sft import bench_ar
from .av_sft import bench_av
from .data import build_small_dataset, load_bench_data, load_causal_lm_config
from .generation import fp32_path, int8_path
from .machine import machine_info, matmul_peak, warn_if_busy
from .measure import log
from .report import ratio, summary_rows, write_results
from .rl_step import bench_rl
from .scaling import memory_scaling
from .sft_speed import sft_speed


def run_bench(cfg: BenchConfig, out: Path | None = None) -> dict[str, Any]:
    """Run every measurement on `cfg.model` (or only `sft_speed` with `cfg.sft_only`); write the JSON (atomically)
    to `out` and return it."""
    if out is not None:  # before minutes of measuring: never over the data or corpus it reads
        check_output_file(Path(out), [p for p in (cfg.data, cfg.corpus) if p], "--out")
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        return sft_speed(cfg, out) if cfg.sft_only else _run_bench(cfg, out)
    finally:
        torch.set_num_threads(threads)


def _run_bench(cfg: BenchConfig, out: Path | None) -> dict[str, Any]:
    started = time.perf_counter()
    machine = machine_info()
    warn_if_busy(machine)
    with tempfile.TemporaryDirectory(prefix="nlakit-bench-") as tmp:
        folder = Path(cfg.data) if cfg.data else build_small_dataset(cfg.model, cfg.corpus, Path(tmp) / "data")
        data = load_bench_data(folder, cfg.model)
    device = default_device()
    bf16 = native_bf16(device)
    precision = "bf16" if bf16 else "fp32"
    log.log(f"matmul peak: one large {precision} GEMM")
    peak = matmul_peak(torch.bfloat16 if bf16 else torch.float32, device, cfg.peak_n)
    ar, ar_scale = bench_ar(data, cfg, bf16)
    av, verbalizer = bench_av(data, cfg, bf16)
    rl_row = bench_rl(verbalizer, data, cfg)
    rl_row.update(vs_peak=ratio(rl_row["flops_per_s"], peak["flops_per_s"]))
    fp32 = fp32_path(verbalizer, data, cfg, device, None if bf16 else av["generation"], None if bf16 else peak)
    int8 = int8_path(verbalizer, data, cfg, device)
    del verbalizer
    gc.collect()
    vocab = len(load_tokenizer(cfg.model))
    results = {
        "machine": {**machine, "loadavg_end": list(os.getloadavg())},
        "config": {**asdict(cfg), **{axis: cfg.sizes(axis) for axis in BENCH_AXES},
                   "data": str(folder) if cfg.data else "built on the fly (40 docs, 64 tokens, template teacher)"},
        "model": {"name": cfg.model, "d_model": data.meta.d_model, "layer_index": data.meta.layer_index,
                  "n_layers": load_causal_lm_config(cfg.model).num_hidden_layers, "vocab": vocab, "train_rows": len(data.texts)},
        "precision": precision,
        "peak": peak,
        "rows": summary_rows(ar, av["sft"], av["generation"], precision, peak["flops_per_s"]),
        "ar_sft": ar, "av_sft": av["sft"], "generation": av["generation"], "rl": rl_row, "fp32_path": fp32, "int8_path": int8,
        "scaling": {"ar": ar_scale, "av": av["scaling"], "memory_vs_d_model": memory_scaling(data, cfg, vocab)},
    }
    results["total_s"] = time.perf_counter() - started
    write_results(results, out)
    return results
