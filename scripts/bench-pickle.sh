#!/usr/bin/env bash
# Pickle scanning vs picklescan and fickling (detection and whole-process throughput) on a
# corpus written by scripts/bench_pickle.py. Prints a Markdown section (bench-models.sh adds it
# to BENCHMARKS.md). The peers are installed from PyPI into a cached venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PICKLESCAN=${PICKLESCAN:-1.0.5}
FICKLING=${FICKLING:-0.1.12}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-bench/venv
if ! "$VENV/bin/python" -c "
import sys, importlib.metadata as m
sys.exit(m.version('picklescan') != '$PICKLESCAN' or m.version('fickling') != '$FICKLING')" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "picklescan==$PICKLESCAN" "fickling==$FICKLING" \
    typing_extensions "numpy<3" >&2
fi
command -v hyperfine >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
}
# Honours CARGO_TARGET_DIR and build.target-dir.
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$TARGET/release/aiposture
[ -x "$BIN" ] || cargo build --release --locked -q
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$VENV/bin/python" scripts/bench_pickle.py "$WORK" "$BIN"
TP=$WORK/throughput
hyperfine -N -w 1 -r 5 -i --export-json "$WORK/tp.json" \
  "$BIN scan --format json $TP" \
  "$VENV/bin/picklescan --path $TP" \
  "$VENV/bin/python -c 'import fickling,os,sys; d=sys.argv[1]; [fickling.scan_file(os.path.join(d,f),graceful=True) for f in os.listdir(d)]' $TP" \
  >"$WORK/tp.txt" 2>&1 || { cat "$WORK/tp.txt" >&2; exit 1; }
"$VENV/bin/python" - "$WORK" "$PICKLESCAN" "$FICKLING" <<'PY'
import json, sys
w, ps, fk = sys.argv[1:4]
d = json.load(open(f"{w}/detection.json"))
r = json.load(open(f"{w}/tp.json"))["results"]
a, p, f = (x["mean"] for x in r)
s = d["score"]
print(f"""### Pickle scanning vs picklescan {ps} and fickling {fk}

Detection on {d['bad']} malicious pickles, one per bypass family reproducible without the
original advisory samples (written by `scripts/bench_pickle.py` with the stdlib pickler,
numpy and zipfile), and {d['good']} benign ones:

| sample | aiposture | picklescan | fickling |
|---|---|---|---|""")
print("\n".join(d["rows"]))
print(f"""| **malicious flagged** | **{s['aiposture'][0]}/{d['bad']}** | **{s['picklescan'][0]}/{d['bad']}** | **{s['fickling'][0]}/{d['bad']}** |
| **benign flagged** | {s['aiposture'][1]}/{d['good']} | {s['picklescan'][1]}/{d['good']} | {s['fickling'][1]}/{d['good']} |

Throughput: {d['throughput_files']} files (the corpus copied 200 times), one whole process each:

| command | mean | ratio to picklescan |
|---|---|---|
| `picklescan --path` | {p:.2f} s | 1.00 |
| fickling `scan_file` per file (one Python process) | {f:.2f} s | {f/p:.2f} |
| `aiposture scan` | {a:.2f} s | **{a/p:.2f}** |
""")
PY
