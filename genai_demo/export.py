"""Saving outputs so they can be traced back: PNGs carry their settings and say that they were generated."""

from __future__ import annotations

import json
from pathlib import Path


def png_with_metadata(image, path: Path, info: dict) -> None:
    """Save a PIL image as PNG with tEXt chunks: the full info record, and who generated it."""
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    meta.add_text("Software", "GenAI playground")
    meta.add_text("Description", f"AI-generated image, made by the model {info.get('model')}")
    meta.add_text("genai_demo", json.dumps(info, sort_keys=True))
    image.save(path, format="PNG", pnginfo=meta)
