"""The GAN lab and the quiz in a real browser (Debian's Chromium through Playwright) against ``python app.py``, in
English and in Korean.

The page fixtures come from ``tests/test_browser.py``; see its docstring for the Gradio 6 DOM this relies on.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import FIRST_GENERATION_TIMEOUT_MS, TIMEOUT_MS, browser, page, save_failure  # noqa: F401
from tests.test_korean_page import english_words, open_every_section, visible_text

pytestmark = pytest.mark.browser


def status(page):
    return page.locator("#lab-status")


def test_the_lab_trains_pauses_resets_refuses_a_bad_rate_and_links_its_settings(page, app_url):  # noqa: F811
    page.goto(app_url + "?tab=lab&model=lab/gan&seed=5&width=16&lr_g=0.003")
    expect(page.get_by_role("tab", name="GAN lab")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Seed", exact=True).filter(visible=True)).to_have_value("5")
    expect(page.get_by_label("Generator learning rate")).to_have_value("0.003")
    expect(page.get_by_label("Network width")).to_have_value("16")
    expect(status(page)).to_contain_text("Press Train to start")

    page.get_by_role("button", name="Train", exact=True).click()
    picture = page.locator("#lab-picture img")
    expect(picture).to_have_attribute("src", re.compile(r"^data:image/png;base64,"),
                                      timeout=FIRST_GENERATION_TIMEOUT_MS)
    expect(status(page)).to_contain_text("Training...")
    page.wait_for_function("img => img.complete && img.naturalWidth === 488", arg=picture.element_handle())
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(status(page)).to_contain_text("Paused.")
    expect(status(page)).to_contain_text(re.compile(r"Step [1-9][\d,]* · \d+ of 60 s of training used"))
    expect(status(page)).to_contain_text(re.compile(r"\d of 8 modes covered"))
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(status(page)).to_contain_text("Step 0 ·")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(status(page)).to_contain_text("Step 50 ·")

    # A learning rate of 0: one line in the status, naming the control; the picture stays.
    page.get_by_label("Generator learning rate").fill("0")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(status(page)).to_have_text(re.compile(r"Generator learning rate: 0 is outside the range; choose a number "
                                                 r"from 0.0001 to 1\."))
    expect(picture).to_have_count(1)

    # The mode-collapse preset fills the rates and explains itself; the link carries the settings.
    page.get_by_role("button", name="Presets: good and broken settings").filter(visible=True).click()
    page.get_by_role("button", name="Broken: mode collapse").click()
    expect(page.get_by_label("Generator learning rate")).to_have_value("0.02")
    expect(page.get_by_label("Discriminator learning rate")).to_have_value("0.0001")
    expect(page.get_by_text(re.compile("the generator learns 200 times faster"))).to_be_visible()
    page.get_by_role("button", name="Copy link").filter(visible=True).click()
    link = page.locator(".genai-link textarea").filter(visible=True)
    expect(link).to_have_value(re.compile(r"tab=lab&model=lab%2Fgan&seed=5&distribution=ring&lr_g=0.02&lr_d=0.0001"))

    # Teacher mode hides the advanced settings.
    page.goto(app_url + "?tab=lab&teacher=1")
    expect(page.get_by_label("Generator learning rate")).to_be_visible()
    expect(page.get_by_label("Optimiser")).to_have_count(0)


def test_the_quiz_plays_a_round_and_refuses_a_second_answer(page, app_url):  # noqa: F811
    page.get_by_role("tab", name="Real or generated?").click()
    page.get_by_role("button", name="Start a new quiz").click()
    expect(page.locator("#quiz-round")).to_contain_text("Round 1 of 10", timeout=FIRST_GENERATION_TIMEOUT_MS)
    tiles = page.locator("#quiz-tiles").get_by_role("button", name=re.compile(r"^Thumbnail \d of 4$"))
    expect(tiles).to_have_count(4)
    tiles.nth(0).click()
    verdict = page.locator("#quiz-verdict")
    expect(verdict).to_contain_text(re.compile(r"Right!|Missed\."))
    if "Missed" in verdict.inner_text():
        expect(verdict).to_contain_text("What gave it away: the digit classifier was")
    expect(page.locator("#quiz-totals")).to_contain_text(re.compile(r"GAN: the real digit found in \d+ of \d+"))
    tiles.nth(1).click()
    expect(verdict).to_contain_text("Round 1 is already answered: only the first answer counts.")
    page.get_by_role("button", name="Next round").click()
    expect(page.locator("#quiz-round")).to_contain_text("Round 2 of 10")
    expect(verdict).to_have_text(re.compile(r"^\s*$"))


def test_the_lab_and_the_quiz_in_korean(browser, app_url, request):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    failed_before = request.session.testsfailed
    found: dict[str, set[str]] = {}
    try:
        page.goto(app_url + "?lang=ko")
        page.get_by_role("tab", name="GAN 실험실").click()
        page.get_by_role("button", name="한 걸음", exact=True).click()
        expect(status(page)).to_contain_text("50단계", timeout=FIRST_GENERATION_TIMEOUT_MS)
        expect(status(page)).to_contain_text("모드 8개 중")
        open_every_section(page)
        page.get_by_role("button", name="망가짐: 모드 붕괴").click()
        page.get_by_label("생성자 학습률").fill("0")
        page.get_by_role("button", name="한 걸음", exact=True).click()
        expect(status(page)).to_contain_text("생성자 학습률: 0은(는) 범위를 벗어났습니다")
        for word in english_words(visible_text(page)):
            found.setdefault(word, set()).add("lab")

        page.get_by_role("tab", name="진짜일까, 생성된 걸까?").click()
        page.get_by_role("button", name="새 퀴즈 시작").click()
        expect(page.locator("#quiz-round")).to_contain_text("10라운드 중 1라운드", timeout=FIRST_GENERATION_TIMEOUT_MS)
        page.locator("#quiz-tiles").get_by_role("button", name=re.compile(r"^Thumbnail 1 ")).click()
        expect(page.locator("#quiz-verdict")).to_contain_text(re.compile(r"정답!|틀렸어요\."))
        expect(page.locator("#quiz-totals")).to_contain_text("지금까지 우리 반")
        open_every_section(page)
        for word in english_words(visible_text(page)):
            found.setdefault(word, set()).add("quiz")
        assert not found, "English on the Korean page: " + ", ".join(f"{w} ({'/'.join(sorted(t))})"
                                                                     for w, t in sorted(found.items()))
    finally:
        if request.session.testsfailed > failed_before:
            save_failure(page, request.node.name, [])
        context.close()
