"""`nlakit directions`: what a residual direction at layer K means, in the NLA's words.

A direction (an SAE decoder row, a probe's weights, a steering vector, the write direction of an
MLP neuron) is not an activation: explained alone it is out of the AV's distribution. So it is
added to the mean activation of corpus tokens at layer K, at a few strengths (multiples of the
mean token norm), and each sum is explained next to the explanation of the mean alone: the
difference is what the direction adds. Beside each explanation, how far the AR's reconstruction
from it points along the direction (`toward_direction`), against the mean's own figure.

Files are read without running code: .npy with allow_pickle=False, or .safetensors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..core.config import DirectionsConfig, LoadConfig
from ..core.corpus import load_corpus
from ..core.errors import NLAError
from ..core.hooks import decoder_layers, mlp_down_proj
from ..core.metrics import cosine
from ..core.nla import NLA
from ..core.prompts import content_words
from ..core.sidecar import check_vectors

SUFFIXES = (".npy", ".safetensors")


def read_directions(path: Path, d_model: int) -> tuple[list[str], np.ndarray]:
    """Names and [n, d_model] rows of a .npy ([d] or [n, d]) or .safetensors file (each tensor, each row of a 2-D one).

    A pickled .npy is refused, never loaded; a wrong width, NaN or a zero row is one line naming it.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise NLAError(f"directions are read from {' or '.join(SUFFIXES)} files (no pickles), got {path.name}")
    if not path.is_file():
        raise NLAError(f"directions file not found: {path}")
    try:
        if path.suffix == ".npy":
            tensors = {path.stem: np.load(path, allow_pickle=False)}
        else:
            from safetensors.numpy import load_file

            tensors = load_file(str(path))
    except Exception as err:  # a pickled, truncated or foreign file: say which and why
        raise NLAError(f"cannot read {path} as a plain array: {err}") from None
    names, rows = [], []
    for name, array in tensors.items():
        array = np.asarray(array)
        if array.ndim not in (1, 2) or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise NLAError(f"{path}: `{name}` has shape {array.shape} and type {array.dtype}; expected ({d_model},) or (n, {d_model}) numbers")
        block = check_vectors(array, d_model, f"directions in {path}")
        names += [name] if array.ndim == 1 else [f"{name}[{i}]" for i in range(len(block))]
        rows.append(block)
    if not rows:
        raise NLAError(f"{path} holds no tensors")
    return names, np.concatenate(rows)


def neuron_direction(nla: NLA, spec: str) -> tuple[str, np.ndarray]:
    """The write direction of MLP neuron LAYER:INDEX (its down_proj column), for a layer at or before K."""
    from .neurons import parse_neuron

    model = nla.target
    layer, index = parse_neuron(spec, len(decoder_layers(model)), lambda l_: mlp_down_proj(model, l_).in_features)
    if layer > nla.meta.layer_index:
        raise NLAError(f"neuron {spec} writes after layer {nla.meta.layer_index}, which the NLA reads: give a layer <= {nla.meta.layer_index}")
    return f"neuron {layer}:{index}", mlp_down_proj(model, layer).weight[:, index].detach().float().cpu().numpy()


def parse_strengths(spec: str) -> list[float]:
    try:
        values = [float(s) for s in spec.split(",") if s.strip()]
    except ValueError:
        raise NLAError(f"--strengths takes numbers such as 0.5,1,2; got {spec!r}") from None
    if not values or any(not math.isfinite(v) or v == 0 for v in values):
        raise NLAError(f"--strengths takes finite non-zero numbers such as 0.5,1,2; got {spec!r}")
    return values


def new_words(text: str, reference: str) -> list[str]:
    """Content words of `text` that `reference` lacks: what the direction added to the mean's explanation."""
    seen = set(content_words(reference, shortest=3))
    return list(dict.fromkeys(w for w in content_words(text, shortest=3) if w not in seen))


def run_directions(nla_dir: Path | str | LoadConfig, cfg: DirectionsConfig, file: Path | None = None, neurons: list[str] = ()) -> dict:
    """Explain the mean activation, then mean + strength * mean_norm * unit direction for each direction and strength."""
    if file is None and not neurons:
        raise NLAError("give a FILE of directions (.npy or .safetensors) or --neuron LAYER:INDEX")
    strengths = parse_strengths(cfg.strengths)
    docs = load_corpus(cfg.corpus, cfg.max_docs)
    nla = NLA.load(nla_dir)
    names, rows = read_directions(file, nla.meta.d_model) if file is not None else ([], np.zeros((0, nla.meta.d_model), np.float32))
    for spec in neurons:
        name, row = neuron_direction(nla, spec)
        names.append(name)
        rows = np.concatenate([rows, row[None]])
    read = nla.activations(docs)
    if not read:  # np.stack of nothing would be a traceback
        raise NLAError(f"no text in {cfg.corpus} is longer than min_position={nla.extract_config().min_position} tokens: the mean "
                       "activation the directions are added to needs at least one")
    activations = np.stack([r["activation_vector"] for r in read])
    mean, norm = activations.mean(axis=0), float(np.linalg.norm(activations, axis=1).mean())
    units = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    vectors = np.concatenate([mean[None]] + [mean + s * norm * units for s in strengths]).astype(np.float32)
    result = nla.roundtrip(vectors, cfg.max_new_tokens)
    rebuilt = result.reconstructions  # the AR's vector from each explanation, made once by the round trip
    explained, base = result.rows(), result.explanations[0]
    directions = []
    for d, (name, unit) in enumerate(zip(names, units)):
        steered = []
        for j, strength in enumerate(strengths):
            row = 1 + j * len(names) + d
            steered.append({"strength": strength, **explained[row], "toward_direction": cosine(rebuilt[row], unit),
                            "new_words": new_words(result.explanations[row], base)})
        directions.append({"name": name, "norm": float(np.linalg.norm(rows[d])), "cos_with_mean": cosine(mean, unit),
                           "mean_toward_direction": cosine(rebuilt[0], unit), "steered": steered})
    return {"layer_k": nla.meta.layer_index, "model": nla.meta.base_model, "documents": len(docs), "mean_norm": norm,
            "mean": explained[0], "directions": directions}


def print_directions(result: dict, console: Console | None = None) -> None:
    """One table per direction: the mean's explanation, then each strength's, with what it added."""
    console = console or Console()
    console.print(f"[bold]mean activation[/] of {result['documents']} documents at layer {result['layer_k']} "
                  f"(token norm {result['mean_norm']:.1f}):\n{escape(result['mean']['explanation'])}\n")
    for d in result["directions"]:
        table = Table(title=f"{d['name']}  (norm {d['norm']:.3g}; cos with the mean {d['cos_with_mean']:.3f}; "
                            f"the mean's reconstruction toward it {d['mean_toward_direction']:.3f})", show_lines=True)
        for column in ("strength", "explanation", "toward direction", "new words"):
            table.add_column(column)
        for s in d["steered"]:
            table.add_row(f"{s['strength']:+g}", escape(s["explanation"]), f"{s['toward_direction']:.3f}", escape(", ".join(s["new_words"][:8])))
        console.print(table)
