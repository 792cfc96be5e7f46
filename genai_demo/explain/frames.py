"""Animations and strips of frames: what the latent walks, the morphs and the process export share."""

from __future__ import annotations

import uuid
from pathlib import Path

KEEP_SECONDS = 3600  # files older than this are removed (by export's janitor, every PRUNE_EVERY seconds)


def out_dir() -> Path:
    """This process's folder for GIFs (``export.scratch_dir``), pruned of files older than an hour; Gradio copies
    each served file into its own cache."""
    from genai_demo.export import keep_pruned, scratch_dir

    folder = scratch_dir("explain")
    keep_pruned(folder, KEEP_SECONDS)
    return folder


def upscale(image, scale: int):
    """Enlarge without blur, so a 28x28 digit keeps its pixels."""
    from PIL import Image

    return image.resize((image.width * scale, image.height * scale), Image.NEAREST) if scale > 1 else image


def save_gif(frames: list, path: str | Path | None = None, *, duration_ms: int = 120, hold_last_ms: int = 1000,
             bounce: bool = False) -> Path:
    """Write PIL frames as a looping animated GIF (to a fresh temp file unless ``path`` is given); return its path.

    ``bounce`` plays the frames forwards then backwards, so a walk between two points loops smoothly; otherwise the
    last frame is held for ``hold_last_ms`` so the result can be seen before the loop restarts.
    """
    if not frames:
        raise ValueError("no frames to animate")
    if path is None:
        path = out_dir() / f"{uuid.uuid4().hex}.gif"
    frames = [f.convert("RGB") for f in frames]
    end = len(frames) - 1
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    durations = [duration_ms] * len(frames)
    durations[end] = max(duration_ms, hold_last_ms)
    if bounce:
        durations[0] = max(duration_ms, hold_last_ms)
    # One palette for all frames (an adaptive palette per frame makes grey levels flicker).
    palette = frames[len(frames) // 2].quantize(colors=256)
    quantised = [f.quantize(palette=palette, dither=0) for f in frames]
    quantised[0].save(path, format="GIF", save_all=True, append_images=quantised[1:], duration=durations, loop=0,
                      disposal=1, optimize=False)
    return Path(path)


def frame_strip(frames: list, captions: list[str] | None = None, *, max_frames: int = 8, scale: int = 3):
    """Up to ``max_frames`` evenly spaced frames side by side, each with its caption below; RGB PIL image."""
    from PIL import Image, ImageDraw, ImageFont

    if not frames:
        raise ValueError("no frames to show")
    n = min(max_frames, len(frames))
    picks = [round(i * (len(frames) - 1) / max(1, n - 1)) for i in range(n)]
    tiles = [upscale(frames[i].convert("RGB"), scale) for i in picks]
    w, h = tiles[0].size
    gap, text_h = 4, 18 if captions else 0
    out = Image.new("RGB", (n * w + (n - 1) * gap, h + text_h), "white")
    draw, font = ImageDraw.Draw(out), ImageFont.load_default(size=12)
    for k, (i, tile) in enumerate(zip(picks, tiles)):
        x = k * (w + gap)
        out.paste(tile, (x, 0))
        if captions:
            draw.text((x + w / 2, h + 3), captions[i], fill="black", font=font, anchor="ma")
    return out


# Copied from genai_demo.ui.blocks.compose_frame (the UI layer imports gradio; this package must not), with the
# frame's label drawn on top so an exported animation says which step each frame is.
def compose_frame(images: dict, title: str = ""):
    """A frame's named pictures (PIL images, or as a visitor's session keeps them: ``export.PackedPicture``)
    stacked into one image, each under its name, under an optional title."""
    from PIL import Image, ImageDraw, ImageFont

    from genai_demo.export import pictures

    images = pictures(images)
    font = ImageFont.load_default(size=16)
    width = max(im.width for im in images.values())
    top = 28 if title else 0
    height = top + sum(im.height + 28 for im in images.values())
    out = Image.new("RGB", (width, height), "white")
    draw, y = ImageDraw.Draw(out), 0
    if title:
        draw.text((2, 5), title, fill="#1d4ed8", font=font)
        y = top
    for name, im in images.items():
        draw.text((2, y + 5), name, fill="black", font=font)
        out.paste(im.convert("RGB"), (0, y + 28))
        y += im.height + 28
    return out


def process_animation(process: list[dict], path: str | Path | None = None, *, duration_ms: int = 250) -> Path:
    """The frames of a generating process (``Result.process``: diffusion steps, PixelCNN rows) as one animated GIF."""
    if not process:
        raise ValueError("this generation recorded no process frames")
    frames = [compose_frame(f["images"], f.get("label", "")) for f in process]
    size = (max(f.width for f in frames), max(f.height for f in frames))
    if any(f.size != size for f in frames):  # a GIF's frames share one canvas
        from PIL import Image

        padded = []
        for f in frames:
            canvas = Image.new("RGB", size, "white")
            canvas.paste(f, (0, 0))
            padded.append(canvas)
        frames = padded
    return save_gif(frames, path, duration_ms=duration_ms, hold_last_ms=1500)

