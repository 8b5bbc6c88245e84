"""`nlakit demo` and `nlakit train --preset`: the whole pipeline in one seeded command.

extract -> teach (template) -> train-ar -> train-av (sft/) -> GRPO (nla/) -> evaluate on held-out
texts -> explain a few texts -> metrics.json, curves and report.html. Each stage skips itself when
its output exists and resumes from its checkpoint when it was killed, so an interrupted run picks
up where it stopped. Presets: `demo` (sized for a 2-core CPU) and `smollm2-135m` (the recipe of the
shipped default NLA, sized for one GPU).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .ar import ARConfig, run_train_ar
from .av import AVConfig, run_train_av
from .corpus import builtin_heldout
from .evaluate import NLA, evaluate_rows
from .explain import explain_text
from .extract import ExtractConfig, run_extract
from .models import DEFAULT_MODEL
from .rl import RLConfig, run_rl
from .report import plot_curves, read_log, write_report
from .sidecar import atomic_write_text
from .teach import TemplateTeacher, run_teach

DEMO_TEXTS = [
    "Alice: Are we still meeting at the library tomorrow?\nBob: Yes, at ten, near the history shelves.",
    "def mean(values):\n    return sum(values) / len(values)",
]


@dataclass
class DemoPreset:
    """A full pipeline recipe; the defaults are the quick CPU demo (see README for the measured time)."""

    model: str = DEFAULT_MODEL
    extract: ExtractConfig = field(default_factory=lambda: ExtractConfig(max_docs=500, positions_per_doc=6, max_length=64, chunk_docs=100))
    ar: ARConfig = field(default_factory=lambda: ARConfig(steps=80, batch_size=8, eval_every=40, eval_rows=48, save_every=20))
    av: AVConfig = field(default_factory=lambda: AVConfig(steps=80, batch_size=8, eval_every=40, eval_rows=24, save_every=20))
    rl: RLConfig = field(default_factory=lambda: RLConfig(steps=8, batch_size=4, group_size=4, av_lr=2e-4, ar_lr=1e-3, save_every=4, warmup_steps=2))
    eval_docs: int = 30
    max_new_tokens: int = 64


def default_nla_preset() -> DemoPreset:
    """The recipe of the shipped default NLA: every built-in document, long SFT, then GRPO (one GPU)."""
    return DemoPreset(
        extract=ExtractConfig(positions_per_doc=48, max_length=128, batch_size=64, chunk_docs=500),
        ar=ARConfig(steps=1250, batch_size=64, lr=2e-3, head_lr=1e-3, warmup_steps=100, eval_every=250, eval_rows=512, save_every=250),
        av=AVConfig(steps=1000, batch_size=64, lr=1e-3, warmup_steps=50, eval_every=300, eval_rows=256, save_every=250),
        rl=RLConfig(steps=20, batch_size=32, group_size=8, av_lr=1e-4, ar_lr=5e-4, max_new_tokens=64, save_every=25,
                    warmup_steps=10, sample_rows=8),
        eval_docs=60,
    )


PRESETS = {"demo": DemoPreset, "smollm2-135m": default_nla_preset}


def heldout_documents(preset: DemoPreset) -> list:
    """Built-in documents in the held-out split: never trained on by any stage."""
    return builtin_heldout(preset.extract.heldout_fraction, preset.extract.seed, preset.eval_docs)


def run_demo(out: Path = Path("runs/demo"), preset: DemoPreset | None = None) -> dict:
    preset = preset or DemoPreset()
    preset.extract.model = preset.model
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "preset.json", json.dumps(asdict(preset), indent=2))
    timings: dict[str, float] = {}

    def timed(name: str, fn, *args, **kwargs):
        start = time.monotonic()
        result = fn(*args, **kwargs)
        timings[name] = round(time.monotonic() - start, 1)
        return result

    data = timed("extract", run_extract, preset.extract, out / "data")
    timed("teach", run_teach, data, TemplateTeacher())
    timed("train_ar", run_train_ar, data, out / "sft" / "ar", preset.ar)
    timed("train_av", run_train_av, data, out / "sft" / "av", preset.av)
    timed("rl", run_rl, data, out / "sft" / "av", out / "sft" / "ar", out / "nla", preset.rl)
    nla = timed("load", NLA.load, out / "nla")
    docs = heldout_documents(preset)
    rows = timed("extract_heldout", nla.activations, docs)
    metrics, scored = timed("evaluate", evaluate_rows, nla, rows, preset.max_new_tokens)
    explained = timed("explain", lambda: [(t, explain_text(nla, t, preset.max_new_tokens)) for t in DEMO_TEXTS])
    metrics.update(texts=f"{len(docs)} held-out built-in documents", stage_seconds=timings,
                   preset=asdict(preset))
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    atomic_write_text(out / "heldout_explanations.jsonl", "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in scored))
    ar_log, av_log = read_log(out / "sft" / "ar" / "log.csv"), read_log(out / "sft" / "av" / "log.csv")
    plot_curves(ar_log, ["loss", "heldout_fve_nrm", "heldout_fve_shuffled"], "AR SFT (mse_nrm, FVE)", out / "ar_curve.png")
    plot_curves(av_log, ["loss", "heldout_loss", "heldout_loss_shuffled"], "AV SFT (cross-entropy)", out / "av_curve.png")
    report_metrics = {k: v for k, v in metrics.items() if k != "preset"}
    write_report(out / "report.html", report_metrics, ["ar_curve.png", "av_curve.png", "nla/rl_curves.png"], explained)
    return metrics
