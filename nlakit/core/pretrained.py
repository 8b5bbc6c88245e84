"""The NLA shipped inside the package, and the step that packs a trained run into that form.

`--nla default` (or no `--nla`) means `nlakit/data/pretrained/smollm2-135m`: LoRA adapters for the AV
and AR plus the AR's value head, stored in fp16 to keep the wheel small (PEFT loads them into the
float32 model), with the run's metrics, curves and the preset that reproduces it. The base model
is the embedded GGUF, so nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from .config import DEFAULT_MODEL, DEFAULT_NLA
from .errors import NLAError
from .files import atomic_write_text, build_folder
from .floor import TOKEN_AR
from .models import load_tensors, save_tensors
from .sidecar import SIDECAR_NAME

MODEL_FILES = ("adapter_config.json", "adapter_model.safetensors", "value_head.safetensors", SIDECAR_NAME, "log.csv")
RUN_FILES = ("metrics.json", "preset.json", "ar_curve.png", "av_curve.png", "nla/rl_curves.png", "nla/log.csv")


def pretrained_dir(model: str = DEFAULT_MODEL) -> Path:
    return Path(str(resources.files("nlakit") / "data" / "pretrained" / model))


def resolve_nla(name: str | Path) -> Path:
    """`default` -> the shipped NLA; anything else is a folder holding av/ and ar/."""
    if str(name) != DEFAULT_NLA:
        return Path(name)
    folder = pretrained_dir()
    if not (folder / "av" / SIDECAR_NAME).exists():
        raise NLAError(f"no trained default NLA is shipped in {folder}; train one with `nlakit train --preset {DEFAULT_MODEL}` "
                       "and pass its nla/ folder with --nla")
    return folder


def _half(src: Path, dst: Path) -> None:
    tensors = load_tensors(src)
    save_tensors(dst, {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()})


def copy_model(src: Path, dst: Path) -> None:
    """An AV's or AR's files as the package ships them: adapters and head in fp16, sidecar and log as they are."""
    dst.mkdir(parents=True)
    for name in MODEL_FILES:
        if (src / name).exists() and name.endswith(".safetensors"):
            _half(src / name, dst / name)
        elif (src / name).exists():
            shutil.copy(src / name, dst / name)


def export_pretrained(run: Path, target: Path) -> Path:
    """Copy a finished `nlakit train` run (its nla/ models, metrics, curves) into a shippable folder.

    An existing `target` is replaced only when it is an earlier pack of this same run (its files.json says so):
    rerunning `nlakit train --export` repacks; a folder of anything else is refused, never replaced.
    """
    run, target = Path(run), Path(target)
    try:
        earlier = json.loads((target / "files.json").read_text(encoding="utf-8")).get("source_run") == str(run)
    except (OSError, ValueError, AttributeError):  # no pack there (or not one of ours)
        earlier = False
    for role in ("av", "ar"):
        if not (run / "nla" / role / "adapter_config.json").exists():
            raise NLAError(f"{run / 'nla' / role} is not a finished LoRA model folder: run `nlakit train` to the end first")

    def write(tmp: Path) -> None:
        for role in ("av", "ar", TOKEN_AR):  # the token floor's AR, where the run trained one
            if role == TOKEN_AR and not (run / "nla" / role).is_dir():
                continue
            copy_model(run / "nla" / role, tmp / role)
        for name in RUN_FILES:
            if (run / name).exists():
                shutil.copy(run / name, tmp / name.replace("/", "_"))
        sizes = {str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
        atomic_write_text(tmp / "files.json", json.dumps({"source_run": str(run), "bytes": sizes, "total_bytes": sum(sizes.values())}, indent=2))

    return build_folder(target, write, [run], overwrite=earlier)
