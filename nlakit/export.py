"""`nlakit export --format official`: write an nlakit NLA in the released checkpoints' layout.

The official loaders expect, per role, a plain Hugging Face folder with full weights (LoRA merged):
- av/: the whole causal LM, tokenizer, `nla_meta.yaml`;
- ar/: the LM truncated to K+1 blocks with CausalLM key names and no final norm or LM head,
  `value_head.safetensors` (one bf16 `weight`, [d, d]), tokenizer, `nla_meta.yaml`.
The sidecar uses the release's names (schema 2, `base_checkpoint`, `extraction_layer_index`,
`critic.extraction_layer_index`, a null `injection_scale` on the AR). nlakit's own loaders read
this layout too, so an exported NLA round-trips, and a released one loads the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import save_file

from .ar import VALUE_HEAD, Reconstructor, load_reconstructor
from .av import Verbalizer, load_verbalizer
from .errors import NLAError
from .files import atomic_write_text, build_folder
from .pretrained import resolve_nla
from .progress import progress
from .sidecar import SIDECAR_NAME, Sidecar


def official_sidecar(meta: Sidecar, role: str) -> dict[str, Any]:
    """The release's model sidecar for `role`, plus nlakit's baselines (official loaders ignore them)."""
    stage = meta.training.get("stage")
    out: dict[str, Any] = {
        "kind": "nla_model",
        "schema_version": 2,
        "role": role,
        "stage": "rl" if stage == "rl" else "sl",
        "base_checkpoint": meta.base_model,
        "parent_checkpoints": [meta.base_model],
        "d_model": meta.d_model,
        "extraction_layer_index": meta.layer_index,
        "extraction": {"injection_scale": meta.injection_scale if role == "av" else None, "mse_scale": meta.resolved_mse_scale},
        "tokens": dict(meta.tokens),
        "prompt_templates": dict(meta.prompt_templates),
        "baselines": dict(meta.baselines),
        "created_by": "nlakit export --format official",
    }
    if role == "ar":
        out["critic"] = {"extraction_layer_index": meta.layer_index}
    return out


def merged(model: torch.nn.Module) -> torch.nn.Module:
    """Full weights: LoRA adapters folded in (a fully fine-tuned model is returned as it is)."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def write_av(av: Verbalizer, folder: Path) -> None:
    lm = merged(av.lm)
    lm.save_pretrained(folder)
    av.tokenizer.save_pretrained(folder)
    _write_sidecar(folder, official_sidecar(av.meta, "av"))


def write_ar(ar: Reconstructor, folder: Path) -> None:
    """Truncated backbone under `model.*` names, no `model.norm` / `lm_head` weights, bf16 value head."""
    lm = merged(ar.lm)
    decoder = lm.get_decoder()
    state = {f"model.{k}": v.detach().contiguous().cpu() for k, v in decoder.state_dict().items() if not k.startswith("norm.")}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = lm.config
    config.num_hidden_layers = ar.meta.layer_index + 1
    config.save_pretrained(folder)
    save_file({"weight": ar.value_head.weight.detach().to(torch.bfloat16).cpu().contiguous()}, str(folder / VALUE_HEAD))
    ar.tokenizer.save_pretrained(folder)
    _write_sidecar(folder, official_sidecar(ar.meta, "ar"))


def _write_sidecar(folder: Path, data: dict[str, Any]) -> None:
    atomic_write_text(folder / SIDECAR_NAME, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def export_official(nla: str | Path, out: Path) -> Path:
    """Write `out/av` and `out/ar` in the official layout (through a tmp folder, moved into place at the end)."""
    source, out = resolve_nla(nla), Path(out)
    if out.resolve() == source.resolve():
        raise NLAError("export into a new folder: --out must differ from --nla")

    def write(tmp: Path) -> None:
        with progress() as bar:
            task = bar.add_task("export", total=2, info="AV: merge and save")
            write_av(load_verbalizer(source / "av"), tmp / "av")
            bar.update(task, advance=1, info="AR: merge, truncate and save")
            write_ar(load_reconstructor(source / "ar"), tmp / "ar")
            bar.update(task, advance=1, info="")

    return build_folder(out, write)
