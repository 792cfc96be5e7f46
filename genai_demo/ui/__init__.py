"""The UI layer: the only package (with app.py) that imports gradio."""

from genai_demo.ui.blocks import build_demo

__all__ = ["build_demo"]
