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
from .metrics import RAW, Baseline, sidecar_baseline

SIDECAR_NAME = "nla_meta.yaml"
SCHEMA_VERSION = 1
SQRT_D = "sqrt_d_model"  # the official name of the scale sqrt(d_model)


@dataclass
class Sidecar:
    """Everything NLA-specific about a dataset or a model folder."""

    kind: str  # "nla_dataset" or "nla_model"
    base_model: str
    d_model: int | None  # None only for an official dataset sidecar, which keeps no d_model: read it from the vectors
    layer_index: int | None  # output of decoder block K == HF hidden_states[K + 1]; None only for an AV sidecar from
    #                          before the release scrub, which records no layer (NLA.load takes the AR's)
    role: str | None = None  # "av" or "ar" for models
    injection_scale: float | str | None = None  # the norm the AV injects vectors at; RAW: as they are; None: not recorded
    mse_scale: float | str | None = None  # the norm both vectors get before the MSE; None: sqrt(d_model); RAW: raw MSE
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
    def resolved_mse_scale(self) -> float | str:
        """The norm both vectors are scaled to before the MSE (sqrt(d) unless recorded), or RAW: the raw MSE."""
        if self.mse_scale == RAW:
            return RAW
        return float(self.mse_scale) if self.mse_scale else math.sqrt(self.d_model)

    def training_baseline(self) -> Baseline:
        """The rawvar of a dataset's training vectors, which every nlakit dataset records."""
        baseline = sidecar_baseline(self.baselines)
        if baseline is None:
            raise NLAError("the dataset's nla_meta.yaml has no usable baselines.rawvar: extract the dataset again with `nlakit extract`")
        return baseline

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extraction = dict(data.pop("extraction"))
        extraction.update(
            layer_index=self.layer_index,
            hidden_states_index=self.hidden_states_index,
            norm="none",
            injection_scale=data.pop("injection_scale"),
            mse_scale=self.resolved_mse_scale if self.d_model else data["mse_scale"],  # resolved, as the official writer does
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
        data.pop("mse_scale")
        out.update(data)
        if self.role == "ar":  # the official key; its legacy `num_hidden_layers` (also K) is no longer written
            out["critic"] = {"extraction_layer_index": self.layer_index}
        return out

    def save(self, folder: Path) -> Path:
        path = Path(folder) / SIDECAR_NAME
        atomic_write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "sidecar") -> Sidecar:
        """Read our layout and the official release's, each key with the official code's meaning.

        - layer K: nlakit's `extraction.layer_index`, else `critic.extraction_layer_index`, the top-level
          `extraction_layer_index` (the release scrub's), or the legacy `critic.num_hidden_layers`, which
          the official loader also reads as K (nla/config.py: `critic_num_layers`, checked against
          config.json's K+1 blocks). An AV sidecar from before the scrub records none: left None.
        - scales: a number, `sqrt_d_model`, or `raw`/`none` (no rescaling). An absent `mse_scale` is
          sqrt(d); an explicit null means the raw MSE, except in sidecars nlakit wrote before it recorded
          resolved scales (they carry `extraction.hidden_states_index`, which only nlakit writes), where
          null stood for sqrt(d).
        - d_model: top level, else `extraction.d_model` (official dataset sidecars); a dataset sidecar
          without either is read with d_model None (dataset readers take it from the vectors).
        """
        if not isinstance(data, dict):
            raise NLAError(f"{source} is not a YAML mapping")
        extraction = dict(data.get("extraction") or {})
        critic = data.get("critic") or {}
        kind = data.get("kind", "nla_model")
        role = {"actor": "av", "critic": "ar"}.get(data.get("role"), data.get("role"))
        nlakit_written = "hidden_states_index" in extraction
        layer = extraction.pop("layer_index", None)
        if layer is None:
            layer = critic.get("extraction_layer_index", data.get("extraction_layer_index"))
        if layer is None:
            layer = critic.get("num_hidden_layers")
        d_model = data.get("d_model", extraction.get("d_model"))
        extraction.pop("d_model", None)
        required = {"d_model": d_model if kind != "nla_dataset" else 0, "layer_index": layer if role != "av" else 0}
        missing = [k for k, v in required.items() if v is None]
        if missing:
            raise NLAError(f"{source} lacks required field(s): {', '.join(missing)}")
        templates = dict(data.get("prompt_templates") or {})
        if "actor" in templates:
            templates.setdefault("av", templates.pop("actor"))
        if "critic" in templates:
            templates.setdefault("ar", templates.pop("critic"))
        d_model = _number(d_model, "d_model", source, integer=True, least=1) if d_model is not None else None
        injection_scale = _scale(extraction.pop("injection_scale", None), "extraction.injection_scale", source, d_model)
        if "mse_scale" in extraction and extraction["mse_scale"] is None and not nlakit_written:
            extraction["mse_scale"] = RAW  # the official meaning of an explicit null
        mse_scale = _scale(extraction.pop("mse_scale", None), "extraction.mse_scale", source, d_model)
        extraction.pop("hidden_states_index", None)
        extraction.pop("norm", None)
        return cls(
            kind=kind,
            base_model=_base_model(data, extraction),
            d_model=d_model,
            layer_index=_number(layer, "layer_index", source, integer=True, least=0) if layer is not None else None,
            role=role,
            injection_scale=injection_scale,
            mse_scale=mse_scale,
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
        """Refuse to pair artifacts made from different models, layers or widths (a value one side lacks is not compared)."""
        for name in ("d_model", "layer_index"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and mine != theirs:
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


def _scale(value: Any, name: str, source: str, d_model: int | None) -> float | str | None:
    """A scale as the official `resolve_target_scale` reads it: a positive number, `sqrt_d_model`, or `raw`/`none`."""
    if isinstance(value, str) and value.strip().lower() in (RAW, "none"):
        return RAW
    if value == SQRT_D:
        return math.sqrt(d_model) if d_model else None
    return _number(value, name, source) if value is not None else None


def _base_model(data: dict[str, Any], extraction: dict[str, Any]) -> str:
    """The target model: ours is `base_model`; the release writes `base_checkpoint` / `parent_checkpoints`."""
    parents = data.get("parent_checkpoints") or []
    return str(data.get("base_model") or extraction.get("base_model") or data.get("base_checkpoint")
               or (parents[0] if parents else ""))


def check_vectors(vectors: np.ndarray, d_model: int, what: str = "activations") -> np.ndarray:
    """Return `vectors` as float32 [N, d], or raise naming the problem (width, NaN/inf, shape, complex, a norm float32
    cannot hold)."""
    if np.iscomplexobj(vectors):
        raise NLAError(f"{what} are complex numbers: give real-valued vectors")
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
    with np.errstate(over="ignore", under="ignore"):  # in float32, as every later step computes it: 0 or inf would become a zero vector
        norms = np.linalg.norm(arr, axis=1)
    out_of_range = ~np.isfinite(norms) | (norms < np.finfo(np.float32).tiny)
    if out_of_range.any():
        rows = np.flatnonzero(out_of_range)[:5].tolist()
        raise NLAError(f"{what} have norms float32 cannot hold (rows {rows}: they over- or underflow): rescale them")
    return arr
