"""How a frozen model runs fast for inference: LoRA merged, weights pre-cast, a decode-step attention.

The AV's decoding loop (av.py) spent most of its time outside the arithmetic on a CPU, for four
reasons measured on SmolLM2-135M (batch 64, 2 cores):

- autocast casts every fp32 weight to bf16 again at every step (autocast only caches the casts of
  weights that require grad, inside one context): about a quarter of the time;
- unmerged LoRA triples the number of matmul calls (two small ones beside each projection);
- PyTorch's CPU SDPA kernel at a query length of 1 (bf16, grouped KV heads) takes ~6 ms per
  layer and batch where two plain matmuls take ~0.5 ms: over half of each step;
- a DynamicCache grows by `torch.cat`, copying the whole cache at every step of every layer.

`inference_copy` builds, once, a copy of a frozen model with the adapters merged and, where
autocast runs bf16, every projection's weight stored in bf16, which is what autocast computes
with anyway (the embeddings, norms and residual stream stay fp32, as under autocast; merging
W + BA before rounding is the one difference, and it can flip a near-tie greedy token). On a CPU
without native bf16 the copy keeps fp32 weights: merged adapters and the decode-step attention
are the same win there. No copy is taken where a weight trains: a policy being trained (GRPO)
generates with its live weights. The AR's scoring uses the same kind of copy (`fast_model`).
`decode_attention` swaps in a two-matmul attention for query length 1 on the CPU and hands every
other call to SDPA unchanged. `growing_cache` writes each new position into a buffer with room to
spare instead of concatenating.

Measured together (the shipped NLA, 2 cores, 2026-12-02): generation 5.4 -> 10.6 activations/s at
batch 64 (15 at the new default of 128), one explorer click (batch 1) 4.2 -> 1.7 s.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch
from torch import nn
from transformers import AttentionInterface, DynamicCache, PreTrainedTokenizerBase
from transformers.cache_utils import DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS

from .distributed import is_sharded
from .hooks import unwrap
from .int8 import quantize_linears

DECODE_ATTENTION = "nlakit_decode"


def decode_step_attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                          attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                          **kwargs: object) -> tuple[torch.Tensor, None]:
    """Attention of one new token per row against the KV cache as two batched matmuls (GQA without copies).

    query [B, H, 1, D], key/value [B, KV, T, D] -> [B, 1, H, D], as transformers' attention functions return.
    Anything else (prefill, dropout, soft-capping, attention sinks) goes to SDPA as it would have.
    """
    if query.shape[2] != 1 or dropout or kwargs.get("softcap") is not None or kwargs.get("s_aux") is not None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs)
    batch, heads, _, dim = query.shape
    kv_heads, length = key.shape[1], key.shape[2]
    # query head h reads KV head h // group (transformers' repeat_kv order)
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim)
    scores = torch.matmul(grouped, key.transpose(-1, -2)).float() * (dim**-0.5 if scaling is None else scaling)
    if attention_mask is not None:  # [B, 1, 1, T]: bool (True = attend) or additive
        mask = attention_mask[..., -length:].reshape(batch, 1, 1, length)
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    weights = scores.softmax(-1).to(value.dtype)
    return torch.matmul(weights, value).reshape(batch, 1, heads, dim), None


AttentionInterface.register(DECODE_ATTENTION, decode_step_attention)
ALL_MASK_ATTENTION_FUNCTIONS.register(DECODE_ATTENTION, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])


def _configs(model: nn.Module) -> list[object]:
    """The model's config and its sub-configs (a multimodal wrapper keeps the text model's in text_config)."""
    config = unwrap(model).config
    return [config] + [sub for name in ("text_config",) if (sub := getattr(config, name, None)) is not None]


@contextlib.contextmanager
def decode_attention(model: nn.Module) -> Iterator[None]:
    """Use `decode_step_attention` inside the block where the model runs SDPA on a CPU; elsewhere change nothing."""
    device = next(model.parameters()).device
    swapped = [c for c in _configs(model) if device.type == "cpu" and getattr(c, "_attn_implementation", None) == "sdpa"]
    for config in swapped:
        config._attn_implementation = DECODE_ATTENTION
    try:
        yield
    finally:
        for config in swapped:
            config._attn_implementation = "sdpa"


def inference_copy(model: nn.Module, bf16: bool, int8: PreTrainedTokenizerBase | None = None) -> nn.Module:
    """A frozen copy for inference: adapters merged and, under bf16 autocast, projection weights in bf16; with `int8` (the
    model's tokenizer, which calibrates it) every projection an int8.Int8Linear instead (a CPU without native bf16, or `--int8`).

    Merging pays on every CPU: unmerged LoRA adds two small matmuls beside every projection, which
    cost about as much as the projection itself at decode time. Where bf16 is not native (AVX2-only
    CPUs, most laptops) the copy keeps fp32 weights, so the numbers are those of the fp32 model up
    to the rounding of W + BA. `model` itself is returned where the copy would not pay or not be
    exact: weights that train (RL's policy, the online AR), weights already in a low precision (a
    model loaded in bf16 has nothing to gain), or a model sharded by FSDP or spread by a device map
    (the copy would need the memory twice).
    """
    weights = list(model.parameters())
    if any(p.requires_grad for p in weights) or weights[0].dtype != torch.float32 or _spread(unwrap(model)) or is_sharded(model):
        return model
    if not bf16 and int8 is None and not hasattr(model, "merge_and_unload"):
        return model  # fp32 without adapters: the model is already what the copy would be
    merged = copy.deepcopy(model)
    if hasattr(merged, "merge_and_unload"):
        merged = merged.merge_and_unload()
    if int8 is not None:
        quantize_linears(merged.eval().requires_grad_(False), int8)
    elif bf16:
        head = merged.get_output_embeddings()  # the AR has none (an Identity)
        tied = isinstance(head, nn.Linear) and head.weight is merged.get_input_embeddings().weight
        for module in merged.modules():
            if isinstance(module, nn.Linear) and (module is not head or not tied):
                module.weight.data = module.weight.data.to(torch.bfloat16)
        if tied:  # the embedding stays fp32 (the residual stream starts from it); the head gets its own bf16 copy
            head.weight = nn.Parameter(head.weight.detach().to(torch.bfloat16), requires_grad=False)
    return merged.eval().requires_grad_(False)


def fast_model(owner: nn.Module, bf16: bool, int8: bool = False) -> nn.Module:
    """`owner.lm` (an AV's or AR's model), or its `inference_copy`, built once per `owner.lm` and precision, kept on `owner`.

    Kept as a plain attribute, not a submodule: it is neither saved, nor counted, nor trained. `int8`: the int8 copy
    (calibrated with `owner.tokenizer`), which runs without bf16 autocast.
    """
    key = (bf16, int8)
    cached = owner.__dict__.get("_inference_copy")
    if cached is None or cached[0] is not owner.lm or cached[1] != key:
        cached = (owner.lm, key, inference_copy(owner.lm, bf16, owner.tokenizer if int8 else None))
        object.__setattr__(owner, "_inference_copy", cached)
    return cached[2]


def _spread(model: nn.Module) -> bool:
    """Placed across devices by accelerate (a device map): a copy would need the memory twice where memory is what ran out."""
    return len(set(getattr(model, "hf_device_map", {}).values())) > 1


class GrowingLayer(DynamicLayer):
    """A cache layer whose keys and values are views of buffers with room for `capacity` positions.

    A decoding step then writes one slot per row; it copies the filled part only when the buffer
    is full (doubling it) or rows leave the batch. Generation only: writing into a buffer in
    place would break the backward of earlier steps, so training keeps DynamicLayer.
    """

    capacity = 256

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object, **kwargs: object) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        length = self.get_seq_length()
        end = length + key_states.shape[-2]
        if length == 0:
            self._rebuffer(key_states.new_empty((*key_states.shape[:-2], 0, key_states.shape[-1])),
                           value_states.new_empty((*value_states.shape[:-2], 0, value_states.shape[-1])), end)
        elif end > self._keys.shape[-2]:
            self._rebuffer(self.keys, self.values, 2 * end)
        self._keys[..., length:end, :] = key_states
        self._values[..., length:end, :] = value_states
        self.keys, self.values = self._keys[..., :end, :], self._values[..., :end, :]
        return self.keys, self.values

    def _rebuffer(self, keys: torch.Tensor, values: torch.Tensor, at_least: int) -> None:
        """New buffers holding `keys`/`values` ([B, KV, T, D]) at the front, with room for max(capacity, at_least) positions."""
        room = max(self.capacity, at_least, keys.shape[-2])
        self._keys = keys.new_empty((*keys.shape[:-2], room, keys.shape[-1]))
        self._values = values.new_empty((*values.shape[:-2], room, values.shape[-1]))
        length = keys.shape[-2]
        self._keys[..., :length, :], self._values[..., :length, :] = keys, values
        self.keys, self.values = self._keys[..., :length, :], self._values[..., :length, :]

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self.get_seq_length() > 0:
            self._rebuffer(self.keys.repeat_interleave(repeats, dim=0), self.values.repeat_interleave(repeats, dim=0), 0)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.get_seq_length() > 0:
            self._rebuffer(self.keys[indices], self.values[indices], 0)


def growing_cache(capacity: int) -> DynamicCache:
    """A DynamicCache whose layers are GrowingLayers sized for `capacity` positions (prompt plus the token cap)."""
    cache = DynamicCache()
    cache.layer_class_to_replicate = type("Sized", (GrowingLayer,), {"capacity": capacity})
    return cache
