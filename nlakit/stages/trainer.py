"""The one training loop: AR SFT, AV SFT and GRPO all run through `Trainer.run`.

What it owns, so that no stage repeats it:
- the optimiser step (`optimise`): backward, gradients averaged across processes, clipped to
  norm 1.0, AdamW and schedule stepped;
- the schedules (warmup then cosine for SFT, warmup then constant for GRPO);
- the loop: time budget (`max_minutes`, every process stops at the same step), a progress bar,
  periodic evaluation, the CSV log;
- the checkpoint in the work folder: every trainable tensor, optimiser and RNG state in one
  safetensors file and everything else in JSON (`checkpoint/`, swapped in whole), so a killed run
  resumes and reproduces the next step exactly, and loading a checkpoint can never run code.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from torch import nn

from ..core.config import LoopConfig, TrainConfig
from ..core.distributed import any_process, average_across_processes, average_gradients, data_parallel, wait_for_everyone
from ..core.errors import NLAError
from ..core.files import build_folder, read_json, write_json, write_log
from ..core.models import load_tensors, save_tensors
from ..core.progress import progress

CHECKPOINT = "checkpoint"
console = Console(stderr=True)


# ---------------------------------------------------------------- schedules and batches


def cosine_lr(step: int, cfg: TrainConfig) -> float:
    """Linear warmup, then a cosine from 1 down to 0.1 of the peak at `cfg.steps`."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress_frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress_frac)))


def constant_lr(step: int, cfg: LoopConfig) -> float:
    """Linear warmup, then constant (the release's RL schedule)."""
    return min(1.0, (step + 1) / max(1, cfg.warmup_steps))


def bucketed_batches(lengths: list[int], batch_size: int, seed: int, epoch: int, batch_tokens: int | None = None,
                     min_rows: int = 1) -> list[list[int]]:
    """Random batches of similar lengths: shuffle, sort within windows of about 8 batches, shuffle batches.

    Rows of similar length share a batch, so padding wastes little compute. With `batch_tokens` a
    batch holds as many rows as fit the budget in padded tokens (rows x its longest row), so every
    step does about the same work whatever the lengths (short rows make bigger batches); a row
    longer than the budget is a batch of its own, unless `min_rows` (the number of processes, each
    of which needs a row) asks for more. Deterministic in (seed, epoch).
    """
    rng = random.Random(f"{seed}|{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if batch_tokens is None:
        window = batch_size * 8
    else:
        window = 8 * max(1, batch_tokens // max(1, round(sum(lengths) / max(1, len(lengths)))))
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)] if batch_tokens is None \
            else token_budget_cuts(chunk, lengths, batch_tokens, min_rows)
    rng.shuffle(batches)
    return batches


def token_budget_cuts(rows: list[int], lengths: list[int], batch_tokens: int, min_rows: int = 1) -> list[list[int]]:
    """`rows` (sorted by length) cut greedily into batches whose padded size, rows x longest, stays within `batch_tokens`
    (a batch of fewer than `min_rows` rows goes over it; a short last one joins the one before)."""
    batches: list[list[int]] = [[]]
    for i in rows:
        if len(batches[-1]) >= min_rows and (len(batches[-1]) + 1) * lengths[i] > batch_tokens:
            batches.append([])
        batches[-1].append(i)
    if len(batches) > 1 and len(batches[-1]) < min_rows:
        last = batches.pop()
        batches[-1] += last
    return [b for b in batches if b]


@functools.lru_cache(maxsize=4)
def _epoch_batches(lengths: tuple[int, ...], batch_size: int, seed: int, epoch: int, batch_tokens: int | None,
                   min_rows: int) -> list[list[int]]:
    return bucketed_batches(list(lengths), batch_size, seed, epoch, batch_tokens, min_rows)


def batch_for_step(lengths: list[int], batch_size: int, seed: int, step: int, batch_tokens: int | None = None,
                   min_rows: int = 1) -> list[int]:
    """The batch of optimiser step `step`: epochs of `bucketed_batches` one after another (with a token
    budget an epoch's batch count depends on its shuffle, so epochs are walked, not divided)."""
    key = tuple(lengths)
    if batch_tokens is None:
        per_epoch = math.ceil(len(lengths) / batch_size)
        return _epoch_batches(key, batch_size, seed, step // per_epoch, None, 1)[step % per_epoch]
    epoch = 0
    while step >= (size := _epoch_size(key, batch_size, seed, epoch, batch_tokens, min_rows)):
        step -= size
        epoch += 1
    return _epoch_batches(key, batch_size, seed, epoch, batch_tokens, min_rows)[step]


@functools.lru_cache(maxsize=1024)
def _epoch_size(lengths: tuple[int, ...], batch_size: int, seed: int, epoch: int, batch_tokens: int | None, min_rows: int) -> int:
    return len(_epoch_batches(lengths, batch_size, seed, epoch, batch_tokens, min_rows))


# ---------------------------------------------------------------- one optimiser step


@dataclass
class Part:
    """One thing that trains: a module, its AdamW and its schedule."""

    name: str
    module: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR

    @classmethod
    def adamw(cls, name: str, module: nn.Module, groups: list[dict], schedule: Callable[[int], float],
              weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999)) -> Part:
        optimizer = torch.optim.AdamW(groups, weight_decay=weight_decay, betas=betas)
        return cls(name, module, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule))

    @property
    def params(self) -> list[nn.Parameter]:
        return [p for group in self.optimizer.param_groups for p in group["params"]]


def trainable(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def optimise(part: Part, loss: torch.Tensor | Iterable[torch.Tensor], extra: list[torch.Tensor] = ()) -> float:
    """One step of `part` on `loss`; returns the gradient norm before clipping.

    `loss` may also come in parts that add up to it (micro-batches, each already weighted), backpropagated
    one by one as they are made, so only one part's activations are held at a time. Every process calls
    it: gradients (and `extra` tensors, in the same collective) are averaged first.
    """
    part.optimizer.zero_grad(set_to_none=True)
    for piece in [loss] if torch.is_tensor(loss) else loss:
        piece.backward()
    if data_parallel()[1] > 1:
        average_gradients(part.params, extra=list(extra))
    grad_norm = torch.nn.utils.clip_grad_norm_(part.params, 1.0)
    part.optimizer.step()
    part.scheduler.step()
    return float(grad_norm)


# ---------------------------------------------------------------- checkpoints (safetensors + JSON)


def _optimizer_to_files(prefix: str, state: dict, tensors: dict[str, torch.Tensor]) -> dict:
    """An optimiser's state_dict with its tensors moved into `tensors` (the JSON part returned)."""
    scalars: dict[str, dict[str, Any]] = {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.state.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return {"param_groups": state["param_groups"], "scalars": scalars, "indices": [str(i) for i in state["state"]]}


def _optimizer_from_files(prefix: str, saved: dict, tensors: dict[str, torch.Tensor]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for index in saved["indices"]:
        entries = {key.rsplit(".", 1)[-1]: value for key, value in tensors.items() if key.startswith(f"{prefix}.state.{index}.")}
        entries.update(saved["scalars"].get(index, {}))
        state[int(index)] = entries
    return {"state": state, "param_groups": saved["param_groups"]}


def _rng_state(generators: dict[str, torch.Generator], tensors: dict[str, torch.Tensor]) -> dict:
    tensors["rng.torch"] = torch.get_rng_state()
    for name, generator in generators.items():
        tensors[f"rng.generator.{name}"] = generator.get_state()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, python_state, gauss = random.getstate()
    return {"numpy": [kind, keys.tolist(), pos, has_gauss, cached], "python": [version, list(python_state), gauss]}


def _set_rng_state(saved: dict, generators: dict[str, torch.Generator], tensors: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    for name, generator in generators.items():
        generator.set_state(tensors[f"rng.generator.{name}"])
    kind, keys, pos, has_gauss, cached = saved["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, python_state, gauss = saved["python"]
    random.setstate((version, tuple(python_state), gauss))


# ---------------------------------------------------------------- the loop


def extendable_steps(cfg: LoopConfig) -> bool:
    """Whether a run of `cfg` may continue to another step count (GRPO: constant learning rate; not SFT's cosine)."""
    return bool(next(f for f in dataclasses.fields(cfg) if f.name == "steps").metadata.get("extendable"))


@dataclass
class Trainer:
    """Runs `step_fn` until `cfg.steps`, checkpointing into `work`; resumes from it when a checkpoint is there.

    `state` holds whatever else a stage must carry across a resume (JSON-able: a data position,
    greedy samples); `generators` are RNGs beyond torch's, numpy's and Python's global ones.
    """

    parts: list[Part]
    cfg: LoopConfig
    work: Path
    name: str
    generators: dict[str, torch.Generator] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    log: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.work = Path(self.work)
        self.work.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(self.cfg.seed)
        if data_parallel()[1] > 1:  # every process starts from the first one's weights (LoRA's random init included)
            average_across_processes([p for part in self.parts for p in part.params], broadcast_first=True)
        if (self.work / CHECKPOINT).is_dir():
            self.load()

    # -- checkpoint

    def save(self) -> None:
        tensors: dict[str, torch.Tensor] = {}
        parts = {}
        for part in self.parts:
            for name, param in part.module.named_parameters():
                if param.requires_grad:
                    tensors[f"{part.name}.weight.{name}"] = param.detach()
            parts[part.name] = {"optimizer": _optimizer_to_files(f"{part.name}.optimizer", part.optimizer.state_dict(), tensors),
                                "scheduler": part.scheduler.state_dict()}
        meta = {"step": self.step, "log": self.log, "state": self.state, "parts": parts, "rng": _rng_state(self.generators, tensors)}

        def write(folder: Path) -> None:
            save_tensors(folder / "tensors.safetensors", {k: v.clone() for k, v in tensors.items()})
            write_json(folder / "state.json", meta)

        build_folder(self.work / CHECKPOINT, write, overwrite=True)  # the last checkpoint is this run's own

    def load(self) -> None:
        folder = self.work / CHECKPOINT
        tensors = load_tensors(folder / "tensors.safetensors")
        meta = read_json(folder / "state.json", "checkpoint state")
        try:
            for part in self.parts:
                weights = {k[len(f"{part.name}.weight."):]: v for k, v in tensors.items() if k.startswith(f"{part.name}.weight.")}
                unexpected = part.module.load_state_dict(weights, strict=False).unexpected_keys
                if unexpected:
                    raise NLAError(f"checkpoint {folder} does not match the {part.name} model: unexpected keys {unexpected[:3]}")
                saved = meta["parts"][part.name]
                part.optimizer.load_state_dict(_optimizer_from_files(f"{part.name}.optimizer", saved["optimizer"], tensors))
                part.scheduler.load_state_dict(saved["scheduler"])
            _set_rng_state(meta["rng"], self.generators, tensors)
            self.step, self.log, self.state = int(meta["step"]), list(meta["log"]), dict(meta["state"])
            if self.step > self.cfg.steps:  # a run continued to a new length (files.StageRun) may not shrink
                raise NLAError(f"{self.work} holds this run at step {self.step}, past the {self.cfg.steps} steps asked: "
                               f"ask for --steps {self.step} or more, or pass --overwrite to start afresh")
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            if isinstance(err, NLAError):
                raise
            raise NLAError(f"checkpoint {folder} is damaged or from another run ({type(err).__name__}: {err}); "
                           "pass --overwrite to start afresh") from None

    # -- loop

    def run(self, step_fn: Callable[[], dict], *, eval_fn: Callable[[], dict] | None = None, eval_every: int | None = None,
            on_save: Callable[[], None] | None = None, info: Callable[[dict], str] = lambda row: "") -> list[dict]:
        """Call `step_fn()` (one optimiser step; returns its log row) until `cfg.steps`, then return the log.

        Every `eval_every` steps (and at the last) `eval_fn()` adds held-out figures to the row, the
        modules in eval mode. Every `save_every` steps (and at the last, or when out of time)
        `on_save()` runs on every process, then the first process writes log and checkpoint.
        """
        rank = data_parallel()[0]
        started = time.monotonic()
        modules = [part.module for part in self.parts]
        for module in modules:
            module.train()
        with progress(disable=rank != 0) as bar:
            task = bar.add_task(self.name, total=self.cfg.steps, completed=self.step, info="")
            while self.step < self.cfg.steps:
                t0 = time.monotonic()
                row = step_fn()
                self.step += 1
                row = {"step": self.step, **row}
                row.setdefault("step_s", time.monotonic() - t0)
                if not math.isfinite(row.get("loss", 0.0)):  # nothing non-finite is ever checkpointed or published
                    raise NLAError(f"{self.name} diverged at step {self.step} (loss {row['loss']}): nothing was saved for this "
                                   f"step; lower the learning rate, or resume from the last checkpoint in {self.work}")
                if eval_fn is not None and eval_every and (self.step % eval_every == 0 or self.step == self.cfg.steps):
                    for module in modules:
                        module.eval()
                    row.update(eval_fn())
                    for module in modules:
                        module.train()
                self.log.append(row)
                bar.update(task, completed=self.step, info=info(row))
                out_of_time = self.cfg.max_minutes is not None and time.monotonic() - started > self.cfg.max_minutes * 60
                out_of_time = any_process(out_of_time)  # every process must stop at the same step
                if self.step % self.cfg.save_every == 0 or self.step == self.cfg.steps or out_of_time:
                    if on_save is not None:
                        on_save()
                    if rank == 0:
                        self.save()
                        write_log(self.work / "log.csv", self.log)
                    wait_for_everyone()
                if out_of_time:
                    if rank == 0:
                        publish = f", or with --steps {self.step} to publish it as it is" if extendable_steps(self.cfg) else ""
                        console.print(f"{self.name}: stopped by the time budget at step {self.step} of {self.cfg.steps}; "
                                      f"the checkpoint is in {self.work}: rerun the same command to continue{publish}",
                                      soft_wrap=True)
                    break
        for module in modules:
            module.eval()
        if rank == 0:
            write_log(self.work / "log.csv", self.log)
        wait_for_everyone()
        return self.log

    @property
    def finished(self) -> bool:
        return self.step >= self.cfg.steps
