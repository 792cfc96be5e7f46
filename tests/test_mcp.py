"""The doors for programs: the API page, gradio_client and Gradio's MCP server (``python app.py --mcp``).

An LLM agent sees each model as one tool, described in the model's own words: its title and explanation for the
tool, each declared parameter's label, help, range and default for the arguments. The app here runs offline with
the shipped weights; its tools and schemas are read over HTTP (``/gradio_api/mcp/schema``) and through the MCP
protocol itself (the ``mcp`` package's client, over streamable HTTP). Models come from the registry, never a list.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import urllib.request

import pytest
from gradio_client import Client

from genai_demo import compare, server
from genai_demo.registry import Registry
from genai_demo.ui.common import api_name, api_text, one_line
from genai_demo.ui.page import build_demo
from tests.conftest import free_port, running_app

pytest.importorskip("mcp", reason='the MCP server needs Gradio\'s mcp extra: pip install "gradio[mcp]"')


@pytest.fixture(scope="module")
def registry():
    return Registry()


HELPERS = {  # tools that serve a model's panel rather than run a model: their parameters, as documented
    "text_attention": ("text", "position"), "audio_melody_from_midi": ("midi",)}


@pytest.fixture(scope="module")
def expected_tools(registry) -> dict:
    """Tool name -> what it runs: every model, and the comparison of the image families where the page has it."""
    tools = {api_name(m.id): m for m in registry}
    tools.update({api_name(task.id): task for task in registry.tasks.values()})  # "Draw a digit": a picture in
    tools["draw_read"] = None
    tools.update(dict.fromkeys(HELPERS))
    for target in build_demo(registry).genai_page.targets:  # what the page offers besides models: the comparison
        if target == compare.LINK_ID:  # (the drawing's tools are above; the lab's and the quiz's are not tools)
            tools[api_name(target)] = None
    return tools


def tool_params(name: str, adapter) -> tuple:
    """What a tool takes: a model's parameters; a drawing task's, with a picture file instead of the drawing."""
    if name.startswith("draw_"):
        from genai_demo.ui.draw import IMAGE_PARAM

        return (IMAGE_PARAM,) + (adapter.params[1:] if adapter else ())
    return adapter.params if adapter else compare.PARAMS


def described_as(p) -> str:
    """A parameter's words for programs (a drawing task's picture file has its own)."""
    from genai_demo.ui.draw import IMAGE_TEXT

    return IMAGE_TEXT if p.name == "image" else api_text(p)


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory):
    """The app with its MCP server, models in-process (only the quick GAN is called here)."""
    log = tmp_path_factory.mktemp("mcp") / "app.log"
    with running_app(log, "--mcp", "--no-warmup", "--no-worker") as url:
        yield url
    assert f"* MCP server on {url}gradio_api/mcp/" in log.read_text()


@pytest.fixture(scope="module")
def schema(mcp_url) -> dict:
    """``/gradio_api/mcp/schema``: every tool's name, description and input schema, by name."""
    with urllib.request.urlopen(f"{mcp_url}gradio_api/mcp/schema", timeout=60) as r:
        return {tool["name"]: tool for tool in json.loads(r.read())}


def test_one_tool_per_model_and_no_page_plumbing(schema, expected_tools, mcp_url):
    # Preset buttons, dice, scrubbers, links, the PNG drop and the "How it works" views are not tools.
    assert set(schema) == set(expected_tools)
    with urllib.request.urlopen(f"{mcp_url}gradio_api/info", timeout=60) as r:
        info = json.loads(r.read())
    assert set(info["named_endpoints"]) == {f"/{name}" for name in expected_tools}
    assert not info["unnamed_endpoints"]


def test_each_tool_is_described_by_its_models_declaration(schema, expected_tools):
    for name, adapter in expected_tools.items():
        tool = schema[name]
        if name in HELPERS:
            properties = tool["inputSchema"]["properties"]
            assert tuple(properties) == HELPERS[name] and all(p["description"] for p in properties.values()), name
            continue
        params = tool_params(name, adapter)
        if adapter:
            assert tool["description"].startswith(f"{adapter.title}. {one_line(adapter.description)}")
        properties = tool["inputSchema"]["properties"]
        assert list(properties) == [p.name for p in params], name
        required = tool["inputSchema"].get("required") or []
        assert required == (["image"] if name.startswith("draw_") else []), "every parameter but a picture has a default"
        for p in params:
            prop = properties[p.name]
            where = f"{name}.{p.name}"
            assert prop["description"] == described_as(p), where
            if p.name == "image":  # a drawing task's picture: a file, uploaded, not a value with a default
                continue
            for words in (p.display_label, p.help, p.describe_range()):
                assert words in prop["description"], where
            assert prop["default"] == p.default, where
            if p.kind in ("slider", "integer"):
                assert (prop["minimum"], prop["maximum"]) == (p.minimum, p.maximum), where
                assert prop["type"] == ("integer" if p.kind == "integer" else "number"), where
            elif p.kind == "choice":
                assert prop["enum"] == list(p.choices), where
            elif p.kind == "toggle":
                assert prop["type"] == "boolean", where
            else:
                assert prop["type"] == "string" and prop["maxLength"] == p.max_length, where


def test_gradio_client_describes_every_parameter_in_the_same_words(mcp_url, schema, expected_tools):
    client = Client(mcp_url, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    printed = client.view_api(print_info=False, return_format="str")
    for name, adapter in expected_tools.items():
        if name in HELPERS:
            continue
        params = tool_params(name, adapter)
        described = {p["parameter_name"]: p["python_type"]["description"] for p in endpoints[f"/{name}"]["parameters"]}
        assert described == {p.name: described_as(p) for p in params}, name
        assert described == {k: v["description"] for k, v in schema[name]["inputSchema"]["properties"].items()}
        for p in params:
            assert described_as(p) in printed


def test_the_mcp_protocol_lists_the_same_tools_and_runs_a_model(mcp_url, schema, registry):
    from mcp import ClientSession

    try:
        from mcp.client.streamable_http import streamable_http_client
    except ImportError:  # mcp before 1.24
        from mcp.client.streamable_http import streamablehttp_client as streamable_http_client

    from genai_demo.serving import plan

    model = next(m for m in registry if plan(m).quick and m.params[0].name == "seed")
    tool = api_name(model.id)
    arguments = {"seed": 5, "num_images": 2} if "num_images" in schema[tool]["inputSchema"]["properties"] else {"seed": 5}
    progress = []

    async def session():
        async with streamable_http_client(f"{mcp_url}gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as s:
                await s.initialize()
                listed = (await s.list_tools()).tools
                plain = await s.call_tool(tool, arguments)  # most clients send no progress token
                followed = await s.call_tool(tool, arguments, progress_callback=lambda *a: _append(progress, a))
                refused = await s.call_tool(tool, {"seed": -1})
                return listed, plain, followed, refused

    listed, plain, followed, refused = asyncio.run(asyncio.wait_for(session(), 240))
    assert {t.name: (t.description, t.inputSchema) for t in listed} == {
        name: (t["description"], t["inputSchema"]) for name, t in schema.items()}
    for result in (plain, followed):
        assert not result.isError, result.content
        texts = [c.text for c in result.content if c.type == "text"]
        assert any(t.startswith(f"**{model.id}** · seed 5 · ") for t in texts), texts
        assert any("gradio_api/file=" in t for t in texts), texts  # the outputs' URLs
    assert progress
    assert refused.isError and "-1" in refused.content[0].text and "minimum of 0" in refused.content[0].text


async def _append(items: list, item) -> None:
    items.append(item)


def test_the_mcp_flag_and_its_environment_variable(monkeypatch):
    monkeypatch.delenv("GENAI_MCP", raising=False)
    assert server.parse_args([]).mcp is False
    assert server.parse_args(["--mcp"]).mcp is True
    monkeypatch.setenv("GENAI_MCP", "1")
    assert server.parse_args([]).mcp is True
    assert server.mcp_wanted(False, {"GENAI_MCP": "0"}) is False


def test_without_the_mcp_package_the_server_says_how_to_install_it_and_stops(monkeypatch):
    server.require_mcp()  # installed here: nothing happens
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "mcp" else find_spec(name, *args))

    def no_start(*args, **kwargs):
        raise AssertionError("the server started without the mcp package")

    monkeypatch.setattr(server, "build_app", no_start)
    monkeypatch.setattr(server, "start_backend", no_start)
    with pytest.raises(SystemExit) as stopped:
        server.main(["--mcp", "--port", str(free_port())])
    message = stopped.value.code  # sys.exit prints it and exits with status 1
    assert isinstance(message, str) and "\n" not in message
    assert message == 'error: --mcp needs the mcp package: pip install "gradio[mcp]"'
