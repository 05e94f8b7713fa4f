#!/usr/bin/env bash
# `lunli audit quality` on a wide table: COLUMNS columns (default 10,000) × ROWS rows (default
# 1,000) of low-cardinality integers and text codes, generated here. Prints wall time and peak
# memory (maximum resident set size, from /usr/bin/time -v), and checks that every column was
# profiled. Issue #15 item 9: 64 such columns failed outright and 7,000 ran past a minute.
#
#   bash bench/wide-quality.sh                    # 10,000 × 1,000, release build
#   COLUMNS=2000 ROWS=500 bash bench/wide-quality.sh
#   LUNLI=/path/to/lunli bash bench/wide-quality.sh   # measure a binary already built
#   PROFILE=dist bash bench/wide-quality.sh           # the shipped build
#
# Needs: python3 (to write the CSV and read the report), /usr/bin/time (Debian: time), cargo.
# Data lives in $BENCH_DIR (default /tmp/lunli-bench), reused between runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_DIR="${BENCH_DIR:-/tmp/lunli-bench}"
COLUMNS="${COLUMNS:-10000}"
ROWS="${ROWS:-1000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"

[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
LUNLI="${LUNLI:-$(bash bench/build-lunli.sh "${PROFILE:-release}")}"

CSV="$BENCH_DIR/wide-${COLUMNS}x${ROWS}.csv"
if [ ! -f "$CSV" ]; then
    echo "bench: writing $CSV" >&2
    python3 - "$COLUMNS" "$ROWS" "$CSV" <<'PY'
import sys
columns, rows, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(path, "w") as f:
    f.write(",".join(f"c{j}" for j in range(columns)) + "\n")
    for i in range(rows):
        # Column j holds (i + j) mod (j mod 5 + 2): 2 to 6 distinct values; every tenth is text.
        f.write(",".join((f"x{(i + j) % (j % 5 + 2)}" if j % 10 == 9 else str((i + j) % (j % 5 + 2)))
                         for j in range(columns)) + "\n")
PY
fi

LOG="$BENCH_DIR/wide-time.log"
OUT="$BENCH_DIR/wide-report.json"
/usr/bin/time -v "$LUNLI" --format json audit quality "$CSV" > "$OUT" 2> "$LOG" || { tail -20 "$LOG" >&2; exit 1; }
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$LOG" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$LOG")
profiled=$(python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print(sum(1 for c in r['columns'] if c['distinct_exact']))" "$OUT")
printf '%-44s %10s %12s\n' "run" "wall (s)" "peak (MiB)"
printf '%-44s %10s %12s\n' "lunli audit quality, ${COLUMNS} × ${ROWS}" "$wall" "$rss"
echo "columns profiled with exact value counts: $profiled of $COLUMNS"
[ "$profiled" = "$COLUMNS" ] || { echo "bench: not every column was profiled" >&2; exit 1; }
