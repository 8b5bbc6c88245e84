"""The neuron dictionary and directions, on a tiny model with a planted neuron.

Neuron PLANTED of layer 0 is rewritten to fire on the token " bread" and be exactly 0 elsewhere;
the other 127 neurons of the random model stay as they are. The tokens are explained by the
template teacher (through `--explained`, the reuse path of `nlakit evaluate --save` files), i.e.
by what a perfect AV would say: it quotes the context. So the entry must name " bread" in its top
contexts and its description.

The score needs an AR that has learned text -> vector; a tiny AR does not learn that in seconds
(60 SFT steps leave its held-out mse_nrm at orthogonal), so the score test swaps in the AR such
training converges to, fitted on the train split's teacher rows as a lookup: the mean normalised
layer-K vector of the training tokens whose explanation ends with the same word. It never sees a
held-out document nor the neuron. What is tested is the rest of the chain: the description written
in the explanations' shape, the held-out tokens, the rank correlation, the derangement control.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from nlakit.core import dataset
from nlakit.core.ar import Reconstructor
from nlakit.core.config import ARConfig, AVConfig, DirectionsConfig, ExtractConfig, NeuronsConfig
from nlakit.core.corpus import load_corpus
from nlakit.core.errors import NLAError
from nlakit.core.hooks import mlp_down_proj
from nlakit.core.metrics import normalize
from nlakit.core.models import load_causal_lm, load_tokenizer
from nlakit.core.prompts import explanation_fields, template_explanation
from nlakit.core.reading import extract_documents
from nlakit.readings.dictionary import DICTIONARY, NeuronDictionary
from nlakit.readings.directions import read_directions, run_directions
from nlakit.readings.neurons import PAGE, run_neurons
from nlakit.stages.sft import run_train_ar, run_train_av

WORD, PLANTED = " bread", 5


def plant(model_dir: Path, corpus: Path) -> None:
    """Rewrite neuron PLANTED of layer 0 as silu(s * (u . x - theta)): u separates the MLP input x at " bread" from all other
    tokens, s makes every other token's pre-activation below -200 (silu gives exactly 0 there)."""
    from transformers import LlamaForCausalLM

    tokenizer = load_tokenizer(str(model_dir))
    (word_id,) = tokenizer.encode(WORD, add_special_tokens=False)
    model = LlamaForCausalLM.from_pretrained(model_dir, mlp_bias=True)  # biases start at zero: the model is unchanged
    inputs = []
    handle = model.model.layers[0].mlp.register_forward_pre_hook(lambda _m, args: inputs.append(args[0][0]))
    ids = [tokenizer(d.text)["input_ids"] for d in load_corpus(corpus)]
    with torch.no_grad():
        for row in ids:
            model(torch.tensor([row]))
    handle.remove()
    x, hit = torch.cat(inputs), torch.tensor([t == word_id for row in ids for t in row])
    u = x[hit].mean(0) - x[~hit].mean(0)
    u /= u.norm()
    low, high = (x[~hit] @ u).max(), (x[hit] @ u).min()
    assert high > low, "the planted token must be separable at layer 0"
    scale = 400.0 / float(high - low)
    mlp = model.model.layers[0].mlp
    with torch.no_grad():
        mlp.gate_proj.weight[PLANTED] = scale * u
        mlp.gate_proj.bias[PLANTED] = -scale * float(high + low) / 2
        mlp.up_proj.weight[PLANTED] = 0.0
        mlp.up_proj.bias[PLANTED] = 1.0
    model.save_pretrained(model_dir)


@pytest.fixture(scope="module")
def planted(tmp_path_factory, make_tiny_model, make_taught, tiny_texts) -> dict[str, Path]:
    """A corpus where " bread" recurs, the planted model, an NLA for it, and the teacher's explanation of every token."""
    root = tmp_path_factory.mktemp("neurons")
    rng = random.Random(0)
    lines = [json.dumps({"text": " ".join(rng.sample(tiny_texts, 3))}) for _ in range(60)]
    (root / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    model = Path(make_tiny_model(root / "model", seed=1))
    plant(model, root / "corpus.jsonl")
    data = make_taught(str(model), root / "corpus.jsonl", root / "data", positions_per_doc=12)
    common = dict(steps=1, save_every=1000, bf16=False, eval_every=1000, eval_rows=0)
    run_train_ar(data, root / "nla" / "ar", ARConfig(**common))
    run_train_av(data, root / "nla" / "av", AVConfig(**common))
    tokenizer = load_tokenizer(str(model))
    docs = load_corpus(root / "corpus.jsonl")
    rows = extract_documents(load_causal_lm(str(model)), tokenizer, docs, ExtractConfig(model=str(model)), 1, all_positions=True)
    table = pa.Table.from_pylist([{"doc_id": r["doc_id"], "position": r["position"], "token": r["token"],
                                   "explanation": template_explanation(r)} for r in rows])
    pq.write_table(table, root / "explained.parquet")
    return {"root": root, "model": model, "nla": root / "nla", "corpus": root / "corpus.jsonl", "explained": root / "explained.parquet",
            "data": data}


@pytest.fixture(scope="module")
def converged_ar(planted) -> Callable[..., np.ndarray]:
    """`Reconstructor.reconstruct` as a lookup fitted on the train split: text -> mean vector of the tokens read with its last word."""
    table, _ = dataset.read_split(planted["data"], "train")
    words = [explanation_fields(e)["last_word"] for e in dataset.explanations(table)]
    vectors = normalize(dataset.vectors(table), 1.0)
    means = {w: vectors[[i for i, x in enumerate(words) if x == w]].mean(0) for w in set(words)}
    assert "bread" in means  # the train split has the planted token: the lookup can know it
    fallback = vectors.mean(0)

    def reconstruct(self, explanations: list[str], **_kw) -> np.ndarray:
        return np.stack([means.get(explanation_fields(e)["last_word"], fallback) for e in explanations]).astype(np.float32)

    return reconstruct


def settings(planted: dict[str, Path], **changes) -> NeuronsConfig:
    return NeuronsConfig(**{"corpus": str(planted["corpus"]), "layers": "0", "top_k": 4, "background": 16, "heldout_fraction": 0.3,
                            "score_tokens": 2000, "max_new_tokens": 6, **changes})


@pytest.fixture(scope="module")
def built(planted, converged_ar) -> dict:
    out = planted["root"] / "dictionary"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Reconstructor, "reconstruct", converged_ar)
        summary = run_neurons(planted["nla"], settings(planted), out, planted["explained"])
    return {"out": out, "summary": summary, "rows": {r["neuron"]: r for r in pq.read_table(out / DICTIONARY).to_pylist()}}


def test_the_planted_neuron_is_named_and_scores_above_its_control(built):
    entry = built["rows"][PLANTED]
    assert [c["token"] for c in entry["top_contexts"]] == [WORD] * 4
    assert all(c["context"].endswith(WORD) and c["activation"] > 100 for c in entry["top_contexts"])
    assert "token: 'bread' 4/4" in entry["description"]
    assert 'Ends with: "' in entry["description_text"] and entry["description_text"].split('"')[1].endswith("bread")
    # a unit silent on all but about 1 % of the tokens caps Spearman's rho far below 1 (the rest tie at 0): 0.10 here, control -0.08
    assert entry["score"] > 0.05 and entry["score"] > entry["score_shuffled"] + 0.1, entry
    others = [r for n, r in built["rows"].items() if n != PLANTED]
    assert not any(all(c["token"] == WORD for c in r["top_contexts"]) for r in others)  # only the planted unit is about bread
    summary = built["summary"]
    assert summary["neurons"] == 128 and summary["tokens_reused"] == summary["tokens_explained"]  # nothing went to the AV
    assert {"q10", "q50", "q90", "mean"} <= set(summary["score"]) and {"q10", "q50", "q90"} <= set(summary["score_shuffled"])


def test_the_page_is_self_contained_and_searchable(built):
    page = (built["out"] / PAGE).read_text()
    assert f'"name": "0:{PLANTED}"' in page and "bread" in page and "<input id='q'" in page
    assert "src=" not in page and "<link" not in page and "http" not in page.split("<script>")[0]


def test_the_explorer_lists_and_searches_the_dictionary(built, planted):
    from fastapi.testclient import TestClient

    from nlakit.app.serve.app import create_app
    from nlakit.core.config import ServeConfig
    from nlakit.core.nla import NLA

    found = NeuronDictionary(built["out"] / DICTIONARY).query("bread", limit=200)
    assert f"0:{PLANTED}" in [r["name"] for r in found]
    assert all("bread" in r["description"] or any("bread" in c["token"] for c in r["top_contexts"]) for r in found)
    assert [r["score"] for r in found] == sorted((r["score"] for r in found), reverse=True)
    with TestClient(create_app(NLA.load(planted["nla"]), ServeConfig(neurons=built["out"] / DICTIONARY))) as client:
        assert client.get("/api/info").json()["neurons"] == 128
        result = client.get("/api/neurons", params={"q": f"0:{PLANTED}"}).json()
        assert [r["name"] for r in result["results"]] == [f"0:{PLANTED}"]
        assert result["results"][0]["top_contexts"][0]["token"] == WORD
        assert len(client.get("/api/neurons").json()["results"]) == 20
        assert "Neurons" in client.get("/").text


def test_a_killed_run_resumes_to_the_same_dictionary(planted, monkeypatch):
    """The AV explains (no --explained); the run dies after two chunks, the rerun explains only the rest."""
    from nlakit.core.nla import NLA

    cfg = settings(planted, max_neurons=6, top_k=2, background=4, chunk_rows=4)
    calls, real = [], NLA.roundtrip

    def dying(self, vectors, *args, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        calls.append(len(vectors))
        return real(self, vectors, *args, **kw)

    monkeypatch.setattr(NLA, "roundtrip", dying)
    out = planted["root"] / "resumed"
    with pytest.raises(KeyboardInterrupt):
        run_neurons(planted["nla"], cfg, out)
    assert not out.exists() and len(list((planted["root"] / "resumed.work" / "explained").iterdir())) == 2
    monkeypatch.setattr(NLA, "roundtrip", lambda self, vectors, *a, **kw: calls.append(len(vectors)) or real(self, vectors, *a, **kw))
    summary = run_neurons(planted["nla"], cfg, out)
    fresh = run_neurons(planted["nla"], cfg, planted["root"] / "fresh")
    total = summary["tokens_explained"]
    assert sum(calls) == 2 * total and calls[:2] == [4, 4]  # the first two chunks were not explained again on resume
    assert pq.read_table(out / DICTIONARY).equals(pq.read_table(planted["root"] / "fresh" / DICTIONARY))
    assert summary["neurons"] == fresh["neurons"] == 6
    assert run_neurons(planted["nla"], cfg, out) == summary  # done: read back, not rebuilt


def test_directions_are_explained_beside_the_mean(planted, tmp_path, monkeypatch):
    """Each explained vector is the mean plus strength * mean token norm * the unit direction; a neuron's is its down_proj column."""
    from nlakit.core.nla import NLA
    from nlakit.readings.directions import neuron_direction

    rows = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float32)
    np.save(tmp_path / "probe.npy", rows)
    nla = NLA.load(planted["nla"])
    column = mlp_down_proj(nla.target, 0).weight[:, PLANTED].detach().numpy()
    assert neuron_direction(nla, f"0:{PLANTED}")[0] == f"neuron 0:{PLANTED}"
    assert np.array_equal(neuron_direction(nla, f"0:{PLANTED}")[1], column)
    explained, real = [], NLA.roundtrip
    monkeypatch.setattr(NLA, "roundtrip", lambda self, vectors, *a, **kw: explained.append(vectors) or real(self, vectors, *a, **kw))
    cfg = DirectionsConfig(corpus=str(planted["corpus"]), max_docs=6, strengths="1,-3", max_new_tokens=6)
    result = run_directions(planted["nla"], cfg, tmp_path / "probe.npy", [f"0:{PLANTED}"])
    assert [d["name"] for d in result["directions"]] == ["probe[0]", "probe[1]", f"neuron 0:{PLANTED}"]
    assert all([s["strength"] for s in d["steered"]] == [1.0, -3.0] for d in result["directions"])
    (vectors,) = explained
    assert len(vectors) == 1 + 2 * 3 and isinstance(result["mean"]["explanation"], str)
    for d, direction in enumerate([rows[0], rows[1], column]):
        for j, strength in enumerate([1.0, -3.0]):
            added = vectors[1 + j * 3 + d] - vectors[0]
            assert np.allclose(added, strength * result["mean_norm"] * direction / np.linalg.norm(direction), atol=1e-4)
    with pytest.raises(NLAError, match="unknown layer 9"):
        run_directions(planted["nla"], cfg, None, ["9:0"])


def test_direction_files_are_read_as_plain_arrays(tmp_path):
    from safetensors.numpy import save_file

    rows = np.arange(2 * 64, dtype=np.float32).reshape(2, 64) + 1
    np.save(tmp_path / "one.npy", rows[0])
    save_file({"decoder": rows, "probe": rows[1]}, str(tmp_path / "sae.safetensors"))
    assert read_directions(tmp_path / "one.npy", 64)[0] == ["one"]
    names, read = read_directions(tmp_path / "sae.safetensors", 64)
    assert names == ["decoder[0]", "decoder[1]", "probe"] and np.array_equal(read, np.concatenate([rows, rows[1:]]))
    np.save(tmp_path / "nan.npy", np.full(64, np.nan, np.float32))
    with pytest.raises(NLAError, match="NaN"):
        read_directions(tmp_path / "nan.npy", 64)


def test_the_streaming_scan_matches_a_brute_force_pass(planted):
    """Top-k merged across many small batches = the top-k of every token read one document at a time; the kept
    layer-K vectors are those a fresh read of the same tokens gives; no held-out document feeds a top-k."""
    from nlakit.core.corpus import is_heldout
    from nlakit.core.hooks import capture_mlp_neurons
    from nlakit.core.nla import NLA
    from nlakit.readings.neurons import read_tokens, scan_corpus, select_neurons, token_rows

    nla = NLA.load(planted["nla"])
    cfg = settings(planted, max_neurons=8, top_k=3, background=5, batch_size=4)
    docs = load_corpus(cfg.corpus)
    ids = read_tokens(nla.tokenizer, docs, cfg)
    scan = scan_corpus(nla, docs, ids, cfg, select_neurons(cfg, nla.target))
    values = []
    with torch.no_grad():
        for doc, tokens in zip(docs, ids):
            if not is_heldout(doc.doc_id, cfg.heldout_fraction, cfg.seed):
                with capture_mlp_neurons(nla.target, [0]) as acts:
                    nla.target(torch.tensor([tokens]))
                values.append(acts[0][0, cfg.min_position :, :8])
    expected = torch.cat(values).topk(3, dim=0).values.numpy()
    assert np.allclose(scan.top_values, expected, atol=1e-4)
    assert not any(is_heldout(docs[k // cfg.max_length].doc_id, cfg.heldout_fraction, cfg.seed) for k in scan.top_keys.ravel())
    rows = token_rows(nla.tokenizer, docs, ids, scan, cfg)
    wanted: dict[str, list[int]] = {}
    for r in rows:
        wanted.setdefault(r["doc_id"], []).append(r["position"])
    fresh = {(r["doc_id"], r["position"]): r["activation_vector"] for r in nla.activations(docs, positions=wanted, max_length=cfg.max_length)}
    assert len(rows) == len(fresh) == len(scan.keys) and len(scan.background) == 5
    assert all(np.allclose(r["activation_vector"], fresh[(r["doc_id"], r["position"])], atol=1e-4) for r in rows)


def test_complex_directions_are_refused(tmp_path):
    """A complex .npy would lose its imaginary part silently in a float cast: refused in one line instead."""
    from nlakit.readings.directions import read_directions

    path = tmp_path / "d.npy"
    np.save(path, np.ones(8, dtype=np.complex64))
    with pytest.raises(NLAError, match="expected"):
        read_directions(path, 8)
