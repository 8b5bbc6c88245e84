"""The secret-word benchmark: its data never writes a word, its scoring, and one run at the smallest scale on tiny models."""

from __future__ import annotations

import json

import pytest

from nlakit.bench import secret_word as bench


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
    result = {"findings": [{"term": "oven", "score": 2.0, "passed": False}, {"term": "bread", "score": 1.5, "passed": True},
                           {"term": "bread", "score": 1.0, "passed": True}]}
    assert bench.ranked_findings(result) == ["bread", "oven"]
    assert bench.ranked_findings(result, guarded=True) == ["bread"]
    convs = [[{"role": "user", "content": "bread bread"}, {"role": "assistant", "content": "a warm warm crust"}]]
    assert bench.black_box(convs) == ["warm", "crust"]  # what the assistant wrote, never the user


def test_the_benchmark_runs_end_to_end_at_the_smallest_scale(sft_pair, tmp_path):
    s = bench.Settings(nla=str(sft_pair.nla), words=("bread", "ocean"), conversations=4, steps=2, batch=2, transcripts=2, answer_tokens=6,
                       budget=4, samples=1, reference_tokens=8)
    result = bench.run(s, tmp_path / "bench.json")
    assert set(result["table"]) == {"nla", "nla+guards", "nla untuned", "black-box", "logit lens"}
    assert set(result["table"]["nla"]) == {"bread", "ocean", "overall"}
    for word, row in result["per_word"].items():
        assert row["transcripts"] + row["dropped_for_writing_the_word"] == 2
        assert all(not bench.leaks(word, a) for a in row["answers"])
    assert "trained on" in result["nla"] and json.loads((tmp_path / "bench.json").read_text())["table"] == result["table"]
