"""FLOPs of the work a bench step does, counted from the model's shapes, so each figure reads as a fraction of the machine.

One convention for every figure (`count_flops`); the machine's measured matmul peak that they are divided by is
`machine.matmul_peak`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..core.av import Verbalizer
from ..core.hooks import decoder_layers, unwrap
from ..core.models import text_config

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


def lora_backward(model: nn.Module) -> str:
    """The `count_flops` backward of a training path: "full" when the base weights train, "frozen" under LoRA."""
    return "frozen" if any("lora_" in name for name, p in model.named_parameters() if p.requires_grad) else "full"


def av_rows(av: Verbalizer, response_lengths: list[int]) -> list[tuple[int, int]]:
    """The positions one AV batch computes: the shared prefix before the marker once, then each row's rest of the
    prompt and its response (teacher-forced, or decoded one token at a time: the same pairs either way)."""
    prompt_len, marker = len(av.prompt_ids), av.marker_pos
    return [(0, marker)] + [(marker, prompt_len - marker + n) for n in response_lengths]


def generation_flops(av: Verbalizer, new_tokens: list[int], shapes: Shapes | None = None) -> float:
    """FLOPs of explaining len(new_tokens) activations: prefill (logits at the last prompt token) then one
    decoding step with full-vocabulary logits per generated token."""
    return count_flops(shapes or av.lm, av_rows(av, new_tokens), logits=len(new_tokens) + sum(new_tokens))
