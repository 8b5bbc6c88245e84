"""Stage 4: the activation verbalizer (AV): activation vector -> explanation text.

The AV is the target model reading a fixed chat prompt whose marker token's input embedding is
replaced by the activation, rescaled to `injection_scale` (a raw-norm vector is out of
distribution). Injection is a pure function on the embeddings: no hooks, no global state, and
the same code serves training, sampling and the KL reference.

Every AV prompt has the same tokens, so generation computes the part before the marker once per
batch and shares its KV cache across rows. Training computes logits only on explanation tokens.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import DynamicCache, PreTrainedTokenizerBase

from .config import EXPLANATION_TOKENS
from .distributed import any_process, is_sharded
from .errors import NLAError
from .hooks import inject, unwrap
from .inference import decode_attention, fast_model, growing_cache
from .models import autocast, bf16_enabled, folder_tokenizer, load_adapted, load_causal_lm, load_tokenizer, stop_token_ids, with_cache
from .prompts import CLOSING_TAG, av_prompt, av_response, parse_explanation
from .sidecar import Sidecar, check_vectors


@dataclass
class Generation:
    texts: list[str]  # decoded responses
    explanations: list[str | None]  # parsed payloads (None: no closing tag)
    token_ids: list[list[int]]
    logprobs: list[list[float]]  # sampling-time log-probabilities of each generated token


class Verbalizer(nn.Module):
    def __init__(self, lm: nn.Module, tokenizer: PreTrainedTokenizerBase, meta: Sidecar):
        super().__init__()
        if not meta.injection_scale:
            raise NLAError("the AV sidecar has no extraction.injection_scale: give one (`nlakit explain --injection-scale N`)")
        self.lm, self.tokenizer, self.meta = lm, tokenizer, meta
        self.prompt_ids, self.marker_pos = av_prompt(tokenizer, meta)
        if meta.prompt_templates.get("av_chat") and not getattr(tokenizer, "chat_template", None):
            tokenizer.chat_template = meta.prompt_templates["av_chat"]  # a base model's plain format: saved with the tokenizer
        self.stop_ids = stop_token_ids(tokenizer, lm)  # the model's own turn-end tokens; the vLLM engine takes the same set
        self.engine = None  # None: nlakit's own KV-cache loop; else a callable such as vllm_engine.VLLMEngine
        self.no_repeat_ngram = 0  # generate's default: no N-token sequence of a row's own output twice (0: off)
        self.int8 = False  # generate with int8 products (int8.py; a CPU only), set by NLA.load: the default without native bf16

    @property
    def causal_lm(self) -> nn.Module:
        return unwrap(self.lm)

    @property
    def device(self) -> torch.device:
        return next(self.lm.parameters()).device

    @property
    def checkpointing(self) -> bool:
        lm = self.causal_lm
        flag = "is_activation_checkpointing" if hasattr(type(lm), "is_activation_checkpointing") else "is_gradient_checkpointing"
        return bool(getattr(lm, flag, False))

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings as the model's own embedding module makes them (Gemma's sqrt(d) included)."""
        return self.causal_lm.get_input_embeddings()(ids)

    def prompt_embeds(self, vectors: torch.Tensor, extra_ids: torch.Tensor | None = None) -> torch.Tensor:
        """[B, P(+T), d]: the prompt (plus optional continuation ids) with the vectors injected."""
        ids = torch.tensor(self.prompt_ids, device=self.device).expand(len(vectors), -1)
        if extra_ids is not None:
            ids = torch.cat([ids, extra_ids], dim=1)
        return inject(self.embed(ids), self.marker_pos, vectors.to(self.device), self.meta.injection_scale)

    def response_ids(self, explanations: list[str]) -> list[list[int]]:
        eos = [self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else []
        return [self.tokenizer.encode(av_response(e), add_special_tokens=False) + eos for e in explanations]

    def token_lengths(self, explanations: list[str]) -> list[int]:
        """Tokens of each training row, prompt plus response: what a token-budget batch is sized by."""
        return [len(self.prompt_ids) + len(r) for r in self.response_ids(explanations)]

    def prefix_cache(self, n: int, lm: nn.Module | None = None, cache: DynamicCache | None = None) -> DynamicCache:
        """KV cache of the prompt before the marker: the same for every row, so computed once and shared.

        Gradients flow through it, so training with it is exact, not an approximation.
        """
        cache = DynamicCache() if cache is None else cache
        prefix = torch.tensor([self.prompt_ids[: self.marker_pos]], device=self.device)
        decoder = (lm or self.causal_lm).get_decoder()
        decoder(input_ids=prefix, **with_cache(decoder, cache), use_cache=True)
        cache.batch_repeat_interleave(n)
        return cache

    def token_logprobs(self, vectors: torch.Tensor, responses: list[list[int]], bf16: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of each response token given the injected prompt: ([B, T], mask [B, T]).

        Logits are computed only at response positions: the LM head is a large share of the cost.
        """
        pad = self.tokenizer.pad_token_id or 0
        width = max(len(r) for r in responses)
        ids = torch.full((len(responses), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids, dtype=torch.bool)
        for row, r in enumerate(responses):
            ids[row, : len(r)] = torch.tensor(r)
            mask[row, : len(r)] = True
        ids, mask = ids.to(self.device), mask.to(self.device)
        prompt_len = len(self.prompt_ids)
        attention = torch.cat([torch.ones(len(responses), prompt_len, dtype=torch.long, device=self.device), mask.long()], 1)
        # The shared prefix is recomputed per row where a backward cannot go through it twice: gradient
        # checkpointing drops every KV cache, and FSDP frees a block's gathered weights after its first backward.
        shared = not ((self.lm.training and self.checkpointing) or (torch.is_grad_enabled() and is_sharded(self.lm)))
        offset = self.marker_pos if shared else 0
        with autocast(bf16, self.device):
            embeds = self.prompt_embeds(vectors, ids)[:, offset:]
            cache = self.prefix_cache(len(responses)) if shared else None
            decoder = self.causal_lm.get_decoder()
            hidden = decoder(inputs_embeds=embeds, attention_mask=attention, **with_cache(decoder, cache), use_cache=shared).last_hidden_state
            # hidden[:, j] is absolute position offset + j; response token t is predicted one position earlier
            start = prompt_len - 1 - offset
            states = hidden[:, start : start + width][mask]
            logits = self.causal_lm.get_output_embeddings()(states).float()
        picked = torch.zeros(mask.shape, device=self.device)
        picked[mask] = -F.cross_entropy(logits, ids[mask], reduction="none")
        return picked, mask

    def sft_loss(self, vectors: torch.Tensor, explanations: list[str], bf16: bool | None = None) -> tuple[torch.Tensor, int]:
        logprobs, mask = self.token_logprobs(vectors, self.response_ids(explanations), bf16)
        return -(logprobs.sum() / mask.sum()), int(mask.sum())

    @torch.no_grad()
    def generate(self, vectors: np.ndarray | torch.Tensor, max_new_tokens: int = EXPLANATION_TOKENS, temperature: float = 0.0,
                 batch_size: int | None = None, bf16: bool | None = None, seed: int | None = None,
                 on_batch: Callable[[int], None] | None = None, top_p: float = 1.0, top_k: int = 0,
                 no_repeat_ngram: int | None = None) -> Generation:
        """Explanations for each vector: greedy at temperature 0, else sampled (`top_p` < 1 / `top_k` > 0: from the
        truncated distribution, `truncate`; training sampled without either).

        `logprobs` are those of the sampling distribution (at `temperature`), as a policy gradient needs.
        `no_repeat_ngram` N (default: `self.no_repeat_ngram`, set by NLA.load): a token that would repeat an N-token
        sequence of the row's own output is never chosen (the loops a cap would cut into a failed reading).
        The default batch is 256 rows on a GPU and on the fp32 path of a CPU, 128 rows where a CPU runs bf16 (measured on
        2 cores: bf16 64 rows 11 activations/s, 128 rows 15/s, 256 rows 7 % slower; fp32 128 / 256 / 512 rows 6.13 / 6.45 /
        6.22 per s: more rows per step read the weights once for more of them, until the step's own overhead grows).
        """
        batch_size = batch_size or (128 if self.device.type == "cpu" and bf16_enabled(bf16, self.device) else 256)
        vectors = torch.as_tensor(check_vectors(np.asarray(vectors), self.meta.d_model, "activations to explain"))
        generator = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        no_repeat_ngram = self.no_repeat_ngram if no_repeat_ngram is None else no_repeat_ngram
        if self.engine is not None and (top_p < 1 or top_k > 0 or no_repeat_ngram):
            raise NLAError("top-p, top-k and no-repeat n-grams run on the transformers engine only")
        result = Generation([], [], [], [])
        for start in range(0, len(vectors), batch_size):
            batch = vectors[start : start + batch_size]
            if self.engine is not None:
                ids, logps = self.engine(self.prompt_embeds(batch), max_new_tokens, temperature, None if seed is None else seed + start)
            else:
                ids, logps = self._generate_batch(batch, max_new_tokens, temperature, bf16, generator, top_p, top_k, no_repeat_ngram)
            for seq, lp in zip(ids, logps):
                text = self.tokenizer.decode(seq, skip_special_tokens=True)
                result.texts.append(text)
                result.explanations.append(parse_explanation(text))
                result.token_ids.append(seq)
                result.logprobs.append(lp)
            if on_batch is not None:
                on_batch(len(batch))
        return result

    @cached_property
    def closing_candidates(self) -> frozenset[int]:
        """Token ids whose text holds a '>': only after one of these can the response end in the closing tag."""
        tokens = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
        return frozenset(i for i, t in enumerate(tokens) if t is not None and ">" in t)

    def _generate_batch(self, vectors: torch.Tensor, max_new_tokens: int, temperature: float, bf16: bool | None,
                        generator: torch.Generator | None, top_p: float = 1.0, top_k: int = 0,
                        no_repeat_ngram: int = 0) -> tuple[list[list[int]], list[list[float]]]:
        bf16 = not self.int8 and bf16_enabled(bf16, self.device)  # int8 runs its products without autocast
        lm = unwrap(fast_model(self, bf16, self.int8))
        with autocast(bf16, self.device), decode_attention(lm):
            return self._decode(lm, vectors, max_new_tokens, temperature, generator, top_p, top_k, no_repeat_ngram)

    def _decode(self, lm: nn.Module, vectors: torch.Tensor, max_new_tokens: int, temperature: float,
                generator: torch.Generator | None, top_p: float = 1.0, top_k: int = 0,
                no_repeat_ngram: int = 0) -> tuple[list[list[int]], list[list[float]]]:
        """The KV-cache loop: the shared prefix once, then one token per row per step; finished rows leave the batch."""
        n = len(vectors)
        cache = self.prefix_cache(n, lm, growing_cache(len(self.prompt_ids) + max_new_tokens))
        rest = self.prompt_embeds(vectors)[:, self.marker_pos :]
        logits = lm(inputs_embeds=rest, **with_cache(lm, cache), use_cache=True, logits_to_keep=1).logits[:, -1]
        alive = list(range(n))  # original row of each row still in the cache
        finished = [False] * n
        # Sharded blocks gather their weights collectively: every process decodes until all are done,
        # keeping finished rows in the batch (ignored) instead of dropping them.
        lockstep = is_sharded(lm)
        closing = self.closing_candidates
        sequences: list[list[int]] = [[] for _ in range(n)]
        logprobs: list[list[float]] = [[] for _ in range(n)]
        seen: list[dict[tuple[int, ...], set[int]]] = [{} for _ in range(n)]  # per row: each (n-1)-gram -> the tokens after it
        for _ in range(max_new_tokens):
            if no_repeat_ngram > 0:  # a token that would repeat an n-gram of the row's own output is never chosen
                for k, row in enumerate(alive):
                    banned = seen[row].get(tuple(sequences[row][max(0, len(sequences[row]) - no_repeat_ngram + 1) :]))
                    if banned:
                        logits[k, list(banned)] = -math.inf
            if temperature > 0:
                logp = truncate(torch.log_softmax(logits.float() / temperature, dim=-1), top_p, top_k)
                token = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(1)
                chosen = logp.gather(1, token[:, None]).squeeze(1).tolist()
            else:  # greedy: the sampling distribution is a point mass, so each chosen token's log-probability is 0
                token = logits.max(dim=-1).indices  # the first maximum, as argmax; several times faster on bf16 CPU logits
                chosen = [0.0] * len(alive)
            keep = []
            for k, (row, t) in enumerate(zip(alive, token.tolist())):
                if finished[row] or t in self.stop_ids:
                    finished[row] = True
                    continue
                sequences[row].append(t)
                logprobs[row].append(chosen[k])
                if no_repeat_ngram > 0 and len(sequences[row]) >= no_repeat_ngram:
                    seen[row].setdefault(tuple(sequences[row][-no_repeat_ngram:-1]), set()).add(t)
                finished[row] = t in closing and self.tokenizer.decode(sequences[row][-8:]).endswith(CLOSING_TAG)
                if not finished[row]:
                    keep.append(k)
            if not (any_process(bool(keep)) if lockstep else keep):
                break
            if not lockstep and len(keep) < len(alive):
                cache.batch_select_indices(torch.tensor(keep, device=self.device))
                token = token[keep]
                alive = [alive[k] for k in keep]
            logits = lm(inputs_embeds=self.embed(token[:, None]), **with_cache(lm, cache), use_cache=True).logits[:, -1]
        return sequences, logprobs

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        self.lm.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        self.meta.save(folder)


def truncate(logp: torch.Tensor, top_p: float = 1.0, top_k: int = 0) -> torch.Tensor:
    """Log-probabilities [B, V] renormalised over the `top_k` most likely tokens and the smallest set whose probability
    reaches `top_p` (the usual nucleus rule: the most likely token is always kept); unchanged at top_p 1, top_k 0."""
    if top_k > 0 and top_k < logp.shape[-1]:
        kth = logp.topk(top_k, dim=-1).values[:, -1:]
        logp = logp.masked_fill(logp < kth, -math.inf)
    if top_p < 1:
        sorted_logp, order = logp.sort(dim=-1, descending=True)
        before = sorted_logp.exp().cumsum(dim=-1) - sorted_logp.exp()  # the mass of the tokens ahead of each one
        drop = torch.zeros_like(logp, dtype=torch.bool).scatter(-1, order, before >= top_p)
        logp = logp.masked_fill(drop, -math.inf)
    return torch.log_softmax(logp, dim=-1) if top_p < 1 or top_k > 0 else logp


def build_verbalizer(meta: Sidecar, device: torch.device | str | None = None) -> Verbalizer:
    av_meta = Sidecar(**{**meta.__dict__, "kind": "nla_model", "role": "av", "training": {}})
    return Verbalizer(load_causal_lm(meta.base_model, device=device), load_tokenizer(meta.base_model), av_meta)


def load_verbalizer(folder: Path, trainable: bool = False, device: torch.device | str | None = None, *, meta: Sidecar | None = None,
                    dtype: torch.dtype = torch.float32, device_map: str | dict | None = None) -> Verbalizer:
    """An AV folder (nlakit's or released). `meta`: its sidecar as already read (and completed) by the caller."""
    folder = Path(folder)
    meta = meta or Sidecar.load(folder)
    if meta.role not in (None, "av"):
        raise NLAError(f"{folder} is an {meta.role} folder, expected an AV")
    lm = load_adapted(folder, meta.base_model, trainable, device=device, dtype=dtype, device_map=device_map)
    return Verbalizer(lm, folder_tokenizer(folder, meta.base_model), meta).eval()
