"""`NLA`: a trained pair (AV + AR) and the target model it reads, behind one small API.

    nla = NLA.load()                      # the NLA shipped with nlakit, or a folder holding av/ and ar/
    rows = nla.explain("Once upon a time")  # every token: its explanation and how faithful it is
    result = nla.roundtrip(vectors)         # explanations of any [N, d] vectors, scored by the AR
    mse = nla.score(explanations, vectors)  # the AR's verdict on explanations from anywhere

One activation flows: target model -> block K's output (hooks.capture_block_output) -> the AV's
prompt with the vector written over the marker (hooks.inject) -> generated explanation -> the AR
-> reconstructed vector -> mse_nrm against the original (metrics) -> fve against the baseline.
The round trip exists here once; evaluate, explain, the suite, the explorer and RL's samples call it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .ar import Reconstructor, load_reconstructor
from .av import Verbalizer, load_verbalizer
from .config import ENGINES, EXPLANATION_TOKENS, ExtractConfig
from .corpus import Document, builtin_heldout, guess_genre
from .errors import NLAError
from .extract import extract_documents
from .metrics import Baseline, cos_from_mse, fve_rows, measured_baseline, sidecar_baseline
from .models import load_causal_lm, load_tokenizer
from .pretrained import DEFAULT_NLA, resolve_nla
from .progress import progress
from .sidecar import Sidecar

FALLBACK_DOCS = 16  # built-in held-out documents whose activations stand in for a missing rawvar
PROGRESS_FROM = 16  # a round trip of this many vectors takes long enough on a CPU to show its progress


class RoundTrip(NamedTuple):
    """What the round trip gives for N vectors."""

    explanations: list[str]  # the parsed explanation, or the raw response where the closing tag never came
    mse_nrm: np.ndarray  # [N] float64; a failed generation scores metrics.FAILED_MSE
    parsed: np.ndarray  # [N] bool
    responses: list[str]  # the raw generated text


def roundtrip(av: Verbalizer, ar: Reconstructor, vectors: np.ndarray, max_new_tokens: int = EXPLANATION_TOKENS, temperature: float = 0.0,
              seed: int | None = None, batch_size: int | None = None, bf16: bool | None = None) -> RoundTrip:
    """The AV explains each vector (greedy at temperature 0), the AR rebuilds it from the explanation.

    More than PROGRESS_FROM vectors get a progress bar on stderr (explained / total, rate, ETA).
    """
    with progress(disable=len(vectors) < PROGRESS_FROM) as bar:
        task = bar.add_task("explaining", total=len(vectors), info="")
        generation = av.generate(vectors, max_new_tokens=max_new_tokens, temperature=temperature, batch_size=batch_size,
                                 bf16=bf16, seed=seed, on_batch=lambda n: bar.advance(task, n))
    parsed = np.array([e is not None for e in generation.explanations], dtype=bool)
    mse = ar.score([e if e is not None else "" for e in generation.explanations], vectors, failed=~parsed, bf16=bf16)
    explanations = [e if e is not None else t for e, t in zip(generation.explanations, generation.texts)]
    return RoundTrip(explanations, mse, parsed, generation.texts)


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
    def load(cls, folder: Path | str = DEFAULT_NLA, engine: str = "transformers") -> NLA:
        """An NLA folder (av/ + ar/), or `default`: the one shipped with the package.

        engine: `transformers` (nlakit's own batched KV-cache loop) or `vllm` (prompt_embeds).
        """
        if engine not in ENGINES:
            raise NLAError(f"unknown engine {engine!r}: choose one of {ENGINES}")
        folder = resolve_nla(folder)
        if not (folder / "av").is_dir() or not (folder / "ar").is_dir():
            raise NLAError(f"{folder} must contain av/ and ar/ folders (as written by `nlakit train` or the train stages)")
        av, ar = load_verbalizer(folder / "av"), load_reconstructor(folder / "ar")
        av.meta.check_compatible(ar.meta, f"{folder / 'ar'}")
        if engine == "vllm":
            from .vllm_engine import VLLMEngine

            av.engine = VLLMEngine.for_verbalizer(av)
        return cls(av, ar, load_causal_lm(ar.meta.base_model), load_tokenizer(ar.meta.base_model))

    # -- activations

    def extract_config(self, **changes: object) -> ExtractConfig:
        """The extraction settings the NLA was trained with (as its sidecar records them), with `changes`."""
        known = {f.name for f in dataclasses.fields(ExtractConfig)} - {"model"}
        recorded = {k: v for k, v in self.meta.extraction.items() if k in known}
        try:
            return ExtractConfig(**{"model": self.meta.base_model, **recorded, **changes})
        except NLAError as err:
            raise NLAError(f"the NLA's sidecar records unusable extraction settings: {err}") from None

    def activations(self, docs: list[Document], all_positions: bool = False, **changes: object) -> list[dict]:
        """Rows (context, token, next tokens, `activation_vector`) of the target at layer K, as in training (or with `changes`)."""
        cfg = self.extract_config(**changes)
        return list(extract_documents(self.target, self.tokenizer, docs, cfg, self.meta.layer_index, all_positions))

    # -- scores

    @cached_property
    def baseline(self) -> Baseline:
        """The sidecar's rawvar; for a sidecar without one, the rawvar of built-in held-out activations, named as such."""
        found = sidecar_baseline(self.meta.baselines)
        if found is not None:
            return found
        cfg = self.extract_config()
        rows = self.activations(builtin_heldout(cfg.heldout_fraction, cfg.seed, FALLBACK_DOCS))
        return measured_baseline(np.stack([r["activation_vector"] for r in rows]), "activations of built-in held-out documents")

    def roundtrip(self, vectors: np.ndarray, max_new_tokens: int = EXPLANATION_TOKENS, temperature: float = 0.0, seed: int | None = None) -> RoundTrip:
        """Explanations of `vectors` ([N, d] or [d]), their mse_nrm, which ones parsed, the raw responses."""
        return roundtrip(self.av, self.ar, vectors, max_new_tokens, temperature, seed)

    def score(self, explanations: list[str | None], vectors: np.ndarray) -> np.ndarray:
        """mse_nrm of the AR's reconstruction from each explanation (None: a failed generation, scored 2.0)."""
        failed = np.array([e is None for e in explanations], dtype=bool)
        return self.ar.score([e or "" for e in explanations], vectors, failed=failed)

    def scored(self, mse: np.ndarray) -> dict[str, np.ndarray]:
        """Per-row fve_nrm (against `baseline`) and cos for mse_nrm values."""
        return {"fve_nrm": fve_rows(mse, self.baseline.value),
                "cos": np.asarray(cos_from_mse(mse, self.meta.d_model, self.meta.resolved_mse_scale))}

    # -- reading a text

    def explain(self, text: str, max_new_tokens: int = EXPLANATION_TOKENS) -> list[dict]:
        """One row per token of `text`: position, token, explanation, fve_nrm, mse_nrm, parsed, activation norm, context."""
        rows = self.activations([Document("input:0", text, guess_genre(text))], all_positions=True)
        if not rows:
            return []
        vectors = np.stack([r["activation_vector"] for r in rows])
        result = self.roundtrip(vectors, max_new_tokens)
        fve = self.scored(result.mse_nrm)["fve_nrm"]
        return [
            {"position": r["position"], "token": r["token"], "explanation": e, "fve_nrm": float(f), "mse_nrm": float(m),
             "parsed": bool(ok), "activation_norm": float(np.linalg.norm(v)), "context": r["context"]}
            for r, e, f, m, ok, v in zip(rows, result.explanations, fve, result.mse_nrm, result.parsed, vectors)
        ]
