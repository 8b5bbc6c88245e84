"""`nlakit demo`: what nlakit is for, in about a minute, with the NLA shipped in the package.

No training: the shipped NLA for the embedded SmolLM2-135M reads a few sample texts token by
token, then the held-out round trip on a handful of built-in documents it never trained on is
scored beside its shuffled control, and a page to click through is written. Training your own
NLA is `nlakit train --preset quick` (the README gives its time and figures).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from ..core.files import check_output_file, write_json
from ..core.nla import NLA
from ..core.report import write_report
from ..readings.explain import render_table
from ..stages.evaluate import Evaluation, evaluate_documents

SAMPLES = [
    "The museum finally opened the old letter.",
    "Alice: Shall we meet at the library tomorrow?",
    "def mean(values):\n    return sum(values)",
]
# 128 held-out tokens, each with at least 16 tokens of context before it: a tour, not a benchmark (`nlakit evaluate` is that);
# with 32, one failed explanation (scored mse_nrm 2.0) moved the mean by 0.1, more than one NLA differed from the next
HELDOUT_DOCS, POSITIONS, MIN_POSITION = 16, 8, 16
RETRIES = 2  # the failed explanations are sampled again, and that figure shown beside the greedy one (about 10 s)
NEXT_STEPS = [
    ('nlakit explain "your text" --html page.html', "read any text token by token (a page to click through)"),
    ("nlakit serve", "the explorer: click tokens, sample, steer, search (http://127.0.0.1:8765)"),
    ("nlakit evaluate --max-docs 20", "the held-out round trip on more documents, with its controls"),
    ("nlakit train --preset quick", "train an NLA of your own on this CPU (see the README for time and figures)"),
]


def show_nla(nla: NLA, out: Path, page: str, texts: list[str], n_docs: int, max_new_tokens: int | None, *, timings: dict[str, float],
             title: str = "nlakit report", images: Sequence[str] = (), extra: dict | None = None, console: Console | None = None,
             retries: int = 0, **extraction: object) -> tuple[dict, Evaluation]:
    """What the demo and the end of `nlakit train` show of an NLA: `texts` read token by token (a table each on `console`),
    the round trip on `n_docs` built-in documents it never trained on (extracted with `extraction`'s changes; with `retries`,
    its failed explanations sampled again beside it: evaluate_rows), then
    `out/metrics.json` (the metrics, `extra`, and `timings` with this function's own) and the page `out/page`."""
    started = time.monotonic()
    explained = []
    for text in texts:
        rows = nla.explain(text, max_new_tokens)
        if console is not None:
            render_table(rows, nla.baseline.name, console, compact=True, precision=nla.precision)
        explained.append((text, rows))
    timings["explain"] = time.monotonic() - started
    evaluation = evaluate_documents(nla, nla.heldout_documents(n_docs), max_new_tokens, retries=retries, **extraction)
    timings["heldout"] = time.monotonic() - started - timings["explain"]
    metrics = {**evaluation.metrics, "texts": f"{len(evaluation.docs)} held-out built-in documents",
               "stage_seconds": {k: round(v, 1) for k, v in timings.items()}, **(extra or {})}
    write_json(Path(out) / "metrics.json", metrics)
    write_report(Path(out) / page, {k: v for k, v in metrics.items() if k not in (extra or {})}, list(images), explained, title=title)
    return metrics, evaluation


def floor_line(metrics: dict) -> str:
    """What the explanation adds over the current token alone (core/floor.py), or why that is unknown."""
    if metrics.get("fve_token_floor") is None:
        return f" Token floor: unknown ({metrics.get('token_floor_note', 'no token AR')})."
    return (f" Token floor {metrics['fve_token_floor']:.2f} (an AR reading only the current token, same rows): the explanation adds "
            f"[bold]{metrics['fve_over_token']:+.2f}[/] over the token.")


def retried_line(metrics: dict) -> str:
    """The held-out figure with the failed explanations sampled again, beside the greedy one (evaluate's `retried`)."""
    again = metrics.get("retried")
    if not again or not again["rows_retried"]:
        return ""
    over = f", {again['fve_over_token']:+.2f} over the token" if again.get("fve_over_token") is not None else ""
    return (f" With the {again['rows_retried']} failed explanations sampled again (T {again['temperature']}, kept because they "
            f"parse, not because they score): fve_nrm {again['fve_nrm']:.2f}{over}; shuffled {again['fve_shuffled']:.2f}.")


def run_tour(out: Path, console: Console | None = None, max_new_tokens: int | None = None) -> dict:
    """Explain the samples, score the held-out round trip, write `out/index.html` and `out/metrics.json` (`max_new_tokens`:
    default the shipped NLA's own cap, `NLA.max_new_tokens`)."""
    console = console or Console()
    out, started, timings = Path(out), time.monotonic(), {}
    for name in ("index.html", "metrics.json"):  # before any work: the files it replaces are these two, never a folder
        check_output_file(out / name, flag="--out")
    nla = NLA.load()
    timings["load"] = time.monotonic() - started
    console.print(f"[bold]nlakit[/]: the NLA shipped for {nla.meta.base_model} reads layer {nla.meta.layer_index} "
                  f"(d={nla.meta.d_model}). Each token's activation is put into words by the AV; the AR rebuilds the "
                  f"activation from those words; FVE says how much of it came back (1 = all, 0 = no better than the mean).",
                  soft_wrap=True)
    metrics, evaluation = show_nla(nla, out, "index.html", SAMPLES, HELDOUT_DOCS, max_new_tokens, timings=timings, console=console,
                                   title="nlakit demo: the shipped NLA reads SmolLM2", retries=RETRIES, positions_per_doc=POSITIONS,
                                   min_position=MIN_POSITION)
    console.print(
        f"\n[bold]Held-out round trip[/] ({metrics['n']} tokens, from position {MIN_POSITION} on, of {len(evaluation.docs)} built-in "
        f"documents the NLA never trained on): "
        f"fve_nrm [bold green]{metrics['fve_nrm']:.2f}[/]; shuffled control {metrics['fve_shuffled']:.2f} (explanations "
        f"given to the wrong activations: it should be at or below 0); the teacher's quote of the context through the "
        f"same AR {metrics['fve_teacher']:.2f}; parse failures {metrics['parse_failure_rate']:.0%}; baseline {metrics['baseline']}."
        f"{floor_line(metrics)}{retried_line(metrics)}", soft_wrap=True)
    console.print(f"\nA page to click through: {out / 'index.html'}   ({time.monotonic() - started:.0f} s in all)\n\n[bold]Next[/]:")
    for command, what in NEXT_STEPS:
        console.print(f"  [cyan]{command}[/]  {what}", soft_wrap=True)
    return metrics
