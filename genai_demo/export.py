"""Saving outputs so they can be traced back: PNGs carry their settings and say that they were generated."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path


def png_with_metadata(image, path: Path, info: dict) -> None:
    """Save a PIL image as PNG with tEXt chunks: the full info record, and who generated it."""
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    meta.add_text("Software", "GenAI playground")
    meta.add_text("Description", f"AI-generated image, made by the model {info.get('model')}")
    meta.add_text("genai_demo", json.dumps(info, sort_keys=True))
    image.save(path, format="PNG", pnginfo=meta)


def download_files(result) -> dict[str, bytes]:
    """What a result offers for download, by file name: its own files (``chorale.mid``...), or for a model that
    gives only sound, that sound as ``audio.wav``."""
    if result.files or result.audio is None:
        return dict(result.files)
    from genai_demo.music import to_wav

    rate, samples = result.audio
    return {"audio.wav": to_wav(samples, rate)}


_scratch: dict[str, Path] = {}
_scratch_lock = threading.Lock()


def scratch_dir(name: str) -> Path:
    """A folder for files this process writes for visitors (downloads, GIFs), made once per process by
    ``tempfile.mkdtemp``: an unpredictable name, readable only by this user, so nobody else on a shared machine
    can plant files or links in it. Gradio serves copies of what is written here, from its own cache."""
    with _scratch_lock:
        folder = _scratch.get(name)
        if folder is None or not folder.is_dir():
            folder = _scratch[name] = Path(tempfile.mkdtemp(prefix=f"genai_demo_{name}_"))
        return folder


def prune(folder: Path, keep_seconds: float = 3600) -> None:
    """Remove files (and then empty sub-folders) older than ``keep_seconds`` below ``folder``."""
    cutoff = time.time() - keep_seconds
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError:  # removed by another request meanwhile
            pass
