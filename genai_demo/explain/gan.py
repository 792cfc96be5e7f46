"""Inside the GAN: what its discriminator thinks of each generated digit, and a walk through its latent space.

The shipped checkpoint (``weights/image-gan``) saves the discriminator D next to the generator G (see
``genai_demo.models.gan``), so D can be asked about any 28x28 digit. D is conditional: it answers "is this a real
<digit>?". Its score sigmoid(D(x, y)) is the training signal G learned from, not a calibrated probability: at the
end of training G's digits and real ones sit near the same score, because that balance is what the game aims for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from genai_demo.contract import Param, ParameterError, seed_param

REAL_SCORES_FILE = "discriminator_real.json"  # D on real test digits, written by scripts/make_explain_data.py

WALK_PARAMS = (
    Param("seed_a", "integer", 1, "Where the walk starts: the first digit the GAN draws with this seed.",
          label="Seed A", minimum=0, maximum=2**32 - 1, step=1),
    Param("seed_b", "integer", 2, "Where the walk ends: the first digit the GAN draws with this seed.",
          label="Seed B", minimum=0, maximum=2**32 - 1, step=1),
    Param("label", "choice", "3", "The digit both ends are drawn as.", label="Digit",
          choices=tuple(str(d) for d in range(10))),
    Param("num_frames", "integer", 24, "How many steps the walk takes from A to B.", label="Frames",
          minimum=2, maximum=60, step=1),
)
SCORE_PARAMS = (
    seed_param(),
    Param("num_images", "integer", 8, "How many digits to draw and show to the discriminator.",
          label="Number of images", minimum=1, maximum=32, step=1),
    Param("label", "choice", "any", "Which digit to draw; 'any' picks a random digit for each image.", label="Digit",
          choices=("any",) + tuple(str(d) for d in range(10))),
    Param("truncation", "slider", 1.0, "Scales the noise fed to the generator, as in the GAN panel.",
          minimum=0.0, maximum=2.0, step=0.05),
)


def validate(params: tuple[Param, ...], values: dict) -> dict:
    """Check values against declared parameters, with the contract's messages (name, value, allowed range)."""
    unknown = sorted(set(values) - {p.name for p in params})
    if unknown:
        raise ParameterError(f"unknown parameter {', '.join(unknown)}")
    return {p.name: p.validate(values.get(p.name, p.default)) for p in params}


@dataclass
class Scored:
    images: list  # PIL 28x28 grayscale
    labels: list[int]  # the digit each image was drawn as (and judged as)
    scores: list[float]  # sigmoid(D(x, y)): how "real" D thinks each image is
    noise_score: float  # D's mean score of random static given the same labels: the "surely fake" reference
    real_score: float | None  # D's mean score of real test digits, if known for these weights
    real_source: str  # where real_score comes from


def d_scores(model, images: list, labels: list[int]) -> list[float]:
    """sigmoid(D(x, y)) for grayscale PIL images (pixels mapped to [-1, 1], as D saw them in training)."""
    import numpy as np
    import torch

    device = next(model.parameters()).device
    x = torch.from_numpy(np.stack([np.asarray(im, dtype=np.float32) / 127.5 - 1 for im in images])).unsqueeze(1)
    with torch.no_grad():
        return torch.sigmoid(model.discriminator(x.to(device), torch.as_tensor(labels, dtype=torch.long,
                                                                               device=device))).tolist()


_real_cache: dict[str, tuple[float | None, str]] = {}


def real_score(adapter, model) -> tuple[float | None, str]:
    """D's mean score of real digits: precomputed for the shipped weights, else measured on local MNIST if present."""
    key = f"{adapter.weights_dir}:{adapter.weights_version}"
    if key in _real_cache:
        return _real_cache[key]
    found: tuple[float | None, str] = (None, "no real digits on this machine to compare with")
    try:
        record = json.loads((Path(adapter.weights_dir) / REAL_SCORES_FILE).read_text())
    except (OSError, ValueError):
        record = {}
    if record.get("weights_version") == adapter.weights_version and "mean_score" in record:
        found = (float(record["mean_score"]), f"{record['count']:,} real MNIST test digits")
    else:
        from PIL import Image

        from genai_demo.explain.real import real_digits

        real = real_digits(per_class=50)
        if real is not None:
            scores = d_scores(model, [Image.fromarray(a, mode="L") for a in real[0]], real[1].tolist())
            found = (sum(scores) / len(scores), f"{len(scores):,} real MNIST digits")
    _real_cache[key] = found
    return found


def score_generated(adapter, **params) -> Scored:
    """Draw digits exactly as the GAN panel does (same seed and settings, same pixels), then ask D about each."""
    import torch

    values = validate(SCORE_PARAMS, params)
    result = adapter.generate(**values)
    model = adapter.load()
    # The same private generator as the adapter's: its first draws are the labels when label is "any".
    _, labels, _, _ = adapter._labels(values["seed"], values["num_images"], values["label"])
    labels = labels.tolist()
    noise_gen = torch.Generator().manual_seed(values["seed"])
    from PIL import Image

    noise = [Image.fromarray((torch.rand(28, 28, generator=noise_gen) * 255).to(torch.uint8).numpy(), mode="L")
             for _ in labels]
    real, source = real_score(adapter, model)
    noise_scores = d_scores(model, noise, labels)
    return Scored(result.images, labels, d_scores(model, result.images, labels),
                  sum(noise_scores) / len(noise_scores), real, source)


def slerp(z0, z1, t: float):
    """Spherical interpolation (Shoemake, 1985), as White (2016, "Sampling Generative Networks") advises for GANs.

    A straight line between two Gaussian codes passes near the origin, where codes are shorter than any the
    generator saw in training; the arc keeps their length typical.
    """
    import torch

    a, b = z0 / z0.norm(), z1 / z1.norm()
    omega = torch.arccos((a * b).sum().clamp(-1 + 1e-7, 1 - 1e-7))
    if omega.abs() < 1e-4:  # nearly the same direction: the line is the arc
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


@dataclass
class Walk:
    frames: list  # PIL 28x28 grayscale, from A to B
    scores: list[float]  # D's score of each frame
    ts: list[float]  # position along the walk, 0 to 1


def latent_walk(adapter, **params) -> Walk:
    """Decode evenly spaced points on the arc between the codes of seed A and seed B, for one digit."""
    import torch

    from genai_demo.adapters.digits import to_pil

    values = validate(WALK_PARAMS, params)
    model = adapter.load()
    # z exactly as the adapter draws the first image of a request with this seed and a fixed digit (on its device).
    device = next(model.parameters()).device
    z_a = torch.randn(1, model.latent_dim, generator=torch.Generator(device).manual_seed(values["seed_a"]),
                      device=device)[0]
    z_b = torch.randn(1, model.latent_dim, generator=torch.Generator(device).manual_seed(values["seed_b"]),
                      device=device)[0]
    n = values["num_frames"]
    ts = [i / (n - 1) for i in range(n)]
    z = torch.stack([slerp(z_a, z_b, t) for t in ts])  # (n, latent_dim)
    labels = torch.full((n,), int(values["label"]), dtype=torch.long, device=device)
    with torch.no_grad():
        frames = to_pil((model.generator(z, labels) + 1) / 2)
    return Walk(frames, d_scores(model, frames, labels.tolist()), ts)
