"""Shared fixtures, built once per session where they are only read.

Tiny random models built from a config (2 layers, d=64) and a tiny byte-level tokenizer, so the
whole pipeline runs in seconds on two CPU cores with no hub and no download; on them a taught
dataset (extract -> template teacher) and an SFT pair (AR + AV, two fp32 steps each, side by side
in one NLA folder). Test modules never import each other or this file: whatever they share is a
fixture here (the factories too, for tests that need a variant).

Markers (registered in pyproject.toml): `slow` loads the real SmolLM2-135M, `distributed` spawns
several processes, `browser` drives headless Chromium, `vllm` needs vLLM (its own environment).
`--no-native-bf16` runs the tests in this process as on a CPU without native bf16 (an AVX2 laptop:
fp32 training, int8 readings), whatever CPU runs them.
"""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from nlakit.core import models as nlakit_models
from nlakit.core.config import ARConfig, AVConfig, ExtractConfig
from nlakit.core.metrics import predict_mean_baselines
from nlakit.core.models import load_tokenizer
from nlakit.core.prompts import AR_TEMPLATE, AV_TEMPLATE, find_marker
from nlakit.core.sidecar import Sidecar
from nlakit.stages.extract import run_extract
from nlakit.stages.sft import run_train_ar, run_train_av
from nlakit.stages.teach import TemplateTeacher, run_teach


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-native-bf16", action="store_true",
                     help="run as on a CPU without native bf16 (fp32 training, int8 readings), in this process")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--no-native-bf16"):  # the paths an AVX2 laptop takes, checked on any machine
        nlakit_models._cpu_has_bf16 = lambda: False


CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# Gemma-style: the template writes <bos> and the tokenizer adds one too (as Gemma's and Llama's do), and a turn
# ends with <end_of_turn>, not with eos
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{'<start_of_turn>' + message['role'] + '\n' + message['content'] + "
    "'<end_of_turn>\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)
MARKER = "\u320e"

TEXTS = [
    "The quick brown fox jumps over the lazy dog near the river bank today.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))",
    "Alice: Did you bring the map?\nBob: Yes, it is in my bag with the compass.",
    "To bake bread, mix flour, water, salt and yeast, then knead for ten minutes.",
    "- eggs\n- milk\n- two loaves of bread\n- coffee beans\n- apples",
    "Once upon a time a small robot wanted to learn how to paint the sea.",
    "The meeting is moved to Thursday at noon; please bring the budget report.",
    "SELECT name, age FROM users WHERE age > 30 ORDER BY name;",
    "Rain fell all night on the old roof and the cat slept by the warm stove.",
    "How do I reverse a list in Python? Use slicing with a step of minus one.",
]
TINY_LLAMA = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)


def make_tokenizer(folder: Path, with_marker: bool = True, style: str = "chatml"):
    """A byte-level BPE trained on TEXTS, with the chat template and (by default) the marker token.

    style `chatml`: SmolLM2/Qwen-like (a BOS declared, never added); `gemma`: <bos> added by the tokenizer
    and written by the template, turns closed by <end_of_turn>. Either way pad, BOS and eos are ids 0, 1, 2.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"] if style == "gemma" else ["<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(TEXTS * 5 + ["<explanation> </explanation> topic: Ends with: Next:"] * 5, trainer)
    if style == "gemma":
        tok.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", 1)])
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>")
    else:
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<|im_end|>", bos_token="<|im_start|>")
    if with_marker:
        fast.add_tokens([MARKER])
    fast.chat_template = GEMMA_CHAT_TEMPLATE if style == "gemma" else CHAT_TEMPLATE
    fast.save_pretrained(folder)
    return fast


def make_tiny_model(folder: Path, seed: int = 0, **config: Any) -> str:
    """Tokenizer plus a random Llama (TINY_LLAMA unless `config` says otherwise) saved in `folder`."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = make_tokenizer(folder)
    torch.manual_seed(seed)
    settings = {**TINY_LLAMA, "vocab_size": len(tokenizer), "max_position_embeddings": 256, "tie_word_embeddings": True,
                "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, **config}
    LlamaForCausalLM(LlamaConfig(**settings)).save_pretrained(folder)
    return str(folder)


@dataclass(frozen=True)
class SFTPair:
    """A taught dataset and the NLA folder (`av/` + `ar/`) trained on it by supervised fine-tuning."""

    data: Path
    nla: Path

    @property
    def av(self) -> Path:
        return self.nla / "av"

    @property
    def ar(self) -> Path:
        return self.nla / "ar"


def make_taught(model: str, corpus: Path, out: Path, **extract: Any) -> Path:
    """extract (layer 1, 30% held out) -> template teacher: the dataset every training test starts from."""
    cfg = ExtractConfig(**{"model": model, "corpus": str(corpus), "layer_index": 1, "heldout_fraction": 0.3, "chunk_docs": 10, **extract})
    return run_teach(run_extract(cfg, out), TemplateTeacher())


def make_sft_pair(data: Path, nla: Path, steps: int = 2) -> SFTPair:
    """train-ar + train-av on `data`, a few fp32 steps each (bf16 rounding would blur exact checks)."""
    common = dict(steps=steps, eval_every=steps, save_every=1, bf16=False)
    run_train_ar(data, nla / "ar", ARConfig(**common))
    run_train_av(data, nla / "av", AVConfig(**common))
    return SFTPair(Path(data), Path(nla))


def make_sidecar(model: str, *, layer: int = 1, d: int = 64, injection_scale: float = 3.0, vectors: np.ndarray | None = None,
                 baselines: dict[str, float] | None = None, **fields: Any) -> Sidecar:
    """A model sidecar for a tiny model: its marker, nlakit's templates, baselines from `vectors` (else fixed ones)."""
    if baselines is None:
        baselines = predict_mean_baselines(vectors) if vectors is not None else {"rawvar": 0.9, "meannorm": 1.4}
    return Sidecar(kind="nla_model", base_model=model, d_model=d, layer_index=layer, injection_scale=injection_scale,
                   tokens=find_marker(load_tokenizer(model), AV_TEMPLATE), prompt_templates={"av": AV_TEMPLATE, "ar": AR_TEMPLATE},
                   baselines=baselines, **fields)


# ---------------------------------------------------------------- factories (for tests that need a variant)


@pytest.fixture(scope="session")
def tiny_texts() -> list[str]:
    return list(TEXTS)


@pytest.fixture(scope="session", name="make_tokenizer")
def make_tokenizer_fixture() -> Callable[..., Any]:
    return make_tokenizer


@pytest.fixture(scope="session", name="make_tiny_model")
def make_tiny_model_fixture() -> Callable[..., str]:
    return make_tiny_model


@pytest.fixture(scope="session", name="make_taught")
def make_taught_fixture() -> Callable[..., Path]:
    return make_taught


@pytest.fixture(scope="session", name="make_sft_pair")
def make_sft_pair_fixture() -> Callable[..., SFTPair]:
    return make_sft_pair


@pytest.fixture(scope="session", name="make_sidecar")
def make_sidecar_fixture() -> Callable[..., Sidecar]:
    return make_sidecar


# ---------------------------------------------------------------- shared artefacts (read-only: never write into them)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    rng = random.Random(0)
    lines = []
    for i in range(40):
        text = TEXTS[i % len(TEXTS)] + " " + " ".join(rng.choice(TEXTS).split()[:6])
        lines.append(json.dumps({"text": text}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def taught(tiny_model, tiny_corpus, tmp_path_factory) -> Path:
    """The tiny model's taught dataset (copy it before changing anything in it)."""
    return make_taught(tiny_model, tiny_corpus, tmp_path_factory.mktemp("taught") / "ds")


@pytest.fixture(scope="session")
def sft_pair(taught, tmp_path_factory) -> SFTPair:
    """AR and AV after two SFT steps on `taught`: `sft_pair.nla` is an NLA folder."""
    return make_sft_pair(taught, tmp_path_factory.mktemp("sft") / "nla")


@pytest.fixture
def free_port() -> int:
    """A TCP port on the loopback that was free a moment ago (for uvicorn or torchrun's rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("nlakit-cache")


@pytest.fixture(autouse=True)
def _isolated_cache(_session_cache, monkeypatch):
    """Never the user's cache; one per session, so the real SmolLM2 is converted from its GGUF once, not per slow test."""
    monkeypatch.setenv("NLAKIT_CACHE", str(_session_cache))
