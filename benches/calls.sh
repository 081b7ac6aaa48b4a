#!/usr/bin/env bash
# GET /api/v1/calls (pages of 50) over 100,000 seeded calls on SQLite, through the full server.
# Needs `wrk` (Debian package). Usage: bash benches/calls.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --example calls_bench_server
out=$(mktemp)
rm -f "$out"
"$CARGO_TARGET_DIR/release/examples/calls_bench_server" "$out" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 3000); do [ -s "$out" ] && break; sleep 0.1; done
token="Authorization: Bearer $(cat "$out")"
base=http://127.0.0.1:18083/api/v1/calls
# A cursor deep in the table: the 1,000th page.
cursor=$(curl -fsS -H "$token" "$base?limit=200" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
for _ in $(seq 249); do
  cursor=$(curl -fsS -H "$token" "$base?limit=200&cursor=$cursor" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
done
run() { # name url
  local text
  text=$(wrk -t1 -c32 -d"${duration}s" --latency -H "$token" "$2")
  if grep -q "Non-2xx" <<<"$text"; then echo "non-2xx answers for $1" >&2; exit 1; fi
  printf '| %-34s | %8.0f | %8s | %8s |\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$text")" \
    "$(awk '$1=="50%" {print $2}' <<<"$text")" "$(awk '$1=="99%" {print $2}' <<<"$text")"
}
echo "| request | requests/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
run "first page, newest first" "$base"
run "page 1,000 (cursor)" "$base?cursor=$cursor"
run "filtered: outcome + direction" "$base?outcome=transferred&direction=inbound"
run "filtered: one caller" "$base?caller=%2B919800000042"
