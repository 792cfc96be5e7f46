"""The text tab: the text streams into one box; below it, the next-token view of every generated position."""

from __future__ import annotations

import html

import gradio as gr

from genai_demo import i18n
from genai_demo.contract import ModelAdapter
from genai_demo.ui.common import info_line, t
from genai_demo.ui.explain import explain_section, how_button, open_on
from genai_demo.ui.panel import TabParts, first_available, picker_and_panels


TEXT_STREAM_INTERVAL = 0.05  # seconds between streamed text updates (the first token is sent at once)
LIKELIHOOD = {  # category -> (lowest probability, colour), for colouring the text; the legend names them
    "likely": (0.5, "#86efac"),
    "possible": (0.1, "#fde68a"),
    "surprising": (0.0, "#fca5a5"),
}


def format_text_info(info: dict, lang: str = "en") -> str:
    n = info.get("new_tokens")
    count = i18n.message("info:tokens" if n != 1 else "info:token", lang, n=n) if n is not None else None
    rate = (i18n.message("info:tokens_per_s", lang, rate=n / info["seconds"]),) if n and info["seconds"] > 0 else ()
    line = info_line(info, lang, count, rate)
    for note in info.get("notes") or ():
        line += "  \n" + i18n.message("info:note", lang, note=note)
    return line


def text_outputs(result, lang: str = "en") -> tuple:
    """The prompt and what the model wrote after it, and a line naming the model, seed, tokens and speed.

    (Then the state the next-token view reads: the prompt and one frame per token.)"""
    state = {"prompt": result.info.get("params", {}).get("prompt", ""), "frames": result.process}
    return result.text, format_text_info(result.info, lang), state


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
    return gr.Markdown(f"**{html.escape(i18n.said(frame['label'], lang))}**"), candidate_bars(frame, lang)


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
    return TabParts(first_available(models), picker, panels, outputs, text_outputs, finish)
