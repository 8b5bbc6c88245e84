"""The AV SFT row: nlakit's step (`Verbalizer.sft_loss`: the shared prefix computed once, logits only on response
tokens) beside the naive way (prompt + response as one padded sequence through `model(inputs_embeds, labels)`) and
the plain forward+backward of the same model; then the step's scaling, and generation on the same trained AV."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from typing import Any

import torch

from ..core.av import Verbalizer, build_verbalizer
from ..core.config import AVConfig, BenchConfig
from ..core.hooks import inject
from ..core.models import add_lora
from ..core.reading import pad_batch
from ..stages import sft
from ..stages.trainer import Part
from .data import BenchData, cycle_batches, fixed_batches, random_batches
from .flops import Shapes, av_rows, count_flops, lora_backward
from .generation import bench_generation
from .limits import raw_limits
from .measure import Step, log, measure, train_step
from .scaling import run_scaling


def av_part(av: Verbalizer) -> Part:
    """LoRA adapters over `av` and the optimiser `run_train_av` gives them (its default settings)."""
    cfg = AVConfig()
    av.lm = add_lora(av.lm, cfg)
    av.train()
    return sft.av_part(av, cfg)


def av_step(av: Verbalizer, part: Part, texts: list[str], vectors: torch.Tensor,
            batches: Iterator[list[int]], bf16: bool | None) -> Step:
    """nlakit's AV step: `sft_loss` (shared prefix cache, logits only on response tokens), then the shared optimiser step."""
    prompt_len = len(av.prompt_ids)
    responses, shapes, backward = [len(r) for r in av.response_ids(texts)], Shapes.of(av.lm), lora_backward(av.lm)

    def loss_fn() -> tuple[torch.Tensor, dict[str, float]]:
        batch = next(batches)
        loss, response_tokens = av.sft_loss(vectors[batch], [texts[i] for i in batch], bf16)
        lengths = [responses[i] for i in batch]
        flops = count_flops(shapes, av_rows(av, lengths), logits=sum(lengths), backward=backward)
        return loss, {"tokens": response_tokens + prompt_len * len(batch), "response_tokens": response_tokens, "rows": len(batch),
                      "flops": flops}

    return train_step(part, loss_fn)


def naive_av_loss(av: Verbalizer, vectors: torch.Tensor, texts: list[str]) -> tuple[torch.Tensor, dict[str, float]]:
    """Prompt + response as one padded sequence through `model(inputs_embeds, labels)`: logits everywhere."""
    prompt = av.prompt_ids
    rows = [prompt + r for r in av.response_ids(texts)]
    ids, mask = pad_batch(rows, av.tokenizer.pad_token_id or 0)
    labels = ids.masked_fill(mask == 0, -100)
    labels[:, : len(prompt)] = -100
    embeds = inject(av.embed(ids), av.marker_pos, vectors, av.meta.injection_scale)
    loss = av.lm(inputs_embeds=embeds, attention_mask=mask, labels=labels).loss
    tokens = int(mask.sum())
    return loss, {"tokens": tokens, "response_tokens": tokens - len(prompt) * len(rows), "rows": len(rows)}


def naive_av_step(av: Verbalizer, part: Part, data: BenchData, batch_size: int, seed: int) -> Step:
    batches = random_batches(len(data.texts), batch_size, seed)

    def loss_fn() -> tuple[torch.Tensor, dict[str, float]]:
        batch = next(batches)
        return naive_av_loss(av, data.vectors[batch], [data.texts[i] for i in batch])

    return train_step(part, loss_fn)


def av_scaling(av: Verbalizer, part: Part, data: BenchData, cfg: BenchConfig, bf16: bool | None) -> list[dict[str, Any]]:
    log.log("AV: scaling with batch size and explanation length")
    return run_scaling(lambda t, v: av_step(av, part, t, v, fixed_batches(len(t)), bf16), av.tokenizer, data, cfg)


def bench_av(data: BenchData, cfg: BenchConfig, bf16: bool | None) -> tuple[dict[str, Any], Verbalizer]:
    """AV SFT, generation and their scaling, all on one LoRA-wrapped AV (the naive paths share its weights)."""
    av = build_verbalizer(data.meta)
    lengths = av.token_lengths(data.texts)
    limits = raw_limits(av.causal_lm, cfg.batch_size, int(statistics.median(lengths)), cfg)
    log.log(f"AV: limit {limits['fp32']['tokens_per_s']:.0f} tok/s (fp32); nlakit path")
    part = av_part(av)
    batches = cycle_batches(lengths, cfg.batch_size, cfg.seed, cfg.batch_tokens)
    ours = measure(av_step(av, part, data.texts, data.vectors, batches, bf16), cfg.warmup, cfg.repeats)
    log.log("AV: naive baseline")
    naive = measure(naive_av_step(av, part, data, cfg.batch_size, cfg.seed), cfg.warmup, cfg.repeats)
    scaling = av_scaling(av, part, data, cfg, bf16)
    av.eval()
    generation = bench_generation(av, data, cfg, bf16)
    return {"sft": {"nlakit": ours, "naive": naive, "limits": limits}, "generation": generation, "scaling": scaling}, av
