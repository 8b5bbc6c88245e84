"""`nlakit bench` on the tiny model in quick mode: every figure present, positive, finite, and the
ratios consistent with the figures; a measurement that fails fails the bench.
No timing asserts: which path is faster depends on the machine."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import typer

import nlakit.stages.rl
from nlakit import bench
from nlakit.app.cli import app, main
from nlakit.bench import run_bench
from nlakit.bench.av_sft import av_part
from nlakit.bench.data import build_small_dataset, load_bench_data
from nlakit.bench.flops import count_flops
from nlakit.bench.machine import matmul_peak
from nlakit.bench.measure import PeakRSS
from nlakit.bench.rl_step import bench_rl, split_parts
from nlakit.core.av import build_verbalizer
from nlakit.core.config import BENCH_AXES, BenchConfig, TrainConfig, fields_of, scalar_type
from nlakit.core.models import add_lora, load_causal_lm

ROWS = {"AR SFT step", "AV SFT step", "explanations", "generation"}
MACHINE = {"cpu", "cores", "torch_threads", "torch", "transformers", "native_bf16", "date", "loadavg_start", "loadavg_end"}


def positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def results(tiny_model, tiny_corpus, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    # one thread: on a small shared machine oversubscribed torch threads make tiny steps very slow
    returned = run_bench(BenchConfig.preset(quick=True, model=tiny_model, corpus=str(tiny_corpus), threads=1), out)
    written = json.loads(out.read_text())
    assert written["rows"] == returned["rows"]
    return written


def test_summary_rows_sit_next_to_baseline_and_limit(results):
    assert MACHINE <= set(results["machine"]) and results["precision"] in ("fp32", "bf16")
    rows = {r["name"]: r for r in results["rows"]}
    assert set(rows) == ROWS
    for r in rows.values():
        assert positive(r["nlakit"]) and positive(r["naive"]) and positive(r["nlakit_peak_rss_mb"]), r
        assert r["vs_naive"] == pytest.approx(r["nlakit"] / r["naive"])
        if r["name"] != "explanations":  # activations/s has no limit: the limit is in tokens/s
            assert positive(r["limit"]) and r["vs_limit"] == pytest.approx(r["nlakit"] / r["limit"])
            assert r["naive_vs_limit"] == pytest.approx(r["naive"] / r["limit"])
        if r["unit"] == "tokens/s" and "SFT" in r["name"]:  # training rows also sit next to the frozen-weights limit
            assert r["vs_limit_frozen_weights"] == pytest.approx(r["nlakit"] / r["limit_frozen_weights"])
    precision = results["precision"]  # bf16 where the CPU has it natively (AVX512-BF16, AMX), else fp32
    assert rows["AR SFT step"]["limit"] == results["ar_sft"]["limits"][precision]["tokens_per_s"]
    assert rows["generation"]["limit"] == results["generation"]["limit"]["tokens_per_s"]
    assert rows["explanations"]["vs_naive"] == pytest.approx(
        results["generation"]["nlakit"]["activations_per_s"] / results["generation"]["naive"]["activations_per_s"])


def test_each_measurement_has_medians_and_memory(results):
    cfg = results["config"]
    for section in ("ar_sft", "av_sft", "generation"):
        for path in ("nlakit", "naive"):
            m = results[section][path]
            assert len(m["times_s"]) == cfg["repeats"] and all(positive(t) for t in m["times_s"])
            assert positive(m["step_s"]) and positive(m["tokens_per_s"]) and positive(m["peak_rss_mb"])
            assert math.isfinite(m["rss_delta_mb"])
    for section in ("ar_sft", "av_sft"):
        limits = results[section]["limits"]
        assert positive(limits["fp32"]["tokens_per_s"]) and limits["fp32"]["precision"] == "fp32"
        assert positive(limits["frozen_weights"]["tokens_per_s"]) and not limits["frozen_weights"]["weight_grads"]
        assert positive(limits["bf16"].get("tokens_per_s", 1)) if "skipped" not in limits["bf16"] else limits["bf16"]["skipped"]
    assert positive(results["av_sft"]["nlakit"]["response_tokens_per_s"])
    assert positive(results["generation"]["nlakit"]["activations_per_s"])


def test_scaling_covers_batch_length_and_width(results):
    cfg = results["config"]
    for model in ("ar", "av"):
        points = results["scaling"][model]
        assert [p["value"] for p in points if p["axis"] == "batch_size"] == list(cfg["scaling_batches"])
        assert [p["value"] for p in points if p["axis"] == "explanation_tokens"] == list(cfg["scaling_lengths"])
        assert all(positive(p["step_s"]) and positive(p["tokens_per_s"]) and positive(p["peak_rss_mb"]) for p in points)
    widths = results["scaling"]["memory_vs_d_model"]
    assert [w["d_model"] for w in widths] == [64, 128, 256, 576]
    assert all(positive(w["params_mb"]) and positive(w["peak_rss_mb"]) and positive(w["step_s"]) for w in widths)


def test_rl_row_is_timed_with_its_parts(results):
    rl = results["rl"]
    assert rl["function"] == "nlakit.stages.rl.rl_step" and "skipped" not in rl
    assert len(rl["times_s"]) == results["config"]["repeats"] and positive(rl["step_s"]) and positive(rl["explanations_per_s"])
    assert set(rl["parts_s"]) == {"generation", "reward", "update"}
    assert positive(rl["parts_s"]["generation"]) and positive(rl["parts_s"]["reward"])
    assert (rl["rl_config"]["batch_size"], rl["rl_config"]["group_size"]) == (2, 2)  # quick mode


def test_rl_parts_come_from_the_steps_own_timings():
    rows = [{"rollout_s": 0.5, "reward_s": 0.25, "step_s": 1.0}, {"rollout_s": 1.0, "reward_s": 0.5, "step_s": 2.0},
            {"rollout_s": 1.5, "reward_s": 0.75, "step_s": 4.0}]
    assert split_parts(rows) == {"generation": 1.0, "reward": 0.5, "update": 0.5}
    synced = [{**r, "sync_s": 0.125} for r in rows]  # the vLLM engine's weight sync is a part of its own
    assert split_parts(synced) == {"generation": 1.0, "reward": 0.5, "sync": 0.125, "update": 0.375}
    with pytest.raises(KeyError):  # a row without its timings is an error, not a guess
        split_parts([{"step_s": 1.0}])


def test_a_failing_rl_step_fails_the_bench(tiny_model, tiny_corpus, tmp_path, monkeypatch):
    folder = build_small_dataset(tiny_model, str(tiny_corpus), tmp_path / "data")
    data = load_bench_data(folder, tiny_model)
    av = build_verbalizer(data.meta)
    av_part(av)

    def broken(*args, **kwargs):
        raise RuntimeError("rollout exploded")

    monkeypatch.setattr(nlakit.stages.rl, "rl_step", broken)
    with pytest.raises(RuntimeError, match="rollout exploded"):
        bench_rl(av, data, BenchConfig.preset(quick=True, model=tiny_model))


def test_peak_rss_sees_an_allocation():
    with PeakRSS() as memory:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB, every page touched
        del block
    record = memory.record()
    assert record["rss_delta_mb"] > 32 and record["peak_rss_mb"] >= record["rss_delta_mb"]


def test_cli_passes_options_and_prints_the_table(results, tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_run(cfg: BenchConfig, out: Path) -> dict:
        seen.update(cfg=cfg, out=out)
        return results

    monkeypatch.setattr(bench, "run_bench", fake_run)
    main(["bench", "--model", "some-model", "--data", str(tmp_path), "--out", str(tmp_path / "b.json"), "--quick", "--threads", "1"])
    cfg = seen["cfg"]
    assert (cfg.model, cfg.data, cfg.quick, cfg.threads, seen["out"]) == ("some-model", str(tmp_path), True, 1, tmp_path / "b.json")
    assert cfg.repeats == BenchConfig.preset(quick=True).repeats
    assert "AR SFT step" in capsys.readouterr().out


def test_rows_report_flops_and_the_fraction_of_the_measured_peak(results):
    peak = results["peak"]
    assert positive(peak["flops_per_s"]) and peak["dtype"] == {"bf16": "bfloat16", "fp32": "float32"}[results["precision"]]
    rows = {r["name"]: r for r in results["rows"]}
    for name in ("AR SFT step", "AV SFT step", "generation"):
        r = rows[name]
        assert positive(r["flops_per_s"]) and r["vs_peak"] == pytest.approx(r["flops_per_s"] / peak["flops_per_s"])
        assert positive(r["limit_flops_per_s"]) and r["limit_vs_peak"] == pytest.approx(r["limit_flops_per_s"] / peak["flops_per_s"])
        assert positive(r["naive"])  # the naive baseline stays beside it
    for name in ("AR SFT step", "AV SFT step"):
        assert positive(rows[name]["limit_frozen_weights_vs_peak"])
    # FLOP/s and tokens/s come from the same timed steps, so their ratio is the AR's FLOPs per token: frozen base
    # x2 x2 (73,728 block weights of the tiny model's 2 blocks) plus LoRA x3 x2 (32,768), plus attention (short rows)
    per_token = rows["AR SFT step"]["flops_per_s"] / rows["AR SFT step"]["nlakit"]
    assert 4 * 73_728 + 6 * 32_768 <= per_token <= 4 * 73_728 + 6 * 32_768 + 3 * 4 * 64 * 64 * 2
    assert positive(results["rl"]["flops_per_s"]) and results["rl"]["vs_peak"] == pytest.approx(results["rl"]["flops_per_s"] / peak["flops_per_s"])


def test_every_machine_reports_the_fp32_path_against_the_fp32_peak(results):
    """An AVX2 laptop's figure from any machine: on an fp32 machine it is the run's own generation row, on a bf16 one its own run."""
    fp32 = results["fp32_path"]
    assert positive(fp32["peak_flops_per_s"]) and positive(fp32["generation_flops_per_s"])
    assert fp32["generation_vs_peak"] == pytest.approx(fp32["generation_flops_per_s"] / fp32["peak_flops_per_s"])
    if results["precision"] == "fp32":
        assert fp32["peak_flops_per_s"] == results["peak"]["flops_per_s"]


def test_every_cpu_reports_the_int8_path_against_the_int8_peak(results):
    """The int8 path (`--int8`) measured on any CPU, against its own product's peak."""
    int8 = results["int8_path"]
    assert positive(int8["peak_ops_per_s"]) and positive(int8["generation_ops_per_s"]) and positive(int8["generation_activations_per_s"])
    assert int8["generation_vs_peak"] == pytest.approx(int8["generation_ops_per_s"] / int8["peak_ops_per_s"])


def test_count_flops_matches_a_hand_count(tiny_model):
    """The tiny Llama: d 64, MLP 128, 2 blocks, 4 heads of 16 (2 KV heads), tied LM head; LoRA r 16 on all 7 projections."""
    lm = load_causal_lm(tiny_model)
    vocab = lm.config.vocab_size
    base = 2 * (64 * 64 + 64 * 32 + 64 * 32 + 64 * 64 + 3 * 64 * 128)  # q, k, v, o, gate/up/down: 73,728 weights
    rows = [(0, 3), (2, 2)]  # 3 tokens from the start; 2 more after 2 cached ones
    tokens, pairs = 5, (1 + 2 + 3) + (3 + 4)  # each query attends to itself and everything before
    matmuls, attention, head = 2 * base * tokens, 4 * 64 * pairs * 2, 2 * 64 * vocab * 4
    assert count_flops(lm, rows) == matmuls + attention
    assert count_flops(lm, rows, logits=4) == matmuls + attention + head
    assert count_flops(lm, rows, logits=4, backward="full") == 3 * (matmuls + attention + head)
    lora = 2 * ((16 * 64 + 64 * 16) * 2 + (16 * 64 + 32 * 16) * 2 + (16 * 64 + 128 * 16) * 2 + (16 * 128 + 64 * 16))
    adapted = add_lora(lm, TrainConfig())
    assert count_flops(adapted, rows, logits=4, backward="frozen") == 2 * matmuls + 3 * (2 * lora * tokens) + 3 * attention + 2 * head
    with pytest.raises(ValueError, match="backward"):
        count_flops(lm, rows, backward="half")


def test_matmul_peak_is_a_finite_positive_rate():
    peak = matmul_peak(torch.float32, "cpu", n=128, repeats=3)
    assert positive(peak["flops_per_s"]) and peak["n"] == 128 and len(peak["times_s"]) == 3
    assert peak["flops_per_s"] == pytest.approx(2 * 128**3 / peak["step_s"])


def test_gpu_sft_script_runs_on_the_cpu(tiny_model, tiny_corpus, tmp_path):
    """scripts/gpu_sft_bench.sh with tiny settings: one JSON line, both settings measured for both models."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "gpu_sft_bench.sh"
    env = {**os.environ, "PYTHON": sys.executable, "MODEL": tiny_model, "CORPUS": str(tiny_corpus), "DOCS": "40", "TOKENS": "256 512",
           "WARMUP": "1", "REPEATS": "1", "COMPILE": "0", "PEAK_N": "128", "OUT": str(tmp_path / "gpu.json"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line == json.loads((tmp_path / "gpu.json").read_text())
    assert positive(line["peak_tflops"]) and line["device"] == "cpu"
    assert line["before"]["settings"]["batch_size"] == 64 and [a["settings"]["batch_tokens"] for a in line["after"]] == [256, 512]
    for setting in (line["before"], *line["after"]):
        for role in ("ar", "av"):
            assert positive(setting[role]["tokens_per_s"]) and positive(setting[role]["vs_peak"]), line
    assert line["after"][0]["ar"]["rows_per_step"] < line["after"][1]["ar"]["rows_per_step"]  # a bigger budget, more rows


def test_cli_sft_only_passes_the_training_settings(monkeypatch, capsys):
    seen = {}

    def fake_run(cfg: BenchConfig, out: Path) -> dict:
        seen.update(cfg=cfg)
        return {"ar": {"vs_peak": 0.5}}

    monkeypatch.setattr(bench, "run_bench", fake_run)
    main(["bench", "--sft-only", "--batch-tokens", "4096", "--compile", "--bf16-weights"])
    cfg = seen["cfg"]
    assert (cfg.sft_only, cfg.batch_tokens, cfg.compile, cfg.bf16_weights) == (True, 4096, True, True)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"ar": {"vs_peak": 0.5}}


def other_values() -> dict:
    """A valid value for each BenchConfig setting that differs from what --quick gives it (and quick itself: True)."""
    quick, values = BenchConfig.preset(quick=True), {"quick": True}
    for f, hint, _ in fields_of(BenchConfig):
        default, kind = getattr(quick, f.name), scalar_type(hint)
        if f.name == "quick":
            continue
        if f.name in BENCH_AXES:
            values[f.name] = "3,5"
        elif kind is bool:
            values[f.name] = True if default is None else not default
        elif kind is int:
            values[f.name] = (default or 1) + 1
        else:
            values[f.name] = f"{default}-other"
    return values


def test_every_bench_setting_is_an_option_and_a_config_key(monkeypatch, tmp_path, capsys):
    """`nlakit bench` is generated from BenchConfig like every stage: each setting is a flag and a --config key,
    flags beat the file, and --quick (from either) only changes the sizes nobody set."""
    seen = {}
    monkeypatch.setattr(bench, "run_bench", lambda cfg, out: seen.update(cfg=cfg) or {"ar": {}})
    params = {p.name: p for p in typer.main.get_command(app).commands["bench"].params}
    values = other_values()
    assert values["sft_only"] and values["quick"]  # sft_only: the command prints JSON instead of the tables
    args = [a for name, v in values.items() for a in
            ([params[name].opts[0] if v else params[name].secondary_opts[0]] if params[name].is_flag else [params[name].opts[0], str(v)])]

    def built(argv: list[str]) -> dict:
        main(["bench", *argv])
        return {name: getattr(seen["cfg"], name) for name in values}

    assert built(args) == values
    (tmp_path / "bench.yaml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items()))
    assert built(["--config", str(tmp_path / "bench.yaml")]) == values
    assert built(["--config", str(tmp_path / "bench.yaml"), "--repeats", "7"]) == {**values, "repeats": 7}
    (tmp_path / "quick.yaml").write_text("quick: true\nsft_only: true\n")
    assert built(["--config", str(tmp_path / "quick.yaml"), "--warmup", "0"])["batch_size"] == BenchConfig.preset(quick=True).batch_size
    assert seen["cfg"].warmup == 0 and seen["cfg"].sizes("scaling_batches") == (2, 4)
    assert seen["cfg"] == BenchConfig.preset(quick=True, sft_only=True, warmup=0)
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["bench", "--scaling-batches", "4,x"])
    assert refused.value.code == 2 and "--scaling-batches takes positive integers" in capsys.readouterr().err
