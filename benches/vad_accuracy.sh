#!/usr/bin/env bash
# The voice detector's accuracy on speech synthesised by espeak-ng (Hindi and English), mixed
# with silence and telephone-band noise at several SNRs; prints a Markdown table.
# Usage: bash benches/vad_accuracy.sh   (needs espeak-ng)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
i=0
while IFS='|' read -r voice text; do
  i=$((i + 1))
  espeak-ng -v "$voice" -s 150 -w "$work/$i.wav" "$text"
done <<'PHRASES'
hi|नमस्ते, मेरा ऑर्डर अभी तक नहीं आया
hi|मुझे अपना ऑर्डर कैंसल करना है
hi|मेरा पैसा दो बार कट गया है, रिफंड कब आएगा
hi|ऑर्डर नंबर चार पांच दो एक है
hi|डिलीवरी का पता बदलना है, नया पिन कोड चार सौ एक सौ एक
hi|क्या यह कुर्ता मीडियम साइज में मिलेगा
hi|मुझे किसी इंसान से बात करनी है
hi|हाँ जी, ठीक है, धन्यवाद
en|Hello, where is my order? It was supposed to arrive yesterday.
en|I want to return the shoes, they are too small.
en|My payment failed but the money was debited twice.
en|The order number is one zero zero seven.
en|Can you change the delivery address to my office please?
en|Is this phone available in blue, and what is the price?
en|Let me talk to a real person.
en|Okay, thank you so much, goodbye.
PHRASES
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo run --release --quiet -p caly-audio --example vad_accuracy -- "$work"/*.wav
