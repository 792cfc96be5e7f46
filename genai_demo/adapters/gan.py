"""``image/gan``: the class-conditional DCGAN trained by ``python -m genai_demo train image/gan``."""

from __future__ import annotations

from genai_demo.adapters.digits import DigitAdapter, digit_params
from genai_demo.contract import Param, Preset


class GANAdapter(DigitAdapter):
    id = "image/gan"
    family = "GAN"
    title = "GAN: a generator trained against a critic"
    description = (
        "A generative adversarial network is two networks in a contest. The generator turns random noise into a "
        "picture; the discriminator looks at real and generated digits and guesses which is which. Each learns "
        "from the other's mistakes until the generator's digits fool the discriminator. Drawing is one pass "
        "through the generator, so it is very fast."
    )
    translations = {"ko": {
        "title": "GAN: 판별자와 겨루며 학습한 생성자",
        "description": "생성적 적대 신경망(GAN)은 서로 겨루는 두 신경망입니다. 생성자는 무작위 노이즈를 그림으로 "
                       "바꾸고, 판별자는 진짜 숫자와 생성된 숫자를 보고 어느 쪽인지 맞힙니다. 둘은 서로의 실수에서 "
                       "배우며, 결국 생성자의 숫자가 판별자를 속이게 됩니다. 그림은 생성자를 한 번 통과하면 "
                       "완성되므로 매우 빠릅니다.",
    }}
    params = digit_params() + (
        Param("truncation", "slider", 1.0, "Scales the random noise fed to the generator: lower gives cleaner, more "
              "alike digits, 0 gives the same digit every time, higher gives wilder ones.",
              minimum=0.0, maximum=2.0, step=0.05,
              translations={"ko": ("노이즈 크기", "생성자에 넣는 무작위 노이즈의 크기를 조절합니다. 낮추면 더 깔끔하고 "
                                                "서로 닮은 숫자가, 0이면 매번 똑같은 숫자가, 높이면 더 거친 숫자가 "
                                                "나옵니다.")}),
    )
    presets = (
        Preset("tidy", {"truncation": 0.7}, {
            "en": ("Good: truncation 0.7", "clean, typical digits, still all different."),
            "ko": ("좋음: 노이즈 0.7", "깔끔하고 전형적인 숫자들이 나오지만, 여전히 모두 다릅니다.")}),
        Preset("same", {"label": "3", "truncation": 0.0}, {
            "en": ("Broken: truncation 0", "the same 3 every time: with no noise there is no variety."),
            "ko": ("망가짐: 노이즈 0", "매번 똑같은 3이 나옵니다. 노이즈가 없으면 다양성도 없습니다.")}, broken=True),
        Preset("wild", {"truncation": 2.0}, {
            "en": ("Broken: truncation 2", "noise far beyond what it trained on: blobs and broken strokes."),
            "ko": ("망가짐: 노이즈 2", "학습 때보다 훨씬 큰 노이즈: 얼룩과 끊어진 획이 나옵니다.")}, broken=True),
    )
    explain_views = ("gan",)  # the discriminator's scores and a walk through the latent space
    compared = True
    trainer = "genai_demo.train.gan"

    def _load(self, weights_dir):
        from genai_demo.models.gan import ConditionalGAN

        return ConditionalGAN.from_pretrained(weights_dir).eval().to(self.device)

    def _sample(self, model, labels, generator, *, truncation: float):
        return model.generate(labels, generator, truncation=truncation)
