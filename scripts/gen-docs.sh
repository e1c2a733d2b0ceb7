#!/usr/bin/env bash
# Regenerates what is generated from the code: the snapshot JSON Schema, the man
# page and shell completions (clap_mangen / clap_complete). tests/cli.rs fails
# when a committed copy is stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build -q --locked
BIN=target/debug/aiposture
"$BIN" schema >docs/snapshot.schema.json
"$BIN" man >docs/man/aiposture.1
"$BIN" completions bash >docs/completions/aiposture.bash
"$BIN" completions zsh >docs/completions/_aiposture
"$BIN" completions fish >docs/completions/aiposture.fish
echo "regenerated docs/snapshot.schema.json, docs/man/aiposture.1, docs/completions/*" >&2
