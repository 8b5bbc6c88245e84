"""What the bench steps read: a taught dataset (given, or a small one built on the fly) and the orders its rows are
batched in: nlakit's length buckets, the naive baseline's random rows, and fixed rows for the scaling points."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, PretrainedConfig

from ..core import dataset
from ..core.config import ExtractConfig
from ..core.errors import NLAError
from ..core.models import resolve_model, text_config
from ..core.sidecar import Sidecar
from ..stages.extract import run_extract
from ..stages.teach import TemplateTeacher, run_teach
from ..stages.trainer import bucketed_batches


@dataclass
class BenchData:
    texts: list[str]
    vectors: torch.Tensor
    meta: Sidecar


def build_small_dataset(model: str, corpus: str, folder: Path, docs: int = 40, positions: int = 4) -> Path:
    """A taught dataset small enough to build in a minute: 40 documents of at most 64 tokens, template teacher."""
    extract = ExtractConfig(model=model, corpus=corpus, max_docs=docs, max_length=64, positions_per_doc=positions)
    return run_teach(run_extract(extract, folder), TemplateTeacher())


def load_bench_data(folder: Path, model: str) -> BenchData:
    """Training pairs of the dataset, its sidecar pointed at `model` (checked to have the same width)."""
    texts, vectors, _, _, meta = dataset.training_pairs(folder, 0)
    width = load_causal_lm_config(model).hidden_size
    if width != meta.d_model:
        raise NLAError(f"{folder} holds d_model={meta.d_model} vectors but {model} has d_model={width}")
    meta = Sidecar(**{**meta.__dict__, "base_model": model})
    return BenchData(texts, torch.from_numpy(dataset.rows(vectors, range(len(vectors)))), meta)


def load_causal_lm_config(model: str) -> PretrainedConfig:
    """The language model's config (a multimodal wrapper's `text_config`), where depth and width live."""
    return text_config(AutoConfig.from_pretrained(resolve_model(model)))


def cycle_batches(lengths: list[int], batch_size: int, seed: int, batch_tokens: int | None = None) -> Iterator[list[int]]:
    """nlakit's length-bucketed batches (`batch_size` rows, or a token budget), epoch after epoch."""
    epoch = 0
    while True:
        yield from bucketed_batches(lengths, batch_size, seed, epoch, batch_tokens)
        epoch += 1


def random_batches(n: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """The naive baseline's batches: uniformly random rows, whatever their lengths."""
    rng = random.Random(seed)
    while True:
        yield rng.sample(range(n), min(batch_size, n))


def fixed_batches(n: int) -> Iterator[list[int]]:
    """The same n rows every step: a scaling point measures one batch shape."""
    while True:
        yield list(range(n))
