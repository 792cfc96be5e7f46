"""GenAI playground: ``python app.py`` serves the page on http://127.0.0.1:7860 (``--help`` for the options).

This is the file a Hugging Face Space runs. ``demo`` is the module-level app that Gradio's tools expect; it is
built at import, which is cheap (no torch yet). The server itself lives in ``genai_demo/server.py``.
"""

from genai_demo.server import build_app, main

registry, demo = build_app()

if __name__ == "__main__":
    main(registry=registry, demo=demo)
