"""What every part of the page shares: translatable strings, the request's language, the info line, and the texts
that describe an endpoint to the API page, gradio_client and MCP tools."""

from __future__ import annotations

import inspect
import json

import gradio as gr

from genai_demo import i18n
from genai_demo.contract import Param


def t(key: str):
    """A translatable string for a component (label, info, value, choice name): the browser shows its language."""
    if not i18n.known(key):
        raise KeyError(f"no English text registered for {key!r}")
    return gr.i18n.I18nData(key)


# Gradio 6.31 announces a finished event with its own key ``common.complete``, which its bundled tables lack: the
# page showed the raw key. (tests/test_korean_page.py fails if it shows again.)
GRADIO_GAPS = {"en": {"common.complete": "Complete"}, "ko": {"common.complete": "완료"}}
# Its Korean table also lacks the sketchpad's words ("Draw a digit", genai_demo/ui/draw.py): the line on an empty
# pad, and its tools' names (what a screen reader says).
_EDITOR = {"select_draw_tool": ("select the draw tool to start", "왼쪽의 붓 도구를 눌러 그리기 시작하세요"),
           "brush": ("Brush", "붓"), "erase": ("Erase", "지우개"), "pan": ("Pan", "화면 이동"),
           "zoom_in": ("Zoom in", "확대"), "zoom_out": ("Zoom out", "축소"), "redo": ("Redo", "다시 실행"),
           "clear_canvas": ("Clear canvas", "캔버스 지우기"), "brush_size": ("Brush Size", "붓 크기"),
           "eraser_size": ("Eraser Size", "지우개 크기"), "color": ("Color", "색")}
for _key, (_en, _ko) in _EDITOR.items():
    GRADIO_GAPS["en"][f"image_editor.{_key}"], GRADIO_GAPS["ko"][f"image_editor.{_key}"] = _en, _ko


def gradio_i18n() -> gr.I18n:
    """Both tables as a ``gr.I18n``, for ``demo.launch(i18n=...)``."""
    tables = i18n.page_tables()
    for lang, gaps in GRADIO_GAPS.items():
        tables[lang].update(gaps)
    return gr.I18n(**tables)


def with_request(fn, params):
    """Give ``fn`` the parameters' names as its signature, plus a last ``request`` that Gradio fills with the
    ``gr.Request`` (recognised by its annotation): it is not an input and not part of the API endpoint."""
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for p in params]
        + [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request)])
    fn.__annotations__ = {"request": gr.Request}
    return fn


def split_request(args: tuple, n: int, request=None) -> tuple[tuple, str, object]:
    """A handler's values, the language of its request and the request (Gradio passes it after the values)."""
    if len(args) > n:
        args, request = args[:n], args[n]
    return args, i18n.language_of(request), request


def api_name(model_id: str) -> str:
    return model_id.replace("/", "_")


def md_escape(text: str) -> str:
    """A visitor's text shown in Markdown as plain text: no links, images, emphasis or HTML from a crafted link."""
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~" else c for c in text)


# -- the API page, gradio_client and MCP tools ---------------------------------------------------------------------
# Gradio describes an endpoint by its function's docstring (Google style: a summary, then ``Args:`` with one
# ``name: text`` line per parameter, then ``Returns:``); MCP tools take the same text. gradio_client's ``view_api``
# reads a parameter's text from its component's type information instead. Both are written here from the model's
# declaration, in English, so an agent reads what a student reads in the page's help.


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def api_text(p: Param) -> str:
    """A parameter in one line: its label and help, what it accepts and its default (and, for a parameter that
    follows another's choice, each choice's own value: a client fills in the default, so it must send that)."""
    text = f"{p.display_label}: {p.help} Accepts {p.describe_range()}; default {json.dumps(p.default)}."
    own = [f"{choice} {json.dumps(r['value'])}" + (f" ({r['minimum']}-{r['maximum']})" if "maximum" in r else "")
           for choice, r in (p.follows.ranges if p.follows else {}).items()
           if "value" in r and choice not in p.follows.fixed]  # a fixed one is ignored, whatever is sent
    if own:
        text += f" Each {p.follows.on} has its own: {', '.join(own)}; send it with the {p.follows.on} you choose."
    return one_line(text)


def api_type(p: Param) -> dict:
    """What a parameter adds to its component's JSON schema: the text above, its default and its bounds."""
    schema = {"description": api_text(p), "additional_description": api_text(p), "default": p.default}
    if p.kind in ("slider", "integer"):
        schema.update({k: v for k, v in (("minimum", p.minimum), ("maximum", p.maximum)) if v is not None})
    elif p.kind == "text":
        schema["maxLength"] = p.max_length
    return schema


def describe_for_api(control: gr.Component, p: Param) -> gr.Component:
    """Give ``control``'s type information (the API page, ``view_api``, MCP schemas) the parameter's description."""
    own = control.api_info_as_input
    control.api_info_as_input = lambda: {**own(), **api_type(p)}
    return control


def api_docstring(title: str, description: str, params, returns: str | None = None) -> str:
    """The docstring Gradio turns into an endpoint's description, its parameters' texts and an MCP tool."""
    lines = [one_line(f"{title.rstrip('.')}. {description}"), "", "Args:"]
    lines += [f"    {p.name}: {api_text(p)}" for p in params]
    if returns:
        lines += ["", "Returns:", f"    {one_line(returns)}"]
    return "\n".join(lines)


def first_paragraph(doc: str | None) -> str:
    return one_line((doc or "").strip().split("\n\n")[0])


def info_line(info: dict, lang: str, count: str | None = None, after_time: tuple[str, ...] = ()) -> str:
    """The line under every output: model · seed · [what was made] · time · [rates] · parameters. (Which weights
    made it, a hash, is for the record: the PNG's metadata and the API's info carry it, the page does not.)"""
    parts = [f"**{info['model']}**"]
    if info.get("seed") is not None:  # a model that draws nothing at random (scoring a text) has no seed
        parts.append(i18n.message("info:seed", lang, seed=info["seed"]))
    if count is not None:
        parts.append(count)
    parts.append(f"{info['seconds'] * 1000:.1f} ms")
    parts.extend(after_time)
    if info.get("parameters"):
        parts.append(i18n.message("info:parameters", lang, n=info["parameters"]))
    if info.get("device"):
        parts.append(i18n.message("info:device", lang, device=info["device"]))
    return " · ".join(parts)


def format_info(info: dict, n_images: int, lang: str = "en") -> str:
    count = i18n.message("info:images" if n_images != 1 else "info:image", lang, n=n_images) if n_images else None
    return info_line(info, lang, count)
