#!/usr/bin/env bash
# Installs everything the test suite needs and prints, eval-able, where it is:
#   AIPOSTURE_LLAMA_SERVER=...  AIPOSTURE_TINY_GGUF=...  AIPOSTURE_PYTHON=...  AIPOSTURE_GRADIO_PYTHON=...
#   AIPOSTURE_MCP_PYTHON=...  AIPOSTURE_PRODUCTS_VENV=...  AIPOSTURE_LITELLM_VENV=...
#   AIPOSTURE_SERVING_VENV=...  AIPOSTURE_LANGFLOW_VENV=...  AIPOSTURE_KSERVE_VENV=...
#   AIPOSTURE_LINEAGE_PYTHON=...
#
# Idempotent and cached: Debian packages are installed only when missing; the
# llama-server binary is built once from the llama-cpp-python sdist (which vendors
# llama.cpp) into $AIPOSTURE_TEST_CACHE and reused; the tiny GGUF is rewritten only
# when its generator changes.
#
#   AIPOSTURE_TEST_CACHE   cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-test)
#   LLAMA_CPP_PY_VERSION   sdist to build llama.cpp from (default 0.3.36)
#   GGUF_PY_VERSION        PyPI gguf writer (default 0.19.0)
#   JUPYTER_SERVER_VERSION PyPI jupyter_server, a real Jupyter for tests/jupyter.rs (default 2.21.1)
set -euo pipefail

CACHE=${AIPOSTURE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiposture-test}
LCP=${LLAMA_CPP_PY_VERSION:-0.3.36}
GGUF_PY=${GGUF_PY_VERSION:-0.19.0}
JUPYTER_SERVER=${JUPYTER_SERVER_VERSION:-2.21.1}
# ipykernel: the kernel a Jupyter server starts as a child process (tests/jupyter.rs).
IPYKERNEL=${IPYKERNEL_VERSION:-6.30.1}
JOBLIB_PY=${JOBLIB_PY_VERSION:-1.5.2}
# scikit-learn and pandas write the benign library pickles of tests/pickle_verdicts.rs.
SKLEARN_PY=${SKLEARN_PY_VERSION:-1.7.2}
PANDAS_PY=${PANDAS_PY_VERSION:-2.3.3}
# transformers (tokenizer and config writers, no torch), huggingface_hub (model-card YAML) and
# setuptools (builds the wheel pip installs) write the model directory of tests/lineage.rs, in
# a venv of their own: the main venv must hold no AI library (tests/environment.rs runs a
# plain web service from it).
TRANSFORMERS_PY=${TRANSFORMERS_PY_VERSION:-4.57.1}
HF_HUB_PY=${HF_HUB_PY_VERSION:-0.36.2}
SETUPTOOLS_PY=${SETUPTOOLS_PY_VERSION:-75.8.0}
LZ4_PY=${LZ4_PY_VERSION:-4.4.4}
JOBS=${JOBS:-$(nproc)}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

log() { printf '[test-deps %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
mkdir -p "$CACHE"/{sdist,bin,models}

# --- Debian packages -------------------------------------------------------------------
need=()
for pair in cmake:cmake c++:g++ make:make ip:iproute2 tmux:tmux strace:strace ss:iproute2 python3:python3 nft:nftables podman:podman slirp4netns:slirp4netns newuidmap:uidmap fuse-overlayfs:fuse-overlayfs go:golang-go promtool:prometheus systemd-analyze:systemd file:file unshare:util-linux 7zz:7zip; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
# tests/fleet.rs starts its own sshd instances (never the system service).
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
# tests/fleet.rs lints the fleet's Prometheus textfile with `promtool check metrics`.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# tests/versions.rs builds venvs from Debian's own interpreter, whatever PATH prefers.
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3 python3-venv)
if ((${#need[@]})); then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  log "apt-get install ${need[*]}"
  if [ "$(id -u)" != 0 ]; then log "need root to install: ${need[*]}"; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No service is started by the packages' maintainer scripts (openssh-server would
  # start a system sshd): policy-rc.d 101 = "action not allowed".
  policy_rc=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    policy_rc=1
  fi
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [ -n "$policy_rc" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# --- A user for rootless Podman (tests/containers.rs) ------------------------------------------
ROOTLESS=aipt-rootless
if ! id "$ROOTLESS" >/dev/null 2>&1; then
  log "creating user $ROOTLESS for rootless Podman tests"
  useradd -m -s /bin/sh "$ROOTLESS"
fi
for f in /etc/subuid /etc/subgid; do
  grep -q "^$ROOTLESS:" "$f" 2>/dev/null || echo "$ROOTLESS:300000:65536" >>"$f"
done
# --- A second ssh login for tests/fleet.rs (a "host" reached as another user) -------------
FLEET_USER=aipt-fleet
if ! id "$FLEET_USER" >/dev/null 2>&1; then
  log "creating user $FLEET_USER for fleet tests"
  useradd -m -s /bin/sh "$FLEET_USER"
fi
# useradd leaves the password field "!", which sshd (without PAM) treats as a locked
# account even for key logins; "*" is "no password", not locked.
[ "$(getent shadow "$FLEET_USER" | cut -d: -f2)" = "*" ] || usermod -p '*' "$FLEET_USER"
# sshd's privilege-separation directory (normally made by the service unit).
install -d -m 0755 /run/sshd

# slirp4netns opens /dev/net/tun as that user; some sandboxes create it root-only.
[ -c /dev/net/tun ] && chmod 0666 /dev/net/tun

# --- Python venv: the real model-file writers (gguf, safetensors, numpy, joblib + lz4, onnx, h5py)
# and Jupyter. onnx writes ModelProto files and their external data; h5py writes legacy Keras .h5.
ONNX_PY=1.23.2
H5PY=3.16.0
# jupyter_server alone (no JupyterLab): the same Tornado app answers /api and /api/status.
VENV="$CACHE/venv"
PY_PKGS=("gguf==$GGUF_PY" "safetensors==${SAFETENSORS_PY_VERSION:-0.7.0}" "numpy<3"
  "jupyter_server==$JUPYTER_SERVER" "ipykernel==$IPYKERNEL" "joblib==$JOBLIB_PY" "lz4==$LZ4_PY" "onnx==$ONNX_PY" "h5py==$H5PY"
  "scikit-learn==$SKLEARN_PY" "pandas==$PANDAS_PY")
if ! "$VENV/bin/python" -c "
import sys, numpy, safetensors.numpy, jupyter_server, ipykernel, joblib, lz4.frame, onnx, h5py, sklearn, pandas, importlib.util, importlib.metadata as m
sys.exit(m.version('gguf') != '$GGUF_PY' or m.version('safetensors') != '${SAFETENSORS_PY_VERSION:-0.7.0}'
         or m.version('jupyter_server') != '$JUPYTER_SERVER' or m.version('ipykernel') != '$IPYKERNEL'
         or m.version('joblib') != '$JOBLIB_PY'
         or m.version('lz4') != '$LZ4_PY' or m.version('onnx') != '$ONNX_PY' or m.version('h5py') != '$H5PY'
         or m.version('scikit-learn') != '$SKLEARN_PY' or m.version('pandas') != '$PANDAS_PY'
         or any(importlib.util.find_spec(ai) for ai in ('transformers', 'huggingface_hub')))" 2>/dev/null; then
  log "venv + pip install ${PY_PKGS[*]}"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}"
fi

# --- Validators of the exports (tests/exports_sbom.rs), added to the same venv: CycloneDX 1.6 by
# cyclonedx-python-lib's strict JSON validator, SARIF 2.1.0 by check-jsonschema against the schema
# kept in assets/schemas/.
CDX_PY=${CYCLONEDX_PY_VERSION:-11.12.0}
CHECK_JSONSCHEMA=${CHECK_JSONSCHEMA_VERSION:-0.39.0}
if ! "$VENV/bin/python" -c "
import sys, importlib.metadata as m, cyclonedx.validation.json, jsonschema
sys.exit(m.version('cyclonedx-python-lib') != '$CDX_PY' or m.version('check-jsonschema') != '$CHECK_JSONSCHEMA')" 2>/dev/null; then
  log "pip install cyclonedx-python-lib[json-validation]==$CDX_PY check-jsonschema==$CHECK_JSONSCHEMA"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "cyclonedx-python-lib[json-validation]==$CDX_PY" "check-jsonschema==$CHECK_JSONSCHEMA"
fi

# A venv of its own holding exactly one pinned distribution (and what it pulls in): made
# again only when that version is not the one installed.
venv_of() { # DIR DISTRIBUTION VERSION [PIP-SPEC...] (default: DISTRIBUTION==VERSION)
  local dir=$1 dist=$2 version=$3
  shift 3
  local specs=("$@")
  ((${#specs[@]})) || specs=("$dist==$version")
  if ! "$dir/bin/python" -c "
import sys, importlib.metadata as m; sys.exit(m.version('$dist') != '$version')" 2>/dev/null; then
    log "$(basename "$dir") + pip install ${specs[*]}"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "${specs[@]}"
  fi
}

# --- Gradio in its own venv (its dependency tree is large and pins its own numpy/pandas):
# tests/privacy.rs runs a real Gradio app, analytics at its default and switched off,
# inside a network namespace with only `lo`; tests/process_tree.rs the services it starts.
GRADIO_PY=6.31.0
GVENV="$CACHE/venv-gradio"
venv_of "$GVENV" gradio "$GRADIO_PY"

# --- MCP: the official Python SDK (PyPI `mcp`), a real MCP server for tests/mcp.rs, in a
# venv of its own (its pins differ from Gradio's).
MCP_PY=${MCP_PY_VERSION:-2.3.0}
MVENV="$CACHE/venv-mcp"
venv_of "$MVENV" mcp "$MCP_PY"

# bg_venv DIR IMPORT PKG==VER...: (re)creates the venv DIR with the pinned PKGs in the
# background unless every pin is installed there already (IMPORT: a module one of their
# extras brings, or ""); wait_venvs waits for every one started, and fails the script on
# the first that failed, its log's tail shown.
declare -A BG_PIDS=()
bg_venv() {
  local dir=$1 extra=$2 name
  shift 2
  if "$dir/bin/python" -c "
import sys, importlib.metadata as m${extra:+, $extra}
want = dict(p.split('==') for p in sys.argv[1:])
sys.exit(any(m.version(n.split('[')[0]) != v for n, v in want.items()))" "$@" 2>/dev/null; then
    return 0
  fi
  name=$(basename "$dir")
  log "$name + pip install $* (background)"
  rm -rf "$dir"
  ( python3 -m venv "$dir" && "$dir/bin/pip" install -q --disable-pip-version-check "$@" ) \
    >"$CACHE/$name.log" 2>&1 &
  BG_PIDS[$dir]=$!
}
wait_venvs() {
  local dir
  for dir in "${!BG_PIDS[@]}"; do
    if ! wait "${BG_PIDS[$dir]}"; then
      tail -20 "$CACHE/$(basename "$dir").log" >&2
      log "$(basename "$dir"): pip install failed"
      rm -rf "$dir"
      exit 1
    fi
  done
}

# --- The AI stack beyond inference servers (tests/products.rs): a training dashboard, an
# experiment tracker, notebook-like app UIs, a vector database, a serving framework, each a
# real product from PyPI at a pinned version. One venv (pip resolves them together; shared
# numpy/pandas/grpcio keep it at about 2 GB instead of 3), installed in the background
# while llama-server compiles, and waited for below.
PRODUCTS_PKGS=("tensorboard==${TENSORBOARD_VERSION:-2.21.0}" "streamlit==${STREAMLIT_VERSION:-1.67.0}"
  "marimo==${MARIMO_VERSION:-0.25.2}" "chromadb==${CHROMADB_VERSION:-1.5.9}" "ray[default]==${RAY_VERSION:-2.60.0}"
  "aim==${AIM_VERSION:-3.29.1}" "mlflow[auth]==${MLFLOW_VERSION:-3.17.2}")
PVENV="$CACHE/venv-products"
bg_venv "$PVENV" flask_wtf "${PRODUCTS_PKGS[@]}"  # flask_wtf: mlflow's [auth] extra

# --- Serving frameworks and an agent builder (tests/products.rs, serving part): BentoML,
# LangServe and AutoGen Studio, in a venv of their own (their pins do not resolve with the
# products venv's), installed in the background like it.
SERVING_PKGS=("bentoml==${BENTOML_VERSION:-1.4.40}" "langserve[server]==${LANGSERVE_VERSION:-0.3.3}"
  "autogenstudio==${AUTOGENSTUDIO_VERSION:-0.4.2.2}")
SVENV="$CACHE/venv-serving"
bg_venv "$SVENV" sse_starlette "${SERVING_PKGS[@]}"  # sse_starlette: langserve's [server] extra

# --- KServe's Python model server (tests/products.rs): its pins (pandas 2, protobuf 6) do not
# resolve with AutoGen Studio's and would move the products venv's, so a venv of its own.
KVENV="$CACHE/venv-kserve"
bg_venv "$KVENV" "" "kserve==${KSERVE_VERSION:-0.21.0}"
# tests/lineage.rs: the writers of a model directory (see TRANSFORMERS_PY above).
HVENV="$CACHE/venv-lineage"
bg_venv "$HVENV" "" "transformers==$TRANSFORMERS_PY" "huggingface_hub==$HF_HUB_PY" \
  "setuptools==$SETUPTOOLS_PY" "safetensors==${SAFETENSORS_PY_VERSION:-0.7.0}" "numpy==2.4.6"

# --- Langflow (tests/products.rs): an agent/workflow builder whose auto-login is auth anyone
# can grant themselves. langflow-base alone (no PyTorch) is about 330 distributions, 1.8 GB:
# a venv of its own, installed in the background with the others.
LANGFLOW_PKG="langflow-base==${LANGFLOW_VERSION:-1.13.0}"
FVENV="$CACHE/venv-langflow"
bg_venv "$FVENV" "" "$LANGFLOW_PKG"

# --- The LiteLLM proxy (tests/litellm.rs), with prisma as its auth error handler expects (without
# it a refused key answers 500, not 401). 1.108.5: the newer releases' [proxy] extras pin builds
# of litellm-proxy-extras/-enterprise that the package index here lacks (see
# scripts/capture-http-fixtures.sh); the recorded fixtures are of the same release.
LITELLM_PY=${LITELLM_VERSION:-1.108.5}
LVENV="$CACHE/venv-litellm"
venv_of "$LVENV" litellm "$LITELLM_PY" "litellm[proxy]==$LITELLM_PY" "prisma==${PRISMA_VERSION:-0.15.0}"

# --- llama-server from source ----------------------------------------------------------------
BIN="$CACHE/bin/llama-server-$LCP"
if [ ! -x "$BIN" ]; then
  SDIST="$CACHE/sdist/llama_cpp_python-$LCP.tar.gz"
  if [ ! -s "$SDIST" ]; then
    log "pip download llama-cpp-python==$LCP (sdist)"
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
      "llama-cpp-python==$LCP" -d "$CACHE/sdist"
  fi
  WORK=$(mktemp -d "$CACHE/build.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  tar -xzf "$SDIST" -C "$WORK"
  SRC="$WORK/llama_cpp_python-$LCP/vendor/llama.cpp"
  log "building llama-server (-O1, -j$JOBS); about 6 minutes on 2 cores"
  # No curl/openssl (tests never download), no prebuilt web UI (it would be fetched),
  # llama.cpp's own libraries linked in, so the cached binary does not depend on the
  # build tree (system libraries stay dynamic).
  cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DGGML_NATIVE=OFF -DGGML_CCACHE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DBUILD_SHARED_LIBS=OFF \
    >"$CACHE/cmake-configure.log" 2>&1 || { tail -30 "$CACHE/cmake-configure.log" >&2; exit 1; }
  cmake --build "$WORK/build" --target llama-server -j "$JOBS" >"$CACHE/cmake-build.log" 2>&1 \
    || { tail -40 "$CACHE/cmake-build.log" >&2; exit 1; }
  install -m 0755 "$WORK/build/bin/llama-server" "$BIN.tmp"
  mv -f "$BIN.tmp" "$BIN"
  rm -rf "$WORK"; trap - EXIT
fi
ln -sfn "$(basename "$BIN")" "$CACHE/bin/llama-server"

# --- tiny GGUF written by the real gguf writer -----------------------------------------------
GEN="$ROOT/tests/support/make_tiny_gguf.py"
GGUF="$CACHE/models/tiny-llama.gguf"
if [ ! -s "$GGUF" ] || [ "$GEN" -nt "$GGUF" ]; then
  log "writing tiny GGUF"
  "$VENV/bin/python" "$GEN" --out "$GGUF.tmp" >&2
  mv -f "$GGUF.tmp" "$GGUF"
fi



wait_venvs

printf 'AIPOSTURE_LLAMA_SERVER=%q\nAIPOSTURE_TINY_GGUF=%q\nAIPOSTURE_PYTHON=%q\nAIPOSTURE_GRADIO_PYTHON=%q\nAIPOSTURE_MCP_PYTHON=%q\nAIPOSTURE_PRODUCTS_VENV=%q\nAIPOSTURE_LITELLM_VENV=%q\nAIPOSTURE_SERVING_VENV=%q\nAIPOSTURE_LANGFLOW_VENV=%q\nAIPOSTURE_KSERVE_VENV=%q\nAIPOSTURE_LINEAGE_PYTHON=%q\n' \
  "$CACHE/bin/llama-server" "$GGUF" "$VENV/bin/python" "$GVENV/bin/python" "$MVENV/bin/python" "$PVENV" "$LVENV" "$SVENV" "$FVENV" "$KVENV" "$HVENV/bin/python"
