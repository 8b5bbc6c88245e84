"""GPU-ready SFT batching, checked on the CPU: token-budget length buckets, padded batches that give
the loss of unpadded rows, compiled blocks that agree with eager ones, logits only where a loss needs
them, and the settings that switch it on in `train-ar` / `train-av`."""

from __future__ import annotations

import csv
import random

import pytest
import torch
from torch._dynamo.utils import counters

from nlakit.core import dataset
from nlakit.core.ar import build_reconstructor
from nlakit.core.av import build_verbalizer
from nlakit.core.config import ARConfig, AVConfig, TrainConfig
from nlakit.core.errors import NLAError
from nlakit.core.hooks import unwrap
from nlakit.core.models import add_lora, compile_blocks
from nlakit.stages.sft import run_train_ar, run_train_av, speed_up
from nlakit.stages.trainer import batch_for_step, bucketed_batches

TEXTS = ["one", "a longer explanation of the thing", "two words", "story; topic: fox. Ends with: \"the river bank\" Next: \" today\"",
         "x", "code; topic: list, reverse. Ends with: \"Use slicing\""]


def test_token_budget_batches_cover_each_row_once_within_the_budget():
    lengths = [random.Random(i).randint(3, 60) for i in range(500)]
    batches = bucketed_batches(lengths, 16, seed=3, epoch=0, batch_tokens=256)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert all(len(b) * max(lengths[i] for i in b) <= 256 for b in batches)
    # grouped by length: far less padding than the same number of rows drawn at random
    padding = sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches)
    order = random.Random(0).sample(range(500), 500)
    shuffled, k = [], 0
    for b in batches:
        shuffled.append(order[k : k + len(b)])
        k += len(b)
    random_padding = sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in shuffled)
    assert padding < 0.2 * random_padding
    # deterministic in the seed, different across seeds and epochs
    assert batches == bucketed_batches(lengths, 16, seed=3, epoch=0, batch_tokens=256)
    assert batches != bucketed_batches(lengths, 16, seed=4, epoch=0, batch_tokens=256)
    assert batches != bucketed_batches(lengths, 16, seed=3, epoch=1, batch_tokens=256)


def test_a_row_longer_than_the_budget_is_a_batch_of_its_own():
    batches = bucketed_batches([5, 5, 500, 5], 16, seed=0, epoch=0, batch_tokens=20)
    assert [2] in batches and sorted(i for b in batches for i in b) == [0, 1, 2, 3]


def test_every_process_gets_a_row_of_each_token_budget_batch():
    lengths = [random.Random(i).randint(3, 60) for i in range(101)]
    for world in (2, 3):
        batches = bucketed_batches(lengths, 16, seed=0, epoch=0, batch_tokens=64, min_rows=world)
        assert sorted(i for b in batches for i in b) == list(range(101))
        assert all(len(b) >= world for b in batches)  # a budget that fits one long row still feeds every process


def test_steps_walk_the_epochs_in_order():
    lengths = [random.Random(i).randint(3, 40) for i in range(100)]
    epochs = [bucketed_batches(lengths, 8, 1, e, 120) for e in range(3)]
    expected = [b for epoch in epochs for b in epoch]
    assert [batch_for_step(lengths, 8, 1, step, 120) for step in range(len(expected))] == expected
    # without a budget: the row-count batches of before
    assert batch_for_step(lengths, 8, 1, 14) == bucketed_batches(lengths, 8, 1, 1)[14 - 13]


@torch.no_grad()
def test_padded_ar_batch_gives_the_loss_of_unpadded_rows(tiny_model, make_sidecar):
    ar = build_reconstructor(make_sidecar(tiny_model))
    vectors = torch.randn(len(TEXTS), 64)
    lengths = ar.token_lengths(TEXTS)
    assert len(set(lengths)) > 2  # the batch really is padded
    batch, _ = ar.loss(TEXTS, vectors, False)
    rows = [ar.loss([t], vectors[i : i + 1], False)[0] for i, t in enumerate(TEXTS)]
    assert float(batch) == pytest.approx(float(torch.stack(rows).mean()), abs=1e-5)


@torch.no_grad()
def test_padded_av_batch_gives_the_loss_of_unpadded_rows(tiny_model, make_sidecar):
    av = build_verbalizer(make_sidecar(tiny_model))
    vectors = torch.randn(len(TEXTS), 64)
    batch, tokens = av.sft_loss(vectors, TEXTS, False)
    rows = [av.sft_loss(vectors[i : i + 1], [t], False) for i, t in enumerate(TEXTS)]
    assert tokens == sum(n for _, n in rows) == sum(av.token_lengths(TEXTS)) - len(TEXTS) * len(av.prompt_ids)
    assert float(batch) == pytest.approx(sum(float(loss) * n for loss, n in rows) / tokens, abs=1e-5)


@pytest.mark.parametrize("role", ["ar", "av"])
def test_compiled_blocks_agree_with_eager(make_tiny_model, make_sidecar, tmp_path, role):
    """torch.compile (aot_eager: the graph capture and autograd of inductor, without its slow C++ build) of every
    block's MLP and norms, on a 4-block model: the blocks share their graphs."""
    vectors = torch.randn(len(TEXTS), 64)
    deeper = make_tiny_model(tmp_path / "deep", num_hidden_layers=4)
    model = (build_reconstructor if role == "ar" else build_verbalizer)(make_sidecar(deeper, layer=3))
    model.lm = add_lora(model.lm, TrainConfig())
    model.train()

    def loss_and_grads(rows: slice) -> tuple[float, torch.Tensor]:
        model.zero_grad(set_to_none=True)
        texts, v = TEXTS[rows], vectors[rows]
        loss = model.loss(texts, v, False)[0] if role == "ar" else model.sft_loss(v, texts, False)[0]
        loss.backward()
        return float(loss.detach()), torch.cat([p.grad.flatten() for p in model.parameters() if p.requires_grad])

    batches = [slice(None), slice(1, 4)]  # two shapes: the blocks are compiled for dynamic shapes
    eager = [loss_and_grads(rows) for rows in batches]
    torch._dynamo.reset()
    counters.clear()
    try:
        compile_blocks(model.lm, backend="aot_eager")
        compiled = [loss_and_grads(rows) for rows in batches]
        graphs = counters["stats"]["unique_graphs"]
    finally:
        torch._dynamo.reset()
    # MLP and norm, the first norm again (its input needs no gradient), each again for the AV's one-row prefix pass
    # (dynamo specialises sizes of 1): a fixed few, not one per block (that would be 8 or more here)
    assert graphs <= (3 if role == "ar" else 6)
    for (loss, grads), (loss_c, grads_c) in zip(eager, compiled):
        assert loss_c == pytest.approx(loss, abs=1e-5)
        torch.testing.assert_close(grads_c, grads, rtol=1e-4, atol=1e-5)


def test_logits_only_where_the_loss_needs_them(tiny_model, make_sidecar):
    ar = build_reconstructor(make_sidecar(tiny_model))
    av = build_verbalizer(make_sidecar(tiny_model))
    seen: dict[str, list[int]] = {"ar": [], "av": []}
    for name, model in (("ar", ar), ("av", av)):
        head = unwrap(model.lm).get_output_embeddings() if name == "av" else unwrap(model.lm).lm_head
        head.register_forward_hook(lambda _m, inputs, _out, name=name: seen[name].append(inputs[0].shape[0] if inputs[0].dim() == 2 else -1))
    vectors = torch.randn(len(TEXTS), 64)
    ar.loss(TEXTS, vectors, False)
    _, response_tokens = av.sft_loss(vectors, TEXTS, False)
    assert seen["ar"] == []  # the AR's LM head is gone (an identity never called): no vocabulary logits at all
    assert seen["av"] == [response_tokens]  # one [tokens, d] call: logits at response tokens only


def test_sft_with_a_token_budget(taught, tmp_path):
    """train-ar / train-av on token-budget batches: every step within the budget, fewer rows for longer texts."""
    texts = dataset.training_pairs(taught, 0)[0]
    common = dict(steps=3, eval_every=3, save_every=3, bf16=False, batch_tokens=160)
    ar_out = run_train_ar(taught, tmp_path / "ar", ARConfig(**common))
    av_out = run_train_av(taught, tmp_path / "av", AVConfig(**common))
    for out in (ar_out, av_out):
        log = list(csv.DictReader((out / "log.csv").open()))
        assert len(log) == 3 and all(0 < float(row["tokens"]) <= 160 for row in log), log
    assert len(texts) > 3


@pytest.mark.parametrize("role", ["ar", "av"])
def test_compile_setting_compiles_each_blocks_mlp_and_norms(tiny_model, make_sidecar, monkeypatch, role):
    compiled = []
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, **kw: compiled.append((type(self).__name__, kw["dynamic"])))
    model = (build_reconstructor if role == "ar" else build_verbalizer)(make_sidecar(tiny_model))
    model.lm = add_lora(model.lm, TrainConfig())
    speed_up(model, TrainConfig(compile=False))
    assert compiled == []
    speed_up(model, TrainConfig(compile=True))
    layers = 2
    assert sorted(compiled) == sorted([("LlamaMLP", True)] * layers + [("LlamaRMSNorm", True)] * 2 * layers)


def test_bf16_weights_keep_the_adapters_in_fp32_and_refuse_what_cannot_work(tiny_model, make_sidecar):
    model = build_reconstructor(make_sidecar(tiny_model))
    model.lm = add_lora(model.lm, TrainConfig())
    speed_up(model, TrainConfig(bf16=True, bf16_weights=True, compile=False))
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    trainable = {p.dtype for p in model.lm.parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16} and trainable == {torch.float32}
    loss, _ = model.loss(TEXTS, torch.randn(len(TEXTS), 64), True)
    loss.backward()
    assert torch.isfinite(loss)
    with pytest.raises(NLAError, match="full fine-tune"):
        speed_up(model, TrainConfig(bf16=True, bf16_weights=True, full_finetune=True))
    with pytest.raises(NLAError, match="needs bf16 autocast"):
        speed_up(model, TrainConfig(bf16=False, bf16_weights=True))
