#!/usr/bin/env python3
"""A real MCP client (the official Python SDK, PyPI `mcp`) against Smollama's MCP server.

    mcp_client_check.py stdio SMOLLAMA_BINARY HOME [--set KEY=VALUE ...]
    mcp_client_check.py http URL TOKEN

MCP_CHECK_FROM and MCP_CHECK_TO (ISO 8601) fix the range history, observations and presence ask
about, so the CLI can be asked the same question later (default: the last 6 hours).

Lists the tools and resources, reads every resource and calls every tool with the arguments
below, then prints one JSON object on stdout: {"tools": [...], "resources": [...],
"reads": {uri: json}, "calls": {name: json}, "errors": {case: message}}. The Swift test
(SmollamaNodeTests.MCPClientTests) compares the calls with the CLI's --json for the same
questions. Exit status 0 unless the client itself failed.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

# The same questions the Swift test asks the CLI.
FROM = os.environ.get("MCP_CHECK_FROM", "6h")
TO = os.environ.get("MCP_CHECK_TO")
SPAN = {"from": FROM, **({"to": TO} if TO else {})}
CALLS = {
    "recall": {"query": "hallway motion", "top": 5},
    "history": {"sensor": "living_room.temperature", **SPAN},
    "current_state": {},
    "observations": {**SPAN, "limit": 50},
    "memories": {"query": "hallway", "limit": 10},
    "presence": SPAN,
    "remember": {"text": "The hallway.motion sensor is behind the coat rack."},
}

# Bad arguments: each must come back as an MCP error naming the argument.
BAD = {
    "recall-missing-query": ("recall", {}),
    "recall-top-type": ("recall", {"query": "x", "top": "many"}),
    "history-unknown-argument": ("history", {"sensor": "living_room.temperature", "hours": 3}),
    "history-bad-time": ("history", {"sensor": "living_room.temperature", "from": "yesterday-ish"}),
    "history-unknown-sensor": ("history", {"sensor": "attic.temperature"}),
}


def text_of(result):
    return "".join(getattr(part, "text", "") for part in result.content)


async def exercise(session: ClientSession, writes: bool) -> dict:
    await session.initialize()
    await session.send_ping()
    tools = await session.list_tools()
    resources = await session.list_resources()
    out = {
        "tools": [{"name": t.name, "input_schema": t.input_schema} for t in tools.tools],
        "resources": [str(r.uri) for r in resources.resources],
        "reads": {},
        "calls": {},
        "errors": {},
    }
    for resource in resources.resources:
        read = await session.read_resource(resource.uri)
        out["reads"][str(resource.uri)] = json.loads(read.contents[0].text)
    for name, arguments in CALLS.items():
        if name == "remember" and not writes:
            continue
        result = await session.call_tool(name, arguments)
        if result.is_error:
            raise SystemExit(f"{name} failed: {text_of(result)}")
        out["calls"][name] = json.loads(text_of(result))
    cases = dict(BAD)
    if not writes:
        cases["remember-refused"] = ("remember", {"text": "This must not be written."})
    for case, (name, arguments) in cases.items():
        try:
            result = await session.call_tool(name, arguments)
        except Exception as error:  # the SDK raises the server's JSON-RPC error
            out["errors"][case] = str(error)
        else:
            out["errors"][case] = "NOT REFUSED: " + text_of(result)
    return out


async def main() -> None:
    mode = sys.argv[1]
    if mode == "stdio":
        binary, home, extra = sys.argv[2], sys.argv[3], sys.argv[4:]
        writes = "mcp.allow_writes=false" not in extra
        params = StdioServerParameters(command=binary, args=["mcp", "--home", home, *extra],
                                       env={"SMOLLAMA_LLM_RUNTIME": "external"})
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                out = await exercise(session, writes)
    elif mode == "http":
        import httpx2 as httpx
        url, token = sys.argv[2], sys.argv[3]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(headers=headers, timeout=60) as client:
            async with streamable_http_client(url, http_client=client) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    out = await exercise(session, True)
    else:
        raise SystemExit(f"unknown mode {mode}: stdio or http")
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
