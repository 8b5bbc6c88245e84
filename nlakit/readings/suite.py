"""Stage 6, full suite: every check we know of, on the same activations, with per-genre CIs.

One FVE number cannot tell a faithful NLA from one that learnt the average activation, a format
or a fixed template. The suite puts each measure beside the controls that would expose that:

- round trip: fve_nrm (rawvar, the release's convention), fve_meannorm, cos; parse failures.
- baselines and controls, scored like the round trip:
  predict-the-mean (sidecar constants: 0 by definition under rawvar for the plain mean, and
  1 - meannorm/rawvar for the normalised mean; plus fve_mean_eval, the mean direction of the
  *other* evaluation rows predicted for each row); fve_zero (a zero or undefined prediction
  scores mse_nrm 2.0); fve_shuffled (the AR on another row's explanation); fve_random_direction
  (Gaussian vectors with the rows' norms explained by the AV, rebuilt by the AR, scored against
  those random vectors); fve_teacher (the AR on the template teacher's explanation).
- retrieval: the reconstruction ranks the true vector among N candidates (itself + N-1 other
  rows, N = 16 or fewer) by mse_nrm; top-1 and reciprocal rank, ties split as a random
  tie-break would in expectation; chance = 1/N and H_N/N.
- causal faithfulness: the reconstruction, rescaled to the activation's norm, replaces block K's
  output at the same token; KL(original || patched) of the next-token distribution and top-1
  agreement, beside patching the mean direction and a shuffled reconstruction. Patching the
  original vector (kl_self, must be 0) checks the hook and the rebuilt tokens.
- salience: fve_prefix_k, the FVE from the first k lines of each explanation: how front-loaded
  the information is.
- content overlap: quote_share (quoted spans found verbatim in the context) and keyword_recall
  (the context's last-20-word content words found in the explanation), also for the teacher.
- per genre: every per-row measure with a bootstrap 95% CI (rows resampled within the group);
  `suite.json` and `suite.html` (bar charts with CI whiskers) are written atomically.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.config import EvaluateConfig, LoadConfig
from ..core.corpus import Document
from ..core.errors import NLAError
from ..core.files import atomic_write_text, check_output_file, json_safe, to_json
from ..core.metrics import (
    FAILED_MSE,
    constant_baselines,
    cos_from_mse,
    derangement,
    fve_rows,
    mean_directions,
    pairwise_mse_nrm,
    random_directions,
    rescale,
    score_rows,
    undefined_rows,
)
from ..core.models import input_device
from ..core.nla import NLA
from ..core.progress import progress
from ..core.prompts import content_words, quoted_spans
from ..core.reading import forward_target, tokenize
from ..core.report import figure_uri, page
from ..core.roundtrip import RoundTrip
from ..stages.evaluate import HELDOUT, evaluate_texts

N_CANDIDATES = 16
MAX_PREFIX_LINES = 6
KEYWORD_WINDOW = 20
TIE = 1e-6  # mse_nrm differences below this are ties (float noise, or an orthogonal constant)
MATCH_COS = 0.999  # a rebuilt token sequence must reproduce the stored vector this closely
CONDITIONS = ("self", "reconstruction", "mean", "shuffled")  # what gets patched at block K


@dataclass
class Explained:
    """What every measure shares: the round trip (vectors, the AR's input texts, their reconstructions, read once) and the
    shuffled control's pairing."""

    result: RoundTrip
    shuffled: np.ndarray  # [n] index of the row whose explanation stands in (a derangement)

    def __post_init__(self) -> None:
        self.vectors = self.result.vectors  # [n, d] raw activations
        self.texts = self.result.ar_texts  # what the AR read ("" for a failed parse)
        self.failed = ~self.result.parsed  # [n] bool: no closing tag
        self.recon = self.result.reconstructions  # [n, d] the AR's reconstructions of `texts`
        self.capped = self.result.capped  # [n] bool: cut by the explanation cap (a subset of `failed`)


# ---------------------------------------------------------------- scoring helpers


def score(nla: NLA, pred: np.ndarray, target: np.ndarray, undefined: np.ndarray | None = None) -> np.ndarray:
    """mse_nrm per row at the NLA's scale (metrics.score_rows: undefined and zero predictions score 2.0)."""
    return score_rows(pred, target, nla.meta.resolved_mse_scale, undefined)


# ---------------------------------------------------------------- explanations and controls


def random_direction_mse(nla: NLA, vectors: np.ndarray, rng: np.random.Generator, max_new_tokens: int | None) -> np.ndarray:
    """The round trip of Gaussian vectors with the rows' norms.

    A pair that only knows the data manifold fails here; a template that fits anything does not.
    """
    return nla.roundtrip(random_directions(vectors, rng), max_new_tokens).mse_nrm


def control_measures(nla: NLA, rows: list[dict], ex: Explained, means: np.ndarray, rng: np.random.Generator,
                     max_new_tokens: int | None) -> dict[str, np.ndarray]:
    """Round trip and every control, per row, on the same vectors."""
    rawvar = nla.baseline.value
    meannorm = nla.meannorm
    mse_shuffled = ex.result.shuffled_mse(ex.shuffled)
    teacher = nla.teacher_texts(rows)
    out = {
        "fve_nrm": ex.result.fve_nrm,
        "fve_meannorm": fve_rows(ex.result.mse_nrm, meannorm),
        "cos": ex.result.cos,
        "parsed": ex.result.parsed.astype(np.float64),
        "capped": ex.capped.astype(np.float64),
        "fve_shuffled": fve_rows(mse_shuffled, rawvar),
        "fve_teacher": fve_rows(score(nla, nla.ar.reconstruct(teacher), ex.vectors), rawvar),
        "fve_random_direction": fve_rows(random_direction_mse(nla, ex.vectors, rng, max_new_tokens), rawvar),
        "fve_mean_eval": fve_rows(score(nla, means, ex.vectors), rawvar),
        "fve_zero": fve_rows(np.full(len(rows), FAILED_MSE), rawvar),
    }
    out["fve_gap_vs_shuffled"] = out["fve_nrm"] - out["fve_shuffled"]
    return out


# ---------------------------------------------------------------- retrieval


def chance_levels(n_candidates: int) -> dict[str, float]:
    """Top-1 and mean reciprocal rank of a uniformly random rank among N."""
    return {"chance_top1": 1.0 / n_candidates, "chance_mrr": float(np.mean(1.0 / np.arange(1, n_candidates + 1)))}


def rank_scores(d_true: float, d_others: np.ndarray) -> tuple[float, float]:
    """(top-1, reciprocal rank) with ties broken at random, in expectation.

    A constant or empty prediction ties with every candidate; counting it as rank 1 would credit it.
    """
    better = int((d_others < d_true - TIE).sum())
    ties = int((np.abs(d_others - d_true) <= TIE).sum())
    ranks = np.arange(better + 1, better + ties + 2)
    return (1.0 / (ties + 1) if better == 0 else 0.0), float(np.mean(1.0 / ranks))


def retrieval_measures(ex: Explained, n_candidates: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], int]:
    """Per-row top-1 and reciprocal rank of the true vector among N candidates, and N."""
    n, d = ex.vectors.shape
    size = min(n_candidates, n)
    dist = pairwise_mse_nrm(ex.recon, ex.vectors)
    dist[ex.failed | undefined_rows(ex.recon)] = FAILED_MSE
    top1, rr = np.zeros(n), np.zeros(n)
    for i in range(n):
        others = rng.choice(np.delete(np.arange(n), i), size - 1, replace=False)
        top1[i], rr[i] = rank_scores(dist[i, i], dist[i, others])
    return {"retrieval_top1": top1, "retrieval_rr": rr}, size


# ---------------------------------------------------------------- causal faithfulness


def context_token_ids(nla: NLA, row: dict) -> list[int] | None:
    """The target's tokens up to and including the row's token, or None if they cannot be trusted.

    Prefer `token_ids` stored on the row (see attach_token_ids); else re-tokenise the decoded
    context as extraction did and accept it only if its length and last token match the row.
    """
    if row.get("token_ids") is not None:
        ids = list(row["token_ids"])
    else:
        ids = tokenize(nla.tokenizer, row["context"], nla.extract_config().max_length)
    if len(ids) != row["position"] + 1 or ("token_id" in row and ids[-1] != row["token_id"]):
        return None
    return ids


def attach_token_ids(nla: NLA, rows: list[dict], docs: list[Document]) -> list[dict]:
    """Rows with `token_ids`: the document re-tokenised exactly as extraction did, cut after the token.

    Decoding and re-encoding a context can merge tokens differently; the document prefix cannot.
    """
    by_id = {d.doc_id: d for d in docs}
    max_length = nla.extract_config().max_length
    cache: dict[str, list[int]] = {}
    out = []
    for row in rows:
        doc = by_id.get(row.get("doc_id"))
        if doc is None:
            out.append(dict(row))
            continue
        ids = cache.setdefault(doc.doc_id, tokenize(nla.tokenizer, doc.text, max_length))
        out.append({**row, "token_ids": ids[: row["position"] + 1]})
    return out


@torch.no_grad()
def next_token_logprobs(model: nn.Module, layer_index: int, token_lists: list[list[int]], pad_id: int,
                        patches: np.ndarray | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """([B, V] next-token log-probs after each list's last token, [B, d] block-K output there).

    With `patches`, block K's output at each last token is replaced first (the rest of the model
    reruns on it); padding is on the right, as in extraction, so real positions are unchanged.
    """
    device = input_device(model)
    rows = torch.arange(len(token_lists), device=device)
    cols = torch.tensor([len(t) - 1 for t in token_lists], device=device)
    patch = None if patches is None else (rows, cols, torch.from_numpy(patches).to(device))
    reading = forward_target(model, layer_index, token_lists, pad_id, patch=patch)  # core.reading: the one forward pass
    logits = reading.next_token_logits(model, rows, cols).double()
    return torch.log_softmax(logits, dim=-1).cpu(), reading.vectors(rows, cols).float().cpu()


def kl_and_agreement(original: torch.Tensor, patched: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """KL(original || patched) per row and whether the top-1 next token is unchanged."""
    kl = (original.exp() * (original - patched)).sum(dim=-1).clamp_min(0.0)
    return kl.numpy(), (original.argmax(-1) == patched.argmax(-1)).double().numpy()


def causal_measures(nla: NLA, rows: list[dict], ex: Explained, means: np.ndarray, batch_size: int = 16) -> dict[str, np.ndarray]:
    """Patch each condition at block K, same token, norm-matched; NaN where tokens could not be rebuilt."""
    n = len(rows)
    out = {f"{m}_{c}": np.full(n, np.nan) for m in ("kl", "agree") for c in CONDITIONS}
    out["tokens_rebuilt"] = np.zeros(n)
    norms = np.linalg.norm(ex.vectors, axis=1)
    patches = {"self": ex.vectors, "reconstruction": rescale(ex.recon, norms),
               "mean": rescale(means, norms), "shuffled": rescale(ex.recon[ex.shuffled], norms)}
    tokens = [context_token_ids(nla, r) for r in rows]
    eligible = [i for i, t in enumerate(tokens) if t is not None]
    with progress(disable=len(eligible) <= batch_size) as bar:
        task = bar.add_task("causal patching", total=len(eligible), info="")
        for start in range(0, len(eligible), batch_size):
            patch_batch(nla, eligible[start : start + batch_size], tokens, ex.vectors, patches, out)
            bar.advance(task, len(eligible[start : start + batch_size]))
    return out


def patch_batch(nla: NLA, batch: list[int], tokens: list[list[int] | None], vectors: np.ndarray,
                patches: dict[str, np.ndarray], out: dict[str, np.ndarray]) -> None:
    """One batch: the unpatched run, a check that it reproduces the stored vectors, then each patch."""
    layer, pad = nla.meta.layer_index, nla.tokenizer.pad_token_id or 0
    original, hidden = next_token_logprobs(nla.target, layer, [tokens[i] for i in batch], pad)
    cos = cos_from_mse(score_rows(hidden.float().cpu().numpy(), vectors[batch]), nla.meta.d_model)
    kept = np.flatnonzero(cos >= MATCH_COS)  # rows whose rebuilt tokens reproduce the stored vector
    keep = [batch[j] for j in kept]
    if not keep:
        return
    out["tokens_rebuilt"][keep] = 1.0
    for name in CONDITIONS:
        patched, _ = next_token_logprobs(nla.target, layer, [tokens[i] for i in keep], pad, patches[name][keep])
        out[f"kl_{name}"][keep], out[f"agree_{name}"][keep] = kl_and_agreement(original[kept], patched)


# ---------------------------------------------------------------- salience and overlap


def text_prefix(text: str, k: int) -> str:
    """The first k non-blank lines; the whole text once k covers them all (so the last point is the round trip)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return text if k >= len(lines) else "\n".join(lines[:k])


def salience_measures(nla: NLA, ex: Explained, max_lines: int = MAX_PREFIX_LINES) -> dict[str, np.ndarray]:
    """fve_prefix_k for k = 1 .. the longest explanation's line count (capped). A prefix that is the whole explanation
    takes the round trip's reconstruction: the AR reads each text once."""
    longest = max((len([x for x in t.splitlines() if x.strip()]) for t in ex.texts), default=0)
    out = {}
    for k in range(1, max(1, min(longest, max_lines)) + 1):
        prefixes = [text_prefix(t, k) for t in ex.texts]
        cut = [i for i, (prefix, text) in enumerate(zip(prefixes, ex.texts)) if prefix != text]
        pred = ex.recon.copy()
        pred[cut] = nla.ar.reconstruct([prefixes[i] for i in cut])
        out[f"fve_prefix_{k}"] = fve_rows(score(nla, pred, ex.vectors, ex.failed), nla.baseline.value)
    return out


def squash(text: str) -> str:
    """Whitespace collapsed: decoding and quoting both re-space text, so verbatim means up to whitespace."""
    return " ".join(text.split())


def quote_share(explanation: str, context: str) -> float:
    """Share of the explanation's double-quoted spans found verbatim (up to whitespace) in the context; NaN if none."""
    spans = [squash(s) for s in quoted_spans(explanation) if s.strip()]
    return float(np.mean([s in squash(context) for s in spans])) if spans else math.nan


def keyword_recall(explanation: str, context: str, window: int = KEYWORD_WINDOW) -> float:
    """Share of the content words among the context's last `window` words that the explanation names; NaN if none."""
    tail = " ".join(context.split()[-window:])
    wanted, said = set(content_words(tail)), set(content_words(explanation, shortest=1))
    return len(wanted & said) / len(wanted) if wanted else math.nan


def overlap_measures(rows: list[dict], ex: Explained, teacher: list[str]) -> dict[str, np.ndarray]:
    """Quote share and keyword recall for the NLA's explanations and, as a reference, the teacher's."""
    pairs = {"": ex.texts, "_teacher": teacher}
    out = {}
    for suffix, texts in pairs.items():
        out[f"quote_share{suffix}"] = np.array([quote_share(t, r["context"]) for t, r in zip(texts, rows)])
        out[f"keyword_recall{suffix}"] = np.array([keyword_recall(t, r["context"]) for t, r in zip(texts, rows)])
    return out


# ---------------------------------------------------------------- statistics


def bootstrap(values: np.ndarray, idx: np.ndarray) -> dict[str, float | int]:
    """Mean with a percentile 95% CI over resampled rows; NaN rows (not applicable) are left out."""
    finite = np.isfinite(values)
    if not finite.any():
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    sums = np.where(finite, values, 0.0)[idx].sum(axis=1)
    counts = finite[idx].sum(axis=1)
    means = sums[counts > 0] / counts[counts > 0]
    lo, hi = np.percentile(means, [2.5, 97.5]) if len(means) else (math.nan, math.nan)
    return {"mean": float(values[finite].mean()), "lo": float(lo), "hi": float(hi), "n": int(finite.sum())}


def by_group(per_row: dict[str, np.ndarray], genres: list[str], n_boot: int, seed: int) -> dict[str, dict[str, dict]]:
    """{group: {measure: stats}} for all rows and each genre; one resampling per group, shared by its measures (paired)."""
    groups = {"all": np.arange(len(genres))}
    groups.update({g: np.flatnonzero(np.array(genres) == g) for g in sorted(set(genres))})
    rng = np.random.default_rng(seed)
    out = {}
    for name, members in groups.items():
        idx = rng.integers(0, len(members), (max(n_boot, 1), len(members)))
        out[name] = {key: bootstrap(values[members], idx) for key, values in per_row.items()}
    return out


# ---------------------------------------------------------------- report


FVE_BARS = ["fve_nrm", "fve_shuffled", "fve_teacher", "fve_random_direction", "fve_mean_eval", "fve_zero"]
CAUSAL_KL = ["kl_reconstruction", "kl_mean", "kl_shuffled"]
CAUSAL_AGREE = ["agree_reconstruction", "agree_mean", "agree_shuffled"]
OVERLAP = ["quote_share", "quote_share_teacher", "keyword_recall", "keyword_recall_teacher"]


def bars(ax: Any, stats: dict[str, dict[str, dict]], measures: list[str], title: str) -> None:
    """Grouped bars (one group per genre, one bar per measure) with 95% CI whiskers."""
    groups = list(stats)
    width = 0.8 / max(len(measures), 1)
    for j, measure in enumerate(measures):
        cells = [stats[g].get(measure, {}) for g in groups]
        means = np.array([c.get("mean", math.nan) for c in cells], float)
        lo = np.array([c.get("lo", math.nan) for c in cells], float)
        hi = np.array([c.get("hi", math.nan) for c in cells], float)
        x = np.arange(len(groups)) + (j - (len(measures) - 1) / 2) * width
        err = np.nan_to_num(np.stack([means - lo, hi - means]).clip(min=0))
        ax.bar(x, np.nan_to_num(means), width, yerr=err, capsize=2, label=measure)
    ax.set_xticks(np.arange(len(groups)), groups, rotation=20)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)


def salience_plot(ax: Any, stats: dict[str, dict[str, dict]], k_max: int) -> None:
    """FVE against the number of explanation lines kept, per group, with CI whiskers."""
    ks = np.arange(1, k_max + 1)
    for group, cells in stats.items():
        c = [cells.get(f"fve_prefix_{k}", {}) for k in ks]
        mean = np.array([x.get("mean", math.nan) for x in c], float)
        err = np.nan_to_num(np.stack([mean - [x.get("lo", math.nan) for x in c], np.array([x.get("hi", math.nan) for x in c]) - mean]).clip(min=0))
        ax.errorbar(ks, mean, yerr=err, marker="o", capsize=2, label=group)
    ax.set_xticks(ks)
    ax.set_xlabel("explanation lines kept")
    ax.set_ylabel("fve_nrm")
    ax.set_title("salience: FVE from the first k lines")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def retrieval_plot(ax: Any, stats: dict[str, dict[str, dict]], chance: dict[str, float]) -> None:
    """Top-1 and reciprocal rank with the chance levels drawn across: a score means nothing without them."""
    bars(ax, stats, ["retrieval_top1", "retrieval_rr"], "retrieval among N candidates")
    ax.axhline(chance["chance_top1"], color="C0", ls="--", lw=0.8, label="chance top-1")
    ax.axhline(chance["chance_mrr"], color="C1", ls="--", lw=0.8, label="chance MRR")
    ax.legend(fontsize=7)


def html_table(stats: dict[str, dict[str, dict]]) -> str:
    """Every measure (rows) by group (columns): mean [95% CI] (n)."""
    groups = list(stats)
    measures = list(stats[groups[0]]) if groups else []

    def cell(c: dict) -> str:
        if c["mean"] is None:
            return "n/a"
        if c["lo"] is None or c["hi"] is None:
            return f"{c['mean']:.3f} ({c['n']})"
        return f"{c['mean']:.3f} [{c['lo']:.3f}, {c['hi']:.3f}] ({c['n']})"

    head = "".join(f"<th>{html.escape(g)}</th>" for g in groups)
    body = "".join(f"<tr><td>{html.escape(m)}</td>" + "".join(f"<td>{cell(stats[g][m])}</td>" for g in groups) + "</tr>" for m in measures)
    return f"<table class='metrics'><tr><th>measure</th>{head}</tr>{body}</table>"


def write_report(out_dir: Path, report: dict, stats: dict[str, dict[str, dict]]) -> None:
    """suite.json and suite.html, each written atomically."""
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "suite.json", to_json(report, indent=1))
    k_max = sum(1 for key in stats["all"] if key.startswith("fve_prefix_"))
    images = [
        figure_uri(lambda ax: bars(ax, stats, FVE_BARS, "round trip and controls (fve_nrm, rawvar)")),
        figure_uri(lambda ax: retrieval_plot(ax, stats, report["retrieval"])),
        figure_uri(lambda ax: bars(ax, stats, CAUSAL_KL, "next-token KL(original || patched), lower is better")),
        figure_uri(lambda ax: bars(ax, stats, CAUSAL_AGREE, "top-1 next token unchanged after patching")),
        figure_uri(lambda ax: salience_plot(ax, stats, k_max)),
        figure_uri(lambda ax: bars(ax, stats, OVERLAP, "content overlap with the context")),
    ]
    constants = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in report["constants"].items())
    body = (
        f"<h1>nlakit evaluation suite</h1><p>{report['n']} activations, layer {report['layer_index']}, "
        f"baseline {html.escape(report['baseline'])} = {report['rawvar']:.4f}, {report['retrieval']['n_candidates']} retrieval candidates "
        f"(chance top-1 {report['retrieval']['chance_top1']:.3f}, MRR {report['retrieval']['chance_mrr']:.3f}), "
        f"{report['causal']['rows_patched']} rows patched, {report['n_boot']} bootstrap resamples.</p>"
        f"<h2>Sidecar baselines</h2><table class='metrics'>{constants}</table>"
        + "".join(f'<img src="{uri}">' for uri in images)
        + f"<h2>All measures</h2>{html_table(json_safe(stats))}"
    )
    atomic_write_text(out_dir / "suite.html", page("nlakit suite", body))


# ---------------------------------------------------------------- entry point


def run_suite(nla: NLA, rows: list[dict], out_dir: Path | None = None, n_boot: int = 1000, seed: int = 0, *,
              max_new_tokens: int | None = None, n_candidates: int = N_CANDIDATES, mean_vector: np.ndarray | None = None,
              batch_size: int = 16, result: RoundTrip | None = None) -> dict:
    """Every measure on `rows` (as NLA.activations gives them), per genre with bootstrap CIs.

    `result`: the rows' round trip when one was run already (evaluate's), so the AV and AR do not run on them again;
    rows with `token_ids` (attach_token_ids) are patched on exactly the extraction's tokens. Returns the
    report; its `summary` is flat (overall means) for merging into the evaluate metrics.
    """
    if not rows:
        raise NLAError("no activations for the suite: the texts are empty or shorter than min_position")
    rng = np.random.default_rng(seed)
    vectors = np.stack([np.asarray(r["activation_vector"], np.float32) for r in rows])
    result = result if result is not None else nla.roundtrip(vectors, max_new_tokens)
    if len(result) != len(rows):
        raise NLAError(f"the round trip given to the suite has {len(result)} rows for {len(rows)} activations")
    ex = Explained(result, derangement(len(rows), rng))
    means = mean_directions(vectors, mean_vector)
    per_row = control_measures(nla, rows, ex, means, rng, max_new_tokens)
    retrieval, size = retrieval_measures(ex, n_candidates, rng)
    per_row.update(retrieval)
    per_row.update(causal_measures(nla, rows, ex, means, batch_size))
    per_row.update(salience_measures(nla, ex))
    per_row.update(overlap_measures(rows, ex, nla.teacher_texts(rows)))
    stats = by_group(per_row, [str(r.get("genre", "unknown")) for r in rows], n_boot, seed)
    report = assemble(nla, rows, ex, per_row, stats, size, n_boot, seed)
    if out_dir is not None:
        write_report(Path(out_dir), report, stats)
        report["summary"].update(suite_json=str(Path(out_dir) / "suite.json"), suite_html=str(Path(out_dir) / "suite.html"))
    return report


def assemble(nla: NLA, rows: list[dict], ex: Explained, per_row: dict[str, np.ndarray], stats: dict,
             size: int, n_boot: int, seed: int) -> dict:
    """The report dict: settings, sidecar constants, chance levels, grouped stats, flat summary, rows."""
    chance = chance_levels(size)
    patched = int(per_row["tokens_rebuilt"].sum())
    summary = {f"suite_{k}": v["mean"] for k, v in stats["all"].items()}
    summary.update({f"suite_retrieval_{k}": v for k, v in chance.items()}, suite_n_candidates=size, suite_rows_patched=patched)
    record_keys = ("doc_id", "position", "genre", "token")
    return {
        "n": len(rows), "n_boot": n_boot, "seed": seed, "layer_index": nla.meta.layer_index, "baseline": nla.baseline.name,
        "rawvar": nla.baseline.value, "meannorm": nla.meannorm,
        "constants": constant_baselines(nla.baseline.value, nla.meannorm),
        "retrieval": {"n_candidates": size, **chance},
        "causal": {"rows_patched": patched, "rows_skipped": len(rows) - patched,
                   "kl_self_max": float(np.nanmax(per_row["kl_self"])) if patched else None},
        "groups": stats,
        "summary": json_safe(summary),
        "rows": [{**row, **{m: v[i] for m, v in per_row.items() if m not in row}}  # the round trip's own keys, then each measure
                 for i, row in enumerate(ex.result.rows([{k: r.get(k) for k in record_keys} for r in rows]))],
    }


def run_full_evaluate(nla_dir: Path | str | LoadConfig, cfg: EvaluateConfig, save: Path | None = None, out: Path | None = None) -> dict:
    """`nlakit evaluate --suite full`: the stage's round trip and controls, then every measure of the suite (report in `out`)."""
    for name in ("suite.json", "suite.html") if out is not None else ():  # before any work: the two files it replaces
        check_output_file(Path(out) / name, [] if str(cfg.texts) == HELDOUT else [cfg.texts], "--out")
    evaluation = evaluate_texts(nla_dir, cfg, save)  # its round trip is the suite's: the AV and AR run once
    nla = evaluation.nla
    summary = run_suite(nla, attach_token_ids(nla, evaluation.rows, evaluation.docs), out, max_new_tokens=cfg.max_new_tokens,
                        result=evaluation.result)
    return {**evaluation.metrics, **summary["summary"]}
