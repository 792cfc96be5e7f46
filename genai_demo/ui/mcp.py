"""Gradio's MCP server (``python app.py --mcp``): what this app adds to it.

The tools need nothing here: every model's Generate event is a tool named like its API endpoint (``image_gan``)
and described from the model's declaration (``api_docstring`` and ``describe_for_api`` in blocks.py).

One fix. In Gradio 6.31 a tool call that carries no progress token (most MCP clients send none) takes an event's
outputs as one value: an event with several outputs comes back as the repr of a Python tuple, and one that also
writes a ``gr.State`` (every model's Generate: the process view) fails with "pop index out of range". The call
with a progress token returns the outputs as a list; ``fix_tool_outputs`` makes the other path do the same.
``tests/test_mcp.py`` calls a tool both ways, so a Gradio upgrade that still needs the fix shows there.
"""

from __future__ import annotations

import asyncio


def fix_tool_outputs() -> bool:
    """Make a tool call without a progress token return the event's outputs as a list; True if applied."""
    import gradio
    from gradio.mcp import GradioMCPServer

    if not gradio.__version__.startswith("6.31."):  # the version this was written for: check a newer one first
        return False

    async def execute_tool_without_progress(self, job) -> list:
        result = await asyncio.to_thread(job.result)  # the client gives several outputs as a tuple, one as itself
        return list(result) if isinstance(result, tuple) else [result]

    GradioMCPServer._execute_tool_without_progress = execute_tool_without_progress
    return True
