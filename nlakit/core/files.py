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
import errno
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import NLAError
from .progress import note

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
    except Exception as err:
        if out_of_space(err):
            raise NLAError(f"no space left on the device to write {path} (it is left as it was): free some space and "
                           "rerun") from None
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def out_of_space(err: BaseException) -> bool:
    """Whether `err` is a full disk or quota: an OSError's errno, or the same inside a library's own error type
    (safetensors reports `IoError(Os { code: 28 ... })` as a SafetensorError, torch as a RuntimeError)."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return not isinstance(err, OSError) and ("No space left on device" in str(err) or "Disk quota exceeded" in str(err))


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


def check_output(out: Path, inputs: Iterable[str | Path] = (), overwrite: bool = False, existing: bool = False) -> Path:
    """The one rule for where a command may write its output folder, checked before any work.

    Nothing a user made is replaced unless `overwrite` names this exact output: a file at `out` is always
    refused (the output is a folder; the file stays), an output that equals, holds or lies inside one of
    the `inputs` would destroy what it reads, and an existing non-empty folder needs `overwrite`
    (`existing=True`: the caller, a `StageRun`, has decided that already from the folder's run record).
    """
    out = Path(out)
    if out.is_symlink() and not out.is_dir() or out.exists() and not out.is_dir():
        raise NLAError(f"output {out} is a file, not a folder: give another output name (the file is left as it is)")
    refuse_overlap(out, inputs, "choose a folder apart from its inputs")
    if not existing and not overwrite and out.is_dir() and any(out.iterdir()):
        raise NLAError(f"{out} already exists: choose another folder (or pass --overwrite to replace it once the new "
                       "result is complete)")
    return out


def check_output_file(out: Path, inputs: Iterable[str | Path] = (), flag: str = "output") -> Path:
    """`check_output`'s rule for an output that is one file (`evaluate --save`, `explain --out/--html`, `audit --out/--html`,
    `bench --out`, the demo's pages), checked before any work.

    The file is named by its flag, so an existing file there is replaced, always atomically (`atomic_write`: whole or
    not at all), as every run of these commands has done; what is refused is what a user did not name: the output
    being, or lying inside, one of the `inputs` (the corpus, the vectors, the transcript), and a folder at `out`.
    """
    out = Path(out)
    if out.is_dir():
        raise NLAError(f"{flag} {out} is a folder, not a file: give a file name (the folder is left as it is)")
    above = next((p for p in out.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise NLAError(f"{flag} {out}: {above} is a file, not a folder: give another output name (the file is left as it is)")
    refuse_overlap(out, inputs, "give an output file apart from its inputs", flag)
    return out


def refuse_overlap(out: Path, inputs: Iterable[str | Path], advice: str, flag: str = "output") -> None:
    """An output that is, holds or lies inside an input would destroy what the command reads: refused in one line."""
    where = out.resolve()
    for source in inputs:
        try:
            path = Path(source)
            if not path.exists():  # a model's hub name, a corpus name, a text given inline: nothing on disk to overwrite
                continue
        except (OSError, ValueError):  # a long text or one with a NUL in it is no file name
            continue
        read = path.resolve()
        same = where == read or out.exists() and os.path.samefile(out, path)  # a symlink or hard link to the input
        relation = ("is" if same else "holds" if where in read.parents else "lies inside" if read in where.parents else None)
        if relation:
            raise NLAError(f"{flag} {out} {relation} the input {source}: writing there would destroy what the command reads; "
                           f"{advice}")


def scratch_folder(final: Path, kind: str) -> Path:
    """A new empty folder beside `final`, named for this run alone (`<final>.tmp-<pid>-<random>`): never a user's
    `<final>.tmp` or `<final>.old`, and never another run's scratch."""
    final.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=final.parent, prefix=f"{final.name}.{kind}-{os.getpid()}-"))
    os.chmod(folder, 0o777 & ~_UMASK)  # mkdtemp makes folders private; an output should look like any other folder
    return folder


def finalize_folder(tmp: Path, final: Path) -> None:
    """Move a fully written folder into place; the old one is set aside under a name of this run's own and removed
    only once the new one is in place (put back if the move fails)."""
    if not final.exists() and not final.is_symlink():
        tmp.rename(final)
        return
    backup = scratch_folder(final, "old")
    final.rename(backup / final.name)
    try:
        tmp.rename(final)
    except BaseException:
        (backup / final.name).rename(final)
        backup.rmdir()
        raise
    shutil.rmtree(backup, ignore_errors=True)


def build_folder(final: Path, write: Callable[[Path], None], inputs: Iterable[str | Path] = (), overwrite: bool = False) -> Path:
    """Write a whole folder through `write(tmp)` beside `final`, then swap it in.

    `check_output`'s rule applies first: an existing folder is replaced only with `overwrite`, never an input.
    A failing `write` leaves `final` as it was.
    """
    final = check_output(Path(final), inputs, overwrite)
    tmp = scratch_folder(final, "tmp")
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finalize_folder(tmp, final)
    return final


# ---------------------------------------------------------------- fingerprints


def made_here(path: Path) -> list[int]:
    """Which file on this machine `path` is (device, inode), for a cache to record when it writes itself.

    A cache whose record names another file was copied, received or planted: a key beside it proves nothing
    (a sender can write any key), so such a cache is rebuilt, never trusted.
    """
    stat = Path(path).stat()
    return [stat.st_dev, stat.st_ino]


def provenance(made_from: dict[str, Any], path: Path) -> dict[str, Any]:
    """The header a cache file records and is checked against when read: what made it, and which file it is
    (`made_here`), so a copied or planted file with a right-looking key is still refused."""
    return {**made_from, "file": made_here(path)}


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
    A run that differs only in an `extendable` setting (GRPO's step count) is the same run at another length:
    it is not done, and it continues from its work folder (the trainer refuses a checkpoint past the new length).
    """

    stage: str
    out: Path
    settings: Any
    inputs: dict[str, str | Path]
    overwrite: bool = False
    in_place: bool = False  # the stage fills `out` itself (teach): an unrecorded folder is simply not done yet
    # settings from outside the stage's own that also decide its result (how its NLA decodes: nla.decoding; where audit-bench
    # keeps its fine-tunes), each given only where it is not at its default, so that records made before it still match
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self._fingerprint: dict[str, Any] | None = None
        self.defaults: dict[str, Any] = {}
        self.extendable: set[str] = set()
        if dataclasses.is_dataclass(self.settings):
            kept = [f for f in dataclasses.fields(self.settings) if not f.metadata.get("runtime")]
            self.defaults = {f.name: f.default for f in kept if f.default is not dataclasses.MISSING}
            self.extendable = {f.name for f in kept if f.metadata.get("extendable")}
            self.settings = {f.name: getattr(self.settings, f.name) for f in kept}
        self.settings = {**self.settings, **self.extra}

    @property
    def work(self) -> Path:
        return self.out.with_name(self.out.name + ".work")

    @property
    def fingerprint(self) -> dict[str, Any]:
        if self._fingerprint is None:
            inputs = {name: content_digest(path) for name, path in self.inputs.items()}
            self._fingerprint = json.loads(json.dumps({"settings": self.settings, "inputs": inputs}, default=str))
        return self._fingerprint

    def matches(self, recorded: dict[str, Any] | None, any_length: bool = False) -> bool:
        """`recorded` is this run: same inputs, same settings, a setting it lacks being at its default
        (`any_length`: whatever the extendable settings)."""
        if recorded is None or recorded == self.fingerprint:
            return recorded is not None
        filled = json.loads(json.dumps({**self.defaults, **(recorded.get("settings") or {})}, default=str))
        wanted = self.fingerprint["settings"]
        if any_length:
            filled, wanted = ({k: v for k, v in d.items() if k not in self.extendable} for d in (filled, wanted))
        return recorded.get("inputs") == self.fingerprint["inputs"] and filled == wanted

    def done(self) -> bool:
        """True when `out` holds this stage's result for these settings and inputs.

        A folder made by another stage or run is refused (with what differs), unless `overwrite`; so is an output
        that is a file or overlaps an input (`check_output`), before any work.
        """
        check_output(self.out, self.inputs.values(), self.overwrite, existing=True)
        if not self.out.exists():
            return False
        recorded = read_record(self.out).get(self.stage)
        if self.matches(recorded):
            return not self.overwrite
        if self.overwrite or self.matches(recorded, any_length=True):  # replaced, or this run continued to a new length
            return False
        if recorded is None:
            if self.in_place or not any(self.out.iterdir()):
                return False
            raise NLAError(f"{self.out} already exists and holds no {self.stage} result: choose another folder "
                           "(or pass --overwrite to replace it once the new result is complete)")
        raise NLAError(f"{self.out} holds a {self.stage} result made with other {differences(recorded, self.fingerprint)}: "
                       "pass --overwrite to replace it, or choose another folder")

    def begin(self, main: bool = True, barrier: Callable[[], None] | None = None, restart_other: bool = False) -> Path:
        """The work folder, checked against this run: a killed run with the same fingerprint resumes.

        Under `overwrite` the old work folder (scratch nlakit made) is cleared; so is one holding nothing but its run
        record (a run that stopped before saving any progress, e.g. on a bad setting: it must not block the corrected
        rerun). A work folder with progress in it is never removed without `overwrite`, and a folder that nlakit did
        not make (no run record) never. The old output stays until `publish`.

        Under several processes (`main`: whether this is the first; `barrier`: wait for all of them), every process
        checks the folder before the first one changes it, and none goes on until it is ready: no process clears
        a folder another has just made.

        `restart_other`: an unfinished run with other settings or inputs is cleared (with a note saying what differs)
        instead of refused, for a command with no `--overwrite` whose output file every run replaces (`audit --out`):
        the other run's scratch can serve nothing but that file, and is never read by this run.
        """
        work, barrier = self.work, barrier or (lambda: None)
        if work.exists() and not work.is_dir():
            raise NLAError(f"{work} is a file, where {self.stage} keeps its checkpoints: move it away")
        ours = (work / RUN_RECORD).is_file()
        if work.exists() and not ours and any(work.iterdir()):
            raise NLAError(f"{work} exists and is not an nlakit work folder (no {RUN_RECORD}): move it away, "
                           "or choose another output folder")
        recorded = read_record(work).get(self.stage) if ours else None
        progress = ours and any(not p.name.startswith(".") and p.name != RUN_RECORD for p in work.iterdir())
        fresh = ours and (self.overwrite or not progress)  # a fresh run; called once the stage's inputs have been read and checked
        if restart_other and progress and not fresh and not self.matches(recorded, any_length=True):
            made = f"other {differences(recorded, self.fingerprint)}" if recorded else "no record of its settings"
            note(f"{work} held an unfinished {self.stage} run with {made}: it is cleared, and this run starts afresh")
            fresh = True
        if not fresh and recorded is not None and not self.matches(recorded, any_length=True):
            raise NLAError(f"{work} holds an unfinished {self.stage} run with other {differences(recorded, self.fingerprint)}: "
                           "pass --overwrite to start afresh, or choose another output folder")
        barrier()
        if main:
            if fresh:
                shutil.rmtree(work)
            work.mkdir(parents=True, exist_ok=True)
            write_record(work, self.stage, self.fingerprint)
        barrier()
        return work

    def publish(self, write: Callable[[Path], None], clear_work: bool = False) -> Path:
        """Build the output through `write(tmp)`, record the fingerprint, then swap it in.

        `clear_work`: the work folder (nlakit's own scratch: shards, chunks) is deleted once the output is in
        place, for a stage whose output records how it was made and leaves nothing to resume from.
        """

        def write_all(tmp: Path) -> None:
            write(tmp)
            write_record(tmp, self.stage, self.fingerprint)

        out = build_folder(self.out, write_all, self.inputs.values(), overwrite=True)  # `done` has ruled on the old folder
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
