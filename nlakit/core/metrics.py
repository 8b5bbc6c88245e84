"""Every number nlakit reports about faithfulness is computed here, and only here.

- `mse_nrm`: both vectors rescaled to norm `scale` (default sqrt(d)), then the mean squared
  difference: 2(1 - cos) at the default scale (`RAW`: no rescaling, the raw MSE of an NLA whose
  sidecar says `mse_scale: null`, as the official code reads it). A failed generation, or a prediction that is zero
  or not finite, scores `FAILED_MSE` = 2.0, the value of an orthogonal guess: an empty answer
  must never beat a wrong one.
- `fve`: 1 - mean(mse_nrm) / baseline. The baseline is named wherever an FVE is printed: the
  sidecar's `rawvar` (variance of the normalised training vectors, the release's convention), or,
  for a sidecar without one, a clearly named stand-in measured on other activations.
- controls: the shuffled derangement, the mean / zero / random-direction baselines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .errors import NLAError

FAILED_MSE = 2.0  # mse_nrm of an orthogonal guess: what a failed generation or an undefined prediction scores
RAWVAR = "rawvar"  # the name of the release's baseline
RAW = "raw"  # a scale that leaves vectors as they are (sidecar.py reads the official spellings into it)


def normalize(v: np.ndarray, scale: float | str) -> np.ndarray:
    """Rows rescaled to norm `scale` (zero rows stay zero; RAW: unchanged)."""
    if scale == RAW:
        return v
    return v * (scale / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12))


def mse_nrm(pred: torch.Tensor, target: torch.Tensor, scale: float | str | None = None) -> torch.Tensor:
    """Per-row MSE after rescaling both vectors to norm `scale` (default sqrt(d)): 2(1 - cos); RAW: the raw MSE. Differentiable."""
    if scale == RAW:
        a, b = pred.float(), target.float()
    else:
        scale = scale or math.sqrt(pred.shape[-1])
        a = pred.float() * (scale / pred.float().norm(dim=-1, keepdim=True).clamp_min(1e-12))
        b = target.float() * (scale / target.float().norm(dim=-1, keepdim=True).clamp_min(1e-12))
    return ((a - b) ** 2).mean(dim=-1)


def undefined_rows(pred: np.ndarray) -> np.ndarray:
    """Predictions that are zero or not finite: they score FAILED_MSE, never better."""
    pred = np.asarray(pred, np.float32)
    return ~np.isfinite(pred).all(axis=1) | (np.linalg.norm(np.nan_to_num(pred), axis=1) < 1e-12)


def score_rows(pred: np.ndarray, target: np.ndarray, scale: float | str | None = None, failed: np.ndarray | None = None) -> np.ndarray:
    """mse_nrm per row as float64, with FAILED_MSE for failed rows and zero or non-finite predictions."""
    pred = np.asarray(pred, np.float32)
    undefined = undefined_rows(pred)
    if failed is not None:
        undefined |= np.asarray(failed, bool)
    mse = mse_nrm(torch.from_numpy(np.nan_to_num(pred)), torch.from_numpy(np.asarray(target, np.float32)), scale)
    mse = mse.numpy().astype(np.float64)
    mse[undefined] = FAILED_MSE
    return mse


def pairwise_mse_nrm(pred: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """[n, m] mse_nrm (default scale) of every prediction against every target: 2(1 - cos)."""
    a = normalize(np.nan_to_num(np.asarray(pred, np.float64)), 1.0)
    return 2.0 * (1.0 - a @ normalize(np.asarray(targets, np.float64), 1.0).T)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (0 when either is zero)."""
    return float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))


def cos_from_mse(mse: np.ndarray | float, d_model: int, scale: float | str | None = None) -> np.ndarray | float:
    """Cosine similarity from mse_nrm at norm `scale`: mse = (2 scale^2 / d)(1 - cos). NaN for a raw MSE, which has no cosine in it."""
    if scale == RAW:
        return np.full(np.shape(mse), np.nan)
    scale = scale or math.sqrt(d_model)
    return 1.0 - np.asarray(mse, np.float64) * d_model / (2.0 * scale**2)


def fve(mse: np.ndarray | float, baseline: float) -> float:
    """Fraction of variance explained over a set: 1 - mean(mse_nrm) / baseline."""
    return float(1.0 - np.mean(mse) / baseline)


def fve_rows(mse: np.ndarray, baseline: float) -> np.ndarray:
    """Per-row FVE; its mean is the set's FVE, because FVE is linear in the mean mse."""
    return 1.0 - np.asarray(mse, np.float64) / baseline


@dataclass(frozen=True)
class Baseline:
    """The FVE denominator and where it came from (printed beside every FVE)."""

    value: float
    name: str


def sidecar_baseline(baselines: dict) -> Baseline | None:
    """The sidecar's rawvar, when it has a usable one."""
    value = baselines.get(RAWVAR)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return Baseline(value, RAWVAR) if math.isfinite(value) and value > 0 else None


def measured_baseline(vectors: np.ndarray, where: str, scale: float | str | None = None) -> Baseline:
    """The stand-in for a sidecar without rawvar: the rawvar of other activations, named as such."""
    value = predict_mean_baselines(vectors, scale=scale)[RAWVAR]
    return Baseline(value, f"{RAWVAR} of {len(vectors)} {where} (the sidecar has none: not comparable with published figures)")


def predict_mean_baselines(train_vectors: np.ndarray, max_rows: int = 50_000, scale: float | str | None = None) -> dict[str, float]:
    """The two FVE denominators of the release, on vectors normalised to `scale` (default sqrt(d); RAW: as they are).

    rawvar: Var(v_nrm) around its plain mean (the figure fve_nrm divides by);
    meannorm: mse_nrm of always predicting the normalised mean (the best constant a normalised AR can do).
    """
    scale = scale or np.sqrt(train_vectors.shape[1])
    v = normalize(np.asarray(train_vectors[:max_rows], np.float64), scale)
    mu = v.mean(axis=0)
    mu_nrm = normalize(mu, scale)
    return {RAWVAR: float(((v - mu) ** 2).mean()), "meannorm": float(((v - mu_nrm) ** 2).mean())}


def constant_baselines(rawvar: float, meannorm: float) -> dict[str, float]:
    """Predict-the-mean and zero-vector FVEs under both denominators (the training distribution's constants)."""
    return {
        "fve_predict_mean_rawvar": 0.0,  # rawvar is by definition the mse of the plain mean
        "fve_predict_normalised_mean_rawvar": 1.0 - meannorm / rawvar,
        "fve_predict_mean_meannorm": 0.0,
        "fve_zero_rawvar": 1.0 - FAILED_MSE / rawvar,
        "fve_zero_meannorm": 1.0 - FAILED_MSE / meannorm,
    }


def derangement(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """The shuffled control's pairing: a cyclic shift by a non-zero amount (random with `rng`, else 1).

    No row keeps its own explanation, and every explanation is used once. With fewer than two rows there is no
    such pairing (the one row would be its own control), so it is refused rather than returned as the identity.
    """
    if n < 2:
        raise NLAError(f"the shuffled control needs at least 2 rows to pair each with another's, got {n}")
    shift = int(rng.integers(1, n)) if rng is not None else 1
    return np.roll(np.arange(n), shift)


def mean_directions(vectors: np.ndarray, mean_vector: np.ndarray | None = None) -> np.ndarray:
    """[n, d] the mean direction to predict for each row.

    Without `mean_vector` each row gets the mean of the *other* rows' normalised vectors
    (leave-one-out: no row predicts itself).
    """
    n, d = vectors.shape
    if mean_vector is not None:
        return np.tile(np.asarray(mean_vector, np.float32).reshape(1, d), (n, 1))
    if n < 2:
        return np.zeros_like(vectors)
    v = normalize(vectors.astype(np.float64), math.sqrt(d))
    return ((v.sum(axis=0, keepdims=True) - v) / (n - 1)).astype(np.float32)


def rescale(v: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Rows of `v` with the given norms (zero rows stay zero)."""
    length = np.linalg.norm(v, axis=1, keepdims=True)
    return np.where(length > 0, v * (norms[:, None] / np.maximum(length, 1e-30)), 0.0).astype(np.float32)


def random_directions(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian directions with the rows' norms: the random-vector control."""
    noise = rng.standard_normal(vectors.shape).astype(np.float32)
    return rescale(noise, np.linalg.norm(vectors, axis=1))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks (0-based) of each column's values, ties given their average rank (what Spearman's rho needs)."""
    values = np.asarray(values, np.float64)
    values = values[:, None] if values.ndim == 1 else values
    ranks = np.empty_like(values)
    for column in range(values.shape[1]):
        x = values[:, column]
        order = np.argsort(x, kind="mergesort")
        sorted_x = x[order]
        starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
        ends = np.r_[starts[1:], len(x)]
        mean_rank = np.repeat((starts + ends - 1) / 2.0, ends - starts)
        ranks[order, column] = mean_rank
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation of each column of `a` with the same column of `b` ([n] or [n, m] -> [m]).

    A column that is constant in either has no ranking to agree with: NaN, never a made-up 0.
    """
    return correlation(average_ranks(a), average_ranks(b))


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of `a` with the same column of `b` ([n, m] -> [m]); NaN where either is
    constant. Spearman's is this on ranks."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    denominator = np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=0) / np.where(denominator > 0, denominator, 1.0), np.nan)


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve of scores telling `positive` from `negative` (Mann-Whitney U / (n_pos n_neg)), ties
    counting half, so a constant score gives 0.5. NaN when either class is empty: nothing to tell apart."""
    positive, negative = np.asarray(positive, np.float64).ravel(), np.asarray(negative, np.float64).ravel()
    if not len(positive) or not len(negative):
        return math.nan
    ranks = average_ranks(np.concatenate([positive, negative]))[:, 0]
    u = ranks[: len(positive)].sum() - len(positive) * (len(positive) - 1) / 2.0
    return float(u / (len(positive) * len(negative)))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two vectors; NaN when either is constant (no variation to agree with)."""
    return float(correlation(np.asarray(a, np.float64).reshape(-1, 1), np.asarray(b, np.float64).reshape(-1, 1))[0])
