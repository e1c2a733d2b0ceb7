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
#   FUZZ_REPORT            1 (default) rewrites the results table in fuzz/README.md
#   FUZZ_REPORT_ONLY       1: run nothing, rebuild the table from the last run's logs
#                          (after targets were run in several invocations)
#
# A crash leaves its input under fuzz/artifacts/<target>/ and stops the run with a
# non-zero status. Each target starts from fuzz/seeds/<target>/ (checked in, copied from
# tests/fixtures) plus $AIPOSTURE_FUZZ_CACHE/corpus/<target>/, minimised with `cargo fuzz
# cmin` after each run, so what one run learnt is where the next one starts. The corpus
# lives in the cache, not in git: about 40 MB for all targets.
#
# Per target the table gives executions, executions per second, and coverage as libFuzzer
# counts it: `cov` edges reached out of the instrumented edges of the whole binary
# (aiposture, its dependencies and the target; most of it unreachable from one parser),
# `ft` features (edge and hit-count pairs), and the corpus size after minimisation.
set -euo pipefail

SECS=${1:-60}
shift || true
CACHE=${AIPOSTURE_FUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-fuzz}
VERSION=${CARGO_FUZZ_VERSION:-0.13.2}
SANITIZER=${FUZZ_SANITIZER:-address}
JOBS=${FUZZ_JOBS:-1}
REPORT=${FUZZ_REPORT:-1}
CORPUS=$CACHE/corpus
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

if [ "${FUZZ_REPORT_ONLY:-0}" = 1 ]; then
  targets_to_run=()
else
  targets_to_run=("${targets[@]}")
fi
log "building ${targets_to_run[*]} (sanitizer: $SANITIZER)"
if [ "${#targets_to_run[@]}" -eq 0 ]; then
  :
elif [ "$#" -eq 0 ]; then
  # One cargo invocation for every target: the instrumented crate is built once.
  cargo fuzz build -s "$SANITIZER"
else
  for t in "${targets[@]}"; do
    cargo fuzz build -s "$SANITIZER" "$t"
  done
fi

row() {
  local t=$1 log=$CACHE/$1.log execs rate rss edges last cov ft files kib secs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  edges=$(sed -n 's/^INFO: Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  files=$(find "$CORPUS/$t" -type f | wc -l)
  kib=$(du -sk "$CORPUS/$t" | cut -f1)
  echo "| \`$t\` | ${secs:-?} s | ${execs:-?} | ${rate:-?} | ${cov:-?} / ${edges:-?} | ${ft:-?} | $files files, $kib KiB | ${rss:-?} MB |"
}

rows=()
for t in "${targets_to_run[@]}"; do
  mkdir -p "$CORPUS/$t"
  log "running $t for ${SECS}s"
  # -print_final_stats=1: the summary (execs, exec/s) ends up in the log.
  # -jobs makes libFuzzer write to fuzz-N.log files: only asked for when > 1.
  par=()
  if [ "$JOBS" -gt 1 ]; then par=(-jobs="$JOBS" -workers="$JOBS"); fi
  cargo fuzz run -s "$SANITIZER" "$t" "$CORPUS/$t" "seeds/$t" -- \
    -max_total_time="$SECS" -print_final_stats=1 "${par[@]}" \
    -max_len=65536 -rss_limit_mb=2048 -timeout=10 2>&1 | tee "$CACHE/$t.log" |
    grep -E '^(Done [0-9]+ runs|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' || true
  if grep -q 'Test unit written\|SUMMARY: \|deadly signal' "$CACHE/$t.log"; then
    log "$t crashed: see $CACHE/$t.log and fuzz/artifacts/$t/"
    exit 1
  fi
  # Keep the smallest corpus that reaches the same coverage.
  cargo fuzz cmin -s "$SANITIZER" "$t" "$CORPUS/$t" >"$CACHE/$t.cmin.log" 2>&1 ||
    log "$t: cmin failed (corpus kept as it is): $CACHE/$t.cmin.log"
  rows+=("$(row "$t")")
done
if [ "${FUZZ_REPORT_ONLY:-0}" = 1 ]; then
  for t in "${targets[@]}"; do rows+=("$(row "$t")"); done
else
  log "all targets ran ${SECS}s without a crash; logs in $CACHE"
fi

table=$(
  printf 'Run of %s UTC (table written), sanitizer %s, %s CPUs, %s.\n\n' \
    "$(date -u '+%Y-%m-%d %H:%M')" "$SANITIZER" "$(nproc)" "$("$CACHE/bin/cargo-fuzz" --version)"
  echo '| target | time | executions | exec/s | cov (edges reached / instrumented) | ft | corpus after cmin | peak RSS |'
  echo '| --- | --- | --- | --- | --- | --- | --- | --- |'
  printf '%s\n' "${rows[@]}"
)
printf '%s\n' "$table"
if [ "$REPORT" = 1 ] && [ "$#" -eq 0 ]; then
  # Only a run of every target replaces the table.
  python3 - "$ROOT/fuzz/README.md" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- fuzz:begin -->", "<!-- fuzz:end -->"
block = f"{begin}\n{table}\n{end}"
if begin in text:
    head, rest = text.split(begin, 1)
    text = head + block + rest.split(end, 1)[1]
else:
    text = text.rstrip() + "\n\n## Results\n\n" + block + "\n"
open(path, "w").write(text)
PY
fi
