#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what the tests need (Debian and
# PyPI packages, a llama-server built from source into ~/.cache), checks format and
# lints, then runs every test. Run as root: tests create network namespaces.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

eval "$(bash scripts/test-deps.sh)"
export AIPOSTURE_LLAMA_SERVER AIPOSTURE_TINY_GGUF AIPOSTURE_PYTHON AIPOSTURE_GRADIO_PYTHON AIPOSTURE_MCP_PYTHON AIPOSTURE_PRODUCTS_VENV AIPOSTURE_LITELLM_VENV AIPOSTURE_SERVING_VENV AIPOSTURE_LANGFLOW_VENV AIPOSTURE_KSERVE_VENV AIPOSTURE_LINEAGE_PYTHON

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked -- "$@"
# The release shape: one statically linked binary that runs alone in an empty root.
bash scripts/static-build.sh >/dev/null
# Licences, bans and sources of the dependency graph (deny.toml), offline.
bash scripts/deny.sh
