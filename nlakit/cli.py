"""`nlakit` command line: one subcommand per pipeline stage. It only parses and dispatches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .models import DEFAULT_MODEL
from .sidecar import NLAError
from .training import FSDP_HELP

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Natural Language Autoencoders: explain activations, score the explanations.")
console = Console(stderr=True)


@app.command()
def extract(
    out: Path = typer.Option(..., help="dataset folder to write"),
    model: str = typer.Option(DEFAULT_MODEL, help="HF id or path; smollm2-135m is the embedded default"),
    corpus: str = typer.Option("builtin", help=".txt (one text per line), .jsonl (`text`) or .parquet; builtin = shipped corpus"),
    layer: Optional[int] = typer.Option(None, help="block K (output of block K = hidden_states[K+1]); default 2/3 depth"),
    positions_per_doc: int = 4,
    min_position: int = 4,
    max_length: int = 128,
    max_docs: Optional[int] = None,
    heldout_fraction: float = 0.1,
    batch_size: int = 16,
    seed: int = 0,
    overwrite: bool = False,
) -> None:
    """Run the target model over a corpus and store layer-K activations at sampled tokens."""
    from .extract import ExtractConfig, run_extract

    cfg = ExtractConfig(model=model, corpus=corpus, layer_index=layer, positions_per_doc=positions_per_doc, min_position=min_position,
                        max_length=max_length, batch_size=batch_size, heldout_fraction=heldout_fraction, seed=seed, max_docs=max_docs)
    console.print(f"dataset written to {run_extract(cfg, out, overwrite)}")


@app.command()
def teach(
    data: Path = typer.Option(..., help="dataset folder from `nlakit extract`"),
    teacher: str = typer.Option("template", help="template | local | api"),
    model: str = typer.Option(DEFAULT_MODEL, help="instruct model for the local teacher"),
    base_url: Optional[str] = typer.Option(None, help="api teacher: OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1"),
    api_model: Optional[str] = typer.Option(None, help="api teacher: model name"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="api teacher: variable holding the key"),
    overwrite: bool = False,
) -> None:
    """Fill the dataset's `explanation` column with teacher explanations."""
    from .teach import make_teacher, run_teach

    options = {"model": api_model if teacher == "api" else model, "base_url": base_url, "api_key_env": api_key_env}
    run_teach(data, make_teacher(teacher, **options), overwrite)
    console.print(f"explanations written into {data}")


NLA_OPTION = typer.Option("default", help="folder holding av/ and ar/; default: the NLA shipped with nlakit")


BF16_OPTION = typer.Option(None, "--bf16/--fp32", help="default: bf16 autocast where the hardware has native bf16")
FSDP_OPTION = typer.Option(None, "--fsdp/--no-fsdp", help=FSDP_HELP)


def _train_options(cfg, steps, batch_size, lr, full_finetune, max_minutes, seed, gradient_checkpointing, bf16, fsdp):
    for name, value in dict(steps=steps, batch_size=batch_size, lr=lr, max_minutes=max_minutes, seed=seed, bf16=bf16, fsdp=fsdp).items():
        if value is not None:
            setattr(cfg, name, value)
    cfg.full_finetune, cfg.gradient_checkpointing = full_finetune, gradient_checkpointing
    return cfg


@app.command("train-ar")
def train_ar(
    data: Path = typer.Option(..., help="taught dataset folder"),
    out: Path = typer.Option(..., help="AR folder to write"),
    steps: Optional[int] = None, batch_size: Optional[int] = None, lr: Optional[float] = None,
    full_finetune: bool = typer.Option(False, help="train all weights instead of LoRA"),
    max_minutes: Optional[float] = None, seed: Optional[int] = None, overwrite: bool = False,
    gradient_checkpointing: bool = typer.Option(False, help="recompute activations in backward (less memory)"),
    bf16: Optional[bool] = BF16_OPTION,
    fsdp: Optional[bool] = FSDP_OPTION,
) -> None:
    """Train the activation reconstructor (explanation -> vector)."""
    from .ar import ARConfig, run_train_ar

    cfg = _train_options(ARConfig(), steps, batch_size, lr, full_finetune, max_minutes, seed, gradient_checkpointing, bf16, fsdp)
    console.print(f"AR written to {run_train_ar(data, out, cfg, overwrite)}")


@app.command("train-av")
def train_av(
    data: Path = typer.Option(..., help="taught dataset folder"),
    out: Path = typer.Option(..., help="AV folder to write"),
    steps: Optional[int] = None, batch_size: Optional[int] = None, lr: Optional[float] = None,
    full_finetune: bool = typer.Option(False, help="train all weights instead of LoRA"),
    max_minutes: Optional[float] = None, seed: Optional[int] = None, overwrite: bool = False,
    gradient_checkpointing: bool = typer.Option(False, help="recompute activations in backward (less memory)"),
    bf16: Optional[bool] = BF16_OPTION,
    fsdp: Optional[bool] = FSDP_OPTION,
) -> None:
    """Train the activation verbalizer (vector -> explanation)."""
    from .av import AVConfig, run_train_av

    cfg = _train_options(AVConfig(), steps, batch_size, lr, full_finetune, max_minutes, seed, gradient_checkpointing, bf16, fsdp)
    console.print(f"AV written to {run_train_av(data, out, cfg, overwrite)}")


@app.command()
def evaluate(
    nla: str = NLA_OPTION,
    texts: str = typer.Option("heldout", help="held-out texts: .txt, .jsonl or .parquet; heldout = the built-in documents "
                              "the NLA's extraction held out"),
    max_docs: Optional[int] = None,
    max_new_tokens: int = 64,
    save: Optional[Path] = typer.Option(None, help="also write the explained rows as parquet"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    suite: str = typer.Option("fast", help="fast: round trip + shuffled/teacher controls; full: + baselines, retrieval, "
                              "causal patching, salience, overlap, per-genre bootstrap CIs"),
    out: Optional[Path] = typer.Option(None, help="--suite full: folder for suite.json and suite.html"),
    engine: str = typer.Option("transformers", help="AV generation: transformers (built in) or vllm (prompt_embeds; needs vLLM)"),
) -> None:
    """Round-trip score (fve_nrm) on texts, with the shuffled and teacher controls (--suite full: every check)."""
    from .evaluate import run_evaluate

    metrics = run_evaluate(nla, texts, max_new_tokens, max_docs, save, suite, out, engine)
    if as_json:
        print(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            console.print(f"{key:>20}: {value:.4f}" if isinstance(value, float) else f"{key:>20}: {value}")


@app.command()
def explain(
    text: str = typer.Argument(..., help="the text to read token by token"),
    nla: str = NLA_OPTION,
    max_new_tokens: int = 64,
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    html: Optional[Path] = typer.Option(None, "--html", help="also write a self-contained page: click a token to read its explanation"),
) -> None:
    """Every token of TEXT with the AV's explanation and its per-token FVE."""
    from .explain import run_explain

    run_explain(nla, text, as_json, max_new_tokens, html)
    if html:
        console.print(f"page written to {html}")


def _run_preset(name: str, out: Path) -> None:
    import time

    from .demo import PRESETS, run_demo

    if name not in PRESETS:
        raise NLAError(f"unknown preset {name!r}: choose one of {sorted(PRESETS)}")
    start = time.monotonic()
    metrics = run_demo(out, PRESETS[name]())
    console.print_json(json.dumps({k: metrics[k] for k in ("n", "fve_nrm", "fve_shuffled", "fve_teacher", "mse_nrm", "parse_failure_rate")}))
    console.print(f"{name} finished in {time.monotonic() - start:.0f} s; report: {out / 'report.html'}")


@app.command()
def demo(out: Path = typer.Option(Path("runs/demo"), help="run folder")) -> None:
    """Run the whole pipeline on the embedded default (24 minutes measured on 2 CPU cores)."""
    _run_preset("demo", out)


@app.command()
def train(
    preset: str = typer.Option("smollm2-135m", help="demo (2-core CPU, minutes) or smollm2-135m (the shipped default's recipe, one GPU)"),
    out: Path = typer.Option(Path("runs/smollm2-135m"), help="run folder (stages resume from it)"),
    export: Optional[Path] = typer.Option(None, help="also pack the finished nla/ into this folder in the shipped form"),
) -> None:
    """Train an NLA end to end from a seeded preset: extract, teach, AR and AV SFT, GRPO, evaluate."""
    from .models import default_device

    if preset != "demo" and default_device().type == "cpu":
        console.print(f"[yellow]note:[/] the {preset} preset is sized for one GPU (about 25 min on an H100); "
                      "on a CPU it takes days. Stages checkpoint, so it can be stopped and resumed.")
    _run_preset(preset, out)
    if export:
        from .pretrained import export_pretrained

        console.print(f"packed into {export_pretrained(out, export)}")


@app.command()
def rl(
    data: Path = typer.Option(..., help="taught dataset folder (its train split feeds the rollouts)"),
    av: Path = typer.Option(..., help="SFT AV folder (from train-av)"),
    ar: Path = typer.Option(..., help="SFT AR folder (from train-ar)"),
    out: Path = typer.Option(..., help="run folder: av/, ar/, log.csv, curves; checkpoints in out/work"),
    steps: Optional[int] = None, batch_size: Optional[int] = None, group_size: Optional[int] = None,
    av_lr: Optional[float] = None, ar_lr: Optional[float] = None, kl_coef: Optional[float] = None,
    max_new_tokens: Optional[int] = typer.Option(None, help="response cap; a response cut by it fails (reward -2)"),
    contrastive: bool = typer.Option(False, help="reward = mse(a wrong vector) - mse(the right one)"),
    seed: Optional[int] = None, max_minutes: Optional[float] = None, overwrite: bool = False,
    fsdp: Optional[bool] = FSDP_OPTION,
    engine: str = typer.Option("transformers", help="rollouts: transformers (built in) or vllm (prompt_embeds; the policy's weights synced every step)"),
    bf16: Optional[bool] = BF16_OPTION,
) -> None:
    """GRPO on the AV, with the AR trained on the same rollouts (resumes from out/work)."""
    from .rl import RLConfig, run_rl

    cfg = RLConfig(contrastive=contrastive)
    options = dict(steps=steps, batch_size=batch_size, group_size=group_size, av_lr=av_lr, ar_lr=ar_lr, kl_coef=kl_coef,
                   max_new_tokens=max_new_tokens, seed=seed, max_minutes=max_minutes, fsdp=fsdp, engine=engine, bf16=bf16)
    for name, value in options.items():
        if value is not None:
            setattr(cfg, name, value)
    console.print(f"RL-trained AV and AR written to {run_rl(data, av, ar, out, cfg, overwrite)}")


@app.command()
def export(
    out: Path = typer.Option(..., help="folder to write av/ and ar/ into"),
    nla: str = NLA_OPTION,
    format: str = typer.Option("official", help="official: the released NLAs' layout (full weights, truncated AR, value head)"),
) -> None:
    """Write an NLA in the layout of the released checkpoints (LoRA merged into full weights)."""
    if format != "official":
        raise NLAError(f"unknown export format {format!r}: the only one is official")
    from .export import export_official

    console.print(f"official-layout NLA written to {export_official(nla, out)}")


@app.command()
def bench(
    model: str = typer.Option(DEFAULT_MODEL, help="HF id or path; smollm2-135m is the embedded default"),
    data: Optional[Path] = typer.Option(None, help="taught dataset folder; default: a small one built on the fly"),
    out: Path = typer.Option(Path("bench.json"), help="JSON file to write"),
    quick: bool = typer.Option(False, help="fewer, shorter repetitions (a smoke run)"),
    repeats: Optional[int] = typer.Option(None, help="timed repetitions per measurement (medians reported)"),
    threads: Optional[int] = typer.Option(None, help="torch threads; default: torch's own"),
) -> None:
    """Training and generation speed next to a naive baseline and the machine's limit, plus scaling and memory."""
    from rich.console import Console as StdoutConsole

    from .bench import BenchConfig, render_scaling, render_table, run_bench

    options = {k: v for k, v in dict(model=model, data=data, repeats=repeats, threads=threads).items() if v is not None}
    results = run_bench(BenchConfig.preset(quick=quick, **options), out)
    StdoutConsole().print(render_table(results), *render_scaling(results))
    console.print(f"bench written to {out} ({results['total_s']:.0f} s)")


@app.command()
def serve(
    nla: str = NLA_OPTION,
    host: str = typer.Option("127.0.0.1", help="interface to bind; the default keeps the explorer on this machine"),
    port: int = 8765,
    dataset: Optional[Path] = typer.Option(None, help="explained parquet from `nlakit evaluate --save` (enables search)"),
    directions: Optional[Path] = typer.Option(None, help="folder of saved directions (.npy or .safetensors) for steering"),
) -> None:
    """Local web explorer: click tokens to read their explanations, sample, steer and search."""
    try:
        import uvicorn

        from .serve.app import create_app
    except ImportError as err:
        raise NLAError(f"`nlakit serve` needs the serve extra: pip install 'nlakit[serve]' ({err})") from err
    from .evaluate import NLA

    loopback = host in ("127.0.0.1", "localhost", "::1")
    hosts = ["127.0.0.1", "localhost", "[::1]"] if loopback else None  # a rebound DNS name cannot reach the model
    application = create_app(NLA.load(nla), dataset, directions, allowed_hosts=hosts)
    console.print(f"nlakit explorer on http://{'[::1]' if host == '::1' else host}:{port}  (Ctrl-C to stop)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=False)
    except NLAError as err:
        console.print(f"[bold red]error:[/] {err}")
        raise SystemExit(2) from None
    except typer.Exit as exit_:
        raise SystemExit(exit_.exit_code) from None
    except Exception as err:  # click usage errors carry their own message and code
        import click

        if isinstance(err, click.ClickException):
            err.show()
            raise SystemExit(err.exit_code) from None
        raise


if __name__ == "__main__":
    main()
