#!/usr/bin/env bash
# Load test of the web application on 127.0.0.1 only, bounded in count and time:
# real-time settlements (POST /api/v1/settlements) from keep-alive connections,
# then the overview page. Figures go to stdout; see bench/results/web.md.
#
#   bench/web_load.sh [--requests N] [--concurrency C] [--persons P] [--villages V] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p web --example web_load
exec timeout 300 "$CARGO_TARGET_DIR/release/examples/web_load" "$@"
