"""`nlakit train --preset`: the whole training pipeline in one seeded command.

extract -> teach (template) -> train-ar -> train-av (sft/) -> GRPO (nla/) -> evaluate on held-out
texts -> explain a few texts -> metrics.json, curves and report.html. Each stage is done when its
run record matches (files.StageRun) and resumes from its checkpoint when it was killed, so an
interrupted run picks up where it stopped. The presets live in config.py: `quick` (sized for a
2-core CPU) and `smollm2-135m` (the recipe of the shipped default NLA, sized for one GPU).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import asdict
from pathlib import Path

from ..core.config import LoopConfig, Preset, quick_preset
from ..core.errors import NLAError
from ..core.files import atomic_write_text, to_json
from ..core.floor import TOKEN_AR
from ..core.nla import NLA
from ..core.report import plot_curves, read_log
from ..readings.teachers import run_token_floor
from ..stages.extract import run_extract
from ..stages.rl import run_rl
from ..stages.sft import run_train_ar, run_train_av
from ..stages.teach import run_teach, teacher_from
from .tour import show_nla

DEMO_TEXTS = [
    "Alice: Are we still meeting at the library tomorrow?\nBob: Yes, at ten, near the history shelves.",
    "def mean(values):\n    return sum(values) / len(values)",
]


def run_pipeline(out: Path = Path("runs/quick"), preset: Preset | None = None, max_minutes: float | None = None) -> dict:
    """`max_minutes`: a budget for the whole run; each training stage gets what is left of it (its `max_minutes`, a
    runtime setting), stops cleanly at a checkpoint when it is spent, and the same command continues it."""
    preset = preset or quick_preset()
    preset.extract.model = preset.model
    deadline = None if max_minutes is None else time.monotonic() + 60 * max_minutes

    def budgeted(cfg: LoopConfig) -> LoopConfig:
        if deadline is None:
            return cfg
        left = (deadline - time.monotonic()) / 60
        if left <= 0:
            raise NLAError(f"the {max_minutes:g}-minute budget is spent; rerun the same command to continue from the checkpoints")
        return dataclasses.replace(cfg, max_minutes=min(left, cfg.max_minutes or left))

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "preset.json", json.dumps(asdict(preset), indent=2))
    timings: dict[str, float] = {}

    def timed(name: str, fn, *args, **kwargs):
        start = time.monotonic()
        result = fn(*args, **kwargs)
        timings[name] = round(time.monotonic() - start, 1)
        return result

    def finished(name: str, result: Path | None) -> Path:
        if result is None:  # a stage stopped by its time budget: its checkpoint waits for the rerun
            raise NLAError(f"{name} stopped before its last step; rerun the same command to continue from its checkpoint")
        return result

    data = timed("extract", run_extract, preset.extract, out / "data")
    timed("teach", run_teach, data, teacher_from(preset.teach), cfg=preset.teach)
    finished("train-ar", timed("train_ar", run_train_ar, data, out / "sft" / "ar", budgeted(preset.ar)))
    finished("train-av", timed("train_av", run_train_av, data, out / "sft" / "av", budgeted(preset.av)))
    finished("rl", timed("rl", run_rl, data, out / "sft" / "av", out / "sft" / "ar", out / "nla", budgeted(preset.rl)))
    if not (out / "nla" / TOKEN_AR).exists():  # the token floor every FVE of this NLA is shown beside
        timed("token_floor", run_token_floor, data, out / "nla", budgeted(preset.token_floor), out / "token_floor")
    ar_log, av_log = read_log(out / "sft" / "ar" / "log.csv"), read_log(out / "sft" / "av" / "log.csv")
    plot_curves(ar_log, ["loss", "heldout_fve_nrm", "heldout_fve_shuffled"], "AR SFT (mse_nrm, FVE)", out / "ar_curve.png")
    plot_curves(av_log, ["loss", "heldout_loss", "heldout_loss_shuffled"], "AV SFT (cross-entropy)", out / "av_curve.png")
    nla = timed("load", NLA.load, out / "nla")
    metrics, evaluation = show_nla(nla, out, "report.html", DEMO_TEXTS, preset.eval_docs, preset.max_new_tokens, timings=timings,
                                   images=["ar_curve.png", "av_curve.png", "nla/rl_curves.png"], extra={"preset": asdict(preset)})
    atomic_write_text(out / "heldout_explanations.jsonl", "".join(to_json(s) + "\n" for s in evaluation.scored()))
    return metrics
