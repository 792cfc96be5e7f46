"""The web server: ``python app.py``, ``genai-demo serve`` and a Hugging Face Space all start here.

``app.py`` (the file a Space runs) builds the module-level ``demo`` with
``build_app`` at import (cheap: no torch yet) and calls ``launch``; heavy
libraries and weights load on first use, and a background thread warms them
up right after the page is served.

Where it listens: ``--host``/``--port`` win; else ``$GENAI_HOST``/``$GENAI_PORT``;
else Gradio's own ``$GRADIO_SERVER_NAME``/``$GRADIO_SERVER_PORT`` and the
``$PORT`` that most hosts set; else ``0.0.0.0:7860`` inside a Hugging Face Space
(``$SPACE_ID`` is set there) and ``127.0.0.1:7860`` anywhere else.

``--mcp`` (or ``$GENAI_MCP=1``) also serves every model as a tool of Gradio's MCP server, at
``/gradio_api/mcp/``; it needs Gradio's ``mcp`` extra (``pip install "gradio[mcp]"``).

``--ray auto|ADDRESS`` runs the slow models on a Ray cluster (``genai_demo/serving_ray.py``, docs/scaling.md); Ray
is imported only then. If Ray is not installed or no cluster answers, the server prints one line and exits with
status 1 (it does not fall back to one machine: a teacher who planned for a cluster would not know).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import logging
import os
import signal
import sys
import threading

from genai_demo.registry import Registry
from genai_demo.runtime import configure_for_serving, freeze_heap
from genai_demo.ui import build_demo
from genai_demo.ui.page import launch_options
from genai_demo.ui.mcp import fix_tool_outputs
from genai_demo.contract import GenAIError
from genai_demo.serving import SHARED, start_backend

MAX_FILE_SIZE = "10mb"  # the largest upload a visitor may send (a PNG to restore); Gradio refuses bigger ones


def default_host(environ=os.environ) -> str:
    """Where to listen when ``--host`` is not given (see the module docstring)."""
    for name in ("GENAI_HOST", "GRADIO_SERVER_NAME"):
        if environ.get(name):
            return environ[name]
    return "0.0.0.0" if environ.get("SPACE_ID") else "127.0.0.1"


def default_port(environ=os.environ) -> int:
    """The port when ``--port`` is not given (see the module docstring)."""
    for name in ("GENAI_PORT", "GRADIO_SERVER_PORT", "PORT"):
        value = environ.get(name, "").strip()
        if value:
            if not value.isdigit() or not 0 < int(value) < 65536:
                sys.exit(f"error: ${name} must be a port number from 1 to 65535, got {value[:20]!r}")
            return int(value)
    return 7860


def mcp_wanted(flag: bool, environ=os.environ) -> bool:
    return flag or environ.get("GENAI_MCP", "").strip().lower() in ("1", "true", "yes", "on")


def require_mcp() -> None:
    """Exit with one line when the MCP server is asked for but Gradio's ``mcp`` extra is not installed."""
    if importlib.util.find_spec("mcp") is None:
        sys.exit('error: --mcp needs the mcp package: pip install "gradio[mcp]"')


def replicas_option(value: str) -> tuple[str, int]:
    """``--ray-replicas``: ``N`` (every model) or ``MODEL=N``."""
    model, _, count = value.rpartition("=")
    if not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"expected N or MODEL=N with N a whole number from 1, got {value[:40]!r}")
    return model or "*", int(count)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Launch the GenAI playground.")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or 0.0.0.0 in a Hugging Face "
                                       "Space; 0.0.0.0 serves your network)")
    parser.add_argument("--port", type=int, help="the port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also make a public gradio.live link")
    parser.add_argument("--auth", metavar="USER:PASSWORD", action="append",
                        help="require this login (repeatable); also read from $GENAI_AUTH")
    parser.add_argument("--max-queue", type=int, default=64, help="requests waiting beyond this get 'busy, try again'")
    parser.add_argument("--mcp", action="store_true",
                        help="also serve the models as MCP tools at /gradio_api/mcp/ (also $GENAI_MCP=1; needs "
                             'pip install "gradio[mcp]")')
    parser.add_argument("--no-warmup", action="store_true", help="do not preload the models after start-up")
    parser.add_argument("--no-worker", action="store_true",
                        help="run the slow models (diffusion, PixelCNN, text, chorales) in the server's own process "
                             "instead of a lower-priority worker process; a busy class then slows the fast ones too")
    parser.add_argument("--ray", metavar="auto|ADDRESS",
                        help="run the slow models on a Ray cluster as Ray Serve deployments: auto (the cluster this "
                             "machine joined with `ray start`) or the head node's HOST:PORT; needs "
                             'pip install "genai-playground[ray]" (docs/scaling.md)')
    parser.add_argument("--ray-replicas", metavar="[MODEL=]N", action="append", type=replicas_option,
                        help="with --ray: replicas of every slow model (N) or of one (image/diffusion=2); repeatable; "
                             "default 1")
    parser.add_argument("--ray-cpus", metavar="CPUS", type=float, default=1.0,
                        help="with --ray: Ray CPUs each replica reserves (default 1)")
    parser.add_argument("--image-pipeline", metavar="HUB_ID_OR_FOLDER",
                        help="also offer this diffusers pipeline as image/hf (default: $GENAI_IMAGE_PIPELINE); "
                             "only the operator chooses it, page visitors cannot")
    parser.add_argument("--image-pipeline-task", default="auto", choices=("auto", "unconditional", "text-to-image"))
    parser.add_argument("--text-model", metavar="HUB_ID_OR_FOLDER",
                        help="also offer this transformers text-generation model as text/hf (e.g. gpt2; default: "
                             "$GENAI_TEXT_MODEL); only the operator chooses it, page visitors cannot")
    parser.add_argument("--audio-model", metavar="HUB_ID_OR_FOLDER",
                        help="also offer this transformers text-to-audio model as audio/hf (e.g. "
                             "facebook/musicgen-small; default: $GENAI_AUDIO_MODEL); only the operator chooses it, "
                             "page visitors cannot")
    return parser


def parse_args(argv=None, prog: str | None = None) -> argparse.Namespace:
    args = build_parser(prog).parse_args(argv)
    args.host = args.host or default_host()
    args.port = args.port or default_port()
    args.mcp = mcp_wanted(args.mcp)
    return args


def build_app(args: argparse.Namespace | None = None) -> tuple[Registry, object]:
    """The registry and the page for these options (the operator's hub models, if any)."""
    registry = build_registry(args)
    return registry, build_demo(registry)


def build_registry(args: argparse.Namespace | None = None) -> Registry:
    return Registry() if args is None else Registry(
        image_pipeline=args.image_pipeline, image_pipeline_task=args.image_pipeline_task,
        text_model=args.text_model, audio_model=args.audio_model)


def parse_auth(values: list[str] | None) -> list[tuple[str, str]] | None:
    values = list(values or []) + [v for v in os.environ.get("GENAI_AUTH", "").split(",") if v]
    pairs = []
    for v in values:
        user, sep, password = v.partition(":")
        if not sep or not user or not password:
            sys.exit(f"error: --auth expects USER:PASSWORD, got {v!r}")
        pairs.append((user, password))
    return pairs or None


def warm_up(registry: Registry) -> None:
    """Import torch and load every available model in the background, so the first click is quick."""
    for adapter in registry:
        if adapter.unavailable_reason() is None:
            try:
                SHARED.load(adapter)  # where its requests will run: here, or in the worker
            except Exception as e:  # it is reported again, in the page, when someone uses that model
                logging.getLogger("genai_demo").warning("%s", e)


def launch(args: argparse.Namespace, registry: Registry | None = None, demo=None) -> None:
    """Serve ``demo`` (built from ``registry``; both built here when not given, or when the operator names hub
    models) until the process is stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "urllib3"):  # one line per HTTP request is too much for an operator
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.mcp:
        require_mcp()
        fix_tool_outputs()
    # The page is built again for the operator's hub models, and for --ray: its queue lanes follow the backend.
    if demo is None or args.image_pipeline or args.image_pipeline_task != "auto" or args.text_model or args.audio_model \
            or args.ray:
        registry, demo = build_registry(args), None
    try:  # where the slow models run: a Ray cluster, the worker process, or here
        start_backend(registry, worker=not args.no_worker, ray=args.ray, ray_replicas=dict(args.ray_replicas or ()),
                      ray_cpus=args.ray_cpus)
    except GenAIError as e:  # Ray missing or unreachable: the operator asked for a cluster; say so and stop
        sys.exit(f"error: {e}")
    if args.ray:  # stopped (SIGTERM), the server still removes its Serve applications from the cluster (atexit)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if demo is None:
        demo = build_demo(registry)
    demo.queue(default_concurrency_limit=2, max_size=args.max_queue)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):  # Gradio's multi-line share failure notice becomes one line below
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=parse_auth(args.auth),
                    show_error=True, footer_links=["api"], prevent_thread_lock=True, max_file_size=MAX_FILE_SIZE,
                    mcp_server=args.mcp, **launch_options())
    freeze_heap()  # the page's blocks and the imports live as long as the app: no collection walks them again
    print(f"* GenAI playground on {demo.local_url}", flush=True)
    if args.mcp:
        print(f"* MCP server on {demo.local_url}gradio_api/mcp/" if demo.mcp_server else f"* {demo.mcp_error}",
              flush=True)
    if args.share:
        if demo.share_url:
            print(f"* Public link: {demo.share_url}", flush=True)
        else:
            print("* Could not create a public share link (no internet, or the tunnel is blocked); serving locally only.",
                  flush=True)
    if not args.no_warmup:
        threading.Thread(target=warm_up, args=(registry,), name="warm-up", daemon=True).start()
    demo.block_thread()


def main(argv=None, prog: str | None = None, registry: Registry | None = None, demo=None) -> None:
    configure_for_serving()
    launch(parse_args(argv, prog), registry, demo)
