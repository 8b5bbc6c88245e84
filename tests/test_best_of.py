"""Best-of-N (`nlakit evaluate --samples N`): the AR picks among the AV's samples; reported beside greedy, never in its place."""

from __future__ import annotations

import numpy as np
import pytest

from nlakit.core.config import EvaluateConfig
from nlakit.core.nla import NLA
from nlakit.core.roundtrip import pick_best
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
