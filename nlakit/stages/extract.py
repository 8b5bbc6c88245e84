"""Stage 1: run the target model over a corpus and store residual-stream vectors at sampled tokens.

Output folder: `train.parquet`, `heldout.parquet` (a document-level split) and `nla_meta.yaml`.
Vectors are stored raw (float32, FixedSizeList) and normalised only where they are used, so one
dataset serves every scale. Work is written in shards after each chunk of documents, so a killed
run resumes where it stopped; the final files appear atomically at the end.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from transformers import PreTrainedTokenizerBase

from ..core import dataset
from ..core.config import BUILTIN, ExtractConfig
from ..core.corpus import builtin_corpus_path, is_heldout, load_corpus
from ..core.errors import NLAError
from ..core.files import StageRun
from ..core.metrics import predict_mean_baselines
from ..core.models import default_layer, hidden_size, load_causal_lm, load_tokenizer, num_layers
from ..core.progress import progress
from ..core.prompts import AR_TEMPLATE, AV_TEMPLATE, ar_suffix_ids, av_chat_template, find_marker
from ..core.reading import extract_documents
from ..core.sidecar import Sidecar


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
    if cfg.top_k_next > len(tokenizer):
        raise NLAError(f"--top-k-next {cfg.top_k_next} is more than the vocabulary of {cfg.model} ({len(tokenizer)} tokens)")
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
    chat = av_chat_template(tokenizer)  # a base model without a chat template: the plain format, recorded
    marker = find_marker(tokenizer, AV_TEMPLATE, chat)
    return Sidecar(
        kind="nla_dataset",
        base_model=cfg.model,
        d_model=d_model,
        layer_index=layer,
        injection_scale=nice_scale(float(norms.mean())),
        tokens={**marker, "critic_suffix_ids": ar_suffix_ids(tokenizer, AR_TEMPLATE)},
        prompt_templates={"av": AV_TEMPLATE, "ar": AR_TEMPLATE, **({"av_chat": chat} if chat else {})},
        baselines=predict_mean_baselines(train_vectors),
        activation_norm={k: float(v) for k, v in zip(
            ("mean", "std", "p50", "p75", "p95", "max"),
            (norms.mean(), norms.std(), *np.percentile(norms, [50, 75, 95]), norms.max()),
        )},
        extraction={k: v for k, v in asdict(cfg).items() if k not in ("model", "layer_index")},
    )
