"""The fast inference path (nlakit/inference.py) computes what the plain path computes.

Decode-step attention against SDPA, the growing KV cache against DynamicCache, the merged bf16
copy against the adapters it was built from (and the original left untouched), and the AR's
length-sorted batches against one row at a time.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from torch import nn
from transformers.cache_utils import DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward

import nlakit.core.av as av_module
from nlakit.core.ar import load_reconstructor
from nlakit.core.av import build_verbalizer, load_verbalizer
from nlakit.core.inference import GrowingLayer, decode_step_attention, fast_model, inference_copy
from nlakit.core.models import autocast


class Attention(nn.Module):
    """What transformers' attention functions read from the module calling them."""

    def __init__(self, groups: int):
        super().__init__()
        self.num_key_value_groups, self.is_causal, self.training = groups, True, False


@pytest.mark.parametrize("masked", [False, True])
def test_decode_step_attention_matches_sdpa(masked):
    batch, heads, kv_heads, length, dim = 3, 6, 2, 11, 16
    query = torch.randn(batch, heads, 1, dim)
    buffer = torch.randn(2, batch, kv_heads, 20, dim)  # views into a larger buffer, as GrowingLayer hands them out
    key, value = buffer[0, :, :, :length], buffer[1, :, :, :length]
    mask = None
    if masked:  # row 1 may not see its first 4 positions (left padding)
        mask = torch.ones(batch, 1, 1, length, dtype=torch.bool)
        mask[1, ..., :4] = False
    module = Attention(heads // kv_heads)
    ours, _ = decode_step_attention(module, query, key, value, mask, scaling=dim**-0.5)
    reference, _ = sdpa_attention_forward(module, query, key, value, mask, scaling=dim**-0.5, is_causal=False)
    assert ours.shape == (batch, 1, heads, dim)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6)


def test_growing_layer_holds_what_dynamic_layer_holds():
    growing, dynamic = GrowingLayer(), DynamicLayer()
    growing.capacity = 4  # small, so the steps below outgrow it twice

    def both(method: str, *args: object) -> None:
        for layer in (growing, dynamic):
            getattr(layer, method)(*args)
        torch.testing.assert_close(growing.keys, dynamic.keys, rtol=0, atol=0)
        torch.testing.assert_close(growing.values, dynamic.values, rtol=0, atol=0)

    both("update", torch.randn(1, 2, 3, 8), torch.randn(1, 2, 3, 8))  # a shared prefix for one row
    both("batch_repeat_interleave", 4)
    rows = 4
    for step in range(7):
        both("update", torch.randn(rows, 2, 1, 8), torch.randn(rows, 2, 1, 8))
        if step == 3:  # row 1 finished
            both("batch_select_indices", torch.tensor([0, 2, 3]))
            rows = 3
    assert growing.get_seq_length() == dynamic.get_seq_length() == 10


def test_greedy_generation_with_the_fast_loop_matches_step_by_step_argmax(tiny_model, make_sidecar):
    """fp32 (bf16=False): the growing cache and the decode attention must not change a single token."""
    av = build_verbalizer(make_sidecar(tiny_model))
    vectors = torch.randn(3, 64)
    generated = av.generate(vectors.numpy(), max_new_tokens=8, bf16=False).token_ids
    assert all(generated), "nothing generated: the comparison below would be empty"
    for vector, tokens in zip(vectors, generated):
        ids: list[int] = []
        for _ in range(len(tokens)):
            embeds = av.prompt_embeds(vector[None], torch.tensor([ids], dtype=torch.long))
            ids.append(int(av.causal_lm(inputs_embeds=embeds).logits[0, -1].argmax()))
        assert tokens == ids


def repeats(ids: list[int], n: int) -> bool:
    grams = [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]
    return len(grams) != len(set(grams))


def test_no_repeat_ngram_is_the_argmax_over_what_the_rule_allows(tiny_model, make_sidecar):
    """A tiny random AV loops. With no_repeat_ngram 2 (set on the AV, as NLA.load does) no 2-token sequence of a row's
    output occurs twice, each token is the step-by-step argmax over the tokens the rule allows, and 0 is plain greedy."""
    av = build_verbalizer(make_sidecar(tiny_model))
    vectors = torch.randn(3, 64)
    plain = av.generate(vectors.numpy(), max_new_tokens=24, bf16=False).token_ids
    assert any(repeats(ids, 2) for ids in plain), "no loop to stop: the check below would be empty"
    av.no_repeat_ngram = 2
    ruled = av.generate(vectors.numpy(), max_new_tokens=24, bf16=False).token_ids
    assert not any(repeats(ids, 2) for ids in ruled) and ruled != plain
    for vector, tokens in zip(vectors, ruled):
        ids: list[int] = []
        for _ in range(len(tokens)):
            embeds = av.prompt_embeds(vector[None], torch.tensor([ids], dtype=torch.long))
            logits = av.causal_lm(inputs_embeds=embeds).logits[0, -1]
            logits[[ids[i + 1] for i in range(len(ids) - 1) if ids[i] == ids[-1]]] = -torch.inf  # 2-grams: after the last token
            ids.append(int(logits.argmax()))
        assert tokens == ids
    assert av.generate(vectors.numpy(), max_new_tokens=24, bf16=False, no_repeat_ngram=0).token_ids == plain


def test_an_nla_loads_with_its_no_repeat_rule(sft_pair):
    """--no-repeat-ngram is a loading option of every command that reads an NLA; the vLLM engine has no such rule: refused."""
    from nlakit.core.config import LoadConfig
    from nlakit.core.errors import NLAError
    from nlakit.core.nla import NLA

    nla = NLA.load(LoadConfig(nla=str(sft_pair.nla), no_repeat_ngram=3))
    assert nla.av.no_repeat_ngram == 3 and NLA.load(sft_pair.nla).av.no_repeat_ngram == 0
    assert not any(repeats(ids, 3) for ids in nla.av.generate(np.random.default_rng(0).normal(size=(4, 64)), max_new_tokens=16).token_ids)
    with pytest.raises(NLAError, match="transformers engine only"):
        NLA.load(sft_pair.nla, engine="vllm", no_repeat_ngram=3)


def test_inference_copy_merges_adapters_and_leaves_the_model_alone(sft_pair):
    av = load_verbalizer(sft_pair.av)
    before = {name: p.detach().clone() for name, p in av.lm.named_parameters()}
    copy = fast_model(av, bf16=True)
    assert copy is not av.lm and fast_model(av, bf16=True) is copy, "built once, then reused"
    assert not any("lora" in name for name, _ in copy.named_parameters()), "adapters merged into the weights"
    projections = [m for m in copy.modules() if isinstance(m, nn.Linear)]
    assert projections and all(m.weight.dtype == torch.bfloat16 for m in projections)
    assert copy.get_input_embeddings().weight.dtype == torch.float32, "the residual stream starts in fp32, as under autocast"
    after = dict(av.lm.named_parameters())
    assert before.keys() == after.keys() and any("lora" in name for name in after)
    assert all(torch.equal(before[name], after[name]) and after[name].dtype == torch.float32 for name in before)
    embeds = av.prompt_embeds(torch.randn(2, 64))
    with torch.no_grad(), autocast(True):
        ours, theirs = copy(inputs_embeds=embeds).logits.float(), av.lm(inputs_embeds=embeds).logits.float()
    torch.testing.assert_close(ours, theirs, rtol=0.05, atol=0.05)  # bf16 rounding of W + BA vs W and BA apart


def test_the_fp32_fast_path_merges_adapters_too(sft_pair):
    """A CPU without native bf16 gets the merged copy as well, in fp32: the same numbers as the unmerged model."""
    av = load_verbalizer(sft_pair.av)
    copy = fast_model(av, bf16=False)
    assert copy is not av.lm and fast_model(av, bf16=False) is copy, "built once, then reused"
    assert fast_model(av, bf16=True) is not copy, "one copy per precision"
    assert not any("lora" in name for name, _ in copy.named_parameters()), "adapters merged into the weights"
    assert all(p.dtype == torch.float32 for p in copy.parameters()), "fp32 weights where bf16 is not native"
    embeds = av.prompt_embeds(torch.randn(2, 64))
    with torch.no_grad():
        ours, theirs = copy(inputs_embeds=embeds).logits, av.lm(inputs_embeds=embeds).logits
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    vectors = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)
    assert av.generate(vectors, max_new_tokens=8, bf16=False).token_ids == plain_generate(av, vectors, 8)


def plain_generate(av, vectors, max_new_tokens: int) -> list[list[int]]:
    """generate() through the unmerged model with SDPA: the reference the fast fp32 path must equal."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(av_module, "fast_model", lambda owner, bf16, int8=False: owner.lm)
        patch.setattr(av_module, "decode_attention", lambda model: contextlib.nullcontext())
        return av.generate(vectors, max_new_tokens=max_new_tokens, bf16=False).token_ids


def test_no_inference_copy_of_weights_that_train(sft_pair):
    av = load_verbalizer(sft_pair.av, trainable=True)
    assert inference_copy(av.lm, bf16=True) is av.lm, "RL's policy must generate with its live weights"


def test_fast_and_plain_paths_explain_alike(sft_pair, monkeypatch):
    """The whole generate() under bf16: the merged copy may flip a near-tie token, not the outcome."""
    av = load_verbalizer(sft_pair.av)
    vectors = np.random.default_rng(0).standard_normal((6, 64)).astype(np.float32)
    fast = av.generate(vectors, max_new_tokens=10, bf16=True)
    monkeypatch.setattr(av_module, "fast_model", lambda owner, bf16, int8=False: owner.lm)
    monkeypatch.setattr(av_module, "decode_attention", lambda model: contextlib.nullcontext())
    plain = av.generate(vectors, max_new_tokens=10, bf16=True)
    same = sum(a[:3] == b[:3] for a, b in zip(fast.token_ids, plain.token_ids))
    assert same >= 5, (fast.token_ids, plain.token_ids)


def test_ar_batches_by_length_and_puts_rows_back_in_order(sft_pair, monkeypatch):
    ar = load_reconstructor(sft_pair.ar)
    texts = ["a much longer explanation with many more words in it", "short", "", "middle sized text here"]
    together = ar.reconstruct(texts, batch_size=2, bf16=False)
    alone = np.concatenate([ar.reconstruct([t], batch_size=1, bf16=False) for t in texts])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)
    assert ar.reconstruct([], bf16=False).shape == (0, 64)
    read = []  # a repeated text (a common token's floor text, a failed explanation) is read once
    encode = ar.encode
    monkeypatch.setattr(ar, "encode", lambda batch, device: read.extend(batch) or encode(batch, device))
    repeated = ar.reconstruct(["short", *texts, "short", ""], batch_size=2, bf16=False)
    assert sorted(read) == sorted(texts)
    np.testing.assert_allclose(repeated, together[[1, 0, 1, 2, 3, 1, 2]], rtol=1e-4, atol=1e-5)
