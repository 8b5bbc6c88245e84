"""What long jobs print while they run: one rich progress bar style on stderr, and the switches for it.

Bars go to stderr, so `--json` output on stdout stays one clean object. `--quiet` turns them off;
third-party loading bars and logs (transformers, huggingface_hub) show only under `--verbose`.
"""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

_state = {"quiet": False}


class RateColumn(ProgressColumn):
    """Items per second (blank until there is a rate to show)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.2f}/s" if task.speed else "", style="progress.data.speed")


def progress(disable: bool = False) -> Progress:
    from rich.console import Console

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        disable=disable or _state["quiet"],
    )


def note(text: str) -> None:
    """One dim line on stderr for what a run decided on its own (a cache ignored, say); `--quiet` keeps it too."""
    from rich.console import Console

    Console(stderr=True).print(f"note: {text}", style="dim", soft_wrap=True, markup=False, highlight=False)


def set_output(quiet: bool = False, verbose: bool = False) -> None:
    """The CLI's --quiet / --verbose: nlakit's bars off, or third-party bars and logs on."""
    _state["quiet"] = quiet
    from transformers.utils import logging as transformers_logging

    if verbose:
        transformers_logging.enable_progress_bar()
        transformers_logging.set_verbosity_info()
        return
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:  # an old huggingface_hub: its bars stay
        pass
