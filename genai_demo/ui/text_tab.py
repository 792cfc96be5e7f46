"""The text tab: the text streams into one box; below it, the next-token view of every generated position."""

from __future__ import annotations

import html

import gradio as gr

from genai_demo import i18n
from genai_demo.contract import GenAIError, ModelAdapter
from genai_demo.ui import errors
from genai_demo.ui.common import info_line, t
from genai_demo.ui.explain import explain_section, how_button, open_on
from genai_demo.ui.panel import TabParts, first_available, picker_and_panels


TEXT_STREAM_INTERVAL = 0.05  # seconds between streamed text updates (the first token is sent at once)
# category -> (lowest probability, colour), for colouring the text by how surprised the model was (-log2 p, in
# bits); the legend names them. The colours are ColorBrewer's RdYlBu, a scale that stays ordered for red-green and
# blue-yellow colour blindness, light enough for black text; the legend says each level in words too.
LIKELIHOOD = {
    "expected": (0.5, "#abd9e9"),  # under 1 bit
    "possible": (0.125, "#ffffbf"),  # 1 to 3 bits
    "surprising": (1 / 64, "#fdae61"),  # 3 to 6 bits
    "very_surprising": (0.0, "#f46d43"),  # 6 bits or more
}
MAX_ATTENTION_TEXT = 4000  # the longest text the attention view reads (a long prompt and what followed)
ATTENTION_SHOWN = 40  # characters shown before the picked position; earlier ones are summed in one column


def format_text_info(info: dict, lang: str = "en") -> str:
    n = info.get("new_tokens")
    count = i18n.message("info:tokens" if n != 1 else "info:token", lang, n=n) if n is not None else None
    rate = (i18n.message("info:tokens_per_s", lang, rate=n / info["seconds"]),) if n and info["seconds"] > 0 else ()
    if info.get("scored_chars") is not None:  # a scored text: its perplexity beside held-out Shakespeare's
        count = i18n.message("score:info:chars", lang, n=info["scored_chars"])
        if info.get("perplexity") is not None:
            rate = (i18n.message("score:info:perplexity", lang, ppl=info["perplexity"], bits=info["bits_per_char"]),)
            if info.get("heldout_perplexity") is not None:
                rate += (i18n.message("score:info:heldout", lang, ppl=info["heldout_perplexity"]),)
    line = info_line(info, lang, count, rate)
    for note in info.get("notes") or ():
        line += "  \n" + i18n.message("info:note", lang, note=i18n.said(note, lang))
    return line


def text_outputs(result, lang: str = "en") -> tuple:
    """The prompt and what the model wrote after it, and a line naming the model, seed, tokens and speed.

    (Then the state the next-token view reads: the prompt and one frame per token.)"""
    state = {"prompt": result.info.get("params", {}).get("prompt", ""), "frames": result.process}
    return result.text, format_text_info(result.info, lang), state


def likelihood(p: float | None) -> str | None:
    """The colour category of a probability (None: a character the model did not score, left uncoloured)."""
    if p is None:
        return None
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


def candidate_bars(frame: dict, lang: str = "en") -> str:
    """HTML bars for one position: each candidate's probability by the model (grey) and as sampled (blue)."""
    say = lambda key, **values: html.escape(i18n.message(key, lang, **values))  # noqa: E731
    rows = []
    for c in frame["candidates"]:
        chosen = f" \u25c0 {say('text:bars:chosen')}" if c["chosen"] else ""
        rows.append(
            f'<tr class="{"chosen" if c["chosen"] else ""}"><td class="tok">{html.escape(shown_token(c["token"]))}</td>'
            f'<td style="width:38%"><div class="bar model" style="width:{c["p_model"] * 100:.1f}%"></div></td>'
            f'<td>{c["p_model"]:.1%}</td>'
            f'<td style="width:38%"><div class="bar sampled" style="width:{c["p_sampled"] * 100:.1f}%"></div></td>'
            f'<td>{c["p_sampled"]:.1%}{chosen}</td></tr>')
    note = say("text:bars:kept", kept=frame["kept"], vocab=frame["vocab_size"])
    if frame.get("context_cut"):
        note += " " + say("text:bars:cut")
    return (f'<div class="genai-bars"><table><tr><th>{say("text:bars:token")}</th>'
            f'<th colspan="2">{say("text:bars:model")}</th><th colspan="2">{say("text:bars:sampled")}</th></tr>'
            + "".join(rows) + f"</table><p>{note}</p></div>")


def show_token(state: dict | None, position, request: gr.Request = None) -> tuple:
    """The next-token view for one generated position (1 = the first generated token): label and candidates' bars."""
    lang = i18n.language_of(request)
    frames = (state or {}).get("frames") or []
    if not frames:
        return gr.Markdown(i18n.message("ui:no_tokens", lang)), ""
    frame = frames[max(0, min(int(position or 1) - 1, len(frames) - 1))]
    bars = candidate_bars(frame, lang) if frame["candidates"] else ""
    return gr.Markdown(f"**{html.escape(i18n.said(frame['label'], lang))}**"), bars


def reset_text_process(state: dict | None, request: gr.Request = None) -> tuple:
    """After a generation (or a Stop): colour the text, and show the first token's candidates."""
    frames = (state or {}).get("frames") or []
    return (gr.Slider(minimum=1, maximum=max(2, len(frames)), value=1, visible=bool(frames)),
            *show_token(state, 1, request), coloured_text(state))


def select_token(state: dict | None, evt: gr.SelectData, request: gr.Request = None) -> tuple:
    """A click on a token of the coloured text shows that token's candidates."""
    position = (evt.index if isinstance(evt.index, int) else 0) + 1
    position -= 1 if (state or {}).get("prompt") else 0  # the prompt is the first, uncoloured span
    if position < 1:
        return gr.skip(), gr.skip(), gr.skip()
    return gr.Slider(value=position), *show_token(state, position, request)


def weight_colour(w: float) -> str:
    """White for no attention to dark blue for all of it (ColorBrewer's Blues: one hue, readable in grey and by
    colour-blind eyes); the square root lets weak attention show."""
    x = max(0.0, min(1.0, w)) ** 0.5
    low, high = (247, 251, 255), (8, 48, 107)
    return "rgb({},{},{})".format(*(round(a + (b - a) * x) for a, b in zip(low, high)))


def attention_table(view: dict, lang: str = "en") -> str:
    """HTML: one row per layer and head, one column per character before the picked one (the oldest summed in the
    first column), each cell shaded by the attention weight, and where each row looks most."""
    say = lambda key, **values: html.escape(i18n.message(key, lang, **values), quote=False)  # noqa: E731
    chars, layers = view["chars"], view["weights"]
    shown = min(len(chars), ATTENTION_SHOWN)
    first = len(chars) - shown  # columns before this are summed into one "earlier" column
    head_cells = ([f'<th class="earlier">{say("attention:earlier")}</th>'] if first else [])
    head_cells += [f'<th class="tok">{html.escape(shown_token(c))}</th>' for c in chars[first:]]
    rows = []
    for li, layer in enumerate(layers, start=1):
        for hi, weights in enumerate(layer, start=1):
            name = say("attention:row", layer=li, head=hi)
            cells = []
            if first:
                w = sum(weights[:first])
                cells.append(f'<td style="background:{weight_colour(w)}" title="{w:.0%}"></td>')
            for c, w in zip(chars[first:], weights[first:]):
                label = html.escape(f"{shown_token(c)}: {w:.0%}")
                cells.append(f'<td style="background:{weight_colour(w)}" title="{label}"></td>')
            top = max(range(len(weights)), key=weights.__getitem__)
            most = say("attention:most", char=shown_token(chars[top]), back=len(chars) - 1 - top, p=weights[top])
            rows.append(f"<tr><th>{name}</th>{''.join(cells)}<td class='most'>{most}</td></tr>")
    picked = chars[-1]
    intro = say("attention:picked", n=view["position"], char=shown_token(picked))
    if view.get("cut"):
        intro += " " + say("attention:cut", n=len(chars) - 1)
    return (f'<div class="genai-attention"><p>{intro}</p><table><tr><th></th>{"".join(head_cells)}'
            f'<th>{say("attention:most_header")}</th></tr>{"".join(rows)}</table>'
            f'<p class="scale">{say("attention:scale")}</p></div>')


def attention_view(scorer: ModelAdapter):
    """The attention view's event function: the text shown and a position -> every layer's and head's attention.
    It is also the API's ``/text_attention`` (English lines naming the parameter for a bad value)."""

    def text_attention(text: str, position: float, request: gr.Request = None) -> str:
        """Each layer's and head's attention of the Shakespeare GPT at one character of a text, over the characters
        before it.

        Args:
            text: The text, at most 4,000 characters (the Text tab's output box).
            position: Which character (1 = the first) to look from.

        Returns:
            An HTML table: a row per layer and head, a column per character, shaded by attention weight.
        """
        lang = i18n.language_of(request)
        try:
            return attention_table(scorer.attention(text, position), lang)
        except GenAIError as e:
            raise gr.Error(errors.for_caller(e, request, "text_attention"), print_exception=False) from None

    return text_attention


def attention_section(scorer: ModelAdapter, output: gr.Textbox) -> tuple:
    """The attention view (closed at first): a position, a button, the table. Returns (position, table, event fn)."""
    with gr.Accordion(t("attention:title"), open=False, elem_id="text-attention-box"):
        gr.Markdown(t("attention:intro"))
        with gr.Row(equal_height=True):
            position = gr.Number(value=1, minimum=1, maximum=MAX_ATTENTION_TEXT, precision=0, step=1,
                                 label=t("attention:position"), info=t("attention:position:info"),
                                 elem_id="text-attention-position")
            show = gr.Button(t("attention:show"), scale=0, min_width=160, elem_id="text-attention-show")
        table = gr.HTML(elem_id="text-attention")
    fn = attention_view(scorer)
    # preprocess=False: the raw values reach the adapter's own checks, whose lines name the parameter and its range.
    show.click(fn, [output, position], table, api_name="text_attention", concurrency_limit=2, preprocess=False)
    return position, table, fn


def character_position(state: dict | None, evt: gr.SelectData):
    """The position in the output text (1 = its first character) of the clicked span of the coloured text."""
    index = evt.index if isinstance(evt.index, int) else 0
    spans = coloured_text(state)
    return max(1, sum(len(text) for text, _ in spans[:index]) + 1)


def text_tab(models: list[ModelAdapter]) -> TabParts:
    """The text tab: the text streams into one box; below it, the next-token view of every generated position."""
    output = gr.Textbox(label=t("ui:output"), lines=12, max_lines=30, interactive=False, autoscroll=True,
                        buttons=["copy"], elem_id="text-output", render=False)
    info = gr.Markdown(elem_id="text-info", elem_classes=["genai-info"], render=False)
    process = gr.State({})
    outputs = [output, info, process]
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker, panels = picker_and_panels(models, outputs, text_outputs, TEXT_STREAM_INTERVAL, stoppable=True)
        with gr.Column(scale=3):
            output.render()
            info.render()
            how = how_button()
            with gr.Accordion(t("ui:how_written"), open=True):
                gr.Markdown(t("ui:how_written:intro"))
                gr.Markdown(t("text:legend"), elem_classes=["genai-legend"])
                coloured = gr.HighlightedText(label=t("ui:coloured"), show_legend=False,
                                              show_inline_category=False, combine_adjacent=False,
                                              color_map={name: colour for name, (_, colour) in LIKELIHOOD.items()},
                                              elem_id="text-coloured", interactive=False)
                token_label = gr.Markdown(t("ui:no_tokens"))
                scrubber = gr.Slider(1, 2, value=1, step=1, label=t("ui:token"), visible=False, info=t("ui:token:info"))
                bars = gr.HTML(elem_id="text-bars")
            # The attention view reads whatever the output box shows, with a model that can show its attention.
            scorer = next((m for m in models if hasattr(m, "attention") and m.unavailable_reason() is None), None)
            attention = attention_section(scorer, output) if scorer is not None else None
    open_on(how, explain_section("text", models), "text")

    def finish(event) -> None:  # after the last token, or after Stop: show what was written so far
        if event is not None:
            event.then(reset_text_process, process, [scrubber, token_label, bars, coloured],
                       api_visibility="private", queue=False)

    for p in panels:
        finish(p.event)
        finish(p.stopped)
    scrubber.input(show_token, [process, scrubber], [token_label, bars], api_visibility="private", queue=False)
    coloured.select(select_token, process, [scrubber, token_label, bars], api_visibility="private", queue=False)
    if attention is not None:  # a click on a character also looks from there
        position, table, fn = attention
        coloured.select(character_position, [process], position, api_visibility="private", queue=False).then(
            fn, [output, position], table, api_visibility="private", concurrency_limit=2, preprocess=False)
    return TabParts(first_available(models), picker, panels, outputs, text_outputs, finish)
