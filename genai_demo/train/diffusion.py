"""Train the class-conditional diffusion model on MNIST (Ho et al., 2020, Algorithm 1, plus label dropout)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from genai_demo.models.diffusion import NULL_CLASS, PRESETS, SCHEDULERS, make_scheduler, make_train_scheduler, make_unet, sample
from genai_demo.train.common import MAX_SHARD_SIZE, TrainRun, invocation, mnist_tensors, save_grid, write_summary

DESCRIPTION = (
    "A class-conditional denoising diffusion model: diffusers' UNet2DModel with class embeddings learns to predict the "
    "noise added to a digit at any of 1,000 noise levels; sampling removes noise step by step, guided towards the "
    "requested digit by classifier-free guidance."
)


def train(data_dir, out_dir, *, preset: str = "base", epochs: int | None = None, max_steps: int | None = 6000,
          batch_size: int = 64, lr: float = 1e-3, seed: int = 0, time_budget: float | None = None,
          limit: int | None = None, p_uncond: float = 0.1, ema_decay: float = 0.999, sample_every: int = 1000) -> dict:
    torch.manual_seed(seed)
    images, labels, splits = mnist_tensors(data_dir, limit)
    x_all = images * 2 - 1  # DDPM works on data scaled to [-1, 1]
    unet = make_unet(preset)
    ema = copy.deepcopy(unet).eval().requires_grad_(False)  # exponential moving average of the weights: what ships
    noise_scheduler = make_train_scheduler()
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=0.0)
    steps_per_epoch = max(1, len(images) // batch_size)
    total = epochs * steps_per_epoch if epochs else max_steps
    if epochs and max_steps:
        total = min(total, max_steps)
    warmup = min(200, total // 10)
    # Linear warm-up, then cosine decay to zero over the planned steps.
    lr_at = lambda s: min(1.0, (s + 1) / max(1, warmup)) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total)))  # noqa: E731
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    run = TrainRun(out_dir, total, time_budget, desc="image/diffusion", log_every=50)
    fixed_labels = torch.arange(10).repeat_interleave(10)  # one row per digit in the saved sample grids
    history = []
    for epoch in run.epochs():
        unet.train()
        for idx in run.batches(len(images), batch_size):
            x0, y = x_all[idx], labels[idx].clone()
            y[torch.rand(len(y)) < p_uncond] = NULL_CLASS  # label dropout, for classifier-free guidance
            noise = torch.randn_like(x0)
            t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(x0),))
            x_t = noise_scheduler.add_noise(x0, noise, t)  # q(x_t | x_0), eq. 4
            loss = F.mse_loss(unet(x_t, t, class_labels=y).sample, noise)  # L_simple, eq. 14
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
            opt.step()
            sched.step()
            with torch.no_grad():
                decay = min(ema_decay, (1 + run.step) / (10 + run.step))  # short warm-up of the average
                for pe, p in zip(ema.parameters(), unet.parameters()):
                    pe.lerp_(p, 1 - decay)
            history.append(loss.item())
            history = history[-steps_per_epoch:]
            run.advance(epoch, loss=loss.item(), lr=sched.get_last_lr()[0])
            if run.step % sample_every == 0 or run.step == total:
                grid_scheduler = make_scheduler("DPM-Solver++", noise_scheduler.config)
                *_, (_, _, x, _) = sample(ema, grid_scheduler, fixed_labels, torch.Generator().manual_seed(1234), 20, 2.0)
                save_grid((x + 1) / 2, Path(out_dir) / "samples" / f"step_{run.step:05d}.png")
    run.close()
    ema.save_pretrained(Path(out_dir) / "unet", max_shard_size=MAX_SHARD_SIZE)
    noise_scheduler.save_pretrained(Path(out_dir) / "scheduler")
    summary = {
        "id": "image/diffusion", "title": "Class-conditional diffusion model on MNIST", "description": DESCRIPTION,
        "tags": ["diffusion", "ddpm", "classifier-free-guidance", "mnist", "image-generation", "diffusers"],
        "data": f"MNIST, {len(images):,} images from the {'+'.join(splits)} split(s), pixels scaled to [-1, 1]",
        "command": invocation(), "config": {"preset": preset, **{k: list(v) if isinstance(v, tuple) else v for k, v in PRESETS[preset].items()}},
        "parameters": sum(p.numel() for p in ema.parameters()), "steps": run.step, "epochs": run.epochs_done,
        "batch_size": batch_size, "seed": seed, "minutes": run.elapsed / 60,
        "final_losses": {"loss": sum(history) / max(1, len(history))},
        "schedulers": list(SCHEDULERS), "p_uncond": p_uncond, "ema_decay": ema_decay,
        "limits": "Draws 28x28 grayscale digits 0-9 only. Few steps with DDPM give noise; DPM-Solver++ needs about "
                  "20. Weights are the exponential moving average of training.",
    }
    write_summary(out_dir, summary)
    return summary
