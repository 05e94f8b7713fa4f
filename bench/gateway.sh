#!/usr/bin/env bash
# Load test of the runtime gateway on loopback: decisions per second and latency percentiles,
# with every decision appended to the ledger (group commit). Bounded in time; loopback only.
#
#   bash bench/gateway.sh [DURATION_SECONDS] [CONNECTIONS]
#   BENCH_POSTGRES="host=127.0.0.1 user=postgres dbname=test" bash bench/gateway.sh …   # on PostgreSQL
#
# Latency at a given rate (open loop, the target of issue #21): each request is due at a
# constant rate and its latency counts from when it was due, so a slow answer that holds the
# next ones back shows in the percentiles (wrk measures a saturated server instead). Runs the
# gateway's constant_rate example (one thread) against each tier at each rate:
#
#   bash bench/gateway.sh rate [DURATION_SECONDS] [RATES]   # default: 15 "10000 20000 30000"
#   PERF=/tmp/gw bash bench/gateway.sh rate 10 20000        # and a profile of the gateway per run
#
# Each rate's run also prints the gateway's CPU time, so that what the generator took of the
# two cores shows. Percentiles near saturation move several-fold from run to run on a shared
# machine: RUNS=N runs each rate N times (one after the other, on the same gateway) and ends with
# a table of the median and the range of each figure. LINGER_MS= sets the gateway's
# group_commit_linger_millis (0: every group commit at once), HEAD_INTERVAL_MS= how often it signs
# a tree head.
#
#   RUNS=5 bash bench/gateway.sh rate 10 "20000 30000"
#   LUNLI_BIN=/tmp/lunli-before RUNS=3 bash bench/gateway.sh rate 10   # another build of lunli
#
# Needs wrk (Debian: apt-get install wrk). Builds lunli in release (PROFILE=dist: the shipped
# build, see bench/build-lunli.sh). Runs two scenarios: a
# medium-tier system (answer first, ledger entry in the next group commit) and a high-tier
# system (answer only after the entry is durable), on the embedded SQLite store, or with
# BENCH_POSTGRES (key=value form) in a fresh schema of that database, dropped afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODE=wrk
if [ "${1:-}" = rate ]; then MODE=rate; shift; fi
DURATION="${1:-15}"
CONNECTIONS="${2:-64}"
RATES="${2:-10000 20000 30000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
# LUNLI_BIN: measure that lunli binary (another build, for a before/after) instead of building one.
LUNLI="${LUNLI_BIN:-$(bash bench/build-lunli.sh "${PROFILE:-release}")}"
if [ "$MODE" = rate ]; then
  cargo build -q --release -p lunli-gateway --example constant_rate
  GENERATOR="$CARGO_TARGET_DIR/release/examples/constant_rate"
else
  command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
fi
[ "$MODE" = wrk ] || [ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

DATA="$(mktemp -d)"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$DATA"
  if [ -n "${BENCH_POSTGRES:-}" ]; then psql -X -q "$BENCH_POSTGRES" -c "DROP SCHEMA IF EXISTS $BENCH_PG_SCHEMA CASCADE" || true; fi
}
trap cleanup EXIT
export LUNLI_DATA_DIR="$DATA" LUNLI_ACTOR=bench
if [ -n "${BENCH_POSTGRES:-}" ]; then
  export BENCH_PG_SCHEMA="lunli_bench_$$"
  export LUNLI_DATABASE_URL="$BENCH_POSTGRES options='-c search_path=$BENCH_PG_SCHEMA'"
  echo "== store: PostgreSQL, schema $BENCH_PG_SCHEMA"
else
  echo "== store: embedded SQLite in $DATA"
fi
# A registered, approved system per tier, set up through the library by the bench helper test.
cargo test -q --release -p lunli-gateway --test bench_fixture -- --ignored --exact prepare_bench_store >/dev/null
SECRET="$(cat "$DATA/bench-key")"

# The bench's key is a service key, which may not read /metrics: open them on this loopback run.
echo 'metrics = "open"' > "$DATA/gateway.toml"
# HEAD_INTERVAL_MS: how often the gateway signs a tree head (checking the entries since the last).
if [ -n "${HEAD_INTERVAL_MS:-}" ]; then echo "head_interval_millis = $HEAD_INTERVAL_MS" >> "$DATA/gateway.toml"; fi
if [ -n "${LINGER_MS:-}" ]; then echo "group_commit_linger_millis = $LINGER_MS" >> "$DATA/gateway.toml"; fi
RUNS="${RUNS:-1}"
# One line per rate run, for the summary: system rate p50 p90 p99 p99.9 gateway-cores.
SUMMARY="$DATA/summary.txt"
: > "$SUMMARY"
"$LUNLI" serve --listen 127.0.0.1:18751 --config "$DATA/gateway.toml" > "$DATA/serve.log" 2>&1 &
SERVER=$!
# The gateway's CPU time so far, in clock ticks (user + system, every thread).
gateway_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
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
  # Start each scenario with the ledger writer idle: decisions answered before their entry
  # (medium tier) may still be queued from the previous one.
  for _ in $(seq 600); do
    m="$(curl -s http://127.0.0.1:18751/metrics)"
    decided=$(echo "$m" | awk '/^lunli_decisions_total/ {s += $2} END {printf "%d", s}')
    written=$(echo "$m" | awk '/^lunli_ledger_batch_size_sum/ {printf "%d", $2}')
    [ "${written:-0}" -ge "${decided:-0}" ] && break
    sleep 0.5
  done
  if [ "$MODE" = rate ]; then
    for rate in $RATES; do
     for run in $(seq "$RUNS"); do
      echo "== $system: $rate decisions/s asked for ${DURATION}s, 64 connections, open loop (run $run of $RUNS)"
      before=$(gateway_ticks)
      start=$(date +%s.%N)
      if [ -n "${PERF:-}" ]; then
        perf record -q -g -F 999 -p "$SERVER" -o "$DATA/perf-$system-$rate.data" -- sleep "$DURATION" 2>/dev/null &
        PERF_PID=$!
      fi
      LUNLI_BENCH_TOKEN="$SECRET" /usr/bin/time -f "generator CPU %U s user + %S s system" "$GENERATOR" http://127.0.0.1:18751/v1/decisions "$rate" "$DURATION" 64 \
        '{"system":"'"$system"'","subject":"r{n}","purpose":"support","confidence":0.9,"impact":"low"}' 2>&1 | tee "$DATA/run.txt"
      [ -n "${PERF:-}" ] && wait "$PERF_PID"
      # How the two cores were shared: the gateway's CPU time against the generator's.
      shared=$(awk -v t0="$before" -v t1="$(gateway_ticks)" -v hz="$(getconf CLK_TCK)" -v s0="$start" -v s1="$(date +%s.%N)" \
        'BEGIN { printf "gateway CPU %.1f s in %.1f s (%.2f cores)", (t1 - t0) / hz, s1 - s0, (t1 - t0) / hz / (s1 - s0) }')
      echo "$shared"
      cores=$(echo "$shared" | sed -E 's/.*\(([0-9.]+) cores\)/\1/')
      # "latency from the due time, ms: p50 A  p90 B  p99 C  p99.9 D  max E"
      awk -v tier="$system" -v rate="$rate" -v cores="$cores" \
        '/^latency from the due time/ { print tier, rate, $8, $10, $12, $14, cores }' "$DATA/run.txt" >> "$SUMMARY"
      if [ -n "${PERF:-}" ]; then
        cp "$DATA/perf-$system-$rate.data" "${PERF}-$system-$rate.data"
        echo "profile: ${PERF}-$system-$rate.data (perf report -i …)"
      fi
      sleep 2
     done
    done
    continue
  fi
  echo "== $system: ${DURATION}s, $CONNECTIONS connections, 2 threads"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$DATA/post.lua" http://127.0.0.1:18751 | sed -n '1,20p'
done
if [ "$MODE" = rate ] && [ "$RUNS" -gt 1 ]; then
  echo "== median (and range) of $RUNS runs per rate"
  python3 - "$SUMMARY" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    system, rate, *figures = line.split()
    runs.setdefault((system, int(rate)), []).append([float(f) for f in figures])
names = ["p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "gateway cores"]
print(f"{'system':<13} {'rate':>6}  " + "  ".join(f"{n:>22}" for n in names))
for (system, rate), rows in runs.items():
    cells = []
    for column in zip(*rows):
        cells.append(f"{statistics.median(column):.2f} ({min(column):.2f}–{max(column):.2f})")
    print(f"{system:<13} {rate:>6}  " + "  ".join(f"{c:>22}" for c in cells))
PY
fi
echo "== ledger entries: $("$LUNLI" ledger head --format json 2>/dev/null | head -c 300 || true)"
curl -s http://127.0.0.1:18751/metrics | grep -E '^lunli_(decisions_total|ledger_batch_size_(sum|count))'
