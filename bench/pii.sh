#!/usr/bin/env bash
# Personal-information scanning: lunli against Microsoft Presidio on the same generated text.
#
#   1. generates a labelled corpus (lunli_pii::corpus, fixed seeds) of MB megabytes: Chinese and
#      English sentences with identifiers, look-alikes and identifiers whose check digit fails;
#   2. scans the whole file with lunli's text scanner (release build of the lunli-pii bench
#      example only, single thread) and reports MB/s;
#   3. scans the first SAMPLE_LINES lines with presidio-analyzer's pattern recognisers (no NLP
#      model: NoOpNlpEngine, since none can be downloaded) and reports MB/s;
#   4. reports recall per entity type both recognise, on that sample, for both tools
#      (lunli counts findings of confidence "likely" or "high"; Presidio any score).
#
#   bash bench/pii.sh [MB]          # default 100
#   SAMPLE_LINES=5000 bash bench/pii.sh 20
#
# Scanner speed only (no Presidio): the dense corpus above and ordinary prose (corpus::prose:
# Chinese and English paragraphs, a line of identifiers about every 10 KB), each of MB
# megabytes, scanned with one thread and with every core; MB/s of wall time and of CPU time
# (user + system, which a loaded machine disturbs less):
#
#   bash bench/pii.sh speed [MB]    # default 100
#
# With BASE set to a git revision, the driver is also built from that revision (extracted with
# `git archive` under $BENCH_DIR, its own target directory) and both are run on the same files,
# one after the other, so the table shows before and after:
#
#   BASE=7012502 bash bench/pii.sh speed 100
#
# "MB/s per core" is MB per CPU second of the process, all threads (perf's task-clock when
# `perf` is installed, else user + system time in clock ticks). Each figure is the best of RUNS
# runs (default 3): on a shared machine the other jobs only ever slow a run down.
#
# Needs: python3 with venv and pip (PyPI reachable: presidio-analyzer is installed into a virtual
# environment under $BENCH_DIR), cargo. Data and the environment live in $BENCH_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
MB="${1:-100}"
SAMPLE_LINES="${SAMPLE_LINES:-20000}"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/lunli/bench-pii}"
VENV="${VENV:-$BENCH_DIR/venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
mkdir -p "$BENCH_DIR"

echo "bench: building the lunli-pii bench driver (release)" >&2
cargo build -q --release -p lunli-pii --example pii_bench
DRIVER="$CARGO_TARGET_DIR/release/examples/pii_bench"

if [ "$MB" = speed ]; then
    MB="${2:-100}"
    THREADS="$(nproc)"
    DENSE="$BENCH_DIR/dense-${MB}mb.txt"
    PROSE="$BENCH_DIR/prose-${MB}mb.txt"
    echo "bench: generating $DENSE and $PROSE" >&2
    "$DRIVER" gen "$DENSE" "$MB" /dev/null 0 /dev/null
    "$DRIVER" prose "$PROSE" "$MB"
    RUNS="${RUNS:-3}"
    # One scan's JSON line; with perf, its CPU time is the task clock of every thread.
    measure() {
        if command -v perf >/dev/null; then
            local clock="$BENCH_DIR/task-clock.csv"
            local json
            json=$(perf stat -x, -e task-clock -o "$clock" "$1" scan "$2" "$3")
            python3 - "$json" "$clock" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
for line in open(sys.argv[2]):
    f = line.strip().split(",")
    if len(f) > 2 and f[2].startswith("task-clock"):
        r["cpu_seconds"] = float(f[0]) / 1000
        r["mb_per_cpu_s"] = r["bytes"] / 1e6 / r["cpu_seconds"]
print(json.dumps(r))
PY
        else
            "$1" scan "$2" "$3"
        fi
    }
    DRIVERS=("after=$DRIVER")
    if [ -n "${BASE:-}" ]; then
        BASE_SRC="$BENCH_DIR/base-$BASE"
        if [ ! -d "$BASE_SRC" ]; then
            mkdir -p "$BASE_SRC"
            git archive "$BASE" | tar -x -C "$BASE_SRC"
        fi
        # The same driver for both (it uses only the crate's public API), so they are measured alike.
        cp crates/lunli-pii/examples/pii_bench.rs "$BASE_SRC/crates/lunli-pii/examples/pii_bench.rs"
        echo "bench: building the driver of $BASE (release)" >&2
        (cd "$BASE_SRC" && CARGO_TARGET_DIR="$BENCH_DIR/base-target" cargo build -q --release -p lunli-pii --example pii_bench)
        DRIVERS=("before=$BENCH_DIR/base-target/release/examples/pii_bench" "${DRIVERS[@]}")
    fi
    RESULTS=""
    for corpus in dense prose; do
        for threads in 1 "$THREADS"; do
            for build in "${DRIVERS[@]}"; do
                echo "bench: $corpus, $threads thread(s), ${build%%=*}" >&2
                for _ in $(seq "$RUNS"); do
                    RESULTS+="$corpus ${build%%=*} $(measure "${build#*=}" "$BENCH_DIR/$corpus-${MB}mb.txt" "$threads")"$'\n'
                done
            done
        done
    done
    python3 - "$RESULTS" <<'PY'
import json, sys
best = {}
for line in sys.argv[1].splitlines():
    corpus, build, result = line.split(" ", 2)
    r = json.loads(result)
    key = (corpus, r["threads"], build)
    b = best.setdefault(key, dict(r))
    b["mb_per_s"] = max(b["mb_per_s"], r["mb_per_s"])
    b["mb_per_cpu_s"] = max(b["mb_per_cpu_s"], r["mb_per_cpu_s"])
    if b["findings"] != r["findings"]:
        sys.exit(f"{corpus}: findings differ between runs")
print(f"{'corpus':<7} {'MB':>5} {'build':<7} {'threads':>7} {'MB/s wall':>10} {'MB/s per core':>14} {'findings':>9}")
for (corpus, threads, build), r in best.items():
    print(f"{corpus:<7} {r['bytes']/1e6:>5.0f} {build:<7} {threads:>7} {r['mb_per_s']:>10.1f} {r['mb_per_cpu_s']:>14.1f} {r['findings']:>9}")
for corpus in ("dense", "prose"):
    counts = {r["findings"] for (c, _, _), r in best.items() if c == corpus}
    print(f"{corpus}: {'the same findings in every run' if len(counts) == 1 else 'FINDINGS DIFFER: ' + str(sorted(counts))}")
PY
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "bench: creating $VENV with presidio-analyzer from PyPI" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q presidio-analyzer
fi

CORPUS="$BENCH_DIR/corpus-${MB}mb.txt"
echo "bench: generating $CORPUS" >&2
"$DRIVER" gen "$CORPUS" "$MB" "$BENCH_DIR/sample.txt" "$SAMPLE_LINES" "$BENCH_DIR/labels.jsonl"

echo "bench: lunli on the whole corpus" >&2
LUNLI_SCAN=$("$DRIVER" scan "$CORPUS")
LUNLI_RECALL=$("$DRIVER" recall "$BENCH_DIR/sample.txt" "$BENCH_DIR/labels.jsonl")
echo "bench: presidio on the first $SAMPLE_LINES lines" >&2
PRESIDIO=$("$VENV/bin/python" "$ROOT/bench/presidio_scan.py" "$BENCH_DIR/sample.txt" "$BENCH_DIR/labels.jsonl" 2>/dev/null)

python3 - "$LUNLI_SCAN" "$LUNLI_RECALL" "$PRESIDIO" <<'PY'
import json, sys
scan, recall, presidio = (json.loads(a) for a in sys.argv[1:])
print(f"throughput   lunli {scan['mb_per_s']:>9.1f} MB/s on {scan['bytes']/1e6:.0f} MB   "
      f"presidio {presidio['mb_per_s']:>7.3f} MB/s on {presidio['bytes']/1e6:.1f} MB   "
      f"ratio {scan['mb_per_s']/presidio['mb_per_s']:.0f}x")
print(f"{'entity':<15} {'labelled':>8} {'lunli':>8} {'presidio':>8}")
worse = []
for entity, p in sorted(presidio["recall"].items()):
    l = recall[entity]
    lr, pr = l["found"] / l["labelled"], p["found"] / p["labelled"]
    if lr < pr:
        worse.append(entity)
    print(f"{entity:<15} {l['labelled']:>8} {lr:>8.3f} {pr:>8.3f}")
print("lunli recall >= presidio on every shared type" if not worse else f"lunli recall below presidio: {worse}")
PY
