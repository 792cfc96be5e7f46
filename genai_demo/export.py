"""Saving outputs so they can be traced back: PNGs carry their settings and say that they were generated."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

GALLERY_PIXELS = 112  # small images (28x28 digits) are enlarged to about this size, nearest-neighbour, so pixels stay sharp
PNG_KEEP = 2000  # gallery PNGs kept in this process's scratch folder; older ones are removed


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


def to_gallery(result, captions=None) -> list:
    """The result's images enlarged for the page, each with its caption (``captions``: the shown ones, if given)."""
    from PIL import Image

    captions = result.captions if captions is None else captions
    items = []
    for i, image in enumerate(result.images):
        scale = max(1, GALLERY_PIXELS // max(image.size))
        big = image.resize((image.width * scale, image.height * scale), Image.NEAREST) if scale > 1 else image
        items.append((big, captions[i] if i < len(captions) else None))
    return items


def gallery_files(result, captions=None) -> list:
    """The gallery of a finished result as PNG files that carry their settings (``genai_demo`` text chunk) and
    say they are AI-generated, so a downloaded image can be traced back and dropped onto the page again."""
    png_dir = scratch_dir("png")  # Gradio copies the files from here into its cache
    items = []
    for i, (big, caption) in enumerate(to_gallery(result, captions)):
        record = {**result.info, "image_index": i, "generated_by": "GenAI playground (AI-generated image)"}
        digest = hashlib.sha256(big.tobytes() + json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
        stem = f"{str(result.info.get('model', 'image')).replace('/', '-')}-seed{result.info.get('seed')}-{i + 1}"
        path = png_dir / f"{stem}-{digest[:10]}.png"
        if path.exists():  # the same pixels and record (the page's opening result, shown again): keep it from pruning
            path.touch()
        else:  # written whole under another name first, so a request showing the same file never reads half of it
            partial = path.with_name(f".{path.name}.{threading.get_ident()}.part")
            png_with_metadata(big, partial, record)
            os.replace(partial, path)
        items.append((str(path), caption))
    try:
        files = list(png_dir.glob("*.png"))
        if len(files) > PNG_KEEP:
            for old in sorted(files, key=lambda f: f.stat().st_mtime)[:-PNG_KEEP]:
                old.unlink(missing_ok=True)
    except OSError:  # another request pruned at the same time
        pass
    return items
