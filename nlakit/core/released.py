"""The released NLAs: what they are, and where their files come from.

- `RELEASED`: the four pairs published with the official repository (kitft/natural_language_autoencoders
  at 047eb8e), with the facts their sidecars leave out: the training set's rawvar, the extraction
  settings they were trained on, the explanation length cap. `nla.NLA` reads an entry only where
  the sidecars are silent, and names the entry wherever one of its numbers is used
  (`rawvar of kitft/nla-qwen2.5-7b-L20 (registry)`).
- `locate`: a model given by name, as a local folder or a Hugging Face hub id. The rule: a name
  that exists on disk is a folder; otherwise `owner/name` (exactly one slash, not starting with
  `.`, `/` or `~`) is a hub id, fetched through huggingface_hub into its cache (`HF_HOME`,
  `HF_HUB_CACHE`); anything else is a folder that does not exist. Under `HF_HUB_OFFLINE=1` a hub
  id is looked up in the cache only, and one that is not there is refused in one line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import NLAError
from .sidecar import Sidecar

HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
# What a model repository needs to load (weights, configs, tokenizer, sidecar): no duplicate .bin/.pth copies.
MODEL_FILES = ["*.json", "*.safetensors", "*.yaml", "*.model", "*.txt", "*.jinja", "*.tiktoken"]

# Where the recommended extraction comes from (the same for every release, bar the batch size):
# min_position 50: nla/datagen/stage0_extract.py `_MIN_POSITION = 50` (positions before it were never trained on);
# positions_per_doc 10: configs/datagen/*_ultrafineweb_100k.yaml `positions_per_doc: 10`;
# max_length 4096 and batch_size 16/8/4/1: nla/datagen/model_presets.py `extractor_kwargs`;
# seed 42: configs/datagen/*.yaml `seed: 42` (nlakit samples positions as stage 0 does, sha256(f"{seed}|{doc_id}"),
# so the same seed picks the same positions of a document).
RELEASE_EXTRACTION = {"min_position": 50, "positions_per_doc": 10, "max_length": 4096, "seed": 42}
# The explanation cap: nla_inference.py's client generates `max_new_tokens` 200 (its CLI default too); RL
# rollouts were capped at 150 (configs/rl.sh `--rollout-max-response-len 150`) with a cut answer scored as a failure.
RELEASE_MAX_NEW_TOKENS = 200
# Where the official pipeline's settings come from, named in the note a pair outside the registry gets (`pipeline_defaults`).
PIPELINE_SOURCES = {"max_new_tokens": "nla_inference.py", "min_position": "stage0_extract.py", "positions_per_doc": "configs/datagen",
                    "max_length": "model_presets.py", "seed": "configs/datagen"}


@dataclass(frozen=True)
class ReleasedNLA:
    """One released pair and the facts nlakit falls back on when its sidecars are silent."""

    name: str  # the pair's name: the hub ids without `-av` / `-ar`
    av: str  # hub ids (README.md's table of checkpoints; examples/*.txt headers)
    ar: str
    base_model: str  # the target model (examples/*.txt "Extraction model")
    layer_index: int  # K: the output of block K = HF hidden_states[K + 1] (examples/*.txt "Extraction")
    n_layers: int  # the target's depth (README.md "layer / n_layers"; nla/datagen/model_presets.py num_layers)
    d_model: int  # (README.md; model_presets.py d_model)
    injection_scale: float  # examples/*.txt "L2=<scale> (injection_scale from nla_meta.yaml)"; docs/inference.md for 7B/12B
    rawvar: float  # examples/*.txt "fve_nrm: 1 - mse_nrm / <rawvar>": Var(v_nrm) of the training set
    meannorm: float | None = None  # configs/TRAINING_NOTES.md gives it for Qwen only ("1 - 0.586/0.938")
    extraction: dict[str, Any] = field(default_factory=dict)  # nlakit ExtractConfig fields (see RELEASE_EXTRACTION)
    max_new_tokens: int = RELEASE_MAX_NEW_TOKENS

    @property
    def mse_scale(self) -> float:
        """sqrt(d), the released ARs' mse_scale (examples/*.txt "both scaled to sqrt(d)=59.87", ...)."""
        return math.sqrt(self.d_model)

    def fills(self, meta: Sidecar) -> bool:
        """Whether this entry describes the pair `meta` belongs to (same target, layer and width)."""
        return (meta.base_model.lower() == self.base_model.lower() and meta.d_model in (None, self.d_model)
                and meta.layer_index in (None, self.layer_index))


RELEASED: tuple[ReleasedNLA, ...] = (
    ReleasedNLA("kitft/nla-qwen2.5-7b-L20", "kitft/nla-qwen2.5-7b-L20-av", "kitft/nla-qwen2.5-7b-L20-ar",
                "Qwen/Qwen2.5-7B-Instruct", 20, 28, 3584, 150.0, 0.7335, meannorm=0.938,
                extraction={**RELEASE_EXTRACTION, "batch_size": 16}),
    ReleasedNLA("kitft/nla-gemma3-12b-L32", "kitft/nla-gemma3-12b-L32-av", "kitft/nla-gemma3-12b-L32-ar",
                "google/gemma-3-12b-it", 32, 48, 3840, 80000.0, 0.0302, extraction={**RELEASE_EXTRACTION, "batch_size": 8}),
    ReleasedNLA("kitft/nla-gemma3-27b-L41", "kitft/nla-gemma3-27b-L41-av", "kitft/nla-gemma3-27b-L41-ar",
                "google/gemma-3-27b-it", 41, 62, 5376, 60000.0, 0.0579, extraction={**RELEASE_EXTRACTION, "batch_size": 4}),
    ReleasedNLA("kitft/Llama-3.3-70B-NLA-L53", "kitft/Llama-3.3-70B-NLA-L53-av", "kitft/Llama-3.3-70B-NLA-L53-ar",
                "meta-llama/Llama-3.3-70B-Instruct", 53, 80, 8192, 30.0, 0.9169, extraction={**RELEASE_EXTRACTION, "batch_size": 1}),
)


def registry() -> tuple[ReleasedNLA, ...]:
    """The known released pairs (a function, so tests can add a tiny one)."""
    return RELEASED


def by_hub_id(name: str) -> ReleasedNLA | None:
    """The entry whose AV or AR is `name` (hub ids compare case-blind, as the hub resolves them)."""
    return next((e for e in registry() if name.lower() in (e.av.lower(), e.ar.lower())), None)


def for_sidecar(meta: Sidecar) -> ReleasedNLA | None:
    """The entry for a pair read from anywhere (a downloaded folder too): same target model, layer and width."""
    return next((e for e in registry() if e.fills(meta)), None)


def is_hub_id(name: str) -> bool:
    """`owner/name` that is not a path on this machine."""
    return bool(HUB_ID.fullmatch(name)) and not Path(name).expanduser().exists()


def locate(name: str | Path, what: str = "model") -> Path:
    """The local folder for `name`: itself when it exists, else the hub snapshot of a hub id (see the module doc)."""
    text = str(name)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise NLAError(f"{what} {text} is a file: give its folder (with config.json and nla_meta.yaml)")
        return path
    if not is_hub_id(text):
        raise NLAError(f"{what} not found: {text} is no folder here, and not a Hugging Face hub id (owner/name)")
    return snapshot(text, what)


def snapshot(repo_id: str, what: str = "model") -> Path:
    """A hub repository's files from huggingface_hub's cache, downloaded first unless HF_HUB_OFFLINE is set."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, LocalEntryNotFoundError, OfflineModeIsEnabled

    where = f"{what} {repo_id}: no folder of that name here, and as a Hugging Face hub id"
    try:
        return Path(snapshot_download(repo_id, allow_patterns=MODEL_FILES))
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        if constants.HF_HUB_OFFLINE:
            raise NLAError(f"{where} it is not in the cache ({constants.HF_HUB_CACHE}) and HF_HUB_OFFLINE=1 forbids downloading it: "
                           f"fetch it once online (`hf download {repo_id}`) or give a local folder") from None
        raise NLAError(f"{where} the hub could not be reached and the cache ({constants.HF_HUB_CACHE}) does not hold it "
                       f"({_first_line(err)})") from None
    except (HfHubHTTPError, HFValidationError, OSError) as err:  # not found, gated (needs HF_TOKEN), a bad name, a full disk
        raise NLAError(f"{where}: {_first_line(err)}") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def pipeline_defaults() -> tuple[dict[str, Any], int]:
    """The official pipeline's extraction settings and explanation cap, for a pair in its layout that the registry does
    not know (anyone's own checkpoints from that pipeline, another hub id)."""
    return dict(RELEASE_EXTRACTION), RELEASE_MAX_NEW_TOKENS


def pipeline_note(with_cap: bool = True) -> str:
    """The load note naming each of the official pipeline's defaults a pair reads with, and where it comes from."""
    named = [f"cap {RELEASE_MAX_NEW_TOKENS} tokens ({PIPELINE_SOURCES['max_new_tokens']})"] if with_cap else []
    named += [f"{k} {v} ({PIPELINE_SOURCES[k]})" for k, v in RELEASE_EXTRACTION.items()]
    return ("the sidecars record none of nlakit's extraction settings and the pair is not in nlakit's registry: read with "
            "the official pipeline's defaults, " + ", ".join(named))
