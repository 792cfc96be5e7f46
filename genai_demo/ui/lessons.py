"""Lessons: what each tab teaches, in English and Korean; and how a model's presets apply.

The lessons retell the project's seed document (``shared/seed/genai-introduction.md``, written in both
languages): what generative AI is, the four families, and its limits (the About tab). Each model declares its
presets next to it (``ModelAdapter.presets``): values with a one-line commentary that describes what the shipped
weights really draw at those settings (checked by eye on seed 1), so a class sees each control's failure mode.
"""

from __future__ import annotations

import re
from pathlib import Path

from genai_demo.contract import Preset
from genai_demo.ui import i18n


def presets_for(adapter) -> tuple[Preset, ...]:
    """The presets that fit this adapter: every value names one of its parameters and passes its validation."""
    names = {p.name: p for p in adapter.params}
    fitting = []
    for preset in adapter.presets:
        try:
            if all(k in names and names[k].validate(v) == v for k, v in preset.values.items()):
                fitting.append(preset)
        except ValueError:  # a hub model whose ranges differ
            continue
    return tuple(fitting)


def preset_values(adapter, preset: Preset, seed=None) -> dict:
    """Every parameter's value under a preset: its own values, the defaults for the rest, the seed kept."""
    values = {p.name: p.default for p in adapter.params}
    values.update(preset.values)
    if seed is not None and "seed" in values:
        values["seed"] = seed
    return values


# -- lessons ------------------------------------------------------------------------------------------------------

i18n.register({
    "en": {
        "lesson:image": (
            "**Generative AI** learns from existing data and then creates new data of the same kind: images, text, "
            "audio. Every model on this tab learned from the same handwritten digits (MNIST), each in its own way. "
            "These are the four core families of generative AI:\n\n"
            "- **GAN** (generative adversarial network): a *generator* turns random noise into a picture while a "
            "*discriminator* judges real against generated; trained as a minimax game, the generator learns to make "
            "realistic data.\n"
            "- **VAE** (variational autoencoder): encodes data into a low-dimensional *latent space* and makes new "
            "data by sampling from it; unlike a GAN it models the data's distribution explicitly, with probabilities.\n"
            "- **Autoregressive models**: learn the probability of each next piece given the ones before it: GPT "
            "does it word by word, the PixelCNN here pixel by pixel.\n"
            "- **Diffusion models**: start from random noise and remove it step by step (Stable Diffusion works "
            "this way).\n\n"
            "Traditional supervised AI predicts a label for an input; generative AI learns the structure of the data "
            "itself. Try a preset to see each control's good and broken settings."),
        "lesson:text": (
            "An **autoregressive model** writes one piece at a time: it gives every possible next token a "
            "probability, given all the text so far, draws one, appends it and asks again. OpenAI's GPT series "
            "works this way and is used for writing, summarising, translating and chatbots. The model here is a "
            "small GPT trained on Shakespeare: it learned which character tends to follow which. Temperature, top-k "
            "and top-p reshape the probabilities before each draw; the presets show when that helps and when it "
            "turns the text into babble or loops."),
        "lesson:audio": (
            "Generative AI can also make **audio and music**: Google's MusicLM, for example, writes music from a "
            "text description. Sound is a long sequence of samples or notes, so the same families apply: "
            "autoregressive models that write one step at a time, and diffusion models that remove noise."),
        "about:body": (
            "## About this playground\n"
            "Every model here was trained from scratch by this project, on a laptop CPU, in under an hour each: "
            "they draw 28x28 digits, write Shakespeare-like text and Bach-like chorales, nothing else. The page "
            "shows what generative models do "
            "and what they cost, not what the largest ones can do.\n\n"
            "## Limits and challenges\n"
            "- **Uneven quality**: generated content is sometimes unrealistic or incoherent. Quality varies between "
            "families and between samples of the same model: press Generate with a few seeds and compare, or use "
            "the compare section of the Image tab, where a digit classifier judges every family.\n"
            "- **Resource and data demands**: high-quality results need large data sets and a lot of computing. "
            "Every output here says how long it took and how many parameters the model has; the models that make "
            "photographs or fluent answers have millions of times more, and were trained on far more data.\n"
            "- **Misuse**: deepfakes and misinformation are serious ethical and social problems. A generated "
            "image can look real. Every image this page makes is a PNG whose metadata says that it is AI-generated, "
            "by which model and with which settings; keep such labels when you share generated media.\n\n"
            "## Reproducing a result\n"
            "The same model, seed and settings always give the same output. **Copy link** under a model's controls "
            "gives an address that restores them all; dropping a PNG made here onto the Image tab does the same. "
            "Add `teacher=1` to the address to hide advanced controls for a class, and `lang=ko` or `lang=en` to "
            "choose the language."),
    },
    "ko": {
        "lesson:image": (
            "**생성형 AI**는 기존 데이터를 학습하여 이미지, 텍스트, 오디오처럼 같은 종류의 새로운 데이터를 만들어 "
            "냅니다. 이 탭의 모든 모델은 같은 손글씨 숫자(MNIST)를 저마다의 방식으로 학습했습니다. 생성형 AI의 "
            "네 가지 핵심 기술은 다음과 같습니다.\n\n"
            "- **GAN**(생성적 적대 신경망): *생성자*가 무작위 노이즈로 그림을 만들고, *판별자*가 진짜와 생성된 "
            "것을 구분합니다. 미니맥스 게임으로 경쟁하며 학습한 끝에 생성자는 실제와 닮은 데이터를 만듭니다.\n"
            "- **VAE**(변분 오토인코더): 데이터를 저차원 *잠재 공간*에 인코딩하고, 그 공간에서 샘플링하여 새 "
            "데이터를 만듭니다. GAN과 달리 확률적 접근으로 데이터의 분포를 명시적으로 모델링합니다.\n"
            "- **자기 회귀 모델**: 앞의 조각들이 주어졌을 때 다음 조각의 조건부 확률을 학습합니다. GPT는 단어 "
            "단위로, 여기의 PixelCNN은 픽셀 단위로 그렇게 합니다.\n"
            "- **확산 모델**: 무작위 노이즈에서 시작해 단계별로 노이즈를 걷어 냅니다(Stable Diffusion이 이런 "
            "방식입니다).\n\n"
            "기존의 지도 학습 AI는 입력에 대한 정답을 예측하지만, 생성형 AI는 데이터 자체의 구조를 학습합니다. "
            "미리 설정을 눌러 각 조절 장치의 좋은 설정과 망가진 설정을 확인해 보세요."),
        "lesson:text": (
            "**자기 회귀 모델**은 한 번에 한 조각씩 씁니다. 지금까지의 텍스트를 보고 다음에 올 수 있는 모든 토큰에 "
            "확률을 준 뒤, 하나를 뽑아 덧붙이고 다시 묻습니다. OpenAI의 GPT 시리즈가 이런 방식이며, 글쓰기, 요약, "
            "번역, 챗봇에 쓰입니다. 여기의 모델은 셰익스피어로 학습한 작은 GPT로, 어떤 글자 다음에 어떤 글자가 "
            "오기 쉬운지 배웠습니다. 온도, top-k, top-p는 매번 뽑기 전에 확률의 모양을 바꿉니다. 미리 설정을 "
            "보면 언제 도움이 되고 언제 횡설수설이나 반복이 되는지 알 수 있습니다."),
        "lesson:audio": (
            "생성형 AI는 **오디오와 음악**도 만들 수 있습니다. 예를 들어 Google의 MusicLM은 텍스트 설명으로부터 "
            "음악을 만듭니다. 소리는 샘플이나 음표의 긴 연속이므로, 한 단계씩 쓰는 자기 회귀 모델과 노이즈를 "
            "걷어 내는 확산 모델 같은 계열이 그대로 쓰입니다."),
        "about:body": (
            "## 이 놀이터에 대하여\n"
            "여기의 모든 모델은 이 프로젝트가 노트북 CPU에서 각각 한 시간 안에 처음부터 학습시킨 것입니다. 28x28 "
            "숫자를 그리고, 셰익스피어 같은 글과 바흐 같은 코랄을 쓸 뿐, 그 밖의 일은 하지 못합니다. 이 페이지는 가장 큰 모델이 무엇을 할 수 "
            "있는지가 아니라, 생성 모델이 어떻게 동작하고 얼마나 비용이 드는지를 보여 줍니다.\n\n"
            "## 기술적 한계와 도전 과제\n"
            "- **품질의 일관성 문제**: 생성된 결과물은 가끔 비현실적이거나 일관성이 떨어집니다. 모델 계열마다, 같은 "
            "모델의 샘플마다 품질이 다릅니다. 여러 시드로 생성해 비교하거나, 숫자 분류기가 모든 계열을 평가하는 "
            "이미지 탭의 비교 섹션을 써 보세요.\n"
            "- **계산 자원 및 데이터의 한계**: 높은 품질을 얻으려면 막대한 데이터와 컴퓨팅 자원이 필요합니다. 여기의 "
            "모든 결과에는 걸린 시간과 모델의 파라미터 수가 표시됩니다. 사진 같은 이미지나 유창한 답을 만드는 "
            "모델은 수백만 배 더 크고, 훨씬 많은 데이터로 학습했습니다.\n"
            "- **윤리적 문제**: 딥페이크와 가짜 뉴스 같은 악용 사례는 심각한 윤리적, 사회적 문제입니다. 생성된 "
            "이미지는 진짜처럼 보일 수 있습니다. 이 페이지가 만드는 모든 이미지는 AI가 생성했다는 사실과 어떤 모델, "
            "어떤 설정으로 만들었는지를 메타데이터에 담은 PNG입니다. 생성된 미디어를 공유할 때 이런 표시를 "
            "지워 버리지 마세요.\n\n"
            "## 결과 재현하기\n"
            "같은 모델, 같은 시드, 같은 설정은 언제나 같은 결과를 냅니다. 모델의 조절 장치 아래 **링크 복사**를 "
            "누르면 그 모두를 복원하는 주소가 나오고, 여기서 만든 PNG를 이미지 탭에 끌어다 놓아도 마찬가지입니다. "
            "주소에 `teacher=1`을 붙이면 수업을 위해 고급 조절 장치를 숨기고, `lang=ko`나 `lang=en`으로 언어를 "
            "고를 수 있습니다."),
    },
})


def _credits() -> dict[str, str]:
    """The About tab's credits, from ``docs/credits.md`` (English, then Korean after ``<!-- ko -->``): the repository's
    copy, or the one a built package carries as ``genai_demo/docs/credits.md``."""
    package = Path(__file__).resolve().parent.parent
    for path in (package / "docs" / "credits.md", package.parent / "docs" / "credits.md"):
        if path.is_file():
            english, _, korean = path.read_text(encoding="utf-8").partition("<!-- ko -->")
            # one heading level down: the About tab's own headings are ##
            return {lang: re.sub(r"^(#+) ", r"#\1 ", text.strip(), flags=re.M)
                    for lang, text in (("en", english), ("ko", korean or english))}
    return {"en": "Credits and licences: see docs/credits.md in the source.",
            "ko": "출처와 라이선스: 소스의 docs/credits.md를 보세요."}


i18n.register({lang: {"about:credits": text} for lang, text in _credits().items()})
