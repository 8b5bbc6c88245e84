"""`nlakit demo` (the README's main command): the shipped NLA reads samples and is scored on held-out documents."""

from __future__ import annotations

import io
import json

from rich.console import Console

from nlakit.app.tour import NEXT_STEPS, RETRIES, SAMPLES, run_tour
from nlakit.core import nla as nla_module


def test_the_tour_explains_samples_scores_the_round_trip_and_writes_a_page(sft_pair, monkeypatch, tmp_path):
    """The same code as on the shipped NLA, with `NLA.load()`'s default standing for the tiny SFT pair."""
    real = nla_module.resolve_nla
    monkeypatch.setattr(nla_module, "resolve_nla", lambda folder: sft_pair.nla if str(folder) == "default" else real(folder))
    screen = io.StringIO()
    metrics = run_tour(tmp_path / "demo", Console(file=screen, width=120), max_new_tokens=4)
    printed = screen.getvalue()
    assert printed.count("What the NLA reads at each token") == len(SAMPLES)
    assert "shuffled control" in printed and "baseline rawvar" in printed
    assert all(command in printed for command, _ in NEXT_STEPS)
    saved = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    assert saved["n"] == metrics["n"] > 0 and {"fve_nrm", "fve_shuffled", "fve_teacher", "stage_seconds"} <= set(saved)
    again = saved["retried"]  # the failed explanations sampled again, beside the greedy figure (which stays the headline)
    assert again["retries"] == RETRIES and again["rows_retried"] == round(saved["parse_failure_rate"] * saved["n"])
    assert (f"With the {again['rows_retried']} failed explanations sampled again" in printed) == (again["rows_retried"] > 0)
    page = (tmp_path / "demo" / "index.html").read_text()
    assert "shuffled control" in page and 'class="tok"' in page and "Time per stage" in page


def test_the_presets_train_quick_continues_the_shipped_nla_and_files_are_presets_too(tmp_path):
    from nlakit.core.config import PRESETS, load_preset
    from nlakit.core.errors import NLAError

    assert {"quick", "quick-from-scratch", "smollm2-135m"} <= set(PRESETS)
    quick, scratch = load_preset("quick"), load_preset("quick-from-scratch")
    assert quick.ar.init == quick.av.init == "default" and scratch.ar.init is None and scratch.av.init is None
    assert quick.ar.steps == scratch.ar.steps and quick.ar.lr < scratch.ar.lr  # the same minutes, gentler steps
    (tmp_path / "mine.yaml").write_text("eval_docs: 3\nar:\n  steps: 7\n")
    mine = load_preset(str(tmp_path / "mine.yaml"))
    assert mine.eval_docs == 3 and mine.ar.steps == 7
    (tmp_path / "bad.yaml").write_text("ar:\n  steps: 0\n")
    try:
        load_preset(str(tmp_path / "bad.yaml"))
    except NLAError as err:
        assert "steps" in str(err)
    else:
        raise AssertionError("a preset with steps 0 was accepted")


def test_train_model_replaces_the_presets_target_and_a_missing_folder_is_refused_first(tiny_model, tmp_path, monkeypatch, capsys):
    """`nlakit train --preset quick --model X`: the quick preset adapted to X (a fine-tune's folder, say); a path that
    does not exist is one line, before the run folder exists."""
    import pytest

    from nlakit.app import pipeline
    from nlakit.app.cli import main

    seen = {}
    monkeypatch.setattr(pipeline, "run_pipeline", lambda out, preset, minutes: seen.update(out=out, preset=preset) or {})
    main(["train", "--preset", "quick", "--model", str(tiny_model), "--out", str(tmp_path / "run"), "-q"])
    assert seen["preset"].model == str(tiny_model) and seen["preset"].ar.init == "default" and seen["out"] == tmp_path / "run"
    with pytest.raises(SystemExit) as refused:
        main(["train", "--model", str(tmp_path / "nothere"), "--out", str(tmp_path / "never")])
    assert refused.value.code == 2 and "no such folder" in capsys.readouterr().err and not (tmp_path / "never").exists()
    from nlakit.core.models import resolve_model

    (tmp_path / "adapters").mkdir()  # a folder of nlakit's own (an SFT stage's adapters: no config.json) is still a model path
    assert resolve_model(str(tmp_path / "adapters")) == str(tmp_path / "adapters") and resolve_model("org/name") == "org/name"
