"""The audio tab: a player, the piano roll of what was written, MIDI and WAV downloads, and how it was written.

Models stream a growing piano roll while they write; the sound comes with the last update, ready to play (it does
not start by itself: a class of laptops would all sound at once).
Downloads are written to this process's own temporary folder (``export.scratch_dir``), from which Gradio copies
them into its cache; files older than an hour are removed from both (``delete_cache`` in ``build_demo``).
"""

from __future__ import annotations

import re
import uuid

import gradio as gr

from genai_demo import i18n
from genai_demo.adapters.chorale import key_name
from genai_demo.contract import ModelAdapter
from genai_demo.export import packed_process
from genai_demo.ui import errors
from genai_demo.ui.common import format_info, t
from genai_demo.ui.explain import explain_section, how_button, open_on
from genai_demo.ui.panel import TabParts, first_available, picker_and_panels
from genai_demo.ui.process import process_view, wire_process_view

KEEP_SECONDS = 3600

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
    if info.get("key"):  # the key a harmonised melody was heard in and written in
        extra.append(i18n.message("audio:info:key", lang, name=key_name(info["key"], lang)))
    if info.get("mean_p_chosen"):
        extra.append(i18n.message("audio:info:p_chosen", lang, p=info["mean_p_chosen"]))
    line += " · " + " · ".join(extra) if extra else ""
    for note in info.get("notes") or ():
        line += "  \n" + i18n.message("info:note", lang, note=i18n.said(note, lang))
    return line


def save_downloads(result) -> list[str]:
    """The result's files (or, for a model that gives only sound, a WAV of it) as paths Gradio can serve."""
    from genai_demo.export import download_files, keep_pruned, scratch_dir

    files = download_files(result)
    if not files:
        return []

    downloads = scratch_dir("downloads")
    keep_pruned(downloads, KEEP_SECONDS)  # keep the folder small: outputs older than an hour go
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
    roll = result.images[0] if result.images else None
    if not result.done:
        return (None, roll, None, format_audio_info(result.info, lang) + " · " + i18n.message("audio:info:writing", lang),
                result.process)
    return (result.audio, roll, save_downloads(result) or None, format_audio_info(result.info, lang),
            packed_process(result))  # the session keeps the piano rolls packed (export.PackedPicture)


def melody_from_midi(path, soprano: tuple[int, int], lang: str = "en") -> tuple[str | None, str]:
    """A MIDI file's highest line as melody text, and one line saying what was loaded or why nothing was (in ``lang``).
    The file is read only up to the size limit, and parsed byte by byte (``genai_demo.melody``), no music package."""
    from genai_demo.melody import MAX_MIDI_BYTES, MelodyError, fit_octave, melody_text, num_bars, read_midi_melody

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_MIDI_BYTES + 1)  # one byte more than allowed says "too large" without reading it all
        notes = read_midi_melody(data)
    except MelodyError as e:
        return None, i18n.message(f"error:{e.reason}", lang, **e.details)
    except OSError:
        return None, i18n.message("error:midi_not", lang)
    notes, shift = fit_octave(notes, soprano)
    line = i18n.message("midi:loaded", lang, n=sum(n.pitch is not None for n in notes), bars=num_bars(notes))
    if shift:
        line += " " + i18n.message("midi:moved", lang, octaves=f"{shift // 12:+d}")
    return melody_text(notes), line


def midi_section(models: list[ModelAdapter], panels: list, picker: gr.Radio) -> None:
    """For a model that takes a typed melody (a ``melody`` parameter): a MIDI upload that fills it, shown while that
    model is picked. Also the API's ``/audio_melody_from_midi`` (a file in, the melody's text out)."""
    taker = next((pp for pp in panels if any(p.name == "melody" for p in pp.adapter.params)), None)
    if taker is None:
        return
    control = taker.controls[[p.name for p in taker.adapter.params].index("melody")]
    soprano = getattr(taker.adapter, "soprano_range", (52, 84))  # where an uploaded line is moved by octaves
    shown = first_available(models) is taker.adapter
    with gr.Accordion(t("midi:title"), open=False, visible=shown, elem_id="audio-midi") as box:
        gr.Markdown(t("midi:intro"))
        upload = gr.File(label=t("midi:file"), file_types=[".mid", ".midi"], file_count="single", type="filepath",
                         elem_id="audio-midi-file")
        said = gr.Markdown(elem_classes=["genai-info"], elem_id="audio-midi-line")
    picker.change(lambda mid: gr.update(visible=mid == taker.adapter.id), picker, box, api_visibility="private",
                  queue=False)

    def audio_melody_from_midi(midi, request: gr.Request = None):
        """The highest line of a small MIDI file (at most 64 kB) as a melody for audio/harmonise: note names with
        lengths in beats (C4 D4 E4:2), and a line saying what was loaded.

        Args:
            midi: The MIDI file.

        Returns:
            The melody's text (unchanged if the file cannot be used) and one line about the file.
        """
        if not midi:
            return gr.skip(), ""
        melody, line = melody_from_midi(midi, soprano, i18n.language_of(request))
        if melody is None:
            if not errors.from_browser(request):
                raise gr.Error(line, print_exception=False)
            return gr.skip(), f"\u26a0\ufe0f {line}"
        return melody, line

    upload.upload(audio_melody_from_midi, upload, [control, said], api_name="audio_melody_from_midi",
                  concurrency_limit=2)


def audio_tab(models: list[ModelAdapter]) -> TabParts:
    player = gr.Audio(label=t("audio:listen"), type="numpy", autoplay=False, interactive=False, editable=False,
                      buttons=["download"], elem_id="audio-player", render=False)
    roll = gr.Image(label=t("audio:roll"), type="pil", height=360, format="png", interactive=False,
                    buttons=["download", "fullscreen"], elem_id="audio-roll", render=False)
    downloads = gr.File(label=t("audio:downloads"), file_count="multiple", interactive=False, buttons=[],
                        elem_id="audio-files", render=False)
    info = gr.Markdown(elem_id="audio-info", elem_classes=["genai-info"], render=False)
    process = gr.State([])
    outputs = [player, roll, downloads, info, process]
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            picker, panels = picker_and_panels(models, outputs, audio_outputs, 0.2, stoppable=True)
            midi_section(models, panels, picker)
        with gr.Column(scale=3):
            player.render()
            roll.render()
            info.render()
            how = how_button()
            downloads.render()
            with gr.Accordion(t("ui:how_written"), open=True):
                view = process_view("audio:bar", "audio:bar:info", "audio-process")
    open_on(how, explain_section("audio", models), "audio")
    finish = wire_process_view(process, view)
    for p in panels:
        finish(p.event)
        finish(p.stopped)
    return TabParts(first_available(models), picker, panels, outputs, audio_outputs, finish)
