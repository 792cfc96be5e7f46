"""Korean and English: every string the page shows, in both languages, and how a page picks one.

The page's own words live in data files, ``genai_demo/locales/<lang>.toml`` (labels, help, lessons, notices,
messages); each model declares its own words next to it (``ModelAdapter.translations``, ``Param.translations``,
``choice_names``, presets and ``words``), registered here when its panel is built. Nothing here imports gradio:
the page turns a key into a translatable component value with ``genai_demo.ui.common.t``.

Two kinds of table:

- page strings (``register``): sent to the browser, which shows its language (Gradio's ``gr.I18n``). They pass
  through ICU message formatting there, so they must not contain ``{`` or ``}`` (tested).
- server messages (``register_messages``): what a handler writes (an info line, a notice, an error), with
  ``{placeholders}`` filled by ``message(key, lang, **values)``.

Keys use ``:`` as separator (``ui:generate``, ``image/gan:truncation:help``), never ``.``, which the
frontend would read as nesting.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Iterable

from genai_demo.words import Say, words_of

LANGUAGES = ("en", "ko")
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).resolve().parent / "locales"  # the page's own words: <lang>.toml

_PAGE: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
_WORDS: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}  # what models write into results (words.Say)
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


def known(key: str) -> bool:
    """Whether a page string is registered (in English, which every key has)."""
    return key in _PAGE[DEFAULT_LANGUAGE]


def known_message(key: str) -> bool:
    return key in _MESSAGES[DEFAULT_LANGUAGE]


def text(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A page string in one language (English when the language lacks it), for tests and server-side use."""
    return _PAGE.get(lang, {}).get(key) or _PAGE["en"][key]


def message(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """A server message in ``lang`` (English if unknown), with its placeholders filled."""
    template = _MESSAGES.get(lang, {}).get(key) or _MESSAGES["en"][key]
    return template.format(**values)


def message_for(key: str, request=None, **values) -> str:
    """A server message in the language a request asks for (``language_of``)."""
    return message(key, language_of(request), **values)


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


def _load_locales() -> None:
    """The page's own words, from ``genai_demo/locales/<lang>.toml``."""
    for lang in LANGUAGES:
        with open(LOCALES / f"{lang}.toml", "rb") as f:
            data = tomllib.load(f)
        # The shared tables, then each feature's own, kept apart to merge easily: top-level ([draw.page],
        # [draw.messages]) or nested ([page.textmusic]); keys are global, a sub-table's name is not part of them.
        tables = [data] + [v for k, v in data.items() if k not in ("page", "messages") and isinstance(v, dict)]
        for table in tables:
            register({lang: _flat(table.get("page", {}))})
            register_messages({lang: _flat(table.get("messages", {}))})


def _flat(table: dict) -> dict:
    """A table's strings, with those of its sub-tables (a feature's own ``[page.<feature>]``) at the same level."""
    out = {}
    for key, value in table.items():
        out.update(_flat(value) if isinstance(value, dict) else {key: value})
    return out


_load_locales()


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


def fixed_key(model_id: str, p, choice: str) -> str:
    """The key of the line a parameter's control shows while another parameter's ``choice`` fixes it
    (``Param.follows``): ``image/diffusion:guidance_scale:fixed:0``."""
    return f"{model_id}:{p.name}:fixed:{list(p.follows.fixed).index(choice)}"


def param_words(p, lang: str) -> tuple[str, str]:
    """A parameter's label and help in ``lang``, from its declaration (English where it declares none)."""
    return p.translations.get(lang, (p.display_label, p.help))


def choice_names(p, lang: str) -> dict:
    """How the page names a parameter's choices in ``lang`` (value -> name; English where it declares none)."""
    return p.choice_names.get(lang) or p.choice_names.get(DEFAULT_LANGUAGE) or {}


def register_params(model_id: str, params: Iterable) -> None:
    """Every parameter's label, help and choice names in every language, from its declaration (English if missing)."""
    tables = {lang: {} for lang in LANGUAGES}
    for p in params:
        for lang, table in tables.items():
            label, help_text = param_words(p, lang)
            table[param_key(model_id, p.name, "label")] = plain(label)
            table[param_key(model_id, p.name, "help")] = plain(help_text)
            for value, shown in choice_names(p, lang).items():
                table[choice_key(model_id, p, value)] = plain(shown)
            for choice, why in (p.follows.fixed if p.follows else {}).items():
                table[fixed_key(model_id, p, choice)] = plain(why.get(lang) or why[DEFAULT_LANGUAGE])
    register(tables, replace=True)


def plain(s: str) -> str:
    """No braces in page strings (an operator's model name could hold one)."""
    return s.replace("{", "(").replace("}", ")")


def register_model(adapter) -> None:
    """A model's title, description, picker name, parameters and presets, in every language."""
    tables = {}
    for lang in LANGUAGES:
        own = adapter.translations.get(lang, {})
        title, description = plain(own.get("title", adapter.title)), plain(own.get("description", adapter.description))
        family = own.get("family") or _PAGE[lang].get(f"family:{adapter.family}", adapter.family)
        tables[lang] = {model_key(adapter.id, "title"): title, model_key(adapter.id, "description"): description,
                        model_key(adapter.id, "intro"): f"### {title}\n{description}",
                        model_key(adapter.id, "choice"): f"{family}: {adapter.id}"}
        for preset in adapter.presets:
            name, comment = preset.texts.get(lang) or preset.texts[DEFAULT_LANGUAGE]
            tables[lang][preset.key(adapter.id, "name")] = plain(name)
            tables[lang][preset.key(adapter.id, "comment")] = plain(f"**{name}**: {comment}")
    register(tables, replace=True)  # the latest build wins: app.py may rebuild the page with other hub models
    register_params(adapter.id, adapter.params)
    for lang in LANGUAGES:
        _WORDS[lang].update(words_of(adapter, lang))


def said(text, lang: str = DEFAULT_LANGUAGE) -> str:
    """Words a model wrote into a result (a caption, a process label), in ``lang`` where the model declared them."""
    return text.in_language(_WORDS.get(lang, {})) if isinstance(text, Say) and lang != DEFAULT_LANGUAGE else str(text)
