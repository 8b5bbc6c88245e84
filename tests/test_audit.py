"""`nlakit audit` on a tiny NLA: input, selection, a planted thought found with its evidence and guards, outputs, the endpoint.

A 2-step AV writes only newlines, so the planted tests give the NLA a scripted AV (`scripted`): it says "bread, oven" for
the vectors of the planted transcript's assistant turn and "general" for every other vector, as an AV that reads a
model thinking of bread without saying it would. The AR, the selection, the counting, the samples, the controls and
the outputs are the real ones.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlakit.app.cli import main
from nlakit.core.config import AuditConfig
from nlakit.core.errors import NLAError
from nlakit.core.metrics import fve_rows, score_rows
from nlakit.core.nla import NLA
from nlakit.core.roundtrip import RoundTrip
from nlakit.readings import audit as auditing

PLANTED = [{"role": "user", "content": "What should we cook tonight?"},
           {"role": "assistant", "content": "Something warm from the kitchen, with a golden crust."}]
OTHER = [{"role": "user", "content": "Did you bring the map?"}, {"role": "assistant", "content": "Yes, it is in my bag."}]
THOUGHT, PLAIN = "dialogue; topic: bread, oven.", "topic: it."  # PLAIN has no term: it departs from no text


@pytest.fixture(scope="module")
def nla(sft_pair) -> NLA:
    return NLA.load(sft_pair.nla)


def scripted(planted: np.ndarray):
    """NLA.roundtrip with an AV that writes THOUGHT for the planted vectors (any sample, any temperature), PLAIN otherwise."""

    def roundtrip(self, vectors, max_new_tokens=None, temperature=0.0, seed=None, on_batch=None) -> RoundTrip:
        vectors = np.atleast_2d(np.asarray(vectors, np.float32))
        near = np.array([np.linalg.norm(planted - v, axis=1).min() < 1e-4 for v in vectors])
        texts = [THOUGHT if hit else PLAIN for hit in near]
        rebuilt = np.asarray(self.ar.reconstruct(texts), np.float32)
        mse = score_rows(rebuilt, vectors, self.ar.meta.resolved_mse_scale)
        ok = np.ones(len(texts), bool)
        return RoundTrip(vectors, texts, texts, rebuilt, mse, fve_rows(mse, self.baseline.value), np.zeros(len(texts)), ok, ~ok,
                         self.ar.meta.resolved_mse_scale, self.baseline)

    return roundtrip


@pytest.fixture
def planted(nla, monkeypatch) -> list[auditing.Transcript]:
    """The planted and the other transcript, with the scripted AV thinking of bread in the planted assistant turn."""
    transcripts = [auditing.render(nla.tokenizer, "planted", PLANTED), auditing.render(nla.tokenizer, "other", OTHER)]
    rows = auditing.read_tokens(nla, nla.target, transcripts[0])
    vectors = np.stack([r["activation_vector"] for r in rows if r["role"] == "assistant"])
    monkeypatch.setattr(NLA, "roundtrip", scripted(vectors))
    return transcripts


def settings(**changes) -> AuditConfig:
    return AuditConfig(**{"select": "role", "min_fve": -100.0, "ar_margin": 2.0, "reference_tokens": 16, "max_new_tokens": 8, **changes})


# ---------------------------------------------------------------- input


def test_chat_json_jsonl_and_text_are_read(tmp_path):
    (tmp_path / "chat.json").write_text(json.dumps(PLANTED))
    (tmp_path / "many.jsonl").write_text(json.dumps(PLANTED) + "\n\n" + json.dumps({"messages": OTHER}) + "\n")
    (tmp_path / "plain.txt").write_text("Once upon a time")
    assert auditing.read_input(str(tmp_path / "chat.json")) == [("chat.json", PLANTED)]
    assert auditing.read_input(str(tmp_path / "many.jsonl")) == [("many.jsonl:1", PLANTED), ("many.jsonl:3", OTHER)]
    assert auditing.read_input(str(tmp_path / "plain.txt")) == [("plain.txt", "Once upon a time")]
    assert auditing.read_input(json.dumps(OTHER)) == [("text", OTHER)]
    assert auditing.read_input("[draft] a note") == [("text", "[draft] a note")]  # not JSON: plain text


@pytest.mark.parametrize("content, problem", [
    ("[{\"role\": \"user\", \"content\": \"hi\"", "not valid JSON"),
    (json.dumps([{"role": "narrator", "content": "hi"}]), "unknown role 'narrator'"),
    (json.dumps([{"role": "user", "content": 3}]), "message 0 must be"),
    (json.dumps([]), "non-empty list"),
])
def test_bad_chat_files_get_one_line(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(NLAError, match=problem):
        auditing.read_input(str(path))


def test_bad_jsonl_line_empty_text_and_empty_concepts_are_refused(tmp_path):
    (tmp_path / "bad.jsonl").write_text(json.dumps(PLANTED) + "\n{oops\n")
    with pytest.raises(NLAError, match="line 2: not valid JSON"):
        auditing.read_input(str(tmp_path / "bad.jsonl"))
    with pytest.raises(NLAError, match="is empty"):
        auditing.read_input("   ")
    with pytest.raises(NLAError, match="--concepts is empty"):
        auditing.parse_concepts(" , ,")


def test_a_transcript_longer_than_the_nla_reads_is_refused(nla):
    long = auditing.render(nla.tokenizer, "long", "word " * 400)
    with pytest.raises(NLAError, match="long has .* tokens; the NLA reads at most"):
        auditing.read_tokens(nla, nla.target, long)


# ---------------------------------------------------------------- selection


def test_roles_and_selection_modes(nla, planted):
    rows = auditing.read_tokens(nla, nla.target, planted[0])
    roles = {r["role"] for r in rows}
    assert {"user", "assistant"} <= roles and None in roles  # the template's own tokens belong to no turn
    assistant = [i for i, r in enumerate(rows) if r["role"] == "assistant"]
    assert "".join(rows[i]["token"] for i in assistant).strip() == PLANTED[1]["content"]
    assert [r["index"] for r in auditing.explain(nla, rows, settings(), "planted")] == assistant
    assert [r["index"] for r in auditing.explain(nla, rows, settings(select="stride", stride=3), "p")] == list(range(0, len(rows), 3))
    assert [r["index"] for r in auditing.explain(nla, rows, settings(select="all", budget=5), "p")] == [0, 1, 2, 3, 4]
    departed = auditing.explain(nla, rows, settings(select="depart", budget=4), "p")
    assert len(departed) == 4 and {r["index"] for r in departed} <= set(assistant)  # bread and oven are nowhere in the text
    with pytest.raises(NLAError, match="has no tool turn"):
        auditing.explain(nla, rows, settings(role="tool"), "planted")


# ---------------------------------------------------------------- flags, evidence, guards


def test_a_planted_concept_is_flagged_with_evidence_and_the_control_is_not(nla, planted):
    result = auditing.audit(nla, planted, settings(concepts="bread, ocean"))
    (finding,) = result["findings"]  # ocean: never raised; bread only in the planted transcript
    assert (finding["term"], finding["transcript"], finding["how"]) == ("bread", "planted", ["words"])
    assert finding["n"] == finding["read"] > 0 and finding["passed"]
    evidence = finding["evidence"][0]
    assert evidence["explanation"] == THOUGHT and evidence["context"].endswith(evidence["token"])
    assert evidence["samples"] == [THOUGHT] * 3 and evidence["agreement"] == 1.0 and isinstance(evidence["fve_nrm"], float)
    control = finding["guards"]["control"]
    assert control["control_rate"] == 0.0 and control["other_transcripts_rate"] == 0.0  # ordinary text and the other chat: no bread
    assert finding["guards"]["reference_model"] is None


def test_without_concepts_the_thought_not_said_terms_are_flagged(nla, planted):
    result = auditing.audit(nla, planted, settings())
    terms = {(f["transcript"], f["term"]) for f in result["findings"]}
    assert terms == {("planted", "bread"), ("planted", "oven")}  # neither is in the text; the genre label "dialogue" is no term
    assert all(f["kind"] == "thought, not said" and f["passed"] for f in result["findings"])


def test_the_genre_field_is_no_term_but_a_topic_word_is():
    """The genre names the kind of text (a corpus prior), not a concept: left out, while the topic's words count."""
    assert auditing.terms('story; topic: bread, oven.\nEnds with: "the warm"\nNext: " loaf"') == ["bread", "oven", "warm", "loaf"]
    assert auditing.terms("poetry; topic: haiku sequence, night.") == ["haiku", "sequence", "night"]
    assert auditing.terms("code; topic: code, python.") == ["code", "python"]  # the same word as a topic still counts
    assert auditing.terms("a free-form line about poetry") == ["free-form", "line", "poetry"]  # no template: no genre field


def test_each_guard_can_fail_and_is_reported(nla, planted):
    strict = auditing.audit(nla, planted, settings(concepts="bread", min_fve=0.99), reference_target=nla.target)
    (finding,) = strict["findings"]
    assert not finding["passed"] and not finding["guards"]["min_fve"]["passed"]
    assert not finding["guards"]["reference_model"]["only_audited_model"]  # the same model reads the same: nothing is only its own
    # a reference set that also thinks of bread: the AV's prior, not the transcript's thought
    reference = auditing.Reference([{"explanation": THOUGHT, "terms": auditing.terms(THOUGHT), "parsed": True,
                                     "vector": np.zeros(nla.meta.d_model, np.float32)}])
    alone = auditing.audit(nla, planted[:1], settings(concepts="bread"), reference=reference)
    assert not alone["findings"][0]["guards"]["control"]["passed"]


def test_the_ar_match_compares_the_concept_with_its_scrambled_control():
    direction = np.eye(4)[0]
    concepts = auditing.Concepts(["bread"], direction[None], np.eye(4)[1][None], margin=0.5)
    hits = concepts.raised(["nothing here", "bread!"], np.stack([direction + 0.1, np.eye(4)[1]]))
    assert hits == [{"bread": ["ar"]}, {"bread": ["words"]}]
    assert auditing.scrambled("bread", np.random.default_rng(0)) != "bread"


# ---------------------------------------------------------------- outputs


def test_cli_writes_json_and_the_page(sft_pair, planted, tmp_path):
    (tmp_path / "chats.jsonl").write_text(json.dumps(PLANTED) + "\n" + json.dumps(OTHER) + "\n")
    out, page = tmp_path / "audit.json", tmp_path / "audit.html"
    main(["audit", str(tmp_path / "chats.jsonl"), "--nla", str(sft_pair.nla), "--concepts", "bread", "--select", "role",
          "--min-fve", "-100", "--ar-margin", "2", "--max-new-tokens", "8", "--out", str(out), "--html", str(page), "-q"])
    result = json.loads(out.read_text())
    assert [f["term"] for f in result["findings"]] == ["bread"]
    assert result["models"]["audited_is_nla_target"] and result["note"] == auditing.FRAMING
    flagged = [t for t in result["transcripts"][0]["tokens"] if t["flags"]]
    assert flagged and all(t["role"] == "assistant" for t in flagged)
    text = page.read_text()
    assert text.count("class='tok flag'") == len(flagged) and "correlational" in text and "<script src" not in text


def test_bad_input_on_the_command_line_is_one_line(sft_pair, tmp_path, capsys):
    (tmp_path / "bad.json").write_text(json.dumps([{"role": "robot", "content": "x"}]))
    with pytest.raises(SystemExit) as exit_:
        main(["audit", str(tmp_path / "bad.json"), "--nla", str(sft_pair.nla)])
    assert exit_.value.code == 2 and "unknown role 'robot'" in capsys.readouterr().err


def test_another_model_is_read_through_the_same_nla_and_recorded(nla, planted, make_tiny_model, tmp_path):
    other = make_tiny_model(tmp_path / "wide", hidden_size=32, intermediate_size=64)
    with pytest.raises(NLAError, match="width 32; the NLA reads width 64"):
        auditing.audited_model(nla, other)
    tuned = auditing.audited_model(nla, nla.meta.base_model)  # a second copy stands for a fine-tune of the target
    assert tuned is not nla.target
    result = auditing.audit(nla, planted, settings(concepts="bread"), target=tuned, names={"audited_model": "tuned"})
    assert result["models"]["audited_model"] == "tuned" and not result["models"]["audited_is_nla_target"]
    assert result["models"]["nla_target"] == nla.meta.base_model


def test_the_serve_endpoint_answers_with_ranked_findings(nla, planted, monkeypatch):
    from fastapi.testclient import TestClient

    from nlakit.app.serve.app import create_app
    from nlakit.core.config import ServeConfig

    # the endpoint runs at the default --ar-margin, where the 2-step AR's cosines are noise: its AR match is switched off here
    monkeypatch.setattr(auditing.Concepts, "margins", lambda self, vectors: np.zeros((len(np.atleast_2d(vectors)), len(self.names))))
    with TestClient(create_app(nla, ServeConfig(max_new_tokens=8, token="s3cret"))) as client:
        body = {"messages": PLANTED, "concepts": ["bread", "ocean"], "select": "role", "samples": 2}
        assert client.post("/api/audit", json=body).status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        answer = client.post("/api/audit", json=body, headers=auth).json()
        (finding,) = answer["findings"]
        assert finding["term"] == "bread" and finding["guards"]["agreement"]["passed"] and finding["guards"]["control"]["passed"]
        assert finding["passed"] == finding["guards"]["min_fve"]["passed"]  # the 2-step AR's FVE decides the last guard
        assert answer["note"] == auditing.FRAMING
        assert answer["findings"][0]["evidence"][0]["samples"] == [THOUGHT] * 2
        bad = client.post("/api/audit", json={"messages": [{"role": "robot", "content": "x"}]}, headers=auth)
        assert bad.status_code == 422
        assert client.post("/api/audit", json={"text": "x", "messages": PLANTED}, headers=auth).status_code == 422
        assert client.post("/api/audit", json={"text": "x", "samples": 99}, headers=auth).status_code == 422
        assert client.post("/api/audit", json={"text": "word " * 400}, headers=auth).json()["error"] == "too_many_tokens"


# ---------------------------------------------------------------- resume


def counted(monkeypatch, fail_on: int | None = None) -> list[str]:
    """`explain` counted (the names of the transcripts it explains), raising on call `fail_on` as a kill there would."""
    calls: list[str] = []
    real = auditing.explain

    def explain(nla, rows, cfg, name, *args, **kwargs):
        calls.append(name)
        if len(calls) == fail_on:
            raise KeyboardInterrupt("killed")
        return real(nla, rows, cfg, name, *args, **kwargs)

    monkeypatch.setattr(auditing, "explain", explain)
    return calls


def test_a_killed_audit_resumes_with_only_the_rest_explained(sft_pair, planted, tmp_path, monkeypatch):
    (tmp_path / "chats.jsonl").write_text(json.dumps(PLANTED) + "\n" + json.dumps(OTHER) + "\n")
    chats, out, work = str(tmp_path / "chats.jsonl"), tmp_path / "audit.json", tmp_path / "audit.json.work"
    whole = auditing.run_audit(sft_pair.nla, [chats], settings(concepts="bread"), out=tmp_path / "whole.json")
    assert not (tmp_path / "whole.json.work").exists()  # a finished run clears its work folder
    calls = counted(monkeypatch, fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        auditing.run_audit(sft_pair.nla, [chats], settings(concepts="bread"), out=out)
    assert not out.exists() and len(list(work.glob("reads-*.json"))) == 1  # the first transcript's reads are kept
    calls = counted(monkeypatch)
    resumed = auditing.run_audit(sft_pair.nla, [chats], settings(concepts="bread"), out=out)
    assert calls == ["chats.jsonl:2"]  # only the transcript the kill interrupted is explained again
    assert resumed["findings"] == whole["findings"] and resumed["transcripts"] == whole["transcripts"]
    assert json.loads(out.read_text())["findings"] == json.loads((tmp_path / "whole.json").read_text())["findings"]
    assert not work.exists()


def test_reads_made_with_another_setting_or_elsewhere_are_not_reused(sft_pair, planted, tmp_path, monkeypatch, capsys):
    (tmp_path / "chats.jsonl").write_text(json.dumps(PLANTED) + "\n" + json.dumps(OTHER) + "\n")
    chats, out, work = str(tmp_path / "chats.jsonl"), tmp_path / "audit.json", tmp_path / "audit.json.work"
    counted(monkeypatch, fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        auditing.run_audit(sft_pair.nla, [chats], settings(concepts="bread"), out=out)
    calls = counted(monkeypatch, fail_on=2)
    with pytest.raises(KeyboardInterrupt):  # another --budget: the kept reads are cleared, the first transcript read again
        auditing.run_audit(sft_pair.nla, [chats], settings(concepts="bread", budget=5), out=out)
    assert calls == ["chats.jsonl:1", "chats.jsonl:2"] and "budget: 64 -> 5" in capsys.readouterr().err
    (kept,) = work.glob("reads-*.json")
    copy = kept.with_name("copy.tmp")
    copy.write_bytes(kept.read_bytes())
    copy.replace(kept)  # the same bytes in another file, as a copied or received work folder holds
    calls = counted(monkeypatch)
    auditing.run_audit(sft_pair.nla, [chats], settings(concepts="bread", budget=5), out=out)
    assert calls == ["chats.jsonl:1", "chats.jsonl:2"] and f"ignored {kept}" in capsys.readouterr().err


def test_an_audit_under_several_processes_without_an_output_is_refused(sft_pair, tmp_path, monkeypatch):
    """The processes share their reads through `<out>.work`: with nothing written there is nowhere to share them."""
    (tmp_path / "chat.json").write_text(json.dumps(PLANTED))
    monkeypatch.setattr(auditing, "data_parallel", lambda: (0, 2))
    with pytest.raises(NLAError, match="several processes needs --out or --html"):
        auditing.run_audit(sft_pair.nla, [str(tmp_path / "chat.json")], settings())
