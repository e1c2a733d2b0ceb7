#!/usr/bin/env bash
# Timeline benchmarks, whole process, each against its own "off" case measured in
# the same run:
#
#   1. watching $FILES files in $DIRS model directories: the kernel's inotify watch
#      count (fdinfo of aiposture's inotify fd) and aiposture's RSS, with
#      `[timeline] watch = true` vs `false`;
#   2. the cost of history per refresh: `aiposture snapshot` (diff against the last
#      observation + one SQLite transaction) vs `aiposture snapshot --no-history`.
#
# Results replace the "timeline" block of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FILES=${FILES:-10000}
DIRS=${DIRS:-100}
OUT=${OUT:-BENCHMARKS.md}

command -v hyperfine >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
}
cargo build --release --locked -q
# Honours CARGO_TARGET_DIR and build.target-dir.
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$TARGET/release/aiposture
WORK=$(mktemp -d /var/tmp/aip-bench-timeline.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

echo "[bench-timeline] $FILES files in $DIRS directories" >&2
python3 - "$WORK/models" "$FILES" "$DIRS" <<'PY'
import os, sys
root, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(dirs):
    p = os.path.join(root, f"d{d:03}")
    os.makedirs(p, exist_ok=True)
    for i in range(files // dirs):
        with open(os.path.join(p, f"f{i:04}.bin"), "wb") as f:
            f.write(b"not a model " + str(i).encode())
PY

# Runs `aiposture watch` with watching on or off; prints "<watches> <rss KiB>".
measure_watch() {
  local on=$1 cfg=$WORK/watch-$1.toml err=$WORK/watch-$1.err
  printf 'interval = "10m"\n[models]\nroots = ["%s"]\n[timeline]\ndir = "%s"\nwatch = %s\n' \
    "$WORK/models" "$WORK/state-$on" "$on" >"$cfg"
  "$BIN" --passive --config "$cfg" watch >/dev/null 2>"$err" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 600); do grep -q "inotify watches" "$err" && break; sleep 0.1; done
  local watches rss
  watches=$(grep -o '[0-9]* inotify watches' "$err" | cut -d' ' -f1)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"
  echo "$watches $rss"
}
read -r watches_on rss_on < <(measure_watch true)
read -r watches_off rss_off < <(measure_watch false)
max_watches=$(cat /proc/sys/fs/inotify/max_user_watches)

echo "[bench-timeline] history on vs off" >&2
printf '[timeline]\ndir = "%s"\n' "$WORK/state-hyperfine" >"$WORK/history.toml"
"$BIN" --passive --config "$WORK/history.toml" snapshot --no-hash-wait >/dev/null
hyperfine -N -w 2 -r 15 --export-json "$WORK/history.json" \
  "$BIN --passive --config $WORK/history.toml snapshot --no-hash-wait --no-history" \
  "$BIN --passive --config $WORK/history.toml snapshot --no-hash-wait" >&2
read -r off_mean on_mean < <(python3 - "$WORK/history.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(r[0]["mean"], r[1]["mean"])
PY
)

python3 - "$OUT" <<PY
import datetime, os, re, sys
block = f"""<!-- timeline:begin -->
## Timeline (\`scripts/bench-timeline.sh\`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs)

### Watching $FILES files in $DIRS model directories

inotify watches one directory, not one file: the kernel's count is read from the fdinfo
of aiposture's inotify descriptor, RSS from /proc/PID/status, after the first refresh.

| \`[timeline] watch\` | inotify watches | RSS |
|---|---|---|
| false | $watches_off | {$rss_off/1024:.1f} MiB |
| true | **$watches_on** (limit {$max_watches:,}) | {$rss_on/1024:.1f} MiB |

RSS difference with watching on: **{($rss_on-$rss_off)/1024:+.1f} MiB** (one inotify fd, a
debouncer thread and a path map: within run-to-run noise here); the kernel's own memory for
the watches is charged to the user, outside RSS.

### History per refresh: diff + one SQLite transaction

| command | mean | ratio |
|---|---|---|
| \`aiposture snapshot --no-history\` | {$off_mean*1000:.1f} ms | 1.00 |
| \`aiposture snapshot\` (diff vs last, record) | {$on_mean*1000:.1f} ms | **{$on_mean/$off_mean:.2f}** |

Micro-benchmarks of the diff and of one observation: \`cargo bench --bench timeline\`.
<!-- timeline:end -->"""
text = open(sys.argv[1]).read() if os.path.exists(sys.argv[1]) else "# Benchmarks\n"
if "<!-- timeline:begin -->" in text:
    text = re.sub(r"<!-- timeline:begin -->.*<!-- timeline:end -->", lambda _: block, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open(sys.argv[1], "w").write(text)
PY
echo "[bench-timeline] wrote $OUT" >&2
