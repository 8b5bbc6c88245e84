"""Stage 7: read what the model holds at every token of a text.

Each token's layer-K vector goes through the AV (explanation) and back through the AR (score),
so every explanation comes with its own faithfulness number.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from .corpus import Document, guess_genre
from .evaluate import NLA
from .report import STYLE, token_view
from .sidecar import atomic_write_text


def explain_text(nla: NLA, text: str, max_new_tokens: int = 64, max_tokens: int | None = None) -> list[dict]:
    """One row per token: token, position, explanation, fve_nrm, mse_nrm, activation norm."""
    rows = nla.activations([Document("input:0", text, guess_genre(text))], all_positions=True)
    rows = rows[:max_tokens] if max_tokens else rows
    if not rows:
        return []
    explanations, mse, _ = nla.roundtrip(np.stack([r["activation_vector"] for r in rows]), max_new_tokens)
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


PAGE_STYLE = """#detail{position:sticky;top:0;background:#fff;border:1px solid #ccc;border-radius:6px;padding:8px;min-height:4em}
#detail pre{white-space:pre-wrap;margin:4px 0}.tok{cursor:pointer}.tok.sel{outline:2px solid #d2691e}"""
PAGE_SCRIPT = """const toks=document.querySelectorAll('.tok');toks.forEach((s,i)=>s.addEventListener('click',()=>{
toks.forEach(t=>t.classList.remove('sel'));s.classList.add('sel');const r=ROWS[i];
document.getElementById('d-head').textContent='token '+JSON.stringify(r.token)+' at position '+r.position+
' | FVE '+r.fve_nrm.toFixed(3)+' | mse_nrm '+r.mse_nrm.toFixed(3)+' | activation norm '+r.activation_norm.toFixed(3);
const e=r.explanation;document.getElementById('d-text').textContent=e.trim()?e:'(whitespace only: '+e.length+' characters)';}));"""


def to_html(rows: list[dict], text: str) -> str:
    """One self-contained page (inline CSS and JS, nothing fetched), so it opens from a file or a mail:
    report.token_view's coloured tokens, plus a panel showing the clicked token's explanation."""
    data = json.dumps([{k: r[k] for k in ("position", "token", "explanation", "fve_nrm", "mse_nrm", "activation_norm")} for r in rows],
                      ensure_ascii=False).replace("<", "\\u003c")  # no `</script>` can end the data early
    return (f"<!doctype html><meta charset='utf-8'><title>nlakit explain</title><style>{STYLE}{PAGE_STYLE}</style>"
            f"<h1>What the NLA reads at each token</h1><p>{html.escape(text[:200])}</p>"
            f"<div id='detail'><b id='d-head'>Click a token to read its explanation.</b><pre id='d-text'></pre></div>"
            f"{token_view(rows)}<script>const ROWS={data};{PAGE_SCRIPT}</script>")


def run_explain(nla_dir: Path | str, text: str, as_json: bool = False, max_new_tokens: int = 64, html_path: Path | None = None) -> list[dict]:
    rows = explain_text(NLA.load(nla_dir), text, max_new_tokens)
    if as_json:
        print(to_json(rows))
    else:
        render_table(rows)
    if html_path:
        atomic_write_text(Path(html_path), to_html(rows, text))
    return rows
