"""Int8 matrix products for inference on a CPU (`--int8`): SmoothQuant W8A8, activations scaled per row.

On a CPU without native bf16 (AVX2/FMA, most laptops) the fp32 path is bound by arithmetic: the AV's
decoding runs its products near the fp32 peak and still explains only ~3.4 vectors a second with
every control (docs/measurements/fp32-path.md). Integer products do more per instruction:
`torch._int_mm` (oneDNN) runs the decode's shapes at ~2x the fp32 rate on AVX2 and ~4.5x with
AVX512-VNNI. The readings change, so it is a choice, not a default: docs/measurements/int8-path.md
gives the speed and what it costs in fve_nrm.

What is quantized: every `nn.Linear` of a frozen inference copy (inference.inference_copy), weights
per output channel, each row of activations by its own largest value at run time (so a row never
depends on the others in its batch). Embeddings, norms, attention and the residual stream stay fp32.
Activations carry a few channels ~20x larger than the rest, which would leave the others few levels;
SmoothQuant (Xiao et al., 2023) moves that range into the weights with a per-channel factor
s_j = max|x_j|^a / max|W_j|^(1-a), a = 0.5 (its default; the best of 0.3-0.85 measured on the shipped
AR and AV), from the activations of a fixed calibration text: W x = (W s)(x / s) exactly, and both
halves quantize well (the shipped AR's reconstructions: cos 0.9997 to fp32's smoothed, 0.9986 not).

Without VNNI, oneDNN multiplies int8 pairs into 16-bit sums that saturate: products of full-range
values come out wrong (measured: errors of 10^5 on sums of 10^6). `weight_levels` finds out on the
machine itself and quantizes weights to 63 levels a side there (7 bits, every product exact)
instead of 127.
"""

from __future__ import annotations

import functools

import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from .corpus import load_corpus
from .models import text_config

SMOOTHING = 0.5  # SmoothQuant's migration strength alpha
FULL_LEVELS, SAFE_LEVELS = 127, 63  # int8 weight levels a side: all of them, or 7 bits where the CPU's products saturate
CALIBRATION_DOCS = 4  # built-in documents whose first CALIBRATION_TOKENS tokens calibrate the smoothing
CALIBRATION_TOKENS = 128


class Int8Linear(nn.Module):
    """y = W x + b with W and each row of x in int8 (after SmoothQuant's factor), products in int32, result fp32."""

    def __init__(self, linear: nn.Linear, input_range: torch.Tensor | None = None, alpha: float = SMOOTHING):
        super().__init__()
        weight = linear.weight.detach().float()
        smooth = torch.ones(weight.shape[1], device=weight.device)
        if input_range is not None:
            smooth = (input_range.float().clamp_min(1e-5) ** alpha / weight.abs().amax(0).clamp_min(1e-5) ** (1 - alpha)).clamp_min(1e-5)
        weight = weight * smooth
        scale = weight.abs().amax(1).clamp_min(1e-12) / weight_levels()
        self.register_buffer("qweight", torch.round(weight / scale[:, None]).to(torch.int8))  # [out, in]: _int_mm reads its .t()
        self.register_buffer("weight_scale", scale)
        self.register_buffer("inv_smooth", 1 / smooth)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float())
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).float() * self.inv_smooth
        if not len(rows):  # every row of a batch finished: nothing to multiply
            return rows.new_zeros((*x.shape[:-1], self.out_features))
        scale = rows.abs().amax(1, keepdim=True).clamp_min(1e-12) / FULL_LEVELS  # activations always get all 127 levels
        product = torch._int_mm(torch.round(rows / scale).to(torch.int8), self.qweight.t())
        out = product.float() * scale * self.weight_scale
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], self.out_features)


@functools.lru_cache(maxsize=1)
def weight_levels() -> int:
    """FULL_LEVELS where this CPU's int8 products are exact at full range, else SAFE_LEVELS (asked of the kernel itself: an
    AVX2 CPU without VNNI saturates 16-bit pair sums, a VNNI one does not; a few microseconds, once per process)."""
    for rows in (1, 64):  # one decoding row and a batch: the kernel may differ by shape
        a = torch.full((rows, 256), 127, dtype=torch.int8)
        w = torch.full((64, 256), 127, dtype=torch.int8)  # [out, in], read through .t() as Int8Linear does
        if not bool((torch._int_mm(a, w.t()) == 127 * 127 * 256).all()):
            return SAFE_LEVELS
    return FULL_LEVELS


def calibration_texts() -> list[str]:
    """The fixed text the smoothing factors come from: the first built-in documents (the same for every model)."""
    return [doc.text for doc in load_corpus(limit=CALIBRATION_DOCS)]


def _positions(model: nn.Module) -> int:
    """CALIBRATION_TOKENS, or fewer where the model's position embeddings end sooner (GPT-2 style)."""
    config = text_config(model.config)
    limits = [getattr(config, name, None) for name in ("max_position_embeddings", "n_positions")]
    return min([CALIBRATION_TOKENS, *(n for n in limits if isinstance(n, int))])


@torch.no_grad()
def input_ranges(model: nn.Module, tokenizer: PreTrainedTokenizerBase) -> dict[str, torch.Tensor]:
    """The largest |input| of each channel of every nn.Linear in `model` over the calibration texts, by module name."""
    ranges: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            seen = args[0].detach().reshape(-1, args[0].shape[-1]).abs().amax(0).float()
            ranges[name] = seen if name not in ranges else torch.maximum(ranges[name], seen)
        return hook

    hooks = [m.register_forward_pre_hook(record(n)) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    try:
        device, length = next(model.parameters()).device, _positions(model)
        for text in calibration_texts():  # one text a call: no padding to mask
            model(input_ids=tokenizer(text, return_tensors="pt")["input_ids"][:, :length].to(device))
    finally:
        for hook in hooks:
            hook.remove()
    return ranges


def quantize_linears(model: nn.Module, tokenizer: PreTrainedTokenizerBase) -> nn.Module:
    """`model` (a frozen fp32 inference copy) with every nn.Linear replaced, in place, by an Int8Linear smoothed for it."""
    ranges = input_ranges(model, tokenizer)
    names = {id(m): n for n, m in model.named_modules()}
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                setattr(parent, name, Int8Linear(child, ranges.get(names[id(child)])))
    return model
