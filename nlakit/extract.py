"""Stage 1: run the target model over a corpus and store residual-stream vectors at sampled tokens.

Output folder: `train.parquet`, `heldout.parquet` (a document-level split) and `nla_meta.yaml`.
Vectors are stored raw (float32, FixedSizeList) and normalised only where they are used, so one
dataset serves every scale. Work is written in shards after each chunk of documents, so a killed
run resumes where it stopped; the final files appear atomically at the end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from . import dataset
from .config import BUILTIN, ExtractConfig
from .corpus import Document, builtin_corpus_path, is_heldout, load_corpus
from .errors import NLAError
from .files import StageRun
from .hooks import capture_block_output
from .metrics import predict_mean_baselines
from .models import default_layer, hidden_size, input_device, load_causal_lm, load_tokenizer, num_layers
from .progress import progress
from .prompts import AR_TEMPLATE, AV_TEMPLATE, ar_suffix_ids, find_marker
from .sidecar import Sidecar


@dataclass
class TokenActivations:
    """What one forward pass gives for one document at its sampled positions."""

    token_ids: list[int]
    positions: list[int]
    vectors: np.ndarray  # [len(positions), d]
    next_token_ids: list[list[int]]  # target model's top-k predictions at each position
    next_token_probs: list[list[float]]  # their probabilities


def sample_positions(doc_id: str, token_ids: list[int], k: int, min_position: int, seed: int, special_ids: set[int]) -> list[int]:
    """k positions at or after `min_position`, drawn by a per-document RNG (reproducible under sharding)."""
    candidates = [i for i in range(min_position, len(token_ids)) if token_ids[i] not in special_ids]
    rng = random.Random(hashlib.sha256(f"{seed}|{doc_id}".encode()).digest())
    return sorted(rng.sample(candidates, min(k, len(candidates))))


def pad_batch(token_lists: list[list[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and their attention mask for a batch of token lists."""
    width = max(len(t) for t in token_lists)
    ids = torch.full((len(token_lists), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, tokens in enumerate(token_lists):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
    return ids, mask


@torch.no_grad()
def run_target(
    model: PreTrainedModel,
    layer_index: int,
    token_lists: list[list[int]],
    positions: list[list[int]],
    top_k: int = 5,
    pad_id: int = 0,
) -> list[TokenActivations]:
    """One padded batch through the target: block-K vectors and top-k next tokens at `positions`."""
    ids, mask = pad_batch(token_lists, pad_id)
    device = input_device(model)  # under a device map, block K and the last block may sit on other devices
    with capture_block_output(model, layer_index) as captured:
        final = model.get_decoder()(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
    rows = torch.tensor([r for r, pos in enumerate(positions) for _ in pos], dtype=torch.long)
    cols = torch.tensor([p for pos in positions for p in pos], dtype=torch.long)
    hidden = captured["hidden"]
    vectors = hidden[rows.to(hidden.device), cols.to(hidden.device)].float().cpu().numpy()
    logits = model.get_output_embeddings()(final[rows.to(final.device), cols.to(final.device)])
    top = logits.topk(top_k, dim=-1)  # probabilities of the top k only: no second vocabulary-sized tensor
    next_probs = (top.values.float() - logits.float().logsumexp(dim=-1, keepdim=True)).exp()
    next_ids, next_probs = top.indices.tolist(), next_probs.tolist()
    out, start = [], 0
    for tokens, pos in zip(token_lists, positions):
        end = start + len(pos)
        out.append(TokenActivations(tokens, pos, vectors[start:end], next_ids[start:end], next_probs[start:end]))
        start = end
    return out


def tokenize(tokenizer: PreTrainedTokenizerBase, text: str, max_length: int, templated: bool = False) -> list[int]:
    """A text's ids as the target reads it: the tokenizer's BOS added, unless a chat template already wrote it (`templated`)."""
    return tokenizer(text, add_special_tokens=not templated, truncation=True, max_length=max_length)["input_ids"]


def rows_for(tokenizer: PreTrainedTokenizerBase, doc: Document, acts: TokenActivations) -> list[dict]:
    """Parquet rows for one document: context = the text up to and including the token."""
    return [
        {
            "doc_id": doc.doc_id,
            "genre": doc.genre,
            "position": pos,
            "token_id": acts.token_ids[pos],
            "token": tokenizer.decode([acts.token_ids[pos]]),
            "context": tokenizer.decode(acts.token_ids[: pos + 1], skip_special_tokens=True),
            "next_tokens": [tokenizer.decode([t]) for t in nxt],
            "next_probs": [round(p, 4) for p in probs],
            "activation_vector": vec,
        }
        for pos, vec, nxt, probs in zip(acts.positions, acts.vectors, acts.next_token_ids, acts.next_token_probs)
    ]


def extract_documents(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    docs: list[Document],
    cfg: ExtractConfig,
    layer_index: int,
    all_positions: bool = False,
    positions: dict[str, list[int]] | None = None,
) -> Iterator[dict]:
    """Rows for `docs`, batched by length to waste little padding. Used by extract, evaluate, explain and neurons.

    `positions` (doc id -> token positions) reads exactly those tokens instead of sampled or all ones.
    """
    special = set(tokenizer.all_special_ids)
    prepared = []
    for doc in docs:
        ids = tokenize(tokenizer, doc.text, cfg.max_length, doc.templated)
        if positions is not None:
            pos = sorted(p for p in positions.get(doc.doc_id, ()) if p < len(ids))
            ids = ids[: max(pos) + 1] if pos else ids
        elif all_positions:
            pos = [i for i in range(len(ids)) if ids[i] not in special]
        else:
            pos = sample_positions(doc.doc_id, ids, cfg.positions_per_doc, cfg.min_position, cfg.seed, special)
            ids = ids[: max(pos) + 1] if pos else ids  # later tokens cannot affect these positions
        if pos:
            prepared.append((doc, ids, pos))
    prepared.sort(key=lambda item: len(item[1]))
    for start in range(0, len(prepared), cfg.batch_size):
        batch = prepared[start : start + cfg.batch_size]
        results = run_target(model, layer_index, [b[1] for b in batch], [b[2] for b in batch], cfg.top_k_next, tokenizer.pad_token_id)
        for (doc, _, _), acts in zip(batch, results):
            yield from rows_for(tokenizer, doc, acts)


def _chunk_path(work: Path, index: int) -> Path:
    return work / "shards" / f"part-{index:05d}.parquet"


def corpus_source(corpus: str) -> Path | str:
    """What to fingerprint for a corpus: its file (the built-in one included)."""
    return builtin_corpus_path() if corpus == BUILTIN else Path(corpus)


def run_extract(cfg: ExtractConfig, out: Path, overwrite: bool = False) -> Path:
    """Run the stage; returns the dataset folder. Done only when `out` holds this config's extraction of this corpus."""
    if Path(cfg.model).exists():  # a local model is stored as an absolute path: the sidecar must find it from anywhere
        cfg = dataclasses.replace(cfg, model=str(Path(cfg.model).resolve()))
    run = StageRun("extract", out, cfg, {"corpus": corpus_source(cfg.corpus), "model": cfg.model}, overwrite)
    if run.done():
        return run.out
    docs = load_corpus(cfg.corpus, cfg.max_docs)
    tokenizer = load_tokenizer(cfg.model)
    model = load_causal_lm(cfg.model)
    layer = cfg.layer_index if cfg.layer_index is not None else default_layer(num_layers(model))
    d_model = hidden_size(model)
    work = run.begin()
    chunks = [docs[i : i + cfg.chunk_docs] for i in range(0, len(docs), cfg.chunk_docs)]
    with progress() as bar:
        task = bar.add_task("extract", total=len(docs), info="")
        for index, chunk in enumerate(chunks):
            if not _chunk_path(work, index).exists():
                rows = list(extract_documents(model, tokenizer, chunk, cfg, layer))
                dataset.write_rows(_chunk_path(work, index), rows, d_model)
            bar.advance(task, len(chunk))
    table = pa.concat_tables([pq.read_table(_chunk_path(work, i)) for i in range(len(chunks))])
    if table.num_rows == 0:
        raise NLAError(f"no activations extracted: every text in {cfg.corpus} is shorter than min_position={cfg.min_position}")
    heldout = np.array([is_heldout(d, cfg.heldout_fraction, cfg.seed) for d in table.column("doc_id").to_pylist()])
    meta = build_sidecar(cfg, tokenizer, layer, d_model, dataset.vectors(table.filter(pa.array(~heldout))))

    def write(tmp: Path) -> None:
        pq.write_table(table.filter(pa.array(heldout)), tmp / "heldout.parquet")
        pq.write_table(table.filter(pa.array(~heldout)), tmp / "train.parquet")
        meta.save(tmp)

    return run.publish(write, clear_work=True)  # the shards go: the dataset itself records how it was made


def nice_scale(mean_norm: float) -> float:
    """A round number a little above the mean norm (the release's rule for injection_scale)."""
    target = mean_norm * 1.1
    step = 10 ** math.floor(math.log10(target)) / 2
    return float(math.ceil(target / step) * step)


def build_sidecar(cfg: ExtractConfig, tokenizer: PreTrainedTokenizerBase, layer: int, d_model: int, train_vectors: np.ndarray) -> Sidecar:
    norms = np.linalg.norm(train_vectors, axis=1)
    marker = find_marker(tokenizer, AV_TEMPLATE)
    return Sidecar(
        kind="nla_dataset",
        base_model=cfg.model,
        d_model=d_model,
        layer_index=layer,
        injection_scale=nice_scale(float(norms.mean())),
        tokens={**marker, "critic_suffix_ids": ar_suffix_ids(tokenizer, AR_TEMPLATE)},
        prompt_templates={"av": AV_TEMPLATE, "ar": AR_TEMPLATE},
        baselines=predict_mean_baselines(train_vectors),
        activation_norm={k: float(v) for k, v in zip(
            ("mean", "std", "p50", "p75", "p95", "max"),
            (norms.mean(), norms.std(), *np.percentile(norms, [50, 75, 95]), norms.max()),
        )},
        extraction={k: v for k, v in asdict(cfg).items() if k not in ("model", "layer_index")},
    )
