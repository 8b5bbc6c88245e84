"""Bad input gets one clear line and exit code 2; nothing a user made is lost; nothing loaded runs code.

One table of bad command lines, each with the fragment its one-line message must contain, run
in-process through `nlakit.app.cli.main`; then the data-loss cases, the crafted pickle and the API
teacher that must never drop a row.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from nlakit.app.cli import main
from nlakit.core.config import ARConfig
from nlakit.core.errors import NLAError
from nlakit.stages.sft import run_train_ar


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """(exit code, what was printed on stderr) of one in-process command."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def files(tmp_path_factory, taught, sft_pair, tiny_model) -> dict[str, Path]:
    """Broken inputs of every kind, made once: corpora, sidecars, model folders, checkpoints."""
    root = tmp_path_factory.mktemp("bad")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (root / "folder.txt").mkdir()
    pq.write_table(pa.table({"text": ["fine", None]}), root / "nulltext.parquet")
    (root / "garbage.parquet").write_bytes(b"not a parquet file")
    (root / "notjson.jsonl").write_text('{"text": "ok"}\n{broken\n')
    (root / "surrogate.jsonl").write_text('{"text": "fine text here"}\n{"text": "a lone \\ud800 half"}\n')
    (root / "unknown.yaml").write_text("steps: 2\nwarp_factor: 9\n")
    (root / "badtype.yaml").write_text("steps: many\n")
    pq.write_table(pa.table({"vector": [[1.0, 2.0]]}), root / "novectors.parquet")
    pq.write_table(pa.table({"activation_vector": [[1.0] * 5]}), root / "narrow.parquet")
    pq.write_table(pa.table({"activation_vector": [[1.0] * 64, [float("nan")] * 64]}), root / "nan.parquet")
    pq.write_table(pa.table({"activation_vector": [[1.0] * 64]}), root / "vectors.parquet")
    for name, change in {"abc": {"d_model": "abc"}, "nanscale": {"extraction": {"injection_scale": float("nan")}}}.items():
        folder = root / f"nla_{name}"
        shutil.copytree(sft_pair.nla, folder)
        meta = yaml.safe_load((folder / "av" / "nla_meta.yaml").read_text())
        for key, value in change.items():
            meta[key] = {**meta[key], **value} if isinstance(value, dict) else value
        (folder / "av" / "nla_meta.yaml").write_text(yaml.safe_dump(meta))
    truncated = root / "nla_truncated"
    shutil.copytree(sft_pair.nla, truncated)
    adapter = truncated / "av" / "adapter_model.safetensors"
    adapter.write_bytes(adapter.read_bytes()[:100])
    np.save(root / "wide.npy", np.ones((2, 3), np.float32))  # directions of the wrong width
    (root / "empty.txt").write_text("\n  \n")
    (root / "short.txt").write_text("hi\nok\n")  # texts shorter than min_position
    return {"root": root, "data": taught, "nla": sft_pair.nla, "truncated": truncated, "model": tiny_model}


BAD = [
    # settings: type, finite, range (the flag or the config file)
    (["extract", "--out", "{root}/x", "--max-docs", "0"], "max_docs (--max-docs) must be at least 1"),
    (["extract", "--out", "{root}/x", "--max-docs", "-1"], "must be at least 1, got -1"),
    (["extract", "--out", "{root}/x", "--heldout-fraction", "1.0"], "must be less than 1"),
    (["extract", "--out", "{root}/x", "--heldout-fraction", "-0.5"], "must be at least 0"),
    (["extract", "--out", "{root}/x", "--batch-size", "0"], "batch_size (--batch-size) must be at least 1"),
    (["train-ar", "--data", "{data}", "--out", "{root}/ar", "--steps", "0"], "steps (--steps) must be at least 1"),
    (["train-ar", "--data", "{data}", "--out", "{root}/ar", "--lr", "-1"], "lr (--lr) must be greater than 0"),
    (["train-ar", "--data", "{data}", "--out", "{root}/ar", "--lr", "nan"], "must be a finite number"),
    (["train-av", "--data", "{data}", "--out", "{root}/av", "--lr", "inf"], "must be a finite number"),
    (["rl", "--data", "{data}", "--av", "{nla}/av", "--ar", "{nla}/ar", "--out", "{root}/rl", "--group-size", "1"], "must be at least 2"),
    (["rl", "--data", "{data}", "--av", "{nla}/av", "--ar", "{nla}/ar", "--out", "{root}/rl", "--engine", "sglang"], "must be one of"),
    (["evaluate", "--nla", "{nla}", "--max-new-tokens", "0"], "max_new_tokens (--max-new-tokens) must be at least 1"),
    (["evaluate", "--nla", "{nla}", "--suite", "everything"], "suite (--suite) must be one of fast, full"),
    (["teach", "--data", "{data}", "--teacher", "oracle"], "teacher (--teacher) must be one of template, local, api"),
    (["teach", "--data", "{data}", "--design", "genre+vibes"], "teacher design 'genre+vibes': unknown part(s) 'vibes'"),
    (["teach", "--data", "{data}", "--design", "next9"], "unknown part(s) 'next9'"),
    (["teach", "--data", "{data}", "--design", "quote3+quote6"], "each part may appear once"),
    (["teachers", "--data", "{data}", "--designs", " , "], "--designs names no design"),
    (["teachers", "--data", "{root}", "--out", "{root}/t"], "is not a dataset folder (no train.parquet)"),
    (["train-ar", "--data", "{data}", "--out", "{root}/ar", "--config", "{root}/unknown.yaml"], "unknown setting(s) warp_factor"),
    (["train-ar", "--data", "{data}", "--out", "{root}/ar", "--config", "{root}/badtype.yaml"], "steps (--steps) must be an integer"),
    (["train-ar", "--data", "{data}", "--out", "{root}/ar", "--config", "{root}/missing.yaml"], "settings file not found"),
    (["explain", "hello", "--nla", "{nla}", "--max-new-tokens", "0"], "max_new_tokens (--max-new-tokens) must be at least 1"),
    (["explain", "--nla", "{nla}", "--random", "2", "--temperature", "-1"], "temperature (--temperature) must be at least 0"),
    (["explain", "--nla", "{nla}", "--random", "2", "--injection-scale", "0"], "injection_scale (--injection-scale) must be greater than 0"),
    (["serve", "--nla", "{nla}", "--port", "99999"], "port (--port) must be at most 65535"),
    (["serve", "--nla", "{nla}", "--token", ""], "--token is empty"),
    (["neurons", "--nla", "{nla}", "--out", "{root}/n", "--neurons", "1:0", "--layers", "1"], "leave out --layers"),
    (["directions", "--nla", "{nla}", "--corpus", "{root}/short.txt", "--neuron", "1:0"], "no text in"),
    (["extract", "--out", "{root}/x", "--model", "{model}", "--top-k-next", "100000"], "more than the vocabulary"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/notes [draft].txt"], "notes [draft].txt"),  # square brackets are text
    (["extract", "--out", "{root}/x", "--corpus", "{root}/[/b].txt"], "[/b].txt"),  # not markup that crashes the printer
    (["serve", "--nla", "{nla}", "--token", "  "], "--token is empty"),
    # corpora and datasets
    (["extract", "--out", "{root}/x", "--corpus", "{root}/missing.txt"], "corpus file not found"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/binary.txt"], "looks binary"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/latin1.txt"], "is not UTF-8 text"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/folder.txt"], "is a folder"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/nulltext.parquet"], "row 1 has no string `text`"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/garbage.parquet"], "cannot read"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/notjson.jsonl"], "notjson.jsonl:2 is not valid JSON"),
    (["extract", "--out", "{root}/x", "--corpus", "{root}/surrogate.jsonl"], "surrogate.jsonl:2: `text` holds a lone surrogate"),
    (["evaluate", "--nla", "{nla}", "--texts", "{root}/surrogate.jsonl"], "surrogate.jsonl:2: `text` holds a lone surrogate"),
    (["neurons", "--nla", "{nla}", "--corpus", "{root}/surrogate.jsonl", "--out", "{root}/n"], "surrogate.jsonl:2: `text` holds a lone"),
    (["directions", "--nla", "{nla}", "--corpus", "{root}/surrogate.jsonl", "--neuron", "1:0"], "surrogate.jsonl:2: `text` holds a lone"),
    (["train-ar", "--data", "{root}/nodata", "--out", "{root}/ar"], "missing sidecar"),
    # folders, sidecars, model files
    (["train-ar", "--data", "{data}", "--out", "{data}"], "is the input"),  # more in test_folders.py
    (["evaluate", "--nla", "{root}/nowhere"], "must contain av/ and ar/"),
    (["evaluate", "--nla", "{root}/nla_abc"], "d_model must be an integer, got 'abc'"),
    (["evaluate", "--nla", "{root}/nla_nanscale"], "injection_scale must be a finite number"),
    (["evaluate", "--nla", "{truncated}"], "cannot load the model in"),
    (["evaluate", "--nla", "{nla}", "--save", "{root}"], "is a folder"),
    (["evaluate", "--nla", "{nla}", "--out", "{root}/suite"], "add --suite full"),
    (["explain", "   ", "--nla", "{nla}"], "the text is empty"),
    # the neuron dictionary and directions
    (["neurons", "--nla", "{nla}", "--layers", "7", "--out", "{root}/neurons"], "unknown layer 7: the model has 2 blocks"),
    (["neurons", "--nla", "{nla}", "--neurons", "0:999", "--out", "{root}/neurons"], "unknown neuron 0:999"),
    (["neurons", "--nla", "{nla}", "--corpus", "{root}/empty.txt", "--out", "{root}/neurons"], "empty corpus"),
    (["directions", "{root}/wide.npy", "--nla", "{nla}"], "have width 3 but the model's d_model is 64"),
    (["directions", "--nla", "{nla}"], "give a FILE of directions"),
    (["directions", "{root}/unknown.yaml", "--nla", "{nla}"], "directions are read from .npy or .safetensors files"),
    # explain --vectors / --random: the official inference CLI's inputs
    (["explain", "--nla", "{nla}"], "give the text to read"),
    (["explain", "--nla", "{nla}", "--vectors", "{root}/missing.parquet"], "no such file"),
    (["explain", "--nla", "{nla}", "--vectors", "{root}/garbage.parquet"], "cannot read"),
    (["explain", "--nla", "{nla}", "--vectors", "{root}/novectors.parquet"], "has no `activation_vector` column (columns: vector)"),
    (["explain", "--nla", "{nla}", "--vectors", "{root}/narrow.parquet"], "have width 5 but the model's d_model is 64"),
    (["explain", "--nla", "{nla}", "--vectors", "{root}/nan.parquet"], "contain NaN or inf values (rows [1])"),
    (["explain", "--nla", "{nla}", "--vectors", "{root}/vectors.parquet", "--prompt", "Explain this vector."],
     "must contain the marker <INJECT> (where the vector goes) exactly once; it has it 0 times"),
    (["explain", "--nla", "{nla}", "--random", "2", "--prompt", "<INJECT> and <INJECT>"], "it has it 2 times"),
    (["explain", "--nla", "{nla}", "--random", "2", "--n", "3"], "would all be the same: add --temperature"),
    (["explain", "hello", "--nla", "{nla}", "--temperature", "0.5"], "a text's tokens are explained greedily"),
    (["export", "--nla", "{nla}", "--out", "{root}/exported", "--dtype", "fp16"], "unknown export dtype 'fp16': choose one of bf16, fp32"),
]


@pytest.mark.parametrize("argv, fragment", BAD, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BAD])
def test_bad_input_gets_one_clear_line(argv, fragment, files, capsys):
    code, err = run_cli([a.format(**files) for a in argv], capsys)
    assert code == 2, err
    assert fragment in " ".join(err.split()), err
    assert "Traceback" not in err


def test_a_damaged_checkpoint_is_refused_with_its_path(taught, tmp_path, capsys):
    out = tmp_path / "ar"
    cfg = ARConfig(steps=3, save_every=1, max_minutes=0.0, bf16=False)
    assert run_train_ar(taught, out, cfg) is None  # stopped by the budget after step 1, checkpoint written
    state = tmp_path / "ar.work" / "checkpoint" / "state.json"
    state.write_text(state.read_text()[:50])
    code, err = run_cli(["train-ar", "--data", taught, "--out", out, "--steps", "3", "--save-every", "1", "--fp32"], capsys)
    assert code == 2 and "checkpoint state" in err
    (tmp_path / "ar.work" / "checkpoint" / "tensors.safetensors").write_bytes(b"")
    code, err = run_cli(["train-ar", "--data", taught, "--out", out, "--steps", "3", "--save-every", "1", "--fp32"], capsys)
    assert code == 2 and "corrupt safetensors file" in err


class Payload:
    """Unpickling this writes a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def test_a_crafted_pickle_in_a_checkpoint_never_runs(taught, tmp_path):
    out, marker = tmp_path / "ar", tmp_path / "pwned"
    cfg = ARConfig(steps=2, save_every=1, max_minutes=0.0, bf16=False)
    assert run_train_ar(taught, out, cfg) is None
    checkpoint = tmp_path / "ar.work" / "checkpoint"
    assert sorted(p.name for p in checkpoint.iterdir()) == ["state.json", "tensors.safetensors"]
    for name in ("tensors.safetensors", "state.json"):  # the pickle where each file is expected
        saved = (checkpoint / name).read_bytes()
        (checkpoint / name).write_bytes(pickle.dumps(Payload(marker)))
        (tmp_path / "ar.work" / "checkpoint.pt").write_bytes(pickle.dumps(Payload(marker)))  # the old name, too
        with pytest.raises(NLAError):
            run_train_ar(taught, out, ARConfig(steps=2, save_every=1, bf16=False))
        assert not marker.exists()
        (checkpoint / name).write_bytes(saved)
    assert run_train_ar(taught, out, ARConfig(steps=2, save_every=1, bf16=False)) == out  # intact again: it resumes
    assert not marker.exists()


# ---------------------------------------------------------------- nothing a user made is lost


@pytest.mark.parametrize("argv", [
    ["extract", "--out", "{precious}", "--overwrite", "--corpus", "{root}/missing.txt"],
    ["train-ar", "--data", "{root}/missing", "--out", "{precious}", "--overwrite"],
    ["rl", "--data", "{root}/missing", "--av", "{nla}/av", "--ar", "{nla}/ar", "--out", "{precious}", "--overwrite"],
], ids=["extract", "train-ar", "rl"])
def test_a_failing_overwrite_deletes_nothing(argv, files, tmp_path, capsys):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("months of work")
    code, err = run_cli([a.format(precious=precious, **files) for a in argv], capsys)
    assert code == 2, err
    assert (precious / "notes.txt").read_text() == "months of work"


def test_a_pickled_direction_file_never_runs(sft_pair, tmp_path, capsys):
    marker = tmp_path / "pwned"
    np.save(tmp_path / "evil.npy", np.array([Payload(marker)], dtype=object), allow_pickle=True)
    code, err = run_cli(["directions", tmp_path / "evil.npy", "--nla", sft_pair.nla], capsys)
    assert code == 2 and "cannot read" in err and "Traceback" not in err
    assert not marker.exists()


def test_the_api_teacher_never_drops_a_row(tiny_model, tiny_corpus, tmp_path, monkeypatch):
    """A server failing on some rows: teach refuses with the count, keeps the answers it got, and a rerun asks only for the rest."""
    import httpx

    from nlakit.core.config import ExtractConfig
    from nlakit.stages.extract import run_extract
    from nlakit.stages.teach import APITeacher, run_teach

    data = run_extract(ExtractConfig(model=tiny_model, corpus=str(tiny_corpus), layer_index=1, heldout_fraction=0.3), tmp_path / "ds")
    rows_before = pq.read_table(data / "train.parquet").num_rows
    asked: list[str] = []
    failing = {"on": True}

    def fake_post(url, json=None, **kw):  # noqa: A002 (httpx's own keyword)
        context = json["messages"][0]["content"]
        asked.append(context)
        if failing["on"] and len(asked) % 3 == 0:
            return httpx.Response(503, request=httpx.Request("POST", url))
        return httpx.Response(200, json={"choices": [{"message": {"content": "<explanation>a reading</explanation>"}}]},
                              request=httpx.Request("POST", url))

    monkeypatch.setattr(httpx, "post", fake_post)
    monkeypatch.setenv("TEST_KEY", "k")
    monkeypatch.setattr("nlakit.stages.teach.time.sleep", lambda s: None)
    teacher = APITeacher(base_url="http://127.0.0.1:9/v1", model="m", api_key_env="TEST_KEY", retries=1, concurrency=1)
    with pytest.raises(NLAError, match=r"no usable explanation for \d+ of \d+ train rows"):
        run_teach(data, teacher)
    assert pq.read_table(data / "train.parquet").num_rows == rows_before  # nothing written, nothing dropped
    first_pass = len(asked)
    failing["on"] = False
    run_teach(data, teacher)
    table = pq.read_table(data / "train.parquet")
    assert table.num_rows == rows_before and all(table.column("explanation").to_pylist())
    assert len(asked) - first_pass < rows_before + pq.read_table(data / "heldout.parquet").num_rows  # only the missing rows again


def test_evaluate_json_never_prints_nan(sft_pair, tiny_corpus, capsys):
    try:
        main(["evaluate", "--nla", str(sft_pair.nla), "--texts", str(tiny_corpus), "--max-docs", "3", "--max-new-tokens", "4", "--json"])
    except SystemExit as done:
        assert not done.code
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert "NaN" not in printed and "Infinity" not in printed
    json.loads(printed, parse_constant=lambda c: pytest.fail(f"non-finite {c} in JSON"))


def test_a_base_model_of_another_width_is_named(sft_pair, make_tiny_model, tmp_path, capsys):
    other = make_tiny_model(tmp_path / "narrow", hidden_size=32, intermediate_size=64)
    nla = tmp_path / "nla"
    shutil.copytree(sft_pair.nla, nla)
    meta = yaml.safe_load((nla / "av" / "nla_meta.yaml").read_text())
    meta["base_model"] = other
    (nla / "av" / "nla_meta.yaml").write_text(yaml.safe_dump(meta))
    code, err = run_cli(["evaluate", "--nla", nla], capsys)
    assert code == 2 and "cannot load the model in" in err and "Traceback" not in err


def test_a_diverging_run_publishes_nothing(taught, tmp_path, monkeypatch):
    import torch

    from nlakit.core.ar import Reconstructor

    real = Reconstructor.loss

    def nan_loss(self, *args, **kwargs):
        loss, tokens = real(self, *args, **kwargs)
        return loss * torch.tensor(float("nan")), tokens

    monkeypatch.setattr(Reconstructor, "loss", nan_loss)
    with pytest.raises(NLAError, match="diverged at step 1"):
        run_train_ar(taught, tmp_path / "ar", ARConfig(steps=2, save_every=1, bf16=False))
    assert not (tmp_path / "ar").exists()
    assert not (tmp_path / "ar.work" / "checkpoint").exists()


def test_a_long_text_says_what_it_left_out(sft_pair, capsys):
    text = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)
    code, err = run_cli(["explain", text, "--nla", sft_pair.nla, "--max-new-tokens", "2", "--json"], capsys)
    assert code == 0
    assert "the NLA reads the first 128" in " ".join(err.split())


def test_the_explorer_answers_malformed_requests_with_4xx(sft_pair):
    from fastapi.testclient import TestClient

    from nlakit.app.serve.app import create_app
    from nlakit.core.config import ServeConfig
    from nlakit.core.nla import NLA

    nla = NLA.load(sft_pair.nla)
    client = TestClient(create_app(nla, ServeConfig(max_new_tokens=2)))
    raw = {"content-type": "application/json"}
    cases = [
        (b'{"text": "\\ud800 lone surrogate"}', "/api/tokenize", 422),
        (b'{"text": "hi there", "index": 0, "temperature": NaN}', "/api/sample", 422),
        (b'{"text": "hi there", "index": 0, "strength": Infinity, "saved": "x"}', "/api/steer", 422),
        (json.dumps({"text": "hi there", "index": 0, "seed": 2**70}).encode(), "/api/sample", 422),
        (json.dumps({"text": "hi there", "index": 2**70}).encode(), "/api/explain", 422),
    ]
    for body, path, status in cases:
        response = client.post(path, content=body, headers=raw)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"] == "validation"

    def chunks():  # no Content-Length: the cap must hold for a streamed body too
        for _ in range(100):
            yield b"x" * 10_000

    response = client.post("/api/tokenize", content=chunks(), headers=raw)
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert client.post("/api/tokenize", json={"text": "hi there"}).status_code == 200


def test_the_explorer_token_guards_every_api_call(sft_pair, tmp_path):
    import numpy as np
    from fastapi.testclient import TestClient

    from nlakit.app.serve.app import create_app
    from nlakit.core.config import ServeConfig
    from nlakit.core.nla import NLA

    directions = tmp_path / "directions"
    directions.mkdir()
    nla = NLA.load(sft_pair.nla)
    np.save(directions / "nan.npy", np.full(nla.meta.d_model, np.nan, np.float32))
    client = TestClient(create_app(nla, ServeConfig(directions=directions, token="s3cret")))
    assert client.get("/").status_code == 200  # the page itself; it passes ?token= on to its calls
    assert client.get("/api/info").status_code == 401
    auth = {"Authorization": "Bearer s3cret"}
    assert client.get("/api/info", headers=auth).status_code == 200
    steer = client.post("/api/steer", json={"text": "hi there", "index": 0, "strength": 1.0, "saved": "nan.npy"}, headers=auth)
    assert steer.status_code == 422 and "NaN" in steer.json()["message"]
