"""The full evaluation suite on constructed cases whose answers are known exactly.

Fake AVs/ARs (duck-typed: `generate`, `reconstruct`, `score`, `meta`) make the answer exact: an
oracle pair writes and reads the vector's coordinates, a constant AR ignores its input.
"""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nlakit.app.cli import main
from nlakit.core.ar import build_reconstructor
from nlakit.core.av import build_verbalizer
from nlakit.core.config import ExtractConfig
from nlakit.core.corpus import Document, guess_genre
from nlakit.core.metrics import mse_nrm, normalize
from nlakit.core.models import load_causal_lm, load_tokenizer
from nlakit.core.nla import NLA
from nlakit.core.reading import extract_documents
from nlakit.core.sidecar import Sidecar
from nlakit.readings.suite import attach_token_ids, chance_levels, context_token_ids, keyword_recall, quote_share, rank_scores, run_suite, text_prefix

D = 64
COORD = re.compile(r"x(\d+)=(\S+)")


class CoordinateAV:
    """Writes every coordinate of the vector, spread over `lines` lines: a lossless explanation."""

    meta = Sidecar(kind="nla_model", base_model="fake", d_model=D, layer_index=0, role="av")  # records no cap: the default applies
    lm, device, int8 = torch.nn.Linear(1, 1), torch.device("cpu"), False  # fp32 weights on a CPU: the precision evaluate reports

    def __init__(self, lines: int = 4):
        self.lines = lines

    def generate(self, vectors: np.ndarray, max_new_tokens: int = 64, **_) -> SimpleNamespace:
        chunks = np.array_split(np.arange(D), self.lines)
        texts = ["\n".join(" ".join(f"x{j}={v[j]:.9g}" for j in chunk) for chunk in chunks) for v in np.asarray(vectors)]
        return SimpleNamespace(explanations=texts, texts=texts, token_ids=[[0]] * len(texts))  # one "token" each: never capped


class FakeAR:
    """`reconstruct` from a function of the text; `score` as the real AR computes it."""

    def __init__(self, meta: Sidecar, read):
        self.meta, self.read = meta, read

    def reconstruct(self, texts: list[str], **_) -> np.ndarray:
        return np.stack([self.read(t) for t in texts]).astype(np.float32) if texts else np.zeros((0, D), np.float32)

    def score(self, texts: list[str], targets: np.ndarray, **_) -> np.ndarray:
        return mse_nrm(torch.from_numpy(self.reconstruct(texts)), torch.from_numpy(np.asarray(targets, np.float32))).numpy()


def read_coordinates(text: str) -> np.ndarray:
    """The coordinates the text names; the others stay 0 (so fewer lines, worse prediction)."""
    v = np.zeros(D, np.float32)
    for index, value in COORD.findall(text):
        v[int(index)] = float(value)
    return v


@pytest.fixture(scope="module")
def meta_for(tiny_model, make_sidecar):
    """The sidecar of a fake NLA on the tiny model: layer 0, baselines of the given vectors, extraction as in `real_rows`."""

    def build(vectors: np.ndarray, layer: int = 0) -> Sidecar:
        return make_sidecar(tiny_model, layer=layer, d=D, vectors=vectors,
                            extraction={"max_length": 128, "positions_per_doc": 4, "min_position": 2})

    return build


@pytest.fixture(scope="module")
def docs(tiny_texts) -> list[Document]:
    return [Document(f"t:{i}", text, guess_genre(text)) for i, text in enumerate(tiny_texts)]


@pytest.fixture(scope="module")
def target(tiny_model):
    return load_causal_lm(tiny_model), load_tokenizer(tiny_model)


@pytest.fixture(scope="module")
def real_rows(target, docs) -> list[dict]:
    model, tokenizer = target
    cfg = ExtractConfig(max_length=128, positions_per_doc=4, min_position=2)
    return list(extract_documents(model, tokenizer, docs, cfg, layer_index=0))


@pytest.fixture(scope="module")
def oracle_nla(meta_for, target):
    """An NLA whose AV writes every coordinate and whose AR reads them back: lossless."""

    def build(rows: list[dict], lines: int = 4) -> NLA:
        meta = meta_for(np.stack([r["activation_vector"] for r in rows]))
        return NLA(CoordinateAV(lines), FakeAR(meta, read_coordinates), *target)

    return build


@pytest.fixture(scope="module")
def synthetic_rows(tiny_texts):
    """Gaussian vectors (plus an offset, so they have a mean direction) on made-up rows of two genres."""

    def build(n: int = 48, seed: int = 0, last_zero: bool = False) -> list[dict]:
        rng = np.random.default_rng(seed)
        vectors = rng.normal(size=(n, D)).astype(np.float32) + 1.0
        if last_zero:
            vectors[:, -1] = 0.0
        return [{"activation_vector": v, "context": tiny_texts[i % len(tiny_texts)], "genre": ["prose", "code"][i % 2],
                 "next_tokens": ["a", "b"], "position": 3, "doc_id": f"s:{i}", "token": "x"} for i, v in enumerate(vectors)]

    return build


def test_oracle_ar_ranks_the_true_vector_first_and_patches_with_kl_zero(oracle_nla, real_rows, docs):
    nla = oracle_nla(real_rows)
    rows = attach_token_ids(nla, real_rows, docs)
    report = run_suite(nla, rows, None, n_boot=100)
    overall = report["groups"]["all"]
    assert overall["retrieval_top1"]["mean"] == 1.0 and overall["retrieval_rr"]["mean"] == 1.0
    assert overall["fve_nrm"]["mean"] == pytest.approx(1.0, abs=1e-5)
    assert overall["fve_random_direction"]["mean"] == pytest.approx(1.0, abs=1e-5)  # lossless on any vector
    assert report["causal"]["rows_patched"] == len(rows)  # every row's tokens rebuilt and checked
    for cell in ("kl_self", "kl_reconstruction"):
        assert max(r[cell] for r in report["rows"]) < 1e-6
    assert overall["agree_reconstruction"]["mean"] == 1.0 and overall["agree_self"]["mean"] == 1.0
    assert overall["kl_mean"]["mean"] > 1e-4 and overall["kl_shuffled"]["mean"] > 1e-4  # the controls do move the output
    assert overall["fve_shuffled"]["mean"] < 0  # the right coordinates for the wrong vector
    assert set(report["groups"]) == {"all", *{r["genre"] for r in rows}}


def test_token_ids_rebuilt_from_the_document_match_extraction(oracle_nla, real_rows, docs):
    nla = oracle_nla(real_rows)
    rows = attach_token_ids(nla, real_rows, docs)
    for row in rows:
        assert context_token_ids(nla, row) == row["token_ids"]
        assert len(row["token_ids"]) == row["position"] + 1 and row["token_ids"][-1] == row["token_id"]
    bad = {**rows[0], "token_ids": rows[0]["token_ids"][:-1]}
    assert context_token_ids(nla, bad) is None


def test_rows_whose_tokens_do_not_reproduce_the_vector_are_not_patched(target, meta_for, synthetic_rows):
    rows = synthetic_rows(12)  # vectors the target never produced for these contexts
    nla = NLA(CoordinateAV(), FakeAR(meta_for(np.stack([r["activation_vector"] for r in rows])), read_coordinates), *target)
    report = run_suite(nla, rows, None, n_boot=50)
    assert report["causal"]["rows_patched"] == 0
    assert report["groups"]["all"]["kl_reconstruction"]["n"] == 0


def test_constant_ar_retrieves_at_chance_exactly(target, meta_for, synthetic_rows):
    rows = synthetic_rows(40, last_zero=True)
    axis = np.zeros(D, np.float32)
    axis[-1] = 1.0  # orthogonal to every vector: every candidate ties
    nla = NLA(CoordinateAV(), FakeAR(meta_for(np.stack([r["activation_vector"] for r in rows])), lambda _t: axis), *target)
    report = run_suite(nla, rows, None, n_boot=50)
    chance = chance_levels(16)
    assert report["retrieval"] == {"n_candidates": 16, **chance}
    assert report["groups"]["all"]["retrieval_top1"]["mean"] == pytest.approx(chance["chance_top1"])
    assert report["groups"]["all"]["retrieval_rr"]["mean"] == pytest.approx(chance["chance_mrr"])
    assert report["groups"]["all"]["fve_nrm"]["mean"] == pytest.approx(report["constants"]["fve_zero_rawvar"])


def test_constant_mean_ar_scores_fve_zero_under_meannorm_and_shuffled_matches(target, meta_for, synthetic_rows):
    rows = synthetic_rows(60)
    vectors = np.stack([r["activation_vector"] for r in rows])
    mean = normalize(vectors, math.sqrt(D)).mean(axis=0)
    nla = NLA(CoordinateAV(), FakeAR(meta_for(vectors), lambda _t: mean), *target)
    overall = run_suite(nla, rows, None, n_boot=50)["groups"]["all"]
    assert overall["fve_meannorm"]["mean"] == pytest.approx(0.0, abs=1e-5)
    assert overall["fve_shuffled"]["mean"] == pytest.approx(overall["fve_nrm"]["mean"], abs=1e-6)  # no information to lose
    assert overall["fve_gap_vs_shuffled"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert overall["fve_shuffled"]["mean"] <= 1e-6  # 1 - meannorm/rawvar <= 0
    assert 0.0 < overall["retrieval_top1"]["mean"] < 0.3  # no tie, but nothing to rank by either


def test_prefix_fve_rises_with_every_line(target, meta_for, synthetic_rows):
    rows = synthetic_rows(24)
    nla = NLA(CoordinateAV(lines=4), FakeAR(meta_for(np.stack([r["activation_vector"] for r in rows])), read_coordinates), *target)
    overall = run_suite(nla, rows, None, n_boot=50)["groups"]["all"]
    curve = [overall[f"fve_prefix_{k}"]["mean"] for k in range(1, 5)]
    assert "fve_prefix_5" not in overall
    assert all(a < b for a, b in zip(curve, curve[1:]))
    assert curve[-1] == pytest.approx(overall["fve_nrm"]["mean"])


def test_text_prefix_rank_scores_and_overlap_measures():
    assert text_prefix("a\n\nb\nc", 1) == "a" and text_prefix("a\n\nb\nc", 2) == "a\nb" and text_prefix("a\n\nb\nc", 3) == "a\n\nb\nc"
    assert rank_scores(0.1, np.array([0.5, 0.9])) == (1.0, 1.0)
    assert rank_scores(0.5, np.array([0.1, 0.9])) == (0.0, 0.5)
    top1, rr = rank_scores(2.0, np.full(3, 2.0))  # all tied: the expectation of a random order
    assert top1 == pytest.approx(0.25) and rr == pytest.approx(np.mean([1, 1 / 2, 1 / 3, 1 / 4]))
    context = "The cat slept by the warm stove\nall night long."
    assert quote_share('quotes "warm stove all night" and "a dog"', context) == 0.5  # verbatim up to whitespace
    assert math.isnan(quote_share("no quotes here", context))
    assert keyword_recall("a cat near a warm stove, sleeping", context) == pytest.approx(2 / 5)  # slept warm stove night long
    assert math.isnan(keyword_recall("anything", "a an the"))


def test_report_files_are_valid_json_and_html(oracle_nla, real_rows, docs, tmp_path):
    nla = oracle_nla(real_rows[:12])
    report = run_suite(nla, attach_token_ids(nla, real_rows[:12], docs), tmp_path / "suite", n_boot=50)

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    saved = json.loads((tmp_path / "suite" / "suite.json").read_text(), parse_constant=refuse)
    assert saved["summary"]["suite_fve_nrm"] == pytest.approx(1.0, abs=1e-5)
    cells = [c for c in saved["groups"]["all"].values() if c["mean"] is not None]
    assert len(cells) > 10 and all(c["lo"] <= c["mean"] <= c["hi"] for c in cells)
    page = (tmp_path / "suite" / "suite.html").read_text()
    assert page.count("<img src=\"data:image/png;base64,") == 6 and "retrieval_top1" in page
    assert sorted(p.name for p in (tmp_path / "suite").iterdir()) == ["suite.html", "suite.json"]  # no temp files left
    assert report["summary"]["suite_json"].endswith("suite.json")


def test_real_av_and_ar_run_through_the_suite(target, meta_for, real_rows):
    meta = meta_for(np.stack([r["activation_vector"] for r in real_rows]), layer=0)
    nla = NLA(build_verbalizer(meta), build_reconstructor(meta), *target)
    report = run_suite(nla, real_rows[:6], None, n_boot=20, max_new_tokens=3)
    assert report["n"] == 6 and np.isfinite(report["summary"]["suite_fve_teacher"])
    assert report["summary"]["suite_parsed"] == 0.0  # 3 tokens cannot close the tag: scored 2.0
    assert all(not r["parsed"] and r["mse_nrm"] == 2.0 and {"explanation", "response", "fve_nrm", "cos"} <= set(r) for r in report["rows"])
    assert report["summary"]["suite_fve_nrm"] == pytest.approx(report["constants"]["fve_zero_rawvar"])
    assert report["causal"]["rows_patched"] == 6  # re-tokenised contexts, checked against the stored vectors


def test_cli_evaluate_suite_full(oracle_nla, real_rows, tiny_corpus, tmp_path, monkeypatch, capsys):
    nla = oracle_nla(real_rows)
    monkeypatch.setattr(NLA, "load", classmethod(lambda cls, folder, engine="transformers": nla))
    main(["evaluate", "--nla", "unused", "--texts", str(tiny_corpus), "--max-docs", "4", "--json"])
    fast = json.loads(capsys.readouterr().out)
    assert not any(k.startswith("suite_") for k in fast)
    main(["evaluate", "--nla", "unused", "--texts", str(tiny_corpus), "--max-docs", "4", "--json", "--suite", "full",
          "--out", str(tmp_path / "out")])
    full = json.loads(capsys.readouterr().out)
    figures = [k for k in fast if not k.endswith("_seconds")]  # timings differ from run to run
    assert {k: full[k] for k in figures} == pytest.approx({k: fast[k] for k in figures})  # additive: today's metrics unchanged
    assert full["suite_retrieval_top1"] == 1.0 and full["suite_kl_self"] < 1e-6
    assert full["suite_rows_patched"] == full["n"]  # token ids taken from the documents
    assert (tmp_path / "out" / "suite.html").exists()
    with pytest.raises(SystemExit) as refused:
        main(["evaluate", "--nla", "unused", "--texts", str(tiny_corpus), "--suite", "huge"])
    assert refused.value.code == 2 and "huge" in capsys.readouterr().err


def test_evaluate_and_the_suite_read_each_explanation_through_the_ar_once(oracle_nla, real_rows, tiny_corpus, monkeypatch):
    """The round trip keeps its reconstructions: the shuffled control, the suite's measures and its last prefix reuse them."""
    nla = oracle_nla(real_rows)
    read, real = [], nla.ar.reconstruct
    monkeypatch.setattr(nla.ar, "reconstruct", lambda texts, **kw: read.extend(texts) or real(texts, **kw))
    monkeypatch.setattr(NLA, "load", classmethod(lambda cls, folder, engine="transformers": nla))
    main(["evaluate", "--nla", "unused", "--texts", str(tiny_corpus), "--max-docs", "4", "--json", "--suite", "full"])
    written = [t for t in read if t.startswith("x0=") and t.count("\n") == 3]  # whole explanations (4 lines) of data and random vectors
    assert len(written) > 4 and len(written) == len(set(written))


def test_per_genre_statistics_use_only_that_genres_rows():
    from nlakit.readings.suite import by_group

    values = np.array([1.0, 1.0, 1.0, 3.0, 3.0, np.nan])
    stats = by_group({"m": values}, ["a", "a", "a", "b", "b", "b"], n_boot=200, seed=0)
    assert stats["a"]["m"] == {"mean": 1.0, "lo": 1.0, "hi": 1.0, "n": 3}
    assert (stats["b"]["m"]["mean"], stats["b"]["m"]["n"]) == (3.0, 2)
    assert stats["all"]["m"]["mean"] == pytest.approx(1.8) and stats["all"]["m"]["lo"] < 1.8 < stats["all"]["m"]["hi"]
