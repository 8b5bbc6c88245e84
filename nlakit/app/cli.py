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

from ..core.config import (
    DEFAULT_MODEL,
    ARConfig,
    AVConfig,
    DirectionsConfig,
    EvaluateConfig,
    ExplainConfig,
    ExtractConfig,
    NeuronsConfig,
    RLConfig,
    TeachConfig,
    TeachersConfig,
    env,
    fields_of,
    load_preset,
    make_config,
    read_settings_file,
    scalar_type,
)
from ..core.errors import NLAError
from ..core.files import to_json
from ..core.progress import set_output

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Natural Language Autoencoders: explain activations, score the explanations.")
console = Console(stderr=True)
NLA_OPTION = typer.Option("default", help="folder holding av/ and ar/; default: the NLA shipped with nlakit")
AV_OPTION = typer.Option(None, "--av", help="instead of --nla: the AV, a folder or a Hugging Face hub id (kitft/nla-qwen2.5-7b-L20-av); "
                         "an existing path is a folder, else owner/name is a hub id (HF_HUB_OFFLINE=1: the cache only)")
AR_OPTION = typer.Option(None, "--ar", help="the AR beside --av, a folder or a hub id (a released pair's other half is known: one is enough)")
DTYPE_OPTION = typer.Option("auto", "--dtype", help="weights of the AV, AR and target: auto (bf16 on a GPU, fp32 on the CPU), bf16 or "
                            "fp32; fp16 is refused (activations leave its range)")
DEVICE_MAP_OPTION = typer.Option(None, "--device-map", help="spread each model's blocks over the GPUs (accelerate): auto, balanced, "
                                 "sequential; default: one device")
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


def nla_source(nla: str, av: str | None, ar: str | None, dtype: str, device_map: str | None) -> Any:
    """The options that say which NLA to load and how (nla.NLASource, which every `NLA.load` takes in place of a folder)."""
    from ..core.nla import NLASource

    return NLASource(nla, av, ar, dtype, device_map)


def say_written(what: str, result: Path | None) -> None:
    if result is not None:  # None: stopped by --max-minutes, and the trainer said where its checkpoint is
        console.print(f"{what} written to {result}", soft_wrap=True)


# ---------------------------------------------------------------- stages


@stage_command("extract", ExtractConfig)
def extract(cfg: ExtractConfig, out: Path = typer.Option(..., help="dataset folder to write"), overwrite: bool = False) -> None:
    """Run the target model over a corpus and store layer-K activations at sampled tokens."""
    from ..stages.extract import run_extract

    say_written("dataset", run_extract(cfg, out, overwrite))


@stage_command("teach", TeachConfig)
def teach(cfg: TeachConfig, data: Path = typer.Option(..., help="dataset folder from `nlakit extract`"), overwrite: bool = False) -> None:
    """Fill the dataset's `explanation` column with teacher explanations."""
    from ..stages.teach import run_teach, teacher_from

    run_teach(data, teacher_from(cfg), overwrite, cfg)
    console.print(f"explanations written into {data}")


@stage_command("teachers", TeachersConfig)
def teachers(cfg: TeachersConfig, data: Path = typer.Option(..., help="dataset folder from `nlakit extract` (each design is taught "
                                                            "into a linked copy; this one is left as it is)"),
             out: Path = typer.Option(Path("runs/teachers"), help="folder for teachers.json and each design's data/, ar/, av/"),
             as_json: bool = typer.Option(False, "--json", help="print teachers.json")) -> None:
    """Rank teacher designs before a long run: an AR per design (held-out FVE vs shuffled), then a short AV round trip for the best."""
    from ..readings.teachers import run_teachers

    summary = run_teachers(data, out, cfg)
    if as_json:
        print(to_json(summary))
        return
    for r in summary["designs"]:  # best first; one line each, readable at any terminal width
        vs, rt = r.get("ar_vs_default"), r.get("roundtrip")
        weakest = min(r["ar_by_genre"].items(), key=lambda kv: kv[1])
        line = (f"[bold]{r['design']}[/]: {r['tokens']:.0f} tokens; AR fve_nrm {r['ar_fve_nrm']:.3f} (shuffled {r['ar_fve_shuffled']:.3f}"
                + (f"; vs default {vs['mean']:+.3f} [{vs['lo']:+.3f}, {vs['hi']:+.3f}]" if vs else "") + f"; weakest {weakest[0]} {weakest[1]:.2f})")
        if rt:
            line += (f"; round trip {rt['fve_nrm']:.3f} (shuffled {rt['fve_shuffled']:.3f}, teacher {rt['fve_teacher']:.3f}, "
                     f"parse failures {rt['parse_failure_rate']:.1%})")
        console.print(line, soft_wrap=True)
    first = summary["designs"][0]
    console.print(f"{first['n']} held-out rows per design; baseline: {first['baseline']}; written to {out / 'teachers.json'}", soft_wrap=True)


@stage_command("train-ar", ARConfig)
def train_ar(cfg: ARConfig, data: Path = typer.Option(..., help="taught dataset folder"),
             out: Path = typer.Option(..., help="AR folder to write (checkpoints in <out>.work)"), overwrite: bool = False) -> None:
    """Train the activation reconstructor (explanation -> vector)."""
    from ..stages.sft import run_train_ar

    say_written("AR", run_train_ar(data, out, cfg, overwrite))


@stage_command("train-av", AVConfig)
def train_av(cfg: AVConfig, data: Path = typer.Option(..., help="taught dataset folder"),
             out: Path = typer.Option(..., help="AV folder to write (checkpoints in <out>.work)"), overwrite: bool = False) -> None:
    """Train the activation verbalizer (vector -> explanation)."""
    from ..stages.sft import run_train_av

    say_written("AV", run_train_av(data, out, cfg, overwrite))


@stage_command("rl", RLConfig)
def rl(cfg: RLConfig, data: Path = typer.Option(..., help="taught dataset folder (its train split feeds the rollouts)"),
       av: Path = typer.Option(..., help="SFT AV folder (from train-av)"), ar: Path = typer.Option(..., help="SFT AR folder (from train-ar)"),
       out: Path = typer.Option(..., help="run folder: av/, ar/, log.csv, curves; checkpoints in <out>.work"),
       overwrite: bool = False) -> None:
    """GRPO on the AV, with the AR trained on the same rollouts (resumes from <out>.work)."""
    from ..stages.rl import run_rl

    say_written("RL-trained AV and AR", run_rl(data, av, ar, out, cfg, overwrite))


@stage_command("evaluate", EvaluateConfig)
def evaluate(cfg: EvaluateConfig, nla: str = NLA_OPTION, av: Optional[str] = AV_OPTION, ar: Optional[str] = AR_OPTION,
             dtype: str = DTYPE_OPTION, device_map: Optional[str] = DEVICE_MAP_OPTION,
             save: Optional[Path] = typer.Option(None, help="also write the explained rows as parquet"),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
             out: Optional[Path] = typer.Option(None, help="--suite full: folder for suite.json and suite.html")) -> None:
    """Round-trip score (fve_nrm) on texts, with the shuffled and teacher controls (--suite full: every check)."""
    from ..stages.evaluate import run_evaluate

    if out is not None and cfg.suite != "full":
        raise NLAError("--out is where --suite full writes suite.json and suite.html: add --suite full, or drop --out")
    if save is not None and save.is_dir():
        raise NLAError(f"--save {save} is a folder: give a .parquet file name")
    source = nla_source(nla, av, ar, dtype, device_map)
    if cfg.suite == "full":
        from ..readings.suite import run_full_evaluate

        metrics = run_full_evaluate(source, cfg, save, out)
    else:
        metrics = run_evaluate(source, cfg, save)
    if as_json:
        print(to_json(metrics))
    else:
        for key, value in metrics.items():
            console.print(f"{key:>20}: {value:.4f}" if isinstance(value, float) else f"{key:>20}: {value}")


@stage_command("neurons", NeuronsConfig)
def neurons(cfg: NeuronsConfig, nla: str = NLA_OPTION,
            out: Path = typer.Option(Path("runs/neurons"), help="folder for neurons.parquet, index.html and summary.json "
                                     "(work resumes from <out>.work)"),
            explained: Optional[Path] = typer.Option(None, help="explained parquet from `nlakit evaluate --save`: its tokens are reused, "
                                                     "not explained again"),
            overwrite: bool = False, as_json: bool = typer.Option(False, "--json", help="print the summary as one JSON object")) -> None:
    """A dictionary of what each MLP neuron does: top contexts explained by the NLA, a description, and a score with its control."""
    from ..readings.neurons import run_neurons

    summary = run_neurons(nla, cfg, out, explained, overwrite)
    if summary is None:  # a helper process under `accelerate launch`: the main one writes
        return
    if as_json:
        print(to_json(summary))
        return
    for name in ("score", "score_shuffled"):
        figures = summary[name]
        quantiles = ", ".join(f"{k} {v:.3f}" for k, v in figures.items() if k.startswith("q"))
        console.print(f"{name:>15}: mean {figures.get('mean', float('nan')):.3f}; {quantiles} ({figures['n']} neurons)")
    console.print(f"{summary['neurons']} neurons described, above their shuffled control for {summary['beats_control']:.0%}; "
                  f"{summary['tokens_explained']} tokens explained in {summary['seconds']:.0f} s; page: {out / 'index.html'}", soft_wrap=True)


@stage_command("directions", DirectionsConfig)
def directions(cfg: DirectionsConfig,
               file: Optional[Path] = typer.Argument(None, help=".npy (no pickles) or .safetensors: one \\[d] direction or \\[n, d] rows"),
               neuron: list[str] = typer.Option([], "--neuron", help="LAYER:INDEX: the write direction of an MLP neuron in a layer <= K "
                                                "(repeatable)"),
               nla: str = NLA_OPTION, as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """What the NLA says a residual direction adds at layer K: the mean activation plus the direction, explained beside the mean alone."""
    from ..readings.directions import print_directions, run_directions

    result = run_directions(nla, cfg, file, neuron)
    if as_json:
        print(to_json(result))
    else:
        print_directions(result)


@stage_command("explain", ExplainConfig)
def explain(
    cfg: ExplainConfig,
    text: Optional[str] = typer.Argument(None, help="the text to read token by token (or give --vectors or --random)"),
    nla: str = NLA_OPTION,
    av: Optional[str] = AV_OPTION,
    ar: Optional[str] = AR_OPTION,
    dtype: str = DTYPE_OPTION,
    device_map: Optional[str] = DEVICE_MAP_OPTION,
    vectors: Optional[Path] = typer.Option(None, help="parquet with an `activation_vector` column: explain and score each row's vector"),
    random: Optional[int] = typer.Option(None, "--random", min=1, help="smoke test: explain N random vectors at the NLA's width, "
                                         "scaled like its activations"),
    out: Optional[Path] = typer.Option(None, help="--vectors / --random: also write the rows (explanation, mse_nrm, fve_nrm, parsed, "
                                       "baseline, the vector) to this parquet"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    html: Optional[Path] = typer.Option(None, "--html", help="also write a self-contained page: click a token to read its explanation"),
) -> None:
    """Every token of TEXT with the AV's explanation and its per-token FVE; or the vectors of --vectors FILE / --random N."""
    from ..readings.explain import run_explain, run_explain_vectors

    nla = nla_source(nla, av, ar, dtype, device_map)
    if vectors is not None or random is not None:
        if text is not None or html is not None:
            raise NLAError("give a text, or --vectors / --random, not both (--html is for a text)")
        run_explain_vectors(nla, cfg, vectors, random, out, as_json)
        if out is not None:
            console.print(f"explanations written to {out}")
        return
    if text is None:
        raise NLAError('give the text to read, e.g. nlakit explain "Once upon a time", or --vectors FILE.parquet or --random N')
    if out is not None:
        raise NLAError("--out writes the rows of --vectors or --random; for a text use --json or --html")
    run_explain(nla, text, as_json, cfg.max_new_tokens, html, cfg)
    if html:
        console.print(f"page written to {html}")


def run_preset(name: str, out: Path, max_minutes: float | None = None) -> None:
    import time

    from .pipeline import run_pipeline

    preset = load_preset(name)
    start = time.monotonic()
    metrics = run_pipeline(out, preset, max_minutes)
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
                               "smollm2-135m-long (the next one: ~20x its compute, one GPU) or a .yaml/.json file of Preset settings"),
    out: Optional[Path] = typer.Option(None, help="run folder (stages resume from it); default: runs/<preset>"),
    export: Optional[Path] = typer.Option(None, help="also pack the finished nla/ into this folder in the shipped form"),
    max_minutes: Optional[float] = typer.Option(None, min=0.01, help="time budget for the whole run: training stops cleanly at a "
                                                "checkpoint when it is spent, and the same command continues it"),
    quiet: bool = QUIET_OPTION,
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Train an NLA end to end from a seeded preset: extract, teach, AR and AV SFT, GRPO, evaluate."""
    from ..core.models import default_device

    set_output(quiet, verbose)
    out = out or Path("runs") / Path(preset).stem
    if preset.startswith("smollm2-135m") and default_device().type == "cpu":
        console.print(f"[yellow]note:[/] the {preset} preset is sized for one GPU (about 25 min on an H100); "
                      "on a CPU it takes days. Stages checkpoint, so it can be stopped and resumed.")
    run_preset(preset, out, max_minutes)
    if export:
        from ..core.pretrained import export_pretrained

        console.print(f"packed into {export_pretrained(out, export)}")


@app.command()
def export(
    out: Path = typer.Option(..., help="folder to write av/ and ar/ into"),
    nla: str = NLA_OPTION,
    format: str = typer.Option("official", help="official: the released NLAs' layout (full weights, truncated AR, value head)"),
    dtype: str = typer.Option("bf16", "--dtype", help="weights written: bf16 (as released) or fp32"),
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Write an NLA in the layout of the released checkpoints (LoRA merged into full weights), with a model card per folder."""
    set_output(False, verbose)
    if format != "official":
        raise NLAError(f"unknown export format {format!r}: the only one is official")
    from ..stages.export import export_official

    console.print(f"official-layout NLA written to {export_official(nla, out, dtype)}")


@app.command()
def bench(
    model: str = typer.Option(DEFAULT_MODEL, help="HF id or path; smollm2-135m is the embedded default"),
    data: Optional[Path] = typer.Option(None, help="taught dataset folder; default: a small one built on the fly"),
    out: Path = typer.Option(Path("bench.json"), help="JSON file to write"),
    quick: bool = typer.Option(False, help="fewer, shorter repetitions (a smoke run)"),
    repeats: Optional[int] = typer.Option(None, help="timed repetitions per measurement (medians reported)"),
    threads: Optional[int] = typer.Option(None, help="torch threads; default: torch's own"),
    sft_only: bool = typer.Option(False, help="only the matmul peak and AR/AV SFT speed (tokens/s, FLOP/s, fraction of peak), "
                                              "as the trainer runs them with the three options below; prints one JSON line"),
    batch_tokens: Optional[int] = typer.Option(None, help="SFT batches by token budget (see train-ar --help)", min=1),
    compile: Optional[bool] = typer.Option(None, "--compile/--no-compile", help="with --sft-only: compile the blocks (see train-ar --help)"),
    bf16_weights: bool = typer.Option(False, help="with --sft-only: frozen base weights in bf16 (see train-ar --help)"),
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Training and generation speed next to a naive baseline, the machine's limit and its measured matmul peak."""
    set_output(False, verbose)
    from rich.console import Console as StdoutConsole

    from ..bench import BenchConfig, render_physics, render_scaling, render_table, run_bench

    options = {k: v for k, v in dict(model=model, data=data, repeats=repeats, threads=threads, batch_tokens=batch_tokens,
                                     compile=compile).items() if v is not None}
    results = run_bench(BenchConfig.preset(quick=quick, sft_only=sft_only, bf16_weights=bf16_weights, **options), out)
    if sft_only:
        print(json.dumps(results, default=str))
        return
    StdoutConsole().print(render_table(results), render_physics(results), *render_scaling(results))
    console.print(f"bench written to {out} ({results['total_s']:.0f} s)")


@app.command()
def serve(
    nla: str = NLA_OPTION,
    av: Optional[str] = AV_OPTION,
    ar: Optional[str] = AR_OPTION,
    dtype: str = DTYPE_OPTION,
    device_map: Optional[str] = DEVICE_MAP_OPTION,
    max_new_tokens: Optional[int] = typer.Option(None, min=1, help="explanation length cap; default: the NLA's own (its AV sidecar's, "
                                                 "else a released NLA's registry entry, else 64)"),
    host: str = typer.Option("127.0.0.1", help="interface to bind; the default keeps the explorer on this machine"),
    port: int = typer.Option(8765, min=1, max=65535, help="TCP port"),
    dataset: Optional[Path] = typer.Option(None, help="explained parquet from `nlakit evaluate --save` (enables search)"),
    directions: Optional[Path] = typer.Option(None, help="folder of saved directions (.npy or .safetensors) for steering"),
    neurons: Optional[Path] = typer.Option(None, help="neuron dictionary from `nlakit neurons` (neurons.parquet) for the Neurons view; "
                                           "default: the one shipped for the default NLA, if any"),
    token: Optional[str] = typer.Option(None, help="require this token on every API request (the printed URL carries it); "
                                        "use it whenever --host is not a loopback address"),
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Local web explorer: click tokens to read their explanations, sample, steer and search."""
    set_output(False, verbose)
    try:
        import uvicorn

        from .serve.app import LOOPBACK, Limits, create_app, on_model_thread
    except ImportError as err:
        raise NLAError(f"`nlakit serve` needs the serve extra: pip install 'nlakit[serve]' ({err})") from err
    from ..core.nla import NLA

    loopback = host in LOOPBACK
    hosts = ["127.0.0.1", "localhost", "[::1]"] if loopback else None  # a rebound DNS name cannot reach the model
    if not loopback and not token:
        console.print(f"[bold yellow]warning:[/] --host {host} serves the explorer to the network without authentication: "
                      "anyone who can reach this port can run the model; add --token SECRET", soft_wrap=True)
    if neurons is None and nla == "default" and not (av or ar):
        from ..readings.neurons import shipped_dictionary

        neurons = shipped_dictionary()
    loaded = on_model_thread(NLA.load, nla_source(nla, av, ar, dtype, device_map))  # the thread that will serve it (serve.app.on_model_thread)
    application = create_app(loaded, dataset, directions, Limits(max_new_tokens=max_new_tokens),
                             allowed_hosts=hosts, token=token, neurons=neurons)
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
