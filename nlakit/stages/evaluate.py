"""Stage 6: the round-trip score, with the controls that keep it honest.

For texts the NLA never saw: extract activations exactly as in training, let the AV explain each
one greedily, let the AR rebuild the vector from the explanation, and report
fve_nrm = 1 - mse_nrm / baseline (the sidecar's rawvar: the release's convention; its name is
printed beside the figure). Next to it, always:
- fve_shuffled: each vector scored against the explanation of another one (should be about 0 or
  below: an explanation that fits any activation carries no information about this one);
- fve_teacher: the AR on the template teacher's explanation of the same token (what the AR can
  do with a quote of the real context, a ceiling the AV is trying to reach).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core import dataset
from ..core.config import EvaluateConfig
from ..core.corpus import Document, builtin_heldout, load_corpus
from ..core.errors import NLAError
from ..core.metrics import derangement, fve
from ..core.nla import NLA

HELDOUT = "heldout"  # --texts value: the built-in documents held out by the NLA's own extraction split



class Evaluation(NamedTuple):
    """An evaluate run: the NLA, the documents read, the extracted rows, the metrics and the scored rows."""

    nla: NLA
    docs: list[Document]
    rows: list[dict]
    metrics: dict
    scored: list[dict]


def evaluate_rows(nla: NLA, rows: list[dict], max_new_tokens: int | None = None, seed: int = 0) -> tuple[dict, list[dict]]:
    """Metrics over extracted rows, and the rows with their explanations and scores added.

    `max_new_tokens`: default the NLA's cap. An explanation cut by it is a parse failure (scored 2.0) and counted
    in `capped_rate` too, so a cap too low for the NLA shows as such, not as a bad NLA.
    """
    if not rows:
        raise NLAError("no activations to evaluate: the texts are empty or shorter than min_position")
    vectors = np.stack([r["activation_vector"] for r in rows])
    max_new_tokens = max_new_tokens or nla.max_new_tokens
    result = nla.roundtrip(vectors, max_new_tokens)
    baseline, scores = nla.baseline, nla.scored(result.mse_nrm)
    shuffled = derangement(len(rows), np.random.default_rng(seed))
    mse_shuffled = nla.score([result.explanations[i] if result.parsed[i] else None for i in shuffled], vectors)
    mse_teacher = nla.score(nla.teacher_texts(rows), vectors)
    metrics = {
        "n": len(rows),
        "fve_nrm": fve(result.mse_nrm, baseline.value),
        "mse_nrm": float(result.mse_nrm.mean()),
        "cos": float(np.mean(scores["cos"])),
        "fve_shuffled": fve(mse_shuffled, baseline.value),
        "fve_teacher": fve(mse_teacher, baseline.value),
        "parse_failure_rate": float(np.mean(~result.parsed)),
        "capped_rate": float(np.mean(result.capped)),
        "max_new_tokens": max_new_tokens,
        "baseline": baseline.name,
        "rawvar": baseline.value,
    }
    scored = [
        {**{k: v for k, v in r.items() if k != "activation_vector"}, "explanation": e, "mse_nrm": float(m),
         "fve_nrm": float(f), "parse_failed": not ok, "capped": bool(cut), "activation_norm": float(np.linalg.norm(r["activation_vector"]))}
        for r, e, m, f, ok, cut in zip(rows, result.explanations, result.mse_nrm, scores["fve_nrm"], result.parsed, result.capped)
    ]
    return metrics, scored


def evaluate_texts(nla_dir: Path | str, cfg: EvaluateConfig, save: Path | None = None) -> Evaluation:
    """The round trip on `cfg.texts` (the built-in held-out documents by default), and everything a reading built on it needs."""
    nla = NLA.load(nla_dir, cfg.engine)
    if str(cfg.texts) == HELDOUT:
        extraction = nla.extract_config()
        docs = builtin_heldout(extraction.heldout_fraction, extraction.seed, cfg.max_docs)
    else:
        docs = load_corpus(cfg.texts, cfg.max_docs)
    rows = nla.activations(docs)
    if not rows:
        raise NLAError(f"no activations to evaluate: every text is shorter than min_position={nla.extract_config().min_position} tokens")
    metrics, scored = evaluate_rows(nla, rows, cfg.max_new_tokens, cfg.seed)
    metrics["texts"] = str(cfg.texts)
    if save:
        dataset.write_rows(Path(save), [{**s, "activation_vector": r["activation_vector"]} for s, r in zip(scored, rows)], nla.meta.d_model)
    return Evaluation(nla, docs, rows, metrics, scored)


def run_evaluate(nla_dir: Path | str, cfg: EvaluateConfig, save: Path | None = None) -> dict:
    """Round-trip metrics with their controls (`--suite full` adds the suite's measures: readings.suite.run_full_evaluate)."""
    return evaluate_texts(nla_dir, cfg, save).metrics
