"""Best-of-N (`nlakit evaluate --samples N`): the AR picks among the AV's samples; reported beside greedy, never in its place."""

from __future__ import annotations

import numpy as np
import pytest

from nlakit.core.config import EvaluateConfig
from nlakit.core.nla import NLA
from nlakit.core.roundtrip import RoundTrip, pick_best, retry_failed
from nlakit.stages.evaluate import evaluate_texts


def test_the_pick_is_the_sample_the_ar_rebuilds_best(sft_pair):
    nla = NLA.load(sft_pair.nla)
    vectors = np.random.default_rng(0).standard_normal((3, nla.meta.d_model)).astype(np.float32)
    samples = nla.roundtrip(np.repeat(vectors, 4, axis=0), 6, temperature=1.0, seed=0)
    best = pick_best(samples, 4)
    assert len(best) == 3
    np.testing.assert_allclose(best.mse_nrm, samples.mse_nrm.reshape(3, 4).min(axis=1))
    np.testing.assert_allclose(best.vectors, vectors)
    for i in range(3):  # each kept explanation is one of that vector's own samples, with its own reconstruction
        k = [j for j in range(4 * i, 4 * i + 4) if samples.mse_nrm[j] == best.mse_nrm[i]][0]
        assert best.explanations[i] == samples.explanations[k]
        np.testing.assert_allclose(best.reconstructions[i], samples.reconstructions[k])
    with pytest.raises(ValueError):
        pick_best(samples, 5)


def test_evaluate_reports_best_of_n_beside_the_unchanged_greedy_figure(sft_pair, tiny_corpus):
    common = dict(texts=str(tiny_corpus), max_new_tokens=6, max_docs=3)
    greedy = evaluate_texts(sft_pair.nla, EvaluateConfig(**common)).metrics
    both = evaluate_texts(sft_pair.nla, EvaluateConfig(**common, samples=3, temperature=1.0)).metrics
    assert "best_of_n" not in greedy
    assert both["fve_nrm"] == pytest.approx(greedy["fve_nrm"]), "the greedy figure stays what it was"
    best = both["best_of_n"]
    assert best["samples"] == 3 and best["temperature"] == 1.0 and best["seconds"] > 0
    assert {"fve_nrm", "fve_shuffled", "parse_failure_rate"} <= set(best)


def planted_roundtrip(texts: list[str | None], mse: list[float]) -> RoundTrip:
    """A round trip of len(texts) rows whose None rows failed (scored 2.0), the others scored `mse`."""
    n, ok = len(texts), np.array([t is not None for t in texts])
    mse_rows = np.where(ok, mse, 2.0)
    return RoundTrip(np.eye(n, 4, dtype=np.float32), [t or "loop loop" for t in texts], [t or "loop loop" for t in texts],
                     np.eye(n, 4, dtype=np.float32), mse_rows, 1 - mse_rows, 1 - mse_rows / 2, ok, ~ok, 1.0, None,
                     token_floor=np.full(n, 0.25))


def test_a_failed_row_is_explained_again_and_the_first_parsed_try_kept_whatever_its_score():
    greedy = planted_roundtrip(["a", None, None, "d"], [0.1, 0, 0, 0.2])
    tries = {0: [None, "b0"], 1: ["c1"], 2: []}  # try 0 fixes row 2, not row 1; try 1 fixes row 1 at a worse score
    seen = []

    def again(vectors: np.ndarray, k: int) -> RoundTrip:
        seen.append(vectors.argmax(axis=1).tolist())
        return planted_roundtrip(tries[k], [1.9] * len(tries[k]))

    out = retry_failed(greedy, again, retries=3)
    assert seen == [[1, 2], [1]], "only the rows still failed are explained again, and it stops once none is"
    assert out.explanations == ["a", "c1", "b0", "d"] and out.parsed.all()
    assert out.retried.tolist() == [False, True, True, False]
    np.testing.assert_allclose(out.mse_nrm, [0.1, 1.9, 1.9, 0.2])  # kept because it parsed, though it scores badly
    np.testing.assert_allclose(out.token_floor, greedy.token_floor)
    assert [r["retried"] for r in out.rows()] == [False, True, True, False]
    assert greedy.parsed.tolist() == [True, False, False, True], "the greedy round trip is not changed"
    still = retry_failed(greedy, lambda v, k: planted_roundtrip([None] * len(v), [0] * len(v)), retries=2)
    assert still.parsed.tolist() == [True, False, False, True] and not still.retried.any()


def test_evaluate_reports_retries_beside_the_unchanged_greedy_figure(sft_pair, tiny_corpus):
    common = dict(texts=str(tiny_corpus), max_new_tokens=6, max_docs=3)
    greedy = evaluate_texts(sft_pair.nla, EvaluateConfig(**common)).metrics
    both = evaluate_texts(sft_pair.nla, EvaluateConfig(**common, retries=2, temperature=1.0)).metrics
    assert "retried" not in greedy and both["fve_nrm"] == pytest.approx(greedy["fve_nrm"])
    again = both["retried"]
    assert again["retries"] == 2 and again["rows_retried"] == round(greedy["parse_failure_rate"] * greedy["n"])
    assert again["parse_failure_rate"] <= greedy["parse_failure_rate"] and again["seconds"] >= 0
    assert {"fve_nrm", "fve_shuffled"} <= set(again)


def test_explain_samples_a_failed_token_again_and_says_so(sft_pair, monkeypatch, capsys):
    """`explain TEXT --retries N`: a token whose greedy explanation failed gets a sampled one, marked `retried`; without
    --retries it stays a failure and the note names the remedy."""
    import json

    from nlakit.app.cli import app
    from nlakit.core.av import Generation, Verbalizer

    def fake_generate(self, vectors, max_new_tokens=64, temperature=0.0, seed=None, **kw):  # greedy fails every other token
        texts = ["sampled" if temperature else (None if i % 2 else "greedy") for i in range(len(vectors))]
        ids = [[1, 2] if t else [1] * max_new_tokens for t in texts]
        return Generation([t or "loop" for t in texts], texts, ids, [[0.0] * len(i) for i in ids])

    monkeypatch.setattr(Verbalizer, "generate", fake_generate)
    for retries, wanted in ((0, None), (2, "sampled")):
        try:
            app(["explain", "--nla", str(sft_pair.nla), "--json", "--retries", str(retries), "a short text to read"])
        except SystemExit as stop:
            assert stop.code in (0, None)
        out, err = capsys.readouterr()
        rows = json.loads(out)
        odd = [r for i, r in enumerate(rows) if i % 2]
        assert odd and all(r["retried"] == bool(retries) and r["parsed"] == bool(retries) for r in odd)
        assert all(r["explanation"] == "greedy" and not r["retried"] for i, r in enumerate(rows) if not i % 2)
        if wanted:
            assert all(r["explanation"] == wanted for r in odd) and "reached the cap" not in err
        else:
            assert "--retries 2" in err


def test_evaluate_prints_nested_figures_by_their_path_not_as_a_dict(monkeypatch):
    import io

    from rich.console import Console

    from nlakit.app import cli

    screen = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=screen, width=200))
    cli.print_metrics({"fve_nrm": 0.5, "retried": {"fve_nrm": 0.53, "by_genre": {"code": {"n": 3, "fve_nrm": 0.25}}}, "baseline": "rawvar"})
    out = screen.getvalue()
    assert "retried.fve_nrm: 0.5300" in out and "retried.by_genre.code: n 3, fve_nrm 0.2500" in out and "{" not in out
