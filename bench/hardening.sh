#!/usr/bin/env bash
# Load figures for the hardening of issue 15, on the embedded SQLite store, loopback only and
# bounded in time:
#   item 5  durable decisions while 300,000 reviews are open and 4 dashboard users reload /ui/;
#   item 6  durable decisions while consents change (20/s) among 300,000;
#   item 7  decisions while another process holds the database locked for 5 s (nothing lost);
#   item 4  /healthz while 300 clients hold half-sent requests (bench/slow_clients.py).
#
#   bash bench/hardening.sh [DURATION_SECONDS] [--release]
#
# The gateway and the load generator share one process for items 5–7 (a floor for the gateway).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${1:-10}"
PROFILE=()
[[ "${2:-}" == "--release" ]] && PROFILE=(--release)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
export BENCH_SECONDS="$DURATION"
echo "== profile: ${PROFILE[*]:-debug}; ${DURATION}s per scenario"
for scenario in durable_decisions_while_300k_reviews_are_open_and_the_inventory_loads \
                durable_decisions_while_consents_change_among_300k \
                decisions_while_the_database_is_locked; do
  DATA="$(mktemp -d)"
  export LUNLI_DATA_DIR="$DATA"
  cargo test -q "${PROFILE[@]}" -p lunli-gateway --test bench_fixture -- --ignored --exact prepare_bench_store >/dev/null
  cargo test -q "${PROFILE[@]}" -p lunli-gateway --test hardening_load -- --ignored --nocapture --exact "$scenario" 2>&1 \
    | grep -E '^(bench-|thread|assertion)' || true
  rm -rf "$DATA"
done
