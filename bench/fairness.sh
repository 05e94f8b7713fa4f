#!/usr/bin/env bash
# lunli's audits against their Python peers on the same files, in the same run:
#
#   1. fairness: Fairlearn's MetricFrame (count, selection rate, TPR, FPR by one 10-group
#      attribute, reading the CSV with pandas) against `lunli audit fairness` on 1 M and 10 M rows
#      resampled from the Adult predictions in ../shared/data;
#   2. quality: ydata-profiling (minimal mode) against `lunli audit quality` on a ~1 GB CSV
#      resampled from the Adult training data.
#
# Reports wall time and peak memory (maximum resident set size, from /usr/bin/time -v) of each.
#
#   bash bench/fairness.sh [ROWS...]            # default: 1000000 10000000
#   SKIP_QUALITY=1 bash bench/fairness.sh       # fairness only
#   QUALITY_ROWS=5000000 bash bench/fairness.sh
#   PROFILE=release bash bench/fairness.sh      # the release build instead of the shipped dist build
#
# Needs: python3 with venv and pip (PyPI reachable: fairlearn, pandas, ydata-profiling are
# installed into a virtual environment under $BENCH_DIR), /usr/bin/time (Debian: time), cargo.
# The first dist build takes about 30 minutes on 2 cores.
# Data and the environment live in $BENCH_DIR (default /tmp/lunli-bench), reused between runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
SHARED="$ROOT/../shared/data"
BENCH_DIR="${BENCH_DIR:-/tmp/lunli-bench}"
VENV="${VENV:-$BENCH_DIR/venv}"
ROWS=("${@:-1000000 10000000}")
read -r -a ROWS <<< "${ROWS[*]}"
QUALITY_ROWS="${QUALITY_ROWS:-10000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"

[ -f "$SHARED/adult/adult_predictions.csv" ] || { echo "bench: $SHARED/adult is missing (shared/ beside the repository)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

# The shipped build (see bench/build-lunli.sh); PROFILE=release measures the plain release build.
LUNLI=$(bash bench/build-lunli.sh "${PROFILE:-dist}")

if [ ! -x "$VENV/bin/python" ]; then
    echo "bench: creating $VENV with fairlearn, pandas and ydata-profiling from PyPI" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q fairlearn pandas
fi
PY="$VENV/bin/python"

# Wall seconds and peak RSS in MiB of a command, from GNU time.
measure() {
    local log="$BENCH_DIR/time.log"
    if ! /usr/bin/time -v "$@" > "$BENCH_DIR/out.log" 2> "$log"; then
        echo "bench: command failed: $*" >&2
        tail -20 "$log" >&2
        return 1
    fi
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$log")
    echo "$wall $rss"
}

cat > "$BENCH_DIR/generate.py" <<'PY'
"""Resamples rows of a CSV with replacement (seeded) to a given number of rows."""
import sys
import pandas as pd

source, rows, out, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ""
df = pd.read_csv(source, skipinitialspace=True)
if extra == "group":
    # One attribute of 10 groups: sex × race.
    df["group"] = df["sex"] + "|" + df["race"]
chunk = 1_000_000
with open(out, "w") as f:
    written = 0
    seed = 0
    while written < rows:
        n = min(chunk, rows - written)
        df.sample(n=n, replace=True, random_state=seed).to_csv(f, index=False, header=(written == 0))
        written += n
        seed += 1
PY

cat > "$BENCH_DIR/fairlearn_metricframe.py" <<'PY'
"""Fairlearn's MetricFrame on a CSV: count, selection rate, TPR and FPR by `group`."""
import sys
import pandas as pd
from fairlearn.metrics import MetricFrame, count, selection_rate, true_positive_rate, false_positive_rate

df = pd.read_csv(sys.argv[1])
mf = MetricFrame(
    metrics={"count": count, "selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
    y_true=df["y_true"],
    y_pred=df["y_pred"],
    sensitive_features=df["group"],
)
print(mf.by_group.to_string())
print("difference", mf.difference().to_dict())
PY

cat > "$BENCH_DIR/ydata_profile.py" <<'PY'
"""ydata-profiling's minimal profile of a CSV, written as JSON."""
import sys
import pandas as pd
from ydata_profiling import ProfileReport

df = pd.read_csv(sys.argv[1], skipinitialspace=True, na_values=["?"])
ProfileReport(df, minimal=True, progress_bar=False).to_file(sys.argv[2])
PY

printf '\n%-44s %12s %14s\n' "fairness (count, selection rate, TPR, FPR by 10 groups)" "wall s" "peak RSS MiB"
for rows in "${ROWS[@]}"; do
    data="$BENCH_DIR/adult-$rows.csv"
    [ -f "$data" ] || { echo "bench: generating $data" >&2; "$PY" "$BENCH_DIR/generate.py" "$SHARED/adult/adult_predictions.csv" "$rows" "$data" group; }
    size=$(du -m "$data" | cut -f1)
    read -r fw fr < <(measure "$PY" "$BENCH_DIR/fairlearn_metricframe.py" "$data")
    read -r lw lr < <(measure "$LUNLI" --format json audit fairness "$data" --label y_true --prediction y_pred --sensitive group)
    read -r sw sr < <(measure "$LUNLI" --format json audit fairness "$data" --label y_true --prediction y_pred --score score --sensitive sex,race)
    printf '%-44s %12s %14s\n' "$rows rows ($size MB): Fairlearn MetricFrame" "$fw" "$fr"
    printf '%-44s %12s %14s\n' "$rows rows: lunli audit fairness" "$lw" "$lr"
    printf '%-44s %12s %14s\n' "$rows rows: lunli, + AUC, sex,race,sex|race" "$sw" "$sr"
    awk -v fw="$fw" -v lw="$lw" -v fr="$fr" -v lr="$lr" \
        'BEGIN { printf "%-44s %11.0fx %13.0fx\n", "  lunli advantage (time, memory)", fw / lw, fr / lr }'
done

if [ -z "${SKIP_QUALITY:-}" ]; then
    data="$BENCH_DIR/adult-quality-$QUALITY_ROWS.csv"
    [ -f "$data" ] || { echo "bench: generating $data" >&2; "$PY" "$BENCH_DIR/generate.py" "$SHARED/adult/adult.data.csv" "$QUALITY_ROWS" "$data"; }
    size=$(du -m "$data" | cut -f1)
    printf '\n%-44s %12s %14s\n' "quality profile of $size MB ($QUALITY_ROWS rows)" "wall s" "peak RSS MiB"
    read -r lw lr < <(measure "$LUNLI" --format json audit quality "$data")
    printf '%-44s %12s %14s\n' "lunli audit quality" "$lw" "$lr"
    if [ -z "${SKIP_YDATA:-}" ]; then
        "$VENV/bin/python" -c "import ydata_profiling" 2>/dev/null || "$VENV/bin/pip" install -q ydata-profiling
        if result=$(measure timeout "${YDATA_TIMEOUT:-3600}" "$PY" "$BENCH_DIR/ydata_profile.py" "$data" "$BENCH_DIR/profile.json"); then
            read -r yw yr <<< "$result"
            printf '%-44s %12s %14s\n' "ydata-profiling (minimal)" "$yw" "$yr"
            awk -v yw="$yw" -v lw="$lw" -v yr="$yr" -v lr="$lr" \
                'BEGIN { printf "%-44s %11.0fx %13.0fx\n", "  lunli advantage (time, memory)", yw / lw, yr / lr }'
        else
            echo "ydata-profiling did not finish (timeout ${YDATA_TIMEOUT:-3600} s or error)"
        fi
    fi
fi
