"""Builds the whole page from the registry: one tab per modality, one generic panel per model.

Nothing here knows a particular model. Each declared parameter becomes one
control; each model gets one Generate event, exposed in the API as
``/<modality>_<name>`` (``/image_gan``) with the parameters' own names.
"""

from __future__ import annotations

import inspect
import logging
import random

import gradio as gr

from genai_demo.contract import MAX_SEED, GenAIError, ModelAdapter, Param
from genai_demo.registry import MODALITIES, Registry

log = logging.getLogger(__name__)

GALLERY_SCALE = 4  # 28x28 digits are shown at 112x112, nearest-neighbour, so pixels stay sharp
TAB_TITLES = {"image": "Image", "text": "Text", "audio": "Audio"}
CSS = """
.genai-gallery img { image-rendering: pixelated; image-rendering: crisp-edges; }
.genai-info { font-size: 0.95em; }
"""
INTRO = (
    "# GenAI playground\n"
    "Generative models learn what their training data looks like and then make new examples of it. "
    "Pick a model, move its controls and press **Generate**. The same seed and settings always give the same result."
)


def api_name(model_id: str) -> str:
    return model_id.replace("/", "_")


def make_control(p: Param) -> gr.Component:
    common = dict(label=p.display_label, info=p.help, interactive=True)
    if p.kind == "slider":
        return gr.Slider(p.minimum, p.maximum, value=p.default, step=p.step, **common)
    if p.kind == "integer":
        return gr.Number(value=p.default, minimum=p.minimum, maximum=p.maximum, step=p.step or 1, precision=0, **common)
    if p.kind == "choice":
        return gr.Dropdown(list(p.choices), value=p.default, **common)
    if p.kind == "toggle":
        return gr.Checkbox(value=p.default, **common)
    return gr.Textbox(value=p.default, max_length=p.max_length, lines=2, **common)


def format_info(info: dict, n_images: int) -> str:
    parts = [f"**{info['model']}**", f"seed {info['seed']}"]
    if n_images:
        parts.append(f"{n_images} image{'s' if n_images != 1 else ''}")
    parts.append(f"{info['seconds'] * 1000:.1f} ms")
    if info.get("parameters"):
        parts.append(f"{info['parameters']:,} parameters")
    if info.get("weights_version"):
        parts.append(f"weights {info['weights_version']}")
    return " · ".join(parts)


def to_gallery(result) -> list:
    from PIL import Image

    items = []
    for i, image in enumerate(result.images):
        big = image.resize((image.width * GALLERY_SCALE, image.height * GALLERY_SCALE), Image.NEAREST)
        items.append((big, result.captions[i] if i < len(result.captions) else None))
    return items


def make_handler(adapter: ModelAdapter):
    """A Gradio event function for one model, with the model's parameter names as its signature."""

    def handler(*values):
        params = dict(zip((p.name for p in adapter.params), values))
        try:
            for result in adapter.stream(**params):
                yield to_gallery(result), format_info(result.info, len(result.images))
        except GenAIError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # a bug or a fault: log it for the operator, one line for the user
            log.exception("generation failed for %s", adapter.id)
            raise gr.Error(f"{adapter.id} failed: {type(e).__name__}: {str(e)[:200]}", print_exception=False) from None

    handler.__name__ = api_name(adapter.id)
    handler.__signature__ = inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for p in adapter.params]
    )
    return handler


def model_panel(adapter: ModelAdapter, gallery: gr.Gallery, info: gr.Markdown, visible: bool) -> gr.Column:
    """Controls and Generate button of one model, built from its declared parameters."""
    with gr.Column(visible=visible) as panel:
        gr.Markdown(f"### {adapter.title}\n{adapter.description}")
        reason = adapter.unavailable_reason()
        if reason:
            gr.Markdown(f"**Unavailable:** {reason}")
        controls = []
        for p in adapter.params:
            if p.name == "seed":
                with gr.Row(equal_height=True):
                    control = make_control(p)
                    dice = gr.Button("🎲 Random", scale=0, min_width=100)
                dice.click(lambda: random.randint(0, MAX_SEED), None, control, api_visibility="private", queue=False)
            else:
                control = make_control(p)
            controls.append(control)
        button = gr.Button("Generate", variant="primary", interactive=reason is None)
        # preprocess=False: raw values reach the contract's validation, whose messages name the parameter and its range.
        button.click(make_handler(adapter), controls, [gallery, info], api_name=api_name(adapter.id), preprocess=False)
    return panel


def modality_tab(models: list[ModelAdapter]) -> None:
    first = next((m for m in models if m.unavailable_reason() is None), models[0])
    # The outputs are made first (unrendered) so that every model's Generate event can target them.
    gallery = gr.Gallery(label="Output", columns=8, height=520, object_fit="contain", format="png",
                         elem_classes=["genai-gallery"], interactive=False, render=False)
    info = gr.Markdown(elem_classes=["genai-info"], render=False)
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker = gr.Radio([(f"{m.family}: {m.id}", m.id) for m in models], value=first.id, label="Model")
            panels = [model_panel(m, gallery, info, visible=(m is first)) for m in models]
        with gr.Column(scale=3):
            gallery.render()
            info.render()
    picker.change(lambda mid: [gr.Column(visible=(m.id == mid)) for m in models], picker, panels,
                  api_visibility="private", queue=False)


def build_demo(registry: Registry | None = None) -> gr.Blocks:
    registry = registry or Registry()
    with gr.Blocks(title="GenAI playground") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            for modality in MODALITIES:
                models = registry.by_modality(modality)
                if models:
                    with gr.Tab(TAB_TITLES[modality], id=modality):
                        modality_tab(models)
    return demo
