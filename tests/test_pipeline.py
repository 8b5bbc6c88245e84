"""The stages end to end on a tiny model: resume, training signal, CLI, teachers and bad input."""

from __future__ import annotations

import csv
import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from nlakit.app.cli import main
from nlakit.core import dataset
from nlakit.core.ar import build_reconstructor, load_reconstructor
from nlakit.core.av import build_verbalizer
from nlakit.core.config import ARConfig, AVConfig, ExtractConfig
from nlakit.core.corpus import load_corpus
from nlakit.core.errors import NLAError
from nlakit.core.metrics import RAWVAR
from nlakit.core.models import add_lora
from nlakit.core.nla import NLA
from nlakit.core.sidecar import Sidecar, check_vectors
from nlakit.stages import extract
from nlakit.stages.evaluate import evaluate_rows
from nlakit.stages.extract import run_extract
from nlakit.stages.sft import run_train_ar, run_train_av
from nlakit.stages.teach import APITeacher


def extract_cfg(tiny_model: str, tiny_corpus: Path, **kw) -> ExtractConfig:
    """The settings of the shared `taught` fixture (conftest.make_taught), for tests that extract again."""
    return ExtractConfig(model=tiny_model, corpus=str(tiny_corpus), layer_index=1, heldout_fraction=0.3, chunk_docs=10, **kw)


@pytest.fixture(scope="module")
def nla_dir(sft_pair) -> Path:
    return sft_pair.nla


def test_extract_writes_split_dataset_with_sidecar(taught):
    meta = Sidecar.load(taught)
    train, _ = dataset.read_split(taught, "train")
    held, _ = dataset.read_split(taught, "heldout")
    assert meta.d_model == 64 and meta.layer_index == 1 and meta.hidden_states_index == 2
    assert meta.injection_scale > 0 and 0 < meta.baselines[RAWVAR] < 2
    assert set(train.column("doc_id").to_pylist()).isdisjoint(held.column("doc_id").to_pylist())
    row = train.slice(0, 1).to_pylist()[0]
    assert row["context"].endswith(row["token"].strip()) or row["token"].strip() == ""
    assert row["explanation"].startswith(row["genre"]) and "Ends with:" in row["explanation"]
    assert dataset.vectors(train).dtype == np.float32


def test_extraction_resumes_after_interruption_without_duplicates(tiny_model, tiny_corpus, tmp_path, monkeypatch):
    cfg = extract_cfg(tiny_model, tiny_corpus)
    reference = pq.read_table(run_extract(cfg, tmp_path / "whole") / "train.parquet")
    calls = {"n": 0}
    real = dataset.write_rows

    def crash_on_third_chunk(path, rows, d_model):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real(path, rows, d_model)

    monkeypatch.setattr(extract.dataset, "write_rows", crash_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        run_extract(cfg, tmp_path / "resumed")
    assert not (tmp_path / "resumed").exists()  # nothing published from a killed run
    assert len(list((tmp_path / "resumed.work" / "shards").glob("*.parquet"))) == 2
    written: list[str] = []
    monkeypatch.setattr(extract.dataset, "write_rows", lambda path, rows, d_model: (written.append(Path(path).name), real(path, rows, d_model)))
    resumed = pq.read_table(run_extract(cfg, tmp_path / "resumed") / "train.parquet")
    assert written == ["part-00002.parquet", "part-00003.parquet"]  # only the chunks the killed run had not written
    assert not (tmp_path / "resumed.work" / "shards").exists()
    keys = list(zip(resumed.column("doc_id").to_pylist(), resumed.column("position").to_pylist()))
    assert len(keys) == len(set(keys)) == reference.num_rows
    np.testing.assert_array_equal(dataset.vectors(resumed), dataset.vectors(reference))


def test_ar_sft_step_lowers_the_loss(taught):
    table, meta = dataset.read_split(taught, "train")
    texts, targets = dataset.explanations(table)[:8], torch.from_numpy(dataset.vectors(table)[:8])
    ar = build_reconstructor(meta)
    optimizer = torch.optim.AdamW([p for p in ar.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for _ in range(5):
        loss, _ = ar.loss(texts, targets, bf16=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]


def test_av_sft_step_lowers_the_loss_and_trains_only_adapters(taught):
    table, meta = dataset.read_split(taught, "train")
    texts, vectors = dataset.explanations(table)[:4], torch.from_numpy(dataset.vectors(table)[:4])
    av = build_verbalizer(meta)
    av.lm = add_lora(av.lm, ARConfig())
    frozen = {n: p.detach().clone() for n, p in av.lm.named_parameters() if not p.requires_grad}
    optimizer = torch.optim.AdamW([p for p in av.lm.parameters() if p.requires_grad], lr=5e-3)
    losses = []
    for _ in range(4):
        loss, _ = av.sft_loss(vectors, texts, bf16=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    assert all(torch.equal(p, frozen[n]) for n, p in av.lm.named_parameters() if n in frozen)


def test_training_resumes_from_checkpoint(taught, tmp_path):
    """A run cut by its time budget publishes nothing, checkpoints in <out>.work, and its rerun ends where an uncut run does."""
    cfg = ARConfig(steps=4, save_every=2, eval_every=100, bf16=False)
    run_train_ar(taught, tmp_path / "full", cfg)
    assert run_train_ar(taught, tmp_path / "cut", replace(cfg, max_minutes=0.0)) is None  # stops (and saves) after one step
    assert not (tmp_path / "cut").exists()
    state = json.loads((tmp_path / "cut.work" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 1 and [row["step"] for row in state["log"]] == [1]
    assert run_train_ar(taught, tmp_path / "cut", cfg) == tmp_path / "cut"
    full, cut = load_reconstructor(tmp_path / "full"), load_reconstructor(tmp_path / "cut")
    torch.testing.assert_close(full.value_head.weight, cut.value_head.weight)
    assert not torch.equal(cut.value_head.weight, torch.eye(cut.meta.d_model))  # it trained: the match is not trivial
    with open(tmp_path / "full" / "log.csv") as f_full, open(tmp_path / "cut" / "log.csv") as f_cut:
        assert [r["loss"] for r in csv.DictReader(f_cut)] == [r["loss"] for r in csv.DictReader(f_full)]


def test_evaluate_reports_fve_and_controls(nla_dir, tiny_corpus):
    nla = NLA.load(nla_dir)
    rows = nla.activations(load_corpus(tiny_corpus, limit=6))
    metrics, result = evaluate_rows(nla, rows, max_new_tokens=8)
    scored = result.rows(rows)
    assert metrics["n"] == len(rows) == len(scored) > 0 and result.reconstructions.shape == (len(rows), nla.meta.d_model)
    for key in ("fve_nrm", "mse_nrm", "fve_shuffled", "fve_teacher"):
        assert np.isfinite(metrics[key])
    assert metrics["fve_nrm"] == pytest.approx(1 - metrics["mse_nrm"] / metrics["rawvar"])
    assert metrics["baseline"] == RAWVAR and metrics["rawvar"] == pytest.approx(nla.meta.baselines[RAWVAR])
    assert all(s["fve_nrm"] == pytest.approx(1 - s["mse_nrm"] / metrics["rawvar"]) for s in scored)


def test_cli_pipeline_and_json_outputs(tiny_model, tiny_corpus, tmp_path, capsys):
    data, nla = tmp_path / "data", tmp_path / "nla"
    main(["extract", "--out", str(data), "--model", tiny_model, "--corpus", str(tiny_corpus), "--layer", "1", "--heldout-fraction", "0.3"])
    main(["teach", "--data", str(data)])
    main(["train-ar", "--data", str(data), "--out", str(nla / "ar"), "--steps", "1"])
    main(["train-av", "--data", str(data), "--out", str(nla / "av"), "--steps", "1"])
    capsys.readouterr()
    main(["evaluate", "--nla", str(nla), "--texts", str(tiny_corpus), "--max-docs", "3", "--max-new-tokens", "6", "--json"])
    metrics = json.loads(capsys.readouterr().out)
    assert {"fve_nrm", "mse_nrm", "fve_shuffled", "fve_teacher", "n"} <= set(metrics) and metrics["baseline"] == RAWVAR
    main(["explain", "--nla", str(nla), "--max-new-tokens", "4", "--json", "Bob: hello there"])
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) > 1 and [r["position"] for r in rows] == sorted(r["position"] for r in rows)
    assert all({"token", "explanation", "fve_nrm", "mse_nrm", "parsed"} <= set(r) and r["baseline"] == RAWVAR for r in rows)


def test_bad_input_is_refused_with_a_clear_message(taught, tmp_path, tiny_model, capsys):
    with pytest.raises(NLAError, match="width 32 but the model's d_model is 64"):
        check_vectors(np.zeros((2, 32)), 64)
    with pytest.raises(NLAError, match="NaN or inf"):
        check_vectors(np.array([[0.0] * 63 + [np.nan]]), 64)
    with pytest.raises(NLAError, match="missing sidecar"):
        Sidecar.load(tmp_path)
    (tmp_path / "nla_meta.yaml").write_text("kind: [unclosed")
    with pytest.raises(NLAError, match="corrupt sidecar"):
        Sidecar.load(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(NLAError, match="empty corpus"):
        load_corpus(empty)
    other = Sidecar.load(taught)
    other.d_model = 128
    with pytest.raises(NLAError, match="mismatched sidecar: .* d_model=128"):
        Sidecar.load(taught).check_compatible(other, "the AR")
    with pytest.raises(SystemExit) as code:
        main(["extract", "--out", str(tmp_path / "x"), "--model", tiny_model, "--corpus", str(empty)])
    assert code.value.code == 2 and "empty corpus" in capsys.readouterr().err


class FakeChat(BaseHTTPRequestHandler):
    """A loopback stand-in for an OpenAI-compatible endpoint."""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.headers["Authorization"] == "Bearer test-key"
        text = body["messages"][0]["content"]
        answer = "<explanation>Prose about a fox.\nNext: jumps</explanation>" if "fox" in text else "no tags here"
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_api_teacher_against_a_fake_server(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), FakeChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("TEST_KEY", "test-key")
        teacher = APITeacher(base_url=f"http://127.0.0.1:{server.server_port}/v1", model="fake", api_key_env="TEST_KEY", retries=1)
        out = teacher.explain([{"context": "the quick brown fox"}, {"context": "something else"}])
        assert out == ["Prose about a fox.\nNext: jumps", None]
    finally:
        server.shutdown()


@pytest.mark.slow
def test_real_default_model_extracts_and_explains(tmp_path):
    """The embedded SmolLM2-135M: conversion, marker, layer 20 and a short AV/AR round trip."""
    corpus = tmp_path / "texts.txt"
    corpus.write_text("The cat sat on the warm mat and purred softly all afternoon.\n"
                      "def square(x):\n" "Alice: Shall we go to the beach tomorrow morning?\n")
    folder = run_extract(ExtractConfig(corpus=str(corpus), positions_per_doc=2, heldout_fraction=0.0), tmp_path / "ds")
    meta = Sidecar.load(folder)
    assert (meta.d_model, meta.layer_index, meta.hidden_states_index) == (576, 20, 21)
    assert meta.tokens["injection_char"] and meta.injection_scale > meta.activation_norm["mean"]
    table, _ = dataset.read_split(folder, "train")
    assert table.num_rows >= 4
    av = build_verbalizer(meta)
    generation = av.generate(dataset.vectors(table)[:2], max_new_tokens=6)
    assert len(generation.texts) == 2


def tiny_preset(model: str):
    from nlakit.core.config import Preset, RLConfig

    return Preset(
        model=model,
        extract=ExtractConfig(max_docs=24, positions_per_doc=2, max_length=32, layer_index=1, chunk_docs=12),
        ar=ARConfig(steps=2, batch_size=4, eval_every=2, eval_rows=8, save_every=1),
        av=AVConfig(steps=2, batch_size=4, eval_every=2, eval_rows=4, save_every=1),
        rl=RLConfig(steps=1, batch_size=2, group_size=2, max_new_tokens=6, save_every=1),
        token_floor=ARConfig(steps=2, batch_size=4, eval_every=2, eval_rows=8, save_every=1),
        eval_docs=3, max_new_tokens=6,
    )


def test_demo_writes_metrics_curves_and_report_and_reuses_stages(tiny_model, tmp_path, monkeypatch):
    from nlakit.app.pipeline import run_pipeline
    from nlakit.stages import rl, sft, teach

    preset = tiny_preset(tiny_model)
    metrics = run_pipeline(tmp_path / "demo", preset)
    for name in ("metrics.json", "ar_curve.png", "av_curve.png", "report.html", "sft/av/nla_meta.yaml",
                 "nla/av/nla_meta.yaml", "nla/ar/value_head.safetensors", "nla/rl_curves.png"):
        assert (tmp_path / "demo" / name).exists(), name
    saved = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    assert saved["fve_nrm"] == pytest.approx(metrics["fve_nrm"]) and "fve_shuffled" in saved
    assert "<span class=\"tok\"" in (tmp_path / "demo" / "report.html").read_text()
    assert saved["baseline"] == RAWVAR
    assert (tmp_path / "demo" / "nla" / "token_ar" / "nla_meta.yaml").exists(), "every trained NLA gets its token floor"
    assert saved["fve_token_floor"] is not None and saved["fve_over_token"] == pytest.approx(saved["fve_nrm"] - saved["fve_token_floor"])

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished stage ran again")

    with monkeypatch.context() as patch:
        for module, name in ((extract, "load_causal_lm"), (teach, "teach_split"), (sft, "build_reconstructor"),
                             (sft, "build_verbalizer"), (rl, "start_state")):
            patch.setattr(module, name, must_not_run)
        again = run_pipeline(tmp_path / "demo", preset)  # every stage is already done: only the evaluation runs again
    assert again["fve_nrm"] == pytest.approx(metrics["fve_nrm"])

    from nlakit.core.models import load_tensors
    from nlakit.core.pretrained import export_pretrained

    packed = export_pretrained(tmp_path / "demo", tmp_path / "packed")
    assert load_tensors(packed / "av" / "adapter_model.safetensors")
    assert load_tensors(packed / "token_ar" / "adapter_model.safetensors"), "the token floor ships with the NLA"
    assert all(t.dtype == torch.float16 for t in load_tensors(packed / "ar" / "value_head.safetensors").values())
    assert json.loads((packed / "files.json").read_text())["total_bytes"] > 0 and (packed / "preset.json").exists()
    vectors = np.stack([r["activation_vector"] for r in NLA.load(packed).activations(load_corpus(preset.extract.corpus)[:2])])
    full = NLA.load(tmp_path / "demo" / "nla").roundtrip(vectors, max_new_tokens=6)
    half = NLA.load(packed).roundtrip(vectors, max_new_tokens=6)
    assert half.responses == full.responses and np.allclose(half.mse_nrm, full.mse_nrm, atol=1e-2)


def test_default_nla_resolves_to_the_shipped_folder_or_says_how_to_train_one(tmp_path, monkeypatch):
    from nlakit.core import pretrained

    shipped = pretrained.resolve_nla("default")
    for role in ("av", "ar"):
        meta = Sidecar.load(shipped / role)
        assert (meta.role, meta.base_model, meta.layer_index, meta.d_model) == (role, "smollm2-135m", 20, 576)
    assert pretrained.resolve_nla(tmp_path) == tmp_path
    monkeypatch.setattr(pretrained, "pretrained_dir", lambda model="smollm2-135m": tmp_path / "none")
    with pytest.raises(NLAError, match="nlakit train --preset smollm2-135m"):
        pretrained.resolve_nla("default")


def test_full_finetune_folders_save_and_load(taught, tmp_path):
    run_train_ar(taught, tmp_path / "ar", ARConfig(steps=1, full_finetune=True, eval_every=100))
    run_train_av(taught, tmp_path / "av", AVConfig(steps=1, full_finetune=True, eval_every=100))
    assert not (tmp_path / "ar" / "adapter_config.json").exists()
    ar = load_reconstructor(tmp_path / "ar")
    assert len(ar.decoder.layers) == Sidecar.load(taught).layer_index + 1
    table, _ = dataset.read_split(taught, "heldout")
    assert np.isfinite(ar.score(dataset.explanations(table)[:2], dataset.vectors(table)[:2])).all()
    from nlakit.core.av import load_verbalizer

    assert len(load_verbalizer(tmp_path / "av").generate(dataset.vectors(table)[:1], max_new_tokens=3).texts) == 1


def test_local_teacher_writes_text(tiny_model, monkeypatch):
    """The instruct prompt ends by opening the tag; the answer is cut at the closing one (a random model writes anything)."""
    from nlakit.stages.teach import LocalTeacher

    teacher = LocalTeacher(model=tiny_model, max_new_tokens=5, batch_size=2)
    rows = [{"context": "the cat sat"}, {"context": "def f(x):"}, {"context": "hello"}]
    out = teacher.explain(rows)
    assert len(out) == 3 and all(o is None or isinstance(o, str) for o in out)
    answer = teacher.tokenizer.encode(" a cat on a mat </explanation> and more", add_special_tokens=False)
    prompts: list[str] = []

    def fake_generate(input_ids, attention_mask=None, **kwargs):
        prompts.extend(teacher.tokenizer.batch_decode(input_ids, skip_special_tokens=True))
        return torch.cat([input_ids, torch.tensor([answer] * len(input_ids))], dim=1)

    monkeypatch.setattr(teacher.model, "generate", fake_generate)
    assert teacher.explain(rows) == ["a cat on a mat"] * 3
    assert len(prompts) == 3 and all(p.endswith("<explanation>") and r["context"] in p for p, r in zip(prompts, rows))


def test_the_av_teacher_explains_each_rows_own_activation(sft_pair, tmp_path, monkeypatch):
    """`teach --teacher av`: row i gets the AV's explanation of row i's vector (planted: the fake AV writes the vector's
    first value), a greedy failure is sampled again, the settings name the AV; another layer's AV is refused."""
    import shutil

    from nlakit.core.av import Generation, Verbalizer
    from nlakit.core.config import TeachConfig
    from nlakit.stages.teach import run_teach, teacher_from

    data = tmp_path / "data"
    shutil.copytree(sft_pair.data, data)
    calls: list[float] = []

    def fake_generate(self, vectors, max_new_tokens=64, temperature=0.0, seed=None, **kw):
        calls.append(temperature)
        texts = [f"v {float(v[0]):.4f}" if temperature or i % 3 else None for i, v in enumerate(np.asarray(vectors))]
        return Generation([t or "" for t in texts], texts, [[1, 2]] * len(texts), [[0.0, 0.0]] * len(texts))

    monkeypatch.setattr(Verbalizer, "generate", fake_generate)
    cfg = TeachConfig(teacher="av", nla=str(sft_pair.nla))
    run_teach(data, teacher_from(cfg), overwrite=True, cfg=cfg)  # over the template's explanations
    assert not list(data.glob("*.vectors.*"))  # the caches the teacher read went with the parquets it replaced
    for split in dataset.SPLITS:
        table, meta = dataset.read_split(data, split)
        firsts = dataset.vector_store(data, split)[:, 0]
        assert dataset.explanations(table) == [f"v {float(v):.4f}" for v in firsts]
    assert 0.7 in calls  # every third row failed greedily and was sampled again
    assert meta.training["teacher"] == "av" and meta.training["teacher_settings"]["av"]
    from nlakit.core.files import read_record
    assert read_record(data)["teach"]["inputs"]["av"]  # the AV's contents decide the result: another AV is not `done`
    other = tmp_path / "other"
    shutil.copytree(sft_pair.data, other)
    side = Sidecar.load(other)  # the dataset of another layer
    side.layer_index = (side.layer_index or 0) + 1
    side.save(other)
    with pytest.raises(NLAError, match="mismatched sidecar"):
        run_teach(other, teacher_from(cfg), overwrite=True, cfg=cfg)


def test_a_row_the_av_fails_on_every_try_is_dropped_not_asked_forever(sft_pair, tmp_path, monkeypatch, capsys):
    """The AV teacher is greedy and seeded: a row it fails every time would fail again on a rerun, so it is dropped with a
    note (rows and vectors stay aligned); the other teachers still refuse to write a dataset with rows missing."""
    import shutil

    from nlakit.core.av import Generation, Verbalizer
    from nlakit.core.config import TeachConfig
    from nlakit.stages.teach import run_teach, teacher_from

    data = tmp_path / "data"
    shutil.copytree(sft_pair.data, data)
    before = {split: dataset.vector_store(data, split)[:, 0].copy() for split in dataset.SPLITS}

    def fake_generate(self, vectors, max_new_tokens=64, temperature=0.0, seed=None, **kw):
        texts = [None if float(v[0]) == float(before["train"][0]) else f"v {float(v[0]):.4f}" for v in np.asarray(vectors)]
        return Generation([t or "" for t in texts], texts, [[1, 2]] * len(texts), [[0.0, 0.0]] * len(texts))

    monkeypatch.setattr(Verbalizer, "generate", fake_generate)
    cfg = TeachConfig(teacher="av", nla=str(sft_pair.nla))
    run_teach(data, teacher_from(cfg), overwrite=True, cfg=cfg)
    assert "failed 1 of" in capsys.readouterr().err
    table, _ = dataset.read_split(data, "train")
    firsts = dataset.vector_store(data, "train")[:, 0]
    assert len(table) == len(before["train"]) - 1 and list(firsts) == list(before["train"][1:])
    assert dataset.explanations(table) == [f"v {float(v):.4f}" for v in firsts]


def test_the_av_teacher_keeps_the_best_of_its_samples(sft_pair, monkeypatch):
    """`teach --teacher av --samples N`: per row, the candidate (greedy or one of N samples) the NLA's AR rebuilds best;
    a failed sample never wins; the choosing AR is an input of the run; --samples with another teacher is refused."""
    from nlakit.core.ar import Reconstructor
    from nlakit.core.av import Generation, Verbalizer
    from nlakit.core.config import TeachConfig
    from nlakit.stages.teach import AVTeacher, teacher_from, teacher_settings

    def fake_generate(self, vectors, max_new_tokens=64, temperature=0.0, seed=None, **kw):
        firsts = [int(v[0]) for v in np.asarray(vectors)]
        texts = [f"greedy {x}" if not temperature else (None if i % 3 == 2 else f"sample {i % 3} {x}") for i, x in enumerate(firsts)]
        return Generation([t or "" for t in texts], texts, [[1, 2]] * len(texts), [[0.0, 0.0]] * len(texts))

    def fake_reconstruct(self, texts, **kw):  # even rows are rebuilt exactly from "sample 1", odd rows from the greedy text
        off = np.tile([1.0, -1.0], 32)  # orthogonal to every row's vector: scores 2.0
        def rebuilt(text: str) -> np.ndarray:
            if not text:
                return off
            x = int(text.split()[-1])
            return np.full(64, float(x)) if text.startswith("sample 1" if x % 2 else "greedy") else off
        return np.stack([rebuilt(t) for t in texts])

    monkeypatch.setattr(Verbalizer, "generate", fake_generate)
    monkeypatch.setattr(Reconstructor, "reconstruct", fake_reconstruct)
    teacher = teacher_from(TeachConfig(teacher="av", nla=str(sft_pair.nla), samples=3))
    assert isinstance(teacher, AVTeacher) and teacher.samples == 3
    rows = [{"vector": np.full(64, i + 1, np.float32)} for i in range(4)]
    assert teacher.explain(rows) == ["sample 1 1", "greedy 2", "sample 1 3", "greedy 4"]
    assert teacher_settings(teacher)["samples"] == 3 and teacher_settings(teacher)["ar"]
    with pytest.raises(NLAError, match="--samples is the av teacher's"):
        teacher_from(TeachConfig(teacher="template", samples=2))


@pytest.mark.slow
def test_shipped_default_nla_reads_a_story_in_english():
    """The trained NLA inside the package, on the embedded model: readable text and a positive round trip."""
    nla = NLA.load()
    text = "Once upon a time, a little fox lived at the edge of a quiet forest."
    greedy = nla.explain(text)
    assert all(r["parsed"] or r["capped"] for r in greedy)  # a failed greedy explanation loops until the cap, and says so
    rows = nla.explain(text, retries=2)  # failures sampled again (marked retried): what `explain --retries 2` reads
    assert len(rows) == len(nla.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert nla.baseline.name == RAWVAR and all(r["parsed"] for r in rows) and sum(r["retried"] for r in rows) <= 2
    assert all(r["explanation"].count("Ends with") == 1 for r in rows)
    assert np.mean([r["fve_nrm"] for r in rows]) > 0.2


def test_official_export_has_the_release_layout_and_round_trips(nla_dir, taught, tmp_path):
    import yaml
    from safetensors import safe_open

    from nlakit.stages.export import export_official

    out = export_official(nla_dir, tmp_path / "official", dtype="fp32")  # fp32: exact checks (the bf16 default: test_official.py)
    assert not (out / "av" / "adapter_config.json").exists() and (out / "av" / "config.json").exists()
    with safe_open(str(out / "ar" / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and all(k.startswith("model.") and not k.startswith("model.norm.") for k in keys)
    with safe_open(str(out / "ar" / "value_head.safetensors"), "pt") as f:
        assert list(f.keys()) == ["weight"] and f.get_tensor("weight").dtype == torch.float32
    ar_meta = yaml.safe_load((out / "ar" / "nla_meta.yaml").read_text())
    layer = Sidecar.load(taught).layer_index
    assert (ar_meta["schema_version"], ar_meta["role"], ar_meta["extraction_layer_index"]) == (2, "ar", layer)
    assert ar_meta["critic"] == {"extraction_layer_index": layer} and ar_meta["extraction"]["injection_scale"] is None

    original, exported = NLA.load(nla_dir), NLA.load(out)
    assert len(exported.ar.decoder.layers) == layer + 1
    table, _ = dataset.read_split(taught, "heldout")
    texts, vectors = dataset.explanations(table)[:3], torch.from_numpy(dataset.vectors(table)[:3])
    a, b = original.ar.reconstruct(texts), exported.ar.reconstruct(texts)
    assert torch.nn.functional.cosine_similarity(torch.from_numpy(a), torch.from_numpy(b)).min() > 0.999
    responses = original.av.response_ids(texts)
    with torch.no_grad():
        lp_a, _ = original.av.token_logprobs(vectors, responses, bf16=False)  # bf16 rounding would swamp the check
        lp_b, _ = exported.av.token_logprobs(vectors, responses, bf16=False)
    assert torch.allclose(lp_a, lp_b, atol=1e-4)

    exported.ar.meta.baselines.clear()  # released sidecars carry no rawvar: the scored vectors' variance stands in
    metrics, _ = evaluate_rows(exported, exported.activations(load_corpus(str(Sidecar.load(taught).extraction["corpus"]))[:2]), 4)
    assert "built-in held-out documents" in metrics["baseline"] and "the sidecar has none" in metrics["baseline"]
    assert metrics["rawvar"] > 0 and metrics["rawvar"] != pytest.approx(original.baseline.value)


def test_gemma_style_embedding_scale_is_applied_to_the_prompt_but_not_to_the_injected_vector(tiny_model, nla_dir):
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    from nlakit.core.av import Verbalizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    config = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
                              sliding_window=64, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    av = Verbalizer(Gemma3ForCausalLM(config).eval(), tokenizer, Sidecar.load(nla_dir / "av"))
    vectors = torch.randn(2, 64)
    embeds = av.prompt_embeds(vectors)
    ids = torch.tensor(av.prompt_ids)
    raw = av.causal_lm.get_input_embeddings().weight[ids]
    others = [i for i in range(len(ids)) if i != av.marker_pos]
    assert torch.allclose(embeds[0, others], raw[others] * 64**0.5, rtol=1e-2)
    assert torch.allclose(embeds[:, av.marker_pos].norm(dim=-1), torch.full((2,), av.meta.injection_scale), rtol=1e-4)
    assert len(av.generate(vectors.numpy(), max_new_tokens=3).texts) == 2


def test_vector_store_is_a_memory_map_built_by_streaming_and_rebuilt_when_the_parquet_changes(taught, tmp_path):
    import shutil

    folder = Path(shutil.copytree(taught, tmp_path / "ds"))
    table, _ = dataset.read_split(folder, "train")
    store = dataset.vector_store(folder, "train")
    assert isinstance(store, np.memmap) and not store.flags.writeable
    np.testing.assert_array_equal(np.asarray(store), dataset.vectors(table))
    np.testing.assert_array_equal(dataset.rows(store, [2, 0]), dataset.vectors(table)[[2, 0]])
    broken = dataset.vectors(table).copy()
    broken[1, 3] = np.nan
    dataset.write_rows(folder / "train.parquet", [{"doc_id": "x", "activation_vector": v} for v in broken], broken.shape[1])
    with pytest.raises(NLAError, match="NaN"):
        dataset.vector_store(folder, "train")


def test_the_vector_cache_follows_the_parquet_contents_not_its_date(taught, tmp_path):
    """A replaced parquet with an older modification time is still read anew (the cache is keyed on contents)."""
    import os
    import shutil

    folder = Path(shutil.copytree(taught, tmp_path / "ds"))
    table, _ = dataset.read_split(folder, "train")
    old = np.asarray(dataset.vector_store(folder, "train")).copy()
    doubled = dataset.vectors(table) * 2.0
    dataset.write_rows(folder / "train.parquet", [{"doc_id": "x", "activation_vector": v} for v in doubled], doubled.shape[1])
    cache = folder / "train.vectors.npy"
    os.utime(folder / "train.parquet", (cache.stat().st_mtime - 3600,) * 2)  # the new file looks older than the cache
    np.testing.assert_array_equal(np.asarray(dataset.vector_store(folder, "train")), doubled)
    assert not np.array_equal(old, doubled)


def test_sft_can_continue_from_a_trained_pair(taught, sft_pair, tmp_path):
    """--init starts from the given adapters and head (here with a learning rate too small to move them)."""
    from nlakit.core.ar import load_reconstructor
    from nlakit.core.config import ARConfig, AVConfig
    from nlakit.stages.sft import run_train_ar, run_train_av

    ar_out = run_train_ar(taught, tmp_path / "ar", ARConfig(init=str(sft_pair.nla), steps=1, lr=1e-12, head_lr=1e-12, bf16=False))
    before, after = load_reconstructor(sft_pair.ar), load_reconstructor(ar_out)
    torch.testing.assert_close(after.value_head.weight, before.value_head.weight)
    assert not torch.equal(after.value_head.weight, torch.eye(after.meta.d_model))
    av_out = run_train_av(taught, tmp_path / "av", AVConfig(init=str(sft_pair.av), steps=1, lr=1e-12, bf16=False))
    assert (av_out / "adapter_model.safetensors").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(NLAError, match="not a model folder"):
        run_train_ar(taught, tmp_path / "ar2", ARConfig(init=str(tmp_path / "empty"), steps=1))


def test_init_adapters_continue_over_the_datasets_model(sft_pair, make_tiny_model, make_taught, tiny_corpus, tmp_path):
    """Data extracted from another model of the same shape (a fine-tune of the init's base, say): the continued adapters
    train over that model's weights, the ones its sidecar names and every later load reads, not over the init's base."""
    from nlakit.core.models import load_causal_lm
    from nlakit.stages.sft import sft_model

    other = make_tiny_model(tmp_path / "fine-tune", seed=1)
    data = make_taught(other, tiny_corpus, tmp_path / "data")
    av = sft_model("av", Sidecar.load(data), AVConfig(init=str(sft_pair.av), bf16=False))
    expected = load_causal_lm(other).get_input_embeddings().weight
    assert not torch.equal(expected, load_causal_lm(Sidecar.load(sft_pair.av).base_model).get_input_embeddings().weight)
    torch.testing.assert_close(av.lm.get_input_embeddings().weight, expected)
    assert av.meta.base_model == other
    assert av.meta.baselines == Sidecar.load(data).baselines  # another model's vectors: their own rawvar


def test_continuing_on_a_smaller_sample_keeps_the_models_recipe_and_baseline(tiny_model, tiny_corpus, make_taught, sft_pair, tmp_path):
    """Continued on fewer positions of its own target, an NLA keeps the extraction recipe and rawvar it was trained with:
    `evaluate` reads the same held-out tokens afterwards and every FVE divides by the same baseline."""
    from nlakit.stages.sft import sft_model

    sparse = make_taught(tiny_model, tiny_corpus, tmp_path / "sparse", positions_per_doc=1)
    start, data = Sidecar.load(sft_pair.ar), Sidecar.load(sparse)
    assert data.extraction["positions_per_doc"] != start.extraction["positions_per_doc"] and data.baselines != start.baselines
    ar = sft_model("ar", data, ARConfig(init=str(sft_pair.nla), bf16=False))
    assert (ar.meta.extraction, ar.meta.baselines, ar.meta.activation_norm) == (start.extraction, start.baselines, start.activation_norm)


def test_a_time_budget_stops_the_pipeline_at_a_checkpoint_and_the_same_command_continues(tiny_model, tmp_path, monkeypatch):
    """`nlakit train --max-minutes`: each training stage gets what is left; once it is spent the run stops in one line, and
    a rerun goes on from what was done."""
    from nlakit.app import pipeline
    from nlakit.stages import trainer

    clock = iter(range(0, 10**6, 7))  # every reading of the clock is 7 s later than the last: a 0.5-minute budget runs out
    monkeypatch.setattr(pipeline.time, "monotonic", lambda: float(next(clock)))
    monkeypatch.setattr(trainer.time, "monotonic", pipeline.time.monotonic)
    with pytest.raises(NLAError, match="budget is spent|stopped before its last step"):
        pipeline.run_pipeline(tmp_path / "run", tiny_preset(tiny_model), max_minutes=0.5)
    assert (tmp_path / "run" / "data" / "train.parquet").exists()
    monkeypatch.undo()
    metrics = pipeline.run_pipeline(tmp_path / "run", tiny_preset(tiny_model), max_minutes=30)
    assert np.isfinite(metrics["fve_nrm"]) and (tmp_path / "run" / "nla" / "av" / "nla_meta.yaml").exists()


def test_gpu_train_script_trains_with_the_time_left_and_writes_the_nla_back(tiny_model, tmp_path):
    """scripts/gpu_train.sh on the CPU with a tiny preset (no GGUF parts, no bench): train, then the exported NLA in parts."""
    import dataclasses
    import os
    import subprocess
    import sys
    import tarfile

    import yaml

    preset = tmp_path / "tiny.yaml"
    preset.write_text(yaml.safe_dump(dataclasses.asdict(tiny_preset(tiny_model))))
    script = Path(__file__).resolve().parents[1] / "scripts" / "gpu_train.sh"
    env = {**os.environ, "PYTHON": sys.executable, "PRESET": str(preset), "BENCH": "0", "MINUTES": "5", "WORK": str(tmp_path / "work"),
           "OUT": str(tmp_path / "out"), "PARTS": str(tmp_path / "no-parts"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = tmp_path / "out"
    assert json.loads((out / "metrics.json").read_text())["n"] > 0 and (out / "train.log").exists()
    parts = sorted(out.glob("nla.tar.part-*"))
    assert parts and all(p.stat().st_size <= 15 * 2**20 for p in parts)
    (tmp_path / "nla.tar").write_bytes(b"".join(p.read_bytes() for p in parts))
    with tarfile.open(tmp_path / "nla.tar") as tar:
        tar.extractall(tmp_path / "back", filter="data")
    assert (tmp_path / "back" / "nla" / "av" / "adapter_model.safetensors").exists()
    assert NLA.load(tmp_path / "back" / "nla").meta.d_model == 64
