"""Builds the whole page from the registry: one tab per modality, one generic panel per model.

Nothing here knows a particular model. Each declared parameter becomes one
control; each model gets one Generate event, exposed in the API as
``/<modality>_<name>`` (``/image_gan``) with the parameters' own names.
"""

from __future__ import annotations

import html
import inspect
import logging
import random
import time

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
#text-coloured .token.highlighted { padding: 0; margin: 0; border-radius: 0; }
#text-coloured .textfield { font-family: var(--font-mono); line-height: 1.7; }
.genai-bars table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.genai-bars td { padding: 2px 6px; vertical-align: middle; }
.genai-bars .tok { font-family: monospace; white-space: pre; width: 5em; }
.genai-bars .bar { height: 0.7em; border-radius: 2px; }
.genai-bars .model { background: #9ca3af; }
.genai-bars .sampled { background: #2563eb; }
.genai-bars tr.chosen { background: rgba(250, 204, 21, 0.25); font-weight: 600; }
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


def image_outputs(result) -> tuple:
    return to_gallery(result), format_info(result.info, len(result.images)), result.process


def concurrency(adapter: ModelAdapter) -> dict:
    """Queue settings of a model's event: heavy models share one slot on the CPU; light ones run side by side."""
    if adapter.heavy:
        return {"concurrency_limit": 1, "concurrency_id": "heavy"}
    return {"concurrency_limit": adapter.concurrency}


def make_handler(adapter: ModelAdapter, outputs=image_outputs, min_interval: float = 0.0):
    """A Gradio event function for one model, with the model's parameter names as its signature.

    It streams: every intermediate result updates the output (at most one every ``min_interval`` seconds, the
    first at once); the final one also fills the process view's state. ``outputs`` turns a result into the
    values of the tab's output components.
    """

    def handler(*values):
        params = dict(zip((p.name for p in adapter.params), values))
        last = -float("inf")
        updates, finished = 0, False
        try:
            for result in adapter.stream(**params):
                now = time.perf_counter()
                if result.done or now - last >= min_interval:
                    last = now
                    updates += 1
                    yield outputs(result)
            finished = True
        except GenAIError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # a bug or a fault: log it for the operator, one line for the user
            log.exception("generation failed for %s", adapter.id)
            raise gr.Error(f"{adapter.id} failed: {type(e).__name__}: {str(e)[:200]}", print_exception=False) from None
        finally:
            if not finished and updates:  # Gradio closed the generator: the visitor left or pressed Stop
                log.warning("%s stopped after %d updates: the client cancelled or disconnected", adapter.id, updates)

    handler.__name__ = api_name(adapter.id)
    handler.__signature__ = inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for p in adapter.params]
    )
    return handler


NO_PROCESS = "This model draws in a single pass through its network: there are no intermediate steps to show."


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


def show_frame(process: list, index) -> tuple:
    """The process view for one frame: its label and its named pictures."""
    if not process:
        return gr.Markdown(NO_PROCESS), gr.Image(value=None, visible=False)
    frame = process[max(0, min(int(index or 0), len(process) - 1))]
    return gr.Markdown(f"**{frame['label']}**"), gr.Image(value=compose_frame(frame["images"]), visible=True)


def reset_process(process: list) -> tuple:
    """After a generation: the scrubber spans its frames and shows the last one."""
    last = max(0, len(process) - 1)
    return (gr.Slider(minimum=0, maximum=max(1, last), value=last, visible=bool(process)), *show_frame(process, last))


def model_panel(adapter: ModelAdapter, outputs: list, visible: bool, handler=None, stoppable: bool = False) -> tuple:
    """Controls and Generate button of one model, built from its declared parameters.

    Returns the panel, the Generate event and, if ``stoppable``, the Stop button's event (else None).
    """
    with gr.Column(visible=visible) as panel:
        gr.Markdown(f"### {adapter.title}\n{adapter.description}")
        reason = adapter.unavailable_reason()
        if reason:
            gr.Markdown(f"**Unavailable:** {reason}")
        controls = [seed_control(p) if p.name == "seed" else make_control(p) for p in adapter.params]
        with gr.Row():
            button = gr.Button("Generate", variant="primary", interactive=reason is None)
            stop = gr.Button("Stop", variant="stop", interactive=reason is None) if stoppable else None
        # preprocess=False: raw values reach the contract's validation, whose messages name the parameter and its range.
        event = button.click(handler or make_handler(adapter), controls, outputs, api_name=api_name(adapter.id),
                             preprocess=False, **concurrency(adapter))
        stopped = stop.click(None, None, None, cancels=[event], api_visibility="private", queue=False) if stop else None
    return panel, event, stopped


def modality_tab(modality: str, models: list[ModelAdapter]) -> None:
    if modality == "text":
        return text_tab(models)
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
                frame_gallery = gr.Image(type="pil", format="png", show_label=False, interactive=False, visible=False,
                                         elem_id=f"{modality}-process", elem_classes=["genai-process"])
    panels = [panel for panel, *_ in built]
    for _, event, _ in built:
        event.then(reset_process, process, [scrubber, frame_label, frame_gallery], api_visibility="private", queue=False)
    scrubber.input(show_frame, [process, scrubber], [frame_label, frame_gallery], api_visibility="private", queue=False)
    picker.change(lambda mid: [gr.Column(visible=(m.id == mid)) for m in models], picker, panels,
                  api_visibility="private", queue=False)


# -- the text tab ------------------------------------------------------------------------------------------------

TEXT_STREAM_INTERVAL = 0.05  # seconds between streamed text updates (the first token is sent at once)
NO_TOKENS = "Generate some text: then each token it wrote is coloured here by how likely the model thought it was."
LIKELIHOOD = {  # bucket name -> (lowest probability, colour), for colouring the text
    "likely (50% or more)": (0.5, "#86efac"),
    "possible (10-50%)": (0.1, "#fde68a"),
    "surprising (under 10%)": (0.0, "#fca5a5"),
}


def format_text_info(info: dict) -> str:
    parts = [f"**{info['model']}**", f"seed {info['seed']}"]
    n = info.get("new_tokens")
    if n is not None:
        parts.append(f"{n} token{'s' if n != 1 else ''}")
    parts.append(f"{info['seconds'] * 1000:.1f} ms")
    if n and info["seconds"] > 0:
        parts.append(f"{n / info['seconds']:.0f} tokens/s")
    if info.get("parameters"):
        parts.append(f"{info['parameters']:,} parameters")
    if info.get("weights_version"):
        parts.append(f"weights {info['weights_version']}")
    line = " · ".join(parts)
    for note in info.get("notes") or ():
        line += f"  \nNote: {note}"
    return line


def text_outputs(result) -> tuple:
    """Output box, info line, and the state the next-token view reads: the prompt and one frame per token."""
    state = {"prompt": result.info.get("params", {}).get("prompt", ""), "frames": result.process}
    return result.text, format_text_info(result.info), state


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


def show_token(state: dict | None, position) -> tuple:
    """The next-token view for one generated position (1 = the first generated token): label and candidates' bars."""
    frames = (state or {}).get("frames") or []
    if not frames:
        return gr.Markdown(NO_TOKENS), ""
    frame = frames[max(0, min(int(position or 1) - 1, len(frames) - 1))]
    return gr.Markdown(f"**{html.escape(frame['label'])}**"), candidate_bars(frame)


def reset_text_process(state: dict | None) -> tuple:
    """After a generation (or a Stop): colour the text, and show the first token's candidates."""
    frames = (state or {}).get("frames") or []
    return (gr.Slider(minimum=1, maximum=max(2, len(frames)), value=1, visible=bool(frames)),
            *show_token(state, 1), coloured_text(state))


def select_token(state: dict | None, evt: gr.SelectData) -> tuple:
    """A click on a token of the coloured text shows that token's candidates."""
    position = (evt.index if isinstance(evt.index, int) else 0) + 1
    position -= 1 if (state or {}).get("prompt") else 0  # the prompt is the first, uncoloured span
    if position < 1:
        return gr.skip(), gr.skip(), gr.skip()
    return gr.Slider(value=position), *show_token(state, position)


def text_tab(models: list[ModelAdapter]) -> None:
    """The text tab: the text streams into one box; below it, the next-token view of every generated position."""
    first = next((m for m in models if m.unavailable_reason() is None), models[0])
    output = gr.Textbox(label="Output", lines=12, max_lines=30, interactive=False, autoscroll=True, buttons=["copy"],
                        elem_id="text-output", render=False)
    info = gr.Markdown(elem_id="text-info", elem_classes=["genai-info"], render=False)
    process = gr.State({})
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker = gr.Radio([(f"{m.family}: {m.id}", m.id) for m in models], value=first.id, label="Model")
            built = [model_panel(m, [output, info, process], visible=(m is first), stoppable=True,
                                 handler=make_handler(m, text_outputs, TEXT_STREAM_INTERVAL)) for m in models]
        with gr.Column(scale=3):
            output.render()
            info.render()
            with gr.Accordion("How it was written", open=True):
                gr.Markdown("Each token the model wrote is coloured by the probability the model gave it. Click a "
                            "token, or drag the slider, to see the candidates it was drawn from: grey bars are the "
                            "model's own probabilities, blue bars what temperature, top-k and top-p made of them.")
                coloured = gr.HighlightedText(label="Text coloured by likelihood", show_legend=True,
                                              show_inline_category=False, combine_adjacent=False,
                                              color_map={name: colour for name, (_, colour) in LIKELIHOOD.items()},
                                              elem_id="text-coloured", interactive=False)
                token_label = gr.Markdown(NO_TOKENS)
                scrubber = gr.Slider(1, 2, value=1, step=1, label="Token", visible=False,
                                     info="Drag to move through the generated tokens, from the first to the last.")
                bars = gr.HTML(elem_id="text-bars")
    panels = [panel for panel, *_ in built]
    for _, event, stopped in built:
        for finished in (event, stopped):  # after the last token, or after Stop: show what was written so far
            finished.then(reset_text_process, process, [scrubber, token_label, bars, coloured],
                          api_visibility="private", queue=False)
    scrubber.input(show_token, [process, scrubber], [token_label, bars], api_visibility="private", queue=False)
    coloured.select(select_token, process, [scrubber, token_label, bars], api_visibility="private", queue=False)
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
                galleries.append(gr.Gallery(columns=2, height="auto", object_fit="contain", format="png", show_label=False,
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
    button.click(run_compare, controls, galleries + notes, api_name="image_compare", preprocess=False,
                 concurrency_limit=1, concurrency_id="heavy")  # it runs all four models


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
