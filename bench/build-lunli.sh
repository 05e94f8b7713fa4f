#!/usr/bin/env bash
# Builds the lunli binary a benchmark measures and prints its path.
#
#   bash bench/build-lunli.sh [release|dist]      # default: release
#
# `dist` is the shipped build (Cargo.toml's [profile.dist]: whole-program LTO, one code unit,
# optimised for size), linked with packed relative relocations (-z pack-relative-relocs: needs
# GNU ld >= 2.38 and glibc >= 2.36, as on Debian 12) so that start-up relocates a few KB instead
# of 2 MB. Where the linker refuses that flag, the plain dist link is used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lunli/target}"
profile="${1:-release}"
case "$profile" in
    # With the model benchmark's driver and the Ballista node in the same call: built apart, they
    # unify DataFusion's and tract's features differently, and whichever is built second
    # recompiles them (~15 min).
    release) cargo build -q --release -p lunli --bin lunli -p lunli-model --example model_bench \
        -p lunli-ballista-node --bin lunli-ballista-node ;;
    dist)
        echo "bench: building lunli (dist profile: LTO, a long link on few cores)" >&2
        cargo rustc -q --profile dist -p lunli --bin lunli -- -C link-arg=-Wl,-z,pack-relative-relocs \
            || { echo "bench: linking with packed relocations failed; plain dist link" >&2; cargo build -q --profile dist -p lunli; } ;;
    *) echo "bench: unknown profile '$profile' (release or dist)" >&2; exit 2 ;;
esac
echo "$CARGO_TARGET_DIR/$profile/lunli"
