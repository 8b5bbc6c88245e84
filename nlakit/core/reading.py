"""The layer-K reading: the target model's block-K output at chosen tokens, and its top next tokens.

One forward pass lives here (`forward_target`); extract (the stage), `NLA.activations`, the suite's
patching, the neuron dictionary's scan and the explorer all read activations through it, so a vector
means the same thing wherever nlakit shows one.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .config import ExtractConfig
from .corpus import Document
from .hooks import capture_block_output, capture_mlp_neurons, patch_block_output, stop_after_block
from .models import input_device


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


@dataclass
class TargetPass:
    """What one forward pass of the target keeps: block K's output, the last block's, and MLP neurons where asked.

    Under a device map block K and the last block may sit on other devices: each is indexed where it is.
    """

    hidden: torch.Tensor  # [B, T, d] block K's output: the residual stream the AV reads (before any patch)
    final: torch.Tensor | None  # [B, T, d] the decoder's last hidden state; None when the pass stopped early
    neurons: dict[int, torch.Tensor] = field(default_factory=dict)  # layer -> [B, T, width] MLP neuron activations

    def vectors(self, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Block K's output at (rows, cols)."""
        return self.hidden[rows.to(self.hidden.device), cols.to(self.hidden.device)]

    def next_token_logits(self, model: PreTrainedModel, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """The target's next-token logits after (rows, cols)."""
        return model.get_output_embeddings()(self.final[rows.to(self.final.device), cols.to(self.final.device)])


@torch.no_grad()
def forward_target(model: PreTrainedModel, layer_index: int, token_lists: list[list[int]], pad_id: int = 0, *,
                   patch: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None, neuron_layers: Sequence[int] = (),
                   stop_after: int | None = None) -> TargetPass:
    """The one forward pass of the target over a right-padded batch (real positions are unchanged by the padding).

    `patch` (rows, cols, values): block K's output replaced there first, the rest of the model rerun on it (`hidden` keeps
    the unpatched output); `neuron_layers`: also keep those blocks' MLP neurons; `stop_after`: end the pass after that block
    (a reading that needs nothing later skips the rest; `final` is then None).
    """
    ids, mask = pad_batch(token_lists, pad_id)
    device = input_device(model)  # under a device map, block K and the last block may sit on other devices
    out = None
    with contextlib.ExitStack() as stack:  # the captures first, so their hooks on a block run before a patch or a stop
        captured = stack.enter_context(capture_block_output(model, layer_index))
        neurons = stack.enter_context(capture_mlp_neurons(model, list(neuron_layers))) if neuron_layers else {}
        if patch is not None:
            stack.enter_context(patch_block_output(model, layer_index, *patch))
        if stop_after is not None:
            stack.enter_context(stop_after_block(model, stop_after))
        out = model.get_decoder()(input_ids=ids.to(device), attention_mask=mask.to(device))
    return TargetPass(captured["hidden"], out.last_hidden_state if out is not None else None, neurons)


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
    reading = forward_target(model, layer_index, token_lists, pad_id)
    rows = torch.tensor([r for r, pos in enumerate(positions) for _ in pos], dtype=torch.long)
    cols = torch.tensor([p for pos in positions for p in pos], dtype=torch.long)
    vectors = reading.vectors(rows, cols).float().cpu().numpy()
    logits = reading.next_token_logits(model, rows, cols)
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
