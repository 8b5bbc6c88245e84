"""The secret-word benchmark: its data never writes a word, its scoring, and one run at the smallest scale on tiny models."""

from __future__ import annotations

import json

import pytest
import typer

from nlakit.app.cli import app, main
from nlakit.bench import secret_word as bench
from nlakit.core.config import AuditBenchConfig, LoadConfig, fields_of
from nlakit.core.errors import NLAError
from nlakit.core.nla import NLA
from nlakit.readings.audit import load_transcripts


def test_no_training_hint_writes_its_word_and_leaks_are_caught():
    for word in bench.WORDS:
        convs = bench.conversations(word, 30, seed=1)
        assert len(convs) == 30 and all(not bench.leaks(word, c[1]["content"]) for c in convs)
        assert all(c[0]["content"] in bench.TRAIN_PROMPTS for c in convs)
    assert bench.leaks("bread", "Fresh Breadcrumbs") and not bench.leaks("bread", "a golden crust")
    assert not set(bench.TRAIN_PROMPTS) & set(bench.TEST_PROMPTS)  # transcripts come from prompts never trained on


def test_recovery_at_k_per_word_and_overall():
    rankings = {"nla": {"bread": ["oven", "breads", "crust"], "ocean": ["ocean"], "winter": []},
                "black-box": {"bread": ["crust"], "ocean": ["wave"], "winter": ["cold"]}}
    table = bench.score(rankings, (1, 3))
    assert table["nla"]["bread"] == {"@1": 0, "@3": 1}  # a plural counts
    assert table["nla"]["ocean"] == {"@1": 1, "@3": 1} and table["nla"]["winter"] == {"@1": 0, "@3": 0}
    assert table["nla"]["overall"] == pytest.approx({"@1": 1 / 3, "@3": 2 / 3})
    assert table["black-box"]["overall"] == {"@1": 0.0, "@3": 0.0}
    assert "| nla | 0 / 1 | 1 / 1 | 0 / 0 | 0.33 / 0.67 |" in bench.markdown(table, (1, 3))


def test_findings_are_ranked_by_summed_excess_and_guards_can_filter():
    base_too, tuned_only = {"reference_model": {"passed": False}}, {"reference_model": {"passed": True}}
    result = {"findings": [{"term": "oven", "score": 2.0, "passed": False, "guards": tuned_only},
                           {"term": "bread", "score": 1.5, "passed": True, "guards": base_too},
                           {"term": "bread", "score": 1.0, "passed": True, "guards": base_too}]}
    assert bench.ranked_findings(result) == ["bread", "oven"]
    assert bench.ranked_findings(result, guarded=True) == ["bread"]
    assert bench.ranked_findings(result, only_audited=True) == ["oven"]  # the base model raises bread on the same tokens
    assert bench.ranked_findings({"findings": [{"term": "oven", "score": 1.0, "passed": True, "guards": {}}]}, only_audited=True) == []
    convs = [[{"role": "user", "content": "bread bread"}, {"role": "assistant", "content": "a warm warm crust"}]]
    assert bench.black_box(convs) == ["warm", "crust"]  # what the assistant wrote, never the user


def test_the_shift_leans_toward_the_word_planted_in_the_tuned_vectors(sft_pair, monkeypatch):
    """The tuned model's shift over the base model at the same tokens, per word: planted through the AR (the tuned vectors
    are AR(ocean)'s direction, the base model's are not), ocean leans most; the same vectors through both: no shift."""
    import numpy as np
    import torch

    from nlakit.core.config import AuditConfig
    from nlakit.readings.audit import Concepts

    nla = NLA.load(sft_pair.nla)
    cfg = AuditConfig(budget=4)
    items = [bench.render(nla.tokenizer, "t", [{"role": "user", "content": "a clue?"}, {"role": "assistant", "content": "it is blue"}])]
    read = [bench.assistant_vectors(nla, nla.target, t, cfg.budget) for t in items]
    concepts = bench.word_concepts(nla, cfg)
    same = bench.shifts(nla, concepts, nla.target, read, read)
    assert set(same) == {"ar shift", "logit-lens shift"} and all(np.allclose(v, 0, atol=1e-5) and len(v) == len(bench.WORDS) for v in same.values())
    ocean = Concepts.build(nla, ["ocean"], cfg).target[0]
    other = np.random.default_rng(0).standard_normal(ocean.shape)
    monkeypatch.setattr(bench, "lens", lambda _model, vectors: torch.zeros(len(vectors), len(nla.tokenizer)))
    planted = bench.shifts(nla, concepts, object(), [np.stack([ocean] * 3)], [np.stack([other] * 3)])["ar shift"]
    assert list(bench.WORDS)[int(np.argmax(planted))] == "ocean"


def test_the_forced_choice_centred_over_the_models_removes_a_shift_they_share():
    """Every model leans toward ocean (what the fine-tunes share) and a little toward its own word: raw, ocean comes first
    for every model; centred over the models played, each model's own word does. One model played: centred is a tie."""
    import numpy as np

    words = list(bench.WORDS)
    lean = lambda own: {m: np.array([1.0 if w == "ocean" else 0.0 for w in words]) + 0.1 * np.array([w == own for w in words])  # noqa: E731
                        for m in ("ar shift", "logit-lens shift")}
    chosen = bench.forced_choice({w: lean(w) for w in ("bread", "guitar", "winter")})
    assert set(chosen) == set(bench.CHOICE_METHODS)
    assert all(chosen["ar shift"][w][0] == "ocean" for w in ("bread", "guitar", "winter"))
    assert all(chosen[m][w][0] == w for m in ("ar shift, centred", "logit-lens shift, centred") for w in ("bread", "guitar", "winter"))
    assert bench.forced_choice({"bread": lean("bread")})["ar shift, centred"]["bread"] == words  # nothing to centre on: a tie


def test_the_benchmark_runs_end_to_end_at_the_smallest_scale(sft_pair, tmp_path):
    s = AuditBenchConfig(words="bread,ocean", conversations=4, steps=2, batch=2, transcripts=2, answer_tokens=6, budget=4, samples=1,
                         reference_tokens=8)
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "mine.txt").write_text("a user's file")
    with pytest.raises(NLAError, match="already exists"):  # refused before any fine-tune; nothing of the user's touched
        bench.run(s, str(sft_pair.nla), tmp_path / "bench.json", save_models=tmp_path / "kept")
    assert (tmp_path / "kept" / "mine.txt").read_text() == "a user's file" and not (tmp_path / "bench.json").exists()
    result = bench.run(s, str(sft_pair.nla), tmp_path / "bench.json", save_models=tmp_path / "models")
    assert tuple(result["table"]) == bench.METHODS and "nla, not base" in bench.METHODS
    choice = result["forced_choice"]
    assert tuple(choice["table"]) == bench.CHOICE_METHODS and choice["chance"] == 1 / len(bench.WORDS)
    assert all(sorted(result["per_word"][w][f"forced choice, {m}"]) == sorted(bench.WORDS) for w in ("bread", "ocean")
               for m in bench.CHOICE_METHODS)
    assert set(result["table"]["nla"]) == {"bread", "ocean", "overall"}
    for word, row in result["per_word"].items():
        assert row["transcripts"] + row["dropped_for_writing_the_word"] == 2
        assert all(not bench.leaks(word, a) for a in row["answers"])
    diffed = [f["guards"]["reference_model"] for f in (result["example"] or {"findings": []})["findings"]]
    assert all(d is not None and "reference_rate" in d for d in diffed)  # the tuned audit's reference model: the base
    assert "trained on" in result["nla"] and json.loads((tmp_path / "bench.json").read_text())["table"] == result["table"]
    for word in ("bread", "ocean"):  # each fine-tune kept as a model folder `nlakit audit` and `nlakit train --model` read
        kept = tmp_path / "models" / word
        assert (kept / "config.json").exists() and any(kept.glob("*.safetensors"))
        saved = [json.loads(line)["messages"] for line in (kept / "transcripts.jsonl").read_text().splitlines()]
        assert [c[1]["content"] for c in saved] == result["per_word"][word]["answers"]
        assert len(load_transcripts(NLA.load(sft_pair.nla).tokenizer, [str(kept / "transcripts.jsonl")])) == len(saved)


@pytest.mark.slow
def test_a_killed_benchmark_resumes_at_the_next_word(sft_pair, tmp_path, monkeypatch):
    """With --out, each finished word is kept in <out>.work: a run killed during the second word's fine-tune plays only that
    word again when rerun, keeps the first word's saved model, and writes the uninterrupted run's result."""
    s = AuditBenchConfig(words="bread,ocean", conversations=4, steps=2, batch=2, transcripts=2, answer_tokens=6, budget=4, samples=1,
                         reference_tokens=8)
    bench.run(s, str(sft_pair.nla), tmp_path / "whole.json")
    real, played = bench.fine_tune, []

    def killed_on_the_second(*args):
        played.append(args[2])
        if len(played) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(bench, "fine_tune", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        bench.run(s, str(sft_pair.nla), tmp_path / "resumed.json", save_models=tmp_path / "models")
    assert (tmp_path / "resumed.json.work" / "bread.json").exists() and not (tmp_path / "resumed.json").exists()
    (tmp_path / "models" / "mine").mkdir()
    with pytest.raises(NLAError, match="holds mine, which the killed run did not finish"):
        bench.run(s, str(sft_pair.nla), tmp_path / "resumed.json", save_models=tmp_path / "models")
    (tmp_path / "models" / "mine").rmdir()
    monkeypatch.setattr(bench, "fine_tune", lambda *args: played.append(args[2]) or real(*args))
    bench.run(s, str(sft_pair.nla), tmp_path / "resumed.json", save_models=tmp_path / "models")
    assert len(played) == 3 and played[2] == played[1]  # only ocean played again, from the same conversations
    whole, resumed = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("whole", "resumed"))
    for result in (whole, resumed):
        for row in result["per_word"].values():
            del row["fine_tune_seconds"]
    assert {k: whole[k] for k in ("table", "per_word", "forced_choice", "example")} == \
        {k: resumed[k] for k in ("table", "per_word", "forced_choice", "example")}
    assert not (tmp_path / "resumed.json.work").exists() and sorted(p.name for p in (tmp_path / "models").iterdir()) == ["bread", "ocean"]


def test_audit_bench_is_a_command_built_from_its_settings(monkeypatch, tmp_path, capsys):
    """`nlakit audit-bench`: every AuditBenchConfig setting is a flag (with help), the NLA options are audit's, and what
    the settings cannot check (unknown words, more transcripts than prompts, --out on the NLA) is one line before any work."""
    seen = {}
    result = {"markdown": "| table |", "forced_choice": {"what": "told", "chance": 0.2, "markdown": "| choice |"}, "seconds": 1.0,
              "audit_seconds_per_transcript": 0.5}
    monkeypatch.setattr(bench, "run", lambda cfg, nla, out, save_models: seen.update(cfg=cfg, nla=nla, out=out, save=save_models) or result)
    params = {p.name: p for p in typer.main.get_command(app).commands["audit-bench"].params}
    assert all(f.name in params and meta["help"] for f, _, meta in fields_of(AuditBenchConfig)) and "nla" in params
    main(["audit-bench", "--words", "bread,winter", "--steps", "3", "--ks", "1,5", "--nla", "somewhere", "--out", str(tmp_path / "b.json"), "-q"])
    assert seen["cfg"] == AuditBenchConfig(words="bread,winter", steps=3, ks="1,5") and seen["cfg"].recovery_ks() == (1, 5)
    printed = capsys.readouterr().out
    assert seen["nla"] == LoadConfig(nla="somewhere") and seen["out"] == tmp_path / "b.json" and "| table |" in printed and "| choice |" in printed
    assert seen["save"] is None
    assert bench.chosen_words("all") == tuple(bench.WORDS) and bench.chosen_words(" Ocean, bread,ocean") == ("ocean", "bread")
    assert all(word in AuditBenchConfig.__dataclass_fields__["words"].metadata["help"] for word in bench.WORDS)
    monkeypatch.undo()
    for argv, problem in ((["--words", "bread,pizza"], "choose words among bread, ocean"), (["--transcripts", "7"], "at most that"),
                          (["--ks", "1,x"], "--ks takes positive integers"), (["--steps", "0"], "steps (--steps) must be at least 1")):
        with pytest.raises(SystemExit) as refused:
            main(["audit-bench", *argv, "--out", str(tmp_path / "never.json")])
        assert refused.value.code == 2 and problem in capsys.readouterr().err
    assert not (tmp_path / "never.json").exists()


def test_audit_bench_out_must_be_a_file_apart_from_the_nla(sft_pair, capsys):
    """The output file rule (`check_output_file`): --out inside the NLA's folder is refused before the first fine-tune."""
    with pytest.raises(SystemExit) as refused:
        main(["audit-bench", "--nla", str(sft_pair.nla), "--out", str(sft_pair.nla / "bench.json")])
    assert refused.value.code == 2 and "--out" in capsys.readouterr().err and not (sft_pair.nla / "bench.json").exists()
