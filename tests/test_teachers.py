"""Teacher designs: the template's parts, the probabilities extract records for them, the design a model
inherits (and its `teacher` control), and `nlakit teachers`, which ranks designs before a long run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from nlakit.core import dataset
from nlakit.core.config import ExtractConfig, TeachConfig, TeachersConfig
from nlakit.core.errors import NLAError
from nlakit.core.files import StageRun, content_digest, read_record, write_record
from nlakit.core.models import load_causal_lm, load_tokenizer
from nlakit.core.nla import NLA
from nlakit.core.prompts import explanation_fields, parse_design, template_explanation
from nlakit.core.sidecar import Sidecar
from nlakit.readings.teachers import run_teachers
from nlakit.stages.extract import run_extract
from nlakit.stages.teach import TemplateTeacher, run_teach

ROW = {"context": 'Rain fell on the "old" roof and the cat slept by the warm stove', "genre": "story", "token": " stove",
       "next_tokens": [".", ",", "\n", " and", " while"], "next_probs": [0.41, 0.2, 0.1, 0.05, 0.01]}


def test_the_default_design_writes_exactly_what_the_shipped_nla_was_taught():
    """The shipped NLA's AR reads this shape: the default design must not drift by a byte."""
    assert template_explanation(ROW) == 'story; topic: rain, fell.\nEnds with: "cat slept by the warm stove"\nNext: ".", ","'


def test_every_part_is_written_in_order_and_read_back():
    text = template_explanation(ROW, "genre+token+quote3+next3p")
    assert text.splitlines() == ['story; topic: rain, fell.', 'Reads: " stove"', 'Ends with: "the warm stove"',
                                 'Next: "." (41%), "," (20%), "\\n" (10%)']
    fields = explanation_fields(text)
    assert (fields["genre"], fields["last_word"], fields["next"]) == ("story", "stove", [".", ",", "\\n"])
    only_token = explanation_fields(template_explanation(ROW, "token+next1"))
    assert (only_token["last_word"], only_token["quoted"], only_token["next"]) == ("stove", [], ["."])
    assert template_explanation(ROW, "quote2") == 'Ends with: "warm stove"'


@pytest.mark.parametrize("design, fragment", [
    ("genre+vibes", "unknown part(s) 'vibes'"), ("next0", "unknown part(s) 'next0'"), ("next6", "unknown part(s) 'next6'"),
    ("quote0", "unknown part(s) 'quote0'"), ("quote3+quote4", "each part may appear once"), ("", "unknown part(s) ''"),
])
def test_a_bad_design_is_refused_in_one_line(design, fragment):
    with pytest.raises(NLAError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_design(design)
    with pytest.raises(NLAError):
        TeachConfig(design=design)


def test_a_design_with_probabilities_on_rows_without_them_is_refused():
    old_row = {k: v for k, v in ROW.items() if k != "next_probs"}
    assert template_explanation(old_row, "genre+next2")
    with pytest.raises(NLAError, match="extracted before nlakit recorded them"):
        template_explanation(old_row, "next2p")


def test_extract_records_the_targets_next_token_probabilities(taught, tiny_model):
    """next_probs are the softmax of the target's own logits at the row's token, in the order of next_tokens."""
    table, _ = dataset.read_split(taught, "train")
    row = table.slice(0, 1).to_pylist()[0]
    tokenizer, model = load_tokenizer(tiny_model), load_causal_lm(tiny_model)
    ids = tokenizer(row["context"], return_tensors="pt")["input_ids"]
    assert ids.shape[1] == row["position"] + 1
    with torch.no_grad():
        probs = model(ids).logits[0, -1].float().softmax(-1)
    top = probs.topk(len(row["next_tokens"]))
    assert [tokenizer.decode([i]) for i in top.indices.tolist()] == row["next_tokens"]
    np.testing.assert_allclose(row["next_probs"], top.values.numpy(), atol=1e-4)
    assert row["next_probs"] == sorted(row["next_probs"], reverse=True) and sum(row["next_probs"]) <= 1 + 1e-3


def test_the_design_goes_from_teach_to_the_models_and_their_teacher_control(taught, make_sft_pair, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(taught, data)
    run_teach(data, TemplateTeacher("token+next3p"), overwrite=True)
    assert Sidecar.load(data).prompt_templates["teacher"] == "token+next3p"
    assert all(e.startswith("Reads: ") for e in dataset.explanations(dataset.read_split(data, "train")[0]))
    pair = make_sft_pair(data, tmp_path / "nla")
    nla = NLA.load(pair.nla)
    assert nla.teacher_design == "token+next3p"
    rows = dataset.read_split(data, "heldout")[0].to_pylist()
    assert nla.teacher_texts(rows) == [r["explanation"] for r in rows]
    shipped_style = NLA.load(tmp_path / "nla")
    shipped_style.ar.meta.prompt_templates.pop("teacher")  # a sidecar from before designs: the default design
    assert shipped_style.teacher_texts(rows[:1]) == [template_explanation(rows[0])]


def test_a_run_recorded_before_a_setting_existed_still_matches_at_its_default(taught, tmp_path):
    """Adding a setting must not orphan finished or resumable runs; a value other than its default still differs."""
    folder = tmp_path / "data"
    shutil.copytree(taught, folder)
    record = read_record(folder)["teach"]
    old = {**record, "settings": {k: v for k, v in record["settings"].items() if k != "design"}}
    write_record(folder, "teach", old)
    assert StageRun("teach", folder, TeachConfig(), {}, in_place=True).done()
    with pytest.raises(NLAError, match=r"design: None -> 'next2'"):
        StageRun("teach", folder, TeachConfig(design="next2"), {}, in_place=True).done()


def test_teachers_ranks_designs_resumes_and_leaves_the_dataset_alone(tiny_model, tiny_corpus, tmp_path):
    data = run_extract(ExtractConfig(model=tiny_model, corpus=str(tiny_corpus), layer_index=1, heldout_fraction=0.3), tmp_path / "data")
    before = content_digest(data)
    cfg = TeachersConfig(designs="genre+quote6+next2, token+next3p", ar_steps=2, av_steps=2, av_top=1, eval_rows=8, batch_size=4,
                         max_new_tokens=8)
    summary = run_teachers(data, tmp_path / "rank", cfg)
    designs = summary["designs"]
    assert sorted(d["design"] for d in designs) == ["genre+quote6+next2", "token+next3p"]
    assert designs[0]["ar_fve_nrm"] >= designs[1]["ar_fve_nrm"]
    for d in designs:
        assert d["n"] == 8 and np.isfinite([d["ar_fve_nrm"], d["ar_fve_shuffled"]]).all() and d["tokens"] > 0
        assert set(d["ar_by_genre"]) == set(dataset.read_split(data, "heldout")[0].column("genre").to_pylist()[:8])
    vs = {d["design"]: d["ar_vs_default"] for d in designs}
    assert vs["genre+quote6+next2"]["mean"] == 0 and vs["token+next3p"]["lo"] <= vs["token+next3p"]["mean"] <= vs["token+next3p"]["hi"]
    # the AV runs: the best design, and the default one as the reference
    assert {d["design"] for d in designs if "roundtrip" in d} == {designs[0]["design"], "genre+quote6+next2"}
    rt = designs[0]["roundtrip"]
    assert 0 <= rt["parse_failure_rate"] <= 1 and np.isfinite(rt["fve_shuffled"]) and isinstance(rt["example"], str)
    assert content_digest(data) == before and "teach" not in read_record(data)
    taught = tmp_path / "rank" / designs[0]["design"] / "data"
    assert Sidecar.load(taught).prompt_templates["teacher"] == designs[0]["design"]
    stamp = (tmp_path / "rank" / designs[0]["design"] / "ar" / "nla_run.json").stat().st_mtime_ns
    again = run_teachers(data, tmp_path / "rank", cfg)  # everything done: nothing retrained, the same ranking
    assert (tmp_path / "rank" / designs[0]["design"] / "ar" / "nla_run.json").stat().st_mtime_ns == stamp
    assert [d["design"] for d in again["designs"]] == [d["design"] for d in designs]
    assert json.loads((tmp_path / "rank" / "teachers.json").read_text())["designs"][0]["design"] == designs[0]["design"]


def test_teachers_refuses_a_folder_that_is_no_dataset(tmp_path):
    with pytest.raises(NLAError, match="not a dataset folder"):
        run_teachers(Path(tmp_path), tmp_path / "rank", TeachersConfig(ar_steps=1))


def test_a_design_naming_more_next_tokens_than_the_rows_record_is_refused():
    """next5 on rows extracted with --top-k-next 2 would write two tokens under a design that says five."""
    from nlakit.core.errors import NLAError
    from nlakit.core.prompts import template_explanation

    row = {"context": "the cat sat on the", "genre": "story", "token": " the", "next_tokens": [" mat", " floor"], "next_probs": [0.5, 0.2]}
    assert template_explanation(row, "next2").count('"') == 4
    with pytest.raises(NLAError, match="record 2"):
        template_explanation(row, "next5")


def test_a_design_folder_made_from_other_activations_is_refused(taught, tmp_path):
    """`teachers --data B` after `--data A` into the same --out must not teach A's copied rows as B's."""
    import shutil

    from nlakit.core.errors import NLAError
    from nlakit.readings.teachers import design_dataset

    other = tmp_path / "other"
    shutil.copytree(taught, other)
    record = json.loads((other / "nla_run.json").read_text())
    record["extract"]["settings"]["seed"] = 99  # another extraction
    (other / "nla_run.json").write_text(json.dumps(record))
    folder = tmp_path / "out" / "token" / "data"
    design_dataset(taught, folder, "token")
    assert design_dataset(taught, folder, "token") == folder  # the same source: reused
    with pytest.raises(NLAError, match="made from another dataset"):
        design_dataset(other, folder, "token")
