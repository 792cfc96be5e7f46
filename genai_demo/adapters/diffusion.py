"""``image/diffusion``: the class-conditional diffusion model trained by ``python -m genai_demo train image/diffusion``."""

from __future__ import annotations

import time
from typing import Iterator

from genai_demo.adapters.digits import DigitAdapter, digit_params, strip, to_pil
from genai_demo.contract import Param, Preset, Result
from genai_demo.words import Say

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
              "about 50, DDPM (the original) needs hundreds.", label="Sampling method",
              choices=("DPM-Solver++", "DDIM", "DDPM"),
              translations={"ko": ("샘플링 방법", "노이즈를 걷어 내는 방법입니다. DPM-Solver++는 20단계로 충분하고, "
                                                "DDIM은 약 50단계, DDPM(원조 방법)은 수백 단계가 필요합니다.")}),
        Param("num_inference_steps", "integer", 20, "How many denoising steps: more is slower and usually cleaner; "
              "1 step gives a blur.", label="Denoising steps", minimum=1, maximum=1000, step=1,
              translations={"ko": ("노이즈 제거 단계 수", "노이즈를 걷어 내는 단계의 수입니다. 많을수록 느리지만 대개 더 "
                                                       "깨끗합니다. 1단계면 흐릿한 얼룩이 됩니다.")}),
        Param("guidance_scale", "slider", 3.0, "Classifier-free guidance: 0 ignores the digit you asked for, 1 follows "
              "it plainly, higher follows it harder (too high looks overcooked).", label="Guidance scale",
              minimum=0.0, maximum=15.0, step=0.5,
              translations={"ko": ("가이던스 세기", "분류기 없는 가이던스: 0은 요청한 숫자를 무시하고, 1은 그대로 "
                                                  "따르고, 더 높으면 더 강하게 따릅니다(너무 높으면 과하게 익은 듯 "
                                                  "보입니다).")}),
        Param("eta", "slider", 0.0, "DDIM only: 0 makes sampling deterministic given the start noise, 1 adds fresh "
              "noise at every step like DDPM.", label="Fresh noise per step (DDIM)", minimum=0.0, maximum=1.0,
              step=0.1, advanced=True,
              translations={"ko": ("단계마다 새 노이즈(DDIM)", "DDIM 전용: 0이면 시작 노이즈가 같을 때 샘플링이 "
                                                            "결정적이고, 1이면 DDPM처럼 매 단계 새 노이즈를 더합니다.")}),
    )
    translations = {"ko": {
        "title": "확산 모델: 순수한 노이즈에서 숫자까지, 한 번에 조금씩 노이즈 제거",
        "description": "확산 모델은 노이즈를 걷어 내도록 학습합니다. 노이즈가 섞인 숫자를 보고 그 노이즈를 "
                       "맞히는 법을 배우는 것이죠. 그림을 그릴 때는 순수한 잡음에서 시작해, 매 단계 예측한 노이즈를 "
                       "조금씩 걷어 내어 숫자가 나타나게 합니다. 실행되는 동안 이미지가 선명해지는 모습을 "
                       "지켜보세요. 샘플링 방법은 각 단계의 크기를, 가이던스는 요청한 숫자를 얼마나 강하게 따를지를 "
                       "정합니다.",
    }}
    presets = (
        Preset("good", {"label": "3", "scheduler": "DPM-Solver++", "num_inference_steps": 20, "guidance_scale": 3.0}, {
            "en": ("Good: 20 steps, guidance 3", "crisp 3s, each one different."),
            "ko": ("좋음: 20단계, 가이던스 3", "또렷한 3들이 나오고, 모두 조금씩 다릅니다.")}),
        Preset("no_guidance", {"label": "3", "guidance_scale": 0.0}, {
            "en": ("Broken: guidance 0", "it ignores the digit asked for: random digits, some of them not digits at "
                                         "all."),
            "ko": ("망가짐: 가이던스 0", "요청한 숫자를 무시합니다. 아무 숫자나 나오고, 일부는 숫자조차 아닙니다.")},
            broken=True),
        Preset("one_step", {"label": "3", "num_inference_steps": 1}, {
            "en": ("Broken: one denoising step", "a blurry 3 in a haze of leftover noise."),
            "ko": ("망가짐: 노이즈 제거 1단계", "남은 노이즈 속에 흐릿한 3이 보일 뿐입니다.")}, broken=True),
        Preset("overcooked", {"label": "3", "guidance_scale": 15.0}, {
            "en": ("Too much: guidance 15", "thick, overcooked strokes, all alike."),
            "ko": ("과함: 가이던스 15", "굵고 과하게 익은 듯한 획, 모두 비슷합니다.")}, broken=True),
    )
    compared = True
    trainer = "genai_demo.train.diffusion"
    SECONDS_PER_IMAGE_STEP = 0.0105  # bench: 16 images x 1,000 DDPM steps in 167 s, with guidance (two passes a step)

    def estimate_seconds(self, values: dict) -> float:
        passes = 2 if values["guidance_scale"] not in (0.0, 1.0) else 1
        return self.SECONDS_PER_IMAGE_STEP * passes / 2 * values["num_images"] * values["num_inference_steps"]
    words = {"ko": {"step {step} of {steps} (t = {t})": "{steps}단계 중 {step}단계 (t = {t})",
                    "step {step} of {steps}": "{steps}단계 중 {step}단계",
                    "noisy image x_t": "노이즈가 섞인 이미지 x_t",
                    "predicted clean image x_0": "모델이 예측한 깨끗한 이미지 x_0"}}

    def _load(self, weights_dir):
        from diffusers import DDPMScheduler, UNet2DModel

        unet = UNet2DModel.from_pretrained(weights_dir, subfolder="unet", low_cpu_mem_usage=False).eval()
        unet.to(self.device)
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
                process.append({"label": Say("step {step} of {steps} (t = {t})", step=i + 1, steps=num_inference_steps,
                                             t=int(t)), "images": {
                    Say("noisy image x_t"): strip(to_pil((x[:8].clamp(-1, 1) + 1) / 2)),
                    Say("predicted clean image x_0"): strip(to_pil((x0[:8] + 1) / 2)),
                }})
            # Stream the planned frames, and at least every half second: a visitor who leaves stops the work at
            # the next frame, so frames must not be far apart.
            if i < num_inference_steps - 1 and (i in streamed or time.perf_counter() - last_yield > STREAM_INTERVAL):
                last_yield = time.perf_counter()
                yield Result(images=to_pil((x + 1) / 2), labels=requested,
                             captions=[Say("step {step} of {steps}", step=i + 1, steps=num_inference_steps)] * num_images,
                             done=False)
        yield Result(images=to_pil((x.clamp(-1, 1) + 1) / 2), labels=requested, captions=captions, process=process)
