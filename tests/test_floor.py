"""The token floor (core/floor.py): trained by `nlakit token-floor`, loaded with the NLA, shown beside every FVE."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from nlakit.app.cli import main
from nlakit.core.config import ARConfig, EvaluateConfig
from nlakit.core.errors import NLAError
from nlakit.core.floor import TOKEN_AR, token_texts
from nlakit.core.metrics import fve_rows
from nlakit.core.nla import NLA
from nlakit.core.sidecar import SIDECAR_NAME
from nlakit.readings.teachers import run_token_floor
from nlakit.stages.evaluate import evaluate_texts


@pytest.fixture(scope="module")
def floored(sft_pair, tmp_path_factory):
    """A copy of the tiny SFT NLA with a token floor trained into it (3 steps)."""
    nla = tmp_path_factory.mktemp("floored") / "nla"
    shutil.copytree(sft_pair.nla, nla)
    run_token_floor(sft_pair.data, nla, ARConfig(steps=3, eval_every=3, save_every=1, bf16=False))
    return nla


def test_the_token_ar_reads_only_the_token(floored):
    meta = yaml.safe_load((floored / TOKEN_AR / SIDECAR_NAME).read_text())
    assert meta["prompt_templates"]["teacher"] == "token"
    assert token_texts([{"token": " library", "context": "a long context about a library"}]) == ['Reads: " library"']


def test_evaluate_puts_the_floor_and_the_margin_beside_the_fve(floored, sft_pair, tiny_corpus):
    evaluation = evaluate_texts(floored, EvaluateConfig(texts=str(tiny_corpus), max_new_tokens=8, max_docs=4))
    m, nla = evaluation.metrics, evaluation.nla
    expected = fve_rows(nla.token_ar.score(token_texts(evaluation.rows), np.stack([r["activation_vector"] for r in evaluation.rows])),
                        nla.baseline.value)
    assert m["fve_token_floor"] == pytest.approx(float(expected.mean()))
    assert m["fve_over_token"] == pytest.approx(m["fve_nrm"] - m["fve_token_floor"])
    assert sum(g["n"] for g in m["by_genre"].values()) == m["n"]
    rows = evaluation.scored()
    assert all(r["fve_token_floor"] == pytest.approx(f) for r, f in zip(rows, expected))


def test_explain_rows_carry_the_floor_and_an_nla_without_one_says_so(floored, sft_pair, tiny_corpus):
    rows = NLA.load(floored).explain("a short text about the sea", max_new_tokens=6)
    assert rows and all(isinstance(r["fve_token_floor"], float) for r in rows)
    plain = evaluate_texts(sft_pair.nla, EvaluateConfig(texts=str(tiny_corpus), max_new_tokens=6, max_docs=2)).metrics
    assert plain["fve_token_floor"] is None and "token-floor" in plain["token_floor_note"]
    assert all(r["fve_token_floor"] is None for r in NLA.load(sft_pair.nla).explain("the sea", max_new_tokens=4))


def test_a_token_ar_of_another_design_is_refused(floored, tmp_path):
    nla = tmp_path / "nla"
    shutil.copytree(floored, nla)
    path = nla / TOKEN_AR / SIDECAR_NAME
    path.write_text(path.read_text().replace("teacher: token", "teacher: genre+quote6+next2"))
    with pytest.raises(NLAError, match="no token floor"):
        NLA.load(nla)


def test_the_command_refuses_to_replace_a_floor_without_overwrite(floored, sft_pair, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["token-floor", "--data", str(sft_pair.data), "--nla", str(floored), "--steps", "3"])
    assert stop.value.code == 2 and "--overwrite" in capsys.readouterr().err
