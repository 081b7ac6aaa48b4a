#!/usr/bin/env bash
# HTTP throughput of Caly's full guard stack against the same routes with no middleware, in one
# run on one machine. Needs `wrk` (Debian package). Usage: bash benches/http.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --example http_bench_server
"$CARGO_TARGET_DIR/release/examples/http_bench_server" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS http://127.0.0.1:18081/startupz >/dev/null 2>&1 && break; sleep 0.1; done

token="Authorization: Bearer bench-token-0123456789"
run() { # name url [header]
  local out rps p50 p99
  if [ -n "${3:-}" ]; then out=$(wrk -t1 -c64 -d"${duration}s" --latency -H "$3" "$2"); else out=$(wrk -t1 -c64 -d"${duration}s" --latency "$2"); fi
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers for $1" >&2; exit 1; fi
  printf '| %-28s | %10.0f | %8s | %8s |\n' "$1" "$rps" "$p50" "$p99"
  echo "$rps" > "/tmp/caly-bench-$1"
}
echo "| route | requests/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
for round in 1 2; do
  run "bare-livez-$round" http://127.0.0.1:18082/livez
  run "full-livez-$round" http://127.0.0.1:18081/livez
  run "bare-authenticated-$round" http://127.0.0.1:18082/bench/authenticated "$token"
  run "full-authenticated-$round" http://127.0.0.1:18081/bench/authenticated "$token"
done
for route in livez authenticated; do
  ratio=$(awk -v a="$(cat /tmp/caly-bench-full-$route-2)" -v b="$(cat /tmp/caly-bench-bare-$route-2)" 'BEGIN {printf "%.1f", 100*a/b}')
  echo "full stack keeps ${ratio}% of the bare router's throughput on /$route (round 2)"
done
