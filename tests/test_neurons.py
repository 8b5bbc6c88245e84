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

Two more units are planted by rewriting what the scan reads (`forward_target`'s neuron activations): TOPIC fires on every
token within a few tokens of a cooking word (bread, flour, yeast, eggs, milk, ...), across many different tokens of one
topic, and DEAD is 0 everywhere. Detection AUROC must be high for the token unit, clearly above chance for the topic unit
and undefined (said so) for the dead one; the shuffled control sits at chance.
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
from nlakit.readings.dictionary import DICTIONARY, PAGE, Dictionary, NeuronDictionary, layer_page
from nlakit.readings.directions import read_directions, run_directions
from nlakit.readings.neurons import run_neurons
from nlakit.stages.sft import run_train_ar, run_train_av

WORD, PLANTED, TOPIC, DEAD = " bread", 5, 6, 7
COOKING = ("bread", "flour", "yeast", "knead", "bake", "eggs", "milk", "loaves", "coffee", "apples", "salt")


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


def with_topic_and_dead_units(tokenizer) -> Callable:
    """forward_target, with neuron TOPIC of layer 0 at 3.0 wherever a cooking word is among the last 6 tokens (else 0) and
    neuron DEAD at 0 everywhere."""
    import nlakit.readings.neurons as module

    real = module.forward_target

    def forward(model, layer_index, token_lists, *args, **kw):
        reading = real(model, layer_index, token_lists, *args, **kw)
        acts = reading.neurons[0]
        acts[:, :, DEAD] = 0.0
        acts[:, :, TOPIC] = 0.0
        for row, ids in enumerate(token_lists):
            for pos in range(len(ids)):
                window = tokenizer.decode(ids[max(0, pos - 5) : pos + 1]).lower()
                if any(word in window for word in COOKING):
                    acts[row, pos, TOPIC] = 3.0
        return reading

    return forward


@pytest.fixture(scope="module")
def built(planted, converged_ar) -> dict:
    import nlakit.readings.neurons as module

    out = planted["root"] / "dictionary"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Reconstructor, "reconstruct", converged_ar)
        patch.setattr(module, "forward_target", with_topic_and_dead_units(load_tokenizer(str(planted["model"]))))
        summary = run_neurons(planted["nla"], settings(planted), out, planted["explained"])
    return {"out": out, "summary": summary, "rows": {r["neuron"]: r for r in pq.read_table(out / DICTIONARY).to_pylist()}}


def test_the_planted_neuron_is_named_and_scores_above_its_control(built):
    entry = built["rows"][PLANTED]
    assert [c["token"] for c in entry["top_contexts"]] == [WORD] * 4
    assert all(c["context"].endswith(WORD) and c["activation"] > 100 for c in entry["top_contexts"])
    n = entry["evidence"]
    assert f"token: 'bread' {n}/{n}" in entry["description"] and "; writes: " in entry["description"]
    assert 'Ends with: "' in entry["description_text"] and entry["description_text"].split('"')[1].endswith("bread")
    for scorer in ("lexical", "explanation"):  # a token unit: its description tells its held-out top tokens from random ones
        assert entry[f"auroc_{scorer}"] > 0.95, (scorer, entry)
        assert entry[f"pearson_{scorer}"] > 0.3, (scorer, entry)
    assert entry["auroc_ar"] > 0.6 and entry["auroc_ceiling"] > 0.6
    assert entry["score"] == entry["auroc_ar"] and entry["token_only"].startswith("the tokens 'bread'")
    others = [r for n, r in built["rows"].items() if n != PLANTED]
    assert not any(all(c["token"] == WORD for c in r["top_contexts"]) for r in others)  # only the planted unit is about bread
    summary = built["summary"]
    assert summary["neurons"] == 128 and summary["tokens_reused"] == summary["tokens_explained"]  # nothing went to the AV
    assert set(summary["scorers"]) == {"lexical", "explanation", "ar"}
    lexical = summary["scorers"]["lexical"]
    assert {"q10", "q50", "q90", "mean"} <= set(lexical["auroc"]) and {"q10", "q50", "q90"} <= set(lexical["auroc_token_only"])
    assert lexical["auroc_at_least_0.8"] >= 2 and 0 <= lexical["above_token_only"] <= 1
    assert {"auroc", "pearson", "median_auroc"} <= set(summary["ceiling"])


def test_a_topic_unit_scores_above_chance_and_a_dead_unit_is_undefined(built):
    topic, dead = built["rows"][TOPIC], built["rows"][DEAD]
    assert all(any(w in c["context"][-40:].lower() for w in COOKING) for c in topic["top_contexts"])
    for scorer in ("lexical", "explanation"):  # its top-k are ties drawn from the topic's many tokens: above chance, not perfect
        assert topic[f"auroc_{scorer}"] > 0.6 and topic[f"auroc_{scorer}"] > topic[f"auroc_{scorer}_shuffled"] + 0.15, topic
    assert dead["detect_positives"] == 0 and "undefined" in dead["note"]
    assert all(dead[f"auroc_{s}"] is None for s in ("lexical", "explanation", "ar", "ceiling"))
    assert dead["pearson_lexical"] is None and dead["beats_token_only_lexical"] is None
    assert built["summary"]["undefined"]["detection"] >= 1


def test_the_shuffled_control_sits_at_chance(built):
    """Another neuron's description tells nothing about this one: its AUROC centres on 0.5 over the random units (a little
    below in a corpus of ten recurring texts: another unit's texts are, slightly, not this one's)."""
    for scorer in ("lexical", "explanation"):
        shuffled = built["summary"]["scorers"][scorer]["auroc_shuffled"]
        assert abs(shuffled["q50"] - 0.5) < 0.1, (scorer, shuffled)
        assert built["summary"]["scorers"][scorer]["auroc"]["q50"] > shuffled["q50"] + 0.15
        own = built["summary"]["scorers"][scorer]["auroc"]
        assert own["undefined"] == shuffled["undefined"]


def test_scores_mean_what_they_say():
    """AUROC counts ties half and is undefined without a class; a constant prediction simulates nothing (r = 0)."""
    from nlakit.core.metrics import auroc, pearson
    from nlakit.readings.scoring import Targets, figures

    assert auroc([3.0, 4.0], [1.0, 2.0]) == 1.0 and auroc([1.0, 1.0], [1.0, 1.0]) == 0.5 and auroc([2, 1], [1, 0]) == 0.875
    assert np.isnan(auroc([], [1.0])) and np.isnan(pearson([1, 1, 1], [1, 2, 3]))
    t = Targets([np.array([0, 1, 2, 3])], [np.array([5.0, 0.0, 0.0, 1.0])], [1])
    aucs, rs = figures(np.zeros((4, 1)), t)
    assert aucs[0] == 0.5 and rs[0] == 0.0
    aucs, rs = figures(np.array([[9.0], [0.0], [1.0], [2.0]]), t)
    assert aucs[0] == 1.0 and rs[0] > 0.8


def test_one_neuron_has_no_shuffled_control(planted, converged_ar, monkeypatch):
    """With a single neuron there is no other description: the control is undefined and said so, never the neuron itself."""
    monkeypatch.setattr(Reconstructor, "reconstruct", converged_ar)
    cfg = settings(planted, layers="all", neurons=f"0:{PLANTED}", scorers="lexical", background=8)
    summary = run_neurons(planted["nla"], cfg, planted["root"] / "one", planted["explained"])
    (row,) = pq.read_table(planted["root"] / "one" / DICTIONARY).to_pylist()
    assert row["auroc_lexical"] > 0.95 and row["auroc_lexical_shuffled"] is None
    assert "one neuron" in summary["undefined"]["shuffled"]


def test_the_api_scorer_asks_parses_and_caches(tmp_path):
    """A fake chat model that rates marked ' bread' 10 and anything else 0: parsed per context, asked once per prompt."""
    from nlakit.readings.scoring import APIScorer, Description, HeldOut, parse_activations

    contexts = ["I like bread", "the dog", "more bread", "a cat"]
    held = HeldOut(np.arange(4), [" bread", " dog", " bread", " cat"], contexts, ["", "", "", ""], [None] * 4, np.zeros((4, 8)))
    asked = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        lines = [line for line in prompt.splitlines() if line[:1].isdigit()]
        return "\n".join(f"{i + 1}: {10 if '[[ bread]]' in line else 0}" for i, line in enumerate(lines))

    scorer = APIScorer(ask, tmp_path / "cache.jsonl", batch=3)
    description = [Description("fires on 'bread'", "", [])]
    pred = scorer.predict(description, held, [np.array([0, 1, 2, 3])])
    assert pred[:, 0].tolist() == [10.0, 0.0, 10.0, 0.0] and len(asked) == 2  # 4 contexts in batches of 3
    assert "fires on 'bread'" in asked[0] and "[[ bread]]" in asked[0]
    again = APIScorer(lambda _p: pytest.fail("asked again"), tmp_path / "cache.jsonl", batch=3).predict(description, held, [np.arange(4)])
    assert np.array_equal(again, pred)
    assert parse_activations("1: 3\n2) 12\nnoise", 3) == [3.0, 10.0, None]


def test_the_api_scorer_runs_through_the_teacher_client(planted, monkeypatch):
    """`--scorers api` asks the teacher's OpenAI-compatible client (faked here: ' bread' marked -> 10), about each neuron's
    top held-out contexts and --api-contexts random ones; the planted unit's description is then detected."""
    from nlakit.stages.teach import APITeacher

    asked = []

    def ask(self, prompt: str) -> str:
        lines = [line for line in prompt.splitlines() if line[:1].isdigit()]
        asked.append(len(lines))
        rate = lambda line: 10 if "[[ bread]]" in line and "bread" in prompt.split("Below")[0] else 0  # noqa: E731
        return "\n".join(f"{i + 1}: {rate(line)}" for i, line in enumerate(lines))

    monkeypatch.setattr(APITeacher, "ask", ask)
    cfg = settings(planted, layers="all", neurons=f"0:{PLANTED},0:9", scorers="api", api_base_url="http://127.0.0.1:9/v1",
                   api_model="m", api_contexts=5, background=8)
    summary = run_neurons(planted["nla"], cfg, planted["root"] / "api", planted["explained"])
    rows = {r["neuron"]: r for r in pq.read_table(planted["root"] / "api" / DICTIONARY).to_pylist()}
    assert rows[PLANTED]["auroc_api"] > 0.95 and rows[PLANTED]["auroc_api_shuffled"] < 0.7
    assert max(asked) <= 20 and sum(asked) <= 3 * 2 * (10 + 5)  # description, token-only, shuffled: top + 5 random each
    assert set(summary["scorers"]) == {"api"}


def test_the_api_model_writes_each_neurons_summary(planted, monkeypatch):
    """--api-summary: the api model writes one sentence per neuron from its marked top contexts and counted terms (faked:
    ' bread' marked -> about bread); the sentence is its own column and leads the description, which the api scorer reads
    (the fake simulator rates bread only where the description holds that sentence)."""
    from nlakit.stages.teach import APITeacher

    prompts = []

    def ask(self, prompt: str) -> str:
        prompts.append(prompt)
        if prompt.startswith("A neuron of a language model fires most"):
            return "\nFires on the word bread.\nIt also..." if "[[ bread]]" in prompt else "Nothing clear."
        lines = [line for line in prompt.splitlines() if line[:1].isdigit()]
        said = "Fires on the word bread" in prompt.split("Below")[0]
        return "\n".join(f"{i + 1}: {10 if said and '[[ bread]]' in line else 0}" for i, line in enumerate(lines))

    monkeypatch.setattr(APITeacher, "ask", ask)
    cfg = settings(planted, layers="all", neurons=f"0:{PLANTED},0:9", scorers="api,lexical", api_summary=True,
                   api_base_url="http://127.0.0.1:9/v1", api_model="m", api_contexts=5, background=8)
    run_neurons(planted["nla"], cfg, planted["root"] / "summarized", planted["explained"])
    rows = {r["neuron"]: r for r in pq.read_table(planted["root"] / "summarized" / DICTIONARY).to_pylist()}
    assert rows[PLANTED]["summary"] == "Fires on the word bread." and rows[9]["summary"] == "Nothing clear."
    assert rows[PLANTED]["description"].startswith("Fires on the word bread. (token: 'bread'")
    assert rows[PLANTED]["auroc_api"] > 0.95 and rows[9]["auroc_api"] == 0.5  # scored on the sentence
    asked = [p for p in prompts if p.startswith("A neuron of a language model fires most")]
    assert len(asked) == 2 and any("[[ bread]]" in p and "token: 'bread'" in p for p in asked)  # contexts and counted terms


def test_the_api_scorer_needs_an_endpoint(planted):
    with pytest.raises(NLAError, match="api-base-url"):
        run_neurons(planted["nla"], settings(planted, scorers="lexical,api"), planted["root"] / "noapi")
    with pytest.raises(NLAError, match="--api-summary needs --api-base-url"):
        run_neurons(planted["nla"], settings(planted, scorers="lexical", api_summary=True), planted["root"] / "noapi")
    with pytest.raises(NLAError, match="--scorers"):
        run_neurons(planted["nla"], settings(planted, scorers="lexical,psychic"), planted["root"] / "noapi")


def test_the_python_api_loads_searches_and_exports(built, tmp_path):
    from nlakit import Dictionary

    d = Dictionary.load(built["out"])
    assert d.entry(0, PLANTED)["auroc_lexical"] == built["rows"][PLANTED]["auroc_lexical"]
    assert f"0:{PLANTED}" in [r["name"] for r in d.search("bread", limit=200)]
    best = d.search(sort="auroc_lexical", least=0.99)
    assert [r["auroc_lexical"] for r in best] == sorted((r["auroc_lexical"] for r in best), reverse=True)
    above = {r["name"] for r in d.search(limit=200) if (r["auroc_lexical"] or 0) >= 0.99}
    assert {r["name"] for r in best} <= above and len(best) == min(len(above), 20)  # search's default limit is 20
    with pytest.raises(NLAError, match="not in"):
        d.entry(0, 999)
    assert d.export(tmp_path / "all.jsonl") == 128
    first = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()][PLANTED]
    assert first["index"] == PLANTED and first["activations"][0]["token"] == WORD
    assert first["modelId"] == json.loads((built["out"] / "summary.json").read_text())["model"] is not None
    assert {"scorer": "auroc_lexical", "value": built["rows"][PLANTED]["auroc_lexical"]} in first["explanations"][0]["scores"]


def test_a_dictionary_records_how_its_nla_decoded(built, planted):
    """Explanations decoded under another rule (--no-repeat-ngram) are another dictionary: the folder built without it is
    not taken for done, nor resumed, but refused in one line before any work."""
    from nlakit.core.config import LoadConfig

    with pytest.raises(NLAError, match="no_repeat_ngram"):
        run_neurons(LoadConfig(nla=str(planted["nla"]), no_repeat_ngram=4), settings(planted), built["out"], planted["explained"])


def test_a_rebuild_reuses_the_explanations_of_a_previous_dictionary(built, planted, monkeypatch, converged_ar):
    """`--explained` takes a neurons.parquet: the top contexts it explained are not explained again."""
    from nlakit.core.nla import NLA

    monkeypatch.setattr(Reconstructor, "reconstruct", converged_ar)
    explained = []
    monkeypatch.setattr(NLA, "roundtrip", lambda self, vectors, *a, **kw: explained.append(len(vectors)) or pytest.fail("explained"))
    cfg = settings(planted, max_neurons=4, background=0, scorers="lexical")
    summary = run_neurons(planted["nla"], cfg, planted["root"] / "rebuilt", built["out"] / DICTIONARY)
    assert summary["tokens_reused"] == summary["tokens_explained"] > 0 and not explained


def test_the_page_is_self_contained_and_searchable(built):
    page = (built["out"] / PAGE).read_text()
    assert f'"name": "0:{PLANTED}"' in page and "bread" in page and "<input id='q'" in page
    assert "<select id='by'>" in page and '"auroc_lexical_token_only"' in page and "does not beat its token-only" in page
    assert "src=" not in page and "<link" not in page and "http" not in page.split("<script>")[0]


@pytest.fixture(scope="module")
def two_layers(planted, tmp_path_factory) -> tuple[Path, dict]:
    """A dictionary of the first 4 neurons of layers 0 and 1: its folder and summary."""
    out = tmp_path_factory.mktemp("two_layers") / "both"
    cfg = settings(planted, layers="0,1", max_neurons=4, background=0, scorers="lexical")
    return out, run_neurons(planted["nla"], cfg, out, planted["explained"])


def test_several_layers_get_an_overview_and_a_page_each(two_layers, tmp_path):
    """One page of every neuron's contexts would not open for a whole model: the overview searches every description and links
    each hit to its layer's page, which is the one-layer page of that layer's neurons with that layer's figures."""
    out, summary = two_layers
    assert summary["layers"] == [0, 1] and {k: v["neurons"] for k, v in summary["by_layer"].items()} == {"0": 4, "1": 4}
    assert set(summary["by_layer"]["1"]["scorers"]) == {"lexical"} and "median_auroc" in summary["by_layer"]["1"]["ceiling"]
    overview = (out / PAGE).read_text()
    assert f"href='{layer_page(1)}'" in overview and '"1:3"' in overview and '"0:3"' in overview and "top_contexts" not in overview
    layer = (out / layer_page(1)).read_text()
    assert '"name": "1:3"' in layer and '"name": "0:' not in layer and "4 neurons of layer(s) [1]" in layer
    assert "location.hash" in layer  # a link from the overview opens the page at its neuron
    d = Dictionary.load(out)
    assert sorted(r["name"] for r in d.search(layer=1, limit=50)) == [f"1:{i}" for i in range(4)]
    assert d.search("0:2", layer=1) == [] and [r["name"] for r in d.search("0:2", layer=0)] == ["0:2"]
    again = d.write_pages(tmp_path / "again")  # from the file and its summary alone
    assert sorted(p.name for p in again) == sorted(p.name for p in out.glob("*.html"))
    assert all(p.read_text() == (out / p.name).read_text() for p in again)


@pytest.mark.browser
def test_the_explorer_lists_one_layer_of_a_dictionary(two_layers, planted):
    from fastapi.testclient import TestClient

    from nlakit.app.serve.app import create_app
    from nlakit.core.config import ServeConfig
    from nlakit.core.nla import NLA

    out, _ = two_layers
    with TestClient(create_app(NLA.load(planted["nla"]), ServeConfig(neurons=out / DICTIONARY))) as client:
        assert {r["layer"] for r in client.get("/api/neurons", params={"layer": 1}).json()["results"]} == {1}
        assert len(client.get("/api/neurons").json()["results"]) == 8
        assert client.get("/api/neurons", params={"layer": -1}).status_code == 422


def test_an_overview_hit_opens_its_entry_in_headless_chromium(two_layers, tmp_path):
    """In a browser, from the file: searching the overview for a neuron finds it, and its link opens its layer's page
    showing that entry alone."""
    pytest.importorskip("selenium", reason="selenium is not installed (it is in the `test` extra)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from nlakit.app.serve.browser import CHROMEDRIVER, CHROMIUM, headless_chromium

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver")
    out, _ = two_layers
    driver = headless_chromium(tmp_path / "profile")
    try:
        driver.get((out / PAGE).as_uri())
        driver.find_element(By.ID, "q").send_keys("1:3")
        hits = driver.find_elements(By.CSS_SELECTOR, "#list .entry a")
        assert len(hits) == 1 and hits[0].text.startswith("neuron 1:3")
        hits[0].click()
        WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith(f"{layer_page(1)}#1:3"))
        shown = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#list .entry h3")]
        assert len(shown) == 1 and shown[0].startswith("neuron 1:3")
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()


def test_the_explorer_lists_and_searches_the_dictionary(built, planted):
    from fastapi.testclient import TestClient

    from nlakit.app.serve.app import create_app
    from nlakit.core.config import ServeConfig
    from nlakit.core.nla import NLA

    found = NeuronDictionary(built["out"] / DICTIONARY).query("bread", limit=200)
    assert f"0:{PLANTED}" in [r["name"] for r in found]
    assert all("bread" in r["description"] or any("bread" in c["token"] for c in r["top_contexts"]) for r in found)
    scores = [r["score"] for r in found if r["score"] is not None]
    assert scores == sorted(scores, reverse=True)
    with TestClient(create_app(NLA.load(planted["nla"]), ServeConfig(neurons=built["out"] / DICTIONARY))) as client:
        assert client.get("/api/info").json()["neurons"] == 128
        result = client.get("/api/neurons", params={"q": f"0:{PLANTED}"}).json()
        assert [r["name"] for r in result["results"]] == [f"0:{PLANTED}"]
        assert result["results"][0]["top_contexts"][0]["token"] == WORD
        assert len(client.get("/api/neurons").json()["results"]) == 20
        assert "Neurons" in client.get("/").text
        scores = client.get("/api/info").json()["neuron_scores"]
        assert {"auroc_lexical", "auroc_lexical_token_only", "auroc_lexical_shuffled", "pearson_ar", "auroc_ceiling"} <= set(scores)
        for sort in ("auroc_lexical_shuffled", "pearson_explanation", "auroc_ceiling"):  # sortable by each score column
            found = client.get("/api/neurons", params={"sort": sort, "limit": 200}).json()["results"]
            values = [r[sort] for r in found if r[sort] is not None]
            assert values == sorted(values, reverse=True) and values[0] > values[-1], sort
        high = client.get("/api/neurons", params={"sort": "auroc_lexical", "least": 0.9, "limit": 200}).json()["results"]
        assert f"0:{PLANTED}" in [r["name"] for r in high] and all(r["auroc_lexical"] >= 0.9 for r in high) and len(high) < 128
        beating = client.get("/api/neurons", params={"beats": True, "limit": 200}).json()["results"]
        assert beating and all(r[f"beats_token_only_{x}"] for r in beating for x in ("lexical", "explanation", "ar"))
        assert client.get("/api/neurons", params={"sort": "name; DROP TABLE loaded"}).status_code == 422


def test_a_killed_run_resumes_to_the_same_dictionary(planted, monkeypatch):
    """The AV explains (no --explained); the run dies after two chunks, the rerun explains only the rest."""
    from nlakit.core.nla import NLA

    cfg = settings(planted, max_neurons=6, top_k=2, background=4, chunk_rows=4, scorers="lexical,ar")
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


def planted_sae(planted: dict[str, Path], folder: Path, latent: int = 3, width: int = 32) -> Path:
    """An SAE on block 0's output, saved in SAELens' format: latent `latent` is a ReLU of the direction that separates the
    residual at " bread" from every other token (so it fires there only), the others ReLUs of random directions of the
    centred residual."""
    from nlakit.core.hooks import capture_block_output
    from nlakit.readings.sae import save_sae

    model, tokenizer = load_causal_lm(str(planted["model"])), load_tokenizer(str(planted["model"]))
    (word_id,) = tokenizer.encode(WORD, add_special_tokens=False)
    ids = [tokenizer(d.text)["input_ids"] for d in load_corpus(planted["corpus"])]
    read = []
    with torch.no_grad(), capture_block_output(model, 0) as residual:
        for row in ids:
            model(torch.tensor([row]))
            read.append(residual["hidden"][0])
    mean = torch.cat(read).numpy().mean(0)
    x = torch.cat(read).numpy() - mean  # the encoder reads x - b_dec, b_dec being the mean as SAE training makes it
    hit = np.array([t == word_id for row in ids for t in row])
    u = x[hit].mean(0) - x[~hit].mean(0)
    u /= np.linalg.norm(u)
    low, high = (x[~hit] @ u).max(), (x[hit] @ u).min()
    assert high > low, "the planted token must be separable at block 0's output"
    rng = np.random.default_rng(0)
    w_enc = rng.standard_normal((x.shape[1], width)).astype(np.float32) / np.sqrt(x.shape[1])
    w_enc[:, latent] = u * 10 / (high - low)
    b_enc = np.zeros(width, np.float32)
    b_enc[latent] = -10 * (high + low) / 2 / (high - low)
    w_dec = (w_enc / np.linalg.norm(w_enc, axis=0)).T
    return save_sae(folder, "blocks.0.hook_resid_post", w_enc, b_enc, w_dec, mean)


def test_sae_latents_are_described_and_scored_like_neurons(planted):
    """`--sae FOLDER`: the latents of an SAE in SAELens' format are units like MLP neurons; the planted latent (a ReLU of the
    " bread" direction of the residual) is found on " bread" and scores far above chance by detection AUROC, its shuffled
    control near chance; each latent writes its decoder row through the unembedding."""
    from nlakit.readings.sae import load_sae

    folder = planted_sae(planted, planted["root"] / "sae")
    sae = load_sae(folder, 64, 2)
    assert sae.layer == 0 and sae.width == 32
    out = planted["root"] / "sae-dictionary"
    summary = run_neurons(planted["nla"], settings(planted, layers="all", sae=str(folder), scorers="lexical"), out, planted["explained"])
    rows = {r["name"]: r for r in pq.read_table(out / DICTIONARY).to_pylist()}
    assert set(rows) == {f"sae:{i}" for i in range(32)} and summary["neurons"] == 32 and "SAE" in summary["units"]
    entry = rows["sae:3"]
    assert entry["layer"] == 0 and entry["neuron"] == 3 and [c["token"] for c in entry["top_contexts"]] == [WORD] * 4
    assert "token: 'bread'" in entry["description"] and len(entry["writes"]) == 5
    assert entry["auroc_lexical"] > 0.9, entry
    assert abs(entry["auroc_lexical_shuffled"] - 0.5) < 0.15, entry  # another latent's description tells nothing of this one
    shuffled = summary["scorers"]["lexical"]["auroc_shuffled"]  # random latents of one small corpus overlap a little: near 0.5
    assert abs(shuffled["q50"] - 0.5) < 0.15 and summary["scorers"]["lexical"]["auroc"]["q50"] > shuffled["q50"], shuffled


def test_bad_sae_folders_are_refused_in_one_line(planted, tmp_path):
    """Missing keys, a width that is not the model's, a hook that is not the residual stream, pickles: one NLAError each."""
    from safetensors.numpy import load_file, save_file

    from nlakit.readings.sae import WEIGHTS, load_sae, save_sae

    d, n = 64, 4
    good = save_sae(tmp_path / "good", "blocks.1.hook_resid_pre", np.ones((d, n)), np.zeros(n), np.ones((n, d)), np.zeros(d))
    assert load_sae(good, d, 2).layer == 0  # hook_resid_pre of block 1 is block 0's output
    with pytest.raises(NLAError, match="width d=32"):
        load_sae(good, 32, 2)
    tensors = load_file(str(good / WEIGHTS))
    del tensors["b_enc"]
    save_file(tensors, str(good / WEIGHTS))
    with pytest.raises(NLAError, match="lacks b_enc"):
        load_sae(good, d, 2)
    mlp = save_sae(tmp_path / "mlp", "blocks.0.hook_mlp_out", np.ones((d, n)), np.zeros(n), np.ones((n, d)), np.zeros(d))
    with pytest.raises(NLAError, match="not a residual-stream hook"):
        load_sae(mlp, d, 2)
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "sae.pt").write_bytes(b"\x80\x04not read")
    with pytest.raises(NLAError, match="sae.pt are pickles, never read"):
        load_sae(tmp_path / "pickled", d, 2)
    valid = save_sae(tmp_path / "valid", "blocks.0.hook_resid_post", np.ones((d, n)), np.zeros(n), np.ones((n, d)), np.zeros(d))
    with pytest.raises(NLAError, match="sae:INDEX"):
        run_neurons(planted["nla"], settings(planted, layers="all", sae=str(valid), neurons="0:3"), tmp_path / "out")


def test_the_ar_scorer_is_centred_on_the_average_description():
    """A token close to every description's reconstruction must not outrank a neuron's own tokens: the `ar` scorer
    subtracts each token's mean cosine over the dictionary's descriptions, so over those descriptions the prediction
    averages to zero at every token, and a description still ranks the tokens along its own direction first."""
    from nlakit.readings.scoring import ARScorer, Description, HeldOut

    rng = np.random.default_rng(0)
    common, own = rng.normal(size=16), np.eye(16)[:4] * 3
    table = {f"d{i}": common + own[i] for i in range(4)}
    scorer = ARScorer(lambda texts: np.stack([table[t] for t in texts]), centre=list(table))
    tokens = np.stack([common, *own])  # the ordinary token, then one along each description's own direction
    held = HeldOut(np.arange(5), [""] * 5, [""] * 5, [""] * 5, [None] * 5, tokens)
    pred = scorer.predict([Description("", t) for t in table], held, [])
    assert np.allclose(pred.mean(1), 0, atol=1e-6)
    assert all(pred[1 + j, j] > pred[0, j] for j in range(4))
    raw = ARScorer(scorer.reconstruct).predict([Description("", t) for t in table], held, [])
    assert all(raw[0, j] > raw[1 + j, j] for j in range(4))  # uncentred, the ordinary token outranks each neuron's own


def test_the_command_line_reads_a_dictionary(two_layers, tmp_path, capsys):
    """`nlakit dictionary`: one layer's best neurons with every score beside its baselines (or as JSON lines), the pages and
    the export written from the file alone, and a wrong path or sort refused in one line."""
    from nlakit.app.cli import main

    out, _ = two_layers
    main(["dictionary", str(out), "--layer", "1", "--limit", "3", "--sort", "auroc_lexical", "--json"])
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(listed) == 3 and {r["layer"] for r in listed} == {1} and "top_contexts" in listed[0]
    assert [r["auroc_lexical"] for r in listed] == sorted((r["auroc_lexical"] for r in listed), key=lambda v: -1 if v is None else v,
                                                          reverse=True)
    main(["dictionary", str(out / DICTIONARY), "--search", "1:2"])
    shown = capsys.readouterr()
    assert "neuron 1:2  ·  detection AUROC: lexical " in shown.out and "(token-only " in shown.out and "ceiling" in shown.out
    assert "1 listed (--limit 20) of the 8 neurons" in shown.err
    main(["dictionary", str(out), "--pages", str(tmp_path / "pages"), "--export", str(tmp_path / "all.jsonl")])
    said = capsys.readouterr()
    assert said.out == "" and f"3 page(s) written; open {tmp_path / 'pages' / PAGE}" in said.err  # nothing listed
    assert (tmp_path / "pages" / PAGE).is_file() and (tmp_path / "pages" / layer_page(1)).is_file()
    assert len((tmp_path / "all.jsonl").read_text().splitlines()) == 8
    for argv, said in [(["dictionary", str(tmp_path / "none")], "neuron dictionary not found"),
                       (["dictionary", str(out), "--sort", "luck"], "cannot sort by 'luck'")]:
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and said in capsys.readouterr().err


def test_the_shipped_dictionary_says_what_its_file_holds():
    """The figures shipped in summary.json (overall and per layer) are the ones its neurons.parquet gives: nothing written
    by hand, nothing left from another build; every neuron of every layer it names is there once."""
    from nlakit.readings.dictionary import SUMMARY, read_summary, shipped_dictionary
    from nlakit.readings.neurons import ceiling_summary, layer_summary, score_summary

    path = shipped_dictionary()
    if path is None:
        pytest.skip("this installation ships no neuron dictionary")
    summary = read_summary(path.parent)
    table = pq.read_table(path)
    names = table.column("name").to_pylist()
    assert len(names) == len(set(names)) == summary["neurons"] and (path.parent / SUMMARY).is_file()
    layers = np.array(table.column("layer").to_pylist())
    assert sorted(set(layers.tolist())) == summary["layers"]
    figures = {c: np.array([np.nan if v is None else v for v in table.column(c).to_pylist()], np.float64)
               for c in table.column_names if c.startswith(("auroc_", "pearson_"))}
    scorers = list(summary["scorers"])

    def same(found: object, shown: object) -> bool:  # pytest.approx compares no nested dicts
        if isinstance(found, dict):
            return isinstance(shown, dict) and found.keys() == shown.keys() and all(same(found[k], shown[k]) for k in found)
        return found == pytest.approx(shown, rel=1e-9) if isinstance(found, float) else found == shown

    assert same({s: score_summary(figures, s) for s in scorers}, summary["scorers"])
    assert same(ceiling_summary(figures), summary["ceiling"])
    for layer, shown in summary.get("by_layer", {}).items():
        assert same(layer_summary({k: v[layers == int(layer)] for k, v in figures.items()}, scorers), shown), layer
