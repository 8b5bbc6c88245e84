"""`nlakit` command line: a thin shell over the stages and the `NLA` object.

Every stage's options are generated from its settings dataclass in `config.py` (name, type, help
text, default), so a setting is declared once and can be given as a flag or in a `--config`
YAML/JSON file (flags win). Errors users can fix print one line and exit with 2.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ..core.config import (
    DEFAULT_NLA,
    ARConfig,
    AuditBenchConfig,
    AuditConfig,
    AVConfig,
    BenchConfig,
    DictionaryConfig,
    DirectionsConfig,
    EvaluateConfig,
    ExplainConfig,
    ExtractConfig,
    LoadConfig,
    NeuronsConfig,
    RLConfig,
    ServeConfig,
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
from ..core.files import out_of_space, to_json
from ..core.progress import set_output

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Natural Language Autoencoders: explain activations, score the explanations.")
console = Console(stderr=True)
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
            values = read_settings_file(path) if path else {}
            base = cls.defaults_for(values, given) if hasattr(cls, "defaults_for") else cls()  # bench: --quick's sizes
            cfg = make_config(cls, values, str(path), base) if path else base
            return fn(make_config(cls, given, "command line", cfg), **kwargs)

        parameters = own + [config] + settings + output
        command.__signature__ = inspect.Signature(parameters)
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        command.__name__, command.__doc__ = fn.__name__, fn.__doc__
        return app.command(name)(command)

    return decorate


def loads_nla(*skip: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command's `nla: LoadConfig` parameter the options of LoadConfig's settings (--nla, --av, --ar, --dtype,
    --device-map), generated as a stage's are, so every command that loads an NLA loads it the same way.

    `skip`: settings the command declares otherwise (export's --dtype names the weights it writes). Goes under
    `stage_command` or `app.command`; the command receives the LoadConfig (`NLA.load` takes it in place of a folder).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(fn)
        params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(fn).parameters.values()]
        at = next(i for i, p in enumerate(params) if p.name == "nla")
        options = [p for p in config_parameters(LoadConfig) if p.name not in skip]
        later = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[at + 1 :]]

        def command(*args: Any, **kwargs: Any) -> Any:
            given = {p.name: v for p in options if (v := kwargs.pop(p.name)) is not None}
            return fn(*args, nla=make_config(LoadConfig, given, "command line"), **kwargs)

        parameters = params[:at] + options + later
        command.__signature__ = inspect.Signature(parameters)
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        command.__name__, command.__doc__ = fn.__name__, fn.__doc__
        return command

    return decorate


def say_written(what: str, result: Path | None) -> None:
    if result is not None:  # None: stopped by --max-minutes, and the trainer said where its checkpoint is
        console.print(escape(f"{what} written to {result}"), soft_wrap=True)


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


@stage_command("token-floor", ARConfig)
def token_floor(cfg: ARConfig, data: Path = typer.Option(..., help="the NLA's training dataset (from `nlakit extract`)"),
                nla: Path = typer.Option(..., help="NLA folder (av/ and ar/) that gets token_ar/"),
                work: Optional[Path] = typer.Option(None, help="folder for the token-taught data and the AR's checkpoints "
                                                     "(default: <nla>.token-floor)"),
                overwrite: bool = False) -> None:
    """Train the token floor: an AR that reads only the current token, stored in the NLA as token_ar/ (every FVE then shows it)."""
    from ..readings.teachers import run_token_floor

    say_written("token floor AR", run_token_floor(data, nla, cfg, work, overwrite))


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
@loads_nla()
def evaluate(cfg: EvaluateConfig, nla: LoadConfig = LoadConfig(),
             save: Optional[Path] = typer.Option(None, help="also write the explained rows as parquet"),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
             out: Optional[Path] = typer.Option(None, help="--suite full: folder for suite.json and suite.html")) -> None:
    """Round-trip score (fve_nrm) on texts, with the shuffled and teacher controls (--suite full: every check)."""
    from ..stages.evaluate import run_evaluate

    if out is not None and cfg.suite != "full":
        raise NLAError("--out is where --suite full writes suite.json and suite.html: add --suite full, or drop --out")
    if cfg.suite == "full":
        from ..readings.suite import run_full_evaluate

        metrics = run_full_evaluate(nla, cfg, save, out)
    else:
        metrics = run_evaluate(nla, cfg, save)
    if as_json:
        print(to_json(metrics))
    else:
        print_metrics(metrics)


def print_metrics(metrics: dict, prefix: str = "") -> None:
    """One `key: value` line per figure, a nested one named by its path (retried.fve_nrm), and a row of figures (one
    genre's) on one line: nothing printed as a Python dict."""
    shown = lambda v: f"{v:.4f}" if isinstance(v, float) else str(v)  # noqa: E731
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and prefix and all(not isinstance(v, dict) for v in value.values()):
            console.print(escape(f"{name:>26}: " + ", ".join(f"{k} {shown(v)}" for k, v in value.items())), soft_wrap=True)
        elif isinstance(value, dict):
            print_metrics(value, f"{name}.")
        else:
            console.print(escape(f"{name:>26}: {shown(value)}"), soft_wrap=True)


@stage_command("neurons", NeuronsConfig)
@loads_nla()
def neurons(cfg: NeuronsConfig, nla: LoadConfig = LoadConfig(),
            out: Path = typer.Option(Path("runs/neurons"), help="folder for neurons.parquet, index.html and summary.json "
                                     "(work resumes from <out>.work)"),
            explained: Optional[Path] = typer.Option(None, help="explained parquet from `nlakit evaluate --save`, or a neurons.parquet "
                                                     "built before over the same corpus: its tokens are reused, not explained again"),
            overwrite: bool = False, as_json: bool = typer.Option(False, "--json", help="print the summary as one JSON object")) -> None:
    """A dictionary of what each MLP neuron does: top contexts explained by the NLA, a description, and detection / simulation
    scores on held-out tokens beside a token-only description, a shuffled one and a ceiling."""
    from ..readings.dictionary import share
    from ..readings.neurons import run_neurons

    summary = run_neurons(nla, cfg, out, explained, overwrite)
    if summary is None:  # a helper process under `accelerate launch`: the main one writes
        return
    if as_json:
        print(to_json(summary))
        return
    rows = [(f"{scorer} {name}", f[name]) for scorer, f in summary["scorers"].items() for name in ("auroc", "auroc_token_only", "auroc_shuffled")]
    for name, figures in [*rows, ("ceiling auroc", summary["ceiling"]["auroc"])]:
        quantiles = ", ".join(f"{k} {v:.3f}" for k, v in figures.items() if k.startswith("q"))
        console.print(f"{name:>30}: {quantiles} ({figures['n']} neurons, {figures['undefined']} undefined)")
    for scorer, f in summary["scorers"].items():
        console.print(f"{scorer}: above the token-only description on {share(f['above_token_only'])} of neurons; "
                      f"{f['auroc_at_least_0.8']} at AUROC >= 0.8")
    console.print(f"{summary['neurons']} neurons described; {summary['tokens_explained']} tokens explained in {summary['seconds']:.0f} s; "
                  f"page: {out / 'index.html'}", soft_wrap=True)


@stage_command("dictionary", DictionaryConfig)
def dictionary(cfg: DictionaryConfig,
               path: Optional[Path] = typer.Argument(None, help="a neurons.parquet from `nlakit neurons`, or its folder; default: "
                                                    "the dictionary shipped for the default model"),
               as_json: bool = typer.Option(False, "--json", help="print the neurons listed as JSON, one object per line")) -> None:
    """Read a neuron dictionary: list its best neurons or those a search finds (with every score beside its baselines),
    write its pages, or export every neuron as JSON lines. With --pages or --export alone nothing is listed."""
    from ..readings.dictionary import PAGE, Dictionary, entry_headline

    d = Dictionary.load(path)
    if cfg.pages:
        pages = d.write_pages(cfg.pages)
        console.print(f"{len(pages)} page(s) written; open {Path(cfg.pages) / PAGE}", soft_wrap=True)
    if cfg.export:
        console.print(f"{d.export(cfg.export)} neurons written to {cfg.export}", soft_wrap=True)
    if (cfg.pages or cfg.export) and not (cfg.search or cfg.layer is not None):
        return
    found = d.search(cfg.search, cfg.limit, cfg.sort, cfg.least, cfg.beats_token_only, cfg.layer)
    listing = Console()  # the neurons are the command's result: standard output
    for entry in found:
        if as_json:
            print(to_json(entry))
            continue
        listing.print(escape(entry_headline(entry)), soft_wrap=True)
        listing.print(escape(f"    {entry['description']}"), soft_wrap=True)
    if not as_json:
        console.print(f"{len(found)} listed (--limit {cfg.limit}) of the {d.rows} neurons in {d.path}", soft_wrap=True)


@stage_command("directions", DirectionsConfig)
@loads_nla()
def directions(cfg: DirectionsConfig,
               file: Optional[Path] = typer.Argument(None, help=".npy (no pickles) or .safetensors: one \\[d] direction or \\[n, d] rows"),
               neuron: list[str] = typer.Option([], "--neuron", help="LAYER:INDEX: the write direction of an MLP neuron in a layer <= K "
                                                "(repeatable)"),
               nla: LoadConfig = LoadConfig(), as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """What the NLA says a residual direction adds at layer K: the mean activation plus the direction, explained beside the mean alone."""
    from ..readings.directions import print_directions, run_directions

    result = run_directions(nla, cfg, file, neuron)
    if as_json:
        print(to_json(result))
    else:
        print_directions(result)


@stage_command("explain", ExplainConfig)
@loads_nla()
def explain(
    cfg: ExplainConfig,
    text: Optional[str] = typer.Argument(None, help="the text to read token by token (or give --vectors or --random)"),
    nla: LoadConfig = LoadConfig(),
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
    run_explain(nla, text, cfg, as_json, html)
    if html:
        console.print(f"page written to {html}")


@stage_command("audit", AuditConfig)
@loads_nla()
def audit(
    cfg: AuditConfig,
    transcript: list[str] = typer.Argument(..., help="chat .json (a list of {role, content}), .jsonl (one conversation a line), "
                                           "a text file, or the text itself"),
    nla: LoadConfig = LoadConfig(),
    out: Optional[Path] = typer.Option(None, "--out", help="also write the whole audit (findings, evidence, guards, tokens) as JSON"),
    html: Optional[Path] = typer.Option(None, "--html", help="also write a self-contained page: the transcript with flagged spans "
                                        "highlighted, click one for its evidence"),
    as_json: bool = typer.Option(False, "--json", help="print the audit as JSON instead of a table"),
) -> None:
    """What the model thinks but does not say: flags in a transcript's activations, each with its evidence and guards."""
    from ..readings.audit import run_audit

    run_audit(nla, transcript, cfg, out, html, as_json)
    for what, path in (("audit", out), ("page", html)):
        if path is not None:
            console.print(escape(f"{what} written to {path}"), soft_wrap=True)


def run_preset(name: str, out: Path, max_minutes: float | None = None, model: str | None = None) -> None:
    import time

    from .pipeline import run_pipeline

    preset = load_preset(name)
    if model is not None:
        from ..core.models import resolve_model

        resolve_model(model)  # a missing folder refused before the run folder is made
        preset.model = model
    start = time.monotonic()
    metrics = run_pipeline(out, preset, max_minutes)
    keys = ("n", "fve_nrm", "fve_shuffled", "fve_teacher", "fve_token_floor", "fve_over_token", "mse_nrm", "parse_failure_rate", "baseline")
    console.print_json(json.dumps({k: metrics.get(k) for k in keys}))
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
    model: Optional[str] = typer.Option(None, help="target model (a Hugging Face id or folder) instead of the preset's: with "
                                        "quick, the shipped NLA adapted to that model's activations (e.g. a fine-tune of it)"),
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
    run_preset(preset, out, max_minutes, model)
    if export:
        from ..core.pretrained import export_pretrained

        console.print(f"packed into {export_pretrained(out, export)}")


@app.command()
@loads_nla("dtype")
def export(
    out: Path = typer.Option(..., help="folder to write av/ and ar/ into"),
    nla: LoadConfig = LoadConfig(),
    format: str = typer.Option("official", help="official: the released NLAs' layout (full weights, truncated AR, value head)"),
    dtype: str = typer.Option("bf16", "--dtype", help="weights written: bf16 (as released) or fp32"),
    overwrite: bool = False,
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Write an NLA in the layout of the released checkpoints (LoRA merged into full weights), with a model card per folder."""
    set_output(False, verbose)
    if format != "official":
        raise NLAError(f"unknown export format {format!r}: the only one is official")
    from ..stages.export import export_official

    console.print(f"official-layout NLA written to {export_official(nla, out, dtype, overwrite)}")


@stage_command("bench", BenchConfig)
def bench(cfg: BenchConfig, out: Path = typer.Option(Path("bench.json"), help="JSON file to write")) -> None:
    """Training and generation speed next to a naive baseline, the machine's limit and its measured matmul peak."""
    from rich.console import Console as StdoutConsole

    from ..bench import run_bench
    from ..bench.report import render_physics, render_scaling, render_table

    results = run_bench(cfg, out)
    if cfg.sft_only:
        print(json.dumps(results, default=str))
        return
    StdoutConsole().print(render_table(results), render_physics(results), *render_scaling(results))
    console.print(f"bench written to {out} ({results['total_s']:.0f} s)")


@stage_command("audit-bench", AuditBenchConfig)
@loads_nla()
def audit_bench(cfg: AuditBenchConfig, nla: LoadConfig = LoadConfig(),
                out: Path = typer.Option(Path("runs/secret_word/bench.json"), help="JSON file to write (rankings, answers, one "
                                         "flagged transcript); checked before the first fine-tune"),
                save_models: Path | None = typer.Option(None, help="new folder to keep each word's fine-tune in (a Hugging Face "
                                                        "folder per word, with its transcripts.jsonl): for `nlakit train "
                                                        "--model` and `nlakit audit`; resuming, the one the killed run "
                                                        "was filling")) -> None:
    """The secret-word game: LoRA fine-tunes of the NLA's target that think of a word they never write, their transcripts
    audited; recovery@k of the audit beside a black box and the logit lens (a killed run resumes at the next word)."""
    from ..bench.secret_word import run

    result = run(cfg, nla, out, save_models)
    print(result["markdown"])
    choice = result["forced_choice"]
    print(f"Where the limit lies ({choice['what']}; chance {choice['chance']:.2f}):\n\n{choice['markdown']}")
    console.print(f"{result['seconds']:.0f} s in all; audit {result['audit_seconds_per_transcript']:.1f} s per transcript; "
                  f"written to {out}", soft_wrap=True)


@stage_command("serve", ServeConfig)
@loads_nla()
def serve(cfg: ServeConfig, nla: LoadConfig = LoadConfig()) -> None:
    """Local web explorer: click tokens to read their explanations, sample, steer and search."""
    try:
        import uvicorn

        from .serve.app import LOOPBACK, create_app, request_deadline_protocol
        from .serve.explorer import on_model_thread
    except ImportError as err:
        raise NLAError(f"`nlakit serve` needs the serve extra: pip install 'nlakit[serve]' ({err})") from err
    from ..core.nla import NLA

    cfg = dataclasses.replace(cfg, token=cfg.resolved_token(), token_file=None)  # from the file or $NLAKIT_TOKEN
    loopback = cfg.host in LOOPBACK
    hosts = ["127.0.0.1", "localhost", "[::1]"] if loopback else None  # a rebound DNS name cannot reach the model
    if not loopback and not cfg.token:
        console.print(f"[bold yellow]warning:[/] --host {cfg.host} serves the explorer to the network without authentication: "
                      "anyone who can reach this port can run the model; add --token SECRET", soft_wrap=True)
    if cfg.neurons is None and nla.nla == DEFAULT_NLA and not (nla.av or nla.ar):
        from ..readings.dictionary import shipped_dictionary

        cfg = dataclasses.replace(cfg, neurons=shipped_dictionary())
    loaded = on_model_thread(NLA.load, nla)  # the thread that will serve it
    application = create_app(loaded, cfg, allowed_hosts=hosts)
    query = f"/?token={cfg.token}" if cfg.token else ""
    console.print(f"nlakit explorer on http://{'[::1]' if cfg.host == '::1' else cfg.host}:{cfg.port}{query}  (Ctrl-C to stop)")
    uvicorn.run(application, host=cfg.host, port=cfg.port, log_level="warning", timeout_keep_alive=5,
                http=request_deadline_protocol(cfg.request_timeout_s))


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=False)
    except NLAError as err:
        if env("NLAKIT_DEBUG"):
            raise
        console.print(f"[bold red]error:[/] {escape(str(err))}", soft_wrap=True)  # a user's `[draft]` is text, not markup
        raise SystemExit(2) from None
    except typer.Exit as exit_:
        raise SystemExit(exit_.exit_code) from None
    except OSError as err:  # a file that cannot be read or written: say which, in one line
        if env("NLAKIT_DEBUG"):
            raise
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        console.print(f"[bold red]error:[/]{escape(f'{where}: {err.strerror or err}')}", soft_wrap=True)
        raise SystemExit(2) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except Exception as err:  # usage errors carry their own message and code (typer's own click, or click's)
        if hasattr(err, "show") and hasattr(err, "exit_code"):
            err.show()
            raise SystemExit(err.exit_code) from None
        if out_of_space(err) and not env("NLAKIT_DEBUG"):  # a library's own error type for a full disk (safetensors)
            console.print(f"[bold red]error:[/] {escape(f'no space left on the device: {err}')}", soft_wrap=True)
            raise SystemExit(2) from None
        raise


if __name__ == "__main__":
    main()
