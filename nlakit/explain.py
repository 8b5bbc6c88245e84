"""Stage 7: read what the model holds at every token of a text.

Each token's layer-K vector goes through the AV (explanation) and back through the AR (score),
so every explanation comes with its own faithfulness number.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from .corpus import Document, guess_genre
from .evaluate import NLA


def explain_text(nla: NLA, text: str, max_new_tokens: int = 64, max_tokens: int | None = None) -> list[dict]:
    """One row per token: token, position, explanation, fve_nrm, mse_nrm, activation norm."""
    rows = nla.activations([Document("input:0", text, guess_genre(text))], all_positions=True)
    rows = rows[:max_tokens] if max_tokens else rows
    if not rows:
        return []
    explanations, mse = nla.roundtrip(np.stack([r["activation_vector"] for r in rows]), max_new_tokens)
    rawvar = nla.meta.rawvar
    return [
        {"position": r["position"], "token": r["token"], "explanation": e, "fve_nrm": float(1 - m / rawvar),
         "mse_nrm": float(m), "activation_norm": float(np.linalg.norm(r["activation_vector"])), "context": r["context"]}
        for r, e, m in zip(rows, explanations, mse)
    ]


def render_table(rows: list[dict], console: Console | None = None) -> None:
    table = Table(title="What the NLA reads at each token", show_lines=True)
    table.add_column("pos", justify="right")
    table.add_column("token")
    table.add_column("FVE", justify="right")
    table.add_column("explanation")
    for r in rows:
        colour = "green" if r["fve_nrm"] > 0.3 else "yellow" if r["fve_nrm"] > 0 else "red"
        table.add_row(str(r["position"]), repr(r["token"]), f"[{colour}]{r['fve_nrm']:.2f}[/]", r["explanation"])
    (console or Console()).print(table)


def to_json(rows: list[dict]) -> str:
    return json.dumps([{k: v for k, v in r.items() if k != "context"} for r in rows], ensure_ascii=False, indent=1)


def run_explain(nla_dir: Path, text: str, as_json: bool = False, max_new_tokens: int = 64) -> list[dict]:
    rows = explain_text(NLA.load(Path(nla_dir)), text, max_new_tokens)
    if as_json:
        print(to_json(rows))
    else:
        render_table(rows)
    return rows
