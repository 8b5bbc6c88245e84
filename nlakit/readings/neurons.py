"""`nlakit neurons`: a dictionary of what each MLP neuron does, written by the NLA and scored by it.

Explaining a token is the only real cost, so the work is arranged around doing it once:
1. scan: the target reads the corpus once; each neuron keeps a running top-k of its activations over
   training tokens and another over held-out tokens (torch.topk over the running k plus one batch:
   memory bounded by k, not by the corpus); a sample of ordinary tokens and one of held-out tokens
   keep every neuron's activation and their layer-K vectors;
2. positions: the union of the tokens any entry needs (every neuron's top-k plus a shared sample
   of ordinary tokens) is read again at layer K, where the AV reads;
3. explain: that union goes through `NLA.roundtrip` once, in chunks saved in the work folder (a
   killed run resumes at the next chunk; under `accelerate launch` the processes share the chunks),
   and rows already explained by `nlakit evaluate --save` are reused, never paid for twice;
4. build: each entry is SQL over three tables (tokens with their explanations, the evidence: top-k
   and quantile-sampled ordinary tokens, the background) in DuckDB: top contexts, and the words the
   explanations repeat (the token read, quoted words, topics, predicted next tokens, genre) at least
   LIFT times more than the ordinary tokens' do, plus what the neuron writes (its output weight
   through the unembedding);
5. score (scoring.py): on held-out tokens only, detection AUROC and simulation correlation by each
   `--scorers` scorer, beside a token-only description, a shuffled one and a ridge-probe ceiling.

With `--sae FOLDER` the units are a sparse autoencoder's latents (sae.py) instead: the scan reads the
residual stream at the SAE's hook block and encodes it, and each latent "writes" its decoder row;
everything else is the same. Latents are named sae:INDEX, their `layer` being the hook block.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from transformers import PreTrainedTokenizerBase

from ..core import dataset
from ..core.config import LoadConfig, NeuronsConfig
from ..core.corpus import Document, is_heldout, load_corpus
from ..core.distributed import data_parallel, is_main_process, take_over_cores, wait_for_everyone
from ..core.errors import NLAError
from ..core.files import StageRun, atomic_write_text, write_json
from ..core.hooks import capture_block_output, decoder_layers, final_norm_path, mlp_down_proj
from ..core.models import hidden_size
from ..core.nla import NLA, decoding, source_folders
from ..core.progress import progress
from ..core.prompts import STOPWORDS, explanation_fields, format_explanation
from ..core.reading import TokenActivations, forward_target, rows_for, sample_positions, tokenize
from ..stages.extract import corpus_source
from .dictionary import DICTIONARY, SUMMARY, dictionary_pages, read_summary
from .sae import SAE, load_sae
from .scoring import (
    SCORERS,
    AnswerCache,
    APIScorer,
    ARScorer,
    Description,
    ExplanationScorer,
    HeldOut,
    LexicalScorer,
    marked,
    ridge_ceiling,
    scored,
    targets,
    token_only,
)

if TYPE_CHECKING:
    from ..stages.teach import APITeacher

CONTEXT_CHARS = 240  # the end of each top context kept in the dictionary: enough to read, small enough to ship
TERMS_SHOWN = 4  # items per field in a description
FIELDS = ("token", "quoted", "topic", "next", "genre")  # what a description counts, in the order it reads
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
EVIDENCE_QUANTILES = (0.9, 0.95, 0.98, 0.99)  # where on the background a neuron's quantile-sampled evidence is taken
LIFT = 2.0  # a term counts when it recurs at least this many times more often than among ordinary tokens
WRITES_SHOWN = 5  # tokens its output weight promotes, in the human description
NULL_TYPES = {"beats": pa.bool_(), "note": pa.string(), "summary": pa.string()}  # columns that may be all null, by their first word (else float64)


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


def parse_latent(spec: str, width: int) -> int:
    """`sae:INDEX`, checked against the SAE's width."""
    try:
        kind, index = spec.split(":")
        index = int(index)
    except ValueError:
        kind = ""
    if kind != "sae":
        raise NLAError(f"with --sae, --neurons names latents as sae:INDEX, such as sae:17; got {spec!r}")
    if not 0 <= index < width:
        raise NLAError(f"unknown latent {spec}: the SAE has {width} latents (0 to {width - 1})")
    return index


def select_neurons(cfg: NeuronsConfig, model: torch.nn.Module, sae: SAE | None = None) -> list[tuple[int, int]]:
    """(layer, index) of every neuron (or SAE latent: (its hook block, index)) described, sorted, so each layer's columns
    are contiguous."""
    n_layers = len(decoder_layers(model))
    width = lambda layer: mlp_down_proj(model, layer).in_features  # noqa: E731
    if cfg.neurons and (cfg.layers != "all" or cfg.max_neurons is not None):  # either would be ignored without a word
        raise NLAError("--neurons names the neurons itself: leave out --layers and --max-neurons, or drop --neurons")
    if sae is not None:
        if cfg.layers != "all":
            raise NLAError(f"--sae reads the block its config names (block {sae.layer}): leave out --layers")
        chosen = {parse_latent(s.strip(), sae.width) for s in cfg.neurons.split(",") if s.strip()} if cfg.neurons else \
            set(range(min(sae.width, cfg.max_neurons or sae.width)))
        return sorted((sae.layer, i) for i in chosen)
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
    background_acts: np.ndarray  # [B, N] every neuron's activation there (rates, quantile evidence, the ridge ceiling)
    keys: np.ndarray  # [M] every key an entry needs: the top-k and the background, sorted
    vectors: np.ndarray  # [M, d] their layer-K residual vectors (what the AV reads)
    detect_values: np.ndarray  # [D, N] each neuron's top activations over held-out tokens (the positives scored)
    detect_keys: np.ndarray  # [D, N] int64
    score_keys: np.ndarray  # [S] keys of a random sample of held-out tokens (the negatives and the simulation set)
    score_acts: np.ndarray  # [S, N] each neuron's activation there
    heldout_keys: np.ndarray  # [H] every held-out key scored (detect and random), sorted
    heldout_vectors: np.ndarray  # [H, d] the layer-K residual there

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


class RunningTop:
    """A running top-k per column (torch.topk over the running k plus one batch: memory bounded by k, not by the corpus)."""

    def __init__(self, k: int, width: int):
        self.k, self.values, self.keys = k, torch.full((0, width), -torch.inf), torch.zeros((0, width), dtype=torch.long)

    def add(self, values: torch.Tensor, keys: list[int]) -> set[int]:
        """Merge one batch ([rows, width] at `keys`); returns the keys that entered some column's top-k."""
        batch_top = values.topk(min(self.k, len(keys)), dim=0)
        merged = torch.cat([self.values, batch_top.values])
        best = merged.topk(min(self.k, len(merged)), dim=0)
        self.keys = torch.cat([self.keys, torch.tensor(keys)[batch_top.indices]]).gather(0, best.indices)
        entered = set(self.keys[best.indices >= len(self.values)].tolist())
        self.values = best.values
        return entered


@torch.no_grad()
def scan_corpus(nla: NLA, docs: list[Document], token_ids: list[list[int]], cfg: NeuronsConfig, neurons: list[tuple[int, int]],
                sae: SAE | None = None) -> Scan:
    """Stream the corpus through the target once: a running top-k per neuron over training tokens (with the layer-K vectors
    of the tokens in it) and over held-out tokens, every neuron's activation and vector at a sample of ordinary tokens and
    at a sample of held-out tokens.

    The forward pass stops after the last block it needs (the deepest neuron layer or K, whichever is later). With `sae`
    the units are its latents, encoded from the residual stream at its hook block.
    """
    model, tokenizer, k_layer = nla.target, nla.tokenizer, nla.meta.layer_index
    special = set(tokenizer.all_special_ids)
    layers = sorted({layer for layer, _ in neurons})
    columns = {layer: torch.tensor([i for l_, i in neurons if l_ == layer]) for layer in layers}
    if sae is not None:  # the encoder is cut to the chosen latents: they are the columns, in order
        latents, columns = columns[sae.layer], {sae.layer: torch.arange(len(neurons))}
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
    top, detect = RunningTop(cfg.top_k, len(neurons)), RunningTop(cfg.detect_top, len(neurons))
    kept: dict[int, np.ndarray] = {}  # key -> layer-K vector, for keys in some top-k or the background
    kept_heldout: dict[int, np.ndarray] = {}  # the same for held-out keys in some detection top or the random sample
    background_acts: dict[int, np.ndarray] = {}
    score_keys, score_acts = [], []
    order = sorted(range(len(docs)), key=lambda i: len(token_ids[i]))
    with progress() as bar:
        task = bar.add_task("reading the corpus", total=len(docs), info="")
        for start in range(0, len(order), cfg.batch_size):
            batch = order[start : start + cfg.batch_size]
            with capture_block_output(model, sae.layer) if sae else contextlib.nullcontext({}) as residual:
                reading = forward_target(model, k_layer, [token_ids[i] for i in batch], tokenizer.pad_token_id or 0,
                                         neuron_layers=() if sae else layers, stop_after=max(layers[-1], k_layer))  # the one pass
            acts = {sae.layer: sae.encode(residual["hidden"], latents)} if sae else reading.neurons
            train, held = ([], [], []), ([], [], [])  # rows, cols, keys
            for row, doc in enumerate(batch):
                for pos, token in enumerate(token_ids[doc]):
                    if pos >= cfg.min_position and token not in special:
                        for part, value in zip(held if heldout[doc] else train, (row, pos, doc * cfg.max_length + pos)):
                            part.append(value)
            for (rows, cols, keys), running, store, wanted in ((train, top, kept, wanted_background),
                                                               (held, detect, kept_heldout, None)):
                if not rows:
                    continue
                values = torch.cat([acts[layer][rows, cols][:, columns[layer].to(acts[layer].device)].float().cpu()
                                    for layer in layers], 1)
                doc_of = [key // cfg.max_length for key in keys]
                sampled = (wanted_background & set(keys)) if wanted is not None else \
                    {key for key, d in zip(keys, doc_of) if key % cfg.max_length in scored[d]}
                entered = running.add(values, keys) | sampled
                where = {key: j for j, key in enumerate(keys)}
                picked = [where[key] for key in sorted(entered)]
                vectors = reading.hidden[torch.tensor(rows)[picked], torch.tensor(cols)[picked]].float().cpu().numpy()
                # each kept row is copied: a view would keep its whole batch alive (a batch's `values` is tokens x every
                # neuron of every layer read: 0.37 GB per batch of 16 documents with all 30 layers of SmolLM2)
                store.update((key, v.copy()) for key, v in zip(sorted(entered), vectors))
                for key in sorted(sampled):
                    if wanted is not None:
                        background_acts[key] = values[where[key]].numpy().copy()
                    else:
                        score_keys.append(key), score_acts.append(values[where[key]].numpy().copy())
                fixed = wanted_background if wanted is not None else set(score_keys)
                if len(store) > 2 * running.keys.numel() + len(fixed):  # forget tokens pushed out of every top-k
                    needed = set(running.keys.flatten().tolist()) | fixed
                    store = {key: v for key, v in store.items() if key in needed}
                    kept, kept_heldout = (store, kept_heldout) if wanted is not None else (kept, store)
            bar.advance(task, len(batch))
    if len(top.values) == 0:
        raise NLAError(f"no tokens to read: every text is shorter than --min-position {cfg.min_position} tokens")
    if not score_keys:
        raise NLAError("the held-out documents have no tokens past --min-position: nothing to score on")
    top_keys = top.keys.numpy().astype(np.int64)
    needed = np.union1d(top_keys[np.isfinite(top.values.numpy())], background)
    by_score = np.argsort(score_keys, kind="stable")[: cfg.score_tokens]
    score_keys = np.asarray(score_keys, np.int64)[by_score]
    detect_keys = detect.keys.numpy().astype(np.int64)
    heldout_keys = np.union1d(detect_keys[np.isfinite(detect.values.numpy())], score_keys)
    return Scan(np.array(neurons, dtype=np.int64).reshape(-1, 2), top.values.numpy(), top_keys, background.astype(np.int64),
                np.array([background_acts[key] for key in background.tolist()], np.float32).reshape(len(background), len(neurons)),
                needed, np.stack([kept[key] for key in needed.tolist()]), detect.values.numpy(), detect_keys,
                score_keys, np.stack(score_acts)[by_score], heldout_keys, np.stack([kept_heldout[key] for key in heldout_keys.tolist()]))


# ---------------------------------------------------------------- 2.-3. the needed tokens, explained once


def token_rows(tokenizer: PreTrainedTokenizerBase, docs: list[Document], token_ids: list[list[int]], scan: Scan,
               cfg: NeuronsConfig, heldout: bool = False) -> list[dict]:
    """Context, token, the token after it and the layer-K vector of every key the entries need (extract.rows_for's rows,
    plus the key), or with `heldout` of every held-out key scored."""
    all_keys, all_vectors = (scan.heldout_keys, scan.heldout_vectors) if heldout else (scan.keys, scan.vectors)
    rows = []
    for doc in np.unique(all_keys // cfg.max_length).tolist():
        at = np.flatnonzero(all_keys // cfg.max_length == doc)
        positions = (all_keys[at] % cfg.max_length).tolist()
        ids = token_ids[doc]
        acts = TokenActivations(ids, positions, all_vectors[at], [[] for _ in positions], [[] for _ in positions])
        rows += [{**r, "key": doc * cfg.max_length + r["position"],
                  "next_token": tokenizer.decode([ids[r["position"] + 1]]) if r["position"] + 1 < len(ids) else ""}
                 for r in rows_for(tokenizer, docs[doc], acts)]
    return rows


def reused_explanations(path: Path | None) -> dict[tuple[str, int], tuple[str, float]]:
    """(doc_id, position) -> (explanation, mse_nrm) from an explained parquet (`nlakit evaluate --save`), or from the top
    contexts of a dictionary built before over the same corpus (its neurons.parquet), so a rebuild pays only for new tokens."""
    if path is None:
        return {}
    if not Path(path).is_file():
        raise NLAError(f"explained file not found: {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise NLAError(f"cannot read {path} as parquet: {err}") from None
    if "top_contexts" in table.column_names:  # a dictionary this command wrote: its top contexts' explanations
        table = pa.Table.from_pylist([c for contexts in table.column("top_contexts").to_pylist() for c in contexts])
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
    """One row per piece of evidence a description counts: each neuron's top-k (kind `top`; ranks beyond the tokens read
    left out), then ordinary tokens at upper quantiles of its activation over the background (kind `quantile`; only those
    above its median there, so a unit silent on most tokens gets none): how it fires below its very top."""
    finite = np.isfinite(scan.top_values)
    rank, column = np.nonzero(finite)
    kinds, layers, indices, ranks = ["top"] * len(rank), list(scan.neurons[column, 0]), list(scan.neurons[column, 1]), list(rank)
    keys, values = list(scan.top_keys[rank, column]), list(scan.top_values[rank, column])
    if len(scan.background):
        order = np.argsort(scan.background_acts, axis=0, kind="stable")
        median = np.median(scan.background_acts, axis=0)
        for j in range(len(scan.neurons)):
            seen = set(scan.top_keys[finite[:, j], j].tolist())
            for q in EVIDENCE_QUANTILES:
                i = order[min(int(q * len(order)), len(order) - 1), j]
                key, value = int(scan.background[i]), float(scan.background_acts[i, j])
                if value > median[j] and key not in seen:
                    seen.add(key)
                    kinds.append("quantile"), layers.append(scan.neurons[j, 0]), indices.append(scan.neurons[j, 1])
                    ranks.append(len(seen) - 1), keys.append(key), values.append(value)
    return pa.table({"layer": pa.array(layers, pa.int64()), "neuron": pa.array(indices, pa.int64()), "kind": kinds,
                     "rank": pa.array(ranks, pa.int64()), "key": pa.array(keys, pa.int64()),
                     "activation": pa.array(values, pa.float64())})


ITEMS_SQL = " UNION ALL ".join(
    f"SELECT {{who}}, '{name}' AS field, {expr} AS item FROM {{source}}" for name, expr in
    (("token", "f_token"), ("quoted", "unnest(f_quoted)"), ("topic", "unnest(f_topic)"), ("next", "unnest(f_next)"), ("genre", "f_genre")))

LIFTED_SQL = """
WITH items AS ({items}), reference AS ({reference}), sizes AS ({sizes}),
rates AS (SELECT field, item, count(*) / greatest(({reference_size}), 1) AS rate FROM reference WHERE item <> '' GROUP BY ALL),
counts AS (SELECT {group}, field, item, count(*) AS n FROM items WHERE item <> '' GROUP BY ALL),
lifted AS (SELECT c.*, s.k * coalesce(r.rate, 0) AS expected FROM counts c JOIN sizes s USING ({group}) LEFT JOIN rates r USING (field, item)),
ranked AS (SELECT *, row_number() OVER (PARTITION BY {group}, field ORDER BY n - expected DESC, n DESC, item) AS place
           FROM lifted WHERE n >= ? AND n > ? * expected)
SELECT {group}, list(struct_pack(field := field, item := item, n := n, expected := expected) ORDER BY field, place) AS terms
FROM ranked WHERE place <= ? GROUP BY ALL
"""


def lifted_terms(con: object, *, items: str, reference: str, reference_size: str, sizes: str, group: str, min_n: int,
                 shown: int, lift: float = 1.0) -> dict[tuple, list[dict]]:
    """The terms each group's explanations repeat more than the reference explanations do: the one count the dictionary
    (a neuron's top contexts against ordinary tokens) and the audit (a transcript's tokens against a reference set) share.

    SQL pieces, run on the DuckDB connection `con`: `items` gives (group columns, field, item) rows, one per term of an
    explanation in a group; `reference` gives (field, item) rows of the reference explanations, `reference_size` how many
    explanations those are; `sizes` gives (group columns, k): how many explanations each group has. A term is kept when it
    appears in at least `min_n` of the group's explanations and more than `lift` times the k * reference rate expected of it;
    the first `shown` per field, by excess over that expectation. Returns {group values: [{field, item, n, expected}]}.
    """
    sql = LIFTED_SQL.format(items=items, reference=reference, reference_size=reference_size, sizes=sizes, group=group)
    keys = [g.strip() for g in group.split(",")]
    rows = con.sql(sql, params=[min_n, lift, shown]).to_arrow_table().to_pylist()  # type: ignore[attr-defined]
    return {tuple(r[k] for k in keys): r["terms"] for r in rows}


CONTEXTS_SQL = """
SELECT t.layer, t.neuron, count(*) AS k, max(t.activation) AS top_activation,
       list(struct_pack(rank := t.rank, activation := t.activation, token := p.token, context := p.context,
                        explanation := p.explanation, mse_nrm := p.mse_nrm, doc_id := p.doc_id, position := p.position)
            ORDER BY t.rank) AS top_contexts
FROM top t JOIN tokens p USING (key) WHERE t.kind = 'top' GROUP BY ALL
"""


def entries(tokens: pa.Table, top: pa.Table) -> list[dict]:
    """Each neuron's top contexts and its recurring terms over all its evidence (top-k and quantile-sampled), counted against
    the ordinary tokens: a term must recur LIFT times more often than there, so corpus-wide topics drop out."""
    import duckdb

    con = duckdb.connect()
    con.register("tokens", tokens)
    con.register("top", top)
    k = int(con.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM top WHERE kind = 'top' GROUP BY layer, neuron)").fetchall()[0][0] or 1)
    contexts = con.sql(CONTEXTS_SQL).to_arrow_table().to_pylist()
    terms = lifted_terms(con, items=ITEMS_SQL.format(who="t.layer, t.neuron", source="top t JOIN tokens p USING (key) WHERE p.parsed"),
                         reference=ITEMS_SQL.format(who="key", source="tokens WHERE background AND parsed"),
                         reference_size="SELECT count(*) FROM tokens WHERE background AND parsed",
                         sizes="SELECT layer, neuron, count(*) AS k FROM top GROUP BY ALL", group="layer, neuron", min_n=min(2, k),
                         shown=TERMS_SHOWN, lift=LIFT)
    evidence = {(layer, i): n for layer, i, n in con.execute("SELECT layer, neuron, count(*) FROM top GROUP BY ALL").fetchall()}
    con.close()
    out = [{**c, "evidence": evidence[(c["layer"], c["neuron"])], "terms": terms.get((c["layer"], c["neuron"]), [])} for c in contexts]
    return sorted(out, key=lambda e: (e["layer"], e["neuron"]))


def promoted_tokens(nla: NLA, layer: int, indices: list[int], n: int = 5, block: int = 256) -> list[list[str]]:
    """What each MLP neuron writes: the tokens its output weight (its down_proj column) promotes."""
    return written_tokens(nla, mlp_down_proj(nla.target, layer).weight, indices, n, block)


@torch.no_grad()
def written_tokens(nla: NLA, directions: torch.Tensor, indices: list[int], n: int = 5, block: int = 256) -> list[list[str]]:
    """What each residual direction (columns `indices` of `directions` [d, m]: an MLP neuron's output weight, an SAE latent's
    decoder row) writes, read through the unembedding (the logit lens): the n tokens it raises most, through the final
    norm's gain. Direct effect only: later blocks may transform it."""
    model = nla.target
    head = model.get_output_embeddings()
    if head is None:
        return [[] for _ in indices]
    path = final_norm_path(model)
    gain = getattr(model.get_decoder().get_submodule(path), "weight", None) if path else None
    out = []
    for start in range(0, len(indices), block):
        columns = directions[:, indices[start : start + block]].float().to(head.weight.device)
        columns = columns * gain.float().to(columns.device)[:, None] if gain is not None else columns
        top = (head.weight.float() @ columns).topk(n, dim=0).indices.T  # [block, n]
        out += [[nla.tokenizer.decode([int(t)]) for t in row] for row in top]
    return out


def describe(entry: dict, writes: list[str]) -> Description:
    """What a person reads, what the AR reads and the weighted terms a term-matching scorer reads: the recurring terms with
    their counts out of the evidence, plus what the neuron writes (its output weight's promoted tokens, shown to a person
    only: it says what the neuron does, not where it fires); the same terms in the explanations' own shape
    (prompts.format_explanation), which is what the AR was trained to read; each term weighted by its excess over what
    ordinary tokens would give, per piece of evidence."""
    by_field: dict[str, list[dict]] = {f: [t for t in entry["terms"] if t["field"] == f] for f in FIELDS}
    n = entry["evidence"]
    shown = lambda t: repr(t["item"]) if t["field"] in ("next", "token") else t["item"]  # noqa: E731
    parts = [f"{field}: " + ", ".join(f"{shown(t)} {t['n']}/{n}" for t in items) for field, items in by_field.items() if items]
    human = "; ".join(parts) or "no term recurs among its top contexts"
    if writes:
        human += "; writes: " + ", ".join(repr(w) for w in writes)
    token = [t["item"] for t in by_field["token"][:1]]
    quoted = [t["item"] for t in by_field["quoted"] if t["item"] not in token][:3]
    text = format_explanation(by_field["genre"][0]["item"] if by_field["genre"] else "text", [t["item"] for t in by_field["topic"][:2]],
                              " ".join(quoted + token), [t["item"] for t in by_field["next"][:2]])
    terms = [(t["field"], t["item"], (t["n"] - t["expected"]) / n) for t in entry["terms"]]
    return Description(human, text, terms)


def distribution(values: np.ndarray) -> dict[str, float]:
    """Mean and quantiles over neurons (NaN ones, constant on the held-out tokens, left out and counted)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"n": 0, "undefined": int(len(values))}
    return {"n": int(len(finite)), "undefined": int(len(values) - len(finite)), "mean": float(finite.mean()),
            **{f"q{int(q * 100):02d}": float(np.quantile(finite, q)) for q in QUANTILES}}


# ---------------------------------------------------------------- the stage


def heldout_set(rows: list[dict], explained: pa.Table | None) -> HeldOut:
    """The held-out tokens as the scorers read them (rows sorted by key, as scan.heldout_keys are)."""
    rows = sorted(rows, key=lambda r: r["key"])
    by_key = dict(zip(explained.column("key").to_pylist(), explained.column("explanation").to_pylist())) if explained else {}
    return HeldOut(np.array([r["key"] for r in rows], np.int64), [r["token"] for r in rows], [r["context"] for r in rows],
                   [r["next_token"] for r in rows], [by_key.get(r["key"]) for r in rows],
                   np.stack([r["activation_vector"] for r in rows]))


SUMMARY_PROMPT = """A neuron of a language model fires most on the marked token [[like this]] of each snippet below (its activation first).
An activation verbalizer read the model at those tokens; what recurs in its readings (each count out of the neuron's evidence,
kept only where it recurs more than among ordinary tokens), and the tokens the neuron's output raises:
{terms}

{contexts}

In one sentence, say what this neuron responds to: a token, a topic, a pattern, or nothing clear. Answer with the sentence only."""


def api_teacher(cfg: NeuronsConfig) -> APITeacher:
    """The teacher's OpenAI-compatible client (stages.teach.APITeacher) at temperature 0: the api scorer and summary ask it."""
    from ..stages.teach import APITeacher

    return APITeacher(cfg.api_base_url, cfg.api_model, cfg.api_key_env, temperature=0.0)


def first_sentence(answer: str) -> str | None:
    """The answer's first non-empty line, as the summary (None: no answer)."""
    return next((line.strip() for line in answer.splitlines() if line.strip()), None)


def summarized(descriptions: list[Description], found: list[dict], ask: Callable[[str], str | None], cache: Path) -> list[str | None]:
    """Each neuron's one-sentence summary by the api model, written from its top contexts and counted terms (cached in
    `cache`, so a killed run asks only the rest); each description's `human` then reads "sentence (counted terms)"."""
    answers = AnswerCache(cache)
    out = []
    for d, e in zip(descriptions, found):
        contexts = "\n".join(f"{n + 1}. ({c['activation']:.2f}) {marked(c['context'], c['token'])}" for n, c in enumerate(e["top_contexts"]))
        sentence = answers.get(SUMMARY_PROMPT.format(terms=d.human, contexts=contexts), ask, first_sentence)
        if sentence:
            d.human = f"{sentence} ({d.human})"
        out.append(sentence)
    return out


def make_scorers(names: list[str], nla: NLA, cfg: NeuronsConfig, work: Path, descriptions: list[Description]) -> list:
    """The scorers `--scorers` names, in its order (the first gives `score`); `descriptions`: the dictionary's own
    (the `ar` scorer's centre)."""
    made = []
    for name in names:
        if name == "lexical":
            made.append(LexicalScorer())
        elif name == "explanation":
            made.append(ExplanationScorer())
        elif name == "ar":
            made.append(ARScorer(nla.ar.reconstruct, [d.text for d in descriptions]))
        else:
            made.append(APIScorer(api_teacher(cfg).ask, work / "api-scores.jsonl", negatives=cfg.api_contexts))
    return made


def parse_scorers(cfg: NeuronsConfig) -> list[str]:
    """`--scorers`, checked before anything is read: known names, and the api scorer only with its endpoint."""
    names = [n.strip() for n in cfg.scorers.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCORERS]
    if unknown or not names:
        raise NLAError(f"--scorers takes a comma list of {', '.join(SCORERS)}; got {cfg.scorers!r}")
    for asked, what in (("api" in names, "the api scorer"), (cfg.api_summary, "--api-summary")):
        if asked and not (cfg.api_base_url and cfg.api_model):
            raise NLAError(f"{what} needs --api-base-url and --api-model (an OpenAI-compatible endpoint)")
    return list(dict.fromkeys(names))


def run_neurons(nla_dir: Path | str | LoadConfig, cfg: NeuronsConfig, out: Path, explained: Path | None = None, overwrite: bool = False) -> dict | None:
    """Build (or find already built) the dictionary in `out`; returns its summary (None in a non-main process)."""
    inputs = {"corpus": corpus_source(cfg.corpus), **source_folders(nla_dir)} | ({"explained": explained} if explained else {}) \
        | ({"sae": Path(cfg.sae)} if cfg.sae else {})
    scorer_names = parse_scorers(cfg)
    run = StageRun("neurons", out, cfg, inputs, overwrite, extra=decoding(nla_dir))
    if run.done():
        return read_summary(run.out)
    started = time.monotonic()
    docs = load_corpus(cfg.corpus, cfg.max_docs)
    reused = reused_explanations(explained)
    nla = NLA.load(nla_dir)
    sae = load_sae(cfg.sae, hidden_size(nla.target), len(decoder_layers(nla.target))) if cfg.sae else None
    neurons = select_neurons(cfg, nla.target, sae)
    token_ids = read_tokens(nla.tokenizer, docs, cfg)
    work = run.begin(is_main_process(), wait_for_everyone)
    scan_file = work / "scan.safetensors"
    if scan_file.exists():
        scan = Scan.load(scan_file)
    else:
        scan = scan_corpus(nla, docs, token_ids, cfg, neurons, sae)
        if is_main_process():
            scan.save(scan_file)
    rows = token_rows(nla.tokenizer, docs, token_ids, scan, cfg)
    heldout_rows = token_rows(nla.tokenizer, docs, token_ids, scan, cfg, heldout=True)
    explain_heldout = "explanation" in scorer_names  # the held-out tokens are explained only for the scorer that reads them
    to_explain = rows + (heldout_rows if explain_heldout else [])
    explanations = explain_tokens(nla, to_explain, reused, cfg, work)
    if not is_main_process():
        return None
    take_over_cores()  # the other processes are done: the rest runs on their cores too
    found = entries(tokens_table(rows, explanations, scan.background), top_table(scan))
    writes = {}
    for layer in sorted({e["layer"] for e in found}):
        chosen = [e["neuron"] for e in found if e["layer"] == layer]
        written = written_tokens(nla, sae.w_dec.T, chosen, WRITES_SHOWN) if sae else promoted_tokens(nla, layer, chosen, WRITES_SHOWN)
        writes.update({(layer, i): w for i, w in zip(chosen, written)})
    descriptions = [describe(e, writes[(e["layer"], e["neuron"])]) for e in found]
    sentences = summarized(descriptions, found, api_teacher(cfg).ask, work / "api-summaries.jsonl") if cfg.api_summary else [None] * len(found)
    baselines = [token_only([c["token"] for c in e["top_contexts"]], e["k"]) for e in found]
    index = {(int(layer), int(i)): c for c, (layer, i) in enumerate(scan.neurons)}
    cols = [index[(e["layer"], e["neuron"])] for e in found]
    heldout = heldout_set(heldout_rows, explanations if explain_heldout else None)
    goal = targets(scan.heldout_keys, scan.detect_keys[:, cols], scan.detect_values[:, cols], scan.score_keys, scan.score_acts[:, cols])
    figures = {}
    for scorer in make_scorers(scorer_names, nla, cfg, work, descriptions):
        figures.update(scored(scorer, descriptions, baselines, heldout, goal, cfg.seed))
    where = {int(k): i for i, k in enumerate(scan.keys)}
    top_x = [scan.vectors[[where[int(k)] for k in scan.top_keys[np.isfinite(scan.top_values[:, c]), c]]] for c in cols]
    top_y = [scan.top_values[np.isfinite(scan.top_values[:, c]), c] for c in cols]
    figures["auroc_ceiling"], figures["pearson_ceiling"] = ridge_ceiling(
        scan.vectors[[where[int(k)] for k in scan.background]], scan.background_acts[:, cols], top_x, top_y, heldout, goal)
    first = scorer_names[0]
    records = []
    for j, (e, d, b) in enumerate(zip(found, descriptions, baselines)):
        scores = {name: (float(v[j]) if np.isfinite(v[j]) else None) for name, v in figures.items()}
        beats = {f"beats_token_only_{s}": (None if scores[f"auroc_{s}"] is None or scores[f"auroc_{s}_token_only"] is None
                                           else scores[f"auroc_{s}"] > scores[f"auroc_{s}_token_only"]) for s in scorer_names}
        name = f"sae:{e['neuron']}" if sae else f"{e['layer']}:{e['neuron']}"
        records.append({"name": name, "layer": e["layer"], "neuron": e["neuron"], "description": d.human, "summary": sentences[j],
                        "description_text": d.text, "token_only": b.human, "writes": writes[(e["layer"], e["neuron"])],
                        "score": scores[f"auroc_{first}"], "score_shuffled": scores[f"auroc_{first}_shuffled"],
                        "detect_positives": goal.positives[j], "note": undefined_note(goal.positives[j]), **scores, **beats,
                        "top_activation": e["top_activation"], "evidence": e["evidence"], "terms": e["terms"],
                        "top_contexts": e["top_contexts"]})
    table = pa.Table.from_pylist(records)
    table = table.cast(pa.schema([f.with_type(NULL_TYPES.get(f.name.split("_")[0], pa.float64())) if pa.types.is_null(f.type) else f
                                  for f in table.schema]))  # a column with no value anywhere still has its type
    summary = {"neurons": len(found), "layers": sorted({e["layer"] for e in found}), "documents": len(docs),
               "units": f"latents of the SAE in {cfg.sae}, read at block {sae.layer}'s output" if sae else "MLP neurons",
               "tokens_explained": len(to_explain), "tokens_reused": int(sum((r["doc_id"], r["position"]) in reused for r in to_explain)),
               "heldout_tokens_scored": int(len(scan.heldout_keys)), "random_heldout_tokens": int(len(scan.score_keys)),
               "score": f"detection AUROC by the {first} scorer", "scorers": {s: score_summary(figures, s) for s in scorer_names},
               "ceiling": ceiling_summary(figures),
               "undefined": {"detection": int(sum(p == 0 for p in goal.positives)),
                             "shuffled": "undefined: one neuron has no other description" if len(found) < 2 else None},
               "model": nla.meta.base_model, "layer_k": nla.meta.layer_index,
               "seconds": round(time.monotonic() - started, 1), "settings": dataclasses.asdict(cfg)}
    if not sae and len(summary["layers"]) > 1:  # each layer's figures, in the shape of the whole's: the overview and its pages
        layer_of = np.array([e["layer"] for e in found])
        summary["by_layer"] = {str(layer): layer_summary({k: v[layer_of == layer] for k, v in figures.items()}, scorer_names)
                               for layer in summary["layers"]}

    def write(tmp: Path) -> None:
        # one string dictionary for the whole file: neurons share their top contexts (a whole model's 276k contexts are 91k
        # texts), and past pyarrow's 1 MB default each column falls back to plain strings (38.8 MB against 17.8 MB)
        pq.write_table(table, tmp / DICTIONARY, compression="zstd", compression_level=9, dictionary_pagesize_limit=64 << 20)
        for name, text in dictionary_pages(table.to_pylist(), summary).items():
            atomic_write_text(tmp / name, text)
        write_json(tmp / SUMMARY, summary)

    run.publish(write, clear_work=True)  # the scan and chunks go: the dictionary records how it was made
    return summary


def undefined_note(positives: int) -> str | None:
    return None if positives else "detection undefined: the neuron never rises above its typical held-out activation"


def median(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else None


def score_summary(figures: dict[str, np.ndarray], scorer: str) -> dict:
    """One scorer's figures over neurons: each distribution, the medians, the share above token-only, the count >= 0.8."""
    own, token = figures[f"auroc_{scorer}"], figures[f"auroc_{scorer}_token_only"]
    both = np.isfinite(own) & np.isfinite(token)
    mine = {name.replace(f"_{scorer}", ""): v for name, v in figures.items()
            if name.split("_")[1] == scorer and name.startswith(("auroc_", "pearson_"))}
    return {**{name: distribution(v) for name, v in mine.items()},
            **{f"{name}_median": median(v) for name, v in mine.items() if name.startswith("auroc")},
            "above_token_only": float(np.mean(own[both] > token[both])) if both.any() else None,
            "auroc_at_least_0.8": int(np.sum(own >= 0.8))}


def ceiling_summary(figures: dict[str, np.ndarray]) -> dict:
    """The ridge ceiling's figures over neurons."""
    auroc = figures["auroc_ceiling"]
    return {"auroc": distribution(auroc), "pearson": distribution(figures["pearson_ceiling"]), "median_auroc": median(auroc),
            "auroc_at_least_0.8": int(np.sum(auroc >= 0.8)),
            "what": "a ridge probe from the layer-K vector to the activation, fit on training tokens"}


def layer_summary(figures: dict[str, np.ndarray], scorer_names: list[str]) -> dict:
    """One layer's neurons: how many, each scorer's figures and the ceiling's (the keys the whole summary gives them)."""
    return {"neurons": int(len(figures["auroc_ceiling"])), "scorers": {s: score_summary(figures, s) for s in scorer_names},
            "ceiling": ceiling_summary(figures)}
