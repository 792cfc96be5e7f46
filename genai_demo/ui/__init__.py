"""The UI layer: the only package (with app.py) that imports gradio.

``page`` builds the page from the registry; ``panel`` one model's controls; ``image_tab``, ``text_tab``,
``audio_tab`` and ``compare_tab`` the tabs; ``process`` and ``explain`` the views of how a result was made;
``common`` what they share; ``errors`` the learner's error lines; ``mcp`` Gradio's MCP server. The page's CSS
and JavaScript are in ``static/``, its words in ``genai_demo/locales/``.
"""


def build_demo(*args, **kwargs):
    """The whole page (``genai_demo.ui.page.build_demo``); importing this package alone loads no gradio."""
    from genai_demo.ui.page import build_demo as build

    return build(*args, **kwargs)


__all__ = ["build_demo"]
