"""The "How it works" section under the image tab's outputs: one sub-tab per family, and how each model trained.

- GAN: the discriminator's score of each generated digit; a walk through latent space between two seeds, as an
  animated GIF and a strip of frames.
- VAE: a clickable 2-D map of the latent space with real digits placed where the encoder puts them; a morph
  from one digit into another.
- Diffusion and autoregressive: the last generation's process (already scrubbable in "How it was drawn") as a
  downloadable animated GIF.
- Training: every shipped model's loss curves and the samples it saved while training (text models included).

The pictures and numbers come from ``genai_demo.explain`` (no gradio there). Every event is private (not an API
endpoint). Its words are the ``explain:`` keys of ``genai_demo/locales/``.
"""

from __future__ import annotations

import functools
import logging

import gradio as gr

from genai_demo.contract import MAX_SEED, GenAIError
from genai_demo import i18n
from genai_demo.ui import errors
from genai_demo.explain.real import source_text
from genai_demo.explain.training import loss_name, training_data  # noqa: F401 (tests read training_data here)
from genai_demo.ui.common import t

log = logging.getLogger(__name__)

DIGITS = tuple(str(d) for d in range(10))
GIF_SCALE = 6  # 28x28 digits are animated at 168x168, nearest-neighbour
DECODED_SCALE = 8  # the decoded point is shown at 224x224

_t = t  # a page string: a key the browser translates


_msg = i18n.message_for  # a handler's message, in the visitor's language


def _guarded(fn):
    """Errors meant for the user become one-line Gradio errors; anything else is logged and summarised."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GenAIError as e:
            request = kwargs.get("request") or next((a for a in args if isinstance(a, gr.Request)), None)
            raise gr.Error(errors.for_page(e, i18n.language_of(request)), print_exception=False) from None
        except Exception as e:  # a bug or a fault: the operator gets the traceback, the visitor one line
            log.exception("explain view %s failed", fn.__name__)
            request = kwargs.get("request") or next((a for a in args if isinstance(a, gr.Request)), None)
            raise gr.Error(_msg("explain:failed", request, what=fn.__name__,
                                error=f"{type(e).__name__}: {str(e)[:200]}"), print_exception=False) from None

    return run


def _seed_box(label_key: str, value: int, info_key: str | None = None) -> gr.Number:
    return gr.Number(value=value, minimum=0, maximum=MAX_SEED, step=1, precision=0, label=_t(label_key),
                     info=_t(info_key) if info_key else None)


def _animation_row(elem_id: str) -> tuple:
    """An animated GIF beside its frames as a strip, with a note under the strip."""
    with gr.Row():
        animation = gr.Image(type="filepath", label=_t("explain:animation"), interactive=False, height=220,
                             elem_id=elem_id, elem_classes=["genai-process"])
        with gr.Column(scale=2):
            strip = gr.Image(type="pil", format="png", label=_t("explain:strip"), interactive=False,
                             elem_classes=["genai-process"])
            note = gr.Markdown()
    return animation, strip, note


def _frames_slider(value: int = 24) -> gr.Slider:
    return gr.Slider(2, 60, value=value, step=1, label=_t("explain:frames"), info=_t("explain:frames:info"))


def _animation(frames: list, captions: list[str] | None = None, bounce: bool = True) -> tuple:
    """An animated GIF of the frames (a file path) and a strip of up to 8 of them, captioned."""
    from genai_demo.explain import frames as fr

    gif = fr.save_gif([fr.upscale(f, GIF_SCALE) for f in frames], duration_ms=100, bounce=bounce)
    return str(gif), fr.frame_strip(frames, captions)


# -- GAN ----------------------------------------------------------------------------------------------------------

def score_view(adapter, seed, num_images, label, truncation, request: gr.Request = None) -> tuple:
    """Gallery of generated digits captioned with D's score, and a summary against real digits and static."""
    from genai_demo.explain import gan
    from genai_demo.explain.frames import upscale

    s = gan.score_generated(adapter, seed=seed, num_images=num_images, label=label, truncation=truncation)
    items = [(upscale(im, 4), _msg("explain:gan:caption", request, digit=d, score=p))
             for im, d, p in zip(s.images, s.labels, s.scores)]
    source = source_text(s.real_source, request)
    real = (_msg("explain:gan:real", request, score=s.real_score, source=source) if s.real_score is not None
            else _msg("explain:gan:no_real", request, source=source))
    summary = _msg("explain:gan:summary", request, n=len(s.scores), mean=sum(s.scores) / len(s.scores),
                   low=min(s.scores), high=max(s.scores), real=real, noise=s.noise_score)
    return items, summary


def walk_view(adapter, seed_a, seed_b, label, num_frames, request: gr.Request = None) -> tuple:
    """The latent walk as a GIF, a strip of frames with D's scores, and a one-line note."""
    from genai_demo.explain import gan

    w = gan.latent_walk(adapter, seed_a=seed_a, seed_b=seed_b, label=label, num_frames=num_frames)
    gif, strip = _animation(w.frames, [f"D {p:.2f}" for p in w.scores])
    low, high = min(range(len(w.scores)), key=w.scores.__getitem__), max(range(len(w.scores)), key=w.scores.__getitem__)
    note = _msg("explain:gan:walk_note", request, n=len(w.frames), low=w.scores[low], low_at=low + 1,
                high=w.scores[high], high_at=high + 1)
    return gif, strip, note


def gan_view(adapter) -> None:
    from genai_demo.explain.gan import SCORE_PARAMS
    from genai_demo.ui.panel import concurrency

    gr.Markdown(_t("explain:gan:intro"))
    with gr.Row(equal_height=True):
        seed = _seed_box("explain:seed", 0, "explain:gan:seed:info")
        label = gr.Dropdown([(t("ui:choice:any"), c) if c == "any" else c for c in SCORE_PARAMS[2].choices],
                            value="any", label=_t("explain:digit"))
        num = gr.Slider(1, 32, value=8, step=1, label=_t("explain:gan:num_images"))
        truncation = gr.Slider(0, 2, value=1.0, step=0.05, label=_t("explain:gan:truncation"),
                               info=_t("explain:gan:truncation:info"))
    score_button = gr.Button(_t("explain:gan:score"), variant="primary")
    scored = gr.Gallery(label=_t("explain:gan:scored"), columns=8, height="auto", object_fit="contain", format="png",
                        elem_id="explain-gan-scores", elem_classes=["genai-gallery"], interactive=False)
    summary = gr.Markdown(elem_id="explain-gan-summary")
    gr.Markdown(_t("explain:gan:walk_intro"))
    with gr.Row(equal_height=True):
        seed_a = _seed_box("explain:gan:seed_a", 1)
        seed_b = _seed_box("explain:gan:seed_b", 2)
        walk_digit = gr.Dropdown(list(DIGITS), value="3", label=_t("explain:digit"))
        frames = _frames_slider()
    walk_button = gr.Button(_t("explain:gan:walk"), variant="primary")
    animation, strip, note = _animation_row("explain-gan-walk")

    @_guarded
    def ask_discriminator(seed, num_images, label, truncation, request: gr.Request):
        return score_view(adapter, seed, num_images, label, truncation, request)

    @_guarded
    def walk(seed_a, seed_b, label, num_frames, request: gr.Request):
        return walk_view(adapter, seed_a, seed_b, label, num_frames, request)

    settings = dict(api_visibility="private", **concurrency(adapter))
    score_button.click(ask_discriminator, [seed, num, label, truncation], [scored, summary], **settings)
    walk_button.click(walk, [seed_a, seed_b, walk_digit, frames], [animation, strip, note], **settings)


# -- VAE ----------------------------------------------------------------------------------------------------------

def _where(adapter, decoded, label, request) -> str:
    from genai_demo.explain import vae

    lmap = vae.latent_map(adapter)
    return _msg("explain:vae:where", request, x=decoded.x, y=decoded.y, digit=label, source=source_text(lmap.source, request),
                share=lmap.explained, rest=max(0, lmap.codes.shape[1] - 2))


def map_view(adapter, label, show, x, y, request: gr.Request = None) -> tuple:
    """The map with a ring at (x, y), the digit decoded there, and what the map is."""
    from genai_demo.explain import vae
    from genai_demo.explain.frames import upscale

    decoded = vae.decode_point(adapter, label=label, x=x, y=y)
    image = vae.render_map(adapter, label, show, marker=(decoded.x, decoded.y))
    return image, upscale(decoded.image, DECODED_SCALE), _where(adapter, decoded, label, request)


def map_click(adapter, label, show, index, request: gr.Request = None) -> tuple:
    """A click on the map (``index``: its pixel, as Gradio's select event gives it) decodes the point under it;
    the sliders move there too."""
    from genai_demo.explain import vae

    index = index if isinstance(index, (list, tuple)) and len(index) == 2 else (None, None)
    decoded = vae.decode_pixel(adapter, label, *index)
    image, big, where = map_view(adapter, label, show, decoded.x, decoded.y, request)
    return image, big, where, decoded.x, decoded.y


def morph_view(adapter, digit_a, digit_b, seed, num_frames, request: gr.Request = None) -> tuple:
    from genai_demo.explain import vae

    m = vae.morph(adapter, digit_a=digit_a, digit_b=digit_b, seed=seed, num_frames=num_frames)
    gif, strip = _animation(m.frames)
    return gif, strip, _msg("explain:vae:morph_note", request, a=digit_a, b=digit_b, n=len(m.frames))


def legend_html() -> str:
    from genai_demo.explain.vae import COLOURS

    dots = "".join(f'<span style="display:inline-block;margin-right:10px"><span style="display:inline-block;width:'
                   f'10px;height:10px;border-radius:50%;border:1px solid #000;background:{c}"></span> {d}</span>'
                   for d, c in enumerate(COLOURS))
    return f'<div class="genai-legend">{dots}</div>'


def vae_view(adapter, section: gr.Accordion) -> None:
    from genai_demo.explain import vae
    from genai_demo.ui.panel import concurrency

    gr.Markdown(_t("explain:vae:intro"))
    with gr.Row(equal_height=True):
        digit = gr.Dropdown(list(DIGITS), value="3", label=_t("explain:digit"))
        show = gr.Radio([(_t(f"explain:vae:show:{key}"), value) for key, value in
                         zip(("all", "this", "none"), vae.SHOW_POINTS)], value="this digit",
                        label=_t("explain:vae:show"))
        draw_button = gr.Button(_t("explain:vae:draw"), variant="primary", scale=0, min_width=160)
    with gr.Row():
        with gr.Column(scale=3):
            the_map = gr.Image(type="pil", format="png", label=_t("explain:vae:map"), interactive=False,
                               elem_id="explain-vae-map", elem_classes=["genai-process"])
            gr.Markdown(_t("explain:vae:legend"))
            gr.HTML(legend_html())
        with gr.Column(scale=2):
            decoded = gr.Image(type="pil", format="png", label=_t("explain:vae:decoded"), interactive=False,
                               height=240, elem_id="explain-vae-decoded", elem_classes=["genai-process"])
            where = gr.Markdown(elem_id="explain-vae-where")
            x = gr.Slider(-vae.EXTENT, vae.EXTENT, value=0.0, step=0.1, label=_t("explain:vae:x"),
                          info=_t("explain:vae:x:info"))
            y = gr.Slider(-vae.EXTENT, vae.EXTENT, value=0.0, step=0.1, label=_t("explain:vae:y"),
                          info=_t("explain:vae:y:info"))
    gr.Markdown(_t("explain:vae:morph_intro"))
    with gr.Row(equal_height=True):
        digit_a = gr.Dropdown(list(DIGITS), value="1", label=_t("explain:vae:digit_a"))
        digit_b = gr.Dropdown(list(DIGITS), value="7", label=_t("explain:vae:digit_b"))
        morph_seed = _seed_box("explain:seed", 0, "explain:vae:morph_seed:info")
        frames = _frames_slider()
    morph_button = gr.Button(_t("explain:vae:morph"), variant="primary")
    animation, strip, note = _animation_row("explain-vae-morph")

    @_guarded
    def draw_map(label, show, x, y, request: gr.Request):
        return map_view(adapter, label, show, x, y, request)

    @_guarded
    def click_map(label, show, evt: gr.SelectData, request: gr.Request):
        return map_click(adapter, label, show, evt.index, request)

    @_guarded
    def make_morph(digit_a, digit_b, seed, num_frames, request: gr.Request):
        return morph_view(adapter, digit_a, digit_b, seed, num_frames, request)

    settings = dict(api_visibility="private", **concurrency(adapter))
    gr.on([draw_button.click, digit.change, show.change, x.release, y.release, section.expand], draw_map,
          [digit, show, x, y], [the_map, decoded, where], **settings)
    the_map.select(click_map, [digit, show], [the_map, decoded, where, x, y], **settings)
    morph_button.click(make_morph, [digit_a, digit_b, morph_seed, frames], [animation, strip, note], **settings)


# -- the generating process ---------------------------------------------------------------------------------------

def process_export(process: list | None, request: gr.Request = None) -> tuple:
    """The last generation's process frames (diffusion steps, PixelCNN rows) as an animated GIF to show and keep."""
    from genai_demo.explain.frames import out_dir, process_animation

    if not process:
        return None, None, _msg("explain:process:empty", request)
    import uuid

    path = process_animation(process, out_dir() / f"generation-process-{uuid.uuid4().hex[:8]}.gif")
    return str(path), str(path), _msg("explain:process:done", request, n=len(process))


def process_view(process: gr.State, prefix: str = "") -> None:
    gr.Markdown(_t("explain:process:intro"))
    button = gr.Button(_t("explain:process:export"), variant="primary")
    with gr.Row():
        preview = gr.Image(type="filepath", label=_t("explain:animation"), interactive=False, height=360,
                           elem_id=f"{prefix}explain-process-gif", elem_classes=["genai-process"])
        with gr.Column():
            download = gr.File(label=_t("explain:process:file"), interactive=False, elem_id=f"{prefix}explain-process-file")
            note = gr.Markdown()
    button.click(_guarded(process_export), process, [preview, download, note], api_visibility="private",
                 concurrency_limit=2)


# -- training -----------------------------------------------------------------------------------------------------

def training_update(weights_root, name, request: gr.Request = None, first: tuple[str, ...] = ()) -> tuple:
    about, table, images, texts = training_data(weights_root, name, request, first)
    lang = i18n.language_of(request)
    if len(table):
        names = {k: loss_name(k, lang) for k in set(table["series"])}
        table = table.assign(series=table["series"].map(names))
    plot = gr.LinePlot(value=table, x_title=_msg("explain:training:x", request), y_title=_msg("explain:training:y", request))
    return (about, plot, gr.Gallery(value=images, visible=bool(images)), gr.Textbox(value=texts, visible=bool(texts)))


def training_view(weights_root, section: gr.Accordion, first: tuple[str, ...] = (), prefix: str = "") -> None:
    """``first``: weights folders to list first (this tab's models, in the registry's order); ``prefix`` keeps the
    element ids of each tab's copy apart."""
    from genai_demo.explain import training

    names = training.logged_models(weights_root, first)
    gr.Markdown(_t("explain:training:intro"))
    picker = gr.Dropdown([(training.model_id(n), n) for n in names], value=names[0] if names else None,
                         label=_t("explain:training:model"), elem_id=f"{prefix}explain-training-model")
    about = gr.Markdown(elem_id=f"{prefix}explain-training-about")
    plot = gr.LinePlot(x="step", y="value", color="series", label=_t("explain:training:curves"),
                       x_title="step", y_title="loss", color_title="", elem_id=f"{prefix}explain-training-curves")
    samples = gr.Gallery(label=_t("explain:training:samples"), columns=5, height="auto", object_fit="contain",
                         format="png", interactive=False, elem_id=f"{prefix}explain-training-samples",
                         elem_classes=["genai-gallery"])
    texts = gr.Textbox(label=_t("explain:training:text_samples"), lines=14, max_lines=30, interactive=False,
                       visible=False, elem_id=f"{prefix}explain-training-text")

    @_guarded
    def show_training(name, request: gr.Request):
        return training_update(weights_root, name, request, first)

    gr.on([picker.change, section.expand], show_training, picker, [about, plot, samples, texts],
          api_visibility="private", queue=False)


# -- the section --------------------------------------------------------------------------------------------------

# The views a model can declare in ``ModelAdapter.explain_views``, by name; each is built with (adapter, its tab).
VIEWS = {"gan": lambda adapter, tab: gan_view(adapter), "vae": vae_view}


def explain_section(modality: str, models: list, process: gr.State | None = None) -> gr.Accordion:
    """The "How it works" section of a tab: the views its models declare, the process, and training, each a section
    of its own that computes when opened. Returns the section, which the tab opens from beside its result.

    ``process`` is the tab's state holding the last generation's process frames (``Result.process``).
    """
    weights_root = models[0].weights_root if models else None
    prefix = "" if modality == "image" else f"{modality}-"  # the image tab's copy keeps the plain ids
    with gr.Accordion(_t("explain:title"), open=False, elem_id=f"{modality}-explain") as whole:
        gr.Markdown(_t("explain:intro"))
        for adapter in models:  # each model's own views, as it declares them (``explain_views``)
            for view in adapter.explain_views:
                with gr.Accordion(_t(f"explain:tab:{view}"), open=False, elem_id=f"{modality}-explain-{view}") as part:
                    VIEWS[view](adapter, part)
        if process is not None:
            with gr.Accordion(_t("explain:tab:process"), open=False, elem_id=f"{modality}-explain-process"):
                process_view(process, prefix)
        if weights_root is not None:
            with gr.Accordion(_t("explain:tab:training"), open=False, elem_id=f"{modality}-explain-training") as part:
                training_view(weights_root, part, tuple(m.weights_dir.name for m in models), prefix)
    return whole


def how_button() -> gr.Button:
    """The button beside a result that opens "How it works" (``open_on`` wires it once the section exists)."""
    return gr.Button(_t("ui:how_it_works"), size="sm", variant="secondary", elem_classes=["genai-how"])


def open_on(button: gr.Button, section: gr.Accordion, modality: str) -> None:
    button.click(lambda: gr.Accordion(open=True), None, section, api_visibility="private", queue=False,
                 js=f"() => {{ setTimeout(() => document.getElementById('{modality}-explain')"
                    f"?.scrollIntoView({{behavior: 'smooth'}}), 100); }}")


__all__ = ["explain_section", "how_button", "open_on"]
