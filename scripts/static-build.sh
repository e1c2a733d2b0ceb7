#!/usr/bin/env bash
# A statically linked release build (glibc, `-C target-feature=+crt-static` on the
# installed x86_64-unknown-linux-gnu target; the musl target cannot be installed
# here), checked the way it will be used: copied alone into an empty root with
# only /proc mounted, where no shared library exists, it must run a snapshot.
#
#   bash scripts/static-build.sh            # build + check; prints the binary's path
#
# The build keeps its own target directory under ~/.cache (a warm CI run rebuilds
# nothing). NVML is loaded with dlopen, which a static glibc binary can only do
# against the same glibc version: on a GPU host the static binary may report
# "no NVIDIA driver" where the dynamic one reads the GPUs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET=x86_64-unknown-linux-gnu
DIR=${AIPOSTURE_STATIC_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-test/target-static}
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q \
  --target "$TARGET" --target-dir "$DIR"
BIN=$DIR/$TARGET/release/aiposture
if file "$BIN" | grep -q "dynamically linked"; then
  echo "static-build: $BIN is dynamically linked" >&2
  exit 1
fi
ROOT=$(mktemp -d)
trap 'umount "$ROOT/proc" 2>/dev/null || true; rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/proc" "$ROOT/tmp" "$ROOT/bin"
cp "$BIN" "$ROOT/bin/aiposture"
# A root with no /lib, no /usr, no /etc: nothing to link against, nothing to read
# but /proc. HOME=/tmp so the timeline and hash cache have somewhere to go.
unshare --mount --fork sh -c "mount -t proc proc '$ROOT/proc' && \
  chroot '$ROOT' /bin/aiposture --version && \
  HOME=/tmp chroot '$ROOT' /bin/aiposture snapshot --passive --no-hash-wait -o /tmp/s.json" \
  >"$ROOT.log" 2>&1 || { cat "$ROOT.log" >&2; rm -f "$ROOT.log"; exit 1; }
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['schema_version']==2" "$ROOT/tmp/s.json"
rm -f "$ROOT.log"
echo "static-build: $BIN runs alone in an empty root ($(du -h "$BIN" | cut -f1))" >&2
echo "$BIN"
