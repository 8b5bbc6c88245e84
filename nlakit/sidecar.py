"""The `nla_meta.yaml` sidecar: every NLA-specific number, token id and template lives here.

A dataset folder and each model folder (AV, AR) carry one. Code reads scales, marker ids and
prompt templates from it instead of hard-coding them, so an NLA trained on one model can never
be run with another model's constants. Field names follow the official release's layout
(`extraction.injection_scale`, `tokens.injection_token_id`, `prompt_templates.av`, ...) so its
checkpoints and ours read the same way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .errors import NLAError
from .files import atomic_write_text

SIDECAR_NAME = "nla_meta.yaml"
SCHEMA_VERSION = 1


@dataclass
class Sidecar:
    """Everything NLA-specific about a dataset or a model folder."""

    kind: str  # "nla_dataset" or "nla_model"
    base_model: str
    d_model: int
    layer_index: int  # output of decoder block K == HF hidden_states[K + 1]
    role: str | None = None  # "av" or "ar" for models
    injection_scale: float | None = None
    mse_scale: float | None = None  # None means sqrt(d_model)
    tokens: dict[str, Any] = field(default_factory=dict)
    prompt_templates: dict[str, str] = field(default_factory=dict)
    baselines: dict[str, float] = field(default_factory=dict)
    activation_norm: dict[str, float] = field(default_factory=dict)
    extraction: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def hidden_states_index(self) -> int:
        return self.layer_index + 1

    @property
    def resolved_mse_scale(self) -> float:
        return float(self.mse_scale) if self.mse_scale else math.sqrt(self.d_model)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extraction = dict(data.pop("extraction"))
        extraction.update(
            layer_index=self.layer_index,
            hidden_states_index=self.hidden_states_index,
            norm="none",
            injection_scale=data.pop("injection_scale"),
            mse_scale=data.pop("mse_scale"),
            activation_norm=data.pop("activation_norm"),
        )
        out = {
            "kind": data.pop("kind"),
            "schema_version": data.pop("schema_version"),
            "role": data.pop("role"),
            "base_model": data.pop("base_model"),
            "d_model": data.pop("d_model"),
            "extraction": extraction,
        }
        data.pop("layer_index")
        out.update(data)
        if self.role == "ar":
            out["critic"] = {"extraction_layer_index": self.layer_index, "num_hidden_layers": self.layer_index + 1}
        return out

    def save(self, folder: Path) -> Path:
        path = Path(folder) / SIDECAR_NAME
        atomic_write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "sidecar") -> Sidecar:
        """Read our layout and the official release's (actor/critic names, critic.* layer keys)."""
        if not isinstance(data, dict):
            raise NLAError(f"{source} is not a YAML mapping")
        extraction = dict(data.get("extraction") or {})
        critic = data.get("critic") or {}
        layer = extraction.pop("layer_index", None)
        if layer is None:
            layer = critic.get("extraction_layer_index", data.get("extraction_layer_index"))
        if layer is None and critic.get("num_hidden_layers") is not None:
            layer = _number(critic["num_hidden_layers"], "critic.num_hidden_layers", source, integer=True, least=1) - 1
        missing = [k for k, v in {"d_model": data.get("d_model"), "layer_index": layer}.items() if v is None]
        if missing:
            raise NLAError(f"{source} lacks required field(s): {', '.join(missing)}")
        templates = dict(data.get("prompt_templates") or {})
        if "actor" in templates:
            templates.setdefault("av", templates.pop("actor"))
        if "critic" in templates:
            templates.setdefault("ar", templates.pop("critic"))
        role = {"actor": "av", "critic": "ar"}.get(data.get("role"), data.get("role"))
        injection_scale = extraction.pop("injection_scale", None)
        d_model = _number(data["d_model"], "d_model", source, integer=True, least=1)
        if injection_scale == "sqrt_d_model":
            injection_scale = math.sqrt(d_model)
        mse_scale = extraction.pop("mse_scale", None)
        if mse_scale == "sqrt_d_model":
            mse_scale = None
        extraction.pop("hidden_states_index", None)
        extraction.pop("norm", None)
        return cls(
            kind=data.get("kind", "nla_model"),
            base_model=_base_model(data, extraction),
            d_model=d_model,
            layer_index=_number(layer, "layer_index", source, integer=True, least=0),
            role=role,
            injection_scale=_number(injection_scale, "extraction.injection_scale", source) if injection_scale is not None else None,
            mse_scale=_number(mse_scale, "extraction.mse_scale", source) if mse_scale is not None else None,
            tokens=dict(data.get("tokens") or {}),
            prompt_templates=templates,
            baselines={k: _number(v, f"baselines.{k}", source) if k in ("rawvar", "meannorm") else v
                       for k, v in dict(data.get("baselines") or {}).items()},
            activation_norm=dict(extraction.pop("activation_norm", None) or {}),
            extraction=extraction,
            training=dict(data.get("training") or {}),
            schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
        )

    @classmethod
    def load(cls, folder: Path) -> Sidecar:
        folder = Path(folder)
        path = folder / SIDECAR_NAME if folder.is_dir() or not folder.suffix else folder
        if not path.exists():
            raise NLAError(
                f"missing sidecar {path}: every nlakit dataset and model folder needs its {SIDECAR_NAME} "
                "(written by `nlakit extract`, `train-ar`, `train-av`)"
            )
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise NLAError(f"corrupt sidecar {path}: {err}") from err
        return cls.from_dict(data, source=str(path))

    def check_compatible(self, other: Sidecar, what: str) -> None:
        """Refuse to pair artifacts made from different models, layers or widths."""
        for name in ("d_model", "layer_index"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                raise NLAError(f"mismatched sidecar: {what} has {name}={theirs}, expected {mine}")


def _number(value: Any, name: str, source: str, integer: bool = False, least: float | None = None) -> Any:
    """A sidecar number, checked: an integer where one is meant, finite, positive (or at least `least`)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or (integer and number != int(number)):
        raise NLAError(f"{source}: {name} must be {'an integer' if integer else 'a finite number'}, got {value!r}")
    if (least is not None and number < least) or (least is None and number <= 0):
        raise NLAError(f"{source}: {name} must be {f'at least {least:g}' if least is not None else 'positive'}, got {value!r}")
    return int(number) if integer else number


def _base_model(data: dict[str, Any], extraction: dict[str, Any]) -> str:
    """The target model: ours is `base_model`; the release writes `base_checkpoint` / `parent_checkpoints`."""
    parents = data.get("parent_checkpoints") or []
    return str(data.get("base_model") or extraction.get("base_model") or data.get("base_checkpoint")
               or (parents[0] if parents else ""))


def check_vectors(vectors: np.ndarray, d_model: int, what: str = "activations") -> np.ndarray:
    """Return `vectors` as float32 [N, d], or raise naming the problem (width, NaN/inf, shape)."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise NLAError(f"{what} must be a [N, d_model] matrix, got shape {tuple(arr.shape)}")
    if arr.shape[1] != d_model:
        raise NLAError(f"{what} have width {arr.shape[1]} but the model's d_model is {d_model}")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise NLAError(f"{what} contain NaN or inf values (rows {rows}{'...' if bad.sum() > 5 else ''})")
    zero = ~arr.any(axis=1)
    if zero.any():  # a zero vector has no direction: nothing to explain, and mse_nrm is undefined
        rows = np.flatnonzero(zero)[:5].tolist()
        raise NLAError(f"{what} contain all-zero vectors (rows {rows}{'...' if zero.sum() > 5 else ''})")
    return arr
