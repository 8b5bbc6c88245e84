"""Tiny random models built from a config (2 layers, d=64) and a tiny byte-level tokenizer, so
the whole pipeline runs in seconds on two CPU cores with no hub and no download."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
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


def make_tokenizer(folder: Path, with_marker: bool = True):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(TEXTS * 5 + ["<explanation> </explanation> topic: Ends with: Next:"] * 5, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<|im_end|>", bos_token="<|im_start|>")
    if with_marker:
        fast.add_tokens([MARKER])
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    return fast


def make_model(folder: Path, vocab_size: int, seed: int = 0) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        tie_word_embeddings=True, pad_token_id=0, bos_token_id=1, eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = make_tokenizer(folder)
    make_model(folder, len(tokenizer))
    return str(folder)


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


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NLAKIT_CACHE", str(tmp_path / "cache"))
