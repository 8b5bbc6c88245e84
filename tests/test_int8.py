"""The int8 path (nlakit/core/int8.py): its products, its smoothing, where it is chosen, and what it leaves alone."""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import pytest
import torch
from torch import nn

from nlakit.core import int8, models
from nlakit.core.ar import load_reconstructor
from nlakit.core.av import load_verbalizer
from nlakit.core.config import LoadConfig
from nlakit.core.errors import NLAError
from nlakit.core.inference import fast_model
from nlakit.core.int8 import FULL_LEVELS, SAFE_LEVELS, InputQuantizer, Int8Linear, calibration_texts, hadamard, quantize_linears, weight_levels
from nlakit.core.nla import NLA


def test_int8_products_are_exact_where_nothing_rounds():
    """Integer weights whose rows reach the weight levels and integer inputs whose rows reach 127 quantize to themselves
    (at a width of 33 no rotation applies): the result is exact, so the scales are applied the right way round."""
    generator, levels = torch.Generator().manual_seed(0), weight_levels()
    linear = nn.Linear(33, 24)
    with torch.no_grad():
        linear.weight.copy_(torch.randint(-levels, levels + 1, (24, 33), generator=generator).float())
        linear.weight[:, 0] = float(levels)
    x = torch.randint(-127, 128, (5, 3, 33), generator=generator).float()
    x[..., 1] = -127.0
    ours = Int8Linear(linear)(x)
    assert ours.shape == (5, 3, 24) and Int8Linear(linear).quantizer.block == 1
    torch.testing.assert_close(ours, linear(x).detach(), rtol=0, atol=1e-3)
    assert Int8Linear(linear)(torch.zeros(0, 33)).shape == (0, 24), "an empty batch (every row finished) is no error"


def test_the_rotation_cancels_and_spreads_what_smoothing_cannot(monkeypatch):
    """Each row with its own large channel (which a per-channel smoothing factor cannot foresee): rotated in blocks of 64,
    the large value is shared out over its block and the others keep their levels; unrotated, they are drowned."""
    assert torch.allclose(hadamard(64) @ hadamard(64), torch.eye(64), atol=1e-6)
    generator = torch.Generator().manual_seed(3)
    linear = nn.Linear(192, 48, bias=False)
    x = torch.randn(300, 192, generator=generator)
    x[torch.arange(300), torch.randint(0, 192, (300,), generator=generator)] *= 40
    exact = linear(x).detach()
    error = lambda y: float((y - exact).norm() / exact.norm())  # noqa: E731
    rotated = Int8Linear(linear)
    monkeypatch.setattr(int8, "ROTATION_BLOCK", 1)
    plain = Int8Linear(linear)
    assert (rotated.quantizer.block, plain.quantizer.block) == (64, 1)
    assert error(rotated(x)) < 0.015 and error(rotated(x)) < error(plain(x)) / 3


def test_weight_levels_keep_every_product_exact_on_this_cpu():
    """Full-range activations times weights at `weight_levels()`: exact here, whether the CPU saturates 16-bit sums or not."""
    generator, levels = torch.Generator().manual_seed(2), weight_levels()
    assert levels in (FULL_LEVELS, SAFE_LEVELS)
    a = torch.randint(-127, 128, (64, 512), dtype=torch.int8, generator=generator)
    w = torch.randint(-levels, levels + 1, (96, 512), dtype=torch.int8, generator=generator)
    a[0], w[0] = 127, levels  # the largest sum of pairs there is
    assert torch.equal(torch._int_mm(a, w.t()), a.int() @ w.int().t())


def test_smoothing_keeps_the_channels_an_outlier_would_drown():
    """Inputs with one channel 50x the rest: without smoothing the other channels get a few levels; with it the result is
    close to fp32's (SmoothQuant's whole point)."""
    generator = torch.Generator().manual_seed(1)
    linear = nn.Linear(64, 48, bias=False)
    x = torch.randn(200, 64, generator=generator)
    x[:, 3] *= 50
    exact = linear(x).detach()
    error = lambda y: float((y - exact).norm() / exact.norm())  # noqa: E731
    plain, smoothed = Int8Linear(linear)(x), Int8Linear(linear, InputQuantizer([linear.weight], x.abs().amax(0)))(x)
    assert error(smoothed) < 0.02 and error(smoothed) < error(plain) / 2


def test_the_int8_copy_replaces_every_projection_and_leaves_the_model_alone(sft_pair):
    av = load_verbalizer(sft_pair.av)
    before = {name: p.detach().clone() for name, p in av.lm.named_parameters()}
    copy = fast_model(av, bf16=False, int8=True)
    assert fast_model(av, bf16=False, int8=True) is copy and fast_model(av, bf16=False) is not copy, "one copy per precision"
    assert not any(isinstance(m, nn.Linear) for m in copy.modules()) and any(isinstance(m, Int8Linear) for m in copy.modules())
    assert copy.get_input_embeddings().weight.dtype == torch.float32, "the embedding (tied to the head) stays as it was"
    after = dict(av.lm.named_parameters())
    assert before.keys() == after.keys() and all(torch.equal(before[n], after[n]) for n in before)
    embeds = av.prompt_embeds(torch.randn(2, 64))
    with torch.no_grad():
        ours, theirs = copy(inputs_embeds=embeds).logits, av.lm(inputs_embeds=embeds).logits
    cos = nn.functional.cosine_similarity(ours.flatten(1), theirs.flatten(1))
    assert (cos > 0.99).all(), cos


def test_projections_that_read_one_input_share_its_quantization(sft_pair):
    """q, k and v (and gate and up) share one smoothing and one quantized copy of their input; reusing it changes nothing."""
    av = load_verbalizer(sft_pair.av)
    copy = fast_model(av, bf16=False, int8=True)
    attention = next(m for m in copy.modules() if hasattr(m, "q_proj"))
    mlp = next(m for m in copy.modules() if hasattr(m, "gate_proj"))
    assert attention.q_proj.quantizer is attention.k_proj.quantizer is attention.v_proj.quantizer
    assert attention.o_proj.quantizer is not attention.q_proj.quantizer and attention.q_proj.quantizer.readers == 3
    assert mlp.gate_proj.quantizer is mlp.up_proj.quantizer is not mlp.down_proj.quantizer
    embeds = av.prompt_embeds(torch.randn(2, 64))
    with torch.no_grad():
        shared = copy(inputs_embeds=embeds).logits
        for quantizer in {id(m): m for m in copy.modules() if isinstance(m, InputQuantizer)}.values():
            quantizer.readers = 1  # each projection quantizes its input itself
        alone = copy(inputs_embeds=embeds).logits
    assert torch.equal(shared, alone)
    quantizer = attention.q_proj.quantizer
    quantizer.readers = 3
    quantizer(embeds)  # what a forward stopped after q_proj leaves cached
    assert quantizer._last is not None and deepcopy(quantizer)._last is None, "a copy never carries the cache"


def test_int8_reads_and_explains_like_fp32(sft_pair):
    """The AR's reconstructions through the int8 copy point where fp32's do; the AV writes explanations through it."""
    ar = load_reconstructor(sft_pair.ar)
    texts = [t[:80] for t in calibration_texts()] + ["a short one", ""]
    exact = ar.reconstruct(texts, bf16=False)
    ar.int8 = True
    approx = ar.reconstruct(texts)
    cos = (exact * approx).sum(1) / np.linalg.norm(exact, axis=1) / np.linalg.norm(approx, axis=1)
    assert (cos > 0.99).all(), cos
    av = load_verbalizer(sft_pair.av)
    av.int8 = True
    generation = av.generate(np.random.default_rng(0).standard_normal((3, 64)).astype(np.float32), max_new_tokens=8)
    assert len(generation.token_ids) == 3 and all(0 < len(ids) <= 8 for ids in generation.token_ids)


def test_int8_is_the_default_exactly_where_a_cpu_would_run_fp32_products(sft_pair, monkeypatch):
    """Auto: int8 on a CPU without native bf16, bf16 autocast on one with it; --int8 / --no-int8 decide otherwise."""
    monkeypatch.setattr(models, "_cpu_has_bf16", lambda: False)  # an AVX2 laptop
    assert NLA.load(sft_pair.nla).precision == "int8"
    nla = NLA.load(LoadConfig(nla=str(sft_pair.nla), int8=False))  # what `--no-int8` makes: the exact path
    assert not nla.av.int8 and not nla.ar.int8 and nla.precision == "fp32"
    monkeypatch.setattr(models, "_cpu_has_bf16", lambda: True)  # native bf16: unchanged
    assert NLA.load(sft_pair.nla).precision == "bf16"
    nla = NLA.load(LoadConfig(nla=str(sft_pair.nla), int8=True))  # what `--int8` makes on any CPU
    assert nla.av.int8 and nla.ar.int8 and nla.precision == "int8"
    assert NLA.load(sft_pair.nla, dtype="bf16").precision == "bf16", "auto never asks for int8 where it cannot run"
    with pytest.raises(NLAError, match="--int8 quantizes fp32 weights on a CPU"):
        NLA.load(sft_pair.nla, int8=True, dtype="bf16")


def test_calibration_uses_the_model_tokenizer_on_fixed_text(sft_pair):
    """The smoothing comes from the same built-in text every time: two copies of one model quantize identically."""
    av = load_verbalizer(sft_pair.av)
    first = quantize_linears(load_verbalizer(sft_pair.av).lm.merge_and_unload().eval(), av.tokenizer)
    second = quantize_linears(load_verbalizer(sft_pair.av).lm.merge_and_unload().eval(), av.tokenizer)
    pairs = [(a, b) for a, b in zip(first.modules(), second.modules()) if isinstance(a, Int8Linear)]
    assert pairs and all(torch.equal(a.qweight, b.qweight) and torch.equal(a.quantizer.smooth, b.quantizer.smooth) for a, b in pairs)


def test_explain_names_the_precision_under_its_table():
    from rich.console import Console

    from nlakit.readings.explain import render_table

    console = Console(record=True, width=200)
    row = {"position": 3, "token": " library", "fve_nrm": 0.5, "explanation": "a library", "response": "a library", "fve_token_floor": 0.3}
    render_table([row], "rawvar", console, precision="int8")
    assert "products in int8" in " ".join(console.export_text().split())  # the caption wraps
