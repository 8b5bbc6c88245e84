"""Stage 3: the activation reconstructor (AR): explanation text -> activation vector.

The AR is the target model cut after block K (K+1 blocks), final norm replaced by the identity,
no LM head, plus a `Linear(d, d, bias=False)` value head initialised to the identity (the default
init shrinks the output and costs a worse start). It reads the explanation wrapped in a fixed
prompt and predicts the vector at the prompt's last token. Loss: mse_nrm = 2(1 - cos).

Folder layout (a standard HF folder, as released): full weights (`config.json` with K+1 layers)
or LoRA adapters over `base_model`, plus `value_head.safetensors`, tokenizer and `nla_meta.yaml`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from .errors import NLAError
from .hooks import strip_final_norm, unwrap
from .inference import fast_model
from .metrics import mse_nrm, score_rows
from .models import autocast, bf16_enabled, folder_tokenizer, input_device, load_adapted, load_causal_lm, load_tensors, load_tokenizer, num_layers, save_tensors
from .prompts import ar_text
from .sidecar import Sidecar, check_vectors

VALUE_HEAD = "value_head.safetensors"


class Reconstructor(nn.Module):
    """Truncated LM (optionally LoRA-wrapped) + identity-initialised linear head."""

    def __init__(self, lm: nn.Module, tokenizer: PreTrainedTokenizerBase, meta: Sidecar):
        super().__init__()
        self.lm, self.tokenizer, self.meta = lm, tokenizer, meta
        self.int8 = False  # read with int8 products (int8.py; a CPU only), set by NLA.load: the default without native bf16
        d = meta.d_model
        self.value_head = nn.Linear(d, d, bias=False)
        with torch.no_grad():
            self.value_head.weight.copy_(torch.eye(d))
        self.value_head.to(input_device(lm))
        strip_final_norm(lm)  # the official loaders' AR reads block K's output unnormalised, whatever the norm's name

    @property
    def device(self) -> torch.device:
        """Where inputs go and the head lives: the embedding's device (blocks may sit on others under a device map)."""
        return input_device(self.lm)

    @property
    def decoder(self) -> nn.Module:
        return unwrap(self.lm).get_decoder()

    def encode(self, explanations: list[str], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        texts = [ar_text(self.meta.prompt_templates["ar"], e) for e in explanations]
        self.tokenizer.padding_side = "right"
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=True).to(device)

    def token_lengths(self, explanations: list[str]) -> list[int]:
        """Tokens each explanation takes in the AR prompt: what a token-budget batch is sized by."""
        texts = [ar_text(self.meta.prompt_templates["ar"], e) for e in explanations]
        return [len(ids) for ids in self.tokenizer(texts, add_special_tokens=True)["input_ids"]]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, decoder: nn.Module | None = None) -> torch.Tensor:
        """The predicted vector of each row ([B, d] float32); `decoder`: another copy of the blocks to run (inference.fast_model's)."""
        hidden = (decoder or self.decoder)(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state  # no KV cache to build
        # the rightmost real token, whatever the padding side; `hidden` is on the last block's device
        last = (attention_mask.cumsum(dim=1) * attention_mask).argmax(dim=1).to(hidden.device)
        picked = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
        return self.value_head(picked.to(self.value_head.weight.device).float())

    @torch.no_grad()
    def reconstruct(self, explanations: list[str], batch_size: int = 32, bf16: bool | None = None) -> np.ndarray:
        """The predicted vector of each explanation ([N, d]).

        Each distinct text is read once (the token floor's texts repeat every common token, a GRPO group's samples
        and failed explanations repeat too); rows are batched in order of length (and put back in order), so a batch
        pads little; a frozen AR runs as its inference copy (merged adapters, bf16 projections) where autocast runs bf16.
        """
        device = self.device
        bf16 = not self.int8 and bf16_enabled(bf16, device)  # int8 runs its products without autocast
        decoder = unwrap(fast_model(self, bf16, self.int8)).get_decoder()
        texts = list(dict.fromkeys(explanations))
        order = np.argsort([len(e) for e in texts], kind="stable")  # characters: a length order without tokenising twice
        out = np.zeros((len(texts), self.meta.d_model), np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            enc = self.encode([texts[i] for i in rows], device)
            with autocast(bf16, device):
                out[rows] = self(enc["input_ids"], enc["attention_mask"], decoder).float().cpu().numpy()
        where = {text: i for i, text in enumerate(texts)}
        return out[[where[e] for e in explanations]].reshape(len(explanations), self.meta.d_model)

    def score(self, explanations: list[str], targets: np.ndarray, failed: np.ndarray | None = None, **kw) -> np.ndarray:
        """mse_nrm of each explanation's reconstruction against its target vector (metrics.score_rows' rules for failures)."""
        targets = check_vectors(targets, self.meta.d_model, "target activations")
        return score_rows(self.reconstruct(explanations, **kw), targets, self.meta.resolved_mse_scale, failed)

    def score_shuffled(self, explanations: list[str], targets: np.ndarray, order: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray]:
        """mse_nrm of each explanation, and the shuffled control's (vector i against the reconstruction of explanation
        `order[i]`, metrics.derangement's pairing), from one pass of the AR: the control needs no second reading."""
        targets = check_vectors(targets, self.meta.d_model, "target activations")
        predicted = self.reconstruct(explanations, **kw)
        scale = self.meta.resolved_mse_scale
        return score_rows(predicted, targets, scale), score_rows(predicted[order], targets, scale)

    def loss(self, explanations: list[str], targets: torch.Tensor, bf16: bool | None,
             weights: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
        """Mean mse_nrm over the rows, and the tokens read (a weighted mean with `weights`: rows of weight 0 run but teach nothing)."""
        device = next(self.parameters()).device
        enc = self.encode(explanations, device)
        with autocast(bf16, device):
            pred = self(enc["input_ids"], enc["attention_mask"])
        mse = mse_nrm(pred, targets.to(device), self.meta.resolved_mse_scale)
        weights = torch.ones_like(mse) if weights is None else weights.to(device)
        return (mse * weights).sum() / weights.sum().clamp_min(1.0), int(enc["attention_mask"].sum())

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        self.lm.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        save_tensors(folder / VALUE_HEAD, {"weight": self.value_head.weight})
        self.meta.save(folder)


def build_reconstructor(meta: Sidecar, device: torch.device | str | None = None) -> Reconstructor:
    """A fresh AR for `meta.base_model` at `meta.layer_index` (K+1 blocks, identity head)."""
    lm = load_causal_lm(meta.base_model, num_hidden_layers=meta.layer_index + 1, device=device)
    lm.lm_head = nn.Identity()
    ar_meta = Sidecar(**{**meta.__dict__, "kind": "nla_model", "role": "ar", "training": {}})
    return Reconstructor(lm, load_tokenizer(meta.base_model), ar_meta)


def load_reconstructor(folder: Path, trainable: bool = False, device: torch.device | str | None = None, *, meta: Sidecar | None = None,
                       dtype: torch.dtype = torch.float32, device_map: str | dict | None = None) -> Reconstructor:
    """An AR folder (nlakit's or released). `meta`: its sidecar as already read (and completed) by the caller."""
    folder = Path(folder)
    meta = meta or Sidecar.load(folder)
    if meta.role not in (None, "ar"):
        raise NLAError(f"{folder} is an {meta.role} folder, expected an AR")
    if meta.layer_index is None:
        raise NLAError(f"{folder / 'nla_meta.yaml'} records no layer: an AR needs critic.extraction_layer_index")
    lm = load_adapted(folder, meta.base_model, trainable, num_hidden_layers=meta.layer_index + 1, device=device, dtype=dtype,
                      device_map=device_map)
    if num_layers(lm) != meta.layer_index + 1:
        raise NLAError(f"{folder} has {num_layers(lm)} blocks; an AR for layer {meta.layer_index} needs {meta.layer_index + 1}")
    lm.lm_head = nn.Identity()
    ar = Reconstructor(lm, folder_tokenizer(folder, meta.base_model), meta)
    head = load_tensors(folder / VALUE_HEAD)
    if "weight" not in head or tuple(head["weight"].shape) != (meta.d_model, meta.d_model):
        raise NLAError(f"{folder / VALUE_HEAD} must hold a [{meta.d_model}, {meta.d_model}] `weight`")
    with torch.no_grad():
        ar.value_head.weight.copy_(head["weight"])
    return ar.eval()
