"""Generation speed: `Verbalizer.generate` (batched, the shared prefix computed once) beside one Hugging Face
`generate` call per activation and a plain batched KV-cache decoding loop of the same model (its limit)."""

from __future__ import annotations

from typing import Any

import torch

from ..core.av import Verbalizer
from ..core.config import BenchConfig
from ..core.models import quiet_transformers
from .data import BenchData
from .flops import Shapes, generation_flops
from .limits import generation_limit
from .measure import Step, log, measure


def bench_generation(av: Verbalizer, data: BenchData, cfg: BenchConfig, bf16: bool | None) -> dict[str, Any]:
    """Verbalizer.generate (batched, shared prefix) vs one HF generate per activation vs a plain decoding loop.

    The AV is frozen while measured, as a loaded NLA is in explain, evaluate and serve: generate then runs
    its inference copy (inference.fast_model), which is what those commands run.
    """
    vectors = data.vectors[: cfg.gen_rows]
    log.log(f"generation: nlakit, {len(vectors)} activations")
    shapes = Shapes.of(av.lm)

    def ours() -> dict[str, float]:
        out = av.generate(vectors, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.gen_batch, bf16=bf16)
        return {"activations": len(vectors), "tokens": sum(len(t) for t in out.token_ids),
                "flops": generation_flops(av, [len(t) for t in out.token_ids], shapes)}

    trainable = [p for p in av.parameters() if p.requires_grad]
    av.requires_grad_(False)
    try:
        nlakit = measure(ours, cfg.warmup, cfg.repeats)
    finally:
        for p in trainable:
            p.requires_grad_(True)
    log.log(f"generation: naive, {min(cfg.naive_gen_rows, len(vectors))} activations")
    naive = measure(naive_generate(av, vectors[: cfg.naive_gen_rows], cfg.max_new_tokens), cfg.warmup, cfg.repeats)
    limit = generation_limit(av.causal_lm, min(cfg.gen_batch, len(vectors)), len(av.prompt_ids), cfg.max_new_tokens, cfg)
    return {"nlakit": nlakit, "naive": naive, "limit": limit}


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
