"""How the neuron dictionary scores a description: the field's two tests, on held-out tokens only.

A scorer is a simulator: given only a neuron's description it predicts the neuron's activation at
held-out tokens (`Scorer.predict(descriptions, heldout, needed) -> [tokens, neurons]`). Two figures
follow from the prediction, as the field computes them:
- detection AUROC (delphi's detection, as a ranking): the neuron's held-out top-activating tokens
  against random held-out tokens, ranked by the prediction; ties count half, so a description that
  predicts nothing scores 0.5. Undefined (NaN, said so) when a class is empty: a dead unit never
  rises above its typical held-out activation, so it has no top tokens to tell apart;
- simulation (Bills et al. 2023): Pearson correlation between predicted and actual activation over
  the top and the random held-out tokens. NaN when the activation is constant there; 0 when the
  prediction is constant while the activation is not (the description predicts nothing).

Scorers: `lexical` matches the description's terms against the token, its last words and the token
after it (a simulator that reads the text, as an LLM simulator would, only cruder); `explanation`
matches the same terms against the held-out token's own NLA explanation; `ar` is the cosine of the
AR's reconstruction of the description to the token's layer-K vector; `api` asks an
OpenAI-compatible chat model for a 0-10 activation per context.

Baselines beside every score: another neuron's description (a derangement; undefined with one
neuron), the token-only description (the neuron's most frequent top tokens: what a lookup table
says), and a ceiling that needs no description: a ridge probe from the layer-K vector to the
activation, fit on training tokens — what any reading of that vector could reach.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ..core.errors import NLAError
from ..core.metrics import auroc, derangement, normalize, pearson
from ..core.prompts import explanation_fields, format_explanation, words

SCORERS = ("lexical", "explanation", "ar", "api")
QUOTE_WORDS, TOPIC_WORDS = 8, 40  # the context words a quoted word / a topic word is looked for in
TOKEN_ONLY_TERMS = 3  # tokens in a token-only description
# how much a matched term of each field counts, times its lift: the token read is the strongest evidence of where a neuron
# fires (as a reader of "token: 'bread' 6/6" would weigh it); a quoted or topic word also matches the tokens around it
FIELD_WEIGHTS = {"token": 4.0, "quoted": 1.0, "next": 1.0, "topic": 0.5, "genre": 0.5}
def norm_token(token: str) -> str:
    """How a next token is compared: stripped, lower case (' The' and 'the' are one prediction)."""
    return token.strip().lower()


@dataclass
class Description:
    """What a scorer reads: `human` (an LLM scorer), `text` (the AR: the explanations' shape), `terms` (field, item,
    weight) for the term matchers, the weight being how far the term is lifted over the corpus."""

    human: str
    text: str
    terms: list[tuple[str, str, float]] = field(default_factory=list)


def token_only(tokens: list[str], k: int) -> Description:
    """The lookup-table description: the neuron's most frequent top tokens, nothing else."""
    counts = Counter(w[-1] for w in (words(t) for t in tokens) if w).most_common(TOKEN_ONLY_TERMS)
    if not counts:
        return Description("no word token among its top contexts", format_explanation("text", [], "", []), [])
    human = "the tokens " + ", ".join(f"{w!r} {n}/{k}" for w, n in counts)
    return Description(human, format_explanation("text", [], counts[0][0], []), [("token", w, n / k) for w, n in counts])


@dataclass
class HeldOut:
    """The held-out tokens scored (never used to write a description): their text, explanations and layer-K vectors."""

    keys: np.ndarray  # [H]
    tokens: list[str]
    contexts: list[str]  # the text up to and including the token
    next_tokens: list[str]  # the token after it ('' at a document's end)
    explanations: list[str | None]  # their NLA explanations (None: not explained)
    vectors: np.ndarray  # [H, d]


class Scorer(Protocol):
    name: str

    def predict(self, descriptions: list[Description], heldout: HeldOut, needed: list[np.ndarray]) -> np.ndarray:
        """[H, N] predicted activation; `needed[j]`: the rows neuron j is scored on (others may be NaN)."""
        ...


def term_features(fields: dict[str, set[str]]) -> set[str]:
    return {f"{name}\x1f{item}" for name, items in fields.items() for item in items}


def term_weights(descriptions: list[Description]) -> tuple[dict[str, int], np.ndarray]:
    """Feature -> column, and [F, N] weights: a topic phrase is split into its words, sharing its weight."""
    pairs: list[tuple[str, int, float]] = []
    for j, d in enumerate(descriptions):
        for name, item, weight in d.terms:
            parts = words(item) if name in ("topic", "quoted") else [norm_token(item) if name == "next" else item.lower()]
            pairs += [(f"{name}\x1f{p}", j, FIELD_WEIGHTS.get(name, 1.0) * weight / len(parts)) for p in parts if p]
    index = {f: i for i, f in enumerate(dict.fromkeys(p[0] for p in pairs))}
    weights = np.zeros((len(index), len(descriptions)), np.float32)
    for feature, j, weight in pairs:
        weights[index[feature], j] += weight
    return index, weights


class TermMatcher:
    """Weighted terms matched against what a held-out token offers (`features(heldout, i)`); the prediction is their sum."""

    name = "terms"

    def features(self, heldout: HeldOut, i: int) -> set[str]:
        raise NotImplementedError

    def predict(self, descriptions: list[Description], heldout: HeldOut, needed: list[np.ndarray]) -> np.ndarray:
        index, weights = term_weights(descriptions)
        if getattr(self, "_read", (None,))[0] is not heldout:  # each token's features, read once for every block of neurons
            self._read = (heldout, [self.features(heldout, i) for i in range(len(heldout.keys))])
        out = np.zeros((len(heldout.keys), len(descriptions)), np.float32)
        for i, features in enumerate(self._read[1]):  # a token matches a few terms: sum their rows of the [F, N] weights
            matched = [index[f] for f in features if f in index]
            if matched:
                out[i] = weights[matched].sum(0)
        return out


class LexicalScorer(TermMatcher):
    """The description's terms against the token itself, its last words of context and the token after it."""

    name = "lexical"

    def features(self, heldout: HeldOut, i: int) -> set[str]:
        context = words(heldout.contexts[i])
        return term_features({"token": set(context[-1:]), "quoted": set(context[-QUOTE_WORDS:]), "topic": set(context[-TOPIC_WORDS:]),
                              "next": {norm_token(heldout.next_tokens[i])} - {""}})


class ExplanationScorer(TermMatcher):
    """The description's terms against the held-out token's own NLA explanation (token read, quoted words, topics,
    predicted next tokens, genre): the NLA's reading of each token, scored without any text the scorer reads itself."""

    name = "explanation"

    def features(self, heldout: HeldOut, i: int) -> set[str]:
        if heldout.explanations[i] is None:
            raise NLAError("the explanation scorer needs the held-out tokens explained")
        f = explanation_fields(heldout.explanations[i])
        topics = {w for t in f["topics"] for w in words(t)}
        return term_features({"token": {f["last_word"]} - {""}, "quoted": set(f["quoted"]), "topic": topics,
                              "next": {norm_token(t) for t in f["next"]} - {""}, "genre": {f["genre"]} - {""}})


@dataclass
class ARScorer:
    """cos(AR(description in the explanations' shape), the token's layer-K vector), less the token's mean cosine to the
    reconstructions of every description in `centre` (the dictionary's own).

    Uncentred, a token that lies close to every description's reconstruction (an ordinary token in ordinary text)
    outranks a neuron's top tokens whatever the description says: the shuffled control sat at a median AUROC of
    0.35 on the shipped layer 20, not 0.5. Subtracting what the average description predicts for each token leaves
    what this description says about it; every variant (own, token-only, shuffled) is centred on the same mean."""

    reconstruct: Callable[[list[str]], np.ndarray]
    centre: list[str] = field(default_factory=list)
    name: str = "ar"

    def unit(self, texts: list[str]) -> np.ndarray:
        memo = self.__dict__.setdefault("_memo", {})  # the shuffled control reads the same texts again: reconstruct once
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        if todo:
            memo.update(zip(todo, self.reconstruct(todo)))
        return normalize(np.stack([memo[t] for t in texts]).astype(np.float64), 1.0)

    def predict(self, descriptions: list[Description], heldout: HeldOut, needed: list[np.ndarray]) -> np.ndarray:
        tokens = normalize(heldout.vectors.astype(np.float64), 1.0)
        cos = tokens @ self.unit([d.text for d in descriptions]).T
        if self.centre:
            offset = self.__dict__.get("_offset")
            if offset is None or offset[0] is not heldout:
                self._offset = offset = (heldout, tokens @ self.unit(self.centre).mean(0))
            cos = cos - offset[1][:, None]
        return cos.astype(np.float32)


API_PROMPT = """A neuron in a language model is described as follows:
{description}

Below are numbered text snippets; in each, the token the neuron reads is marked [[like this]].
For each snippet, how strongly does the neuron fire on the marked token, from 0 (not at all) to 10 (as strongly as it ever does)?
Answer with one line per snippet, `number: activation`, and nothing else.

{contexts}"""
_ANSWER = re.compile(r"^\s*(\d+)\s*[:.)-]\s*(\d+(?:\.\d+)?)", re.M)


class AnswerCache:
    """An API model's answers, parsed, by their prompt's hash in a JSON-lines file: a killed run asks only what it lacks."""

    def __init__(self, path: Path):
        self.path = path
        lines = path.read_text().splitlines() if path.exists() else []
        self.answers = {item["prompt"]: item["answer"] for item in map(json.loads, lines)}

    def get(self, prompt: str, ask: Callable[[str], str | None], parse: Callable[[str], object]) -> object:
        """`parse` of the answer to `prompt` (asked only if not cached; a failed ask parses as an empty answer)."""
        digest = hashlib.sha256(prompt.encode()).hexdigest()
        if digest not in self.answers:
            self.answers[digest] = parse(ask(prompt) or "")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps({"prompt": digest, "answer": self.answers[digest]}) + "\n")
        return self.answers[digest]


@dataclass
class APIScorer:
    """An OpenAI-compatible chat model as the simulator (the teacher's client, `stages.teach.APITeacher.ask`): each
    neuron's scored contexts in batches of `batch`, each answer cached by its prompt's hash in `cache` (AnswerCache)."""

    ask: Callable[[str], str | None]
    cache: Path
    batch: int = 20
    negatives: int | None = 20  # random held-out contexts asked about per neuron, beside its top ones (None: all)
    name: str = "api"

    def predict(self, descriptions: list[Description], heldout: HeldOut, needed: list[np.ndarray]) -> np.ndarray:
        out = np.full((len(heldout.keys), len(descriptions)), np.nan, np.float32)
        answers = AnswerCache(self.cache)
        for j, (description, rows) in enumerate(zip(descriptions, needed)):
            for start in range(0, len(rows), self.batch):
                chunk = rows[start : start + self.batch]
                snippets = "\n".join(f"{n + 1}. {marked(heldout.contexts[i], heldout.tokens[i])}" for n, i in enumerate(chunk))
                prompt = API_PROMPT.format(description=description.human, contexts=snippets)
                rated = answers.get(prompt, self.ask, lambda text: parse_activations(text, len(chunk)))  # noqa: B023 (called at once)
                out[chunk, j] = [math.nan if a is None else a for a in rated]
        return out


def marked(context: str, token: str, chars: int = 300) -> str:
    """The end of a context with its last token marked [[...]] (newlines shown as spaces)."""
    head = context[: len(context) - len(token)] if token and context.endswith(token) else context
    return ("…" + head[-chars:] + "[[" + token + "]]").replace("\n", " ")


def parse_activations(answer: str, n: int) -> list[float | None]:
    """`number: activation` lines -> n values in [0, 10] (None: the line is missing)."""
    found: dict[int, float] = {}
    for number, value in _ANSWER.findall(answer):
        found.setdefault(int(number), min(max(float(value), 0.0), 10.0))
    return [found.get(i + 1) for i in range(n)]


# ---------------------------------------------------------------- the evaluation set and the figures


@dataclass
class Targets:
    """Per neuron: the held-out rows scored (its top tokens that count as activating, then the random ones) and the
    actual activation there; `positives[j]` how many of the rows lead."""

    rows: list[np.ndarray]
    actual: list[np.ndarray]
    positives: list[int]

    def subset(self, cols: range | list[int]) -> Targets:
        """The targets of neurons `cols` only (a block of them, scored at once)."""
        return Targets([self.rows[j] for j in cols], [self.actual[j] for j in cols], [self.positives[j] for j in cols])


def targets(heldout_keys: np.ndarray, detect_keys: np.ndarray, detect_values: np.ndarray, random_keys: np.ndarray,
            random_acts: np.ndarray) -> Targets:
    """A top token is a positive when it is above the neuron's median on the random held-out tokens (a dead unit has none);
    the random tokens (less the neuron's positives) are the negatives, and all of them are the simulation set."""
    where = {int(k): i for i, k in enumerate(heldout_keys)}
    random_rows = np.array([where[int(k)] for k in random_keys], np.int64)
    rows, actual, positives = [], [], []
    for j in range(detect_keys.shape[1]):
        typical = float(np.median(random_acts[:, j]))
        keep = np.isfinite(detect_values[:, j]) & (detect_values[:, j] > typical)
        top = np.array([where[int(k)] for k in detect_keys[keep, j]], np.int64)
        negative = ~np.isin(random_rows, top)
        rows.append(np.concatenate([top, random_rows[negative]]))
        actual.append(np.concatenate([detect_values[keep, j], random_acts[negative, j]]).astype(np.float64))
        positives.append(len(top))
    return Targets(rows, actual, positives)


def figures(pred: np.ndarray, t: Targets) -> tuple[np.ndarray, np.ndarray]:
    """(detection AUROC, simulation Pearson) per neuron of `pred` [H, N]; rows a scorer left NaN are left out."""
    aucs, rs = np.full(len(t.rows), np.nan), np.full(len(t.rows), np.nan)
    for j, (rows, actual, n_pos) in enumerate(zip(t.rows, t.actual, t.positives)):
        p = pred[rows, j].astype(np.float64)
        ok = np.isfinite(p)
        aucs[j] = auroc(p[:n_pos][ok[:n_pos]], p[n_pos:][ok[n_pos:]])
        p, a = p[ok], actual[ok]
        if len(p) > 1 and np.ptp(a) > 0:
            rs[j] = 0.0 if np.ptp(p) == 0 else pearson(p, a)
    return aucs, rs


def scored(scorer: Scorer, descriptions: list[Description], baseline: list[Description], heldout: HeldOut, t: Targets,
           seed: int, block: int = 512) -> dict[str, np.ndarray]:
    """The scorer's figures for the descriptions, the token-only ones and the shuffled control, in blocks of neurons:
    {auroc_<scorer>[_token_only|_shuffled], pearson_<scorer>[...]: [N]}."""
    n = len(descriptions)
    shuffled = derangement(n, np.random.default_rng(seed)) if n > 1 else None
    out = {f"{m}_{scorer.name}{s}": np.full(n, np.nan) for m in ("auroc", "pearson") for s in ("", "_token_only", "_shuffled")}
    for start in range(0, n, block):
        cols = list(range(start, min(start + block, n)))
        sub = t.subset(cols)
        for suffix, chosen in (("", [descriptions[j] for j in cols]), ("_token_only", [baseline[j] for j in cols]),
                               ("_shuffled", None if shuffled is None else [descriptions[shuffled[j]] for j in cols])):
            if chosen is None:  # one neuron: no other description to shuffle in, never its own
                continue
            limit = getattr(scorer, "negatives", None)  # a scorer that pays per context asks about fewer random ones
            needed = sub.rows if limit is None else [r[: n_pos + limit] for r, n_pos in zip(sub.rows, sub.positives)]
            aucs, rs = figures(scorer.predict(chosen, heldout, needed), sub)
            out[f"auroc_{scorer.name}{suffix}"][cols], out[f"pearson_{scorer.name}{suffix}"][cols] = aucs, rs
    return out


def ridge_ceiling(shared_x: np.ndarray, shared_y: np.ndarray, own_x: list[np.ndarray], own_y: list[np.ndarray], heldout: HeldOut,
                  t: Targets, alpha: float = 1.0, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """A ridge probe per neuron from the (unit-norm) layer-K vector to the activation, fit on training tokens (the shared
    ordinary tokens `shared_x` [B, d] with every neuron's activation `shared_y` [B, N], plus the neuron's own top-k), scored
    like a description: the ceiling of what any reading of the layer-K vector could reach, no description needed.

    Each neuron adds only its k top tokens to the shared Gram matrix, so one inverse serves all (Woodbury identity). The
    held-out predictions are made a block of neurons at a time, one matrix product each: [held-out, N] at once is 6.7 GB
    for the 46,080 neurons of SmolLM2."""
    with_bias = lambda x: np.hstack([normalize(x.astype(np.float64), 1.0), np.ones((len(x), 1))])  # noqa: E731
    xb, x_held = with_bias(shared_x), with_bias(heldout.vectors)
    inverse = np.linalg.inv(xb.T @ xb + alpha * np.eye(xb.shape[1]))
    base = xb.T @ shared_y.astype(np.float64)  # [d + 1, N]
    aucs, rs = np.full(len(own_x), np.nan), np.full(len(own_x), np.nan)
    for start in range(0, len(own_x), block):
        cols = range(start, min(start + block, len(own_x)))
        weights = np.zeros((xb.shape[1], len(cols)))
        for c, j in enumerate(cols):
            u = with_bias(own_x[j])  # [k, d + 1]
            a_b = inverse @ (base[:, j] + u.T @ own_y[j].astype(np.float64))
            ua = u @ inverse
            weights[:, c] = a_b - ua.T @ np.linalg.solve(np.eye(len(u)) + ua @ u.T, u @ a_b)
        aucs[cols.start : cols.stop], rs[cols.start : cols.stop] = figures(x_held @ weights, t.subset(cols))
    return aucs, rs
