"""`RoundTrip`: what explaining N vectors and rebuilding them from the explanations gives, as one result.

The AV explains each vector (greedy at temperature 0), the AR rebuilds it from the explanation, and the
result keeps all of it: the explanations and raw responses, the AR's reconstructions, mse_nrm, fve_nrm
and cos (each computed by metrics), and which generations parsed or were cut by the cap. Keeping the
reconstructions means nobody runs the AR a second time on the same explanations to get the vectors
back (the suite's retrieval and patching, the directions' `toward_direction`, the explorer's steering).

`RoundTrip.rows()` is the one shape a round trip is shown and saved in: the same keys (ROW_KEYS) in
`nlakit evaluate --save`, `explain --json`, the explorer's answers, the suite's rows and RL's samples.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .ar import Reconstructor
from .av import Verbalizer
from .config import EXPLANATION_TOKENS
from .dataset import VECTOR
from .metrics import Baseline, cos_from_mse, fve, fve_rows, score_rows
from .progress import progress
from .sidecar import check_vectors

PROGRESS_FROM = 16  # a round trip of this many vectors takes long enough on a CPU to show its progress
# what each row of a round trip says, in this order, wherever one is shown or saved
ROW_KEYS = ("explanation", "response", "mse_nrm", "fve_nrm", "fve_token_floor", "cos", "parsed", "capped", "retried", "activation_norm")


@dataclass(frozen=True)
class RoundTrip:
    """N vectors explained by the AV and rebuilt by the AR, with every figure of the result."""

    vectors: np.ndarray  # [N, d] float32: what was explained
    explanations: list[str]  # the parsed explanation, or the raw response where the closing tag never came
    responses: list[str]  # the raw generated text
    reconstructions: np.ndarray  # [N, d] the AR's prediction from each explanation ("" read where none parsed)
    mse_nrm: np.ndarray  # [N] float64; a failed generation scores metrics.FAILED_MSE
    fve_nrm: np.ndarray  # [N] against `baseline` (NaN without one)
    cos: np.ndarray  # [N] cosine of reconstruction and vector at the AR's scale (NaN for a raw-MSE AR)
    parsed: np.ndarray  # [N] bool
    capped: np.ndarray  # [N] bool: stopped by max_new_tokens before `</explanation>` (not parsed, so scored as failed)
    scale: float | str  # the AR's mse scale (Sidecar.resolved_mse_scale): what mse_nrm normalises to
    baseline: Baseline | None = None  # the FVE denominator and its name
    token_floor: np.ndarray | None = None  # [N] fve_nrm of the token AR on the same rows (floor.py; NLA.with_floor), where known
    retried: np.ndarray | None = None  # [N] bool: the greedy explanation failed and the row holds a sampled one (retry_failed)

    def __len__(self) -> int:
        return len(self.explanations)

    @property
    def fve(self) -> float:
        """The FVE of the whole set (failed rows at FAILED_MSE, as in every FVE nlakit reports); NaN without a baseline."""
        return fve(self.mse_nrm, self.baseline.value) if self.baseline is not None else math.nan

    @property
    def floor(self) -> float:
        """The token floor of the whole set (the mean of the rows' floors, as `fve` is of theirs); NaN where unknown."""
        return float(np.mean(self.token_floor)) if self.token_floor is not None and len(self.token_floor) else math.nan

    @property
    def ar_texts(self) -> list[str]:
        """What the AR read for each row: the explanation, or "" where none parsed (the text its reconstruction is of)."""
        return [e if ok else "" for e, ok in zip(self.explanations, self.parsed)]

    def shuffled_mse(self, order: np.ndarray) -> np.ndarray:
        """mse_nrm of each vector against the reconstruction of row `order[i]` (a failed row's scores FAILED_MSE): the shuffled
        control (metrics.derangement gives the order), from the reconstructions already made."""
        return score_rows(self.reconstructions[order], self.vectors, self.scale, ~self.parsed[order])

    def per_row(self) -> dict[str, list | np.ndarray | None]:
        """The fields that hold one entry per row (vectors, texts, figures, flags), by name: what take, replaced and joined
        handle alike. `scale` and `baseline` belong to the whole round trip."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("scale", "baseline")}

    def take(self, index: np.ndarray) -> RoundTrip:
        """The rows `index` of this round trip, in that order."""
        pick = lambda v: None if v is None else [v[i] for i in index] if isinstance(v, list) else np.asarray(v)[index]  # noqa: E731
        return dataclasses.replace(self, **{name: pick(v) for name, v in self.per_row().items()})

    def replaced(self, index: np.ndarray, other: RoundTrip) -> RoundTrip:
        """This round trip with rows `index` taken from `other` (its row i for index[i]). The token floors stay: they belong
        to the token, not to its explanation. A per-row field `other` lacks (None) keeps this one's values."""
        changed = {}
        for name, mine in self.per_row().items():
            theirs = getattr(other, name)
            if mine is None or theirs is None or name == "token_floor":
                continue
            new = list(mine) if isinstance(mine, list) else np.array(mine, copy=True)
            for i, value in zip(index, theirs):
                new[i] = value
            changed[name] = new
        return dataclasses.replace(self, **changed)

    @staticmethod
    def joined(parts: list[RoundTrip]) -> RoundTrip:
        """The rows of `parts` one after the other (a per-row field missing in any part is missing in the whole)."""
        fields = [p.per_row() for p in parts]
        def cat(name: str) -> list | np.ndarray | None:
            values = [f[name] for f in fields]
            if any(v is None for v in values):
                return None
            return [x for v in values for x in v] if isinstance(values[0], list) else np.concatenate(values)
        return dataclasses.replace(parts[0], **{name: cat(name) for name in fields[0]})

    def rows(self, context: list[dict] | None = None) -> list[dict]:
        """One dict per vector: the fields of `context[i]` (where the vector came from: document, position, token; its
        `activation_vector` left out), then ROW_KEYS. A figure that is undefined (fve_nrm without a baseline, cos of a
        raw-MSE AR) is None, so every row is valid JSON as it is."""
        context = context if context is not None else [{}] * len(self)
        norms = np.linalg.norm(self.vectors, axis=1)
        floors = self.token_floor if self.token_floor is not None else np.full(len(self), math.nan)
        retried = self.retried if self.retried is not None else np.zeros(len(self), bool)
        defined = lambda x: float(x) if math.isfinite(x) else None  # noqa: E731
        return [
            {**{k: v for k, v in where.items() if k != VECTOR}, "explanation": e, "response": r, "mse_nrm": float(m), "fve_nrm": defined(f),
             "fve_token_floor": defined(fl), "cos": defined(c), "parsed": bool(ok), "capped": bool(cut), "retried": bool(again),
             "activation_norm": float(n)}
            for where, e, r, m, f, fl, c, ok, cut, again, n in zip(context, self.explanations, self.responses, self.mse_nrm, self.fve_nrm,
                                                                   floors, self.cos, self.parsed, self.capped, retried, norms)
        ]


def roundtrip(av: Verbalizer, ar: Reconstructor, vectors: np.ndarray, max_new_tokens: int = EXPLANATION_TOKENS, temperature: float = 0.0,
              seed: int | None = None, batch_size: int | None = None, bf16: bool | None = None,
              on_batch: Callable[[int], None] | None = None, baseline: Baseline | None = None, top_p: float = 1.0,
              top_k: int = 0) -> RoundTrip:
    """The AV explains each vector, the AR rebuilds it from the explanation (once), metrics scores the reconstruction.

    A generation without its closing tag (or cut by the cap) is read by the AR as "" and scored FAILED_MSE.
    More than PROGRESS_FROM vectors get a progress bar on stderr (explained / total, rate, ETA), unless
    the caller passes `on_batch` to advance a bar of its own (one live bar at a time).
    """
    vectors = check_vectors(vectors, ar.meta.d_model, "activations to explain")
    with progress(disable=on_batch is not None or len(vectors) < PROGRESS_FROM) as bar:
        task = bar.add_task("explaining", total=len(vectors), info="")
        generation = av.generate(vectors, max_new_tokens=max_new_tokens, temperature=temperature, batch_size=batch_size,
                                 bf16=bf16, seed=seed, on_batch=on_batch or (lambda n: bar.advance(task, n)), top_p=top_p, top_k=top_k)
    parsed = np.array([e is not None for e in generation.explanations], dtype=bool)
    capped = np.array([len(ids) >= max_new_tokens for ids in generation.token_ids], dtype=bool) & ~parsed
    reconstructions = np.asarray(ar.reconstruct([e if e is not None else "" for e in generation.explanations], bf16=bf16), np.float32)
    scale = ar.meta.resolved_mse_scale
    mse = score_rows(reconstructions, vectors, scale, ~parsed)
    explanations = [e if e is not None else t for e, t in zip(generation.explanations, generation.texts)]
    return RoundTrip(vectors, explanations, list(generation.texts), reconstructions, mse,
                     fve_rows(mse, baseline.value if baseline is not None else math.nan),
                     np.asarray(cos_from_mse(mse, ar.meta.d_model, scale), np.float64), parsed, capped, scale, baseline)


def pick_best(samples: RoundTrip, n: int) -> RoundTrip:
    """Best-of-N: `samples` holds N explanations of each vector in a row (np.repeat order); keep, per vector, the one the
    AR rebuilds best. The pick reads the vector being explained, which an explanation of it may do: the AV is the
    proposal, the AR the judge. Its shuffled control (shuffled_mse) shows how much of the gain any vector would get."""
    if len(samples) % n:
        raise ValueError(f"{len(samples)} samples are not {n} per vector")
    return samples.take(samples.mse_nrm.reshape(-1, n).argmin(axis=1) + np.arange(len(samples) // n) * n)


def retry_failed(result: RoundTrip, explain_again: Callable[[np.ndarray, int], RoundTrip], retries: int) -> RoundTrip:
    """`result` with each failed row (no closing tag: on a small AV mostly greedy decoding looping inside a quote) explained
    again by `explain_again(vectors, try)`, up to `retries` times; the first explanation that parses replaces the failure.

    Chosen by parsing alone, never by the AR's score: a retried row is still one reading of its vector, not a best-of-N,
    so its FVE and its shuffled control mean what the greedy ones do. Rows that fail every try stay failed (scored 2.0).
    """
    merged = dataclasses.replace(result, retried=np.zeros(len(result), bool) if result.retried is None else result.retried.copy())
    for attempt in range(retries):
        failed = np.flatnonzero(~merged.parsed)
        if not len(failed):
            break
        again = explain_again(merged.vectors[failed], attempt)
        fixed = failed[again.parsed]
        if len(fixed):
            kept = again.take(np.flatnonzero(again.parsed))
            merged = merged.replaced(fixed, dataclasses.replace(kept, retried=np.ones(len(fixed), bool)))
    return merged
