"""The image tab's "Draw a digit" section: a sketchpad (or an uploaded picture), what the classifier reads, and what
each family does with the drawing (``genai_demo/adapters/drawing.py`` does the work).

The page's events take the sketchpad itself, so what runs is what is drawn at the click. Each family's request goes
through the serving layer like a model's (``SHARED.stream``: cached, the slow ones in the worker, cancelled by Stop
or a closed tab). The API has one endpoint per family that takes a picture file instead (``/draw_read``,
``/draw_vae``, ``/draw_sdedit``, ``/draw_inpaint``, ``/draw_complete``, ``/draw_gan_search``), on hidden triggers.
A drawing cannot go in a link; the section's settings can (``?tab=image&model=image/draw&strength=0.7``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import gradio as gr

from genai_demo import i18n, links
from genai_demo.adapters.drawing import (LABEL_PARAM, DrawingError, DrawingTask, digit_from_image, encode_digit,
                                         read_digit)
from genai_demo.adapters.drawing_tasks import drawing_tasks
from genai_demo.contract import GenAIError, Param, seed_param
from genai_demo.export import to_gallery
from genai_demo.serving import SHARED, plan
from genai_demo.ui import errors
from genai_demo.ui.common import api_docstring, api_name, md_escape, one_line, t, with_request
from genai_demo.ui.panel import link_js, make_control, new_seed, seed_control
from genai_demo.ui.process import stack

log = logging.getLogger(__name__)

SECTION = "draw"  # the key prefix of the section's shared controls (label, seed)
CANVAS = 280  # the sketchpad's size in pixels: ten times MNIST's 28
SHOWN = 168  # "what the models see" is shown at this size, nearest-neighbour
IMAGE_PARAM = Param("image", "text", "", "A picture of one digit (PNG, JPEG, WebP, GIF or BMP, at most 10 MB): dark "
                    "strokes on light paper or light strokes on dark; it is centred in 28x28 the way MNIST digits are.")
IMAGE_TEXT = one_line(f"{IMAGE_PARAM.display_label}: {IMAGE_PARAM.help}")  # its words for the API page and MCP


def draw_docstring(title: str, description: str, params, returns: str) -> str:
    """An endpoint's docstring (``common.api_docstring``) with the picture file as its first argument."""
    return api_docstring(title, description, params, returns).replace("Args:", f"Args:\n    image: {IMAGE_TEXT}", 1)


# What a link may set: the section's settings that are not advanced (a drawing cannot go in a link).
LINKED = ("label", "seed", "morph_to", "strength", "region", "num_images", "num_steps")


def draw_message(error: DrawingError, lang: str) -> str:
    """A drawing's problem in one line, in the page's language."""
    return i18n.message(f"draw:error:{error.key}", lang, **error.values)


def ink_source(pad):
    """The sketchpad's value (Gradio's ``{"background", "layers", "composite"}``, preprocessed) -> its composite."""
    if isinstance(pad, dict):
        return pad.get("composite") if pad.get("composite") is not None else pad.get("background")
    return pad


def shown_digit(digit):
    """The 28x28 digit as the models see it, enlarged without blur."""
    from PIL import Image

    image = Image.fromarray((digit * 255).round().astype("uint8"), mode="L")
    return image.resize((SHOWN, SHOWN), Image.NEAREST)


def reading_line(reading: dict, lang: str) -> str:
    return i18n.message("draw:reading", lang, digit=reading["digit"], confidence=reading["confidence"])


def probabilities(reading: dict) -> dict:
    return {str(d): p for d, p in enumerate(reading["probabilities"])}


def pad_value(digit):
    """A 28x28 digit as the sketchpad's background: black strokes on white paper, at the canvas's size."""
    from PIL import Image, ImageOps

    image = Image.fromarray((digit * 255).round().astype("uint8"), mode="L")
    big = ImageOps.invert(image.resize((CANVAS, CANVAS), Image.BILINEAR)).convert("RGBA")
    return {"background": big, "layers": [], "composite": big}


@dataclass
class DrawParts:
    """What the page reaches in the section: its link target and controls, and what teacher mode hides."""

    section: gr.Accordion
    link: links.LinkTarget
    controls: list
    hidden: list = field(default_factory=list)
    events: dict = field(default_factory=dict)  # task id -> its page event (for tests)


def link_params(tasks: list[DrawingTask]) -> tuple:
    """The section's linkable settings, each once (their declarations: label and seed, then each family's)."""
    params = {"label": LABEL_PARAM, "seed": seed_param()}
    for task in tasks:
        for p in task.params:
            if p.name in LINKED and p.name not in params:
                params[p.name] = p
    return tuple(params[name] for name in LINKED if name in params)


def result_note(task: DrawingTask, result, lang: str) -> str:
    """The line under a family's result: what the classifier read before and after, in the page's language."""
    info = result.info
    before = info.get("reading")
    if not result.done or before is None:
        return i18n.message("draw:working", lang)
    values = dict(digit=before["digit"], confidence=before["confidence"], used=info.get("label_used"))
    kind = task.id.split("/", 1)[1]
    if kind == "complete":
        finals = info.get("result_readings") or []
        same = sum(r["digit"] == info.get("label_used") for r in finals)
        return i18n.message("draw:note:complete", lang, n=len(finals), same=same, **values)
    after = info.get("result_reading") or {}
    values.update(after=after.get("digit"), after_confidence=after.get("confidence", 0.0))
    if kind == "gan_search":
        values["error"] = info.get("pixel_error", 0.0)
    if kind == "vae":
        x, y = info.get("map_point", (0.0, 0.0))
        values.update(x=x, y=y)
    return i18n.message(f"draw:note:{kind}", lang, **values)


def result_outputs(task: DrawingTask, result, lang: str) -> tuple:
    """(gallery, steps, note, record) of a family's result; the VAE's map goes first in its own output."""
    captions = [i18n.said(c, lang) for c in result.captions]
    record = {k: v for k, v in result.info.items() if k != "params"}
    record["params"] = {k: v for k, v in result.info.get("params", {}).items() if k != "digit"}
    if task.id == "draw/vae":
        gallery = to_gallery(result, captions)
        return (result.images[0], gallery[1:3], gallery[3:], result_note(task, result, lang), record)
    steps = [(stack(f["images"]), i18n.said(f["label"], lang)) for f in result.process] if result.done else gr.skip()
    return (to_gallery(result, captions), steps, result_note(task, result, lang), record)


def task_handler(task: DrawingTask, names: list[str], from_file: bool):
    """The event function of one family: the page's (the sketchpad, preprocessed) or the API's (a picture file)."""

    def run(source, label, seed, *values, request: gr.Request = None):
        lang = i18n.language_of(request) if errors.from_browser(request) else i18n.DEFAULT_LANGUAGE
        try:
            if from_file:
                source = source.get("path") if isinstance(source, dict) else source
            digit = digit_from_image(ink_source(source) if not from_file else source)
            params = {"digit": encode_digit(digit), "label": label, "seed": seed, **dict(zip(names, values))}
            for result in SHARED.stream(task, params):
                yield result_outputs(task, result, lang)
        except DrawingError as e:
            raise gr.Error(draw_message(e, lang), print_exception=False) from None
        except GenAIError as e:
            raise gr.Error(errors.for_caller(e, request, task.id), print_exception=False) from None
        except Exception as e:  # a bug or a fault: the operator gets the traceback, the visitor one line
            log.exception("%s failed", task.id)
            raise gr.Error(errors.for_caller(e, request, task.id), print_exception=False) from None

    run.__name__ = api_name(task.id) if from_file else f"{api_name(task.id)}_page"  # the API's name is the file's
    returns = ("The pictures (your drawing as the models see it, then the result), the process's steps, one line "
               "saying what the classifier read before and after, and the info record.")
    if task.id == "draw/vae":
        returns = ("The latent map with your drawing's code ringed, the reconstruction and the generated digit, the "
                   "morph's frames, one line, and the info record (map_point: the code's place on the map).")
    run.__doc__ = draw_docstring(task.title, task.description, task.params[1:], returns)
    return with_request(run, (IMAGE_PARAM,) + task.params[1:])


def read_handler(judge, from_file: bool):
    """What the classifier reads in the drawing: the 28x28 digit, a line, and the ten probabilities."""

    def draw_read(image, request: gr.Request = None):
        lang = i18n.language_of(request) if errors.from_browser(request) else i18n.DEFAULT_LANGUAGE
        try:
            if from_file:
                image = image.get("path") if isinstance(image, dict) else image
            digit = digit_from_image(image if from_file else ink_source(image))
        except DrawingError as e:
            if from_file:
                raise gr.Error(draw_message(e, lang), print_exception=False) from None
            # On the page a cleared or blank pad is not a mistake: the line says what to do.
            return None, f"\u270f\ufe0f {draw_message(e, lang)}", None
        try:
            reading = read_digit(judge, digit)
        except GenAIError as e:
            raise gr.Error(errors.for_caller(e, request, "draw/read"), print_exception=False) from None
        return shown_digit(digit), reading_line(reading, lang), probabilities(reading)

    if not from_file:  # the page's own event, private; the API's endpoint (a picture file) is /draw_read
        draw_read.__name__ = "draw_read_page"
    draw_read.__doc__ = draw_docstring(
        "What the digit classifier reads in a picture of a digit",
        "The picture is centred in 28x28 the way MNIST digits are, and the playground's digit classifier reads it.",
        (), "The digit as the models see it (28x28, enlarged), one line with the reading and its confidence, and the "
        "classifier's probability for each digit.")
    return draw_read


def upload_handler(judge):
    """An uploaded picture: into the sketchpad (as its background, to draw on) with the classifier's reading, or one
    line saying why not."""

    def load(path, request: gr.Request = None):
        """The sketchpad, the line under the upload box, the upload box (emptied, ready for another picture), and
        the reading's three outputs."""
        lang = i18n.language_of(request)
        if not path:
            return (gr.skip(),) * 6
        try:
            digit = digit_from_image(path)
        except DrawingError as e:
            return (gr.skip(), f"\u26a0\ufe0f {md_escape(draw_message(e, lang))}", None) + (gr.skip(),) * 3
        reading = read_digit(judge, digit)
        return pad_value(digit), "", None, shown_digit(digit), reading_line(reading, lang), probabilities(reading)

    return load


def family(task: DrawingTask, hidden: list) -> tuple[list, dict]:
    """A family's heading, lesson line, controls (each task parameter but the drawing, label and seed) and button."""
    gr.Markdown(t(f"draw:heading:{task.id}"))
    gr.Markdown(t(f"draw:lesson:{task.id}"), elem_classes=["genai-lesson"])
    controls = []
    with gr.Row(equal_height=True):
        for p in task.params[3:]:
            control = make_control(p, task.id)
            controls.append(control)
            if p.advanced:
                hidden.append(control)
    with gr.Row():
        button = gr.Button(t(f"draw:run:{task.id}"), variant="primary", elem_id=f"draw-run-{task.id.split('/')[1]}")
        stop = gr.Button(t("ui:stop"), variant="stop") if not plan(task).quick else None
    return controls, {"button": button, "stop": stop}


def family_outputs(task: DrawingTask) -> list:
    kind = task.id.split("/")[1]
    record = gr.JSON(visible=False)
    note = gr.Markdown(elem_id=f"draw-note-{kind}")
    if task.id == "draw/vae":
        with gr.Row():
            the_map = gr.Image(type="pil", format="png", label=t("draw:vae:map"), interactive=False, height=420,
                               elem_id="draw-vae-map", elem_classes=["genai-process"])
            with gr.Column():
                pictures = gr.Gallery(label=t("draw:vae:pictures"), columns=2, height="auto", object_fit="contain",
                                      format="png", interactive=False, elem_id="draw-vae-pictures",
                                      elem_classes=["genai-gallery"])
                morph = gr.Gallery(label=t("draw:vae:morph"), columns=6, height="auto", object_fit="contain",
                                   format="png", interactive=False, elem_id="draw-vae-morph",
                                   elem_classes=["genai-gallery"])
        return [the_map, pictures, morph, note, record]
    gallery = gr.Gallery(label=t("draw:result"), columns=5, height="auto", object_fit="contain", format="png",
                         interactive=False, elem_id=f"draw-result-{kind}", elem_classes=["genai-gallery"])
    with gr.Accordion(t("draw:steps"), open=False):
        steps = gr.Gallery(label=t("draw:steps"), columns=4, height="auto", object_fit="contain", format="png",
                           interactive=False, elem_id=f"draw-steps-{kind}", elem_classes=["genai-gallery"])
    return [gallery, steps, note, record]


def draw_section(models: list) -> DrawParts | None:
    """The section, under the image tab's results; None if no family's model is in this tab."""
    tasks = drawing_tasks(models)
    if not tasks:
        return None
    for task in tasks:
        i18n.register_model(task)
    i18n.register_params(SECTION, (LABEL_PARAM, seed_param()))
    hidden, shared_controls = [], {}
    with gr.Accordion(t("draw:title"), open=False, elem_id="draw") as section:
        gr.Markdown(t("draw:intro"))
        with gr.Row():
            with gr.Column(min_width=300):
                pad = gr.Sketchpad(label=t("draw:pad"), type="pil", image_mode="RGBA", canvas_size=(CANVAS, CANVAS),
                                   brush=gr.Brush(default_size=11, colors=["#000000"], color_mode="fixed"),
                                   layers=False, elem_id="draw-pad")
                clear = gr.Button(t("draw:clear"), size="sm", elem_id="draw-clear")
                upload = gr.File(label=t("draw:upload"), file_types=["image"], type="filepath", file_count="single",
                                 elem_id="draw-upload", height=120)
                upload_note = gr.Markdown(elem_id="draw-upload-note")
                # The line the browser shows for a picture over the upload limit (static/page.js), in the page's
                # language: Gradio refuses such a file in the browser with an English line of its own.
                gr.Markdown(t("draw:too_large"), elem_id="draw-too-large", visible=True, elem_classes=["genai-hidden"])
            with gr.Column(min_width=260):
                seen = gr.Image(label=t("draw:seen"), type="pil", format="png", interactive=False, height=SHOWN + 40,
                                elem_id="draw-seen", elem_classes=["genai-process"])
                reading = gr.Markdown(t("draw:reading:none"), elem_id="draw-reading")
                probs = gr.Label(num_top_classes=3, label=t("draw:probs"), elem_id="draw-probs")
                shared_controls["label"] = make_control(LABEL_PARAM, SECTION)
                shared_controls["seed"], dice = seed_control(seed_param(), SECTION)
                dice.click(new_seed, None, shared_controls["seed"], api_visibility="private", queue=False)
        label, seed = shared_controls["label"], shared_controls["seed"]
        read = read_handler(tasks[0].judge, from_file=False)
        gr.on([pad.change], read, pad, [seen, reading, probs], api_visibility="private", queue=False,
              trigger_mode="always_last", show_progress="hidden")
        clear.click(lambda: None, None, pad, api_visibility="private", queue=False)
        upload.upload(upload_handler(tasks[0].judge), upload, [pad, upload_note, upload, seen, reading, probs],
                      api_visibility="private", queue=False)
        # The API's reading of a picture file.
        api_file = gr.File(visible=False, type="filepath")
        own_info = api_file.api_info_as_input  # the API page, view_api and MCP describe it in the task's words
        api_file.api_info_as_input = lambda: {**own_info(), "description": IMAGE_TEXT,
                                              "additional_description": IMAGE_TEXT}
        api_read = gr.Button(visible=False)
        api_read.click(read_handler(tasks[0].judge, from_file=True), api_file, [seen, reading, probs], api_name="draw_read",
                       preprocess=False, concurrency_limit=4)
        parts = DrawParts(section, None, [], hidden)
        named = {}
        for task in tasks:
            with gr.Group():
                controls, buttons = family(task, hidden)
                outputs = family_outputs(task)
            for p, c in zip(task.params[3:], controls):
                named.setdefault(p.name, c)
            names = [p.name for p in task.params[3:]]
            queue = plan(task).queue()
            event = buttons["button"].click(task_handler(task, names, from_file=False), [pad, label, seed, *controls],
                                            outputs, api_visibility="private", **queue)
            if buttons["stop"] is not None:
                buttons["stop"].click(None, None, None, cancels=[event], api_visibility="private", queue=False)
            parts.events[task.id] = event
            api_button = gr.Button(visible=False)
            api_button.click(task_handler(task, names, from_file=True), [api_file, label, seed, *controls], outputs,
                             api_name=api_name(task.id), preprocess=False, **queue)
        params = link_params(tasks)
        parts.link = links.LinkTarget("image/draw", "image", params)
        parts.controls = [shared_controls.get(p.name) or named[p.name] for p in params]
        with gr.Row(equal_height=True):
            link = gr.Textbox(label=t("ui:link"), info=t("draw:link:info"), interactive=False, max_lines=2, scale=4,
                              elem_id="draw-link")
            copy = gr.Button(t("ui:copy_link"), scale=0, min_width=120, elem_id="draw-copy")
        copy.click(None, parts.controls, link, js=link_js(parts.link, copy=True), api_visibility="private",
                   queue=False)
    return parts


__all__ = ["DrawParts", "draw_section"]
