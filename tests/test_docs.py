"""The documentation site builds with no broken link or anchor, and its reference lists every setting and command.

The reference pages are generated from the code (scripts/docs_reference.py, run by mkdocs as a hook), so a
setting added to config.py or a command added to cli.py appears in them without anyone editing a page.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from nlakit.app import cli
from nlakit.core import config

ROOT = Path(__file__).resolve().parents[1]


def docs_reference():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "scripts" / "docs_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_reference_lists_every_setting_with_its_help_and_default():
    reference = docs_reference()
    page = reference.settings_markdown()
    classes = [c for c in vars(config).values()
               if isinstance(c, type) and issubclass(c, config.Settings) and c is not config.Settings and dataclasses.is_dataclass(c)]
    assert {"ExtractConfig", "ARConfig", "RLConfig", "Preset"} <= {c.__name__ for c in classes}
    for cls in classes:
        assert f"## {cls.__name__}\n" in page
        for f, _, meta in config.fields_of(cls):
            assert f"`{f.name}`<br>" in page, f"{cls.__name__}.{f.name} missing"
            assert reference.cell(meta["help"]) in page
    assert "| `ar.steps` | `80` | `300` |" in page  # the quick preset, as its change from the AR default
    assert all(f"`{name}`" in page for name in config.ENVIRONMENT)


def test_cli_reference_lists_every_command_and_option():
    page = docs_reference().cli_markdown()
    group = typer.main.get_command(cli.app)
    assert {"demo", "explain", "train", "serve"} <= set(group.commands)
    for name, command in group.commands.items():
        assert f"## nlakit {name}\n" in page
        for param in command.params:
            if param.param_type_name == "option":
                assert f"`{param.opts[0]}`" in page, f"nlakit {name} {param.opts[0]} missing"
    assert "| `--steps` | optimiser steps | `300` |" in page  # train-ar: a setting's default read from its help


def test_readme_links_lead_to_existing_docs_pages_and_headings():
    """The README is outside the site, so mkdocs does not check its links: this does (files, and anchors against headings)."""
    toc = pytest.importorskip("markdown.extensions.toc")
    links = [link for link in re.findall(r"\]\(([^)\s]+)\)", (ROOT / "README.md").read_text(encoding="utf-8")) if "://" not in link]
    assert any(link.startswith("docs/measurements/") for link in links)
    for link in links:
        path, _, anchor = link.partition("#")
        assert (ROOT / path).is_file(), f"README links to {path}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.*)$", (ROOT / path).read_text(encoding="utf-8"), re.M)
            assert anchor in {toc.slugify(re.sub(r"[`*]", "", h), "-") for h in headings}, f"README links to a missing heading: {link}"


def test_docs_site_builds_strictly(tmp_path):
    """`mkdocs build --strict`: a broken link, a missing anchor or an unknown API object fails it (as in .ci/run)."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    cli_page = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "nlakit train-ar" in cli_page and "--positions-per-doc" in cli_page  # generated at build time by the hook
    assert "positions_per_doc" in (site / "reference" / "settings" / "index.html").read_text(encoding="utf-8")
    assert "roundtrip" in (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")  # NLA's docstrings rendered
    assert (site / "explorer.png").is_file()
