"""Korean and English: every string the page shows, in both languages, and how a page picks one.

Translation happens in the browser, with Gradio's own ``gr.I18n``: a component is built with ``t("key")``
instead of a string, the page receives both tables, and shows the language of the browser (Korean for
``ko-*``, English otherwise). The visible switch (and a ``?lang=ko`` link) calls the frontend's own
``changeLocale`` (``SWITCH_JS``), so the page changes language at once, without a reload.

Tables are plain ``{"en": {...}, "ko": {...}}`` dicts. This module holds the page's own strings and every
model's title, description and parameter labels and help (keyed by model id and parameter name, so the
adapters stay English-only); other modules add theirs with ``register()``. Two kinds of table:

- page strings (``register``): sent to the browser. They pass through ICU message formatting there, so
  they must not contain ``{`` or ``}`` (tested).
- server messages (``register_messages``): notices a handler writes (a malformed link, a PNG without
  settings), with ``{placeholders}`` filled by ``message(key, lang, **values)``.

Keys use ``:`` as separator (``ui:generate``, ``image/gan:truncation:help``), never ``.``, which the
frontend would read as nesting.
"""

from __future__ import annotations

from typing import Iterable

LANGUAGES = ("en", "ko")
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"

_PAGE: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
_MESSAGES: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def _merge(into: dict, tables: dict, what: str, replace: bool = False) -> None:
    unknown = set(tables) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"{what}: unknown languages {sorted(unknown)}; expected {LANGUAGES}")
    for lang, table in tables.items():
        for key, value in table.items():
            if ":" not in key or "." in key:
                raise ValueError(f"{what}: key {key!r} must contain ':' and no '.'")
            old = into[lang].get(key)
            if old is not None and old != value and not replace:
                raise ValueError(f"{what}: {lang} key {key!r} is already registered with another text")
            into[lang][key] = value


def register(tables: dict[str, dict[str, str]], replace: bool = False) -> None:
    """Add page strings, ``{"en": {key: text}, "ko": {key: text}}``.

    Registering the same text twice is fine; another text for a known key is an error unless ``replace``.
    """
    for table in tables.values():
        for key, value in table.items():
            if "{" in value or "}" in value:
                raise ValueError(f"page string {key!r} contains a brace, which the browser's ICU formatting would eat")
    _merge(_PAGE, tables, "page strings", replace)


def register_messages(tables: dict[str, dict[str, str]]) -> None:
    """Add server messages (``str.format`` templates), ``{"en": {...}, "ko": {...}}``."""
    _merge(_MESSAGES, tables, "messages")


def page_tables() -> dict[str, dict[str, str]]:
    return {lang: dict(table) for lang, table in _PAGE.items()}


def message_tables() -> dict[str, dict[str, str]]:
    return {lang: dict(table) for lang, table in _MESSAGES.items()}


def t(key: str):
    """A translatable string for a component (label, info, value, choice name): the browser shows its language."""
    import gradio as gr

    if key not in _PAGE["en"]:
        raise KeyError(f"no English text registered for {key!r}")
    return gr.i18n.I18nData(key)


def text(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A page string in one language (English when the language lacks it), for tests and server-side use."""
    return _PAGE.get(lang, {}).get(key) or _PAGE["en"][key]


def message(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """A server message in ``lang`` (English if unknown), with its placeholders filled."""
    template = _MESSAGES.get(lang, {}).get(key) or _MESSAGES["en"][key]
    return template.format(**values)


def gradio_i18n():
    """Both tables as a ``gr.I18n``, for ``demo.launch(i18n=...)``."""
    import gradio as gr

    return gr.I18n(**page_tables())


def pick_language(query_lang: str | None = None, accept_language: str | None = None) -> str:
    """``?lang=`` if it names a known language, else the browser's first known language, else English."""
    if query_lang:
        lang = query_lang.strip().lower().split("-")[0]
        if lang in LANGUAGES:
            return lang
    for part in (accept_language or "").split(","):
        lang = part.split(";")[0].strip().lower().split("-")[0]
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def language_of(request) -> str:
    """The language a page request asks for: its ``?lang=`` or its browser's ``Accept-Language``."""
    if request is None:
        return DEFAULT_LANGUAGE
    query = getattr(request, "query_params", None) or {}
    headers = getattr(request, "headers", None) or {}
    return pick_language(query.get("lang"), headers.get("accept-language"))


# -- switching in the browser -------------------------------------------------------------------------------------

# The frontend's translation store lives in its ``core`` module (``changeLocale`` is what Gradio's own Settings panel
# calls). Importing that module again by the URL the page loaded it from gives the same instance.
_CORE_MODULE = ("const core = performance.getEntriesByType('resource').map(e => e.name)"
                ".find(n => /\\/assets\\/core-[^/]*\\.js$/.test(n));")
_SET_LANGUAGE = (_CORE_MODULE + " if (core) { try { (await import(core)).changeLocale(lang); } "
                 "catch (e) { console.warn('language switch failed', e); } }"
                 " document.documentElement.lang = lang;")
# The switch: change the page's language now and keep ?lang= in the address, so a copied link keeps it too.
SWITCH_JS = ("async (lang) => { " + _SET_LANGUAGE + " const url = new URL(window.location.href);"
             " url.searchParams.set('lang', lang); window.history.replaceState(null, '', url.toString()); return lang; }")
# On load: ?lang= wins over the browser's language (which the frontend already applied); the switch shows the result.
LOAD_JS = ("async () => { const q = new URLSearchParams(window.location.search).get('lang');"
           " let lang = (q || '').toLowerCase().split('-')[0];"
           " if (['en', 'ko'].includes(lang)) { " + _SET_LANGUAGE + " }"
           " else { lang = (navigator.language || 'en').toLowerCase().startsWith('ko') ? 'ko' : 'en'; }"
           " return lang; }")


# -- the page's own strings ---------------------------------------------------------------------------------------

register({
    "en": {
        "ui:title": "# GenAI playground\nGenerative models learn what their training data looks like and then make "
                    "new examples of it. Pick a model, move its controls and press **Generate**. The same seed and "
                    "settings always give the same result.",
        "ui:language": "Language",
        "ui:tab:image": "Image", "ui:tab:text": "Text", "ui:tab:audio": "Audio", "ui:tab:about": "About",
        "ui:model": "Model", "ui:output": "Output", "ui:generate": "Generate", "ui:stop": "Stop",
        "ui:random_seed": "Random seed", "ui:compare": "Compare",
        "ui:how_drawn": "How it was drawn", "ui:how_written": "How it was written",
        "ui:step": "Step", "ui:step:info": "Drag to move through the generation, from the first step to the last.",
        "ui:token": "Token", "ui:token:info": "Drag to move through the generated tokens, from the first to the last.",
        "ui:coloured": "Text coloured by likelihood",
        "ui:how_written:intro": "Each token the model wrote is coloured by the probability the model gave it. Click a "
                                "token, or drag the slider, to see the candidates it was drawn from: grey bars are "
                                "the model's own probabilities, blue bars what temperature, top-k and top-p made of "
                                "them.",
        "ui:compare:intro": "## Compare the four families\nOne click asks the GAN, the VAE, the diffusion model and "
                            "the autoregressive model for the same digit with the same seed. Under each: how long "
                            "one image took, and how sure a digit classifier (trained on real MNIST) is that it "
                            "shows the digit asked for.",
        "ui:copy_link": "Copy link",
        "ui:link": "Link to these settings",
        "ui:link:info": "Opening it restores the model and every setting; Generate then makes exactly this output.",
        "ui:compare:link": "Link to this comparison",
        "ui:compare:link:info": "Opening it restores the digit, the seed and the number of images; Compare then "
                                "makes exactly this comparison.",
        "ui:compare:copy_link": "Copy comparison link",
        "ui:choice:any": "any",
        "ui:presets": "Presets: good and broken settings",
        "ui:lesson": "Lesson",
        "ui:png": "Restore settings from a PNG",
        "ui:png:intro": "Every image this page makes is a PNG that carries its model and settings. Download one "
                        "from the gallery, then drop it here: its model and settings come back, and Generate "
                        "makes it again.",
        "ui:png:drop": "Drop a generated PNG",
        "family:GAN": "GAN", "family:VAE": "VAE", "family:diffusion": "diffusion",
        "family:autoregressive": "autoregressive", "family:hub pipeline": "hub pipeline",
        "family:hub model": "hub model",
    },
    "ko": {
        "ui:title": "# 생성형 AI 놀이터\n생성 모델은 학습 데이터가 어떻게 생겼는지 배운 뒤, 그와 닮은 새로운 예시를 "
                    "만들어 냅니다. 모델을 고르고, 조절 장치를 움직인 다음 **생성**을 누르세요. 같은 시드와 같은 "
                    "설정은 언제나 같은 결과를 냅니다.",
        "ui:language": "언어",
        "ui:tab:image": "이미지", "ui:tab:text": "텍스트", "ui:tab:audio": "오디오", "ui:tab:about": "소개",
        "ui:model": "모델", "ui:output": "결과", "ui:generate": "생성", "ui:stop": "중지",
        "ui:random_seed": "무작위 시드", "ui:compare": "비교",
        "ui:how_drawn": "어떻게 그렸나", "ui:how_written": "어떻게 썼나",
        "ui:step": "단계", "ui:step:info": "끌어서 생성 과정을 첫 단계부터 마지막 단계까지 살펴보세요.",
        "ui:token": "토큰", "ui:token:info": "끌어서 생성된 토큰을 처음부터 끝까지 살펴보세요.",
        "ui:coloured": "가능도에 따라 색칠한 텍스트",
        "ui:how_written:intro": "모델이 쓴 각 토큰은 모델이 그 토큰에 준 확률에 따라 색칠되어 있습니다. 토큰을 "
                                "클릭하거나 슬라이더를 끌면 그 토큰을 뽑은 후보들을 볼 수 있습니다. 회색 막대는 "
                                "모델 자체의 확률, 파란 막대는 온도(temperature), top-k, top-p를 적용한 뒤의 "
                                "확률입니다.",
        "ui:compare:intro": "## 네 가지 모델 계열 비교\n한 번의 클릭으로 GAN, VAE, 확산 모델, 자기 회귀 모델에게 "
                            "같은 시드로 같은 숫자를 그려 달라고 요청합니다. 각 결과 아래에는 이미지 한 장에 걸린 "
                            "시간과, 실제 MNIST로 학습한 숫자 분류기가 요청한 숫자라고 얼마나 확신하는지가 "
                            "표시됩니다.",
        "ui:copy_link": "링크 복사",
        "ui:link": "이 설정으로 가는 링크",
        "ui:link:info": "링크를 열면 모델과 모든 설정이 복원되고, 생성을 누르면 정확히 같은 결과가 나옵니다.",
        "ui:compare:link": "이 비교로 가는 링크",
        "ui:compare:link:info": "링크를 열면 숫자, 시드, 이미지 수가 복원되고, 비교를 누르면 정확히 같은 비교가 "
                                "나옵니다.",
        "ui:compare:copy_link": "비교 링크를 복사",
        "ui:choice:any": "아무 숫자",
        "ui:presets": "미리 설정: 좋은 설정과 망가진 설정",
        "ui:lesson": "수업",
        "ui:png": "PNG에서 설정 복원",
        "ui:png:intro": "이 페이지가 만드는 모든 이미지는 모델과 설정을 담은 PNG입니다. 갤러리에서 이미지를 "
                        "내려받아 여기에 끌어다 놓으면 모델과 설정이 돌아오고, 생성을 누르면 같은 이미지를 다시 "
                        "만듭니다.",
        "ui:png:drop": "생성된 PNG를 끌어다 놓기",
        "family:GAN": "GAN", "family:VAE": "VAE", "family:diffusion": "확산",
        "family:autoregressive": "자기 회귀", "family:hub pipeline": "허브 파이프라인",
        "family:hub model": "허브 모델",
    },
})

register_messages({
    "en": {
        "link:unknown_model": "unknown model {value}: showing {default}",
        "link:unknown_tab": "unknown tab {value}: showing {default}",
        "link:model_not_in_tab": "{model} is not on the {tab} tab: showing it on its own tab",
        "link:bad_value": "{error}: using the default, {default}",
        "link:unknown_setting": "{model} has no setting {names}: ignored",
        "link:too_many": "the link has too many settings: only the known ones were read",
        "link:notice": "This link could not be followed exactly, so defaults were used where it was wrong: {problems}.",
        "teacher:notice": "Teacher mode: advanced controls are hidden.",
        "png:restored": "Restored {model} with seed {seed} from the PNG: press Generate to make it again.",
        "png:restored_partly": "Restored {model} from the PNG, with defaults where its settings were wrong: {problems}.",
        "png:none": "This PNG carries no playground settings: only images made by this page can be restored.",
        "png:not_png": "This file is not a PNG image: drop a PNG downloaded from this page.",
        "png:too_big": "This file is too large ({size:,} bytes) for a generated image: drop a PNG from this page.",
        "png:not_json": "This PNG's playground settings are damaged (not valid JSON): it cannot be restored.",
        "png:not_record": "This PNG's playground settings are not a settings record: it cannot be restored.",
        "png:unknown_model": "This PNG names a model this page does not have ({model}): it cannot be restored.",
        "png:not_image_model": "This PNG names {model}, which does not make images: it cannot be restored here.",
    },
    "ko": {
        "link:unknown_model": "알 수 없는 모델 {value}: 대신 {default}을(를) 보여 줍니다",
        "link:unknown_tab": "알 수 없는 탭 {value}: 대신 {default}을(를) 보여 줍니다",
        "link:model_not_in_tab": "{model}은(는) {tab} 탭에 없습니다: 해당 모델의 탭에서 보여 줍니다",
        "link:bad_value": "{error}: 기본값 {default}을(를) 씁니다",
        "link:unknown_setting": "{model}에는 {names} 설정이 없습니다: 무시했습니다",
        "link:too_many": "링크의 설정이 너무 많습니다: 알려진 설정만 읽었습니다",
        "link:notice": "이 링크를 그대로 따를 수 없어 잘못된 부분은 기본값을 썼습니다: {problems}.",
        "teacher:notice": "교사 모드: 고급 조절 장치를 숨겼습니다.",
        "png:restored": "PNG에서 {model}(시드 {seed})을(를) 복원했습니다. 생성을 누르면 같은 이미지를 다시 만듭니다.",
        "png:restored_partly": "PNG에서 {model}을(를) 복원했고, 잘못된 설정은 기본값을 썼습니다: {problems}.",
        "png:none": "이 PNG에는 놀이터 설정이 없습니다. 이 페이지가 만든 이미지만 복원할 수 있습니다.",
        "png:not_png": "이 파일은 PNG 이미지가 아닙니다. 이 페이지에서 내려받은 PNG를 끌어다 놓으세요.",
        "png:too_big": "생성된 이미지라기에는 파일이 너무 큽니다({size:,} 바이트). 이 페이지의 PNG를 끌어다 놓으세요.",
        "png:not_json": "이 PNG의 놀이터 설정이 손상되었습니다(올바른 JSON이 아님). 복원할 수 없습니다.",
        "png:not_record": "이 PNG의 놀이터 설정이 설정 기록 형식이 아닙니다. 복원할 수 없습니다.",
        "png:unknown_model": "이 PNG는 이 페이지에 없는 모델({model})을 가리킵니다. 복원할 수 없습니다.",
        "png:not_image_model": "이 PNG가 가리키는 {model}은(는) 이미지를 만들지 않습니다. 여기서 복원할 수 없습니다.",
    },
})


# -- models: titles, descriptions, parameter labels and help, in Korean -------------------------------------------
# English comes from the adapters themselves (``register_model``); only Korean is written here, keyed by model id
# and parameter name. Every parameter of every adapter must be here (tested).

_DIGITS = {
    "seed": ("시드", "무작위 시드: 같은 시드와 같은 설정은 언제나 같은 결과를 냅니다."),
    "num_images": ("이미지 수", "한 번에 그릴 숫자의 개수입니다."),
    "label": ("숫자", "그릴 숫자입니다. '아무 숫자'(any)는 이미지마다 숫자를 무작위로 고릅니다."),
}
_TEXT = {
    "prompt": ("프롬프트", "이어서 쓸 텍스트입니다. 비어 있으면 새 줄에서 시작합니다."),
    "max_new_tokens": ("max_new_tokens", "프롬프트 뒤에 쓸 토큰(문자)의 개수입니다."),
    "do_sample": ("do_sample", "켜면: 각 토큰을 확률에 따라 무작위로 뽑습니다. 끄면(탐욕적 디코딩): 언제나 가장 "
                               "가능성 높은 토큰을 고르므로 곧 같은 말을 되풀이합니다."),
    "temperature": ("temperature", "점수를 확률로 바꾸기 전에 나누는 값입니다. 1보다 작으면 확률이 뾰족해지고"
                                   "(안전하지만 반복적), 1보다 크면 평평해집니다(놀랍다가 결국 횡설수설)."),
    "top_k": ("top_k", "가장 가능성 높은 k개의 토큰 중에서만 뽑습니다. 0이면 모든 토큰을 남깁니다."),
    "top_p": ("top_p", "뉴클리어스 샘플링: 확률의 합이 p가 될 때까지의 가장 가능성 높은 토큰들 중에서만 뽑습니다. "
                       "1이면 모든 토큰을 남깁니다."),
    "repetition_penalty": ("repetition_penalty", "이미 텍스트에 나온 토큰을 덜 나오게 합니다. 1은 끔, 1.2 정도면 "
                                                 "같은 말의 반복을 줄입니다."),
    "seed": _DIGITS["seed"],
}

MODELS_KO: dict[str, dict] = {
    "image/gan": {
        "title": "GAN: 판별자와 겨루며 학습한 생성자",
        "description": "생성적 적대 신경망(GAN)은 서로 겨루는 두 신경망입니다. 생성자는 무작위 노이즈를 그림으로 "
                       "바꾸고, 판별자는 진짜 숫자와 생성된 숫자를 보고 어느 쪽인지 맞힙니다. 둘은 서로의 실수에서 "
                       "배우며, 결국 생성자의 숫자가 판별자를 속이게 됩니다. 그림은 생성자를 한 번 통과하면 "
                       "완성되므로 매우 빠릅니다.",
        "params": {**_DIGITS, "truncation": (
            "절단(truncation)", "생성자에 넣는 무작위 노이즈의 크기를 조절합니다. 낮추면 더 깔끔하고 서로 닮은 "
                               "숫자가, 0이면 매번 똑같은 숫자가, 높이면 더 거친 숫자가 나옵니다.")},
    },
    "image/vae": {
        "title": "VAE: 몇 개의 숫자로 압축했다가 다시 그리기",
        "description": "변분 오토인코더(VAE)는 모든 숫자 이미지를 몇 개의 수(잠재 코드)로 압축하고, 그 수로부터 "
                       "숫자를 다시 그리는 법을 배웁니다. 학습 과정에서 잠재 코드가 종 모양(정규분포)으로 퍼지도록 "
                       "하기 때문에, 아무 무작위 코드나 그럴듯한 숫자로 복원됩니다. 코드가 뜻할 수 있는 모습의 "
                       "평균을 그리므로 그림이 매끄럽고 약간 흐릿합니다.",
        "params": {**_DIGITS, "temperature": (
            "온도(temperature)", "무작위 잠재 코드의 크기를 조절합니다. 낮으면 전형적이고 깔끔한 숫자가, 높으면 "
                                 "특이하고 때로는 망가진 숫자가 나옵니다.")},
    },
    "image/diffusion": {
        "title": "확산 모델: 순수한 노이즈에서 숫자까지, 한 번에 조금씩 노이즈 제거",
        "description": "확산 모델은 노이즈를 걷어 내도록 학습합니다. 노이즈가 섞인 숫자를 보고 그 노이즈를 "
                       "맞히는 법을 배우는 것이죠. 그림을 그릴 때는 순수한 잡음에서 시작해, 매 단계 예측한 노이즈를 "
                       "조금씩 걷어 내어 숫자가 나타나게 합니다. 실행되는 동안 이미지가 선명해지는 모습을 "
                       "지켜보세요. 스케줄러는 각 단계의 크기를, 가이던스는 요청한 숫자를 얼마나 강하게 따를지를 "
                       "정합니다.",
        "params": {**_DIGITS,
                   "scheduler": ("스케줄러", "샘플링 방법입니다. DPM-Solver++는 20단계로 충분하고, DDIM은 약 50단계, "
                                            "DDPM(원조 방법)은 수백 단계가 필요합니다."),
                   "num_inference_steps": ("노이즈 제거 단계 수", "노이즈를 걷어 내는 단계의 수입니다. 많을수록 "
                                                               "느리지만 대개 더 깨끗합니다. 1단계면 흐릿한 얼룩이 "
                                                               "됩니다."),
                   "guidance_scale": ("가이던스 스케일", "분류기 없는 가이던스(classifier-free guidance): 0은 요청한 "
                                                      "숫자를 무시하고, 1은 그대로 따르고, 더 높으면 더 강하게 "
                                                      "따릅니다(너무 높으면 과하게 익은 듯 보입니다)."),
                   "eta": ("eta", "DDIM 전용: 0이면 시작 노이즈가 같을 때 샘플링이 결정적이고, 1이면 DDPM처럼 매 "
                                  "단계 새 노이즈를 더합니다.")},
    },
    "image/autoregressive": {
        "title": "자기 회귀 모델: 한 번에 한 픽셀씩, 앞의 픽셀을 보고 고르기",
        "description": "자기 회귀 모델은 GPT가 한 번에 한 단어씩 쓰듯 결과를 한 조각씩 만듭니다. 이 PixelCNN은 "
                       "픽셀을 왼쪽에서 오른쪽, 위에서 아래로 읽으며, 이미 그린 모든 픽셀과 요청한 숫자를 보고 다음 "
                       "픽셀이 각 명암일 확률을 예측합니다. 그 예측에서 픽셀을 하나씩 무작위로 뽑습니다. 숫자가 한 "
                       "줄씩 채워지는 모습을 지켜보세요.",
        "params": {**_DIGITS, "temperature": (
            "온도(temperature)", "각 픽셀의 확률을 뾰족하게 하거나 평평하게 합니다. 0이면 언제나 가장 가능성 높은 "
                                 "명암을, 1이면 학습한 그대로 뽑고, 더 높으면 얼룩과 끊어진 획이 생깁니다.")},
    },
    "text/shakespeare": {
        "title": "처음부터 만든 GPT: 셰익스피어, 한 번에 한 글자씩",
        "description": "이 프로젝트가 셰익스피어 희곡 백만 글자로 학습한 작은 GPT 방식의 트랜스포머입니다. 지금까지의 "
                       "텍스트를 읽고 다음에 올 수 있는 모든 글자에 확률을 줍니다. 글쓰기는 그 확률에서 한 글자를 "
                       "뽑아 덧붙이고 다시 묻는 일의 반복입니다. 온도, top-k, top-p는 매번 뽑기 전에 확률의 모양을 "
                       "바꿉니다. '어떻게 썼나'를 열면 글자마다 그 확률을 볼 수 있습니다.",
        "params": dict(_TEXT),
    },
    # Operator-named hub models: their texts name the model (``{source}``), filled in by ``register_model``.
    "text/hf": {
        "title": "Hugging Face 모델: {source}",
        "description": "Hugging Face 허브의 사전 학습된 {kind}언어 모델({source})로, transformers 라이브러리가 "
                       "셰익스피어 모델과 같은 샘플링 루프로 실행합니다. 글자가 아니라 하위 단어 토큰을 읽으며, 이 "
                       "놀이터보다 훨씬 많은 텍스트로 다른 사람들이 학습시켰습니다. 무엇을 쓰는지, 다음 토큰을 "
                       "얼마나 확신하는지 비교해 보세요.",
        "params": {**_TEXT,
                   "max_new_tokens": ("max_new_tokens", "프롬프트 뒤에 쓸 토큰(하위 단어 조각, 한 조각이 단어의 약 "
                                                        "3/4)의 개수입니다."),
                   "apply_chat_template": ("apply_chat_template", "프롬프트를 모델의 채팅 형식에 맞춘 사용자 메시지로 "
                                                                  "감싸서, 지시를 따르는 모델이 이어 쓰는 대신 답하게 "
                                                                  "합니다.")},
    },
    "image/hf": {
        "title": "Hugging Face 파이프라인: {source}",
        "description": "Hugging Face 허브의 완성된 {kind}확산 파이프라인({source})으로, diffusers 라이브러리가 "
                       "실행합니다. 이 놀이터보다 훨씬 많은 데이터와 컴퓨터로 다른 사람들이 학습시켰습니다. 작은 "
                       "모델들과 비용과 품질을 비교해 보세요.",
        "params": {"seed": _DIGITS["seed"],
                   "prompt": ("프롬프트", "그림이 보여 줄 내용을 말로 적습니다."),
                   "num_images": ("이미지 수", "만들 이미지의 개수입니다."),
                   "num_inference_steps": ("노이즈 제거 단계 수", "노이즈를 걷어 내는 단계의 수입니다. 많을수록 "
                                                               "느리지만 대개 더 깨끗합니다."),
                   "negative_prompt": ("부정 프롬프트", "그림에 나오지 않아야 할 내용입니다."),
                   "guidance_scale": ("가이던스 스케일", "프롬프트를 얼마나 강하게 따를지(분류기 없는 가이던스)입니다. "
                                                      "0~1이면 거의 무시합니다.")},
    },
    "audio/chorale": {
        "title": "자기 회귀 음악: GPT가 바흐 양식의 4성부 코랄을 씁니다",
        "description": "이 작은 트랜스포머는 바흐의 4성부 코랄 약 300곡을 토큰으로 읽었습니다. 8분음표마다 소프라노, "
                       "알토, 테너, 베이스에 토큰이 하나씩(음높이, 'hold' 또는 'rest') 있습니다. 텍스트 GPT처럼 한 번에 "
                       "한 토큰씩, 예측한 확률에서 뽑아 쓰고 다시 입력으로 넣습니다. 앱은 토큰을 피아노 롤, MIDI "
                       "파일, 소리로 바꿉니다. 실제 코랄의 도입부를 고르면 모델이 바흐를 이어 가는 것을 들을 수 "
                       "있습니다.",
        "params": {"seed": _DIGITS["seed"],
                   "num_bars": ("num_bars", "쓸 4/4박자 마디의 수입니다(도입부를 골랐다면 그 뒤로)."),
                   "mode": ("조성(mode)", "장조는 밝게, 단조는 어둡게 들립니다. 첫 토큰이 모델에게 어느 쪽을 쓸지 "
                                          "알려 줍니다(실제 코랄을 이어 쓸 때는 그 코랄의 조성을 따르므로 무시됩니다)."),
                   "continue_from": ("continue_from", "모델이 학습하지 않은 실제 바흐 코랄의 첫 마디들을 주고, 어떻게 "
                                                      "이어 가는지 들어 봅니다."),
                   "temperature": ("온도(temperature)", "1보다 낮으면 더 안전하고 평범한 화성, 1보다 높으면 더 놀라운 "
                                                        "음이, 그다음엔 틀린 음이 나옵니다."),
                   "top_k": ("top_k", "각 토큰을 가장 가능성 높은 k개 중에서만 뽑습니다. 0이면 모두 남깁니다."),
                   "top_p": ("top_p", "확률의 합이 p가 될 때까지의 가장 가능성 높은 토큰들 중에서만 뽑습니다. 1이면 "
                                      "모두 남깁니다."),
                   "forbid_parallels": ("forbid_parallels", "켜면: 뽑는 동안 두 성부를 평행 5도나 평행 8도로 움직이게 "
                                                            "할 음은 건너뜁니다. 바흐가 지키는 4성부 화성의 규칙입니다. "
                                                            "끄면: 모델만으로 쓰며, 바흐보다 약 45배 자주 씁니다."),
                   "tempo": ("빠르기(tempo)", "연주할 때 1분에 몇 개의 4분음표를 칠지입니다."),
                   "transpose": ("조옮김(transpose)", "모델이 쓰는 다장조/가단조에서 반음 단위로 올리거나 내립니다."),
                   "instrument": ("악기(instrument)", "합성할 소리: 파이프 오르간 또는 부드러운 합창입니다.")},
    },
    "audio/hf": {
        "title": "Hugging Face 오디오 모델: {source}",
        "description": "Hugging Face 허브의 사전 학습된 텍스트-오디오 모델({source})로, transformers 라이브러리가 "
                       "실행합니다. MusicGen 계열 모델은 MusicLM처럼 동작합니다. 텍스트 인코더가 설명을 읽고, "
                       "트랜스포머가 음악을 오디오 코덱 토큰의 연속(초당 약 50개, 텍스트 모델의 글자처럼)으로 쓰면, "
                       "코덱의 디코더가 그 토큰을 파형으로 바꿉니다. 음성 모델(VITS / MMS)은 대신 텍스트를 소리 내어 "
                       "읽습니다. 이 놀이터보다 훨씬 많은 데이터로 다른 사람들이 학습시켰습니다. 설명을 얼마나 잘 "
                       "따르는지, 비용이 얼마나 드는지 들어 보세요.",
        "params": {"seed": _DIGITS["seed"],
                   "prompt": ("프롬프트", "오디오가 어떻게 들려야 하는지 말로 적습니다(악기, 분위기, 양식, 또는 읽을 "
                                          "문장)."),
                   "duration": ("길이(초)", "만들 오디오의 길이(초)입니다. 길수록 그만큼 오래 걸립니다. 음성 모델은 "
                                           "스스로 길이를 정하므로 무시합니다."),
                   "guidance_scale": ("가이던스 스케일", "설명을 얼마나 강하게 따를지(분류기 없는 가이던스)입니다. "
                                                      "1이면 끕니다. MusicGen 계열 모델만 사용합니다.")},
    },
    # The compare section's own controls (genai_demo/compare.py).
    "compare": {
        "params": {"seed": _DIGITS["seed"],
                   "label": ("숫자", "모든 모델에게 그려 달라고 요청할 숫자입니다."),
                   "num_images": ("모델별 이미지 수", "각 모델이 그릴 이미지의 개수입니다.")},
    },
}
_HUB_KIND_KO = {"text/hf": {True: "지시를 따르는 ", False: ""}, "image/hf": {"text-to-image": "텍스트-이미지 ",
                                                                             "unconditional": "무조건부 "}}


def param_key(model_id: str, name: str, field: str) -> str:
    """The key of a parameter's ``label`` or ``help``: ``image/gan:truncation:help``."""
    return f"{model_id}:{name}:{field}"


def model_key(model_id: str, field: str) -> str:
    """The key of a model's ``title``, ``description``, ``intro`` (title and description) or ``choice`` (picker)."""
    return f"{model_id}:{field}"


def korean_params(model_id: str) -> dict[str, tuple[str, str]]:
    return MODELS_KO.get(model_id, {}).get("params", {})


def register_params(model_id: str, params: Iterable) -> None:
    """Every parameter's label and help, English from the ``Param``, Korean from ``MODELS_KO`` (English if missing)."""
    ko = korean_params(model_id)
    en_table, ko_table = {}, {}
    for p in params:
        label_ko, help_ko = ko.get(p.name, (p.display_label, p.help))
        en_table[param_key(model_id, p.name, "label")] = _plain(p.display_label)
        en_table[param_key(model_id, p.name, "help")] = _plain(p.help)
        ko_table[param_key(model_id, p.name, "label")] = _plain(label_ko)
        ko_table[param_key(model_id, p.name, "help")] = _plain(help_ko)
    register({"en": en_table, "ko": ko_table}, replace=True)


def _plain(s: str) -> str:
    """No braces in page strings (an operator's model name could hold one)."""
    return s.replace("{", "(").replace("}", ")")


def register_model(adapter) -> None:
    """A model's title, description, picker name and parameters, in both languages."""
    entry = MODELS_KO.get(adapter.id, {})
    kind = ""
    if adapter.id in _HUB_KIND_KO:
        kind = _HUB_KIND_KO[adapter.id].get(getattr(adapter, "chat", getattr(adapter, "task", None)), "")
    fill = {"source": _plain(getattr(adapter, "source", "")), "kind": kind}
    title_ko = _plain(entry["title"].format(**fill)) if "title" in entry else _plain(adapter.title)
    description_ko = _plain(entry["description"].format(**fill)) if "description" in entry else _plain(adapter.description)
    family_ko = _PAGE["ko"].get(f"family:{adapter.family}", adapter.family)
    title, description = _plain(adapter.title), _plain(adapter.description)
    register({  # the latest build wins: app.py may rebuild the page with other hub models
        "en": {model_key(adapter.id, "title"): title, model_key(adapter.id, "description"): description,
               model_key(adapter.id, "intro"): f"### {title}\n{description}",
               model_key(adapter.id, "choice"): f"{adapter.family}: {adapter.id}"},
        "ko": {model_key(adapter.id, "title"): title_ko, model_key(adapter.id, "description"): description_ko,
               model_key(adapter.id, "intro"): f"### {title_ko}\n{description_ko}",
               model_key(adapter.id, "choice"): f"{family_ko}: {adapter.id}"},
    }, replace=True)
    register_params(adapter.id, adapter.params)
