"""The explorer's web API and page: read what the NLA says at each token, sample, steer, search.

Why it is built this way:
- one model thread with a bounded queue (ModelWorker): torch modules and fast tokenizers are not
  safe to drive from several threads, and a laptop CPU has no spare capacity, so a request that
  would only wait gets a quick 503 instead of piling up; a slow one gets a 503 after `timeout_s`;
- per-text activations are cached (LRU), so clicking tokens never reruns the target model;
- the page is one static file with inline CSS/JS: nothing is fetched from a CDN, and FastAPI's
  docs pages (which load from one) are switched off;
- saved directions are read with `allow_pickle=False` or safetensors: a file must not run code;
  the search phrase only ever reaches DuckDB as a bound parameter.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ...core.corpus import Document, guess_genre
from ...core.errors import NLAError
from ...core.files import json_safe
from ...core.metrics import cosine
from ...core.nla import NLA
from ...core.reading import extract_documents
from ...readings.directions import SUFFIXES as DIRECTION_SUFFIXES
from ...readings.directions import read_directions
from ...readings.neurons import NeuronDictionary

STATIC = Path(__file__).parent / "static"
SEARCH_COLUMNS = ("doc_id", "position", "token", "context", "explanation", "fve_nrm")
MAX_INT = 2**63 - 1  # the largest seed or index torch takes
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Limits:
    """Per-request bounds, so one browser tab cannot stall the machine or exhaust its memory."""

    max_chars: int = 4000  # text (or all contrast prompts together), in characters -> 413
    max_tokens: int = 256  # tokens of the (rendered) text -> 413
    max_new_tokens: int | None = None  # explanation length cap; None: the NLA's own (NLA.max_new_tokens)
    max_samples: int = 8  # explanations per "sample more"
    max_prompts: int = 16  # prompts per side of a contrast direction
    max_body_bytes: int = 256_000  # request body -> 413
    max_waiting: int = 4  # model requests allowed to queue behind the running one -> 503 beyond
    timeout_s: float = 120.0  # a model request waits at most this long -> 503
    cached_texts: int = 16  # texts whose activations are kept
    max_search_results: int = 100


class APIError(Exception):
    """An error the client should see as JSON {"error": code, "message": ...} with `status`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    body = {"error": code, "message": message, **({"detail": jsonable_encoder(detail)} if detail is not None else {})}
    return JSONResponse(body, status_code=status)


MODEL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlakit-model")


def on_model_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn` on the one thread that does the explorer's model work (loading included), and wait for it.

    PyTorch's OpenMP threads serve the process's main thread best once it has used them: another
    thread then pays about 30 us more per parallel op (a 64 x 576 add: 3.8 -> 35 us), which made a
    click 2.6 s instead of 1.3 s. So `nlakit serve` loads the NLA and runs every job here, and the
    main thread (the web server) never runs a tensor op.
    """
    return MODEL_THREAD.submit(fn, *args).result()


class ModelWorker:
    """Runs every model job on MODEL_THREAD; admits 1 running + `max_waiting` queued jobs, refuses more."""

    def __init__(self, max_waiting: int, timeout_s: float):
        self._slots = threading.BoundedSemaphore(1 + max_waiting)
        self._pending: set[Future] = set()
        self.timeout_s = timeout_s

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if not self._slots.acquire(blocking=False):
            raise APIError(503, "busy", "the model is busy with other requests; try again in a moment")
        future = MODEL_THREAD.submit(fn, *args)
        self._pending.add(future)
        future.add_done_callback(self._finished)  # also runs when a queued job is cancelled
        return future

    def _finished(self, future: Future) -> None:
        self._pending.discard(future)
        self._slots.release()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        future = self.submit(fn, *args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except (asyncio.TimeoutError, TimeoutError):
            future.cancel()  # frees the slot if it never started; a running job cannot be interrupted
            raise APIError(503, "timeout", f"no answer from the model within {self.timeout_s:g} s; try a shorter text") from None

    def shutdown(self) -> None:
        """Cancel this app's queued jobs (a running one finishes); the thread stays for the next app in this process."""
        for future in list(self._pending):
            future.cancel()


@dataclass
class TextEntry:
    """One text's forward pass: its tokens and layer-K vectors, plus greedy explanations as clicked."""

    rendered: str
    tokens: list[dict]
    vectors: np.ndarray
    explained: dict[int, dict] = field(default_factory=dict)


class Explorer:
    """The model-side work. Only the ModelWorker thread calls it, so its caches need no lock."""

    def __init__(self, nla: NLA, limits: Limits):
        self.nla, self.limits = nla, limits
        self.cfg = replace(nla.extract_config(), max_length=limits.max_tokens)
        self.texts: OrderedDict[str, TextEntry] = OrderedDict()
        self.contrasts: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def render(self, text: str, chat: bool) -> str:
        if not chat:
            return text
        if not getattr(self.nla.tokenizer, "chat_template", None):
            raise APIError(422, "no_chat_template", "this tokenizer has no chat template: send plain text")
        messages = [{"role": "user", "content": text}]
        return str(self.nla.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

    def rows(self, texts: list[str], chat: bool = False) -> list[dict]:
        """Every token's row; `chat`: the texts were rendered by the chat template (tokenised once: no second BOS)."""
        docs = [Document(f"explorer:{i}", t, guess_genre(t), templated=chat) for i, t in enumerate(texts)]
        return list(extract_documents(self.nla.target, self.nla.tokenizer, docs, self.cfg, self.nla.meta.layer_index, all_positions=True))

    def entry(self, text: str, chat: bool) -> TextEntry:
        rendered = self.render(text, chat)
        key = hashlib.sha256(f"{chat}|{rendered}".encode()).hexdigest()
        if key in self.texts:
            self.texts.move_to_end(key)
            return self.texts[key]
        n = len(self.nla.tokenizer(rendered, add_special_tokens=not chat)["input_ids"])
        if n > self.limits.max_tokens:
            raise APIError(413, "too_many_tokens", f"the text has {n} tokens; the limit is {self.limits.max_tokens}")
        rows = self.rows([rendered], chat)
        if not rows:
            raise APIError(422, "no_tokens", "the text has no tokens to read")
        tokens = [{"index": i, "position": r["position"], "token": r["token"], "context": r["context"],
                   "activation_norm": float(np.linalg.norm(r["activation_vector"]))} for i, r in enumerate(rows)]
        self.texts[key] = TextEntry(rendered, tokens, np.stack([r["activation_vector"] for r in rows]).astype(np.float32))
        while len(self.texts) > self.limits.cached_texts:
            self.texts.popitem(last=False)
        return self.texts[key]

    def token(self, text: str, chat: bool, index: int) -> tuple[TextEntry, np.ndarray]:
        entry = self.entry(text, chat)
        if index >= len(entry.tokens):
            raise APIError(422, "bad_index", f"token index {index} is out of range: the text has {len(entry.tokens)} tokens")
        return entry, entry.vectors[index]

    def scored(self, vectors: np.ndarray, temperature: float = 0.0, seed: int | None = None) -> list[dict]:
        """Explain each vector and score the explanation by the AR's reconstruction of it.

        Responses that lacked the closing tag (`parsed` false) score mse_nrm 2, and the page says
        why instead of showing a bare bad number; `capped`: the length cap cut them.
        """
        result = self.nla.roundtrip(vectors, self.limits.max_new_tokens, temperature, seed)
        scores = self.nla.scored(result.mse_nrm)
        return [{"explanation": e, "parsed": bool(ok), "capped": bool(cut), "mse_nrm": float(m),
                 "cos": float(c) if np.isfinite(c) else None, "fve_nrm": float(f), "activation_norm": float(np.linalg.norm(v))}
                for e, ok, cut, m, c, f, v in zip(result.explanations, result.parsed, result.capped, result.mse_nrm, scores["cos"],
                                                  scores["fve_nrm"], vectors)]

    def tokenize(self, text: str, chat: bool) -> dict:
        entry = self.entry(text, chat)
        return {"rendered": entry.rendered, "tokens": [{k: v for k, v in t.items() if k != "context"} for t in entry.tokens]}

    def explain(self, text: str, chat: bool, index: int) -> dict:
        entry, vector = self.token(text, chat, index)
        if index not in entry.explained:
            entry.explained[index] = self.scored(vector[None])[0]
        return {**entry.tokens[index], **entry.explained[index]}

    def sample(self, text: str, chat: bool, index: int, n: int, temperature: float, seed: int | None) -> dict:
        entry, vector = self.token(text, chat, index)
        return {**entry.tokens[index], "temperature": temperature, "samples": self.scored(np.repeat(vector[None], n, 0), temperature, seed)}

    def contrast(self, positive: list[str], negative: list[str], reduce: str) -> np.ndarray:
        """Mean activation of the positive prompts minus that of the negative ones (last token or mean over tokens)."""
        key = (tuple(positive), tuple(negative), reduce)
        if key not in self.contrasts:
            means = []
            for side, prompts in (("positive", positive), ("negative", negative)):
                by_doc: dict[str, list[dict]] = {}
                for row in self.rows(prompts):
                    by_doc.setdefault(row["doc_id"], []).append(row)
                if len(by_doc) < len(prompts):
                    raise APIError(422, "empty_prompt", f"a {side} prompt has no tokens to read")
                pick = (lambda rs: max(rs, key=lambda r: r["position"])["activation_vector"]) if reduce == "last" else \
                       (lambda rs: np.mean([r["activation_vector"] for r in rs], axis=0))
                means.append(np.mean([pick(rs) for rs in by_doc.values()], axis=0))
            self.contrasts[key] = (means[0] - means[1]).astype(np.float32)
            while len(self.contrasts) > self.limits.cached_texts:
                self.contrasts.popitem(last=False)
        return self.contrasts[key]

    def steer(self, text: str, chat: bool, index: int, strength: float, direction: np.ndarray | None,
              contrast: tuple[list[str], list[str], str] | None) -> dict:
        """Explain activation + strength * unit_direction * |activation| next to the activation itself."""
        entry, vector = self.token(text, chat, index)
        direction = self.contrast(*contrast) if contrast else direction
        norm = float(np.linalg.norm(direction))
        if not np.isfinite(norm) or norm < 1e-8:
            raise APIError(422, "zero_direction", "the direction is zero: the two prompt lists give the same mean activation")
        unit = direction / norm
        steered = vector + strength * unit * float(np.linalg.norm(vector))
        original, moved = self.scored(np.stack([vector, steered]).astype(np.float32))
        rebuilt = self.nla.ar.reconstruct([original["explanation"], moved["explanation"]])
        original["toward_direction"], moved["toward_direction"] = cosine(rebuilt[0], unit), cosine(rebuilt[1], unit)
        return {**{k: v for k, v in entry.tokens[index].items() if k != "context"}, "strength": strength,
                "direction": {"norm": norm, "cos_with_activation": cosine(vector, unit)}, "original": original, "steered": moved}


def list_directions(folder: Path | None) -> list[str]:
    if folder is None:
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in DIRECTION_SUFFIXES)


def load_direction(folder: Path | None, name: str, d_model: int) -> np.ndarray:
    """A saved direction by its listed name (never a path: no traversal), read by directions.read_directions (no pickles).

    A file with several rows gives the one named `direction`, or is refused.
    """
    if name not in list_directions(folder):
        raise APIError(404, "unknown_direction", f"no saved direction named {name!r}")
    try:
        names, rows = read_directions(Path(folder) / name, d_model)  # type: ignore[arg-type]
    except NLAError as err:
        raise APIError(422, "bad_direction", str(err)) from None
    chosen = [i for i, n in enumerate(names) if n.split("[")[0] == "direction"] or list(range(len(rows)))
    if len(chosen) != 1:
        raise APIError(422, "bad_direction", f"{name} holds {len(rows)} directions ({', '.join(names[:4])}): "
                                             "name the tensor `direction` or keep only one")
    return rows[chosen[0]]


class Search:
    """DuckDB over an explained parquet (`nlakit evaluate --save`), loaded once without the vectors."""

    def __init__(self, path: Path):
        import duckdb

        if not Path(path).is_file():
            raise NLAError(f"dataset file not found: {path}")
        self.con = duckdb.connect()
        try:
            columns = {row[0] for row in self.con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()}
        except duckdb.Error as err:
            raise NLAError(f"cannot read {path} as parquet: {err}") from err
        missing = [c for c in SEARCH_COLUMNS if c not in columns]
        if missing:
            raise NLAError(f"{path} lacks the columns {missing}: write it with `nlakit evaluate --save FILE`")
        self.con.execute(f"CREATE TABLE explained AS SELECT {', '.join(SEARCH_COLUMNS)} FROM read_parquet(?)", [str(path)])
        self.rows = int(self.con.execute("SELECT count(*) FROM explained").fetchone()[0])

    def query(self, phrase: str, limit: int) -> list[dict]:
        pattern = "%" + phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cursor = self.con.cursor()  # one cursor per call: requests run on several threads
        try:
            result = cursor.execute(
                f"SELECT {', '.join(SEARCH_COLUMNS)} FROM explained WHERE explanation ILIKE ? ESCAPE '\\' "
                "ORDER BY fve_nrm DESC NULLS LAST, doc_id, position LIMIT ?", [pattern, limit])
            return [dict(zip(SEARCH_COLUMNS, row)) for row in result.fetchall()]
        finally:
            cursor.close()


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


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets a 413, whether it declares its length or streams in chunks.

    The body is read (at most `limit` bytes of it) before the app sees it, then handed on whole.
    """

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return await self.app(scope, receive, send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                response = error_response(413, "body_too_large", f"the request body exceeds {self.limit} bytes")
                return await response(scope, receive, send)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class TokenGuard:
    """ASGI middleware: every /api/ request must carry `Authorization: Bearer <token>` (the page passes it on from ?token=)."""

    def __init__(self, app: Any, token: str):
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = error_response(401, "unauthorized", "this explorer needs its token: open the URL printed at start")
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


def create_app(nla: NLA, dataset: Path | None = None, directions_dir: Path | None = None, limits: Limits = Limits(),
               allowed_hosts: list[str] | None = None, token: str | None = None, neurons: Path | None = None) -> FastAPI:
    """The explorer app for a loaded NLA (tests pass a tiny one).

    `allowed_hosts` guards against DNS rebinding; `token`, when given, is required on every API request;
    `neurons`: a dictionary from `nlakit neurons` for the Neurons view.
    """
    if limits.max_new_tokens is None:
        limits = replace(limits, max_new_tokens=nla.max_new_tokens)
    explorer, worker = Explorer(nla, limits), ModelWorker(limits.max_waiting, limits.timeout_s)
    on_model_thread(lambda: nla.baseline)  # measured now (when the sidecar has none), on the thread that serves requests
    search = Search(Path(dataset)) if dataset else None
    dictionary = NeuronDictionary(Path(neurons)) if neurons else None
    directions = Path(directions_dir) if directions_dir else None
    if directions is not None and not directions.is_dir():
        raise NLAError(f"--directions must be a folder of .npy/.safetensors files: {directions}")
    page = (STATIC / "index.html").read_text(encoding="utf-8")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        worker.shutdown()

    app = FastAPI(title="nlakit explorer", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.worker, app.state.explorer, app.state.limits = worker, explorer, limits
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes)
    if token:
        app.add_middleware(TokenGuard, token=token)
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    @app.exception_handler(APIError)
    async def api_error(_request: Request, err: APIError) -> JSONResponse:
        return error_response(err.status, err.code, err.message)

    @app.exception_handler(NLAError)
    async def nla_error(_request: Request, err: NLAError) -> JSONResponse:
        return error_response(422, "invalid", str(err))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        # the offending input is not echoed back: it may be a lone surrogate or a NaN that JSON cannot carry
        detail = [{k: e.get(k) for k in ("type", "loc", "msg")} for e in err.errors()]
        return error_response(422, "validation", f"{where}: {first.get('msg', 'invalid request')}", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        return error_response(err.status_code, "http", str(err.detail))

    def check_text(text: str) -> None:
        if len(text) > limits.max_chars:
            raise APIError(413, "text_too_long", f"the text has {len(text)} characters; the limit is {limits.max_chars}")

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/api/info")
    async def info() -> dict:
        meta = nla.meta
        return {"base_model": meta.base_model, "layer_index": meta.layer_index, "d_model": meta.d_model,
                "rawvar": nla.baseline.value, "baseline": nla.baseline.name,
                "chat_template": bool(getattr(nla.tokenizer, "chat_template", None)), "search": search is not None,
                "search_rows": search.rows if search else 0, "directions": list_directions(directions), "limits": asdict(limits),
                "neurons": dictionary.rows if dictionary else 0}

    @app.get("/api/directions")
    async def saved_directions() -> dict:
        return {"directions": list_directions(directions)}

    @app.post("/api/tokenize")
    async def tokenize(req: TextRequest) -> dict:
        check_text(req.text)
        return await worker.run(explorer.tokenize, req.text, req.chat)

    @app.post("/api/explain")
    async def explain(req: TokenRequest) -> dict:
        check_text(req.text)
        return await worker.run(explorer.explain, req.text, req.chat, req.index)

    @app.post("/api/sample")
    async def sample(req: SampleRequest) -> dict:
        check_text(req.text)
        if req.n > limits.max_samples:
            raise APIError(422, "validation", f"n: at most {limits.max_samples} samples per request")
        return await worker.run(explorer.sample, req.text, req.chat, req.index, req.n, req.temperature, req.seed)

    @app.post("/api/steer")
    async def steer(req: SteerRequest) -> dict:
        check_text(req.text)
        contrast = None
        if req.contrast:
            prompts = [p.strip() for p in req.contrast.positive], [p.strip() for p in req.contrast.negative]
            if any(not p for side in prompts for p in side):
                raise APIError(422, "validation", "contrast prompts must not be blank")
            if max(len(side) for side in prompts) > limits.max_prompts:
                raise APIError(413, "too_many_prompts", f"at most {limits.max_prompts} prompts per list")
            check_text("".join(p for side in prompts for p in side))
            contrast = (*prompts, req.contrast.reduce)
        direction = load_direction(directions, req.saved, nla.meta.d_model) if req.saved else None
        return await worker.run(explorer.steer, req.text, req.chat, req.index, req.strength, direction, contrast)

    @app.get("/api/search")
    def search_explanations(q: str = Query(min_length=1, max_length=200), limit: int = Query(20, ge=1)) -> dict:
        if search is None:
            raise APIError(404, "no_dataset", "search needs an explained dataset: start with --dataset FILE (from `nlakit evaluate --save`)")
        return {"query": q, "results": search.query(q, min(limit, limits.max_search_results))}

    @app.get("/api/neurons")
    def search_neurons(q: str = Query("", max_length=200), limit: int = Query(20, ge=1)) -> dict:
        """Neurons of the dictionary by name (20:17), description or top-context token; best score first."""
        if dictionary is None:
            raise APIError(404, "no_neurons", "the Neurons view needs a dictionary: start with --neurons FILE (from `nlakit neurons`)")
        return {"query": q, "results": json_safe(dictionary.query(q.strip(), min(limit, limits.max_search_results)))}  # NaN scores: null

    return app
