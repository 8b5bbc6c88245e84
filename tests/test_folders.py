"""One rule for output folders (core/files.py): nothing a user made is deleted or replaced.

Every command that writes a folder goes through `check_output` / `build_folder`: an existing folder is
replaced only with `--overwrite`, never one that is, holds or lies inside an input, never a file, and
scratch names are the run's own. A run refused on a bad setting leaves no work folder in the way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlakit.app.cli import main
from nlakit.core.config import ARConfig
from nlakit.core.errors import NLAError
from nlakit.core.files import build_folder
from nlakit.stages.sft import run_train_ar


def run_cli(argv: list, capsys) -> tuple[int, str]:
    """(exit code, one-line stderr) of one in-process command."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    return code, " ".join(capsys.readouterr().err.split())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def user_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("months of work")
    return path


TRAIN = ["--steps", "1", "--eval-every", "1", "--fp32"]


def test_export_never_replaces_a_user_folder_without_overwrite(sft_pair, tmp_path, capsys):
    out = user_folder(tmp_path / "mine")
    code, err = run_cli(["export", "--nla", sft_pair.nla, "--out", out, "--dtype", "fp32"], capsys)
    assert code == 2 and f"{out} already exists" in err and "--overwrite" in err, err
    assert snapshot(out) == {"notes.txt": b"months of work"}
    code, err = run_cli(["export", "--nla", sft_pair.nla, "--out", out, "--dtype", "fp32", "--overwrite"], capsys)
    assert code == 0, err
    assert (out / "av" / "model.safetensors").exists() and not (out / "notes.txt").exists()  # --overwrite named it


@pytest.mark.parametrize("argv, relation", [
    (["export", "--nla", "{nla}", "--out", "{nla}/av"], "lies inside the input {nla}:"),
    (["export", "--nla", "{root}/sub/nla", "--out", "{root}/sub", "--overwrite"], "holds the input"),
    (["export", "--nla", "{nla}", "--out", "{nla}", "--overwrite"], "is the input {nla}:"),
    (["train-ar", "--data", "{data}", "--out", "{data}", "--overwrite", *TRAIN], "is the input"),
    (["train-ar", "--data", "{data}", "--out", "{data}/ar", "--overwrite", *TRAIN], "lies inside the input"),
    (["neurons", "--nla", "{nla}", "--out", "{nla}", "--overwrite"], "is the input"),
    (["rl", "--data", "{data}", "--av", "{nla}/av", "--ar", "{nla}/ar", "--out", "{nla}", "--overwrite"], "holds the input"),
], ids=["export-inside", "export-holds", "export-same", "train-ar-same", "train-ar-inside", "neurons-same", "rl-holds"])
def test_an_output_over_an_input_is_refused_and_the_input_kept(argv, relation, taught, sft_pair, tmp_path, capsys):
    data, nla = tmp_path / "data", tmp_path / "sub" / "nla"
    shutil.copytree(taught, data)
    shutil.copytree(sft_pair.nla, nla)
    before = {"data": snapshot(data), "nla": snapshot(nla)}
    code, err = run_cli([a.format(root=tmp_path, data=data, nla=nla) for a in argv], capsys)
    assert code == 2 and relation.format(nla=nla) in err and "Traceback" not in err, err
    assert {"data": snapshot(data), "nla": snapshot(nla)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "sub"]  # no scratch or work folder left beside them


def test_user_folders_named_old_and_tmp_survive_a_stage(taught, tmp_path, capsys):
    out = tmp_path / "ar"
    old, tmp = user_folder(tmp_path / "ar.old"), user_folder(tmp_path / "ar.tmp")
    for extra in ([], ["--overwrite"]):  # a first run, then one that replaces its output
        code, err = run_cli(["train-ar", "--data", taught, "--out", out, *TRAIN, *extra], capsys)
        assert code == 0, err
    assert snapshot(old) == snapshot(tmp) == {"notes.txt": b"months of work"}
    assert (out / "nla_run.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ar", "ar.old", "ar.tmp", "ar.work"]  # the run's own scratch is gone


@pytest.mark.parametrize("argv", [
    ["train-ar", "--data", "{data}", "--out", "{file}", "--overwrite", *TRAIN],
    ["export", "--nla", "{nla}", "--out", "{file}", "--overwrite"],
    ["extract", "--out", "{file}", "--overwrite"],
], ids=["train-ar", "export", "extract"])
def test_an_out_onto_a_file_is_refused_and_the_file_kept(argv, taught, sft_pair, tmp_path, capsys):
    file = tmp_path / "results.csv"
    file.write_text("a,b\n1,2\n")
    code, err = run_cli([a.format(data=taught, nla=sft_pair.nla, file=file) for a in argv], capsys)
    assert code == 2 and "is a file, not a folder" in err, err
    assert file.read_text() == "a,b\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_a_failing_build_keeps_the_old_folder_and_leaves_no_scratch(tmp_path):
    out = tmp_path / "out"
    build_folder(out, lambda tmp: (tmp / "a.txt").write_text("first"))

    def broken(tmp: Path) -> None:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        build_folder(out, broken, overwrite=True)
    assert snapshot(out) == {"a.txt": b"first"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_run_refused_on_a_bad_setting_does_not_block_the_corrected_rerun(taught, tmp_path, capsys):
    out = tmp_path / "av"
    code, err = run_cli(["train-av", "--data", taught, "--out", out, *TRAIN, "--full-finetune", "--bf16-weights"], capsys)
    assert code == 2 and "full fine-tune" in err, err
    assert not any(p.name.startswith("checkpoint") for p in tmp_path.rglob("*"))  # refused before any progress was saved
    code, err = run_cli(["train-av", "--data", taught, "--out", out, *TRAIN], capsys)
    assert code == 0, err
    assert (out / "nla_run.json").exists()


def test_a_work_folder_holding_a_checkpoint_is_never_cleared_without_overwrite(taught, tmp_path):
    out = tmp_path / "ar"
    assert run_train_ar(taught, out, ARConfig(steps=3, save_every=1, max_minutes=0.0, bf16=False)) is None
    checkpoint = snapshot(tmp_path / "ar.work")
    assert any(name.startswith("checkpoint") for name in checkpoint)
    with pytest.raises(NLAError, match="holds an unfinished train-ar run"):
        run_train_ar(taught, out, ARConfig(steps=3, save_every=1, lr=1e-3, bf16=False))
    assert snapshot(tmp_path / "ar.work") == checkpoint  # how the run resumes: kept


def test_a_work_folder_nlakit_did_not_make_is_refused_and_kept(taught, tmp_path):
    work = user_folder(tmp_path / "ar.work")
    with pytest.raises(NLAError, match="not an nlakit work folder"):
        run_train_ar(taught, tmp_path / "ar", ARConfig(steps=1, bf16=False), overwrite=True)
    assert snapshot(work) == {"notes.txt": b"months of work"}


# ---------------------------------------------------------------- one-file outputs: check_output_file

CHAT = '[{"role": "user", "content": "Tell me a secret."}, {"role": "assistant", "content": "I like bread."}]'


def one_file_inputs(root: Path) -> dict[str, Path]:
    """A corpus, a vectors parquet and a chat transcript, as a user would have them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "corpus.txt").write_text("The museum finally opened the old letter after many years.\n")
    pq.write_table(pa.table({"activation_vector": [[1.0] * 64]}), root / "vectors.parquet")
    (root / "chat.json").write_text(CHAT)
    return {name: root / name for name in ("corpus.txt", "vectors.parquet", "chat.json")}


@pytest.mark.parametrize("argv, kept", [
    (["evaluate", "--nla", "{nla}", "--texts", "{root}/corpus.txt", "--save", "{root}/corpus.txt"], "corpus.txt"),
    (["explain", "--nla", "{nla}", "--vectors", "{root}/vectors.parquet", "--out", "{root}/vectors.parquet"], "vectors.parquet"),
    (["audit", "{root}/chat.json", "--nla", "{nla}", "--out", "{root}/chat.json"], "chat.json"),
    (["audit", "{root}/chat.json", "--nla", "{nla}", "--html", "{root}/link.json"], "chat.json"),  # a symlink to it is it
], ids=["evaluate-save-corpus", "explain-out-vectors", "audit-out-transcript", "audit-html-symlink"])
def test_an_output_file_over_an_input_file_is_refused_and_the_input_kept(argv, kept, sft_pair, tmp_path, capsys):
    inputs = one_file_inputs(tmp_path)
    (tmp_path / "link.json").symlink_to(inputs["chat.json"])
    before = {name: path.read_bytes() for name, path in inputs.items()}
    code, err = run_cli([a.format(root=tmp_path, nla=sft_pair.nla) for a in argv], capsys)
    assert code == 2 and "is the input" in err and kept in err and "Traceback" not in err, err
    assert {name: path.read_bytes() for name, path in inputs.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.json", "corpus.txt", "link.json", "vectors.parquet"]  # no temp file


@pytest.mark.parametrize("argv", [
    ["evaluate", "--nla", "{nla}", "--save", "{out}"],
    ["explain", "Once upon a time", "--nla", "{nla}", "--html", "{out}"],
    ["explain", "--nla", "{nla}", "--random", "2", "--out", "{out}"],
    ["audit", "{root}/chat.json", "--nla", "{nla}", "--out", "{out}"],
    ["bench", "--out", "{out}"],
], ids=["evaluate-save", "explain-html", "explain-out", "audit-out", "bench"])
def test_an_output_file_that_is_a_folder_is_refused_and_the_folder_kept(argv, sft_pair, tmp_path, capsys):
    one_file_inputs(tmp_path)
    out = user_folder(tmp_path / "results")
    code, err = run_cli([a.format(root=tmp_path, nla=sft_pair.nla, out=out) for a in argv], capsys)
    assert code == 2 and f"{out} is a folder, not a file" in err, err
    assert snapshot(out) == {"notes.txt": b"months of work"}


def test_an_output_file_inside_an_input_folder_or_under_a_file_is_refused(sft_pair, tmp_path):
    from nlakit.core.files import check_output_file

    with pytest.raises(NLAError, match="lies inside the input"):  # --save nla/av/model.safetensors would destroy the NLA
        check_output_file(Path(sft_pair.nla) / "av" / "rows.parquet", [sft_pair.nla], "--save")
    (tmp_path / "notes.txt").write_text("kept")
    with pytest.raises(NLAError, match="notes.txt is a file, not a folder"):
        check_output_file(tmp_path / "notes.txt" / "index.html", flag="--out")
    assert (tmp_path / "notes.txt").read_text() == "kept"
    (tmp_path / "old.json").write_text("an earlier run's result")  # the flag names it: replaced, atomically, as always
    assert check_output_file(tmp_path / "old.json", [tmp_path / "notes.txt"]) == tmp_path / "old.json"
