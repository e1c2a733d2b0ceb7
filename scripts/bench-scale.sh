#!/usr/bin/env bash
# How the cost of one collection grows, each level against a peer measured at the same
# level in the same run (hyperfine, whole processes, page cache warm):
#
#   1. sockets: `aiposture --passive snapshot` vs `ss -tanp` with $SOCKET_LEVELS extra
#      established loopback sockets (default "100 1000 10000"), created and removed here;
#   2. model files: `aiposture --passive snapshot` of a `[models] roots` directory holding
#      $FILE_LEVELS GGUF files (default "10 100 1000 10000") of $FILE_KIB KiB each (64):
#      first run (empty hash cache: a fresh XDG_STATE_HOME every run) and second run (cache
#      warm), vs `sha256sum` over the same files.
#
#   RUNS       hyperfine runs per command and level (default 5; 1 warm-up run besides)
#   COLD_RUNS  runs of the first-snapshot comparison per level (default $RUNS; no warm-up:
#              the check run before it has already read every file once)
#   FILE_KIB   size of each model file (default 64)
#   OUT    file whose "scale" block is replaced (default BENCHMARKS.md)
#
# aiposture runs with HOME, XDG_STATE_HOME and its config in a temporary directory, so that
# the stores in the invoking user's home are not part of the curve.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SOCKET_LEVELS=${SOCKET_LEVELS:-100 1000 10000}
FILE_LEVELS=${FILE_LEVELS:-10 100 1000 10000}
FILE_KIB=${FILE_KIB:-64}
RUNS=${RUNS:-5}
COLD_RUNS=${COLD_RUNS:-$RUNS}
OUT=${OUT:-BENCHMARKS.md}

need=()
for c in hyperfine python3 ss sha256sum; do command -v "$c" >/dev/null || need+=("$c"); done
if ((${#need[@]})); then
  need=("${need[@]/ss/iproute2}")
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]/sha256sum/coreutils}" >/dev/null
fi
cargo build --release --locked -q
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$TARGET/release/aiposture
WORK=$(mktemp -d /var/tmp/aip-bench-scale.XXXXXX)
GEN=
cleanup() {
  [ -z "$GEN" ] || kill -- "-$GEN" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/home"
# The dashboard's stores in $HOME, the hash cache and the history all live under $WORK.
aip() { echo "env HOME=$WORK/home XDG_STATE_HOME=$WORK/$1 $BIN --passive --config $WORK/$2.toml snapshot"; }

max_level=0
for n in $SOCKET_LEVELS; do ((n > max_level)) && max_level=$n; done
if (($(ulimit -Hn) < max_level + 64)); then
  echo "fd hard limit $(ulimit -Hn) is below $((max_level + 64)): raise it to measure $max_level sockets" >&2
  exit 1
fi

cat >"$WORK/sockets.py" <<'PY'
import resource, socket, sys, time
pairs, ready = int(sys.argv[1]), sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1024)
keep = []
for _ in range(pairs):
    c = socket.create_connection(srv.getsockname()); a, _ = srv.accept(); keep += [c, a]
open(ready, "w").write("ready")
time.sleep(3600)
PY
printf '' >"$WORK/empty.toml"
for n in $SOCKET_LEVELS; do
  echo "[bench-scale] sockets: $n extra" >&2
  rm -f "$WORK/ready"
  setsid python3 "$WORK/sockets.py" "$((n / 2))" "$WORK/ready" &
  GEN=$!
  for _ in $(seq 600); do [ -s "$WORK/ready" ] && break; sleep 0.1; done
  [ -s "$WORK/ready" ] || { echo "socket generator did not start" >&2; exit 1; }
  ss -tan | tail -n +2 | wc -l >"$WORK/sock-$n.count"
  hyperfine -N -w 1 -r "$RUNS" --export-json "$WORK/sock-$n.json" \
    'ss -tanp' "$(aip state-sock empty)" >"$WORK/sock-$n.txt" 2>&1 ||
    { cat "$WORK/sock-$n.txt" >&2; exit 1; }
  kill -- "-$GEN"
  wait "$GEN" 2>/dev/null || true
  GEN=
done

echo "[bench-scale] writing $(echo "$FILE_LEVELS" | tr ' ' '\n' | sort -n | tail -1) GGUF files of $FILE_KIB KiB" >&2
for n in $FILE_LEVELS; do
  mkdir -p "$WORK/models-$n"
  printf '[models]\nroots = ["%s"]\n' "$WORK/models-$n" >"$WORK/files-$n.toml"
done
python3 - "$WORK" "$FILE_KIB" $FILE_LEVELS <<'PY'
import os, struct, sys
work, kib, levels = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]

def kv_str(key, val):
    k, v = key.encode(), val.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<I", 8) + struct.pack("<Q", len(v)) + v

# A GGUF v3 file: header, two metadata strings, no tensors, then distinct bytes to hash.
for n in levels:
    for i in range(n):
        head = b"GGUF" + struct.pack("<IQQ", 3, 0, 2)
        head += kv_str("general.architecture", "llama") + kv_str("general.name", f"scale {n} model {i}")
        with open(os.path.join(work, f"models-{n}", f"m{i:05}.gguf"), "wb") as f:
            f.write(head + os.urandom(max(0, (kib << 10) - len(head))))
PY

for n in $FILE_LEVELS; do
  echo "[bench-scale] model files: $n" >&2
  dir=$WORK/models-$n
  cat "$dir"/*.gguf >/dev/null
  # Every file must be found and hashed, or the curve measures something else.
  $(aip "check-$n" "files-$n") -o "$WORK/check-$n.json"
  python3 - "$WORK/check-$n.json" "$n" <<'PY'
import json, sys
files = json.load(open(sys.argv[1]))["inventory"]["store_files"]
hashed = sum(f.get("hash", {}).get("state") == "known" for f in files)
if len(files) != int(sys.argv[2]) or hashed != len(files):
    sys.exit(f"expected {sys.argv[2]} hashed model files, found {len(files)} ({hashed} hashed)")
PY
  hyperfine -N -r "$COLD_RUNS" --prepare "rm -rf $WORK/state-cold" --export-json "$WORK/cold-$n.json" \
    "sh -c 'sha256sum $dir/*.gguf'" "$(aip state-cold "files-$n")" >"$WORK/cold-$n.txt" 2>&1 ||
    { cat "$WORK/cold-$n.txt" >&2; exit 1; }
  hyperfine -N -w 1 -r "$RUNS" --export-json "$WORK/warm-$n.json" \
    "$(aip "check-$n" "files-$n")" >"$WORK/warm-$n.txt" 2>&1 ||
    { cat "$WORK/warm-$n.txt" >&2; exit 1; }
  rm -rf "$dir" "$WORK/check-$n" "$WORK/state-cold"
done

python3 - "$OUT" "$WORK" "$FILE_KIB" "$RUNS" "$SOCKET_LEVELS" "$FILE_LEVELS" "$COLD_RUNS" <<'PY'
import datetime, json, os, re, sys
out, work, kib, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
socket_levels = [int(x) for x in sys.argv[5].split()]
file_levels = [int(x) for x in sys.argv[6].split()]
cold_runs = int(sys.argv[7])

def means(name):
    return [r["mean"] for r in json.load(open(f"{work}/{name}.json"))["results"]]

def ms(s):
    return f"{s * 1000:.1f} ms" if s < 10 else f"{s:.2f} s"

rows, prev = [], None
for n in socket_levels:
    ss, aip = means(f"sock-{n}")
    count = int(open(f"{work}/sock-{n}.count").read())
    if prev:
        per = lambda a, b: f"{(a - b) * 1e6 / (n - prev[0]):.2f} ms"
        marg = f"{per(ss, prev[1])} | {per(aip, prev[2])}"
    else:
        marg = "– | –"
    rows.append(f"| {n:,} ({count:,}) | {ms(ss)} | {ms(aip)} | **{aip / ss:.2f}** | {marg} |")
    prev = (n, ss, aip)
sockets = "\n".join(rows)

rows, prev = [], None
for n in file_levels:
    sha, cold = means(f"cold-{n}")
    (warm,) = means(f"warm-{n}")
    if prev:
        per = lambda a, b: f"{(a - b) * 1000 / (n - prev[0]):.3f} ms"
        marg = f"{per(sha, prev[1])} | {per(cold, prev[2])} | {per(warm, prev[3])}"
    else:
        marg = "– | – | –"
    rows.append(
        f"| {n:,} | {ms(sha)} | {ms(cold)} | **{cold / sha:.2f}** | {ms(warm)} | {marg} |"
    )
    prev = (n, sha, cold, warm)
files = "\n".join(rows)

block = f"""<!-- scale:begin -->
## Scaling (`scripts/bench-scale.sh`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs)

Means of {runs} runs per command and level ({cold_runs} for the first `snapshot` and its
`sha256sum` peer); each level's peer is measured at that level.
`aiposture --passive snapshot` runs with an empty config, `HOME` and state in a temporary
directory (no stores of the invoking user). Ratios are aiposture's time over the peer's.
"per 1,000 sockets" and "per file" are marginal costs: the difference from the level in the
row above, divided by the added sockets or files.

### Sockets: `aiposture snapshot` vs `ss -tanp`

Extra established loopback sockets created by the script (TCP sockets on the host in brackets).

| extra sockets | `ss -tanp` | `aiposture snapshot` | ratio | ss per 1,000 sockets | aiposture per 1,000 sockets |
|---|---|---|---|---|---|
{sockets}

### Model files: `aiposture snapshot` vs `sha256sum`

GGUF v3 files of {kib} KiB (header with two metadata strings, then distinct bytes) in one
`[models] roots` directory, page-cached. First run: empty hash cache, every file found,
identified, parsed and hashed (one hashing worker per core; `sha256sum` is one process).
Second run: unchanged files, every hash from the cache.

| files | `sha256sum` | first `snapshot` | ratio | second `snapshot` | `sha256sum`, per file | first, per file | second, per file |
|---|---|---|---|---|---|---|---|
{files}
<!-- scale:end -->"""
text = open(out).read() if os.path.exists(out) else "# Benchmarks\n"
if "<!-- scale:begin -->" in text:
    text = re.sub(r"<!-- scale:begin -->.*<!-- scale:end -->", lambda _: block, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open(out, "w").write(text)
PY
echo "[bench-scale] wrote the scale block of $OUT" >&2
