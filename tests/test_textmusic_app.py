"""Text you write and a melody you enter, through a launched ``python app.py``: gradio_client, then Debian's
Chromium through Playwright (the new panels, and every control of a model panel reached with the keyboard alone).
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from playwright.sync_api import expect

from genai_demo.music import Note, to_midi
from tests.test_browser import FIRST_GENERATION_TIMEOUT_MS, browser, page  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def midi_file(tmp_path_factory) -> Path:
    """A MIDI file of a melody (C5 D5 E5 C5, one bar) over an alto, as a notation program writes one."""
    path = tmp_path_factory.mktemp("midi") / "tune.mid"
    path.write_bytes(to_midi([Note(0, 72, 0, 2), Note(0, 74, 2, 2), Note(0, 76, 4, 2), Note(0, 72, 6, 2),
                              Note(1, 64, 0, 8)], 90))
    return path


# -- the API ---------------------------------------------------------------------------------------------------------

def test_score_a_text_through_the_api(client):
    text, info = client.predict(text="Shall I compare thee to a summer's day?", api_name="/text_score")
    assert text == "Shall I compare thee to a summer's day?"
    assert re.search(r"text/score\*\* · 39 characters scored · .* · perplexity \d+\.\d\d \(\d\.\d\d bits a "
                     r"character\) · held-out Shakespeare, which the model never read: perplexity \d\.\d\d", info)


def test_attention_through_the_api(client):
    table = client.predict(text="ROMEO:\nWhat light", position=8, api_name="/text_attention")
    assert table.count("<tr>") == 1 + 16  # a header, then 4 layers x 4 heads
    assert "layer 4, head 4" in table and "Looking from character 8 ('W')" in table


def test_harmonise_a_melody_through_the_api(client):
    audio, roll, files, info = client.predict(melody="G4 A4 B4 G4 D5:2 G4:2", seed=3, tempo=120,
                                              api_name="/audio_harmonise")
    with wave.open(audio) as w:
        assert 4.0 <= w.getnframes() / w.getframerate() <= 6.0  # two bars at 120 bpm and the reverb's tail
    assert Path(roll).is_file()
    assert sorted(Path(f).name.split("-")[-1] for f in files) == ["harmonised.mid", "harmonised.wav"]
    assert re.search(r"audio/harmonise\*\* · seed 3 .* notes in major · written in G major", info)


def test_a_midi_file_becomes_a_melody_through_the_api(client, midi_file, tmp_path):
    melody, line = client.predict(handle_file(str(midi_file)), api_name="/audio_melody_from_midi")
    assert melody == "C5 D5 E5 C5" and line.startswith("Loaded 4 notes")
    text = tmp_path / "song.mid"
    text.write_text("C4 D4 E4, not a MIDI file")
    with pytest.raises(AppError, match=r"^This file is not a MIDI file\.$"):
        client.predict(handle_file(str(text)), api_name="/audio_melody_from_midi")


@pytest.mark.parametrize("kwargs, api_name, message", [
    ({"melody": "C4 H4 E4"}, "/audio_harmonise", r"^melody: 'H4' is not a note name"),
    ({"melody": "C4 C8"}, "/audio_harmonise", r"^melody: C8 is outside the soprano's range, E3 to C6$"),
    ({"melody": ""}, "/audio_harmonise", r"^melody: the melody is empty"),
    ({"text": "x" * 100_000}, "/text_score", r"^text is 100,000 characters long: expected text of at most 2,000 "),
    ({"text": "x" * 100_000, "position": 1}, "/text_attention", r"^text is 100,000 characters long"),
    ({"text": "ROMEO", "position": 0}, "/text_attention", r"^position=0 is out of range: expected an integer from "
                                                          r"1 to 5$"),
])
def test_bad_input_is_one_line_and_the_server_keeps_serving(client, kwargs, api_name, message):
    with pytest.raises(AppError, match=message):
        client.predict(**kwargs, api_name=api_name)
    assert "perplexity" in client.predict(text="ROMEO", api_name="/text_score")[1]


# -- the page --------------------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_score_my_text_colours_each_character_and_shows_attention(page):  # noqa: F811
    page.get_by_role("tab", name="Text").click()
    page.get_by_label("scoring: text/score").check()
    page.get_by_label("Text to score").fill("To be, or not to be: that is the question.")
    page.get_by_role("button", name="Generate", exact=True).filter(visible=True).click()
    expect(page.locator("#text-info")).to_contain_text(re.compile(r"42 characters scored · .* perplexity .* held-out "
                                                                  r"Shakespeare"), timeout=FIRST_GENERATION_TIMEOUT_MS)
    tokens = page.locator("#text-coloured .token.highlighted")
    expect(tokens.nth(41)).to_be_attached()
    expect(page.locator(".prose.genai-legend").filter(visible=True)).to_contain_text("very surprising")
    # A click on a character shows what the model expected there, and its attention.
    tokens.nth(3).click()
    expect(page.get_by_text(re.compile(r"^character 4: 'b', probability"))).to_be_visible()
    page.get_by_text("Attention: where the model looks").click()
    expect(page.locator("#text-attention")).to_contain_text("Looking from character 4 ('b')")
    expect(page.locator("#text-attention tr")).to_have_count(17)
    page.get_by_label("Position (character)").fill("9")
    page.get_by_role("button", name="Show attention").click()
    expect(page.locator("#text-attention")).to_contain_text("Looking from character 9 ('r')")
    # 100,000 characters pasted: the box keeps 2,000.
    page.get_by_label("Text to score").fill("a" * 100_000)
    assert len(page.get_by_label("Text to score").input_value()) == 2000


@pytest.mark.browser
def test_harmonise_a_melody_from_a_midi_file_and_refuse_a_bad_one(page, midi_file):  # noqa: F811
    page.get_by_role("tab", name="Audio").click()
    expect(page.locator("#audio-midi")).to_have_count(0)  # only with the model that takes a melody
    page.get_by_label(re.compile(r": audio/harmonise$")).check()
    melody = page.get_by_label("Melody (the soprano)")
    melody.fill("C4 H4")
    page.get_by_role("button", name="Generate", exact=True).filter(visible=True).click()
    expect(page.locator(".genai-problem").filter(visible=True).first).to_contain_text(
        "Melody (the soprano): H4 is not a note name.")
    page.get_by_text("Melody from a MIDI file").click()
    page.locator("#audio-midi-file input[type=file]").set_input_files(str(midi_file))
    expect(melody).to_have_value("C5 D5 E5 C5")
    expect(page.locator("#audio-midi-line")).to_contain_text("Loaded 4 notes")
    page.get_by_role("button", name="Generate", exact=True).filter(visible=True).click()
    expect(page.locator("#audio-info")).to_contain_text(re.compile(r"audio/harmonise · seed \d+ .* written in C major"),
                                                        timeout=FIRST_GENERATION_TIMEOUT_MS)
    expect(page.locator(".genai-problem").filter(visible=True)).to_have_count(0)
    expect(page.locator("#audio-files")).to_contain_text(re.compile(r"harmonised\s*\.mid"))


@pytest.mark.browser
def test_every_control_of_a_model_panel_is_reached_and_used_with_the_keyboard(page):  # noqa: F811
    page.get_by_role("tab", name="Text").click()
    expect(page.get_by_label("Prompt")).to_be_visible()
    controls = {
        "model": page.get_by_label("autoregressive: text/shakespeare"),
        "prompt": page.get_by_label("Prompt"),
        "length": page.get_by_label("Length (characters)"),
        "draw": page.get_by_label("Draw at random"),
        "temperature": page.get_by_label("number input for Temperature"),
        "temperature slider": page.get_by_label("range slider for Temperature"),
        "top-k": page.get_by_label("Only the k likeliest (top-k)"),
        "top-p": page.get_by_label("number input for Likeliest up to a total of p (top-p)"),
        "repetition": page.get_by_label("number input for Repetition penalty"),
        "seed": page.get_by_label("Seed", exact=True).filter(visible=True),
        "dice": page.get_by_role("button", name="Random seed").filter(visible=True),
        "new seed": page.get_by_label("New seed every time").filter(visible=True),
        "generate": page.get_by_role("button", name="Generate", exact=True).filter(visible=True),
        "stop": page.get_by_role("button", name="Stop", exact=True).filter(visible=True),
        "presets": page.get_by_role("button", name=re.compile("^Presets")).filter(visible=True),
        "copy link": page.get_by_role("button", name="Copy link").filter(visible=True),
    }
    for name, locator in controls.items():
        locator.evaluate("(el, name) => el.setAttribute('data-kb', name)", name)
    controls["model"].focus()
    reached = []
    for _ in range(80):  # Tab from the model picker through the panel, as a keyboard user does
        page.keyboard.press("Tab")
        name = page.evaluate("() => document.activeElement && document.activeElement.getAttribute('data-kb')")
        if name and name not in reached:
            reached.append(name)
        if name == "copy link":
            break
    assert set(reached) == set(controls) - {"model"}, f"not reached by Tab: {set(controls) - set(reached) - {'model'}}"
    assert reached.index("prompt") < reached.index("seed") < reached.index("generate")  # in the page's order
    # Used from the keyboard: a length typed, then Generate pressed with Enter.
    controls["length"].focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("15")
    controls["generate"].focus()
    page.keyboard.press("Enter")
    expect(page.locator("#text-info")).to_contain_text("15 tokens", timeout=FIRST_GENERATION_TIMEOUT_MS)
    # The focused control shows a ring that keyboard users can see.
    controls["generate"].focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
