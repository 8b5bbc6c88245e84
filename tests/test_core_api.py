"""The rules of the one-core layout, checked on the package itself rather than trusted:

- faithfulness figures (mse_nrm, FVE, cos) are computed in nlakit/core/metrics.py only;
- the reading side (explorer, explain) loads no training code, and each module imports on its own;
- environment variables are read in nlakit/core/config.py only;
- a checkpoint is tensors plus JSON, and a planted pickle is never run;
- a finished or unfinished run with other settings is refused, naming what differs;
- every setting of every stage is an option of its command and a key of its --config file.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import subprocess
import sys
import tokenize
import typing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import nlakit
from nlakit.app import cli
from nlakit.core.config import (
    ARConfig,
    AVConfig,
    EvaluateConfig,
    ExtractConfig,
    LoadConfig,
    RLConfig,
    TeachConfig,
    TeachersConfig,
    fields_of,
    make_config,
)
from nlakit.core.errors import NLAError
from nlakit.core.sidecar import Sidecar
from nlakit.stages.sft import run_train_ar

PACKAGE = Path(nlakit.__file__).resolve().parent
ROOT = PACKAGE.parent


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def code_lines(path: Path) -> list[tuple[int, str]]:
    """Each line of a module with its strings and comments blanked: docstrings may explain a formula, code may not compute it."""
    source = path.read_text(encoding="utf-8")
    lines = [list(line) for line in source.splitlines()]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        (first, start), (last, end) = token.start, token.end
        for row in range(first, last + 1):
            line = lines[row - 1]
            for col in range(start if row == first else 0, end if row == last else len(line)):
                line[col] = " "
    return [(number, "".join(chars)) for number, chars in enumerate(lines, 1)]


# ---------------------------------------------------------------- metrics in one place

FORMULAS = {
    "a division by the baseline (an FVE)": re.compile(r"/\s*\(?\s*[\w.]*\b(rawvar|baseline|meannorm)\b"),
    "1 - x / y (an FVE, or a cosine from mse)": re.compile(r"(?<![\w.])1(\.0)?\s*-\s*[\w.\[\]()]+\s*/"),
    "a mean of squares (an MSE)": re.compile(r"\*\*\s*2\s*\)\s*\.mean\("),
    "2 (1 - cos) (mse_nrm from a cosine)": re.compile(r"(?<![\w.])2(\.0)?\s*\*\s*\(\s*1(\.0)?\s*-"),
}


def formula_hits(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}"
            for number, line in code_lines(path) for what, pattern in FORMULAS.items() if pattern.search(line)]


def test_only_metrics_computes_mse_nrm_fve_and_cos():
    """One definition of every faithfulness figure: a second copy would drift (scale, failure rule, baseline)."""
    metrics = PACKAGE / "core" / "metrics.py"
    assert len({hit.split(": ")[1] for hit in formula_hits(metrics)}) == len(FORMULAS)  # each pattern finds metrics.py's own formula
    hits = [hit for path in package_files() if path != metrics for hit in formula_hits(path)]
    assert not hits, "faithfulness maths outside nlakit/core/metrics.py (call metrics instead):\n" + "\n".join(hits)


# ---------------------------------------------------------------- imports (the layer rules: tests/test_layers.py)


def python(code: str) -> str:
    """stdout of `code` in a fresh interpreter (nothing imported yet), failing with its stderr."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_every_module_imports_on_its_own():
    """Each module imported first, alone (nlakit's modules dropped from sys.modules between imports)."""
    pytest.importorskip("fastapi", reason="nlakit.app.serve.app needs the serve extra")
    names = sorted(module_name(p) for p in package_files())  # vllm_engine imports vLLM only when an engine starts
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'nlakit' or m.startswith('nlakit.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "    print(name)\n"
    )
    assert python(code).split() == names


TRAINING = {"nlakit.stages.trainer", "nlakit.stages.sft", "nlakit.stages.rl", "nlakit.stages.teach", "nlakit.bench", "nlakit.app.pipeline"}


def test_the_reading_side_loads_no_training_code():
    """The explorer and `explain` import the NLA, never the training loop, GRPO, teachers, bench or the pipeline."""
    pytest.importorskip("fastapi", reason="nlakit.app.serve.app needs the serve extra")
    loaded = set(python("import sys, nlakit.app.serve.app, nlakit.readings.explain\n"
                        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('nlakit'))))").split())
    assert {"nlakit.app.serve.app", "nlakit.readings.explain", "nlakit.core.nla", "nlakit.core.metrics"} <= loaded  # the check sees what was imported
    assert not loaded & TRAINING, f"training code loaded: {sorted(loaded & TRAINING)}"


# ---------------------------------------------------------------- environment


ENV_READ = re.compile(r"\b(os\.environ|os\.getenv|getenv\s*\(|environ\s*\[|environ\.get)")
ENV_ALLOWED = {("vllm_engine.py", "os.environ.setdefault")}  # writes vLLM's own settings, reads nothing of nlakit's


def test_environment_variables_are_read_only_in_config():
    """`config.env` is the one reader (ENVIRONMENT lists every variable), so the README's list is complete."""
    hits = []
    for path in package_files():
        if path == PACKAGE / "core" / "config.py":
            continue
        for number, line in code_lines(path):
            if ENV_READ.search(line) and not any(path.name == name and allowed in line for name, allowed in ENV_ALLOWED):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "environment read outside nlakit/core/config.py (use config.env):\n" + "\n".join(hits)
    assert any(ENV_READ.search(line) for _, line in code_lines(PACKAGE / "core" / "config.py"))  # the pattern finds config's own read


# ---------------------------------------------------------------- checkpoints and the run record


class Planted:
    """A pickle that creates `path` when loaded: what a `torch.load` of a hostile checkpoint would run."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_a_checkpoint_is_tensors_and_json_and_a_planted_pickle_never_runs(taught, tmp_path):
    cfg = ARConfig(steps=2, save_every=1, eval_every=100, bf16=False)
    out, work = tmp_path / "ar", tmp_path / "ar.work"
    assert run_train_ar(taught, out, replace(cfg, max_minutes=0.0)) is None  # stopped after step 1, checkpoint kept
    checkpoint = work / "checkpoint"
    assert sorted(p.name for p in checkpoint.iterdir()) == ["state.json", "tensors.safetensors"]
    cut = json.loads((checkpoint / "state.json").read_text())
    assert cut["step"] == 1
    for path in work.rglob("*"):
        if path.is_file() and path.suffix != ".safetensors":
            head = path.read_bytes()[:4]
            assert not head.startswith(b"\x80") and head != b"PK\x03\x04", f"{path} looks like a pickle or a torch.save zip"
    assert not [p for p in work.rglob("*") if p.suffix in (".pt", ".pth", ".pkl", ".pickle", ".bin")]

    marker = tmp_path / "pwned"
    payload = pickle.dumps(Planted(marker))
    (work / "checkpoint.pt").write_bytes(payload)  # where the old layout kept its pickled checkpoint
    (checkpoint / "checkpoint.pt").write_bytes(payload)
    assert run_train_ar(taught, out, cfg) == out  # resumes from tensors + JSON
    assert not marker.exists(), "resuming ran the planted pickle"
    final = json.loads((checkpoint / "state.json").read_text())
    assert final["step"] == 2 and final["log"][0] == cut["log"][0]  # step 1 came from the checkpoint, not a fresh start
    pickle.loads(payload)  # the plant was armed: loading it is exactly what the resume must never do
    assert marker.exists()


def test_a_run_with_other_settings_is_refused_naming_what_differs(taught, tmp_path):
    cfg = ARConfig(steps=2, save_every=1, eval_every=100, bf16=False)
    out = tmp_path / "ar"
    assert run_train_ar(taught, out, cfg) == out
    weights = (out / "adapter_model.safetensors").stat().st_mtime_ns
    assert run_train_ar(taught, out, replace(cfg, save_every=5, max_minutes=60.0)) == out  # runtime-only: the same result
    assert (out / "adapter_model.safetensors").stat().st_mtime_ns == weights  # already done: nothing retrained
    with pytest.raises(NLAError, match=r"\blr: 0\.003 -> 0\.01\b"):
        run_train_ar(taught, out, replace(cfg, lr=0.01))
    assert Sidecar.load(out).training["config"]["lr"] == cfg.lr  # the refused run left the result alone
    assert run_train_ar(taught, out, replace(cfg, lr=0.01), overwrite=True) == out
    assert Sidecar.load(out).training["config"]["lr"] == 0.01
    assert run_train_ar(taught, out, replace(cfg, lr=0.01)) == out  # and now that is the recorded result

    cut = tmp_path / "cut"
    assert run_train_ar(taught, cut, replace(cfg, max_minutes=0.0)) is None  # unfinished: a checkpoint at step 1
    with pytest.raises(NLAError, match=r"unfinished .*\bseed: 0 -> 1\b"):
        run_train_ar(taught, cut, replace(cfg, seed=1))
    assert json.loads((tmp_path / "cut.work" / "checkpoint" / "state.json").read_text())["step"] == 1  # kept for a rerun
    assert run_train_ar(taught, cut, replace(cfg, seed=1), overwrite=True) == cut  # starts afresh
    assert Sidecar.load(cut).training["config"]["seed"] == 1


# ---------------------------------------------------------------- settings: command line and config files

STAGES = {"extract": ExtractConfig, "teach": TeachConfig, "train-ar": ARConfig, "train-av": AVConfig, "rl": RLConfig,
          "evaluate": EvaluateConfig, "teachers": TeachersConfig}


def settings_of(cls: type) -> dict[str, tuple[Any, Any, dict[str, Any]]]:
    """name -> (type hint, default, metadata merged up the class hierarchy) for each scalar setting."""
    defaults = cls()
    return {f.name: (hint, getattr(defaults, f.name), meta) for f, hint, meta in fields_of(cls)}


# strings with a grammar of their own: two valid values each
STRUCTURED = {"design": ("token+next3p", "genre+quote3"), "designs": ("genre+next2,quote3", "token+next1")}


def another_value(hint: Any, default: Any, meta: dict[str, Any], name: str = "") -> Any:
    """A valid value that differs from the default (so seeing it proves the option or key was read)."""
    if name in STRUCTURED:
        return next(v for v in STRUCTURED[name] if v != default)
    kind = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    if meta.get("choices"):
        return next(c for c in meta["choices"] if c != default)
    if kind is bool:
        return True if default is None else not default
    if kind is int:
        return default + 1 if default is not None else int(meta.get("min", 0)) + 2
    if kind is float:
        return (default / 2 if default > 0 else default + 0.5) if default is not None else 2.5
    return f"{default}-other" if default is not None else "other"


def command(name: str):
    return typer.main.get_command(cli.app).commands[name]


def cli_args(stage: str, values: dict[str, Any]) -> list[str]:
    """The command line that sets `values`, using the options the command declares."""
    params = {p.name: p for p in command(stage).params}
    args: list[str] = []
    for name, value in values.items():
        param = params[name]
        if param.is_flag:
            args.append(param.opts[0] if value else param.secondary_opts[0])
        else:
            args += [param.opts[0], str(value)]
    return args


REQUIRED = {"extract": ["--out", "o"], "teach": ["--data", "d"], "train-ar": ["--data", "d", "--out", "o"],
            "train-av": ["--data", "d", "--out", "o"], "rl": ["--data", "d", "--av", "a", "--ar", "r", "--out", "o"], "evaluate": [],
            "teachers": ["--data", "d"]}


@pytest.fixture
def captured(monkeypatch) -> dict[str, Any]:
    """Each stage's run function replaced by one that records the config the command built (nothing runs)."""
    from nlakit.readings import suite, teachers
    from nlakit.stages import evaluate, extract, rl, sft, teach

    seen: dict[str, Any] = {}
    monkeypatch.setattr(extract, "run_extract", lambda cfg, out, overwrite=False: seen.update(cfg=cfg))
    monkeypatch.setattr(teach, "teacher_from", lambda cfg: None)
    monkeypatch.setattr(teach, "run_teach", lambda data, teacher, overwrite=False, cfg=None: seen.update(cfg=cfg))
    monkeypatch.setattr(sft, "run_train_ar", lambda data, out, cfg, overwrite=False: seen.update(cfg=cfg))
    monkeypatch.setattr(sft, "run_train_av", lambda data, out, cfg, overwrite=False: seen.update(cfg=cfg))
    monkeypatch.setattr(rl, "run_rl", lambda data, av, ar, out, cfg, overwrite=False: seen.update(cfg=cfg))
    monkeypatch.setattr(evaluate, "run_evaluate", lambda nla, cfg, save=None: seen.update(cfg=cfg) or {})
    monkeypatch.setattr(suite, "run_full_evaluate", lambda nla, cfg, save=None, out=None: seen.update(cfg=cfg) or {})
    ranked = {"designs": [{"design": "x", "tokens": 9, "ar_fve_nrm": 0.5, "ar_fve_shuffled": -0.5, "ar_by_genre": {"story": 0.5}, "n": 2,
                           "baseline": "rawvar"}]}
    monkeypatch.setattr(teachers, "run_teachers", lambda data, out, cfg: seen.update(cfg=cfg) or ranked)
    return seen


def test_help_lists_the_settings_of_each_stage():
    runner = CliRunner()
    expected = {"train-ar": ["--lora-r", "--head-lr", "--warmup-steps", "--eval-every", "--config"],
                "rl": ["--clip-eps", "--temperature", "--kl-coef", "--config"], "extract": ["--top-k-next", "--layer"]}
    for stage, options in expected.items():
        result = runner.invoke(cli.app, [stage, "--help"], env={"COLUMNS": "300", "TERMINAL_WIDTH": "300"})
        assert result.exit_code == 0, result.output
        for option in options:
            assert option in result.output, f"{stage} --help does not list {option}"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_setting_is_an_option_of_its_command(stage):
    """The option is the setting's name in dashes (or the switches its `flag` declares), help text included."""
    params = {p.name: p for p in command(stage).params}
    for name, (hint, _, meta) in settings_of(STAGES[stage]).items():
        assert name in params, f"{stage} has no option for {STAGES[stage].__name__}.{name}"
        dashed = "--" + name.replace("_", "-")
        kind = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
        declared = re.split(r"[\s/]+", meta["flag"]) if meta.get("flag") else [dashed] + ([f"--no-{dashed[2:]}"] if kind is bool else [])
        assert set(declared) <= set(params[name].opts + params[name].secondary_opts), (name, params[name].opts)
        assert meta.get("help") and meta["help"].split(";")[0] in (params[name].help or ""), name
    assert "config" in params


LOADS_NLA = ("evaluate", "explain", "serve", "neurons", "directions", "export")


@pytest.mark.parametrize("name", LOADS_NLA)
def test_every_command_that_loads_an_nla_has_the_options_load_config_declares(name):
    """--nla, --av, --ar, --dtype and --device-map are generated from LoadConfig wherever an NLA is loaded (export's own
    --dtype names the weights it writes, so it keeps that one)."""
    params = {p.name: p for p in command(name).params}
    for f, _, meta in fields_of(LoadConfig):
        if name == "export" and f.name == "dtype":
            assert "weights written" in params["dtype"].help
            continue
        assert "--" + f.name.replace("_", "-") in params[f.name].opts, (name, f.name)
        assert meta["help"].split(";")[0] in params[f.name].help, (name, f.name)


def test_the_nla_options_reach_the_command_as_one_load_config(monkeypatch):
    from nlakit.stages import evaluate

    seen = {}
    monkeypatch.setattr(evaluate, "run_evaluate", lambda nla, cfg, save=None: seen.update(nla=nla) or {})
    cli.main(["evaluate", "--av", "a/av", "--ar", "a/ar", "--dtype", "bf16", "--device-map", "auto", "--json"])
    assert seen["nla"] == LoadConfig(av="a/av", ar="a/ar", dtype="bf16", device_map="auto")
    cli.main(["evaluate", "--json"])
    assert seen["nla"] == LoadConfig() and str(seen["nla"]) == "default"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_setting_is_settable_from_flags_and_from_a_config_file(stage, captured, tmp_path):
    cls = STAGES[stage]
    values = {name: another_value(hint, default, meta, name) for name, (hint, default, meta) in settings_of(cls).items()}

    def built(args: list[str]) -> dict[str, Any]:
        captured.clear()
        cli.main([stage, *REQUIRED[stage], *args])
        return {name: getattr(captured["cfg"], name) for name in values}

    assert built(cli_args(stage, values)) == values
    (tmp_path / "settings.yaml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items()))
    assert built(["--config", str(tmp_path / "settings.yaml")]) == values
    (tmp_path / "settings.json").write_text(json.dumps(values))
    assert built(["--config", str(tmp_path / "settings.json")]) == values

    name, (hint, default, meta) = next(iter(settings_of(cls).items()))  # a flag beats the file
    flag_value = another_value(hint, values[name], meta, name)
    assert flag_value != values[name]
    assert built(["--config", str(tmp_path / "settings.yaml"), *cli_args(stage, {name: flag_value})]) == {**values, name: flag_value}


def test_a_bad_config_file_is_refused_in_one_line(captured, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    for text, words in (("nope: 1\n", "nope"), ("lr: abc\n", "lr"), ("lr: [unclosed\n", "cannot read settings file")):
        bad.write_text(text)
        with pytest.raises(SystemExit) as refused:
            cli.main(["train-ar", "--data", "d", "--out", "o", "--config", str(bad)])
        assert refused.value.code == 2 and words in capsys.readouterr().err
    assert "cfg" not in captured


def test_make_config_checks_every_value():
    assert make_config(ARConfig, {"lr": "2e-3", "steps": 5}, "x") == replace(ARConfig(), lr=2e-3, steps=5)  # YAML's "2e-3" is a string
    for values, words in (({"lr": "abc"}, r"\blr\b"), ({"nope": 1}, r"\bnope\b"), ({"lr": float("nan")}, r"lr .*finite"),
                          ({"lr": float("inf")}, r"lr .*finite"), ({"steps": 1.5}, r"\bsteps\b"), ({"bf16": "yes"}, r"\bbf16\b")):
        with pytest.raises(NLAError, match=words):
            make_config(ARConfig, values, "x")
