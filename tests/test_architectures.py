"""The architecture matrix: nlakit on tiny random models of each common causal-LM family, base and instruct.

Each family keeps its blocks and final norm under its own names (GPT-2's `transformer.h` and `ln_f`, Phi's
`final_layernorm`, GPT-NeoX's `final_layer_norm` ...). For every one: the layer-K reading is the model's own
`hidden_states[K + 1]`, the AR has no final norm (it returns block K's output as it is), and a base model without
a chat template gets the plain AV prompt format. The whole pipeline (extract -> teach -> train-ar -> train-av ->
rl -> evaluate -> export --format official -> reload) runs on a subset that covers each naming scheme, base and
instruct, so the module stays fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nlakit.core.ar import build_reconstructor
from nlakit.core.config import ARConfig, AVConfig, EvaluateConfig, ExtractConfig, RLConfig
from nlakit.core.errors import NLAError
from nlakit.core.hooks import decoder_layers, final_norm_path
from nlakit.core.models import load_causal_lm, load_tokenizer
from nlakit.core.nla import NLA
from nlakit.core.prompts import AR_TEMPLATE, AV_TEMPLATE, PLAIN_CHAT_TEMPLATE, av_chat_template, av_prompt, find_marker
from nlakit.core.reading import forward_target
from nlakit.core.sidecar import Sidecar
from nlakit.stages.evaluate import run_evaluate
from nlakit.stages.export import export_official
from nlakit.stages.extract import run_extract
from nlakit.stages.rl import run_rl
from nlakit.stages.sft import run_train_ar, run_train_av
from nlakit.stages.teach import TemplateTeacher, run_teach

WIDTH = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4)
# family -> (transformers config class, causal-LM class, config settings, where its final norm sits under get_decoder())
ARCHITECTURES = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", {**WIDTH, "num_key_value_heads": 2}, "norm"),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", {**WIDTH, "num_key_value_heads": 2}, "norm"),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", {**WIDTH, "num_key_value_heads": 2, "head_dim": 16}, "norm"),
    "mistral": ("MistralConfig", "MistralForCausalLM", {**WIDTH, "num_key_value_heads": 2}, "norm"),
    "gemma2": ("Gemma2Config", "Gemma2ForCausalLM", {**WIDTH, "num_key_value_heads": 2, "head_dim": 16}, "norm"),
    "gemma3": ("Gemma3TextConfig", "Gemma3ForCausalLM", {**WIDTH, "num_key_value_heads": 2, "head_dim": 16, "sliding_window": 32}, "norm"),
    "phi": ("PhiConfig", "PhiForCausalLM", WIDTH, "final_layernorm"),
    "phi3": ("Phi3Config", "Phi3ForCausalLM", WIDTH, "norm"),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", dict(n_embd=64, n_layer=2, n_head=4, n_positions=256), "ln_f"),
    "gpt_neox": ("GPTNeoXConfig", "GPTNeoXForCausalLM", WIDTH, "final_layer_norm"),
    "olmo": ("OlmoConfig", "OlmoForCausalLM", WIDTH, "norm"),
    "falcon": ("FalconConfig", "FalconForCausalLM", dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4), "ln_f"),
}
# the full pipeline for every family (5 to 15 s each on two cores), base and instruct alternating so both prompt
# formats go through every stage (the multimodal Gemma-3 wrapper goes through it in test_official.py)
PIPELINE = [(family, ("base", "instruct")[i % 2]) for i, family in enumerate(ARCHITECTURES)]


def make_model(folder: Path, family: str, style: str, make_tokenizer) -> str:
    """A random 2-block, d=64 model of `family` with conftest's byte-level tokenizer; `base`: no chat template."""
    import transformers

    config_name, model_name, settings, _ = ARCHITECTURES[family]
    tokenizer = make_tokenizer(folder.parent / f"{folder.name}-tokenizer")
    if style == "base":
        tokenizer.chat_template = None
    tokenizer.save_pretrained(folder)
    config = getattr(transformers, config_name)(vocab_size=len(tokenizer), max_position_embeddings=256, pad_token_id=0,
                                                bos_token_id=1, eos_token_id=2, **settings)
    torch.manual_seed(0)
    getattr(transformers, model_name)(config).save_pretrained(folder)
    return str(folder)


class Models(dict):
    """(family, style) -> model folder, each built the first time a test asks for it."""

    def __init__(self, root: Path, make_tokenizer) -> None:
        super().__init__()
        self.root, self.make_tokenizer = root, make_tokenizer

    def __missing__(self, key: tuple[str, str]) -> str:
        self[key] = make_model(self.root / "-".join(key), *key, self.make_tokenizer)
        return self[key]


@pytest.fixture(scope="module")
def models(tmp_path_factory, make_tokenizer) -> Models:
    return Models(tmp_path_factory.mktemp("architectures"), make_tokenizer)


@pytest.mark.parametrize("family", ARCHITECTURES)
def test_layer_k_reading_is_the_models_own_hidden_state(family, models, tiny_texts):
    model = load_causal_lm(models[family, "instruct"])
    tokenizer = load_tokenizer(models[family, "instruct"])
    tokens = [tokenizer.encode(t) for t in tiny_texts[:3]]
    assert len(decoder_layers(model)) == 2
    reading = forward_target(model, 0, tokens)
    for row, ids in enumerate(tokens):
        own = model(torch.tensor([ids]), output_hidden_states=True).hidden_states[1][0]
        torch.testing.assert_close(reading.hidden[row, : len(ids)], own, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("family", ARCHITECTURES)
def test_the_ar_has_no_final_norm_whatever_its_name(family, models):
    """The AR's prediction (identity head) is block K's output as it is, not the normalised last hidden state."""
    name = models[family, "instruct"]
    meta = Sidecar(kind="nla_model", base_model=name, d_model=64, layer_index=1, injection_scale=3.0,
                   prompt_templates={"av": AV_TEMPLATE, "ar": AR_TEMPLATE})
    ar = build_reconstructor(meta)
    norm = ARCHITECTURES[family][3]
    assert final_norm_path(ar.lm) == norm and isinstance(ar.decoder.get_submodule(norm), torch.nn.Identity)
    explanation = "story; topic: bread, river."
    ids = ar.encode([explanation])["input_ids"][0].tolist()
    base = load_causal_lm(name)
    block_output = forward_target(base, 1, [ids]).hidden[0, -1]
    predicted = torch.from_numpy(ar.reconstruct([explanation], bf16=False)[0])
    torch.testing.assert_close(predicted, block_output, atol=1e-4, rtol=1e-4)
    normed = base(torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0, -1]
    assert not torch.allclose(predicted, normed, atol=1e-2)  # there was a norm to strip


@pytest.mark.parametrize("family", ARCHITECTURES)
def test_a_base_model_gets_the_plain_prompt_format_and_an_instruct_model_its_own(family, models):
    base, instruct = load_tokenizer(models[family, "base"]), load_tokenizer(models[family, "instruct"])
    assert av_chat_template(instruct) is None
    chat = av_chat_template(base)
    assert chat is not None and chat.endswith(PLAIN_CHAT_TEMPLATE)
    meta = Sidecar(kind="nla_model", base_model=models[family, "base"], d_model=64, layer_index=1, injection_scale=3.0,
                   tokens=find_marker(base, AV_TEMPLATE, chat), prompt_templates={"av": AV_TEMPLATE, "ar": AR_TEMPLATE, "av_chat": chat})
    ids, marker = av_prompt(base, meta)
    text = base.decode(ids)
    assert text.startswith("User: Explain the vector") and text.endswith("Assistant:\n") and ids[marker] == meta.tokens["injection_token_id"]
    with pytest.raises(NLAError, match="no chat template and the sidecar records no prompt_templates.av_chat"):
        av_prompt(base, Sidecar(**{**meta.__dict__, "prompt_templates": {"av": AV_TEMPLATE, "ar": AR_TEMPLATE}}))


def test_a_model_without_a_block_list_is_refused_in_one_line():
    class NoBlocks(torch.nn.Module):
        def get_decoder(self) -> torch.nn.Module:
            return torch.nn.Linear(2, 2)

    with pytest.raises(NLAError, match=r"cannot find decoder layers in NoBlocks: .*layers / h / blocks"):
        decoder_layers(NoBlocks())


@pytest.mark.parametrize("family, style", PIPELINE)
def test_the_pipeline_runs_and_the_official_export_reloads_the_same(family, style, models, tiny_corpus, tmp_path):
    name = models[family, style]
    data = run_teach(run_extract(ExtractConfig(model=name, corpus=str(tiny_corpus), max_docs=12, heldout_fraction=0.3,
                                               chunk_docs=12), tmp_path / "ds"), TemplateTeacher())
    assert ("av_chat" in Sidecar.load(data).prompt_templates) == (style == "base")
    common = dict(steps=1, eval_every=1, save_every=1, bf16=False)
    run_train_ar(data, tmp_path / "sft" / "ar", ARConfig(**common))
    run_train_av(data, tmp_path / "sft" / "av", AVConfig(**common))
    rl_cfg = RLConfig(steps=2, batch_size=2, group_size=2, max_new_tokens=4, save_every=2, sample_rows=2, warmup_steps=1, bf16=False)
    nla_dir = run_rl(data, tmp_path / "sft" / "av", tmp_path / "sft" / "ar", tmp_path / "rl", rl_cfg)
    metrics = run_evaluate(nla_dir, EvaluateConfig(texts=str(tiny_corpus), max_docs=2, max_new_tokens=4))
    assert metrics["n"] > 0 and np.isfinite(metrics["mse_nrm"])

    out = export_official(nla_dir, tmp_path / "official", dtype="fp32")
    trained, exported = NLA.load(nla_dir, int8=False), NLA.load(out, int8=False)  # exact products: the same weights read the same
    assert final_norm_path(exported.ar.lm) == ARCHITECTURES[family][3] and len(decoder_layers(exported.ar.lm)) == 2
    texts = ["story; topic: bread, river.", "code; topic: list."]
    np.testing.assert_allclose(exported.ar.reconstruct(texts, bf16=False), trained.ar.reconstruct(texts, bf16=False), atol=1e-4)
    assert exported.av.prompt_ids == trained.av.prompt_ids
    if style == "base":  # the plain format travels in the sidecar and in the exported tokenizer (the official client's)
        assert exported.av.meta.prompt_templates["av_chat"] == trained.av.meta.prompt_templates["av_chat"]
        assert load_tokenizer(str(out / "av")).chat_template == trained.av.meta.prompt_templates["av_chat"]
