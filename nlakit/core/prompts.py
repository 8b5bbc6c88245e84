"""The AV and AR prompts, the marker token, and parsing of explanations.

The AV reads a fixed chat prompt in which one rare single-token character (the marker) stands
where the activation goes; its input embedding is overwritten by the vector. The marker is found
automatically, confirmed by the tokens on both sides of it in the rendered prompt, and recorded in
the sidecar, so a tokenizer that splits or merges it is refused instead of silently mis-injecting.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import Counter
from dataclasses import replace

from transformers import PreTrainedTokenizerBase

from .config import DEFAULT_DESIGN, parse_design
from .errors import NLAError
from .sidecar import Sidecar

# Shorter than the official template (fewer prompt tokens per training step on a CPU); the
# template lives in the sidecar, so released NLAs with the official wording load unchanged.
AV_TEMPLATE = "Explain the vector <concept>{injection_char}</concept> inside <explanation> tags."
AR_TEMPLATE = "Summary of the following text: <text>{explanation}</text> <summary>"
CLOSING_TAG = "</explanation>"
INJECT_PLACEHOLDER = "<INJECT>"  # where the vector goes in a custom AV prompt (the official client's name)
EXPLANATION_RE = re.compile(r"<explanation>(.*?)</explanation>", re.DOTALL)
# Where the released NLAs found their markers: rare enclosed CJK symbols.
PREFERRED_MARKER_RANGE = range(0x3200, 0x3400)


# The AV prompt's format for a base model whose tokenizer has no chat template (GPT-2, Pythia, Phi-2, most pretrained-only
# checkpoints): one `User:` line and `Assistant:`. It is recorded in the sidecar (prompt_templates.av_chat) and written
# into the AV folder's tokenizer, so a reload (and the official client, which applies the tokenizer's template) reads
# the same prompt.
PLAIN_CHAT_TEMPLATE = ("{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n{% endfor %}"
                       "{% if add_generation_prompt %}Assistant:\n{% endif %}")


def av_chat_template(tokenizer: PreTrainedTokenizerBase) -> str | None:
    """None when the tokenizer has its own chat template; else the plain format, with the BOS first where the tokenizer
    adds one to text (a base model read its pretraining text that way)."""
    if getattr(tokenizer, "chat_template", None):
        return None
    bos = tokenizer.bos_token_id
    adds_bos = bos is not None and tokenizer("x", add_special_tokens=True)["input_ids"][:1] == [bos]
    return ("{{ bos_token }}" if adds_bos else "") + PLAIN_CHAT_TEMPLATE


def render_av_ids(tokenizer: PreTrainedTokenizerBase, template: str, injection_char: str, chat_template: str | None = None) -> list[int]:
    """Tokenise the AV prompt in one step (a rendered string re-encoded would get a second BOS).

    `chat_template`: the sidecar's recorded format (prompt_templates.av_chat), else the tokenizer's own.
    """
    if chat_template is None and not getattr(tokenizer, "chat_template", None):
        raise NLAError("the tokenizer has no chat template and the sidecar records no prompt_templates.av_chat: extract the "
                       "dataset again with this nlakit (it records a plain prompt format for base models)")
    messages = [{"role": "user", "content": template.format(injection_char=injection_char)}]
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, chat_template=chat_template)
    ids = encoded["input_ids"] if hasattr(encoded, "keys") else encoded
    return list(ids)


def _single_token(tokenizer: PreTrainedTokenizerBase, char: str) -> int | None:
    ids = tokenizer.encode(char, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


def _marker_fits(tokenizer: PreTrainedTokenizerBase, template: str, char: str, chat_template: str | None = None) -> dict | None:
    token_id = _single_token(tokenizer, char)
    if token_id is None:
        return None
    ids = render_av_ids(tokenizer, template, char, chat_template)
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


def find_marker(tokenizer: PreTrainedTokenizerBase, template: str = AV_TEMPLATE, chat_template: str | None = None) -> dict:
    """Pick a rare single-token character that survives tokenisation inside the AV prompt."""
    if "{injection_char}" not in template:
        raise NLAError("the AV template must contain {injection_char}")
    for char in _marker_candidates(tokenizer):
        found = _marker_fits(tokenizer, template, char, chat_template)
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
    ids = render_av_ids(tokenizer, meta.prompt_templates["av"], tokens["injection_char"], meta.prompt_templates.get("av_chat"))
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


def custom_av_template(prompt: str, marker: str) -> str:
    """A user's AV prompt as a template: the vector goes where it has the official placeholder `<INJECT>` (or the
    NLA's own marker character), which must appear exactly once; other braces are kept as text."""
    found = prompt.count(INJECT_PLACEHOLDER) + prompt.count(marker)
    if found != 1:
        raise NLAError(f"the AV prompt must contain the marker {INJECT_PLACEHOLDER} (where the vector goes) exactly once; "
                       f"it has it {found} times")
    escaped = prompt.replace("{", "{{").replace("}", "}}")
    return escaped.replace(INJECT_PLACEHOLDER, "{injection_char}").replace(marker, "{injection_char}")


def with_av_prompt(meta: Sidecar, tokenizer: PreTrainedTokenizerBase, prompt: str) -> Sidecar:
    """`meta` with a custom AV prompt: its template and the marker's neighbours in it (what `av_prompt` checks).

    Refused when the rendered prompt does not hold the marker token exactly once (a neighbour merged with it).
    """
    char = meta.tokens.get("injection_char")
    if not char:
        raise NLAError("the AV sidecar records no injection_char: a custom prompt cannot say where the vector goes")
    template = custom_av_template(prompt, char)
    fits = _marker_fits(tokenizer, template, char, meta.prompt_templates.get("av_chat"))
    if fits is None or fits["injection_token_id"] != int(meta.tokens["injection_token_id"]):
        raise NLAError(f"in the AV prompt {prompt!r} the marker is not one token of its own: it merges with the text beside "
                       f"{INJECT_PLACEHOLDER}; put a space or punctuation around it")
    return replace(meta, tokens={**meta.tokens, **fits}, prompt_templates={**meta.prompt_templates, "av": template})


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
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")  # a content word: `content_words`' rule at its default length


@functools.lru_cache(maxsize=8)
def _content_word(shortest: int) -> re.Pattern[str]:
    return WORD if shortest == 4 else re.compile(rf"[A-Za-z][A-Za-z'-]{{{shortest - 1},}}")


def content_words(text: str, shortest: int = 4) -> list[str]:
    """What a text is about: its words that start with a letter and run `shortest`+ characters (letters, ' and -),
    lower case, in order, stop words left out. One of nlakit's two word rules, beside `words` (what a text contains):
    topics of the template teacher (4+), the suite's keyword recall, a direction's new words and the secret-word black
    box (3+: short nouns such as "sea" count there)."""
    return [w for w in (m.lower() for m in _content_word(shortest).findall(text or "")) if w not in STOPWORDS]


def topic_words(text: str, n: int = 3) -> list[str]:
    return [w for w, _ in Counter(content_words(text)).most_common(n)]


def template_explanation(row: dict, design: str = DEFAULT_DESIGN) -> str:
    """The template teacher's explanation of one extracted row (context, genre, token, next_tokens[, next_probs]).

    Short on purpose: every token here is one the AV must learn to produce from a single vector.
    `nlakit teachers` ranks designs by how much of the vector an AR rebuilds from them.
    """
    context, lines = row["context"], []
    for m in parse_design(design):
        if m.group(1) == "genre":
            lines.append(f'{row["genre"]}; topic: {", ".join(topic_words(context, 2) or ["general"])}.')
        elif m.group(1) == "token":
            lines.append(f'Reads: {_quoted(row["token"])}')
        elif m.group(2):
            quote = " ".join(context.split()[-int(m.group(2)) :]).replace('"', "'")
            lines.append(f'Ends with: "{quote}"')
        else:
            probs = None
            if m.group(4):
                if row.get("next_probs") is None:
                    raise NLAError(f"teacher design {design!r} writes next-token probabilities and these rows have none "
                                   "(extracted before nlakit recorded them): extract again, or drop the 'p'")
                probs = list(row["next_probs"])
            wanted, recorded = int(m.group(3)), len(row["next_tokens"])
            if wanted > recorded:  # the line would say fewer tokens than the design names, silently
                raise NLAError(f"teacher design {design!r} writes {wanted} next tokens and these rows record {recorded}: extract "
                               f"again with --top-k-next {wanted} or more, or use next{recorded}")
            lines.append(next_line(list(row["next_tokens"])[:wanted], probs))
    return "\n".join(lines)


def _quoted(token: str) -> str:
    return json.dumps(token.replace('"', "'"), ensure_ascii=False)


def next_line(tokens: list[str], probs: list[float] | None = None) -> str:
    """`Next: "a" (41%), "b" (12%)`: the tokens quoted (JSON escapes, so a newline stays one line), probabilities if given."""
    return "Next: " + ", ".join(_quoted(t) + (f" ({100 * probs[i]:.0f}%)" if probs else "") for i, t in enumerate(tokens))


def format_explanation(genre: str, topics: list[str], quote: str, next_tokens: list[str]) -> str:
    """The default design's shape from its parts (neurons.py writes a neuron's summary in it for the AR to read)."""
    quote = quote.replace('"', "'")
    return f'{genre}; topic: {", ".join(topics or ["general"])}.\nEnds with: "{quote}"\n{next_line(next_tokens[:2])}'


_FIRST_LINE = re.compile(r"^\s*([^;\n]{1,40});\s*topic:\s*([^\n]*)", re.M)
_ENDS_WITH = re.compile(r'Ends with:\s*"([^"\n]*)"?')
_NEXT = re.compile(r"Next:\s*(.*)")
_READS = re.compile(r'Reads:\s*"([^"\n]*)"')
_QUOTED = re.compile(r'"([^"\n]*)"')
_ANY_WORD = re.compile(r"\w+")


def quoted_spans(text: str) -> list[str]:
    """The double-quoted spans of a text, in order (an explanation's quote of the context and its next tokens)."""
    return _QUOTED.findall(text or "")


def words(text: str) -> list[str]:
    """Every word of `text` (runs of word characters, digits included), lower case, in order: what a text contains, for
    "is it said there?"; how the dictionary and the audit compare a text with an explanation (`content_words`: what it is about)."""
    return [w.lower() for w in _ANY_WORD.findall(text or "")]


def explanation_fields(explanation: str) -> dict[str, object]:
    """The parts of an explanation in the template's shape (genre; topic: ... / Ends with: "..." / Next: ...).

    The reader of `template_explanation`'s format, for explanations from the teacher or an AV trained on
    it: `genre`, `topics`, `quote` and its `quoted` words (lower case), `last_word` (the quote's last
    word, else the `Reads:` token: the token being read), `next` tokens. A part the text lacks comes back
    empty, never guessed.
    """
    first = _FIRST_LINE.search(explanation)
    ends = _ENDS_WITH.search(explanation)
    nexts = _NEXT.search(explanation)
    quote = ends.group(1) if ends else ""
    reads = _READS.search(explanation)
    read = words(quote) or words(reads.group(1) if reads else "")
    topics = [t.strip().lower() for t in first.group(2).rstrip(". ").split(",")] if first else []
    return {
        "genre": first.group(1).strip().lower() if first else "",
        "topics": [t for t in topics if t],
        "quote": quote,
        "quoted": list(dict.fromkeys(read)) if quote else [],
        "last_word": read[-1] if read else "",
        "next": quoted_spans(nexts.group(1)) if nexts else [],
    }
