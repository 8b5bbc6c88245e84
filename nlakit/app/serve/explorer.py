"""The explorer's model side: one thread runs every model job, and `Explorer` does the work (see app.py for why).

Everything here may refuse a request with an `APIError`, which the app turns into JSON
{"error": code, "message": ...} with its HTTP status.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...core.config import ServeConfig
from ...core.corpus import Document, guess_genre
from ...core.errors import NLAError
from ...core.metrics import cosine
from ...core.nla import NLA
from ...core.reading import extract_documents
from ...readings.directions import SUFFIXES as DIRECTION_SUFFIXES
from ...readings.directions import read_directions


class APIError(Exception):
    """An error the client should see as JSON {"error": code, "message": ...} with `status`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


MODEL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlakit-model")


def on_model_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn` on the one thread that does the explorer's model work (loading included), and wait for it.

    PyTorch's OpenMP threads serve the process's main thread best once it has used them: another
    thread then pays about 30 us more per parallel op (a 64 x 576 add: 3.8 -> 35 us), which made a
    click 2.6 s instead of 1.3 s. So `nlakit serve` loads the NLA and runs every job here, and the
    main thread (the web server) never runs a tensor op.
    """
    return MODEL_THREAD.submit(fn, *args).result()


class ModelWorker:
    """Runs every model job on MODEL_THREAD; admits 1 running + `max_waiting` queued jobs, refuses more."""

    def __init__(self, max_waiting: int, timeout_s: float):
        self._slots = threading.BoundedSemaphore(1 + max_waiting)
        self._pending: set[Future] = set()
        self.timeout_s = timeout_s

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if not self._slots.acquire(blocking=False):
            raise APIError(503, "busy", "the model is busy with other requests; try again in a moment")
        future = MODEL_THREAD.submit(fn, *args)
        self._pending.add(future)
        future.add_done_callback(self._finished)  # also runs when a queued job is cancelled
        return future

    def _finished(self, future: Future) -> None:
        self._pending.discard(future)
        self._slots.release()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        future = self.submit(fn, *args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except (asyncio.TimeoutError, TimeoutError):
            future.cancel()  # frees the slot if it never started; a running job cannot be interrupted
            raise APIError(503, "timeout", f"no answer from the model within {self.timeout_s:g} s; try a shorter text") from None

    def shutdown(self) -> None:
        """Cancel this app's queued jobs (a running one finishes); the thread stays for the next app in this process."""
        for future in list(self._pending):
            future.cancel()


@dataclass
class TextEntry:
    """One text's forward pass: its tokens and layer-K vectors, plus greedy explanations as clicked."""

    rendered: str
    tokens: list[dict]
    vectors: np.ndarray
    explained: dict[int, dict] = field(default_factory=dict)


class Explorer:
    """The model-side work. Only the ModelWorker thread calls it, so its caches need no lock.

    `limits`: the explorer's settings, of which the model side reads the token limit, the cache size and the explanation cap.
    """

    def __init__(self, nla: NLA, limits: ServeConfig):
        self.nla, self.limits = nla, limits
        self.cfg = replace(nla.extract_config(), max_length=limits.max_tokens)
        self.texts: OrderedDict[str, TextEntry] = OrderedDict()
        self.contrasts: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def render(self, text: str, chat: bool) -> str:
        if not chat:
            return text
        if not getattr(self.nla.tokenizer, "chat_template", None):
            raise APIError(422, "no_chat_template", "this tokenizer has no chat template: send plain text")
        messages = [{"role": "user", "content": text}]
        return str(self.nla.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

    def rows(self, texts: list[str], chat: bool = False) -> list[dict]:
        """Every token's row; `chat`: the texts were rendered by the chat template (tokenised once: no second BOS)."""
        docs = [Document(f"explorer:{i}", t, guess_genre(t), templated=chat) for i, t in enumerate(texts)]
        return list(extract_documents(self.nla.target, self.nla.tokenizer, docs, self.cfg, self.nla.meta.layer_index, all_positions=True))

    def entry(self, text: str, chat: bool) -> TextEntry:
        rendered = self.render(text, chat)
        key = hashlib.sha256(f"{chat}|{rendered}".encode()).hexdigest()
        if key in self.texts:
            self.texts.move_to_end(key)
            return self.texts[key]
        n = len(self.nla.tokenizer(rendered, add_special_tokens=not chat)["input_ids"])
        if n > self.limits.max_tokens:
            raise APIError(413, "too_many_tokens", f"the text has {n} tokens; the limit is {self.limits.max_tokens}")
        rows = self.rows([rendered], chat)
        if not rows:
            raise APIError(422, "no_tokens", "the text has no tokens to read")
        tokens = [{"index": i, "position": r["position"], "token": r["token"], "context": r["context"],
                   "activation_norm": float(np.linalg.norm(r["activation_vector"]))} for i, r in enumerate(rows)]
        self.texts[key] = TextEntry(rendered, tokens, np.stack([r["activation_vector"] for r in rows]).astype(np.float32))
        while len(self.texts) > self.limits.cached_texts:
            self.texts.popitem(last=False)
        return self.texts[key]

    def token(self, text: str, chat: bool, index: int) -> tuple[TextEntry, np.ndarray]:
        entry = self.entry(text, chat)
        if index >= len(entry.tokens):
            raise APIError(422, "bad_index", f"token index {index} is out of range: the text has {len(entry.tokens)} tokens")
        return entry, entry.vectors[index]

    def scored(self, vectors: np.ndarray, temperature: float = 0.0, seed: int | None = None) -> list[dict]:
        """Explain each vector and score the explanation by the AR's reconstruction of it.

        Responses that lacked the closing tag (`parsed` false) score mse_nrm 2, and the page says
        why instead of showing a bare bad number; `capped`: the length cap cut them.
        """
        return self.nla.roundtrip(vectors, self.limits.max_new_tokens, temperature, seed).rows()

    def tokenize(self, text: str, chat: bool) -> dict:
        entry = self.entry(text, chat)
        return {"rendered": entry.rendered, "tokens": [{k: v for k, v in t.items() if k != "context"} for t in entry.tokens]}

    def explain(self, text: str, chat: bool, index: int) -> dict:
        entry, vector = self.token(text, chat, index)
        if index not in entry.explained:
            floor = self.nla.token_floor([{**entry.tokens[index], "activation_vector": vector}])  # what the token alone rebuilds
            entry.explained[index] = {**self.scored(vector[None])[0], "fve_token_floor": None if floor is None else float(floor[0])}
        return {**entry.tokens[index], **entry.explained[index]}

    def sample(self, text: str, chat: bool, index: int, n: int, temperature: float, seed: int | None) -> dict:
        entry, vector = self.token(text, chat, index)
        return {**entry.tokens[index], "temperature": temperature, "samples": self.scored(np.repeat(vector[None], n, 0), temperature, seed)}

    def contrast(self, positive: list[str], negative: list[str], reduce: str) -> np.ndarray:
        """Mean activation of the positive prompts minus that of the negative ones (last token or mean over tokens)."""
        key = (tuple(positive), tuple(negative), reduce)
        if key not in self.contrasts:
            means = []
            for side, prompts in (("positive", positive), ("negative", negative)):
                by_doc: dict[str, list[dict]] = {}
                for row in self.rows(prompts):
                    by_doc.setdefault(row["doc_id"], []).append(row)
                if len(by_doc) < len(prompts):
                    raise APIError(422, "empty_prompt", f"a {side} prompt has no tokens to read")
                pick = (lambda rs: max(rs, key=lambda r: r["position"])["activation_vector"]) if reduce == "last" else \
                       (lambda rs: np.mean([r["activation_vector"] for r in rs], axis=0))
                means.append(np.mean([pick(rs) for rs in by_doc.values()], axis=0))
            self.contrasts[key] = (means[0] - means[1]).astype(np.float32)
            while len(self.contrasts) > self.limits.cached_texts:
                self.contrasts.popitem(last=False)
        return self.contrasts[key]

    def steer(self, text: str, chat: bool, index: int, strength: float, direction: np.ndarray | None,
              contrast: tuple[list[str], list[str], str] | None) -> dict:
        """Explain activation + strength * unit_direction * |activation| next to the activation itself."""
        entry, vector = self.token(text, chat, index)
        direction = self.contrast(*contrast) if contrast else direction
        norm = float(np.linalg.norm(direction))
        if not np.isfinite(norm) or norm < 1e-8:
            raise APIError(422, "zero_direction", "the direction is zero: the two prompt lists give the same mean activation")
        unit = direction / norm
        steered = vector + strength * unit * float(np.linalg.norm(vector))
        result = self.nla.roundtrip(np.stack([vector, steered]).astype(np.float32), self.limits.max_new_tokens)
        (original, moved), rebuilt = result.rows(), result.reconstructions
        original["toward_direction"], moved["toward_direction"] = cosine(rebuilt[0], unit), cosine(rebuilt[1], unit)
        return {**{k: v for k, v in entry.tokens[index].items() if k != "context"}, "strength": strength,
                "direction": {"norm": norm, "cos_with_activation": cosine(vector, unit)}, "original": original, "steered": moved}


def list_directions(folder: Path | None) -> list[str]:
    if folder is None:
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in DIRECTION_SUFFIXES)


def load_direction(folder: Path | None, name: str, d_model: int) -> np.ndarray:
    """A saved direction by its listed name (never a path: no traversal), read by directions.read_directions (no pickles).

    A file with several rows gives the one named `direction`, or is refused.
    """
    if name not in list_directions(folder):
        raise APIError(404, "unknown_direction", f"no saved direction named {name!r}")
    try:
        names, rows = read_directions(Path(folder) / name, d_model)  # type: ignore[arg-type]
    except NLAError as err:
        raise APIError(422, "bad_direction", str(err)) from None
    chosen = [i for i, n in enumerate(names) if n.split("[")[0] == "direction"] or list(range(len(rows)))
    if len(chosen) != 1:
        raise APIError(422, "bad_direction", f"{name} holds {len(rows)} directions ({', '.join(names[:4])}): "
                                             "name the tensor `direction` or keep only one")
    return rows[chosen[0]]
