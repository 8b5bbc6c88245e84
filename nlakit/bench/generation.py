"""Generation speed: `Verbalizer.generate` (batched, the shared prefix computed once) beside one Hugging Face
`generate` call per activation and a plain batched KV-cache decoding loop of the same model (its limit)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from ..core.av import Verbalizer
from ..core.config import BenchConfig
from ..core.models import quiet_transformers
from .data import BenchData
from .flops import Shapes, generation_flops
from .limits import generation_limit
from .machine import matmul_peak
from .measure import Step, log, measure


@contextlib.contextmanager
def frozen(av: Verbalizer) -> Iterator[None]:
    """The AV frozen while measured, as a loaded NLA is in explain, evaluate and serve (so generate runs its inference
    copy), then trainable again for the measurements after it."""
    trainable = [p for p in av.parameters() if p.requires_grad]
    av.requires_grad_(False)
    try:
        yield
    finally:
        for p in trainable:
            p.requires_grad_(True)


def bench_generation(av: Verbalizer, data: BenchData, cfg: BenchConfig, bf16: bool | None) -> dict[str, Any]:
    """Verbalizer.generate (batched, shared prefix) vs one HF generate per activation vs a plain decoding loop.

    The AV is frozen while measured, as a loaded NLA is in explain, evaluate and serve: generate then runs
    its inference copy (inference.fast_model), which is what those commands run.
    """
    vectors = data.vectors[: cfg.gen_rows]
    log.log(f"generation: nlakit, {len(vectors)} activations")
    nlakit = _frozen_generation(av, data, cfg, bf16)
    log.log(f"generation: naive, {min(cfg.naive_gen_rows, len(vectors))} activations")
    naive = measure(naive_generate(av, vectors[: cfg.naive_gen_rows], cfg.max_new_tokens), cfg.warmup, cfg.repeats)
    limit = generation_limit(av.causal_lm, min(cfg.gen_batch, len(vectors)), len(av.prompt_ids), cfg.max_new_tokens, cfg)
    return {"nlakit": nlakit, "naive": naive, "limit": limit}


def fp32_path(av: Verbalizer, data: BenchData, cfg: BenchConfig, device: torch.device, generation: dict[str, Any] | None,
              peak: dict[str, Any] | None) -> dict[str, Any]:
    """The fp32 path (merged adapters, fp32 weights: what a CPU without native bf16 runs with `--no-int8`, and every
    training step there) against the fp32 matmul peak.

    Where the machine's own precision is fp32, `generation` and `peak` are that run's and nothing is measured twice;
    on a bf16 machine both are measured again in fp32, so every machine reports the figure AVX2-only laptops get.
    """
    if generation is None or peak is None:
        log.log("fp32 path: the fp32 matmul peak and fp32 generation")
        peak = matmul_peak(torch.float32, device, cfg.peak_n)
        generation = {"nlakit": _frozen_generation(av, data, cfg, False)}
    ours = generation["nlakit"]
    return {"peak_flops_per_s": peak["flops_per_s"], "generation_flops_per_s": ours["flops_per_s"],
            "generation_activations_per_s": ours.get("activations_per_s"), "generation_vs_peak": ours["flops_per_s"] / peak["flops_per_s"]}


def int8_path(av: Verbalizer, data: BenchData, cfg: BenchConfig, device: torch.device) -> dict[str, Any] | None:
    """The int8 path (core/int8.py: the readings' default where bf16 is not native, `--int8` on any CPU) against the int8
    product's peak, its generation rate beside the fp32 path's; None on a GPU, which runs bf16."""
    if device.type != "cpu":
        return None
    log.log("int8 path: the int8 product peak and int8 generation")
    peak = matmul_peak(torch.int8, device, cfg.peak_n)
    setting, av.int8 = av.int8, True
    try:
        ours = _frozen_generation(av, data, cfg, None)
    finally:
        av.int8 = setting
    return {"peak_ops_per_s": peak["flops_per_s"], "generation_ops_per_s": ours["flops_per_s"],
            "generation_activations_per_s": ours.get("activations_per_s"), "generation_vs_peak": ours["flops_per_s"] / peak["flops_per_s"]}


def _frozen_generation(av: Verbalizer, data: BenchData, cfg: BenchConfig, bf16: bool | None) -> dict[str, float]:
    """Generation of the bench's rows measured with the AV frozen (its inference copy, as the reading commands run it)."""
    vectors = data.vectors[: cfg.gen_rows]
    with frozen(av):
        return measure(lambda: _generated(av, vectors, cfg, bf16), cfg.warmup, cfg.repeats)


def _generated(av: Verbalizer, vectors: torch.Tensor, cfg: BenchConfig, bf16: bool | None) -> dict[str, float]:
    """One timed generate(): what it explained, the tokens it wrote and their FLOPs (bench.flops)."""
    out = av.generate(vectors, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.gen_batch, bf16=bf16)
    return {"activations": len(vectors), "tokens": sum(len(t) for t in out.token_ids),
            "flops": generation_flops(av, [len(t) for t in out.token_ids], Shapes.of(av.lm))}


def naive_generate(av: Verbalizer, vectors: torch.Tensor, max_new_tokens: int) -> Step:
    """One `model.generate(inputs_embeds=...)` per activation: no batching, no shared prefix."""
    lm, stops = av.causal_lm, sorted(av.stop_ids)

    @torch.no_grad()
    def step() -> dict[str, float]:
        tokens = 0
        for v in vectors:
            embeds = av.prompt_embeds(v[None])
            with quiet_transformers():
                out = lm.generate(inputs_embeds=embeds, attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long),
                                  max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=av.tokenizer.pad_token_id,
                                  eos_token_id=stops or None)
            tokens += sum(t not in av.stop_ids for t in out[0].tolist())
        return {"activations": len(vectors), "tokens": tokens}

    return step
