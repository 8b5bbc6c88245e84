"""The documentation's reference pages, generated from the code so they cannot drift from it.

- `reference/settings.md`: every settings dataclass in `nlakit/core/config.py` (each field's flag, type,
  default, accepted values and help text, read through `config.fields_of`), the presets as their
  differences from the defaults, and the environment variables (`config.ENVIRONMENT`);
- `reference/cli.md`: every `nlakit` command with its arguments and options, read from the typer app
  (`nlakit.app.cli.app`), i.e. exactly what `nlakit COMMAND --help` prints.

mkdocs runs this file as a hook (`hooks:` in mkdocs.yml): `on_files` adds both pages to the build
without writing them into docs/, so a built site always shows the settings of the code it was built
from. Run by hand, it writes them to a folder (default docs/reference, where .gitignore keeps them
out of commits): `python scripts/docs_reference.py [FOLDER]`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from nlakit.app import cli
from nlakit.core import config as conf

ROOT = Path(__file__).resolve().parents[1]
GENERATED = "Generated from the code by `scripts/docs_reference.py` each time the site is built"


# ---------------------------------------------------------------- markdown helpers


def cell(text: Any) -> str:
    """Text safe inside a markdown table cell: pipes and angle brackets escaped outside `code`, one line."""
    parts = str(text).replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return "`".join(parts)


def code(value: Any) -> str:
    """A value as inline code, written as a settings file would (none, true, false; a backtick inside cannot end it)."""
    text = "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(row) + " |" for row in rows]


def first_paragraph(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ")


# ---------------------------------------------------------------- settings


def settings_classes() -> list[type]:
    """Every settings dataclass config.py declares, in the order it declares them."""
    return [obj for obj in vars(conf).values()
            if isinstance(obj, type) and issubclass(obj, conf.Settings) and obj is not conf.Settings
            and dataclasses.is_dataclass(obj) and obj.__module__ == conf.__name__]


def type_name(hint: Any) -> str:
    kind = conf.scalar_type(hint)
    name = getattr(kind, "__name__", str(kind))
    return f"{name} or none" if type(None) in typing.get_args(hint) else name


def flag_of(f: dataclasses.Field, hint: Any, meta: dict[str, Any]) -> str:
    """The option(s) the CLI makes of a setting: the same rule as `cli.config_parameters`."""
    if meta.get("flag"):  # aliases separated by spaces, a boolean's two switches by a slash
        return " ".join(" / ".join(code(switch) for switch in part.split("/")) for part in meta["flag"].split())
    dashed = f.name.replace("_", "-")
    return f"`--{dashed}` / `--no-{dashed}`" if conf.scalar_type(hint) is bool else f"`--{dashed}`"


def accepts(meta: dict[str, Any]) -> str:
    words = {"min": "≥ {:g}", "above": "> {:g}", "below": "< {:g}", "max": "≤ {:g}"}
    out = [form.format(meta[key]) for key, form in words.items() if key in meta]
    if "choices" in meta:
        out.append(", ".join(code(c) for c in meta["choices"]))
    return "; ".join(out)


def default_of(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        return code(f.default)
    return ""


def commands_by_settings() -> dict[str, list[str]]:
    """Settings class name -> the commands that take it (their `--config` option names the class)."""
    found: dict[str, list[str]] = {}
    for name, command in commands():
        for param in command.params:
            match = re.search(r"file of (\w+) settings", param.help or "") if "--config" in param.opts else None
            if match:
                found.setdefault(match.group(1), []).append(name)
    return found


def preset_changes(preset: conf.Preset, base: Any = None, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(setting, value, default) for each setting a preset sets away from the defaults, nested ones as `ar.steps`."""
    base = base if base is not None else type(preset)()
    out = []
    for f in dataclasses.fields(preset):
        value, default = getattr(preset, f.name), getattr(base, f.name)
        if dataclasses.is_dataclass(value):
            out += preset_changes(value, default, f"{prefix}{f.name}.")
        elif value != default:
            out.append((prefix + f.name, value, default))
    return out


def settings_markdown() -> str:
    """The settings reference: one section per settings dataclass, then the presets and the environment."""
    used = commands_by_settings()
    lines = [
        "# Settings", "",
        f"{GENERATED}, from the declarations in `nlakit/core/config.py`: every setting is declared there once, "
        "with its type, default, the values it accepts and its help text.", "",
        "A setting reaches a run in three ways, all checked the same way when the config is made (type, finite, range): "
        "as a flag of its command (under the setting's name below; `nlakit COMMAND --help` shows the same text), as a key of a "
        "`--config settings.yaml` file (YAML or JSON; flags given beside it win), or as a field of a preset "
        "(`nlakit train --preset FILE.yaml`, see [Preset](#preset)). "
        "Settings marked **runtime** change how a run goes (its time budget, sharding, logging cadence), not what it "
        "computes: they are left out of the fingerprint that decides whether an output is already done or a "
        "checkpoint may resume.", "",
    ]
    for cls in settings_classes():
        lines += [f"## {cls.__name__}", ""]
        if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):  # dataclasses make one up when there is none
            lines += [" ".join(cls.__doc__.split()), ""]
        parents = [b.__name__ for b in cls.__bases__ if b is not conf.Settings]
        if parents:
            lines += [f"Extends {', '.join(f'[{p}](#{p.lower()})' for p in parents)}.", ""]
        if cls.__name__ in used:
            lines += ["Used by " + ", ".join(f"[`nlakit {c}`](cli.md#nlakit-{c})" for c in used[cls.__name__]) + ".", ""]
        rows = []
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                sub = hints[f.name].__name__
                rows.append([code(f.name), sub, f"{sub}()", f"the [{sub}](#{sub.lower()}) settings of this stage"])
        for f, hint, meta in conf.fields_of(cls):
            help_text = cell(meta.get("help", ""))
            if meta.get("runtime"):
                help_text = "**runtime** · " + help_text
            kind = ", ".join(filter(None, [type_name(hint), accepts(meta)]))
            rows.append([f"{code(f.name)}<br>{flag_of(f, hint, meta)}", kind, default_of(f), help_text])
        lines += table(["setting and flag", "type", "default", "help"], rows) + [""]

    lines += ["## Presets", "",
              "`nlakit train --preset NAME` runs one of these; a `.yaml`/`.json` file of [Preset](#preset) fields is "
              "read the same way (fields it leaves out keep their defaults). Each preset is listed by the settings it "
              "changes from the defaults above.", ""]
    for name, make in conf.PRESETS.items():
        lines += [f"### `{name}`", "", " ".join((make.__doc__ or "").split()), ""]
        changes = preset_changes(make())
        lines += table(["setting", "value", "default"], [[code(k), code(v), code(d)] for k, v, d in changes]) if changes else ["Every setting at its default."]
        lines += [""]

    lines += ["## Environment variables", "", "Read in `nlakit/core/config.py` only (`config.env`), from `config.ENVIRONMENT`:", ""]
    lines += table(["variable", "meaning"], [[code(k), cell(v)] for k, v in conf.ENVIRONMENT.items()]) + [""]
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def commands() -> list[tuple[str, Any]]:
    """(name, click command) for every `nlakit` command, in the order `nlakit --help` lists them."""
    group = typer.main.get_command(cli.app)
    return list(group.commands.items())


def option_names(param: Any) -> str:
    names = " / ".join(code(o) for o in param.opts)
    if param.secondary_opts:
        names += " / " + " / ".join(code(o) for o in param.secondary_opts)
    return names


DEFAULT_IN_HELP = re.compile(r"\s*\\?\[default: (.*)\]\s*$")  # a setting's option states its default at the end of its help


def option_default(param: Any) -> str:
    if param.required:
        return "required"
    stated = DEFAULT_IN_HELP.search(param.help or "")
    if stated:
        return code(stated.group(1))
    value = param.default
    if value is None:
        return ""
    if isinstance(value, bool):
        if param.secondary_opts:
            return code(param.opts[0] if value else param.secondary_opts[0])
        return "on" if value else "off"
    return code(value)


def help_of(param: Any) -> str:
    return cell(DEFAULT_IN_HELP.sub("", param.help or ""))


def command_section(name: str, command: Any, settings: dict[str, str]) -> list[str]:
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [p for p in command.params if p.param_type_name == "option" and not getattr(p, "hidden", False)]
    usage = " ".join([f"nlakit {name} [OPTIONS]"] + [p.name.upper() if p.required else f"[{p.name.upper()}]" for p in arguments])
    lines = [f"## nlakit {name}", "", " ".join((command.help or "").split()), "", f"```\n{usage}\n```", ""]
    if name in settings:
        cls = settings[name]
        lines += [f"Its settings are the [{cls}](settings.md#{cls.lower()}) dataclass: each one is an option below and a key "
                  "of its `--config` file.", ""]
    rows = [[code(p.name.upper()), help_of(p), "required" if p.required else ""] for p in arguments]
    rows += [[option_names(p), help_of(p), option_default(p)] for p in options]
    return lines + table(["argument / option", "help", "default"], rows) + [""]


def cli_markdown() -> str:
    """The command-line reference: a summary of every command, then each one's arguments and options."""
    group = typer.main.get_command(cli.app)
    settings = {command: cls for cls, names in commands_by_settings().items() for command in names}
    lines = ["# Command line", "",
             f"{GENERATED}, from the `nlakit` app itself (`nlakit/app/cli.py`): what `nlakit COMMAND --help` prints. "
             "The options of the stage commands are made from their [settings](settings.md), so their help texts and "
             "defaults are declared once, in `nlakit/core/config.py`.", "",
             " ".join((group.help or "").split()), ""]
    lines += table(["command", "what it does"], [[f"[`nlakit {n}`](#nlakit-{n})", cell(first_paragraph(c.help))] for n, c in commands()])
    lines += ["", "Every command prints one line (`error: …`) and exits with 2 on input it cannot use; `NLAKIT_DEBUG=1` shows the "
              "traceback behind it.", ""]
    for name, command in commands():
        lines += command_section(name, command, settings)
    return "\n".join(lines)


# ---------------------------------------------------------------- mkdocs hook and script

PAGES: dict[str, Callable[[], str]] = {"reference/settings.md": settings_markdown, "reference/cli.md": cli_markdown}


def on_files(files: Any, config: Any) -> Any:
    """mkdocs hook: add the generated pages to the build (a copy written by hand into docs/ is replaced)."""
    from mkdocs.structure.files import File

    for uri, render in PAGES.items():
        stale = files.get_file_from_path(uri)
        if stale is not None:
            files.remove(stale)
        files.append(File.generated(config, uri, content=render()))
    return files


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """mkdocs hook: `mkdocs serve` rebuilds when a setting or a command changes."""
    for path in ("nlakit/core/config.py", "nlakit/app/cli.py"):
        server.watch(str(ROOT / path))
    return server


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else ROOT / "docs" / "reference"
    for uri, render in PAGES.items():
        path = folder / Path(uri).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
