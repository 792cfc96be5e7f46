"""The Text tab in a real browser (Debian's Chromium through Playwright) against ``python app.py``.

The page fixtures come from ``tests/test_browser.py``; see its docstring for the Gradio 6 DOM this relies on.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import FIRST_GENERATION_TIMEOUT_MS, browser, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_text_streams_then_shows_each_tokens_candidates(page):  # noqa: F811
    page.get_by_role("tab", name="Text").click()
    generate = page.get_by_role("button", name="Generate", exact=True).filter(visible=True)
    expect(page.get_by_text("Unavailable:").filter(visible=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Stop", exact=True).filter(visible=True)).to_be_visible()
    page.get_by_label("Prompt").fill("JULIET:\n")
    page.get_by_label("Length (characters)").fill("120")
    page.get_by_label("number input for Temperature").fill("0.5")
    page.get_by_label("number input for Temperature").press("Enter")

    seed = int(page.get_by_label("Seed", exact=True).filter(visible=True).input_value())  # this visitor's own
    with page.expect_request(lambda r: r.url.split("?")[0].endswith("/queue/join") and r.method == "POST") as join:
        generate.click()
    assert join.value.post_data_json["data"] == ["JULIET:\n", 120, True, 0.5, 0, 1, 1, seed]

    output = page.locator("#text-output textarea")
    expect(output).to_have_value(re.compile(r"^JULIET:\n.{40,}", re.S), timeout=FIRST_GENERATION_TIMEOUT_MS)
    info = page.locator("#text-info")
    expect(info).to_contain_text(re.compile(rf"text/shakespeare · seed {seed} · 120 tokens · "))
    assert len(output.input_value()) == len("JULIET:\n") + 120

    # The coloured text: one span per generated character after the prompt, with a legend.
    tokens = page.locator("#text-coloured .token.highlighted")
    expect(tokens.nth(99)).to_be_attached()
    assert tokens.count() <= 240  # one span per character (a line break may take two)
    legend = page.locator(".prose.genai-legend").filter(visible=True)
    expect(legend).to_contain_text("expected: under 1 bit (50% or more)")
    bars = page.locator("#text-bars table tr")
    expect(bars.first).to_contain_text("model's probability")
    expect(page.locator("#text-bars tr.chosen")).to_have_count(1)

    # Clicking the fifth coloured token shows the candidates for that position.
    tokens.nth(4).click()
    expect(page.get_by_text(re.compile(r"^token 5: "))).to_be_visible()
    expect(page.get_by_label("number input for Token")).to_have_value("5")
