#!/usr/bin/env bash
# A bounded load soak: `serve` in front of a stub Step Functions on loopback,
# at a steady rate. Prints a Markdown section on stdout (build output goes to
# stderr) and fails on any error or if the server's RSS at the end is more
# than 10% above its RSS after warm-up. Settings, with their defaults:
#   SOAK_SECONDS=120 SOAK_RATE=500 SOAK_WARMUP_SECONDS=20 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"

echo "== release build" >&2
cargo build --release --locked --bin sfn-callbacks >&2
# The soak measures what `cargo build --release` made: `cargo bench` builds
# the binary again in the bench profile, into the same place (bench.sh says
# more).
mkdir -p "$target/measured"
ln -f "$target/release/sfn-callbacks" "$target/measured/sfn-callbacks"
echo "== soak: ${SOAK_RATE:-500} requests/s for ${SOAK_SECONDS:-120} s after ${SOAK_WARMUP_SECONDS:-20} s of warm-up" >&2
SFN_CALLBACKS_BIN="$target/measured/sfn-callbacks" cargo bench --locked --bench soak
