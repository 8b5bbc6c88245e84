#!/usr/bin/env bash
# Train a stronger default NLA on one GPU within one device call: measure the fraction of peak first, then
# train the PRESET (default smollm2-135m-long) with the minutes left, and write back what came out.
#
# Prepared here with scripts/gpu_prepare.sh; then two device calls made while the machine stays warm:
#   1. carry .gpu/a:   bash scripts/gpu_train.sh receive        (keeps the GGUF's first half on the machine)
#   2. carry .gpu/b:   MINUTES=9 bash scripts/gpu_train.sh      (assembles and checks it, then bench + train)
# A later call on the same warm machine continues the run from its checkpoints (`nlakit train --max-minutes`).
# Written to $OUT (default gpu_train_out/): gpu_sft_bench.json (fraction of peak before/after the GPU
# settings), train.log, metrics.json and curves when the run finished, and nla.tar.part-* (the exported
# NLA, in parts under 15 MiB; `cat nla.tar.part-* | tar x` gives nla/), so adapters come back even from a
# call whose files are limited in size. A run stopped by its budget says so in train.log and exits 0.
#
# On a CPU it runs too: the tests run it with a tiny PRESET file, BENCH=0 and no GGUF parts (PARTS=an empty folder).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WORK=${WORK:-/tmp/nlakit-gpu}
OUT=${OUT:-gpu_train_out}
PRESET=${PRESET:-smollm2-135m-long}
MINUTES=${MINUTES:-9}
PARTS=${PARTS:-.gpu}  # what gpu_prepare.sh made (carried: a/ in the first call, b/ in the second)
start=$(date +%s)
mkdir -p "$WORK" "$OUT"

if [ "${1:-}" = "receive" ]; then
    cp "$PARTS/a/gguf.part-0" "$WORK/" && echo "received $(du -h "$WORK/gguf.part-0" | cut -f1) of the GGUF"
    exit 0
fi

if [ -d "$PARTS/b" ]; then  # the default model: assemble the GGUF and check it; the device lacks the gguf reader
    name=$(cat "$PARTS/b/gguf.name")
    if [ ! -f "$WORK/$name" ]; then
        [ -f "$WORK/gguf.part-0" ] || { echo "the GGUF's first half is missing: run 'gpu_train.sh receive' carrying .gpu/a first" >&2; exit 2; }
        cat "$WORK/gguf.part-0" "$PARTS/b/gguf.part-1" > "$WORK/$name.tmp"
        [ "$(sha256sum "$WORK/$name.tmp" | cut -d' ' -f1)" = "$(cat "$PARTS/b/gguf.sha256")" ] || { echo "the assembled GGUF does not match its sha256" >&2; exit 2; }
        mv "$WORK/$name.tmp" "$WORK/$name"
    fi
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$WORK/site" "$PARTS"/b/wheels/*.whl
    export NLAKIT_GGUF="$WORK/$name" PYTHONPATH="$WORK/site:${PYTHONPATH:-}"
fi
export NLAKIT_CACHE=${NLAKIT_CACHE:-$WORK/cache} PYTHONPATH=".:${PYTHONPATH:-}"

if [ "${BENCH:-1}" = "1" ]; then
    PYTHON="$PYTHON" OUT="$OUT/gpu_sft_bench.json" bash scripts/gpu_sft_bench.sh
fi

left=$(( MINUTES * 60 - ($(date +%s) - start) ))
[ "$left" -gt 60 ] || { echo "no time left to train after the bench ($left s)"; exit 0; }
set +e
"$PYTHON" -c "from nlakit.app.cli import main; main()" train --preset "$PRESET" --out "$WORK/run" \
    --max-minutes "$(( left / 60 ))" --export "$WORK/nla" 2>&1 | tee "$OUT/train.log"
status=${PIPESTATUS[0]}
set -e
for f in metrics.json ar_curve.png av_curve.png; do [ -f "$WORK/run/$f" ] && cp "$WORK/run/$f" "$OUT/"; done
if [ -d "$WORK/nla" ]; then
    tar -C "$WORK" -cf "$WORK/nla.tar" nla && split -b 15m -d -a 1 "$WORK/nla.tar" "$OUT/nla.tar.part-"
fi
if [ "$status" -eq 2 ] && grep -q "rerun the same command" "$OUT/train.log"; then
    echo "stopped by its budget: call again on the same warm machine to continue"; exit 0
fi
exit "$status"
