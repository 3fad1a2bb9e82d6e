#!/usr/bin/env python3
"""Test-only HTTP wrapper around PyPI mem0ai's `Memory`, speaking the paths of mem0's self-hosted
REST server (POST/GET /memories, GET/PUT/DELETE /memories/{id}, GET /memories/{id}/history,
POST /search, POST /reset). The pip package does not ship that server (it lives in mem0's repo,
with FastAPI, Postgres and Neo4j), so the bridge tests run mem0's real `Memory` behind this.

Configuration (environment):
  MEM0_TEST_PORT        port on 127.0.0.1 (0 = pick one; the chosen port is printed as "LISTENING <port>")
  MEM0_TEST_DIR         directory for the local Qdrant store and mem0's history database
  MEM0_TEST_EMBED_URL   OpenAI-compatible embeddings server (our llama-server), e.g. http://127.0.0.1:8082
  MEM0_TEST_CHAT_URL    OpenAI-compatible chat server (only used by infer=true), default: the embed URL
  MEM0_TEST_API_KEY     when set, requests must carry it (X-API-Key, or Authorization: Token|Bearer)
  MEM0_TEST_PORT_FILE   when set, the chosen port is also written there once the server listens
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

os.environ.setdefault("MEM0_TELEMETRY", "False")

from mem0 import Memory  # noqa: E402

DIR = os.environ["MEM0_TEST_DIR"]
EMBED_URL = os.environ["MEM0_TEST_EMBED_URL"].rstrip("/")
CHAT_URL = os.environ.get("MEM0_TEST_CHAT_URL", EMBED_URL).rstrip("/")
API_KEY = os.environ.get("MEM0_TEST_API_KEY", "")
PORT_FILE = os.environ.get("MEM0_TEST_PORT_FILE", "")

CONFIG = {
    "vector_store": {
        "provider": "qdrant",
        "config": {"path": os.path.join(DIR, "qdrant"), "collection_name": "smollama", "embedding_model_dims": 384,
                   "on_disk": True},
    },
    "llm": {"provider": "openai",
            "config": {"api_key": "unused", "openai_base_url": CHAT_URL + "/v1", "model": "smollm2-135m-instruct"}},
    "embedder": {"provider": "openai",
                 "config": {"api_key": "unused", "openai_base_url": EMBED_URL + "/v1", "model": "all-minilm-l6-v2",
                            "embedding_dims": 384}},
    "history_db_path": os.path.join(DIR, "history.db"),
}

MEMORY = Memory.from_config(CONFIG)
SCOPES = ("user_id", "agent_id", "run_id")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("mem0-test-server: " + (fmt % args) + "\n")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        if not API_KEY:
            return True
        given = self.headers.get("X-API-Key") or ""
        auth = self.headers.get("Authorization") or ""
        for prefix in ("Token ", "Bearer "):
            if auth.startswith(prefix):
                given = auth[len(prefix):]
        return given == API_KEY

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def route(self, method):
        if not self.authorised():
            return self.reply(401, {"detail": "invalid API key"})
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            if parts == ["memories"] and method == "POST":
                req = self.body()
                params = {k: req[k] for k in (*SCOPES, "metadata", "infer") if req.get(k) is not None}
                if not any(k in params for k in SCOPES):
                    return self.reply(400, {"detail": "At least one identifier (user_id, agent_id, run_id) is required."})
                return self.reply(200, MEMORY.add(messages=req["messages"], **params))
            if parts == ["memories"] and method == "GET":
                filters = {k: query[k] for k in SCOPES if k in query}
                if not filters:
                    return self.reply(400, {"detail": "At least one identifier is required."})
                return self.reply(200, MEMORY.get_all(filters=filters, top_k=int(query.get("top_k", 1000))))
            if parts == ["search"] and method == "POST":
                req = self.body()
                filters = dict(req.get("filters") or {})
                for k in SCOPES:
                    if req.get(k):
                        filters[k] = req[k]
                return self.reply(200, MEMORY.search(query=req["query"], filters=filters,
                                                     top_k=int(req.get("top_k", 20))))
            if parts == ["reset"] and method == "POST":
                MEMORY.reset()
                return self.reply(200, {"message": "All memories reset"})
            if len(parts) == 2 and parts[0] == "memories":
                if method == "GET":
                    item = MEMORY.get(parts[1])
                    return self.reply(200, item) if item else self.reply(404, {"detail": "Memory not found"})
                if method == "PUT":
                    req = self.body()
                    return self.reply(200, MEMORY.update(memory_id=parts[1], text=req.get("text") or req.get("data"),
                                                         metadata=req.get("metadata")))
                if method == "DELETE":
                    MEMORY.delete(memory_id=parts[1])
                    return self.reply(200, {"message": "Memory deleted successfully"})
            if len(parts) == 3 and parts[0] == "memories" and parts[2] == "history" and method == "GET":
                return self.reply(200, MEMORY.history(memory_id=parts[1]))
            return self.reply(404, {"detail": "Not Found"})
        except ValueError as error:
            return self.reply(400, {"detail": str(error)})
        except Exception as error:  # noqa: BLE001 - a test server reports every failure
            return self.reply(500, {"detail": f"{type(error).__name__}: {error}"})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("MEM0_TEST_PORT", "0"))), Handler)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    if PORT_FILE:
        with open(PORT_FILE + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
