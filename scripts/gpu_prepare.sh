#!/usr/bin/env bash
# Here, before a session's device calls: put what the GPU machine lacks into .gpu/ (git-ignored), in two
# halves that each fit one call's 64 MiB: .gpu/a and .gpu/b hold one half of the default model's GGUF each
# (98 MB in all) and its sha256; .gpu/b also holds the wheels the device image lacks (gguf, for reading it).
# Then see scripts/gpu_train.sh for the two calls.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
GGUF=$("$PYTHON" -c "from nlakit.core.models import default_gguf_path; print(default_gguf_path())")
rm -rf .gpu && mkdir -p .gpu/a .gpu/b/wheels
half=$(( ($(stat -c %s "$GGUF") + 1) / 2 ))
split -b "$half" -d -a 1 "$GGUF" .gpu/part-
mv .gpu/part-0 .gpu/a/gguf.part-0 && mv .gpu/part-1 .gpu/b/gguf.part-1
sha256sum "$GGUF" | cut -d' ' -f1 > .gpu/b/gguf.sha256
basename "$GGUF" > .gpu/b/gguf.name
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d .gpu/b/wheels "gguf>=0.10" 2>/dev/null \
    || "$PYTHON" -m pip download -q --no-deps -d .gpu/b/wheels "gguf>=0.10"
du -sh .gpu/a .gpu/b
