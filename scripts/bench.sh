#!/usr/bin/env bash
# Whole-process figures against peers measured in the same run, written to
# BENCHMARKS.md. Ratios, not absolute times: machines are noisy.
#
#   1. `aiposture snapshot` vs `ss -tanp`, with $PROCS (1,000) extra idle processes and
#      2 × $SOCKET_PAIRS (10,000) extra loopback sockets that this script creates and
#      removes: wall time (hyperfine) and peak RSS (GNU time, median of $RSS_RUNS (5) runs);
#   2. idle CPU and RSS of the dashboard vs `htop -d 20` over $IDLE_SECS seconds (default 60),
#      both 120×40 in tmux, under the same load;
#   3. cold start to first frame, dashboard vs htop, both in a 120×40 pty, $FRAME_RUNS (20)
#      alternating runs each (scripts/first-frame.py), under the same load;
#   4. wall time the loopback probes add to one collection, with $PROBE_SERVERS (20)
#      real llama-servers listening (active `snapshot` vs `snapshot --passive`);
#   5. with ALL=1 (default), then scripts/bench-models.sh (hashing vs openssl and sha256sum,
#      pickle scanning vs picklescan and fickling), scripts/bench-timeline.sh and
#      scripts/bench-scale.sh (100 → 10,000 sockets, 10 → 10,000 model files), each
#      replacing its own marked block of $OUT with its defaults; ALL=0 runs 1–4 only.
#
# Needs an fd hard limit above 2 × SOCKET_PAIRS, hyperfine, htop, tmux, GNU time
# (installed if missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IDLE_SECS=${IDLE_SECS:-60}
PROCS=${PROCS:-1000}
SOCKET_PAIRS=${SOCKET_PAIRS:-5000}
OUT=${OUT:-BENCHMARKS.md}
PROBE_SERVERS=${PROBE_SERVERS:-20}
RSS_RUNS=${RSS_RUNS:-5}
FRAME_RUNS=${FRAME_RUNS:-20}
ALL=${ALL:-1}

need=()
for c in hyperfine htop tmux python3 ss; do command -v "$c" >/dev/null || need+=("$c"); done
[ -x /usr/bin/time ] || need+=(time)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]/ss/iproute2}" >/dev/null
fi
cargo build --release --locked -q
# Honours CARGO_TARGET_DIR and build.target-dir.
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$TARGET/release/aiposture
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  tmux -L aip-bench kill-server 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# Median over $RSS_RUNS runs of the command's peak RSS in KiB (GNU time's %M: ru_maxrss).
peak_rss() {
  for _ in $(seq "$RSS_RUNS"); do
    /usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$WORK/rss"
  done | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

echo "[bench] starting $PROCS idle processes and $((SOCKET_PAIRS * 2)) loopback sockets" >&2
base_procs=$(ls /proc | grep -c '^[0-9]')
setsid bash -c "for i in \$(seq $PROCS); do sleep 3600 & done; wait" &
PIDS+=($!)
for _ in $(seq 600); do
  [ "$(ls /proc | grep -c '^[0-9]')" -ge $((base_procs + PROCS)) ] && break
  sleep 0.1
done
cat >"$WORK/sockets.py" <<PY
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1024)
keep = []
for _ in range($SOCKET_PAIRS):
    c = socket.create_connection(srv.getsockname()); a, _ = srv.accept(); keep += [c, a]
open(sys.argv[1], "w").write("ready")
time.sleep(3600)
PY
setsid python3 "$WORK/sockets.py" "$WORK/ready" &
PIDS+=($!)
for _ in $(seq 600); do [ -s "$WORK/ready" ] && break; sleep 0.1; done
[ -s "$WORK/ready" ] || { echo "socket generator did not start" >&2; exit 1; }
procs=$(ls /proc | grep -c '^[0-9]')
socks=$(ss -tan | tail -n +2 | wc -l)

echo "[bench] snapshot vs ss -tanp ($procs processes, $socks TCP sockets)" >&2
hyperfine -N -w 3 -r 20 --export-json "$WORK/snap.json" \
  'ss -tanp' "$BIN snapshot" >"$WORK/hyperfine.txt" 2>&1
read -r ss_mean snap_mean < <(python3 - "$WORK/snap.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(r[0]["mean"], r[1]["mean"])
PY
)
echo "[bench] peak RSS, median of $RSS_RUNS runs each" >&2
ss_rss_kib=$(peak_rss ss -tanp)
snap_rss_kib=$(peak_rss "$BIN" snapshot)

echo "[bench] idle CPU over ${IDLE_SECS}s: dashboard vs htop -d 20" >&2
# exec: the pane's process is the program itself, not a shell (and not another
# user's aiposture that a name lookup could find).
tmux -L aip-bench -f /dev/null new-session -d -x 120 -y 40 -s dash "exec $BIN --config /dev/null"
tmux -L aip-bench new-session -d -x 120 -y 40 -s htop "exec htop -d 20"
sleep 3
dash_pid=$(tmux -L aip-bench list-panes -t dash -F '#{pane_pid}')
htop_pid=$(tmux -L aip-bench list-panes -t htop -F '#{pane_pid}')
d0=$(cpu_ticks "$dash_pid"); h0=$(cpu_ticks "$htop_pid")
sleep "$IDLE_SECS"
d1=$(cpu_ticks "$dash_pid"); h1=$(cpu_ticks "$htop_pid")
rss_kib=$(status_kib "$dash_pid" VmRSS); hwm_kib=$(status_kib "$dash_pid" VmHWM)
htop_rss_kib=$(status_kib "$htop_pid" VmRSS); htop_hwm_kib=$(status_kib "$htop_pid" VmHWM)
hz=$(getconf CLK_TCK)
tmux -L aip-bench kill-server 2>/dev/null || true

echo "[bench] cold start to first frame: $FRAME_RUNS runs each, alternating, 120×40 pty" >&2
# htop's first frame already lists processes; the dashboard's first frame says
# "collecting…" and the header's score line appears once the first collection is in.
for _ in $(seq "$FRAME_RUNS"); do
  TERM=xterm-256color python3 scripts/first-frame.py --runs 1 \
    --marker 'frame=F10\s*Quit' -- htop -d 20 >>"$WORK/frame-htop.jsonl"
  TERM=xterm-256color python3 scripts/first-frame.py --runs 1 \
    --marker 'frame=Ctrl-l\s*refresh' --marker 'data=score\s*\d+\s*│' \
    -- "$BIN" --config /dev/null >>"$WORK/frame-aip.jsonl"
done
read -r frame_htop frame_aip data_aip < <(python3 - "$WORK" <<'PY'
import json, statistics, sys
def med(prog, marker):
    return statistics.median(json.loads(l)["markers"][marker][0] for l in open(f"{sys.argv[1]}/frame-{prog}.jsonl"))
print(med("htop", "frame"), med("aip", "frame"), med("aip", "data"))
PY
)
for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
PIDS=()

echo "[bench] probes: $PROBE_SERVERS llama-servers, active vs passive snapshot" >&2
eval "$(bash scripts/test-deps.sh)"
for i in $(seq "$PROBE_SERVERS"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  setsid "$AIPOSTURE_LLAMA_SERVER" -m "$AIPOSTURE_TINY_GGUF" --host 127.0.0.1 --port "$port" \
    -c 256 -t 1 --no-warmup >/dev/null 2>&1 &
  PIDS+=($!)
done
for p in "${PIDS[@]}"; do
  for _ in $(seq 300); do grep -q tiny-llama "/proc/$p/maps" 2>/dev/null && break; sleep 0.1; done
done
hyperfine -N -w 2 -r 10 --export-json "$WORK/probe.json" \
  "$BIN snapshot --passive" "$BIN snapshot" >"$WORK/probe.txt" 2>&1
read -r passive_mean active_mean < <(python3 - "$WORK/probe.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(r[0]["mean"], r[1]["mean"])
PY
)

python3 - "$OUT" <<PY
import sys, datetime, platform, os, re
# Marked blocks (micro-benchmarks, models, timeline, scale) are written elsewhere: keep them.
old = open(sys.argv[1]).read() if os.path.exists(sys.argv[1]) else ""
models_block = "".join("\\n" + m.group(0) + "\\n" for m in re.finditer(r"<!-- (\\w+):begin -->.*?<!-- \\1:end -->", old, re.S))

ss, snap = $ss_mean, $snap_mean
ss_rss, snap_rss = $ss_rss_kib, $snap_rss_kib
f_htop, f_aip, d_aip = $frame_htop, $frame_aip, $data_aip
d, h, hz, secs = $d1 - $d0, $h1 - $h0, $hz, $IDLE_SECS
def pct(t): return 100.0 * t / hz / secs
with open(sys.argv[1], "w") as f:
    f.write(f"""# Benchmarks

Produced by \`scripts/bench.sh\` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC,
{os.cpu_count()} CPUs, kernel {platform.release()}. Every figure is a ratio against a peer
measured in the same run on the same host; absolute times are given for scale only.

What is compared: one collection vs \`ss -tanp\` (time and peak RSS), the idle dashboard vs
\`htop\` (CPU, RSS), cold start to first frame vs \`htop\`, the cost of loopback probes;
below, in blocks each written by its own script (\`scripts/bench.sh\` runs all of them but
the micro-benchmarks, which are \`cargo bench\` figures): micro-benchmarks, model files (hashing vs \`openssl dgst -sha256\` and
\`sha256sum\`, pickle scanning vs picklescan and fickling), the timeline, and how the cost
grows from 100 to 10,000 sockets and from 10 to 10,000 model files.

## One collection: \`aiposture snapshot\` vs \`ss -tanp\`

Load added by the script: $PROCS idle processes, $((SOCKET_PAIRS * 2)) established loopback
sockets ({int("$procs")} processes and {int("$socks")} TCP sockets on the host during the run).
\`aiposture snapshot\` does more than \`ss -tanp\` (command lines of every process, signature
matching, JSON output) and the same fd walk; no model hashing.

| command | mean | ratio to ss -tanp | peak RSS | ratio to ss -tanp |
|---|---|---|---|---|
| \`ss -tanp\` | {ss*1000:.1f} ms | 1.00 | {ss_rss/1024:.1f} MiB | 1.00 |
| \`aiposture snapshot\` | {snap*1000:.1f} ms | **{snap/ss:.2f}** | {snap_rss/1024:.1f} MiB | **{snap_rss/ss_rss:.2f}** |

Goal for time: ≤ 1.5× now, ≤ 1.0× later. Peak RSS: GNU time's maximum resident set size,
median of $RSS_RUNS runs each.

## Idle dashboard vs \`htop -d 20\` ({secs} s, both 120×40 in tmux)

Same load as above.

| program | CPU time | CPU % | RSS at the end | peak RSS |
|---|---|---|---|---|
| \`htop -d 20\` | {h/hz:.2f} s | {pct(h):.2f}% | {$htop_rss_kib/1024:.1f} MiB | {$htop_hwm_kib/1024:.1f} MiB |
| \`aiposture\` (refresh every 2 s) | {d/hz:.2f} s | {pct(d):.2f}% | {$rss_kib/1024:.1f} MiB | {$hwm_kib/1024:.1f} MiB |

Ratio of CPU time, aiposture / htop: **{(d / h) if h else float('nan'):.2f}**; of RSS at the
end: **{$rss_kib/$htop_rss_kib:.2f}**
(htop redraws every 2 s with \`-d 20\`; aiposture collects every 2 s and redraws only on change).

## Cold start to first frame vs \`htop -d 20\` (120×40 pty, {$FRAME_RUNS} runs each)

"Cold" means a new process each run, not an empty page cache. \`scripts/first-frame.py\` forks
the program on a fresh 120×40 pseudo-terminal and times from the fork to the first output
that holds the frame's last row (htop's \`F10Quit\`, the dashboard's key line), and for the
dashboard also to the header line that only a finished collection draws. htop collects
before its first frame, so its first frame is compared with both. Same load as above;
runs alternate between the two programs. Medians:

| program | first frame | ratio to htop | first frame with a collection | ratio to htop |
|---|---|---|---|---|
| \`htop -d 20\` | {f_htop*1000:.1f} ms | 1.00 | {f_htop*1000:.1f} ms | 1.00 |
| \`aiposture\` | {f_aip*1000:.1f} ms | **{f_aip/f_htop:.2f}** | {d_aip*1000:.1f} ms | **{d_aip/f_htop:.2f}** |

## Loopback probes: added wall time per collection ($PROBE_SERVERS listeners)

$PROBE_SERVERS real llama-servers on loopback; each gets one probe round (3 GETs) per
collection, rounds run 8 at a time off the render path (the dashboard draws its first
frame before the first collection returns, and reuses a round for 60 s).

| command | mean |
|---|---|
| \`aiposture snapshot --passive\` | {$passive_mean*1000:.1f} ms |
| \`aiposture snapshot\` (probes) | {$active_mean*1000:.1f} ms |

Added by probing: **{($active_mean-$passive_mean)*1000:.1f} ms** per collection,
{($active_mean-$passive_mean)*1000/$PROBE_SERVERS:.2f} ms per listener.

Micro-benchmarks of the collection path: \`cargo bench --bench collect\`;
advisory matching (300 components against 10,000 advisories, indexed vs scanned):
\`cargo bench --bench advisories\`.
""" + models_block)
PY
cat "$WORK/hyperfine.txt" >&2
echo "[bench] wrote $OUT" >&2
if [ "$ALL" = 1 ]; then
  OUT=$OUT bash scripts/bench-models.sh
  OUT=$OUT bash scripts/bench-timeline.sh
  OUT=$OUT bash scripts/bench-scale.sh
fi
