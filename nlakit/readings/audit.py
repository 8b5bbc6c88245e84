"""`nlakit audit`: read a transcript's activations for what the model thinks and does not say, with evidence and guards.

Read top to bottom, the audit is:
1. input: chat JSON (a list of {role, content}, rendered with the tokenizer's chat template), JSONL of such
   conversations, or plain text, each a `Transcript` that knows which turn every character belongs to;
2. reading: the audited model's layer-K vector at every token. `--model` reads a fine-tune of the NLA's target
   through the NLA as shipped (the AV and AR stay the same); the output records which model was read;
3. selection: the token budget (all, one role's turns, every N-th token, or the tokens whose explanation departs
   most from the text), explained once, greedily, each scored by the round trip (its FVE);
4. flags: concepts the user names, matched in the explanations' words and through the AR (the token's vector is
   closer to AR(concept) than to AR(the concept's letters scrambled)); else the terms the explanations repeat far
   more than a reference set's explanations do (counted in DuckDB by the dictionary's `lifted_terms`) and that the
   transcript's text never contains: thought, not said;
5. evidence and guards: every flag keeps its tokens (context, explanation, FVE) and samples more explanations of
   the same vectors; each guard is reported, never applied silently: the minimum FVE, the agreement of the samples,
   the control (the same flag on the reference set's vectors: does the AV say it of any text?) and, with
   `--reference-model`, the same transcript read through another model (what only the audited model thinks);
6. outputs: JSON for machines, and one self-contained page (report.page) with the flagged spans highlighted; a run that
   writes them keeps each transcript's reads in `<out>.work` as they finish (`kept_reads`), so a killed run resumes.
   Under torchrun or `accelerate launch` (a released NLA on several GPUs, or many transcripts), process i reads
   transcripts i, i + N, ...; they share their reads through that work folder, and the first does the rest and writes.

A flag is a correlational reading of what the activations carry, not proof of why the model acted (FRAMING).
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from transformers import PreTrainedModel

from ..core.config import AuditConfig, LoadConfig
from ..core.corpus import Document, guess_genre
from ..core.distributed import data_parallel, is_main_process, wait_for_everyone
from ..core.errors import NLAError
from ..core.files import StageRun, atomic_write, atomic_write_text, check_output_file, provenance, to_json
from ..core.metrics import normalize
from ..core.models import hidden_size, load_causal_lm, load_tokenizer
from ..core.nla import NLA, decoding, source_folders
from ..core.progress import note, progress
from ..core.prompts import STOPWORDS, WORD, explanation_fields, format_explanation, words
from ..core.reading import extract_documents
from ..core.report import page, script_data
from .neurons import lifted_terms

ROLES = ("system", "user", "assistant", "tool")
FRAMING = ("A flag is a correlational reading of what the activations carry, not proof of why the model acted: read its "
           "evidence and guards before relying on it.")
EVIDENCE_TOKENS = 3  # tokens per finding whose vectors are sampled again (the agreement guard): enough to judge, cheap
CONTEXT_CHARS = 200  # the end of each token's context kept as evidence
LABELS = re.compile(r"\b(topic|Ends with|Next|Reads)\s*:", re.I)  # the template's own words are no term of what is read


# ---------------------------------------------------------------- 1. input


@dataclass
class Transcript:
    """One conversation (or text) as the model reads it."""

    name: str
    text: str  # the chat template's rendering, or the plain text
    templated: bool  # rendered by a chat template: tokenised as it is (no second BOS)
    turns: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, role) of each message's content in `text`


def check_messages(messages: object, where: str) -> list[dict]:
    """A conversation: a non-empty list of {role, content} with a known role and text content (or {"messages": [...]})."""
    if isinstance(messages, dict) and "messages" in messages:
        messages = messages["messages"]
    if not isinstance(messages, list) or not messages:
        raise NLAError(f"{where}: a conversation is a non-empty list of {{\"role\", \"content\"}} messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise NLAError(f"{where}: message {i} must be {{\"role\": ..., \"content\": \"text\"}}")
        if m["role"] not in ROLES:
            raise NLAError(f"{where}: message {i} has the unknown role {m['role']!r}: use one of {', '.join(ROLES)}")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def parse_json(raw: str, where: str) -> object:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise NLAError(f"{where}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None


def names_file(value: str) -> bool:
    """Whether a TRANSCRIPT argument names a file (else it is the text itself)."""
    try:
        return Path(value).is_file()
    except (OSError, ValueError):  # a long text is no file name
        return False


def read_input(value: str) -> list[tuple[str, list[dict] | str]]:
    """(name, messages or plain text) of one TRANSCRIPT argument: a .json file (one conversation), a .jsonl file (one per
    line), any other file (plain text), or the argument itself (a chat when it is JSON, else plain text)."""
    path = Path(value) if names_file(value) else None
    if path is not None:
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise NLAError(f"{path} is not UTF-8 text") from None
        if path.suffix == ".jsonl":
            found = [(f"{path.name}:{n}", check_messages(parse_json(line, f"{path} line {n}"), f"{path} line {n}"))
                     for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
            if not found:
                raise NLAError(f"{path} holds no conversations")
            return found
        if path.suffix == ".json":
            return [(path.name, check_messages(parse_json(raw, str(path)), str(path)))]
        name, text = path.name, raw
    else:
        name, text = "text", value
    if text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, (list, dict)):
            return [(name, check_messages(data, name))]
    if not text.strip():
        raise NLAError(f"{name} is empty: give a transcript (chat .json, .jsonl or text)")
    return [(name, text)]


def render(tokenizer: object, name: str, conversation: list[dict] | str) -> Transcript:
    """The transcript as the model reads it: a chat through the tokenizer's template, with each message's place in the text."""
    if isinstance(conversation, str):
        return Transcript(name, conversation, False)
    if not getattr(tokenizer, "chat_template", None):
        raise NLAError(f"{name} is a chat and this tokenizer has no chat template: give plain text")
    text = str(tokenizer.apply_chat_template(conversation, tokenize=False))  # type: ignore[attr-defined]
    turns, cursor = [], 0
    for i, message in enumerate(conversation):
        start = text.find(message["content"], cursor)
        if start < 0:
            raise NLAError(f"{name}: the chat template does not write message {i}'s text as given (it rewrites it)")
        cursor = start + len(message["content"])
        turns.append((start, cursor, message["role"]))
    return Transcript(name, text, True, turns)


def load_transcripts(tokenizer: object, values: list[str]) -> list[Transcript]:
    found = [item for value in values for item in read_input(value)]
    if not found:
        raise NLAError("give at least one transcript (chat .json, .jsonl or text)")
    names = [name for name, _ in found]
    return [render(tokenizer, name if names.count(name) == 1 else f"{name}#{i}", conv) for i, (name, conv) in enumerate(found)]


# ---------------------------------------------------------------- 2. reading: the audited model's vectors


def audited_model(nla: NLA, name: str | None) -> PreTrainedModel:
    """The model whose activations are read: the NLA's target, or `name` (a fine-tune of it: same width and vocabulary)."""
    if name is None:
        return nla.target
    try:
        model = load_causal_lm(name, dtype=next(nla.target.parameters()).dtype)
    except (OSError, ValueError) as err:
        raise NLAError(f"cannot load the model {name}: {str(err).strip().splitlines()[0][:200] if str(err).strip() else err}") from None
    check_compatible(nla, model, name)
    try:
        tokenizer = load_tokenizer(name)
    except (OSError, ValueError, TypeError):  # a folder of weights only: the NLA's tokenizer is the one used
        return model
    if tokenizer.get_vocab() != nla.tokenizer.get_vocab():
        raise NLAError(f"{name}'s tokenizer differs from the NLA target's ({nla.meta.base_model}): the NLA cannot read it")
    return model


def check_compatible(nla: NLA, model: PreTrainedModel, name: str) -> None:
    if hidden_size(model) != nla.meta.d_model:
        raise NLAError(f"{name} has width {hidden_size(model)}; the NLA reads width {nla.meta.d_model} ({nla.meta.base_model})")


def read_tokens(nla: NLA, target: PreTrainedModel, transcript: Transcript, max_length: int | None = None) -> list[dict]:
    """Every token's row (reading.extract_documents: position, token, context, activation_vector) plus its turn's role.

    A transcript longer than the NLA reads (the max_length it was trained with, or `max_length`) is refused, never cut."""
    tokenizer = nla.tokenizer
    limit = max_length or nla.extract_config().max_length
    encoded = tokenizer(transcript.text, add_special_tokens=not transcript.templated, return_offsets_mapping=tokenizer.is_fast)
    if len(encoded["input_ids"]) > limit:
        raise NLAError(f"{transcript.name} has {len(encoded['input_ids'])} tokens; the NLA reads at most {limit}: split it")
    cfg = nla.extract_config(max_length=limit)
    doc = Document(transcript.name, transcript.text, guess_genre(transcript.text), templated=transcript.templated)
    rows = list(extract_documents(target, tokenizer, [doc], cfg, nla.meta.layer_index, all_positions=True))
    offsets = encoded.get("offset_mapping") or [(0, 0)] * len(encoded["input_ids"])
    for row in rows:
        start, end = offsets[row["position"]]
        row["role"] = next((role for s, e, role in transcript.turns if s <= start < e and end > start), None)
    if not rows:
        raise NLAError(f"{transcript.name} has no tokens to read")
    return rows


# ---------------------------------------------------------------- 3. selection and explanation


def terms(explanation: str) -> list[str]:
    """The content words of an explanation, lower case, once each (the template's labels and stop words left out).

    The genre field (the first part of `genre; topic: a, b.`, as `explanation_fields` parses it) is left out too: it
    names the kind of text being read ("story", "code", "poetry"), which the AV says of most text from the corpus it
    was trained on, not a concept the model thinks of. Counted, those labels filled the top terms of the secret-word
    benchmark (docs/measurements/secret-word.md). Only the field's own words go: the same word in the topic still
    counts."""
    genre = [w.lower().strip("'-") for w in WORD.findall(str(explanation_fields(explanation)["genre"]))]
    found = [w.lower().strip("'-") for w in WORD.findall(LABELS.sub(" ", explanation))]
    for w in genre:  # the genre field comes first: its words are the first occurrences of those words
        if w in found:
            found.remove(w)
    return list(dict.fromkeys(w for w in found if w not in STOPWORDS))


def said(text: str) -> set[str]:
    """Every word the text itself contains (lower case), against which a term is `thought, not said`."""
    return set(words(text))


def in_text(term: str, words: set[str]) -> bool:
    return term in words or f"{term}s" in words or (term.endswith("s") and term[:-1] in words)


def departure(explanation: str, context: str) -> float:
    """Share of the explanation's terms absent from the text so far: how far it departs from what was written."""
    found = terms(explanation)
    return sum(not in_text(t, said(context)) for t in found) / len(found) if found else 0.0


def candidates(rows: list[dict], cfg: AuditConfig, name: str) -> list[int]:
    """The tokens the selection may read, before the budget."""
    if cfg.select == "role":
        if cfg.role not in ROLES:
            raise NLAError(f"--role {cfg.role!r} is unknown: use one of {', '.join(ROLES)}")
        chosen = [i for i, r in enumerate(rows) if r["role"] == cfg.role]
        if not chosen:
            raise NLAError(f"{name} has no {cfg.role} turn to read (--select role --role {cfg.role})")
        return chosen
    if cfg.select == "stride":
        return list(range(0, len(rows), cfg.stride))
    return list(range(len(rows)))


def explain(nla: NLA, rows: list[dict], cfg: AuditConfig, name: str, on_batch: Callable[[int], None] | None = None) -> list[dict]:
    """The selected tokens, each with its greedy explanation, FVE and terms (`--select depart`: every token is explained and
    the `budget` departing most are kept). `on_batch`: a bar of the caller's own (the round trip then shows none)."""
    chosen = candidates(rows, cfg, name)
    if cfg.select != "depart":
        chosen = chosen[: cfg.budget]
    result = nla.roundtrip(np.stack([rows[i]["activation_vector"] for i in chosen]), cfg.max_new_tokens, on_batch=on_batch)
    read = [{"index": i, **{k: rows[i][k] for k in ("position", "token", "role")}, "context": rows[i]["context"][-CONTEXT_CHARS:],
             "explanation": r["explanation"], "fve_nrm": r["fve_nrm"], "parsed": r["parsed"],
             "terms": terms(r["explanation"]) if r["parsed"] else [], "vector": rows[i]["activation_vector"]}
            for i, r in zip(chosen, result.rows())]
    if cfg.select == "depart":
        for r in read:
            r["departure"] = departure(r["explanation"], r["context"]) if r["parsed"] else 0.0
        read = sorted(sorted(read, key=lambda r: -r["departure"])[: cfg.budget], key=lambda r: r["index"])
    return read


@dataclass
class Reference:
    """Explanations of ordinary text (built-in held-out documents, through the NLA's own target): the rates a term is
    counted against, and the control vectors (a flag the AV raises on them too is its prior, not the transcript's)."""

    reads: list[dict]

    @classmethod
    def build(cls, nla: NLA, cfg: AuditConfig, work: Path | None = None) -> Reference:
        """`work`: the run's work folder, where the set is kept once explained (`kept_reads`)."""
        docs = nla.heldout_documents(-(-cfg.reference_tokens // 2))  # two tokens a document: many texts, few read

        def explained() -> list[dict]:
            rows = nla.activations(docs, positions_per_doc=2)[: cfg.reference_tokens]
            if not rows:
                raise NLAError("the built-in held-out documents give no tokens for the reference set")
            result = nla.roundtrip(np.stack([r["activation_vector"] for r in rows]), cfg.max_new_tokens)
            return [{"explanation": r["explanation"], "terms": terms(r["explanation"]) if r["parsed"] else [], "parsed": r["parsed"],
                     "vector": row["activation_vector"]} for row, r in zip(rows, result.rows())]

        return cls(kept_reads(work, "reference-set", [[d.doc_id, d.text, d.templated] for d in docs], explained))


# ---------------------------------------------------------------- kept reads: a killed run resumes


def kept_reads(work: Path | None, kind: str, source: object, make: Callable[[], list[dict]]) -> list[dict]:
    """`make()`'s reads (explained tokens with their vectors), kept as one JSON file in the run's work folder `work` as soon
    as they are made, so that a rerun after a kill explains only what is missing; without a work folder, just `make()`.

    What decides the reads is recorded in two places, as in every stage: the work folder's run record (StageRun: the NLA's
    contents, the models read, the selection settings, dtype and device) and each file's own header (`made_from`: what it
    read, `source`, and the file itself, `made_here`, as the teach cache records). A file from another source, a copied
    or received one, or one that cannot be read is ignored with a note and made again: never trusted."""
    if work is None:
        return make()
    made_from = {"kind": kind, "source": hashlib.sha256(json.dumps(source, ensure_ascii=False).encode()).hexdigest()[:16]}
    path = work / f"{kind}-{made_from['source']}.json"
    saved = saved_reads(path, made_from)
    if saved is not None:
        return saved
    reads = make()
    dtype = str(reads[0]["vector"].dtype) if reads else "float32"
    atomic_write(path, lambda tmp: tmp.write_text(to_json({"made_from": provenance(made_from, tmp), "vector_dtype": dtype,
                                                           "reads": reads}), encoding="utf-8"))
    return reads


def check_shared_work(has_work: bool) -> None:
    """Several processes share their reads through the work folder of a run that writes an output: without one, refused."""
    if not has_work and data_parallel()[1] > 1:
        raise NLAError("an audit under several processes needs --out or --html: its processes share their reads through <out>.work")


def saved_reads(path: Path, made_from: dict) -> list[dict] | None:
    """The reads `kept_reads` saved at `path` for `made_from`, vectors in their own dtype again (so that a resumed run's result
    is the uninterrupted run's, to the bit); None when there are none to trust."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        header, reads, dtype = data["made_from"], data["reads"], np.dtype(data["vector_dtype"])
        if header != provenance(made_from, path) or dtype.kind != "f":
            raise ValueError("made elsewhere or from something else")
        for r in reads:
            r["vector"] = np.asarray(r["vector"], dtype)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):  # JSONDecodeError is a ValueError
        note(f"ignored {path}: it was made from another transcript or set, elsewhere (a copied or received folder), or cannot "
             "be read; its tokens are explained again")
        return None
    return reads


# ---------------------------------------------------------------- 4. flags


def parse_concepts(spec: str) -> list[str]:
    concepts = list(dict.fromkeys(c.strip().lower() for c in spec.split(",") if c.strip()))
    if not concepts:
        raise NLAError("--concepts is empty: give concepts separated by commas, e.g. \"deception, evaluation\", or leave it out")
    return concepts


def scrambled(word: str, rng: np.random.Generator) -> str:
    """The control text's word: the same letters in another order (same length and shape, no meaning)."""
    letters = list(word)
    for _ in range(10):
        rng.shuffle(letters)
        if "".join(letters) != word:
            break
    return "".join(letters)


@dataclass
class Concepts:
    """Named concepts, each with the AR's reading of it and of a scrambled control, written in the explanations' shape."""

    names: list[str]
    target: np.ndarray  # [C, d] AR(concept), normalised
    control: np.ndarray  # [C, d] AR(control), normalised
    margin: float

    @classmethod
    def build(cls, nla: NLA, names: list[str], cfg: AuditConfig) -> Concepts:
        rng = np.random.default_rng(cfg.seed)
        write = lambda c: format_explanation("text", [c], c, [])  # noqa: E731
        target = nla.ar.reconstruct([write(c) for c in names])
        control = nla.ar.reconstruct([write(scrambled(c, rng)) for c in names])
        return cls(names, normalize(np.asarray(target, np.float64), 1.0), normalize(np.asarray(control, np.float64), 1.0), cfg.ar_margin)

    def margins(self, vectors: np.ndarray) -> np.ndarray:
        """[N, C] cos(vector, AR(concept)) - cos(vector, AR(control))."""
        unit = normalize(np.atleast_2d(vectors).astype(np.float64), 1.0)
        return unit @ self.target.T - unit @ self.control.T

    def raised(self, explanations: list[str], vectors: np.ndarray) -> list[dict[str, list[str]]]:
        """Per row, concept -> how it is matched ("words", "ar"), for each concept the row raises."""
        margins = self.margins(vectors) if len(vectors) else np.zeros((0, len(self.names)))
        out = []
        for text, row in zip(explanations, margins):
            found = {}
            for c, name in enumerate(self.names):
                how = (["words"] if mentions(text, name) else []) + (["ar"] if row[c] > self.margin else [])
                if how:
                    found[name] = how
            out.append(found)
        return out


def mentions(explanation: str, concept: str) -> bool:
    return re.search(rf"\b{re.escape(concept)}(s|es)?\b", explanation.lower()) is not None


def lifted(reads: dict[str, list[dict]], reference: Reference, cfg: AuditConfig) -> dict[str, list[dict]]:
    """Per transcript, the terms its explanations repeat more than `cfg.lift` times the reference set's rate (DuckDB, the
    dictionary's count)."""
    import duckdb

    items = pa.table({"transcript": [n for n, rs in reads.items() for r in rs if r["parsed"] for _ in r["terms"]],
                      "field": pa.array(["term"] * sum(len(r["terms"]) for rs in reads.values() for r in rs if r["parsed"]), pa.string()),
                      "item": pa.array([t for rs in reads.values() for r in rs if r["parsed"] for t in r["terms"]], pa.string())})
    ref = pa.table({"field": pa.array(["term"] * sum(len(r["terms"]) for r in reference.reads), pa.string()),
                    "item": pa.array([t for r in reference.reads for t in r["terms"]], pa.string())})
    sizes = pa.table({"transcript": list(reads), "k": [sum(r["parsed"] for r in rs) for rs in reads.values()]})
    con = duckdb.connect()
    for name, table in (("audit_items", items), ("audit_reference", ref), ("audit_sizes", sizes)):
        con.register(name, table)
    found = lifted_terms(con, items="SELECT transcript, field, item FROM audit_items", reference="SELECT field, item FROM audit_reference",
                         reference_size=str(sum(r["parsed"] for r in reference.reads)), sizes="SELECT transcript, k FROM audit_sizes",
                         group="transcript", min_n=cfg.min_count, shown=10 * cfg.top_terms, lift=cfg.lift)
    con.close()
    return {name: found.get((name,), []) for name in reads}


# ---------------------------------------------------------------- 5. evidence and guards


@dataclass
class Flagger:
    """Decides whether one explanation (with its vector) raises a flag: one rule for the audit, its samples and its controls."""

    concepts: Concepts | None

    def raised(self, explanations: list[str], vectors: np.ndarray) -> list[dict[str, list[str]]]:
        if self.concepts is not None:
            return self.concepts.raised(explanations, vectors)
        return [{t: ["words"] for t in terms(e)} for e in explanations]

    def rate(self, term: str, reads: list[dict]) -> float | None:
        """Share of `reads` (parsed explanations with their vectors) raising `term`; None when there are none."""
        usable = [r for r in reads if r["parsed"]]
        if not usable:
            return None
        hits = self.raised([r["explanation"] for r in usable], np.stack([r["vector"] for r in usable]))
        return sum(term in h for h in hits) / len(usable)


def findings(name: str, reads: list[dict], text: str, flagger: Flagger, reference: Reference, cfg: AuditConfig) -> list[dict]:
    """The flags of one transcript, before evidence sampling: term, how matched, the tokens raising it, its rate."""
    usable = [r for r in reads if r["parsed"]]
    hits = flagger.raised([r["explanation"] for r in usable], np.stack([r["vector"] for r in usable])) if usable else []
    by_term: dict[str, list[tuple[dict, list[str]]]] = {}
    for r, found in zip(usable, hits):
        for term, how in found.items():
            by_term.setdefault(term, []).append((r, how))
    if flagger.concepts is not None:
        chosen = [(t, 0.0) for t in flagger.concepts.names if t in by_term]
    else:
        words = said(text)
        counted = lifted({name: reads}, reference, cfg)[name]
        chosen = [(t["item"], float(t["expected"])) for t in counted if not in_text(t["item"], words)][: cfg.top_terms]
    out = []
    for term, expected in chosen:
        tokens = by_term.get(term, [])
        out.append({"transcript": name, "term": term, "kind": "concept" if flagger.concepts is not None else "thought, not said",
                    "how": sorted({h for _, how in tokens for h in how}), "n": len(tokens), "read": len(usable),
                    "rate": len(tokens) / max(len(usable), 1), "expected": expected, "tokens": [r for r, _ in tokens]})
    return out


def sample_evidence(nla: NLA, found: list[dict], flagger: Flagger, cfg: AuditConfig) -> None:
    """Per finding, its best EVIDENCE_TOKENS tokens explained `cfg.samples` more times at `cfg.temperature` (one batched round
    trip), each token's agreement = the share of samples raising the same flag; written into the findings."""
    picked = [(f, sorted(f["tokens"], key=lambda r: -(r["fve_nrm"] if r["fve_nrm"] is not None else -9))[:EVIDENCE_TOKENS]) for f in found]
    vectors = [r["vector"] for _, rs in picked for r in rs]
    if not vectors:
        return
    result = nla.roundtrip(np.repeat(np.stack(vectors), cfg.samples, axis=0), cfg.max_new_tokens, cfg.temperature, cfg.seed)
    texts = [e if ok else "" for e, ok in zip(result.explanations, result.parsed)]
    hits = flagger.raised(texts, result.reconstructions)  # the AR's reading of each sample: does the sample itself carry the flag?
    at = 0
    for f, rs in picked:
        f["evidence"] = []
        for r in rs:
            chunk = range(at, at + cfg.samples)
            agreement = sum(f["term"] in hits[i] for i in chunk) / cfg.samples
            f["evidence"].append({k: r[k] for k in ("position", "token", "role", "context", "explanation", "fve_nrm")} |
                                 {"samples": [texts[i] for i in chunk], "agreement": agreement,
                                  "fve_ok": r["fve_nrm"] is not None and r["fve_nrm"] >= cfg.min_fve,
                                  "agrees": agreement >= cfg.min_agreement})
            at += cfg.samples


def guard(found: dict, control: list[dict], elsewhere: list[dict], flagger: Flagger, other: list[dict] | None, cfg: AuditConfig) -> None:
    """Each guard's verdict on one finding, reported beside it: fve, agreement, control, reference model. `elsewhere`: the
    run's other transcripts, whose rate is shown (not judged): a flag raised there too is the model's, not this transcript's."""
    evidence = found.get("evidence", [])
    control_rate = flagger.rate(found["term"], control)
    reference_rate = flagger.rate(found["term"], other) if other is not None else None
    above = lambda rate: rate is None or found["rate"] > cfg.control_lift * rate  # noqa: E731
    found["guards"] = {
        "min_fve": {"passed": any(e["fve_ok"] for e in evidence), "threshold": cfg.min_fve,
                    "tokens_passing": sum(e["fve_ok"] for e in evidence)},
        "agreement": {"passed": any(e["agrees"] for e in evidence), "threshold": cfg.min_agreement,
                      "best": max((e["agreement"] for e in evidence), default=0.0)},
        "control": {"passed": above(control_rate), "rate": found["rate"], "control_rate": control_rate, "lift": cfg.control_lift,
                    "other_transcripts_rate": flagger.rate(found["term"], elsewhere)},
        "reference_model": None if other is None else {"passed": above(reference_rate), "reference_rate": reference_rate,
                                                        "only_audited_model": above(reference_rate)},
    }
    found["passed"] = all(g["passed"] for g in found["guards"].values() if g is not None) and any(
        e["fve_ok"] and e["agrees"] for e in evidence)
    found["score"] = found["n"] - found["expected"]


# ---------------------------------------------------------------- the audit


def audit(nla: NLA, transcripts: list[Transcript], cfg: AuditConfig, *, target: PreTrainedModel | None = None,
          reference_target: PreTrainedModel | None = None, reference: Reference | None = None, max_length: int | None = None,
          names: dict[str, str | None] | None = None, work: Path | None = None) -> dict:
    """Read, select, explain, flag, gather evidence and guard: the result as one JSON-ready dict, findings ranked (passed first).

    `target`: the audited model (default the NLA's own); `reference_target`: the same transcripts read through another model;
    `reference`: a reference set already explained (the explorer keeps one; else it is built here when needed); `names`: what
    to call the NLA, the audited and the reference model in the record (`nla`, `audited_model`, `reference_model`); `work`: the
    work folder of a run that writes an output (`run_audit`), where each transcript's reads are kept as they finish
    (`kept_reads`): a rerun after a kill explains only the rest. Under several processes (which need `work`: they share
    their reads through it) each reads its share of the transcripts; the first returns the audit, the others {}.
    """
    started = time.monotonic()
    check_shared_work(work is not None)
    target = target if target is not None else nla.target
    concepts = Concepts.build(nla, parse_concepts(cfg.concepts), cfg) if cfg.concepts is not None else None
    flagger = Flagger(concepts)
    rows = {t.name: read_tokens(nla, target, t, max_length) for t in transcripts}  # every transcript read (and checked) first
    reads: dict[str, list[dict]] = {}
    others: dict[str, list[dict]] | None = {} if reference_target is not None else None
    many = len(transcripts) > 1  # one transcript keeps the round trip's own bar over its tokens (one live bar at a time)
    with progress(disable=not many) as bar:
        task = bar.add_task("auditing transcripts", total=len(transcripts), info="")
        tokens = [0]

        def tick(n: int) -> None:
            tokens[0] += n
            bar.update(task, info=f"{tokens[0]} tokens explained")

        def read(t: Transcript, kind: str) -> list[dict]:
            """One transcript's reads through the audited model (`reads`) or the reference model, kept as they finish."""
            source = [t.templated, t.text, t.turns, max_length]  # what decides its reads, beside the run's record
            own = kind == "reads"
            return kept_reads(work, kind, source, lambda: explain(
                nla, rows[t.name] if own else read_tokens(nla, reference_target, t, max_length), cfg, t.name, tick if many else None))

        rank, world = data_parallel()
        for i, t in enumerate(transcripts):
            if i % world == rank:  # one process: all of them
                reads[t.name] = read(t, "reads")
                if others is not None:
                    others[t.name] = read(t, "reference-model-reads")
            bar.advance(task)
    if world > 1:  # each process kept its share in the work folder: the first gathers them there, the others are done
        wait_for_everyone()
        if not is_main_process():
            return {}
        for t in transcripts:
            if t.name not in reads:  # another process's share, read back from its kept file
                reads[t.name] = read(t, "reads")
                if others is not None:
                    others[t.name] = read(t, "reference-model-reads")
    reference = reference if reference is not None else Reference.build(nla, cfg, work)
    ranked = []
    for t in transcripts:
        found = findings(t.name, reads[t.name], t.text, flagger, reference, cfg)
        sample_evidence(nla, found, flagger, cfg)
        elsewhere = [r for u in transcripts if u.name != t.name for r in reads[u.name]]
        for f in found:
            guard(f, reference.reads, elsewhere, flagger, others[t.name] if others is not None else None, cfg)
        ranked += found
    ranked.sort(key=lambda f: (not f["passed"], -f["score"], f["term"]))
    seconds = time.monotonic() - started
    return {
        "note": FRAMING,
        "findings": [{k: v for k, v in f.items() if k != "tokens"} for f in ranked],
        "transcripts": [transcript_view(t, rows[t.name], reads[t.name], ranked) for t in transcripts],
        "control": "the reference set's vectors: built-in held-out text read by the NLA's own target",
        "reference_set": {"tokens": len(reference.reads), "source": "built-in held-out documents"},
        "seconds": round(seconds, 2), "seconds_per_transcript": round(seconds / len(transcripts), 2),
        "settings": dataclasses.asdict(cfg),
        "models": {"nla": (names or {}).get("nla") or "the loaded NLA", "nla_target": nla.meta.base_model,
                   "audited_model": (names or {}).get("audited_model") or nla.meta.base_model, "audited_is_nla_target": target is nla.target,
                   "reference_model": (names or {}).get("reference_model") if reference_target is not None else None},
    }


def transcript_view(t: Transcript, rows: list[dict], reads: list[dict], ranked: list[dict]) -> dict:
    """Every token of a transcript (what the page shows), the read ones with their explanation, the flagged ones with their terms."""
    explained = {r["index"]: r for r in reads}
    flagged: dict[int, list[str]] = {}
    for f in ranked:
        if f["transcript"] == t.name:
            for r in f["tokens"]:
                flagged.setdefault(r["index"], []).append(f["term"])
    return {"name": t.name, "chat": t.templated, "tokens": [
        {"position": r["position"], "token": r["token"], "role": r["role"], "read": i in explained,
         **({"explanation": explained[i]["explanation"], "fve_nrm": explained[i]["fve_nrm"]} if i in explained else {}),
         "flags": flagged.get(i, [])} for i, r in enumerate(rows)]}


def short(result: dict, limit: int) -> dict:
    """What an agent reads (the explorer's /api/audit): the first `limit` findings, each with its best evidence token."""
    keep = ("transcript", "term", "kind", "how", "n", "rate", "passed", "guards")
    return {"note": result["note"], "findings": [{**{k: f[k] for k in keep}, "evidence": f.get("evidence", [])[:1]}
                                                  for f in result["findings"][:limit]],
            "seconds": result["seconds"]}


# ---------------------------------------------------------------- 6. outputs


PAGE_STYLE = """.tok.flag{background:#ffb199;border-bottom:2px solid #d2691e;cursor:pointer}.tok.read{background:#eef3fb}
.role{display:block;margin-top:.6em;font-weight:600;color:#555}#detail{position:sticky;top:0;background:#fff;border:1px solid #ccc;
border-radius:6px;padding:8px;min-height:3em}#detail pre{white-space:pre-wrap;margin:4px 0}.failed{color:#999}"""
PAGE_SCRIPT = """document.querySelectorAll('.tok.flag').forEach(s=>s.addEventListener('click',()=>{
const t=s.dataset.t,i=+s.dataset.i,d=document.getElementById('d-text');const tok=TOKENS[t][i];
const fs=FINDINGS.filter(f=>f.transcript===TOKENS_NAMES[t]&&tok.flags.includes(f.term));
d.textContent='token '+JSON.stringify(tok.token)+' at position '+tok.position+' | FVE '+(tok.fve_nrm===null?'-':tok.fve_nrm.toFixed(3))+
'\\nexplanation: '+tok.explanation+'\\n\\n'+fs.map(f=>'['+f.term+'] '+(f.passed?'passed':'failed')+' its guards; '+f.n+' of '+f.read+
' tokens read; matched by '+f.how.join(', ')+'\\n'+f.evidence.map(e=>'  position '+e.position+' '+JSON.stringify(e.token)+
' FVE '+(e.fve_nrm===null?'-':e.fve_nrm.toFixed(2))+' agreement '+e.agreement.toFixed(2)+'\\n    samples: '+
e.samples.map(x=>JSON.stringify(x)).join(' | ')).join('\\n')).join('\\n\\n');}));"""


def guard_cell(f: dict) -> str:
    parts = []
    for name, g in f["guards"].items():
        if g is not None:
            parts.append(f"{name} {'ok' if g['passed'] else 'FAIL'}")
    return ", ".join(parts)


def to_html(result: dict) -> str:
    """The page: findings ranked with their guards, then each transcript with read tokens tinted and flagged spans highlighted
    (click one for its explanation, samples and guards)."""
    rows = "".join(f"<tr class='{'' if f['passed'] else 'failed'}'><td>{html.escape(f['term'])}</td><td>{html.escape(f['transcript'])}</td>"
                   f"<td>{f['n']}/{f['read']}</td><td>{html.escape(', '.join(f['how']))}</td><td>{html.escape(guard_cell(f))}</td></tr>"
                   for f in result["findings"])
    body = [f"<h1>nlakit audit</h1><p><b>{html.escape(FRAMING)}</b></p><p>{html.escape(describe_models(result))}</p>",
            "<table><tr><th>finding</th><th>transcript</th><th>tokens</th><th>matched by</th><th>guards</th></tr>"
            f"{rows or '<tr><td colspan=5>no findings</td></tr>'}</table>",
            "<div id='detail'><pre id='d-text'>Click a highlighted token for its evidence.</pre></div>"]
    for ti, t in enumerate(result["transcripts"]):
        spans, role = [], object()
        for i, tok in enumerate(t["tokens"]):
            if t["chat"] and tok["role"] != role and tok["role"] is not None:
                spans.append(f"<span class='role'>{html.escape(tok['role'])}</span>")
            role = tok["role"] if tok["role"] is not None else role
            kind = "tok flag" if tok["flags"] else "tok read" if tok["read"] else "tok"
            tip = f" title='{html.escape(', '.join(tok['flags']))}'" if tok["flags"] else ""
            spans.append(f"<span class='{kind}' data-t='{ti}' data-i='{i}'{tip}>{html.escape(tok['token'])}</span>")
        body.append(f"<h2>{html.escape(t['name'])}</h2><p class='text'>{''.join(spans)}</p>")
    data = (f"const TOKENS={script_data([t['tokens'] for t in result['transcripts']])};"
            f"const TOKENS_NAMES={script_data([t['name'] for t in result['transcripts']])};"
            f"const FINDINGS={script_data(result['findings'])};")
    return page("nlakit audit", "".join(body), PAGE_STYLE, data + PAGE_SCRIPT)


def describe_models(result: dict) -> str:
    m = result["models"]
    read = "the NLA's own target" if m["audited_is_nla_target"] else "a model other than the NLA's target (the NLA is unchanged)"
    extra = f"; reference model {m['reference_model']}" if m.get("reference_model") else ""
    return f"NLA {m['nla']} (trained on {m['nla_target']}); activations read from {m['audited_model']}, {read}{extra}."


def render_findings(result: dict, console: Console | None = None) -> None:
    table = Table(title="Audit findings (best first)", caption=FRAMING, show_lines=True)
    for name in ("finding", "transcript", "tokens", "guards", "best evidence"):
        table.add_column(name)
    for f in result["findings"]:
        best = (f.get("evidence") or [{}])[0]
        evidence = f"{best.get('token', '')!r} at {best.get('position', '-')}: {best.get('explanation', '')}" if best else "-"
        colour = "green" if f["passed"] else "red"
        table.add_row(f"[{colour}]{escape(f['term'])}[/]", escape(f["transcript"]), f"{f['n']}/{f['read']}", escape(guard_cell(f)),
                      escape(evidence))
    console = console or Console()
    console.print(table)
    console.print(escape(describe_models(result)) + f" {result['seconds_per_transcript']:.1f} s per transcript.", soft_wrap=True)


READ_SETTINGS = ("select", "role", "stride", "budget", "max_new_tokens", "reference_tokens")  # what decides the explained reads


def read_settings(nla: NLA, cfg: AuditConfig) -> dict:
    """The settings that decide the reads a run keeps in its work folder (`kept_reads`): the selection, the cap, the reference
    set's size, the weights' dtype and device (greedy text can differ between bf16 and fp32) and how the AV decodes. The flagging and guard
    settings (--concepts, --lift, --samples, ...) are left out: they act on the reads, so a rerun changing them reuses them."""
    weights = next(nla.target.parameters())
    return {**{k: getattr(cfg, k) for k in READ_SETTINGS}, "dtype": str(weights.dtype), "device": weights.device.type, **decoding(nla)}


def read_inputs(nla_dir: Path | str | LoadConfig, cfg: AuditConfig) -> dict[str, str | Path]:
    """What the reads are made from, fingerprinted by contents in the work folder's run record: the NLA and the models read."""
    models = {"model": cfg.model, "reference_model": cfg.reference_model}
    return {**source_folders(nla_dir), **{k: v for k, v in models.items() if v is not None}}


def run_audit(nla_dir: Path | str | LoadConfig, values: list[str], cfg: AuditConfig, out: Path | None = None, html_path: Path | None = None,
              as_json: bool = False) -> dict:
    """`nlakit audit`: input checked before any model loads, then the audit; JSON and the page written whole or not at all.

    With an output file (`--out`, else `--html`), each transcript's reads are kept in `<output>.work` as they finish, so a
    killed run resumes where it stopped (reads made with other settings or inputs are cleared, never reused); the folder is
    removed once the outputs are written. Without one (a result only printed), nothing is kept, as before."""
    if cfg.concepts is not None:
        parse_concepts(cfg.concepts)
    for value in values:  # a bad file is refused before the models load
        read_input(value)
    if out is not None and html_path is not None and Path(out).absolute() == Path(html_path).absolute():
        raise NLAError(f"--out and --html both name {out}: give each its own file")
    for flag, path in (("--out", out), ("--html", html_path)):  # never over a transcript or the NLA it reads
        if path is not None:
            check_output_file(Path(path), [*filter(names_file, values), *source_folders(nla_dir).values()], flag)
    check_shared_work(out is not None or html_path is not None)  # before the models load
    nla = NLA.load(nla_dir)
    transcripts = load_transcripts(nla.tokenizer, values)
    target = audited_model(nla, cfg.model)
    other = audited_model(nla, cfg.reference_model) if cfg.reference_model else None
    output = out if out is not None else html_path
    run = StageRun("audit", Path(output), read_settings(nla, cfg), read_inputs(nla_dir, cfg)) if output is not None else None
    work = run.begin(is_main_process(), wait_for_everyone, restart_other=True) if run is not None else None
    result = audit(nla, transcripts, cfg, target=target, reference_target=other, work=work,
                   names={"nla": str(nla_dir), "audited_model": cfg.model, "reference_model": cfg.reference_model})
    if not is_main_process():  # its share of the reads is in the work folder; the first process writes the outputs
        return result
    if out is not None:
        atomic_write_text(Path(out), to_json(result, indent=1))
    if html_path is not None:
        atomic_write_text(Path(html_path), to_html(result))
    if work is not None:  # the output records how it was made and leaves nothing to resume from (StageRun.publish's clear_work)
        shutil.rmtree(work, ignore_errors=True)
    if as_json:
        print(to_json(result, indent=1))
    else:
        render_findings(result)
    return result
