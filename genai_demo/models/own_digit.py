"""What each family does with a digit someone drew: the algorithms, on 28x28 tensors in [0, 1].

- MNIST-style centring (LeCun, Cortes and Burges, the MNIST page): the ink's bounding box is scaled to fit a
  20x20 box keeping its aspect ratio (with anti-aliasing, which makes the grey levels), then placed in a 28x28 field
  so that its centre of mass sits at the centre. Every model here was trained on digits made that way.
- Diffusion, SDEdit (Meng et al., 2021, "SDEdit: Guided Image Synthesis and Editing with Stochastic Differential
  Equations"): noise the drawing to an intermediate time t0 with q(x_t0 | x_0) (DDPM eq. 4), then run the reverse
  process from there. Small t0 keeps the drawing, large t0 keeps only its rough shape.
- Diffusion, inpainting by replacement (as in RePaint, Lugmayr et al., 2022, without its resampling): at every
  reverse step the known pixels are overwritten by the original noised to that step's level, so only the erased
  region is generated, consistent with what surrounds it.
- PixelCNN completion: the autoregressive factorisation p(x) = prod_i p(x_i | x_<i) lets the model continue any
  prefix; ``PixelCNN.sample(prefix=..., first_row=...)`` keeps the top rows and samples the rest.
- GAN inversion by optimisation (Zhu et al., 2016, "Generative Visual Manipulation on the Natural Image Manifold";
  Creswell and Bharath, 2018): a GAN has no encoder, so search its latent space: minimise the pixel error between
  G(z) and the drawing by gradient descent on z, from several random starts, keeping z near the prior.
- VAE: its encoder gives the drawing's code mu(x, y) directly (Kingma and Welling, 2013).

Importing this module costs nothing: numpy, PIL and torch are imported inside the functions.
"""

from __future__ import annotations

from typing import Iterator

FIELD = 28  # MNIST's field
BOX = 20  # the box the ink's bounding box is scaled into


def center_like_mnist(ink):
    """A (H, W) float array of ink in [0, 1] (1 = ink) -> (28, 28) float32 in [0, 1], centred as MNIST digits are.

    Returns None where there is no ink at all.
    """
    import numpy as np
    from PIL import Image

    ink = np.clip(np.asarray(ink, dtype=np.float32), 0.0, 1.0)
    rows, cols = np.flatnonzero(ink.max(1) > 0.0), np.flatnonzero(ink.max(0) > 0.0)
    if len(rows) == 0:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)  # the longer side becomes 20 pixels, the aspect ratio is kept
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Anti-aliased scaling (Lanczos on floats) gives the grey edges MNIST digits have.
    small = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.LANCZOS), dtype=np.float32).clip(0, 1)
    total = small.sum()
    ys, xs = np.indices(small.shape)
    cy, cx = (ys * small).sum() / total, (xs * small).sum() / total  # centre of mass, in the small image's pixels
    centre = (FIELD - 1) / 2  # 13.5: the middle of the 28-pixel field
    top = int(np.clip(round(centre - cy), 0, FIELD - small.shape[0]))
    left = int(np.clip(round(centre - cx), 0, FIELD - small.shape[1]))
    out = np.zeros((FIELD, FIELD), dtype=np.float32)
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out


# -- diffusion: SDEdit and inpainting ------------------------------------------------------------------------------

def _noise_and_steps(scheduler, num_inference_steps: int, strength: float):
    """The reverse-process timesteps that start at noise level ``strength`` (img2img's rule in diffusers)."""
    scheduler.set_timesteps(num_inference_steps)
    start = min(num_inference_steps, max(1, round(num_inference_steps * strength)))
    return scheduler.timesteps[num_inference_steps - start :]


def reverse_step(unet, scheduler, x, t, labels, generator, guidance_scale: float):
    """One step of the reverse process: x_{t-1} from x_t and the guided noise prediction, and the predicted clean
    image x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) (DDPM eq. 4 inverted), clipped to [-1, 1]."""
    from genai_demo.models.diffusion import guided_noise

    eps = guided_noise(unet, x, t, labels, guidance_scale)
    abar = scheduler.alphas_cumprod[int(t)]
    x0_pred = ((x - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-1, 1)
    return scheduler.step(eps, t, x, generator=generator).prev_sample, x0_pred


def sdedit(unet, scheduler, x0, labels, generator, *, strength: float, num_inference_steps: int,
           guidance_scale: float) -> Iterator[tuple[int, int, object, object]]:
    """SDEdit: noise ``x0`` ((B, 1, 28, 28) in [0, 1]) to level ``strength`` (0: none, 1: pure noise) and denoise it.

    Yields (step, t, x_t, predicted x_0) after adding the noise (step -1) and after every reverse step; images in
    [-1, 1]. ``scheduler`` is a DDIM scheduler (deterministic given the start noise).
    """
    import torch

    with torch.no_grad():
        timesteps = _noise_and_steps(scheduler, num_inference_steps, strength)
        clean = x0 * 2 - 1
        noise = torch.randn(clean.shape, generator=generator, device=generator.device)
        # q(x_t0 | x_0) = N(sqrt(abar) x_0, (1 - abar) I): jump straight to the starting noise level (DDPM eq. 4).
        x = scheduler.add_noise(clean, noise, timesteps[:1].repeat(len(clean)))
        yield -1, int(timesteps[0]), x, clean
        for i, t in enumerate(timesteps):
            x, x0_pred = reverse_step(unet, scheduler, x, t, labels, generator, guidance_scale)
            yield i, int(t), x, x0_pred


def inpaint(unet, scheduler, x0, keep, labels, generator, *, num_inference_steps: int,
            guidance_scale: float) -> Iterator[tuple[int, int, object, object]]:
    """Fill the pixels where ``keep`` is 0 ((B, 1, 28, 28) of 0/1), keeping the rest of ``x0`` ([0, 1]).

    Starts from pure noise; after each reverse step the kept pixels are replaced by the original noised to the next
    step's level, so the model only ever generates the erased region. Yields as ``sdedit`` does.
    """
    import torch

    with torch.no_grad():
        scheduler.set_timesteps(num_inference_steps)
        timesteps = scheduler.timesteps
        clean = x0 * 2 - 1
        x = torch.randn(clean.shape, generator=generator, device=generator.device)
        x = keep * scheduler.add_noise(clean, x, timesteps[:1].repeat(len(clean))) + (1 - keep) * x
        yield -1, int(timesteps[0]), x, clean * keep
        for i, t in enumerate(timesteps):
            x, x0_pred = reverse_step(unet, scheduler, x, t, labels, generator, guidance_scale)
            if i + 1 < len(timesteps):  # the known region, at the next step's noise level
                fresh = torch.randn(clean.shape, generator=generator, device=generator.device)
                known = scheduler.add_noise(clean, fresh, timesteps[i + 1 : i + 2].repeat(len(clean)))
            else:
                known = clean
            x = keep * known + (1 - keep) * x
            yield i, int(t), x, x0_pred


# -- GAN: search the latent space ----------------------------------------------------------------------------------

def gan_search(gan, target, labels, generator, *, num_steps: int, num_starts: int, learning_rate: float = 0.05,
               prior_weight: float = 1e-3) -> Iterator[tuple[int, object, object]]:
    """Find z such that G(z, y) looks like ``target`` ((B, 1, 28, 28) in [0, 1]): Adam on the mean squared pixel
    error plus ``prior_weight`` * |z|^2 / latent_dim (which keeps z where the prior N(0, I) puts it), from
    ``num_starts`` random starts per target at once. ``labels``: (B,) the digits the generator is asked to draw.

    Yields (step, each target's best image so far (B, 1, 28, 28) in [0, 1], its mean squared pixel error (B,))
    every step; step 0 is before any update.
    """
    import torch

    b, s = len(target), num_starts
    z = torch.randn(b * s, gan.latent_dim, generator=generator, device=generator.device).requires_grad_(True)
    targets = target.repeat_interleave(s, dim=0)  # (B*S, 1, 28, 28): start j of target i is row i*S + j
    y = labels.repeat_interleave(s)
    optimiser = torch.optim.Adam([z], lr=learning_rate)
    for step in range(num_steps + 1):
        with torch.enable_grad():
            images = (gan.generator(z, y) + 1) / 2  # (B*S, 1, 28, 28) in [0, 1]
            errors = (images - targets).pow(2).flatten(1).mean(1)  # mean squared pixel error of every start
            loss = errors.sum() + prior_weight * z.pow(2).mean(1).sum()
        per_target = errors.detach().view(b, s)
        best = per_target.argmin(1) + torch.arange(b, device=z.device) * s  # each target's closest start
        yield step, images[best].detach(), per_target.min(1).values
        if step < num_steps:
            optimiser.zero_grad(set_to_none=True)
            (z.grad,) = torch.autograd.grad(loss, z)  # only z moves: the generator's weights stay as trained
            optimiser.step()
