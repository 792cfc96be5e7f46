"""A map of the VAE's latent space: where the encoder puts real digits, and what the decoder draws at each point.

The shipped VAE has a 16-number latent code z, too many to draw. The map is a flat slice through that space: the
plane through the average code of real digits spanned by the two directions along which real digits' codes vary
most (principal component analysis of the encoder means mu(x, y)). Every point of the plane is a full code: the
other directions stay at the average. Coordinates are in standard deviations of real digits along each direction,
so the map's square from -3 to 3 holds nearly all of them.

The VAE is class-conditional, so the digit is given to the decoder separately and z only holds the style (slant,
thickness, width): the same point decoded as a 1 and as a 7 shares its handwriting, and real digits of every class
share one map. A morph between two digits moves along a straight line between two real codes while the label
slides from one digit to the other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from genai_demo.contract import Param, ParameterError, seed_param
from genai_demo.explain.gan import validate

MAP_FILE = "latent_map.safetensors"  # encoder means of real test digits, written by scripts/make_explain_data.py
EXTENT = 3.0  # the map spans -EXTENT..EXTENT standard deviations along both directions
GRID = 13  # decoded digits per side of the map (odd, so the centre of the plane is a tile's centre)
TILE = 28
SCALE = 2  # map pixels per decoded pixel
MAP_PIXELS = GRID * TILE * SCALE  # 728
PER_CLASS = 100  # codes per digit in a computed map
# Ten distinct colours for the ten digits (matplotlib's "tab10").
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
DIGITS = tuple(str(d) for d in range(10))
SHOW_POINTS = ("all digits", "this digit", "none")

POINT_PARAMS = (
    Param("label", "choice", "3", "The digit the decoder is asked to draw.", label="Digit", choices=DIGITS),
    Param("x", "slider", 0.0, "Position along the direction in which real digits' codes vary most.",
          label="Across (direction 1)", minimum=-EXTENT, maximum=EXTENT, step=0.1),
    Param("y", "slider", 0.0, "Position along the second direction, at right angles to the first.",
          label="Up (direction 2)", minimum=-EXTENT, maximum=EXTENT, step=0.1),
)
MORPH_PARAMS = (
    Param("digit_a", "choice", "1", "The real digit the morph starts from.", label="From digit", choices=DIGITS),
    Param("digit_b", "choice", "7", "The real digit the morph ends at.", label="To digit", choices=DIGITS),
    seed_param(),
    Param("num_frames", "integer", 24, "How many steps the morph takes.", label="Frames", minimum=2, maximum=60,
          step=1),
)


@dataclass
class LatentMap:
    codes: object  # (N, latent_dim) float32 numpy: encoder means
    labels: object  # (N,) int numpy: the digit of each code
    source: str  # where the codes came from, for the page
    center: object  # (latent_dim,) the average code: the map's origin
    basis: object  # (2, latent_dim) orthonormal directions of the plane
    scale: object  # (2,) standard deviation of the codes along each direction
    explained: float  # share of the codes' variance that lies in the plane

    @property
    def points(self):
        """(N, 2) map coordinates of every code."""
        return self.to_plane(self.codes)

    def to_plane(self, codes):
        return (codes - self.center) @ self.basis.T / self.scale

    def to_latent(self, x: float, y: float):
        """The full code at map point (x, y): the average code moved along the two directions."""
        import numpy as np

        return (self.center + (np.array([x, y]) * self.scale) @ self.basis).astype(np.float32)


def fit_map(codes, labels, source: str) -> LatentMap:
    """PCA of the codes: the two directions of largest variance, by SVD of the centred codes."""
    import numpy as np

    codes = np.asarray(codes, dtype=np.float32)
    center = codes.mean(0)
    _, s, vt = np.linalg.svd(codes - center, full_matrices=False)
    basis = vt[:2]
    spread = (codes - center) @ basis.T
    scale = spread.std(0) + 1e-8
    explained = float((s[:2] ** 2).sum() / max((s**2).sum(), 1e-12))
    return LatentMap(codes, np.asarray(labels, dtype=np.int64), source, center, basis, scale, explained)


def encode_means(model, images, labels):
    """mu(x, y) for uint8 images (N, 28, 28): where the encoder puts each digit."""
    import torch

    device = next(model.parameters()).device
    x = torch.as_tensor(images, dtype=torch.float32, device=device).unsqueeze(1) / 255.0
    with torch.no_grad():
        mu, _ = model.encode(x, torch.as_tensor(labels, dtype=torch.long, device=device))
    return mu.cpu().numpy()


def compute_codes(model, per_class: int = PER_CLASS):
    """Codes of real MNIST digits if a copy is here, else of digits the VAE draws itself: (codes, labels, source)."""
    import torch

    from genai_demo.explain.real import real_digits

    real = real_digits(per_class)
    if real is not None:
        images, labels = real
        return encode_means(model, images, labels), labels, f"{len(labels):,} real MNIST digits"
    device = next(model.parameters()).device
    labels = torch.arange(10, device=device).repeat_interleave(per_class)
    drawn = model.generate(labels, torch.Generator(device).manual_seed(0))  # (N, 1, 28, 28) in [0, 1]
    images = (drawn.squeeze(1) * 255).round().to(torch.uint8).cpu().numpy()
    labels = labels.cpu().numpy()
    return (encode_means(model, images, labels), labels,
            f"{len(labels):,} digits the VAE drew itself (no MNIST data on this machine)")


_maps: dict[str, LatentMap] = {}
_bases: dict[tuple, object] = {}
_lock = threading.Lock()


def latent_map(adapter) -> LatentMap:
    """The map for this adapter's weights: the shipped codes if they match them, else computed once and kept."""
    import numpy as np

    model = adapter.load()
    key = f"{adapter.weights_dir}:{adapter.weights_version}"
    with _lock:
        if key not in _maps:
            path = Path(adapter.weights_dir) / MAP_FILE
            try:
                saved = read_codes(path)
                fresh = saved["weights_version"] == adapter.weights_version \
                    and saved["codes"].shape[1] == model.latent_dim
            except Exception:  # missing, truncated or foreign: compute the codes instead
                fresh = False
            if fresh:
                _maps[key] = fit_map(saved["codes"].astype(np.float32), saved["labels"], saved["source"])
            else:
                _maps[key] = fit_map(*compute_codes(model))
        return _maps[key]


def write_codes(path, codes, labels, weights_version: str, source: str) -> None:
    """Codes and labels as safetensors (data only, like every file in weights/), versions in its metadata."""
    from safetensors.numpy import save_file

    save_file({"codes": codes, "labels": labels}, str(path),
              metadata={"weights_version": weights_version, "source": source})


def read_codes(path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        meta = f.metadata() or {}
        return {"codes": f.get_tensor("codes"), "labels": f.get_tensor("labels"),
                "weights_version": meta.get("weights_version"), "source": meta.get("source", "")}


def decode(model, codes, labels):
    """Mean images in [0, 1] for codes (N, latent_dim) and labels: ints, or (N, 10) mixtures of one-hot labels.

    Copied from genai_demo.models.vae.ConditionalVAE.decode, with the one-hot label replaced by any mixture, so a
    morph can slide the label from one digit to the other.
    """
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    z = torch.as_tensor(codes, dtype=torch.float32, device=device)
    y = torch.as_tensor(labels, device=device)
    if y.dim() == 1:
        y = F.one_hot(y.long(), model.num_classes).float()
    with torch.no_grad():
        h = model.decoder_fc(torch.cat([z, y.float()], dim=1))
        return torch.sigmoid(model.decoder_conv(h.view(len(z), 2 * model.channels, 7, 7)))


def tile_centres():
    """Map coordinates of the decoded tiles' centres, left to right (x) and top to bottom (y)."""
    step = 2 * EXTENT / GRID
    xs = [-EXTENT + (i + 0.5) * step for i in range(GRID)]
    return xs, xs[::-1]


def pixel_to_point(px: float, py: float) -> tuple[float, float]:
    """Map coordinates of a pixel of the map image (x to the right, y upwards)."""
    if not (0 <= px < MAP_PIXELS and 0 <= py < MAP_PIXELS):
        raise ParameterError(f"pixel ({px}, {py}) is outside the map: expected 0 to {MAP_PIXELS - 1} on both axes")
    x = -EXTENT + (px + 0.5) / MAP_PIXELS * 2 * EXTENT
    y = EXTENT - (py + 0.5) / MAP_PIXELS * 2 * EXTENT
    return round(x, 2), round(y, 2)


def point_to_pixel(x: float, y: float) -> tuple[float, float]:
    return (x + EXTENT) / (2 * EXTENT) * MAP_PIXELS, (EXTENT - y) / (2 * EXTENT) * MAP_PIXELS


def _base_map(adapter, label: int, show: str):
    """The map without a marker: decoded tiles, then real digits' codes as coloured dots. Cached."""
    import numpy as np
    from PIL import Image, ImageDraw

    from genai_demo.adapters.digits import to_pil

    lmap = latent_map(adapter)
    key = (adapter.weights_dir, adapter.weights_version, label, show)
    cached = _bases.get(key)  # one read: another request may clear the cache at any moment
    if cached is not None:
        return cached
    xs, ys = tile_centres()
    codes = np.stack([lmap.to_latent(x, y) for y in ys for x in xs])  # row by row, top to bottom
    tiles = to_pil(decode(adapter.load(), codes, np.full(len(codes), label)))
    canvas = Image.new("L", (GRID * TILE, GRID * TILE))
    for i, tile in enumerate(tiles):
        r, c = divmod(i, GRID)
        canvas.paste(tile, (c * TILE, r * TILE))
    # Dim the drawings a little so the dots stand out; upscale without blur.
    canvas = canvas.point(lambda v: int(v * 0.75)).resize((MAP_PIXELS, MAP_PIXELS), Image.NEAREST).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for (x, y), d in zip(lmap.points, lmap.labels):
        if show == "none" or (show == "this digit" and d != label) or max(abs(x), abs(y)) > EXTENT:
            continue
        px, py = point_to_pixel(x, y)
        draw.ellipse((px - 3, py - 3, px + 3, py + 3), fill=COLOURS[d], outline="black")
    with _lock:
        if len(_bases) > 64:
            _bases.clear()
        _bases[key] = canvas
    return canvas


def render_map(adapter, label: str = "3", show: str = "all digits", marker: tuple[float, float] | None = None):
    """The latent map as an RGB image of MAP_PIXELS x MAP_PIXELS, with a ring at ``marker`` (map coordinates)."""
    from PIL import ImageDraw

    label = int(validate(POINT_PARAMS[:1], {"label": label})["label"])
    if show not in SHOW_POINTS:
        raise ParameterError(f"show={show!r} is not a known choice: expected one of {', '.join(SHOW_POINTS)}")
    image = _base_map(adapter, label, show).copy()
    if marker is not None:
        px, py = point_to_pixel(*marker)
        draw = ImageDraw.Draw(image)
        for radius, colour, width in ((12, "white", 5), (12, "#dc2626", 3)):
            draw.ellipse((px - radius, py - radius, px + radius, py + radius), outline=colour, width=width)
    return image


@dataclass
class Decoded:
    image: object  # PIL 28x28 grayscale
    x: float
    y: float
    code: object  # (latent_dim,) numpy: the full latent code that was decoded


def decode_point(adapter, **params) -> Decoded:
    """Decode one point of the map (x, y in standard deviations) as the given digit."""
    import numpy as np

    from genai_demo.adapters.digits import to_pil

    values = validate(POINT_PARAMS, params)
    lmap = latent_map(adapter)
    code = lmap.to_latent(values["x"], values["y"])
    image = to_pil(decode(adapter.load(), code[None], np.array([int(values["label"])])))[0]
    return Decoded(image, values["x"], values["y"], code)


def decode_pixel(adapter, label: str, px, py) -> Decoded:
    """Decode the point under a click on the map image (pixel coordinates, as Gradio's select event gives them)."""
    try:
        px, py = float(px), float(py)
    except (TypeError, ValueError):
        raise ParameterError(f"the click position ({px!r}, {py!r}) is not a pair of pixel coordinates") from None
    x, y = pixel_to_point(px, py)
    return decode_point(adapter, label=label, x=x, y=y)


@dataclass
class Morph:
    frames: list  # PIL 28x28 grayscale, from digit A to digit B
    ts: list[float]
    ends: tuple[int, int]  # indices of the two real codes in the map


def morph(adapter, **params) -> Morph:
    """Decode a straight line from a real digit A's code to a real digit B's, while the label slides from A to B."""
    import numpy as np

    from genai_demo.adapters.digits import to_pil

    values = validate(MORPH_PARAMS, params)
    lmap = latent_map(adapter)
    rng = np.random.default_rng(values["seed"])
    a, b = int(values["digit_a"]), int(values["digit_b"])
    ends = []
    for d in (a, b):
        candidates = np.flatnonzero(lmap.labels == d)
        if len(candidates) == 0:
            raise ParameterError(f"the map holds no code of the digit {d}")
        ends.append(int(rng.choice(candidates)))
    n = values["num_frames"]
    ts = np.linspace(0.0, 1.0, n)
    codes = (1 - ts)[:, None] * lmap.codes[ends[0]] + ts[:, None] * lmap.codes[ends[1]]
    mix = np.zeros((n, adapter.load().num_classes), dtype=np.float32)
    mix[:, a] += 1 - ts
    mix[:, b] += ts
    return Morph(to_pil(decode(adapter.load(), codes, mix)), ts.tolist(), tuple(ends))
