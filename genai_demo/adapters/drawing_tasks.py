"""What each family does with a visitor's digit (``adapters/drawing.py`` reads the picture and declares the task):

- ``draw/vae``: the VAE's code for the drawing, marked on the latent map; its reconstruction; a morph to a
  generated digit.
- ``draw/sdedit`` and ``draw/inpaint``: the diffusion model adds noise to a chosen level and removes it (SDEdit),
  or fills an erased region, step by step.
- ``draw/complete``: the PixelCNN keeps the top rows and draws the rest, pixel by pixel.
- ``draw/gan_search``: the GAN searches its latent space for the digit it can draw nearest to the drawing.
"""

from __future__ import annotations

import time
from typing import Iterator

from genai_demo.adapters.autoregressive import AutoregressiveAdapter
from genai_demo.adapters.diffusion import DiffusionAdapter
from genai_demo.adapters.digits import strip, to_pil
from genai_demo.adapters.drawing import DIGITS, MAX_SECONDS, DrawingTask
from genai_demo.adapters.gan import GANAdapter
from genai_demo.adapters.vae import VAEAdapter
from genai_demo.contract import Param, Result
from genai_demo.words import Say

def _steps_param(default: int) -> Param:
    return Param("num_inference_steps", "integer", default, "How many denoising steps a full run from pure noise "
                 "would take; SDEdit runs only the last part of them.", label="Denoising steps", minimum=4, maximum=100,
                 step=1, advanced=True,
                 translations={"ko": ("노이즈 제거 단계 수", "순수한 노이즈에서 시작할 때의 전체 단계 수입니다. 노이즈를 "
                                                          "섞었다가 걷어 낼 때는 그중 뒷부분만 실행합니다.")})


GUIDANCE = Param("guidance_scale", "slider", 2.0, "How strongly the model follows the digit it is told the drawing is "
                 "(0 ignores it).", label="Guidance scale", minimum=0.0, maximum=10.0, step=0.5, advanced=True,
                 translations={"ko": ("가이던스 세기", "모델이 이 그림이라고 들은 숫자를 얼마나 강하게 따를지입니다(0은 "
                                                    "무시).")})

DIFFUSION_WORDS = {"ko": {"noised to level {level:.2f}": "노이즈 {level:.2f} 단계까지 섞음",
                          "after removing the noise": "노이즈를 걷어 낸 뒤",
                          "step {step} of {steps} (t = {t})": "{steps}단계 중 {step}단계 (t = {t})",
                          "noise added (t = {t})": "노이즈를 더함 (t = {t})",
                          "noisy image x_t": "노이즈가 섞인 이미지 x_t",
                          "predicted clean image x_0": "모델이 예측한 깨끗한 이미지 x_0",
                          "erased: {region}": "지운 곳: {region}", "filled in": "채운 결과",
                          "top half": "위쪽 절반", "bottom half": "아래쪽 절반", "left half": "왼쪽 절반",
                          "right half": "오른쪽 절반", "middle": "가운데"}}


def diffusion_frames(loop, n: int, started: float):
    """Stream a reverse process's steps (``own_digit.sdedit`` or ``inpaint``): yields intermediate results (the noisy
    image and the predicted clean one); returns (the noised start, the last image, about 12 process frames), in
    [0, 1]. Stops early past ``MAX_SECONDS``."""
    first = last = None
    process = []
    every = max(1, n // 12)
    for i, t, xt, x0 in loop:
        shown, predicted = (xt.clamp(-1, 1) + 1) / 2, (x0 + 1) / 2
        name = Say("noise added (t = {t})", t=t) if i < 0 else Say("step {step} of {steps} (t = {t})", step=i + 1,
                                                                   steps=n, t=t)
        if i < 0:
            first = shown
        if i < 0 or i % every == 0 or i == n - 1:
            process.append({"label": name, "images": {Say("noisy image x_t"): strip(to_pil(shown), 6),
                                                      Say("predicted clean image x_0"): strip(to_pil(predicted), 6)}})
        last = shown
        if i < n - 1:
            yield Result(images=to_pil(shown) + to_pil(predicted), captions=[name, Say("predicted clean image x_0")],
                         done=False)
        if time.perf_counter() - started > MAX_SECONDS:
            break
    return first, last, process


SECONDS_PER_STEP = 0.012  # one guided diffusion step on one digit (two UNet passes), on a 2-core CPU


class SDEditTask(DrawingTask):
    base_class = DiffusionAdapter
    id = "draw/sdedit"
    title = "Diffusion: add noise to the drawing, then remove it (SDEdit)"
    description = ("The drawing is mixed with noise up to the chosen level, then the diffusion model removes the noise "
                   "step by step, as if it had started from pure noise. A low level keeps your drawing; a high level "
                   "keeps only its rough shape and the model redraws the rest.")
    translations = {"ko": {"title": "확산 모델: 그림에 노이즈를 섞었다가 걷어 내기(SDEdit)",
                           "description": "그림에 고른 만큼 노이즈를 섞은 뒤, 확산 모델이 순수한 노이즈에서 시작할 때처럼 "
                                          "한 단계씩 노이즈를 걷어 냅니다. 노이즈가 적으면 내 그림이 남고, 많으면 대략적인 "
                                          "모양만 남아 나머지는 모델이 다시 그립니다."}}
    params = DrawingTask.params + (
        Param("strength", "slider", 0.5, "How much noise is added before the model removes it: 0 none, 1 pure noise "
              "(the drawing is forgotten).", label="Noise level", minimum=0.05, maximum=1.0, step=0.05,
              translations={"ko": ("노이즈 양", "모델이 걷어 내기 전에 섞는 노이즈의 양입니다. 0은 없음, 1은 순수한 "
                                              "노이즈(그림이 잊힘)입니다.")}),
        _steps_param(20), GUIDANCE)
    words = DIFFUSION_WORDS

    def estimate_seconds(self, values: dict) -> float:
        return 0.3 + SECONDS_PER_STEP * values["num_inference_steps"] * values["strength"]

    def _generate(self, unet, *, digit, label, seed, strength, num_inference_steps, guidance_scale) -> Iterator[Result]:
        from genai_demo.models.diffusion import make_scheduler
        from genai_demo.models.own_digit import sdedit

        started = time.perf_counter()
        x, labels, generator, reading = self.prepare(unet, digit, label, seed)
        scheduler = make_scheduler("DDIM", unet.noise_scheduler_config)
        n = max(1, round(num_inference_steps * strength))
        loop = sdedit(unet, scheduler, x, labels, generator, strength=strength, num_inference_steps=num_inference_steps,
                      guidance_scale=guidance_scale)
        first, last, process = yield from diffusion_frames(loop, n, started)
        final = self.readings(last)[0]
        images = to_pil(x) + to_pil(first) + to_pil(last)
        captions = [Say("your drawing, 28x28"), Say("noised to level {level:.2f}", level=strength),
                    self.read_caption(final)]
        yield self.final(images, captions, process, int(labels[0]), reading, result_reading=final)


REGIONS = {"top half": (slice(0, 14), slice(0, 28)), "bottom half": (slice(14, 28), slice(0, 28)),
           "left half": (slice(0, 28), slice(0, 14)), "right half": (slice(0, 28), slice(14, 28)),
           "middle": (slice(8, 20), slice(8, 20))}


class InpaintTask(DrawingTask):
    base_class = DiffusionAdapter
    id = "draw/inpaint"
    title = "Diffusion: erase part of the drawing and let the model fill it in"
    description = ("A region of the drawing is erased. The model starts from noise there and removes it step by step; "
                   "after every step the rest of the picture is put back, noised to the same level, so what it draws "
                   "must fit what you drew.")
    translations = {"ko": {"title": "확산 모델: 그림 일부를 지우고 모델이 채우게 하기",
                           "description": "그림의 한 부분을 지웁니다. 모델은 그곳을 노이즈에서 시작해 한 단계씩 "
                                          "걷어 내고, 매 단계 뒤에 나머지 부분을 같은 양의 노이즈와 함께 되돌려 놓습니다. "
                                          "그래서 모델이 그리는 것은 내가 그린 부분과 맞아야 합니다."}}
    params = DrawingTask.params + (
        Param("region", "choice", "bottom half", "Which part of the drawing is erased and filled in.",
              label="Erase", choices=tuple(REGIONS),
              translations={"ko": ("지울 곳", "그림에서 지우고 채울 부분입니다.")},
              choice_names={"en": {r: r for r in REGIONS},
                            "ko": {"top half": "위쪽 절반", "bottom half": "아래쪽 절반", "left half": "왼쪽 절반",
                                   "right half": "오른쪽 절반", "middle": "가운데"}}),
        _steps_param(25), GUIDANCE)
    words = DIFFUSION_WORDS

    def estimate_seconds(self, values: dict) -> float:
        return 0.3 + SECONDS_PER_STEP * values["num_inference_steps"]

    def _generate(self, unet, *, digit, label, seed, region, num_inference_steps, guidance_scale) -> Iterator[Result]:
        import torch

        from genai_demo.models.diffusion import make_scheduler
        from genai_demo.models.own_digit import inpaint

        started = time.perf_counter()
        x, labels, generator, reading = self.prepare(unet, digit, label, seed)
        keep = torch.ones_like(x)
        keep[..., REGIONS[region][0], REGIONS[region][1]] = 0
        scheduler = make_scheduler("DDIM", unet.noise_scheduler_config)
        loop = inpaint(unet, scheduler, x, keep, labels, generator, num_inference_steps=num_inference_steps,
                       guidance_scale=guidance_scale)
        _, last, process = yield from diffusion_frames(loop, num_inference_steps, started)
        erased = x * keep + 0.35 * (1 - keep)  # the erased region shown mid-grey
        final = self.readings(last)[0]
        captions = [Say("your drawing, 28x28"), Say("erased: {region}", region=Say(region)), self.read_caption(final)]
        yield self.final(to_pil(x) + to_pil(erased) + to_pil(last), captions, process, int(labels[0]), reading,
                         result_reading=final)


class CompleteTask(DrawingTask):
    base_class = AutoregressiveAdapter
    id = "draw/complete"
    title = "PixelCNN: keep the top half, draw the bottom half pixel by pixel"
    description = ("The autoregressive model reads pixels left to right, top to bottom. It keeps the top rows of your "
                   "drawing as if it had drawn them itself, then picks every following pixel from what it predicts "
                   "after all the pixels before it. Each completion is a different guess.")
    translations = {"ko": {"title": "PixelCNN: 위쪽 절반은 두고 아래쪽 절반을 한 픽셀씩 그리기",
                           "description": "자기 회귀 모델은 픽셀을 왼쪽에서 오른쪽, 위에서 아래로 읽습니다. 내 그림의 "
                                          "위쪽 줄들을 자기가 그린 것처럼 그대로 두고, 그 뒤의 모든 픽셀을 앞선 픽셀들을 "
                                          "보고 예측한 확률에서 하나씩 고릅니다. 완성할 때마다 다른 추측이 나옵니다."}}
    params = DrawingTask.params + (
        Param("num_images", "integer", 4, "How many different completions to draw.", label="Completions",
              minimum=1, maximum=8, step=1, translations={"ko": ("완성 개수", "서로 다르게 완성할 그림의 개수입니다.")}),
        Param("keep_rows", "integer", 14, "How many rows of the drawing are kept, from the top (14 is the top half).",
              label="Rows kept", minimum=1, maximum=27, step=1, advanced=True,
              translations={"ko": ("남길 줄 수", "위에서부터 남길 그림의 줄 수입니다(14는 위쪽 절반).")}),
        Param("temperature", "slider", 1.0, "0 always takes each pixel's most likely shade; 1 samples as trained.",
              minimum=0.0, maximum=2.0, step=0.05, advanced=True,
              translations={"ko": ("온도", "0이면 픽셀마다 가장 가능성 높은 명암을, 1이면 학습한 그대로 뽑습니다.")}),
    )
    words = {"ko": {"kept: the top {rows} rows": "남긴 부분: 위쪽 {rows}줄", "row {row} of {rows}": "{rows}줄 중 {row}번째 줄",
                    "rows 1-{row} of {rows}": "{rows}줄 중 1~{row}번째 줄", "drawn so far": "지금까지 그린 것"}}

    def estimate_seconds(self, values: dict) -> float:
        return 0.5 + (28 - values["keep_rows"]) * (0.05 + 0.006 * values["num_images"])

    def _generate(self, model, *, digit, label, seed, num_images, keep_rows, temperature) -> Iterator[Result]:
        from genai_demo.models.pixelcnn import quantize

        started = time.perf_counter()
        x, labels, generator, reading = self.prepare(model, digit, label, seed)
        prefix = quantize(x, model.levels).expand(num_images, -1, -1)
        kept = prefix.unsqueeze(1).float() / (model.levels - 1)
        kept[:, :, keep_rows:] = 0.25
        process, images = [], None
        for row, canvas, _ in model.sample(labels.expand(num_images), generator, temperature=temperature,
                                           prefix=prefix, first_row=keep_rows):
            images = canvas.unsqueeze(1).float() / (model.levels - 1)
            shown = images.clone()
            shown[:, :, row + 1 :] = 0.25  # not drawn yet: mid-grey
            if (row - keep_rows) % 2 == 1 or row == 27:
                process.append({"label": Say("rows 1-{row} of {rows}", row=row + 1, rows=28),
                                "images": {Say("drawn so far"): strip(to_pil(shown), 4)}})
            if row < 27:
                yield Result(images=to_pil(shown), captions=[Say("row {row} of {rows}", row=row + 1, rows=28)] * num_images,
                             done=False)
            if time.perf_counter() - started > MAX_SECONDS:
                images = shown
                break
        finals = self.readings(images)
        captions = [Say("kept: the top {rows} rows", rows=keep_rows)] + [self.read_caption(r) for r in finals]
        yield self.final(to_pil(kept[:1]) + to_pil(images), captions, process, int(labels[0]), reading,
                         result_readings=finals)


class GANSearchTask(DrawingTask):
    base_class = GANAdapter
    id = "draw/gan_search"
    title = "GAN: search for the digit it can draw nearest to yours"
    description = ("A GAN cannot read a drawing: it only turns noise into digits. So we search: starting from a few "
                   "random noise vectors, we nudge each one, step by step, so that the generator's digit looks more "
                   "like yours, and keep the closest. What it finds is the nearest digit it knows how to draw.")
    translations = {"ko": {"title": "GAN: 내 그림에 가장 가까운 숫자를 찾기",
                           "description": "GAN은 그림을 읽지 못하고, 노이즈를 숫자로 바꿀 줄만 압니다. 그래서 찾아봅니다. "
                                          "무작위 노이즈 몇 개에서 시작해 생성자가 그린 숫자가 내 그림과 더 닮도록 한 "
                                          "단계씩 조금씩 옮기고, 가장 가까운 것을 고릅니다. 찾은 것은 GAN이 그릴 줄 아는 "
                                          "숫자 중 가장 가까운 숫자입니다."}}
    params = DrawingTask.params + (
        Param("num_steps", "integer", 150, "How many search steps: more gets closer, slowly.", label="Search steps",
              minimum=1, maximum=500, step=1, translations={"ko": ("찾기 단계 수", "찾는 단계의 수입니다. 많을수록 더 "
                                                                              "가까워지지만 느립니다.")}),
        Param("num_starts", "integer", 8, "How many random starting points are searched at once; the closest wins.",
              label="Starting points", minimum=1, maximum=32, step=1, advanced=True,
              translations={"ko": ("시작점 수", "한꺼번에 찾기 시작하는 무작위 시작점의 수입니다. 가장 가까운 것이 "
                                              "뽑힙니다.")}),
    )
    words = {"ko": {"step {step} of {steps}: pixel error {error:.4f}": "{steps}단계 중 {step}단계: 픽셀 오차 {error:.4f}",
                    "nearest GAN digit: pixel error {error:.4f}": "가장 가까운 GAN 숫자: 픽셀 오차 {error:.4f}",
                    "search progress": "찾는 과정"}}
    STREAM_EVERY = 5  # steps between two streamed images

    def estimate_seconds(self, values: dict) -> float:
        return 0.2 + 0.0015 * values["num_steps"] * (1 + values["num_starts"] / 8)

    def _generate(self, gan, *, digit, label, seed, num_steps, num_starts) -> Iterator[Result]:
        from genai_demo.models.own_digit import gan_search

        started = time.perf_counter()
        x, labels, generator, reading = self.prepare(gan, digit, label, seed)
        process, best, error, history = [], None, None, []
        for step, best, errors in gan_search(gan, x, labels, generator, num_steps=num_steps, num_starts=num_starts):
            error = float(errors[0])
            history.append(error)
            if step % max(1, num_steps // 10) == 0 or step == num_steps:
                process.append({"label": Say("step {step} of {steps}: pixel error {error:.4f}", step=step,
                                             steps=num_steps, error=error),
                                "images": {Say("search progress"): strip(to_pil(best), 6)}})
            if step < num_steps and step % self.STREAM_EVERY == 0:
                yield Result(images=to_pil(x) + to_pil(best), done=False,
                             captions=[Say("your drawing, 28x28"),
                                       Say("step {step} of {steps}: pixel error {error:.4f}", step=step, steps=num_steps,
                                           error=error)])
            if time.perf_counter() - started > MAX_SECONDS:
                break
        final = self.readings(best)[0]
        captions = [Say("your drawing, 28x28"), Say("nearest GAN digit: pixel error {error:.4f}", error=error)]
        yield self.final(to_pil(x) + to_pil(best), captions, process, int(labels[0]), reading, result_reading=final,
                         pixel_error=round(error, 6), error_history=[round(e, 6) for e in history])


class VAETask(DrawingTask):
    base_class = VAEAdapter
    id = "draw/vae"
    title = "VAE: encode the drawing, see where it lands, draw it back"
    description = ("The VAE's encoder turns your drawing into its code: a few numbers that hold its style. The map "
                   "shows where that code lands among real digits; the decoder draws the code back (the "
                   "reconstruction); and a straight walk from your code to a random one morphs your digit into a "
                   "generated one.")
    translations = {"ko": {"title": "VAE: 그림을 코드로 바꾸고, 어디에 놓이는지 보고, 다시 그리기",
                           "description": "VAE의 인코더는 내 그림을 코드로 바꿉니다. 코드는 그림의 스타일을 담은 몇 개의 "
                                          "수입니다. 지도는 그 코드가 진짜 숫자들 사이 어디에 놓이는지 보여 주고, 디코더는 "
                                          "코드를 다시 그림으로 그립니다(복원). 내 코드에서 무작위 코드까지 곧게 걸어가면 "
                                          "내 숫자가 생성된 숫자로 바뀝니다."}}
    params = DrawingTask.params + (
        Param("morph_to", "choice", "same", "The digit the morph ends at: 'same' keeps the digit and changes only the "
              "style.", label="Morph into", choices=("same",) + DIGITS,
              translations={"ko": ("바꿀 숫자", "모핑이 끝나는 숫자입니다. '같은 숫자'는 숫자는 두고 스타일만 "
                                              "바꿉니다.")},
              choice_names={"en": {"same": "the same digit"}, "ko": {"same": "같은 숫자"}}),
        Param("num_frames", "integer", 12, "How many steps the morph takes.", label="Frames", minimum=2, maximum=30,
              step=1, advanced=True, translations={"ko": ("프레임 수", "모핑의 단계 수입니다.")}),
    )
    words = {"ko": {"the latent map: your drawing is the ring": "잠재 공간 지도: 고리가 내 그림입니다",
                    "reconstruction": "복원", "generated digit {digit}": "생성된 숫자 {digit}",
                    "morph {i} of {n}": "모핑 {n}개 중 {i}번째"}}

    def estimate_seconds(self, values: dict) -> float:
        return 0.05

    def _generate(self, vae, *, digit, label, seed, morph_to, num_frames) -> Iterator[Result]:
        import numpy as np
        import torch

        from genai_demo.explain import vae as explain

        x, labels, generator, reading = self.prepare(vae, digit, label, seed)
        with torch.no_grad():
            mu, _ = vae.encode(x, labels)
            recon = torch.sigmoid(vae.decode(mu, labels))
            end_label = int(labels[0]) if morph_to == "same" else int(morph_to)
            z_end = torch.randn(1, vae.latent_dim, generator=generator, device=generator.device)
            generated = torch.sigmoid(vae.decode(z_end, torch.tensor([end_label], device=x.device)))
        lmap = explain.latent_map(self.base)
        point = lmap.to_plane(mu.cpu().numpy())[0]
        marker = tuple(float(np.clip(v, -explain.EXTENT, explain.EXTENT)) for v in point)
        the_map = explain.render_map(self.base, str(int(labels[0])), "this digit", marker=marker)
        ts = np.linspace(0.0, 1.0, num_frames)
        codes = (1 - ts)[:, None] * mu.cpu().numpy() + ts[:, None] * z_end.cpu().numpy()
        mix = np.zeros((num_frames, vae.num_classes), dtype=np.float32)
        mix[:, int(labels[0])] += 1 - ts
        mix[:, end_label] += ts
        frames = to_pil(explain.decode(vae, codes, mix))
        recon_reading = self.readings(recon)[0]
        yield Result(images=[the_map] + to_pil(recon) + to_pil(generated) + frames,
                     captions=[Say("the latent map: your drawing is the ring"), Say("reconstruction"),
                               Say("generated digit {digit}", digit=end_label)]
                     + [Say("morph {i} of {n}", i=i + 1, n=num_frames) for i in range(num_frames)],
                     labels=[int(labels[0]), int(labels[0]), end_label] + [-1] * num_frames,
                     info={"reading": reading, "result_reading": recon_reading, "label_used": int(labels[0]),
                           "map_point": [round(float(v), 3) for v in point], "map_source": lmap.source})


DRAWING_TASKS: tuple[type[DrawingTask], ...] = (VAETask, SDEditTask, InpaintTask, CompleteTask, GANSearchTask)


def drawing_tasks(models) -> list[DrawingTask]:
    """The tasks whose family's model is among ``models`` (a registry's or a tab's), each using that very adapter."""
    by_class = {type(m): m for m in models}
    return [cls(by_class[cls.base_class].weights_root, base=by_class[cls.base_class]) for cls in DRAWING_TASKS
            if cls.base_class in by_class]
