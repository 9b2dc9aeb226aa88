#!/usr/bin/env bash
# The long fuzzing run, outside CI's 60-second smoke (scripts/test.sh): each
# target in turn to RUNS executions, or FUZZ_MAX_SECS seconds, whichever
# comes first, one libFuzzer process at a time (no -jobs or -workers) and
# at `nice -n 10`, so a machine doing other work keeps most of its CPU.
#   scripts/fuzz.sh [RUNS] [TARGET...]
#     RUNS           executions per target (default 10000000)
#     TARGET         open_payload open_sealed create_request callback_request
#                    slack_interaction (default: all five)
#     FUZZ_MAX_SECS  wall-clock bound per target in seconds (default 3600)
# The corpus grows under fuzz/corpus/<target>, crash inputs land under
# fuzz/artifacts/<target>/ (both ignored by git), and each run's output goes
# to target/fuzz-<target>-long.log. It ends with one table row per target
# (also written to target/fuzz-long-summary.md) and exits non-zero if any
# target crashed, naming the artifact.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(open_payload open_sealed create_request callback_request slack_interaction)
runs="${1:-10000000}"
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -eq 0 ]; then
  echo "usage: $0 [RUNS] [TARGET...]   (RUNS a positive integer, got '$runs')" >&2
  exit 2
fi
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=("${all_targets[@]}")
fi
for target in "${targets[@]}"; do
  if [ ! -f "fuzz/fuzz_targets/$target.rs" ]; then
    echo "no fuzz target '$target' (have: ${all_targets[*]})" >&2
    exit 2
  fi
done
max_secs="${FUZZ_MAX_SECS:-3600}"
if ! [[ "$max_secs" =~ ^[0-9]+$ ]] || [ "$max_secs" -eq 0 ]; then
  echo "FUZZ_MAX_SECS must be a positive integer, got '$max_secs'" >&2
  exit 2
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
mkdir -p target

# One build of every target first, then the built binaries run directly with
# the arguments `cargo fuzz run` gives them (the artifact prefix, the corpus
# directory, ASan's detect_odr_violation=0). `cargo fuzz run` would rebuild
# whenever src/ changed during a run of hours, putting minutes of build into
# a target's seconds, or failing midway on a half-finished edit; this way
# every target fuzzes the same build and the seconds are fuzzing only.
# cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
echo "== building the fuzz targets (cargo fuzz build -O) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ', src/ with uncommitted changes')"
for target in "${targets[@]}"; do
  (cd fuzz && RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz build -O "$target")
done
host="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="fuzz/target/$host/release"

asan_opts="${ASAN_OPTIONS:-}"
asan_opts="${asan_opts:+$asan_opts:}detect_odr_violation=0"

rows=()
crashed=()
for target in "${targets[@]}"; do
  log="target/fuzz-$target-long.log"
  corpus="fuzz/corpus/$target"
  artifacts="fuzz/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  echo "== $target: up to $runs runs or $max_secs s (log: $log)"
  start=$(date +%s.%N)
  status=0
  ASAN_OPTIONS="$asan_opts" nice -n 10 "$bin_dir/$target" \
    -artifact_prefix="$artifacts/" -runs="$runs" -max_total_time="$max_secs" -rss_limit_mb=4096 \
    -print_final_stats=1 "$corpus" >"$log" 2>&1 || status=$?
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  # Runs done: libFuzzer's final count, else (a crash) its last status line.
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [ -z "$done_runs" ]; then
    done_runs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)
  fi
  done_runs="${done_runs:-0}"
  execs=$(awk -v r="$done_runs" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{ t += $1 } END { print t + 0 }')
  if [ "$status" -ne 0 ]; then
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    stopped="crash (exit $status): ${artifact:-no artifact written, see $log}"
    crashed+=("$target: exit $status, artifact ${artifact:-none}, log $log")
    tail -n 40 "$log"
  elif [ "$done_runs" -ge "$runs" ]; then
    stopped="runs"
  else
    stopped="time"
  fi
  row="| $target | $done_runs | $secs | $execs | $files | $bytes | $stopped |"
  rows+=("$row")
  echo "$row"
done

{
  echo "| target | runs | seconds | exec/s | corpus files | corpus bytes | stopped on |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
} | tee target/fuzz-long-summary.md

if [ "${#crashed[@]}" -gt 0 ]; then
  echo "fuzzing found crashes (reproduce with: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O <target> <artifact>):" >&2
  printf '  %s\n' "${crashed[@]}" >&2
  exit 1
fi
