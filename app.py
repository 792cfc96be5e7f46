"""GenAI playground: ``python app.py`` serves the page on http://127.0.0.1:7860.

The module builds ``demo`` at import (cheap: no torch yet); heavy libraries and
weights load on first use, and a background thread warms them up right after
the page is served.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import logging
import os
import sys
import threading

from genai_demo.registry import Registry
from genai_demo.runtime import freeze_heap, prefer_passive_waiting
from genai_demo.ui import build_demo
from genai_demo.ui.blocks import CSS
from genai_demo.ui.i18n import gradio_i18n
from genai_demo.worker import Worker

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Launch the GenAI playground.")
    parser.add_argument("--host", default=os.environ.get("GENAI_HOST", "127.0.0.1"),
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 serves your network)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GENAI_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="also make a public gradio.live link")
    parser.add_argument("--auth", metavar="USER:PASSWORD", action="append",
                        help="require this login (repeatable); also read from $GENAI_AUTH")
    parser.add_argument("--max-queue", type=int, default=64, help="requests waiting beyond this get 'busy, try again'")
    parser.add_argument("--no-warmup", action="store_true", help="do not preload the models after start-up")
    parser.add_argument("--no-worker", action="store_true",
                        help="run the slow models (diffusion, PixelCNN, text, chorales) in the server's own process "
                             "instead of a lower-priority worker process; a busy class then slows the fast ones too")
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
    return parser.parse_args(argv)


# The module-level app, as Gradio's tools expect; `python app.py --image-pipeline/--text-model/--audio-model ...`
# rebuilds it.
registry = Registry()
demo = build_demo(registry)


def parse_auth(values: list[str] | None) -> list[tuple[str, str]] | None:
    values = list(values or []) + [v for v in os.environ.get("GENAI_AUTH", "").split(",") if v]
    pairs = []
    for v in values:
        user, sep, password = v.partition(":")
        if not sep or not user or not password:
            sys.exit(f"error: --auth expects USER:PASSWORD, got {v!r}")
        pairs.append((user, password))
    return pairs or None


def warm_up() -> None:
    """Import torch and load every available model in the background, so the first click is quick."""
    for adapter in registry:
        if adapter.unavailable_reason() is None:
            try:
                adapter.worker.load(adapter.id) if adapter.worker else adapter.load()
            except Exception as e:  # it is reported again, in the page, when someone uses that model
                logging.getLogger("genai_demo").warning("%s", e)


def launch(args: argparse.Namespace) -> None:
    global registry, demo
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "urllib3"):  # one line per HTTP request is too much for an operator
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.image_pipeline or args.image_pipeline_task != "auto" or args.text_model or args.audio_model:
        registry = Registry(image_pipeline=args.image_pipeline, image_pipeline_task=args.image_pipeline_task,
                            text_model=args.text_model, audio_model=args.audio_model)
        demo = build_demo(registry)
    if not args.no_worker:
        worker = Worker(registry.settings)
        worker.start()
        atexit.register(worker.close)
        registry.use_worker(worker)
    demo.queue(default_concurrency_limit=2, max_size=args.max_queue)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):  # Gradio's multi-line share failure notice becomes one line below
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=parse_auth(args.auth),
                    show_error=True, css=CSS, footer_links=["api"], prevent_thread_lock=True,
                    i18n=gradio_i18n())
    freeze_heap()  # the page's blocks and the imports live as long as the app: no collection walks them again
    print(f"* GenAI playground on {demo.local_url}", flush=True)
    if args.share:
        if demo.share_url:
            print(f"* Public link: {demo.share_url}", flush=True)
        else:
            print("* Could not create a public share link (no internet, or the tunnel is blocked); serving locally only.",
                  flush=True)
    if not args.no_warmup:
        threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    demo.block_thread()


if __name__ == "__main__":
    prefer_passive_waiting()
    launch(parse_args())
