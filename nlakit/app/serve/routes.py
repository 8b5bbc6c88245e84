"""The explorer's HTTP API: the request bodies, what every route shares (`Served`), and one short function per route.

A route checks what it can without the model (sizes, blank prompts, a saved direction's file),
then hands the model work to the one model thread through `ModelWorker.run`; searches only
read DuckDB (readings/dictionary.py) and run on the server's own threads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ...core.config import AuditConfig, ServeConfig
from ...core.errors import NLAError
from ...core.files import json_safe
from ...core.nla import NLA
from ...readings import audit as auditing
from ...readings.dictionary import ExplainedRows, NeuronDictionary
from .explorer import APIError, Explorer, ModelWorker, list_directions, load_direction, on_model_thread

STATIC = Path(__file__).parent / "static"
MAX_INT = 2**63 - 1  # the largest seed or index torch takes
# what /api/info tells the page about the settings: the bounds on a request, never the token, the address or the paths
SHOWN_LIMITS = ("max_chars", "max_tokens", "max_new_tokens", "max_samples", "max_prompts", "max_body_bytes", "max_waiting",
                "timeout_s", "cached_texts", "max_search_results")


# ---------------------------------------------------------------- request bodies


def valid_unicode(text: str) -> str:
    """Refuse text that cannot be encoded (a lone surrogate from JSON's \\ud800): the tokenizer would fail on it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"not valid Unicode at character {err.start} (a lone surrogate)") from None
    return text


class APIRequest(BaseModel):
    """Every request body: NaN and Infinity are refused (JSON allows neither, Python's parser reads both)."""

    model_config = ConfigDict(allow_inf_nan=False)


class TextRequest(APIRequest):
    text: str = Field(min_length=1, description="plain text, or the user message when chat is true")
    chat: bool = Field(False, description="render the text with the tokenizer's chat template as a user turn")

    _unicode = field_validator("text")(valid_unicode)


class TokenRequest(TextRequest):
    index: int = Field(ge=0, le=MAX_INT, description="index into the tokens returned by /api/tokenize")


class SampleRequest(TokenRequest):
    n: int = Field(3, ge=1)
    temperature: float = Field(0.8, gt=0, le=2)
    seed: int | None = Field(None, ge=0, le=MAX_INT)


class Contrast(APIRequest):
    positive: list[str] = Field(min_length=1)
    negative: list[str] = Field(min_length=1)
    reduce: Literal["last", "mean"] = "last"

    @field_validator("positive", "negative")
    @classmethod
    def _unicode(cls, prompts: list[str]) -> list[str]:
        return [valid_unicode(p) for p in prompts]


class SteerRequest(TokenRequest):
    strength: float = Field(ge=-4, le=4, description="multiple of the activation's norm added along the unit direction")
    contrast: Contrast | None = None
    saved: str | None = Field(None, description="a name listed by /api/directions")

    @model_validator(mode="after")
    def one_direction(self) -> SteerRequest:
        if (self.contrast is None) == (self.saved is None):
            raise ValueError("give exactly one of `contrast` and `saved`")
        return self


class Message(APIRequest):
    role: Literal["system", "user", "assistant", "tool"]
    content: str

    _unicode = field_validator("content")(valid_unicode)


class AuditRequest(APIRequest):
    """A transcript to audit (a chat's messages, or plain text) and what to look for; the answer is a short ranked list."""

    messages: list[Message] | None = Field(None, min_length=1, description="the conversation, rendered with the chat template")
    text: str | None = Field(None, min_length=1, description="plain text instead of messages")
    concepts: list[str] | None = Field(None, min_length=1, description="concepts to flag; default: terms thought, not said")
    select: Literal["all", "role", "stride", "depart"] = "all"
    role: Literal["system", "user", "assistant", "tool"] = "assistant"
    samples: int = Field(3, ge=1, description="explanations sampled per flagged token (the agreement guard)")
    max_findings: int = Field(5, ge=1, le=50)

    _unicode = field_validator("text")(valid_unicode)

    @model_validator(mode="after")
    def one_transcript(self) -> AuditRequest:
        if (self.messages is None) == (self.text is None):
            raise ValueError("give exactly one of `messages` and `text`")
        if self.concepts is not None and not all(c.strip() and "," not in c for c in self.concepts):
            raise ValueError("concepts must be non-blank and hold no commas")
        return self


# ---------------------------------------------------------------- what every route shares


@dataclass
class Served:
    """One explorer's state: its settings, the model side (called only through `worker`), the page and the readers."""

    cfg: ServeConfig  # max_new_tokens resolved to the NLA's own when not given
    nla: NLA
    explorer: Explorer
    worker: ModelWorker
    page: str
    search: ExplainedRows | None  # --dataset
    neurons: NeuronDictionary | None  # --neurons
    directions: Path | None  # --directions
    audit_reference: auditing.Reference | None = None  # the audit's reference set, explained at the first audit and kept

    @classmethod
    def open(cls, nla: NLA, cfg: ServeConfig) -> Served:
        """Everything a request needs, loaded once; a bad file or folder is refused now, in one line, not at the first request."""
        if cfg.max_new_tokens is None:
            cfg = replace(cfg, max_new_tokens=nla.max_new_tokens)
        explorer, worker = Explorer(nla, cfg), ModelWorker(cfg.max_waiting, cfg.timeout_s)
        on_model_thread(lambda: nla.baseline)  # measured now (when the sidecar has none), on the thread that serves requests
        search = ExplainedRows(Path(cfg.dataset)) if cfg.dataset else None
        neurons = NeuronDictionary(Path(cfg.neurons)) if cfg.neurons else None
        directions = Path(cfg.directions) if cfg.directions else None
        if directions is not None and not directions.is_dir():
            raise NLAError(f"--directions must be a folder of .npy/.safetensors files: {directions}")
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        return cls(cfg, nla, explorer, worker, page, search, neurons, directions)

    def check_text(self, text: str) -> None:
        if len(text) > self.cfg.max_chars:
            raise APIError(413, "text_too_long", f"the text has {len(text)} characters; the limit is {self.cfg.max_chars}")

    def audit(self, conversation: list[dict] | str, cfg: AuditConfig, limit: int) -> dict:
        """One transcript audited on the model thread (the reference set built once, then reused), the first `limit` findings."""
        transcript = auditing.render(self.nla.tokenizer, "request", conversation)
        n = len(self.nla.tokenizer(transcript.text, add_special_tokens=not transcript.templated)["input_ids"])
        if n > self.cfg.max_tokens:
            raise APIError(413, "too_many_tokens", f"the transcript has {n} tokens; the limit is {self.cfg.max_tokens}")
        if self.audit_reference is None:
            self.audit_reference = auditing.Reference.build(self.nla, cfg)
        result = auditing.audit(self.nla, [transcript], cfg, reference=self.audit_reference)
        return auditing.short(result, limit)

    def contrast_prompts(self, contrast: Contrast) -> tuple[list[str], list[str], str]:
        """(positive, negative, reduce) with each prompt stripped; blank prompts, too many or too long ones refused."""
        prompts = [p.strip() for p in contrast.positive], [p.strip() for p in contrast.negative]
        if any(not p for side in prompts for p in side):
            raise APIError(422, "validation", "contrast prompts must not be blank")
        if max(len(side) for side in prompts) > self.cfg.max_prompts:
            raise APIError(413, "too_many_prompts", f"at most {self.cfg.max_prompts} prompts per list")
        self.check_text("".join(p for side in prompts for p in side))
        return (*prompts, contrast.reduce)


async def served(request: Request) -> Served:
    """The app's one `Served` (create_app keeps it on app.state), handed to every route as `s`."""
    return request.app.state.served


State = Annotated[Served, Depends(served)]
router = APIRouter()


# ---------------------------------------------------------------- the routes


@router.get("/", response_class=HTMLResponse)
async def index(s: State) -> HTMLResponse:
    return HTMLResponse(s.page)


@router.get("/api/info")
async def info(s: State) -> dict:
    meta = s.nla.meta
    return {"base_model": meta.base_model, "layer_index": meta.layer_index, "d_model": meta.d_model,
            "rawvar": s.nla.baseline.value, "baseline": s.nla.baseline.name,
            "chat_template": bool(getattr(s.nla.tokenizer, "chat_template", None)), "search": s.search is not None,
            "search_rows": s.search.rows if s.search else 0, "directions": list_directions(s.directions),
            "limits": {k: getattr(s.cfg, k) for k in SHOWN_LIMITS}, "neurons": s.neurons.rows if s.neurons else 0,
            "neuron_scores": s.neurons.scores if s.neurons else []}


@router.get("/api/directions")
async def saved_directions(s: State) -> dict:
    return {"directions": list_directions(s.directions)}


@router.post("/api/tokenize")
async def tokenize(req: TextRequest, s: State) -> dict:
    s.check_text(req.text)
    return await s.worker.run(s.explorer.tokenize, req.text, req.chat)


@router.post("/api/explain")
async def explain(req: TokenRequest, s: State) -> dict:
    s.check_text(req.text)
    return await s.worker.run(s.explorer.explain, req.text, req.chat, req.index)


@router.post("/api/sample")
async def sample(req: SampleRequest, s: State) -> dict:
    s.check_text(req.text)
    if req.n > s.cfg.max_samples:
        raise APIError(422, "validation", f"n: at most {s.cfg.max_samples} samples per request")
    return await s.worker.run(s.explorer.sample, req.text, req.chat, req.index, req.n, req.temperature, req.seed)


@router.post("/api/steer")
async def steer(req: SteerRequest, s: State) -> dict:
    s.check_text(req.text)
    contrast = s.contrast_prompts(req.contrast) if req.contrast else None
    direction = load_direction(s.directions, req.saved, s.nla.meta.d_model) if req.saved else None
    return await s.worker.run(s.explorer.steer, req.text, req.chat, req.index, req.strength, direction, contrast)


@router.get("/api/search")
def search_explanations(s: State, q: str = Query(min_length=1, max_length=200), limit: int = Query(20, ge=1)) -> dict:
    if s.search is None:
        raise APIError(404, "no_dataset", "search needs an explained dataset: start with --dataset FILE (from `nlakit evaluate --save`)")
    return {"query": q, "results": s.search.query(q, min(limit, s.cfg.max_search_results))}


@router.get("/api/neurons")
def search_neurons(s: State, q: str = Query("", max_length=200), limit: int = Query(20, ge=1),
                   sort: str = Query("score", max_length=100), least: float | None = Query(None, allow_inf_nan=False),
                   beats: bool = False, layer: int | None = Query(None, ge=0)) -> dict:
    """Neurons of the dictionary by name (20:17), description or top-context token; highest `sort` score first (any score
    column: `scores` lists them), at least `least` there, with `beats` only those above their token-only description, with
    `layer` only that layer's."""
    if s.neurons is None:
        raise APIError(404, "no_neurons", "the Neurons view needs a dictionary: start with --neurons FILE (from `nlakit neurons`)")
    found = s.neurons.query(q.strip(), min(limit, s.cfg.max_search_results), sort, least, beats, layer)
    return {"query": q, "sort": sort, "scores": s.neurons.scores, "results": json_safe(found)}  # NaN scores: null


@router.post("/api/audit")
async def audit(req: AuditRequest, s: State) -> dict:
    """A transcript -> a short ranked list of findings, each with its best evidence token and every guard's verdict."""
    s.check_text(req.text if req.text is not None else "".join(m.content for m in req.messages or []))
    if req.samples > s.cfg.max_samples:
        raise APIError(422, "validation", f"samples: at most {s.cfg.max_samples} per request")
    conversation = req.text if req.text is not None else [m.model_dump() for m in req.messages or []]
    cfg = AuditConfig(select=req.select, role=req.role, samples=req.samples, budget=s.cfg.max_tokens,
                      concepts=", ".join(c.strip() for c in req.concepts) if req.concepts else None, max_new_tokens=s.cfg.max_new_tokens)
    return await s.worker.run(s.audit, conversation, cfg, req.max_findings)
