"""The page in a real browser: Debian's Chromium driven by Playwright (sync API), against ``python app.py``.

Run with ``python -m pytest tests/test_browser.py`` (or ``-m browser``); it needs ``/usr/bin/chromium`` and the
shipped weights in ``weights/`` (the ``app_url`` fixture serves those). On a failure the page is saved to
``test-artifacts/<test name>.png``.

Notes on Gradio 6's DOM, which the locators below rely on:
- a Radio is a ``<fieldset>`` whose label is a plain ``<span>``, not a ``<legend>``, so ``get_by_label("Model")``
  finds nothing; each choice is an ``<input type=radio>`` named by its own ``<label>`` ("GAN: image/gan").
- a Slider has two inputs, labelled "number input for <Label>" and "range slider for <Label>".
- a hidden Column is unmounted, not just hidden: the VAE's controls are not in the DOM until it is picked,
  so there is only ever one "Generate" button and one "Number of images" field per tab.
- a Gallery's label is a ``<label data-testid="block-label">`` (absent with show_label=False); its items are
  buttons named "Thumbnail i of n", each holding an ``<img>`` whose alt is the caption.
- an error from the server is a toast (``data-testid="toast-body"``, class ``error``) that fades out after ~10 s.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
FIRST_GENERATION_TIMEOUT_MS = 60_000  # the model loads lazily (or is still warming up); the machine may be busy
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    expect.set_options(timeout=TIMEOUT_MS)  # expect's own default is 5 s; this machine may be busy
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, app_url, request):
    """A fresh page on the app; if the test fails, it is saved to test-artifacts/<test name>.png."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    messages = []
    page.on("console", lambda m: messages.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    failed_before = request.session.testsfailed
    try:
        try:
            page.goto(app_url)
        except Exception:
            save_failure(page, request.node.name, messages)
            raise
        yield page
        # A test's exception does not reach its fixtures, but its failed report is counted before teardown.
        if request.session.testsfailed > failed_before:
            save_failure(page, request.node.name, messages)
    finally:
        context.close()


def save_failure(page, name: str, messages: list[str]) -> None:
    """Save the page to test-artifacts/<name>.png, and the browser's errors, if any, next to it."""
    ARTIFACTS.mkdir(exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)
        print(f"screenshot saved to {ARTIFACTS / f'{safe}.png'}")
    except Exception as e:  # a crashed page: keep the original failure
        print(f"could not save a screenshot: {e}")
    if messages:
        (ARTIFACTS / f"{safe}.console.txt").write_text("\n".join(messages) + "\n")


# -- locators -----------------------------------------------------------------
# The Image tab also holds a "Compare the four families" section with its own Seed, Digit and galleries, so
# everything about the model playground is looked up inside its row: the one holding the "Model" radio.


def playground(page):
    """The row with the Model radio and the model's panel on the left, the Output gallery on the right."""
    return page.locator("div.row").filter(has=model_radio(page))


def model_radio(page):
    """The Radio labelled "Model" (a fieldset; see the module docstring)."""
    return page.locator("fieldset").filter(has=page.get_by_text("Model", exact=True))


def gallery(ui):
    """The "Output" gallery (the process view below it is a second, unlabelled ``genai-gallery``)."""
    # a ``has=`` locator is matched inside each candidate, so it must start from the page, not from ui
    label = ui.page.get_by_test_id("block-label").filter(has_text=re.compile(r"^\s*Output\s*$"))
    return ui.locator(".block.genai-gallery").filter(has=label)


def thumbnails(ui):
    return gallery(ui).get_by_role("button", name=re.compile(r"^Thumbnail \d+ of \d+$"))


def info_line(ui):
    # elem_classes lands on both the block wrapper and the markdown itself; take the markdown
    return ui.get_by_test_id("markdown").and_(ui.locator(".genai-info"))


def generate_button(ui):
    return ui.get_by_role("button", name="Generate", exact=True).filter(visible=True)


def num_images_field(ui):
    return ui.get_by_label("Number of images", exact=True).filter(visible=True)


def expect_available(ui) -> None:
    unavailable = ui.get_by_text("Unavailable:").filter(visible=True)
    expect(unavailable, "the model says it is unavailable: are its weights in weights/?").to_have_count(0)
    expect(generate_button(ui)).to_be_enabled()


def expect_gallery(page, ui, model_id: str, n: int, timeout: float = TIMEOUT_MS) -> None:
    """The gallery shows exactly n loaded images and the info line names model_id and its seed."""
    expect(thumbnails(ui)).to_have_count(n, timeout=timeout)
    expect(thumbnails(ui).last).to_have_accessible_name(f"Thumbnail {n} of {n}")
    images = gallery(ui).locator("img")
    expect(images).to_have_count(n)
    expect(images.first).to_have_attribute("src", re.compile(r"/gradio_api/file="))
    # the browser really fetched and decoded the PNG: 28x28 digits are served at 112x112
    page.wait_for_function("img => img.complete && img.naturalWidth === 112 && img.naturalHeight === 112",
                           arg=images.first.element_handle())
    info = info_line(ui)
    expect(info).to_have_text(re.compile(rf"^\s*{re.escape(model_id)} · seed \d+ · {n} images? · "), timeout=timeout)
    expect(info.locator("strong").first).to_have_text(model_id)


# -- tests --------------------------------------------------------------------


def test_generate_with_gan_then_vae(page):
    expect(page).to_have_title("GenAI playground")
    expect(page.get_by_role("heading", name="GenAI playground", level=1)).to_be_visible()
    image_tab = page.get_by_role("tab", name="Image")
    expect(image_tab).to_be_visible()
    expect(image_tab).to_have_attribute("aria-selected", "true")

    # The GAN is picked by default and its panel is the one shown.
    ui = playground(page)
    expect(ui).to_have_count(1)
    radio = model_radio(page)
    gan_choice = radio.get_by_role("radio", name="GAN: image/gan")
    vae_choice = radio.get_by_role("radio", name="VAE: image/vae")
    expect(gan_choice).to_be_checked()
    expect(vae_choice).not_to_be_checked()
    expect(ui.get_by_label("range slider for Truncation")).to_be_visible()
    expect(ui.get_by_label("range slider for Temperature")).to_be_hidden()
    expect_available(ui)
    expect(gallery(ui)).to_have_count(1)
    # Before any click: the GAN's images at the default settings (16) and this visitor's own seed, which the seed
    # box shows.
    expect_gallery(page, ui, "image/gan", 16, timeout=FIRST_GENERATION_TIMEOUT_MS)
    seed = ui.get_by_label("Seed", exact=True).filter(visible=True).input_value()
    expect(info_line(ui)).to_have_text(re.compile(rf"^\s*image/gan · seed {seed} · 16 images · "))

    # Six images, truncation moved off its default of 1 by dragging the range input's value.
    num_images = num_images_field(ui)
    expect(num_images).to_have_value("16")
    num_images.fill("6")
    ui.get_by_label("range slider for Truncation").fill("0.5")
    expect(ui.get_by_label("number input for Truncation")).to_have_value("0.5")

    # What the page sends is what the controls show: seed, num_images, label, truncation.
    with page.expect_request(lambda r: r.url.split("?")[0].endswith("/queue/join") and r.method == "POST") as join:
        generate_button(ui).click()
    assert join.value.post_data_json["data"] == [int(seed), 6, "any", 0.5]
    expect_gallery(page, ui, "image/gan", 6, timeout=FIRST_GENERATION_TIMEOUT_MS)

    # Switch to the VAE: its Temperature control appears, the GAN's Truncation goes away.
    vae_choice.check()
    expect(vae_choice).to_be_checked()
    expect(gan_choice).not_to_be_checked()
    expect(ui.get_by_label("range slider for Temperature")).to_be_visible()
    expect(ui.get_by_label("number input for Temperature")).to_have_value("1")
    expect(ui.get_by_label("range slider for Truncation")).to_be_hidden()
    expect(ui.get_by_label("number input for Truncation")).to_be_hidden()
    expect_available(ui)

    # The VAE panel has its own controls at their defaults (16 images); the gallery still shows the GAN's 6.
    expect(num_images_field(ui)).to_have_value("16")
    generate_button(ui).click()
    expect_gallery(page, ui, "image/vae", 16, timeout=FIRST_GENERATION_TIMEOUT_MS)


def test_out_of_range_number_of_images_shows_an_error(page):
    ui = playground(page)
    expect_available(ui)
    expect_gallery(page, ui, "image/gan", 16, timeout=FIRST_GENERATION_TIMEOUT_MS)  # what the page opens with
    opening = info_line(ui).text_content()
    num_images = num_images_field(ui)
    num_images.fill("999")
    generate_button(ui).click()
    # Gradio 6.31 does not clamp a Number to its maximum in the browser (the field keeps 999 and the value is sent
    # as is); the event has preprocess=False, so the contract's own validation answers: one line beside the
    # controls, naming the control as the page shows it, with no pop-up, until the value is fixed.
    problem = ui.get_by_test_id("markdown").and_(ui.locator(".genai-problem")).filter(visible=True)
    expect(problem).to_have_text(re.compile(r"Number of images: 999 is outside the range; choose a whole number "
                                            r"from 1 to 64"), timeout=FIRST_GENERATION_TIMEOUT_MS)
    expect(page.get_by_test_id("toast-body")).to_have_count(0)
    expect(num_images).to_have_value("999")
    expect(thumbnails(ui)).to_have_count(16)  # the refused request changed nothing
    expect(info_line(ui)).to_have_text(opening)
    num_images.fill("4")  # fixed: the line goes
    expect(problem).to_have_count(0)


def test_the_page_opens_with_a_result_before_any_click(browser, app_url, request):
    """A first visitor sees the first model's images at once; a link to another model opens on that model's
    settings with the output empty, waiting for a click."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    queued = []  # every generation the page asks the queue for: none, since nobody clicks
    page.on("request", lambda r: queued.append(r.url) if r.url.split("?")[0].endswith("/queue/join") else None)
    loading = set()  # the page's own load events in flight (link, opening result, tab names)
    page.on("request", lambda r: loading.add(r) if "/run/predict" in r.url else None)
    page.on("requestfinished", lambda r: loading.discard(r))
    page.on("requestfailed", lambda r: loading.discard(r))
    failed_before = request.session.testsfailed
    try:
        page.goto(app_url)
        ui = playground(page)
        expect_gallery(page, ui, "image/gan", 16, timeout=FIRST_GENERATION_TIMEOUT_MS)
        seed = ui.get_by_label("Seed", exact=True).input_value()
        expect(info_line(ui)).to_have_text(re.compile(rf"^\s*image/gan · seed {seed} · 16 images · "))
        page.reload()  # another page load, another seed: each learner their own digits
        expect(playground(page).get_by_label("Seed", exact=True)).not_to_have_value(seed)

        page.goto(app_url + "?tab=image&model=image/vae&seed=7")
        ui = playground(page)
        expect(model_radio(page).get_by_role("radio", name="VAE: image/vae")).to_be_checked()
        expect(ui.get_by_label("Seed", exact=True).filter(visible=True)).to_have_value("7")
        for _ in range(TIMEOUT_MS // 100):  # every load event has answered
            if not loading:
                break
            page.wait_for_timeout(100)
        assert not loading
        expect(thumbnails(ui)).to_have_count(0)
        expect(info_line(ui)).to_have_text(re.compile(r"^\s*$"))
        assert queued == []
    finally:
        if request.session.testsfailed > failed_before:
            save_failure(page, request.node.name, [])
        context.close()


def test_the_diffusion_steps_and_guidance_follow_the_sampling_method(page):
    """The default is the distilled student: steps 1-4 (4), guidance fixed at its built-in 1.5 with a line saying
    why. Picking DPM-Solver++ brings back its own 20 steps and a movable guidance; what Generate sends is what the
    controls show; picking the student again puts the steps back at 4."""
    ui = playground(page)
    model_radio(page).get_by_role("radio", name="diffusion: image/diffusion").check()
    expect_available(ui)
    steps = ui.get_by_label("Denoising steps", exact=True).filter(visible=True)
    guidance = ui.get_by_label("range slider for Guidance scale").filter(visible=True)
    sampler = ui.get_by_label("Sampling method", exact=True).filter(visible=True)
    fixed = ui.get_by_text(re.compile(r"^Fixed at 1\.5 for the Distilled method")).filter(visible=True)
    expect(sampler).to_have_value("Distilled (1-4 steps)")
    expect(steps).to_have_value("4")
    expect(steps).to_have_attribute("max", "4")
    expect(guidance).to_be_disabled()
    expect(fixed).to_have_count(1)

    sampler.click()
    page.get_by_role("option", name="DPM-Solver++", exact=True).click()
    expect(steps).to_have_value("20")
    expect(steps).to_have_attribute("max", "1000")
    expect(guidance).to_be_enabled()
    expect(fixed).to_have_count(0)
    problem = ui.get_by_test_id("markdown").and_(ui.locator(".genai-problem")).filter(visible=True)
    expect(problem).to_have_count(0)  # the check ran on the new steps, not on the student's 4 -> 20 in between
    num_images_field(ui).fill("2")
    with page.expect_request(lambda r: r.url.split("?")[0].endswith("/queue/join") and r.method == "POST") as join:
        generate_button(ui).click()
    sent = join.value.post_data_json["data"]
    assert sent[1:] == [2, "any", "DPM-Solver++", 20, 1.5, 0.0], sent
    expect_gallery(page, ui, "image/diffusion", 2, timeout=FIRST_GENERATION_TIMEOUT_MS)

    sampler.click()
    page.get_by_role("option", name="Distilled (1-4 steps)", exact=True).click()
    expect(steps).to_have_value("4")
    expect(guidance).to_be_disabled()
    expect(fixed).to_have_count(1)
