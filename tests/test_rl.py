"""GRPO on the tiny models: advantages, rewards, KL reference, what moves, exact resume, CLI.

A random tiny AV never writes `</explanation>`, so most tests use a lenient parser (any text
counts as an explanation) to get rewards that differ within a group; one test keeps the real
parser and checks that failures earn -2 and leave the AR alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nlakit.app.cli import main
from nlakit.core import dataset
from nlakit.core.ar import load_reconstructor
from nlakit.core.av import load_verbalizer
from nlakit.core.config import AVConfig, RLConfig
from nlakit.core.errors import NLAError
from nlakit.core.metrics import Baseline, mse_nrm
from nlakit.core.sidecar import Sidecar
from nlakit.stages import rl
from nlakit.stages.rl import run_rl
from nlakit.stages.sft import run_train_av


def small_cfg(**kw) -> RLConfig:
    return RLConfig(**{"steps": 2, "batch_size": 2, "group_size": 3, "max_new_tokens": 6, "save_every": 1, "sample_rows": 2,
                       "warmup_steps": 1, "av_lr": 1e-2, "ar_lr": 1e-2, "bf16": False, **kw})


@pytest.fixture(scope="module")
def sft(sft_pair) -> dict[str, Path]:
    return {"data": sft_pair.data, "av": sft_pair.av, "ar": sft_pair.ar}


@pytest.fixture
def lenient(monkeypatch):
    monkeypatch.setattr(rl, "parse_response", lambda text, hit_cap: text)


def fresh_state(sft: dict[str, Path], cfg: RLConfig) -> tuple[rl.RLState, np.ndarray, Baseline]:
    table, meta = dataset.read_split(sft["data"], "train")
    return rl.start_state(sft["av"], sft["ar"], meta, cfg), dataset.vectors(table), meta.training_baseline()


def read_state(out: Path) -> dict:
    """The JSON half of a run's checkpoint (`<out>.work/checkpoint/state.json`): step, log, stage state."""
    return json.loads((out.with_name(out.name + ".work") / "checkpoint" / "state.json").read_text())


def snapshot(model: torch.nn.Module, trainable: bool) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad == trainable}


def test_group_advantages_have_zero_mean_per_group():
    reward = torch.tensor([-0.5, -1.0, -2.0, -0.1, -0.3, -0.3, -0.7, -0.7, -0.7])
    adv = rl.group_advantages(reward, 3).view(3, 3)
    torch.testing.assert_close(adv.mean(dim=1), torch.zeros(3), atol=1e-6, rtol=0)
    assert torch.equal(adv[2], torch.zeros(3))  # equal rewards carry no signal
    assert adv[0, 0] > adv[0, 1] > adv[0, 2]


def test_perfect_reconstruction_earns_zero_and_failure_minus_two():
    v = torch.randn(3, 64)
    mse = mse_nrm(2 * v, v)  # a perfect (rescaled) reconstruction
    reward = rl.rewards(mse, torch.tensor([False, True, False]))
    torch.testing.assert_close(reward, torch.tensor([0.0, -2.0, 0.0]), atol=1e-5, rtol=0)
    contrastive = rl.rewards(torch.tensor([0.5, 0.5]), torch.tensor([False, True]), mse_wrong=torch.tensor([1.5, 1.5]))
    torch.testing.assert_close(contrastive, torch.tensor([1.0, -2.0]))
    assert rl.parse_response("<explanation>x</explanation>", hit_cap=True) == "x"
    assert rl.parse_response("<explanation>x</explanation> and more", hit_cap=True) is None  # cut by the cap
    assert rl.parse_response("<explanation>never closed", hit_cap=False) is None


def test_data_order_is_seeded_and_covers_each_epoch():
    rows = rl.batch_rows(5, seed=3, position=0, count=10)
    assert sorted(rows[:5]) == sorted(rows[5:]) == list(range(5)) and rows[:5] != rows[5:]
    assert rl.batch_rows(5, seed=3, position=4, count=3) == rows[4:7]


def test_injection_smell():
    assert rl.injection_smell("\u320e" * 8 + " is the concept", "\u320e")
    assert rl.injection_smell("这是一个中文解释", None)
    assert not rl.injection_smell("Code: a Python function; Ends with: return", "\u320e")
    assert not rl.injection_smell("", "\u320e")


def test_kl_is_zero_before_the_first_update_and_positive_after(sft, lenient):
    state, vectors, baseline = fresh_state(sft, small_cfg(steps=1))
    first = rl.rl_step(state, vectors, small_cfg(steps=1), baseline)
    assert first["kl"] == pytest.approx(0.0, abs=1e-7)
    assert first["logprob_gap"] < 1e-4  # generation and scoring agree on the policy's log-probs
    second = rl.rl_step(state, vectors, small_cfg(steps=1), baseline)
    assert second["kl"] > 0


def test_one_step_moves_the_av_adapter_and_the_ar_but_not_frozen_weights(sft, lenient):
    cfg = small_cfg(steps=1)
    state, vectors, baseline = fresh_state(sft, cfg)
    av_trainable, av_frozen = snapshot(state.av.lm, True), snapshot(state.av.lm, False)
    ar_trainable, ar_frozen = snapshot(state.ar, True), snapshot(state.ar, False)
    assert any("lora" in n for n in av_trainable) and any("lora" in n for n in ar_trainable)
    assert "value_head.weight" in ar_trainable
    assert any(rl.REFERENCE in n for n in av_frozen) and not any("lora" in n and rl.REFERENCE not in n for n in av_frozen)
    row = rl.rl_step(state, vectors, cfg, baseline)
    assert row["parse_fail_rate"] == 0 and np.isfinite(row["ar_loss"]) and row["response_len"] > 0
    assert set(snapshot(state.av.lm, True)) == set(av_trainable)  # switching to the reference restored requires_grad
    assert any(not torch.equal(p, av_trainable[n]) for n, p in snapshot(state.av.lm, True).items())
    assert all(torch.equal(p, av_frozen[n]) for n, p in snapshot(state.av.lm, False).items())
    assert not torch.equal(state.ar.value_head.weight, ar_trainable["value_head.weight"])
    assert any(not torch.equal(p, ar_trainable[n]) for n, p in snapshot(state.ar, True).items() if "lora" in n)
    assert all(torch.equal(p, ar_frozen[n]) for n, p in snapshot(state.ar, False).items())


def test_failed_generations_earn_minus_two_and_skip_the_ar(sft):
    cfg = small_cfg(steps=1)
    state, vectors, baseline = fresh_state(sft, cfg)  # the real parser: a random tiny AV never closes the tag
    head = state.ar.value_head.weight.detach().clone()
    row = rl.rl_step(state, vectors, cfg, baseline)
    assert row["parse_fail_rate"] == 1.0 and row["reward_mean"] == -2.0 and np.isnan(row["ar_loss"])
    assert row["train_fve_nrm"] == pytest.approx(1 - 2.0 / baseline.value)  # failures scored FAILED_MSE, as in every FVE
    assert torch.equal(state.ar.value_head.weight, head)


def test_the_ar_step_ignores_failed_rows_that_it_still_reads(sft):
    """Failed rows go through the AR with weight 0 (every process runs the same passes): the loss is the parsed rows' mean."""
    ar = load_reconstructor(sft["ar"])
    texts, targets = ["a story about rain", "", "a list of fruit"], torch.randn(3, ar.meta.d_model)
    weighted, _ = ar.loss(texts, targets, bf16=False, weights=torch.tensor([1.0, 0.0, 1.0]))
    subset, _ = ar.loss([texts[0], texts[2]], targets[[0, 2]], bf16=False)
    everything, _ = ar.loss(texts, targets, bf16=False)
    assert torch.allclose(weighted, subset, atol=1e-5)
    assert not torch.allclose(weighted, everything, atol=1e-5)  # the failed row would have counted


def test_resume_after_a_checkpoint_reproduces_the_next_step(sft, lenient, tmp_path):
    run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "full", small_cfg())
    assert run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "cut", small_cfg(max_minutes=0.0)) is None  # stops (and saves) after step 1
    assert read_state(tmp_path / "cut")["step"] == 1
    assert not (tmp_path / "cut").exists()  # a cut run publishes nothing
    assert not list((tmp_path / "cut.work").rglob("*.pt"))
    run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "cut", small_cfg())

    full, cut = read_state(tmp_path / "full")["log"], read_state(tmp_path / "cut")["log"]
    assert [r["step"] for r in cut] == [1, 2]
    for key in ("reward_mean", "loss", "kl", "ar_loss", "train_fve_nrm", "response_len"):
        assert cut[1][key] == full[1][key], key
    assert full[0]["reward_mean"] != full[1]["reward_mean"]  # the steps differ, so matching step 2 is not trivial
    for name in ("full", "cut"):
        folder, work = tmp_path / name, tmp_path / f"{name}.work"
        assert not (folder / "work").exists()  # RL's scratch lives beside the output, as every stage's does
        assert (folder / "rl_curves.png").exists() and (folder / "log.csv").exists() and any((work / "tb").iterdir())
        samples = [json.loads(line) for line in (work / "samples.jsonl").read_text().splitlines()]
        assert [s["step"] for s in samples] == [1, 1, 2, 2] and all("smell" in s for s in samples)
        assert Sidecar.load(folder / "av").training["stage"] == "rl" and Sidecar.load(folder / "ar").training["steps_done"] == 2
        assert not (folder / "av" / rl.REFERENCE).exists()
    av_full, av_cut = load_verbalizer(tmp_path / "full" / "av"), load_verbalizer(tmp_path / "cut" / "av")
    for (name, p), (_, q) in zip(av_full.lm.named_parameters(), av_cut.lm.named_parameters()):
        assert torch.equal(p, q), name
    ar_full, ar_cut = load_reconstructor(tmp_path / "full" / "ar"), load_reconstructor(tmp_path / "cut" / "ar")
    for (name, p), (_, q) in zip(ar_full.named_parameters(), ar_cut.named_parameters()):
        assert torch.equal(p, q), name
    sft_av = load_verbalizer(sft["av"])
    assert any(not torch.equal(p, q) for (n, p), (_, q) in zip(sft_av.lm.named_parameters(), av_full.lm.named_parameters()) if "lora" in n)


def test_a_finished_run_continues_to_more_steps_and_never_shrinks(sft, lenient, tmp_path):
    """GRPO's step count is extendable: rerunning a published run with more steps continues from its checkpoint
    (same weights as a run asked for that many steps at once); asking for fewer than it holds is refused."""
    run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "full", small_cfg())
    short = run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "grown", small_cfg(steps=1))
    assert Sidecar.load(short / "ar").training["steps_done"] == 1
    grown = run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "grown", small_cfg())
    assert Sidecar.load(grown / "ar").training["steps_done"] == 2 and [r["step"] for r in read_state(grown)["log"]] == [1, 2]
    ar_full, ar_grown = load_reconstructor(tmp_path / "full" / "ar"), load_reconstructor(grown / "ar")
    for (name, p), (_, q) in zip(ar_full.named_parameters(), ar_grown.named_parameters()):
        assert torch.equal(p, q), name
    with pytest.raises(NLAError, match=r"at step 2, past the 1 steps asked: ask for --steps 2 or more"):
        run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "grown", small_cfg(steps=1))
    assert Sidecar.load(grown / "ar").training["steps_done"] == 2  # the published result is kept
    with pytest.raises(NLAError, match="other settings"):  # any other setting still starts a different run
        run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "grown", small_cfg(av_lr=5e-3))


def test_a_run_cut_by_its_time_budget_is_published_as_it_is_with_its_step_count(sft, lenient, tmp_path, capsys):
    assert run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "cut", small_cfg(steps=50, max_minutes=0.0)) is None
    assert "or with --steps 1 to publish it as it is" in capsys.readouterr().err
    out = run_rl(sft["data"], sft["av"], sft["ar"], tmp_path / "cut", small_cfg(steps=1))
    assert Sidecar.load(out / "av").training["steps_done"] == 1 and Sidecar.load(out / "av").training["config"]["steps"] == 1


def test_cli_rl_writes_both_folders(sft, tmp_path):
    out = tmp_path / "rl"
    main(["rl", "--data", str(sft["data"]), "--av", str(sft["av"]), "--ar", str(sft["ar"]), "--out", str(out),
          "--steps", "1", "--batch-size", "2", "--group-size", "2", "--max-new-tokens", "4", "--contrastive"])
    assert Sidecar.load(out / "av").training["config"]["contrastive"] is True
    assert (out / "ar" / "value_head.safetensors").exists() and (out / "rl_length.png").exists()


def test_fully_fine_tuned_av_uses_a_frozen_copy_as_reference(sft, lenient, tmp_path):
    run_train_av(sft["data"], tmp_path / "av_full", AVConfig(steps=1, full_finetune=True, eval_every=100))
    out = run_rl(sft["data"], tmp_path / "av_full", sft["ar"], tmp_path / "rl", small_cfg(steps=1))
    log = read_state(out)["log"]
    assert log[0]["kl"] == pytest.approx(0.0, abs=1e-7)
    assert not (out / "av" / "adapter_config.json").exists()
    before, after = load_verbalizer(tmp_path / "av_full"), load_verbalizer(out / "av")
    assert any(not torch.equal(p, q) for p, q in zip(before.lm.parameters(), after.lm.parameters()))


@pytest.mark.parametrize("settings, message", [
    ({"group_size": 1}, r"group_size \(--group-size\) must be at least 2"),
    ({"contrastive": True, "batch_size": 1}, "contrastive reward needs batch_size >= 2"),
    ({"engine": "sglang"}, "engine .* must be one of transformers, vllm, got 'sglang'"),
])
def test_bad_settings_are_refused_before_any_model_loads(settings, message, tmp_path):
    """A bad value is refused where the config is made (or, for combinations, before anything loads)."""
    with pytest.raises(NLAError, match=message):
        run_rl(tmp_path / "no-data", tmp_path / "no-av", tmp_path / "no-ar", tmp_path / "out", RLConfig(**settings))
    assert not (tmp_path / "out.work").exists()


def test_micro_batched_updates_take_the_same_step_as_one_batch(sft, lenient):
    """update_rows splits the AV and AR updates into micro-batches whose gradients add up to the whole step's:
    the same rollout (same seed) gives the same logged figures and the same weights afterwards."""
    results = []
    for rows in (None, 4):
        torch.manual_seed(0)
        cfg = small_cfg(steps=1, batch_size=3, group_size=3, update_rows=rows)
        state, vectors, baseline = fresh_state(sft, cfg)
        row = rl.rl_step(state, vectors, cfg, baseline)
        results.append((row, snapshot(state.av.lm, True), snapshot(state.ar, True)))
    (whole, av_whole, ar_whole), (split, av_split, ar_split) = results
    for key in ("loss", "pg_loss", "kl", "clip_frac", "logprob_gap", "ar_loss", "av_grad_norm", "ar_grad_norm", "reward_mean"):
        assert split[key] == pytest.approx(whole[key], rel=1e-4, abs=1e-6), key
    for before, after in ((av_whole, av_split), (ar_whole, ar_split)):
        assert set(before) == set(after)
        for name, weight in before.items():
            torch.testing.assert_close(after[name], weight, rtol=1e-4, atol=1e-5)  # Adam divides by |grad|: lr 1e-2, drift 1e-6
