# A real MCP server for tests/mcp.rs, written with the official Python SDK (PyPI
# `mcp`, v2: MCPServer, the former FastMCP): one tool, served over streamable
# HTTP at /mcp on every interface, without authentication (the SDK's default);
# `python mcp_server.py PORT sse` serves the HTTP+SSE transport at /sse instead.
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("aiposture-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


transport = sys.argv[2] if len(sys.argv) > 2 else "streamable-http"
server.run(transport=transport, host="0.0.0.0", port=int(sys.argv[1]))
