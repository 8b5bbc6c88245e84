"""`nlakit` command line: a thin shell over the stages and the `NLA` object.

Every stage's options are generated from its settings dataclass in `config.py` (name, type, help
text, default), so a setting is declared once and can be given as a flag or in a `--config`
YAML/JSON file (flags win). Errors users can fix print one line and exit with 2.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from .config import (
    DEFAULT_MODEL,
    EXPLANATION_TOKENS,
    ARConfig,
    AVConfig,
    EvaluateConfig,
    ExtractConfig,
    RLConfig,
    TeachConfig,
    env,
    fields_of,
    load_preset,
    make_config,
    read_settings_file,
    scalar_type,
)
from .errors import NLAError
from .files import to_json
from .progress import set_output

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Natural Language Autoencoders: explain activations, score the explanations.")
console = Console(stderr=True)
NLA_OPTION = typer.Option("default", help="folder holding av/ and ar/; default: the NLA shipped with nlakit")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="no progress bars")
VERBOSE_OPTION = typer.Option(False, "--verbose", help="also show transformers' loading bars and logs")


# ---------------------------------------------------------------- options from the settings dataclasses


def config_parameters(cls: type) -> list[inspect.Parameter]:
    """One keyword option per setting of `cls`, defaulting to None ("not given": the dataclass default applies)."""
    params = []
    for f, hint, meta in fields_of(cls):
        help_text = meta.get("help", "")
        kind = scalar_type(hint)
        dashed = "--" + f.name.replace("_", "-")
        flag = meta.get("flag")
        decls = flag.split() if flag else [f"{dashed}/--no-{f.name.replace('_', '-')}" if kind is bool else dashed]
        default = f.default if f.default is not None else "none"
        option = typer.Option(None, *decls, help=f"{help_text} \\[default: {default}]", show_default=False)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Optional[kind]))
    return params


def stage_command(name: str, cls: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn(cfg, **own_options)` as a command whose options are its own plus every setting of `cls` and `--config`."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(fn)
        own = [p.replace(annotation=hints.get(p.name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY)
               for p in list(inspect.signature(fn).parameters.values())[1:]]
        settings = config_parameters(cls)
        config = inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path], default=typer.Option(
            None, "--config", help=f"YAML/JSON file of {cls.__name__} settings; flags given here override it"))
        output = [inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=QUIET_OPTION),
                  inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=VERBOSE_OPTION)]
        names = [p.name for p in settings]

        def command(**kwargs: Any) -> Any:
            set_output(kwargs.pop("quiet"), kwargs.pop("verbose"))
            path = kwargs.pop("config")
            given = {k: v for k in names if (v := kwargs.pop(k)) is not None}
            cfg = make_config(cls, read_settings_file(path), str(path)) if path else cls()
            return fn(make_config(cls, given, "command line", cfg), **kwargs)

        parameters = own + [config] + settings + output
        command.__signature__ = inspect.Signature(parameters)
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        command.__name__, command.__doc__ = fn.__name__, fn.__doc__
        return app.command(name)(command)

    return decorate


def say_written(what: str, result: Path | None) -> None:
    if result is not None:  # None: stopped by --max-minutes, and the trainer said where its checkpoint is
        console.print(f"{what} written to {result}", soft_wrap=True)


# ---------------------------------------------------------------- stages


@stage_command("extract", ExtractConfig)
def extract(cfg: ExtractConfig, out: Path = typer.Option(..., help="dataset folder to write"), overwrite: bool = False) -> None:
    """Run the target model over a corpus and store layer-K activations at sampled tokens."""
    from .extract import run_extract

    say_written("dataset", run_extract(cfg, out, overwrite))


@stage_command("teach", TeachConfig)
def teach(cfg: TeachConfig, data: Path = typer.Option(..., help="dataset folder from `nlakit extract`"), overwrite: bool = False) -> None:
    """Fill the dataset's `explanation` column with teacher explanations."""
    from .teach import run_teach, teacher_from

    run_teach(data, teacher_from(cfg), overwrite, cfg)
    console.print(f"explanations written into {data}")


@stage_command("train-ar", ARConfig)
def train_ar(cfg: ARConfig, data: Path = typer.Option(..., help="taught dataset folder"),
             out: Path = typer.Option(..., help="AR folder to write (checkpoints in <out>.work)"), overwrite: bool = False) -> None:
    """Train the activation reconstructor (explanation -> vector)."""
    from .sft import run_train_ar

    say_written("AR", run_train_ar(data, out, cfg, overwrite))


@stage_command("train-av", AVConfig)
def train_av(cfg: AVConfig, data: Path = typer.Option(..., help="taught dataset folder"),
             out: Path = typer.Option(..., help="AV folder to write (checkpoints in <out>.work)"), overwrite: bool = False) -> None:
    """Train the activation verbalizer (vector -> explanation)."""
    from .sft import run_train_av

    say_written("AV", run_train_av(data, out, cfg, overwrite))


@stage_command("rl", RLConfig)
def rl(cfg: RLConfig, data: Path = typer.Option(..., help="taught dataset folder (its train split feeds the rollouts)"),
       av: Path = typer.Option(..., help="SFT AV folder (from train-av)"), ar: Path = typer.Option(..., help="SFT AR folder (from train-ar)"),
       out: Path = typer.Option(..., help="run folder: av/, ar/, log.csv, curves; checkpoints in <out>.work"),
       overwrite: bool = False) -> None:
    """GRPO on the AV, with the AR trained on the same rollouts (resumes from <out>.work)."""
    from .rl import run_rl

    say_written("RL-trained AV and AR", run_rl(data, av, ar, out, cfg, overwrite))


@stage_command("evaluate", EvaluateConfig)
def evaluate(cfg: EvaluateConfig, nla: str = NLA_OPTION,
             save: Optional[Path] = typer.Option(None, help="also write the explained rows as parquet"),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
             out: Optional[Path] = typer.Option(None, help="--suite full: folder for suite.json and suite.html")) -> None:
    """Round-trip score (fve_nrm) on texts, with the shuffled and teacher controls (--suite full: every check)."""
    from .evaluate import run_evaluate

    if out is not None and cfg.suite != "full":
        raise NLAError("--out is where --suite full writes suite.json and suite.html: add --suite full, or drop --out")
    if save is not None and save.is_dir():
        raise NLAError(f"--save {save} is a folder: give a .parquet file name")
    metrics = run_evaluate(nla, cfg, save, out)
    if as_json:
        print(to_json(metrics))
    else:
        for key, value in metrics.items():
            console.print(f"{key:>20}: {value:.4f}" if isinstance(value, float) else f"{key:>20}: {value}")


@app.command()
def explain(
    text: str = typer.Argument(..., help="the text to read token by token"),
    nla: str = NLA_OPTION,
    max_new_tokens: int = typer.Option(EXPLANATION_TOKENS, min=1, help="explanation length cap"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    html: Optional[Path] = typer.Option(None, "--html", help="also write a self-contained page: click a token to read its explanation"),
    quiet: bool = QUIET_OPTION,
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Every token of TEXT with the AV's explanation and its per-token FVE."""
    from .explain import run_explain

    set_output(quiet, verbose)
    run_explain(nla, text, as_json, max_new_tokens, html)
    if html:
        console.print(f"page written to {html}")


def run_preset(name: str, out: Path) -> None:
    import time

    from .pipeline import run_pipeline

    preset = load_preset(name)
    start = time.monotonic()
    metrics = run_pipeline(out, preset)
    console.print_json(json.dumps({k: metrics[k] for k in ("n", "fve_nrm", "fve_shuffled", "fve_teacher", "mse_nrm", "parse_failure_rate", "baseline")}))
    console.print(f"{name} finished in {time.monotonic() - start:.0f} s; report: {out / 'report.html'}")


@app.command()
def demo(out: Path = typer.Option(Path("runs/demo"), help="folder for index.html and metrics.json"),
         quiet: bool = QUIET_OPTION, verbose: bool = VERBOSE_OPTION) -> None:
    """What nlakit is for, in about a minute: the shipped NLA reads sample texts and is scored on held-out ones."""
    from .tour import run_tour

    set_output(quiet, verbose)
    run_tour(out, Console())


@app.command()
def train(
    preset: str = typer.Option("quick", help="quick (2-core CPU, minutes), smollm2-135m (the shipped default's recipe, one GPU), "
                               "or a .yaml/.json file of Preset settings"),
    out: Optional[Path] = typer.Option(None, help="run folder (stages resume from it); default: runs/<preset>"),
    export: Optional[Path] = typer.Option(None, help="also pack the finished nla/ into this folder in the shipped form"),
    quiet: bool = QUIET_OPTION,
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Train an NLA end to end from a seeded preset: extract, teach, AR and AV SFT, GRPO, evaluate."""
    from .models import default_device

    set_output(quiet, verbose)
    out = out or Path("runs") / Path(preset).stem
    if preset == "smollm2-135m" and default_device().type == "cpu":
        console.print(f"[yellow]note:[/] the {preset} preset is sized for one GPU (about 25 min on an H100); "
                      "on a CPU it takes days. Stages checkpoint, so it can be stopped and resumed.")
    run_preset(preset, out)
    if export:
        from .pretrained import export_pretrained

        console.print(f"packed into {export_pretrained(out, export)}")


@app.command()
def export(
    out: Path = typer.Option(..., help="folder to write av/ and ar/ into"),
    nla: str = NLA_OPTION,
    format: str = typer.Option("official", help="official: the released NLAs' layout (full weights, truncated AR, value head)"),
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Write an NLA in the layout of the released checkpoints (LoRA merged into full weights)."""
    set_output(False, verbose)
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
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Training and generation speed next to a naive baseline and the machine's limit, plus scaling and memory."""
    set_output(False, verbose)
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
    port: int = typer.Option(8765, min=1, max=65535, help="TCP port"),
    dataset: Optional[Path] = typer.Option(None, help="explained parquet from `nlakit evaluate --save` (enables search)"),
    directions: Optional[Path] = typer.Option(None, help="folder of saved directions (.npy or .safetensors) for steering"),
    token: Optional[str] = typer.Option(None, help="require this token on every API request (the printed URL carries it); "
                                        "use it whenever --host is not a loopback address"),
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Local web explorer: click tokens to read their explanations, sample, steer and search."""
    set_output(False, verbose)
    try:
        import uvicorn

        from .serve.app import LOOPBACK, create_app
    except ImportError as err:
        raise NLAError(f"`nlakit serve` needs the serve extra: pip install 'nlakit[serve]' ({err})") from err
    from .nla import NLA

    loopback = host in LOOPBACK
    hosts = ["127.0.0.1", "localhost", "[::1]"] if loopback else None  # a rebound DNS name cannot reach the model
    if not loopback and not token:
        console.print(f"[bold yellow]warning:[/] --host {host} serves the explorer to the network without authentication: "
                      "anyone who can reach this port can run the model; add --token SECRET", soft_wrap=True)
    application = create_app(NLA.load(nla), dataset, directions, allowed_hosts=hosts, token=token)
    query = f"/?token={token}" if token else ""
    console.print(f"nlakit explorer on http://{'[::1]' if host == '::1' else host}:{port}{query}  (Ctrl-C to stop)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=False)
    except NLAError as err:
        if env("NLAKIT_DEBUG"):
            raise
        console.print(f"[bold red]error:[/] {err}", soft_wrap=True)
        raise SystemExit(2) from None
    except typer.Exit as exit_:
        raise SystemExit(exit_.exit_code) from None
    except OSError as err:  # a file that cannot be read or written: say which, in one line
        if env("NLAKIT_DEBUG"):
            raise
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        console.print(f"[bold red]error:[/]{where}: {err.strerror or err}", soft_wrap=True)
        raise SystemExit(2) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except Exception as err:  # usage errors carry their own message and code (typer's own click, or click's)
        if hasattr(err, "show") and hasattr(err, "exit_code"):
            err.show()
            raise SystemExit(err.exit_code) from None
        raise


if __name__ == "__main__":
    main()
