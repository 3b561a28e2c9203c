#!/usr/bin/env bash
# Install the locked environment with CPU builds of torch: for CI runners and machines without a
# GPU, which then never download CUDA, ROCm or XPU wheels (gigabytes each). Every other package
# keeps its locked version; torch and its companions keep their locked versions but come from the
# CPU index. `uv lock --check` (CI's lint job) keeps the lock itself checked.
#
#   PYTORCH_CPU_INDEX=<base>/cpu scripts/sync-cpu.sh [uv export options, e.g. --extra cpu]
#
# The index comes from the environment, never from this file: CI sets it from the project's
# answers (.github/workflows/ci.yml), and README.md shows the command with it.
set -euo pipefail

cpu_index="${PYTORCH_CPU_INDEX:?set PYTORCH_CPU_INDEX to the CPU index, e.g. https://download.pytorch.org/whl/cpu}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

uv export --locked --no-hashes --no-annotate --no-emit-project --format requirements-txt "$@" \
  | grep -v '^#' > "$work/locked.txt"
# torch and its companions, without their local label (+cu130, +rocm7.2, ...).
grep -E '^(torch|torchvision|torchaudio)==' "$work/locked.txt" \
  | sed -E 's/^([a-z]+==[^ +;]+)\+[A-Za-z0-9.]+/\1/' > "$work/torch.txt"
# Everything else but the accelerator runtimes those builds pull in.
grep -vE '^(torch|torchvision|torchaudio|nvidia-|cuda-|triton|pytorch-triton)' "$work/locked.txt" \
  > "$work/rest.txt" || true

uv venv --allow-existing .venv
# Into the project's .venv, whatever UV_PYTHON or VIRTUAL_ENV say.
uv pip install --python .venv --no-deps -r "$work/rest.txt"
uv pip install --python .venv --no-deps --index-url "$cpu_index" -r "$work/torch.txt"
uv pip install --python .venv --no-deps -e .
