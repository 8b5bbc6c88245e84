"""`nlakit neurons`: a dictionary of what each MLP neuron does, written by the NLA and scored by it.

Explaining a token is the only real cost, so the work is arranged around doing it once:
1. scan: the target reads the corpus once; each neuron keeps a running top-k of its activations
   (torch.topk over the running k plus one batch: memory bounded by k, not by the corpus), and a
   sample of held-out tokens keeps every neuron's activation and its layer-K vector for the score;
2. positions: the union of the tokens any entry needs (every neuron's top-k plus a shared sample
   of ordinary tokens) is read again at layer K, where the AV reads;
3. explain: that union goes through `NLA.roundtrip` once, in chunks saved in the work folder (a
   killed run resumes at the next chunk; under `accelerate launch` the processes share the chunks),
   and rows already explained by `nlakit evaluate --save` are reused, never paid for twice;
4. build: each entry is SQL over three tables (tokens with their explanations, the top-k, the
   background) in DuckDB: top contexts, and the words the explanations repeat (the token read,
   quoted words, topics, predicted next tokens, genre) counted against the ordinary tokens.

The score can fail: the description, written in the explanations' own shape, goes through the AR
into a vector; over held-out tokens (never used to pick the top contexts) it is the Spearman rank
correlation between each token's cosine to that vector and the neuron's actual activation. Beside
it, the same figure with another neuron's description (a derangement: the shuffled control).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from transformers import PreTrainedTokenizerBase

from ..core import dataset
from ..core.config import LoadConfig, NeuronsConfig
from ..core.corpus import Document, is_heldout, load_corpus
from ..core.distributed import data_parallel, is_main_process, wait_for_everyone
from ..core.errors import NLAError
from ..core.files import StageRun, atomic_write_text, write_json
from ..core.hooks import decoder_layers, mlp_down_proj
from ..core.metrics import derangement, normalize, spearman
from ..core.nla import NLA, source_folders
from ..core.progress import progress
from ..core.prompts import STOPWORDS, explanation_fields, format_explanation
from ..core.reading import TokenActivations, forward_target, rows_for, sample_positions, tokenize
from ..stages.extract import corpus_source
from .dictionary import DICTIONARY, dictionary_page

PAGE, SUMMARY = "index.html", "summary.json"  # beside DICTIONARY; its name, reader and page are in dictionary.py
CONTEXT_CHARS = 240  # the end of each top context kept in the dictionary: enough to read, small enough to ship
TERMS_SHOWN = 4  # items per field in a description
FIELDS = ("token", "quoted", "topic", "next", "genre")  # what a description counts, in the order it reads
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


# ---------------------------------------------------------------- which neurons


def parse_layers(spec: str, n_layers: int) -> list[int]:
    """`all` or a comma list of block indices, each checked against the model's depth."""
    if spec.strip() == "all":
        return list(range(n_layers))
    layers = []
    for part in spec.split(","):
        try:
            layer = int(part)
        except ValueError:
            raise NLAError(f"--layers takes `all` or block indices such as 20 or 3,10,20, got {spec!r}") from None
        if not 0 <= layer < n_layers:
            raise NLAError(f"unknown layer {layer}: the model has {n_layers} blocks (0 to {n_layers - 1})")
        layers.append(layer)
    return sorted(set(layers))


def parse_neuron(spec: str, n_layers: int, width: Callable[[int], int]) -> tuple[int, int]:
    """`LAYER:INDEX`, checked against the model (`width(layer)`: that layer's MLP width)."""
    try:
        layer, index = (int(x) for x in spec.split(":"))
    except ValueError:
        raise NLAError(f"a neuron is LAYER:INDEX, such as 20:17; got {spec!r}") from None
    parse_layers(str(layer), n_layers)
    if not 0 <= index < width(layer):
        raise NLAError(f"unknown neuron {spec}: layer {layer}'s MLP has {width(layer)} neurons (0 to {width(layer) - 1})")
    return layer, index


def select_neurons(cfg: NeuronsConfig, model: torch.nn.Module) -> list[tuple[int, int]]:
    """(layer, index) of every neuron described, sorted, so each layer's columns are contiguous."""
    n_layers = len(decoder_layers(model))
    width = lambda layer: mlp_down_proj(model, layer).in_features  # noqa: E731
    if cfg.neurons and (cfg.layers != "all" or cfg.max_neurons is not None):  # either would be ignored without a word
        raise NLAError("--neurons names the neurons itself: leave out --layers and --max-neurons, or drop --neurons")
    if cfg.neurons:
        chosen = {parse_neuron(s.strip(), n_layers, width) for s in cfg.neurons.split(",") if s.strip()}
    else:
        chosen = {(layer, i) for layer in parse_layers(cfg.layers, n_layers) for i in range(min(width(layer), cfg.max_neurons or width(layer)))}
    if not chosen:
        raise NLAError("no neurons selected: give --layers or --neurons")
    return sorted(chosen)


# ---------------------------------------------------------------- 1. scan: one pass over the corpus


@dataclass
class Scan:
    """What one pass over the corpus keeps; tokens are named by key = document index * max_length + position."""

    neurons: np.ndarray  # [N, 2] (layer, index)
    top_values: np.ndarray  # [k, N] activations, largest first (-inf: fewer than k tokens read)
    top_keys: np.ndarray  # [k, N] int64
    background: np.ndarray  # [B] keys of ordinary tokens (not held out)
    keys: np.ndarray  # [M] every key an entry needs: the top-k and the background, sorted
    vectors: np.ndarray  # [M, d] their layer-K residual vectors (what the AV reads)
    score_keys: np.ndarray  # [S] keys of held-out tokens
    score_acts: np.ndarray  # [S, N] each neuron's activation there
    score_vectors: np.ndarray  # [S, d] the layer-K residual there

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        from ..core.files import atomic_write

        arrays = {f.name: np.ascontiguousarray(getattr(self, f.name)) for f in dataclasses.fields(self)}
        atomic_write(path, lambda tmp: save_file(arrays, str(tmp)))

    @classmethod
    def load(cls, path: Path) -> Scan:
        from safetensors.numpy import load_file

        return cls(**load_file(str(path)))


def read_tokens(tokenizer: PreTrainedTokenizerBase, docs: list[Document], cfg: NeuronsConfig) -> list[list[int]]:
    return [tokenize(tokenizer, d.text, cfg.max_length, d.templated) for d in docs]


@torch.no_grad()
def scan_corpus(nla: NLA, docs: list[Document], token_ids: list[list[int]], cfg: NeuronsConfig, neurons: list[tuple[int, int]]) -> Scan:
    """Stream the corpus through the target once: a running top-k per neuron (with the layer-K vectors of the tokens in it),
    the vectors of a sample of ordinary tokens, and every neuron's activation at a sample of held-out tokens.

    The forward pass stops after the last block it needs (the deepest neuron layer or K, whichever is later).
    """
    model, tokenizer, k_layer = nla.target, nla.tokenizer, nla.meta.layer_index
    special = set(tokenizer.all_special_ids)
    layers = sorted({layer for layer, _ in neurons})
    columns = {layer: torch.tensor([i for l_, i in neurons if l_ == layer]) for layer in layers}
    heldout = np.array([is_heldout(d.doc_id, cfg.heldout_fraction, cfg.seed) for d in docs])
    if heldout.all() or not heldout.any():
        raise NLAError(f"the {len(docs)} documents read give {'no' if not heldout.any() else 'only'} held-out ones at "
                       f"--heldout-fraction {cfg.heldout_fraction}: give more documents or change the fraction")
    sample = lambda i, k: sample_positions(docs[i].doc_id, token_ids[i], k, cfg.min_position, cfg.seed, special)  # noqa: E731
    per_doc = math.ceil(cfg.score_tokens / heldout.sum())
    scored = {i: set(sample(i, per_doc)) for i in np.flatnonzero(heldout)}
    ordinary = np.array([i * cfg.max_length + p for i in np.flatnonzero(~heldout) for p in sample(i, 1)], dtype=np.int64)
    background = np.sort(np.random.default_rng(cfg.seed).choice(ordinary, min(cfg.background, len(ordinary)), replace=False))
    wanted_background = set(background.tolist())
    top_values, top_keys = torch.full((0, len(neurons)), -torch.inf), torch.zeros((0, len(neurons)), dtype=torch.long)
    kept: dict[int, np.ndarray] = {}  # key -> layer-K vector, for keys in some top-k or the background
    score_keys, score_acts, score_vectors = [], [], []
    order = sorted(range(len(docs)), key=lambda i: len(token_ids[i]))
    with progress() as bar:
        task = bar.add_task("reading the corpus", total=len(docs), info="")
        for start in range(0, len(order), cfg.batch_size):
            batch = order[start : start + cfg.batch_size]
            reading = forward_target(model, k_layer, [token_ids[i] for i in batch], tokenizer.pad_token_id or 0,
                                     neuron_layers=layers, stop_after=max(layers[-1], k_layer))  # core.reading: the one forward pass
            acts = reading.neurons
            rows, cols, keys, score_rows, score_cols = [], [], [], [], []
            for row, doc in enumerate(batch):
                for pos, token in enumerate(token_ids[doc]):
                    if pos < cfg.min_position or token in special:
                        continue
                    if not heldout[doc]:
                        rows.append(row), cols.append(pos), keys.append(doc * cfg.max_length + pos)
                    elif pos in scored[doc]:
                        score_rows.append(row), score_cols.append(pos), score_keys.append(doc * cfg.max_length + pos)
            if rows:
                values = torch.cat([acts[layer][rows, cols][:, columns[layer].to(acts[layer].device)].float().cpu() for layer in layers], 1)
                batch_keys = torch.tensor(keys)
                batch_top = values.topk(min(cfg.top_k, len(rows)), dim=0)
                merged = torch.cat([top_values, batch_top.values])
                best = merged.topk(min(cfg.top_k, len(merged)), dim=0)
                top_keys = torch.cat([top_keys, batch_keys[batch_top.indices]]).gather(0, best.indices)
                entered = set(top_keys[best.indices >= len(top_values)].tolist()) | (wanted_background & set(keys))
                top_values = best.values
                where = {key: j for j, key in enumerate(keys)}
                picked = [where[key] for key in sorted(entered)]
                vectors = reading.hidden[torch.tensor(rows)[picked], torch.tensor(cols)[picked]].float().cpu().numpy()
                kept.update(zip(sorted(entered), vectors))
                if len(kept) > 2 * top_keys.numel() + len(background):  # forget tokens pushed out of every top-k
                    needed = set(top_keys.flatten().tolist()) | wanted_background
                    kept = {key: v for key, v in kept.items() if key in needed}
            if score_rows:
                score_acts.append(torch.cat([acts[layer][score_rows, score_cols][:, columns[layer].to(acts[layer].device)].float().cpu()
                                             for layer in layers], 1).numpy())
                score_vectors.append(reading.hidden[score_rows, score_cols].float().cpu().numpy())
            bar.advance(task, len(batch))
    if len(top_values) == 0:
        raise NLAError(f"no tokens to read: every text is shorter than --min-position {cfg.min_position} tokens")
    if not score_keys:
        raise NLAError("the held-out documents have no tokens past --min-position: nothing to score on")
    top = top_keys.numpy().astype(np.int64)
    needed = np.union1d(top[np.isfinite(top_values.numpy())], background)
    by_score = np.argsort(score_keys, kind="stable")[: cfg.score_tokens]
    return Scan(np.array(neurons, dtype=np.int64).reshape(-1, 2), top_values.numpy(), top, background.astype(np.int64),
                needed, np.stack([kept[key] for key in needed.tolist()]), np.asarray(score_keys, np.int64)[by_score],
                np.concatenate(score_acts)[by_score], np.concatenate(score_vectors)[by_score])


# ---------------------------------------------------------------- 2.-3. the needed tokens, explained once


def token_rows(tokenizer: PreTrainedTokenizerBase, docs: list[Document], token_ids: list[list[int]], scan: Scan,
               cfg: NeuronsConfig) -> list[dict]:
    """Context, token and layer-K vector of every key the entries need (extract.rows_for's rows, plus the key)."""
    rows = []
    for doc in np.unique(scan.keys // cfg.max_length).tolist():
        at = np.flatnonzero(scan.keys // cfg.max_length == doc)
        positions = (scan.keys[at] % cfg.max_length).tolist()
        acts = TokenActivations(token_ids[doc], positions, scan.vectors[at], [[] for _ in positions], [[] for _ in positions])
        rows += [{**r, "key": doc * cfg.max_length + r["position"]} for r in rows_for(tokenizer, docs[doc], acts)]
    return rows


def reused_explanations(path: Path | None) -> dict[tuple[str, int], tuple[str, float]]:
    """(doc_id, position) -> (explanation, mse_nrm) from an explained parquet (`nlakit evaluate --save`)."""
    if path is None:
        return {}
    if not Path(path).is_file():
        raise NLAError(f"explained file not found: {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise NLAError(f"cannot read {path} as parquet: {err}") from None
    missing = [c for c in ("doc_id", "position", "explanation") if c not in table.column_names]
    if missing:
        raise NLAError(f"{path} lacks the columns {missing}: write it with `nlakit evaluate --save FILE`")
    mse = table.column("mse_nrm").to_pylist() if "mse_nrm" in table.column_names else [math.nan] * table.num_rows
    if "parsed" in table.column_names:  # RoundTrip.rows' key
        parsed = table.column("parsed").to_pylist()
    elif "parse_failed" in table.column_names:  # a file saved before evaluate's rows were RoundTrip.rows
        parsed = [not failed for failed in table.column("parse_failed").to_pylist()]
    else:
        parsed = [True] * table.num_rows
    return {(d, int(p)): (e, float(m) if m is not None else math.nan)
            for d, p, e, m, ok in zip(table.column("doc_id").to_pylist(), table.column("position").to_pylist(),
                                      table.column("explanation").to_pylist(), mse, parsed) if isinstance(e, str) and ok}


def chunk_path(work: Path, index: int) -> Path:
    return work / "explained" / f"part-{index:05d}.parquet"


def explain_tokens(nla: NLA, rows: list[dict], reused: dict[tuple[str, int], tuple[str, float]], cfg: NeuronsConfig,
                   work: Path) -> pa.Table:
    """key, explanation, mse_nrm, parsed for every row: reused ones as given, the rest explained in resumable chunks.

    Chunk i is explained by process i mod world size; each writes its chunks atomically into the work folder.
    """
    todo = [r for r in rows if (r["doc_id"], r["position"]) not in reused]
    chunks = [todo[i : i + cfg.chunk_rows] for i in range(0, len(todo), cfg.chunk_rows)]
    rank, world = data_parallel()
    done = sum(len(c) for i, c in enumerate(chunks) if chunk_path(work, i).exists())
    with progress() as bar:
        task = bar.add_task("explaining tokens", total=len(todo), completed=done, info=f"({len(rows) - len(todo)} reused)")
        for i, chunk in enumerate(chunks):
            if chunk_path(work, i).exists() or i % world != rank:
                continue
            result = nla.roundtrip(np.stack([r["activation_vector"] for r in chunk]), cfg.max_new_tokens,
                                   on_batch=lambda n: bar.advance(task, n))
            table = pa.table({"key": [r["key"] for r in chunk], "explanation": result.explanations,
                              "mse_nrm": result.mse_nrm, "parsed": result.parsed})
            dataset.write_table(chunk_path(work, i), table)
    wait_for_everyone()
    given = [r for r in rows if (r["doc_id"], r["position"]) in reused]
    tables = [pa.table({"key": pa.array([r["key"] for r in given], pa.int64()),
                        "explanation": pa.array([reused[(r["doc_id"], r["position"])][0] for r in given], pa.string()),
                        "mse_nrm": pa.array([reused[(r["doc_id"], r["position"])][1] for r in given], pa.float64()),
                        "parsed": pa.array([True] * len(given), pa.bool_())})]
    tables += [pq.read_table(chunk_path(work, i)).cast(tables[0].schema) for i in range(len(chunks))]
    return pa.concat_tables(tables)


# ---------------------------------------------------------------- 4. entries, by SQL


def tokens_table(rows: list[dict], explained: pa.Table, background: np.ndarray) -> pa.Table:
    """One row per needed token: where it is, what it reads, its explanation and the explanation's parts."""
    by_key = dict(zip(explained.column("key").to_pylist(), explained.to_pylist()))
    fields = [explanation_fields(by_key[r["key"]]["explanation"]) for r in rows]
    content = lambda words: [w for w in words if w not in STOPWORDS]  # noqa: E731
    ordinary = set(background.tolist())
    return pa.table({
        "key": pa.array([r["key"] for r in rows], pa.int64()),
        "doc_id": [r["doc_id"] for r in rows],
        "position": [r["position"] for r in rows],
        "token": [r["token"] for r in rows],
        "context": [r["context"][-CONTEXT_CHARS:] for r in rows],
        "explanation": [by_key[r["key"]]["explanation"] for r in rows],
        "mse_nrm": pa.array([by_key[r["key"]]["mse_nrm"] for r in rows], pa.float64()),
        "parsed": [bool(by_key[r["key"]]["parsed"]) for r in rows],
        "background": [r["key"] in ordinary for r in rows],
        "f_token": [f["last_word"] for f in fields],
        "f_quoted": [content(f["quoted"]) for f in fields],
        "f_topic": [content(f["topics"]) for f in fields],
        "f_next": [f["next"] for f in fields],
        "f_genre": [f["genre"] for f in fields],
    })


def top_table(scan: Scan) -> pa.Table:
    """One row per (neuron, rank) of the top-k (ranks beyond the tokens read are left out)."""
    finite = np.isfinite(scan.top_values)
    rank, column = np.nonzero(finite)
    return pa.table({"layer": scan.neurons[column, 0], "neuron": scan.neurons[column, 1], "rank": rank.astype(np.int64),
                     "key": scan.top_keys[rank, column], "activation": scan.top_values[rank, column].astype(np.float64)})


ITEMS_SQL = " UNION ALL ".join(
    f"SELECT {{who}}, '{name}' AS field, {expr} AS item FROM {{source}}" for name, expr in
    (("token", "f_token"), ("quoted", "unnest(f_quoted)"), ("topic", "unnest(f_topic)"), ("next", "unnest(f_next)"), ("genre", "f_genre")))

TERMS_SQL = f"""
WITH items AS ({ITEMS_SQL.format(who="t.layer, t.neuron", source="top t JOIN tokens p USING (key) WHERE p.parsed")}),
ordinary AS ({ITEMS_SQL.format(who="key", source="tokens WHERE background AND parsed")}),
rates AS (SELECT field, item, count(*) / (SELECT greatest(count(*), 1) FROM tokens WHERE background AND parsed) AS rate
          FROM ordinary WHERE item <> '' GROUP BY ALL),
sizes AS (SELECT layer, neuron, count(*) AS k FROM top GROUP BY ALL),
counts AS (SELECT layer, neuron, field, item, count(*) AS n FROM items WHERE item <> '' GROUP BY ALL),
lifted AS (SELECT c.layer, c.neuron, c.field, c.item, c.n, s.k * coalesce(r.rate, 0) AS expected
           FROM counts c JOIN sizes s USING (layer, neuron) LEFT JOIN rates r USING (field, item)),
ranked AS (SELECT *, row_number() OVER (PARTITION BY layer, neuron, field ORDER BY n - expected DESC, n DESC, item) AS place
           FROM lifted WHERE n >= ? AND n > expected)
SELECT layer, neuron, list(struct_pack(field := field, item := item, n := n, expected := expected) ORDER BY field, place) AS terms
FROM ranked WHERE place <= {TERMS_SHOWN} GROUP BY ALL
"""

CONTEXTS_SQL = """
SELECT t.layer, t.neuron, count(*) AS k, max(t.activation) AS top_activation,
       list(struct_pack(rank := t.rank, activation := t.activation, token := p.token, context := p.context,
                        explanation := p.explanation, mse_nrm := p.mse_nrm, doc_id := p.doc_id, position := p.position)
            ORDER BY t.rank) AS top_contexts
FROM top t JOIN tokens p USING (key) GROUP BY ALL
"""


def entries(tokens: pa.Table, top: pa.Table) -> list[dict]:
    """Each neuron's top contexts and its recurring terms (counted against the ordinary tokens), by DuckDB."""
    import duckdb

    con = duckdb.connect()
    con.register("tokens", tokens)
    con.register("top", top)
    k = max(top.column("rank").to_pylist(), default=0) + 1
    contexts = con.sql(CONTEXTS_SQL).to_arrow_table().to_pylist()
    terms = {(r["layer"], r["neuron"]): r["terms"] for r in con.sql(TERMS_SQL, params=[min(2, k)]).to_arrow_table().to_pylist()}
    con.close()
    out = [{**c, "terms": terms.get((c["layer"], c["neuron"]), [])} for c in contexts]
    return sorted(out, key=lambda e: (e["layer"], e["neuron"]))


def describe(entry: dict) -> tuple[str, str]:
    """(what a person reads, what the AR reads): the recurring terms with their counts out of k, and the same terms
    written in the explanations' own shape (prompts.format_explanation), which is what the AR was trained to read."""
    by_field: dict[str, list[dict]] = {f: [t for t in entry["terms"] if t["field"] == f] for f in FIELDS}
    k = entry["k"]
    shown = lambda t: repr(t["item"]) if t["field"] in ("next", "token") else t["item"]  # noqa: E731
    parts = [f"{field}: " + ", ".join(f"{shown(t)} {t['n']}/{k}" for t in items) for field, items in by_field.items() if items]
    human = "; ".join(parts) or "no term recurs among its top contexts"
    token = [t["item"] for t in by_field["token"][:1]]
    quoted = [t["item"] for t in by_field["quoted"] if t["item"] not in token][:3]
    text = format_explanation(by_field["genre"][0]["item"] if by_field["genre"] else "text", [t["item"] for t in by_field["topic"][:2]],
                              " ".join(quoted + token), [t["item"] for t in by_field["next"][:2]])
    return human, text


def score_descriptions(nla: NLA, texts: list[str], scan: Scan, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Spearman rho over held-out tokens between cos(token's layer-K vector, AR(description)) and the neuron's
    activation, for each neuron with its own description and with another's (a derangement: the shuffled control)."""
    described = nla.ar.reconstruct(texts)
    cos = normalize(scan.score_vectors.astype(np.float64), 1.0) @ normalize(described.astype(np.float64), 1.0).T  # [S, N]
    shuffled = derangement(len(texts), np.random.default_rng(seed))
    return spearman(cos, scan.score_acts), spearman(cos[:, shuffled], scan.score_acts)


def distribution(values: np.ndarray) -> dict[str, float]:
    """Mean and quantiles over neurons (NaN ones, constant on the held-out tokens, left out and counted)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"n": 0, "undefined": int(len(values))}
    return {"n": int(len(finite)), "undefined": int(len(values) - len(finite)), "mean": float(finite.mean()),
            **{f"q{int(q * 100):02d}": float(np.quantile(finite, q)) for q in QUANTILES}}


# ---------------------------------------------------------------- the stage


def run_neurons(nla_dir: Path | str | LoadConfig, cfg: NeuronsConfig, out: Path, explained: Path | None = None, overwrite: bool = False) -> dict | None:
    """Build (or find already built) the dictionary in `out`; returns its summary (None in a non-main process)."""
    inputs = {"corpus": corpus_source(cfg.corpus), **source_folders(nla_dir)} | ({"explained": explained} if explained else {})
    run = StageRun("neurons", out, cfg, inputs, overwrite)
    if run.done():
        return read_summary(run.out)
    started = time.monotonic()
    docs = load_corpus(cfg.corpus, cfg.max_docs)
    reused = reused_explanations(explained)
    nla = NLA.load(nla_dir)
    neurons = select_neurons(cfg, nla.target)
    token_ids = read_tokens(nla.tokenizer, docs, cfg)
    work = run.begin()
    scan_file = work / "scan.safetensors"
    if scan_file.exists():
        scan = Scan.load(scan_file)
    else:
        scan = scan_corpus(nla, docs, token_ids, cfg, neurons)
        if is_main_process():
            scan.save(scan_file)
    rows = token_rows(nla.tokenizer, docs, token_ids, scan, cfg)
    explanations = explain_tokens(nla, rows, reused, cfg, work)
    if not is_main_process():
        return None
    found = entries(tokens_table(rows, explanations, scan.background), top_table(scan))
    descriptions = [describe(e) for e in found]
    index = {(int(layer), int(i)): c for c, (layer, i) in enumerate(scan.neurons)}
    scan_columns = [index[(e["layer"], e["neuron"])] for e in found]
    scan = dataclasses.replace(scan, score_acts=scan.score_acts[:, scan_columns])
    score, shuffled = score_descriptions(nla, [text for _, text in descriptions], scan, cfg.seed)
    defined = np.isfinite(score) & np.isfinite(shuffled)  # a neuron constant on the held-out tokens has no ranking
    table = pa.Table.from_pylist([
        {"name": f"{e['layer']}:{e['neuron']}", "layer": e["layer"], "neuron": e["neuron"], "description": human,
         "description_text": text, "score": float(s), "score_shuffled": float(c), "top_activation": e["top_activation"],
         "terms": e["terms"], "top_contexts": e["top_contexts"]}
        for e, (human, text), s, c in zip(found, descriptions, score, shuffled)])
    summary = {"neurons": len(found), "layers": sorted({e["layer"] for e in found}), "documents": len(docs),
               "tokens_explained": len(rows), "tokens_reused": int(sum((r["doc_id"], r["position"]) in reused for r in rows)),
               "heldout_tokens_scored": int(len(scan.score_keys)), "score": distribution(score), "score_shuffled": distribution(shuffled),
               "beats_control": float(np.mean((score > shuffled)[defined])), "model": nla.meta.base_model, "layer_k": nla.meta.layer_index,
               "seconds": round(time.monotonic() - started, 1), "settings": dataclasses.asdict(cfg)}

    def write(tmp: Path) -> None:
        pq.write_table(table, tmp / DICTIONARY, compression="zstd")
        atomic_write_text(tmp / PAGE, dictionary_page(table.to_pylist(), summary))
        write_json(tmp / SUMMARY, summary)

    run.publish(write, clear_work=True)  # the scan and chunks go: the dictionary records how it was made
    return summary


def read_summary(out: Path) -> dict:
    from ..core.files import read_json

    return read_json(Path(out) / SUMMARY, "dictionary summary")
