"""Saving outputs so they can be traced back: PNGs carry their settings and say that they were generated."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

GALLERY_PIXELS = 112  # small images (28x28 digits) are enlarged to about this size, nearest-neighbour, so pixels stay sharp
# How long the pictures written for the page stay on disk (the page's links to them must work while a visitor
# looks at a gallery and downloads from it): a finished gallery's PNGs an hour, a streamed step's pictures ten
# minutes; at most PNG_KEEP files each, the oldest removed first. Pruned every PRUNE_EVERY seconds (keep_pruned).
PNG_KEEP_SECONDS = 3600
FRAME_KEEP_SECONDS = 600
PNG_KEEP = 50_000
PRUNE_EVERY = 30.0


def png_with_metadata(image, path: Path, info: dict) -> None:
    """Save a PIL image as PNG with tEXt chunks: the full info record, and who generated it."""
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    meta.add_text("Software", "GenAI playground")
    meta.add_text("Description", f"AI-generated image, made by the model {info.get('model')}")
    meta.add_text("genai_demo", json.dumps(info, sort_keys=True))
    # zlib level 1: a GAN's 112x112 digit in 58 us instead of 130 us at the default 6, 771 bytes instead of 663 (the
    # median and mean of 16); 16 such files per GAN request, written by the server, 13 such requests in a first click
    image.save(path, format="PNG", pnginfo=meta, compress_level=1)


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


def picture_dir(kind: str) -> Path:
    """Where the pictures written for the page go: ``png`` (finished galleries) or ``frames`` (streamed steps), both
    inside one scratch folder, the one the page serves in place (``ui.image_tab.serve_pictures_in_place``: Gradio
    checks every picture it sends against each such folder, so one folder, one check)."""
    folder = scratch_dir("pictures") / kind
    folder.mkdir(exist_ok=True)
    return folder


def prune(folder: Path, keep_seconds: float = 3600, keep_files: int | None = None) -> None:
    """Remove files older than ``keep_seconds`` below ``folder``, then its empty sub-folders; with ``keep_files``,
    also the oldest files beyond that many. One walk, one look at each file, since a folder can hold the last hour
    of a whole class (20,000 pictures: 80 ms, where a ``rglob`` and a ``glob`` took 390)."""
    cutoff = time.time() - keep_seconds
    fresh = []
    for root, _, names in os.walk(folder, topdown=False):  # a sub-folder's files before the sub-folder itself
        for name in names:
            path = os.path.join(root, name)
            try:
                modified = os.stat(path, follow_symlinks=False).st_mtime
                if modified < cutoff:
                    os.unlink(path)
                else:
                    fresh.append((modified, path))
            except OSError:  # written or removed meanwhile
                pass
        if root != str(folder):
            try:
                os.rmdir(root)  # only an empty one
            except OSError:
                pass
    fresh.sort()
    for _, path in fresh[:max(0, len(fresh) - keep_files)] if keep_files is not None else ():
        try:
            os.unlink(path)
        except OSError:
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
    png_dir = picture_dir("png")
    items = []
    for i, (big, caption) in enumerate(to_gallery(result, captions)):
        record = {**result.info, "image_index": i, "generated_by": "GenAI playground (AI-generated image)"}
        digest = hashlib.sha256(big.tobytes() + json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
        stem = f"{str(result.info.get('model', 'image')).replace('/', '-')}-seed{result.info.get('seed')}-{i + 1}"
        path = png_dir / f"{stem}-{digest[:10]}.png"
        if path.exists():  # the same pixels and record (the page's opening result, shown again): keep it from pruning
            path.touch()
        else:
            _write_whole(path, lambda partial: png_with_metadata(big, partial, record))
        items.append((str(path), caption))
    keep_pruned(png_dir, PNG_KEEP_SECONDS, PNG_KEEP)
    return items


def picture_files(items: list) -> list:
    """Pictures shown while a generation streams (its steps, a comparison's), as PNG files named by their pixels,
    written quickly (no settings inside, light compression): [(PIL image, caption)] -> [(path, caption)]."""
    frame_dir = picture_dir("frames")
    files = []
    for image, caption in items:
        digest = hashlib.sha256(f"{image.mode}{image.size}".encode() + image.tobytes()).hexdigest()[:24]
        path = frame_dir / f"{digest}.png"
        if not path.exists():
            _write_whole(path, lambda partial: image.save(partial, format="PNG", compress_level=1))
        files.append((str(path), caption))
    keep_pruned(frame_dir, FRAME_KEEP_SECONDS, PNG_KEEP)
    return files


class _Once:
    """Something made from one result for the page: made by the first visitor to ask, waited for by the others."""

    def __init__(self, result, key: tuple):
        self.ref, self.key = weakref.ref(result), key
        self.lock = threading.Lock()
        self.value = None
        self.made = False


_made: OrderedDict[tuple, _Once] = OrderedDict()  # by (id(result), what); the weak reference tells a reused id apart
_made_lock = threading.Lock()
MADE_KEEP = 128


def once_per_result(result, what: str, key: tuple, make):
    """``make()`` for this result object, computed once however many visitors ask (and at the same time): when a
    whole class follows one computation (``serving.SharedResults``), every visitor gets the same result objects."""
    slot = (id(result), what)
    with _made_lock:
        once = _made.get(slot)
        if once is None or once.ref() is not result or once.key != key:
            once = _made[slot] = _Once(result, key)
        _made.move_to_end(slot)
        while len(_made) > MADE_KEEP:
            _made.popitem(last=False)
    with once.lock:  # the visitors who ask meanwhile wait for this one instead of making their own
        if not once.made:
            once.value, once.made = make(), True
    return once.value


def page_gallery(result, captions) -> list:
    """The result's pictures as files for the page's gallery, written once per result whoever asks: the finished
    gallery as PNGs that carry their settings (``gallery_files``), a streamed step's as quick pictures
    (``picture_files``). 30 visitors following one 4-step diffusion run of 16 digits: 80 files written, not 2,400."""
    return list(once_per_result(result, "gallery", (tuple(captions), result.done), lambda: (
        gallery_files(result, captions) if result.done else picture_files(to_gallery(result, captions)))))


class PackedPicture:
    """A picture kept as PNG bytes (``open()`` gives it back): how a visitor's session keeps the frames of their
    last generation's process view. Kept as pixels, for each of a class's visitors: a PixelCNN result's 28 strips
    1.6 MB (as PNG 59 KB), a chorale's piano rolls 2.2 MB (67 KB), a diffusion run's 468 KB (72 KB)."""

    __slots__ = ("png", "size")

    def __init__(self, image):
        from io import BytesIO

        buffer = BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        self.png, self.size = buffer.getvalue(), image.size

    def open(self):
        from io import BytesIO

        from PIL import Image

        image = Image.open(BytesIO(self.png))
        image.load()
        return image


def pictures(images: dict) -> dict:
    """A frame's named pictures as PIL images, whether kept as pixels or packed."""
    return {name: im.open() if isinstance(im, PackedPicture) else im for name, im in images.items()}


def packed_process(result) -> list:
    """The result's process frames with their pictures packed (``PackedPicture``), made once per result."""

    def pack() -> list:
        return [{**frame, "images": {name: PackedPicture(im) for name, im in frame["images"].items()}}
                if frame.get("images") else frame for frame in result.process or ()]

    return once_per_result(result, "process", (), pack)


def _write_whole(path: Path, write) -> None:
    """Write a file under another name first, so a request showing the same file never reads half of it."""
    partial = path.with_name(f".{path.name}.{threading.get_ident()}.part")
    write(partial)
    os.replace(partial, path)


_kept: dict[Path, tuple[float, int | None]] = {}  # the folders the janitor prunes: (seconds kept, files kept)
_janitor: threading.Thread | None = None


def keep_pruned(folder: Path, keep_seconds: float, keep_files: int | None = None) -> None:
    """Have the janitor, a thread of its own, ``prune`` ``folder`` every ``PRUNE_EVERY`` seconds. Pruning on the
    request that happened to come due made that visitor wait: a py-spy profile of the first second of a class (30
    clicks at once) found a fifth of the server's samples listing the picture folder for a GAN request."""
    global _janitor
    with _scratch_lock:
        _kept[folder] = (keep_seconds, keep_files)
        if _janitor is None or not _janitor.is_alive():
            _janitor = threading.Thread(target=_prune_forever, name="picture-janitor", daemon=True)
            _janitor.start()


def _prune_forever() -> None:
    while True:
        time.sleep(PRUNE_EVERY)
        with _scratch_lock:
            kept = list(_kept.items())
        for folder, (keep_seconds, keep_files) in kept:
            prune(folder, keep_seconds, keep_files)
