"""How every stage writes: atomic files, folders swapped in whole, and one rule for runs.

A stage's output is a folder. It is built in a temporary folder beside the target and moved into
place only when complete, so a failing command never leaves half a result and never removes the
old one early (`--overwrite` takes effect at that moment, not before). Checkpoints and scratch
files live in the work folder `<out>.work` beside it, whatever the stage.

"Already done" and "may resume" are decided by one rule: the run record (`nla_run.json`) holds a
fingerprint of the stage's settings and of its inputs' contents; a folder counts as done only
when its record matches, and a mismatch is refused with the fields that differ.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import NLAError

RUN_RECORD = "nla_run.json"
DERIVED_SUFFIXES = (".vectors.npy", ".vectors.json")  # caches rebuilt from the files beside them
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it into place.

    A crash mid-write leaves the old file (or none), never a truncated one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files private; outputs should look like any other file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def json_safe(value: Any) -> Any:
    """NaN and inf become null, numpy scalars and arrays plain numbers and lists: nothing non-finite leaves as JSON."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def to_json(value: Any, indent: int | None = None) -> str:
    """Strict JSON (no NaN, no Infinity), UTF-8 kept readable."""
    return json.dumps(json_safe(value), indent=indent, ensure_ascii=False, allow_nan=False, default=str)


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, to_json(data, indent=1))


def read_json(path: Path, what: str = "file") -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NLAError(f"cannot read {what} {path}: {err}") from None


def write_log(path: Path, log: list[dict]) -> None:
    """A CSV with one row per logged step (the union of the rows' keys as columns)."""
    if not log:
        return
    keys = list(dict.fromkeys(k for row in log for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys)
    writer.writeheader()
    writer.writerows(log)
    atomic_write_text(path, buffer.getvalue())


def finalize_folder(tmp: Path, final: Path) -> None:
    """Move a fully written folder into place (the old one removed only after the new one exists)."""
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def build_folder(final: Path, write: Callable[[Path], None]) -> Path:
    """Write a whole folder through `write(tmp)` beside `final`, then swap it in."""
    final = Path(final)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finalize_folder(tmp, final)
    return final


# ---------------------------------------------------------------- fingerprints


def content_digest(path: str | Path) -> str:
    """A short digest of a file's or folder's contents (a name that is no path digests as itself).

    Large files are read at their size, head and tail: enough to tell a replaced file from the
    same one, cheap for multi-GB parquet files (their footer, at the tail, describes every row).
    """
    path_obj = Path(path)
    if not path_obj.exists():
        return hashlib.sha256(str(path).encode()).hexdigest()[:16]
    files = [path_obj] if path_obj.is_file() else sorted(
        p for p in path_obj.rglob("*") if p.is_file() and not p.name.startswith(".") and p.name != RUN_RECORD
        and not p.name.endswith(DERIVED_SUFFIXES))
    digest = hashlib.sha256()
    window = 1 << 20
    for file in files:
        size = file.stat().st_size
        digest.update(f"{file.relative_to(path_obj) if file != path_obj else file.name}|{size}|".encode())
        with file.open("rb") as f:
            if size <= 4 * window:
                digest.update(f.read())
            else:
                digest.update(f.read(window))
                f.seek(size - window)
                digest.update(f.read(window))
    return digest.hexdigest()[:16]


@dataclass
class StageRun:
    """One stage writing one output folder: its work folder, its done rule, its publication.

    `settings` are what decides the result: a settings dataclass (config.py's; its runtime-only fields, such as a
    time budget, left out) or a plain dict; `inputs` name the files or folders it reads (their contents are
    fingerprinted). A setting that a recorded run lacks (it was made before the setting existed) matches when
    the wanted value is that setting's default, so adding a setting never orphans finished or resumable runs.
    """

    stage: str
    out: Path
    settings: Any
    inputs: dict[str, str | Path]
    overwrite: bool = False
    in_place: bool = False  # the stage fills `out` itself (teach): an unrecorded folder is simply not done yet

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self._fingerprint: dict[str, Any] | None = None
        self.defaults: dict[str, Any] = {}
        if dataclasses.is_dataclass(self.settings):
            kept = [f for f in dataclasses.fields(self.settings) if not f.metadata.get("runtime")]
            self.defaults = {f.name: f.default for f in kept if f.default is not dataclasses.MISSING}
            self.settings = {f.name: getattr(self.settings, f.name) for f in kept}

    @property
    def work(self) -> Path:
        return self.out.with_name(self.out.name + ".work")

    @property
    def fingerprint(self) -> dict[str, Any]:
        if self._fingerprint is None:
            inputs = {name: content_digest(path) for name, path in self.inputs.items()}
            self._fingerprint = json.loads(json.dumps({"settings": self.settings, "inputs": inputs}, default=str))
        return self._fingerprint

    def matches(self, recorded: dict[str, Any] | None) -> bool:
        """`recorded` is this run: same inputs, same settings, a setting it lacks being at its default."""
        if recorded is None or recorded == self.fingerprint:
            return recorded is not None
        filled = json.loads(json.dumps({**self.defaults, **(recorded.get("settings") or {})}, default=str))
        return recorded.get("inputs") == self.fingerprint["inputs"] and filled == self.fingerprint["settings"]

    def done(self) -> bool:
        """True when `out` holds this stage's result for these settings and inputs.

        A folder made by another stage or run is refused (with what differs), unless `overwrite`.
        """
        if not self.out.exists():
            return False
        recorded = read_record(self.out).get(self.stage)
        if self.matches(recorded):
            return not self.overwrite
        if self.overwrite:
            return False
        if recorded is None:
            if self.in_place or not any(self.out.iterdir()):
                return False
            raise NLAError(f"{self.out} already exists and holds no {self.stage} result: choose another folder "
                           "(or pass --overwrite to replace it once the new result is complete)")
        raise NLAError(f"{self.out} holds a {self.stage} result made with other {differences(recorded, self.fingerprint)}: "
                       "pass --overwrite to replace it, or choose another folder")

    def begin(self) -> Path:
        """The work folder, checked against this run: a killed run with the same fingerprint resumes.

        Under `overwrite` the old work folder (scratch nlakit made) is cleared; the old output stays until `publish`.
        """
        work = self.work
        recorded = read_record(work).get(self.stage) if work.exists() else None
        if self.overwrite and work.exists():  # a fresh run; called once the stage's inputs have been read and checked
            shutil.rmtree(work)
        elif recorded is not None and not self.matches(recorded):
            raise NLAError(f"{work} holds an unfinished {self.stage} run with other {differences(recorded, self.fingerprint)}: "
                           "pass --overwrite to start afresh, or choose another output folder")
        work.mkdir(parents=True, exist_ok=True)
        write_record(work, self.stage, self.fingerprint)
        return work

    def publish(self, write: Callable[[Path], None], clear_work: bool = False) -> Path:
        """Build the output through `write(tmp)`, record the fingerprint, then swap it in.

        `clear_work`: the work folder (nlakit's own scratch: shards, chunks) is deleted once the output is in
        place, for a stage whose output records how it was made and leaves nothing to resume from.
        """

        def write_all(tmp: Path) -> None:
            write(tmp)
            write_record(tmp, self.stage, self.fingerprint)

        out = build_folder(self.out, write_all)
        if clear_work:
            shutil.rmtree(self.work, ignore_errors=True)
        return out

    def record_in_place(self) -> None:
        """For a stage that fills its input folder in place (teach): mark it done there."""
        write_record(self.out, self.stage, self.fingerprint)


def read_record(folder: Path) -> dict[str, Any]:
    path = Path(folder) / RUN_RECORD
    return read_json(path, "run record") if path.exists() else {}


def write_record(folder: Path, stage: str, fingerprint: dict[str, Any]) -> None:
    record = read_record(folder)
    record[stage] = fingerprint
    write_json(Path(folder) / RUN_RECORD, record)


def differences(recorded: dict[str, Any], wanted: dict[str, Any]) -> str:
    """`settings (lr: 0.001 -> 0.002)`-style text naming what changed between two fingerprints."""
    parts = []
    for section in ("settings", "inputs"):
        old, new = recorded.get(section, {}) or {}, wanted.get(section, {}) or {}
        changed = [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        if changed:
            label = "settings" if section == "settings" else "input contents"
            parts.append(f"{label} ({'; '.join(changed[:6])}{'; ...' if len(changed) > 6 else ''})")
    return ", ".join(parts) or "settings"
