"""The explorer's start-up and socket guards (issue 24): slow clients, the token outside `ps`, a tampered dictionary."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi, uvicorn) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from nlakit.app.cli import main  # noqa: E402
from nlakit.app.serve.app import create_app, request_deadline_protocol  # noqa: E402
from nlakit.core.config import ServeConfig  # noqa: E402
from nlakit.core.errors import NLAError  # noqa: E402
from nlakit.readings.dictionary import NeuronDictionary, shipped_dictionary  # noqa: E402


def test_a_slow_client_is_disconnected_a_fast_one_is_answered(free_port):
    """A request whose header never ends is closed at the deadline; a whole request on another socket is answered."""
    import uvicorn

    async def hello(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    server = uvicorn.Server(uvicorn.Config(hello, host="127.0.0.1", port=free_port, log_level="warning", lifespan="off",
                                           http=request_deadline_protocol(0.5)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", free_port), timeout=30) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # ... and never the rest
            assert slow.recv(100) == b""  # the server closed it (recv would time out after 30 s otherwise)
        with socket.create_connection(("127.0.0.1", free_port), timeout=30) as fast:
            fast.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert fast.recv(1000).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(30)


def test_the_token_comes_from_a_file_or_the_environment(sft_pair, tmp_path, monkeypatch):
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    secret = tmp_path / "token"
    secret.write_text("from-the-file\n")
    main(["serve", "--nla", str(sft_pair.nla), "--token-file", str(secret)])
    assert issubclass(seen["http"], asyncio.Protocol)  # the request deadline guards every socket
    with TestClient(seen["app"], base_url="http://127.0.0.1:8765") as client:
        assert client.get("/api/info").status_code == 401
        assert client.get("/api/info", headers={"Authorization": "Bearer from-the-file"}).status_code == 200
    monkeypatch.setenv("NLAKIT_TOKEN", "from-the-env")
    main(["serve", "--nla", str(sft_pair.nla)])
    with TestClient(seen["app"], base_url="http://127.0.0.1:8765") as client:
        assert client.get("/api/info", headers={"Authorization": "Bearer from-the-env"}).status_code == 200
        assert client.get("/api/info", headers={"Authorization": "Bearer from-the-file"}).status_code == 401


def test_an_empty_token_file_or_two_tokens_are_refused(tmp_path):
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(NLAError, match="is empty"):
        ServeConfig(token_file=str(tmp_path / "empty")).resolved_token()
    with pytest.raises(NLAError, match="not both"):
        ServeConfig(token="a", token_file=str(tmp_path / "empty"))


def test_a_tampered_dictionary_is_refused_at_start(tmp_path):
    """Every column present but one of another type: one line at start, not a 500 per request."""
    table = pq.read_table(shipped_dictionary())
    tampered = table.set_column(table.column_names.index("top_contexts"), "top_contexts",
                                pa.array(["not a list"] * table.num_rows))
    pq.write_table(tampered, tmp_path / "neurons.parquet")
    with pytest.raises(NLAError, match=r"is not a neuron dictionary as nlakit writes it \(top_contexts is VARCHAR, not contexts\)"):
        NeuronDictionary(tmp_path / "neurons.parquet")
    scores = table.set_column(table.column_names.index("score"), "score", pa.array(["high"] * table.num_rows))
    pq.write_table(scores, tmp_path / "scores.parquet")
    with pytest.raises(NLAError, match="score is VARCHAR, not number"):
        NeuronDictionary(tmp_path / "scores.parquet")


def test_a_tampered_dictionary_stops_the_explorer(sft_pair, tmp_path):
    from nlakit.core.nla import NLA

    table = pq.read_table(shipped_dictionary())
    pq.write_table(table.set_column(table.column_names.index("layer"), "layer", pa.array(["x"] * table.num_rows)),
                   tmp_path / "neurons.parquet")
    with pytest.raises(NLAError, match="layer is VARCHAR, not integer"):
        create_app(NLA.load(sft_pair.nla), ServeConfig(neurons=str(tmp_path / "neurons.parquet")))
