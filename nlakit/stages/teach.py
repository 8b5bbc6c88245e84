"""Stage 2: teacher explanations for the AV warm start (and the AR's first inputs).

A teacher sees only the text up to the token (never the activation: all but `av`) and writes what a
model would be "thinking" there. Four teachers share one interface:
- `template`: no LLM; quotes the end of the context, names its genre and topic, and lists the
  target model's own top next-token predictions with their probabilities (recorded by `extract`);
  which of these parts, in which order, is its `design` (prompts.parse_design), recorded in the
  sidecar as `prompt_templates.teacher` so the models trained on it and their `teacher` control
  write the same shape. Fast and, because it quotes, the most reconstructable signal per token;
  `nlakit teachers` ranks designs.
- `local`: an instruct model on this machine describes the text and what comes next.
- `api`: any OpenAI-compatible chat endpoint (base URL + the name of an API-key variable).
- `av`: the one teacher that reads the activation, not the text: an NLA's own AV, greedy. Its
  explanations are not a warm start but the AR's training text for a round of AR training on what
  the AV writes (`train-ar --init` that NLA): the AR update GRPO makes online on sampled rollouts,
  here offline, on the greedy explanations inference reads. A row the AV fails greedily (no closing
  tag, or cut by its cap) is sampled again up to AV_RETRIES times (NLA.retry_failed), and one failed
  on every try is dropped with a note (seeded, a rerun repeats the same tries). With `samples` N,
  the AV also samples N explanations of each row and the NLA's AR keeps, among these and
  the greedy one, the explanation it rebuilds best: the AV's best-of-N as its own SFT data
  (`train-av --init` that NLA), expert iteration (rejection-sampling fine-tuning, as in ReST or
  RAFT) where GRPO's small batches are too noisy on a CPU.
Finished batches are cached next to the dataset, so a killed run resumes without paying twice. The
cache records what made it (the teacher's settings, the split's digest, the cache file itself): one
made by another teacher, model or URL, for other rows, or received with the folder is ignored.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import torch

from ..core import dataset
from ..core.config import DEFAULT_DESIGN, DEFAULT_MODEL, DEFAULT_NLA, SAMPLE_TEMPERATURE, TeachConfig, user_variable
from ..core.errors import NLAError
from ..core.files import StageRun, content_digest, provenance
from ..core.models import load_causal_lm, load_tokenizer
from ..core.progress import note, progress
from ..core.prompts import parse_explanation, template_explanation
from ..core.roundtrip import RoundTrip, pick_best
from ..core.sidecar import Sidecar

INSTRUCTION = (
    "A language model is reading the text below and must predict what comes next. In 2-3 short "
    "lines, say what it is most likely tracking at the very end of the text: the genre and topic, "
    "a key phrase it relies on (quote it), and what the last words set up next. About 60 words. "
    "Answer only inside <explanation></explanation> tags.\n\n<begin_text>{context}<end_text>"
)


class Teacher(Protocol):
    name: str
    design: str | None  # the template's parts (prompts.parse_design); None: a teacher that writes free text

    def explain(self, rows: list[dict]) -> list[str | None]: ...


@dataclass
class TemplateTeacher:
    design: str = DEFAULT_DESIGN  # prompts.parse_design's grammar
    name: str = "template"

    def explain(self, rows: list[dict]) -> list[str | None]:
        return [template_explanation(r, self.design) for r in rows]


class LocalTeacher:
    """An instruct model from this machine (default: the target model itself)."""

    name, design = "local", None

    def __init__(self, model: str = DEFAULT_MODEL, max_new_tokens: int = 80, batch_size: int = 8):
        self.model_name = model
        self.tokenizer = load_tokenizer(model)
        self.tokenizer.padding_side = "left"
        self.model = load_causal_lm(model)
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size

    @torch.no_grad()
    def explain(self, rows: list[dict]) -> list[str | None]:
        out: list[str | None] = []
        for start in range(0, len(rows), self.batch_size):
            prompts = [
                self.tokenizer.apply_chat_template(
                    [{"role": "user", "content": INSTRUCTION.format(context=r["context"][-600:])}],
                    tokenize=False, add_generation_prompt=True,
                )
                + "<explanation>"
                for r in rows[start : start + self.batch_size]
            ]
            enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            gen = self.model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id)
            for seq in gen[:, enc["input_ids"].shape[1]:]:
                text = self.tokenizer.decode(seq, skip_special_tokens=True).split("</explanation>")[0].strip()
                out.append(text or None)
        return out


AV_RETRIES = 3


class AVTeacher:
    """An NLA's AV explaining each row's activation vector (`reads_vectors`: teach_split hands it the vectors)."""

    name, reads_vectors = "av", True
    drops_failures = True  # greedy and seeded samples: asking again repeats the same tries, so a row failed on all is dropped

    def __init__(self, nla: str = DEFAULT_NLA, samples: int = 0):
        from ..core.nla import NLA
        from ..core.pretrained import resolve_nla

        self.folder = resolve_nla(nla)
        self.nla = NLA.load(self.folder)
        self.av, self.cap = self.nla.av, self.nla.max_new_tokens  # the cap every command reads this AV with
        self.design = self.av.meta.prompt_templates.get("teacher")  # the AR's teacher control keeps the AV's shape
        self.samples = samples

    def explain(self, rows: list[dict]) -> list[str | None]:
        vectors = np.stack([r["vector"] for r in rows])
        quiet = lambda n: None  # noqa: E731  (teach_split's bar counts the rows: no second live bar inside it)
        chosen = self.nla.retry_failed(self.nla.roundtrip(vectors, self.cap, on_batch=quiet), AV_RETRIES, on_batch=quiet)
        if self.samples:
            chosen = self._best(chosen, quiet)
        return [e if ok else None for e, ok in zip(chosen.explanations, chosen.parsed)]

    def _best(self, greedy: RoundTrip, on_batch: Callable[[int], None]) -> RoundTrip:
        """Per row, the explanation the NLA's AR rebuilds best among the greedy one and `samples` sampled ones (pick_best;
        a failed one scores 2.0, the worst, so a row keeps its greedy explanation unless a sample beats it)."""
        n, s = len(greedy), self.samples
        sampled = self.nla.roundtrip(np.repeat(greedy.vectors, s, axis=0), self.cap, SAMPLE_TEMPERATURE, AV_RETRIES + 1, on_batch)
        order = np.concatenate([[i, *(n + i * s + np.arange(s))] for i in range(n)])  # row i's greedy, then its samples
        return pick_best(RoundTrip.joined([greedy, sampled]).take(order), s + 1)


@dataclass
class APITeacher:
    """OpenAI-compatible `/chat/completions`, retried with exponential backoff on 429, 5xx and network errors.

    A row whose answer never came (or never parsed) is None: teach_split keeps every answer it got
    and refuses to write a dataset with rows missing, so a rerun asks only for those. `breaker` rows
    in a row without an answer stop the run (a dead endpoint, or one answering 200 with an HTML page,
    would otherwise cost retries x backoff per row, hours on a large dataset); a 200 that is not the
    API's JSON is not retried (it will not change).
    """

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    max_tokens: int = 200
    temperature: float = 1.0
    concurrency: int = 8
    retries: int = 5
    timeout_s: float = 60.0
    breaker: int = 20
    name: str = "api"
    design: None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._failed_in_a_row, self._last_problem = 0, ""

    def _one(self, row: dict) -> str | None:
        if self._failed_in_a_row >= self.breaker:  # tripped: the rows still queued are not asked
            return None
        answer, problem = self._ask(row)
        with self._lock:
            self._failed_in_a_row = 0 if answer else self._failed_in_a_row + 1
            self._last_problem = problem or self._last_problem
        return answer

    def ask(self, prompt: str) -> str | None:
        """Any prompt's raw answer, through the same client (the neuron dictionary's api scorer asks with it)."""
        return self._ask({}, prompt, parse=lambda text: text)[0]

    def _ask(self, row: dict, prompt: str | None = None, parse: Callable[[str], str | None] = parse_explanation) -> tuple[str | None, str]:
        """(the parsed answer or None, what went wrong last) for one row (or a given prompt)."""
        import httpx

        key = user_variable(self.api_key_env)
        if key is None:
            raise NLAError(f"the api teacher reads its key from ${self.api_key_env}, which is not set")
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt or INSTRUCTION.format(context=row["context"])}],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        problem = ""
        for attempt in range(self.retries):
            if self._failed_in_a_row >= self.breaker:
                return None, problem
            try:
                response = httpx.post(f"{self.base_url.rstrip('/')}/chat/completions", json=body,
                                      headers={"Authorization": f"Bearer {key}"}, timeout=self.timeout_s)
            except httpx.HTTPError as err:
                problem = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 200:
                    try:
                        answer = parse(response.json()["choices"][0]["message"]["content"])
                    except (KeyError, IndexError, TypeError, ValueError):
                        kind = response.headers.get("content-type", "no content type")
                        return None, f"answers 200 with something that is not a chat completion ({kind})"
                    return answer, "" if answer else "answers without <explanation> tags"
                problem = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    return None, problem
            time.sleep(0.5 * 2**attempt)
        return None, problem

    def explain(self, rows: list[dict]) -> list[str | None]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self._one, rows))

    def check(self) -> None:
        """Stop the run once the breaker has tripped (called after each batch's answers are saved)."""
        if self._failed_in_a_row >= self.breaker:
            raise NLAError(f"stopped: {self.base_url} gave no usable answer for {self._failed_in_a_row} rows in a row "
                           f"(last: {self._last_problem or 'no answer'}); check --base-url and --api-model, then rerun "
                           "(the answers it gave are kept)")


def teacher_from(cfg: TeachConfig) -> Teacher:
    """The teacher a TeachConfig names (`teacher` was checked against the four when the config was made)."""
    if cfg.samples and cfg.teacher != "av":
        raise NLAError(f"--samples is the av teacher's (it samples an AV); the {cfg.teacher} teacher reads no activation")
    if cfg.teacher == "local":
        return LocalTeacher(cfg.model)
    if cfg.teacher == "av":
        return AVTeacher(cfg.nla, samples=cfg.samples)
    if cfg.teacher == "api":
        if not cfg.base_url or not cfg.api_model:
            raise NLAError("the api teacher needs --base-url and --api-model")
        return APITeacher(cfg.base_url, cfg.api_model, cfg.api_key_env, concurrency=cfg.concurrency, breaker=cfg.breaker)
    return TemplateTeacher(cfg.design)


def teacher_settings(teacher: Teacher) -> dict:
    """What decides a teacher's answers (not how fast it asks): its cache and the dataset's sidecar record it."""
    settings: dict = {"teacher": teacher.name}
    if teacher.design:
        settings["design"] = teacher.design
    if isinstance(teacher, APITeacher):
        settings.update(model=teacher.model, base_url=teacher.base_url.rstrip("/"), max_tokens=teacher.max_tokens,
                        temperature=teacher.temperature)
    elif isinstance(teacher, LocalTeacher):
        settings.update(model=teacher.model_name, max_new_tokens=teacher.max_new_tokens)
    elif isinstance(teacher, AVTeacher):
        settings.update(av=content_digest(teacher.folder / "av"), max_new_tokens=teacher.cap, retries=AV_RETRIES)
        if teacher.samples:  # best-of-N: the AR that chooses is an input too
            settings.update(samples=teacher.samples, ar=content_digest(teacher.folder / "ar"))
    if teacher.design is None and not isinstance(teacher, AVTeacher):
        settings["instruction"] = hashlib.sha256(INSTRUCTION.encode()).hexdigest()[:16]
    return settings


def _load_cache(path: Path, made_from: dict) -> dict[int, str | None]:
    """The answers cached at `path` if its first line records `made_from` and this very file; else none (said once)."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        header = json.loads(lines[0])["made_from"] if lines else None
    except (json.JSONDecodeError, KeyError, TypeError):
        header = None
    if header != provenance(made_from, path):
        note(f"ignored {path}: it was made by other teacher settings, for other rows, or elsewhere (a copied or "
             "received folder); its rows are asked again")
        return {}
    cache = {}
    for line in lines[1:]:
        try:
            item = json.loads(line)
            cache[int(item["i"])] = item["explanation"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # a line cut by a crash: that row is simply redone
    return cache


def teach_split(folder: Path, split: str, teacher: Teacher, batch_size: int = 64) -> int:
    """Fill the `explanation` column of one split; returns the number of rows kept."""
    table, meta = dataset.read_split(folder, split)
    settings = teacher_settings(teacher)
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]  # another model or URL, another file
    cache_path = Path(folder) / f".teach-{teacher.name}-{key}-{split}.jsonl"
    made_from = {"settings": settings, "split": content_digest(Path(folder) / f"{split}.parquet")}
    cache = _load_cache(cache_path, made_from)
    rows = table.drop_columns([dataset.VECTOR]).to_pylist()
    if getattr(teacher, "reads_vectors", False):
        store = dataset.vector_store(folder, split)
        for i, row in enumerate(rows):
            row["vector"] = store[i]
    todo = [i for i in range(len(rows)) if i not in cache]
    mode = "a" if cache else "w"  # an ignored cache is replaced by this run's own
    with progress() as bar, cache_path.open(mode, encoding="utf-8") as sink:
        if not cache:
            sink.write(json.dumps({"made_from": provenance(made_from, cache_path)}, ensure_ascii=False) + "\n")
        task = bar.add_task(f"teach {split}", total=len(rows), completed=len(rows) - len(todo), info=teacher.name)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            for i, text in zip(chunk, teacher.explain([rows[i] for i in chunk])):
                if text and text.strip():  # a failed row is not cached: the next run asks for it again
                    cache[i] = text
                    sink.write(json.dumps({"i": i, "explanation": text}, ensure_ascii=False) + "\n")
            sink.flush()
            bar.advance(task, len(chunk))
            getattr(teacher, "check", lambda: None)()  # a tripped circuit breaker stops here, this batch's answers saved
    missing = [i for i in range(len(rows)) if not cache.get(i)]
    if missing and getattr(teacher, "drops_failures", False):  # seeded: a rerun would repeat the same tries
        note(f"the {teacher.name} teacher failed {len(missing)} of {len(rows)} {split} rows on every try: they are dropped")
        keep = [i for i in range(len(rows)) if cache.get(i)]
        table, rows, cache = table.take(pa.array(keep, pa.int64())), [rows[i] for i in keep], {n: cache[i] for n, i in enumerate(keep)}
    elif missing:  # never drop a row: the dataset is written only when every row has its explanation
        raise NLAError(f"the {teacher.name} teacher gave no usable explanation for {len(missing)} of {len(rows)} {split} rows "
                       f"(failed or unparseable answers); the {len(rows) - len(missing)} it gave are kept in {cache_path}: "
                       "rerun the same `nlakit teach` to ask again for the missing ones only")
    explained = table.drop_columns([dataset.EXPLANATION]) if dataset.EXPLANATION in table.column_names else table
    explained = explained.append_column(dataset.EXPLANATION, pa.array([cache[i] for i in range(len(rows))], pa.string()))
    dataset.write_table(Path(folder) / f"{split}.parquet", explained)
    cache_path.unlink()
    return len(rows)


def run_teach(folder: Path, teacher: Teacher, overwrite: bool = False, cfg: TeachConfig | None = None) -> Path:
    """Fill both splits in place; done when the dataset's run record holds this teacher's settings."""
    if cfg is None:  # a teacher object given directly (bench, tests): the settings it stands for
        cfg = TeachConfig(teacher=teacher.name, design=teacher.design or DEFAULT_DESIGN)
    reads = {}  # another AV (or, choosing among its samples, another AR): another result
    if isinstance(teacher, AVTeacher):
        reads = {role: teacher.folder / role for role in (("av", "ar") if teacher.samples else ("av",))}
    run = StageRun("teach", folder, cfg, reads, overwrite, in_place=True)
    if run.done():
        return run.out
    meta = Sidecar.load(folder)
    if isinstance(teacher, AVTeacher):
        meta.check_compatible(teacher.av.meta, str(teacher.folder / "av"))
    kept = {split: teach_split(run.out, split, teacher) for split in dataset.SPLITS}
    meta.training.update(teacher=teacher.name, teacher_rows=kept, teacher_settings=teacher_settings(teacher))
    if teacher.design:  # the AR and AV inherit it: their `teacher` control is written the same way
        meta.prompt_templates["teacher"] = teacher.design
    else:
        meta.prompt_templates.pop("teacher", None)
    meta.save(run.out)
    run.record_in_place()
    return run.out
