"""The explorer's web app: read what the NLA says at each token, sample, steer, search.

The app is assembled here (its guards, its JSON errors, the routes of routes.py over one `Served`
state); the model side is explorer.py, the searches are readings/dictionary.py.

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

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ...core.config import ServeConfig
from ...core.errors import NLAError
from ...core.nla import NLA
from .explorer import APIError
from .routes import Served, router

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def error_response(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    body = {"error": code, "message": message, **({"detail": jsonable_encoder(detail)} if detail is not None else {})}
    return JSONResponse(body, status_code=status)


# ---------------------------------------------------------------- guards, before any route runs


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


# ---------------------------------------------------------------- errors: always JSON {"error": code, "message": ...}


async def api_error(_request: Request, err: APIError) -> JSONResponse:
    return error_response(err.status, err.code, err.message)


async def nla_error(_request: Request, err: NLAError) -> JSONResponse:
    return error_response(422, "invalid", str(err))


async def validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
    first = err.errors()[0] if err.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    # the offending input is not echoed back: it may be a lone surrogate or a NaN that JSON cannot carry
    detail = [{k: e.get(k) for k in ("type", "loc", "msg")} for e in err.errors()]
    return error_response(422, "validation", f"{where}: {first.get('msg', 'invalid request')}", detail)


async def http_error(_request: Request, err: StarletteHTTPException) -> JSONResponse:
    return error_response(err.status_code, "http", str(err.detail))


HANDLERS: dict[type[Exception], Callable[..., Any]] = {APIError: api_error, NLAError: nla_error,
                                                       RequestValidationError: validation_error, StarletteHTTPException: http_error}


# ---------------------------------------------------------------- the app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.served.worker.shutdown()


def request_deadline_protocol(limit_s: float) -> type:
    """uvicorn's h11 protocol with a deadline on reading each request: a connection whose request (headers and
    body) is not all in `limit_s` after it opened, or after its last response, is closed.

    uvicorn has no such timeout of its own: a client sending a header a byte at a time (slowloris) would hold
    its socket for as long as it likes. A request fully read is never cut, however long the model takes.
    """
    import asyncio

    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class RequestDeadline(H11Protocol):
        deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self.arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
            super().connection_lost(exc)

        def arm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
            self.deadline = self.loop.call_later(limit_s, self.expired)

        def expired(self) -> None:
            if self.conn.their_state is not h11.DONE and not self.transport.is_closing():
                self.transport.close()

    return RequestDeadline


def create_app(nla: NLA, cfg: ServeConfig | None = None, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The explorer app for a loaded NLA (tests pass a tiny one), with `cfg`'s files, token and limits (default: ServeConfig()).

    `allowed_hosts` guards against DNS rebinding (`nlakit serve` names the loopback ones when it binds to one);
    `cfg.token`, when given, is required on every API request.
    """
    served = Served.open(nla, cfg or ServeConfig())
    app = FastAPI(title="nlakit explorer", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.served, app.state.worker, app.state.explorer = served, served.worker, served.explorer
    app.add_middleware(BodyLimit, limit=served.cfg.max_body_bytes)
    if served.cfg.token:
        app.add_middleware(TokenGuard, token=served.cfg.token)
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    for error, handler in HANDLERS.items():
        app.add_exception_handler(error, handler)
    app.include_router(router)
    return app
