"""``image/vae``: the class-conditional convolutional VAE trained by ``python -m genai_demo train image/vae``."""

from __future__ import annotations

from genai_demo.adapters.digits import DigitAdapter, digit_params
from genai_demo.contract import Param, Preset


class VAEAdapter(DigitAdapter):
    id = "image/vae"
    family = "VAE"
    title = "VAE: compress to a few numbers, then draw back"
    description = (
        "A variational autoencoder learns to squeeze every digit into a handful of numbers (its latent code) and to "
        "draw the digit back from them. Training keeps those codes spread like a bell curve, so any random code "
        "decodes to a plausible digit. Its drawings are smooth and a little blurry: it draws the average of what "
        "the code could mean."
    )
    params = digit_params() + (
        Param("temperature", "slider", 1.0, "Scales the random latent code: low gives the typical, tidy digit; high "
              "gives unusual and sometimes broken ones.", minimum=0.0, maximum=3.0, step=0.05,
              translations={"ko": ("온도", "무작위 잠재 코드의 크기를 조절합니다. 낮으면 전형적이고 깔끔한 숫자가, "
                                         "높으면 특이하고 때로는 망가진 숫자가 나옵니다.")}),
    )
    translations = {"ko": {
        "title": "VAE: 몇 개의 숫자로 압축했다가 다시 그리기",
        "description": "변분 오토인코더(VAE)는 모든 숫자 이미지를 몇 개의 수(잠재 코드)로 압축하고, 그 수로부터 "
                       "숫자를 다시 그리는 법을 배웁니다. 학습 과정에서 잠재 코드가 종 모양(정규분포)으로 퍼지도록 "
                       "하기 때문에, 아무 무작위 코드나 그럴듯한 숫자로 복원됩니다. 코드가 뜻할 수 있는 모습의 "
                       "평균을 그리므로 그림이 매끄럽고 약간 흐릿합니다.",
    }}
    presets = (
        Preset("typical", {"temperature": 0.7}, {
            "en": ("Good: temperature 0.7", "tidy, smooth digits, slightly blurry as VAEs are."),
            "ko": ("좋음: 온도 0.7", "VAE답게 약간 흐릿하지만 깔끔하고 매끄러운 숫자들입니다.")}),
        Preset("average", {"label": "3", "temperature": 0.0}, {
            "en": ("Broken: temperature 0", "one blurry average 3, repeated: the centre of the latent space."),
            "ko": ("망가짐: 온도 0", "흐릿한 평균 3 하나가 반복됩니다. 잠재 공간의 한가운데입니다.")}, broken=True),
        Preset("wild", {"temperature": 3.0}, {
            "en": ("Broken: temperature 3", "codes far from the bell curve decode to shapeless blots."),
            "ko": ("망가짐: 온도 3", "종 모양 분포에서 멀리 떨어진 코드는 형체 없는 얼룩으로 복원됩니다.")}, broken=True),
    )
    explain_views = ("vae",)  # the latent map and morphs between digits
    compared = True
    trainer = "genai_demo.train.vae"

    def _load(self, weights_dir):
        from genai_demo.models.vae import ConditionalVAE

        return ConditionalVAE.from_pretrained(weights_dir).eval().to(self.device)

    def _sample(self, model, labels, generator, *, temperature: float):
        return model.generate(labels, generator, temperature=temperature)
