"""The README's Python example runs as written: on a tiny NLA (every run), and on the shipped NLA and the real SmolLM2 (slow)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nlakit import NLA, NLAError
from nlakit.core import nla as nla_module
from nlakit.core.metrics import FAILED_MSE, RAWVAR
from nlakit.core.nla import RoundTrip

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    block = re.search(r"From Python.*?```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "the README lost its 'From Python' example"
    return block.group(1)


def run_example(capsys) -> str:
    exec(compile(readme_example(), "README.md", "exec"), {})
    return capsys.readouterr().out


def test_readme_python_example_runs_on_a_tiny_nla(sft_pair, monkeypatch, capsys):
    """The same block, with `NLA.load()`'s default standing for the tiny SFT pair instead of the shipped NLA."""
    real = nla_module.resolve_nla
    monkeypatch.setattr(nla_module, "resolve_nla", lambda folder: sft_pair.nla if str(folder) == "default" else real(folder))
    printed = run_example(capsys)
    assert "fve_nrm" in printed and f"({RAWVAR})" in printed  # each token's FVE names its baseline


def test_the_public_api_explains_round_trips_and_scores(sft_pair, tmp_path):
    """`from nlakit import NLA, NLAError` is the whole API: explain rows, RoundTrip, score (None scores FAILED_MSE)."""
    nla = NLA.load(sft_pair.nla)
    assert nla.baseline.name == RAWVAR and nla.baseline.value == pytest.approx(nla.meta.baselines[RAWVAR])

    text = "Bob: hello there, Alice."
    rows = nla.explain(text, max_new_tokens=6)
    special = set(nla.tokenizer.all_special_ids)
    ids = [i for i in nla.tokenizer(text, add_special_tokens=True)["input_ids"] if i not in special]
    assert [r["token"] for r in rows] == [nla.tokenizer.decode([i]) for i in ids]  # one row per token, in order
    for row in rows:
        assert isinstance(row["explanation"], str) and isinstance(row["parsed"], bool)
        assert row["fve_nrm"] == pytest.approx(1 - row["mse_nrm"] / nla.baseline.value)
        if not row["parsed"]:  # no closing tag: a failure, never better than an orthogonal guess
            assert row["mse_nrm"] == FAILED_MSE

    vectors = np.random.default_rng(0).standard_normal((3, nla.meta.d_model)).astype(np.float32)
    result = nla.roundtrip(vectors, max_new_tokens=6)
    assert isinstance(result, RoundTrip) and result.mse_nrm.shape == (3,) and result.parsed.dtype == bool
    assert len(result.explanations) == len(result.responses) == 3
    assert np.all((result.mse_nrm >= 0) & (result.mse_nrm <= 4))
    assert nla.roundtrip(vectors[0], max_new_tokens=6).mse_nrm.shape == (1,)  # a single [d] vector

    explanation = "story; topic: ghost.\nEnds with: \"the old letter\""
    mse = nla.score([None, explanation, None], vectors)
    assert mse[0] == mse[2] == FAILED_MSE == 2.0
    assert mse[1] == pytest.approx(float(nla.ar.score([explanation], vectors[1:2])[0])) and mse[1] != FAILED_MSE

    with pytest.raises(NLAError, match="av/ and ar/"):
        NLA.load(tmp_path)
    with pytest.raises(NLAError, match="width 3"):
        nla.score(["x"], np.ones((1, 3)))


@pytest.mark.slow
def test_readme_python_example_runs(capsys):
    """As written: the shipped NLA on the real SmolLM2."""
    printed = run_example(capsys)
    assert "fve_nrm" in printed and f"({RAWVAR})" in printed  # each token's FVE names its baseline
