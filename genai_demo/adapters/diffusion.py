"""``image/diffusion``: the class-conditional diffusion model trained by ``python -m genai_demo train image/diffusion``."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Iterator

from genai_demo.adapters.digits import DigitAdapter, digit_params, strip, to_pil
from genai_demo.contract import Follows, ModelUnavailable, Param, ParameterError, Preset, Result
from genai_demo.words import Say

MAX_STREAMED_FRAMES = 25  # intermediate images sent to the page (more only if steps are slow, see STREAM_INTERVAL)
STREAM_INTERVAL = 0.5  # seconds: the longest stretch of work between two streamed frames
MAX_PROCESS_SNAPSHOTS = 21  # steps kept for the trajectory view
# The few-step student's sampler (genai_demo.models.diffusion.few_step_sample; the same names there, which a test
# checks): named here too so that listing the models imports no torch.
STUDENT = "Distilled"
STUDENT_MAX_STEPS = 4
STUDENT_GUIDANCE = 1.5  # built into the student at training time (genai_demo/train/diffusion_student.py)
# Each sampler's own number of steps: what the steps control jumps to when it is picked, and what a request that
# names the sampler but no steps gets (the student, the default since issue 13: 1 to 4; docs/diffusion.md).
SAMPLER_STEPS = {STUDENT: 4, "DPM-Solver++": 20, "DDIM": 50, "DDPM": 200}


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
        "decides how strongly it follows the digit you asked for. The Distilled method is a shortcut: a student "
        "network watched this model draw thousands of digits and learned to jump from the same static to the same "
        "finished digit in a few steps, one network call each instead of two for guidance. It is the default: 4 steps "
        "make 4 network calls per image instead of DPM-Solver++'s 40, about ten times faster, and on 2,500 digits a "
        "digit classifier recognised its digits as often (98.9% against 99.2%) and found them about as close to real "
        "handwriting."
    )
    TEACHER_FILES = ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json")
    # The few-step student (python -m genai_demo train image/diffusion-student): optional; where it is missing,
    # only the "Distilled" sampler is refused.
    STUDENT_FILES = ("student/unet/config.json", "student/unet/diffusion_pytorch_model.safetensors")
    params = digit_params() + (
        Param("scheduler", "choice", STUDENT, "The sampling method: DPM-Solver++ is good in 20 steps, DDIM in "
              "about 50, DDPM (the original) needs hundreds. Distilled, the default, is a second, student network "
              "that learned to copy DPM-Solver++ in 1 to 4 steps, with guidance 1.5 built in: about ten times fewer "
              "network calls.",
              label="Sampling method", choices=("DPM-Solver++", "DDIM", "DDPM", STUDENT),
              translations={"ko": ("샘플링 방법", "노이즈를 걷어 내는 방법입니다. DPM-Solver++는 20단계로 충분하고, "
                                                "DDIM은 약 50단계, DDPM(원조 방법)은 수백 단계가 필요합니다. 기본값인 '증류'는 "
                                                "DPM-Solver++의 결과를 1~4단계 만에 따라 하도록 배운 두 번째 학생 "
                                                "신경망으로, 가이던스 1.5가 이미 들어 있어 신경망 계산이 약 10분의 1로 "
                                                "줄어듭니다.")},
              choice_names={"en": {STUDENT: "Distilled (1-4 steps)"}, "ko": {STUDENT: "증류 (1~4단계)"}}),
        Param("num_inference_steps", "integer", SAMPLER_STEPS[STUDENT], "How many denoising steps: more is slower and usually cleaner; "
              "1 step gives a blur. The Distilled sampler takes 1 to 4.", label="Denoising steps", minimum=1,
              maximum=1000, step=1,
              translations={"ko": ("노이즈 제거 단계 수", "노이즈를 걷어 내는 단계의 수입니다. 많을수록 느리지만 대개 더 "
                                                       "깨끗합니다. 1단계면 흐릿한 얼룩이 됩니다. '증류' 방법은 "
                                                       "1~4단계만 씁니다.")},
              # The page's control follows the sampler: 1-4 (4) for the student, each other sampler's own number.
              follows=Follows("scheduler", ranges={
                  name: {"value": n, **({"minimum": 1, "maximum": STUDENT_MAX_STEPS} if name == STUDENT else {})}
                  for name, n in SAMPLER_STEPS.items()})),
        Param("guidance_scale", "slider", 1.5, "Classifier-free guidance: 0 ignores the digit you asked for, 1 follows "
              "it plainly, higher follows it harder. Around 1.5 nearly every digit is recognised and the strokes vary "
              "like real handwriting; from 3 they grow bold and alike (too high looks overcooked). The Distilled "
              "sampler has 1.5 built in.", label="Guidance scale", minimum=0.0, maximum=15.0, step=0.5,
              translations={"ko": ("가이던스 세기", "분류기 없는 가이던스: 0은 요청한 숫자를 무시하고, 1은 그대로 "
                                                  "따르고, 더 높으면 더 강하게 따릅니다. 1.5 근처에서는 거의 모든 "
                                                  "숫자가 알아볼 수 있고 획이 진짜 손글씨처럼 저마다 다릅니다. 3부터는 "
                                                  "획이 굵어지고 서로 비슷해집니다(너무 높으면 과하게 익은 듯 "
                                                  "보입니다). '증류' 방법에는 1.5가 이미 들어 있습니다.")},
              # The student's guidance is built in: the control shows its 1.5, cannot be moved, and says why.
              follows=Follows("scheduler", ranges={STUDENT: {"value": STUDENT_GUIDANCE}}, fixed={STUDENT: {
                  "en": "Fixed at 1.5 for the Distilled method: the student learned this guidance and has it built "
                        "in, so this slider changes nothing. Pick another sampling method to change it.",
                  "ko": "'증류' 방법에서는 1.5로 고정됩니다. 학생 신경망이 이 가이던스를 배워 이미 갖고 있어서, 이 "
                        "슬라이더는 아무것도 바꾸지 않습니다. 바꾸려면 다른 샘플링 방법을 고르세요."}})),
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
                       "정합니다. '증류' 방법은 지름길입니다. 학생 신경망이 이 모델이 숫자 수천 개를 그리는 모습을 "
                       "보고, 같은 잡음에서 같은 완성된 숫자로 몇 단계 만에 건너뛰는 법을 배웠습니다. 가이던스 때문에 "
                       "단계마다 두 번 하던 신경망 계산도 한 번이면 됩니다. 이것이 기본 방법입니다. 4단계면 이미지마다 "
                       "신경망 계산이 DPM-Solver++의 40번 대신 4번이라 약 10배 빠르고, 숫자 2,500개로 재어 보니 숫자 "
                       "분류기가 거의 똑같이 잘 알아보았고(98.9% 대 99.2%) 진짜 손글씨와의 거리도 거의 같았습니다.",
    }}
    # The default is the student (4 steps); the presets keep the teacher's samplers, steps and guidance explorable.
    TEACHER_SETTINGS = {"scheduler": "DPM-Solver++", "num_inference_steps": 20}
    presets = (
        Preset("distilled", {"label": "3", "scheduler": STUDENT, "num_inference_steps": 4}, {
            "en": ("Good: distilled, 4 steps (the default)", "3s that vary like real handwriting, nearly all "
                                                             "recognised, in 4 network calls each."),
            "ko": ("좋음: 증류, 4단계 (기본)", "진짜 손글씨처럼 저마다 다른 3들이 나오고, 거의 모두 알아볼 수 "
                                          "있습니다. 이미지마다 신경망 계산 4번이면 됩니다.")}),
        Preset("good", {"label": "3", **TEACHER_SETTINGS, "guidance_scale": 1.5}, {
            "en": ("Teacher: DPM-Solver++, 20 steps", "about the same 3s from the same seed, the way the student "
                                                       "learned them: 40 network calls each, about ten times slower."),
            "ko": ("선생님: DPM-Solver++, 20단계", "같은 시드에서 거의 같은 3들이, 학생이 배운 그대로 나옵니다. "
                                             "이미지마다 신경망 계산 40번이라 약 10배 느립니다.")}),
        Preset("distilled_one_step", {"label": "3", "scheduler": STUDENT, "num_inference_steps": 1}, {
            "en": ("Fast: distilled, 1 step", "the same 3s in one network call, blurrier at the edges."),
            "ko": ("빠름: 증류, 1단계", "신경망 계산 한 번으로 같은 3들이 나오지만, 가장자리가 더 흐릿합니다.")}),
        Preset("guidance_1", {"label": "3", **TEACHER_SETTINGS, "guidance_scale": 1.0}, {
            "en": ("Trade-off: guidance 1", "the teacher with the most varied strokes, but some 3s are hard to "
                                            "recognise."),
            "ko": ("맞바꿈: 가이던스 1", "선생님 모델의 획이 가장 다양하지만, 몇몇 3은 알아보기 어렵습니다.")}),
        Preset("guidance_3", {"label": "3", **TEACHER_SETTINGS, "guidance_scale": 3.0}, {
            "en": ("Trade-off: guidance 3", "every 3 recognised, but bolder and more alike than real handwriting."),
            "ko": ("맞바꿈: 가이던스 3", "모든 3을 알아볼 수 있지만, 진짜 손글씨보다 획이 굵고 서로 비슷합니다.")}),
        Preset("no_guidance", {"label": "3", **TEACHER_SETTINGS, "guidance_scale": 0.0}, {
            "en": ("Broken: guidance 0", "it ignores the digit asked for: random digits, some of them not digits at "
                                         "all."),
            "ko": ("망가짐: 가이던스 0", "요청한 숫자를 무시합니다. 아무 숫자나 나오고, 일부는 숫자조차 아닙니다.")},
            broken=True),
        Preset("one_step", {"label": "3", "scheduler": "DPM-Solver++", "num_inference_steps": 1}, {
            "en": ("Broken: one step of DPM-Solver++", "a blurry 3 in a haze of leftover noise: the teacher needs "
                                                       "many steps, the student was trained for few."),
            "ko": ("망가짐: DPM-Solver++ 1단계", "남은 노이즈 속에 흐릿한 3이 보일 뿐입니다. 선생님 모델은 여러 "
                                            "단계가 필요하고, 학생은 적은 단계로 배웠습니다.")}, broken=True),
        Preset("overcooked", {"label": "3", **TEACHER_SETTINGS, "guidance_scale": 15.0}, {
            "en": ("Too much: guidance 15", "thick, overcooked strokes, all alike."),
            "ko": ("과함: 가이던스 15", "굵고 과하게 익은 듯한 획, 모두 비슷합니다.")}, broken=True),
    )
    compared = True
    trainer = "genai_demo.train.diffusion"
    SECONDS_PER_IMAGE_STEP = 0.0105  # bench: 16 images x 1,000 DDPM steps in 167 s, with guidance (two passes a step)

    def estimate_seconds(self, values: dict) -> float:
        passes = 2 if values["guidance_scale"] not in (0.0, 1.0) and values["scheduler"] != STUDENT else 1
        return self.SECONDS_PER_IMAGE_STEP * passes / 2 * values["num_images"] * values["num_inference_steps"]
    words = {"ko": {"step {step} of {steps} (t = {t})": "{steps}단계 중 {step}단계 (t = {t})",
                    "step {step} of {steps}": "{steps}단계 중 {step}단계",
                    "noisy image x_t": "노이즈가 섞인 이미지 x_t",
                    "predicted clean image x_0": "모델이 예측한 깨끗한 이미지 x_0"}}

    def __init__(self, weights_root=None):
        super().__init__(weights_root)
        if not (self.weights_dir / self.STUDENT_FILES[0]).is_file():  # no student here: the teacher's default
            teacher = {"scheduler": "DPM-Solver++", "num_inference_steps": SAMPLER_STEPS["DPM-Solver++"]}
            self.params = tuple(replace(p, default=teacher[p.name]) if p.name in teacher else p for p in self.params)

    @property
    def weights_files(self) -> tuple[str, ...]:
        """The teacher's files, and the student's where it is there (so they count in the weights version)."""
        return self.TEACHER_FILES + (self.STUDENT_FILES if (self.weights_dir / self.STUDENT_FILES[0]).is_file() else ())

    def _load(self, weights_dir):
        from diffusers import DDPMScheduler, UNet2DModel

        unet = UNet2DModel.from_pretrained(weights_dir, subfolder="unet", low_cpu_mem_usage=False).eval()
        unet.to(self.device)
        noise_scheduler = DDPMScheduler.from_pretrained(weights_dir, subfolder="scheduler")
        unet.noise_scheduler_config = noise_scheduler.config
        student = None
        if self.STUDENT_FILES[0] in self.weights_files:
            student = UNet2DModel.from_pretrained(weights_dir / "student", subfolder="unet", low_cpu_mem_usage=False)
            student = student.eval().to(self.device)
        # A plain attribute, not a submodule: the info line counts the teacher's parameters.
        object.__setattr__(unet, "student", student)
        return unet

    @staticmethod
    def alphas_cumprod(unet):
        """abar_t of the training noise schedule, for the student's sampler."""
        from genai_demo.models.diffusion import make_scheduler

        if not hasattr(unet, "_alphas_cumprod"):
            unet._alphas_cumprod = make_scheduler("DDPM", unet.noise_scheduler_config).alphas_cumprod
        return unet._alphas_cumprod

    def validate(self, params: dict) -> dict:
        values = super().validate(params)
        if values["scheduler"] == STUDENT and values["num_inference_steps"] > STUDENT_MAX_STEPS:
            raise ParameterError(f"num_inference_steps={values['num_inference_steps']} is too many for the "
                                 f"{STUDENT} sampler: expected an integer from 1 to {STUDENT_MAX_STEPS}",
                                 # The page's line names the control and the range this sampler allows.
                                 param=replace(self.param("num_inference_steps"), maximum=STUDENT_MAX_STEPS),
                                 reason="out_of_range", value=values["num_inference_steps"])
        return values

    def _generate(self, unet, *, seed: int, num_images: int, label: str, scheduler: str, num_inference_steps: int,
                  guidance_scale: float, eta: float) -> Iterator[Result]:
        from genai_demo.models.diffusion import few_step_sample, make_scheduler, sample

        if scheduler == STUDENT and unet.student is None:
            raise ModelUnavailable(f"the {STUDENT} sampler needs the few-step student, which is not in "
                                   f"{self.weights_dir / 'student'}; train it with: python -m genai_demo train "
                                   f"image/diffusion-student --out {self.weights_dir / 'student'}")
        generator, labels, requested, captions = self._labels(seed, num_images, label)
        if scheduler == STUDENT:  # guidance is built into the student: one network call per step
            steps = few_step_sample(unet.student, self.alphas_cumprod(unet), labels, generator, num_inference_steps)
        else:
            steps = sample(unet, make_scheduler(scheduler, unet.noise_scheduler_config), labels, generator,
                           num_inference_steps, guidance_scale, eta)
        streamed = snapshot_steps(num_inference_steps, MAX_STREAMED_FRAMES)
        kept = snapshot_steps(num_inference_steps, MAX_PROCESS_SNAPSHOTS)
        process = []
        x = None
        last_yield = time.perf_counter()
        for i, t, x, x0 in steps:
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
