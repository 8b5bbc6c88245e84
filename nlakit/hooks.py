"""The three places nlakit touches a model's insides: reading block K, writing block K, and
writing the activation over the marker's embedding.

Layer convention (pinned by a test): layer K is the output of decoder block K, which is
`hidden_states[K + 1]` in Hugging Face terms (index 0 is the embedding output). Forward hooks are
global state, so each is a context manager whose handle is removed in `finally`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from .errors import NLAError


def unwrap(model: nn.Module) -> nn.Module:
    """The plain Hugging Face model under a PEFT wrapper (the model itself otherwise)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The list of decoder blocks: the one place that knows where architectures keep them."""
    inner = unwrap(model)
    decoder = inner.get_decoder() if hasattr(inner, "get_decoder") else inner
    for candidate in (decoder, getattr(decoder, "language_model", None), getattr(decoder, "model", None)):
        if candidate is not None and isinstance(getattr(candidate, "layers", None), nn.ModuleList):
            return candidate.layers
    raise NLAError(f"cannot find decoder layers in {type(model).__name__}")


def _block(model: nn.Module, layer_index: int) -> nn.Module:
    layers = decoder_layers(model)
    if not 0 <= layer_index < len(layers):
        raise NLAError(f"layer {layer_index} is out of range: the model has {len(layers)} blocks")
    return layers[layer_index]


@contextlib.contextmanager
def capture_block_output(model: nn.Module, layer_index: int) -> Iterator[dict[str, torch.Tensor]]:
    """Record the residual stream after block `layer_index` (in `captured["hidden"]`) on every forward inside."""
    captured: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor | tuple) -> None:
        captured["hidden"] = (output[0] if isinstance(output, tuple) else output).detach()

    handle = _block(model, layer_index).register_forward_hook(hook)
    try:
        yield captured
    finally:
        handle.remove()


@contextlib.contextmanager
def patch_block_output(model: nn.Module, layer_index: int, rows: torch.Tensor, cols: torch.Tensor,
                       values: torch.Tensor) -> Iterator[None]:
    """Replace block K's output at (rows, cols) by `values` on every forward inside."""

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor | tuple) -> torch.Tensor | tuple:
        hidden = (output[0] if isinstance(output, tuple) else output).clone()
        hidden[rows, cols] = values.to(hidden.dtype)
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    handle = _block(model, layer_index).register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def inject(embeds: torch.Tensor, position: int, vectors: torch.Tensor, scale: float) -> torch.Tensor:
    """Replace row `position` of each sequence's embeddings by its vector rescaled to norm `scale`.

    A pure function on the embeddings (no hook): training, sampling and the KL reference share it.
    """
    v = vectors.float()
    v = v * (scale / v.norm(dim=-1, keepdim=True).clamp_min(1e-12))
    out = embeds.clone()
    out[:, position] = v.to(embeds.dtype)
    return out
