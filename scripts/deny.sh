#!/usr/bin/env bash
# Dependency policy checks with cargo-deny (policy in deny.toml): licences, banned and
# duplicate crates, and sources (crates.io only), all offline. Installs a pinned
# cargo-deny from crates.io into a cache on first use (several minutes cold on 2 cores).
#
# RustSec advisories need the advisory database, a git repository that this machine
# cannot fetch; they are checked only against a local checkout you provide.
#
# Env knobs:
#   AIPOSTURE_ADVISORY_DB  path to a git checkout of rustsec/advisory-db; when set, also
#                          runs `check advisories` against it without fetching (the
#                          checkout must be fresher than 90 days: cargo-deny's limit)
#   AIPOSTURE_DENY_CACHE   where cargo-deny is installed
#                          (default ${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-deny)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# 0.20 runs advisories without gix/rustsec (git CLI, own parser), which keeps the cold
# build short; its MSRV is 1.88.
VERSION=0.20.2
CACHE=${AIPOSTURE_DENY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-deny}
BIN=$CACHE/bin/cargo-deny

if [[ ! -x $BIN ]] || [[ $("$BIN" --version 2>/dev/null) != "cargo-deny $VERSION" ]]; then
  echo "deny: installing cargo-deny $VERSION into $CACHE" >&2
  start=$SECONDS
  CARGO_TARGET_DIR=$CACHE/target cargo install --locked --quiet --force \
    --root "$CACHE" "cargo-deny@$VERSION"
  # The build tree is only needed for the install; keeping it would cost ~300 MB of cache.
  rm -rf "$CACHE/target"
  echo "deny: installed in $((SECONDS - start)) s" >&2
fi

# --offline: cargo metadata uses only crates already downloaded (the single target in
# deny.toml keeps that to what a build of this crate fetched) and nothing else is
# fetched; the std-replacement list is skipped offline. Inclusion graphs are hidden to
# keep CI logs short: run "$BIN" --offline check bans to see who pulls a crate in.
"$BIN" --offline --locked check --hide-inclusion-graph licenses bans sources

if [[ -n ${AIPOSTURE_ADVISORY_DB:-} ]]; then
  [[ -d $AIPOSTURE_ADVISORY_DB/crates && -e $AIPOSTURE_ADVISORY_DB/.git ]] || {
    echo "deny: AIPOSTURE_ADVISORY_DB=$AIPOSTURE_ADVISORY_DB is not a git checkout of rustsec/advisory-db" >&2
    exit 1
  }
  # cargo-deny looks for the default database under db-path as
  # "<last URL segment>-<xxh64 of the URL>"; this is that name in cargo-deny 0.20
  # for https://github.com/rustsec/advisory-db. Linking the checkout there lets the
  # pinned default URL be used without a fetch.
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  ln -s "$(realpath "$AIPOSTURE_ADVISORY_DB")" "$root/advisory-db-3157b0e258782691"
  AIPOSTURE_DENY_DB_ROOT=$root "$BIN" --offline --locked check --hide-inclusion-graph advisories
else
  echo "deny: advisories NOT checked: the RustSec database is a git repository this machine cannot fetch; set AIPOSTURE_ADVISORY_DB to a local checkout of rustsec/advisory-db to check them" >&2
fi
