"""The audio tab: a player, the piano roll of what was written, MIDI and WAV downloads, and how it was written.

Models stream a growing piano roll while they write; the sound comes with the last update and plays at once.
Downloads are written to this process's own temporary folder (``export.scratch_dir``), from which Gradio copies
them into its cache; files older than an hour are removed from both (``delete_cache`` in ``build_demo``).
"""

from __future__ import annotations

import re
import uuid

import gradio as gr

from genai_demo.contract import ModelAdapter
from genai_demo.ui import i18n
from genai_demo.ui.blocks import format_info, make_handler, model_panel, model_picker, reset_process, show_frame
from genai_demo.ui.explain import explain_section
from genai_demo.ui.i18n import t

KEEP_SECONDS = 3600

i18n.register({
    "en": {
        "audio:listen": "Listen",
        "audio:roll": "Piano roll: time left to right, pitch bottom to top; soprano red, alto orange, tenor green, "
                      "bass blue",
        "audio:downloads": "Download (MIDI opens in any notation program or music app)",
        "audio:bar": "Bar",
        "audio:bar:info": "Drag to watch the piece grow, one bar at a time.",
    },
    "ko": {
        "audio:listen": "듣기",
        "audio:roll": "피아노 롤: 왼쪽에서 오른쪽으로 시간, 아래에서 위로 음높이; 소프라노 빨강, 알토 주황, 테너 초록, "
                      "베이스 파랑",
        "audio:downloads": "내려받기 (MIDI 파일은 악보 프로그램이나 음악 앱에서 열 수 있습니다)",
        "audio:bar": "마디",
        "audio:bar:info": "끌어서 곡이 한 마디씩 자라는 모습을 보세요.",
    },
})


i18n.register_messages({
    "en": {
        "audio:info:seconds": "{seconds:.1f} s of audio",
        "audio:info:notes": "{n} notes in {mode}",
        "audio:info:mode:major": "major", "audio:info:mode:minor": "minor",
        "audio:info:p_chosen": "average probability of the chosen tokens {p:.0%}",
        "audio:info:writing": "writing...",
    },
    "ko": {
        "audio:info:seconds": "오디오 {seconds:.1f}초",
        "audio:info:notes": "{mode} 음표 {n}개",
        "audio:info:mode:major": "장조", "audio:info:mode:minor": "단조",
        "audio:info:p_chosen": "고른 토큰의 평균 확률 {p:.0%}",
        "audio:info:writing": "쓰는 중...",
    },
})


def format_audio_info(info: dict, lang: str = "en") -> str:
    line = format_info(info, 0, lang)
    extra = []
    if info.get("audio_seconds"):
        extra.append(i18n.message("audio:info:seconds", lang, seconds=info["audio_seconds"]))
    if info.get("num_notes"):
        mode = info["mode"]
        if mode in ("major", "minor"):
            mode = i18n.message(f"audio:info:mode:{mode}", lang)
        extra.append(i18n.message("audio:info:notes", lang, n=info["num_notes"], mode=mode))
    if info.get("mean_p_chosen"):
        extra.append(i18n.message("audio:info:p_chosen", lang, p=info["mean_p_chosen"]))
    line += " · " + " · ".join(extra) if extra else ""
    for note in info.get("notes") or ():
        line += "  \n" + i18n.message("info:note", lang, note=note)
    return line


def save_downloads(result) -> list[str]:
    """The result's files (or, for a model that gives only sound, a WAV of it) as paths Gradio can serve."""
    from genai_demo.export import download_files, prune, scratch_dir

    files = download_files(result)
    if not files:
        return []

    downloads = scratch_dir("downloads")
    prune(downloads, KEEP_SECONDS)  # keep the folder small: outputs older than an hour go
    folder = downloads / uuid.uuid4().hex[:12]
    folder.mkdir()
    stem = re.sub(r"[^a-z0-9]+", "-", f"{result.info.get('model', 'audio')}-seed{result.info.get('seed')}".lower())
    paths = []
    for name, data in files.items():
        path = folder / f"{stem}-{name}"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def audio_outputs(result, lang: str = "en") -> tuple:
    """The sound, its piano roll (an image), the MIDI and WAV files, and a line naming the model, seed and notes.

    (Then the process view's frames.)"""
    if not result.done:
        roll = result.images[0] if result.images else None
        return (None, roll, None, format_audio_info(result.info, lang) + " · " + i18n.message("audio:info:writing", lang),
                result.process)
    roll = result.images[0] if result.images else None
    return (result.audio, roll, save_downloads(result) or None, format_audio_info(result.info, lang), result.process)


def audio_tab(models: list[ModelAdapter]) -> None:
    first = next((m for m in models if m.unavailable_reason() is None), models[0])
    player = gr.Audio(label=t("audio:listen"), type="numpy", autoplay=True, interactive=False, elem_id="audio-player",
                      render=False)
    roll = gr.Image(label=t("audio:roll"), type="pil", height=360, format="png", interactive=False, elem_id="audio-roll",
                    render=False)
    downloads = gr.File(label=t("audio:downloads"), file_count="multiple",
                        interactive=False, elem_id="audio-files", render=False)
    info = gr.Markdown(elem_id="audio-info", elem_classes=["genai-info"], render=False)
    process = gr.State([])
    outputs = [player, roll, downloads, info, process]
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker = model_picker(models, first)
            built = [model_panel(m, outputs, visible=(m is first), stoppable=True,
                                 handler=make_handler(m, audio_outputs, 0.2)) for m in models]
        with gr.Column(scale=3):
            player.render()
            roll.render()
            info.render()
            downloads.render()
            with gr.Accordion(t("ui:how_written"), open=False):
                frame_label = gr.Markdown(t("ui:no_process"))
                scrubber = gr.Slider(0, 1, value=0, step=1, label=t("audio:bar"), visible=False,
                                     info=t("audio:bar:info"))
                frame_image = gr.Image(type="pil", format="png", show_label=False, interactive=False, visible=False,
                                       elem_id="audio-process")
    explain_section("audio", models)  # the training curves and samples ("How it was written" shows the process)
    panels = [panel for panel, *_ in built]
    for _, event, stopped in built:
        for finished in (event, stopped):
            finished.then(reset_process, process, [scrubber, frame_label, frame_image], api_visibility="private",
                          queue=False)
    scrubber.input(show_frame, [process, scrubber], [frame_label, frame_image], api_visibility="private", queue=False)
    picker.change(lambda mid: [gr.Column(visible=(m.id == mid)) for m in models], picker, panels,
                  api_visibility="private", queue=False)
