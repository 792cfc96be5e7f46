"""Share links and PNG settings: reading them back, validating them, and never failing on bad ones.

A link is the page's address with the settings in its query string::

    ?tab=image&model=image/gan&seed=7&num_images=16&label=any&truncation=0.7

plus ``lang=ko`` (the language) and ``teacher=1`` (hide advanced controls). A section that is not a model
(the Image tab's comparison of the four families) is linked the same way under a pseudo model id,
``?tab=image&model=image/compare&seed=7&label=3&num_images=4``: a ``LinkTarget`` that ``parse_link`` is given. The browser builds it from the
controls (``link_js`` in blocks.py); ``build_query`` here is the same in Python. ``parse_link`` reads one
back: every value passes the model's own ``Param.validate``, and anything wrong (an unknown model, a value
out of range, garbage) falls back to the default with a one-line reason, so a hand-edited link always opens
the page.

A generated PNG carries the full info record in its ``genai_demo`` text chunk (``genai_demo.export``);
``read_png_record`` reads that chunk from the file's bytes without decoding a single pixel, and
``settings_from_record`` validates it the same way as a link. Nothing here imports gradio.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlencode

from genai_demo.contract import ParameterError, filled
from genai_demo import i18n

RESERVED = ("tab", "model", "lang", "teacher")
MAX_SETTINGS = 64  # a link with more keys than this is garbage: only the known ones are read
MAX_PNG_BYTES = 8 * 1024 * 1024  # far above any generated image (a 112x112 grey PNG is a few kB)
MAX_RECORD_CHARS = 64 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"genai_demo"
TRUE = ("1", "true", "yes", "on")


class SettingsError(ValueError):
    """A PNG whose settings cannot be used at all; ``key`` names the message, ``values`` fill it."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key, self.values = key, values

    def message(self, lang: str = "en") -> str:
        return i18n.message(self.key, lang, **self.values)


@dataclass(frozen=True)
class LinkTarget:
    """Something a link can open that is not a model (the compare section): its pseudo model id, the tab it is
    on and its parameters, validated like a model's."""

    id: str
    modality: str
    params: tuple


@dataclass
class LinkState:
    """What a link asks for, after validation. ``model`` is None when the link names no model."""

    tab: str | None = None
    model: str | None = None  # a model id, or the id of a ``LinkTarget``
    values: dict = field(default_factory=dict)  # every parameter of ``model``, validated (defaults where bad)
    teacher: bool = False
    lang: str | None = None
    problems: list[str] = field(default_factory=list)  # one short reason per bad part, in the page's language


def shown(value, limit: int = 40) -> str:
    """A visitor's value, quoted and cut, safe to put in a message."""
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def default_model(registry, modality: str):
    """The model a tab shows first: its first available one (as blocks.py picks), else its first."""
    models = registry.by_modality(modality)
    if not models:
        return None
    return next((m for m in models if m.unavailable_reason() is None), models[0])


def build_query(model_id: str, values: Mapping, *, tab: str | None = None, lang: str | None = None,
                teacher: bool = False) -> str:
    """The query string of a link to ``model_id`` with ``values`` (what the page's Copy link builds)."""
    pairs = [("tab", tab or model_id.split("/")[0]), ("model", model_id)]
    for name, value in values.items():
        pairs.append((name, ("true" if value else "false") if isinstance(value, bool) else str(value)))
    if lang:
        pairs.append(("lang", lang))
    if teacher:
        pairs.append(("teacher", "1"))
    return urlencode(pairs)


def validate_values(adapter, raw: Mapping, lang: str) -> tuple[dict, list[str]]:
    """Every parameter of ``adapter``: ``raw``'s value where it is valid, else the default (with a reason). A
    parameter that follows another's choice (``Param.follows``: the diffusion model's steps follow its sampler) takes
    that choice's value where it is missing, or where the model refuses it with that choice (with a reason)."""
    given, bad = {}, []
    for p in adapter.params:
        if p.name in raw:
            try:
                given[p.name] = p.validate(raw[p.name])
            except ParameterError as e:
                bad.append((p.name, e))
    values = filled(adapter.params, given)
    problems = [i18n.message("link:bad_value", lang, error=str(e), default=values[name]) for name, e in bad]
    followers = {p.name: p for p in adapter.params if p.follows is not None}
    if followers and hasattr(adapter, "validate"):
        try:
            adapter.validate(values)
        except ParameterError as e:  # e.g. 20 steps for the 4-step sampler: that sampler's own number of steps
            p = followers.get(getattr(e.param, "name", None))
            if p is not None:
                values[p.name] = p.follows.default(p, values[p.follows.on])
                problems.append(i18n.message("link:bad_value", lang, error=str(e), default=values[p.name]))
    unknown = sorted(set(raw) - {p.name for p in adapter.params})
    if unknown:
        names = ", ".join(shown(n, 24) for n in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        problems.append(i18n.message("link:unknown_setting", lang, model=adapter.id, names=names))
    return values, problems


def parse_link(query: Mapping[str, str], registry, tabs: tuple[str, ...], lang: str = "en",
               targets: Mapping[str, LinkTarget] | None = None) -> LinkState:
    """What a page address asks for; never raises. ``tabs``: the page's tab ids (``image``, ``text``, ``about``...);
    ``targets``: what a link may name besides the registry's models (the compare section), by id."""
    targets = targets or {}
    query = {str(k): str(v) for k, v in list(query.items())[: MAX_SETTINGS + len(RESERVED)]}
    state = LinkState(teacher=query.get("teacher", "").strip().lower() in TRUE, lang=query.get("lang"))
    problems = state.problems
    if len(query) > MAX_SETTINGS:
        problems.append(i18n.message("link:too_many", lang))
    settings = {k: v for k, v in query.items() if k not in RESERVED}

    tab = query.get("tab")
    if tab is not None and tab not in tabs:
        fallback = tabs[0] if tabs else "image"
        problems.append(i18n.message("link:unknown_tab", lang, value=shown(tab), default=fallback))
        tab = None
    model_id = query.get("model")
    adapter = None
    if model_id is not None:
        if model_id in registry.models:
            adapter = registry.get(model_id)
        elif model_id in targets:
            adapter = targets[model_id]
        else:
            adapter = default_model(registry, tab if tab in ("image", "text", "audio") else "image")
            problems.append(i18n.message("link:unknown_model", lang, value=shown(model_id),
                                         default=adapter.id if adapter else "-"))
    elif settings and tab in (None, "image", "text", "audio"):
        adapter = default_model(registry, tab or "image")  # settings without a model: the tab's first model
    if adapter is not None:
        if tab is not None and tab != adapter.modality:
            if model_id in registry.models or model_id in targets:
                problems.append(i18n.message("link:model_not_in_tab", lang, model=adapter.id, tab=shown(tab)))
        tab = adapter.modality
        state.values, value_problems = validate_values(adapter, settings, lang)
        problems.extend(value_problems)
        state.model = adapter.id
    state.tab = tab
    return state


def notice(state: LinkState, lang: str) -> str:
    """The one line a page shows for a link: what was wrong in it (and that teacher mode is on), or ''."""
    lines = []
    if state.problems:
        lines.append(i18n.message("link:notice", lang, problems="; ".join(state.problems)))
    if state.teacher:
        lines.append(i18n.message("teacher:notice", lang))
    return " ".join(lines)


# -- PNG metadata ---------------------------------------------------------------------------------------------------


def png_text_chunks(data: bytes) -> dict[str, str]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG file's bytes, read chunk by chunk: no pixel is decoded."""
    if len(data) > MAX_PNG_BYTES:
        raise SettingsError("png:too_big", size=len(data))
    if not data.startswith(PNG_SIGNATURE):
        raise SettingsError("png:not_png")
    chunks, pos = {}, len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length  # length, type, data, CRC
        if len(body) < length or kind == b"IEND":
            break
        keyword, sep, rest = body.partition(b"\0")
        if not sep:
            continue
        try:
            if kind == b"tEXt":
                value = rest.decode("latin-1")
            elif kind == b"zTXt" and rest[:1] == b"\0":
                value = zlib.decompressobj().decompress(rest[1:], MAX_RECORD_CHARS).decode("latin-1")
            elif kind == b"iTXt":
                flag, method, rest = rest[:1], rest[1:2], rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _translated, _, rest = rest.partition(b"\0")
                if flag == b"\1":
                    rest = zlib.decompressobj().decompress(rest, MAX_RECORD_CHARS) if method == b"\0" else b""
                value = rest.decode("utf-8")
            else:
                continue
        except (zlib.error, UnicodeDecodeError):
            continue
        chunks[keyword.decode("latin-1")] = value
    return chunks


def read_png_record(data: bytes) -> dict:
    """The info record a generated PNG carries, or SettingsError saying why there is none."""
    text = png_text_chunks(data).get(PNG_KEYWORD.decode())
    if text is None:
        raise SettingsError("png:none")
    if len(text) > MAX_RECORD_CHARS:
        raise SettingsError("png:not_record")
    try:
        record = json.loads(text)
    except ValueError:
        raise SettingsError("png:not_json") from None
    if not isinstance(record, dict) or not isinstance(record.get("model"), str) \
            or not isinstance(record.get("params"), dict):
        raise SettingsError("png:not_record")
    return record


def settings_from_record(record: dict, registry, lang: str = "en", modality: str = "image") -> LinkState:
    """A PNG's record as a link state: its model and validated settings; SettingsError if the model cannot be used."""
    model_id = record["model"]
    if model_id not in registry.models:
        raise SettingsError("png:unknown_model", model=shown(model_id))
    adapter = registry.get(model_id)
    if adapter.modality != modality:
        raise SettingsError("png:not_image_model", model=adapter.id)
    raw = {str(k): v for k, v in list(record["params"].items())[:MAX_SETTINGS]}
    values, problems = validate_values(adapter, raw, lang)
    return LinkState(tab=adapter.modality, model=adapter.id, values=values, problems=problems)
