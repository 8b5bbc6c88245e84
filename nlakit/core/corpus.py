"""Text corpora: the built-in one shipped with the package, or a user's .txt/.jsonl/.parquet file.

Documents get stable ids (`<corpus>:<index>`) so the held-out split and position sampling are
keyed on the document, not on file order or process count.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .config import BUILTIN
from .errors import NLAError


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    genre: str
    # rendered by a chat template, which wrote its special tokens (Gemma's and Llama's <bos>) into the text
    # itself: tokenised as it is, since adding them again would give a second BOS
    templated: bool = False


def builtin_corpus_path() -> Path:
    return Path(str(resources.files("nlakit") / "data" / "corpus.jsonl"))


def _read_text(path: Path) -> str:
    """The file as UTF-8 text, or one line naming the problem (a binary or mis-encoded file, a folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise NLAError(f"{path} is not UTF-8 text (byte {err.start}): give a .txt, .jsonl or .parquet corpus") from None
    except OSError as err:
        raise NLAError(f"cannot read corpus {path}: {err.strerror or err}") from None
    if "\x00" in text:
        raise NLAError(f"{path} looks binary (it contains NUL bytes): give a .txt, .jsonl or .parquet corpus")
    return text


def _lines(text: str) -> list[str]:
    """A file's lines: split at "\n" (and "\r\n") only. str.splitlines also splits at U+2028, NEL and form feed,
    which may sit inside one text line (or one JSON string) and would cut a document in two."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(_lines(_read_text(path)), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise NLAError(f"{path}:{number} is not valid JSON: {err}") from err
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise NLAError(f"{path}:{number} has no string `text` field")
        for key in ("text", "genre"):  # a `\ud800` escape parses, then breaks every tokenizer and writer downstream
            value = row.get(key)
            if not isinstance(value, str):
                continue
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:
                raise NLAError(f"{path}:{number}: `{key}` holds a lone surrogate (a `\\u{ord(value[err.start]):04x}` escape "
                               f"at character {err.start}), which is not Unicode text: fix or drop that line") from None
        rows.append(row)
    return rows


def _read_rows(path: Path) -> list[dict]:
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return [{"text": line} for line in _lines(_read_text(path)) if line.strip()]
    if suffix in (".jsonl", ".json"):
        return _read_jsonl(path)
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as err:
            raise NLAError(f"cannot read {path} as parquet: {err}") from None
        if "text" not in table.column_names:
            raise NLAError(f"{path} has no `text` column (columns: {table.column_names})")
        rows = table.select([c for c in ("text", "genre") if c in table.column_names]).to_pylist()
        for number, row in enumerate(rows):
            if not isinstance(row["text"], str):
                raise NLAError(f"{path}: row {number} has no string `text` (got {row['text']!r})")
        return rows
    raise NLAError(f"unsupported corpus format {path.suffix!r}: use .txt (one text per line), .jsonl or .parquet")


def load_corpus(source: str | Path = BUILTIN, limit: int | None = None) -> list[Document]:
    """Read a corpus; refuses a missing or empty one."""
    path = builtin_corpus_path() if str(source) == BUILTIN else Path(source)
    if not path.is_file():
        raise NLAError(f"corpus file not found: {path}" if not path.exists() else f"the corpus {path} is a folder, not a file")
    name = BUILTIN if str(source) == BUILTIN else path.stem
    docs = [
        Document(f"{name}:{i}", row["text"], row.get("genre") or guess_genre(row["text"]))
        for i, row in enumerate(_read_rows(path))
        if row["text"].strip()
    ]
    if not docs:
        raise NLAError(f"empty corpus: {path} contains no non-blank text")
    return docs[:limit] if limit else docs


def is_heldout(doc_id: str, heldout_fraction: float, seed: int = 0) -> bool:
    """Document-level split keyed on the id, so it never depends on order or sharding."""
    digest = hashlib.sha256(f"{seed}|{doc_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < heldout_fraction


def builtin_heldout(heldout_fraction: float, seed: int = 0, limit: int | None = None) -> list[Document]:
    """Built-in documents in the held-out split of an extraction with these settings: never trained on."""
    docs = [d for d in load_corpus(BUILTIN) if is_heldout(d.doc_id, heldout_fraction, seed)]
    return docs[:limit] if limit else docs


_CODE = re.compile(r"(^\s*(def|class|import|from|return|for|if|while|const|let|var|function|#include|SELECT|CREATE)\b)|[{};]\s*$", re.M)
_DIALOGUE = re.compile(r"^\s*[A-Z][\w .'-]{0,20}:\s", re.M)
_LIST = re.compile(r"^\s*([-*•]|\d+[.)])\s+", re.M)


def guess_genre(text: str) -> str:
    """A cheap genre label for texts that come without one (used in teacher text and reports)."""
    lines = [line for line in text.splitlines() if line.strip()] or [text]
    share = lambda pattern: len(pattern.findall(text)) / len(lines)  # noqa: E731
    if share(_CODE) > 0.3:
        return "code"
    if share(_DIALOGUE) > 0.3 or text.count('"') >= 4:
        return "dialogue"
    if share(_LIST) > 0.4:
        return "list"
    if text.rstrip().endswith("?") or text.lstrip().lower().startswith(("how ", "what ", "why ", "q:")):
        return "qa"
    return "prose"
