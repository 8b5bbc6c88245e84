"""The int8 path (nlakit/core/int8.py): its products, its smoothing, where it is chosen, and what it leaves alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nlakit.core.ar import load_reconstructor
from nlakit.core.av import load_verbalizer
from nlakit.core.config import LoadConfig
from nlakit.core.errors import NLAError
from nlakit.core.inference import fast_model
from nlakit.core.int8 import FULL_LEVELS, SAFE_LEVELS, Int8Linear, calibration_texts, quantize_linears, weight_levels
from nlakit.core.nla import NLA


def test_int8_products_are_exact_where_nothing_rounds():
    """Integer weights whose rows reach the weight levels and integer inputs whose rows reach 127 quantize to themselves:
    the result is exact, so the scales are applied the right way round."""
    generator, levels = torch.Generator().manual_seed(0), weight_levels()
    linear = nn.Linear(32, 24)
    with torch.no_grad():
        linear.weight.copy_(torch.randint(-levels, levels + 1, (24, 32), generator=generator).float())
        linear.weight[:, 0] = float(levels)
    x = torch.randint(-127, 128, (5, 3, 32), generator=generator).float()
    x[..., 1] = -127.0
    ours = Int8Linear(linear)(x)
    assert ours.shape == (5, 3, 24)
    torch.testing.assert_close(ours, linear(x).detach(), rtol=0, atol=1e-3)
    assert Int8Linear(linear)(torch.zeros(0, 32)).shape == (0, 24), "an empty batch (every row finished) is no error"


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
    plain, smoothed = Int8Linear(linear)(x), Int8Linear(linear, input_range=x.abs().amax(0))(x)
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


def test_int8_is_a_choice_load_makes_for_every_model_and_refuses_off_the_cpu_path(sft_pair):
    assert NLA.load(sft_pair.nla).precision in ("bf16", "fp32"), "off unless asked for: the readings change"
    nla = NLA.load(LoadConfig(nla=str(sft_pair.nla), int8=True))  # what `--int8` on any command that reads an NLA makes
    assert nla.av.int8 and nla.ar.int8 and nla.precision == "int8"
    with pytest.raises(NLAError, match="--int8 quantizes fp32 weights on a CPU"):
        NLA.load(sft_pair.nla, int8=True, dtype="bf16")


def test_calibration_uses_the_model_tokenizer_on_fixed_text(sft_pair):
    """The smoothing comes from the same built-in text every time: two copies of one model quantize identically."""
    av = load_verbalizer(sft_pair.av)
    first = quantize_linears(load_verbalizer(sft_pair.av).lm.merge_and_unload().eval(), av.tokenizer)
    second = quantize_linears(load_verbalizer(sft_pair.av).lm.merge_and_unload().eval(), av.tokenizer)
    pairs = [(a, b) for a, b in zip(first.modules(), second.modules()) if isinstance(a, Int8Linear)]
    assert pairs and all(torch.equal(a.qweight, b.qweight) and torch.equal(a.inv_smooth, b.inv_smooth) for a, b in pairs)


def test_explain_names_the_precision_under_its_table():
    from rich.console import Console

    from nlakit.readings.explain import render_table

    console = Console(record=True, width=200)
    row = {"position": 3, "token": " library", "fve_nrm": 0.5, "explanation": "a library", "response": "a library", "fve_token_floor": 0.3}
    render_table([row], "rawvar", console, precision="int8")
    assert "products in int8" in " ".join(console.export_text().split())  # the caption wraps
