"""Stage 6: the round-trip score, with the controls that keep it honest.

For texts the NLA never saw: extract activations exactly as in training, let the AV explain each
one greedily, let the AR rebuild the vector from the explanation, and report
fve_nrm = 1 - mse_nrm / rawvar (rawvar from the training sidecar: the release's convention).
Next to it, always:
- fve_shuffled: each vector scored against the explanation of another one (should be about 0 or
  below: an explanation that fits any activation carries no information about this one);
- fve_teacher: the AR on the template teacher's explanation of the same token (what the AR can
  do with a quote of the real context, a ceiling the AV is trying to reach).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from . import dataset
from .ar import Reconstructor, fve, load_reconstructor
from .av import Verbalizer, load_verbalizer
from .corpus import Document, builtin_heldout, load_corpus
from .extract import ExtractConfig, extract_documents
from .models import load_causal_lm, load_tokenizer
from .pretrained import DEFAULT_NLA, resolve_nla
from .sidecar import NLAError, Sidecar
from .teach import template_explanation
from .vllm_engine import ENGINES, VLLMEngine


HELDOUT = "heldout"  # --texts value: the built-in documents held out by the NLA's own extraction split


@dataclass
class NLA:
    """A trained pair plus the target model it explains."""

    av: Verbalizer
    ar: Reconstructor
    target: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase

    @property
    def meta(self) -> Sidecar:
        return self.ar.meta

    @classmethod
    def load(cls, folder: Path | str = DEFAULT_NLA, engine: str = "transformers") -> "NLA":
        """An NLA folder (av/ + ar/), or `default`: the one shipped with the package.

        engine: `transformers` (nlakit's own batched KV-cache loop) or `vllm` (prompt_embeds).
        """
        if engine not in ENGINES:
            raise NLAError(f"unknown engine {engine!r}: choose one of {ENGINES}")
        folder = resolve_nla(folder)
        if not (folder / "av").is_dir() or not (folder / "ar").is_dir():
            raise NLAError(f"{folder} must contain av/ and ar/ folders (as written by `nlakit demo` or the train stages)")
        av, ar = load_verbalizer(folder / "av"), load_reconstructor(folder / "ar")
        av.meta.check_compatible(ar.meta, f"{folder / 'ar'}")
        if engine == "vllm":
            av.engine = VLLMEngine.for_verbalizer(av)
        return cls(av, ar, load_causal_lm(ar.meta.base_model), load_tokenizer(ar.meta.base_model))

    def extract_config(self) -> ExtractConfig:
        known = ExtractConfig.__dataclass_fields__
        return ExtractConfig(model=self.meta.base_model, **{k: v for k, v in self.meta.extraction.items() if k in known and k != "model"})

    def activations(self, docs: list[Document], all_positions: bool = False) -> list[dict]:
        return list(extract_documents(self.target, self.tokenizer, docs, self.extract_config(), self.meta.layer_index, all_positions))

    def roundtrip(self, vectors: np.ndarray, max_new_tokens: int = 64, temperature: float = 0.0,
                  seed: int | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Explanations of `vectors`, the mse_nrm of their reconstructions, and which ones parsed.

        A response without the closing tag keeps its raw text as the explanation and scores 2.0.
        """
        generation = self.av.generate(vectors, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
        parsed = np.array([e is not None for e in generation.explanations], dtype=bool)
        mse = self.ar.score([e if e is not None else "" for e in generation.explanations], vectors)
        mse[~parsed] = 2.0
        return [e if e is not None else t for e, t in zip(generation.explanations, generation.texts)], mse, parsed


def evaluate_rows(nla: NLA, rows: list[dict], max_new_tokens: int = 64, seed: int = 0) -> tuple[dict, list[dict]]:
    """Metrics over extracted rows, and the rows with their explanations and scores added."""
    if not rows:
        raise NLAError("no activations to evaluate: the texts are empty or shorter than min_position")
    vectors = np.stack([r["activation_vector"] for r in rows])
    explanations, mse, parsed = nla.roundtrip(vectors, max_new_tokens)
    rawvar, baseline = nla.meta.baselines.get("rawvar"), "rawvar"
    if rawvar is None:  # a released checkpoint: the variance of the vectors being scored stands in
        rawvar, baseline = dataset.predict_mean_baselines(vectors)["rawvar"], "rawvar of the evaluated vectors (none in the sidecar)"
    rng = np.random.default_rng(seed)
    shift = int(rng.integers(1, len(rows))) if len(rows) > 1 else 0
    shuffled = np.roll(np.arange(len(rows)), shift)
    mse_shuffled = nla.ar.score([explanations[i] for i in shuffled], vectors)
    teacher = [template_explanation(r["context"], r["genre"], list(r["next_tokens"])) for r in rows]
    mse_teacher = nla.ar.score(teacher, vectors)
    metrics = {
        "n": len(rows),
        "fve_nrm": fve(mse, rawvar),
        "mse_nrm": float(mse.mean()),
        "cos": float(np.mean(1 - mse / 2)),
        "fve_shuffled": fve(mse_shuffled, rawvar),
        "fve_teacher": fve(mse_teacher, rawvar),
        "parse_failure_rate": float(np.mean(~parsed)),
        "baseline": baseline,
        "rawvar": rawvar,
    }
    scored = [
        {**{k: v for k, v in r.items() if k != "activation_vector"}, "explanation": e, "mse_nrm": float(m),
         "fve_nrm": float(1 - m / rawvar), "parse_failed": not ok,
         "activation_norm": float(np.linalg.norm(r["activation_vector"]))}
        for r, e, m, ok in zip(rows, explanations, mse, parsed)
    ]
    return metrics, scored


def run_evaluate(nla_dir: Path, texts: str | Path, max_new_tokens: int = 64, max_docs: int | None = None,
                 save: Path | None = None, suite: str = "fast", out: Path | None = None, engine: str = "transformers") -> dict:
    """Round-trip metrics; suite="full" adds nlakit.suite's measures (summary merged, report in `out`)."""
    if suite not in ("fast", "full"):
        raise NLAError(f"unknown suite {suite!r}: choose fast or full")
    nla = NLA.load(nla_dir, engine)
    if str(texts) == HELDOUT:
        cfg = nla.extract_config()
        docs = builtin_heldout(cfg.heldout_fraction, cfg.seed, max_docs)
    else:
        docs = load_corpus(texts, max_docs)
    rows = nla.activations(docs)
    metrics, scored = evaluate_rows(nla, rows, max_new_tokens)
    metrics["texts"] = str(texts)
    if save:
        dataset.write_rows(Path(save), [{**s, "activation_vector": r["activation_vector"]} for s, r in zip(scored, rows)], nla.meta.d_model)
    if suite == "full":
        from .suite import run_suite, suite_rows  # imported here: suite imports this module

        metrics.update(run_suite(nla, suite_rows(nla, rows, scored, docs), out, max_new_tokens=max_new_tokens)["summary"])
    return metrics
