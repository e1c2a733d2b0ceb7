#!/usr/bin/env bash
# Real captures of the dashboard for the README: a real llama-server bound to all
# interfaces inside a namespace with a LAN-like veth, a second one on loopback with
# a cloud API key in its environment, and a real Gradio app with analytics at their
# default (in a namespace with only `lo`), then the dashboard in tmux at 150×45:
# the servers view, the Privacy pane and the Events pane after the first server
# was restarted on another address. Written to docs/screens/*.txt.
# Needs root and the test dependencies (scripts/test-deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(bash scripts/test-deps.sh)"
cargo build -q --locked
BIN=$PWD/target/debug/aiposture
WORK=$(mktemp -d)
NS=aip-screens-$$
LO=aip-screens-lo-$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "$WORK/gradio_app.py" 2>/dev/null || true
  tmux -L aip-screens kill-server 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$LO" 2>/dev/null || true
  ip link del aipscr0 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns add "$LO"
ip -n "$NS" link set lo up
ip -n "$LO" link set lo up
ip link add aipscr0 type veth peer name aipscr1
ip link set aipscr1 netns "$NS"
ip addr add 192.168.77.1/24 dev aipscr0 && ip link set aipscr0 up
ip -n "$NS" addr add 192.168.77.2/24 dev aipscr1 && ip -n "$NS" link set aipscr1 up
llama() { # netns host port [env...]
  local ns=$1 host=$2 port=$3; shift 3
  ip netns exec "$ns" env -i PATH=/usr/bin:/bin "$@" "$AIPOSTURE_LLAMA_SERVER" -m "$AIPOSTURE_TINY_GGUF" \
    --host "$host" --port "$port" -c 256 -t 1 --no-warmup >/dev/null 2>&1 &
  PIDS+=($!)
}
wait_port() { for _ in $(seq 200); do ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return; sleep 0.1; done; }
llama "$NS" 127.0.0.1 8080
llama "$LO" 127.0.0.1 18080 OPENAI_API_KEY=not-a-real-key OPENAI_BASE_URL=https://api.openai.com/v1
cp tests/support/gradio_app.py "$WORK/"
(cd "$WORK" && ip netns exec "$LO" env -i PATH=/usr/bin:/bin HOME="$WORK" APP_PORT=7860 \
  "$AIPOSTURE_GRADIO_PYTHON" "$WORK/gradio_app.py" >/dev/null 2>&1 &)
wait_port "$NS" 127.0.0.1 8080
wait_port "$LO" 127.0.0.1 18080
wait_port "$LO" 127.0.0.1 7860
printf '[timeline]\ndir = "%s"\n' "$WORK/state" >"$WORK/config.toml"
"$BIN" --config "$WORK/config.toml" snapshot --no-hash-wait >/dev/null
# The first server comes back on all interfaces: an event for the Events pane.
kill "${PIDS[0]}"
llama "$NS" 0.0.0.0 8080
wait_port "$NS" 127.0.0.1 8080
mkdir -p docs/screens
tmux -L aip-screens new-session -d -x 150 -y 45 "$BIN --config $WORK/config.toml --interval 2s"
capture() { sleep "$1"; tmux -L aip-screens capture-pane -p | sed 's/[[:space:]]*$//' >"docs/screens/$2.txt"; }
capture 6 servers
for _ in 1 2 3 4 5; do tmux -L aip-screens send-keys Tab; done
capture 1 privacy
tmux -L aip-screens send-keys Tab
capture 1 events
echo "captured docs/screens/{servers,privacy,events}.txt" >&2
