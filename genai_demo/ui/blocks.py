"""Builds the whole page from the registry: one tab per modality, one generic panel per model.

Nothing here knows a particular model. Each declared parameter becomes one
control; each model gets one Generate event, exposed in the API as
``/<modality>_<name>`` (``/image_gan``) with the parameters' own names.
"""

from __future__ import annotations

import contextvars
import hashlib
import html
import inspect
import json
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field

import gradio as gr

from genai_demo import compare
from genai_demo.contract import MAX_SEED, GenAIError, ModelAdapter, Param, Preset
from genai_demo.judge import DigitJudge
from genai_demo.registry import MODALITIES, Registry
from genai_demo.ui import i18n, lessons, links
from genai_demo.ui.explain import explain_section
from genai_demo.ui.i18n import t

log = logging.getLogger(__name__)

GALLERY_PIXELS = 112  # small images (28x28 digits) are enlarged to about this size, nearest-neighbour, so pixels stay sharp
CSS = """
.genai-gallery img, .genai-process img { image-rendering: pixelated; image-rendering: crisp-edges; }
#audio-roll img { object-fit: contain; }
.genai-info { font-size: 0.95em; }
#text-coloured .token.highlighted { padding: 0; margin: 0; border-radius: 0; }
#text-coloured .textfield { font-family: var(--font-mono); line-height: 1.7; }
.genai-bars table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.genai-bars td { padding: 2px 6px; vertical-align: middle; }
.genai-bars .tok { font-family: monospace; white-space: pre; width: 5em; }
.genai-bars .bar { height: 0.7em; border-radius: 2px; }
.genai-bars .model { background: #9ca3af; }
.genai-bars .sampled { background: #2563eb; }
.genai-bars tr.chosen { background: rgba(250, 204, 21, 0.25); font-weight: 600; }
#genai-notice { border-left: 4px solid #f59e0b; padding-left: 8px; }
#genai-lang { max-width: 260px; }
"""


# What handlers write into the page, in the request's language (``i18n.language_of``): the info lines, the empty
# process views, the compare notes. English must stay exactly as it was (tests and scripts read the info line).
i18n.register_messages({
    "en": {
        "info:seed": "seed {seed}",
        "info:image": "{n} image", "info:images": "{n} images",
        "info:token": "{n} token", "info:tokens": "{n} tokens",
        "info:tokens_per_s": "{rate:.0f} tokens/s",
        "info:parameters": "{n:,} parameters",
        "info:weights": "weights {version}",
        "info:note": "Note: {note}",
        "ui:no_process": "This model draws in a single pass through its network: there are no intermediate steps "
                         "to show.",
        "ui:no_tokens": "Generate some text: then each token it wrote is coloured here by how likely the model "
                        "thought it was.",
        "compare:waiting": "waiting...",
        "compare:unavailable": "unavailable: {error}",
        "compare:note": "{ms:.1f} ms per image · recognised {accuracy:.0%} · confidence {confidence:.2f}",
        "compare:seen_as": "seen as {digit}",
    },
    "ko": {
        "info:seed": "시드 {seed}",
        "info:image": "이미지 {n}장", "info:images": "이미지 {n}장",
        "info:token": "토큰 {n}개", "info:tokens": "토큰 {n}개",
        "info:tokens_per_s": "초당 토큰 {rate:.0f}개",
        "info:parameters": "매개변수 {n:,}개",
        "info:weights": "가중치 {version}",
        "info:note": "참고: {note}",
        "ui:no_process": "이 모델은 신경망을 한 번 통과해 그림을 그립니다. 보여 줄 중간 단계가 없습니다.",
        "ui:no_tokens": "텍스트를 생성해 보세요. 그러면 모델이 쓴 각 토큰이 모델이 생각한 가능성에 따라 여기에 "
                        "색칠됩니다.",
        "compare:waiting": "기다리는 중...",
        "compare:unavailable": "사용할 수 없음: {error}",
        "compare:note": "이미지당 {ms:.1f} ms · 인식률 {accuracy:.0%} · 확신도 {confidence:.2f}",
        "compare:seen_as": "{digit}(으)로 인식",
    },
})
# The same two texts as page strings, for the views' first, server-independent render.
i18n.register({lang: {key: i18n.message(key, lang) for key in ("ui:no_process", "ui:no_tokens")}
               for lang in i18n.LANGUAGES})
i18n.register({"en": {"ui:unavailable": "Unavailable:"}, "ko": {"ui:unavailable": "사용할 수 없음:"}})


def with_request(fn, params):
    """Give ``fn`` the parameters' names as its signature, plus a last ``request`` that Gradio fills with the
    ``gr.Request`` (recognised by its annotation): it is not an input and not part of the API endpoint."""
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for p in params]
        + [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request)])
    fn.__annotations__ = {"request": gr.Request}
    return fn


def split_request(args: tuple, n: int, request=None) -> tuple[tuple, str]:
    """A handler's values and the language of its request (Gradio passes the request after the values)."""
    if len(args) > n:
        args, request = args[:n], args[n]
    return args, i18n.language_of(request)


def api_name(model_id: str) -> str:
    return model_id.replace("/", "_")


# -- the API page, gradio_client and MCP tools ---------------------------------------------------------------------
# Gradio describes an endpoint by its function's docstring (Google style: a summary, then ``Args:`` with one
# ``name: text`` line per parameter, then ``Returns:``); MCP tools take the same text. gradio_client's ``view_api``
# reads a parameter's text from its component's type information instead. Both are written here from the model's
# declaration, in English, so an agent reads what a student reads in the page's help.


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def api_text(p: Param) -> str:
    """A parameter in one line: its label and help, what it accepts and its default."""
    return one_line(f"{p.display_label}: {p.help} Accepts {p.describe_range()}; default {json.dumps(p.default)}.")


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


def make_control(p: Param, model_id: str | None = None) -> gr.Component:
    """One control for a parameter; with ``model_id`` its label and help come from the translation tables."""
    if model_id is None:
        common = dict(label=p.display_label, info=p.help, interactive=True)
    else:
        common = dict(label=t(i18n.param_key(model_id, p.name, "label")), info=t(i18n.param_key(model_id, p.name, "help")),
                      interactive=True)
    if p.kind == "slider":
        control = gr.Slider(p.minimum, p.maximum, value=p.default, step=p.step, **common)
    elif p.kind == "integer":
        control = gr.Number(value=p.default, minimum=p.minimum, maximum=p.maximum, step=p.step or 1, precision=0,
                            **common)
    elif p.kind == "choice":
        # "any" (a random digit per image) is named in the page's language; the value, and so the API, stays "any".
        named = p.choice_names.get(i18n.DEFAULT_LANGUAGE, {}) if model_id is not None else {}
        choices = [(t(i18n.choice_key(model_id, p, c)), c) if c in named else c for c in p.choices]
        control = gr.Dropdown(choices, value=p.default, **common)
    elif p.kind == "toggle":
        control = gr.Checkbox(value=p.default, **common)
    else:
        control = gr.Textbox(value=p.default, max_length=p.max_length, lines=2, **common)
    return describe_for_api(control, p)


def info_line(info: dict, lang: str, count: str | None = None, after_time: tuple[str, ...] = ()) -> str:
    """The line under every output: model · seed · [what was made] · time · [rates] · parameters · weights."""
    parts = [f"**{info['model']}**", i18n.message("info:seed", lang, seed=info["seed"])]
    if count is not None:
        parts.append(count)
    parts.append(f"{info['seconds'] * 1000:.1f} ms")
    parts.extend(after_time)
    if info.get("parameters"):
        parts.append(i18n.message("info:parameters", lang, n=info["parameters"]))
    if info.get("weights_version"):
        parts.append(i18n.message("info:weights", lang, version=info["weights_version"]))
    return " · ".join(parts)


def format_info(info: dict, n_images: int, lang: str = "en") -> str:
    count = i18n.message("info:images" if n_images != 1 else "info:image", lang, n=n_images) if n_images else None
    return info_line(info, lang, count)


def to_gallery(result) -> list:
    from PIL import Image

    items = []
    for i, image in enumerate(result.images):
        scale = max(1, GALLERY_PIXELS // max(image.size))
        big = image.resize((image.width * scale, image.height * scale), Image.NEAREST) if scale > 1 else image
        items.append((big, result.captions[i] if i < len(result.captions) else None))
    return items


PNG_KEEP = 2000  # gallery PNGs kept in this process's scratch folder; older ones are removed


def gallery_files(result) -> list:
    """The gallery of a finished result as PNG files that carry their settings (``genai_demo`` text chunk) and
    say they are AI-generated, so a downloaded image can be traced back and dropped onto the page again."""
    from genai_demo.export import png_with_metadata, scratch_dir

    png_dir = scratch_dir("png")  # Gradio copies the files from here into its cache
    items = []
    for i, (big, caption) in enumerate(to_gallery(result)):
        record = {**result.info, "image_index": i, "generated_by": "GenAI playground (AI-generated image)"}
        digest = hashlib.sha256(big.tobytes() + json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
        stem = f"{str(result.info.get('model', 'image')).replace('/', '-')}-seed{result.info.get('seed')}-{i + 1}"
        path = png_dir / f"{stem}-{digest[:10]}.png"
        if path.exists():  # the same pixels and record (the page's opening result, shown again): keep it from pruning
            path.touch()
        else:  # written whole under another name first, so a request showing the same file never reads half of it
            partial = path.with_name(f".{path.name}.{threading.get_ident()}.part")
            png_with_metadata(big, partial, record)
            os.replace(partial, path)
        items.append((str(path), caption))
    try:
        files = list(png_dir.glob("*.png"))
        if len(files) > PNG_KEEP:
            for old in sorted(files, key=lambda f: f.stat().st_mtime)[:-PNG_KEEP]:
                old.unlink(missing_ok=True)
    except OSError:  # another request pruned at the same time
        pass
    return items


def image_outputs(result, lang: str = "en") -> tuple:
    """The images, as PNG files that carry their settings, and a line naming the model, seed, time and weights."""
    gallery = gallery_files(result) if result.done else to_gallery(result)
    return gallery, format_info(result.info, len(result.images), lang), result.process


def concurrency(adapter: ModelAdapter) -> dict:
    """Queue settings of a model's event: heavy models share one slot on the CPU; light ones run side by side."""
    if adapter.heavy:
        return {"concurrency_limit": 1, "concurrency_id": "heavy"}
    return {"concurrency_limit": adapter.concurrency}


def make_handler(adapter: ModelAdapter, outputs=image_outputs, min_interval: float = 0.0):
    """A Gradio event function for one model, with the model's parameter names as its signature.

    It streams: every intermediate result updates the output (at most one every ``min_interval`` seconds, the
    first at once); the final one also fills the process view's state. ``outputs`` turns a result and the
    request's language into the values of the tab's output components; its docstring's first paragraph says, for
    the API, what the endpoint returns.
    """

    def handler(*args, request=None):
        values, lang = split_request(args, len(adapter.params), request)
        params = dict(zip((p.name for p in adapter.params), values))
        last = -float("inf")
        updates, finished = 0, False
        try:
            for result in adapter.stream(**params):
                now = time.perf_counter()
                if result.done or now - last >= min_interval:
                    last = now
                    updates += 1
                    yield outputs(result, lang)
            finished = True
        except GenAIError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # a bug or a fault: log it for the operator, one line for the user
            log.exception("generation failed for %s", adapter.id)
            raise gr.Error(f"{adapter.id} failed: {type(e).__name__}: {str(e)[:200]}", print_exception=False) from None
        finally:
            if not finished and updates:  # Gradio closed the generator: the visitor left or pressed Stop
                log.warning("%s stopped after %d updates: the client cancelled or disconnected", adapter.id, updates)

    handler.__name__ = api_name(adapter.id)  # also the MCP tool's name
    handler.__doc__ = api_docstring(adapter.title, adapter.description, adapter.params, first_paragraph(outputs.__doc__))
    return with_request(handler, adapter.params)


NO_PROCESS = i18n.message("ui:no_process")  # (in English; handlers write it in the request's language)


def compose_frame(images: dict):
    """A frame's named pictures stacked into one image, each under its name."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=16)
    width = max(im.width for im in images.values())
    height = sum(im.height + 28 for im in images.values())
    out = Image.new("RGB", (width, height), "white")
    draw, y = ImageDraw.Draw(out), 0
    for name, im in images.items():
        draw.text((2, y + 5), name, fill="black", font=font)
        out.paste(im.convert("RGB"), (0, y + 28))
        y += im.height + 28
    return out


def show_frame(process: list, index, request: gr.Request = None) -> tuple:
    """The process view for one frame: its label and its named pictures."""
    if not process:
        return gr.Markdown(i18n.message("ui:no_process", i18n.language_of(request))), gr.Image(value=None, visible=False)
    frame = process[max(0, min(int(index or 0), len(process) - 1))]
    return gr.Markdown(f"**{frame['label']}**"), gr.Image(value=compose_frame(frame["images"]), visible=True)


def reset_process(process: list, request: gr.Request = None) -> tuple:
    """After a generation: the scrubber spans its frames and shows the last one."""
    last = max(0, len(process) - 1)
    return (gr.Slider(minimum=0, maximum=max(1, last), value=last, visible=bool(process)),
            *show_frame(process, last, request))


def link_js(adapter: ModelAdapter | links.LinkTarget, copy: bool) -> str:
    """Browser code that turns the panel's control values into the page's address (?tab=&model=&seed=...), keeping
    ``lang`` and ``teacher``, and puts it in the address bar; with ``copy``, also on the clipboard, and returns it
    for the link box (which works where the clipboard is not allowed). ``links.build_query`` is the same in Python."""
    names = json.dumps([p.name for p in adapter.params])
    finish = ("try { navigator.clipboard.writeText(link).catch(() => {}); } catch (e) {} return link;" if copy
              else "return [];")
    return (f"(...values) => {{ const names = {names}; const url = new URL(window.location.href);"
            " const query = new URLSearchParams();"
            f" query.set('tab', {json.dumps(adapter.modality)}); query.set('model', {json.dumps(adapter.id)});"
            " names.forEach((name, i) => query.set(name, String(values[i])));"
            " for (const keep of ['lang', 'teacher']) { const v = url.searchParams.get(keep);"
            " if (v !== null) query.set(keep, v); }"
            " url.search = query.toString(); url.hash = ''; const link = url.toString();"
            f" window.history.replaceState(null, '', link); {finish} }}")


@dataclass
class PanelParts:
    """What the page's links, PNG drops and teacher mode reach in one model's panel."""

    adapter: ModelAdapter
    panel: gr.Column
    controls: list


_PANELS: contextvars.ContextVar[list | None] = contextvars.ContextVar("genai_panels", default=None)


def model_panel(adapter: ModelAdapter, outputs: list, visible: bool, handler=None, stoppable: bool = False) -> tuple:
    """Controls and Generate button of one model, built from its declared parameters, with its presets and its link.

    Returns the panel, the Generate event and, if ``stoppable``, the Stop button's event (else None).
    """
    i18n.register_model(adapter)
    with gr.Column(visible=visible) as panel:
        gr.Markdown(t(i18n.model_key(adapter.id, "intro")))
        reason = adapter.unavailable_reason()
        if reason:
            key = i18n.model_key(adapter.id, "unavailable")  # the reason itself is the adapter's, in English
            i18n.register({lang: {key: f"**{i18n.text('ui:unavailable', lang)}** {i18n._plain(reason)}"}
                           for lang in i18n.LANGUAGES}, replace=True)
            gr.Markdown(t(key))
        controls = [seed_control(p, adapter.id) if p.name == "seed" else make_control(p, adapter.id)
                    for p in adapter.params]
        with gr.Row():
            button = gr.Button(t("ui:generate"), variant="primary", interactive=reason is None)
            stop = gr.Button(t("ui:stop"), variant="stop", interactive=reason is None) if stoppable else None
        # preprocess=False: raw values reach the contract's validation, whose messages name the parameter and its range.
        event = button.click(handler or make_handler(adapter), controls, outputs, api_name=api_name(adapter.id),
                             preprocess=False, **concurrency(adapter))
        # The address bar follows what was generated, so the browser's own "copy address" reproduces it too.
        button.click(None, controls, None, js=link_js(adapter, copy=False), api_visibility="private", queue=False)
        stopped = stop.click(None, None, None, cancels=[event], api_visibility="private", queue=False) if stop else None
        preset_buttons(adapter, controls)
        with gr.Row(equal_height=True):
            link = gr.Textbox(label=t("ui:link"), info=t("ui:link:info"), interactive=False, max_lines=2, scale=4,
                              elem_classes=["genai-link"])
            copy = gr.Button(t("ui:copy_link"), scale=0, min_width=120)
        copy.click(None, controls, link, js=link_js(adapter, copy=True), api_visibility="private", queue=False)
    collected = _PANELS.get()
    if collected is not None:
        collected.append(PanelParts(adapter, panel, controls))
    return panel, event, stopped


def preset_buttons(adapter: ModelAdapter, controls: list) -> None:
    """One button per preset, filling the panel's controls (the seed stays), with each preset's one-line commentary."""
    presets = lessons.presets_for(adapter)
    if not presets:
        return
    key = f"{adapter.id}:presets"
    i18n.register({lang: {key: "\n".join(f"- {i18n.text(p.key(adapter.id, 'comment'), lang)}" for p in presets)}
                   for lang in i18n.LANGUAGES}, replace=True)
    with gr.Accordion(t("ui:presets"), open=False, elem_classes=["genai-presets"]):
        with gr.Row():
            buttons = [gr.Button(t(p.key(adapter.id, "name")), size="sm", variant="secondary") for p in presets]
        gr.Markdown(t(key))
    for preset, preset_button in zip(presets, buttons):
        preset_button.click(_apply_preset(adapter, preset), None, controls, api_visibility="private", queue=False)


def _apply_preset(adapter: ModelAdapter, preset: Preset):
    values = lessons.preset_values(adapter, preset)

    def apply() -> list:
        return [gr.update() if p.name == "seed" else gr.update(value=values[p.name]) for p in adapter.params]

    return apply


@dataclass
class TabOutputs:
    """Where a tab shows its first model's result: what ``OpeningResult`` fills when the page opens."""

    first: ModelAdapter  # the model the tab shows first
    outputs: list  # the components its Generate events write
    format: object  # (result, lang) -> the outputs' values: image_outputs...
    finish: object  # wires what follows a result on an event (the process view)


def modality_tab(modality: str, models: list[ModelAdapter]) -> TabOutputs | None:
    """One tab's models; returns where a result is shown (the text and audio tabs return None)."""
    if modality == "text":
        return text_tab(models)
    if modality == "audio":
        from genai_demo.ui.audio import audio_tab

        return audio_tab(models)
    first = next((m for m in models if m.unavailable_reason() is None), models[0])
    # The outputs are made first (unrendered) so that every model's Generate event can target them.
    gallery = gr.Gallery(label=t("ui:output"), columns=6, height=520, object_fit="contain", format="png",
                         elem_id=f"{modality}-output", elem_classes=["genai-gallery"], interactive=False, render=False)
    info = gr.Markdown(elem_id=f"{modality}-info", elem_classes=["genai-info"], render=False)
    process = gr.State([])
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker = model_picker(models, first)
            built = [model_panel(m, [gallery, info, process], visible=(m is first)) for m in models]
        with gr.Column(scale=3):
            gallery.render()
            info.render()
            with gr.Accordion(t("ui:how_drawn"), open=True):
                frame_label = gr.Markdown(t("ui:no_process"))
                scrubber = gr.Slider(0, 1, value=0, step=1, label=t("ui:step"), visible=False, info=t("ui:step:info"))
                frame_gallery = gr.Image(type="pil", format="png", show_label=False, interactive=False, visible=False,
                                         elem_id=f"{modality}-process", elem_classes=["genai-process"])
    explain_section(modality, models, process)  # "How it works": per-family views and training (genai_demo/ui/explain.py)
    panels = [panel for panel, *_ in built]

    def finish(event) -> None:
        event.then(reset_process, process, [scrubber, frame_label, frame_gallery], api_visibility="private", queue=False)

    for _, event, _ in built:
        finish(event)
    scrubber.input(show_frame, [process, scrubber], [frame_label, frame_gallery], api_visibility="private", queue=False)
    picker.change(lambda mid: [gr.Column(visible=(m.id == mid)) for m in models], picker, panels,
                  api_visibility="private", queue=False)
    return TabOutputs(first, [gallery, info, process], image_outputs, finish)


class OpeningResult:
    """What a first visitor sees without a click: the first tab's first model at its default settings.

    It is computed once, on the first visit (by then the warm-up has usually loaded the model), and kept; each
    visit only formats it in the visitor's language. Only a quick model qualifies (neither ``slow`` nor ``heavy``):
    the same seed and settings give the same images, so every visitor sees what Generate would draw.
    """

    def __init__(self, tab: TabOutputs):
        self.tab = tab
        self.defaults = {p.name: p.default for p in tab.first.params}
        self._lock = threading.Lock()
        self._result = None

    @staticmethod
    def qualifies(tab: TabOutputs | None) -> bool:
        return tab is not None and not (tab.first.slow or tab.first.heavy) and tab.first.unavailable_reason() is None

    def wanted(self, state: links.LinkState) -> bool:
        """Whether a page opened at this link shows the tab's first model at its defaults (a plain visit does)."""
        first = self.tab.first
        return (state.tab in (None, first.modality) and state.model in (None, first.id)
                and (state.model is None or state.values == self.defaults))

    def result(self):
        """The final result at the default settings (computed on the first call; None if the model failed)."""
        with self._lock:
            if self._result is None and self.tab.first.unavailable_reason() is None:
                try:
                    self._result = self.tab.first.generate(**self.defaults)
                except Exception as e:  # the page still opens; a click on Generate shows the error
                    log.warning("the opening result of %s failed: %s", self.tab.first.id, e)
            return self._result

    def values(self, state: links.LinkState, lang: str) -> list:
        result = self.result() if self.wanted(state) else None
        return list(self.tab.format(result, lang)) if result else [gr.skip() for _ in self.tab.outputs]


# -- the text tab ------------------------------------------------------------------------------------------------

TEXT_STREAM_INTERVAL = 0.05  # seconds between streamed text updates (the first token is sent at once)
NO_TOKENS = i18n.message("ui:no_tokens")
LIKELIHOOD = {  # bucket name -> (lowest probability, colour), for colouring the text
    "likely (50% or more)": (0.5, "#86efac"),
    "possible (10-50%)": (0.1, "#fde68a"),
    "surprising (under 10%)": (0.0, "#fca5a5"),
}


def format_text_info(info: dict, lang: str = "en") -> str:
    n = info.get("new_tokens")
    count = i18n.message("info:tokens" if n != 1 else "info:token", lang, n=n) if n is not None else None
    rate = (i18n.message("info:tokens_per_s", lang, rate=n / info["seconds"]),) if n and info["seconds"] > 0 else ()
    line = info_line(info, lang, count, rate)
    for note in info.get("notes") or ():
        line += "  \n" + i18n.message("info:note", lang, note=note)
    return line


def text_outputs(result, lang: str = "en") -> tuple:
    """The prompt and what the model wrote after it, and a line naming the model, seed, tokens and speed.

    (Then the state the next-token view reads: the prompt and one frame per token.)"""
    state = {"prompt": result.info.get("params", {}).get("prompt", ""), "frames": result.process}
    return result.text, format_text_info(result.info, lang), state


def likelihood(p: float) -> str:
    return next(name for name, (low, _) in LIKELIHOOD.items() if p >= low)


def shown_token(token: str) -> str:
    """A token as the bars show it: spaces and line breaks made visible."""
    return token.replace(" ", "\u2423").replace("\n", "\u23ce") or "\u2205"


def coloured_text(state: dict | None) -> list:
    """The prompt uncoloured, then each generated token coloured by the model's probability of it."""
    if not state or not state.get("frames"):
        return []
    prompt = [(state["prompt"], None)] if state.get("prompt") else []
    return prompt + [(f["token"], likelihood(f["p_model"])) for f in state["frames"]]


def candidate_bars(frame: dict) -> str:
    """HTML bars for one position: each candidate's probability by the model (grey) and as sampled (blue)."""
    rows = []
    for c in frame["candidates"]:
        chosen = " \u25c0 chosen" if c["chosen"] else ""
        rows.append(
            f'<tr class="{"chosen" if c["chosen"] else ""}"><td class="tok">{html.escape(shown_token(c["token"]))}</td>'
            f'<td style="width:38%"><div class="bar model" style="width:{c["p_model"] * 100:.1f}%"></div></td>'
            f'<td>{c["p_model"]:.1%}</td>'
            f'<td style="width:38%"><div class="bar sampled" style="width:{c["p_sampled"] * 100:.1f}%"></div></td>'
            f'<td>{c["p_sampled"]:.1%}{chosen}</td></tr>')
    note = f"After the sampling settings, {frame['kept']:,} of the {frame['vocab_size']:,} tokens could still be drawn."
    if frame.get("context_cut"):
        note += " The context was full here: the oldest half was dropped."
    return ('<div class="genai-bars"><table><tr><th>next token</th><th colspan="2">model\'s probability</th>'
            '<th colspan="2">after temperature, top-k, top-p</th></tr>' + "".join(rows) + f"</table><p>{note}</p></div>")


def show_token(state: dict | None, position, request: gr.Request = None) -> tuple:
    """The next-token view for one generated position (1 = the first generated token): label and candidates' bars."""
    frames = (state or {}).get("frames") or []
    if not frames:
        return gr.Markdown(i18n.message("ui:no_tokens", i18n.language_of(request))), ""
    frame = frames[max(0, min(int(position or 1) - 1, len(frames) - 1))]
    return gr.Markdown(f"**{html.escape(frame['label'])}**"), candidate_bars(frame)


def reset_text_process(state: dict | None, request: gr.Request = None) -> tuple:
    """After a generation (or a Stop): colour the text, and show the first token's candidates."""
    frames = (state or {}).get("frames") or []
    return (gr.Slider(minimum=1, maximum=max(2, len(frames)), value=1, visible=bool(frames)),
            *show_token(state, 1, request), coloured_text(state))


def select_token(state: dict | None, evt: gr.SelectData, request: gr.Request = None) -> tuple:
    """A click on a token of the coloured text shows that token's candidates."""
    position = (evt.index if isinstance(evt.index, int) else 0) + 1
    position -= 1 if (state or {}).get("prompt") else 0  # the prompt is the first, uncoloured span
    if position < 1:
        return gr.skip(), gr.skip(), gr.skip()
    return gr.Slider(value=position), *show_token(state, position, request)


def text_tab(models: list[ModelAdapter]) -> None:
    """The text tab: the text streams into one box; below it, the next-token view of every generated position."""
    first = next((m for m in models if m.unavailable_reason() is None), models[0])
    output = gr.Textbox(label=t("ui:output"), lines=12, max_lines=30, interactive=False, autoscroll=True, buttons=["copy"],
                        elem_id="text-output", render=False)
    info = gr.Markdown(elem_id="text-info", elem_classes=["genai-info"], render=False)
    process = gr.State({})
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker = model_picker(models, first)
            built = [model_panel(m, [output, info, process], visible=(m is first), stoppable=True,
                                 handler=make_handler(m, text_outputs, TEXT_STREAM_INTERVAL)) for m in models]
        with gr.Column(scale=3):
            output.render()
            info.render()
            with gr.Accordion(t("ui:how_written"), open=True):
                gr.Markdown(t("ui:how_written:intro"))
                coloured = gr.HighlightedText(label=t("ui:coloured"), show_legend=True,
                                              show_inline_category=False, combine_adjacent=False,
                                              color_map={name: colour for name, (_, colour) in LIKELIHOOD.items()},
                                              elem_id="text-coloured", interactive=False)
                token_label = gr.Markdown(t("ui:no_tokens"))
                scrubber = gr.Slider(1, 2, value=1, step=1, label=t("ui:token"), visible=False, info=t("ui:token:info"))
                bars = gr.HTML(elem_id="text-bars")
    explain_section("text", models)  # the training curves and samples of the text models
    panels = [panel for panel, *_ in built]
    for _, event, stopped in built:
        for finished in (event, stopped):  # after the last token, or after Stop: show what was written so far
            finished.then(reset_text_process, process, [scrubber, token_label, bars, coloured],
                          api_visibility="private", queue=False)
    scrubber.input(show_token, [process, scrubber], [token_label, bars], api_visibility="private", queue=False)
    coloured.select(select_token, process, [scrubber, token_label, bars], api_visibility="private", queue=False)
    picker.change(lambda mid: [gr.Column(visible=(m.id == mid)) for m in models], picker, panels,
                  api_visibility="private", queue=False)


def model_picker(models: list[ModelAdapter], first: ModelAdapter) -> gr.Radio:
    """The radio that picks a tab's model, each named by its family and id ("GAN: image/gan")."""
    for m in models:
        i18n.register_model(m)
    return gr.Radio([(t(i18n.model_key(m.id, "choice")), m.id) for m in models], value=first.id, label=t("ui:model"))


def seed_control(p: Param, model_id: str | None = None) -> gr.Number:
    """The seed field with a button that picks a random one."""
    with gr.Row(equal_height=True):
        control = make_control(p, model_id)
        dice = gr.Button(t("ui:random_seed"), scale=0, min_width=120)
    dice.click(lambda: random.randint(0, MAX_SEED), None, control, api_visibility="private", queue=False)
    return control


COMPARE_LINK = links.LinkTarget(compare.LINK_ID, "image", compare.PARAMS)  # ?tab=image&model=image/compare&seed=...


def compare_section(registry: Registry, judge: DigitJudge) -> tuple:
    """Same digit, same seed, all four families side by side, each timed and judged by the digit classifier.

    Returns its controls (which a link fills) and its event function (``/image_compare``)."""
    compared = compare.compared(registry)
    gr.Markdown(t("ui:compare:intro"))
    i18n.register_params("compare", compare.PARAMS)
    with gr.Row(equal_height=True):
        controls = [seed_control(p, "compare") if p.name == "seed" else make_control(p, "compare") for p in compare.PARAMS]
        button = gr.Button(t("ui:compare"), variant="primary", scale=0, min_width=140)
    with gr.Row(equal_height=True):
        link = gr.Textbox(label=t("ui:compare:link"), info=t("ui:compare:link:info"), interactive=False, max_lines=2,
                          scale=4, elem_id="compare-link")
        copy = gr.Button(t("ui:compare:copy_link"), scale=0, min_width=160, elem_id="compare-copy")
    galleries, notes = [], []
    with gr.Row():
        for model_id in compared:
            with gr.Column(min_width=200):
                adapter = registry.get(model_id)
                gr.Markdown(f"**{adapter.family}** ({model_id})")
                galleries.append(gr.Gallery(columns=2, height="auto", object_fit="contain", format="png", show_label=False,
                                            elem_classes=["genai-gallery"], interactive=False))
                notes.append(gr.Markdown())

    def run_compare(*args, request=None):
        from PIL import Image

        values, lang = split_request(args, len(compare.PARAMS), request)
        params = dict(zip((p.name for p in compare.PARAMS), values))
        shown = {m: ([], i18n.message("compare:waiting", lang)) for m in compared}
        try:
            for record in compare.compare(registry, judge, **params):
                if "error" in record:
                    shown[record["model"]] = ([], i18n.message("compare:unavailable", lang, error=record["error"]))
                else:
                    items = [(im.resize((112, 112), Image.NEAREST), i18n.message("compare:seen_as", lang, digit=p))
                             for im, p in zip(record["images"], record["predicted"])]
                    shown[record["model"]] = (items, i18n.message(
                        "compare:note", lang, ms=record["seconds_per_image"] * 1000, accuracy=record["accuracy"],
                        confidence=record["confidence"]))
                yield [shown[m][0] for m in compared] + [shown[m][1] for m in compared]
        except GenAIError as e:
            raise gr.Error(str(e), print_exception=False) from None

    run_compare.__name__ = "image_compare"  # the MCP tool's name, like its endpoint's
    title, _, description = inspect.cleandoc(compare.__doc__).partition("\n\n")
    run_compare.__doc__ = api_docstring(title, description, compare.PARAMS,
                                        "Each model's images, then each model's line: time per image, how often the "
                                        "digit classifier recognised the digit asked for, and its confidence.")
    with_request(run_compare, compare.PARAMS)
    button.click(run_compare, controls, galleries + notes, api_name="image_compare", preprocess=False,
                 concurrency_limit=1, concurrency_id="heavy")  # it runs all four models
    # As for a model: Compare writes its settings into the address bar, Copy link also onto the clipboard.
    button.click(None, controls, None, js=link_js(COMPARE_LINK, copy=False), api_visibility="private", queue=False)
    copy.click(None, controls, link, js=link_js(COMPARE_LINK, copy=True), api_visibility="private", queue=False)
    return controls, run_compare


# -- links, PNG drops, teacher mode, language --------------------------------------------------------------------


def md_escape(text: str) -> str:
    """A visitor's text shown in Markdown as plain text: no links, images, emphasis or HTML from a crafted link."""
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~" else c for c in text)


def png_section() -> tuple:
    """The drop zone for generated PNGs; returns its accordion (hidden in teacher mode) and its file input."""
    with gr.Accordion(t("ui:png"), open=False, elem_id="png-restore") as box:
        gr.Markdown(t("ui:png:intro"))
        # type="filepath": the upload as the visitor sent it (its text chunks intact); Gradio accepts only files
        # that were uploaded into its own cache here, so no server file can be named.
        drop = gr.File(label=t("ui:png:drop"), file_types=[".png"], file_count="single", type="filepath",
                       elem_id="png-drop")
    return box, drop


def find_pickers(demo: gr.Blocks, registry: Registry) -> dict[str, gr.Radio]:
    """Each tab's model picker: the Radio whose choices are exactly that modality's model ids (any tab builder's)."""
    pickers = {}
    for block in demo.blocks.values():
        if isinstance(block, gr.Radio):
            values = [choice[1] for choice in block.choices]
            for modality in MODALITIES:
                ids = [m.id for m in registry.by_modality(modality)]
                if ids and values == ids:
                    pickers[modality] = block
    return pickers


@dataclass
class PageState:
    """The components that a link, a dropped PNG or teacher mode change, and how to compute their updates."""

    registry: Registry
    tabs: gr.Tabs
    tab_ids: tuple
    notice: gr.Markdown
    pickers: dict
    panels: list
    teacher_hidden: list = field(default_factory=list)
    tab_items: dict = field(default_factory=dict)  # tab id -> gr.Tab
    compare_controls: list = field(default_factory=list)  # the compare section's controls (none without it)
    run_compare: object = None  # the compare section's event function (``/image_compare``), for tests
    opening: OpeningResult | None = None  # the result the page opens with, if its first model is quick

    @property
    def targets(self) -> dict:
        """What a link may name besides the models: the compare section, where the page has one."""
        return {COMPARE_LINK.id: COMPARE_LINK} if self.compare_controls else {}

    @property
    def outputs(self) -> list:
        return ([self.tabs, self.notice] + list(self.pickers.values()) + [pp.panel for pp in self.panels]
                + [c for pp in self.panels for c in pp.controls] + self.teacher_hidden + self.compare_controls)

    def tab_labels(self, lang: str) -> list:
        """The tabs' names in ``lang``. The frontend translates only the open tab's name when the language is switched
        at runtime, so the server names them all."""
        lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
        return [gr.Tab(label=i18n.text(f"ui:tab:{tab_id}", lang)) for tab_id in self.tab_items]

    def tab_labels_for(self, request: gr.Request) -> list:
        return self.tab_labels(i18n.language_of(request))

    def updates(self, state: links.LinkState, notice: str) -> list:
        target = self.registry.get(state.model) if state.model in self.registry.models else None
        out = [gr.Tabs(selected=state.tab) if state.tab else gr.update(),
               gr.update(value=md_escape(notice), visible=bool(notice))]
        for modality in self.pickers:
            out.append(gr.update(value=target.id) if target and target.modality == modality else gr.update())
        for pp in self.panels:
            same_tab = target is not None and target.modality == pp.adapter.modality
            out.append(gr.update(visible=pp.adapter.id == target.id) if same_tab else gr.update())
        for pp in self.panels:
            for p in pp.adapter.params:
                change = {}
                if target is pp.adapter:
                    change["value"] = state.values[p.name]
                if state.teacher and p.advanced:
                    change["visible"] = False
                out.append(gr.update(**change))
        out += [gr.update(visible=False) if state.teacher else gr.update() for _ in self.teacher_hidden]
        comparing = state.model == COMPARE_LINK.id and bool(self.compare_controls)
        out += [gr.update(value=state.values[p.name]) if comparing else gr.update()
                for p, _ in zip(COMPARE_LINK.params, self.compare_controls)]
        return out

    def from_link(self, request: gr.Request) -> list:
        """On page load: the address's tab, model and settings (defaults and a notice where they are wrong)."""
        state, lang = self.link_state(request)
        return self.updates(state, links.notice(state, lang))

    def link_state(self, request: gr.Request) -> tuple[links.LinkState, str]:
        lang = i18n.language_of(request)
        query = {k: v for k, v in (request.query_params or {}).items() if not k.startswith("_") and k != "view"}
        return links.parse_link(query, self.registry, self.tab_ids, lang, self.targets), lang

    def opening_result(self, request: gr.Request) -> list:
        """On page load: the first model's result at its defaults, unless the address asks for something else."""
        return self.opening.values(*self.link_state(request))

    def from_png(self, path, lang) -> list:
        """A dropped PNG: its model and settings, or one line saying why it cannot be used."""
        lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
        if not path:
            return [gr.update() for _ in self.outputs]
        try:
            with open(path, "rb") as f:
                data = f.read(links.MAX_PNG_BYTES + 1)
            record = links.read_png_record(data)
            state = links.settings_from_record(record, self.registry, lang)
            if state.problems:
                notice = i18n.message("png:restored_partly", lang, model=state.model, problems="; ".join(state.problems))
            else:
                notice = i18n.message("png:restored", lang, model=state.model, seed=state.values.get("seed"))
        except links.SettingsError as e:
            state, notice = links.LinkState(), e.message(lang)
        except Exception:  # whatever else a forged file manages to trigger: say so, keep the page as it is
            log.exception("a dropped PNG could not be read")
            state, notice = links.LinkState(), i18n.message("png:not_record", lang)
        return self.updates(state, notice)


def build_demo(registry: Registry | None = None, judge: DigitJudge | None = None) -> gr.Blocks:
    registry = registry or Registry()
    judge = judge or DigitJudge(next(iter(registry)).weights_root)
    panels: list[PanelParts] = []
    collecting = _PANELS.set(panels)  # model_panel() records every panel it builds, whichever tab builds it
    try:
        # delete_cache: every hour, Gradio removes the files it has served (images, audio, downloads) that are more
        # than an hour old, so a busy day does not fill the disk.
        with gr.Blocks(title="GenAI playground", delete_cache=(3600, 3600)) as demo:
            with gr.Row(equal_height=True):
                gr.Markdown(t("ui:title"))
                language = gr.Radio([(name, code) for code, name in i18n.LANGUAGE_NAMES.items()],
                                    value=i18n.DEFAULT_LANGUAGE, label=t("ui:language"), elem_id="genai-lang",
                                    scale=0, min_width=220)
            notice = gr.Markdown(visible=False, elem_id="genai-notice")
            tab_items, teacher_hidden, png_drop, compared, first_tab = {}, [], None, ([], None), None
            with gr.Tabs() as tabs:
                for modality in MODALITIES:
                    models = registry.by_modality(modality)
                    if models:
                        with gr.Tab(t(f"ui:tab:{modality}"), id=modality) as tab_items[modality]:
                            with gr.Accordion(t("ui:lesson"), open=True, elem_classes=["genai-lesson"]):
                                gr.Markdown(t(f"lesson:{modality}"))
                            shown = modality_tab(modality, models)
                            if len(tab_items) == 1:  # the tab the page opens on
                                first_tab = shown
                            if modality == "image":
                                png_box, png_drop = png_section()
                                teacher_hidden.append(png_box)
                            if modality == "image" and len(compare.compared(registry)) > 1:
                                compared = compare_section(registry, judge)
                with gr.Tab(t("ui:tab:about"), id="about") as tab_items["about"]:
                    gr.Markdown(t("about:body"))
                    gr.Markdown(t("about:credits"))
            opening = OpeningResult(first_tab) if OpeningResult.qualifies(first_tab) else None
            page = PageState(registry, tabs, tuple(tab_items), notice, find_pickers(demo, registry), panels,
                             teacher_hidden, tab_items, *compared, opening)
            demo.load(page.from_link, None, page.outputs, api_visibility="private", queue=False)
            if opening is not None:  # its own event, so that restoring a link never waits for it
                opening.tab.finish(demo.load(page.opening_result, None, opening.tab.outputs, api_visibility="private",
                                             queue=False))
            demo.load(None, None, language, js=i18n.LOAD_JS, api_visibility="private", queue=False)
            language.input(page.tab_labels, language, list(page.tab_items.values()), js=i18n.SWITCH_JS,
                           api_visibility="private", queue=False)
            # ?lang= may differ from the browser's language: name the tabs in the page's language.
            demo.load(page.tab_labels_for, None, list(page.tab_items.values()), api_visibility="private", queue=False)
            if png_drop is not None:
                png_drop.upload(page.from_png, [png_drop, language], page.outputs, api_visibility="private",
                                queue=False)
    finally:
        _PANELS.reset(collecting)
    demo.genai_page = page  # for tests: the handlers behind links and PNG drops
    return demo
