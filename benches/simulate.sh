#!/usr/bin/env bash
# Concurrent Twilio calls through the real server, measured by `caly simulate` (frame intervals,
# latencies) and by sampling the server's resident memory. With `speech` the callers say an
# espeak-ng sentence and the cascade answers it (neural VAD, the tenant's LLM dialogue, stand-in
# speech and language services in their own process: examples/speech_providers.rs); without,
# the test engine echoes them.
# Usage: bash benches/simulate.sh [calls] [seconds per call] [echo|speech]
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-500}"
seconds="${2:-30}"
mode="${3:-echo}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --bin caly --example speech_providers
# A fresh build leaves gigabytes to write back; flushed first, so that its I/O is not measured.
sync
caly="$CARGO_TARGET_DIR/release/caly"
work=$(mktemp -d)
token="simulated twilio auth token"
simulate_args=(--digits 1007#)
settings='{"phone_numbers": ["+918035000001"]}'
if [ "$mode" = speech ]; then
  "$CARGO_TARGET_DIR/release/examples/speech_providers" >"$work/providers" &
  providers=$!
  for _ in $(seq 100); do [ -s "$work/providers" ] && break; sleep 0.1; done
  stand_in="$(cat "$work/providers")/v1"
  export CALY_SPEECH_ENGINE=cascade CALY_SPEECH_STT_URL="$stand_in" CALY_SPEECH_STT_API_KEY=stt-key \
    CALY_SPEECH_STT_MODEL=whisper-test CALY_SPEECH_TTS_URL="$stand_in" CALY_SPEECH_TTS_VOICE=test-voice \
    CALY_SPEECH_ESPEAK_PROGRAM= CALY_LLM_BASE_URL="$stand_in" CALY_LLM_MODEL=test-model
  simulate_args=(--wav crates/caly-audio/tests/fixtures/order_en_8k.wav)
  settings='{"phone_numbers": ["+918035000001"], "dialogue": {"engine": "llm"}}'
else
  export CALY_SPEECH_ENGINE=echo
fi
CALY_LISTEN=127.0.0.1:18095 CALY_DATA_DIR="$work" CALY_DEMO=false CALY_LOG_LEVEL="${CALY_LOG_LEVEL:-warn}" \
  CALY_TELEPHONY_TWILIO_AUTH_TOKEN="$token" "$caly" serve &
server=$!
trap 'kill $server ${providers:-} 2>/dev/null || true; rm -rf "$work"' EXIT
base=http://127.0.0.1:18095
for _ in $(seq 200); do curl -fsS "$base/startupz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$base/api/v1/auth/register" -H 'content-type: application/json' -d '{"email": "bench@example.in",
  "password": "seeded owner passphrase 7", "name": "Bench", "store_name": "Bench Store", "timezone": "Asia/Kolkata",
  "language": "en"}' >/dev/null
access=$(curl -fsS "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email": "bench@example.in", "password": "seeded owner passphrase 7"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
curl -fsS -X PUT "$base/api/v1/settings" -H "authorization: Bearer $access" -H 'content-type: application/json' \
  -d '{"version": 0, "settings": '"$settings"'}' >/dev/null
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
idle=$(rss)
peak=$idle
( while sleep 0.5; do
    r=$(rss) || exit 0
    [ "$r" -gt "$(cat "$work/peak" 2>/dev/null || echo 0)" ] && echo "$r" >"$work/peak"
  done ) &
sampler=$!
# Each second: the server's underruns and what else had the CPUs then (benches/probe.py).
python3 benches/probe.py "$server" "$base/metrics" "$access" >"$work/probe" &
probe=$!
TWILIO_AUTH_TOKEN="$token" "$caly" simulate --url "$base" --calls "$calls" \
  --duration "${seconds}s" --ramp 10s "${simulate_args[@]}"
kill $sampler 2>/dev/null || true
peak=$(cat "$work/peak")
metrics=$(curl -fsS "$base/metrics" -H "authorization: Bearer $access")
underruns=$(awk -F'"' '/^caly_pacing_underruns_total/ {split($3, n, " "); total += n[2]; by = by sprintf(", %s %d", $2, n[2])}
  END {printf "%d%s", total, by}' <<<"$metrics")
# The server's own view of its pacing: the histogram bucket each quantile falls in.
lateness=$(awk -F'[{}" ]+' '/^caly_pacing_lateness_seconds_bucket/ {le[n] = $3; c[n++] = $4}
  /^caly_pacing_lateness_seconds_count/ {total = $2}
  END {for (q = 0; q < 3; q++) {p = (q == 0 ? 0.99 : q == 1 ? 0.999 : 0.9999)
    for (i = 0; i < n; i++) if (c[i] >= p * total) {printf "p%s ≤ %s ms  ", p * 100, le[i] == "+Inf" ? "+Inf" : le[i] * 1000; break}}
    printf "(%d frames)", total}' <<<"$metrics")
echo "server RSS: idle ${idle} KiB, peak ${peak} KiB, $(( (peak - idle) / calls )) KiB per call"
echo "pacing underruns (server): ${underruns:-0}"
echo "pacing lateness (server): $lateness"
kill $probe 2>/dev/null || true
wait $probe 2>/dev/null || true
cat "$work/probe"
