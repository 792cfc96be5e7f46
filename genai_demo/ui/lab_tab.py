"""The GAN lab tab: a tiny GAN trained live in the page (``genai_demo.lab``), its lesson, presets and link.

Each visitor (each page load: Gradio's session) has one run (``genai_demo.lab_sessions``). Train streams a picture
and the numbers every few steps until Pause, the run's time budget or a divergence; Step trains 50 steps; Reset
starts again. The endpoints are public (``/lab_train``, ``/lab_pause``, ``/lab_step``, ``/lab_reset``), so a
gradio_client session drives the same runs as the page.
"""

from __future__ import annotations

import base64
import html
import types

import gradio as gr

from genai_demo import i18n, lab, links
from genai_demo.contract import GenAIError, Param
from genai_demo.lab_sessions import BUDGET_SECONDS, SESSIONS, LabFrame
from genai_demo.ui import errors
from genai_demo.ui.common import api_docstring, describe_for_api, md_escape, split_request, t, with_request
from genai_demo.ui.panel import SectionParts, link_js, make_control, new_seed, preset_buttons, seed_control

LAB_LINK = links.LinkTarget(lab.LINK_ID, "lab", lab.PARAMS)  # ?tab=lab&model=lab/gan&seed=...&lr_g=...
LAB_LANE = dict(concurrency_limit=8, concurrency_id="lab")  # runs training at once; lab_sessions.GATE shares a core


def register_words() -> None:
    """The lab's settings and presets in both languages, from their declarations in genai_demo/lab.py."""
    i18n.register_params(lab.LINK_ID, lab.PARAMS)
    tables = {lang: {} for lang in i18n.LANGUAGES}
    for preset in lab.PRESETS:
        for lang, table in tables.items():
            name, comment = preset.texts.get(lang) or preset.texts[i18n.DEFAULT_LANGUAGE]
            table[preset.key(lab.LINK_ID, "name")] = name
            table[preset.key(lab.LINK_ID, "comment")] = f"**{name}**: {comment}"
    i18n.register(tables, replace=True)


def lab_control(p: Param):
    """A learning rate is typed (0.001 cannot be dragged to on a slider from 0 to 1); the rest as in every panel."""
    if p.name.startswith("lr_"):
        control = gr.Number(value=p.default, minimum=p.minimum, maximum=p.maximum, step=p.step,
                            label=t(i18n.param_key(lab.LINK_ID, p.name, "label")),
                            info=t(i18n.param_key(lab.LINK_ID, p.name, "help")), interactive=True)
        return describe_for_api(control, p), None
    if p.name == "seed":
        return seed_control(p, lab.LINK_ID)
    return make_control(p, lab.LINK_ID), None


def _loss(value) -> str:
    return f"{value:.3f}" if value is not None else "-"


def shown(frame: LabFrame, lang: str) -> tuple:
    """A frame as the page shows it: the picture, the status lines, and the numbers (for the API and tests)."""
    data = base64.b64encode(frame.png).decode()
    alt = html.escape(i18n.message("lab:alt", lang, step=frame.step))
    picture = (f'<img src="data:image/png;base64,{data}" alt="{alt}" width="488" height="240" '
               f'style="max-width:100%;height:auto;image-rendering:pixelated">')
    lines = [i18n.message(f"lab:state:{frame.state}", lang),
             i18n.message("lab:status", lang, step=f"{frame.step:,}", seconds=frame.trained_seconds,
                          budget=BUDGET_SECONDS, d_loss=_loss(frame.d_loss), g_loss=_loss(frame.g_loss))]
    if frame.modes:
        lines.append(i18n.message("lab:modes", lang, covered=frame.modes_covered, modes=frame.modes))
    return picture, "  \n".join(md_escape(line) for line in lines), frame.numbers()


def refused(error: Exception, request, lang: str) -> tuple:
    """A bad setting or a refusal: one line in the status for the page (the picture stays), an error for the API."""
    if not errors.from_browser(request):
        raise gr.Error(str(error) if isinstance(error, GenAIError) else errors.for_caller(error, request, "lab"),
                       print_exception=False)
    line = error.message(lang) if hasattr(error, "message") else errors.for_page(error, lang)
    return gr.skip(), f"\u26a0\ufe0f {md_escape(line)}", gr.skip()


def _session(request):
    return SESSIONS.get(getattr(request, "session_hash", None) or "anonymous")


def _values(values) -> dict:
    return dict(zip((p.name for p in lab.PARAMS), values))


def lab_train(*args, request=None):
    values, lang, request = split_request(args, len(lab.PARAMS), request)
    try:
        for frame in _session(request).play(_values(values)):
            yield shown(frame, lang)
    except GenAIError as e:
        yield refused(e, request, lang)


def _act(action: str, args: tuple, request) -> tuple:
    """One action of the visitor's run (``step`` or ``reset``) with the settings shown, and its picture."""
    values, lang, request = split_request(args, len(lab.PARAMS), request)
    try:
        return shown(getattr(_session(request), action)(_values(values)), lang)
    except GenAIError as e:
        return refused(e, request, lang)


def lab_step(*args, request=None):
    return _act("step", args, request)


def lab_reset(*args, request=None):
    return _act("reset", args, request)


def lab_pause(request: gr.Request = None) -> bool:
    """Pause this session's training at its next check. Returns whether something was training."""
    return _session(request).pause()


RETURNS = ("The picture (an HTML image), the status lines, and the numbers: step, both losses, modes covered, "
           "seconds used.")
for fn, what in ((lab_train, "Train the lab's GAN, streaming a picture every few steps, until lab_pause, its 60 s "
                              "budget or a divergence."),
                 (lab_step, "Train the lab's GAN 50 steps, then stop."),
                 (lab_reset, "Start the lab's GAN again from step 0 with these settings.")):
    fn.__doc__ = api_docstring("GAN lab", what, lab.PARAMS, RETURNS)
    with_request(fn, lab.PARAMS)


def lab_tab() -> SectionParts:
    """The lesson, the controls, the four buttons, the presets and the link on the left; the live picture right."""
    register_words()
    with gr.Accordion(t("ui:lesson"), open=True, elem_classes=["genai-lesson"]):
        gr.Markdown(t("lesson:lab"))
    gr.Markdown(t("lab:intro"))
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            controls, dice = [], None
            for p in lab.PARAMS:
                control, rolled = lab_control(p)
                controls.append(control)
                dice = rolled or dice
            with gr.Row():
                train = gr.Button(t("lab:train"), variant="primary", elem_id="lab-train")
                pause = gr.Button(t("lab:pause"), variant="stop", elem_id="lab-pause")
                step = gr.Button(t("lab:step"), elem_id="lab-step")
                reset = gr.Button(t("lab:reset"), elem_id="lab-reset")
            preset_buttons(types.SimpleNamespace(id=lab.LINK_ID, params=lab.PARAMS, presets=lab.PRESETS), controls)
            with gr.Row(equal_height=True):
                link = gr.Textbox(label=t("ui:link"), info=t("lab:link:info"), interactive=False, max_lines=2,
                                  scale=4, elem_classes=["genai-link"])
                copy = gr.Button(t("ui:copy_link"), scale=0, min_width=120)
        with gr.Column(scale=3):
            picture = gr.HTML(elem_id="lab-picture", label=t("lab:picture"))
            status = gr.Markdown(t("lab:waiting"), elem_id="lab-status", elem_classes=["genai-info"])
            numbers = gr.JSON(visible=False)
            gr.Markdown(t("lab:legend"), elem_classes=["genai-legend"])
    outputs = [picture, status, numbers]
    # Callable by name (gradio_client), but not listed in the API page or as MCP tools, which describe the models.
    common = dict(inputs=controls, outputs=outputs, preprocess=False, api_visibility="undocumented", **LAB_LANE)
    train.click(lab_train, api_name="lab_train", show_progress="hidden", **common)
    step.click(lab_step, api_name="lab_step", **common)
    reset.click(lab_reset, api_name="lab_reset", **common)
    pause.click(lab_pause, None, None, api_name="lab_pause_button", api_visibility="private", queue=False)
    gr.api(lab_pause, api_name="lab_pause", queue=False, api_visibility="undocumented")  # for the API: says whether something was training
    if dice is not None:
        dice.click(new_seed, None, controls[0], api_visibility="private", queue=False)
    for button in (train, step, reset):  # the address bar follows the settings, as for a model
        button.click(None, controls, None, js=link_js(LAB_LINK, copy=False), api_visibility="private", queue=False)
    copy.click(None, controls, link, js=link_js(LAB_LINK, copy=True), api_visibility="private", queue=False)
    return SectionParts(LAB_LINK, controls)
