"""The process view: how a result was made, one frame at a time, with a scrubber that counts from 1.

A model's frames (``Result.process``) each have a label and named pictures, in the words the model wrote
(``words.Say``); the view shows them in the page's language, the names as text above the stacked pictures.
"""

from __future__ import annotations

import gradio as gr

from genai_demo import i18n
from genai_demo.ui.common import t as i18n_t


def stack(images: dict):
    """A frame's pictures (PIL images, or packed as a session keeps them) one above the other, with a white gap."""
    from PIL import Image

    from genai_demo.export import pictures as unpacked

    pictures = [im.convert("RGB") for im in unpacked(images).values()]
    out = Image.new("RGB", (max(im.width for im in pictures), sum(im.height + 8 for im in pictures) - 8), "white")
    y = 0
    for im in pictures:
        out.paste(im, (0, y))
        y += im.height + 8
    return out


def frame_text(frame: dict, lang: str) -> str:
    """A frame's label, then what its pictures are, top to bottom."""
    names = [i18n.said(name, lang) for name in frame.get("images", {})]
    text = f"**{i18n.said(frame['label'], lang)}**"
    return text + "  \n" + i18n.message("ui:frame:pictures", lang, names="; ".join(names)) if names else text


def show_frame(process: list, position, request: gr.Request = None) -> tuple:
    """The process view at one position (1 = the first frame): its label, its pictures' names and its pictures."""
    lang = i18n.language_of(request)
    if not process:
        return gr.Markdown(i18n.message("ui:no_process", lang)), gr.Image(value=None, visible=False)
    frame = process[max(0, min(int(position or 1) - 1, len(process) - 1))]
    return gr.Markdown(frame_text(frame, lang)), gr.Image(value=stack(frame["images"]), visible=True)


def reset_process(process: list, request: gr.Request = None) -> tuple:
    """After a generation: the scrubber spans its frames, 1 to N, and shows the last one."""
    last = len(process)
    return (gr.Slider(minimum=1, maximum=max(2, last), value=max(1, last), visible=bool(process)),
            *show_frame(process, last, request))


def process_view(scrubber_label: str, scrubber_info: str, elem_id: str) -> tuple:
    """The view's components: the frame's text, the scrubber (hidden until there is something to show), the picture."""
    frame_text_md = gr.Markdown(i18n_t("ui:no_process"))
    scrubber = gr.Slider(1, 2, value=1, step=1, label=i18n_t(scrubber_label), visible=False,
                         info=i18n_t(scrubber_info))
    picture = gr.Image(type="pil", format="png", show_label=False, interactive=False, visible=False,
                       elem_id=elem_id, elem_classes=["genai-process"])
    return frame_text_md, scrubber, picture


def wire_process_view(process: gr.State, view: tuple):
    """The scrubber moves through the frames; returns ``finish(event)``, which makes the view show the last frame
    after that event (a Generate, a Stop, the page's opening result)."""
    frame_text_md, scrubber, picture = view
    scrubber.input(show_frame, [process, scrubber], [frame_text_md, picture], api_visibility="private", queue=False)

    def finish(event) -> None:
        if event is not None:
            event.then(reset_process, process, [scrubber, frame_text_md, picture], api_visibility="private", queue=False)

    return finish
