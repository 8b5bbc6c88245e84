"""The limits nlakit's paths are read against: what a plain forward+backward of the same blocks, or a plain batched
KV-cache decoding loop, reaches on this machine, so `vs_limit` says how much room is left whatever the hardware."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import DynamicCache

from ..core.config import BenchConfig
from ..core.models import autocast, native_bf16, text_config, with_cache
from .flops import count_flops
from .measure import measure


def raw_limit(lm: nn.Module, batch: int, length: int, bf16: bool, warmup: int, repeats: int,
              weight_grads: bool = True) -> dict[str, Any]:
    """Dense [B, T] random tokens through the decoder, forward + backward, no LM head.

    With `weight_grads` every weight is trainable (the plain full fine-tune). Without, the weights are
    frozen and only activation gradients flow: the part of the backward a LoRA step cannot avoid, so
    LoRA paths can beat the first limit but not this one by much.
    """
    lm.requires_grad_(weight_grads)
    decoder = lm.get_decoder()
    device = next(lm.parameters()).device
    ids = torch.randint(0, text_config(lm.config).vocab_size, (batch, length), generator=torch.Generator().manual_seed(0)).to(device)
    flops = count_flops(lm, [(0, length)] * batch, backward="full" if weight_grads else "frozen")

    def step() -> dict[str, float]:
        lm.zero_grad(set_to_none=True)
        embeds = decoder.get_input_embeddings()(ids).detach().requires_grad_(True)
        with autocast(bf16, device):
            hidden = decoder(inputs_embeds=embeds).last_hidden_state
        hidden.float().pow(2).mean().backward()
        return {"tokens": batch * length, "flops": flops}

    result = measure(step, warmup, repeats)
    lm.zero_grad(set_to_none=True)
    lm.requires_grad_(False)
    return {**result, "batch": batch, "length": length, "precision": "bf16" if bf16 else "fp32", "weight_grads": weight_grads}


def raw_limits(lm: nn.Module, batch: int, length: int, cfg: BenchConfig) -> dict[str, Any]:
    """fp32 always; bf16 autocast too where the hardware has it natively (elsewhere it is no limit worth knowing);
    and the frozen-weights variant at the precision nlakit trains in."""
    bf16 = native_bf16()
    out = {"fp32": raw_limit(lm, batch, length, False, cfg.warmup, cfg.repeats)}
    if bf16:
        out["bf16"] = raw_limit(lm, batch, length, True, cfg.warmup, cfg.repeats)
    else:
        out["bf16"] = {"skipped": "no native bf16 on this hardware"}
    out["frozen_weights"] = raw_limit(lm, batch, length, bf16, cfg.warmup, cfg.repeats, weight_grads=False)
    return out


def limit_for(limits: dict[str, Any], precision: str) -> float:
    return limits[precision]["tokens_per_s"]


@torch.no_grad()
def generation_limit(lm: nn.Module, batch: int, prompt_len: int, new_tokens: int, cfg: BenchConfig) -> dict[str, Any]:
    """A plain batched greedy decoding loop with a KV cache and no injection: generation's ceiling."""
    ids = torch.randint(0, text_config(lm.config).vocab_size, (batch, prompt_len), generator=torch.Generator().manual_seed(0))
    ids = ids.to(next(lm.parameters()).device)
    flops = count_flops(lm, [(0, prompt_len + new_tokens)] * batch, logits=batch * (1 + new_tokens))

    def step() -> dict[str, float]:
        cache = DynamicCache()
        logits = lm(input_ids=ids, **with_cache(lm, cache), use_cache=True, logits_to_keep=1).logits[:, -1]
        for _ in range(new_tokens):
            token = logits.argmax(dim=-1)
            logits = lm(input_ids=token[:, None], **with_cache(lm, cache), use_cache=True).logits[:, -1]
        return {"tokens": batch * new_tokens, "flops": flops}

    return {**measure(step, cfg.warmup, cfg.repeats), "batch": batch, "prompt_len": prompt_len, "new_tokens": new_tokens}
