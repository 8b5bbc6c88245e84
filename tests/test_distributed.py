"""Data parallelism: two CPU processes (gloo, launched by torchrun as `accelerate launch` does) follow one process's run.

Each run is repeated with `--fsdp`, which shards the frozen block weights across the two processes.
Every test here spawns processes (marker `distributed`).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.distributed


def losses(folder: Path) -> list[float]:
    with open(folder / "log.csv") as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


def launch(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run a command, failing with the end of its stderr (the traceback) if it fails."""
    result = subprocess.run(args, env=env, timeout=300, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


ENV = {"OMP_NUM_THREADS": "1", "NLAKIT_DEVICE": "cpu"}


def sft_args(stage: str, data: Path) -> list[str]:
    return [stage, "--data", str(data), "--steps", "4", "--batch-size", "8", "--fp32"]  # bf16 rounding would hide the maths


@pytest.fixture(scope="module")
def one_process(taught, tmp_path_factory):
    """The one-process loss curve of a stage, run once and shared by its data-parallel and FSDP comparisons."""
    curves: dict[str, list[float]] = {}

    def curve(stage: str) -> list[float]:
        if stage not in curves:
            out = tmp_path_factory.mktemp(f"one-{stage}") / "out"
            launch([sys.executable, "-m", "nlakit.app.cli", *sft_args(stage, taught), "--out", str(out)], {**os.environ, **ENV})
            curves[stage] = losses(out)
        return curves[stage]

    return curve


@pytest.mark.parametrize("sharding", [[], ["--fsdp"]], ids=["ddp", "fsdp"])
@pytest.mark.parametrize("stage, tolerance", [("train-ar", 1e-4), ("train-av", 2e-2)])
def test_two_processes_follow_the_one_process_loss_curve(stage, tolerance, sharding, taught, one_process, tmp_path, free_port):
    """Same global batch of 8: two processes take 4 rows each and average gradients.

    The AR's loss is a mean over rows, so the curves agree to float precision; the AV's is a mean
    over tokens, and two half-batch means weigh tokens slightly differently, hence the looser bound.
    """
    two_processes = launch([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port),
                            "-m", "nlakit.app.cli", *sft_args(stage, taught), *sharding, "--out", str(tmp_path / "two")], {**os.environ, **ENV})
    assert ("holds 50% of their frozen weights" in two_processes.stderr) == bool(sharding)
    one, two = one_process(stage), losses(tmp_path / "two")
    assert len(one) == len(two) == 4
    assert one[0] != one[-1]  # the curve moves, so agreement is not trivial
    assert max(abs(a - b) for a, b in zip(one, two)) < tolerance, (one, two)


@pytest.mark.parametrize("accelerate_fsdp", ["false", "true"], ids=["ddp", "fsdp"])
def test_rl_runs_under_two_processes_and_the_first_writes_the_models(accelerate_fsdp, sft_pair, tmp_path, free_port):
    """Each process samples whole groups of its share; both step together (no deadlock when one parses nothing).

    FSDP is switched on here as `accelerate launch --use_fsdp` does it, through ACCELERATE_USE_FSDP.
    """
    env = {**os.environ, **ENV, "ACCELERATE_USE_FSDP": accelerate_fsdp}
    rl = launch([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port),
                 "-m", "nlakit.app.cli", "rl", "--data", str(sft_pair.data), "--av", str(sft_pair.av), "--ar", str(sft_pair.ar),
                 "--out", str(tmp_path / "rl"), "--steps", "2", "--batch-size", "2", "--group-size", "2", "--max-new-tokens", "6"],
                env)
    assert rl.stderr.count("holds 50% of their frozen weights") == (2 if accelerate_fsdp == "true" else 0)  # the AV's blocks, then the AR's
    with open(tmp_path / "rl" / "log.csv") as f:
        assert [row["step"] for row in csv.DictReader(f)] == ["1", "2"]
    for role in ("av", "ar"):
        assert (tmp_path / "rl" / role / "nla_meta.yaml").exists()


def test_token_budget_batches_follow_the_one_process_loss_curve(taught, tmp_path, free_port):
    """--batch-tokens under two processes: each takes its share of every budgeted batch, and the AR's curve is the one-process one."""
    args = [*sft_args("train-ar", taught), "--batch-tokens", "600"]
    launch([sys.executable, "-m", "nlakit.app.cli", *args, "--out", str(tmp_path / "one")], {**os.environ, **ENV})
    launch([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port),
            "-m", "nlakit.app.cli", *args, "--out", str(tmp_path / "two")], {**os.environ, **ENV})
    one, two = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert len(one) == len(two) == 4 and one[0] != one[-1]
    assert max(abs(a - b) for a, b in zip(one, two)) < 1e-4, (one, two)


def test_neurons_under_two_processes_build_the_one_process_dictionary(sft_pair, tiny_corpus, tmp_path, free_port):
    """`nlakit neurons` under torchrun: the processes explain alternate chunks, the first writes, and the dictionary
    holds the same neurons, top contexts and activations as one process's (greedy explanations at fp32)."""
    import pyarrow.parquet as pq

    args = ["neurons", "--nla", str(sft_pair.nla), "--corpus", str(tiny_corpus), "--layers", "1", "--max-neurons", "8",
            "--top-k", "3", "--background", "4", "--heldout-fraction", "0.3", "--score-tokens", "20", "--chunk-rows", "5",
            "--max-new-tokens", "6"]
    env = {**os.environ, **ENV}
    launch([sys.executable, "-m", "nlakit.app.cli", *args, "--out", str(tmp_path / "one")], env)
    launch([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port),
            "-m", "nlakit.app.cli", *args, "--out", str(tmp_path / "two")], env)
    one, two = (pq.read_table(tmp_path / name / "neurons.parquet").to_pylist() for name in ("one", "two"))
    assert len(one) == len(two) == 8
    contexts = lambda rows: [[(c["doc_id"], c["position"], round(c["activation"], 5)) for c in r["top_contexts"]] for r in rows]  # noqa: E731
    assert contexts(one) == contexts(two)
    assert all(c["explanation"] is not None for r in two for c in r["top_contexts"]), "every chunk explained by one process or the other"
    assert not (tmp_path / "two.work").exists(), "the work folder is cleared once the dictionary is published"


def test_audit_under_two_processes_writes_the_one_process_audit(sft_pair, tmp_path, free_port):
    """`nlakit audit` under torchrun: each process reads alternate transcripts into `<out>.work`, the first gathers them
    and writes the same findings and transcripts as one process (greedy reads at fp32), then clears the work folder."""
    import json

    chats = [[{"role": "user", "content": f"Question {i}: what should we cook?"},
              {"role": "assistant", "content": f"Answer {i}: something warm with a golden crust."}] for i in range(3)]
    (tmp_path / "chats.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chats))
    args = ["audit", str(tmp_path / "chats.jsonl"), "--nla", str(sft_pair.nla), "--select", "role", "--min-fve", "-100",
            "--reference-tokens", "8", "--max-new-tokens", "6", "--concepts", "bread", "--dtype", "fp32"]
    env = {**os.environ, **ENV}
    launch([sys.executable, "-m", "nlakit.app.cli", *args, "--out", str(tmp_path / "one.json")], env)
    launch([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port),
            "-m", "nlakit.app.cli", *args, "--out", str(tmp_path / "two.json")], env)
    one, two = (json.loads((tmp_path / name).read_text()) for name in ("one.json", "two.json"))
    assert len(two["transcripts"]) == 3 and all(any(tok["read"] for tok in t["tokens"]) for t in two["transcripts"])
    assert one["findings"] == two["findings"] and one["transcripts"] == two["transcripts"]
    assert not (tmp_path / "two.json.work").exists()
