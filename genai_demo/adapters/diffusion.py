"""``image/diffusion``: the class-conditional diffusion model trained by ``python -m genai_demo train image/diffusion``."""

from __future__ import annotations

import time
from typing import Iterator

from genai_demo.adapters.digits import DigitAdapter, digit_params, strip, to_pil
from genai_demo.contract import Param, Result

MAX_STREAMED_FRAMES = 25  # intermediate images sent to the page (more only if steps are slow, see STREAM_INTERVAL)
STREAM_INTERVAL = 0.5  # seconds: the longest stretch of work between two streamed frames
MAX_PROCESS_SNAPSHOTS = 21  # steps kept for the trajectory view


def snapshot_steps(num_steps: int, wanted: int) -> set[int]:
    """About ``wanted`` evenly spaced step indices, always including the first and the last."""
    if num_steps <= wanted:
        return set(range(num_steps))
    return {round(i * (num_steps - 1) / (wanted - 1)) for i in range(wanted)}


class DiffusionAdapter(DigitAdapter):
    id = "image/diffusion"
    family = "diffusion"
    heavy = True  # many network passes per image
    slow = True
    title = "Diffusion: from pure noise to a digit, one small denoising step at a time"
    description = (
        "A diffusion model is trained to undo noise: it sees digits with noise added and learns to guess that noise. "
        "To draw, it starts from pure static and removes a little predicted noise at each step until a digit "
        "appears. Watch the images sharpen as it runs; the scheduler decides how big each step is, and guidance "
        "decides how strongly it follows the digit you asked for."
    )
    weights_files = ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json")
    params = digit_params() + (
        Param("scheduler", "choice", "DPM-Solver++", "The sampling method: DPM-Solver++ is good in 20 steps, DDIM in "
              "about 50, DDPM (the original) needs hundreds.", choices=("DPM-Solver++", "DDIM", "DDPM")),
        Param("num_inference_steps", "integer", 20, "How many denoising steps: more is slower and usually cleaner; "
              "1 step gives a blur.", label="Denoising steps", minimum=1, maximum=1000, step=1),
        Param("guidance_scale", "slider", 3.0, "Classifier-free guidance: 0 ignores the digit you asked for, 1 follows "
              "it plainly, higher follows it harder (too high looks overcooked).", label="Guidance scale",
              minimum=0.0, maximum=15.0, step=0.5),
        Param("eta", "slider", 0.0, "DDIM only: 0 makes sampling deterministic given the start noise, 1 adds fresh "
              "noise at every step like DDPM.", minimum=0.0, maximum=1.0, step=0.1, advanced=True),
    )

    def _load(self, weights_dir):
        from diffusers import DDPMScheduler, UNet2DModel

        unet = UNet2DModel.from_pretrained(weights_dir, subfolder="unet", low_cpu_mem_usage=False).eval()
        noise_scheduler = DDPMScheduler.from_pretrained(weights_dir, subfolder="scheduler")
        unet.noise_scheduler_config = noise_scheduler.config
        return unet

    def _generate(self, unet, *, seed: int, num_images: int, label: str, scheduler: str, num_inference_steps: int,
                  guidance_scale: float, eta: float) -> Iterator[Result]:
        from genai_demo.models.diffusion import make_scheduler, sample

        generator, labels, requested, captions = self._labels(seed, num_images, label)
        sched = make_scheduler(scheduler, unet.noise_scheduler_config)
        streamed = snapshot_steps(num_inference_steps, MAX_STREAMED_FRAMES)
        kept = snapshot_steps(num_inference_steps, MAX_PROCESS_SNAPSHOTS)
        process = []
        x = None
        last_yield = time.perf_counter()
        for i, t, x, x0 in sample(unet, sched, labels, generator, num_inference_steps, guidance_scale, eta):
            if i in kept:  # the first 8 images: where the sample is, and where the model thinks it is heading
                process.append({"label": f"step {i + 1}/{num_inference_steps} (t = {t})", "images": {
                    "noisy image x_t": strip(to_pil((x[:8].clamp(-1, 1) + 1) / 2)),
                    "predicted clean image x_0": strip(to_pil((x0[:8] + 1) / 2)),
                }})
            # Stream the planned frames, and at least every half second: a visitor who leaves stops the work at
            # the next frame, so frames must not be far apart.
            if i < num_inference_steps - 1 and (i in streamed or time.perf_counter() - last_yield > STREAM_INTERVAL):
                last_yield = time.perf_counter()
                yield Result(images=to_pil((x + 1) / 2), labels=requested,
                             captions=[f"step {i + 1}/{num_inference_steps}"] * num_images, done=False)
        yield Result(images=to_pil((x.clamp(-1, 1) + 1) / 2), labels=requested, captions=captions, process=process)
