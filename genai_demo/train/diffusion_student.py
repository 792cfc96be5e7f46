"""Distil the shipped diffusion model into a few-step student (``python -m genai_demo train image/diffusion-student``).

The teacher is the trained class-conditional UNet with classifier-free guidance, sampled with DPM-Solver++
(``teacher_steps`` steps, two network calls each). Its sampler is a deterministic map from start noise to a
digit; the student (the same UNet, started from the teacher's weights) learns that map for 1 to 4 steps of
``few_step_sample``, one network call each, with the guidance folded in (see ``genai_demo.models.diffusion``).

Training is on the student's own path: for a batch of start noises z with the teacher's digits x_0*, the student
runs K steps (K drawn from 1-4 per batch); at every step its predicted x_0 is pulled towards x_0* (mean squared
error), and the next step starts from where the student itself went (detached), as it will when it samples. The
teacher's digits are made as training goes: a pool is filled first, then topped up a little every step, so later
steps see fresh noise and the student does not just learn the pool by heart. Checkpoints are written every few
minutes, so a run cut short still leaves usable weights.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from genai_demo.models.diffusion import (STUDENT_MAX_STEPS, few_step_sample, make_scheduler, make_student, make_unet,
                                         sample,
                                         student_step, student_timesteps)
from genai_demo.train.common import MAX_SHARD_SIZE, TrainRun, invocation, save_grid, write_summary

DESCRIPTION = (
    "A few-step student of the class-conditional MNIST diffusion model: the same UNet, started from the teacher's "
    "weights (plus a second output channel, for a direct guess of the clean digit), learns to map start noise straight to the digit that the teacher's guided DPM-Solver++ sampler draws "
    "from it. It samples in 1 to 4 network calls with the guidance built in, instead of 2 calls per step for "
    "classifier-free guidance."
)
DEFAULT_TEACHER = Path(__file__).resolve().parents[2] / "weights" / "image-diffusion"


def load_teacher(teacher_dir):
    from diffusers import DDPMScheduler, UNet2DModel

    unet = UNet2DModel.from_pretrained(teacher_dir, subfolder="unet", low_cpu_mem_usage=False).eval().requires_grad_(False)
    return unet, DDPMScheduler.from_pretrained(teacher_dir, subfolder="scheduler")


@torch.no_grad()
def teacher_digits(teacher, noise_scheduler, n: int, generator: torch.Generator, steps: int, guidance: float):
    """n start noises, their digits (0-9 at random), and what the teacher's guided DPM-Solver++ makes of them."""
    labels = torch.randint(0, 10, (n,), generator=generator)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    # ``sample`` draws x_T first from its generator: the same seed gives the same noise here.
    z = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    scheduler = make_scheduler("DPM-Solver++", noise_scheduler.config)
    *_, (_, _, x, _) = sample(teacher, scheduler, labels, torch.Generator().manual_seed(seed), steps, guidance)
    return z, labels, x.clamp(-1, 1)


def stop_early_on_sigterm(run: TrainRun) -> None:
    """``kill PID`` ends the run at the next step as if its time budget were spent: it still saves and writes its card."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: setattr(run, "time_budget", 0.0))


class Pool:
    """The teacher's (noise, label, digit) triples, newest replacing oldest beyond ``capacity``."""

    def __init__(self, capacity: int):
        self.capacity, self.z, self.y, self.x0, self.added = capacity, None, None, None, 0

    def add(self, z, y, x0):
        if self.z is None:
            self.z, self.y, self.x0 = z, y, x0
        else:
            self.z, self.y, self.x0 = (torch.cat([a, b])[-self.capacity:] for a, b in ((self.z, z), (self.y, y), (self.x0, x0)))
        self.added += len(z)

    def batch(self, size: int, generator: torch.Generator):
        idx = torch.randint(0, len(self.z), (size,), generator=generator)
        return self.z[idx], self.y[idx], self.x0[idx]


def rollout_loss(student, z, y, x0_target, num_steps: int, alphas_cumprod, grad: bool = True) -> torch.Tensor:
    """Mean over the K steps of the squared error between the student's predicted x_0 and the teacher's digit."""
    ts = student_timesteps(num_steps)
    x, losses = z, []
    for i, t in enumerate(ts):
        with torch.set_grad_enabled(grad):
            x0, x_next = student_step(student, x, t, ts[i + 1] if i + 1 < len(ts) else None, y, alphas_cumprod)
            losses.append(F.mse_loss(x0, x0_target))
        x = x_next.detach()
    return torch.stack(losses).mean()


def train(data_dir, out_dir, *, preset: str = "base", epochs: int | None = None, max_steps: int | None = 3000,
          batch_size: int = 24, lr: float = 1e-4, seed: int = 0, time_budget: float | None = None,
          limit: int | None = None, teacher_dir=None, guidance_scale: float = 1.5, teacher_steps: int = 12,
          pool_start: int = 768, pool_refresh: int = 4, pool_capacity: int = 20000, ema_decay: float = 0.998,
          checkpoint_minutes: float = 4.0, eval_every: int = 50, resume_from=None) -> dict:
    """``data_dir`` and ``epochs`` are unused (the teacher makes the data); ``limit`` caps the starting pool.
    ``resume_from``: a student folder (holding ``unet/``) to go on training from, instead of starting from the
    teacher (the optimiser, the pool and the schedule start afresh).

    ``preset`` "tiny" distils a randomly initialised tiny teacher (for tests); otherwise the teacher is read from
    ``teacher_dir`` (default: the shipped weights/image-diffusion).
    """
    torch.manual_seed(seed)
    out_dir = Path(out_dir)
    if preset == "tiny" and teacher_dir is None:
        from genai_demo.models.diffusion import make_train_scheduler

        teacher, noise_scheduler = make_unet("tiny").eval().requires_grad_(False), make_train_scheduler()
    else:
        teacher, noise_scheduler = load_teacher(teacher_dir or DEFAULT_TEACHER)
    alphas_cumprod = noise_scheduler.alphas_cumprod
    if resume_from is not None:  # a student trained before: go on from its (averaged) weights
        from diffusers import UNet2DModel

        student = UNet2DModel.from_pretrained(Path(resume_from), subfolder="unet", low_cpu_mem_usage=False)
        student = student.train().requires_grad_(True)
    else:
        student = make_student(teacher).train().requires_grad_(True)  # the student starts as the teacher
    ema = copy.deepcopy(student).eval().requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    pool = Pool(pool_capacity)
    if limit:
        pool_start = min(pool_start, limit)
    run = TrainRun(out_dir, max_steps, time_budget, desc="image/diffusion-student", log_every=10)
    stop_early_on_sigterm(run)

    def make(n):
        pool.add(*teacher_digits(teacher, noise_scheduler, n, gen, teacher_steps, guidance_scale))

    # A fixed held-out set, never trained on, to watch the student's error for 1, 2 and 4 steps.
    held = teacher_digits(teacher, noise_scheduler, min(64, pool_start), torch.Generator().manual_seed(seed + 1),
                          teacher_steps, guidance_scale)
    started = time.perf_counter()
    for start in range(0, pool_start, 64):
        make(min(64, pool_start - start))
    run.log(event="pool filled", teacher_images=pool.added, seconds_to_fill=round(time.perf_counter() - started, 1))
    fixed_labels = torch.arange(10).repeat_interleave(10)

    def checkpoint(final=False):
        ema.save_pretrained(out_dir / "unet", max_shard_size=MAX_SHARD_SIZE)
        noise_scheduler.save_pretrained(out_dir / "scheduler")
        for k in (1, 2, 4):
            *_, (_, _, x, _) = few_step_sample(ema, alphas_cumprod, fixed_labels, torch.Generator().manual_seed(1234), k)
            save_grid((x + 1) / 2, out_dir / "samples" / f"{'final' if final else f'step_{run.step:05d}'}_{k}step.png")

    last_checkpoint, history, warmup = time.perf_counter(), [], 50
    for epoch in run.epochs():
        while not run.finished:
            if pool_refresh:
                make(pool_refresh)
            z, y, x0 = pool.batch(batch_size, gen)
            k = int(torch.randint(1, STUDENT_MAX_STEPS + 1, (1,), generator=gen))
            for group in opt.param_groups:
                group["lr"] = run.learning_rate(lr, warmup)
            loss = rollout_loss(student, z, y, x0, k, alphas_cumprod)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                decay = min(ema_decay, (1 + run.step) / (10 + run.step))
                for pe, p in zip(ema.parameters(), student.parameters()):
                    pe.lerp_(p, 1 - decay)
            history = (history + [loss.item()])[-100:]
            extra = {}
            if (run.step + 1) % eval_every == 0:
                with torch.no_grad():
                    extra = {f"held_out_{n}step": rollout_loss(ema, *held, n, alphas_cumprod, grad=False).item()
                             for n in (1, 2, 4)}
            run.advance(epoch, loss=loss.item(), steps=k, lr=opt.param_groups[0]["lr"], pool=pool.added, **extra)
            if time.perf_counter() - last_checkpoint > checkpoint_minutes * 60:
                checkpoint()
                last_checkpoint = time.perf_counter()
    run.close()
    checkpoint(final=True)
    with torch.no_grad():
        held_out = {f"val_{n}step_mse": rollout_loss(ema, *held, n, alphas_cumprod, grad=False).item() for n in (1, 2, 4)}
    summary = {
        "id": "image/diffusion-student", "title": "Few-step distilled diffusion model on MNIST", "description": DESCRIPTION,
        "tags": ["diffusion", "distillation", "few-step", "guidance-distillation", "mnist", "image-generation", "diffusers"],
        "data": f"{pool.added:,} digits drawn by the teacher ({teacher_steps}-step DPM-Solver++, guidance "
                f"{guidance_scale}) from fresh noise; {len(held[0])} more held out",
        "command": invocation(), "config": {"preset": preset, "guidance_scale": guidance_scale,
                                            "teacher_steps": teacher_steps, "most_sampling_steps": STUDENT_MAX_STEPS,
                                            **({"resumed_from": str(resume_from)} if resume_from else {})},
        "parameters": sum(p.numel() for p in ema.parameters()), "steps": run.step, "epochs": 1,
        "batch_size": batch_size, "seed": seed, "minutes": run.elapsed / 60,
        "final_losses": {"loss": sum(history) / max(1, len(history)), **held_out},
        "guidance_scale": guidance_scale, "teacher_steps": teacher_steps, "ema_decay": ema_decay,
        "limits": f"Draws 28x28 grayscale digits 0-9 only, in 1 to {STUDENT_MAX_STEPS} steps, with the teacher's "
                  f"guidance {guidance_scale} built in (it cannot be changed at sampling time); it can only be as good "
                  "as the teacher it copies. Weights are the exponential moving average of training.",
    }
    write_summary(out_dir, summary)
    return summary
