"""The AV and AR prompts, the marker token, and parsing of explanations.

The AV reads a fixed chat prompt in which one rare single-token character (the marker) stands
where the activation goes; its input embedding is overwritten by the vector. The marker is found
automatically, confirmed by the tokens on both sides of it in the rendered prompt, and recorded in
the sidecar, so a tokenizer that splits or merges it is refused instead of silently mis-injecting.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

from transformers import PreTrainedTokenizerBase

from .errors import NLAError
from .sidecar import Sidecar

# Shorter than the official template (fewer prompt tokens per training step on a CPU); the
# template lives in the sidecar, so released NLAs with the official wording load unchanged.
AV_TEMPLATE = "Explain the vector <concept>{injection_char}</concept> inside <explanation> tags."
AR_TEMPLATE = "Summary of the following text: <text>{explanation}</text> <summary>"
CLOSING_TAG = "</explanation>"
EXPLANATION_RE = re.compile(r"<explanation>(.*?)</explanation>", re.DOTALL)
# Where the released NLAs found their markers: rare enclosed CJK symbols.
PREFERRED_MARKER_RANGE = range(0x3200, 0x3400)


def render_av_ids(tokenizer: PreTrainedTokenizerBase, template: str, injection_char: str) -> list[int]:
    """Tokenise the AV prompt in one step (a rendered string re-encoded would get a second BOS)."""
    messages = [{"role": "user", "content": template.format(injection_char=injection_char)}]
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
    ids = encoded["input_ids"] if hasattr(encoded, "keys") else encoded
    return list(ids)


def _single_token(tokenizer: PreTrainedTokenizerBase, char: str) -> int | None:
    ids = tokenizer.encode(char, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


def _marker_fits(tokenizer: PreTrainedTokenizerBase, template: str, char: str) -> dict | None:
    token_id = _single_token(tokenizer, char)
    if token_id is None:
        return None
    ids = render_av_ids(tokenizer, template, char)
    positions = [i for i, t in enumerate(ids) if t == token_id]
    if len(positions) != 1 or not 0 < positions[0] < len(ids) - 1:
        return None
    p = positions[0]
    return {
        "injection_char": char,
        "injection_token_id": token_id,
        "injection_left_neighbor_id": ids[p - 1],
        "injection_right_neighbor_id": ids[p + 1],
    }


def _marker_candidates(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """The official range first, then single-character vocabulary entries, rarest merge first."""
    preferred = [chr(cp) for cp in PREFERRED_MARKER_RANGE]
    vocab_chars = []
    for token_id in range(len(tokenizer) - 1, -1, -1):
        text = tokenizer.decode([token_id])
        if len(text) == 1 and ord(text) > 0x2000 and unicodedata.category(text)[0] in "LS":
            vocab_chars.append(text)
    return preferred + vocab_chars


def find_marker(tokenizer: PreTrainedTokenizerBase, template: str = AV_TEMPLATE) -> dict:
    """Pick a rare single-token character that survives tokenisation inside the AV prompt."""
    if "{injection_char}" not in template:
        raise NLAError("the AV template must contain {injection_char}")
    for char in _marker_candidates(tokenizer):
        found = _marker_fits(tokenizer, template, char)
        if found:
            return found
    raise NLAError("no rare single-token marker character found in this tokenizer's vocabulary")


def av_prompt(tokenizer: PreTrainedTokenizerBase, meta: Sidecar) -> tuple[list[int], int]:
    """The AV prompt ids and the marker position, checked against the sidecar's token ids."""
    tokens = meta.tokens
    required = ("injection_char", "injection_token_id", "injection_left_neighbor_id", "injection_right_neighbor_id")
    missing = [k for k in required if k not in tokens]
    if missing or "av" not in meta.prompt_templates:
        raise NLAError(f"sidecar lacks the AV marker fields {missing or ['prompt_templates.av']}")
    ids = render_av_ids(tokenizer, meta.prompt_templates["av"], tokens["injection_char"])
    marker = int(tokens["injection_token_id"])
    positions = [i for i, t in enumerate(ids) if t == marker]
    if len(positions) != 1 or not 0 < positions[0] < len(ids) - 1:
        raise NLAError(
            f"tokenizer lacks the marker token: {tokens['injection_char']!r} (id {marker}) appears "
            f"{len(positions)} times in the AV prompt; this tokenizer does not match the sidecar"
        )
    p = positions[0]
    if (ids[p - 1], ids[p + 1]) != (int(tokens["injection_left_neighbor_id"]), int(tokens["injection_right_neighbor_id"])):
        raise NLAError(
            f"marker neighbours differ from the sidecar: got {(ids[p - 1], ids[p + 1])}, expected "
            f"{(tokens['injection_left_neighbor_id'], tokens['injection_right_neighbor_id'])} (template or tokenizer drift)"
        )
    return ids, p


def ar_text(template: str, explanation: str) -> str:
    return template.format(explanation=explanation)


def ar_suffix_ids(tokenizer: PreTrainedTokenizerBase, template: str) -> list[int]:
    """Tail of the AR prompt, minus its first token (it can BPE-merge with the explanation's end)."""
    tail = template.split("{explanation}", 1)[1]
    return tokenizer.encode(tail, add_special_tokens=False)[1:]


def av_response(explanation: str) -> str:
    return f"<explanation>\n{explanation.strip()}\n</explanation>"


def parse_explanation(generated: str) -> str | None:
    """The text between the tags, or None when the closing tag never came (a failed generation)."""
    match = EXPLANATION_RE.search(generated)
    return match.group(1).strip() if match else None


# ---------------------------------------------------------------- the template teacher

STOPWORDS = set(
    "the a an and or but if then else of to in on at by for with from as is are was were be been being this that "
    "these those it its he she they them his her their we you your i me my our not no so do does did have has had "
    "will would can could should may might must shall there here what which who whom when where why how all any "
    "each more most other some such only own same than too very just also into over under about after before "
    "self none true false return def class import".split()
)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")

def topic_words(text: str, n: int = 3) -> list[str]:
    words = [w.lower() for w in WORD.findall(text) if w.lower() not in STOPWORDS]
    return [w for w, _ in Counter(words).most_common(n)]


def template_explanation(context: str, genre: str, next_tokens: list[str], quote_words: int = 6) -> str:
    """Genre and topic, a verbatim quote of the last words, and the target's own top-2 next tokens.

    Short on purpose: every token here is one the AV must learn to produce from a single vector.
    """
    quote = " ".join(context.split()[-quote_words:]).replace('"', "'")
    topics = ", ".join(topic_words(context, 2) or ["general"])
    nexts = ", ".join(json.dumps(t.replace('"', "'"), ensure_ascii=False) for t in next_tokens[:2])
    return f'{genre}; topic: {topics}.\nEnds with: "{quote}"\nNext: {nexts}'
