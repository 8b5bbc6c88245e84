"""The three places nlakit touches a model's insides: reading block K, writing block K, and
writing the activation over the marker's embedding.

Layer convention (pinned by a test): layer K is the output of decoder block K, which is
`hidden_states[K + 1]` in Hugging Face terms (index 0 is the embedding output). Forward hooks are
global state, so each is a context manager whose handle is removed in `finally`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

from .errors import NLAError
from .metrics import RAW


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


def mlp_down_proj(model: nn.Module, layer_index: int) -> nn.Linear:
    """Block `layer_index`'s MLP output projection: its input is the neuron activations, its columns their write directions.

    Llama, Qwen, Gemma and Mistral MLPs compute down_proj(act_fn(gate_proj(x)) * up_proj(x)), so
    the input of `down_proj` is exactly one value per neuron; other MLP layouts are refused by name.
    """
    block = _block(model, layer_index)
    down = getattr(getattr(block, "mlp", None), "down_proj", None)
    if not isinstance(down, nn.Linear):
        raise NLAError(f"block {layer_index} of {type(unwrap(model)).__name__} has no mlp.down_proj: "
                       "neurons are read for gated MLPs (Llama, Qwen, Gemma, Mistral)")
    return down


@contextlib.contextmanager
def capture_mlp_neurons(model: nn.Module, layer_indices: list[int]) -> Iterator[dict[int, torch.Tensor]]:
    """Record each listed block's MLP neuron activations ([B, T, width], the input of mlp.down_proj) on every forward inside."""
    captured: dict[int, torch.Tensor] = {}
    handles = []

    def hook_for(layer: int) -> Callable[[nn.Module, tuple], None]:
        def hook(_module: nn.Module, inputs: tuple) -> None:
            captured[layer] = inputs[0].detach()
        return hook

    try:
        for layer in layer_indices:
            handles.append(mlp_down_proj(model, layer).register_forward_pre_hook(hook_for(layer)))
        yield captured
    finally:
        for handle in handles:
            handle.remove()


class _StopForward(Exception):
    """Raised by `stop_after_block`'s hook to end a forward pass early; never leaves that context."""


@contextlib.contextmanager
def stop_after_block(model: nn.Module, layer_index: int) -> Iterator[None]:
    """End every forward inside right after block `layer_index`: a pass that only reads blocks up to it skips the rest.

    Enter it after the capture contexts, so their hooks on the same block run first; the forward returns nothing.
    """

    def hook(_module: nn.Module, _inputs: tuple, _output: object) -> None:
        raise _StopForward

    handle = _block(model, layer_index).register_forward_hook(hook)
    try:
        yield
    except _StopForward:
        pass
    finally:
        handle.remove()


@contextlib.contextmanager
def patch_block_output(model: nn.Module, layer_index: int, rows: torch.Tensor, cols: torch.Tensor,
                       values: torch.Tensor) -> Iterator[None]:
    """Replace block K's output at (rows, cols) by `values` on every forward inside."""

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor | tuple) -> torch.Tensor | tuple:
        hidden = (output[0] if isinstance(output, tuple) else output).clone()
        hidden[rows.to(hidden.device), cols.to(hidden.device)] = values.to(hidden.device, hidden.dtype)
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    handle = _block(model, layer_index).register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def inject(embeds: torch.Tensor, position: int, vectors: torch.Tensor, scale: float | str) -> torch.Tensor:
    """Replace row `position` of each sequence's embeddings by its vector rescaled to norm `scale` (RAW: as it is).

    A pure function on the embeddings (no hook): training, sampling and the KL reference share it.
    """
    v = vectors.float()
    if scale != RAW:
        v = v * (scale / v.norm(dim=-1, keepdim=True).clamp_min(1e-12))
    out = embeds.clone()
    out[:, position] = v.to(embeds.dtype)
    return out
