#!/usr/bin/env bash
# AR and AV SFT speed against the GPU's measured bf16 matmul peak, before and after the GPU settings.
#
# Run once on a machine with a CUDA GPU (about 3 minutes on an H100-class GPU; the first run also converts
# the default model's GGUF, about a minute):
#     bash scripts/gpu_sft_bench.sh
# It builds one small taught dataset (DOCS built-in documents x 8 positions), then times SFT steps as
# `nlakit train-ar/train-av` take them (bench.sft_speed: sft.sft_model, the trainer's optimiser step):
#   before: batch_size 64 rows, fp32 base weights under bf16 autocast, eager (the shipped NLA's H100 run);
#   after:  token-budget batches (each budget in TOKENS), frozen base weights in bf16, compiled MLPs and norms (COMPILE=1).
# and prints ONE JSON line: the peak, and per setting and model tokens/s, TFLOP/s and the fraction of the peak.
# The same line is written to $OUT (default gpu_sft_bench.json). On a CPU it runs too (slowly): the test
# suite runs it with a tiny model (MODEL, DOCS, TOKENS, PEAK_N, WARMUP, REPEATS, COMPILE=0) so that its
# first GPU run does not fail on something silly.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export MODEL=${MODEL:-smollm2-135m} CORPUS=${CORPUS:-builtin} DOCS=${DOCS:-400} TOKENS=${TOKENS:-"16384 65536"}
export WARMUP=${WARMUP:-3} REPEATS=${REPEATS:-10} COMPILE=${COMPILE:-1} PEAK_N=${PEAK_N:-0} OUT=${OUT:-gpu_sft_bench.json}

"$PYTHON" - <<'EOF'
import json
import os
import tempfile
from pathlib import Path

from nlakit.bench import BenchConfig, build_small_dataset, sft_speed
from nlakit.core.files import atomic_write_text
from nlakit.core.models import default_device, native_bf16

env = os.environ
with tempfile.TemporaryDirectory(prefix="nlakit-gpu-sft-") as tmp:
    data = build_small_dataset(env["MODEL"], env["CORPUS"], Path(tmp) / "data", int(env["DOCS"]), 8)
    common = dict(model=env["MODEL"], data=data, warmup=int(env["WARMUP"]), repeats=int(env["REPEATS"]), peak_n=int(env["PEAK_N"]) or None)
    before = sft_speed(BenchConfig(**common, batch_size=64, compile=False))
    after = [sft_speed(BenchConfig(**common, batch_tokens=int(tokens), compile=env["COMPILE"] == "1",
                                   bf16_weights=native_bf16(default_device()))) for tokens in env["TOKENS"].split()]


def brief(result: dict) -> dict:
    return {"settings": result["settings"],
            **{role: {"tokens_per_s": round(r["tokens_per_s"]), "tflops": round(r["flops_per_s"] / 1e12, 3), "vs_peak": round(r["vs_peak"], 4),
                      "rows_per_step": round(r["rows_per_step"], 1), **({"max_memory_gb": round(r["max_memory_gb"], 2)} if "max_memory_gb" in r else {})}
               for role in ("ar", "av") for r in [result[role]]}}


line = json.dumps({"device": before["device"], "precision": before["precision"], "peak_tflops": round(before["peak_flops_per_s"] / 1e12, 2),
                   "model": env["MODEL"], "train_rows": before["train_rows"], "before": brief(before), "after": [brief(a) for a in after]})
atomic_write_text(Path(env["OUT"]), line + "\n")
print(line)
EOF
