"""The neuron dictionary `nlakit neurons` writes, as its readers see it: its file, its page, and the one DuckDB reader.

`ParquetSearch` is how nlakit searches a parquet it wrote, for the explorer's two searches (the
neuron dictionary, and explained rows from `nlakit evaluate --save`):
- the file is loaded once into an in-memory DuckDB table, only the columns shown, and a file that
  lacks one is refused in one line that names the command writing it;
- a phrase only ever reaches DuckDB as a bound parameter, its wildcards escaped (a search for `%`
  finds a percent sign, `' OR 1=1 --` finds that text);
- each query runs on its own cursor: the web server answers requests on several threads.
"""

from __future__ import annotations

import html
import math
from importlib import resources
from pathlib import Path

from ..core.config import DEFAULT_MODEL
from ..core.errors import NLAError
from ..core.report import page, script_data

DICTIONARY = "neurons.parquet"
NEURON_COLUMNS = ("name", "layer", "neuron", "description", "score", "score_shuffled", "top_contexts")
EXPLAINED_COLUMNS = ("doc_id", "position", "token", "context", "explanation", "fve_nrm")


def shipped_dictionary(model: str = DEFAULT_MODEL) -> Path | None:
    """The dictionary shipped in the package for the default model (nlakit/data/neurons/<model>/), if present."""
    path = Path(str(resources.files("nlakit") / "data" / "neurons" / model / DICTIONARY))
    return path if path.is_file() else None


def like_pattern(phrase: str) -> str:
    """An ILIKE pattern (with ESCAPE '\\') matching `phrase` literally anywhere in a text."""
    return "%" + phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ParquetSearch:
    """DuckDB over the `columns` of one parquet file, loaded once; subclasses say what a search matches."""

    def __init__(self, path: Path, what: str, columns: tuple[str, ...], made_by: str):
        """`what`: the file as a person names it; `made_by`: how to write one with every column."""
        import duckdb

        path = Path(path)
        if not path.is_file():
            raise NLAError(f"{what} not found: {path}")
        self.path, self.columns, self.con = path, columns, duckdb.connect()
        try:
            found = {row[0] for row in self.con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()}
        except duckdb.Error as err:
            raise NLAError(f"cannot read {path} as a {what}: {err}") from None
        missing = [c for c in columns if c not in found]
        if missing:
            raise NLAError(f"{path} lacks the columns {missing}: {made_by}")
        self.con.execute(f"CREATE TABLE loaded AS SELECT {', '.join(columns)} FROM read_parquet(?)", [str(path)])
        self.rows = int(self.con.execute("SELECT count(*) FROM loaded").fetchone()[0])

    def select(self, where: str, order: str, params: list, limit: int) -> list[dict]:
        """Rows (every loaded column) matching `where`, in `order`, at most `limit`; `params` fill the `?`s of `where`."""
        cursor = self.con.cursor()  # one cursor per call: requests run on several threads
        try:
            result = cursor.execute(f"SELECT {', '.join(self.columns)} FROM loaded WHERE {where} ORDER BY {order} LIMIT ?", [*params, limit])
            return [dict(zip(self.columns, row)) for row in result.fetchall()]
        finally:
            cursor.close()


class NeuronDictionary(ParquetSearch):
    """A dictionary from `nlakit neurons`, searched by neuron name (20:17), description or top-context token."""

    def __init__(self, path: Path):
        super().__init__(path, "neuron dictionary", NEURON_COLUMNS, "build it with `nlakit neurons`")

    def query(self, phrase: str = "", limit: int = 20) -> list[dict]:
        """Best score first; an empty phrase lists every neuron."""
        pattern = like_pattern(phrase)
        where = ("? = '' OR name = ? OR description ILIKE ? ESCAPE '\\' "
                 "OR list_bool_or([c.token ILIKE ? ESCAPE '\\' FOR c IN top_contexts])")
        return self.select(where, "score DESC NULLS LAST, layer, neuron", [phrase, phrase, pattern, pattern], limit)


class ExplainedRows(ParquetSearch):
    """Explained rows from `nlakit evaluate --save` (without their vectors), searched by a phrase in the explanation."""

    def __init__(self, path: Path):
        super().__init__(path, "dataset file", EXPLAINED_COLUMNS, "write it with `nlakit evaluate --save FILE`")

    def query(self, phrase: str, limit: int) -> list[dict]:
        """Best fve_nrm first."""
        return self.select("explanation ILIKE ? ESCAPE '\\'", "fve_nrm DESC NULLS LAST, doc_id, position", [like_pattern(phrase)], limit)


# ---------------------------------------------------------------- the page `nlakit neurons` writes beside the dictionary


PAGE_STYLE = """.entry{border-top:1px solid #ddd;padding:6px 0}.entry h3{margin:4px 0;font-size:15px}.hit{background:#ffd54f;font-weight:600}
.ctx{font-family:monospace;white-space:pre-wrap;color:#444}.expl{font-family:monospace;white-space:pre-wrap;color:#235;font-size:12px}
#q{width:100%;font-size:16px;padding:6px}.muted{color:#667;font-size:13px}"""
PAGE_SCRIPT = """const box=document.getElementById('list'),q=document.getElementById('q'),note=document.getElementById('note');
function el(t,p,...c){const n=document.createElement(t);Object.assign(n,p||{});n.append(...c);return n}
function context(c){const d=el('div',{className:'ctx'});const i=c.token&&c.context.endsWith(c.token)?c.context.length-c.token.length:c.context.length;
d.append('…'+c.context.slice(0,i),el('span',{className:'hit',textContent:c.context.slice(i)}));return d}
function render(){const s=q.value.trim().toLowerCase();const hits=ENTRIES.filter(e=>!s||e.name===s||e.description.toLowerCase().includes(s)||
e.top_contexts.some(c=>c.token.toLowerCase().includes(s)));
note.textContent=hits.length+' of '+ENTRIES.length+' neurons'+(hits.length>200?' (first 200 shown)':'');
box.replaceChildren(...hits.slice(0,200).map(e=>el('div',{className:'entry'},el('h3',{textContent:'neuron '+e.name+'  ·  score '+
(e.score===null?'n/a':e.score.toFixed(3))+' (shuffled control '+(e.score_shuffled===null?'n/a':e.score_shuffled.toFixed(3))+')'}),
el('div',{textContent:e.description}),...e.top_contexts.map(c=>el('div',{},el('span',{className:'muted',textContent:'activation '+c.activation.toFixed(2)}),
context(c),el('div',{className:'expl',textContent:c.explanation})))))) }
q.addEventListener('input',render);render();"""


def dictionary_page(rows: list[dict], summary: dict) -> str:
    """The dictionary's page (report.page: inline CSS, JS and data; nothing fetched): search neurons by name, description or token."""
    keep = ("name", "description", "score", "score_shuffled")
    data = [{**{k: r[k] for k in keep}, "top_contexts": [{k: c[k] for k in ("token", "context", "activation", "explanation")}
                                                          for c in r["top_contexts"]]}
            for r in sorted(rows, key=lambda r: -r["score"] if math.isfinite(r["score"]) else math.inf)]
    s, c = summary["score"], summary["score_shuffled"]
    figures = (f"score (Spearman rho over {summary['heldout_tokens_scored']} held-out tokens) median {s.get('q50', math.nan):.3f} "
               f"[q10 {s.get('q10', math.nan):.3f}, q90 {s.get('q90', math.nan):.3f}]; shuffled control median {c.get('q50', math.nan):.3f} "
               f"[q10 {c.get('q10', math.nan):.3f}, q90 {c.get('q90', math.nan):.3f}]; above its control for {summary['beats_control']:.0%}")
    body = (f"<h1>What each neuron of {html.escape(summary['model'])} does, as the NLA reads it</h1>"
            f"<p class='muted'>{summary['neurons']} neurons of layer(s) {html.escape(str(summary['layers']))}, read by the NLA at layer "
            f"{summary['layer_k']}. {html.escape(figures)}.</p>"
            "<input id='q' type='search' placeholder='search: a word, a token, or a neuron such as 20:17' autofocus><p id='note' class='muted'></p>"
            "<div id='list'></div>")
    return page("nlakit neurons", body, PAGE_STYLE, f"const ENTRIES={script_data(data)};{PAGE_SCRIPT}")
