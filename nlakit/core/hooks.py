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


# Where architectures keep their blocks: `layers` (Llama, Qwen, Mistral, Gemma, Phi, GPT-NeoX, OLMo), `h` (GPT-2, Falcon,
# Bloom), `blocks` (MPT-style); and their final norm: `norm` (Llama ... OLMo), `final_layernorm` (Phi),
# `final_layer_norm` (GPT-NeoX, OPT), `ln_f` (GPT-2, Falcon, Bloom), `norm_f` (MPT).
LAYER_LISTS = ("layers", "h", "blocks")
FINAL_NORMS = ("norm", "final_layernorm", "final_layer_norm", "ln_f", "norm_f", "final_norm")


def _decoder(model: nn.Module) -> nn.Module:
    inner = unwrap(model)
    return inner.get_decoder() if hasattr(inner, "get_decoder") else inner


def _stack(model: nn.Module) -> tuple[str, nn.Module, str]:
    """(path of the block-holding module under `get_decoder()`, that module, the name of its block list)."""
    decoder = _decoder(model)
    for path in ("", "language_model", "model", "decoder"):
        holder = getattr(decoder, path, None) if path else decoder
        for name in LAYER_LISTS:
            if isinstance(holder, nn.Module) and isinstance(getattr(holder, name, None), nn.ModuleList):
                return path, holder, name
    raise NLAError(f"cannot find decoder layers in {type(unwrap(model)).__name__}: nlakit reads blocks kept in a "
                   f"ModuleList named {' / '.join(LAYER_LISTS)} under the model's get_decoder()")


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The list of decoder blocks: the one place that knows where architectures keep them."""
    _, holder, name = _stack(model)
    return getattr(holder, name)


def final_norm_path(model: nn.Module) -> str | None:
    """Where the norm applied after the last block sits, as a dotted path under `get_decoder()` (None: the model has none).

    The AR is cut after block K and must read its residual stream unnormalised, as the official loaders make it: this
    is the one place that finds that norm, for the AR's strip and export's key filter alike. It is a child of the module
    holding the blocks, not inside a block: a known name first, else the only norm-type child that is not an embedding
    norm (an unknown layout with several is refused rather than guessed).
    """
    path, holder, _ = _stack(model)
    children = dict(holder.named_children())
    names = [n for n in FINAL_NORMS if n in children]
    if not names:
        names = [n for n, m in children.items() if "norm" in type(m).__name__.lower() and "emb" not in n.lower()]
        if len(names) > 1:
            raise NLAError(f"cannot tell which of {names} is {type(unwrap(model)).__name__}'s final norm")
    return ".".join(filter(None, (path, names[0]))) if names else None


def strip_final_norm(model: nn.Module) -> None:
    """Replace the final norm by the identity (in place): the model then returns block outputs as they are."""
    path = final_norm_path(model)
    if path is not None:
        _decoder(model).set_submodule(path, nn.Identity())


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
