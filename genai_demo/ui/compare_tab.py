"""The Image tab's comparison: the same digit and seed drawn by every model that declares ``compared``, each timed
and judged by the digit classifier."""

from __future__ import annotations

import inspect

import gradio as gr

from genai_demo import compare, i18n, links
from genai_demo.contract import GenAIError
from genai_demo.export import picture_files
from genai_demo.judge import DigitJudge
from genai_demo.registry import Registry
from genai_demo.serving import SHARED
from genai_demo.ui import errors
from genai_demo.ui.common import api_docstring, split_request, t, with_request
from genai_demo.ui.image_tab import PictureGallery
from genai_demo.ui.panel import link_js, make_control, new_seed, seed_control


# Comparisons in flight at once. Each only waits for its four models (the slow ones in the worker, in their own
# batches) and judges their digits, so a slot is held for as long as its slowest model takes under load (a
# PixelCNN request: 7-9 s at p50 in a busy class); at four slots a class's 30 comparisons a minute queued for them.
COMPARE_AT_ONCE = 8
COMPARE_LINK = links.LinkTarget(compare.LINK_ID, "image", compare.PARAMS)  # ?tab=image&model=image/compare&seed=...


def compare_section(registry: Registry, judge: DigitJudge) -> tuple:
    """Same digit, same seed, all four families side by side, each timed and judged by the digit classifier.

    Returns its controls (which a link fills) and its event function (``/image_compare``)."""
    compared = compare.compared(registry)
    gr.Markdown(t("ui:compare:intro"))
    i18n.register_params("compare", compare.PARAMS)
    with gr.Row(equal_height=True):
        controls = []
        for p in compare.PARAMS:
            if p.name == "seed":
                control, dice = seed_control(p, "compare")
                dice.click(new_seed, None, control, api_visibility="private", queue=False)
            else:
                control = make_control(p, "compare")
            controls.append(control)
        button = gr.Button(t("ui:compare"), variant="primary", scale=0, min_width=140)
    with gr.Row(equal_height=True):
        link = gr.Textbox(label=t("ui:compare:link"), info=t("ui:compare:link:info"), interactive=False, max_lines=2,
                          scale=4, elem_id="compare-link")
        copy = gr.Button(t("ui:compare:copy_link"), scale=0, min_width=160, elem_id="compare-copy")
    galleries, notes = [], []
    with gr.Row():
        for model_id in compared:
            with gr.Column(min_width=200):
                gr.Markdown(t(i18n.model_key(model_id, "choice")))
                galleries.append(PictureGallery(columns=2, height="auto", object_fit="contain", format="png",
                                                show_label=False, elem_classes=["genai-gallery"], interactive=False))
                notes.append(gr.Markdown())

    def run_compare(*args, request=None):
        from PIL import Image

        values, lang, request = split_request(args, len(compare.PARAMS), request)
        params = dict(zip((p.name for p in compare.PARAMS), values))
        shown = {m: ([], i18n.message("compare:waiting", lang)) for m in compared}
        SHARED.quick_first()  # a comparison waits for its slowest model anyway: the class's quick requests go first
        try:
            for record in compare.compare(registry, judge, SHARED.generate, **params):
                if "error" in record:
                    shown[record["model"]] = ([], i18n.message("compare:unavailable", lang, error=record["error"]))
                else:
                    items = picture_files([(im.resize((112, 112), Image.NEAREST),
                                            i18n.message("compare:seen_as", lang, digit=p))
                                           for im, p in zip(record["images"], record["predicted"])])
                    shown[record["model"]] = (items, i18n.message(
                        "compare:note", lang, ms=record["seconds_per_image"] * 1000, accuracy=record["accuracy"],
                        confidence=record["confidence"]))
                yield [shown[m][0] for m in compared] + [shown[m][1] for m in compared]
        except GenAIError as e:
            raise gr.Error(errors.for_caller(e, request, "compare"), print_exception=False) from None

    run_compare.__name__ = "image_compare"  # the MCP tool's name, like its endpoint's
    title, _, description = inspect.cleandoc(compare.__doc__).partition("\n\n")
    run_compare.__doc__ = api_docstring(title, description, compare.PARAMS,
                                        "Each model's images, then each model's line: time per image, how often the "
                                        "digit classifier recognised the digit asked for, and its confidence.")
    with_request(run_compare, compare.PARAMS)
    # Each model runs where its own requests run (the slow ones in the worker, batched with the class's): the
    # comparison itself only waits and judges, so a few may wait at once in a lane of their own.
    button.click(run_compare, controls, galleries + notes, api_name="image_compare", preprocess=False,
                 concurrency_limit=COMPARE_AT_ONCE, concurrency_id="compare")
    # As for a model: Compare writes its settings into the address bar, Copy link also onto the clipboard.
    button.click(None, controls, None, js=link_js(COMPARE_LINK, copy=False), api_visibility="private", queue=False)
    copy.click(None, controls, link, js=link_js(COMPARE_LINK, copy=True), api_visibility="private", queue=False)
    return controls, run_compare
