#!/usr/bin/env bash
# Builds (once) a local Docker image that runs the cached llama-server on the tiny GGUF, with
# no base image: the rootfs is a tar of the binary, the shared libraries `ldd` reports
# (dynamic loader included) and the model, fed to `docker import`. Nothing is pulled.
#
# Prints the image tag on stdout (logs go to stderr):
#   aiposture-test/llama-server:<16 hex of sha256 over the inputs>
# and points aiposture-test/llama-server:latest at it. The hash covers this script, the
# binary, every library (path and content) and the model, so the build is skipped whenever
# an image with that tag already exists, and redone when any input changes.
#
# Inputs (defaults follow scripts/test-deps.sh):
#   AIPOSTURE_LLAMA_SERVER  llama-server binary (default $CACHE/bin/llama-server)
#   AIPOSTURE_TINY_GGUF     model file         (default $CACHE/models/tiny-llama.gguf)
#   AIPOSTURE_TEST_CACHE    cache dir          (default ${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-test)
#
# Image layout: /llama-server, /model.gguf, libraries at the paths ldd reports. Its default
# CMD serves the model on 0.0.0.0:8080 inside the container, e.g.
#   docker run -d --rm -p 127.0.0.1:18090:8080 "$TAG"
# or spelled out:
#   docker run -d --rm -p 127.0.0.1:18090:8080 "$TAG" /llama-server -m /model.gguf \
#     --host 0.0.0.0 --port 8080 -c 256 -t 1 --no-warmup
#
# Exit status: 0 ok; 77 docker (daemon or CLI) unavailable, so callers may skip; 1 otherwise.
set -euo pipefail

REPO=aiposture-test/llama-server
CACHE=${AIPOSTURE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-test}
LLAMA=${AIPOSTURE_LLAMA_SERVER:-$CACHE/bin/llama-server}
GGUF=${AIPOSTURE_TINY_GGUF:-$CACHE/models/tiny-llama.gguf}
SELF=$(readlink -f "${BASH_SOURCE[0]}")

log() { printf '[docker-test-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

command -v docker >/dev/null 2>&1 || { log "docker CLI not found"; exit 77; }
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || { log "docker daemon not reachable"; exit 77; }
command -v ldd >/dev/null 2>&1 || die "ldd not found"

[ -e "$LLAMA" ] || die "llama-server not found: $LLAMA (run scripts/test-deps.sh)"
[ -e "$GGUF" ] || die "GGUF not found: $GGUF (run scripts/test-deps.sh)"
LLAMA=$(readlink -f "$LLAMA")
GGUF=$(readlink -f "$GGUF")
[ -x "$LLAMA" ] || die "not executable: $LLAMA"

# --- shared libraries: "name => /path (addr)" lines and the bare loader line "/lib64/ld-... (addr)"
ldd_out=$(ldd "$LLAMA" 2>&1) || {
  # "not a dynamic executable": a static binary needs no libraries.
  grep -q 'not a dynamic executable' <<<"$ldd_out" || die "ldd $LLAMA failed: $ldd_out"
  ldd_out=
}
if grep -q 'not found' <<<"$ldd_out"; then die "unresolved libraries: $(grep 'not found' <<<"$ldd_out")"; fi
mapfile -t LIBS < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out" | sort -u)
# The ELF interpreter must exist at exactly the path the binary names (PT_INTERP).
interp=$(LC_ALL=C readelf -l "$LLAMA" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p' || true)
if [ -n "$interp" ] && ! printf '%s\n' "${LIBS[@]}" | grep -qxF "$interp"; then LIBS+=("$interp"); fi

# --- input hash ----------------------------------------------------------------------------
HASH=$( {
  printf 'script %s\n' "$(sha256sum <"$SELF" | cut -d' ' -f1)"
  printf 'llama-server %s\n' "$(sha256sum <"$LLAMA" | cut -d' ' -f1)"
  printf 'model %s\n' "$(sha256sum <"$GGUF" | cut -d' ' -f1)"
  for lib in "${LIBS[@]}"; do printf 'lib %s %s\n' "$lib" "$(sha256sum <"$lib" | cut -d' ' -f1)"; done
} | sha256sum | cut -c1-16)
TAG="$REPO:$HASH"

# Serialise concurrent builds (parallel test binaries); the lock lives in the cache dir.
mkdir -p "$CACHE"
exec 9>"$CACHE/docker-test-image.lock"
flock 9

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "image $TAG exists; not rebuilding"
else
  log "building $TAG from $LLAMA, $GGUF and ${#LIBS[@]} libraries"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/aiposture-docker-image.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  ROOTFS="$WORK/rootfs"
  mkdir -p "$ROOTFS/tmp" "$ROOTFS/etc"
  chmod 1777 "$ROOTFS/tmp"
  install -m 0755 "$LLAMA" "$ROOTFS/llama-server"
  install -m 0644 "$GGUF" "$ROOTFS/model.gguf"
  for lib in "${LIBS[@]}"; do
    # Copy the target under the path ldd/PT_INTERP names (the loader's default search
    # dirs include /lib/<triplet>, so no ld.so.cache is needed).
    mkdir -p "$ROOTFS$(dirname "$lib")"
    cp -L "$lib" "$ROOTFS$lib"
  done
  printf 'root:x:0:0:root:/:/llama-server\nnobody:x:65534:65534:nobody:/nonexistent:/llama-server\n' >"$ROOTFS/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
  # Deterministic tar: fixed order, owner and mtime.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$ROOTFS" -cf "$WORK/rootfs.tar" .
  docker import \
    --change 'CMD ["/llama-server","-m","/model.gguf","--host","0.0.0.0","--port","8080","-c","256","-t","1","--no-warmup"]' \
    --change 'EXPOSE 8080/tcp' \
    --change 'WORKDIR /' \
    --change "LABEL org.aiposture.test.input-hash=$HASH" \
    --message "aiposture test image ($HASH)" \
    "$WORK/rootfs.tar" "$TAG" >/dev/null
  rm -rf "$WORK"; trap - EXIT
  log "built $TAG"
fi
docker tag "$TAG" "$REPO:latest"
printf '%s\n' "$TAG"
