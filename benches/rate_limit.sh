#!/usr/bin/env bash
# Cost of a rate-limit decision in memory and through Redis. Usage: bash benches/rate_limit.sh [redis-url]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --example rate_limit_cost
"$CARGO_TARGET_DIR/release/examples/rate_limit_cost" "${1:-redis://127.0.0.1:6379}"
