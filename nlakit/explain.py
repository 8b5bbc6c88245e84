"""Stage 7: read what the model holds at every token of a text.

Each token's layer-K vector goes through the AV (explanation) and back through the AR (score),
so every explanation comes with its own faithfulness number.
"""

from __future__ import annotations

import html
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import files
from .config import EXPLANATION_TOKENS
from .errors import NLAError
from .files import atomic_write_text
from .nla import NLA
from .report import STYLE, token_view


def render_table(rows: list[dict], baseline: str, console: Console | None = None, compact: bool = False) -> None:
    """A row per token: position, token, FVE (coloured), explanation (on one line when `compact`)."""
    title = f"What the NLA reads at each token of {rows[-1]['context'][-60:]!r}" if compact and rows else "What the NLA reads at each token"
    table = Table(title=title, caption=f"FVE = fve_nrm against the baseline {baseline}", show_lines=not compact)
    table.add_column("pos", justify="right")
    table.add_column("token")
    table.add_column("FVE", justify="right")
    table.add_column("explanation")
    for r in rows:
        colour = "green" if r["fve_nrm"] > 0.3 else "yellow" if r["fve_nrm"] > 0 else "red"
        text = " | ".join(line.strip() for line in r["explanation"].splitlines() if line.strip()) if compact else r["explanation"]
        table.add_row(str(r["position"]), repr(r["token"]), f"[{colour}]{r['fve_nrm']:.2f}[/]", escape(text))
    (console or Console()).print(table)


def to_json(rows: list[dict], baseline: str) -> str:
    """The token rows, each naming the FVE's baseline."""
    return files.to_json([{**{k: v for k, v in r.items() if k != "context"}, "baseline": baseline} for r in rows], indent=1)


PAGE_STYLE = """#detail{position:sticky;top:0;background:#fff;border:1px solid #ccc;border-radius:6px;padding:8px;min-height:4em}
#detail pre{white-space:pre-wrap;margin:4px 0}.tok{cursor:pointer}.tok.sel{outline:2px solid #d2691e}"""
PAGE_SCRIPT = """const toks=document.querySelectorAll('.tok');toks.forEach((s,i)=>s.addEventListener('click',()=>{
toks.forEach(t=>t.classList.remove('sel'));s.classList.add('sel');const r=ROWS[i];
document.getElementById('d-head').textContent='token '+JSON.stringify(r.token)+' at position '+r.position+
' | FVE '+r.fve_nrm.toFixed(3)+' | mse_nrm '+r.mse_nrm.toFixed(3)+' | activation norm '+r.activation_norm.toFixed(3);
const e=r.explanation;document.getElementById('d-text').textContent=e.trim()?e:'(whitespace only: '+e.length+' characters)';}));"""


def to_html(rows: list[dict], text: str, baseline: str) -> str:
    """One self-contained page (inline CSS and JS, nothing fetched), so it opens from a file or a mail:
    report.token_view's coloured tokens, plus a panel showing the clicked token's explanation."""
    keys = ("position", "token", "explanation", "fve_nrm", "mse_nrm", "activation_norm")
    data = files.to_json([{k: r[k] for k in keys} for r in rows]).replace("<", "\\u003c")  # no `</script>` can end the data early
    return (f"<!doctype html><meta charset='utf-8'><title>nlakit explain</title><style>{STYLE}{PAGE_STYLE}</style>"
            f"<h1>What the NLA reads at each token</h1><p>{html.escape(text[:200])}</p>"
            f"<p>FVE = fve_nrm against the baseline {html.escape(baseline)}.</p>"
            f"<div id='detail'><b id='d-head'>Click a token to read its explanation.</b><pre id='d-text'></pre></div>"
            f"{token_view(rows)}<script>const ROWS={data};{PAGE_SCRIPT}</script>")


def run_explain(nla_dir: Path | str, text: str, as_json: bool = False, max_new_tokens: int = EXPLANATION_TOKENS, html_path: Path | None = None) -> list[dict]:
    if not text.strip():
        raise NLAError("the text is empty: give the text to read, e.g. nlakit explain \"Once upon a time\"")
    nla = NLA.load(nla_dir)
    total, limit = len(nla.tokenizer(text, add_special_tokens=True)["input_ids"]), nla.extract_config().max_length
    if total > limit:  # partial work is said out loud
        Console(stderr=True).print(f"note: the text has {total} tokens; the NLA reads the first {limit} (the max_length it was "
                                   f"trained with), so the last {total - limit} are not explained", soft_wrap=True)
    rows = nla.explain(text, max_new_tokens)
    if not rows:
        raise NLAError("the text has no tokens to read (only special tokens)")
    if as_json:
        print(to_json(rows, nla.baseline.name))
    else:
        render_table(rows, nla.baseline.name)
    if html_path:
        atomic_write_text(Path(html_path), to_html(rows, text, nla.baseline.name))
    return rows
