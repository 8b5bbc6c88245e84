"""`NLA`: a trained pair (AV + AR) and the target model it reads, behind one small API.

    nla = NLA.load()                      # the NLA shipped with nlakit, or a folder holding av/ and ar/
    nla = NLA.load(av="kitft/nla-qwen2.5-7b-L20-av", ar="kitft/nla-qwen2.5-7b-L20-ar")  # a released pair (or two folders)
    rows = nla.explain("Once upon a time")  # every token: its explanation and how faithful it is
    result = nla.roundtrip(vectors)         # explanations of any [N, d] vectors, scored by the AR
    mse = nla.score(explanations, vectors)  # the AR's verdict on explanations from anywhere

One activation flows: target model -> block K's output (hooks.capture_block_output) -> the AV's
prompt with the vector written over the marker (hooks.inject) -> generated explanation -> the AR
-> reconstructed vector -> mse_nrm against the original (metrics) -> fve against the baseline.
The round trip exists once (roundtrip.py, its result a `RoundTrip`); evaluate, explain, the suite, the explorer and
RL's samples call it.

Where a sidecar is silent (released sidecars record no rawvar, no extraction settings, no
explanation cap), the pair's entry in `released.RELEASED` fills in, and only here: `baseline`,
`meannorm`, `max_new_tokens`, `extract_config` and, at load, an AV's layer and injection scale.
A pair in the official layout that the registry does not know (anyone's own checkpoints from the
official pipeline) gets that pipeline's settings instead of nlakit's (`released.pipeline_defaults`).
Each fallback is named (the baseline's name, `notes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .ar import Reconstructor, load_reconstructor
from .av import Verbalizer, load_verbalizer
from .config import DEFAULT_DESIGN, DEFAULT_NLA, ENGINES, EXPLANATION_TOKENS, SAMPLE_TEMPERATURE, ExtractConfig, LoadConfig
from .corpus import Document, builtin_heldout, guess_genre
from .errors import NLAError
from .floor import load_token_ar, token_texts
from .metrics import RAWVAR, Baseline, fve_rows, measured_baseline, sidecar_baseline
from .models import bf16_enabled, default_device, inference_dtype, load_causal_lm, load_tokenizer, native_bf16
from .pretrained import resolve_nla
from .prompts import ar_text, template_explanation
from .reading import extract_documents
from .released import ReleasedNLA, by_hub_id, for_sidecar, is_hub_id, locate, pipeline_defaults, pipeline_note
from .roundtrip import RoundTrip, pick_best, retry_failed, roundtrip
from .sidecar import Sidecar

FALLBACK_DOCS = 16  # built-in held-out documents whose activations stand in for a missing rawvar


def pair_folders(folder: Path | str, av: str | Path | None, ar: str | Path | None) -> tuple[Path, Path, ReleasedNLA | None, list[str]]:
    """The AV and AR folders to load, the registry entry their hub ids name (if any), and notes on what was inferred.

    Either an NLA folder (av/ + ar/; `default`: the shipped one) or `av` and `ar`, each a folder or a
    hub id (released.locate). Given one hub id of a released pair, the other is the registry's.
    """
    if av is None and ar is None:
        root = resolve_nla(folder)
        if not (root / "av").is_dir() or not (root / "ar").is_dir():
            hint = f"; {folder} looks like a hub id: give a released pair as --av and --ar" if is_hub_id(str(folder)) else ""
            raise NLAError(f"{root} must contain av/ and ar/ folders (as written by `nlakit train` or the train stages){hint}")
        return root / "av", root / "ar", None, []
    if str(folder) != DEFAULT_NLA:
        raise NLAError("give either an NLA folder (--nla) or the AV and AR (--av, --ar), not both")
    release, notes = by_hub_id(str(av or ar)), []
    if av is None or ar is None:
        if release is None:
            raise NLAError(f"give both --av and --ar: {av or ar} is not a released NLA whose partner nlakit knows")
        missing, other = ("AR", release.ar) if ar is None else ("AV", release.av)
        av, ar = av or release.av, ar or release.ar
        notes.append(f"the {missing} of {release.name} is {other} (registry)")
    return locate(av, "AV"), locate(ar, "AR"), release or by_hub_id(str(ar)), notes


def source_folders(source: Path | str | LoadConfig) -> dict[str, Path]:
    """The folders an NLA is read from, named as a run record names its inputs: {"nla": folder}, or the AV and AR given apart."""
    if not isinstance(source, LoadConfig) or not (source.av or source.ar):
        return {"nla": resolve_nla(source.nla if isinstance(source, LoadConfig) else source)}
    av_dir, ar_dir, _, _ = pair_folders(source.nla, source.av, source.ar)
    return {"av": av_dir, "ar": ar_dir}


def decoding(source: NLA | Path | str | LoadConfig) -> dict[str, int]:
    """How an NLA (loaded, or to be loaded from `source`) decodes, where not as the official client does: what a stage
    keeping its explanations records beside its settings (StageRun's `extra`), so that a rerun decoding otherwise does not
    reuse them."""
    n = source.av.no_repeat_ngram if isinstance(source, NLA) else source.no_repeat_ngram if isinstance(source, LoadConfig) else 0
    return {"no_repeat_ngram": n} if n else {}


def complete_pair(av_meta: Sidecar, ar_meta: Sidecar, release: ReleasedNLA | None, injection_scale: float | None = None) -> list[str]:
    """Fill what the AV sidecar leaves out from the AR's or the registry (in place); notes saying what came from where.

    `injection_scale` (explain's --injection-scale, the official client's override) stands in for an AV sidecar that
    records none, before the registry's: that is what the official flag is for.
    """
    notes = []
    if release is not None and (ar_meta.layer_index, ar_meta.d_model) != (release.layer_index, release.d_model):
        raise NLAError(f"the AR sidecar says layer {ar_meta.layer_index}, d_model {ar_meta.d_model}; {release.name} "
                       f"(registry) is layer {release.layer_index}, d_model {release.d_model}")
    if av_meta.layer_index is None:  # an AV sidecar from before the release scrub
        av_meta.layer_index = ar_meta.layer_index
        notes.append(f"the AV sidecar records no layer: layer {ar_meta.layer_index} from the AR sidecar")
    if av_meta.injection_scale is None and injection_scale is not None:
        av_meta.injection_scale = injection_scale
        notes.append(f"the AV sidecar records no injection_scale: {injection_scale:g} from --injection-scale")
    if av_meta.injection_scale is None and release is not None:
        av_meta.injection_scale = release.injection_scale
        notes.append(f"the AV sidecar records no injection_scale: {release.injection_scale:g} from {release.name} (registry)")
    return notes


def check_ar_suffix(ar: Reconstructor, source: Path | str) -> None:
    """Refuse an AR whose prompt no longer ends in the sidecar's `tokens.critic_suffix_ids` (a tokenizer or template that
    drifted since training), as the official pipeline asserts (nla/config.py `verify_critic_suffix`): the AR reads the
    prompt's last token, so a changed tail silently changes what it reads. A sidecar without the ids is not checked."""
    expected = ar.meta.tokens.get("critic_suffix_ids")
    if not expected:
        return
    expected = [int(t) for t in expected]
    ids = ar.tokenizer(ar_text(ar.meta.prompt_templates["ar"], "An explanation."), add_special_tokens=True)["input_ids"]
    if ids[-len(expected):] != expected:
        raise NLAError(f"{source}: the AR prompt ends in tokens {ids[-len(expected):]}, its sidecar's tokens.critic_suffix_ids "
                       f"say {expected}: the tokenizer or the AR template drifted from the one it was trained with")


@dataclass
class NLA:
    """A trained pair plus the target model it explains."""

    av: Verbalizer
    ar: Reconstructor
    target: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    release: ReleasedNLA | None = None  # the registry entry of a released pair: what its sidecars leave out
    notes: list[str] = field(default_factory=list)  # what was inferred at load, and from where (the CLI prints them)
    token_ar: Reconstructor | None = None  # the token floor's AR (floor.py), where the NLA folder holds one
    pipeline: bool = False  # an official-layout pair outside the registry: the official pipeline's settings stand in

    @property
    def meta(self) -> Sidecar:
        return self.ar.meta

    @property
    def precision(self) -> str:
        """What the readings' products run in on this machine: int8 (int8.py), bf16 or fp32 (stated beside every evaluate figure)."""
        if self.av.int8:
            return "int8"
        return "bf16" if next(self.av.lm.parameters()).dtype == torch.bfloat16 or bf16_enabled(None, self.av.device) else "fp32"

    @property
    def teacher_design(self) -> str:
        """The template design this NLA was taught with (its sidecar's `prompt_templates.teacher`; older ones: the default)."""
        return self.meta.prompt_templates.get("teacher") or DEFAULT_DESIGN

    def teacher_texts(self, rows: list[dict]) -> list[str]:
        """The template teacher's explanations of extracted rows, in this NLA's design: the `teacher` control."""
        return [template_explanation(r, self.teacher_design) for r in rows]

    @classmethod
    def load(cls, folder: Path | str | LoadConfig = DEFAULT_NLA, engine: str = "transformers", *, av: str | Path | None = None,
             ar: str | Path | None = None, dtype: str | None = None, device_map: str | dict | None = None,
             injection_scale: float | None = None, no_repeat_ngram: int | None = None, int8: bool | None = None) -> NLA:
        """An NLA folder (av/ + ar/), `default` (the one shipped with the package), or `av` and `ar` given apart,
        each a folder or a Hugging Face hub id (`kitft/nla-qwen2.5-7b-L20-av`; see released.locate).

        engine: `transformers` (nlakit's own batched KV-cache loop) or `vllm` (prompt_embeds).
        dtype: `auto` (bf16 on a GPU, fp32 on the CPU), `bf16` or `fp32` for all three models; fp16 is refused.
        device_map: `auto` (or any accelerate device map) spreads each model's blocks over the GPUs.
        injection_scale: the AV's injection norm where its sidecar records none (explain's --injection-scale).
        no_repeat_ngram: every explanation this NLA writes never repeats an N-token sequence of its own (0: off).
        int8: the AV's and ARs' products in int8 (int8.py), on a CPU only: faster, the readings a little different (measured);
            None: int8 where the CPU has no native bf16 (else those products would run in fp32), off elsewhere.
        """
        if engine not in ENGINES:
            raise NLAError(f"unknown engine {engine!r}: choose one of {ENGINES}")
        if isinstance(folder, LoadConfig):  # what a command's NLA options say
            source = folder
            folder, av, ar = source.nla, av or source.av, ar or source.ar
            dtype, device_map = dtype or source.dtype, device_map or source.device_map
            no_repeat_ngram = source.no_repeat_ngram if no_repeat_ngram is None else no_repeat_ngram
            int8 = source.int8 if int8 is None else int8
        weights = inference_dtype(dtype, device_map)
        fp32_on_cpu = device_map is None and default_device().type == "cpu" and weights == torch.float32
        if int8 and not fp32_on_cpu:
            raise NLAError("--int8 quantizes fp32 weights on a CPU: leave out --dtype bf16 and --device-map (a GPU runs bf16, "
                           "which is faster)")
        if int8 is None:  # the products a CPU without native bf16 would run in fp32 run in int8 instead (int8.py)
            int8 = fp32_on_cpu and not native_bf16("cpu")
        av_dir, ar_dir, release, notes = pair_folders(folder, av, ar)
        av_meta, ar_meta = Sidecar.load(av_dir), Sidecar.load(ar_dir)
        release = release or for_sidecar(ar_meta)
        notes += complete_pair(av_meta, ar_meta, release, injection_scale)
        av_meta.check_compatible(ar_meta, str(ar_dir))
        placement = dict(dtype=weights, device_map=device_map)
        verbalizer = load_verbalizer(av_dir, meta=av_meta, **placement)
        verbalizer.no_repeat_ngram = no_repeat_ngram or 0
        if verbalizer.no_repeat_ngram and engine != "transformers":
            raise NLAError(f"--no-repeat-ngram runs on the transformers engine only, not {engine}")
        reconstructor = load_reconstructor(ar_dir, meta=ar_meta, **placement)
        check_ar_suffix(reconstructor, ar_dir)
        try:
            target = load_causal_lm(ar_meta.base_model, **placement)
            tokenizer = load_tokenizer(ar_meta.base_model)
        except (OSError, ValueError) as err:  # not in the cache under HF_HUB_OFFLINE, gated, a folder moved away
            first = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
            raise NLAError(f"cannot load the target model {ar_meta.base_model} (the AR sidecar's base model): {first}") from None
        if engine == "vllm":
            from .vllm_engine import VLLMEngine

            verbalizer.engine = VLLMEngine.for_verbalizer(verbalizer)
        token_ar = load_token_ar(av_dir.parent, ar_meta, **placement) if av is None and ar is None else None
        nla = cls(verbalizer, reconstructor, target, tokenizer, release, notes, token_ar)
        for model in (verbalizer, reconstructor, token_ar):
            if model is not None:
                model.int8 = bool(int8)
        if release is not None:
            if nla.av_cap() is None:
                notes.append(f"explanations capped at {release.max_new_tokens} tokens, from {release.name} (registry)")
            if not nla.recorded_extraction():
                settings = ", ".join(f"{k} {v}" for k, v in release.extraction.items())
                notes.append(f"activations extracted with the settings {release.name} was trained on (registry): {settings}")
        elif not nla.recorded_extraction():  # official layout, unknown pair: never nlakit's small defaults in silence
            nla.pipeline = True
            notes.append(pipeline_note(with_cap=nla.av_cap() is None))
        if notes:  # said out loud, once, where every command loads its NLA
            console = Console(stderr=True)
            for note in notes:
                console.print(f"note: {note}", soft_wrap=True, markup=False, highlight=False)
        return nla

    # -- activations

    def recorded_extraction(self) -> dict:
        """The ExtractConfig settings the AR sidecar records (none in a released one)."""
        known = {f.name for f in dataclasses.fields(ExtractConfig)} - {"model"}
        return {k: v for k, v in self.meta.extraction.items() if k in known}

    def extract_config(self, **changes: object) -> ExtractConfig:
        """The extraction settings the NLA was trained with (as its sidecar records them, else its registry entry's), with `changes`."""
        fallback = dict(self.release.extraction) if self.release else pipeline_defaults()[0] if self.pipeline else {}
        recorded = self.recorded_extraction() or fallback
        try:
            return ExtractConfig(**{"model": self.meta.base_model, **recorded, **changes})
        except NLAError as err:
            raise NLAError(f"the NLA's sidecar records unusable extraction settings: {err}") from None

    def activations(self, docs: list[Document], all_positions: bool = False, positions: dict[str, list[int]] | None = None,
                    **changes: object) -> list[dict]:
        """Rows (context, token, next tokens, `activation_vector`) of the target at layer K, as in training (or with `changes`).

        `positions` (doc id -> token positions): exactly those tokens, instead of the sampled ones.
        """
        cfg = self.extract_config(**changes)
        return list(extract_documents(self.target, self.tokenizer, docs, cfg, self.meta.layer_index, all_positions, positions))

    def heldout_documents(self, limit: int | None = None) -> list[Document]:
        """The built-in documents this NLA's extraction held out (never trained on), the first `limit`: what the demo, the end of
        `nlakit train`, `nlakit evaluate` and a baseline measured for a sidecar without rawvar all read."""
        cfg = self.extract_config()
        return builtin_heldout(cfg.heldout_fraction, cfg.seed, limit)

    # -- scores

    @cached_property
    def baseline(self) -> Baseline:
        """The FVE denominator, the one fallback chain every command uses: the sidecar's rawvar; else the registry's for a
        released pair (the release's training set); else the rawvar of built-in held-out activations. Each named as such."""
        found = sidecar_baseline(self.meta.baselines)
        if found is not None:
            return found
        if self.release is not None:
            return Baseline(self.release.rawvar, f"{RAWVAR} of {self.release.name} (registry)")
        rows = self.activations(self.heldout_documents(FALLBACK_DOCS))
        if not rows:
            raise NLAError(f"the sidecar has no rawvar, and the built-in held-out documents give no activations at positions >= "
                           f"{self.extract_config().min_position} to measure one on")
        return measured_baseline(np.stack([r["activation_vector"] for r in rows]), "activations of built-in held-out documents",
                                 self.meta.resolved_mse_scale)

    @property
    def meannorm(self) -> float:
        """The other predict-the-mean denominator (sidecar, else registry; NaN where neither knows it)."""
        value = self.meta.baselines.get("meannorm")
        if value is None and self.release is not None:
            value = self.release.meannorm
        return float(value) if value is not None else float("nan")

    def av_cap(self) -> int | None:
        """The explanation cap the AV's sidecar records: the response cap it was trained under by GRPO."""
        cap = (self.av.meta.training.get("config") or {}).get("max_new_tokens") if self.av.meta.training.get("stage") == "rl" else None
        return int(cap) if isinstance(cap, (int, float)) and not isinstance(cap, bool) and cap >= 1 else None

    @property
    def max_new_tokens(self) -> int:
        """The explanation cap every command uses unless told otherwise: the AV sidecar's, else the registry's, else the
        official pipeline's for an official-layout pair outside the registry, else config.EXPLANATION_TOKENS. A generation
        that reaches it without `</explanation>` is reported as capped."""
        if self.release is not None:
            return self.av_cap() or self.release.max_new_tokens
        return self.av_cap() or (pipeline_defaults()[1] if self.pipeline else EXPLANATION_TOKENS)

    def roundtrip(self, vectors: np.ndarray, max_new_tokens: int | None = None, temperature: float = 0.0, seed: int | None = None,
                  on_batch: Callable[[int], None] | None = None, top_p: float = 1.0, top_k: int = 0) -> RoundTrip:
        """The round trip of `vectors` ([N, d] or [d]): explanations, responses, the AR's reconstructions and their scores, fve_nrm
        against this NLA's baseline (`max_new_tokens`: default the NLA's cap; `on_batch`: see `roundtrip`; `top_p`, `top_k`:
        Verbalizer.generate's)."""
        return roundtrip(self.av, self.ar, vectors, max_new_tokens or self.max_new_tokens, temperature, seed, on_batch=on_batch,
                         baseline=self.baseline, top_p=top_p, top_k=top_k)

    def score(self, explanations: list[str | None], vectors: np.ndarray) -> np.ndarray:
        """mse_nrm of the AR's reconstruction from each explanation (None: a failed generation, scored 2.0)."""
        failed = np.array([e is None for e in explanations], dtype=bool)
        return self.ar.score([e or "" for e in explanations], vectors, failed=failed)

    def best_of(self, vectors: np.ndarray, n: int, temperature: float = SAMPLE_TEMPERATURE, max_new_tokens: int | None = None,
                seed: int | None = 0) -> RoundTrip:
        """Best-of-N: each vector explained `n` times at `temperature`, the AR keeping the explanation it rebuilds best (pick_best)."""
        vectors = np.atleast_2d(np.asarray(vectors, np.float32))
        return pick_best(self.roundtrip(np.repeat(vectors, n, axis=0), max_new_tokens, temperature, seed), n)

    def retry_failed(self, result: RoundTrip, retries: int, temperature: float = SAMPLE_TEMPERATURE, seed: int = 0,
                     max_new_tokens: int | None = None, on_batch: Callable[[int], None] | None = None) -> RoundTrip:
        """`result` with each failed explanation sampled again at `temperature` (try k seeded `seed + 1 + k`), up to `retries`
        times, the first that parses kept (roundtrip.retry_failed: chosen by parsing, not by the AR)."""
        again = lambda vectors, k: self.roundtrip(vectors, max_new_tokens, temperature, seed + 1 + k, on_batch)  # noqa: E731
        return retry_failed(result, again, retries)

    def token_floor(self, rows: list[dict]) -> np.ndarray | None:
        """Per-row fve_nrm of the token AR on extracted rows (what the current token alone rebuilds: floor.py), against this NLA's
        baseline; None where the NLA has no token AR."""
        if self.token_ar is None or not rows:
            return None
        vectors = np.stack([r["activation_vector"] for r in rows])
        return fve_rows(self.token_ar.score(token_texts(rows), vectors), self.baseline.value)

    def with_floor(self, result: RoundTrip, rows: list[dict]) -> RoundTrip:
        """`result` (the round trip of `rows`' vectors) with each row's token floor beside its FVE."""
        return dataclasses.replace(result, token_floor=self.token_floor(rows))

    # -- reading a text

    def explain(self, text: str, max_new_tokens: int | None = None, retries: int = 0, seed: int = 0) -> list[dict]:
        """One row per token of `text`: position, token, context, then a round trip's row (RoundTrip.rows: explanation,
        response, mse_nrm, fve_nrm, cos, parsed, capped, retried, activation_norm). Greedy; with `retries`, a failed
        explanation is sampled again (retry_failed) and its row says `retried`."""
        rows = self.activations([Document("input:0", text, guess_genre(text))], all_positions=True)
        if not rows:
            return []
        result = self.roundtrip(np.stack([r["activation_vector"] for r in rows]), max_new_tokens)
        result = self.with_floor(self.retry_failed(result, retries, seed=seed, max_new_tokens=max_new_tokens), rows)
        return result.rows([{k: r[k] for k in ("position", "token", "context")} for r in rows])
