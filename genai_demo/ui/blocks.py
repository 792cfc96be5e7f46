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

from genai_demo import compare
from genai_demo.contract import MAX_SEED, GenAIError, ModelAdapter, Param
from genai_demo.judge import DigitJudge
from genai_demo.registry import MODALITIES, Registry

log = logging.getLogger(__name__)

GALLERY_PIXELS = 112  # small images (28x28 digits) are enlarged to about this size, nearest-neighbour, so pixels stay sharp
TAB_TITLES = {"image": "Image", "text": "Text", "audio": "Audio"}
CSS = """
.genai-gallery img, .genai-process img { image-rendering: pixelated; image-rendering: crisp-edges; }
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
        scale = max(1, GALLERY_PIXELS // max(image.size))
        big = image.resize((image.width * scale, image.height * scale), Image.NEAREST) if scale > 1 else image
        items.append((big, result.captions[i] if i < len(result.captions) else None))
    return items


def make_handler(adapter: ModelAdapter):
    """A Gradio event function for one model, with the model's parameter names as its signature.

    It streams: every intermediate result updates the gallery; the final one also fills the process view's state.
    """

    def handler(*values):
        params = dict(zip((p.name for p in adapter.params), values))
        try:
            for result in adapter.stream(**params):
                yield to_gallery(result), format_info(result.info, len(result.images)), result.process
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


NO_PROCESS = "This model draws in a single pass through its network: there are no intermediate steps to show."


def show_frame(process: list, index) -> tuple:
    """The process view for one frame: its label and its named pictures."""
    if not process:
        return gr.Markdown(NO_PROCESS), []
    frame = process[max(0, min(int(index or 0), len(process) - 1))]
    return gr.Markdown(f"**{frame['label']}**"), [(im, name) for name, im in frame["images"].items()]


def reset_process(process: list) -> tuple:
    """After a generation: the scrubber spans its frames and shows the last one."""
    last = max(0, len(process) - 1)
    return (gr.Slider(minimum=0, maximum=max(1, last), value=last, visible=bool(process)), *show_frame(process, last))


def model_panel(adapter: ModelAdapter, outputs: list, visible: bool) -> tuple[gr.Column, object]:
    """Controls and Generate button of one model, built from its declared parameters."""
    with gr.Column(visible=visible) as panel:
        gr.Markdown(f"### {adapter.title}\n{adapter.description}")
        reason = adapter.unavailable_reason()
        if reason:
            gr.Markdown(f"**Unavailable:** {reason}")
        controls = [seed_control(p) if p.name == "seed" else make_control(p) for p in adapter.params]
        button = gr.Button("Generate", variant="primary", interactive=reason is None)
        # preprocess=False: raw values reach the contract's validation, whose messages name the parameter and its range.
        event = button.click(make_handler(adapter), controls, outputs, api_name=api_name(adapter.id), preprocess=False)
    return panel, event


def modality_tab(modality: str, models: list[ModelAdapter]) -> None:
    first = next((m for m in models if m.unavailable_reason() is None), models[0])
    # The outputs are made first (unrendered) so that every model's Generate event can target them.
    gallery = gr.Gallery(label="Output", columns=6, height=520, object_fit="contain", format="png",
                         elem_id=f"{modality}-output", elem_classes=["genai-gallery"], interactive=False, render=False)
    info = gr.Markdown(elem_id=f"{modality}-info", elem_classes=["genai-info"], render=False)
    process = gr.State([])
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker = gr.Radio([(f"{m.family}: {m.id}", m.id) for m in models], value=first.id, label="Model")
            built = [model_panel(m, [gallery, info, process], visible=(m is first)) for m in models]
        with gr.Column(scale=3):
            gallery.render()
            info.render()
            with gr.Accordion("How it was drawn", open=True):
                frame_label = gr.Markdown(NO_PROCESS)
                scrubber = gr.Slider(0, 1, value=0, step=1, label="Step", visible=False,
                                     info="Drag to move through the generation, from the first step to the last.")
                frame_gallery = gr.Gallery(columns=1, height="auto", object_fit="contain", format="png", show_label=False,
                                           elem_id=f"{modality}-process", elem_classes=["genai-process"], interactive=False)
    panels = [panel for panel, _ in built]
    for _, event in built:
        event.then(reset_process, process, [scrubber, frame_label, frame_gallery], api_visibility="private", queue=False)
    scrubber.input(show_frame, [process, scrubber], [frame_label, frame_gallery], api_visibility="private", queue=False)
    picker.change(lambda mid: [gr.Column(visible=(m.id == mid)) for m in models], picker, panels,
                  api_visibility="private", queue=False)


def seed_control(p: Param) -> gr.Number:
    """The seed field with a button that picks a random one."""
    with gr.Row(equal_height=True):
        control = make_control(p)
        dice = gr.Button("Random seed", scale=0, min_width=120)
    dice.click(lambda: random.randint(0, MAX_SEED), None, control, api_visibility="private", queue=False)
    return control


def compare_section(registry: Registry, judge: DigitJudge) -> None:
    """Same digit, same seed, all four families side by side, each timed and judged by the digit classifier."""
    gr.Markdown("## Compare the four families\nOne click asks the GAN, the VAE, the diffusion model and the "
                "autoregressive model for the same digit with the same seed. Under each: how long one image took, and "
                "how sure a digit classifier (trained on real MNIST) is that it shows the digit asked for.")
    with gr.Row(equal_height=True):
        controls = [seed_control(p) if p.name == "seed" else make_control(p) for p in compare.PARAMS]
        button = gr.Button("Compare", variant="primary", scale=0, min_width=140)
    galleries, notes = [], []
    with gr.Row():
        for model_id in compare.COMPARED:
            with gr.Column(min_width=200):
                adapter = registry.get(model_id)
                gr.Markdown(f"**{adapter.family}** ({model_id})")
                galleries.append(gr.Gallery(columns=4, height=240, object_fit="contain", format="png", show_label=False,
                                            elem_classes=["genai-gallery"], interactive=False))
                notes.append(gr.Markdown())

    def run_compare(*values):
        from PIL import Image

        params = dict(zip((p.name for p in compare.PARAMS), values))
        shown = {m: ([], "waiting...") for m in compare.COMPARED}
        try:
            for record in compare.compare(registry, judge, **params):
                if "error" in record:
                    shown[record["model"]] = ([], f"unavailable: {record['error']}")
                else:
                    items = [(im.resize((112, 112), Image.NEAREST), f"seen as {p}") for im, p in zip(record["images"], record["predicted"])]
                    shown[record["model"]] = (items, (
                        f"{record['seconds_per_image'] * 1000:.1f} ms per image · "
                        f"recognised {record['accuracy']:.0%} · confidence {record['confidence']:.2f}"))
                yield [shown[m][0] for m in compare.COMPARED] + [shown[m][1] for m in compare.COMPARED]
        except GenAIError as e:
            raise gr.Error(str(e), print_exception=False) from None

    run_compare.__signature__ = inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for p in compare.PARAMS])
    button.click(run_compare, controls, galleries + notes, api_name="image_compare", preprocess=False)


def build_demo(registry: Registry | None = None, judge: DigitJudge | None = None) -> gr.Blocks:
    registry = registry or Registry()
    judge = judge or DigitJudge(next(iter(registry)).weights_root)
    with gr.Blocks(title="GenAI playground") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            for modality in MODALITIES:
                models = registry.by_modality(modality)
                if models:
                    with gr.Tab(TAB_TITLES[modality], id=modality):
                        modality_tab(modality, models)
                        if modality == "image" and all(m in registry.models for m in compare.COMPARED):
                            compare_section(registry, judge)
    return demo
