#!/usr/bin/env bash
# Sign-in throughput: bounded by Argon2id (m = 19 MiB, t = 2, p = 1) on at most
# auth.hash_concurrency threads. Needs `wrk`. Usage: bash benches/login.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --example http_bench_server
BENCH_LOG_LEVEL=warn "$CARGO_TARGET_DIR/release/examples/http_bench_server" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS http://127.0.0.1:18081/startupz >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS -o /dev/null http://127.0.0.1:18081/api/v1/auth/register -H 'content-type: application/json' -d '{
  "email": "bench@example.in", "password": "correct horse battery", "name": "Bench",
  "store_name": "Bench Store", "timezone": "Asia/Kolkata", "language": "en"}'
wrk -t1 -c16 -d"${duration}s" --latency -s benches/login.lua http://127.0.0.1:18081/api/v1/auth/login
# While logins saturate the hashing threads, the rest of the API still answers:
wrk -t1 -c16 -d"${duration}s" -s benches/login.lua http://127.0.0.1:18081/api/v1/auth/login >/dev/null &
flood=$!
sleep 1
wrk -t1 -c8 -d3s --latency http://127.0.0.1:18081/livez | grep -E "Requests/sec|99%"
wait $flood
