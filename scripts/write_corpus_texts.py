"""Write the hand-written part of nlakit's built-in corpus.

Produces ``nlakit/data/written/<genre>.jsonl`` (one ``{"text", "genre"}``
object per line) for ten genres: dialogue, story, instructions, list, code,
news, email, essay, poetry and qa.

Everything in ``scripts/corpus_texts/`` was written for nlakit; nothing is
copied from elsewhere. The texts live there as data, this script only reads,
assembles, checks and writes them:

* ``<genre>.txt``          -- complete pieces, verbatim, separated by a line
                              holding only ``===``;
* ``pools/list.json``      -- building blocks of shopping lists, packing lists,
                              to-do lists and meeting agendas (item pools,
                              headers, notes, names; ``{name}``, ``{place}``,
                              ``{days}`` and the clothes counts are filled in);
* ``pools/trivia.txt``     -- quiz questions, one ``category|question|answer``
                              a line, grouped into rounds (each used once);
* ``pools/haiku.txt``      -- one haiku a line, its lines separated by `` / ``,
                              grouped into small sequences (each used once),
                              titled from ``pools/haiku_titles.txt``.

The generator uses ``random.Random(SEED)``; the fixed seed makes the output,
and therefore the corpus built from it by ``scripts/build_corpus.py``,
reproducible byte for byte.  The script refuses to write anything if a text
falls outside 200-700 characters, is duplicated, or overlaps too much with
another text (word-trigram Jaccard similarity above ``MAX_SIMILARITY``).

Usage::

    python scripts/write_corpus_texts.py
"""

from __future__ import annotations

import datetime
import json
import random
import re
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

SEED = 7321
MIN_CHARS, MAX_CHARS = 200, 700
MAX_SIMILARITY = 0.35

ROOT = Path(__file__).resolve().parent.parent
TEXTS_DIR = Path(__file__).resolve().parent / "corpus_texts"
OUT_DIR = ROOT / "nlakit" / "data" / "written"

GENRES = (
    "dialogue", "story", "instructions", "list", "code",
    "news", "email", "essay", "poetry", "qa",
)
QUIZ_FORMATS = ("round", "qa", "numbered", "flashcards")


# ==========================================================================
# Reading the data files
# ==========================================================================


def read_text(name: str) -> str:
    return (TEXTS_DIR / name).read_text(encoding="utf-8")


def pieces(block: str) -> list[str]:
    """Split a ``===``-separated block into stripped texts."""
    return [p.strip() for p in block.strip("\n").split("\n===\n") if p.strip()]


def lines_of(name: str) -> list[str]:
    """The non-empty lines of a pool file, stripped."""
    return [line.strip() for line in read_text(name).splitlines() if line.strip()]


def list_pools() -> dict[str, Any]:
    return json.loads(read_text("pools/list.json"))


# ==========================================================================
# Generators
# ==========================================================================


def fill_names(item: str, names: list[str], rng: random.Random) -> str:
    return item.replace("{name}", rng.choice(names)) if "{name}" in item else item


def shopping_lists(pools: dict[str, Any], rng: random.Random, n: int) -> list[str]:
    sections_pool, notes = pools["shop_sections"], pools["shop_notes"]
    out = []
    headers = pools["shop_headers"][:]
    rng.shuffle(headers)
    for i in range(n):
        header = headers[i % len(headers)]
        style = rng.choice(["sections", "dashes", "boxes", "plain"])
        sections = [s for s in sections_pool if rng.random() < 0.75] or list(sections_pool)
        chosen = {s: rng.sample(sections_pool[s], rng.randint(2, 5)) for s in sections}
        # top up short lists so every list is a realistic weekly shop
        while sum(len(x) + 3 for items in chosen.values() for x in items) < 200:
            s = rng.choice(list(chosen))
            spare = [x for x in sections_pool[s] if x not in chosen[s]]
            if spare:
                chosen[s].append(rng.choice(spare))
        lines = [header]
        if style == "sections":
            for s, items in chosen.items():
                lines.append(f"{s}: " + ", ".join(items))
        else:
            flat = [x for items in chosen.values() for x in items]
            marker = {"dashes": "- ", "boxes": "[ ] ", "plain": ""}[style]
            lines += [marker + x for x in flat]
        if rng.random() < 0.6:
            lines.append(rng.choice(notes))
        out.append("\n".join(lines))
    return out


def clothes_counts(days: int) -> dict[str, int]:
    """The numbers a packing list's clothes templates name: about one top per two days, within bounds."""
    return {"half": max(2, days // 2), "half_at_least_3": max(3, days // 2), "days_at_most_5": min(days, 5)}


def packing_lists(pools: dict[str, Any], rng: random.Random, n: int) -> list[str]:
    specific_pool, clothes_pool = pools["pack_specific"], pools["pack_clothes"]
    out = []
    trips = [(kind, place) for kind, places in pools["pack_trips"].items() for place in places]
    rng.shuffle(trips)
    for kind, place in trips[:n]:
        days = rng.choice([2, 3, 4, 5, 7, 10])
        intro = rng.choice(pools["pack_intros"]).format(place=place, days=days)
        intro = intro[0].upper() + intro[1:]
        clothes = [f"{min(days, 7)} x underwear and socks"] + [c.format(**clothes_counts(days)) for c in clothes_pool[kind]]
        specific = rng.sample(specific_pool[kind], min(len(specific_pool[kind]), rng.randint(5, 7)))
        basics = rng.sample(pools["pack_basics"], rng.randint(4, 7))
        if rng.random() < 0.5:
            lines = [intro, "Clothes: " + ", ".join(clothes), "Gear:"]
            lines += ["- " + x for x in specific]
            lines.append("Also: " + ", ".join(basics))
        else:
            items = clothes + specific + basics
            lines = [intro] + ["[ ] " + x for x in items]
        out.append("\n".join(lines))
    return out


def todo_lists(pools: dict[str, Any], rng: random.Random, n: int) -> list[str]:
    todo_items = pools["todo_items"]
    out = []
    headers = pools["todo_headers"][:]
    rng.shuffle(headers)
    for i in range(n):
        items = rng.sample(todo_items, rng.randint(7, 9))
        while sum(len(x) + 5 for x in items) < 220:
            items.append(rng.choice([x for x in todo_items if x not in items]))
        items = [fill_names(x, pools["names"], rng) for x in items]
        lines = [headers[i % len(headers)]]
        numbered = rng.random() < 0.4
        for j, item in enumerate(items, 1):
            done = rng.random() < 0.3
            if numbered:
                lines.append(f"{j}. {item}" + (" - done" if done else ""))
            else:
                lines.append(("[x] " if done else "[ ] ") + item)
        out.append("\n".join(lines))
    return out


def agendas(pools: dict[str, Any], rng: random.Random, n: int) -> list[str]:
    agenda_types = pools["agenda_types"]
    out = []
    kinds = list(agenda_types)
    # meetings of the same kind never share a topic (hand out from a shuffled pool)
    topic_pools = {k: rng.sample(v, len(v)) for k, v in agenda_types.items()}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        repeats = (n - 1 - i) // len(kinds) + i // len(kinds)  # other meetings of this kind
        take = len(agenda_types[kind]) // (repeats + 1)
        topics, topic_pools[kind] = topic_pools[kind][:min(take, 5)], topic_pools[kind][take:]
        day = datetime.date(2025, rng.choice([3, 5, 6, 9, 10, 11]), rng.randint(1, 28))
        while day.weekday() > 4:  # meetings fall on weekdays
            day += datetime.timedelta(days=1)
        when = f"{day:%A} {day.day} {day:%B}"
        if kind == "Product team weekly":
            place, opening = "Room 3B / video call", ["Check-in", "Actions from last week"]
            time_ = rng.choice(["9:30 a.m.", "10:00 a.m.", "2:00 p.m."])
        else:
            place, opening = rng.choice(pools["agenda_places"]), ["Welcome and apologies", "Minutes of the last meeting"]
            time_ = rng.choice(pools["agenda_times"])
        lines = [
            f"Agenda - {kind}",
            f"{when}, {time_}, {place}",
            f"Chair: {rng.choice(pools['names'])}",
            "",
            f"1. {opening[0]}",
            f"2. {opening[1]}",
        ]
        for k, t in enumerate(topics, 3):
            minutes = rng.choice([5, 10, 10, 15, 20])
            lines.append(f"{k}. {t} ({minutes} min)")
        lines.append(f"{len(topics) + 3}. Any other business")
        lines.append(f"{len(topics) + 4}. Date of next meeting")
        out.append("\n".join(lines))
    return out


def group_sizes(n: int, lo: int = 3, hi: int = 4) -> list[int]:
    """Split n items into groups of size lo..hi (largest groups first)."""
    groups = -(-n // hi)
    while groups * lo > n:
        groups -= 1
    base, extra = divmod(n, groups)
    return [base + 1] * extra + [base] * (groups - extra)


def quiz_rounds(rng: random.Random) -> list[str]:
    by_cat: dict[str, list[tuple[str, str]]] = {}
    for line in lines_of("pools/trivia.txt"):
        cat, q, a = line.split("|")
        by_cat.setdefault(cat, []).append((q, a))
    out = []
    round_no = 0
    for cat, pairs in by_cat.items():
        pairs = pairs[:]
        rng.shuffle(pairs)
        start = 0
        for size in group_sizes(len(pairs)):
            group = pairs[start:start + size]
            start += size
            round_no += 1
            fmt = QUIZ_FORMATS[round_no % len(QUIZ_FORMATS)]
            if fmt == "round":
                lines = [f"Quiz night, round {rng.randint(1, 8)}: {cat}"]
                for k, (q, a) in enumerate(group, 1):
                    lines += [f"{k}. {q}", f"   Answer: {a}"]
            elif fmt == "qa":
                lines = []
                for q, a in group:
                    lines += [f"Q: {q}", f"A: {a}", ""]
                lines = lines[:-1]
            elif fmt == "numbered":
                lines = [f"{cat} trivia", ""]
                for k, (q, a) in enumerate(group, 1):
                    lines += [f"Question {k}: {q}", f"Answer: {a}"]
            else:
                lines = [f"Flashcards - {cat.lower()}"]
                for q, a in group:
                    lines += [f"Front: {q}", f"Back: {a}"]
            out.append("\n".join(lines))
    return out


def haiku_sequences(rng: random.Random) -> list[str]:
    poems = lines_of("pools/haiku.txt")
    rng.shuffle(poems)
    titles = lines_of("pools/haiku_titles.txt")
    out = []
    start = 0
    for i, size in enumerate(group_sizes(len(poems), 4, 4)):
        group = poems[start:start + size]
        start += size
        body = "\n\n".join("\n".join(part.strip() for part in h.split(" / ")) for h in group)
        title = titles[i % len(titles)]
        out.append(f"{title}\n\n{body}")
    return out


# ==========================================================================
# Assembly and checks
# ==========================================================================


def collect() -> dict[str, list[str]]:
    rng = random.Random(SEED)
    texts = {genre: pieces(read_text(f"{genre}.txt")) for genre in GENRES}
    pools = list_pools()
    texts["list"] += shopping_lists(pools, rng, 14)
    texts["list"] += packing_lists(pools, rng, 16)
    texts["list"] += todo_lists(pools, rng, 10)
    texts["list"] += agendas(pools, rng, 12)
    texts["qa"] += quiz_rounds(rng)
    texts["poetry"] += haiku_sequences(rng)
    return texts


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def check(texts: dict[str, list[str]]) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for genre, items in texts.items():
        if len(items) < 40:
            problems.append(f"{genre}: only {len(items)} texts (< 40)")
        for t in items:
            if not MIN_CHARS <= len(t) <= MAX_CHARS:
                problems.append(f"{genre}: {len(t)} chars: {t[:60]!r}")
            if t in seen:
                problems.append(f"{genre}: duplicate of a {seen[t]} text: {t[:60]!r}")
            seen[t] = genre
    flat = [(g, t, shingles(t)) for g, items in texts.items() for t in items]
    for (_, t1, s1), (_, t2, s2) in combinations(flat, 2):
        if s1 and s2:
            sim = len(s1 & s2) / len(s1 | s2)
            if sim > MAX_SIMILARITY:
                problems.append(f"near-duplicates ({sim:.2f}): {t1[:40]!r} / {t2[:40]!r}")
    return problems


def main() -> int:
    texts = collect()
    problems = check(texts)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUT_DIR.glob("*.jsonl"):
        if old.stem not in texts:
            old.unlink()
    for genre in GENRES:
        with (OUT_DIR / f"{genre}.jsonl").open("w", encoding="utf-8") as fh:
            for t in texts[genre]:
                fh.write(json.dumps({"text": t, "genre": genre}, ensure_ascii=False) + "\n")
    counts = Counter({g: len(v) for g, v in texts.items()})
    for genre in GENRES:
        print(f"{genre:13s} {counts[genre]:4d}")
    print(f"{'total':13s} {sum(counts.values()):4d}  -> {OUT_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
