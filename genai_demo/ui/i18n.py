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


# -- models: titles, descriptions, parameter labels, help and choice names ---------------------------------------
# Every model declares its own words next to it: English in its title, description and ``Param`` labels and help,
# other languages in ``translations`` (the model's and each parameter's) and ``choice_names``. They are registered
# here, when a panel is built, under keys made from the model id and the parameter name. A missing translation
# falls back to English (the i18n tests fail on any).


def param_key(model_id: str, name: str, field: str) -> str:
    """The key of a parameter's ``label`` or ``help``: ``image/gan:truncation:help``."""
    return f"{model_id}:{name}:{field}"


def model_key(model_id: str, field: str) -> str:
    """The key of a model's ``title``, ``description``, ``intro`` (title and description) or ``choice`` (picker)."""
    return f"{model_id}:{field}"


def choice_key(model_id: str, p, value: str) -> str:
    """The key of how the page names one choice of parameter ``p``, by its position (a value may hold a "."):
    ``audio/chorale:mode:choice:0``."""
    return f"{model_id}:{p.name}:choice:{p.choices.index(value)}"


def register_params(model_id: str, params: Iterable) -> None:
    """Every parameter's label, help and choice names in every language, from its declaration (English if missing)."""
    tables = {lang: {} for lang in LANGUAGES}
    for p in params:
        for lang, table in tables.items():
            label, help_text = p.translations.get(lang, (p.display_label, p.help))
            table[param_key(model_id, p.name, "label")] = _plain(label)
            table[param_key(model_id, p.name, "help")] = _plain(help_text)
            names = p.choice_names.get(lang) or p.choice_names.get(DEFAULT_LANGUAGE) or {}
            for value, shown in names.items():
                table[choice_key(model_id, p, value)] = _plain(shown)
    register(tables, replace=True)


def _plain(s: str) -> str:
    """No braces in page strings (an operator's model name could hold one)."""
    return s.replace("{", "(").replace("}", ")")


def register_model(adapter) -> None:
    """A model's title, description, picker name, parameters and presets, in every language."""
    tables = {}
    for lang in LANGUAGES:
        own = adapter.translations.get(lang, {})
        title, description = _plain(own.get("title", adapter.title)), _plain(own.get("description", adapter.description))
        family = own.get("family") or _PAGE[lang].get(f"family:{adapter.family}", adapter.family)
        tables[lang] = {model_key(adapter.id, "title"): title, model_key(adapter.id, "description"): description,
                        model_key(adapter.id, "intro"): f"### {title}\n{description}",
                        model_key(adapter.id, "choice"): f"{family}: {adapter.id}"}
        for preset in adapter.presets:
            name, comment = preset.texts.get(lang) or preset.texts[DEFAULT_LANGUAGE]
            tables[lang][preset.key(adapter.id, "name")] = _plain(name)
            tables[lang][preset.key(adapter.id, "comment")] = _plain(f"**{name}**: {comment}")
    register(tables, replace=True)  # the latest build wins: app.py may rebuild the page with other hub models
    register_params(adapter.id, adapter.params)
