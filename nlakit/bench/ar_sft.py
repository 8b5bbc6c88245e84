"""The AR SFT row: nlakit's step (`Reconstructor.loss` over length-bucketed batches) beside the naive way (the whole
model with output_hidden_states over padded random batches) and the plain forward+backward of the same K+1 blocks;
then the same step's scaling with batch size and explanation length."""

from __future__ import annotations

import gc
import statistics
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ..core.ar import Reconstructor, build_reconstructor
from ..core.config import ARConfig, BenchConfig, TrainConfig
from ..core.metrics import mse_nrm
from ..core.models import add_lora, load_causal_lm, load_tokenizer
from ..core.prompts import ar_text
from ..stages import sft
from ..stages.trainer import Part, trainable
from .data import BenchData, cycle_batches, fixed_batches, random_batches
from .flops import Shapes, count_flops, lora_backward
from .limits import raw_limits
from .measure import Step, adamw_part, log, measure, train_step
from .scaling import run_scaling


def ar_part(ar: Reconstructor) -> Part:
    """LoRA adapters over `ar` and the optimiser `run_train_ar` gives them (its default settings)."""
    cfg = ARConfig()
    ar.lm = add_lora(ar.lm, cfg)
    ar.train()
    return sft.ar_part(ar, cfg)


def ar_step(ar: Reconstructor, part: Part, texts: list[str], vectors: torch.Tensor,
            batches: Iterator[list[int]], bf16: bool | None) -> Step:
    """nlakit's AR step: `Reconstructor.loss` on the next batch, then the shared optimiser step (FLOPs of its real tokens)."""
    lengths, shapes, backward = ar.token_lengths(texts), Shapes.of(ar.lm), lora_backward(ar.lm)

    def loss_fn() -> tuple[torch.Tensor, dict[str, float]]:
        batch = next(batches)
        loss, tokens = ar.loss([texts[i] for i in batch], vectors[batch], bf16)
        flops = count_flops(shapes, [(0, lengths[i]) for i in batch], backward=backward)
        return loss, {"tokens": tokens, "rows": len(batch), "flops": flops}

    return train_step(part, loss_fn)


def naive_ar_step(lm: nn.Module, head: nn.Linear, tokenizer, data: BenchData, batch_size: int, seed: int) -> Step:
    """The obvious way: the whole model with output_hidden_states, padded random batches, fp32."""
    batches = random_batches(len(data.texts), batch_size, seed)
    template, index = data.meta.prompt_templates["ar"], data.meta.hidden_states_index
    tokenizer.padding_side = "right"
    part = adamw_part("naive-ar", nn.ModuleList([lm, head]), trainable(lm) + list(head.parameters()))

    def loss_fn() -> tuple[torch.Tensor, dict[str, float]]:
        batch = next(batches)
        enc = tokenizer([ar_text(template, data.texts[i]) for i in batch], return_tensors="pt", padding=True)
        hidden = lm(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True).hidden_states[index]
        last = enc["attention_mask"].sum(dim=1) - 1
        pred = head(hidden[torch.arange(len(batch)), last])
        loss = mse_nrm(pred, data.vectors[batch], data.meta.resolved_mse_scale).mean()
        return loss, {"tokens": int(enc["attention_mask"].sum()), "rows": len(batch)}

    return train_step(part, loss_fn)


def naive_ar(data: BenchData, cfg: BenchConfig) -> Step:
    """The naive step on the full model loaded afresh, with LoRA adapters and an identity-initialised head."""
    lm = add_lora(load_causal_lm(cfg.model), TrainConfig())
    lm.train()
    head = nn.Linear(data.meta.d_model, data.meta.d_model, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.eye(data.meta.d_model))
    return naive_ar_step(lm, head, load_tokenizer(cfg.model), data, cfg.batch_size, cfg.seed)


def ar_scaling(ar: Reconstructor, part: Part, data: BenchData, cfg: BenchConfig, bf16: bool | None) -> list[dict[str, Any]]:
    log.log("AR: scaling with batch size and explanation length")
    return run_scaling(lambda t, v: ar_step(ar, part, t, v, fixed_batches(len(t)), bf16), ar.tokenizer, data, cfg)


def bench_ar(data: BenchData, cfg: BenchConfig, bf16: bool | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The AR row (nlakit vs naive vs the K+1-block limit) and its scaling with batch size and length."""
    ar = build_reconstructor(data.meta)
    lengths = ar.token_lengths(data.texts)
    limits = raw_limits(ar.lm, cfg.batch_size, int(statistics.median(lengths)), cfg)  # the same K+1 blocks
    log.log(f"AR: limit {limits['fp32']['tokens_per_s']:.0f} tok/s (fp32); nlakit path")
    part = ar_part(ar)
    batches = cycle_batches(lengths, cfg.batch_size, cfg.seed, cfg.batch_tokens)
    ours = measure(ar_step(ar, part, data.texts, data.vectors, batches, bf16), cfg.warmup, cfg.repeats)
    scaling = ar_scaling(ar, part, data, cfg, bf16)
    del ar, part  # each section's memory peak should be its own
    gc.collect()
    log.log("AR: naive baseline")
    naive = measure(naive_ar(data, cfg), cfg.warmup, cfg.repeats)
    return {"nlakit": ours, "naive": naive, "limits": limits}, scaling
