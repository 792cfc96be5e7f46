"""The Audio tab through a launched ``python app.py``: gradio_client, then Debian's Chromium through Playwright."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from tests.test_browser import FIRST_GENERATION_TIMEOUT_MS, browser, page  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_chorale_through_the_api_returns_sound_roll_and_midi(client):
    audio, roll, files, info = client.predict(num_bars=2, seed=4, tempo=120, api_name="/audio_chorale")
    with wave.open(audio) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 4.0 <= seconds <= 4.0 + 2.0  # two bars at 120 bpm, plus the reverb's tail
    assert Path(roll).is_file()
    by_suffix = {Path(f).suffix: Path(f) for f in files}
    assert sorted(by_suffix) == [".mid", ".wav"]
    assert by_suffix[".mid"].read_bytes()[:4] == b"MThd" and by_suffix[".wav"].read_bytes()[:4] == b"RIFF"
    assert re.search(r"audio/chorale\*\* · seed 4 .* notes in major", info)


def test_bad_chorale_input_is_one_line_and_the_server_keeps_serving(client):
    from gradio_client.exceptions import AppError

    for kwargs, message in [({"num_bars": 10000}, "num_bars=10000 is out of range"),
                            ({"tempo": 0}, "tempo=0 is out of range"),
                            ({"continue_from": "no such chorale"}, "is not a known choice")]:
        with pytest.raises(AppError, match=message):
            client.predict(**kwargs, api_name="/audio_chorale")
    assert client.predict(num_bars=1, seed=1, api_name="/audio_chorale")[0]


@pytest.mark.browser
def test_audio_tab_plays_and_draws_a_generated_chorale(page):  # noqa: F811
    page.get_by_role("tab", name="Audio").click()
    expect(page.get_by_text("Unavailable:").filter(visible=True)).to_have_count(0)
    page.get_by_label("Number of bars").fill("2")
    page.get_by_role("button", name="Generate", exact=True).filter(visible=True).click()
    expect(page.locator("#audio-info")).to_contain_text(re.compile(r"audio/chorale · seed \d+ .* s of audio"),
                                                        timeout=FIRST_GENERATION_TIMEOUT_MS)
    expect(page.locator("#audio-player audio, #audio-player [data-testid='waveform-Listen']").first).to_be_attached()
    expect(page.locator("#audio-roll img")).to_be_visible()
    # Nothing plays by itself (a class of laptops would all sound at once), and the outputs have no remove buttons.
    assert page.locator("#audio-player audio").evaluate_all("els => els.every(a => a.paused && !a.autoplay)")
    for output in ("#audio-player", "#audio-roll", "#audio-files"):
        expect(page.locator(output).get_by_role("button", name=re.compile(r"clear|remove|delete", re.I))).to_have_count(0)
    expect(page.locator("#audio-files")).to_contain_text(re.compile(r"chorale\s*\.mid"))
