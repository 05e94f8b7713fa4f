#!/usr/bin/env bash
# Probe throughput: `lunli probe run` with the whole bundled bank (218 questions, zh and en)
# against the scripted OpenAI-compatible server (`lunli probe serve-script`), which waits a fixed
# DELAY_MS before each answer, at concurrency 1, 4, 16 and 64, over http and over https (a
# throwaway CA and server certificate made with openssl, given to the client with --ca-cert).
# Prints questions/s per scheme and concurrency and the ideal figure (concurrency × 1000 /
# DELAY_MS) beside it: the client's own cost is the gap.
#
#   bash bench/probe.sh [LUNLI_BINARY] [DELAY_MS]
#
# Default binary: target/release/lunli under $CARGO_TARGET_DIR (build with `cargo build --release`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${CARGO_TARGET_DIR:-target}"
lunli="${1:-$target/release/lunli}"
delay="${2:-50}"
port="${PROBE_BENCH_PORT:-18761}"
tls_port=$((port + 1))
work="$(mktemp -d)"
servers=()
trap 'for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# A private CA and a certificate it signs for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/server-key.pem" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -CAcreateserial \
  -days 2 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null

"$lunli" probe serve-script --listen "127.0.0.1:$port" --delay-ms "$delay" 2>"$work/server.log" &
servers+=($!)
"$lunli" probe serve-script --listen "127.0.0.1:$tls_port" --delay-ms "$delay" \
  --tls-cert "$work/server.pem" --tls-key "$work/server-key.pem" 2>"$work/tls-server.log" &
servers+=($!)
for _ in $(seq 100); do
  grep -q "scripted" "$work/server.log" 2>/dev/null && grep -q "scripted" "$work/tls-server.log" 2>/dev/null && break
  sleep 0.1
done

printf '%-8s %-12s %10s %12s %14s\n' scheme concurrency questions "questions/s" "ideal q/s"
for scheme in http https; do
  if [ "$scheme" = http ]; then endpoint="http://127.0.0.1:$port/v1"; extra=(); else
    endpoint="https://127.0.0.1:$tls_port/v1"; extra=(--ca-cert "$work/ca.pem"); fi
  for c in 1 4 16 64; do
    "$lunli" --format json probe run --endpoint "$endpoint" --model bench "${extra[@]}" \
      --run "$work/run-$scheme-$c.jsonl" --concurrency "$c" --retries 0 >"$work/out-$scheme-$c.json"
    python3 - "$work/out-$scheme-$c.json" "$scheme" "$c" "$delay" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["this_run"]
scheme, c, delay = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
assert run["failed"] == 0, run
print(f'{scheme:<8} {c:<12} {run["sent"]:>10} {run["sent"] / run["seconds"]:>12.1f} {c * 1000 / delay:>14.1f}')
PY
  done
done
