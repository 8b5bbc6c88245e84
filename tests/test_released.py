"""Loading and scoring released NLAs: tiny checkpoints written in the release's layout (separate AV and AR
repositories, scrubbed sidecars with no rawvar, an AR cut to K+1 blocks without norm or LM head), read from
folders and from hub ids in a pre-filled offline Hugging Face cache, through explain, evaluate (fast and
full), serve's API and the command line; the registry that fills what their sidecars leave out; token caps
and capped generations; --dtype and --device-map; and every sidecar variant with the official code's meaning.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import yaml

from nlakit.app.cli import main
from nlakit.core import released
from nlakit.core.dataset import VECTOR, parquet_sidecar
from nlakit.core.errors import NLAError
from nlakit.core.hooks import inject
from nlakit.core.metrics import RAW, RAWVAR, score_rows
from nlakit.core.nla import NLA, roundtrip
from nlakit.core.prompts import AR_TEMPLATE, ar_suffix_ids, find_marker
from nlakit.core.released import ReleasedNLA
from nlakit.core.sidecar import Sidecar

ROOT = Path(__file__).resolve().parent.parent
TARGET = "tiny-org/tiny-target"  # the target model's hub id, as `base_checkpoint` names Qwen/Qwen2.5-7B-Instruct
PAIR = "tiny-org/nla-tiny-L1"
K, D, CAP = 1, 64, 5
# The released AV template, word for word (nla/datagen/stage3_build.py; the sidecars' prompt_templates.av)
OFFICIAL_AV_TEMPLATE = (
    "You are a meticulous AI researcher conducting an important investigation into activation vectors from a language model. "
    "Your overall task is to describe the semantic content of that activation vector.\n\nWe will pass the vector enclosed in "
    "<concept> tags into your context. You must then produce an explanation for the vector, enclosed within <explanation> tags. "
    "The explanation consists of 2-3 text snippets describing that vector.\n\nHere is the vector:\n\n<concept>{injection_char}"
    "</concept>\n\nPlease provide an explanation."
)
TINY = ReleasedNLA(PAIR, f"{PAIR}-av", f"{PAIR}-ar", TARGET, K, 3, D, 3.0, 0.5, meannorm=0.6,
                   extraction={"min_position": 2, "positions_per_doc": 2, "max_length": 64, "batch_size": 8}, max_new_tokens=CAP)
TEXT = "Rain fell all night on the old roof."


# ---------------------------------------------------------------- tiny checkpoints in the released layout


def released_sidecar(tokenizer, role: str, injection_scale: float | None) -> dict:
    """A model sidecar as the release scrub leaves it (release/hf_stage_and_scrub.py): no rawvar, no extraction settings."""
    return {
        "kind": "nla_model", "schema_version": 2, "role": role, "stage": "rl", "base_checkpoint": TARGET, "parent_checkpoints": [TARGET],
        "trained_on": ["a tiny corpus"], "d_model": D, "extraction_layer_index": K,
        "extraction": {"injection_scale": injection_scale, "mse_scale": math.sqrt(D)},
        "tokens": {**find_marker(tokenizer, OFFICIAL_AV_TEMPLATE), "critic_suffix_ids": ar_suffix_ids(tokenizer, AR_TEMPLATE)},
        "prompt_templates": {"av": OFFICIAL_AV_TEMPLATE, "ar": AR_TEMPLATE},
        "training": {"lr": 1.41e-05, "loss_type": "policy_loss" if role == "av" else "custom_loss", "global_batch_size": 1024},
        "created_by": "a tiny release",
        **({"critic": {"extraction_layer_index": K}} if role == "ar" else {}),
    }


def write_released_pair(target: Path, out: Path) -> tuple[Path, Path]:
    """`out/av`: the whole model; `out/ar`: blocks 0..K under `model.*` names (no norm, no LM head), a bf16 value head."""
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(target)
    model = AutoModelForCausalLM.from_pretrained(target)
    av, ar = out / "av", out / "ar"
    model.save_pretrained(av)
    tokenizer.save_pretrained(av)
    (av / "nla_meta.yaml").write_text(yaml.safe_dump(released_sidecar(tokenizer, "av", TINY.injection_scale), allow_unicode=True))
    kept = tuple(f"layers.{i}." for i in range(K + 1))
    state = {f"model.{k}": v.contiguous() for k, v in model.get_decoder().state_dict().items()
             if k.startswith("embed_tokens.") or k.startswith(kept)}
    ar.mkdir(parents=True)
    save_file(state, str(ar / "model.safetensors"), metadata={"format": "pt"})
    config = model.config
    config.num_hidden_layers = K + 1
    if getattr(config, "layer_types", None):
        config.layer_types = config.layer_types[: K + 1]
    config.save_pretrained(ar)
    torch.manual_seed(1)
    head = torch.eye(D) + 0.01 * torch.randn(D, D)
    save_file({"weight": head.to(torch.bfloat16)}, str(ar / "value_head.safetensors"))
    tokenizer.save_pretrained(ar)
    (ar / "nla_meta.yaml").write_text(yaml.safe_dump(released_sidecar(tokenizer, "ar", None), allow_unicode=True))
    return av, ar


def cache_repo(cache: Path, repo_id: str, files: Path) -> None:
    """`files` as huggingface_hub keeps a downloaded repository: models--owner--name/snapshots/<commit>/ and refs/main."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    shutil.copytree(files, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, make_tiny_model) -> SimpleNamespace:
    """A Qwen-style pair (no BOS added, untied LM head) as folders, and the same files in an offline hub cache."""
    root = tmp_path_factory.mktemp("released")
    target = Path(make_tiny_model(root / "target", num_hidden_layers=3, max_position_embeddings=1024, tie_word_embeddings=False))
    av, ar = write_released_pair(target, root / "folders")
    cache = root / "hub"
    for repo_id, files in ((TARGET, target), (TINY.av, av), (TINY.ar, ar)):
        cache_repo(cache, repo_id, files)
    return SimpleNamespace(av=av, ar=ar, cache=cache, target=target)


@pytest.fixture(scope="module")
def hub(pair):
    """Offline, with the pre-filled cache as huggingface_hub's and the tiny pair in the registry, for the module's tests."""
    from huggingface_hub import constants

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_CACHE", str(pair.cache))
        patch.setattr(constants, "HF_HUB_OFFLINE", True)
        patch.setattr(released, "RELEASED", (*released.RELEASED, TINY))
        yield pair


@pytest.fixture(scope="module")
def from_hub(hub) -> NLA:
    return NLA.load(av=TINY.av, ar=TINY.ar)


def run_cli(argv: list[str], capsys) -> tuple[str, str]:
    """(stdout, stderr) of one command run in this process."""
    capsys.readouterr()
    main(argv)
    captured = capsys.readouterr()
    return captured.out, captured.err


# ---------------------------------------------------------------- loading: hub ids, folders, the registry


def test_a_released_pair_loads_from_hub_ids_in_the_offline_cache_and_fills_its_silences_from_the_registry(from_hub, capsys):
    nla = from_hub
    assert nla.release == TINY and nla.meta.layer_index == K and len(nla.ar.decoder.layers) == K + 1
    assert nla.baseline.name == f"{RAWVAR} of {PAIR} (registry)" and nla.baseline.value == TINY.rawvar
    assert nla.meannorm == TINY.meannorm and nla.max_new_tokens == CAP
    cfg = nla.extract_config()
    assert (cfg.min_position, cfg.positions_per_doc, cfg.max_length) == (2, 2, 64)  # the release's kind of settings, not nlakit's
    assert any("capped at 5" in n for n in nla.notes) and any("min_position 2" in n for n in nla.notes)
    assert nla.meta.resolved_mse_scale == pytest.approx(math.sqrt(D))
    result = nla.roundtrip(np.random.default_rng(0).standard_normal((3, D)).astype(np.float32))
    assert result.mse_nrm.shape == (3,) and result.capped.dtype == bool


def test_folders_of_a_released_pair_find_their_registry_entry_by_target_layer_and_width(hub):
    nla = NLA.load(av=hub.av, ar=hub.ar)  # downloaded copies: the hub id is gone, the sidecars still name the target
    assert nla.release == TINY and nla.baseline.name.endswith("(registry)")
    one = NLA.load(av=TINY.av)  # one half of a released pair is enough: the registry knows the other
    assert one.release == TINY and f"the AR of {PAIR} is {TINY.ar} (registry)" in one.notes
    assert f"the AV of {PAIR} is {TINY.av} (registry)" in NLA.load(ar=TINY.ar).notes
    with pytest.raises(NLAError, match="not both"):
        NLA.load(hub.av.parent, av=TINY.av, ar=TINY.ar)
    with pytest.raises(NLAError, match="give a released pair as --av and --ar"):
        NLA.load(TINY.av)


def test_the_path_or_hub_id_rule_and_one_line_for_an_id_the_offline_cache_lacks(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert released.is_hub_id("kitft/nla-qwen2.5-7b-L20-av") and not released.is_hub_id("./kitft/x")
    assert not released.is_hub_id("runs/a/b") and not released.is_hub_id("/abs/path") and not released.is_hub_id("plain")
    (tmp_path / "kitft" / "x").mkdir(parents=True)
    assert not released.is_hub_id("kitft/x") and released.locate("kitft/x") == Path("kitft/x")  # an existing folder wins
    with pytest.raises(NLAError, match="no folder here, and not a Hugging Face hub id"):
        released.locate("runs/a/b")
    offline = r"AV kitft/missing-av: no folder of that name here, and as a Hugging Face hub id it is not in the cache .* HF_HUB_OFFLINE=1 forbids"
    with pytest.raises(NLAError, match=offline):
        NLA.load(av="kitft/missing-av", ar=TINY.ar)
    with pytest.raises(SystemExit) as refused:
        main(["explain", "--av", "kitft/missing-av", "--ar", TINY.ar, TEXT])
    err = capsys.readouterr().err
    assert refused.value.code == 2 and "HF_HUB_OFFLINE=1" in err and "Traceback" not in err


def test_an_av_sidecar_from_before_the_release_scrub_takes_its_layer_from_the_ar(hub, tmp_path):
    """Pre-scrub: role actor, actor/critic templates, no layer index anywhere, no injection_scale (the registry's, named)."""
    av = Path(shutil.copytree(hub.av, tmp_path / "av"))
    meta = yaml.safe_load((av / "nla_meta.yaml").read_text())
    meta.pop("extraction_layer_index")
    meta["role"], meta["prompt_templates"] = "actor", {"actor": OFFICIAL_AV_TEMPLATE, "critic": AR_TEMPLATE}
    meta["extraction"]["injection_scale"] = None
    (av / "nla_meta.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True))
    assert Sidecar.load(av).layer_index is None
    nla = NLA.load(av=av, ar=hub.ar)
    assert nla.av.meta.layer_index == K and nla.av.meta.injection_scale == TINY.injection_scale
    assert any("no layer: layer 1 from the AR sidecar" in n for n in nla.notes)
    assert any("no injection_scale: 3 from" in n for n in nla.notes)


# ---------------------------------------------------------------- every command on the released pair


def test_explain_from_hub_ids_reports_capped_explanations_against_the_registry_baseline(hub, capsys):
    out, err = run_cli(["explain", "--av", TINY.av, "--ar", TINY.ar, "--json", TEXT], capsys)
    rows = json.loads(out)
    assert rows and all(r["baseline"] == f"{RAWVAR} of {PAIR} (registry)" for r in rows)
    for r in rows:  # a random AV never closes its tag: cut at the registry's cap, scored as a failure, and said so
        assert r["capped"] <= (not r["parsed"]) and (r["mse_nrm"] == 2.0 or r["parsed"])
    capped = sum(r["capped"] for r in rows)
    assert capped and f"{capped} of {len(rows)} explanations reached the cap of {CAP} tokens" in err
    assert f"note: explanations capped at {CAP} tokens, from {PAIR} (registry)" in err


def test_evaluate_fast_and_full_suite_go_through_the_registry(hub, tmp_path, capsys):
    fast = json.loads(run_cli(["evaluate", "--av", TINY.av, "--ar", TINY.ar, "--max-docs", "2", "--json"], capsys)[0])
    assert fast["baseline"] == f"{RAWVAR} of {PAIR} (registry)" and fast["rawvar"] == TINY.rawvar
    assert fast["max_new_tokens"] == CAP and 0 < fast["capped_rate"] <= fast["parse_failure_rate"]
    assert fast["n"] == 4  # 2 documents x the registry's 2 positions per document (nlakit's default is 4)
    full = json.loads(run_cli(["evaluate", "--av", str(hub.av), "--ar", str(hub.ar), "--max-docs", "2", "--max-new-tokens", "3",
                               "--suite", "full", "--out", str(tmp_path / "suite"), "--json"], capsys)[0])
    assert full["baseline"] == fast["baseline"] and full["max_new_tokens"] == 3 and "suite_capped" in full
    report = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert report["baseline"] == fast["baseline"] and report["meannorm"] == TINY.meannorm


def test_serve_from_hub_ids_names_the_baseline_and_flags_capped_explanations(hub, monkeypatch):
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    import uvicorn
    from fastapi.testclient import TestClient

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app))
    main(["serve", "--av", TINY.av, "--ar", TINY.ar])
    client = TestClient(served["app"], base_url="http://127.0.0.1")  # the loopback Host the CLI allows
    info = client.get("/api/info").json()
    assert info["baseline"] == f"{RAWVAR} of {PAIR} (registry)" and info["limits"]["max_new_tokens"] == CAP
    explained = client.post("/api/explain", json={"text": TEXT, "index": 0}).json()
    assert explained["capped"] == (not explained["parsed"]) and explained["fve_nrm"] == pytest.approx(1 - explained["mse_nrm"] / 0.5)
    main(["serve", "--av", TINY.av, "--ar", TINY.ar, "--max-new-tokens", "2"])
    assert TestClient(served["app"], base_url="http://127.0.0.1").get("/api/info").json()["limits"]["max_new_tokens"] == 2


def test_a_gemma3_style_pair_with_sqrt_d_embeddings_loads_from_folders(tmp_path, make_tokenizer):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    target = tmp_path / "gemma"
    tokenizer = make_tokenizer(target, style="gemma")
    config = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=D, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
                              num_key_value_heads=2, head_dim=16, max_position_embeddings=1024, sliding_window=32, pad_token_id=0,
                              bos_token_id=1, eos_token_id=2)
    torch.manual_seed(0)
    Gemma3ForCausalLM(config).save_pretrained(target)
    av, ar = write_released_pair(target, tmp_path / "pair")
    for folder in (av, ar):  # its sidecars name the local target
        meta = yaml.safe_load((folder / "nla_meta.yaml").read_text())
        meta["base_checkpoint"] = meta["parent_checkpoints"][0] = str(target)
        (folder / "nla_meta.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True))
    nla = NLA.load(av=av, ar=ar)
    assert nla.release is None and "built-in held-out" in nla.baseline.name  # not a registered pair: a measured stand-in, named
    # the official pipeline's settings, not nlakit's (96 tokens; 4 / 128 / 4, seed 0), each named in one note
    cfg = nla.extract_config()
    assert nla.pipeline and nla.max_new_tokens == 200 and len(nla.ar.decoder.layers) == K + 1
    assert (cfg.min_position, cfg.max_length, cfg.positions_per_doc, cfg.seed) == (50, 4096, 10, 42)
    note = next(n for n in nla.notes if "official pipeline's defaults" in n)
    assert all(part in note for part in ("cap 200 tokens", "min_position 50", "max_length 4096", "positions_per_doc 10", "seed 42"))
    assert nla.av.causal_lm.get_input_embeddings().embed_scale == pytest.approx(math.sqrt(D))
    rows = nla.explain("The cat sat.", max_new_tokens=3)
    assert rows and all(np.isfinite(r["fve_nrm"]) for r in rows)


# ---------------------------------------------------------------- caps, dtype, device map


def test_a_generation_cut_by_the_cap_is_capped_not_one_that_stopped_or_closed_its_tag():
    class StubAV:
        def generate(self, vectors, max_new_tokens, **_):
            ids = [[7] * max_new_tokens, [7] * 2, [7] * max_new_tokens]  # cut by the cap; stopped at eos; closed exactly at the cap
            return SimpleNamespace(explanations=[None, None, "a topic"], texts=["<explanation> a", "<explanation>", "x"], token_ids=ids)

    class StubAR:
        meta = SimpleNamespace(d_model=D, resolved_mse_scale=None)

        def reconstruct(self, texts, **_):
            return np.ones((len(texts), D), np.float32)  # the exact direction, whatever the text

    result = roundtrip(StubAV(), StubAR(), np.ones((3, D), np.float32), max_new_tokens=4)
    assert result.capped.tolist() == [True, False, False] and result.parsed.tolist() == [False, False, True]
    assert result.mse_nrm.tolist() == pytest.approx([2.0, 2.0, 0.0])  # capped: scored as a failure, never as if it were fine
    assert [r["capped"] for r in result.rows()] == [True, False, False] and result.reconstructions.shape == (3, D)


def test_dtype_bf16_and_device_map_load_all_three_models_and_fp16_is_refused(hub, capsys, monkeypatch):
    nla = NLA.load(av=TINY.av, ar=TINY.ar, dtype="bf16")
    for model in (nla.av.lm, nla.ar.lm, nla.target):
        assert next(model.parameters()).dtype == torch.bfloat16
    assert np.isfinite(nla.roundtrip(np.ones((1, D), np.float32), max_new_tokens=2).mse_nrm).all()
    from transformers import AutoModelForCausalLM

    loads, original = [], AutoModelForCausalLM.from_pretrained.__func__
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained",
                        classmethod(lambda cls, *a, **kw: loads.append(kw.get("device_map")) or original(cls, *a, **kw)))
    mapped = NLA.load(av=TINY.av, ar=TINY.ar, device_map="auto")  # accelerate's map; on a CPU-only machine all of it is the CPU
    assert loads == ["auto"] * 3 and next(mapped.target.parameters()).dtype == torch.float32  # auto without a GPU: fp32
    rows = mapped.explain(TEXT, max_new_tokens=2)
    assert rows and all(np.isfinite(r["mse_nrm"]) for r in rows)
    with pytest.raises(SystemExit) as refused:
        main(["explain", "--av", TINY.av, "--ar", TINY.ar, "--dtype", "fp16", TEXT])
    assert refused.value.code == 2 and "fp16 is refused" in capsys.readouterr().err


def test_hub_ids_resolve_through_the_environment_in_a_fresh_process(hub):
    """HF_HUB_CACHE and HF_HUB_OFFLINE=1 set as a user would: the released pair explains with no network."""
    env = {**os.environ, "HF_HUB_CACHE": str(hub.cache), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "nlakit.app.cli", "explain", "--av", TINY.av, "--ar", TINY.ar, "--max-new-tokens", "2", "--json", "Hi there"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(result.stdout)
    assert rows and all("built-in held-out documents" in r["baseline"] for r in rows)  # no registry entry there: a named stand-in


# ---------------------------------------------------------------- sidecar variants, read as the official code reads them


def official(**changes) -> dict:
    base = {"kind": "nla_model", "schema_version": 2, "role": "ar", "base_checkpoint": "Qwen/Qwen2.5-7B-Instruct", "d_model": 3584,
            "extraction": {"injection_scale": None, "mse_scale": 59.86651818838306}, "critic": {"extraction_layer_index": 20}}
    return {**base, **changes}


def test_legacy_critic_num_hidden_layers_is_the_layer_k_and_nlakit_writes_only_the_official_key():
    assert Sidecar.from_dict(official(critic={"num_hidden_layers": 20})).layer_index == 20  # nla/config.py: critic_num_layers = K
    ours = {"kind": "nla_model", "role": "ar", "base_model": "m", "d_model": 8,
            "extraction": {"layer_index": 3, "hidden_states_index": 4, "mse_scale": None}, "critic": {"extraction_layer_index": 3, "num_hidden_layers": 4}}
    meta = Sidecar.from_dict(ours)  # nlakit's older sidecars (K+1 under num_hidden_layers) read by their own layer_index
    assert meta.layer_index == 3 and meta.to_dict()["critic"] == {"extraction_layer_index": 3}
    assert Sidecar.from_dict(meta.to_dict()).layer_index == 3


def test_injection_scale_raw_injects_the_vector_as_it_is():
    meta = Sidecar.from_dict(official(role="av", extraction={"injection_scale": "raw", "mse_scale": 1.0}))
    assert meta.injection_scale == RAW and Sidecar.from_dict(official(extraction={"injection_scale": "none"})).injection_scale == RAW
    vectors = torch.randn(2, 8) * 5
    out = inject(torch.zeros(2, 4, 8), 1, vectors, meta.injection_scale)
    torch.testing.assert_close(out[:, 1], vectors)
    assert torch.allclose(inject(torch.zeros(2, 4, 8), 1, vectors, 3.0)[:, 1].norm(dim=-1), torch.full((2,), 3.0))


def test_mse_scale_null_is_the_raw_mse_absent_is_sqrt_d_and_nlakit_old_null_stays_sqrt_d():
    raw = Sidecar.from_dict(official(extraction={"mse_scale": None}))
    assert raw.resolved_mse_scale == RAW and raw.to_dict()["extraction"]["mse_scale"] == RAW
    assert Sidecar.from_dict(official(extraction={})).resolved_mse_scale == pytest.approx(math.sqrt(3584))
    assert Sidecar.from_dict(official(extraction={"mse_scale": "sqrt_d_model"})).resolved_mse_scale == pytest.approx(math.sqrt(3584))
    old = Sidecar.from_dict({"kind": "nla_model", "base_model": "m", "d_model": 16, "extraction": {"layer_index": 1, "hidden_states_index": 2,
                                                                                                  "mse_scale": None}})
    assert old.resolved_mse_scale == 4.0 and old.to_dict()["extraction"]["mse_scale"] == 4.0  # written resolved from now on
    pred, gold = np.array([[1.0, 2.0]], np.float32), np.array([[3.0, 0.0]], np.float32)
    assert score_rows(pred, gold, RAW)[0] == pytest.approx(((pred - gold) ** 2).mean())
    assert score_rows(pred, gold)[0] == pytest.approx(2 * (1 - (pred @ gold.T).item() / np.linalg.norm(pred) / np.linalg.norm(gold)))


def test_an_official_dataset_sidecar_without_d_model_takes_it_from_the_vectors(tmp_path):
    sidecar = {"kind": "nla_dataset", "schema_version": 1, "dataset_id": "base_x", "stage": "base",
               "extraction": {"base_model": "Qwen/Qwen2.5-7B-Instruct", "layer_index": 20, "norm": "none", "positions_per_doc": 10}}
    assert Sidecar.from_dict(sidecar).d_model is None
    assert Sidecar.from_dict({**sidecar, "extraction": {**sidecar["extraction"], "d_model": 6}}).d_model == 6
    path = tmp_path / "base.parquet"
    flat = pa.array(np.arange(12, dtype=np.float32))
    pq.write_table(pa.table({VECTOR: pa.FixedSizeListArray.from_arrays(flat, 6)}), path)
    (tmp_path / "base.parquet.nla_meta.yaml").write_text(yaml.safe_dump(sidecar))
    meta = parquet_sidecar(path)
    assert (meta.d_model, meta.layer_index, meta.base_model) == (6, 20, "Qwen/Qwen2.5-7B-Instruct")
    with pytest.raises(NLAError, match="lacks required field"):
        Sidecar.from_dict({k: v for k, v in official().items() if k != "d_model"})  # a model sidecar must say its width


def test_the_registry_agrees_with_the_release_s_own_printed_numbers():
    """sqrt(d) as the official examples print it (examples/*.txt "scaled to sqrt(d)=...") and K = 2/3 depth but for Qwen."""
    printed = {"kitft/nla-qwen2.5-7b-L20": 59.87, "kitft/nla-gemma3-12b-L32": 61.97, "kitft/nla-gemma3-27b-L41": 73.32,
               "kitft/Llama-3.3-70B-NLA-L53": 90.51}
    for name, sqrt_d in printed.items():
        entry = released.by_hub_id(f"{name}-av")
        assert round(entry.mse_scale, 2) == sqrt_d and (entry.name, entry.ar) == (name, f"{name}-ar")
        assert entry.layer_index == (20 if "qwen" in entry.name else (2 * entry.n_layers) // 3)  # nla/datagen/model_presets.py
        assert f"-L{entry.layer_index}" in entry.name and released.by_hub_id(entry.av.upper()) == entry


# ---------------------------------------------------------------- issue 28: the official client's rescue flag, its suffix check, caps


def _unregistered_copy(hub, tmp_path, role: str, **changes) -> Path:
    """A copy of one half of the tiny pair with its sidecar changed (`changes`: dotted keys -> values)."""
    folder = Path(shutil.copytree(getattr(hub, role), tmp_path / role))
    meta = yaml.safe_load((folder / "nla_meta.yaml").read_text())
    for key, value in changes.items():
        section, name = key.split(".")
        meta[section][name] = value
    (folder / "nla_meta.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True))
    return folder


def test_injection_scale_rescues_an_av_sidecar_without_one_as_the_official_flag_does(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(released, "RELEASED", tuple(e for e in released.RELEASED if e != TINY))  # no registry entry to fall back on
    av = _unregistered_copy(hub, tmp_path, "av", **{"extraction.injection_scale": None})
    with pytest.raises(SystemExit) as refused:
        main(["explain", "--av", str(av), "--ar", str(hub.ar), "--random", "1", "--max-new-tokens", "2"])
    err = capsys.readouterr().err
    assert refused.value.code == 2 and "no extraction.injection_scale" in err and "--injection-scale" in err
    out, err = run_cli(["explain", "--av", str(av), "--ar", str(hub.ar), "--random", "1", "--max-new-tokens", "2",
                        "--injection-scale", "7", "--json", "-q"], capsys)
    assert len(json.loads(out)) == 1 and "no injection_scale: 7 from --injection-scale" in err
    nla = NLA.load(av=av, ar=hub.ar, injection_scale=7.0)
    assert nla.av.meta.injection_scale == 7.0 and nla.pipeline  # outside the registry: the official pipeline's settings too


def test_a_drifted_critic_suffix_is_refused_in_one_line(hub, tmp_path):
    tokenizer = load_tokenizer_for(hub.ar)
    good = ar_suffix_ids(tokenizer, AR_TEMPLATE)
    ar = _unregistered_copy(hub, tmp_path, "ar", **{"tokens.critic_suffix_ids": [*good[:-1], good[-1] + 1]})
    with pytest.raises(NLAError, match=r"critic_suffix_ids say .*drifted"):
        NLA.load(av=hub.av, ar=ar)


def load_tokenizer_for(folder: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


def test_explain_random_vectors_flags_capped_explanations_as_text_mode_does(hub, capsys):
    out, err = run_cli(["explain", "--av", TINY.av, "--ar", TINY.ar, "--random", "2", "--json", "-q"], capsys)
    rows = json.loads(out)
    capped = sum(r["capped"] for r in rows)  # a random AV never closes its tag: cut at the registry's cap
    assert capped and all(r["capped"] <= (not r["parsed"]) for r in rows)
    assert f"{capped} of {len(rows)} explanations reached the cap of {CAP} tokens" in err
    table, _ = run_cli(["explain", "--av", TINY.av, "--ar", TINY.ar, "--random", "2", "-q"], capsys)
    assert f"capped {capped / len(rows):.0%}" in table  # greedy: the same rows as the JSON run
