#!/usr/bin/env python3
"""Test-only: drives a mem0 API with mem0's own Python client (PyPI mem0ai `MemoryClient`) and
prints every answer as one JSON object. Usage: mem0_client_check.py BASE_URL API_KEY"""
import json
import os
import sys

os.environ.setdefault("MEM0_TELEMETRY", "False")
from mem0 import MemoryClient  # noqa: E402

client = MemoryClient(api_key=sys.argv[2], host=sys.argv[1])
out = {}
out["add"] = client.add([{"role": "user", "content": "Alice keeps the bike in the garage"}], user_id="alice",
                        infer=False, metadata={"category": "things"})
memory_id = out["add"]["results"][0]["id"]
out["get"] = client.get(memory_id)
out["all"] = client.get_all(filters={"user_id": "alice"})
# A second memory, then mem0's pagination (page and page_size travel in the query string).
second = client.add([{"role": "user", "content": "Alice waters the plants on Sunday"}], user_id="alice", infer=False)
out["page1"] = client.get_all(filters={"user_id": "alice"}, page=1, page_size=1)
out["page2"] = client.get_all(filters={"user_id": "alice"}, page=2, page_size=1)
out["page3"] = client.get_all(filters={"user_id": "alice"}, page=3, page_size=1)
out["other_user"] = client.get_all(filters={"user_id": "bob"})
client.delete(second["results"][0]["id"])
out["search"] = client.search("bike garage", filters={"user_id": "alice"})
out["update"] = client.update(memory_id, text="Alice keeps the bike in the shed")
out["history"] = client.history(memory_id)
out["delete"] = client.delete(memory_id)
print(json.dumps(out))
