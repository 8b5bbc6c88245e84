"""Stage 6: the round-trip score, with the controls that keep it honest.

For texts the NLA never saw: extract activations exactly as in training, let the AV explain each
one greedily, let the AR rebuild the vector from the explanation, and report
fve_nrm = 1 - mse_nrm / baseline (the sidecar's rawvar: the release's convention; its name is
printed beside the figure). Next to it, always:
- fve_shuffled: each vector scored against the explanation of another one (should be about 0 or
  below: an explanation that fits any activation carries no information about this one);
- fve_teacher: the AR on the template teacher's explanation of the same token (what the AR can
  do with a quote of the real context, a ceiling the AV is trying to reach);
- fve_token_floor: what an AR rebuilds from the current token alone on the same rows (core/floor.py),
  and fve_over_token, what the explanation adds over it; both per genre in `by_genre`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core import dataset
from ..core.config import SAMPLE_TEMPERATURE, EvaluateConfig, LoadConfig
from ..core.corpus import Document, load_corpus
from ..core.errors import NLAError
from ..core.files import check_output_file
from ..core.metrics import derangement, fve
from ..core.nla import NLA, source_folders
from ..core.roundtrip import RoundTrip

HELDOUT = "heldout"  # --texts value: the built-in documents held out by the NLA's own extraction split



class Evaluation(NamedTuple):
    """An evaluate run: the NLA, the documents read, the extracted rows, the metrics and the rows' round trip."""

    nla: NLA
    docs: list[Document]
    rows: list[dict]
    metrics: dict
    result: RoundTrip

    def scored(self) -> list[dict]:
        """Each extracted row (without its vector) with its round trip: RoundTrip.rows' keys, as `--save` writes them."""
        return self.result.rows(self.rows)


def evaluate_rows(nla: NLA, rows: list[dict], max_new_tokens: int | None = None, seed: int = 0, samples: int = 1,
                  temperature: float = SAMPLE_TEMPERATURE, retries: int = 0) -> tuple[dict, RoundTrip]:
    """Metrics over extracted rows, and their round trip (`result.rows(rows)`: the rows with explanations and scores).

    `max_new_tokens`: default the NLA's cap. An explanation cut by it is a parse failure (scored 2.0) and counted
    in `capped_rate` too, so a cap too low for the NLA shows as such, not as a bad NLA. The shuffled control reuses
    the round trip's reconstructions: the AR reads each explanation once.
    """
    if not rows:
        raise NLAError("no activations to evaluate: the texts are empty or shorter than min_position")
    vectors = np.stack([r["activation_vector"] for r in rows])
    max_new_tokens = max_new_tokens or nla.max_new_tokens
    genres = [r.get("genre", "") for r in rows]
    started = time.monotonic()
    result = nla.with_floor(nla.roundtrip(vectors, max_new_tokens), rows)
    greedy_seconds = time.monotonic() - started
    baseline = nla.baseline
    order = derangement(len(rows), np.random.default_rng(seed))
    mse_shuffled = result.shuffled_mse(order)
    mse_teacher = nla.score(nla.teacher_texts(rows), vectors)
    metrics = {
        "n": len(rows),
        "fve_nrm": result.fve,
        "mse_nrm": float(result.mse_nrm.mean()),
        "cos": float(np.mean(result.cos)),
        "fve_shuffled": fve(mse_shuffled, baseline.value),
        "fve_teacher": fve(mse_teacher, baseline.value),
        "parse_failure_rate": float(np.mean(~result.parsed)),
        "capped_rate": float(np.mean(result.capped)),
        "max_new_tokens": max_new_tokens,
        "precision": nla.precision,
        "baseline": baseline.name,
        "rawvar": baseline.value,
        **floor_metrics(result, genres),
        "greedy_seconds": greedy_seconds,
    }
    if retries:
        metrics["retried"] = retried_metrics(nla, result, order, retries, temperature, max_new_tokens, seed, genres)
    if samples > 1:
        metrics["best_of_n"] = best_of_metrics(nla, vectors, samples, temperature, max_new_tokens, seed)
    return metrics, result


def retried_metrics(nla: NLA, result: RoundTrip, order: np.ndarray, retries: int, temperature: float, max_new_tokens: int,
                    seed: int, genres: list[str]) -> dict:
    """The greedy round trip with its failures explained again (NLA.retry_failed) beside the greedy figure: its FVE, its
    shuffled control in the greedy control's order, the margin over the same token floor (overall and per genre), what
    is still failed, the cost."""
    started = time.monotonic()
    again = nla.retry_failed(result, retries, temperature, seed, max_new_tokens)
    seconds = time.monotonic() - started
    return {"retries": retries, "temperature": temperature, "rows_retried": int(np.sum(~result.parsed)), "fve_nrm": again.fve,
            "fve_shuffled": fve(again.shuffled_mse(order), nla.baseline.value), "parse_failure_rate": float(np.mean(~again.parsed)),
            "seconds": seconds, **floor_metrics(again, genres)}


def best_of_metrics(nla: NLA, vectors: np.ndarray, samples: int, temperature: float, max_new_tokens: int, seed: int) -> dict:
    """Best-of-N beside the greedy figure: its FVE, its own shuffled control, and what it cost."""
    started = time.monotonic()
    best = nla.best_of(vectors, samples, temperature, max_new_tokens, seed)
    shuffled = best.shuffled_mse(derangement(len(best), np.random.default_rng(seed)))
    return {"samples": samples, "temperature": temperature, "fve_nrm": best.fve, "fve_shuffled": fve(shuffled, nla.baseline.value),
            "parse_failure_rate": float(np.mean(~best.parsed)), "seconds": time.monotonic() - started}


def floor_metrics(result: RoundTrip, genres: list[str]) -> dict:
    """The token floor beside the FVE (floor.py): overall, the margin over it, and both per genre; a note where the NLA has none."""
    if result.token_floor is None:
        return {"fve_token_floor": None, "token_floor_note": "this NLA has no token_ar/: train one with `nlakit token-floor`"}
    genres = np.array(genres)
    by_genre = {g: {"n": int((genres == g).sum()), "fve_nrm": float(result.fve_nrm[genres == g].mean()),
                    "fve_token_floor": float(result.token_floor[genres == g].mean())} for g in sorted(set(genres.tolist()))}
    for row in by_genre.values():
        row["fve_over_token"] = row["fve_nrm"] - row["fve_token_floor"]
    return {"fve_token_floor": result.floor, "fve_over_token": result.fve - result.floor, "by_genre": by_genre}


def evaluate_documents(nla: NLA, docs: list[Document], max_new_tokens: int | None = None, seed: int = 0, samples: int = 1,
                       temperature: float = SAMPLE_TEMPERATURE, retries: int = 0, **changes: object) -> Evaluation:
    """The round trip and its controls on the activations of `docs`, extracted as the NLA was trained (or with `changes`)."""
    rows = nla.activations(docs, **changes)
    if not rows:
        raise NLAError(f"no activations to evaluate: every text is shorter than min_position={nla.extract_config(**changes).min_position} "
                       "tokens")
    metrics, result = evaluate_rows(nla, rows, max_new_tokens, seed, samples, temperature, retries)
    return Evaluation(nla, docs, rows, metrics, result)


def evaluate_texts(nla_dir: Path | str | LoadConfig, cfg: EvaluateConfig, save: Path | None = None) -> Evaluation:
    """The round trip on `cfg.texts` (the built-in held-out documents by default), and everything a reading built on it needs."""
    if save:  # before any work: never over the corpus or the NLA it reads
        texts = [] if str(cfg.texts) == HELDOUT else [cfg.texts]
        check_output_file(Path(save), [*texts, *source_folders(nla_dir).values()], "--save")
    nla = NLA.load(nla_dir, cfg.engine)
    docs = nla.heldout_documents(cfg.max_docs) if str(cfg.texts) == HELDOUT else load_corpus(cfg.texts, cfg.max_docs)
    evaluation = evaluate_documents(nla, docs, cfg.max_new_tokens, cfg.seed, samples=cfg.samples, temperature=cfg.temperature,
                                    retries=cfg.retries)
    evaluation.metrics["texts"] = str(cfg.texts)
    if save:
        rows = [{**s, dataset.VECTOR: r[dataset.VECTOR]} for s, r in zip(evaluation.scored(), evaluation.rows)]
        dataset.write_rows(Path(save), rows, nla.meta.d_model)
    return evaluation


def run_evaluate(nla_dir: Path | str | LoadConfig, cfg: EvaluateConfig, save: Path | None = None) -> dict:
    """Round-trip metrics with their controls (`--suite full` adds the suite's measures: readings.suite.run_full_evaluate)."""
    return evaluate_texts(nla_dir, cfg, save).metrics
