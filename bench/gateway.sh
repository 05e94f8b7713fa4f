#!/usr/bin/env bash
# Load test of the runtime gateway on loopback: decisions per second and latency percentiles,
# with every decision appended to the ledger (group commit). Bounded in time; loopback only.
#
#   bash bench/gateway.sh [DURATION_SECONDS] [CONNECTIONS]
#
# Needs wrk (Debian: apt-get install wrk). Builds lunli in release. Runs two scenarios on the
# embedded SQLite store: a medium-tier system (answer first, ledger entry in the next group
# commit) and a high-tier system (answer only after the entry is durable).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${1:-15}"
CONNECTIONS="${2:-64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
cargo build -q --release -p lunli
LUNLI="$CARGO_TARGET_DIR/release/lunli"
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

DATA="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DATA"' EXIT
export LUNLI_DATA_DIR="$DATA" LUNLI_ACTOR=bench
# A registered, approved system per tier, set up through the library by the bench helper test.
cargo test -q --release -p lunli-gateway --test bench_fixture -- --ignored --exact prepare_bench_store >/dev/null
SECRET="$(cat "$DATA/bench-key")"

"$LUNLI" serve --listen 127.0.0.1:18751 > "$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -fs http://127.0.0.1:18751/readyz >/dev/null && break; sleep 0.1; done

for system in bench-medium bench-high; do
  cat > "$DATA/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $SECRET"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/v1/decisions", nil,
    '{"system":"$system","subject":"s' .. counter .. '","purpose":"support","confidence":0.9,"impact":"low"}')
end
LUA
  echo "== $system: ${DURATION}s, $CONNECTIONS connections, 2 threads"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$DATA/post.lua" http://127.0.0.1:18751 | sed -n '1,20p'
done
echo "== ledger entries: $("$LUNLI" ledger head --format json 2>/dev/null | head -c 300 || true)"
curl -s http://127.0.0.1:18751/metrics | grep -E '^lunli_(decisions_total|ledger_batch_size_(sum|count))'
