"""A class-conditional denoising diffusion model for 28x28 digits, built from diffusers' parts.

DDPM (Ho, Jain and Abbeel, 2020, "Denoising Diffusion Probabilistic Models"): a forward process adds
Gaussian noise over T = 1000 steps, q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) (eq. 4), and a
network eps_theta(x_t, t, y) learns to predict that noise (the simple loss, eq. 14). Sampling runs the
process backwards from pure noise. The network is diffusers' ``UNet2DModel`` with class embeddings; the
reverse process is any diffusers scheduler (DDPM, DDIM, DPM-Solver++), chosen at sampling time, because
all of them only need eps_theta and the same noise schedule.

Classifier-free guidance (Ho and Salimans, 2022): during training the label is replaced by a "null"
class 10% of the time, so the same network also predicts unconditional noise. At sampling time
eps = eps(x_t, null) + w * (eps(x_t, y) - eps(x_t, null)); w = 0 ignores the label, w = 1 is the plain
conditional model, w > 1 pushes harder towards the requested digit.
"""

from __future__ import annotations

from typing import Iterator

import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DModel

NULL_CLASS = 10  # the "no label" class used for classifier-free guidance
NUM_TRAIN_TIMESTEPS = 1000

# Named sizes: "tiny" for tests (4 and 8 channels, as in diffusers' own fast tests), "base" for the shipped model.
PRESETS = {
    "tiny": dict(block_out_channels=(4, 8), down_block_types=("DownBlock2D", "DownBlock2D"),
                 up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4),
    "base": dict(block_out_channels=(32, 64, 64), down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
                 up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"), norm_num_groups=8),
}

# Scheduler names as the UI shows them -> (diffusers class, extra config).
SCHEDULERS = {
    # Lu et al., 2022: a second-order solver of the diffusion ODE; good digits in 10-25 steps. Dynamic
    # thresholding keeps its predicted x_0 inside the pixel range, as pixel-space models need.
    "DPM-Solver++": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                                   "thresholding": True, "sample_max_value": 1.0}),
    # Song, Meng and Ermon, 2020: deterministic when eta = 0, DDPM-like when eta = 1. No clipping of the
    # predicted x_0: DDIM would pair the clipped x_0 with the unclipped noise, which breaks its update
    # (measured: 5% of DDIM-50 digits recognised with clipping, 100% without).
    "DDIM": (DDIMScheduler, {"clip_sample": False}),
    # Ho et al., 2020: the original ancestral sampler, made for all 1000 steps.
    "DDPM": (DDPMScheduler, {}),
}


def make_unet(preset: str = "base") -> UNet2DModel:
    """A UNet for 1x28x28 images with 11 class embeddings (digits 0-9 and the null class); 28 -> 14 -> 7."""
    return UNet2DModel(sample_size=28, in_channels=1, out_channels=1, layers_per_block=1,
                       num_class_embeds=NULL_CLASS + 1, **PRESETS[preset])


def make_train_scheduler() -> DDPMScheduler:
    # DDPM's own linear schedule, beta from 1e-4 to 0.02 (Ho et al., sec. 4).
    return DDPMScheduler(num_train_timesteps=NUM_TRAIN_TIMESTEPS, beta_schedule="linear", clip_sample=True)


def make_scheduler(name: str, config) -> object:
    """A sampling scheduler of the given family, sharing the noise schedule the UNet was trained with."""
    cls, extra = SCHEDULERS[name]
    return cls.from_config(config, **extra)


def guided_noise(unet: UNet2DModel, x: torch.Tensor, t, labels: torch.Tensor, guidance_scale: float) -> torch.Tensor:
    """Classifier-free guidance: eps_null + w (eps_y - eps_null), with one batched UNet call when both are needed."""
    t = torch.as_tensor(t)
    if guidance_scale == 0:
        return unet(x, t, class_labels=torch.full_like(labels, NULL_CLASS)).sample
    if guidance_scale == 1:
        return unet(x, t, class_labels=labels).sample
    both = unet(torch.cat([x, x]), t, class_labels=torch.cat([labels, torch.full_like(labels, NULL_CLASS)])).sample
    eps_cond, eps_null = both.chunk(2)
    return eps_null + guidance_scale * (eps_cond - eps_null)


@torch.no_grad()
def sample(unet: UNet2DModel, scheduler, labels: torch.Tensor, generator: torch.Generator, num_inference_steps: int,
           guidance_scale: float, eta: float = 0.0) -> Iterator[tuple[int, int, torch.Tensor, torch.Tensor]]:
    """Run the reverse process. Yields (step, t, x_t, predicted x_0) after every step, images in [-1, 1].

    The predicted clean image inverts eq. 4: x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t).
    """
    scheduler.set_timesteps(num_inference_steps)
    # x_T ~ N(0, I), drawn on the generator's device: the model's.
    x = torch.randn(len(labels), 1, 28, 28, generator=generator, device=generator.device) * scheduler.init_noise_sigma
    alphas_cumprod = scheduler.alphas_cumprod
    kwargs = {"eta": eta} if isinstance(scheduler, DDIMScheduler) else {}
    for i, t in enumerate(scheduler.timesteps):
        model_input = scheduler.scale_model_input(x, t)
        eps = guided_noise(unet, model_input, t, labels, guidance_scale)
        abar = alphas_cumprod[int(t)]
        x0 = ((model_input - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-1, 1)
        x = scheduler.step(eps, t, x, generator=generator, **kwargs).prev_sample  # x_{t-1} from x_t and eps
        yield i, int(t), x, x0
