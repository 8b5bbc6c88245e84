"""Int8 matrix products for inference on a CPU: SmoothQuant W8A8 after a Hadamard rotation, activations scaled per row.

On a CPU without native bf16 (AVX2/FMA, most laptops) the fp32 path is bound by arithmetic: the AV's
decoding runs its products near the fp32 peak and still explains only ~3.4 vectors a second with
every control (docs/measurements/fp32-path.md). Integer products do more per instruction:
`torch._int_mm` (oneDNN) runs the decode's shapes at ~2x the fp32 rate on AVX2 and ~4.5x with
AVX512-VNNI. So where a CPU would run fp32 products, `NLA.load` runs these instead (`--no-int8`: the
exact path; `--int8` asks for them anywhere on a CPU). The readings change a little: on 2,878 held-out
tokens fve_nrm within 0.01 of fp32's, differences inside the noise (docs/measurements/int8-path.md).

What is quantized: every `nn.Linear` of a frozen inference copy (inference.inference_copy), weights
per output channel, each row of activations by its own largest value at run time (so a row never
depends on the others in its batch). Embeddings, norms, attention and the residual stream stay fp32.
Two steps, both exact in real arithmetic, give the 8 bits less range to cover:
- SmoothQuant (Xiao et al., 2023): activations carry a few channels ~20x larger than the rest; a
  per-channel factor s_j = max|x_j|^a / max|W_j|^(1-a), a = 0.5 (its default; the best of 0.3-0.85
  measured), from the activations of a fixed calibration text, moves that range into the weights:
  W x = (W s)(x / s). Projections that read one input (q, k, v; gate, up) share one factor, over their
  weights together, and one quantized copy of that input (InputQuantizer).
- A block Hadamard rotation (as QuaRot, Ashkboos et al., 2024): W x = (W H)(H x) with H orthonormal and
  symmetric, in blocks of 64 channels, spreads what stands out in one row (which no calibrated factor
  foresees) over its block. On 2,878 held-out tokens the share of the shipped AV's greedy explanations
  identical to fp32's rose from 0.46 to 0.69 (0.33 to 0.54 with 63 weight levels), for ~5 % of the speed.

Without VNNI, oneDNN multiplies int8 pairs into 16-bit sums that saturate: products of full-range
values come out wrong (measured: errors of 10^5 on sums of 10^6). `weight_levels` finds out on the
machine itself and quantizes weights to 63 levels a side there (7 bits, every product exact)
instead of 127.
"""

from __future__ import annotations

import functools
import math
import weakref

import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from .corpus import load_corpus
from .models import text_config

SMOOTHING = 0.5  # SmoothQuant's migration strength alpha
FULL_LEVELS, SAFE_LEVELS = 127, 63  # int8 weight levels a side: all of them, or 7 bits where the CPU's products saturate
CALIBRATION_DOCS = 4  # built-in documents whose first CALIBRATION_TOKENS tokens calibrate the smoothing
CALIBRATION_TOKENS = 128
ROTATION_BLOCK = 64  # inputs are rotated by a Hadamard matrix in blocks of this many channels (where the width allows)


@functools.lru_cache(maxsize=8)
def hadamard(size: int) -> torch.Tensor:
    """The orthonormal, symmetric Hadamard matrix of a power-of-two `size` (Sylvester's construction): H @ H = I."""
    matrix = torch.ones(1, 1)
    while matrix.shape[0] < size:
        matrix = torch.cat([torch.cat([matrix, matrix], 1), torch.cat([matrix, -matrix], 1)])
    return matrix / math.sqrt(size)


def quantize_rows(rows: torch.Tensor, levels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row of a 2-D `rows` scaled by its own largest |value| to `levels` a side and rounded: int8 rows, scales [N, 1]."""
    scale = rows.abs().amax(1, keepdim=True).clamp_min(1e-12) / levels
    return torch.round(rows / scale).to(torch.int8), scale


class InputQuantizer(nn.Module):
    """Smooths, rotates and quantizes the rows of one input to int8, once for every projection that reads it.

    q, k and v read the same tensor, and so do the MLP's gate and up projections: they share one quantizer (one
    smoothing factor, SmoothQuant's rule over their weights together), and the second and third reuse the first's
    int8 rows when handed the very same tensor, unchanged since (`x._version`).
    """

    def __init__(self, weights: list[torch.Tensor], input_range: torch.Tensor | None = None, alpha: float = SMOOTHING):
        super().__init__()
        in_features = weights[0].shape[1]
        smooth = torch.ones(in_features, device=weights[0].device)
        if input_range is not None:
            weight_range = torch.stack([w.detach().float().abs().amax(0) for w in weights]).amax(0)
            smooth = (input_range.float().clamp_min(1e-5) ** alpha / weight_range.clamp_min(1e-5) ** (1 - alpha)).clamp_min(1e-5)
        self.register_buffer("smooth", smooth)
        self.block = math.gcd(in_features, ROTATION_BLOCK)  # a power of two; 1 (no rotation) for an odd width
        self.register_buffer("rotation", hadamard(self.block).to(smooth.device), persistent=False)
        self.in_features, self.readers = in_features, len(weights)
        self._last: tuple | None = None  # (weak reference to the input, its version, its int8 rows and scales, uses left)

    def __getstate__(self) -> dict:
        """Copied or pickled without the cached rows (a weak reference cannot be copied; the rows are one forward's)."""
        return {**self.__dict__, "_last": None}

    def rotate(self, rows: torch.Tensor) -> torch.Tensor:
        """`rows` @ blockdiag(H, ..., H): applied to the weights' rows and to the inputs, it cancels (H @ H = I)."""
        if self.block == 1:
            return rows
        return (rows.reshape(-1, self.block) @ self.rotation).reshape(rows.shape)

    def weight(self, weight: torch.Tensor) -> torch.Tensor:
        """A reader's fp32 weight [out, in] as its int8 products see it: times the smoothing factor, rotated."""
        return self.rotate(weight.detach().float() * self.smooth)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row of `x` ([..., in]) smoothed, rotated and scaled by its own largest value: int8 rows [N, in], scales [N, 1]."""
        last, version = self._last, None if x.is_inference() else x._version  # inference tensors keep no version
        if last is not None and last[0]() is x and version is not None and last[1] == version:
            quantized, uses = last[2], last[3] - 1
            self._last = (*last[:3], uses) if uses else None  # the last reader lets go of the rows
            return quantized
        rows = self.rotate(x.reshape(-1, self.in_features).float() / self.smooth)
        quantized = quantize_rows(rows, FULL_LEVELS)  # activations always get all 127 levels
        self._last = (weakref.ref(x), version, quantized, self.readers - 1) if self.readers > 1 else None
        return quantized


class Int8Linear(nn.Module):
    """y = W x + b with W and each row of x in int8 (after the InputQuantizer's smoothing and rotation), products in
    int32, the result in fp32."""

    def __init__(self, linear: nn.Linear, quantizer: InputQuantizer | None = None):
        super().__init__()
        self.quantizer = quantizer or InputQuantizer([linear.weight])
        qweight, scale = quantize_rows(self.quantizer.weight(linear.weight), weight_levels())  # per output channel
        self.register_buffer("qweight", qweight)  # [out, in]: _int_mm reads its .t()
        self.register_buffer("weight_scale", scale.flatten())
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float())
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not x.numel():  # every row of a batch finished: nothing to multiply
            return x.new_zeros((*x.shape[:-1], self.out_features), dtype=torch.float32)
        rows, scale = self.quantizer(x)
        out = torch._int_mm(rows, self.qweight.t()).float().mul_(scale).mul_(self.weight_scale)
        if self.bias is not None:
            out.add_(self.bias)
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
def input_ranges(model: nn.Module, tokenizer: PreTrainedTokenizerBase) -> tuple[dict[str, torch.Tensor], list[list[str]]]:
    """Over the calibration texts: the largest |input| of each channel of every nn.Linear in `model`, by module name, and
    the names grouped by the input they read (the same tensor handed to each in turn, as q, k and v are)."""
    ranges: dict[str, torch.Tensor] = {}
    groups: list[list[str]] = []
    previous: list[torch.Tensor] = []  # the input the last hook saw, alive until the next call compares with it

    def record(name: str):
        def hook(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            x = args[0]
            seen = x.detach().reshape(-1, x.shape[-1]).abs().amax(0).float()
            first_call = name not in ranges
            ranges[name] = seen if first_call else torch.maximum(ranges[name], seen)
            if first_call:  # the groups come from one pass over the model
                if previous and previous[0] is x:
                    groups[-1].append(name)
                else:
                    groups.append([name])
            previous[:] = [x]
        return hook

    hooks = [m.register_forward_pre_hook(record(n)) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    try:
        device, length = next(model.parameters()).device, _positions(model)
        for text in calibration_texts():  # one text a call: no padding to mask
            model(input_ids=tokenizer(text, return_tensors="pt")["input_ids"][:, :length].to(device))
    finally:
        for hook in hooks:
            hook.remove()
    return ranges, groups


def quantize_linears(model: nn.Module, tokenizer: PreTrainedTokenizerBase) -> nn.Module:
    """`model` (a frozen fp32 inference copy) with every nn.Linear replaced, in place, by an Int8Linear smoothed for it;
    those that read one input share its InputQuantizer."""
    ranges, groups = input_ranges(model, tokenizer)
    linears = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    groups += [[name] for name in linears if name not in ranges]  # never called on the calibration text: not smoothed
    for group in groups:
        quantizer = InputQuantizer([linears[name].weight for name in group], ranges.get(group[0]))
        for name in group:
            parent_name, _, child_name = name.rpartition(".")
            setattr(model.get_submodule(parent_name), child_name, Int8Linear(linears[name], quantizer))
    return model
