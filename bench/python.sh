#!/usr/bin/env bash
# lunli's Python package beside Fairlearn in one process: the same group metrics of a
# DataFrame already in memory, 1 M and 10 M rows; wall time and growth of the peak RSS.
#
#   bash bench/python.sh [debug|release]        # default: release
#
# Makes a virtual environment under the build directory with the pinned test requirements and
# Fairlearn, builds the wheel with maturin and runs bench/python_fairness.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
profile="${1:-release}"
venv="$CARGO_TARGET_DIR/lunli-py-bench-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet -r crates/lunli-py/tests/requirements.txt fairlearn==0.15.0
fi
wheels="$CARGO_TARGET_DIR/lunli-py-bench-wheels"
rm -rf "$wheels"
flags=()
[ "$profile" = release ] && flags+=(--release)
"$venv/bin/maturin" build --quiet "${flags[@]}" --compatibility linux \
    --manifest-path crates/lunli-py/Cargo.toml --interpreter "$venv/bin/python" --out "$wheels" >&2
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$wheels"/*.whl
echo "wheel: $profile build; $(nproc) cores" >&2
for rows in 1000000 10000000; do
    for tool in lunli fairlearn; do
        "$venv/bin/python" bench/python_fairness.py "$tool" "$rows"
    done
done
