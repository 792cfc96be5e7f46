"""One model's panel, built from its declaration: a control per parameter, Generate (and Stop), presets, a link.

Nothing here knows a particular model. Each model gets one Generate event, exposed in the API as
``/<modality>_<name>`` (``/image_gan``) with the parameters' own names, and described in the model's words.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from dataclasses import dataclass, field

import gradio as gr

from genai_demo import i18n, lessons, links
from genai_demo.contract import MAX_SEED, GenAIError, ModelAdapter, Param, Preset
from genai_demo.serving import SHARED
from genai_demo.ui import errors
from genai_demo.ui.common import (api_docstring, api_name, describe_for_api, first_paragraph, md_escape, split_request, t,
                                  with_request)

log = logging.getLogger(__name__)


def make_control(p: Param, model_id: str | None = None, choice: str | None = None) -> gr.Component:
    """One control for a parameter; with ``model_id`` its label and help come from the translation tables; with
    ``choice``, the other parameter's choice that it follows (``Param.follows``), it starts as that choice has it."""
    if model_id is None:
        common = dict(label=p.display_label, info=p.help, interactive=True)
    else:
        common = dict(label=t(i18n.param_key(model_id, p.name, "label")), info=t(i18n.param_key(model_id, p.name, "help")),
                      interactive=True)
    bounds = dict(minimum=p.minimum, maximum=p.maximum)
    if choice is not None and model_id is not None:
        look = follower_look(model_id, p, choice, with_value=False)
        bounds.update(minimum=look.pop("minimum"), maximum=look.pop("maximum"))
        common.update(look)
    if p.kind == "slider":
        control = gr.Slider(bounds["minimum"], bounds["maximum"], value=p.default, step=p.step, **common)
    elif p.kind == "integer":
        control = gr.Number(value=p.default, minimum=bounds["minimum"], maximum=bounds["maximum"], step=p.step or 1,
                            precision=0, **common)
    elif p.kind == "choice":
        # "any" (a random digit per image) is named in the page's language; the value, and so the API, stays "any".
        named = i18n.choice_names(p, i18n.DEFAULT_LANGUAGE) if model_id is not None else {}
        choices = [(t(i18n.choice_key(model_id, p, c)), c) if c in named else c for c in p.choices]
        control = gr.Dropdown(choices, value=p.default, **common)
    elif p.kind == "toggle":
        control = gr.Checkbox(value=p.default, **common)
    else:
        control = gr.Textbox(value=p.default, max_length=p.max_length, lines=2, **common)
    return describe_for_api(control, p)


def follower_look(model_id: str, p: Param, choice, with_value: bool) -> dict:
    """How the control of ``p``, which follows another parameter (``Param.follows``), looks while that one is at
    ``choice``: its range, whether it can be moved, its line of help (or why it is fixed) and, ``with_value``, the
    value that choice starts it at (a visitor picked it)."""
    view = p.follows.view(p, choice)
    key = i18n.fixed_key(model_id, p, choice) if view["fixed"] else i18n.param_key(model_id, p.name, "help")
    look = dict(minimum=view["minimum"], maximum=view["maximum"], interactive=not view["fixed"], info=t(key))
    if with_value and view["value"] is not None:
        look["value"] = view["value"]
    return look


def follow_choices(adapter: ModelAdapter, controls: list, check_values, problem) -> set:
    """Wire the controls that follow another parameter's choice (the diffusion model's steps and guidance follow its
    sampler): when the choice changes (by hand, a preset, a link), their range, help and whether they can be moved
    follow; when the visitor picks it, their value too, and then the panel's check runs on the new values. Returns
    the ids of the controls that others follow (their input runs the check through this chain, not beside it)."""
    by_name = dict(zip((p.name for p in adapter.params), controls))
    followers: dict[str, list[Param]] = {}
    for p in adapter.params:
        if p.follows is not None:
            followers.setdefault(p.follows.on, []).append(p)
    for on, ps in followers.items():
        targets = [by_name[p.name] for p in ps]

        def looks(with_value: bool, ps=ps):
            return lambda choice: [gr.update(**follower_look(adapter.id, p, choice, with_value)) for p in ps]

        settings = dict(api_visibility="private", queue=False, show_progress="hidden")
        by_name[on].change(looks(False), by_name[on], targets, **settings)
        by_name[on].input(looks(True), by_name[on], targets, **settings).then(
            check_values, controls, problem, preprocess=False, **settings)
    return {id(by_name[on]) for on in followers}


def seed_control(p: Param, model_id: str | None = None) -> tuple[gr.Number, gr.Button]:
    """The seed field and a button for a random one (the caller wires it: a new seed, then a Generate)."""
    with gr.Row(equal_height=True):
        control = make_control(p, model_id)
        dice = gr.Button(t("ui:random_seed"), scale=0, min_width=120)
    return control, dice


def new_seed() -> int:
    return random.randint(0, MAX_SEED)


def seed_for(session_hash: str | None) -> int:
    """A visitor's own first seed: fresh for each page load, the same for every event of that load."""
    if not session_hash:
        return new_seed()
    return int.from_bytes(hashlib.sha256(session_hash.encode()).digest()[:4], "big") % (MAX_SEED + 1)


def model_picker(models: list[ModelAdapter], first: ModelAdapter) -> gr.Radio:
    """The radio that picks a tab's model, each named by its family and id ("GAN: image/gan")."""
    for m in models:
        i18n.register_model(m)
    return gr.Radio([(t(i18n.model_key(m.id, "choice")), m.id) for m in models], value=first.id, label=t("ui:model"))


def concurrency(adapter: ModelAdapter) -> dict:
    """Queue settings of a model's events, as the serving layer plans them (``serving.plan``, or its backend)."""
    return SHARED.queue(adapter)


def make_handler(adapter: ModelAdapter, outputs, min_interval: float = 0.0, n_outputs: int = 0):
    """A Gradio event function for one model, with the model's parameter names as its signature.

    It streams: every intermediate result updates the output (at most one every ``min_interval`` seconds, the
    first at once); the final one also fills the process view's state. ``outputs`` turns a result and the
    request's language into the values of the tab's output components; its docstring's first paragraph says, for
    the API, what the endpoint returns. A bad value from the page changes none of the ``n_outputs`` (the last result
    stays; the panel's own check says what is wrong beside the controls); from the API it is an error.
    """

    def handler(*args, request=None):
        values, lang, request = split_request(args, len(adapter.params), request)
        params = dict(zip((p.name for p in adapter.params), values))
        if errors.from_browser(request):
            try:
                adapter.validate(params)
            except GenAIError:  # shown beside the controls by the panel's check, which ran on the same click
                yield tuple(gr.skip() for _ in range(n_outputs))
                return
        last = -float("inf")
        updates, finished = 0, False
        try:
            for result in SHARED.stream(adapter, params):  # identical requests computed once (genai_demo/serving.py)
                now = time.perf_counter()
                if result.done or now - last >= min_interval:
                    last = now
                    updates += 1
                    yield outputs(result, lang)
            finished = True
        except GenAIError as e:
            raise gr.Error(errors.for_caller(e, request, adapter.id), print_exception=False) from None
        except Exception as e:  # a bug or a fault: log it for the operator, one line for the user
            log.exception("generation failed for %s", adapter.id)
            raise gr.Error(errors.for_caller(e, request, adapter.id), print_exception=False) from None
        finally:
            if not finished and updates:  # Gradio closed the generator: the visitor left or pressed Stop
                log.warning("%s stopped after %d updates: the client cancelled or disconnected", adapter.id, updates)

    handler.__name__ = api_name(adapter.id)  # also the MCP tool's name
    handler.__doc__ = api_docstring(adapter.title, adapter.description, adapter.params, first_paragraph(outputs.__doc__))
    return with_request(handler, adapter.params)


def link_js(target, copy: bool) -> str:
    """Browser code that turns the panel's control values into the page's address (``genai.link`` in
    static/page.js), and with ``copy`` also puts it on the clipboard and returns it for the link box."""
    return (f"(...values) => genai.link({json.dumps(target.modality)}, {json.dumps(target.id)}, "
            f"{json.dumps([p.name for p in target.params])}, values, {json.dumps(copy)})")


@dataclass
class PanelParts:
    """One model's panel: what the page's links, PNG drops and teacher mode reach, and its events."""

    adapter: ModelAdapter
    panel: gr.Column
    controls: list
    event: object  # the Generate event
    stopped: object = None  # the Stop button's event, if it has one


def model_panel(adapter: ModelAdapter, outputs: list, visible: bool, fmt, min_interval: float = 0.0,
                stoppable: bool = False) -> PanelParts:
    """Controls and Generate button of one model, built from its declared parameters, with its presets and its link.

    ``fmt`` turns a result and a language into the values of ``outputs`` (the tab's output components). The model's
    words are registered by its tab's picker (``model_picker``), built first.
    """
    with gr.Column(visible=visible) as panel:
        gr.Markdown(t(i18n.model_key(adapter.id, "intro")))
        reason = adapter.unavailable_reason()
        if reason:
            key = i18n.model_key(adapter.id, "unavailable")  # the reason itself is the adapter's, in English
            i18n.register({lang: {key: f"**{i18n.text('ui:unavailable', lang)}** {i18n.plain(reason)}"}
                           for lang in i18n.LANGUAGES}, replace=True)
            gr.Markdown(t(key))
        controls, seed, dice = [], None, None
        for p in adapter.params:
            if p.name == "seed":
                control, dice = seed_control(p, adapter.id)
                seed = control
            else:  # a control that follows another's choice starts as that one's default has it
                followed = adapter.param(p.follows.on).default if p.follows is not None else None
                control = make_control(p, adapter.id, followed)
            controls.append(control)
        fresh = gr.Checkbox(value=False, label=t("ui:new_seed"), info=t("ui:new_seed:info"),
                            visible=dice is not None, elem_classes=["genai-new-seed"])
        problem = gr.Markdown(visible=False, elem_classes=["genai-problem"])  # a bad value, beside the controls
        with gr.Row():
            button = gr.Button(t("ui:generate"), variant="primary", interactive=reason is None)
            stop = gr.Button(t("ui:stop"), variant="stop", interactive=reason is None) if stoppable else None
        handler = make_handler(adapter, fmt, min_interval, len(outputs))
        # "New seed every time": a fresh seed first, then the generation with it (what the page shows is what ran).
        first = button.click(pick_seed, [fresh, seed], seed, api_visibility="private", queue=False) if seed else None
        # preprocess=False: raw values reach the contract's validation, whose messages name the parameter and its range.
        generate = dict(fn=handler, inputs=controls, outputs=outputs, api_name=api_name(adapter.id), preprocess=False,
                        **concurrency(adapter))
        event = first.then(**generate) if first else button.click(**generate)
        # The dice picks a new seed and draws with it at once.
        rolled = dice.click(new_seed, None, seed, api_visibility="private", queue=False) if dice else None
        if rolled is not None:
            rolled.then(handler, controls, outputs, api_visibility="private", preprocess=False, **concurrency(adapter))
        # The address bar follows what was generated, so the browser's own "copy address" reproduces it too.
        (first or button.click(None, None, None, queue=False, api_visibility="private")).then(
            None, controls, None, js=link_js(adapter, copy=False), api_visibility="private", queue=False)
        check_values = with_request(check(adapter), adapter.params)
        followed = follow_choices(adapter, controls, check_values, problem)
        gr.on([button.click, *(c.input for c in controls if id(c) not in followed)], check_values, controls,
              problem, api_visibility="private", queue=False, preprocess=False, show_progress="hidden")
        stopped = stop.click(None, None, None, cancels=[event], api_visibility="private", queue=False) if stop else None
        preset_buttons(adapter, controls)
        with gr.Row(equal_height=True):
            link = gr.Textbox(label=t("ui:link"), info=t("ui:link:info"), interactive=False, max_lines=2, scale=4,
                              elem_classes=["genai-link"])
            copy = gr.Button(t("ui:copy_link"), scale=0, min_width=120)
        copy.click(None, controls, link, js=link_js(adapter, copy=True), api_visibility="private", queue=False)
    return PanelParts(adapter, panel, controls, event, stopped)


def pick_seed(fresh: bool, seed):
    """Before a Generate: a new seed if the visitor asked for one every time, else the seed as it is."""
    return new_seed() if fresh else gr.skip()


def check(adapter: ModelAdapter):
    """The panel's check of its values, on every change and on Generate: one line beside the controls, in the
    page's language, naming the control as shown, until the value is fixed."""

    def run(*args, request=None):
        values, lang, request = split_request(args, len(adapter.params), request)
        try:
            valid = adapter.validate(dict(zip((p.name for p in adapter.params), values)))
        except GenAIError as e:
            return gr.update(value=f"\u26a0\ufe0f {md_escape(errors.for_page(e, lang))}", visible=True)
        seconds = adapter.estimate_seconds(valid)
        if seconds is not None and seconds >= SLOW_SECONDS:  # say so before a slow run, not after (None: unknown)
            key = "ui:estimate:long" if seconds >= 60 else "ui:estimate"
            return gr.update(value=("\u23f3 " + i18n.message(key, lang, time=duration(seconds, lang))), visible=True)
        return gr.update(value="", visible=False)

    return run


SLOW_SECONDS = 5.0  # a request estimated to take longer gets a line saying how long, before it runs


def duration(seconds: float, lang: str) -> str:
    if seconds < 60:
        return i18n.message("ui:seconds", lang, s=round(seconds))
    return i18n.message("ui:minutes", lang, m=int(seconds // 60), s=round(seconds % 60))


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
class SectionParts:
    """What a link and teacher mode reach in a section that is not a model ("Draw a digit", the lab, the quiz): its
    link target, its controls (one per parameter of the target) and, inside a tab, the accordion a link opens."""

    target: links.LinkTarget
    controls: list
    box: object = None


@dataclass
class TabParts:
    """What a tab builder made: its model picker and panels (for links and teacher mode), and where it shows a
    result (for the page's opening result)."""

    first: ModelAdapter  # the model the tab shows first
    picker: gr.Radio
    panels: list[PanelParts]
    outputs: list  # the components its Generate events write
    format: object  # (result, lang) -> the outputs' values
    finish: object  # wires what follows a result on an event (the process view)
    hidden: list = field(default_factory=list)  # more components teacher mode hides (advanced settings of a section)
    linked: list = field(default_factory=list)  # SectionParts: the tab's sections a link fills


def first_available(models: list[ModelAdapter]) -> ModelAdapter:
    return next((m for m in models if m.unavailable_reason() is None), models[0])


def picker_and_panels(models: list[ModelAdapter], outputs: list, fmt, min_interval: float = 0.0,
                      stoppable: bool = False) -> tuple:
    """The tab's model picker and one panel per model; the picker shows the chosen model's panel."""
    first = first_available(models)
    picker = model_picker(models, first)
    panels = [model_panel(m, outputs, m is first, fmt, min_interval, stoppable) for m in models]
    picker.change(lambda mid: [gr.Column(visible=(m.id == mid)) for m in models], picker, [p.panel for p in panels],
                  api_visibility="private", queue=False)
    return picker, panels
