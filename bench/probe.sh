#!/usr/bin/env bash
# Probe throughput: `lunli probe run` with the whole bundled bank (218 questions, zh and en)
# against the scripted OpenAI-compatible server (`lunli probe serve-script`), which waits a fixed
# DELAY_MS before each answer, at concurrency 1, 4, 16 and 64. Prints questions/s per
# concurrency and the ideal figure (concurrency × 1000 / DELAY_MS) beside it: the client's own
# cost is the gap.
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
work="$(mktemp -d)"
"$lunli" probe serve-script --listen "127.0.0.1:$port" --delay-ms "$delay" 2>"$work/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -q "scripted" "$work/server.log" 2>/dev/null && break
  sleep 0.1
done

printf '%-12s %10s %12s %14s\n' concurrency questions "questions/s" "ideal q/s"
for c in 1 4 16 64; do
  "$lunli" --format json probe run --endpoint "http://127.0.0.1:$port/v1" --model bench \
    --run "$work/run-$c.jsonl" --concurrency "$c" --retries 0 >"$work/out-$c.json"
  python3 - "$work/out-$c.json" "$c" "$delay" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["this_run"]
c, delay = int(sys.argv[2]), float(sys.argv[3])
assert run["failed"] == 0, run
print(f'{c:<12} {run["sent"]:>10} {run["sent"] / run["seconds"]:>12.1f} {c * 1000 / delay:>14.1f}')
PY
done
