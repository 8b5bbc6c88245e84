"""Several processes (`accelerate launch`, torchrun): who writes, how gradients are averaged, FSDP.

Each process takes its share of every global batch; gradients are averaged with accelerate's
collective after each backward (the maths of DDP), so N processes follow one process's run. With
FSDP2 the frozen block weights are sharded and every process runs every forward pass.
"""

from __future__ import annotations

import torch
from rich.console import Console
from torch import nn

from .config import env
from .errors import NLAError
from .models import default_device


def data_parallel() -> tuple[int, int]:
    """(rank, world size): under a launcher with several processes, else (0, 1)."""
    if int(env("WORLD_SIZE") or "1") <= 1:
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


def take_over_cores() -> None:
    """On a CPU, the first process takes the threads of this machine's other processes once they have finished their share
    and exited: what a stage does after its parallel part (the neuron dictionary's descriptions and scores) then runs on
    every core, not on one process's (2 processes x 1 thread explain faster than 1 x 2 on 2 cores: 10.5 against 8.6/s)."""
    local = int(env("LOCAL_WORLD_SIZE") or "1")
    if local > 1 and default_device().type == "cpu":
        torch.set_num_threads(torch.get_num_threads() * local)


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


def any_process(flag: bool) -> bool:
    """True if `flag` is true in any process (just `flag` in a single process)."""
    if data_parallel()[1] <= 1:
        return flag
    value = torch.tensor([float(flag)], device=default_device())
    average_across_processes([value])
    return bool(value.item() > 0)


def fsdp_requested(flag: bool | None) -> bool:
    """Shard when asked (`--fsdp`, or accelerate's `--use_fsdp`), and only with several processes to shard over."""
    if flag is None:
        flag = (env("ACCELERATE_USE_FSDP") or "").lower() in ("1", "true")
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
