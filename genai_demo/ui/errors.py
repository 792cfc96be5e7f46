"""Errors in the learner's words: a bad value names the control as the page shows it, in the page's language.

The contract raises one English line for the CLI and the API (``seed=-1 is out of range: expected an integer from
0 to 4294967295``). A ``ParameterError`` also carries the parameter, the reason and the value, from which this
module writes the page's line ("Seed: -1 is too small or too large: choose a whole number from 0 to 4294967295",
"시드: -1은(는) 범위를 벗어났습니다. 0부터 4294967295까지의 정수를 고르세요"). Other errors keep their English
detail (a path, a library's message) after a sentence in the page's language.
"""

from __future__ import annotations

from genai_demo.contract import GenAIError, ModelUnavailable, Param, ParameterError, UnknownModel, shown_value
from genai_demo.ui import i18n

i18n.register_messages({
    "en": {
        "error:missing": "{label}: please fill this in; {allowed}.",
        "error:wrong_type": "{label}: {value} is not the right kind of value; {allowed}.",
        "error:not_number": "{label}: {value} is not a number; {allowed}.",
        "error:not_finite": "{label}: {value} is not a usable number; {allowed}.",
        "error:not_whole": "{label}: {value} is not a whole number; {allowed}.",
        "error:out_of_range": "{label}: {value} is outside the range; {allowed}.",
        "error:not_choice": "{label}: {value} is not one of the choices; {allowed}.",
        "error:not_toggle": "{label}: {value} is neither on nor off.",
        "error:too_long": "{label}: the text is {length:,} characters long; {allowed}.",
        "error:empty": "{label}: please write something here.",
        "error:other_parameter": "That setting cannot be used: {detail}",
        "error:unavailable": "This model cannot run on this server right now. Details for the teacher: {detail}",
        "error:unknown_model": "There is no such model here. Details: {detail}",
        "error:other": "Something went wrong: {detail}",
        "allowed:integer": "choose a whole number from {minimum} to {maximum}",
        "allowed:slider": "choose a number from {minimum} to {maximum}",
        "allowed:choice": "choose one of: {choices}",
        "allowed:choice_many": "choose one of the list ({n} choices)",
        "allowed:toggle": "choose on or off",
        "allowed:text": "write at most {maximum:,} characters",
    },
    "ko": {
        "error:missing": "{label}: 값을 입력하세요. {allowed}.",
        "error:wrong_type": "{label}: {value}은(는) 알맞은 종류의 값이 아닙니다. {allowed}.",
        "error:not_number": "{label}: {value}은(는) 숫자가 아닙니다. {allowed}.",
        "error:not_finite": "{label}: {value}은(는) 쓸 수 있는 숫자가 아닙니다. {allowed}.",
        "error:not_whole": "{label}: {value}은(는) 정수가 아닙니다. {allowed}.",
        "error:out_of_range": "{label}: {value}은(는) 범위를 벗어났습니다. {allowed}.",
        "error:not_choice": "{label}: {value}은(는) 고를 수 있는 값이 아닙니다. {allowed}.",
        "error:not_toggle": "{label}: {value}은(는) 켜기나 끄기가 아닙니다.",
        "error:too_long": "{label}: 글이 {length:,}자입니다. {allowed}.",
        "error:empty": "{label}: 내용을 적어 주세요.",
        "error:other_parameter": "이 설정은 쓸 수 없습니다: {detail}",
        "error:unavailable": "이 모델은 지금 이 서버에서 실행할 수 없습니다. 선생님을 위한 자세한 내용: {detail}",
        "error:unknown_model": "그런 모델은 여기 없습니다. 자세한 내용: {detail}",
        "error:other": "문제가 생겼습니다: {detail}",
        "allowed:integer": "{minimum}부터 {maximum}까지의 정수를 고르세요",
        "allowed:slider": "{minimum}부터 {maximum}까지의 수를 고르세요",
        "allowed:choice": "다음 중 하나를 고르세요: {choices}",
        "allowed:choice_many": "목록에서 하나를 고르세요({n}개)",
        "allowed:toggle": "켜기나 끄기를 고르세요",
        "allowed:text": "{maximum:,}자 이내로 적으세요",
    },
})


def label_of(model_id: str | None, p: Param, lang: str) -> str:
    """The control's label as the page shows it in ``lang``."""
    return p.translations.get(lang, (p.display_label, p.help))[0] if lang != "en" else p.display_label


def allowed(model_id: str | None, p: Param, lang: str) -> str:
    """What the control accepts, in ``lang``."""
    if p.kind in ("integer", "slider"):
        return i18n.message(f"allowed:{p.kind}", lang, minimum=_number(p.minimum), maximum=_number(p.maximum))
    if p.kind == "choice":
        if len(p.choices) > 12:
            return i18n.message("allowed:choice_many", lang, n=len(p.choices))
        names = p.choice_names.get(lang) or p.choice_names.get("en") or {}
        return i18n.message("allowed:choice", lang, choices=", ".join(names.get(c, c) for c in p.choices))
    if p.kind == "toggle":
        return i18n.message("allowed:toggle", lang)
    return i18n.message("allowed:text", lang, maximum=p.max_length)


def _number(x) -> str:
    return shown_value(x) if x is not None else "-"


def for_page(error: Exception, lang: str, model_id: str | None = None) -> str:
    """One line for the page, in ``lang``, naming the control as the learner sees it."""
    if isinstance(error, ParameterError) and error.param is not None and error.reason:
        p = error.param
        values = {"label": label_of(model_id, p, lang), "allowed": allowed(model_id, p, lang),
                  "value": shown_value(error.value) if error.value is not None else ""}
        if error.reason == "too_long":
            values["length"] = len(error.value)
        return i18n.message(f"error:{error.reason}", lang, **values)
    detail = str(error)
    if isinstance(error, ParameterError):
        return detail if lang == "en" else i18n.message("error:other_parameter", lang, detail=detail)
    if isinstance(error, ModelUnavailable):
        return i18n.message("error:unavailable", lang, detail=detail)
    if isinstance(error, UnknownModel):
        return i18n.message("error:unknown_model", lang, detail=detail)
    if isinstance(error, GenAIError):
        return detail if lang == "en" else i18n.message("error:other", lang, detail=detail)
    return i18n.message("error:other", lang, detail=f"{type(error).__name__}: {str(error)[:200]}")
