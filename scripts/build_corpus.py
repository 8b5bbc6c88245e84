"""Build nlakit's built-in default text corpus: ``nlakit/data/corpus.jsonl``.

The corpus is the default set of texts that nlakit feeds through a language
model to collect activations.  Nothing can be downloaded when it is built, so
it is assembled from material that ships with the project or with Python:

* ``nlakit/data/written/*.jsonl`` -- short texts written for the project in
  ten genres (dialogue, story, instructions, list, code, news, email, essay,
  poetry, qa); source ``"nlakit"``.
* paragraphs of the Python reference documentation bundled in
  ``pydoc_data.topics`` (genre ``"docs"``, source ``"pydoc"``);
* docstrings of modules, classes and functions of a fixed list of pure-Python
  standard-library modules (genre ``"docs"``, source ``"stdlib-docstring"``);
* functions cut from the source files of the same modules with ``ast``
  (genre ``"code"``, source ``"stdlib-source"``).

Everything is deterministic: the module list is fixed, candidates are
collected in a stable order, and every sampling/shuffling step uses a
``random.Random`` seeded with ``SEED``.  The fixed seed is what makes the
corpus reproducible -- activations, caches and experiment results keyed on
corpus rows stay valid when the file is rebuilt.  (The docs and stdlib parts
depend on the Python version's standard library; the committed file was built
with the interpreter recorded in ``nlakit/data/README.md``.)

Usage::

    python scripts/build_corpus.py            # writes corpus.jsonl + README.md
    python scripts/build_corpus.py --check    # rebuild in memory, compare only
"""

from __future__ import annotations

import argparse
import ast
import collections
import importlib
import inspect
import json
import math
import random
import re
import sys
import textwrap
import warnings
from pathlib import Path

SEED = 20240607

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "nlakit" / "data"
WRITTEN_DIR = DATA / "written"
OUT = DATA / "corpus.jsonl"
README = DATA / "README.md"

MIN_CHARS, MAX_CHARS = 200, 900
MIN_TOTAL, MAX_TOTAL = 2000, 4000
WRITTEN_SHARE = 0.40  # written texts aim for ~40% (at least 35%) of the mix
DOCS_TO_CODE = 2.0  # the rest is split docs : stdlib code = 2 : 1
MAX_PER_MODULE_CODE = 25  # keep any single module from dominating the code part
MAX_PER_MODULE_DOCS = 30
MAX_BYTES = 3_000_000

GENRES = (
    "dialogue", "story", "instructions", "list", "code",
    "news", "email", "essay", "poetry", "qa",
)

# Pure-Python standard-library modules (fixed order: it is part of the seed).
STDLIB_MODULES = (
    "argparse", "ast", "base64", "bisect", "calendar", "cmd", "colorsys",
    "configparser", "contextlib", "copy", "csv", "dataclasses", "difflib",
    "email.message", "enum", "fnmatch", "fractions", "ftplib", "functools",
    "getopt", "gettext", "glob", "gzip", "heapq", "html", "html.parser",
    "http.client", "http.cookies", "imaplib", "inspect", "ipaddress", "json",
    "json.decoder", "json.encoder", "logging", "mailbox", "optparse",
    "pathlib", "pprint", "queue", "quopri", "random", "sched", "shlex",
    "shutil", "smtplib", "statistics", "string", "tarfile", "tempfile",
    "textwrap", "threading", "tokenize", "traceback", "typing",
    "urllib.parse", "uuid", "warnings", "wave", "zipfile",
)


# --------------------------------------------------------------------------
# helpers


def tidy(text: str) -> str:
    """Strip trailing spaces, drop edge blank lines, collapse blank runs."""
    lines = [line.rstrip() for line in text.expandtabs(4).splitlines()]
    text = "\n".join(lines).strip("\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    return textwrap.dedent(text).strip()


def in_range(text: str, lo: int = MIN_CHARS, hi: int = MAX_CHARS) -> bool:
    return lo <= len(text) <= hi


# --------------------------------------------------------------------------
# written texts


def load_written() -> list[dict]:
    rows = []
    files = sorted(WRITTEN_DIR.glob("*.jsonl"))
    if not files:
        sys.exit(f"no written texts in {WRITTEN_DIR}; run scripts/write_corpus_texts.py")
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                obj = json.loads(line)
                genre = obj["genre"]
                if genre not in GENRES:
                    raise ValueError(f"{path}:{lineno}: unknown genre {genre!r}")
                rows.append({"text": obj["text"], "genre": genre, "source": "nlakit"})
    return rows


# --------------------------------------------------------------------------
# pydoc topics


def _tidy_paragraph(par: str) -> str:
    raw_lines = [line for line in par.expandtabs(4).splitlines() if line.strip()]
    par = tidy(par)
    lines = par.splitlines()
    # "Title\n=====" headings: keep the title on its own line, drop the rule.
    if len(lines) >= 2 and re.fullmatch(r"[*=\-~^]{3,}", lines[-1].strip()):
        return "\n".join(line for line in lines[:-1] if line.strip())
    # Prose paragraphs (no indented continuation lines, no grammar rules) are
    # unwrapped into one line; code samples and grammar keep their layout.
    literal = any(line.startswith(" ") for line in raw_lines) or any(
        "::=" in line or line.startswith(">>>") for line in lines
    )
    if literal:
        return par
    return re.sub(r"\s+", " ", par).strip()


def pydoc_chunks() -> list[dict]:
    from pydoc_data.topics import topics

    rows = []
    for name in sorted(topics):
        paragraphs = [
            p for p in (_tidy_paragraph(p) for p in re.split(r"\n\s*\n", topics[name]))
            if p and not re.fullmatch(r"[*=\-~^ ]+", p)  # drop heading underlines
        ]
        buf: list[str] = []
        for par in paragraphs:
            if len(par) > MAX_CHARS:  # too long to keep: flush and skip
                if buf:
                    rows.append("\n\n".join(buf))
                buf = []
                continue
            candidate = "\n\n".join(buf + [par])
            if len(candidate) > MAX_CHARS:
                rows.append("\n\n".join(buf))
                buf = [par]
            else:
                buf.append(par)
            if len("\n\n".join(buf)) >= 450:  # paragraph-sized: close the chunk
                rows.append("\n\n".join(buf))
                buf = []
        if buf:
            rows.append("\n\n".join(buf))
    out = []
    for text in rows:
        # a chunk made only of a heading + grammar line is not useful prose
        if in_range(text) and sum(c.isalpha() for c in text) > 0.5 * len(text):
            out.append({"text": text, "genre": "docs", "source": "pydoc"})
    return out


# --------------------------------------------------------------------------
# stdlib docstrings and source


def _import(name: str):
    try:
        return importlib.import_module(name)
    except Exception:  # ImportError, missing optional C deps, ...
        return None


def stdlib_docstrings() -> dict[str, list[dict]]:
    """Module -> docstring rows, in a stable order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. typing.io / typing.re deprecations
        return _stdlib_docstrings()


def _stdlib_docstrings() -> dict[str, list[dict]]:
    per_module: dict[str, list[dict]] = {}
    for modname in STDLIB_MODULES:
        mod = _import(modname)
        if mod is None:
            continue
        objs = [mod]
        for _, obj in sorted(vars(mod).items()):
            if getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isclass(obj):
                objs.append(obj)
                for _, member in sorted(vars(obj).items()):
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    if inspect.isfunction(member):
                        objs.append(member)
            elif inspect.isfunction(obj):
                objs.append(obj)
        rows = []
        for obj in objs:
            doc = obj.__doc__ if isinstance(obj.__doc__, str) else None
            if not doc:
                continue
            text = tidy(inspect.cleandoc(doc))
            if in_range(text):
                rows.append({"text": text, "genre": "docs", "source": "stdlib-docstring"})
        per_module[modname] = rows
    return per_module


def stdlib_functions() -> dict[str, list[dict]]:
    """Module -> function-source rows, in file order."""
    per_module: dict[str, list[dict]] = {}
    for modname in STDLIB_MODULES:
        mod = _import(modname)
        path = getattr(mod, "__file__", None) if mod else None
        if not path or not path.endswith(".py"):
            continue
        try:
            source = Path(path).read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        rows = []
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            seg = ast.get_source_segment(source, node, padded=True)
            if not seg:
                continue
            text = tidy(seg)
            if in_range(text):
                doc = ast.get_docstring(node, clean=True)
                rows.append((node.lineno, text, tidy(doc) if doc else None))
        rows.sort(key=lambda r: (r[0], r[1]))
        per_module[modname] = [
            {"text": t, "genre": "code", "source": "stdlib-source", "doc": d}
            for _, t, d in rows
        ]
    return per_module


def sample_round_robin(per_module: dict[str, list[dict]], n: int, cap: int,
                       rng: random.Random, seen: set[str]) -> list[dict]:
    """Pick up to n rows, spreading picks over modules (at most cap each)."""
    pools = []
    for modname in STDLIB_MODULES:
        rows = [r for r in per_module.get(modname, []) if r["text"] not in seen]
        rng.shuffle(rows)
        pools.append(rows[:cap])
    picked: list[dict] = []
    depth = 0
    while len(picked) < n and any(depth < len(p) for p in pools):
        for pool in pools:
            if depth < len(pool) and len(picked) < n and pool[depth]["text"] not in seen:
                picked.append(pool[depth])
                seen.add(pool[depth]["text"])
        depth += 1
    return picked


# --------------------------------------------------------------------------
# build


def build() -> list[dict]:
    rng = random.Random(SEED)
    seen: set[str] = set()

    written = []
    for row in load_written():
        if row["text"] not in seen:
            seen.add(row["text"])
            written.append(row)
    n_written = len(written)

    total = min(MAX_TOTAL, max(MIN_TOTAL, math.ceil(n_written / WRITTEN_SHARE)))
    rest = total - n_written
    n_docs = round(rest * DOCS_TO_CODE / (DOCS_TO_CODE + 1))
    n_code = rest - n_docs

    # docs: half pydoc paragraphs, half docstrings (topping up from the other)
    pydoc = list({r["text"]: r for r in pydoc_chunks() if r["text"] not in seen}.values())
    docstrings = stdlib_docstrings()
    n_pydoc = min(len(pydoc), n_docs // 2)
    rng.shuffle(pydoc)
    docs = []
    for r in pydoc[:n_pydoc]:
        if r["text"] not in seen:
            seen.add(r["text"])
            docs.append(r)
    docs += sample_round_robin(docstrings, n_docs - len(docs), MAX_PER_MODULE_DOCS, rng, seen)
    for r in pydoc[n_pydoc:]:
        if len(docs) >= n_docs:
            break
        if r["text"] not in seen:
            seen.add(r["text"])
            docs.append(r)

    # skip functions whose docstring is already in the docs part
    doc_texts = {r["text"] for r in docs}
    functions = {
        mod: [r for r in rows if r["doc"] not in doc_texts]
        for mod, rows in stdlib_functions().items()
    }
    code = sample_round_robin(functions, n_code, MAX_PER_MODULE_CODE, rng, seen)

    rows = written + docs + code
    rng.shuffle(rows)
    return rows


def summarize(rows: list[dict]) -> dict:
    by_genre = collections.Counter(r["genre"] for r in rows)
    by_source = collections.Counter(r["source"] for r in rows)
    by_pair = collections.Counter((r["source"], r["genre"]) for r in rows)
    return {"genre": by_genre, "source": by_source, "pair": by_pair}


def serialize(rows: list[dict]) -> str:
    return "".join(
        json.dumps({"text": r["text"], "genre": r["genre"], "source": r["source"]},
                   ensure_ascii=False) + "\n"
        for r in rows
    )


def readme_text(rows: list[dict], nbytes: int) -> str:
    s = summarize(rows)
    total = len(rows)
    lines = [
        "# nlakit built-in corpus",
        "",
        "`corpus.jsonl` is the default text corpus nlakit runs through a model to",
        "collect activations. One JSON object per line:",
        '`{"text": ..., "genre": ..., "source": ...}`.',
        "",
        f"{total} texts, {nbytes:,} bytes, built with Python "
        f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}.",
        "",
        "## Sources",
        "",
        "| source | what | texts | share |",
        "|---|---|---:|---:|",
    ]
    what = {
        "nlakit": "short texts written for nlakit (`written/*.jsonl`)",
        "pydoc": "paragraphs of the Python reference docs (`pydoc_data.topics`)",
        "stdlib-docstring": "docstrings of pure-Python stdlib modules",
        "stdlib-source": "functions from stdlib `.py` files (via `ast`)",
    }
    for src in ("nlakit", "pydoc", "stdlib-docstring", "stdlib-source"):
        n = s["source"][src]
        lines.append(f"| `{src}` | {what[src]} | {n} | {100 * n / total:.1f}% |")
    lines += ["", "## Genres", "", "| genre | texts | of which written |", "|---|---:|---:|"]
    for genre, n in sorted(s["genre"].items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| `{genre}` | {n} | {s['pair'][('nlakit', genre)]} |")
    lines += [
        "",
        "Written texts are 200-700 characters; docs and code chunks 200-900.",
        "Exact duplicates are removed and rows are shuffled with a fixed seed.",
        "",
        "## Rebuilding",
        "",
        "```",
        "python scripts/write_corpus_texts.py   # regenerate written/*.jsonl",
        "python scripts/build_corpus.py         # rebuild corpus.jsonl and this README",
        "```",
        "",
        "Both scripts are deterministic (fixed seeds). The docs/code parts come",
        "from the running interpreter's standard library, so a different Python",
        "version gives a slightly different file.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="rebuild in memory and report whether corpus.jsonl is up to date")
    args = ap.parse_args(argv)

    rows = build()
    data = serialize(rows)
    nbytes = len(data.encode("utf-8"))
    if nbytes > MAX_BYTES:
        sys.exit(f"corpus too large: {nbytes} bytes")

    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == data
        print("corpus.jsonl is up to date" if same else "corpus.jsonl is STALE")
        return 0 if same else 1

    OUT.write_text(data, encoding="utf-8")
    README.write_text(readme_text(rows, nbytes), encoding="utf-8")

    s = summarize(rows)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(rows)} texts, {nbytes} bytes")
    for key in ("source", "genre"):
        print(f"by {key}:")
        for name, n in sorted(s[key].items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {name:18s} {n:5d}  {100 * n / len(rows):5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
