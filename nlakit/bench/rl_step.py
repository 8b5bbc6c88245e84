"""The RL row: `rl.rl_step` (GRPO on the AV with the AR trained on the same rollouts) timed whole, and split into
the parts its own log row times (generation, reward, vLLM weight sync, update)."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..core.ar import build_reconstructor
from ..core.av import Verbalizer
from ..core.config import ARConfig, BenchConfig, RLConfig
from ..core.models import add_lora
from ..stages import rl
from .data import BenchData
from .flops import Shapes, av_rows, count_flops, generation_flops, lora_backward
from .measure import log, measure


def rl_config(cfg: BenchConfig) -> RLConfig:
    """The RL defaults, with the bench's response cap (and smaller groups in quick mode)."""
    small = {"batch_size": 2, "group_size": 2} if cfg.quick else {}
    return RLConfig(max_new_tokens=cfg.max_new_tokens, seed=cfg.seed, **small)


def bench_rl(av: Verbalizer, data: BenchData, cfg: BenchConfig) -> dict[str, Any]:
    """Time `rl.rl_step` and split each step by the part timings its own log row reports.

    RL starts from SFT folders: this AV and a fresh LoRA AR are saved to a temporary folder and started from.
    Whatever fails here fails the bench: a row that reads "skipped" would hide a broken RL stage.
    """
    rl_cfg = rl_config(cfg)
    rl.check_config(rl_cfg)
    log.log("RL: nlakit.stages.rl.rl_step")
    vectors, baseline = data.vectors.numpy(), data.meta.training_baseline()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nlakit-bench-rl-") as tmp:
        ar = build_reconstructor(data.meta)
        ar.lm = add_lora(ar.lm, ARConfig())
        av.save(Path(tmp) / "av")
        ar.save(Path(tmp) / "ar")
        del ar
        state = rl.start_state(Path(tmp) / "av", Path(tmp) / "ar", data.meta, rl_cfg)

        n, flops_of = rl_cfg.batch_size * rl_cfg.group_size, rl_step_flops(state)

        def step() -> dict[str, float]:
            rows.append(rl.rl_step(state, vectors, rl_cfg, baseline))
            return {"explanations": n, "flops": flops_of(n, rows[-1]["response_len"])}

        result = measure(step, cfg.warmup, cfg.repeats)
    timed = rows[-len(result["times_s"]) :]  # the warm-up steps are not part of the figures
    return {**result, "function": "nlakit.stages.rl.rl_step", "rl_config": asdict(rl_cfg), "parts_s": split_parts(timed)}


def rl_step_flops(state: rl.RLState) -> Callable[[int, float], float]:
    """Approximate FLOPs of one GRPO step of n rollouts, from their mean length (the step logs no more): sampling,
    the AR's reward pass, the policy's forward+backward, the reference's forward, the AR's update."""
    av, ar = state.av, state.ar
    av_shapes, ar_shapes, av_backward, ar_backward = Shapes.of(av.lm), Shapes.of(ar.lm), lora_backward(av.lm), lora_backward(ar.lm)
    ar_prompt = ar.token_lengths([""])[0]

    def flops(n: int, response_len: float) -> float:
        lengths = [round(response_len)] * n
        rows = av_rows(av, lengths)
        ar_rows = [(0, ar_prompt + lengths[0])] * n  # the AR reads about as many tokens as were written
        return (generation_flops(av, lengths, av_shapes) + count_flops(ar_shapes, ar_rows)
                + count_flops(av_shapes, rows, logits=sum(lengths), backward=av_backward) + count_flops(av_shapes, rows, logits=sum(lengths))
                + count_flops(ar_shapes, ar_rows, backward=ar_backward))

    return flops


def split_parts(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Median seconds of generation, reward, vLLM weight sync (when there is one) and update over `rl_step` log rows.

    Each row times its own parts (`rollout_s`, `reward_s`, `sync_s`) and whole step (`step_s`); the update is the rest.
    """
    parts = {"generation": [r["rollout_s"] for r in rows], "reward": [r["reward_s"] for r in rows]}
    if any("sync_s" in r for r in rows):
        parts["sync"] = [r.get("sync_s", 0.0) for r in rows]
    parts["update"] = [r["step_s"] - r["rollout_s"] - r["reward_s"] - r.get("sync_s", 0.0) for r in rows]
    return {part: statistics.median(values) for part, values in parts.items()}
