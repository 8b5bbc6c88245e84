"""Stages 3 and 4: supervised fine-tuning of the AR (explanation -> vector) and the AV (vector ->
explanation) on teacher explanations, both through `trainer.Trainer`.

Each logs a held-out figure beside its shuffled control (explanations matched to other rows'
vectors): the gap between the two is the evidence that the model reads the pairing rather than
just learning the style.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..core import dataset
from ..core.ar import build_reconstructor, load_reconstructor
from ..core.av import build_verbalizer, load_verbalizer
from ..core.config import ARConfig, AVConfig, TrainConfig
from ..core.distributed import data_parallel, fsdp_requested, is_main_process, load_device, shard_frozen_blocks, wait_for_everyone
from ..core.errors import NLAError
from ..core.files import StageRun
from ..core.metrics import derangement, fve
from ..core.models import add_lora, bf16_enabled, bf16_frozen_weights, compile_blocks, compile_wanted
from ..core.pretrained import resolve_nla
from ..core.sidecar import SIDECAR_NAME, Sidecar
from .trainer import Part, Trainer, batch_for_step, cosine_lr, optimise, trainable


def training_record(stage: str, cfg: TrainConfig, data: Path, log: list[dict], keep: str) -> dict:
    """What the sidecar remembers of a training run: config, data, steps, last logged metrics."""
    last = log[-1] if log else {}
    return {"stage": stage, "config": asdict(cfg), "dataset": str(data), "steps_done": int(last.get("step", 0)),
            "final": {k: v for k, v in last.items() if keep in k}}


def sft_run(stage: str, data: Path, out: Path, cfg: TrainConfig, overwrite: bool, role: str) -> StageRun:
    inputs = {"dataset": data, **({"init": init_folder(cfg.init, role)} if cfg.init else {})}
    return StageRun(stage, out, cfg, inputs, overwrite)


def init_folder(init: str, role: str) -> Path:
    """The model folder to continue from: `init` itself, or its `role` subfolder (an NLA folder, `default` included)."""
    folder = resolve_nla(init)
    folder = folder / role if (folder / role).is_dir() else folder
    if not (folder / SIDECAR_NAME).exists():
        raise NLAError(f"--init {init}: {folder} is not a model folder (no {SIDECAR_NAME})")
    return folder


def continued(model: torch.nn.Module, meta: Sidecar, role: str, init_base: str) -> None:
    """A model loaded from --init takes the dataset's sidecar, keeping what it was trained with (marker, prompts, scale).

    Continued on activations of its own target (`init_base`), it also keeps its extraction recipe and baselines: they
    describe the set it was trained on (the shipped NLA's: every built-in document at 48 positions), and a small set to
    continue on (one position per document, say) must change neither the held-out tokens `evaluate` reads nor the
    rawvar every FVE divides by. Data from another model (a fine-tune of the target) brings its own.
    """
    meta.check_compatible(model.meta, "the --init model")
    own = model.meta if init_base == meta.base_model else meta
    model.meta = Sidecar(**{**meta.__dict__, "kind": "nla_model", "role": role, "training": {},
                            "extraction": own.extraction or meta.extraction, "baselines": own.baselines or meta.baselines,
                            "activation_norm": own.activation_norm or meta.activation_norm,
                            "injection_scale": model.meta.injection_scale or meta.injection_scale,
                            "tokens": model.meta.tokens or meta.tokens, "prompt_templates": model.meta.prompt_templates or meta.prompt_templates})


def sft_model(role: str, meta: Sidecar, cfg: TrainConfig) -> torch.nn.Module:
    """What SFT starts from: fresh LoRA adapters (or all weights) over the base, or a trained model with `init`;
    its frozen blocks sharded under FSDP."""
    load, build = (load_reconstructor, build_reconstructor) if role == "ar" else (load_verbalizer, build_verbalizer)
    if cfg.init:
        # its adapters continue over the dataset's model (the weights this run's sidecar names, so that training and every
        # later load agree), which is the init's own base unless the data came from another model, e.g. a fine-tune of it
        folder = init_folder(cfg.init, role)
        start = Sidecar.load(folder)
        model = load(folder, trainable=True, device=load_device(cfg.fsdp), meta=Sidecar(**{**start.__dict__, "base_model": meta.base_model}))
        continued(model, meta, role, start.base_model)
    else:
        model = build(meta, device=load_device(cfg.fsdp))
        model.lm = add_lora(model.lm, cfg)
    if fsdp_requested(cfg.fsdp):
        shard_frozen_blocks(model)
    speed_up(model, cfg)
    return model


def speed_up(model: torch.nn.Module, cfg: TrainConfig) -> None:
    """The GPU settings: frozen base weights in bf16 (`bf16_weights`) and each block's MLP and norms compiled (`compile`).

    Neither changes what is trained (the adapters and head stay fp32), only how fast and in how much memory.
    """
    device = next(model.parameters()).device
    if cfg.bf16_weights:
        if cfg.full_finetune:
            raise NLAError("--bf16-weights stores the frozen base weights in bf16, and a full fine-tune has none: drop one of the two")
        if not bf16_enabled(cfg.bf16, device):
            raise NLAError("--bf16-weights needs bf16 autocast: pass --bf16 (or train on hardware with native bf16)")
        if fsdp_requested(cfg.fsdp):
            raise NLAError("--bf16-weights with --fsdp is not supported yet (the shards keep fp32 weights): drop one of the two")
        bf16_frozen_weights(model)
    if compile_wanted(cfg.compile, device):
        compile_blocks(model.lm)


def ar_part(ar: torch.nn.Module, cfg: ARConfig) -> Part:
    """The AR's optimiser: its trainable LM weights at `lr`, the value head at `head_lr`; warmup, then cosine."""
    ar.value_head.requires_grad_(True)
    groups = [{"params": trainable(ar.lm), "lr": cfg.lr}, {"params": list(ar.value_head.parameters()), "lr": cfg.head_lr}]
    return Part.adamw("ar", ar, groups, lambda s: cosine_lr(s, cfg), cfg.weight_decay)


def av_part(av: torch.nn.Module, cfg: AVConfig) -> Part:
    """The AV's optimiser: its trainable weights (the LoRA adapters, or all) at `lr`; warmup, then cosine."""
    return Part.adamw("av", av, [{"params": trainable(av.lm), "lr": cfg.lr}], lambda s: cosine_lr(s, cfg), cfg.weight_decay)


def run_train_ar(data: Path, out: Path, cfg: ARConfig, overwrite: bool = False) -> Path | None:
    """Train the AR on (teacher explanation, vector) pairs; held-out FVE logged as it goes."""
    run = sft_run("train-ar", data, out, cfg, overwrite, "ar")
    if run.done():
        return run.out
    texts, vectors, held_texts, held_vectors, meta = dataset.training_pairs(data, cfg.eval_rows)
    baseline = meta.training_baseline()
    work = run.begin(is_main_process(), wait_for_everyone)
    ar = sft_model("ar", meta, cfg)
    part = ar_part(ar, cfg)
    trainer = Trainer([part], cfg, work, "train-ar")
    lengths = ar.token_lengths(texts) if cfg.batch_tokens else [len(t) for t in texts]

    def step() -> dict:
        batch, share = sft_batch(lengths, cfg, trainer.step)
        loss, tokens = ar.loss([texts[i] for i in batch], torch.from_numpy(dataset.rows(vectors, batch)), cfg.bf16)
        loss = loss * share  # averaged over the processes (gradients, and the logged value in place): the global row mean
        grad_norm = optimise(part, loss, extra=[loss.detach()])
        return sft_row(loss, grad_norm, part, {"fve_nrm": fve(float(loss.detach()), baseline.value), "tokens": tokens})

    def evaluate() -> dict:
        if len(held_texts) < 2:  # the shuffled control pairs each row with another
            return {}
        mse, mse_shuf = ar.score_shuffled(held_texts, held_vectors, derangement(len(held_texts)), bf16=cfg.bf16)
        return {"heldout_fve_nrm": fve(mse, baseline.value), "heldout_fve_shuffled": fve(mse_shuf, baseline.value)}

    log = trainer.run(step, eval_fn=evaluate, eval_every=cfg.eval_every, info=lambda row: f"loss {row['loss']:.3f}")
    return publish_sft(run, ar, training_record("ar_sft", cfg, data, log, keep="fve"), trainer)


def run_train_av(data: Path, out: Path, cfg: AVConfig, overwrite: bool = False) -> Path | None:
    """SFT the AV to write the teacher's explanation of each injected vector (held-out loss vs shuffled vectors)."""
    run = sft_run("train-av", data, out, cfg, overwrite, "av")
    if run.done():
        return run.out
    texts, vectors, held_texts, held_array, meta = dataset.training_pairs(data, cfg.eval_rows)
    held_vectors = torch.from_numpy(held_array)
    work = run.begin(is_main_process(), wait_for_everyone)
    av = sft_model("av", meta, cfg)
    part = av_part(av, cfg)
    trainer = Trainer([part], cfg, work, "train-av")
    lengths = av.token_lengths(texts) if cfg.batch_tokens else [len(t) for t in texts]

    def step() -> dict:
        batch, _ = sft_batch(lengths, cfg, trainer.step)
        loss, tokens = av.sft_loss(torch.from_numpy(dataset.rows(vectors, batch)), [texts[i] for i in batch], cfg.bf16)
        grad_norm = optimise(part, loss, extra=[loss.detach()])
        return sft_row(loss, grad_norm, part, {"tokens": tokens})

    @torch.no_grad()
    def evaluate() -> dict:
        if len(held_texts) < 2:  # the shuffled control pairs each row with another
            return {}
        others = held_vectors[torch.from_numpy(derangement(len(held_texts)))]  # paired over the whole set: no chunk of one
        real, shuffled = [], []
        for s in range(0, len(held_texts), cfg.batch_size):
            chunk = held_texts[s : s + cfg.batch_size]
            real.append(float(av.sft_loss(held_vectors[s : s + cfg.batch_size], chunk, cfg.bf16)[0]))
            shuffled.append(float(av.sft_loss(others[s : s + cfg.batch_size], chunk, cfg.bf16)[0]))
        return {"heldout_loss": float(np.mean(real)), "heldout_loss_shuffled": float(np.mean(shuffled))}

    log = trainer.run(step, eval_fn=evaluate, eval_every=cfg.eval_every, info=lambda row: f"loss {row['loss']:.3f}")
    return publish_sft(run, av, training_record("av_sft", cfg, data, log, keep="loss"), trainer)


def sft_batch(lengths: list[int], cfg: TrainConfig, step: int) -> tuple[list[int], float]:
    """This process's share of the step's length-bucketed global batch (`lengths` in tokens under `batch_tokens`;
    in characters otherwise, which keeps the row-count batches of runs made before the token budget), and the
    weight of its row-mean loss: rows here x processes / global rows, so that the processes' averaged gradients
    are those of the global batch's row mean even when its rows do not split evenly (token budgets)."""
    rank, world = data_parallel()
    batch = batch_for_step(lengths, cfg.batch_size, cfg.seed, step, cfg.batch_tokens, min_rows=world)
    return batch[rank::world], len(batch[rank::world]) * world / len(batch)


def sft_row(loss: torch.Tensor, grad_norm: float, part: Part, metrics: dict) -> dict:
    return {"loss": float(loss.detach()), "grad_norm": grad_norm, "lr": part.scheduler.get_last_lr()[0], **metrics}


def publish_sft(run: StageRun, model: torch.nn.Module, record: dict, trainer: Trainer) -> Path | None:
    """The finished model folder (with its log), written by the first process.

    A run cut by its time budget publishes nothing and returns None: rerun it to continue.
    """
    if not trainer.finished:
        return None
    if not is_main_process():
        return run.out
    model.meta.training = record

    def write(tmp: Path) -> None:
        model.save(tmp)
        if (trainer.work / "log.csv").exists():
            (tmp / "log.csv").write_bytes((trainer.work / "log.csv").read_bytes())

    return run.publish(write)

