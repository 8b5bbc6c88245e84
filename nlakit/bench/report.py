"""What the figures say side by side: the summary rows (each figure beside its naive baseline, its limit and the
matmul peak, as ratios), the tables `nlakit bench` prints, and the JSON file it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from ..core.files import atomic_write_text
from .limits import limit_for


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def row(name: str, unit: str, ours: dict, naive: dict, limit: float | None, key: str, frozen: float | None = None) -> dict[str, Any]:
    """One table row: the figure, its naive baseline, its limit (and frozen-weights limit), the ratios, both memory peaks."""
    value, base = ours[key], naive[key]
    out = {"name": name, "unit": unit, "nlakit": value, "naive": base, "limit": limit,
           "vs_naive": ratio(value, base), "vs_limit": ratio(value, limit), "naive_vs_limit": ratio(base, limit),
           "nlakit_peak_rss_mb": ours["peak_rss_mb"], "naive_peak_rss_mb": naive["peak_rss_mb"]}
    if frozen is not None:
        out.update(limit_frozen_weights=frozen, vs_limit_frozen_weights=ratio(value, frozen))
    return out


def summary_rows(ar: dict, av: dict, gen: dict, precision: str, peak: float) -> list[dict[str, Any]]:
    ar_limit, av_limit = limit_for(ar["limits"], precision), limit_for(av["limits"], precision)
    ar_frozen, av_frozen = ar["limits"]["frozen_weights"]["tokens_per_s"], av["limits"]["frozen_weights"]["tokens_per_s"]
    return [
        {**row("AR SFT step", "tokens/s", ar["nlakit"], ar["naive"], ar_limit, "tokens_per_s", ar_frozen),
         **against_peak(ar["nlakit"], ar["limits"][precision], peak), **against_peak(None, ar["limits"]["frozen_weights"], peak, "limit_frozen_weights")},
        {**row("AV SFT step", "tokens/s", av["nlakit"], av["naive"], av_limit, "tokens_per_s", av_frozen),
         **against_peak(av["nlakit"], av["limits"][precision], peak), **against_peak(None, av["limits"]["frozen_weights"], peak, "limit_frozen_weights")},
        {**row("explanations", "activations/s", gen["nlakit"], gen["naive"], None, "activations_per_s"), **against_peak(gen["nlakit"], None, peak)},
        {**row("generation", "tokens/s", gen["nlakit"], gen["naive"], gen["limit"]["tokens_per_s"], "tokens_per_s"),
         **against_peak(gen["nlakit"], gen["limit"], peak)},
    ]


def against_peak(ours: dict | None, limit: dict | None, peak: float, limit_name: str = "limit") -> dict[str, float | None]:
    """Achieved FLOP/s (`count_flops` over the measured time) of nlakit's path and of its limit, and each one's
    fraction of the machine's measured matmul peak in the same dtype."""
    out: dict[str, float | None] = {}
    if ours is not None:
        out.update(flops_per_s=ours["flops_per_s"], vs_peak=ratio(ours["flops_per_s"], peak))
    if limit is not None and "flops_per_s" in limit:
        out.update({f"{limit_name}_flops_per_s": limit["flops_per_s"], f"{limit_name}_vs_peak": ratio(limit["flops_per_s"], peak)})
    return out


def write_results(results: dict[str, Any], out: Path | None) -> None:
    """The results as indented JSON, written atomically (nothing when `out` is None)."""
    if out is not None:
        atomic_write_text(Path(out), json.dumps(results, indent=2, default=str) + "\n")


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def render_table(results: dict[str, Any]) -> Table:
    """The summary as a rich table that fits 80 columns: figure, naive, limit, ratios, peak MB (nlakit/naive)."""
    table = Table(title=f"nlakit bench: {results['model']['name']} ({results['precision']}, {results['machine']['cpu']})",
                  box=box.SIMPLE_HEAD)
    for column in ("measurement", "unit", "nlakit", "naive", "limit", "/naive", "/limit", "peak MB"):
        text = column in ("measurement", "unit")
        table.add_column(column, justify="left" if text else "right", no_wrap=True)
    for r in results["rows"]:
        unit = r["unit"].replace("tokens", "tok").replace("activations", "act")
        memory = f"{_fmt(r['nlakit_peak_rss_mb'])}/{_fmt(r['naive_peak_rss_mb'])}"
        table.add_row(r["name"], unit, *(_fmt(r[k]) for k in ("nlakit", "naive", "limit", "vs_naive", "vs_limit")), memory)
    rl_row = results["rl"]
    table.add_row("RL step", "s", _fmt(rl_row["step_s"]), *["-"] * 4, _fmt(rl_row["peak_rss_mb"]))
    table.caption = "RL step parts (s): " + ", ".join(f"{k} {_fmt(v)}" for k, v in rl_row["parts_s"].items())
    return table


def render_physics(results: dict[str, Any]) -> Table:
    """Achieved FLOP/s of each path and of its limit, as fractions of the matmul peak measured in the same run."""
    peak = results["peak"]
    table = Table("measurement", "GFLOP/s", "/peak", "limit GFLOP/s", "limit /peak", box=box.SIMPLE_HEAD,
                  title=f"against the matmul peak: {peak['n']}³ {peak['dtype']} GEMM {peak['flops_per_s'] / 1e9:,.0f} GFLOP/s")

    def giga(value: float | None) -> float | None:
        return None if value is None else value / 1e9

    for r in results["rows"]:
        if r["name"] != "explanations":  # the same measurement as generation
            table.add_row(r["name"], _fmt(giga(r["flops_per_s"])), _fmt(r["vs_peak"]), _fmt(giga(r.get("limit_flops_per_s"))),
                          _fmt(r.get("limit_vs_peak")))
    table.add_row("RL step", _fmt(giga(results["rl"]["flops_per_s"])), _fmt(results["rl"]["vs_peak"]), "-", "-")
    if fp32 := results.get("fp32_path"):  # fp32 products (training, and --no-int8 where bf16 is not native), against the fp32 peak
        table.add_row(f"generation, fp32 path (peak {giga(fp32['peak_flops_per_s']):,.0f})", _fmt(giga(fp32["generation_flops_per_s"])),
                      _fmt(fp32["generation_vs_peak"]), "-", "-")
    if int8 := results.get("int8_path"):  # core/int8.py (the readings where bf16 is not native): GOP/s against the int8 peak
        table.add_row(f"generation, int8 path (int8 peak {giga(int8['peak_ops_per_s']):,.0f} GOP/s)", _fmt(giga(int8["generation_ops_per_s"])),
                      _fmt(int8["generation_vs_peak"]), "-", "-")
    table.caption = "FLOPs counted from the model's shapes (bench.flops.count_flops); SFT limits: full fine-tune fwd+bwd"
    return table


def render_scaling(results: dict[str, Any]) -> list[Table]:
    """Step time vs batch size and explanation length (AR, AV), and memory vs d_model."""
    steps = Table("axis", "value", "AR step s", "AV step s", "AR tok/s", "AV tok/s", title="scaling", box=box.SIMPLE_HEAD)
    for ar, av in zip(results["scaling"]["ar"], results["scaling"]["av"]):
        steps.add_row(ar["axis"], str(ar["value"]), *(_fmt(x) for x in (ar["step_s"], av["step_s"], ar["tokens_per_s"], av["tokens_per_s"])))
    widths = Table("d_model", "layers", "params MB", "peak delta MB", "step s", title="memory vs d_model (AR-shaped LoRA step)",
                   box=box.SIMPLE_HEAD)
    for w in results["scaling"]["memory_vs_d_model"]:
        widths.add_row(str(w["d_model"]), str(w["layers"]), *(_fmt(x) for x in (w["params_mb"], w["rss_delta_mb"], w["step_s"])))
    return [steps, widths]
