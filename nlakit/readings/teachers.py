"""`nlakit teachers`: rank template-teacher designs by cheap measurements, before a long run.

An NLA can only learn what its teacher writes: the AR rebuilds the vector from what the explanations
carry, and the AV learns to write what the teacher wrote. So designs are compared on the same
activations with the same budget:
1. an AR trained from fresh adapters on each design's explanations, scored on held-out rows against
   its shuffled control (minutes per design on a CPU): how much of the vector the text can carry;
2. for the best few (`av_steps` > 0) and the default design (the shipped NLA's, as the reference), a
   short AV SFT run and the whole round trip through that AR (evaluate's metrics): how much of it an
   AV learns to say.
Explanation length is reported beside: every token is one the AV must produce from a single vector.
Each run is an ordinary stage folder under `out/<design>/`, so a killed ranking resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..core import dataset
from ..core.ar import load_reconstructor
from ..core.config import DEFAULT_DESIGN, ARConfig, AVConfig, TeachersConfig
from ..core.errors import NLAError
from ..core.files import RUN_RECORD, build_folder, check_output, content_digest, read_json, read_record, write_json
from ..core.floor import TOKEN_AR, TOKEN_DESIGN
from ..core.metrics import derangement, fve, fve_rows
from ..core.pretrained import resolve_nla
from ..core.sidecar import SIDECAR_NAME
from ..stages.sft import run_train_ar, run_train_av
from ..stages.teach import TemplateTeacher, run_teach
from .suite import bootstrap

SOURCE = "made_from.json"  # digests of the dataset a design folder was copied from


def design_dataset(data: Path, folder: Path, design: str) -> Path:
    """`data`'s activations taught with `design`, in a folder of their own.

    The split files are hard links where the filesystem allows (teach replaces files, never writes into them),
    and the copy forgets `data`'s own teach record so that this design's teach runs.
    """
    # what made `data`: its extraction's fingerprint (settings, corpus and model digests; teach leaves it alone), else its files
    made_from = read_record(data).get("extract") or {split: content_digest(data / f"{split}.parquet") for split in dataset.SPLITS}
    if folder.exists():  # a rerun, perhaps with another --data: a copy of other activations is never reused
        recorded = read_json(folder / SOURCE, "design dataset record") if (folder / SOURCE).exists() else None
        if recorded != json.loads(json.dumps(made_from)):
            raise NLAError(f"{folder} was made from another dataset than {data} (or records none): give another --out, or "
                           f"remove {folder}")
    if not folder.exists():
        def write(tmp: Path) -> None:
            for split in dataset.SPLITS:
                source, target = data / f"{split}.parquet", tmp / f"{split}.parquet"
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copy2(source, target)
            shutil.copy2(data / SIDECAR_NAME, tmp / SIDECAR_NAME)
            record = {k: v for k, v in read_record(data).items() if k != "teach"}
            write_json(tmp / RUN_RECORD, record)
            write_json(tmp / SOURCE, made_from)

        build_folder(folder, write, [data])
    return run_teach(folder, TemplateTeacher(design))


def heldout_rows(data: Path, n: int) -> tuple[list[dict], np.ndarray]:
    """The first `n` held-out rows (document-level split: no stage trains on them) and their vectors."""
    table, _ = dataset.read_split(data, "heldout")
    n = min(n, table.num_rows)
    if n < 2:
        raise NLAError(f"{data} has {table.num_rows} held-out rows: extract more documents (a ranking needs at least 2)")
    rows = table.slice(0, n).drop_columns([dataset.VECTOR]).to_pylist()
    return rows, dataset.rows(dataset.vector_store(data, "heldout"), range(n))


def ar_measures(ar_dir: Path, data: Path, cfg: TeachersConfig) -> tuple[dict, np.ndarray]:
    """Held-out FVE of an AR reading this design's teacher text, its shuffled control, per genre, and the text's length;
    and the FVE of each row (to compare designs row by row)."""
    rows, vectors = heldout_rows(data, cfg.eval_rows)
    texts = [r[dataset.EXPLANATION] for r in rows]
    ar = load_reconstructor(ar_dir)
    baseline = ar.meta.training_baseline()
    mse, mse_shuffled = ar.score_shuffled(texts, vectors, derangement(len(texts), np.random.default_rng(cfg.seed)))
    per_row, genres = fve_rows(mse, baseline.value), np.array([r["genre"] for r in rows])
    return {
        "n": len(texts),
        "ar_fve_nrm": fve(mse, baseline.value),
        "ar_fve_shuffled": fve(mse_shuffled, baseline.value),
        "ar_by_genre": {g: float(per_row[genres == g].mean()) for g in sorted(set(genres.tolist()))},
        "tokens": float(np.mean(ar.token_lengths(texts))),
        "example": texts[0],
        "baseline": baseline.name,
    }, per_row


def roundtrip_measures(av_dir: Path, ar_dir: Path, data: Path, cfg: TeachersConfig) -> dict:
    """Evaluate's round trip (fve_nrm, shuffled and teacher controls, parse failures) of the short AV through this AR."""
    from ..core.nla import NLA
    from ..stages.evaluate import evaluate_rows

    rows, vectors = heldout_rows(data, cfg.eval_rows)
    nla = NLA.load(av=av_dir, ar=ar_dir)
    metrics, result = evaluate_rows(nla, [{**r, dataset.VECTOR: v} for r, v in zip(rows, vectors)], cfg.max_new_tokens, cfg.seed)
    keep = ("fve_nrm", "fve_shuffled", "fve_teacher", "parse_failure_rate", "capped_rate")
    return {**{k: metrics[k] for k in keep}, "example": result.explanations[0]}


def run_teachers(data: Path, out: Path, cfg: TeachersConfig) -> dict:
    """Rank `cfg`'s designs on `data` (an extracted dataset); writes and returns `out/teachers.json`."""
    data, out = Path(data), Path(out)
    if not (data / "train.parquet").exists():
        raise NLAError(f"--data {data} is not a dataset folder (no train.parquet): make one with `nlakit extract`")
    check_output(out, [data], existing=True)  # a rerun continues in its own folder; the designs' runs never replace --data
    # the runs' own logs evaluate a few rows once, at the end; the ranking scores eval_rows itself
    ar_cfg = ARConfig(steps=cfg.ar_steps, batch_size=cfg.batch_size, seed=cfg.seed, eval_rows=32, eval_every=cfg.ar_steps)
    results, per_row = [], {}
    for design in cfg.design_list:
        folder = out / design
        taught = design_dataset(data, folder / "data", design)
        ar_dir = folder / "ar"
        if run_train_ar(taught, ar_dir, ar_cfg) is None:
            raise NLAError(f"the AR run of {design} stopped early: rerun the same command to continue")
        measures, per_row[design] = ar_measures(ar_dir, taught, cfg)
        results.append({"design": design, **measures})
    results.sort(key=lambda r: -r["ar_fve_nrm"])
    if DEFAULT_DESIGN in per_row:  # each design minus the default on the same rows, with a 95% CI over resampled rows
        reference = per_row[DEFAULT_DESIGN]
        resampled = np.random.default_rng(cfg.seed).integers(0, len(reference), (1000, len(reference)))
        for result in results:
            result["ar_vs_default"] = bootstrap(per_row[result["design"]] - reference, resampled)
    if cfg.av_steps:
        av_cfg = AVConfig(steps=cfg.av_steps, batch_size=cfg.batch_size, seed=cfg.seed, eval_rows=32, eval_every=cfg.av_steps)
        reference = [r for r in results[cfg.av_top :] if r["design"] == DEFAULT_DESIGN]  # the shipped design, to compare with
        for result in results[: cfg.av_top] + reference:
            folder = out / result["design"]
            av_dir = run_train_av(folder / "data", folder / "av", av_cfg)
            if av_dir is None:
                raise NLAError(f"the AV run of {result['design']} stopped early: rerun the same command to continue")
            result["roundtrip"] = roundtrip_measures(av_dir, folder / "ar", folder / "data", cfg)
    summary = {"data": str(data), "settings": json.loads(json.dumps(cfg.__dict__)), "designs": results}
    write_json(out / "teachers.json", summary)
    return summary


def run_token_floor(data: Path, nla: Path | str, cfg: ARConfig, work: Path | None = None, overwrite: bool = False) -> Path:
    """Train the token floor's AR (core/floor.py) on `data`'s activations and store it as `<nla>/token_ar`.

    `data` should be the NLA's own training dataset (or one extracted with the same settings): the floor
    is then measured on the vectors the NLA was trained to read. The AR starts from fresh adapters and
    reads only the `token` design (`Reads: " library"`). The run resumes from `<work>/ar.work`.
    """
    data, root = Path(data), resolve_nla(nla)
    if not (root / "ar" / SIDECAR_NAME).exists():
        raise NLAError(f"{root} is not an NLA folder (no ar/{SIDECAR_NAME}): give the folder holding av/ and ar/")
    target = check_output(root / TOKEN_AR, [data], overwrite, existing=True)
    if target.exists() and not overwrite:
        raise NLAError(f"{target} exists: pass --overwrite to train a new token floor in its place")
    work = Path(work) if work is not None else root.with_name(root.name + ".token-floor")
    taught = design_dataset(data, work / "data", TOKEN_DESIGN)
    ar_dir = run_train_ar(taught, work / "ar", cfg)
    if ar_dir is None:
        raise NLAError("the token AR stopped before its last step: rerun the same command to continue from its checkpoint")
    return build_folder(target, lambda tmp: shutil.copytree(ar_dir, tmp, dirs_exist_ok=True), [data], overwrite)
