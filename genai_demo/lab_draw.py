"""The GAN lab's picture: the discriminator's decision surface with the real and generated points on it, and both
losses, as one small palette PNG drawn with numpy (no plotting library, no words in the picture: the page names
the colours in the visitor's language).

Left: D's probability of "real" over the plane, in eight bands from purple (surely generated) to green (surely
real); real points in dark green (single pixels, on top), the generator's points (fixed noise, so the same points
move) in dark purple.
Right: D's loss (orange) and G's loss (blue) over all steps so far. Small (a few kB) and the same bytes for the same
run at the same step, so streaming it several times a second to a class stays cheap.
"""

from __future__ import annotations

import io

import numpy as np

SIZE = 240  # each panel is SIZE x SIZE pixels
BANDS = 8
# Palette: 0-7 the surface's bands (light purple to light green), then the marks.
SURFACE = [(203, 180, 235), (217, 200, 240), (231, 220, 244), (245, 240, 248), (240, 248, 236), (222, 240, 210),
           (202, 230, 186), (180, 218, 160)]
REAL, FAKE, BACKGROUND, AXIS, D_LOSS, G_LOSS, LEVEL = range(BANDS, BANDS + 7)
MARKS = [(20, 110, 50), (110, 40, 170), (255, 255, 255), (200, 200, 200), (230, 120, 20), (40, 100, 220),
         (150, 150, 150)]
PALETTE = [c for rgb in SURFACE + MARKS for c in rgb]
LOSS_TOP = 3.0  # the loss panel shows 0 to 3 (log 2 = 0.69 and 2 log 2 = 1.39: where the game's balance sits)


def _to_pixels(points: np.ndarray, extent: float) -> tuple[np.ndarray, np.ndarray]:
    """Plane coordinates to (row, column) pixels of a SIZE panel; points outside are dropped."""
    cols = np.floor((points[:, 0] + extent) / (2 * extent) * SIZE).astype(np.int64)
    rows = np.floor((extent - points[:, 1]) / (2 * extent) * SIZE).astype(np.int64)
    inside = (cols >= 1) & (cols < SIZE - 1) & (rows >= 1) & (rows < SIZE - 1)
    return rows[inside], cols[inside]


def _dots(panel: np.ndarray, rows: np.ndarray, cols: np.ndarray, colour: int) -> None:
    """A plus-shaped dot of 5 pixels at each point."""
    for dr, dc in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)):
        panel[rows + dr, cols + dc] = colour


def surface_panel(run) -> np.ndarray:
    """D's surface in bands, with the real points and the generated points on it."""
    from PIL import Image

    cells = run.surface().numpy().astype(np.float32)  # (48, 48) in [0, 1], top row first
    smooth = np.asarray(Image.fromarray(cells, mode="F").resize((SIZE, SIZE), Image.BILINEAR))
    panel = np.clip(np.nan_to_num(smooth, nan=0.5) * BANDS, 0, BANDS - 1).astype(np.uint8)
    extent = run.toy.extent
    fake = run.sample().numpy()
    _dots(panel, *_to_pixels(fake[np.isfinite(fake).all(1)], extent), FAKE)
    rows, cols = _to_pixels(run.preview_real.numpy(), extent)  # on top, smaller: the target stays visible
    panel[rows, cols] = REAL
    return panel


def loss_panel(d_losses: list[float], g_losses: list[float]) -> np.ndarray:
    """Both losses over the steps so far, averaged into one value per pixel column."""
    panel = np.full((SIZE, SIZE), BACKGROUND, dtype=np.uint8)
    panel[:, 0] = AXIS
    panel[SIZE - 1, :] = AXIS
    for level in (np.log(2), 2 * np.log(2)):  # G's and D's losses when D cannot tell real from generated
        panel[int(SIZE - 1 - level / LOSS_TOP * (SIZE - 1)), 1::4] = LEVEL
    for losses, colour in ((d_losses, D_LOSS), (g_losses, G_LOSS)):
        if not losses:
            continue
        values = np.asarray(losses, dtype=np.float64)
        values = np.where(np.isfinite(values), values, LOSS_TOP)
        if len(values) >= SIZE - 1:  # one mean per column
            means = np.array([b.mean() for b in np.array_split(values, SIZE - 1)])
        else:  # fewer steps than columns: stretched across the panel
            means = np.interp(np.linspace(0, len(values) - 1, SIZE - 1), np.arange(len(values)), values)
        rows = (SIZE - 1 - np.clip(means / LOSS_TOP, 0, 1) * (SIZE - 1)).round().astype(np.int64)
        for x, (prev, r) in enumerate(zip(np.concatenate([rows[:1], rows[:-1]]), rows), start=1):
            panel[min(prev, r):max(prev, r) + 1, x] = colour  # each column joins the previous one: a line
    return panel


def draw(run) -> bytes:
    """The run's picture as PNG bytes: surface and points on the left, losses on the right."""
    from PIL import Image

    gap = np.full((SIZE, 8), BACKGROUND, dtype=np.uint8)
    pixels = np.concatenate([surface_panel(run), gap, loss_panel(run.d_losses, run.g_losses)], axis=1)
    picture = Image.fromarray(pixels, mode="P")
    picture.putpalette(PALETTE)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False)
    return out.getvalue()
