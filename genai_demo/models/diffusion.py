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

Few-step distillation: the teacher's guided sampler (DPM-Solver++, two network calls a step for guidance) is a
deterministic map from start noise x_T to a digit. A student UNet of the same shape, started from the teacher's
weights, learns that map directly (Luhman and Luhman, 2021, "Knowledge Distillation in Iterative Generative
Models"), with the guidance folded in (Meng et al., 2023, "On Distillation of Guided Diffusion Models"): one call
per step, no guidance doubling. It runs in 1 to 4 steps like a consistency model's multistep sampler (Song et
al., 2023), but deterministic: each step predicts the teacher's final digit x_0 and jumps with DDIM's update to
the next, less noisy, timestep, where the next step corrects what is left. ``few_step_sample`` is that sampler.
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

STUDENT = "Distilled"  # the few-step student's sampler name, beside the schedulers below
STUDENT_MAX_STEPS = 4  # the student's steps (network calls) at most; it is trained for 1 to this many

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


def student_timesteps(num_steps: int) -> list[int]:
    """The student's timesteps for 1-4 steps, evenly spaced from pure noise: 4 -> [999, 749, 499, 249]."""
    if not 1 <= num_steps <= STUDENT_MAX_STEPS:
        raise ValueError(f"the distilled sampler takes 1 to {STUDENT_MAX_STEPS} steps, not {num_steps}")
    return [NUM_TRAIN_TIMESTEPS - 1 - k * NUM_TRAIN_TIMESTEPS // num_steps for k in range(num_steps)]


def make_student(teacher: UNet2DModel) -> UNet2DModel:
    """The few-step student, started from the teacher: the same UNet with a second output channel, all weights
    copied and the new channel's weights zero (so at first it adds nothing)."""
    student = UNet2DModel.from_config({**teacher.config, "out_channels": 2})
    state = teacher.state_dict()
    for name in ("conv_out.weight", "conv_out.bias"):
        state[name] = torch.cat([state[name], torch.zeros_like(state[name])])
    student.load_state_dict(state)
    return student


def student_x0(out: torch.Tensor, x: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """The student's predicted x_0 from its two output channels: a blend of the teacher's noise prediction,
    (x_t - sqrt(1 - abar) eps) / sqrt(abar), weighted abar, and a direct guess of x_0, weighted 1 - abar.

    The noise form alone is ill-conditioned where the image is almost all noise: at t = 999, sqrt(abar) = 0.0066,
    so an error in eps is multiplied by 150 in x_0 (why progressive distillation predicts x_0 or v, not eps). The
    blend gives the direct guess the noisy steps and keeps the teacher's own prediction for the nearly clean ones.
    """
    eps, direct = out[:, :1], out[:, 1:2]
    return abar * (x - (1 - abar).sqrt() * eps) / abar.sqrt() + (1 - abar) * direct


def student_step(unet: UNet2DModel, x: torch.Tensor, t: int, t_next: int | None, labels: torch.Tensor,
                 alphas_cumprod: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the few-step sampler: (the unclipped predicted x_0, the next x). One UNet call, no guidance pair.

    The predicted x_0 (``student_x0``) is clipped to the pixel range; then DDIM's deterministic update goes to
    t_next with the noise implied by the clipped x_0 (so the two stay consistent); the last step (t_next None)
    returns the clipped x_0 itself.
    """
    abar = alphas_cumprod[t]
    x0 = student_x0(unet(x, torch.as_tensor(t, device=x.device), class_labels=labels).sample, x, abar)
    clipped = x0.clamp(-1, 1)
    if t_next is None:
        return x0, clipped
    abar_next = alphas_cumprod[t_next]
    eps = (x - abar.sqrt() * clipped) / (1 - abar).sqrt()
    return x0, abar_next.sqrt() * clipped + (1 - abar_next).sqrt() * eps


@torch.no_grad()
def few_step_sample(unet: UNet2DModel, alphas_cumprod: torch.Tensor, labels: torch.Tensor, generator: torch.Generator,
                    num_steps: int) -> Iterator[tuple[int, int, torch.Tensor, torch.Tensor]]:
    """The distilled student's sampler, 1-4 UNet calls: yields (step, t, x, predicted x_0) like ``sample``."""
    ts = student_timesteps(num_steps)
    x = torch.randn(len(labels), 1, 28, 28, generator=generator, device=generator.device)
    alphas_cumprod = alphas_cumprod.to(x.device)
    for i, t in enumerate(ts):
        x0, x = student_step(unet, x, t, ts[i + 1] if i + 1 < len(ts) else None, labels, alphas_cumprod)
        yield i, t, x, x0.clamp(-1, 1)
