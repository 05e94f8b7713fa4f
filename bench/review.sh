#!/usr/bin/env bash
# Load figure for human review (issue 8): decisions per second and latency percentiles with 10 %
# of decisions escalated to the review queue, on the embedded SQLite store, for a medium-tier
# system (answer first, ledger entry and queue item in the next group commit) and a high-tier one
# (answer after both are durable). The load generator runs in the gateway's process (loopback
# HTTP, 2 runtime threads), so the figure is a floor for the gateway alone. Bounded in time.
#
#   bash bench/review.sh [DURATION_SECONDS] [CONNECTIONS] [--release]
#
# Without --release it builds only lunli-gateway's test profile (debug): label the figure so.
# BENCH_ESCALATE_EVERY=0 runs the same load with nothing escalated, for comparison.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-32}"
PROFILE=()
[[ "${3:-}" == "--release" ]] && PROFILE=(--release)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT
export LUNLI_DATA_DIR="$DATA" BENCH_SECONDS="$DURATION" BENCH_CONNECTIONS="$CONNECTIONS"
cargo test -q "${PROFILE[@]}" -p lunli-gateway --test bench_fixture -- --ignored --exact prepare_bench_store >/dev/null
echo "== profile: ${PROFILE[*]:-debug}; ${DURATION}s per system, $CONNECTIONS connections, one in ${BENCH_ESCALATE_EVERY:-10} escalated"
cargo test -q "${PROFILE[@]}" -p lunli-gateway --test review_load -- --ignored --nocapture \
  decisions_per_second_with_ten_percent_escalated 2>&1 | grep -E '^(bench-|test result|thread|assertion)'
