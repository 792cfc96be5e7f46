"""Errors in the learner's words: a bad value names the control as the page shows it, in the page's language.

The contract raises one English line for the CLI and the API (``seed=-1 is out of range: expected an integer from
0 to 4294967295``). A ``ParameterError`` also carries the parameter, the reason and the value, from which this
module writes the page's line ("Seed: -1 is outside the range; choose a whole number from 0 to 4294967295.",
"시드: -1은(는) 범위를 벗어났습니다. 0부터 4294967295까지의 정수를 고르세요."). Other errors keep their English
detail (a path, a library's message) after a sentence in the page's language.
"""

from __future__ import annotations

from genai_demo import i18n
from genai_demo.contract import GenAIError, ModelUnavailable, Param, ParameterError, UnknownModel, shown_value
from genai_demo.worker import WorkerError


def allowed(p: Param, lang: str) -> str:
    """What the control accepts, in ``lang``."""
    if p.kind in ("integer", "slider"):
        return i18n.message(f"allowed:{p.kind}", lang, minimum=_number(p.minimum), maximum=_number(p.maximum))
    if p.kind == "choice":
        if len(p.choices) > 12:
            return i18n.message("allowed:choice_many", lang, n=len(p.choices))
        names = i18n.choice_names(p, lang)
        return i18n.message("allowed:choice", lang, choices=", ".join(names.get(c, c) for c in p.choices))
    if p.kind == "toggle":
        return i18n.message("allowed:toggle", lang)
    return i18n.message("allowed:text", lang, maximum=p.max_length)


def _number(x) -> str:
    return shown_value(x) if x is not None else "-"


def from_browser(request) -> bool:
    """Whether a request comes from the page in a browser (every browser's user agent starts with "Mozilla/"), not
    from gradio_client, curl or an MCP client, which get the contract's own line with the code names."""
    headers = getattr(request, "headers", None) or {}
    return str(headers.get("user-agent", "")).startswith("Mozilla/")


def for_caller(error: Exception, request, model_id: str | None = None) -> str:
    """The line for whoever called: the page's line in its language, or the API's line naming the parameter."""
    if from_browser(request):
        return for_page(error, i18n.language_of(request))
    if isinstance(error, GenAIError):
        return str(error)
    return f"{model_id} failed: {type(error).__name__}: {str(error)[:200]}"


def for_page(error: Exception, lang: str) -> str:
    """One line for the page, in ``lang``, naming the control as the learner sees it."""
    if isinstance(error, ParameterError) and error.param is not None and error.reason:
        p = error.param
        values = {"label": i18n.param_words(p, lang)[0], "allowed": allowed(p, lang),
                  "value": shown_value(error.value) if error.value is not None else ""}
        if error.reason == "too_long":
            values["length"] = len(error.value)
        values.update(getattr(error, "details", None) or {})  # what a model's own check adds (the note it refused)
        return i18n.message(f"error:{error.reason}", lang, **values)
    detail = str(error)
    if isinstance(error, ParameterError):
        return detail if lang == "en" else i18n.message("error:other_parameter", lang, detail=detail)
    if isinstance(error, ModelUnavailable):
        return i18n.message("error:unavailable", lang, detail=detail)
    if isinstance(error, UnknownModel):
        return i18n.message("error:unknown_model", lang, detail=detail)
    if isinstance(error, WorkerError):  # the worker process or a Ray node stopped mid-request, or failed it
        return i18n.message("error:worker", lang, detail=detail)
    if isinstance(error, GenAIError):
        return detail if lang == "en" else i18n.message("error:other", lang, detail=detail)
    return i18n.message("error:other", lang, detail=f"{type(error).__name__}: {str(error)[:200]}")
