#!/usr/bin/env bash
# CI step of the distributed batch paths (issue 19; docs/distributed.md): installs
# Spark and the Python side, builds the extension module's wheel, runs the
# module's and the jobs' tests and the proof on a local cluster of two executors
# (bench/distributed.sh). About 5 minutes cold on 2 cores; the pip download of
# PySpark (~320 MB) is the largest part of a cold run.
#
#   spark/ci.sh [--out DIR]     (DIR: where bench/distributed.sh leaves its files)
#
# Environment: PYTHON (default python3; a virtual environment is made under
# $SAFETYNET_CI_VENV, default target/spark-venv), CARGO_TARGET_DIR as usual,
# SAFETYNET (the release binary; built by bench/distributed.sh when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_ARGS=()
[[ "${1:-}" == "--out" ]] && OUT_ARGS=(--out "$2")

PYSPARK_VERSION=4.0.1
PYARROW_VERSION=26.0.1
PANDAS_VERSION=3.1.1
MATURIN_VERSION=1.16.0

if ! command -v java >/dev/null 2>&1; then
  echo "java is missing: installing openjdk-17-jre-headless" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends openjdk-17-jre-headless
fi

VENV="${SAFETYNET_CI_VENV:-$ROOT/target/spark-venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -m pip install -q --disable-pip-version-check \
  "pyspark==$PYSPARK_VERSION" "pyarrow==$PYARROW_VERSION" "pandas==$PANDAS_VERSION" \
  "maturin==$MATURIN_VERSION" pytest

echo "== the wheel (crates/py)" >&2
WHEELS="$(mktemp -d)"
"$VENV/bin/maturin" build --release -q -m "$ROOT/crates/py/Cargo.toml" -i "$PY" -o "$WHEELS"
"$PY" -m pip install -q --force-reinstall --no-deps "$WHEELS"/safetynet_engines-*.whl

echo "== tests (spark/tests)" >&2
export PYTHONPATH="$ROOT/spark"
export PYSPARK_PYTHON="$PY"
"$PY" -m pytest -q "$ROOT/spark/tests"

echo "== bench/distributed.sh" >&2
PYTHON="$PY" "$ROOT/bench/distributed.sh" "${OUT_ARGS[@]}"
