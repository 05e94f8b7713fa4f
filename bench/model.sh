#!/usr/bin/env bash
# `lunli audit model` against scikit-learn + onnxruntime on the same ONNX model and the same rows:
# predictions per second, and the time of the full audit (performance by group, six
# perturbations, counterfactual flips of sex and race, permutation importance with 5 repeats of
# 14 features), on ROWS rows × 14 features resampled from the Adult test set.
#
#   bash bench/model.sh [ROWS]              # default 1000000
#   PROFILE=debug bash bench/model.sh 100000
#
# Needs: python3 with venv and pip (PyPI: onnxruntime, pandas, numpy into $BENCH_DIR/venv-model),
# /usr/bin/time, cargo. Data lives in $BENCH_DIR (default /tmp/lunli-bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
SHARED="$ROOT/../shared/data"
BENCH_DIR="${BENCH_DIR:-/tmp/lunli-bench}"
VENV="${VENV:-$BENCH_DIR/venv-model}"
ROWS="${1:-1000000}"
PROFILE="${PROFILE:-release}"
MODEL="$ROOT/examples/credit-scoring/model/model.onnx"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
mkdir -p "$BENCH_DIR"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q onnxruntime pandas numpy
fi
PY="$VENV/bin/python"

DATA="$BENCH_DIR/adult-model-$ROWS.csv"
if [ ! -f "$DATA" ]; then
    "$PY" - "$SHARED/adult/adult.test.csv" "$DATA" "$ROWS" <<'PYEOF'
import sys
import pandas as pd
src, out, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
frame = pd.read_csv(src, skipinitialspace=True, dtype=str)
frame.columns = [c.strip().replace("-", "_") for c in frame.columns]
frame["income"] = frame.pop("Y").str.rstrip(".").eq(">50K").astype(int)
frame.sample(n=rows, replace=True, random_state=0).to_csv(out, index=False)
PYEOF
fi

if [ "$PROFILE" = release ]; then
    # The release build every bench shares (it builds the driver too; see build-lunli.sh).
    LUNLI=$(bash bench/build-lunli.sh release)
else
    cargo build -q -p lunli --bin lunli -p lunli-model --example model_bench
    LUNLI="$CARGO_TARGET_DIR/$PROFILE/lunli"
fi
BENCH="$CARGO_TARGET_DIR/$PROFILE/examples/model_bench"

echo "== $ROWS rows × 14 features, $(nproc) cores, lunli $PROFILE build"
echo "-- predictions per second"
echo -n "lunli (tract):        "; "$BENCH" "$MODEL" "$DATA"
echo -n "onnxruntime:          "; "$PY" bench/model.py predict "$MODEL" "$DATA"
echo "-- full audit"
start=$(date +%s.%N)
"$LUNLI" --data-dir "$BENCH_DIR/lunli-data" audit model "$MODEL" "$DATA" --label income --sensitive sex,race \
    --format json > "$BENCH_DIR/model-report.json"
end=$(date +%s.%N)
echo "lunli audit model:    $(echo "$end - $start" | bc) s"
echo -n "python (ort+pandas):  "; "$PY" bench/model.py audit "$MODEL" "$DATA"
