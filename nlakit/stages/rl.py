"""Stage 5: RL for the AV (GRPO), with the AR trained on the same rollouts.

One step:
1. take `batch_size` activations from the train split (a seeded order per epoch; the position in
   it is part of the resume state) and let the AV sample `group_size` explanations of each at
   temperature 1, all rows in one batch sharing the prompt-prefix KV cache (or through vLLM with
   `engine: vllm`, its weights reloaded from the policy after every update: see vllm_engine);
2. the AR, as it is before this step's update, reconstructs every parsed explanation;
   reward = -mse_nrm, or with `contrastive`, mse(a wrong vector) - mse(the right one), the wrong
   vector being the next group's activation: an explanation that fits any activation then earns
   nothing. A failed generation (no closing tag, or cut by the response cap) gets -2, the
   orthogonal value, and stays out of the AR update;
3. GRPO advantages: each reward minus its group's mean, over the group's std + 1e-6;
4. AV loss: the PPO clipped objective (ratio against the sampling log-probs, eps 0.2; with one
   update per rollout the ratio is 1, the clip is kept so repeated updates stay correct) plus
   `kl_coef` x the k3 estimator of KL(policy || reference), exp(ref - logp) - (ref - logp) - 1;
   both are token means per sample, then means over samples (the release's aggregation);
5. AR loss: mse_nrm on the same (explanation, activation) pairs, its own AdamW and a higher lr.

The reference is the SFT AV. With a LoRA AV the SFT adapter keeps training and a frozen copy of
the same adapter (a few MB) is loaded beside it; switching to it gives the reference, so the
network is never duplicated. `disable_adapter()` would give the pre-SFT base model instead, not
the policy's starting point. A fully fine-tuned AV gets a frozen full copy.

Guards: the response cap (`max_new_tokens`) stops verbosity drift at the source (cut responses
fail), the mean response length is logged, and at each checkpoint greedy samples of fixed
held-out vectors are written to `samples.jsonl` and checked for the injection-failure smell (a
high share of CJK or marker characters: the AV describing the marker instead of the vector).

The loop, the optimiser step and the checkpoint are `trainer.Trainer`'s, as for SFT: the data
position, the samples and the sampling generator go into its checkpoint too, so a killed run
resumes and reproduces the next step exactly. Optimiser settings follow the release: AdamW betas
(0.9, 0.95), no weight decay, grad clip 1.0, constant lr (after a short warmup).
"""

from __future__ import annotations

import copy
import functools
import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from peft import PeftModel
from rich.console import Console
from torch import nn

from ..core import dataset
from ..core.ar import Reconstructor, load_reconstructor
from ..core.av import Verbalizer, load_verbalizer
from ..core.config import RLConfig
from ..core.distributed import any_process, data_parallel, fsdp_requested, is_main_process, is_sharded, load_device, shard_frozen_blocks, wait_for_everyone
from ..core.errors import NLAError
from ..core.files import StageRun, atomic_write_text, to_json, write_log
from ..core.metrics import FAILED_MSE, Baseline, fve, mse_nrm
from ..core.prompts import CLOSING_TAG, parse_explanation
from ..core.report import plot_curves
from ..core.roundtrip import roundtrip
from ..core.sidecar import Sidecar
from .trainer import Part, Trainer, constant_lr, optimise, trainable

REFERENCE = "reference"  # name of the frozen copy of the SFT adapter
FAILED_REWARD = -FAILED_MSE  # the reward of an orthogonal guess
SMELL_SHARE = 0.3  # share of CJK / marker characters above which a sample smells of failed injection
CJK_RANGES = ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x2FA1F))
console = Console(stderr=True)


@dataclass
class Rollout:
    """B*G sampled responses; row i explains activation i // G."""

    vectors: torch.Tensor  # [B*G, d]
    responses: list[list[int]]  # ids the policy is scored on: generated ids, + eos where it stopped on a stop token
    old_logprobs: list[list[float]]  # sampling-time log-probs of the generated ids
    explanations: list[str | None]  # None: failed
    lengths: list[int]  # generated tokens

    @property
    def failed(self) -> torch.Tensor:
        return torch.tensor([e is None for e in self.explanations])

    def micro_batches(self, rows: int | None) -> list[tuple[Rollout, slice]]:
        """The rollout in slices of `rows` (all at once when None), for updates whose gradients add up to the whole step's."""
        n = len(self.responses)
        size = rows or n
        return [(Rollout(self.vectors[s], self.responses[s], self.old_logprobs[s], self.explanations[s], self.lengths[s]), s)
                for s in (slice(i, min(i + size, n)) for i in range(0, n, size))]


@dataclass
class RLState:
    """The two models, the AV's frozen reference, their training parts and the sampling generator."""

    av: Verbalizer
    ar: Reconstructor
    frozen_av: nn.Module | None  # reference of a fully fine-tuned AV; None: the `reference` adapter
    av_part: Part
    ar_part: Part
    sampler: torch.Generator
    position: int = 0  # activations consumed so far


# ---------------------------------------------------------------- data order


@functools.lru_cache(maxsize=4)
def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def batch_rows(n: int, seed: int, position: int, count: int) -> list[int]:
    """Rows `position .. position + count` of the endless seeded order (a fresh shuffle per epoch)."""
    return [int(epoch_order(n, seed, p // n)[p % n]) for p in range(position, position + count)]


# ---------------------------------------------------------------- models


def load_policy(av_dir: Path, ar_dir: Path, data_meta: Sidecar, fsdp: bool | None = None) -> tuple[Verbalizer, Reconstructor, nn.Module | None]:
    """The SFT AV and AR with their trainable weights unfrozen, and the AV's frozen reference.

    With FSDP both load on the CPU and each process then moves only its shard of the blocks.
    """
    device = load_device(fsdp)
    av, ar = load_verbalizer(av_dir, trainable=True, device=device), load_reconstructor(ar_dir, trainable=True, device=device)
    for meta, what in ((av.meta, str(av_dir)), (ar.meta, str(ar_dir))):
        data_meta.check_compatible(meta, what)
    frozen = None
    if isinstance(av.lm, PeftModel):
        av.lm.load_adapter(str(av_dir), adapter_name=REFERENCE, is_trainable=False)
    else:
        frozen = copy.deepcopy(av.lm).requires_grad_(False)
    for model, what in ((av.lm, "AV"), (ar, "AR")):
        if not any(p.requires_grad for p in model.parameters()):
            raise NLAError(f"the {what} loaded with no trainable weights")
        if fsdp_requested(fsdp):
            shard_frozen_blocks(model)
    return av, ar, frozen


@contextmanager
def reference_policy(av: Verbalizer, frozen: nn.Module | None) -> Iterator[None]:
    """Inside: `av` computes with the SFT weights (the frozen adapter copy, or the frozen full copy)."""
    if frozen is None:
        active = av.lm.active_adapter
        av.lm.set_adapter(REFERENCE, inference_mode=True)
        try:
            yield
        finally:
            av.lm.set_adapter(active)  # also restores requires_grad on the trained adapter
    else:
        policy, av.lm = av.lm, frozen
        try:
            yield
        finally:
            av.lm = policy


def start_state(av_dir: Path, ar_dir: Path, data_meta: Sidecar, cfg: RLConfig) -> RLState:
    av, ar, frozen = load_policy(av_dir, ar_dir, data_meta, cfg.fsdp)

    def schedule(step: int) -> float:
        return constant_lr(step, cfg)

    av_part = Part.adamw("av", av.lm, [{"params": trainable(av.lm), "lr": cfg.av_lr}], schedule, betas=(0.9, 0.95))
    ar_part = Part.adamw("ar", ar, [{"params": trainable(ar), "lr": cfg.ar_lr}], schedule, betas=(0.9, 0.95))
    return RLState(av, ar, frozen, av_part, ar_part, torch.Generator(device="cpu").manual_seed(cfg.seed))


# ---------------------------------------------------------------- rollout and reward


def parse_response(text: str, hit_cap: bool) -> str | None:
    """The explanation, or None for a failed generation: no closing tag, or cut by the cap."""
    if hit_cap and not text.rstrip().endswith(CLOSING_TAG):
        return None
    return parse_explanation(text)


def sample_rollout(av: Verbalizer, vectors: torch.Tensor, cfg: RLConfig, seed: int) -> Rollout:
    """G samples for each of the B vectors, generated as one batch of B*G rows."""
    repeated = vectors.repeat_interleave(cfg.group_size, dim=0)
    gen = av.generate(repeated.numpy(), max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                      batch_size=len(repeated), bf16=cfg.bf16, seed=seed)
    eos = av.tokenizer.eos_token_id
    responses, explanations = [], []
    for text, ids in zip(gen.texts, gen.token_ids):
        hit_cap = len(ids) >= cfg.max_new_tokens
        stopped_on_stop_token = not hit_cap and not text.rstrip().endswith(CLOSING_TAG)
        # score the stop token too, so that stopping early (a failure) is what gets discouraged
        responses.append(ids + [eos] if stopped_on_stop_token and eos is not None else list(ids))
        explanations.append(parse_response(text, hit_cap))
    return Rollout(repeated, responses, gen.logprobs, explanations, [len(ids) for ids in gen.token_ids])


def rewards(mse: torch.Tensor, failed: torch.Tensor, mse_wrong: torch.Tensor | None = None) -> torch.Tensor:
    """-mse_nrm (or mse_wrong - mse when contrastive); failed rows get FAILED_REWARD."""
    reward = -mse if mse_wrong is None else mse_wrong - mse
    return torch.where(failed, torch.full_like(reward, FAILED_REWARD), reward)


def group_advantages(reward: torch.Tensor, group_size: int) -> torch.Tensor:
    """GRPO: each reward minus its group's mean, over the group's std + 1e-6."""
    groups = reward.view(-1, group_size)
    return ((groups - groups.mean(dim=1, keepdim=True)) / (groups.std(dim=1, keepdim=True) + 1e-6)).flatten()


@torch.no_grad()
def score_rollout(ar: Reconstructor, rollout: Rollout, cfg: RLConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(rewards, mse_nrm against the right vectors; failed rows hold FAILED_MSE) from the AR as it is now.

    Failed rows are read too (as empty text) and then overwritten: every process then runs the same
    forward passes, which sharded (FSDP) blocks need.
    """
    scale, failed = ar.meta.resolved_mse_scale, rollout.failed
    pred = torch.from_numpy(ar.reconstruct([e or "" for e in rollout.explanations], bf16=cfg.bf16))
    mse = mse_nrm(pred, rollout.vectors, scale).masked_fill(failed, FAILED_MSE)
    wrong = rollout.vectors.roll(-cfg.group_size, dims=0)  # the next group's activation
    mse_wrong = mse_nrm(pred, wrong, scale).masked_fill(failed, FAILED_MSE)
    return rewards(mse, failed, mse_wrong if cfg.contrastive else None), mse


# ---------------------------------------------------------------- losses and updates


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimator of KL(policy || reference): unbiased, always >= 0."""
    log_ratio = ref_logp - logp
    return log_ratio.exp() - log_ratio - 1


def clipped_pg(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-token PPO clipped policy-gradient loss; advantages are per row."""
    ratio = (logp - old_logp).exp()
    adv = advantages[:, None]
    return -torch.minimum(ratio * adv, ratio.clamp(1 - eps, 1 + eps) * adv)


def token_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over each row's tokens, then over rows."""
    return ((values * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1)).mean()


def av_loss(state: RLState, rollout: Rollout, advantages: torch.Tensor, cfg: RLConfig) -> tuple[torch.Tensor, dict]:
    av = state.av
    logp, mask = av.token_logprobs(rollout.vectors, rollout.responses, cfg.bf16)
    with torch.no_grad(), reference_policy(av, state.frozen_av):
        ref_logp, _ = av.token_logprobs(rollout.vectors, rollout.responses, cfg.bf16)
    old = logp.detach().to("cpu", copy=True)  # positions without a sampling log-prob (an appended eos) get ratio 1
    if cfg.temperature == 1.0:  # otherwise the sampling log-probs are not the policy's: stay on ratio 1
        for row, lp in enumerate(rollout.old_logprobs):
            old[row, : len(lp)] = torch.tensor(lp)
    old = old.to(logp.device)
    mask = mask.float()
    pg, kl = token_mean(clipped_pg(logp, old, advantages.to(logp.device), cfg.clip_eps), mask), token_mean(k3_kl(logp, ref_logp), mask)
    clipped = ((logp.detach() - old).exp() - 1).abs() > cfg.clip_eps
    tokens = float(mask.sum())
    metrics = {"pg_loss": float(pg.detach()), "kl": float(kl.detach()), "clip_frac": float((clipped.float() * mask).sum()) / max(tokens, 1),
               "logprob_gap": float(((logp.detach() - old).abs() * mask).sum()) / max(tokens, 1), "tokens": tokens}
    return pg + cfg.kl_coef * kl, metrics


def av_update(state: RLState, rollout: Rollout, advantages: torch.Tensor, cfg: RLConfig) -> dict:
    """The AV's step, in micro-batches of `update_rows`: each one's loss (a mean over its rows) weighted by its
    share of the rows, so the gradients add up to those of the whole rollout's loss."""
    n, logged = len(rollout.responses), []

    def pieces() -> Iterator[torch.Tensor]:
        for part, rows in rollout.micro_batches(cfg.update_rows):
            loss, metrics = av_loss(state, part, advantages[rows], cfg)
            share = (rows.stop - rows.start) / n
            logged.append((share, float(loss.detach()) * share, metrics))
            yield loss * share

    grad_norm = optimise(state.av_part, pieces())
    tokens = sum(m["tokens"] for _, _, m in logged) or 1.0
    by_rows = {k: sum(share * m[k] for share, _, m in logged) for k in ("pg_loss", "kl")}
    by_tokens = {k: sum(m["tokens"] * m[k] for _, _, m in logged) / tokens for k in ("clip_frac", "logprob_gap")}
    return {"loss": sum(loss for _, loss, _ in logged), **by_rows, **by_tokens, "av_grad_norm": grad_norm}


def ar_update(state: RLState, rollout: Rollout, cfg: RLConfig) -> dict:
    """One mse_nrm step of the AR on this rollout's parsed explanations (none parsed anywhere: no step), in
    micro-batches of `update_rows` weighted by their share of the parsed rows.

    Failed rows go through the AR with weight 0, so every process runs the same passes; one with
    nothing parsed adds zero gradients to the others' step.
    """
    parsed = ~rollout.failed
    if not any_process(bool(parsed.any())):
        return {"ar_loss": math.nan}
    total, losses = float(parsed.sum()), []

    def pieces() -> Iterator[torch.Tensor]:
        for part, rows in rollout.micro_batches(cfg.update_rows):
            weights = parsed[rows].float()
            loss, _ = state.ar.loss([e or "" for e in part.explanations], part.vectors, cfg.bf16, weights=weights)
            share = float(weights.sum()) / max(total, 1.0)
            losses.append(float(loss.detach()) * share)
            yield loss * share

    grad_norm = optimise(state.ar_part, pieces())
    return {"ar_loss": sum(losses) if parsed.any() else math.nan, "ar_grad_norm": grad_norm}


def rl_step(state: RLState, vectors: np.ndarray, cfg: RLConfig, baseline: Baseline) -> dict:
    """Sample, score, update the AV then the AR; returns the step's log row (with the time each part took)."""
    t0 = time.monotonic()
    rank, world = data_parallel()  # each process explains its share of the batch's activations (whole groups)
    batch = torch.from_numpy(dataset.rows(vectors, batch_rows(len(vectors), cfg.seed, state.position, cfg.batch_size)[rank::world]))
    seed = int(torch.randint(2**31 - 1, (1,), generator=state.sampler)) + rank
    rollout = sample_rollout(state.av, batch, cfg, seed)
    rollout_s = time.monotonic() - t0
    reward, mse = score_rollout(state.ar, rollout, cfg)
    reward_s = time.monotonic() - t0 - rollout_s
    advantages = group_advantages(reward, cfg.group_size)
    av_metrics = av_update(state, rollout, advantages, cfg)
    av_grad_norm = av_metrics.pop("av_grad_norm")  # logged after the AR's figures, where it always was
    sync = {}
    if state.av.engine is not None:  # the engine must serve the updated policy from the next rollout on
        state.av.engine.sync_weights(state.av.lm)
        sync = {"sync_s": state.av.engine.sync_s}
    ar_metrics = ar_update(state, rollout, cfg)
    state.position += cfg.batch_size
    return {"reward_mean": float(reward.mean()), "reward_std": float(reward.std()),
            "train_fve_nrm": fve(mse.numpy(), baseline.value),  # failed rollouts at FAILED_MSE, as in every FVE nlakit reports
            "parse_fail_rate": float(rollout.failed.float().mean()), "response_len": float(np.mean(rollout.lengths)),
            **av_metrics, **ar_metrics, "av_grad_norm": av_grad_norm, "av_lr": state.av_part.scheduler.get_last_lr()[0],
            "rollout_s": rollout_s, "reward_s": reward_s, **sync, "step_s": time.monotonic() - t0}


# ---------------------------------------------------------------- samples and the injection smell


def injection_smell(text: str, marker: str | None, share: float = SMELL_SHARE) -> bool:
    """True when CJK or marker characters make up at least `share` of the non-space characters."""
    chars = [c for c in text if not c.isspace()]
    odd = sum(c == marker or any(lo <= ord(c) <= hi for lo, hi in CJK_RANGES) for c in chars)
    return bool(chars) and odd / len(chars) >= share


def check_samples(state: RLState, vectors: np.ndarray, cfg: RLConfig, step: int, baseline: Baseline) -> list[dict]:
    """The round trip (greedy) of fixed held-out vectors (RoundTrip.rows), checked for the smell. Every row runs: same
    passes everywhere."""
    if not len(vectors):
        return []
    result = roundtrip(state.av, state.ar, vectors, cfg.max_new_tokens, batch_size=len(vectors), bf16=cfg.bf16, baseline=baseline)
    marker = state.av.meta.tokens.get("injection_char")
    rows = [{**row, "smell": injection_smell(row["response"], marker)}
            for row in result.rows([{"step": step, "row": i} for i in range(len(vectors))])]
    smelly = sum(r["smell"] for r in rows)
    if smelly:
        console.print(f"[bold yellow]warning:[/] step {step}: {smelly}/{len(rows)} greedy samples are mostly CJK or "
                      f"marker ({marker!r}) characters: the injection may be failing (the AV describes the marker)")
    return rows


# ---------------------------------------------------------------- the run


def check_config(cfg: RLConfig) -> None:
    """What the settings' own bounds cannot say: combinations, and the process count."""
    if cfg.contrastive and cfg.batch_size < 2:
        raise NLAError("the contrastive reward needs batch_size >= 2 (the wrong vector comes from another group)")
    world = data_parallel()[1]
    if cfg.batch_size % world:
        raise NLAError(f"batch_size {cfg.batch_size} must be a multiple of the {world} processes (each takes whole groups)")
    if cfg.engine == "vllm" and fsdp_requested(cfg.fsdp):
        raise NLAError("--engine vllm keeps a whole copy of the AV in every process, which FSDP's sharding is there to avoid: "
                       "use the transformers engine with --fsdp")


def attach_engine(state: RLState, cfg: RLConfig) -> None:
    """With `engine: vllm`, rollouts and samples come from vLLM, serving the policy as it is now (resumed weights included).

    Under several processes each one runs its own engine beside its own copy of the policy, inside
    the launcher's process group (vLLM's `external_launcher`), seeded by rank like the built-in sampler.
    """
    if cfg.engine != "vllm":
        return
    from ..core.vllm_engine import VLLMEngine

    rank, world = data_parallel()
    options = {"gpu_memory_utilization": cfg.vllm_gpu_memory} if state.av.device.type == "cuda" else {}
    if world > 1:
        options.update(distributed_executor_backend="external_launcher", seed=cfg.seed + rank)
    state.av.engine = VLLMEngine.for_verbalizer(state.av, **options)


def training_info(cfg: RLConfig, data: Path, source: Path, trainer: Trainer, previous: dict) -> dict:
    last = trainer.log[-1] if trainer.log else {}
    keep = ("reward_mean", "train_fve_nrm", "kl", "response_len", "parse_fail_rate", "ar_loss")
    return {"stage": "rl", "config": asdict(cfg), "dataset": str(data), "init": str(source), "steps_done": trainer.step,
            "final": {k: last[k] for k in keep if k in last}, "previous": previous}


def plot_run(log: list[dict], out: Path) -> None:
    plot_curves(log, ["reward_mean", "train_fve_nrm", "kl", "parse_fail_rate", "ar_loss"], "RL: reward, train FVE, KL, failures, AR loss",
                out / "rl_curves.png")
    plot_curves(log, ["response_len"], "RL: mean response length (tokens)", out / "rl_length.png")


def run_rl(data: Path, av_dir: Path, ar_dir: Path, out: Path, cfg: RLConfig, overwrite: bool = False) -> Path | None:
    """GRPO on the SFT AV with the SFT AR trained alongside; writes out/av, out/ar, log and curves.

    Checkpoints and samples live in the work folder `<out>.work`; a rerun resumes from there. A
    run cut by its time budget publishes nothing and returns None.
    """
    check_config(cfg)
    run = StageRun("rl", out, cfg, {"dataset": data, "av": av_dir, "ar": ar_dir}, overwrite)
    if run.done():
        return run.out
    meta = Sidecar.load(data)
    baseline = meta.training_baseline()
    vectors, held = dataset.vector_store(data, "train"), dataset.vector_store(data, "heldout")
    source = held if len(held) else vectors
    sample_vectors = dataset.rows(source, range(min(cfg.sample_rows, len(source))))
    work = run.begin(is_main_process(), wait_for_everyone)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    state = start_state(av_dir, ar_dir, meta, cfg)
    trainer = Trainer([state.av_part, state.ar_part], cfg, work, "rl", generators={"sampler": state.sampler},
                      state={"position": 0, "samples": []})
    state.position = trainer.state["position"]
    attach_engine(state, cfg)

    def step() -> dict:
        row = rl_step(state, vectors, cfg, baseline)
        trainer.state["position"] = state.position
        return row

    def on_save() -> None:
        """Greedy samples at each checkpoint (every process takes part where the blocks are sharded)."""
        samples = check_samples(state, sample_vectors, cfg, trainer.step, baseline) if is_main_process() or is_sharded(state.av.lm) else []
        if is_main_process():
            trainer.state["samples"] += samples
            atomic_write_text(work / "samples.jsonl", "".join(to_json(s) + "\n" for s in trainer.state["samples"]))

    with tensorboard(work, trainer.step) as writer:
        def logged_step() -> dict:
            row = step()
            if writer is not None:
                for key, value in row.items():
                    writer.add_scalar(f"rl/{key}", value, trainer.step + 1)
            return row

        trainer.run(logged_step, on_save=on_save,
                    info=lambda row: f"reward {row['reward_mean']:.3f} fail {row['parse_fail_rate']:.2f}")
    if not trainer.finished:
        return None
    if not is_main_process():  # the first process writes the models; the others trained the same weights
        return run.out
    if state.frozen_av is None:
        state.av.lm.delete_adapter(REFERENCE)  # save only the trained adapter
    state.av.meta.training = training_info(cfg, data, Path(av_dir), trainer, state.av.meta.training)
    state.ar.meta.training = training_info(cfg, data, Path(ar_dir), trainer, state.ar.meta.training)

    def write(tmp: Path) -> None:
        state.av.save(tmp / "av")
        state.ar.save(tmp / "ar")
        for name in ("av", "ar"):
            write_log(tmp / name / "log.csv", trainer.log)
        write_log(tmp / "log.csv", trainer.log)
        plot_run(trainer.log, tmp)

    return run.publish(write)


@contextmanager
def tensorboard(work: Path, step: int) -> Iterator[object | None]:
    """A TensorBoard writer on the first process; purge_step drops events a killed run logged after its last checkpoint."""
    if not is_main_process():
        yield None
        return
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(work / "tb"), purge_step=step + 1 if step else None)
    try:
        yield writer
    finally:
        writer.close()
