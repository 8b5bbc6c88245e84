"""How the cost of a step grows: AR and AV step time with batch size and explanation length (the step given by
`ar_sft`/`av_sft`), and peak memory with the model's width (random Llamas shaped like SmolLM2)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

from ..core.config import BenchConfig, TrainConfig
from ..core.metrics import mse_nrm
from ..core.models import add_lora
from ..stages.trainer import trainable
from .data import BenchData
from .measure import Step, adamw_part, log, measure, release_free_memory, rss_bytes, train_step


def explanation_of_length(tokenizer, pool: list[int], n_tokens: int, offset: int) -> str:
    """A real-looking explanation of about `n_tokens` tokens: a window of the dataset's own text."""
    start = (offset * 7) % max(1, len(pool) - n_tokens)
    return tokenizer.decode(pool[start : start + n_tokens])


def scaling_sets(tokenizer, data: BenchData, cfg: BenchConfig) -> list[tuple[str, int, list[str], torch.Tensor]]:
    """(axis, value, texts, vectors) for each batch size (real texts) and each explanation length (batch_size rows)."""
    pool = tokenizer.encode(" ".join(data.texts[:200]), add_special_tokens=False)
    sets = []
    for b in cfg.sizes("scaling_batches"):
        rows = [i % len(data.texts) for i in range(b)]
        sets.append(("batch_size", b, [data.texts[i] for i in rows], data.vectors[rows]))
    for n in cfg.sizes("scaling_lengths"):
        rows = [i % len(data.texts) for i in range(cfg.batch_size)]
        sets.append(("explanation_tokens", n, [explanation_of_length(tokenizer, pool, n, i) for i in rows], data.vectors[rows]))
    return sets


def run_scaling(make_step: Callable[[list[str], torch.Tensor], Step], tokenizer, data: BenchData, cfg: BenchConfig) -> list[dict[str, Any]]:
    """`make_step(texts, vectors)` measured at each scaling point."""
    out = []
    for axis, value, texts, vectors in scaling_sets(tokenizer, data, cfg):
        result = measure(make_step(texts, vectors), cfg.warmup, cfg.scaling_repeats)
        out.append({"axis": axis, "value": value, **{k: v for k, v in result.items() if k != "times_s"}})
    return out


def random_llama(d: int, layers: int, vocab: int) -> nn.Module:
    """A random Llama of width d shaped like SmolLM2 (head size 64, 3:1 grouped KV where it divides, MLP 8/3 d)."""
    heads = max(1, d // 64)
    kv = heads // 3 if heads % 3 == 0 else heads
    config = LlamaConfig(vocab_size=vocab, hidden_size=d, intermediate_size=(8 * d) // 3, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=512, tie_word_embeddings=True)
    torch.manual_seed(0)
    return LlamaForCausalLM(config)


def width_step(lm: nn.Module, batch: int, length: int) -> Step:
    """An AR-shaped LoRA step on random tokens: decoder, last position, mse_nrm to a random target."""
    vocab, d = lm.config.vocab_size, lm.config.hidden_size
    ids = torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(0))
    target = torch.randn(batch, d, generator=torch.Generator().manual_seed(1))

    def loss_fn() -> tuple[torch.Tensor, dict[str, float]]:
        hidden = lm.get_base_model().get_decoder()(input_ids=ids).last_hidden_state[:, -1]
        return mse_nrm(hidden, target).mean(), {"tokens": ids.numel()}

    return train_step(adamw_part("width", lm, trainable(lm)), loss_fn)


def memory_for_width(d: int, layers: int, vocab: int, cfg: BenchConfig, length: int) -> dict[str, Any]:
    """Peak RSS while taking AR-style LoRA steps on a random width-d model; delta counted from before it was built."""
    release_free_memory()
    before = rss_bytes()
    lm = add_lora(random_llama(d, layers, vocab), TrainConfig())
    lm.train()
    params_mb = sum(p.numel() * p.element_size() for p in lm.parameters()) / 2**20
    timing = measure(width_step(lm, cfg.batch_size, length), cfg.warmup, cfg.scaling_repeats)
    del lm
    gc.collect()
    return {"d_model": d, "layers": layers, "batch": cfg.batch_size, "length": length, "params_mb": params_mb,
            "step_s": timing["step_s"], "tokens_per_s": timing["tokens_per_s"], "peak_rss_mb": timing["peak_rss_mb"],
            "rss_delta_mb": (timing["peak_rss_mb"] * 2**20 - before) / 2**20}


def memory_scaling(data: BenchData, cfg: BenchConfig, vocab: int) -> list[dict[str, Any]]:
    """Peak memory vs d_model at the AR's depth (K+1 blocks) and the tokenizer's vocabulary."""
    log.log(f"memory vs d_model: {cfg.sizes('scaling_dims')}")
    return [memory_for_width(d, data.meta.layer_index + 1, vocab, cfg, 64 if not cfg.quick else 16) for d in cfg.sizes("scaling_dims")]
