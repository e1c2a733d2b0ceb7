# A real MCP server for tests/mcp.rs, written with the official Python SDK (PyPI
# `mcp`, v2: MCPServer, the former FastMCP): one tool, served over streamable
# HTTP at /mcp on every interface, without authentication (the SDK's default).
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("aiposture-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


server.run(transport="streamable-http", host="0.0.0.0", port=int(sys.argv[1]))
