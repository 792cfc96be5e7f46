"""The image tab: a gallery of what the chosen model drew, its info line, and how it was drawn, step by step."""

from __future__ import annotations

import os

import gradio as gr
from gradio.components.gallery import GalleryData, GalleryImage
from gradio.data_classes import ImageData
from gradio_client.utils import is_http_url_like

from genai_demo import i18n
from genai_demo.contract import ModelAdapter
from genai_demo.export import packed_process, page_gallery, scratch_dir
from genai_demo.ui.common import format_info, t
from genai_demo.ui.draw import draw_section
from genai_demo.ui.explain import explain_section, how_button, open_on
from genai_demo.ui.panel import SectionParts, TabParts, first_available, picker_and_panels
from genai_demo.ui.process import process_view, wire_process_view


def alt_text(caption: str, info: dict, lang: str) -> str:
    """What a finished image is, for its caption and alt text: "Generated digit 7, GAN, seed 12"."""
    model = str(info.get("model", ""))
    choice = i18n.model_key(model, "choice")
    family = i18n.text(choice, lang).rsplit(f": {model}", 1)[0] if i18n.known(choice) else model
    return i18n.message("image:alt", lang, digit=caption, family=family, seed=info.get("seed"))


# Seconds between streamed pictures (the first and the last always go): ten a second is smooth to watch, and each
# one is a gallery of PNGs that the server encodes and sends, CPU that the GAN and VAE, served in the same process,
# would otherwise wait for (a PixelCNN request has 28 rows to show, a diffusion request one picture per step).
IMAGE_STREAM_INTERVAL = 0.1


def image_outputs(result, lang: str = "en") -> tuple:
    """The images, as PNG files that carry their settings, each captioned with what it is (also its alt text:
    "Generated digit 7, GAN, seed 12"), and a line naming the model, seed, time and size."""
    captions = [i18n.said(c, lang) for c in result.captions]
    if result.done:
        captions = [alt_text(c, result.info, lang) for c in captions]
    gallery = page_gallery(result, captions)
    # The session keeps the finished process's pictures packed (export.PackedPicture): 3-15% of their pixels
    return gallery, format_info(result.info, len(result.images), lang), (
        packed_process(result) if result.done else result.process)


def serve_pictures_in_place() -> None:
    """Let Gradio serve the pictures this process writes for the page (``genai_demo.export``) from where they are,
    instead of checking each file's path and copying it into its own cache for every update: under a class's load
    that took a third of the server's time (a py-spy profile of ``bench/load.py``). Only that folder
    (``export.picture_dir``), made by ``tempfile.mkdtemp`` and holding nothing but generated pictures.

    The folder goes first in Gradio's list of such places (gradio 6.31's ``_StaticFiles.all_paths``, kept if it is
    not there): Gradio checks each picture of each update against the list in order, resolving both paths, and
    the two icons it lists on import came first, 234 us a picture instead of 74 (32 checks a visitor's update)."""
    folder = scratch_dir("pictures").resolve()
    listed = getattr(getattr(gr.data_classes, "_StaticFiles", None), "all_paths", None)
    if not isinstance(listed, list) or folder not in listed:
        gr.set_static_paths([folder])
    if isinstance(listed, list):  # listed by now: moved to the front
        listed.remove(folder)
        listed.insert(0, folder)


class PictureGallery(gr.Gallery):
    """``gr.Gallery`` (the same on the page and in the API) that sends pictures already written as PNG files
    (``export.page_gallery``, ``export.picture_files``) as they are: Gradio's own starts a thread pool for every
    update to look at each item, 1.5 ms of a visitor's update for 16 digits against 0.07 ms in turn."""

    is_template = True  # the page draws it with Gradio's own gallery

    def postprocess(self, value):
        if value and all(isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                         and item[0].endswith(".png") and not is_http_url_like(item[0]) for item in value):
            return GalleryData(root=[GalleryImage(image=ImageData(path=path, orig_name=os.path.basename(path),
                                                                  mime_type="image/png"), caption=caption)
                                     for path, caption in value])
        return super().postprocess(value)


def image_tab(models: list[ModelAdapter]) -> TabParts:
    serve_pictures_in_place()
    # The outputs are made first (unrendered) so that every model's Generate event can target them.
    gallery = PictureGallery(label=t("ui:output"), columns=6, height=520, object_fit="contain", format="png",
                             elem_id="image-output", elem_classes=["genai-gallery"], interactive=False, render=False)
    info = gr.Markdown(elem_id="image-info", elem_classes=["genai-info"], render=False)
    process = gr.State([])
    outputs = [gallery, info, process]
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker, panels = picker_and_panels(models, outputs, image_outputs, IMAGE_STREAM_INTERVAL)
        with gr.Column(scale=3):
            gallery.render()
            info.render()
            how = how_button()
            with gr.Accordion(t("ui:how_drawn"), open=True):
                view = process_view("ui:step", "ui:step:info", "image-process")
    drawn = draw_section(models)  # "Draw a digit": the visitor's own digit, given to every family
    open_on(how, explain_section("image", models, process), "image")
    finish = wire_process_view(process, view)
    for p in panels:
        finish(p.event)
    return TabParts(first_available(models), picker, panels, outputs, image_outputs, finish,
                    hidden=drawn.hidden if drawn else [], linked=[SectionParts(drawn.link, drawn.controls, drawn.section)] if drawn else [])
