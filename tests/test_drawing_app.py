"""A visitor's own digit through the launched app: the API's /draw_* endpoints (gradio_client), and the page in a
real browser (a stroke on the sketchpad, the classifier's reading, bad uploads in Korean)."""

from __future__ import annotations

import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.test_browser import FIRST_GENERATION_TIMEOUT_MS, browser, page  # noqa: F401

FAST = {"/draw_vae": {"num_frames": 3}, "/draw_sdedit": {"num_inference_steps": 10, "strength": 0.5},
        "/draw_inpaint": {"num_inference_steps": 6}, "/draw_complete": {"num_images": 1, "keep_rows": 22},
        "/draw_gan_search": {"num_steps": 20, "num_starts": 2}}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    one = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(one).line((150, 40, 130, 240), fill="black", width=22)  # a "1", as a finger draws it
    one.save(folder / "one.png")
    Image.new("RGB", (280, 280), "white").save(folder / "blank.png")
    (folder / "notes.png").write_bytes(b"these are my notes, not a picture\n" * 40)
    with open(folder / "big.png", "wb") as f:  # 20 MB
        f.write((folder / "one.png").read_bytes() + b"\0" * (20 * 1024 * 1024))
    return folder


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_the_api_reads_a_drawing(client, pictures):
    seen, line, probs = client.predict(image=handle_file(pictures / "one.png"), api_name="/draw_read")
    assert Image.open(seen).size == (168, 168)  # the 28x28 digit the models see, enlarged
    assert line == f"The classifier reads **1**, {round(probs['confidences'][0]['confidence'] * 100)}% sure."
    assert probs["label"] == "1"


@pytest.mark.parametrize("endpoint", sorted(FAST))
def test_each_family_takes_a_drawing_through_the_api(client, pictures, endpoint):
    out = client.predict(image=handle_file(pictures / "one.png"), label="auto", seed=5, api_name=endpoint,
                         **FAST[endpoint])
    note, record = out[-2], out[-1]
    assert record["reading"]["digit"] == 1 and record["label_used"] == 1 and "digit" not in record["params"]
    assert note.startswith("The classifier read your drawing as 1" if endpoint == "/draw_vae" else
                           "Your drawing read as 1")
    if endpoint == "/draw_vae":
        the_map, pictures_shown, morph = out[:3]
        assert Image.open(the_map).size == (728, 728) and len(pictures_shown) == 2 and len(morph) == 3
    else:
        gallery, steps = out[:2]
        assert len(gallery) >= 2 and steps  # the result and its steps
        assert all(item["caption"] for item in gallery)  # every picture carries its words (its alt text)


@pytest.mark.parametrize("name, line", [
    ("blank.png", "The drawing is blank: draw a digit with the brush first."),
    ("notes.png", "This file is not a picture that can be read: upload a PNG, JPEG, WebP, GIF or BMP image."),
])
def test_a_bad_picture_is_one_line_and_the_app_goes_on(client, pictures, name, line):
    for endpoint in ("/draw_read", "/draw_sdedit"):
        with pytest.raises(Exception) as caught:
            client.predict(image=handle_file(pictures / name), api_name=endpoint)
        assert str(caught.value) == line
    assert client.predict(image=handle_file(pictures / "one.png"), api_name="/draw_read")[2]["label"] == "1"


def test_a_20_mb_picture_is_refused_and_the_app_goes_on(client, pictures):
    with pytest.raises(Exception) as caught:
        client.predict(image=handle_file(pictures / "big.png"), api_name="/draw_read")
    assert "10" in str(caught.value) and "\n" not in str(caught.value).strip()
    assert client.predict(image=handle_file(pictures / "one.png"), api_name="/draw_read")[2]["label"] == "1"


# -- in the browser ----------------------------------------------------------------------------------------------------

def open_drawing(page) -> None:
    page.locator("#draw").locator("button.label-wrap").first.click()
    expect(page.locator("#draw-pad canvas").first).to_be_visible()


@pytest.mark.browser
def test_a_stroke_on_the_sketchpad_gets_the_classifiers_reading(page):  # noqa: F811
    open_drawing(page)
    expect(page.locator("#draw-pad")).to_contain_text("select the draw tool to start")
    page.locator("#draw-pad").get_by_role("button", name="Brush").click()  # the sketchpad's brush
    canvas = page.locator("#draw-pad canvas").first
    box = canvas.bounding_box()
    x, top, bottom = box["x"] + box["width"] * 0.52, box["y"] + box["height"] * 0.15, box["y"] + box["height"] * 0.85
    page.mouse.move(x, top)
    page.mouse.down()
    page.mouse.move(x - 8, bottom, steps=25)  # a "1"
    page.mouse.up()
    expect(page.locator("#draw-reading")).to_contain_text("The classifier reads", timeout=FIRST_GENERATION_TIMEOUT_MS)
    expect(page.locator("#draw-reading")).to_contain_text("1")
    expect(page.locator("#draw-seen img")).to_be_visible()
    # The GAN searches for it (a few steps), with the classifier's reading of what it found.
    page.get_by_label("Search steps", exact=True).fill("10")
    page.locator("#draw-run-gan_search").click()
    expect(page.locator("#draw-note-gan_search")).to_contain_text("The nearest digit the GAN found",
                                                                  timeout=FIRST_GENERATION_TIMEOUT_MS)
    expect(page.locator("#draw-result-gan_search img").first).to_have_attribute("alt", "your drawing, 28x28")


@pytest.mark.browser
def test_bad_uploads_get_one_korean_line(browser, app_url, pictures):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = context.new_page()
    try:
        page.goto(app_url + "?lang=ko")
        open_drawing(page)
        expect(page.locator("#draw-pad")).to_contain_text("붓 도구를 눌러")  # Gradio's own line, in Korean too
        upload = page.locator("#draw-upload input[type=file]")
        upload.set_input_files(str(pictures / "notes.png"))
        expect(page.locator("#draw-upload-note")).to_contain_text("읽을 수 있는 사진이 아닙니다")
        upload.set_input_files(str(pictures / "big.png"))  # refused in the browser: it is never sent
        expect(page.locator("#draw-upload-note")).to_contain_text("10MB보다 큽니다")
        upload.set_input_files(str(pictures / "one.png"))  # a good one goes into the sketchpad and is read
        expect(page.locator("#draw-reading")).to_contain_text("1(으)로 읽습니다", timeout=FIRST_GENERATION_TIMEOUT_MS)
    finally:
        context.close()
