"""The one place nlakit writes HTML pages and figures: the page shell, its style, and matplotlib.

Every page is one self-contained file (inline CSS, JS and data; nothing fetched), so it opens
from a file or a mail: `page` writes the head, the shared STYLE and the escaped title around a
body that each reading builds itself, and `script_data` puts data into a script so that no
`</script>` inside it can end the script early. Figures are drawn by `figure_png` on the Agg
backend (no display needed): `plot_curves` saves one as a file, `figure_uri` inlines one.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .files import atomic_write, atomic_write_text, to_json

STYLE = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
.tok{padding:1px 0;border-radius:3px;cursor:help;white-space:pre-wrap}.text{line-height:1.9;font-family:monospace}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{border:1px solid #ddd;padding:4px;vertical-align:top}
.metrics td:first-child{font-weight:600}img{max-width:100%}"""


def page(title: str, body: str, style: str = "", script: str = "") -> str:
    """A whole page: head, STYLE plus the page's own `style`, the escaped title, `body` (HTML the caller built and escaped),
    then `script` (run after the body exists)."""
    tail = f"<script>{script}</script>" if script else ""
    return f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}{style}</style>{body}{tail}"


def script_data(value: Any) -> str:
    """`value` as a JavaScript literal for inside <script>: strict JSON with every `<` escaped, so no `</script>` ends it."""
    return to_json(value).replace("<", "\\u003c")


# ---------------------------------------------------------------- figures


def figure_png(draw: Callable[[Any], None], size: tuple[float, float] = (8, 3.6), dpi: int = 100) -> bytes:
    """`draw(ax)` on one figure, rendered to PNG bytes on the Agg backend (the figure is closed after)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    try:
        draw(ax)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def figure_uri(draw: Callable[[Any], None], size: tuple[float, float] = (8, 3.6)) -> str:
    """`draw(ax)` as a PNG data URI, so the page that shows it stays one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(figure_png(draw, size)).decode()


def read_log(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]


def plot_curves(log: list[dict], keys: list[str], title: str, path: Path) -> None:
    """One PNG with a line per logged key against the step (keys missing from the log are skipped)."""

    def draw(ax: Any) -> None:
        for key in keys:
            points = [(r["step"], r[key]) for r in log if key in r]
            if points:
                ax.plot(*zip(*points), marker="o" if len(points) < 20 else None, label=key)
        ax.set_xlabel("step")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()

    png = figure_png(draw, (6, 3.5), dpi=110)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(png))


# ---------------------------------------------------------------- the run report and its token view


def _fve_colour(value: float) -> str:
    value = max(-1.0, min(1.0, value))
    return f"hsl({int(60 + 60 * value)}, 70%, {85 - 25 * max(value, 0):.0f}%)"


def token_view(rows: list[dict]) -> str:
    """Tokens coloured by FVE; hovering or focusing one shows its explanation (no script needed)."""
    spans = []
    for r in rows:
        tip = f"FVE {r['fve_nrm']:.2f} | {r['explanation']}"
        spans.append(
            f'<span class="tok" tabindex="0" style="background:{_fve_colour(r["fve_nrm"])}" title="{html.escape(tip)}">'
            f"{html.escape(r['token'])}</span>"
        )
    table = "".join(
        f"<tr><td>{r['position']}</td><td><code>{html.escape(repr(r['token']))}</code></td><td>{r['fve_nrm']:.2f}</td>"
        f"<td>{html.escape(r['explanation']).replace(chr(10), '<br>')}</td></tr>"
        for r in rows
    )
    return f'<p class="text">{"".join(spans)}</p><table><tr><th>pos</th><th>token</th><th>FVE</th><th>explanation</th></tr>{table}</table>'


def _cell(value: object) -> str:
    """A figure a person reads: floats to 3 decimals, everything else as text."""
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(value if isinstance(value, str) else json.dumps(value))


ROUND_TRIP = [("fve_nrm", "round trip (held out)"), ("fve_shuffled", "shuffled control (should be ≤ 0)"),
              ("fve_teacher", "teacher's explanation through the same AR"), ("parse_failure_rate", "parse failures")]


def write_report(path: Path, metrics: dict, images: list[str], explained: list[tuple[str, list[dict]]],
                 title: str = "nlakit report") -> None:
    """One self-contained page: the round trip beside its controls, the other figures, stage timings, curves, token views."""
    headline = "".join(f"<tr><td>{html.escape(label)}</td><td>{_cell(metrics[key])}</td></tr>" for key, label in ROUND_TRIP if key in metrics)
    if "baseline" in metrics:
        headline += f"<tr><td>FVE baseline</td><td>{html.escape(str(metrics['baseline']))} = {_cell(metrics.get('rawvar'))}</td></tr>"
    shown = {key for key, _ in ROUND_TRIP} | {"baseline", "rawvar", "stage_seconds", "preset"}
    others = "".join(f"<tr><td>{html.escape(k)}</td><td>{_cell(v)}</td></tr>" for k, v in metrics.items() if k not in shown)
    body = [f"<h1>{html.escape(title)}</h1><table class='metrics'>{headline}{others}</table>"]
    timings = metrics.get("stage_seconds") or {}
    if timings:
        total = sum(v for k, v in timings.items() if k != "total") or 1.0
        bars = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.1f} s</td><td><div style='background:#7a9cc6;height:10px;"
                       f"width:{min(100.0, 100 * v / total):.0f}%'></div></td></tr>" for k, v in timings.items())
        body.append(f"<h2>Time per stage</h2><table class='metrics'>{bars}</table>")
    body += [f'<img src="{html.escape(img)}">' for img in images]
    for text, token_rows in explained:
        body.append(f"<h2>{html.escape(text[:80])}</h2>{token_view(token_rows)}")
    atomic_write_text(path, page(title, "".join(body)))
