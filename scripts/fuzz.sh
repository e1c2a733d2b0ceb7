#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS_PER_TARGET (default 60) on the
# stable toolchain. cargo-fuzz needs nightly-only flags (-Z sanitizer, -C passes);
# RUSTC_BOOTSTRAP=1 lets stable accept them, so no nightly download is needed.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
#   AIPOSTURE_FUZZ_CACHE   where cargo-fuzz is installed (default ${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-fuzz)
#   CARGO_FUZZ_VERSION     cargo-fuzz to install (default 0.13.2)
#   FUZZ_SANITIZER         address (default) or none; `none` when the sanitizer runtime is missing
#   FUZZ_JOBS              parallel fuzzing processes per target (default 1)
#   FUZZ_TARGET_DIR        build directory (default fuzz/target)
#
# A crash leaves its input under fuzz/artifacts/<target>/ and stops the run with a
# non-zero status. Each target starts from fuzz/seeds/<target>/ (checked in, copied from
# tests/fixtures) plus what earlier runs added to fuzz/corpus/<target>/ (ignored by git).
set -euo pipefail

SECS=${1:-60}
shift || true
CACHE=${AIPOSTURE_FUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-fuzz}
VERSION=${CARGO_FUZZ_VERSION:-0.13.2}
SANITIZER=${FUZZ_SANITIZER:-address}
JOBS=${FUZZ_JOBS:-1}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '[fuzz %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

mkdir -p "$CACHE"
if ! "$CACHE/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $VERSION\$"; then
  log "installing cargo-fuzz $VERSION into $CACHE"
  CARGO_TARGET_DIR="$CACHE/build" cargo install --locked --root "$CACHE" --version "$VERSION" cargo-fuzz
fi
export PATH="$CACHE/bin:$PATH"
export RUSTC_BOOTSTRAP=1
# Instrumented builds never share the main target directory (other flags, other lock).
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}

cd "$ROOT/fuzz"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

log "building ${targets[*]} (sanitizer: $SANITIZER)"
for t in "${targets[@]}"; do
  cargo fuzz build -s "$SANITIZER" "$t"
done

for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log "running $t for ${SECS}s"
  # -print_final_stats=1: the summary (execs, exec/s) ends up in the log.
  # -jobs makes libFuzzer write to fuzz-N.log files: only asked for when > 1.
  par=()
  if [ "$JOBS" -gt 1 ]; then par=(-jobs="$JOBS" -workers="$JOBS"); fi
  cargo fuzz run -s "$SANITIZER" "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$SECS" -print_final_stats=1 "${par[@]}" \
    -max_len=65536 -rss_limit_mb=2048 -timeout=10 2>&1 | tee "$CACHE/$t.log" |
    grep -E '^(Done [0-9]+ runs|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' || true
  if grep -q 'Test unit written\|SUMMARY: \|deadly signal' "$CACHE/$t.log"; then
    log "$t crashed: see $CACHE/$t.log and fuzz/artifacts/$t/"
    exit 1
  fi
done
log "all targets ran ${SECS}s without a crash; logs in $CACHE"
