"""The supervised training loop shared by the AR and AV stages.

It owns what both need and neither should repeat: LoRA wrapping, AdamW with warmup + cosine,
bf16 autocast on CPU, length-bucketed batches (little padding), periodic held-out evaluation, a
CSV log, and a checkpoint (trainable weights, optimiser, scheduler, RNG, step) written atomically
every `save_every` steps, from which a killed run resumes exactly.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from rich.console import Console
from torch import nn

from .models import default_device
from .progress import progress
from .sidecar import NLAError, atomic_write, atomic_write_text

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
FSDP_HELP = "under several processes, shard the frozen block weights (FSDP2); default: on under `accelerate launch --use_fsdp`"


@dataclass
class TrainConfig:
    steps: int = 200
    batch_size: int = 16
    lr: float = 1e-3
    warmup_steps: int = 10
    weight_decay: float = 0.0
    seed: int = 0
    full_finetune: bool = field(default=False, metadata={"help": "train all weights instead of LoRA adapters"})
    lora_r: int = 16
    lora_alpha: int = 32
    bf16: bool | None = field(default=None, metadata={"help": "bf16 autocast; default: only where the hardware has native bf16"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "recompute block activations in backward: less memory, ~30% more compute"})
    fsdp: bool | None = field(default=None, metadata={"help": FSDP_HELP})
    eval_every: int = 50
    eval_rows: int = 256
    save_every: int = 50
    max_minutes: float | None = field(default=None, metadata={"help": "stop early (and save) after this long"})


def add_lora(model: nn.Module, cfg: TrainConfig) -> nn.Module:
    """Wrap with LoRA adapters (their random init drawn from `cfg.seed`), or leave every weight trainable."""
    if cfg.gradient_checkpointing:  # non-reentrant: works with frozen embeddings (LoRA) without tricks
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.full_finetune:
        return model
    torch.manual_seed(cfg.seed)
    from peft import LoraConfig, get_peft_model

    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in LORA_TARGETS if t in present]
    return get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules=targets, lora_dropout=0.0))


def native_bf16(device: torch.device | str = "cpu") -> bool:
    """bf16 pays off only with hardware support: on an AVX2-only CPU its matmuls are ~50x slower than fp32."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return _cpu_has_bf16()


@functools.lru_cache(maxsize=1)
def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(enabled: bool | None, device: torch.device | str = "cpu"):
    """bf16 autocast; `None` means: where the hardware runs it natively."""
    device = torch.device(device)
    enabled = native_bf16(device) if enabled is None else enabled
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def data_parallel() -> tuple[int, int]:
    """(rank, world size): under `accelerate launch` / torchrun with several processes, else (0, 1).

    Each process takes its share of every global batch; gradients are averaged with accelerate's
    collective after each backward (the maths of DDP), so N processes follow one process's run.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    from accelerate import PartialState

    state = PartialState(cpu=default_device().type == "cpu")  # cpu: gloo, the only backend a CPU has
    return state.process_index, state.num_processes


def is_main_process() -> bool:
    return data_parallel()[0] == 0


def wait_for_everyone() -> None:
    if data_parallel()[1] > 1:
        from accelerate import PartialState

        PartialState().wait_for_everyone()


def average_across_processes(tensors: list[torch.Tensor], broadcast_first: bool = False) -> None:
    """In place, one collective for all: the mean over the processes (or the first process's values)."""
    from accelerate.utils import broadcast, reduce

    flat = torch.cat([t.detach().flatten().float() for t in tensors])
    flat = broadcast(flat, from_process=0) if broadcast_first else reduce(flat, "mean")
    offset = 0
    with torch.no_grad():
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()


def average_gradients(params: list[nn.Parameter], extra: list[torch.Tensor] = ()) -> None:
    """DDP's step: every process's gradients replaced by their mean (plus `extra` tensors, in the same collective).

    A parameter without a gradient here gets a zero one first, so every process averages the same
    list and ends with the same gradients.
    """
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    average_across_processes([p.grad for p in params] + list(extra))


def fsdp_requested(flag: bool | None) -> bool:
    """Shard when asked (`--fsdp`, or accelerate's `--use_fsdp`), and only with several processes to shard over."""
    if flag is None:
        flag = os.environ.get("ACCELERATE_USE_FSDP", "").lower() in ("1", "true")
    return bool(flag) and data_parallel()[1] > 1


def load_device(fsdp: bool | None) -> str | None:
    """Where to load a model: the CPU when FSDP will shard it (each process then moves only its shard), else the default."""
    return "cpu" if fsdp_requested(fsdp) else None


def shard_frozen_blocks(model: nn.Module) -> nn.Module:
    """FSDP2 over every transformer block: frozen weights sharded across the processes, trainable ones whole.

    The frozen base model is what outgrows one GPU; LoRA adapters and the value head are small.
    Keeping them whole (FSDP's `ignored_params`) leaves their optimiser state, gradient averaging,
    checkpoints and saving exactly as in plain data parallelism. Blocks are the classes the model
    names in `_no_split_modules`, the unit accelerate's FSDP wraps too. Load the model on the CPU
    first: each process then moves only its shard (and the unsharded rest) to its device.
    """
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    block_names = {name for m in model.modules() for name in getattr(m, "_no_split_modules", None) or []}
    blocks = [m for m in model.modules() if type(m).__name__ in block_names]
    if not blocks:
        raise NLAError(f"found no transformer blocks to shard (looked for {sorted(block_names) or 'a _no_split_modules list'})")
    if all(p.requires_grad for block in blocks for p in block.parameters()):
        raise NLAError("FSDP here shards the frozen base weights under LoRA; a full fine-tune has none (drop --full-finetune)")
    device = default_device()
    mesh = init_device_mesh(device.type, (data_parallel()[1],))
    for block in blocks:
        fully_shard(block, mesh=mesh, ignored_params={p for p in block.parameters() if p.requires_grad})
    shards = [p for block in blocks for p in block.parameters() if hasattr(p, "to_local")]
    held = sum(p.to_local().numel() for p in shards) / max(1, sum(p.numel() for p in shards))
    if is_main_process():
        Console(stderr=True).print(f"FSDP: {len(blocks)} blocks sharded over {mesh.size()} processes; "
                                   f"this one holds {held:.0%} of their frozen weights", soft_wrap=True)
    return model.to(device)


def is_sharded(model: nn.Module) -> bool:
    """True when FSDP shards some of `model`'s blocks: then every process must run every forward pass."""
    from torch.distributed.fsdp import FSDPModule

    return any(isinstance(m, FSDPModule) for m in model.modules())


def any_process(flag: bool) -> bool:
    """True if `flag` is true in any process (just `flag` in a single process)."""
    if data_parallel()[1] <= 1:
        return flag
    value = torch.tensor([float(flag)], device=default_device())
    average_across_processes([value])
    return bool(value.item() > 0)


def cosine_lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress_frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress_frac)))


def bucketed_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Random batches of similar lengths: shuffle, sort within windows of 8 batches, shuffle batches."""
    rng = random.Random(f"{seed}|{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 8
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def batch_for_step(lengths: list[int], batch_size: int, seed: int, step: int) -> list[int]:
    per_epoch = math.ceil(len(lengths) / batch_size)
    return bucketed_batches(lengths, batch_size, seed, step // per_epoch)[step % per_epoch]


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(path: Path, model: nn.Module, optimizer, scheduler, step: int, log: list[dict]) -> None:
    state = {
        "step": step,
        "model": trainable_state(model),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "log": log,
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
    }
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: Path, model: nn.Module, optimizer, scheduler) -> tuple[int, list[dict]]:
    state = torch.load(path, weights_only=False, map_location="cpu")
    missing = model.load_state_dict(state["model"], strict=False).unexpected_keys
    if missing:
        raise RuntimeError(f"checkpoint {path} does not match the model: unexpected keys {missing[:3]}")
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])
    random.setstate(state["rng"]["python"])
    return state["step"], state["log"]


def write_log(path: Path, log: list[dict]) -> None:
    if not log:
        return
    keys = list(dict.fromkeys(k for row in log for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys)
    writer.writeheader()
    writer.writerows(log)
    atomic_write_text(path, buffer.getvalue())


def train(
    model: nn.Module,
    param_groups: list[dict],
    loss_fn: Callable[[list[int]], tuple[torch.Tensor, dict]],
    lengths: list[int],
    cfg: TrainConfig,
    work_dir: Path,
    eval_fn: Callable[[], dict] | None = None,
    name: str = "train",
) -> list[dict]:
    """Run `cfg.steps` optimiser steps of `loss_fn(batch_indices)`; resumes from `work_dir`.

    Returns the log (one dict per logged step). The caller saves the final model. Under several
    processes each takes `batch[rank::world]` and only the first writes checkpoints and logs.
    """
    rank, world = data_parallel()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    if fsdp_requested(cfg.fsdp):
        shard_frozen_blocks(model)
    optimizer = torch.optim.AdamW(param_groups, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: cosine_lr(s, cfg))
    checkpoint = work_dir / "checkpoint.pt"
    step, log = (0, [])
    torch.manual_seed(cfg.seed)
    if world > 1:  # every process starts from the first one's weights (LoRA's random init included)
        average_across_processes([p for g in param_groups for p in g["params"]], broadcast_first=True)
    if checkpoint.exists():
        step, log = load_checkpoint(checkpoint, model, optimizer, scheduler)
    started = time.monotonic()
    model.train()
    with progress(disable=rank != 0) as bar:
        task = bar.add_task(name, total=cfg.steps, completed=step, info="")
        while step < cfg.steps:
            batch = batch_for_step(lengths, cfg.batch_size, cfg.seed, step)[rank::world]
            t0 = time.monotonic()
            loss, metrics = loss_fn(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            params = [p for g in param_groups for p in g["params"]]
            if world > 1:
                average_gradients(params, extra=[loss.detach()])
            grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            row = {"step": step, "loss": float(loss.detach()), "grad_norm": float(grad_norm), "lr": scheduler.get_last_lr()[0],
                   "step_s": time.monotonic() - t0, **metrics}
            if eval_fn and (step % cfg.eval_every == 0 or step == cfg.steps):
                model.eval()
                row.update(eval_fn())
                model.train()
            log.append(row)
            bar.update(task, completed=step, info=f"loss {float(loss.detach()):.3f}")
            out_of_time = cfg.max_minutes is not None and time.monotonic() - started > cfg.max_minutes * 60
            out_of_time = any_process(out_of_time)  # every process must stop at the same step
            if (step % cfg.save_every == 0 or step == cfg.steps or out_of_time) and rank == 0:
                save_checkpoint(checkpoint, model, optimizer, scheduler, step, log)
                write_log(work_dir / "log.csv", log)
            if out_of_time:
                break
    model.eval()
    if rank == 0:
        write_log(work_dir / "log.csv", log)
    wait_for_everyone()
    return log


def start_output(out: Path, overwrite: bool) -> tuple[Path, bool]:
    """The work folder (checkpoints, log) beside `out`, and whether `out` is already finished."""
    out = Path(out)
    work = out.with_name(out.name + ".work")
    if overwrite:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return work, (out / "nla_meta.yaml").exists()


def publish(save: Callable[[Path], None], out: Path, work: Path) -> Path:
    """Write the final model folder through `save(tmp)`, with the training log, then move it into place."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save(tmp)
    if (work / "log.csv").exists():
        shutil.copy(work / "log.csv", tmp / "log.csv")
    finalize_folder(tmp, out)
    return out


def training_record(stage: str, cfg: TrainConfig, data: Path, log: list[dict], keep: str) -> dict:
    """What the sidecar remembers of a training run: config, data, steps, last logged metrics."""
    last = log[-1] if log else {}
    return {"stage": stage, "config": asdict(cfg), "dataset": str(data), "steps_done": int(last.get("step", 0)),
            "final": {k: v for k, v in last.items() if keep in k}}


def finalize_folder(tmp: Path, final: Path) -> None:
    """Move a fully written model folder into place (old one removed only after the new exists)."""
    old = final.with_name(final.name + ".old")
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
