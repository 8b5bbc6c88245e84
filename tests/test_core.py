"""Correctness of the pieces every stage relies on: layer convention, injection, AR head, metric,
position sampling and the explanation parser."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nlakit.core.ar import Reconstructor, build_reconstructor
from nlakit.core.av import build_verbalizer
from nlakit.core.errors import NLAError
from nlakit.core.hooks import capture_block_output, decoder_layers, inject, patch_block_output
from nlakit.core.metrics import FAILED_MSE, derangement, fve, mse_nrm, normalize, predict_mean_baselines, score_rows
from nlakit.core.models import add_lora, load_causal_lm
from nlakit.core.prompts import av_prompt, content_words, parse_explanation, quoted_spans, words
from nlakit.core.reading import sample_positions


def test_block_output_is_hidden_states_k_plus_1(tiny_model, make_sidecar):
    """Every block of the tiny model: layer K is hidden_states[K+1] (the last one after HF's final norm)."""
    model = load_causal_lm(tiny_model)
    ids = torch.tensor([[5, 6, 7, 8]])
    model(ids, output_hidden_states=True)  # transformers adds its own capture hooks on first use
    layers = decoder_layers(model)
    assert len(layers) == 2
    hooks_before = [len(layer._forward_hooks) for layer in layers]
    for k in range(len(layers)):
        with capture_block_output(model, k) as captured:
            out = model(ids, output_hidden_states=True)
        assert len(out.hidden_states) == len(layers) + 1
        block_k = captured["hidden"]
        if k == len(layers) - 1:  # HF applies the final norm to the last entry of hidden_states
            block_k = model.model.norm(block_k)
        torch.testing.assert_close(block_k, out.hidden_states[k + 1])
        assert not torch.allclose(captured["hidden"], out.hidden_states[k])  # not off by one
    assert [len(layer._forward_hooks) for layer in layers] == hooks_before
    with pytest.raises(NLAError, match="out of range"):
        with capture_block_output(model, len(layers)):
            pass


def test_patching_block_k_changes_only_what_comes_after(tiny_model):
    """patch_block_output writes block K's output at one token; earlier tokens are untouched, later ones change."""
    model = load_causal_lm(tiny_model)
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    values = torch.randn(1, 64)
    with torch.no_grad():
        with capture_block_output(model, 0) as plain_block:
            plain = model(ids).logits
        hooks_before = [len(layer._forward_hooks) for layer in decoder_layers(model)]
        with patch_block_output(model, 0, torch.tensor([0]), torch.tensor([2]), values):
            with capture_block_output(model, 0) as patched_block:  # registered after the patch: sees its result
                patched = model(ids).logits
    torch.testing.assert_close(patched_block["hidden"][0, 2], values[0])
    torch.testing.assert_close(patched_block["hidden"][0, :2], plain_block["hidden"][0, :2])
    torch.testing.assert_close(patched[0, :2], plain[0, :2])  # causal: before the patch is equal
    assert not torch.allclose(patched[0, 2:], plain[0, 2:])
    assert [len(layer._forward_hooks) for layer in decoder_layers(model)] == hooks_before


def test_mse_nrm_is_two_one_minus_cos():
    a, b = torch.randn(8, 64), torch.randn(8, 64) * 5
    expected = 2 * (1 - torch.nn.functional.cosine_similarity(a, b, dim=-1))
    torch.testing.assert_close(mse_nrm(a, b), expected, rtol=1e-5, atol=1e-5)
    assert torch.allclose(mse_nrm(a, 3 * a), torch.zeros(8), atol=1e-5)


def test_failed_zero_and_non_finite_predictions_score_the_orthogonal_value():
    """An empty answer must never beat a wrong one: failures, zero and NaN predictions all score FAILED_MSE = 2."""
    target = np.ones((4, 8), np.float32)
    pred = np.stack([np.ones(8), np.zeros(8), np.full(8, np.nan), np.ones(8)]).astype(np.float32)
    mse = score_rows(pred, target, failed=np.array([False, False, False, True]))
    np.testing.assert_allclose(mse, [0.0, FAILED_MSE, FAILED_MSE, FAILED_MSE], atol=1e-6)
    assert FAILED_MSE == 2.0 and fve(mse[1:], 2.0) == pytest.approx(0.0)


def test_predicting_the_mean_scores_fve_zero():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 32)) + 2.0
    baselines = predict_mean_baselines(vectors)
    v = normalize(vectors, math.sqrt(32))
    mu = v.mean(axis=0)
    mse_of_mean = ((v - mu) ** 2).mean(axis=1)  # the un-normalised mean, the rawvar convention
    assert fve(mse_of_mean, baselines["rawvar"]) == pytest.approx(0.0, abs=1e-9)
    mse_of_normalised_mean = mse_nrm(torch.from_numpy(np.tile(mu, (500, 1))), torch.from_numpy(vectors)).numpy()
    assert mse_of_normalised_mean.mean() == pytest.approx(baselines["meannorm"], rel=1e-5)


def test_ar_head_is_identity_at_init_and_keeps_k_plus_1_blocks(tiny_model, make_sidecar):
    ar = build_reconstructor(make_sidecar(tiny_model, layer=0))
    assert isinstance(ar, Reconstructor)
    torch.testing.assert_close(ar.value_head.weight, torch.eye(64))
    assert len(ar.decoder.layers) == 1
    assert isinstance(ar.decoder.norm, torch.nn.Identity)


def test_ar_reads_block_k_at_last_real_token(tiny_model, make_sidecar):
    ar = build_reconstructor(make_sidecar(tiny_model, layer=1))
    target = load_causal_lm(tiny_model)
    enc = ar.encode(["short", "a much longer explanation here"])
    pred = ar(enc["input_ids"], enc["attention_mask"])
    for row in range(2):
        n = int(enc["attention_mask"][row].sum())
        with capture_block_output(target, 1) as captured:
            target(enc["input_ids"][row : row + 1, :n])
        torch.testing.assert_close(pred[row], captured["hidden"][0, -1], rtol=1e-4, atol=1e-4)


def test_injection_lands_on_marker_and_changes_logits(tiny_model, make_sidecar):
    av = build_verbalizer(make_sidecar(tiny_model))
    assert av.prompt_ids[av.marker_pos] == av.meta.tokens["injection_token_id"]
    vectors = torch.randn(2, 64)
    embeds = av.prompt_embeds(vectors)
    plain = av.embed(torch.tensor([av.prompt_ids]))
    assert torch.allclose(embeds[0, av.marker_pos].norm(), torch.tensor(3.0), atol=1e-4)
    untouched = [i for i in range(len(av.prompt_ids)) if i != av.marker_pos]
    torch.testing.assert_close(embeds[:, untouched], plain.expand(2, -1, -1)[:, untouched])
    logits = av.causal_lm(inputs_embeds=embeds).logits
    torch.testing.assert_close(logits[0, : av.marker_pos], logits[1, : av.marker_pos])  # causal: before is equal
    assert not torch.allclose(logits[0, av.marker_pos :], logits[1, av.marker_pos :])  # at and after: differs


def test_inject_is_pure():
    embeds = torch.zeros(1, 4, 8)
    out = inject(embeds, 2, torch.ones(1, 8), 2.0)
    assert embeds.abs().sum() == 0
    assert out[0, 2].norm().item() == pytest.approx(2.0)


def test_shared_prefix_logprobs_match_full_forward(tiny_model, make_sidecar):
    av = build_verbalizer(make_sidecar(tiny_model))
    vectors = torch.randn(3, 64)
    responses = av.response_ids(["one", "a longer explanation", "two words"])
    logprobs, mask = av.token_logprobs(vectors, responses, bf16=False)
    for row, response in enumerate(responses):
        embeds = av.prompt_embeds(vectors[row : row + 1], torch.tensor([response]))
        logits = av.causal_lm(inputs_embeds=embeds).logits[0]
        start = len(av.prompt_ids) - 1
        expected = torch.log_softmax(logits[start : start + len(response)], -1).gather(1, torch.tensor(response)[:, None])[:, 0]
        torch.testing.assert_close(logprobs[row, mask[row]], expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("role", ["av", "ar"])
def test_gradient_checkpointing_gives_the_same_loss_and_gradients(tiny_model, make_sidecar, role):
    from nlakit.core.config import TrainConfig

    texts, vectors = ["one", "a longer explanation", "two words"], torch.randn(3, 64)

    def loss_and_grads(checkpointing: bool) -> tuple[float, torch.Tensor]:
        model = (build_verbalizer if role == "av" else build_reconstructor)(make_sidecar(tiny_model))
        model.lm = add_lora(model.lm, TrainConfig(gradient_checkpointing=checkpointing))
        model.train()
        loss = model.sft_loss(vectors, texts, bf16=False)[0] if role == "av" else model.loss(texts, vectors, False)[0]
        loss.backward()
        return float(loss.detach()), torch.cat([p.grad.flatten() for p in model.parameters() if p.requires_grad])

    (plain, g_plain), (checkpointed, g_checkpointed) = loss_and_grads(False), loss_and_grads(True)
    assert plain == pytest.approx(checkpointed, abs=1e-5)
    torch.testing.assert_close(g_plain, g_checkpointed, rtol=1e-4, atol=1e-5)


def test_greedy_generation_matches_step_by_step_argmax(tiny_model, make_sidecar):
    av = build_verbalizer(make_sidecar(tiny_model))
    vector = torch.randn(1, 64)
    generated = av.generate(vector.numpy(), max_new_tokens=6).token_ids[0]
    assert generated, "nothing generated: the comparison below would be empty"
    ids: list[int] = []
    for _ in range(len(generated)):
        embeds = av.prompt_embeds(vector, torch.tensor([ids], dtype=torch.long))
        ids.append(int(av.causal_lm(inputs_embeds=embeds).logits[0, -1].argmax()))
    assert generated == ids


def test_sample_positions_are_reproducible_and_skip_the_start():
    ids = list(range(50))
    first = sample_positions("doc:1", ids, 5, 4, seed=0, special_ids={7})
    assert first == sample_positions("doc:1", ids, 5, 4, seed=0, special_ids={7})
    assert all(p >= 4 and p != 7 for p in first) and len(set(first)) == 5
    assert sample_positions("doc:1", ids[:3], 5, 4, seed=0, special_ids=set()) == []


def test_parse_explanation():
    assert parse_explanation("<explanation>\n hi there \n</explanation>junk") == "hi there"
    assert parse_explanation("<explanation> never closed") is None


def test_tokenizer_without_marker_is_refused(tiny_model, make_sidecar, make_tokenizer, tmp_path):
    plain = make_tokenizer(tmp_path / "plain", with_marker=False)
    meta = make_sidecar(tiny_model)
    with pytest.raises(NLAError, match="marker"):
        av_prompt(plain, meta)


def test_vectors_that_cannot_be_read_as_real_float32_directions_are_refused():
    """Complex values, and norms float32 over- or underflows (every later step would see a zero vector): one line each."""
    from nlakit.core.sidecar import check_vectors

    assert check_vectors(np.ones((2, 4)), 4).dtype == np.float32
    for vectors, fragment in ((np.ones((1, 4)) * (1 + 1j), "complex"), (np.full((1, 4), 1e-30), "norms float32 cannot hold"),
                              (np.full((1, 4), 1e20), "norms float32 cannot hold")):
        with pytest.raises(NLAError, match=fragment):
            check_vectors(vectors, 4)


def test_a_line_separator_inside_a_text_line_does_not_split_the_document(tmp_path):
    """U+2028, NEL and form feed are characters of a line, not line ends (str.splitlines treats them as ends)."""
    from nlakit.core.corpus import load_corpus

    text = "first part\u2028second\x85third\x0cfourth"
    (tmp_path / "c.txt").write_text(f"{text}\r\nanother line\n", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(json.dumps({"text": text}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [d.text for d in load_corpus(str(tmp_path / "c.txt"))] == [text, "another line"]
    assert [d.text for d in load_corpus(str(tmp_path / "c.jsonl"))] == [text]


def test_the_shuffled_pairing_never_keeps_a_row_and_is_refused_for_one_row():
    """A derangement pairs every row with another (each used once); one row has no other, so its control is undefined."""
    for n in (2, 3, 7):
        order = derangement(n, np.random.default_rng(n))
        assert sorted(order.tolist()) == list(range(n)) and not (order == np.arange(n)).any()
    for n in (0, 1):
        with pytest.raises(NLAError, match="at least 2 rows"):
            derangement(n)


def test_the_two_word_rules_contents_and_topics():
    """`words`: everything a text contains (digits too); `content_words`: what it is about (letters first, long
    enough, stop words out, hyphens and apostrophes kept inside a word)."""
    text = "The sea's well-known 42 waves of Rome, and x2 cat"
    assert words(text) == ["the", "sea", "s", "well", "known", "42", "waves", "of", "rome", "and", "x2", "cat"]
    assert content_words(text) == ["sea's", "well-known", "waves", "rome"]
    assert content_words(text, shortest=3) == ["sea's", "well-known", "waves", "rome", "cat"]
    assert quoted_spans('Ends with: "the sea"\nNext: " was", ""') == ["the sea", " was", ""]


def test_the_first_process_takes_over_the_cores_of_the_others(monkeypatch):
    """On a CPU, after the parallel part of a stage, the first process runs the rest on this machine's every process's
    threads (the others have exited); alone, it keeps its own."""
    from nlakit.core.distributed import take_over_cores

    threads = torch.get_num_threads()
    try:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
        take_over_cores()
        assert torch.get_num_threads() == threads
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
        take_over_cores()
        assert torch.get_num_threads() == 2 * threads
    finally:
        torch.set_num_threads(threads)
