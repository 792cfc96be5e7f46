"""Korean and English: both languages have every string, every control has a label and help in both, and the
tables stay safe for the browser's message formatting."""

from __future__ import annotations

import re
import string

import pytest

from genai_demo import compare
from genai_demo.registry import Registry
from genai_demo import i18n, lessons

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def hub_sources(tmp_path_factory):
    """Folders standing in for operator-named hub models (nothing is loaded; they only have to be named)."""
    root = tmp_path_factory.mktemp("hub")
    chat = root / "chat-model"
    chat.mkdir()
    (chat / "chat_template.jinja").write_text("{{ messages }}")  # an instruct model: adds apply_chat_template
    return {"text": str(chat), "image": str(root / "pipeline"), "audio": str(root / "audio-model")}


@pytest.fixture(scope="module")
def adapters(hub_sources):
    """Every adapter the app can show: the shipped models and each kind of hub model."""
    from genai_demo.adapters.hub_image import HubImageAdapter

    registry = Registry(text_model=hub_sources["text"], audio_model=hub_sources["audio"],
                        image_pipeline=hub_sources["image"], image_pipeline_task="text-to-image")
    found = list(registry) + [HubImageAdapter(hub_sources["image"], "unconditional")]
    assert {a.id for a in found} >= {"image/gan", "image/vae", "image/diffusion", "image/autoregressive",
                                     "text/shakespeare", "text/hf", "image/hf", "audio/hf"}
    return found


@pytest.fixture(scope="module")
def demo(hub_sources):
    from genai_demo.ui.page import build_demo

    registry = Registry(text_model=hub_sources["text"], audio_model=hub_sources["audio"],
                        image_pipeline=hub_sources["image"], image_pipeline_task="text-to-image")
    return build_demo(registry)


def test_every_parameter_of_every_model_has_a_korean_label_and_help(adapters):
    missing = []
    for adapter in adapters + [type("Compare", (), {"id": "compare", "params": compare.PARAMS})]:
        for p in adapter.params:
            if "ko" not in p.translations:
                missing.append(f"{adapter.id}:{p.name}")
                continue
            label, help_ko = p.translations["ko"]
            assert HANGUL.search(label), f"{adapter.id}:{p.name} has no Korean label"
            assert HANGUL.search(help_ko) and help_ko != p.help, f"{adapter.id}:{p.name} help is not Korean"
            assert "_" not in p.display_label and "_" not in label, f"{adapter.id}:{p.name}: a code name as label"
            if p.choice_names:
                assert set(p.choice_names["ko"]) == set(p.choice_names["en"]), f"{adapter.id}:{p.name} choices"
    assert not missing, f"no Korean label/help for {missing} (add translations= to their Param declarations)"


def test_every_model_declares_its_korean_title_description_and_presets(adapters):
    for adapter in adapters:
        ko = adapter.translations.get("ko", {})
        assert HANGUL.search(ko.get("title", "")) and HANGUL.search(ko.get("description", "")), adapter.id
        for preset in adapter.presets:
            assert set(preset.texts) == set(i18n.LANGUAGES), (adapter.id, preset.name)
            assert all(HANGUL.search(part) for part in preset.texts["ko"]), (adapter.id, preset.name)


def test_every_model_has_a_korean_title_and_description(adapters):
    for adapter in adapters:
        i18n.register_model(adapter)
        for field in ("title", "description"):
            assert HANGUL.search(i18n.text(i18n.model_key(adapter.id, field), "ko")), (adapter.id, field)


def test_both_languages_have_every_page_string(demo):
    tables = i18n.page_tables()
    assert set(tables["en"]) == set(tables["ko"]), set(tables["en"]) ^ set(tables["ko"])
    for lang, table in tables.items():
        for key, value in table.items():
            assert value.strip(), (lang, key)
            # The browser formats these with ICU MessageFormat: a brace would be read as a placeholder.
            assert "{" not in value and "}" not in value, (lang, key)


def test_both_languages_have_every_message_with_the_same_placeholders():
    tables = i18n.message_tables()
    assert set(tables["en"]) == set(tables["ko"]), set(tables["en"]) ^ set(tables["ko"])
    for key in tables["en"]:
        names = [{f for _, f, _, _ in string.Formatter().parse(tables[lang][key]) if f} for lang in i18n.LANGUAGES]
        assert names[0] == names[1], key
        words = re.sub(r"\{[^}]*\}", "", tables["en"][key])
        if re.search(r"[A-Za-z]{3,}", words):  # a sentence, not a caption like "{digit} · D {score:.2f}"
            assert HANGUL.search(tables["ko"][key]), key


def test_every_control_has_a_label_and_help_in_both_languages(demo):
    """No control without a help text: every model's and the compare section's, in English and in Korean."""
    from gradio.i18n import I18nData

    page = demo.genai_page
    controls = [(pp.adapter.id, p, c) for pp in page.panels for p, c in zip(pp.adapter.params, pp.controls)]
    assert {model_id for model_id, *_ in controls} == set(page.registry.models)
    compare_controls = [b for b in demo.blocks.values()
                        if isinstance(getattr(b, "info", None), I18nData) and b.info.key.startswith("compare:")]
    assert len(compare_controls) == len(compare.PARAMS)
    tables = i18n.page_tables()
    for model_id, p, control in controls:
        for attribute in ("label", "info"):
            value = getattr(control, attribute)
            assert isinstance(value, I18nData), (model_id, p.name, attribute)
            for lang in i18n.LANGUAGES:
                assert tables[lang].get(value.key, "").strip(), (lang, value.key)
        adapter = page.registry.get(model_id)
        followed = adapter.param(p.follows.on).default if p.follows else None
        if p.follows and followed in p.follows.fixed:  # fixed by the default of the control it follows: says why
            assert control.interactive is False
            for lang in i18n.LANGUAGES:
                assert tables[lang][control.info.key] == p.follows.fixed[followed][lang]
            continue
        assert tables["en"][control.info.key] == p.help
        if "ko" in p.translations:
            assert tables["ko"][control.info.key] == p.translations["ko"][1]


def test_lessons_presets_and_about_exist_in_both_languages(demo):
    for key, english, korean in [("lesson:image", "Generative AI", "생성형 AI"), ("lesson:text", "GPT", "GPT"),
                                 ("about:body", "deepfakes", "딥페이크")]:
        assert english in i18n.text(key, "en") and korean in i18n.text(key, "ko")
    about = {lang: i18n.text("about:body", lang) for lang in i18n.LANGUAGES}
    assert "Uneven quality" in about["en"] and "Resource and data demands" in about["en"]
    assert "품질의 일관성 문제" in about["ko"] and "계산 자원" in about["ko"]
    for adapter in Registry():
        for preset in adapter.presets:
            for lang in i18n.LANGUAGES:
                assert i18n.text(preset.key(adapter.id, "comment"), lang).startswith("**")


def test_presets_fit_their_models(adapters):
    for adapter in adapters:
        if not adapter.presets:
            continue
        fitting = lessons.presets_for(adapter)
        assert fitting, adapter.id
        for preset in fitting:
            values = lessons.preset_values(adapter, preset, seed=3)
            assert adapter.validate(values) == values


def test_the_shown_presets_are_the_ones_the_issue_asks_for():
    values = {(m.id, p.name): p.values for m in Registry() for p in m.presets}
    assert values[("image/diffusion", "no_guidance")]["guidance_scale"] == 0
    assert values[("image/diffusion", "one_step")]["num_inference_steps"] == 1
    assert values[("text/shakespeare", "babble")]["temperature"] == 2
    assert values[("image/gan", "same")]["truncation"] == 0


@pytest.mark.parametrize("query,header,expected", [
    ("ko", None, "ko"), ("KO-kr", "en-US", "ko"), ("en", "ko-KR", "en"), (None, "ko-KR,ko;q=0.9,en;q=0.8", "ko"),
    (None, "fr-FR,ko;q=0.5", "ko"), (None, "fr-FR", "en"), ("xx", None, "en"), (None, None, "en"), ("", "", "en"),
])
def test_the_language_comes_from_the_link_then_the_browser(query, header, expected):
    assert i18n.pick_language(query, header) == expected


def test_tables_refuse_what_the_browser_would_misread():
    with pytest.raises(ValueError, match="brace"):
        i18n.register({"en": {"x:y": "a {b}"}})
    with pytest.raises(ValueError, match="no '.'"):
        i18n.register({"en": {"x.y": "a"}})
    with pytest.raises(ValueError, match="already registered"):
        i18n.register({"en": {"ui:generate": "Go"}})
    with pytest.raises(ValueError, match="unknown languages"):
        i18n.register({"fr": {"ui:generate": "Générer"}})
    i18n.register({"en": {"ui:generate": "Generate"}})  # the same text again is fine


def test_other_modules_can_contribute_their_own_tables():
    i18n.register({"en": {"test:hello": "Hello"}, "ko": {"test:hello": "안녕하세요"}})
    i18n.register_messages({"en": {"test:count": "{n} images"}, "ko": {"test:count": "이미지 {n}장"}})
    assert i18n.text("test:hello", "ko") == "안녕하세요" and i18n.message("test:count", "ko", n=3) == "이미지 3장"
    from genai_demo.ui.common import gradio_i18n

    assert gradio_i18n().translations_dict["ko"]["test:hello"] == "안녕하세요"
    assert i18n.message("test:count", "xx", n=2) == "2 images"  # an unknown language falls back to English


# -- what the server writes into the page -----------------------------------------------------------------------------

SERVER_KEYS = ("info:seed", "info:image", "info:images", "info:token", "info:tokens", "info:tokens_per_s",
               "info:parameters", "info:note", "ui:no_process", "ui:no_tokens", "compare:waiting",
               "compare:unavailable", "compare:note", "compare:seen_as", "audio:info:seconds", "audio:info:notes",
               "audio:info:mode:major", "audio:info:mode:minor", "audio:info:p_chosen", "audio:info:writing")


def test_the_servers_lines_exist_in_both_languages():
    import genai_demo.ui.page  # noqa: F401

    tables = i18n.message_tables()
    for key in SERVER_KEYS:
        for lang in i18n.LANGUAGES:
            assert tables[lang].get(key, "").strip(), (lang, key)
        assert HANGUL.search(tables["ko"][key]), key
    pages = i18n.page_tables()
    for key in ("ui:no_process", "ui:no_tokens", "ui:unavailable", "ui:compare:link", "ui:compare:copy_link"):
        assert HANGUL.search(pages["ko"][key]) and pages["en"][key], key


def fake_request(query: dict | None = None, accept_language: str | None = None):
    from types import SimpleNamespace

    return SimpleNamespace(query_params=query or {}, headers={"accept-language": accept_language} if accept_language else {})


def test_a_korean_request_gets_a_korean_info_line(tiny_weights):
    """Gradio hands the handler the request (it is no API parameter); the info line follows its language."""
    from gradio.helpers import special_args
    from gradio.utils import get_function_params

    from genai_demo.ui.image_tab import image_outputs
    from genai_demo.ui.panel import make_handler
    from genai_demo.ui.text_tab import text_outputs

    gan = type(Registry().get("image/gan"))(tiny_weights)
    handler = make_handler(gan, image_outputs)
    values = [7, 2, "3", 1.0]
    assert [name for name, *_ in get_function_params(handler)] == [p.name for p in gan.params]
    korean = fake_request({"lang": "ko"})
    assert special_args(handler, list(values), request=korean)[0] == values + [korean]

    *_, (_, info, _) = handler(*values, korean)  # as Gradio calls it: the request after the values
    assert info.startswith("**image/gan** · 시드 7 · 이미지 2장 · ") and " ms" in info, info
    *_, (_, info, _) = handler(*values, request=fake_request(accept_language="ko-KR,ko;q=0.9"))
    assert info.startswith("**image/gan** · 시드 7 · 이미지 2장"), info
    for request in (None, fake_request({"lang": "en"}, "ko-KR"), fake_request(accept_language="en-US")):
        *_, (_, info, _) = handler(*values, request)
        assert info.startswith("**image/gan** · seed 7 · 2 images · "), info
    *_, (_, info, _) = handler(*values)  # called from Python without a request: English
    assert info.startswith("**image/gan** · seed 7 · 2 images · "), info

    text = Registry().get("text/shakespeare")  # (the shipped weights: tiny_weights has no text model)
    if text.unavailable_reason():
        return
    *_, (_, info, _) = make_handler(text, text_outputs)(*[{"max_new_tokens": 3}.get(p.name, p.default)
                                                        for p in text.params], korean)
    assert "시드" in info and "토큰 3개" in info and "초당 토큰" in info, info


def test_the_empty_views_and_compare_notes_speak_the_requests_language():
    from genai_demo.ui.audio_tab import format_audio_info
    from genai_demo.ui.process import show_frame
    from genai_demo.ui.text_tab import show_token

    korean = fake_request({"lang": "ko"})
    assert HANGUL.search(show_frame([], 0, korean)[0].value) and show_frame([], 0)[0].value.startswith("This model")
    assert HANGUL.search(show_token({}, 1, korean)[0].value) and show_token({}, 1)[0].value.startswith("Generate")
    info = {"model": "audio/chorale", "seed": 1, "seconds": 0.5, "audio_seconds": 8.0, "num_notes": 40, "mode": "minor",
            "notes": ["kept short"]}
    assert format_audio_info(info) == ("**audio/chorale** · seed 1 · 500.0 ms · 8.0 s of audio · 40 notes in minor"
                                       "  \nNote: kept short")
    assert format_audio_info(info, "ko") == ("**audio/chorale** · 시드 1 · 500.0 ms · 오디오 8.0초 · 단조 음표 40개"
                                             "  \n참고: kept short")
    assert i18n.message("compare:note", "ko", ms=1.25, accuracy=0.5, confidence=0.9) == \
        "이미지당 1.2 ms · 인식률 50% · 확신도 0.90"


def test_the_digit_choice_any_is_named_in_both_languages_but_stays_any(demo):
    import gradio as gr
    from gradio.i18n import I18nData

    anys = [dict((value, name) for name, value in block.choices)["any"] for block in demo.blocks.values()
            if isinstance(block, gr.Dropdown) and "any" in [value for _, value in block.choices]]
    assert len(anys) >= 4 and all(isinstance(name, I18nData) for name in anys)
    for name in anys:
        assert i18n.text(name.key, "en") == "any" and HANGUL.search(i18n.text(name.key, "ko"))
