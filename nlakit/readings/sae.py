"""A sparse autoencoder's latents as units the neuron dictionary describes (`nlakit neurons --sae FOLDER`).

The folder is SAELens' on-disk format: `cfg.json` and `sae_weights.safetensors` holding W_enc [d, n],
b_enc [n], W_dec [n, d], b_dec [d] and, for a JumpReLU SAE, threshold [n]. Any other set of [n, d]
directions with an encoder can be written the same way (zero biases where there are none). A latent's
activation at a token is the encoder applied to the residual stream at the config's hook: SAELens'
`blocks.L.hook_resid_post` is block L's output, which is nlakit's layer-L reading (`hook_resid_pre` of
block L is block L-1's output). Only the JSON and the safetensors file are read: nothing in the folder
can run code, and a pickled checkpoint (.pt, .bin, .pkl) beside them is never opened.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.errors import NLAError

CONFIG, WEIGHTS = "cfg.json", "sae_weights.safetensors"
ARCHITECTURES = ("standard", "jumprelu", "topk")
_HOOK = re.compile(r"^blocks\.(\d+)\.hook_resid_(pre|post)$")


@dataclass
class SAE:
    """The encoder and decoder of one SAE, and the block whose output it reads."""

    layer: int
    w_enc: torch.Tensor  # [d, n]
    b_enc: torch.Tensor  # [n]
    w_dec: torch.Tensor  # [n, d]: each latent's write direction (its "writes:" go through the unembedding)
    b_dec: torch.Tensor  # [d]
    threshold: torch.Tensor | None = None  # [n], JumpReLU only
    k: int | None = None  # TopK only
    apply_b_dec_to_input: bool = True
    rescale: bool = False  # constant_norm_rescale: each input scaled to norm sqrt(d) first

    @property
    def width(self) -> int:
        return int(self.w_enc.shape[1])

    @torch.no_grad()
    def encode(self, x: torch.Tensor, latents: torch.Tensor | None = None) -> torch.Tensor:
        """[..., d] residual vectors -> [..., n] latent activations (or only the `latents` columns). A TopK latent depends on
        every other latent, so it is always encoded whole first."""
        x = x.float()
        if self.rescale:
            x = x * (x.shape[-1] ** 0.5) / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        if self.apply_b_dec_to_input:
            x = x - self.b_dec.to(x.device)
        cut = latents is not None and self.k is None
        w, b = (self.w_enc[:, latents], self.b_enc[latents]) if cut else (self.w_enc, self.b_enc)
        pre = x @ w.to(x.device) + b.to(x.device)
        if self.threshold is not None:
            threshold = (self.threshold[latents] if cut else self.threshold).to(x.device)
            acts = pre * (pre > threshold)
        elif self.k is not None:
            top = pre.topk(min(self.k, pre.shape[-1]), dim=-1)
            acts = torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())
        else:
            acts = pre.relu()
        return acts[..., latents.to(acts.device)] if latents is not None and not cut else acts


def hook_layer(hook: object, n_layers: int, folder: Path) -> int:
    """The block whose output a SAELens hook name reads; only the residual stream between blocks is read."""
    found = _HOOK.match(hook) if isinstance(hook, str) else None
    if found is None:
        raise NLAError(f"{folder / CONFIG}: hook_name {hook!r} is not a residual-stream hook such as blocks.20.hook_resid_post "
                       "(nlakit reads block outputs)")
    layer = int(found.group(1)) - (found.group(2) == "pre")
    if not 0 <= layer < n_layers:
        raise NLAError(f"{folder / CONFIG}: hook_name {hook!r} reads block {layer}'s output; the model has blocks 0 to {n_layers - 1}")
    return layer


def load_sae(folder: Path | str, d_model: int, n_layers: int) -> SAE:
    """The SAE in `folder` (SAELens' format), checked against a model of width `d_model` and depth `n_layers`."""
    folder = Path(folder)
    config, weights = folder / CONFIG, folder / WEIGHTS
    if not folder.is_dir() or not config.is_file() or not weights.is_file():
        pickled = sorted(p.name for p in folder.glob("*") if p.suffix in (".pt", ".pth", ".bin", ".pkl", ".ckpt")) if folder.is_dir() else []
        raise NLAError(f"--sae {folder}: expected a folder with {CONFIG} and {WEIGHTS} (SAELens' format)"
                       + (f"; {', '.join(pickled)} are pickles, never read" if pickled else ""))
    try:
        cfg = json.loads(config.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise NLAError(f"cannot read {config} as JSON: {err}") from None
    if not isinstance(cfg, dict):
        raise NLAError(f"{config} is not a JSON object")
    metadata = cfg.get("metadata") if isinstance(cfg.get("metadata"), dict) else {}
    layer = hook_layer(cfg.get("hook_name", metadata.get("hook_name")), n_layers, folder)
    architecture = cfg.get("architecture", "standard")
    kwargs = cfg.get("activation_fn_kwargs") if isinstance(cfg.get("activation_fn_kwargs"), dict) else {}
    if architecture == "standard" and cfg.get("activation_fn") == "topk":  # SAELens before 6 named TopK this way
        architecture = "topk"
    if architecture not in ARCHITECTURES:
        raise NLAError(f"{config}: architecture {architecture!r} is not read; nlakit reads {', '.join(ARCHITECTURES)} SAEs")
    normalize = cfg.get("normalize_activations", "none") or "none"
    if normalize not in ("none", "constant_norm_rescale"):
        raise NLAError(f"{config}: normalize_activations {normalize!r} needs a scale the file does not hold; fold it into "
                       "the weights first (SAELens: fold_activation_norm_scaling_factor) or use none")
    try:
        from safetensors.numpy import load_file

        tensors = load_file(str(weights))
    except Exception as err:  # a truncated or foreign file: say which and why
        raise NLAError(f"cannot read {weights} as safetensors: {err}") from None
    needed = ["W_enc", "b_enc", "W_dec", "b_dec"] + (["threshold"] if architecture == "jumprelu" else [])
    missing = [key for key in needed if key not in tensors]
    if missing:
        raise NLAError(f"{weights} lacks {', '.join(missing)} (SAELens' keys: W_enc [d, n], b_enc [n], W_dec [n, d], b_dec [d]"
                       f"{', threshold [n]' if architecture == 'jumprelu' else ''})")
    n = tensors["W_enc"].shape[1] if tensors["W_enc"].ndim == 2 else -1
    shapes = {"W_enc": (d_model, n), "b_enc": (n,), "W_dec": (n, d_model), "b_dec": (d_model,), "threshold": (n,)}
    wrong = [f"{key} is {list(tensors[key].shape)}, not {list(shapes[key])}" for key in needed if tensors[key].shape != shapes[key]]
    if n < 1 or wrong:
        raise NLAError(f"{weights} does not fit a model of width d={d_model}: " + ("; ".join(wrong) or f"W_enc is {list(tensors['W_enc'].shape)}"))
    bad = [key for key in needed if not np.issubdtype(tensors[key].dtype, np.floating) or not np.isfinite(tensors[key]).all()]
    if bad:
        raise NLAError(f"{weights}: {', '.join(bad)} must hold finite floating-point numbers")
    k = cfg.get("k", kwargs.get("k")) if architecture == "topk" else None
    if architecture == "topk" and not (isinstance(k, int) and k >= 1):
        raise NLAError(f"{config}: a topk SAE needs k, a positive integer; got {k!r}")
    t = {key: torch.from_numpy(tensors[key].astype(np.float32)) for key in needed}
    return SAE(layer, t["W_enc"], t["b_enc"], t["W_dec"], t["b_dec"], t.get("threshold"), k,
               bool(cfg.get("apply_b_dec_to_input", True)), normalize == "constant_norm_rescale")


def save_sae(folder: Path | str, hook_name: str, w_enc: np.ndarray, b_enc: np.ndarray, w_dec: np.ndarray, b_dec: np.ndarray,
             threshold: np.ndarray | None = None) -> Path:
    """Write [n, d] directions with their encoder in SAELens' format (what `load_sae` and SAELens read): a way to describe
    any set of directions with an encoder, not only a trained SAE's."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"W_enc": w_enc, "b_enc": b_enc, "W_dec": w_dec, "b_dec": b_dec} | ({"threshold": threshold} if threshold is not None else {})
    save_file({k: np.ascontiguousarray(v, np.float32) for k, v in arrays.items()}, str(folder / WEIGHTS))
    cfg = {"architecture": "jumprelu" if threshold is not None else "standard", "d_in": int(w_enc.shape[0]),
           "d_sae": int(w_enc.shape[1]), "hook_name": hook_name, "apply_b_dec_to_input": True, "normalize_activations": "none"}
    (folder / CONFIG).write_text(json.dumps(cfg, indent=1) + "\n", encoding="utf-8")
    return folder
