"""The neuron dictionary `nlakit neurons` writes, as its readers see it: its file, its page, and the one DuckDB reader.

`ParquetSearch` is how nlakit searches a parquet it wrote, for the explorer's two searches (the
neuron dictionary, and explained rows from `nlakit evaluate --save`):
- the file is loaded once into an in-memory DuckDB table, only the columns shown, and a file that
  lacks one, or holds one of another type (a tampered file), is refused at start in one line that
  names the command writing it, never answered with an error per request;
- a phrase only ever reaches DuckDB as a bound parameter, its wildcards escaped (a search for `%`
  finds a percent sign, `' OR 1=1 --` finds that text);
- each query runs on its own cursor: the web server answers requests on several threads.
"""

from __future__ import annotations

import html
import math
import re
from importlib import resources
from pathlib import Path

from ..core.config import DEFAULT_MODEL
from ..core.errors import NLAError
from ..core.report import page, script_data

DICTIONARY, PAGE, SUMMARY = "neurons.parquet", "index.html", "summary.json"  # a dictionary's file, its page and its figures
# each column shown and the kind of DuckDB type it must have (column_kind)
NEURON_COLUMNS = {"name": "text", "layer": "integer", "neuron": "integer", "description": "text", "score": "number",
                  "score_shuffled": "number", "top_contexts": "contexts"}
EXPLAINED_COLUMNS = {"doc_id": "text", "position": "integer", "token": "text", "context": "text", "explanation": "text",
                     "fve_nrm": "number"}
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_CONTEXT_FIELDS = {"token": ("VARCHAR",), "context": ("VARCHAR",), "explanation": ("VARCHAR",),
                   "activation": ("FLOAT", "DOUBLE", *_INTEGERS)}


def column_kind(duckdb_type: str) -> str | None:
    """The kind (text, integer, number, contexts) a DuckDB column type is, or None for any other."""
    if duckdb_type == "VARCHAR":
        return "text"
    if duckdb_type == "BOOLEAN":
        return "boolean"
    if duckdb_type in _INTEGERS:
        return "integer"
    if duckdb_type in ("FLOAT", "DOUBLE") or duckdb_type.startswith("DECIMAL"):
        return "number"
    if duckdb_type.startswith("STRUCT(") and duckdb_type.endswith(")[]") and all(
            re.search(rf'[(,]\s*"?{name}"? ({"|".join(types)})[,)]', duckdb_type) for name, types in _CONTEXT_FIELDS.items()):
        return "contexts"
    return None


def shipped_dictionary(model: str = DEFAULT_MODEL) -> Path | None:
    """The dictionary shipped in the package for the default model (nlakit/data/neurons/<model>/), if present."""
    path = Path(str(resources.files("nlakit") / "data" / "neurons" / model / DICTIONARY))
    return path if path.is_file() else None


def like_pattern(phrase: str) -> str:
    """An ILIKE pattern (with ESCAPE '\\') matching `phrase` literally anywhere in a text."""
    return "%" + phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ParquetSearch:
    """DuckDB over the `columns` of one parquet file, loaded once; subclasses say what a search matches."""

    def __init__(self, path: Path, what: str, columns: dict[str, str], made_by: str):
        """`what`: the file as a person names it; `columns`: each shown column's kind; `made_by`: how to write one."""
        import duckdb

        path = Path(path)
        if not path.is_file():
            raise NLAError(f"{what} not found: {path}")
        self.path, self.columns, self.con = path, tuple(columns), duckdb.connect()
        try:
            found = {row[0]: row[1] for row in self.con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()}
        except duckdb.Error as err:
            raise NLAError(f"cannot read {path} as a {what}: {err}") from None
        missing = [c for c in columns if c not in found]
        if missing:
            raise NLAError(f"{path} lacks the columns {missing}: {made_by}")
        wrong = [f"{c} is {found[c]}, not {kind}" for c, kind in columns.items() if column_kind(found[c]) != kind]
        if wrong:
            raise NLAError(f"{path} is not a {what} as nlakit writes it ({'; '.join(wrong)}): {made_by}")
        self.con.execute(f"CREATE TABLE loaded AS SELECT {', '.join(self.columns)} FROM read_parquet(?)", [str(path)])
        self.rows = int(self.con.execute("SELECT count(*) FROM loaded").fetchone()[0])

    def select(self, where: str, order: str, params: list, limit: int) -> list[dict]:
        """Rows (every loaded column) matching `where`, in `order`, at most `limit`; `params` fill the `?`s of `where`."""
        cursor = self.con.cursor()  # one cursor per call: requests run on several threads
        try:
            result = cursor.execute(f"SELECT {', '.join(self.columns)} FROM loaded WHERE {where} ORDER BY {order} LIMIT ?", [*params, limit])
            return [dict(zip(self.columns, row)) for row in result.fetchall()]
        finally:
            cursor.close()


SCORE_PREFIXES = ("auroc_", "pearson_")  # every figure a dictionary holds per entry: auroc_<scorer>[_token_only|_shuffled], ...
BEATS = "beats_token_only_"  # per scorer: the entry's description scores above its token-only one


def file_columns(path: Path) -> dict[str, str | None]:
    """Each column of a parquet file and its kind (column_kind); {} when it cannot be read (ParquetSearch says why)."""
    import duckdb

    if not Path(path).is_file():
        return {}
    try:
        with duckdb.connect() as con:
            described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error:
        return {}
    return {row[0]: column_kind(row[1]) for row in described}


def score_columns(found: dict[str, str | None]) -> dict[str, str]:
    """The per-entry figures a dictionary holds beside NEURON_COLUMNS (older dictionaries have none), each with the kind it
    must have: a score column of another type is a tampered file, refused at start like any other."""
    return {name: "boolean" if name.startswith(BEATS) else "number" for name in found
            if name.startswith((*SCORE_PREFIXES, BEATS))} | {name: "text" for name in ("token_only", "note") if name in found}


def figure(value: float | None) -> str:
    """A score as the pages and the command line show it: three decimals, n/a where it is undefined."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def share(value: float | None) -> str:
    """A summary's share of neurons (above their token-only description) as a percentage, n/a where none was defined."""
    return "n/a" if value is None else f"{value:.0%}"


def best_first(rows: list[dict]) -> list[dict]:
    """Entries by their score, best first; an undefined score last."""
    return sorted(rows, key=lambda r: -r["score"] if r["score"] is not None and math.isfinite(r["score"]) else math.inf)


def read_summary(folder: Path) -> dict:
    """The summary.json `nlakit neurons` writes beside a dictionary (its figures, overall and by layer)."""
    from ..core.files import read_json

    return read_json(Path(folder) / SUMMARY, "dictionary summary")


def entry_scorers(entry: dict) -> list[str]:
    """The scorers an entry was scored by (its auroc_<scorer> columns, baselines and the ceiling aside)."""
    return [k[len("auroc_"):] for k in entry if k.startswith("auroc_") and k != "auroc_ceiling"
            and not k.endswith(("_token_only", "_shuffled"))]


def entry_headline(entry: dict) -> str:
    """One line a reader judges an entry by: each scorer's detection AUROC beside its token-only and shuffled baselines,
    and the ceiling (what the page's entry heading says)."""
    parts = [f"{s} {figure(entry.get(f'auroc_{s}'))} (token-only {figure(entry.get(f'auroc_{s}_token_only'))}, shuffled "
             f"{figure(entry.get(f'auroc_{s}_shuffled'))})" for s in entry_scorers(entry)]
    return f"neuron {entry['name']}  ·  detection AUROC: {' · '.join(parts) or 'none'} · ceiling {figure(entry.get('auroc_ceiling'))}"


class NeuronDictionary(ParquetSearch):
    """A dictionary from `nlakit neurons`, searched by neuron name (20:17, sae:3), description or top-context token, sorted
    and filtered by any of its scores."""

    def __init__(self, path: Path, columns: dict[str, str] | None = None):
        wanted = {**NEURON_COLUMNS, **score_columns(file_columns(Path(path)))} if columns is None else columns
        super().__init__(path, "neuron dictionary", wanted, "build it with `nlakit neurons`")
        self.scores = ["score", "score_shuffled", *(c for c in self.columns if c.startswith(SCORE_PREFIXES))]

    def query(self, phrase: str = "", limit: int = 20, sort: str = "score", least: float | None = None,
              beats_token_only: bool = False, layer: int | None = None) -> list[dict]:
        """Highest `sort` score first (any of `self.scores`), at least `least` there if given, with `beats_token_only`
        only entries whose description beats its token-only one by every scorer, and with `layer` only that layer's (a
        whole model's dictionary holds 30 of them); an empty phrase lists every neuron."""
        if sort not in self.scores:
            raise NLAError(f"cannot sort by {sort!r}: this dictionary's scores are {', '.join(self.scores)}")
        pattern = like_pattern(phrase)
        where = ("(? = '' OR name = ? OR description ILIKE ? ESCAPE '\\' "
                 "OR list_bool_or([c.token ILIKE ? ESCAPE '\\' FOR c IN top_contexts]))")
        params: list = [phrase, phrase, pattern, pattern]
        if least is not None:
            where += f' AND "{sort}" >= ?'  # `sort` is one of the file's own column names, checked above
            params.append(float(least))
        if beats_token_only:
            where += "".join(f' AND coalesce("{c}", false)' for c in self.columns if c.startswith(BEATS))
        if layer is not None:
            where += " AND layer = ?"
            params.append(int(layer))
        return self.select(where, f'"{sort}" DESC NULLS LAST, layer, neuron', params, limit)


class Dictionary(NeuronDictionary):
    """A neuron dictionary as a Python object, every column loaded (scores, baselines, terms, contexts):

        d = Dictionary.load()                 # the shipped one, or Dictionary.load("runs/neurons/neurons.parquet")
        d.search("bread")                     # best score first, by name, description or top-context token
        d.search(layer=12, sort="auroc_ar")   # one layer's best
        d.entry(20, 17)                       # one neuron's entry
        d.export("neurons.jsonl")             # one JSON object per neuron (Neuronpedia-like fields)
        d.write_pages("pages/")               # its pages again (`nlakit neurons` writes them beside the file)
    """

    def __init__(self, path: Path):
        found = file_columns(Path(path))
        super().__init__(path, {**found, **score_columns(found), **NEURON_COLUMNS})

    @classmethod
    def load(cls, path: Path | str | None = None) -> Dictionary:
        """The dictionary at `path` (a neurons.parquet or the folder holding one); default: the one shipped with nlakit."""
        if path is None:
            path = shipped_dictionary()
            if path is None:
                raise NLAError("this installation ships no neuron dictionary: build one with `nlakit neurons` and give its path")
        path = Path(path)
        return cls(path / DICTIONARY if path.is_dir() else path)

    def search(self, text: str = "", limit: int = 20, sort: str = "score", least: float | None = None,
               beats_token_only: bool = False, layer: int | None = None) -> list[dict]:
        """Entries whose name is `text` or whose description or top-context tokens contain it, highest `sort` score first
        (any auroc_/pearson_ column), at least `least` there, optionally only those above their token-only description
        and only one `layer`'s."""
        return self.query(text, limit, sort, least, beats_token_only, layer)

    def entry(self, layer: int, index: int) -> dict:
        found = self.select("layer = ? AND neuron = ?", "layer", [int(layer), int(index)], 1)
        if not found:
            raise NLAError(f"neuron {layer}:{index} is not in {self.path}")
        return found[0]

    def export(self, path: Path | str) -> int:
        """Write one JSON object per neuron (fields named as Neuronpedia's: modelId, layer, index, explanations with their
        scores and scorer, activations as tokens and values); returns how many."""
        import json

        # the summary beside the file names the model the neurons are of, where the dictionary came with it
        model = read_summary(self.path.parent).get("model") if (self.path.parent / SUMMARY).is_file() else None
        rows = self.select("true", "layer, neuron", [], self.rows)
        with Path(path).open("w", encoding="utf-8") as f:
            for r in rows:
                scores = [{"scorer": k, "value": v} for k, v in r.items() if k.startswith(("auroc_", "pearson_")) and v is not None]
                f.write(json.dumps({"modelId": model, "layer": r["layer"], "index": r["neuron"], "name": r["name"],
                                    "explanations": [{"description": r["description"], "scores": scores,
                                                      "typeName": "nlakit-api-summary" if r.get("summary") else "nlakit-terms"}],
                                    "baselineExplanation": r.get("token_only"), "writes": r.get("writes"), "note": r.get("note"),
                                    "activations": [{"context": c["context"], "token": c["token"], "value": c["activation"],
                                                     "explanation": c["explanation"]} for c in r["top_contexts"]]}) + "\n")
        return len(rows)

    def write_pages(self, folder: Path | str) -> list[Path]:
        """The dictionary's pages (dictionary_pages: one, or an overview and one per layer) written into `folder`, from the
        file and the summary.json beside it: a dictionary shipped or passed around without its pages gets them back."""
        from ..core.files import atomic_write_text

        if not (self.path.parent / SUMMARY).is_file():
            raise NLAError(f"{self.path.parent / SUMMARY} not found: the pages need the summary `nlakit neurons` writes beside "
                           f"{self.path.name}")
        pages = dictionary_pages(self.select("true", "layer, neuron", [], self.rows), read_summary(self.path.parent))
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in pages.items():
            atomic_write_text(folder / name, text)
        return [folder / name for name in pages]


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
PAGE_SCRIPT = """const box=document.getElementById('list'),q=document.getElementById('q'),note=document.getElementById('note'),
by=document.getElementById('by'),least=document.getElementById('least'),only=document.getElementById('only');
function el(t,p,...c){const n=document.createElement(t);Object.assign(n,p||{});n.append(...c);return n}
function fig(v){return v===null||v===undefined?'n/a':v.toFixed(3)}
for(const k of SCORES)by.append(el('option',{value:k,textContent:k}));
function context(c){const d=el('div',{className:'ctx'});const i=c.token&&c.context.endsWith(c.token)?c.context.length-c.token.length:c.context.length;
d.append('…'+c.context.slice(0,i),el('span',{className:'hit',textContent:c.context.slice(i)}));return d}
function head(e){const parts=SCORERS.map(s=>s+' '+fig(e['auroc_'+s])+' (token-only '+fig(e['auroc_'+s+'_token_only'])+', shuffled '+
fig(e['auroc_'+s+'_shuffled'])+'; r '+fig(e['pearson_'+s])+')');return 'neuron '+e.name+'  ·  detection AUROC: '+parts.join(' · ')+
' · ceiling '+fig(e.auroc_ceiling)}
function render(){const s=q.value.trim().toLowerCase(),k=by.value,m=parseFloat(least.value);
const hits=ENTRIES.filter(e=>(!s||e.name===s||e.description.toLowerCase().includes(s)||e.top_contexts.some(c=>c.token.toLowerCase().includes(s)))&&
(isNaN(m)||(e[k]!==null&&e[k]>=m))&&(!only.checked||SCORERS.every(x=>e['beats_token_only_'+x])));
hits.sort((a,b)=>(b[k]===null?-Infinity:b[k])-(a[k]===null?-Infinity:a[k]));
note.textContent=hits.length+' of '+ENTRIES.length+' neurons'+(hits.length>200?' (first 200 shown)':'');
box.replaceChildren(...hits.slice(0,200).map(e=>el('div',{className:'entry'},el('h3',{textContent:head(e)}),
el('div',{textContent:e.description}),el('div',{className:'muted',textContent:[e.note,...SCORERS.filter(x=>e['beats_token_only_'+x]===false)
.map(x=>'does not beat its token-only description ('+e.token_only+') by the '+x+' scorer')].filter(Boolean).join('; ')}),
...e.top_contexts.map(c=>el('div',{},el('span',{className:'muted',textContent:'activation '+c.activation.toFixed(2)}),
context(c),el('div',{className:'expl',textContent:c.explanation})))))) }
if(location.hash)q.value=decodeURIComponent(location.hash.slice(1));
for(const x of [q,by,least,only])x.addEventListener('input',render);render();"""


def dictionary_page(rows: list[dict], summary: dict) -> str:
    """The dictionary's page (report.page: inline CSS, JS and data; nothing fetched): search neurons by name, description or
    token, sort and filter by any score, and see on each entry whether it beats its token-only description."""
    scorers = list(summary["scorers"])
    scores = [k for k in (rows[0] if rows else {}) if k.startswith(("auroc_", "pearson_"))]
    keep = ("name", "description", "token_only", "note", *scores, *(f"beats_token_only_{s}" for s in scorers))
    data = [{**{k: r.get(k) for k in keep}, "top_contexts": [{k: c[k] for k in ("token", "context", "activation", "explanation")}
                                                             for c in r["top_contexts"]]}
            for r in best_first(rows)]
    lines = []
    for name, f in summary["scorers"].items():
        auroc, token, shuffled = f["auroc"], f["auroc_token_only"], f["auroc_shuffled"]
        above = share(f["above_token_only"])
        lines.append(f"{name}: detection AUROC median {auroc.get('q50', math.nan):.3f} [q10 {auroc.get('q10', math.nan):.3f}, "
                     f"q90 {auroc.get('q90', math.nan):.3f}], token-only {token.get('q50', math.nan):.3f}, shuffled "
                     f"{shuffled.get('q50', math.nan):.3f}; above token-only on {above}; {f['auroc_at_least_0.8']} at >= 0.8; "
                     f"simulation r median {f['pearson'].get('q50', math.nan):.3f}")
    ceiling = summary["ceiling"]["auroc"]
    lines.append(f"ceiling (a ridge probe of the layer-K vector): AUROC median {ceiling.get('q50', math.nan):.3f}")
    figures = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    body = (f"<h1>What each neuron of {html.escape(summary['model'])} does, as the NLA reads it</h1>"
            f"<p class='muted'>{summary['neurons']} neurons of layer(s) {html.escape(str(summary['layers']))}, read by the NLA at layer "
            f"{summary['layer_k']}; scored on {summary['heldout_tokens_scored']} held-out tokens (each neuron's held-out top tokens "
            f"against {summary['random_heldout_tokens']} random ones):</p><ul class='muted'>{figures}</ul>"
            "<input id='q' type='search' placeholder='search: a word, a token, or a neuron such as 20:17' autofocus>"
            "<p class='muted'>sort by <select id='by'></select> at least <input id='least' type='number' step='0.05' style='width:5em'> "
            "<label><input id='only' type='checkbox'> only entries above their token-only description</label></p>"
            "<p id='note' class='muted'></p><div id='list'></div>")
    return page("nlakit neurons", body, PAGE_STYLE,
                f"const ENTRIES={script_data(data)},SCORES={script_data(scores)},SCORERS={script_data(scorers)};{PAGE_SCRIPT}")


# ---------------------------------------------------------------- several layers: an overview and one page per layer
# One page of every neuron's contexts would be 150 MB for the 46,080 neurons of SmolLM2 (3.3 kB an entry): too much for a
# browser. A dictionary of several layers gets an overview (each layer's figures, a search over every description) and a
# page per layer with the contexts, the same page a one-layer dictionary has.

OVERVIEW_SCRIPT = """const box=document.getElementById('list'),q=document.getElementById('q'),note=document.getElementById('note');
function el(t,p,...c){const n=document.createElement(t);Object.assign(n,p||{});n.append(...c);return n}
function render(){const s=q.value.trim().toLowerCase();
const hits=ENTRIES.filter(e=>!s||e[0]===s||e[1].toLowerCase().includes(s));
note.textContent=hits.length+' of '+ENTRIES.length+' neurons'+(hits.length>200?' (first 200 shown, best score first)':'');
box.replaceChildren(...hits.slice(0,200).map(e=>el('div',{className:'entry'},el('a',{href:LINK.replace('LAYER',e[0].split(':')[0])+'#'+e[0],
textContent:'neuron '+e[0]+'  ·  '+SCORE+' '+(e[2]===null?'n/a':e[2].toFixed(3))+(e[3]===false?' (below its token-only description)':'')}),
el('div',{textContent:e[1]}))))}
q.addEventListener('input',render);render();"""


def layer_page(layer: int | str) -> str:
    """The file name of one layer's page beside a dictionary of several layers (the overview's links fill in `LAYER`)."""
    return f"layer-{layer}.html"


def dictionary_pages(rows: list[dict], summary: dict) -> dict[str, str]:
    """File name -> page: PAGE alone for one layer (or an SAE's latents); for several, PAGE is the overview and each layer has
    its own page (`summary["by_layer"]` holds each layer's figures, in the shape of the whole summary's)."""
    if len(summary["layers"]) < 2 or "by_layer" not in summary:
        return {PAGE: dictionary_page(rows, summary)}
    pages = {}
    for layer in summary["layers"]:
        own = summary["by_layer"][str(layer)]
        pages[layer_page(layer)] = dictionary_page([r for r in rows if r["layer"] == layer], {**summary, **own, "layers": [layer]})
    pages[PAGE] = overview_page(rows, summary)
    return pages


def overview_page(rows: list[dict], summary: dict) -> str:
    """Each layer's figures with a link to its page, and a search over every neuron's name and description (best score
    first), each hit linking to its entry on its layer's page."""
    scorer = next(iter(summary["scorers"]))
    head = ("<tr><th>layer</th><th>neurons</th><th>median AUROC</th><th>token-only</th><th>shuffled</th><th>above token-only</th>"
            "<th>AUROC &ge; 0.8</th><th>ceiling</th></tr>")
    cells = []
    for layer in summary["layers"]:
        own = summary["by_layer"][str(layer)]
        f = own["scorers"][scorer]
        above = share(f["above_token_only"])
        medians = [f["auroc"].get("q50"), f["auroc_token_only"].get("q50"), f["auroc_shuffled"].get("q50")]
        cells.append(f"<tr><td><a href='{layer_page(layer)}'>{layer}</a></td><td>{own['neurons']}</td>"
                     + "".join(f"<td>{figure(v)}</td>" for v in medians)
                     + f"<td>{above}</td><td>{f['auroc_at_least_0.8']}</td><td>{figure(own['ceiling']['auroc'].get('q50'))}</td></tr>")
    ranked = best_first(rows)
    data = [[r["name"], r["description"], None if r["score"] is None else round(r["score"], 3), r.get(f"{BEATS}{scorer}")]
            for r in ranked]
    body = (f"<h1>What each neuron of {html.escape(summary['model'])} does, as the NLA reads it</h1>"
            f"<p class='muted'>{summary['neurons']} neurons of {len(summary['layers'])} layers, read by the NLA at layer "
            f"{summary['layer_k']}; detection AUROC by the {html.escape(scorer)} scorer on held-out tokens, beside the token-only "
            f"description, another neuron's (shuffled) and a ridge probe of the layer-K vector (ceiling). Each layer's page shows "
            f"its neurons' top contexts and every score.</p><table>{head}{''.join(cells)}</table>"
            "<input id='q' type='search' placeholder='search every layer: a word of a description, or a neuron such as 20:17' autofocus>"
            "<p id='note' class='muted'></p><div id='list'></div>")
    constants = f"const ENTRIES={script_data(data)},SCORE={script_data(scorer)},LINK={script_data(layer_page('LAYER'))};"
    return page("nlakit neurons", body, PAGE_STYLE, constants + OVERVIEW_SCRIPT)
