"""``image/autoregressive``: the Gated PixelCNN trained by ``python -m genai_demo train image/autoregressive``."""

from __future__ import annotations

from typing import Iterator

from genai_demo.adapters.digits import DigitAdapter, digit_params, strip, to_pil
from genai_demo.contract import Param, Preset, Result
from genai_demo.words import Say


class AutoregressiveAdapter(DigitAdapter):
    id = "image/autoregressive"
    family = "autoregressive"
    title = "Autoregressive: one pixel at a time, each chosen from the pixels before it"
    description = (
        "An autoregressive model writes its output one piece at a time, like GPT writes one word at a time. This "
        "PixelCNN reads pixels left to right, top to bottom, and for each next pixel predicts how likely each shade "
        "is, given every pixel already drawn and the digit you asked for. Drawing picks each pixel at random from "
        "that prediction: watch the digit fill in row by row."
    )
    params = digit_params() + (
        Param("temperature", "slider", 1.0, "Sharpens or flattens each pixel's probabilities: 0 always takes the most "
              "likely shade, 1 samples as trained, higher adds speckles and broken strokes.",
              minimum=0.0, maximum=2.0, step=0.05,
              translations={"ko": ("온도", "각 픽셀의 확률을 뾰족하게 하거나 평평하게 합니다. 0이면 언제나 가장 가능성 "
                                         "높은 명암을, 1이면 학습한 그대로 뽑고, 더 높으면 얼룩과 끊어진 획이 "
                                         "생깁니다.")}),
    )
    translations = {"ko": {
        "title": "자기 회귀 모델: 한 번에 한 픽셀씩, 앞의 픽셀을 보고 고르기",
        "description": "자기 회귀 모델은 GPT가 한 번에 한 단어씩 쓰듯 결과를 한 조각씩 만듭니다. 이 PixelCNN은 "
                       "픽셀을 왼쪽에서 오른쪽, 위에서 아래로 읽으며, 이미 그린 모든 픽셀과 요청한 숫자를 보고 다음 "
                       "픽셀이 각 명암일 확률을 예측합니다. 그 예측에서 픽셀을 하나씩 무작위로 뽑습니다. 숫자가 한 "
                       "줄씩 채워지는 모습을 지켜보세요.",
    }}
    presets = (
        Preset("good", {"num_images": 4, "label": "3", "temperature": 1.0}, {
            "en": ("Good: temperature 1", "pixels sampled as trained: readable, varied 3s."),
            "ko": ("좋음: 온도 1", "학습한 그대로 픽셀을 뽑습니다. 알아볼 수 있고 다양한 3들입니다.")}),
        Preset("greedy", {"num_images": 4, "label": "3", "temperature": 0.0}, {
            "en": ("Broken: temperature 0", "a blank black square: the most likely shade of every pixel is black."),
            "ko": ("망가짐: 온도 0", "새까만 빈 사각형: 모든 픽셀에서 가장 가능성 높은 명암은 검은색입니다.")},
            broken=True),
        Preset("hot", {"num_images": 4, "label": "3", "temperature": 2.0}, {
            "en": ("Broken: temperature 2", "unlikely shades win too often: speckles and tangled strokes."),
            "ko": ("망가짐: 온도 2", "가능성 낮은 명암이 너무 자주 뽑혀 얼룩과 엉킨 획이 생깁니다.")}, broken=True),
    )
    compared = True
    trainer = "genai_demo.train.pixelcnn"
    shares_steps = 4  # images from every request draw each pixel together, 64 a pass: four default requests

    def estimate_seconds(self, values: dict) -> float:
        return 0.3 + 0.02 * values["num_images"]  # 784 one-column passes: 16 images in 0.5-0.6 s (one thread)
    words = {"ko": {"rows 1-{row} of {rows}": "{rows}줄 중 1~{row}번째 줄",
                    "row {row} of {rows}": "{rows}줄 중 {row}번째 줄",
                    "drawn so far": "지금까지 그린 것",
                    "probability of each chosen shade (dark: a surprising choice)":
                        "고른 명암마다의 확률(어두울수록 뜻밖의 선택)"}}

    def _load(self, weights_dir):
        from genai_demo.models.pixelcnn import PixelCNN

        return PixelCNN.from_pretrained(weights_dir).eval().to(self.device)

    def _generate(self, model, *, seed: int, num_images: int, label: str, temperature: float) -> Iterator[Result]:
        generator, labels, requested, captions = self._labels(seed, num_images, label)
        process = []
        confidence = None
        for row, canvas, probs in model.sample(labels, generator, temperature=temperature):
            images = canvas.unsqueeze(1).float() / (model.levels - 1)
            # How likely the model thought each pixel it drew was (first 8 images): dark = a surprising choice.
            chosen = probs[:8].gather(2, canvas[:8, row].unsqueeze(2)).squeeze(2)  # (8, W)
            if confidence is None:
                confidence = images.new_zeros(len(chosen), 1, *canvas.shape[1:])
            confidence[:, 0, row] = chosen
            shown = images.clone()
            shown[:, :, row + 1 :, :] = 0.25  # not yet drawn: mid-grey, so the page shows how far it has got
            if row % 2 == 1 or row == canvas.shape[1] - 1:
                process.append({"label": Say("rows 1-{row} of {rows}", row=row + 1, rows=canvas.shape[1]), "images": {
                    Say("drawn so far"): strip(to_pil(shown[:8])),
                    Say("probability of each chosen shade (dark: a surprising choice)"): strip(to_pil(confidence.clone())),
                }})
            if row < canvas.shape[1] - 1:
                yield Result(images=to_pil(shown), labels=requested, done=False,
                             captions=[Say("row {row} of {rows}", row=row + 1, rows=canvas.shape[1])] * num_images)
        yield Result(images=to_pil(images), labels=requested, captions=captions, process=process)
