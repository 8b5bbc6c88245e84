"""Caches carry what made them: a cache made by other settings, for other rows, or received with a folder is never used.

Also the API teacher's circuit breaker, a full disk during a write and a preset's two models (issue 24).
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest

from nlakit.core import dataset
from nlakit.core.errors import NLAError
from nlakit.core.files import atomic_write
from nlakit.core.sidecar import Sidecar
from nlakit.stages.teach import APITeacher, run_teach


def test_a_planted_vector_cache_is_rebuilt_not_trained_on(taught, tmp_path, capsys):
    """A received dataset with a zero vector cache and a matching key beside it: the vectors come from the parquet."""
    sender = Path(shutil.copytree(taught, tmp_path / "sender"))
    dataset.vector_store(sender, "train")  # the sender's own cache and key ...
    np.save(sender / "train.vectors.npy", np.zeros_like(np.load(sender / "train.vectors.npy")))  # ... then zeroed
    received = Path(shutil.copytree(sender, tmp_path / "received"))
    table, _ = dataset.read_split(received, "train")
    capsys.readouterr()
    store = dataset.vector_store(received, "train")
    np.testing.assert_array_equal(np.asarray(store), dataset.vectors(table))
    assert "was not made here" in capsys.readouterr().err
    dataset.vector_store(received, "train")  # the cache it made itself is used again, without a word
    assert "not made here" not in capsys.readouterr().err


def fake_chat(answer_for, asked: list):
    """An httpx.post stand-in: `answer_for(model, context)` gives (status, body, content type)."""

    def post(url, json=None, **kw):  # noqa: A002 (httpx's own keyword)
        asked.append((json["model"], json["messages"][0]["content"]))
        status, body, kind = answer_for(json["model"], json["messages"][0]["content"])
        return httpx.Response(status, content=body.encode(), headers={"content-type": kind},
                              request=httpx.Request("POST", url))

    return post


def completion(text: str) -> tuple[int, str, str]:
    return 200, json.dumps({"choices": [{"message": {"content": f"<explanation>{text}</explanation>"}}]}), "application/json"


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("TEST_KEY", "k")
    monkeypatch.setattr("nlakit.stages.teach.time.sleep", lambda s: None)


def test_another_api_model_never_mixes_answers(taught, tmp_path, monkeypatch, api):
    """Model A answers part of the rows and fails; a rerun with model B asks B for every row: no answer of A is kept."""
    data = Path(shutil.copytree(taught, tmp_path / "ds"))
    asked: list = []
    calls = {"n": 0}

    def answer(model, context):
        calls["n"] += 1
        if model == "model-a" and calls["n"] % 2 == 0:
            return 503, "busy", "text/plain"
        return completion(f"from {model}")

    monkeypatch.setattr(httpx, "post", fake_chat(answer, asked))
    with pytest.raises(NLAError, match="no usable explanation"):
        run_teach(data, APITeacher("http://127.0.0.1:9/v1", "model-a", "TEST_KEY", retries=1, concurrency=1), overwrite=True)
    assert list(data.glob(".teach-api-*-train.jsonl"))  # model A's answers are kept for a rerun with model A
    run_teach(data, APITeacher("http://127.0.0.1:9/v1", "model-b", "TEST_KEY", retries=1, concurrency=1), overwrite=True)
    for split in dataset.SPLITS:
        assert set(pq.read_table(data / f"{split}.parquet").column("explanation").to_pylist()) == {"from model-b"}
    recorded = Sidecar.load(data).training["teacher_settings"]
    assert recorded["model"] == "model-b" and recorded["base_url"] == "http://127.0.0.1:9/v1"


def test_a_planted_teach_cache_is_ignored(taught, tmp_path, monkeypatch, api, capsys):
    """A teach cache received with a dataset (its header copied too) never replaces the teacher's answers."""
    sender = Path(shutil.copytree(taught, tmp_path / "sender"))
    asked: list = []
    monkeypatch.setattr(httpx, "post", fake_chat(lambda m, c: (503, "down", "text/plain"), asked))
    teacher = APITeacher("http://127.0.0.1:9/v1", "m", "TEST_KEY", retries=1, concurrency=1, breaker=10_000)
    with pytest.raises(NLAError):
        run_teach(sender, teacher, overwrite=True)
    cache = next(sender.glob(".teach-api-*-train.jsonl"))
    rows = pq.read_table(sender / "train.parquet").num_rows
    header = cache.read_text().splitlines()[0]
    cache.write_text(header + "\n" + "".join(json.dumps({"i": i, "explanation": "PLANTED"}) + "\n" for i in range(rows)))
    received = Path(shutil.copytree(sender, tmp_path / "received"))
    monkeypatch.setattr(httpx, "post", fake_chat(lambda m, c: completion("honest"), asked))
    capsys.readouterr()
    run_teach(received, APITeacher("http://127.0.0.1:9/v1", "m", "TEST_KEY", retries=1, concurrency=1), overwrite=True)
    assert "PLANTED" not in pq.read_table(received / "train.parquet").column("explanation").to_pylist()
    assert "ignored" in capsys.readouterr().err


def test_a_resumed_teach_uses_its_own_cache(taught, tmp_path, monkeypatch, api):
    """The same teacher on the same rows resumes: rows answered before are not asked again."""
    data = Path(shutil.copytree(taught, tmp_path / "ds"))
    asked: list = []
    failing = {"on": True}

    def answer(model, context):
        if failing["on"] and len(asked) % 2 == 0:
            return 503, "busy", "text/plain"
        return completion("fine")

    monkeypatch.setattr(httpx, "post", fake_chat(answer, asked))
    teacher = APITeacher("http://127.0.0.1:9/v1", "m", "TEST_KEY", retries=1, concurrency=1)
    with pytest.raises(NLAError):
        run_teach(data, teacher, overwrite=True)
    before, failing["on"] = len(asked), False
    rows = pq.read_table(data / "train.parquet").num_rows
    run_teach(data, teacher, overwrite=True)
    assert len(asked) - before < rows + pq.read_table(data / "heldout.parquet").num_rows


def test_a_dead_endpoint_trips_the_circuit_breaker(taught, tmp_path, monkeypatch, api):
    """200 with an HTML page for every row: the run stops after `breaker` rows with one line, not retries per row."""
    data = Path(shutil.copytree(taught, tmp_path / "ds"))
    asked: list = []
    monkeypatch.setattr(httpx, "post", fake_chat(lambda m, c: (200, "<html>login</html>", "text/html"), asked))
    teacher = APITeacher("http://127.0.0.1:9/v1", "m", "TEST_KEY", retries=5, concurrency=1, breaker=3)
    with pytest.raises(NLAError, match=r"gave no usable answer for 3 rows in a row \(last: answers 200 with something that "
                                       r"is not a chat completion \(text/html\)\)"):
        run_teach(data, teacher, overwrite=True)
    assert len(asked) == 3  # an HTML page is not retried, and the queued rows are not asked


def test_failures_apart_do_not_trip_the_breaker(monkeypatch, api):
    """Rows that fail now and then (fewer than `breaker` in a row) only leave those rows missing."""
    asked: list = []
    monkeypatch.setattr(httpx, "post", fake_chat(
        lambda m, c: (500, "oops", "text/plain") if "fail" in c else completion("ok"), asked))
    teacher = APITeacher("http://127.0.0.1:9/v1", "m", "TEST_KEY", retries=2, concurrency=1, breaker=2)
    rows = [{"context": t} for t in ("fail", "a", "fail", "b")]
    assert teacher.explain(rows) == [None, "ok", None, "ok"]
    teacher.check()  # not tripped
    assert len(asked) == 6  # a 500 is retried


def test_a_full_disk_leaves_the_old_file_and_says_so(tmp_path):
    """ENOSPC (or a library's own error for it, as safetensors raises) during a write: one line, the old file intact."""
    from safetensors import SafetensorError

    target = tmp_path / "weights.safetensors"
    target.write_bytes(b"old")

    def full(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    def full_safetensors(tmp: Path) -> None:
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: '
                              '"No space left on device" })')

    for writer in (full, full_safetensors):
        with pytest.raises(NLAError, match="no space left on the device to write .*weights.safetensors"):
            atomic_write(target, writer)
        assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["weights.safetensors"]


def test_the_cli_says_one_line_for_a_full_disk_inside_a_folder_write(sft_pair, tmp_path, monkeypatch, capsys):
    """export writes its weights with safetensors inside a folder being built: a full disk is one line, exit 2."""
    from safetensors import SafetensorError

    from nlakit.app.cli import main
    from nlakit.stages import export

    def full(*args, **kwargs):
        raise SafetensorError("Error while serializing: IoError(No space left on device (os error 28))")

    monkeypatch.setattr(export, "save_file", full)
    with pytest.raises(SystemExit) as done:
        main(["export", "--nla", str(sft_pair.nla), "--out", str(tmp_path / "exported")])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "no space left on the device" in err and "Traceback" not in err
    assert not (tmp_path / "exported").exists()



def test_a_presets_extract_model_is_honoured_or_the_conflict_refused(tmp_path):
    """A preset's extract.model is never silently replaced by `model`: alone it is the target, beside another one refused."""
    from nlakit.core.config import load_preset

    alone = tmp_path / "alone.yaml"
    alone.write_text("extract:\n  model: some/other-model\n")
    assert load_preset(str(alone)).model == "some/other-model"
    both = tmp_path / "both.yaml"
    both.write_text("model: one/model\nextract:\n  model: another/model\n")
    with pytest.raises(NLAError, match="names two target models"):
        load_preset(str(both))
