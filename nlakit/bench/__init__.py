"""`nlakit bench`: how fast nlakit trains and explains, next to a naive baseline and the machine's limit.

Every figure is measured in one process on the given model and shown beside
- a naive baseline: the obvious Hugging Face way of doing the same work (full model, hidden states
  or labels over every position, padding to the longest row, one `generate` call per activation), and
- a limit: what a plain forward+backward (or a plain batched KV-cache decoding loop) of the same
  model reaches on this machine, so `vs_limit` says how much room is left, whatever the hardware.

Tokens/s counts real (non-padding) tokens only: padding is work the method wastes, not work it did.
Each measurement runs warm-up iterations first, then several timed repetitions (time.perf_counter);
the JSON reports medians and the peak resident memory sampled while it ran.
"""

from __future__ import annotations

import ctypes
import datetime
import gc
import json
import os
import platform
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import torch
import transformers
from rich import box
from rich.console import Console
from rich.table import Table
from torch import nn
from transformers import AutoConfig, DynamicCache, LlamaConfig, LlamaForCausalLM, PretrainedConfig

from ..core import dataset
from ..core.ar import Reconstructor, build_reconstructor
from ..core.av import Verbalizer, build_verbalizer
from ..core.config import DEFAULT_MODEL, ARConfig, AVConfig, ExtractConfig, RLConfig, TrainConfig
from ..core.errors import NLAError
from ..core.files import atomic_write_text
from ..core.hooks import decoder_layers, inject, unwrap
from ..core.metrics import mse_nrm
from ..core.models import (
    add_lora,
    autocast,
    default_device,
    load_causal_lm,
    load_tokenizer,
    native_bf16,
    quiet_transformers,
    resolve_model,
    text_config,
    with_cache,
)
from ..core.prompts import ar_text
from ..core.reading import pad_batch
from ..core.sidecar import Sidecar
from ..stages import rl, sft
from ..stages.extract import run_extract
from ..stages.teach import TemplateTeacher, run_teach
from ..stages.trainer import Part, bucketed_batches, optimise, trainable

log = Console(stderr=True)
Step = Callable[[], dict[str, float]]


@dataclass
class BenchConfig:
    model: str = DEFAULT_MODEL
    data: Path | None = None  # taught dataset; None: build a small one from `corpus`
    corpus: str = "builtin"
    quick: bool = False
    warmup: int = 1
    repeats: int = 3
    batch_size: int = 16
    gen_rows: int = 128  # activations explained per generation measurement (one batch)
    gen_batch: int = 128  # Verbalizer.generate's default on a CPU
    max_new_tokens: int = 48
    naive_gen_rows: int = 8  # one HF generate call each: slow, so fewer rows
    scaling_batches: tuple[int, ...] = (4, 8, 16)
    scaling_lengths: tuple[int, ...] = (16, 32, 64)
    scaling_dims: tuple[int, ...] = (64, 128, 256, 576)
    scaling_repeats: int = 2
    seed: int = 0
    threads: int | None = None  # torch threads for the run; None: torch's default
    peak_n: int | None = None  # size of the peak GEMM; None: 2048 on a CPU, 8192 on a GPU
    batch_tokens: int | None = None  # SFT steps on token-budget batches (TrainConfig.batch_tokens) instead of batch_size rows
    sft_only: bool = False  # `sft_speed`: only the peak and AR/AV SFT throughput, with the trainer's GPU settings below
    compile: bool | None = None  # TrainConfig.compile for `sft_speed`
    bf16_weights: bool = False  # TrainConfig.bf16_weights for `sft_speed`
    sft_docs: int = 400  # documents extracted for `sft_speed` (8 positions each): enough rows to fill token budgets

    @classmethod
    def preset(cls, quick: bool = False, **kw: Any) -> BenchConfig:
        """The full preset, or `--quick` (a smoke run): two repetitions of small batches and 8-token generations."""
        if quick:
            small = dict(warmup=1, repeats=2, batch_size=4, gen_rows=4, gen_batch=4, max_new_tokens=8, naive_gen_rows=2,
                         scaling_batches=(2, 4), scaling_lengths=(8, 16), scaling_repeats=1)
            kw = {**small, **kw}
        return cls(quick=quick, **kw)


# ---------------------------------------------------------------- measuring


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


def cycle_batches(lengths: list[int], batch_size: int, seed: int, batch_tokens: int | None = None) -> Iterator[list[int]]:
    """nlakit's length-bucketed batches (`batch_size` rows, or a token budget), epoch after epoch."""
    epoch = 0
    while True:
        yield from bucketed_batches(lengths, batch_size, seed, epoch, batch_tokens)
        epoch += 1


# ---------------------------------------------------------------- physics: FLOPs and the machine's matmul peak


BACKWARD = ("none", "frozen", "full")


@dataclass(frozen=True)
class Shapes:
    """What `count_flops` reads off a model: weights of the blocks' Linears (base, active LoRA adapters), attention
    width (heads * head_dim), number of blocks, LM-head weights (0 without one). Read once, outside timed steps."""

    base: int
    lora: int
    width: int
    layers: int
    head: int

    @classmethod
    def of(cls, model: nn.Module) -> Shapes:
        base = lora = 0
        layers = decoder_layers(model)
        active = set(model.active_adapters) if hasattr(model, "get_base_model") else None  # GRPO's reference adapter idles
        for layer in layers:
            for name, module in layer.named_modules():
                if isinstance(module, nn.Linear):
                    if "lora_" not in name:
                        base += module.weight.numel()
                    elif active is None or name.rsplit(".", 1)[-1] in active:
                        lora += module.weight.numel()
        config = text_config(unwrap(model).config)
        width = config.num_attention_heads * (getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)
        head = unwrap(model).get_output_embeddings()
        return cls(base, lora, width, len(layers), head.weight.numel() if isinstance(head, nn.Linear) else 0)


def count_flops(model: nn.Module | Shapes, rows: list[tuple[int, int]], logits: int = 0, backward: str = "none") -> float:
    """FLOPs of one pass of `model`'s decoder blocks (and LM head) over `rows`, counted from its shapes.

    `rows` are (start, length): `length` positions computed at absolute positions start .. start+length-1,
    each attending causally to every position before it (a KV cache supplies those before `start`).
    Only real tokens are listed, so padding counts nothing: FLOP/s says how much of the machine the real
    work uses. The one convention every figure in `nlakit bench` follows:

    - forward: 2 FLOPs per weight per token for every Linear in the blocks (LoRA adapters included);
      attention 4 * heads * head_dim per (query, key) pair per block (scores, then the weighted sum);
      the LM head 2 * d * vocab per position whose logits are computed (`logits`);
    - backward "none": inference;
      "frozen" (LoRA over a frozen base): the base weights and the LM head pass gradients to their inputs
      (1x their forward) but compute no weight gradients; attention's backward is 2x its forward; LoRA
      adapters 2x (input and weight gradients). So base x2, LM head x2, attention x3, adapters x3;
      "full": every weight trainable, everything x3 (the usual 6 * params * tokens plus attention).
    Left out (each well under 1 % here): norms, activations, softmax, embeddings, the AR's d x d head,
    sliding windows (counted as full causal attention), and that block 0 need not pass gradients to the embeddings.
    """
    if backward not in BACKWARD:
        raise ValueError(f"backward must be one of {BACKWARD}, got {backward!r}")
    shapes = model if isinstance(model, Shapes) else Shapes.of(model)
    tokens = sum(length for _, length in rows)
    pairs = sum(length * start + length * (length + 1) // 2 for start, length in rows)
    factors = {"none": (1, 1, 1, 1), "frozen": (2, 3, 3, 2), "full": (3, 3, 3, 3)}[backward]
    parts = (2 * shapes.base * tokens, 2 * shapes.lora * tokens, 4 * shapes.width * pairs * shapes.layers, 2 * shapes.head * logits)
    return float(sum(f * p for f, p in zip(factors, parts)))


def av_rows(av: Verbalizer, response_lengths: list[int]) -> list[tuple[int, int]]:
    """The positions one AV batch computes: the shared prefix before the marker once, then each row's rest of the
    prompt and its response (teacher-forced, or decoded one token at a time: the same pairs either way)."""
    prompt_len, marker = len(av.prompt_ids), av.marker_pos
    return [(0, marker)] + [(marker, prompt_len - marker + n) for n in response_lengths]


def generation_flops(av: Verbalizer, new_tokens: list[int], shapes: Shapes | None = None) -> float:
    """FLOPs of explaining len(new_tokens) activations: prefill (logits at the last prompt token) then one
    decoding step with full-vocabulary logits per generated token."""
    return count_flops(shapes or av.lm, av_rows(av, new_tokens), logits=len(new_tokens) + sum(new_tokens))


def matmul_peak(dtype: torch.dtype, device: torch.device | str = "cpu", n: int | None = None, repeats: int = 5) -> dict[str, Any]:
    """The machine's measured matmul limit: FLOP/s of one large [n, n] @ [n, n] GEMM in `dtype`, median of `repeats`
    after a warm-up (n: 2048 on a CPU, 8192 on a GPU). Every path's `vs_peak` divides by this, measured in the same run."""
    device = torch.device(device)
    n = n or (8192 if device.type == "cuda" else 2048)
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, generator=generator, device=device).to(dtype)
    b = torch.randn(n, n, generator=generator, device=device).to(dtype)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times = []
    for i in range(repeats + 1):
        sync()
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync()
        if i:  # the first call is the warm-up
            times.append(max(time.perf_counter() - t0, 1e-9))
    step_s = statistics.median(times)
    return {"flops_per_s": 2 * n**3 / step_s, "n": n, "dtype": str(dtype).removeprefix("torch."), "device": str(device),
            "step_s": step_s, "times_s": times}


def lora_backward(model: nn.Module) -> str:
    """The `count_flops` backward of a training path: "full" when the base weights train, "frozen" under LoRA."""
    return "frozen" if any("lora_" in name for name, p in model.named_parameters() if p.requires_grad) else "full"


def random_batches(n: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """The naive baseline's batches: uniformly random rows, whatever their lengths."""
    rng = random.Random(seed)
    while True:
        yield rng.sample(range(n), min(batch_size, n))


# ---------------------------------------------------------------- data


@dataclass
class BenchData:
    texts: list[str]
    vectors: torch.Tensor
    meta: Sidecar


def build_small_dataset(model: str, corpus: str, folder: Path, docs: int = 40, positions: int = 4) -> Path:
    """A taught dataset small enough to build in a minute: 40 documents of at most 64 tokens, template teacher."""
    extract = ExtractConfig(model=model, corpus=corpus, max_docs=docs, max_length=64, positions_per_doc=positions)
    return run_teach(run_extract(extract, folder), TemplateTeacher())


def load_bench_data(folder: Path, model: str) -> BenchData:
    """Training pairs of the dataset, its sidecar pointed at `model` (checked to have the same width)."""
    texts, vectors, _, _, meta = dataset.training_pairs(folder, 0)
    width = load_causal_lm_config(model).hidden_size
    if width != meta.d_model:
        raise NLAError(f"{folder} holds d_model={meta.d_model} vectors but {model} has d_model={width}")
    meta = Sidecar(**{**meta.__dict__, "base_model": model})
    return BenchData(texts, torch.from_numpy(dataset.rows(vectors, range(len(vectors)))), meta)


def load_causal_lm_config(model: str) -> PretrainedConfig:
    """The language model's config (a multimodal wrapper's `text_config`), where depth and width live."""
    return text_config(AutoConfig.from_pretrained(resolve_model(model)))


# ---------------------------------------------------------------- 1. limits


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


# ---------------------------------------------------------------- 2. AR SFT


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


def bench_ar(data: BenchData, cfg: BenchConfig, bf16: bool | None) -> tuple[dict[str, Any], dict[str, Any]]:
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


def naive_ar(data: BenchData, cfg: BenchConfig) -> Step:
    lm = add_lora(load_causal_lm(cfg.model), TrainConfig())
    lm.train()
    head = nn.Linear(data.meta.d_model, data.meta.d_model, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.eye(data.meta.d_model))
    return naive_ar_step(lm, head, load_tokenizer(cfg.model), data, cfg.batch_size, cfg.seed)


# ---------------------------------------------------------------- 3. AV SFT


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


# ---------------------------------------------------------------- 4. generation


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


# ---------------------------------------------------------------- 5. RL


def rl_config(cfg: BenchConfig) -> RLConfig:
    """The RL defaults, with the bench's response cap (and smaller groups in quick mode)."""
    small = {"batch_size": 2, "group_size": 2} if cfg.quick else {}
    return RLConfig(max_new_tokens=cfg.max_new_tokens, seed=cfg.seed, **small)


def bench_rl(av: Verbalizer, data: BenchData, cfg: BenchConfig) -> dict[str, Any]:
    """Time `rl.rl_step` and split each step by the part timings its own log row reports.

    RL starts from SFT folders: this AV and a fresh LoRA AR are saved to a temporary folder and started from.
    Whatever fails here fails the bench: a row that reads "skipped" would hide a broken RL stage.
    """
    rl_cfg = rl_config(cfg)
    rl.check_config(rl_cfg)
    log.log("RL: nlakit.stages.rl.rl_step")
    vectors, baseline = data.vectors.numpy(), data.meta.training_baseline()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nlakit-bench-rl-") as tmp:
        ar = build_reconstructor(data.meta)
        ar.lm = add_lora(ar.lm, ARConfig())
        av.save(Path(tmp) / "av")
        ar.save(Path(tmp) / "ar")
        del ar
        state = rl.start_state(Path(tmp) / "av", Path(tmp) / "ar", data.meta, rl_cfg)

        n, flops_of = rl_cfg.batch_size * rl_cfg.group_size, rl_step_flops(state)

        def step() -> dict[str, float]:
            rows.append(rl.rl_step(state, vectors, rl_cfg, baseline))
            return {"explanations": n, "flops": flops_of(n, rows[-1]["response_len"])}

        result = measure(step, cfg.warmup, cfg.repeats)
    timed = rows[-len(result["times_s"]) :]  # the warm-up steps are not part of the figures
    return {**result, "function": "nlakit.stages.rl.rl_step", "rl_config": asdict(rl_cfg), "parts_s": split_parts(timed)}


def rl_step_flops(state: rl.RLState) -> Callable[[int, float], float]:
    """Approximate FLOPs of one GRPO step of n rollouts, from their mean length (the step logs no more): sampling,
    the AR's reward pass, the policy's forward+backward, the reference's forward, the AR's update."""
    av, ar = state.av, state.ar
    av_shapes, ar_shapes, av_backward, ar_backward = Shapes.of(av.lm), Shapes.of(ar.lm), lora_backward(av.lm), lora_backward(ar.lm)
    ar_prompt = ar.token_lengths([""])[0]

    def flops(n: int, response_len: float) -> float:
        lengths = [round(response_len)] * n
        rows = av_rows(av, lengths)
        ar_rows = [(0, ar_prompt + lengths[0])] * n  # the AR reads about as many tokens as were written
        return (generation_flops(av, lengths, av_shapes) + count_flops(ar_shapes, ar_rows)
                + count_flops(av_shapes, rows, logits=sum(lengths), backward=av_backward) + count_flops(av_shapes, rows, logits=sum(lengths))
                + count_flops(ar_shapes, ar_rows, backward=ar_backward))

    return flops


def split_parts(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Median seconds of generation, reward, vLLM weight sync (when there is one) and update over `rl_step` log rows.

    Each row times its own parts (`rollout_s`, `reward_s`, `sync_s`) and whole step (`step_s`); the update is the rest.
    """
    parts = {"generation": [r["rollout_s"] for r in rows], "reward": [r["reward_s"] for r in rows]}
    if any("sync_s" in r for r in rows):
        parts["sync"] = [r.get("sync_s", 0.0) for r in rows]
    parts["update"] = [r["step_s"] - r["rollout_s"] - r["reward_s"] - r.get("sync_s", 0.0) for r in rows]
    return {part: statistics.median(values) for part, values in parts.items()}


# ---------------------------------------------------------------- 7. scaling


def explanation_of_length(tokenizer, pool: list[int], n_tokens: int, offset: int) -> str:
    """A real-looking explanation of about `n_tokens` tokens: a window of the dataset's own text."""
    start = (offset * 7) % max(1, len(pool) - n_tokens)
    return tokenizer.decode(pool[start : start + n_tokens])


def scaling_sets(tokenizer, data: BenchData, cfg: BenchConfig) -> list[tuple[str, int, list[str], torch.Tensor]]:
    """(axis, value, texts, vectors) for each batch size (real texts) and each explanation length (batch_size rows)."""
    pool = tokenizer.encode(" ".join(data.texts[:200]), add_special_tokens=False)
    sets = []
    for b in cfg.scaling_batches:
        rows = [i % len(data.texts) for i in range(b)]
        sets.append(("batch_size", b, [data.texts[i] for i in rows], data.vectors[rows]))
    for n in cfg.scaling_lengths:
        rows = [i % len(data.texts) for i in range(cfg.batch_size)]
        sets.append(("explanation_tokens", n, [explanation_of_length(tokenizer, pool, n, i) for i in rows], data.vectors[rows]))
    return sets


def run_scaling(make_step: Callable[[list[str], torch.Tensor], Step], tokenizer, data: BenchData, cfg: BenchConfig) -> list[dict[str, Any]]:
    out = []
    for axis, value, texts, vectors in scaling_sets(tokenizer, data, cfg):
        result = measure(make_step(texts, vectors), cfg.warmup, cfg.scaling_repeats)
        out.append({"axis": axis, "value": value, **{k: v for k, v in result.items() if k != "times_s"}})
    return out


def fixed_batches(n: int) -> Iterator[list[int]]:
    while True:
        yield list(range(n))


def ar_scaling(ar: Reconstructor, part: Part, data: BenchData, cfg: BenchConfig, bf16: bool | None) -> list[dict[str, Any]]:
    log.log("AR: scaling with batch size and explanation length")
    return run_scaling(lambda t, v: ar_step(ar, part, t, v, fixed_batches(len(t)), bf16), ar.tokenizer, data, cfg)


def av_scaling(av: Verbalizer, part: Part, data: BenchData, cfg: BenchConfig, bf16: bool | None) -> list[dict[str, Any]]:
    log.log("AV: scaling with batch size and explanation length")
    return run_scaling(lambda t, v: av_step(av, part, t, v, fixed_batches(len(t)), bf16), av.tokenizer, data, cfg)


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
    log.log(f"memory vs d_model: {cfg.scaling_dims}")
    return [memory_for_width(d, data.meta.layer_index + 1, vocab, cfg, 64 if not cfg.quick else 16) for d in cfg.scaling_dims]


# ---------------------------------------------------------------- report


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


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def row(name: str, unit: str, ours: dict, naive: dict, limit: float | None, key: str, frozen: float | None = None) -> dict[str, Any]:
    """One table row: the figure, its naive baseline, its limit (and frozen-weights limit), the ratios, both memory peaks."""
    value, base = ours[key], naive[key]
    out = {"name": name, "unit": unit, "nlakit": value, "naive": base, "limit": limit,
           "vs_naive": ratio(value, base), "vs_limit": ratio(value, limit), "naive_vs_limit": ratio(base, limit),
           "nlakit_peak_rss_mb": ours["peak_rss_mb"], "naive_peak_rss_mb": naive["peak_rss_mb"]}
    if frozen is not None:
        out.update(limit_frozen_weights=frozen, vs_limit_frozen_weights=ratio(value, frozen))
    return out


def summary_rows(ar: dict, av: dict, gen: dict, precision: str, peak: float) -> list[dict[str, Any]]:
    ar_limit, av_limit = limit_for(ar["limits"], precision), limit_for(av["limits"], precision)
    ar_frozen, av_frozen = ar["limits"]["frozen_weights"]["tokens_per_s"], av["limits"]["frozen_weights"]["tokens_per_s"]
    return [
        {**row("AR SFT step", "tokens/s", ar["nlakit"], ar["naive"], ar_limit, "tokens_per_s", ar_frozen),
         **against_peak(ar["nlakit"], ar["limits"][precision], peak), **against_peak(None, ar["limits"]["frozen_weights"], peak, "limit_frozen_weights")},
        {**row("AV SFT step", "tokens/s", av["nlakit"], av["naive"], av_limit, "tokens_per_s", av_frozen),
         **against_peak(av["nlakit"], av["limits"][precision], peak), **against_peak(None, av["limits"]["frozen_weights"], peak, "limit_frozen_weights")},
        {**row("explanations", "activations/s", gen["nlakit"], gen["naive"], None, "activations_per_s"), **against_peak(gen["nlakit"], None, peak)},
        {**row("generation", "tokens/s", gen["nlakit"], gen["naive"], gen["limit"]["tokens_per_s"], "tokens_per_s"),
         **against_peak(gen["nlakit"], gen["limit"], peak)},
    ]


def against_peak(ours: dict | None, limit: dict | None, peak: float, limit_name: str = "limit") -> dict[str, float | None]:
    """Achieved FLOP/s (`count_flops` over the measured time) of nlakit's path and of its limit, and each one's
    fraction of the machine's measured matmul peak in the same dtype."""
    out: dict[str, float | None] = {}
    if ours is not None:
        out.update(flops_per_s=ours["flops_per_s"], vs_peak=ratio(ours["flops_per_s"], peak))
    if limit is not None and "flops_per_s" in limit:
        out.update({f"{limit_name}_flops_per_s": limit["flops_per_s"], f"{limit_name}_vs_peak": ratio(limit["flops_per_s"], peak)})
    return out


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def render_table(results: dict[str, Any]) -> Table:
    """The summary as a rich table that fits 80 columns: figure, naive, limit, ratios, peak MB (nlakit/naive)."""
    table = Table(title=f"nlakit bench: {results['model']['name']} ({results['precision']}, {results['machine']['cpu']})",
                  box=box.SIMPLE_HEAD)
    for column in ("measurement", "unit", "nlakit", "naive", "limit", "/naive", "/limit", "peak MB"):
        text = column in ("measurement", "unit")
        table.add_column(column, justify="left" if text else "right", no_wrap=True)
    for r in results["rows"]:
        unit = r["unit"].replace("tokens", "tok").replace("activations", "act")
        memory = f"{_fmt(r['nlakit_peak_rss_mb'])}/{_fmt(r['naive_peak_rss_mb'])}"
        table.add_row(r["name"], unit, *(_fmt(r[k]) for k in ("nlakit", "naive", "limit", "vs_naive", "vs_limit")), memory)
    rl_row = results["rl"]
    table.add_row("RL step", "s", _fmt(rl_row["step_s"]), *["-"] * 4, _fmt(rl_row["peak_rss_mb"]))
    table.caption = "RL step parts (s): " + ", ".join(f"{k} {_fmt(v)}" for k, v in rl_row["parts_s"].items())
    return table


def render_physics(results: dict[str, Any]) -> Table:
    """Achieved FLOP/s of each path and of its limit, as fractions of the matmul peak measured in the same run."""
    peak = results["peak"]
    table = Table("measurement", "GFLOP/s", "/peak", "limit GFLOP/s", "limit /peak", box=box.SIMPLE_HEAD,
                  title=f"against the matmul peak: {peak['n']}³ {peak['dtype']} GEMM {peak['flops_per_s'] / 1e9:,.0f} GFLOP/s")

    def giga(value: float | None) -> float | None:
        return None if value is None else value / 1e9

    for r in results["rows"]:
        if r["name"] != "explanations":  # the same measurement as generation
            table.add_row(r["name"], _fmt(giga(r["flops_per_s"])), _fmt(r["vs_peak"]), _fmt(giga(r.get("limit_flops_per_s"))),
                          _fmt(r.get("limit_vs_peak")))
    table.add_row("RL step", _fmt(giga(results["rl"]["flops_per_s"])), _fmt(results["rl"]["vs_peak"]), "-", "-")
    table.caption = "FLOPs counted from the model's shapes (bench.count_flops); SFT limits: full fine-tune fwd+bwd"
    return table


def render_scaling(results: dict[str, Any]) -> list[Table]:
    """Step time vs batch size and explanation length (AR, AV), and memory vs d_model."""
    steps = Table("axis", "value", "AR step s", "AV step s", "AR tok/s", "AV tok/s", title="scaling", box=box.SIMPLE_HEAD)
    for ar, av in zip(results["scaling"]["ar"], results["scaling"]["av"]):
        steps.add_row(ar["axis"], str(ar["value"]), *(_fmt(x) for x in (ar["step_s"], av["step_s"], ar["tokens_per_s"], av["tokens_per_s"])))
    widths = Table("d_model", "layers", "params MB", "peak delta MB", "step s", title="memory vs d_model (AR-shaped LoRA step)",
                   box=box.SIMPLE_HEAD)
    for w in results["scaling"]["memory_vs_d_model"]:
        widths.add_row(str(w["d_model"]), str(w["layers"]), *(_fmt(x) for x in (w["params_mb"], w["rss_delta_mb"], w["step_s"])))
    return [steps, widths]


# ---------------------------------------------------------------- SFT speed against the peak (the GPU check)


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
    if out is not None:
        atomic_write_text(Path(out), json.dumps(results, indent=2, default=str) + "\n")
    return results


# ---------------------------------------------------------------- run


def run_bench(cfg: BenchConfig, out: Path | None = None) -> dict[str, Any]:
    """Run every measurement on `cfg.model`; write the JSON (atomically) to `out` and return it."""
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        return sft_speed(cfg, out) if cfg.sft_only else _run_bench(cfg, out)
    finally:
        torch.set_num_threads(threads)


def warn_if_busy(machine: dict[str, Any]) -> None:
    """Other jobs on the cores skew every figure (and oversubscribed torch threads can slow steps many times over)."""
    if machine["loadavg_start"][0] > 0.5 * (machine["cores"] or 1):
        log.print(f"[bold yellow]warning:[/] load average {machine['loadavg_start'][0]:.1f} on {machine['cores']} cores: "
                  "other jobs are running, the figures will be skewed (recorded in machine.loadavg_start)")


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
    del verbalizer
    gc.collect()
    vocab = len(load_tokenizer(cfg.model))
    results = {
        "machine": {**machine, "loadavg_end": list(os.getloadavg())},
        "config": {**asdict(cfg), "data": str(folder) if cfg.data else "built on the fly (40 docs, 64 tokens, template teacher)"},
        "model": {"name": cfg.model, "d_model": data.meta.d_model, "layer_index": data.meta.layer_index,
                  "n_layers": load_causal_lm_config(cfg.model).num_hidden_layers, "vocab": vocab, "train_rows": len(data.texts)},
        "precision": precision,
        "peak": peak,
        "rows": summary_rows(ar, av["sft"], av["generation"], precision, peak["flops_per_s"]),
        "ar_sft": ar, "av_sft": av["sft"], "generation": av["generation"], "rl": rl_row,
        "scaling": {"ar": ar_scale, "av": av["scaling"], "memory_vs_d_model": memory_scaling(data, cfg, vocab)},
    }
    results["total_s"] = time.perf_counter() - started
    if out is not None:
        atomic_write_text(Path(out), json.dumps(results, indent=2, default=str) + "\n")
    return results
