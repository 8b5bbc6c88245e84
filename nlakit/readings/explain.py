"""Stage 7: read what the model holds at every token of a text, or explain any vectors.

Each token's layer-K vector goes through the AV (explanation) and back through the AR (score),
so every explanation comes with its own faithfulness number. `--vectors FILE.parquet` does the same
for the rows of an `activation_vector` column, and `--random N` for random vectors (a smoke test of
the pair), with the official inference CLI's options: temperature, injection scale, a custom AV
prompt, --raw and the rows read (its --n is --max-rows here: --samples, alias --n, is explanations per
vector), plus top-p / top-k. docs/guides/released-checkpoints.md lists where the options differ.
"""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..core import dataset, files
from ..core.av import Verbalizer
from ..core.config import SAMPLE_TEMPERATURE, ExplainConfig, LoadConfig
from ..core.errors import NLAError
from ..core.files import atomic_write_text, check_output_file
from ..core.metrics import rescale
from ..core.nla import NLA, source_folders
from ..core.prompts import with_av_prompt
from ..core.report import page, script_data, token_view
from ..core.sidecar import check_vectors


def render_table(rows: list[dict], baseline: str, console: Console | None = None, compact: bool = False, raw: bool = False,
                 precision: str | None = None) -> None:
    """A row per token: position, token, FVE (coloured), explanation (on one line when `compact`; the whole response with
    `raw`). `precision` (NLA.precision) is named under the table: int8 readings differ from the exact path's."""
    title = f"What the NLA reads at each token of {rows[-1]['context'][-60:]!r}" if compact and rows else "What the NLA reads at each token"
    caption = f"FVE = fve_nrm against the baseline {baseline}"
    if any(r.get("fve_token_floor") is not None for r in rows):
        caption += "; token = the token floor, what an AR reading only the current token rebuilds (same baseline)"
    if precision:
        caption += f"; products in {precision}"
    table = Table(title=title, caption=caption, show_lines=not compact)
    table.add_column("pos", justify="right")
    table.add_column("token")
    table.add_column("FVE", justify="right")
    floors = [r.get("fve_token_floor") for r in rows]
    if any(f is not None for f in floors):
        table.add_column("token", justify="right")  # the token floor: what the current token alone rebuilds (core/floor.py)
    table.add_column("explanation")
    for r, floor in zip(rows, floors):
        colour = "green" if r["fve_nrm"] > 0.3 else "yellow" if r["fve_nrm"] > 0 else "red"
        shown = r["response"] if raw else r["explanation"]
        text = " | ".join(line.strip() for line in shown.splitlines() if line.strip()) if compact else shown
        cells = [str(r["position"]), repr(r["token"]), f"[{colour}]{r['fve_nrm']:.2f}[/]"]
        cells += [] if not any(f is not None for f in floors) else ["-" if floor is None else f"{floor:.2f}"]
        table.add_row(*cells, escape(text))
    (console or Console()).print(table)


def to_json(rows: list[dict], baseline: str) -> str:
    """The token rows, each naming the FVE's baseline."""
    return files.to_json([{**{k: v for k, v in r.items() if k != "context"}, "baseline": baseline} for r in rows], indent=1)


PAGE_STYLE = """#detail{position:sticky;top:0;background:#fff;border:1px solid #ccc;border-radius:6px;padding:8px;min-height:4em}
#detail pre{white-space:pre-wrap;margin:4px 0}.tok{cursor:pointer}.tok.sel{outline:2px solid #d2691e}"""
PAGE_SCRIPT = """const toks=document.querySelectorAll('.tok');toks.forEach((s,i)=>s.addEventListener('click',()=>{
toks.forEach(t=>t.classList.remove('sel'));s.classList.add('sel');const r=ROWS[i];
document.getElementById('d-head').textContent='token '+JSON.stringify(r.token)+' at position '+r.position+
' | FVE '+r.fve_nrm.toFixed(3)+(r.fve_token_floor===null?'':' (token floor '+r.fve_token_floor.toFixed(3)+')')+
' | mse_nrm '+r.mse_nrm.toFixed(3)+' | activation norm '+r.activation_norm.toFixed(3);
const e=r.explanation;document.getElementById('d-text').textContent=e.trim()?e:'(whitespace only: '+e.length+' characters)';}));"""


def to_html(rows: list[dict], text: str, baseline: str) -> str:
    """The `--html` page (report.page: self-contained, so it opens from a file or a mail): report.token_view's
    coloured tokens, plus a panel showing the clicked token's explanation."""
    keys = ("position", "token", "explanation", "fve_nrm", "fve_token_floor", "mse_nrm", "activation_norm")
    body = (f"<h1>What the NLA reads at each token</h1><p>{html.escape(text[:200])}</p>"
            f"<p>FVE = fve_nrm against the baseline {html.escape(baseline)}.</p>"
            f"<div id='detail'><b id='d-head'>Click a token to read its explanation.</b><pre id='d-text'></pre></div>"
            f"{token_view(rows)}")
    return page("nlakit explain", body, PAGE_STYLE, f"const ROWS={script_data([{k: r[k] for k in keys} for r in rows])};{PAGE_SCRIPT}")


def run_explain(nla_dir: Path | str | LoadConfig, text: str, cfg: ExplainConfig | None = None, as_json: bool = False,
                html_path: Path | None = None) -> list[dict]:
    """Every token of `text`, explained greedily (with `cfg`'s cap, AV prompt, injection scale and retries) and scored."""
    cfg = cfg or ExplainConfig()
    if not text.strip():
        raise NLAError("the text is empty: give the text to read, e.g. nlakit explain \"Once upon a time\"")
    if cfg.n > 1 or cfg.temperature > 0 or cfg.top_p < 1 or cfg.top_k > 0:
        raise NLAError("--samples, --temperature, --top-p and --top-k sample explanations of --vectors or --random; "
                       "a text's tokens are explained greedily")
    if cfg.max_rows is not None:
        raise NLAError("--max-rows reads the first rows of --vectors; a text is read whole")
    if html_path:  # before any work: never over the NLA it reads
        check_output_file(Path(html_path), source_folders(nla_dir).values(), "--html")
    nla = with_av_settings(NLA.load(nla_dir, injection_scale=cfg.injection_scale), cfg)
    total, limit = len(nla.tokenizer(text, add_special_tokens=True)["input_ids"]), nla.extract_config().max_length
    if total > limit:  # partial work is said out loud
        Console(stderr=True).print(f"note: the text has {total} tokens; the NLA reads the first {limit} (the max_length it was "
                                   f"trained with), so the last {total - limit} are not explained", soft_wrap=True)
    rows = nla.explain(text, cfg.max_new_tokens, cfg.retries, cfg.seed)
    if not rows:
        raise NLAError("the text has no tokens to read (only special tokens)")
    note_capped(rows, cfg.max_new_tokens or nla.max_new_tokens)
    if as_json:
        print(to_json(rows, nla.baseline.name))
    else:
        render_table(rows, nla.baseline.name, raw=cfg.raw, precision=nla.precision)
    if html_path:
        atomic_write_text(Path(html_path), to_html(rows, text, nla.baseline.name))
    return rows


def note_capped(rows: list[dict], cap: int) -> None:
    """Say how many explanations the cap cut (each row's `capped`): never silently scored as if they were fine."""
    capped = sum(r["capped"] for r in rows)
    if capped:
        Console(stderr=True).print(f"note: {capped} of {len(rows)} explanations reached the cap of {cap} tokens before "
                                   "</explanation>: scored as failures (mse_nrm 2); raise --max-new-tokens, or sample them again with --retries 2",
                                   soft_wrap=True)


# ---------------------------------------------------------------- any vectors: --vectors FILE.parquet, --random N


def read_prompt(value: str) -> str:
    """`--prompt`: the text of a file when it names one, else the prompt itself."""
    try:
        path = Path(value)
        if path.is_file():
            return path.read_text(encoding="utf-8").rstrip("\n")
    except (OSError, ValueError):  # a long prompt is no file name
        pass
    return value


def with_av_settings(nla: NLA, cfg: ExplainConfig) -> NLA:
    """The NLA whose AV reads `cfg`'s custom prompt and injects at its scale; the AR, target and baseline unchanged."""
    meta = nla.av.meta
    if cfg.prompt is not None:
        meta = with_av_prompt(meta, nla.av.tokenizer, read_prompt(cfg.prompt))
    if cfg.injection_scale is not None:
        meta = dataclasses.replace(meta, injection_scale=cfg.injection_scale)
    if meta is nla.av.meta:
        return nla
    av = Verbalizer(nla.av.lm, nla.av.tokenizer, meta).eval()
    av.engine = nla.av.engine
    return dataclasses.replace(nla, av=av)


def read_vectors(path: Path, max_rows: int | None = None) -> np.ndarray:
    """The `activation_vector` column of a parquet file as [N, d] float32, its first `max_rows` when given (the width is
    checked against the NLA later)."""
    path = Path(path)
    if not path.is_file():
        raise NLAError(f"--vectors {path}: no such file")
    try:
        schema = pq.read_schema(path)
        table = pq.read_table(path, columns=[dataset.VECTOR]) if dataset.VECTOR in schema.names else schema.empty_table()
    except (pa.ArrowInvalid, OSError) as err:
        raise NLAError(f"cannot read {path} as parquet: {err}") from None
    vectors = dataset.vectors(table, str(path))
    if not len(vectors):
        raise NLAError(f"{path} holds no vectors")
    return vectors[:max_rows]


def random_vectors(nla: NLA, n: int, seed: int) -> np.ndarray:
    """`n` Gaussian directions at the NLA's width, at the mean norm of its training activations (else its injection scale)."""
    d = nla.meta.d_model
    scale = nla.av.meta.injection_scale
    norm = nla.meta.activation_norm.get("mean") or (scale if isinstance(scale, (int, float)) else math.sqrt(d))
    noise = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return rescale(noise, np.full(n, float(norm), np.float32))


def explain_vectors(nla: NLA, vectors: np.ndarray, cfg: ExplainConfig) -> list[dict]:
    """`cfg.n` explanations of each vector (one batched round trip): its index and sample, RoundTrip.rows' keys, the baseline."""
    if cfg.n > 1 and cfg.temperature == 0:
        raise NLAError(f"--samples {cfg.n} greedy explanations of a vector would all be the same: add --temperature (e.g. 0.7)")
    if (cfg.top_p < 1 or cfg.top_k > 0) and cfg.temperature == 0:
        raise NLAError("--top-p and --top-k shape sampling, and a greedy explanation samples nothing: add --temperature (e.g. 0.7)")
    vectors = check_vectors(vectors, nla.meta.d_model, "the vectors to explain")
    repeated = np.repeat(vectors, cfg.n, axis=0)
    result = nla.roundtrip(repeated, cfg.max_new_tokens, cfg.temperature, cfg.seed, top_p=cfg.top_p, top_k=cfg.top_k)
    result = nla.retry_failed(result, cfg.retries, cfg.temperature or SAMPLE_TEMPERATURE, cfg.seed, cfg.max_new_tokens)
    return [{**row, "baseline": nla.baseline.name}
            for row in result.rows([{"vector": i // cfg.n, "sample": i % cfg.n} for i in range(len(repeated))])]


def run_explain_vectors(nla_dir: Path | str | LoadConfig, cfg: ExplainConfig, vectors: Path | None = None, random: int | None = None,
                        out: Path | None = None, as_json: bool = False) -> list[dict]:
    """`nlakit explain --vectors FILE` / `--random N`: explain, score, print, and write `out` (parquet) when given."""
    if (vectors is None) == (random is None):
        raise NLAError("give one of --vectors FILE.parquet and --random N")
    if out is not None:  # before any work: never over the vectors or the NLA it reads
        check_output_file(Path(out), [*([vectors] if vectors is not None else []), *source_folders(nla_dir).values()], "--out")
    if random is not None and cfg.max_rows is not None:
        raise NLAError("--max-rows reads the first rows of --vectors; --random N already says how many vectors")
    given = read_vectors(vectors, cfg.max_rows) if vectors is not None else None  # a bad file is refused before the models load
    nla = with_av_settings(NLA.load(nla_dir, injection_scale=cfg.injection_scale), cfg)
    data = given if given is not None else random_vectors(nla, random, cfg.seed)
    if given is not None and cfg.n > 1 and cfg.max_rows is None:  # the official client's --n is rows: say what this run does
        Console(stderr=True).print(f"note: {len(data)} vectors x {cfg.n} samples = {len(data) * cfg.n} explanations (--samples/--n is "
                                   "explanations per vector; the official client's --n, rows of the parquet, is --max-rows)",
                                   soft_wrap=True)
    rows = explain_vectors(nla, data, cfg)
    note_capped(rows, cfg.max_new_tokens or nla.max_new_tokens)
    if out is not None:
        dataset.write_rows(Path(out), [{**r, dataset.VECTOR: data[r["vector"]]} for r in rows], nla.meta.d_model)
    if as_json:
        print(files.to_json(rows, indent=1))
    else:
        render_vector_table(rows, nla.baseline.name, "random vectors" if vectors is None else str(vectors), raw=cfg.raw)
    if vectors is None:  # said so that a low score is not read as a broken pair
        Console(stderr=True).print("note: random directions lie far from the model's own activations: this checks that the pair "
                                   "runs end to end, not how well it explains", soft_wrap=True)
    return rows


def render_vector_table(rows: list[dict], baseline: str, source: str, console: Console | None = None, raw: bool = False) -> None:
    """A row per explanation: vector, sample, FVE (coloured), explanation (the whole response with `raw`); then the mean,
    the parse failures and the capped share."""
    table = Table(title=f"Explanations of {source}", caption=f"FVE = fve_nrm against the baseline {baseline}", show_lines=True)
    for name, justify in (("vector", "right"), ("sample", "right"), ("FVE", "right"), ("response" if raw else "explanation", "left")):
        table.add_column(name, justify=justify)
    for r in rows:
        colour = "green" if r["fve_nrm"] > 0.3 else "yellow" if r["fve_nrm"] > 0 else "red"
        table.add_row(str(r["vector"]), str(r["sample"]), f"[{colour}]{r['fve_nrm']:.2f}[/]", escape(r["response" if raw else "explanation"]))
    console = console or Console()
    console.print(table)
    parsed = np.mean([r["parsed"] for r in rows])
    console.print(f"{len(rows)} explanations: mean fve_nrm {np.mean([r['fve_nrm'] for r in rows]):.3f} (baseline {baseline}); "
                  f"parse failures {1 - parsed:.0%}; capped {np.mean([r['capped'] for r in rows]):.0%}", soft_wrap=True)
