"""The Korean page is Korean: generate once in every tab, open every "How it works" section, and read what is shown.

A 12-year-old in a Korean class reads every label, help text, notice, caption, view and error on the page. This
test drives Debian's Chromium on ``?lang=ko`` with a Korean browser, generates in every tab (and makes one error),
collects the visible text, and fails on any English phrase outside a short list of names (model ids, GAN, MNIST,
file types, the names of samplers and of Bach's works).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import FIRST_GENERATION_TIMEOUT_MS, TIMEOUT_MS, browser, save_failure  # noqa: F401

pytestmark = pytest.mark.browser

# Names that stay as they are on a Korean page: model ids and families' proper names, data sets, file types,
# samplers, units, and the code names of text sampling settings shown beside their Korean label (top-k, top-p).
NAMES = {
    "GAN", "VAE", "GPT", "MNIST", "PixelCNN", "DPM", "Solver", "DDIM", "DDPM", "MIDI", "WAV", "PNG", "GIF", "BWV",
    "Hugging", "Face", "Stable", "Diffusion", "MusicLM", "MusicGen", "OpenAI", "Google", "Tiny", "Shakespeare",
    "top", "CPU", "API", "ROMEO", "JULIET", "PCA", "ICU", "Gradio", "MIT", "BSD", "Clause", "Apache", "CC", "SA",
    "Adam", "Frechet", "ms", "KB", "MB", "LICENSE", "README", "md", "weights", "docs", "credits", "music21",
    "corpus", "license", "txt", "ylecun", "mnist", "karpathy", "tiny_shakespeare", "char", "rnn", "x_t", "x_0",
    "PyTorch", "NumPy", "Pillow", "pandas", "diffusers", "transformers", "tokenizers", "safetensors",
    "huggingface_hub", "Hub", "CMU", "English",  # a language's own name, on the switch
    "NLL", "KL", "nat",  # the field's own abbreviations, as Korean textbooks write them
    # Gradio's own interface, as it ships (its footer, its audio player's controls)
    "Use", "via", "Built", "with", "logo", "Settings", "Stop", "Recording", "High", "volume",
}
WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")


def english_words(text: str) -> list[str]:
    """Latin words of three letters or more that are not a name, a model id or part of one, or a file name."""
    text = re.sub(r"\b(image|text|audio)[/-][a-z_]+\b", " ", text)  # model ids and their weights folders
    text = re.sub(r"\S+ ?\.(mid|wav|png|gif|md|txt|safetensors|json)(?![A-Za-z])", " ", text)  # file names
    text = text.replace("music21", " ")
    text = re.sub(r"https?://\S+", " ", text)
    return [w for w in WORD.findall(text) if w not in NAMES and w.lower() not in {n.lower() for n in NAMES}]


def visible_text(page) -> str:
    """What the page shows, less code spans (a link's ``lang=ko``, a command) and quoted model output."""
    text = page.evaluate("""() => {
        const body = document.body.cloneNode(true);
        body.querySelectorAll('code, pre, script, style').forEach(e => e.remove());
        return body.innerText; }""")
    import os
    if os.environ.get("GENAI_DUMP_TEXT"):
        with open(os.environ["GENAI_DUMP_TEXT"], "a", encoding="utf-8") as f:
            f.write(text + "\n=====\n")
    return re.sub(r'"[^"\n]{0,80}"', " ", text)


def open_every_section(page) -> None:
    """Open every closed accordion on the shown tab (the lessons, presets, How it works and its views)."""
    for _ in range(3):  # nested sections appear once their parent opens
        closed = page.locator("button.label-wrap:not(.open)").filter(visible=True)
        for i in range(closed.count()):
            try:
                closed.nth(0).click(timeout=2000)
            except Exception:
                break
        page.wait_for_timeout(500)


def generate_and_wait(page, info_id: str) -> None:
    page.get_by_role("button", name="생성", exact=True).filter(visible=True).click()
    expect(page.locator(f"#{info_id}")).to_contain_text("시드", timeout=FIRST_GENERATION_TIMEOUT_MS)


def test_every_visible_string_on_the_korean_page_is_korean(browser, app_url, request):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    failed_before = request.session.testsfailed
    found: dict[str, set[str]] = {}
    try:
        page.goto(app_url + "?lang=ko")
        expect(page.get_by_role("tab", name="이미지")).to_have_attribute("aria-selected", "true")
        for tab, info_id, setup in (("이미지", "image-info", None), ("텍스트", "text-info", "이어서 쓸"),
                                    ("오디오", "audio-info", "마디 수")):
            page.get_by_role("tab", name=tab).click()
            if tab == "텍스트":
                page.get_by_label("길이(글자 수)").fill("20")
            if tab == "오디오":
                page.get_by_label("마디 수").fill("2")
            generate_and_wait(page, info_id)
            open_every_section(page)
            page.wait_for_timeout(1500)  # the views that compute when opened
            for word in english_words(visible_text(page)):
                found.setdefault(word, set()).add(tab)
        # A bad value: its line beside the controls is Korean too.
        page.get_by_role("tab", name="이미지").click()
        field = page.get_by_label("이미지 수", exact=True).filter(visible=True)
        field.fill("999")
        page.get_by_role("button", name="생성", exact=True).filter(visible=True).click()
        expect(page.locator(".genai-problem").filter(visible=True).first).to_contain_text("이미지 수")
        page.get_by_role("tab", name="소개").click()
        for word in english_words(visible_text(page)):
            found.setdefault(word, set()).add("소개")
        assert not found, "English on the Korean page: " + ", ".join(f"{w} ({'/'.join(sorted(t))})"
                                                                     for w, t in sorted(found.items()))
    finally:
        if request.session.testsfailed > failed_before:
            save_failure(page, request.node.name, [])
        context.close()
