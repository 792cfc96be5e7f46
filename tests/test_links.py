"""Share links, PNG settings and teacher mode: a link or a dropped PNG restores exactly what made an output.

The round trips run through the page's own handlers (``demo.genai_page``: the load event behind a link and the
upload event behind a PNG drop) with the shipped weights; the browser test at the end opens real links in
Chromium against ``python app.py``.
"""

from __future__ import annotations

import io
import json
import random
import re
import string
from types import SimpleNamespace
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from genai_demo import compare
from genai_demo.registry import Registry
from genai_demo import links
from genai_demo.export import to_gallery
from genai_demo.ui.image_tab import image_outputs
from genai_demo.ui.page import build_demo

CHEAP = {"num_images": 2, "num_inference_steps": 3, "max_new_tokens": 12, "num_bars": 2}


@pytest.fixture(scope="module")
def registry(tiny_weights):
    """The shipped weights, as the app serves them (cheap settings keep every generation well under a second);
    a model whose weights are not shipped (yet) runs from a tiny random checkpoint instead."""
    registry = Registry()
    for model_id, adapter in list(registry.models.items()):
        if adapter.unavailable_reason():
            registry.models[model_id] = type(adapter)(tiny_weights)
    missing = [m.id for m in registry if m.unavailable_reason()]
    assert not missing, f"no weights for {missing}"
    return registry


@pytest.fixture(scope="module")
def demo(registry):
    return build_demo(registry)


@pytest.fixture(scope="module")
def page(demo):
    return demo.genai_page


def request(query: dict, lang: str = "en-US", session: str = "a visitor"):
    """What Gradio hands a load event: the address's query, the browser's headers and the page's session."""
    return SimpleNamespace(query_params=query, headers={"accept-language": lang}, session_hash=session)


def seed_controls(page) -> list:
    return [c for pp in page.panels for p, c in zip(pp.adapter.params, pp.controls) if p.name == "seed"] + [
        c for p, c in zip(compare.PARAMS, page.compare_controls) if p.name == "seed"] + [
        c for s in page.sections for p, c in zip(s.target.params, s.controls) if p.name == "seed"]  # draw, lab, quiz


def other_values(adapter) -> dict:
    """A valid, cheap, non-default value for every parameter of a model."""
    values = {}
    for p in adapter.params:
        if p.name == "seed":
            values[p.name] = 12345
        elif p.name in CHEAP:
            values[p.name] = CHEAP[p.name]
        elif p.kind == "integer":
            values[p.name] = p.default + 1 if p.maximum is None or p.default + 1 <= p.maximum else p.default - 1
        elif p.kind == "slider":
            steps = round((p.maximum - p.minimum) / p.step)
            values[p.name] = round(p.minimum + round(steps * 0.37) * p.step, 6)
        elif p.kind == "choice":
            values[p.name] = next(c for c in reversed(p.choices) if c != p.default)
        elif p.kind == "toggle":
            values[p.name] = not p.default
        else:  # a text: another a preset gives (a model may read it: a melody), else any short text
            values[p.name] = next((pr.values[p.name] for pr in adapter.presets
                                   if pr.values.get(p.name, p.default) != p.default), "To be, or")
        assert p.validate(values[p.name]) == values[p.name]
    return values


def restored(page, updates: dict, model_id: str) -> dict:
    """The values a load or upload event put into a model's controls."""
    panel = next(pp for pp in page.panels if pp.adapter.id == model_id)
    return {p.name: updates[c]["value"] for p, c in zip(panel.adapter.params, panel.controls)}


def fingerprint(result) -> tuple:
    """Everything a generation outputs, as comparable values."""
    audio = None if result.audio is None else (result.audio[0], np.asarray(result.audio[1]).tobytes())
    return ([im.tobytes() for im in result.images], result.text, audio, dict(result.files) if hasattr(result, "files") else {})


def notice_of(page, updates: dict) -> str:
    update = updates[page.notice]
    return update.get("value", "") if update.get("visible") else ""


# -- links -----------------------------------------------------------------------------------------------------------


def test_every_model_has_a_panel_that_a_link_reaches(page, registry):
    assert sorted(pp.adapter.id for pp in page.panels) == sorted(registry.models)
    assert set(page.pickers) == {m.modality for m in registry}


@pytest.mark.parametrize("model_id", list(Registry().models))
def test_a_link_restores_every_setting_and_reproduces_the_output(page, registry, model_id):
    adapter = registry.get(model_id)
    values = other_values(adapter)
    query = dict(parse_qsl(links.build_query(model_id, values)))
    updates = page.from_link(request(query))
    assert notice_of(page, updates) == ""
    assert updates[page.tabs].selected == adapter.modality
    assert updates[page.pickers[adapter.modality]]["value"] == model_id
    back = restored(page, updates, model_id)
    assert back == values
    assert fingerprint(adapter.generate(**back)) == fingerprint(adapter.generate(**values))


def test_a_link_with_bad_parts_opens_with_defaults_and_one_notice(page):
    updates = page.from_link(request({"tab": "image", "model": "image/gan", "seed": "7", "num_images": "1000",
                                      "truncation": "lots", "label": "3", "colour": "red"}))
    values = restored(page, updates, "image/gan")
    assert values == {"seed": 7, "num_images": 16, "label": "3", "truncation": 1.0}
    notice = notice_of(page, updates)
    assert "\n" not in notice
    assert notice.startswith("This link could not be followed exactly")
    for part in ("num\\_images=1000 is out of range", "truncation='lots' is not a number", "colour"):
        assert part in notice, notice


def test_an_unknown_model_or_tab_falls_back_to_the_first_model(page):
    updates = page.from_link(request({"model": "image/stylegan9", "tab": "video", "seed": "3"}))
    assert updates[page.pickers["image"]]["value"] == "image/gan"
    assert restored(page, updates, "image/gan")["seed"] == 3
    notice = notice_of(page, updates)
    assert "unknown model 'image/stylegan9'" in notice and "unknown tab 'video'" in notice


def test_a_model_named_with_the_wrong_tab_opens_on_its_own_tab(page):
    updates = page.from_link(request({"tab": "image", "model": "text/shakespeare"}))
    assert updates[page.tabs].selected == "text"
    assert "not on the" in notice_of(page, updates)


def test_no_link_changes_nothing_but_gives_each_visitor_their_own_seed(page):
    from genai_demo.ui.panel import seed_for

    updates = page.from_link(request({}))
    assert notice_of(page, updates) == ""
    seeds = seed_controls(page)
    seeded = [pp for pp in page.panels if any(p.name == "seed" for p in pp.adapter.params)]  # not text/score
    assert len(seeds) == len(seeded) + 4  # each seeded model's box, the comparison's, "Draw a digit"'s, lab's, quiz's
    assert set(updates) == set(page.outputs)
    assert all(u == {"__type__": "update"} for c, u in updates.items()
               if c not in seeds and c is not page.notice)
    mine = {updates[c]["value"] for c in seeds}
    assert mine == {seed_for("a visitor")}  # one seed for the whole page, the same for every event of this load
    theirs = page.from_link(request({}, session="another visitor"))
    assert {theirs[c]["value"] for c in seeds} == {seed_for("another visitor")} != mine


def test_a_plain_visit_opens_with_the_first_models_default_result(page, registry):
    first = registry.by_modality(page.tab_ids[0])[0]
    assert page.opening is not None and page.opening.tab.first is first  # a quick model: it qualifies
    from genai_demo.ui.panel import seed_for

    defaults = {p.name: p.default for p in first.params}
    seed = seed_for("a visitor")  # the visitor's own seed, which their seed box shows
    gallery, info, process = page.opening_result(request({}))
    # What Generate at the default settings and that seed draws: the same seed gives the same images.
    assert [Image.open(path).tobytes() for path, _ in gallery] == [
        big.tobytes() for big, _ in to_gallery(first.generate(**{**defaults, "seed": seed}))]
    assert info.startswith(f"**{first.id}** · seed {seed} · ")
    assert page.opening.result(seed) is page.opening.result(seed)  # computed once, then only formatted
    other = page.opening_result(request({}, session="another visitor"))[1]
    assert other.startswith(f"**{first.id}** · seed {seed_for('another visitor')} · ")  # each visitor their own
    for query in ({"teacher": "1"}, {"tab": first.modality}, dict(parse_qsl(links.build_query(first.id, defaults)))):
        assert page.opening_result(request(query))[1] == info, query
    # in the visitor's language: the browser's, or the link's
    assert "시드" in page.opening_result(request({}, "ko"))[1]
    assert "시드" in page.opening_result(request({"lang": "ko"}))[1]


def test_a_link_to_other_settings_opens_without_the_default_result(page, registry):
    """The link's settings win: its model's controls are restored and the output waits for a click."""
    first = page.opening.tab.first
    other = next(m for m in registry if m is not first)
    other_tab = next(tab for tab in page.tab_ids if tab != first.modality)
    for query in ({"model": other.id}, {"tab": other_tab}, {"model": first.id, "seed": "7"}, {"seed": "7"}):
        assert all(u == {"__type__": "update"} for u in page.opening_result(request(query))), query


def test_garbage_links_never_fail(page):
    rng = random.Random(0)
    alphabet = string.printable + "é🙂\u202e\0"
    keys = ["tab", "model", "seed", "num_images", "label", "truncation", "temperature", "teacher", "lang", "prompt"]
    for _ in range(200):
        query = {rng.choice(keys + ["".join(rng.choices(alphabet, k=5))]):
                 "".join(rng.choices(alphabet, k=rng.choice([0, 1, 5, 300]))) for _ in range(rng.randint(1, 6))}
        updates = page.from_link(request(query))
        assert len(updates) == len(page.outputs)
    huge = {f"k{i}": "x" for i in range(500)}
    assert "too many settings" in notice_of(page, page.from_link(request({**huge, "model": "image/gan"})))


def test_notices_cannot_inject_markdown(page):
    notice = notice_of(page, page.from_link(request({"model": "![x](http://evil.example/a.png)<img src=x>"})))
    assert "\\!\\[x\\]\\(http" in notice and "\\<img" in notice
    assert not re.search(r"(?<!\\)[<>\[\]()!*_`]", notice), notice  # every markup character is escaped


def test_the_notice_speaks_the_pages_language(page):
    updates = page.from_link(request({"model": "image/gan", "num_images": "0"}, lang="ko-KR,ko;q=0.9"))
    assert notice_of(page, updates).startswith("이 링크를 그대로 따를 수 없어")
    updates = page.from_link(request({"model": "image/gan", "num_images": "0", "lang": "en"}, lang="ko-KR"))
    assert notice_of(page, updates).startswith("This link")


# -- the compare section ---------------------------------------------------------------------------------------------


def compare_values(page, updates: list) -> dict:
    """The values a load event put into the compare section's controls."""
    return {p.name: updates[c].get("value") for p, c in zip(compare.PARAMS, page.compare_controls)}


def comparison(page, values: dict, lang: str = "en") -> tuple:
    """What Compare shows in the end: each model's images (pixels and captions) and its note without the timing."""
    *_, last = page.run_compare(*(values[p.name] for p in compare.PARAMS), request=request({}, lang))
    galleries, notes = last[:len(compare.compared(Registry()))], last[len(compare.compared(Registry())):]
    def pixels(path) -> bytes:  # each picture is a PNG file the page shows (export.picture_files)
        with Image.open(path) as im:
            return im.tobytes()

    return ([[(pixels(path), caption) for path, caption in gallery] for gallery in galleries],
            [note.split(" · ", 1)[1] for note in notes])


def test_a_compare_link_restores_its_settings_and_reproduces_the_comparison(page):
    values = {"seed": 4242, "label": "7", "num_images": 1}
    query = dict(parse_qsl(links.build_query(compare.LINK_ID, values)))
    assert query == {"tab": "image", "model": "image/compare", "seed": "4242", "label": "7", "num_images": "1"}
    updates = page.from_link(request(query))
    assert notice_of(page, updates) == ""
    assert updates[page.tabs].selected == "image"
    assert updates[page.pickers["image"]] == {"__type__": "update"}  # the model stays
    seeds = seed_controls(page)
    assert all("value" not in updates[c] for pp in page.panels for c in pp.controls
               if c not in seeds)
    back = compare_values(page, updates)
    assert back == values
    first = comparison(page, values)
    assert [len(gallery) for gallery in first[0]] == [1] * len(compare.compared(Registry()))
    assert all(note.startswith("recognised ") for note in first[1]), first[1]
    assert comparison(page, back) == first
    # The same comparison for a Korean page: the same pixels, the notes in Korean.
    korean = comparison(page, back, "ko-KR")
    assert [[im for im, _ in g] for g in korean[0]] == [[im for im, _ in g] for g in first[0]]
    assert all(note.startswith("인식률 ") for note in korean[1]), korean[1]


def test_a_compare_link_with_bad_values_opens_with_defaults_and_one_notice(page):
    updates = page.from_link(request({"tab": "image", "model": "image/compare", "seed": "x", "label": "any",
                                      "num_images": "99", "truncation": "0.5"}))
    defaults = {p.name: p.default for p in compare.PARAMS}
    assert compare_values(page, updates) == defaults
    notice = notice_of(page, updates)
    assert notice.startswith("This link could not be followed exactly") and "\n" not in notice
    for part in ("seed", "label", "num\\_images=99 is out of range", "image/compare has no setting 'truncation'"):
        assert part in notice, notice
    updates = page.from_link(request({"tab": "text", "model": "image/compare", "seed": "3"}))
    assert updates[page.tabs].selected == "image"
    assert compare_values(page, updates)["seed"] == 3 and "not on the" in notice_of(page, updates)
    # A model's link leaves the compare section alone, and vice versa.
    updates = page.from_link(request({"model": "image/gan", "seed": "5"}))
    assert all(updates[c] == {"__type__": "update"} for c in page.compare_controls
               if c not in seed_controls(page))


def test_the_python_link_matches_the_one_the_browser_builds():
    query = links.build_query("text/shakespeare", {"prompt": "ROMEO:\n&=?", "do_sample": False, "top_p": 0.9},
                              lang="ko", teacher=True)
    assert query == "tab=text&model=text%2Fshakespeare&prompt=ROMEO%3A%0A%26%3D%3F&do_sample=false&top_p=0.9&lang=ko&teacher=1"


# -- teacher mode --------------------------------------------------------------------------------------------------


def test_teacher_mode_hides_advanced_controls_and_the_png_drop(page):
    updates = page.from_link(request({"teacher": "1"}))
    advanced = 0
    for pp in page.panels:
        for p, control in zip(pp.adapter.params, pp.controls):
            update = updates[control]
            if p.advanced:
                advanced += 1
                assert update.get("visible") is False, p.name
            else:
                assert "visible" not in update, p.name
    assert advanced >= 3  # eta, repetition_penalty, the chorale's top_k...
    assert all(updates[c].get("visible") is False for c in page.teacher_hidden)
    assert "Teacher mode" in notice_of(page, updates)
    plain = page.from_link(request({"teacher": "0"}))
    assert all("visible" not in u for c, u in plain.items() if c is not page.notice)


# -- PNG metadata ----------------------------------------------------------------------------------------------------


def diffusion_controls(page) -> dict:
    panel = next(pp for pp in page.panels if pp.adapter.id == "image/diffusion")
    return dict(zip((p.name for p in panel.adapter.params), panel.controls))


def generated_png(registry, model_id: str, **params) -> tuple:
    result = registry.get(model_id).generate(**params)
    gallery, info, _ = image_outputs(result)
    return result, gallery[0][0]


@pytest.mark.parametrize("model_id,teacher", [("image/gan", False), ("image/diffusion", False),
                                              ("image/diffusion", True)])
def test_a_generated_png_carries_its_settings_and_restores_them(page, registry, model_id, teacher):
    adapter = registry.get(model_id)
    values = other_values(adapter)
    if teacher:  # made with the sampler that was the default before the student (few steps, to keep it quick)
        values.update(scheduler="DPM-Solver++", num_inference_steps=6, guidance_scale=1.5)
    result, path = generated_png(registry, model_id, **values)
    with Image.open(path) as im:
        assert im.size == (112, 112)
        assert "AI-generated" in im.text["Description"] and model_id in im.text["Description"]
        record = json.loads(im.text["genai_demo"])
    assert record["model"] == model_id and record["params"] == values and record["image_index"] == 0
    updates = page.from_png(path, "en")
    assert notice_of(page, updates).startswith(f"Restored {model_id} with seed 12345 from the PNG")
    back = restored(page, updates, model_id)
    assert back == values
    if teacher:  # the steps control takes the teacher's range back, the guidance can be moved again
        controls = diffusion_controls(page)
        assert updates[controls["num_inference_steps"]]["maximum"] == 1000
        assert updates[controls["guidance_scale"]]["interactive"] is True
    assert fingerprint(adapter.generate(**back)) == fingerprint(result)


def png_bytes(text: dict | None = None, size=(28, 28)) -> bytes:
    meta = PngInfo()
    for k, v in (text or {}).items():
        meta.add_text(k, v)
    out = io.BytesIO()
    Image.new("L", size).save(out, format="PNG", pnginfo=meta)
    return out.getvalue()


@pytest.mark.parametrize("data,expected", [
    (png_bytes(), "This PNG carries no playground settings"),
    (png_bytes({"genai_demo": "{not json"}), "damaged (not valid JSON)"),
    (png_bytes({"genai_demo": "[1, 2]"}), "not a settings record"),
    (png_bytes({"genai_demo": json.dumps({"model": "image/gan"})}), "not a settings record"),
    (png_bytes({"genai_demo": json.dumps({"model": "image/deepfake", "params": {}})}),
     "names a model this page does not have ('image/deepfake')"),
    (png_bytes({"genai_demo": json.dumps({"model": "text/shakespeare", "params": {}})}), "does not make images"),
    (b"GIF89a" + b"\0" * 100, "not a PNG image"),
    (b"", "not a PNG image"),
])
def test_a_png_without_usable_settings_gets_one_clear_line(page, tmp_path, data, expected):
    path = tmp_path / "dropped.png"
    path.write_bytes(data)
    updates = page.from_png(str(path), "en")
    notice = notice_of(page, updates)
    assert expected.replace("(", "\\(").replace(")", "\\)").replace(".", "\\.") in notice or expected in notice, notice
    assert "\n" not in notice
    assert updates[page.pickers["image"]] == {"__type__": "update"}  # nothing restored


def test_forged_values_in_a_png_fall_back_to_defaults(page, tmp_path):
    record = {"model": "image/vae", "params": {"seed": 5, "num_images": 10**9, "label": "<script>", "temperature": 0.5,
                                               "evil": 1}}
    path = tmp_path / "forged.png"
    path.write_bytes(png_bytes({"genai_demo": json.dumps(record)}))
    updates = page.from_png(str(path), "ko")
    assert restored(page, updates, "image/vae") == {"seed": 5, "num_images": 16, "label": "any", "temperature": 0.5}
    notice = notice_of(page, updates)
    assert notice.startswith("PNG에서 image/vae을") and "num\\_images=1000000000 is out of range" in notice
    assert "&lt;script&gt;" in notice or "\\<script\\>" in notice  # the visitor's markup arrives escaped


def test_a_number_too_large_for_a_float_is_one_line_not_a_crash(page, tmp_path):
    record = {"model": "image/gan", "params": {"seed": 10**400, "num_images": 2, "label": "any", "truncation": 1.0}}
    path = tmp_path / "huge.png"
    path.write_bytes(png_bytes({"genai_demo": json.dumps(record)}))
    updates = page.from_png(str(path), "en")
    assert restored(page, updates, "image/gan")["seed"] == 0  # the default
    assert "seed=1000" in notice_of(page, updates) and "is out of range" in notice_of(page, updates)


def test_png_chunks_are_read_without_decoding_pixels():
    # A huge declared image (a decompression bomb for a decoder) whose settings chunk is still readable.
    data = png_bytes({"genai_demo": json.dumps({"model": "image/gan", "params": {}})})
    ihdr = data.index(b"IHDR")
    bomb = data[:ihdr + 4] + (60000).to_bytes(4, "big") * 2 + data[ihdr + 12:]  # CRC now wrong: not checked
    assert links.read_png_record(bomb)["model"] == "image/gan"
    with pytest.raises(links.SettingsError) as e:
        links.read_png_record(b"\x89PNG\r\n\x1a\n" + b"\0" * (links.MAX_PNG_BYTES + 1))
    assert "too large" in e.value.message("en")


def test_uploads_cannot_name_server_files(app_url):
    """The drop zone takes only files uploaded to Gradio's cache: a page event naming /etc/passwd is refused."""
    import urllib.request

    config = json.loads(urllib.request.urlopen(f"{app_url}config", timeout=30).read())
    drop = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "png-drop")
    fn_index = next(i for i, d in enumerate(config["dependencies"])
                    if drop in [t[0] for t in d["targets"]] and any(t[1] == "upload" for t in d["targets"]))
    body = json.dumps({"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, "en"],
                       "fn_index": fn_index, "session_hash": "abc123"}).encode()
    req = urllib.request.Request(f"{app_url}gradio_api/run/predict", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
    except urllib.error.HTTPError as e:
        text = e.read().decode()
    assert "root:" not in text and "Restored" not in text
    assert "not uploaded" in text or "error" in text.lower(), text[:300]


# -- in the browser --------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_korean_link_restores_its_settings_and_its_copy_reproduces_the_images(browser, app_url):  # noqa: F811
    from playwright.sync_api import expect

    from tests.test_browser import FIRST_GENERATION_TIMEOUT_MS, TIMEOUT_MS

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{app_url}?tab=image&model=image/vae&seed=7&num_images=3&label=5&temperature=0.6&lang=ko")
        # Korean, although the browser is English: ?lang=ko wins.
        expect(page.get_by_role("tab", name="이미지")).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("tab", name="텍스트")).to_be_visible()
        expect(page.get_by_role("heading", name="생성형 AI 놀이터", level=1)).to_be_visible()
        expect(page.get_by_text("생성형 AI", exact=True).first).to_be_visible()  # the lesson
        expect(page.get_by_role("radio", name="VAE: image/vae")).to_be_checked()
        expect(page.get_by_label("이미지 수", exact=True)).to_have_value("3")
        expect(page.get_by_label("시드", exact=True).first).to_have_value("7")  # (the compare section has one too)
        expect(page.get_by_label("number input for 온도")).to_have_value("0.6")
        expect(page.get_by_label("한국어")).to_be_checked()

        generate = page.get_by_role("button", name="생성", exact=True).filter(visible=True)
        generate.click()
        info = page.locator(".genai-info").get_by_test_id("markdown").first
        # The info line is the server's: in the page's language too.
        expect(info).to_contain_text(re.compile(r"image/vae · 시드 7 · 이미지 3장"), timeout=FIRST_GENERATION_TIMEOUT_MS)
        first = gallery_pixels(page)
        assert len(first) == 3

        page.get_by_role("button", name="링크 복사").click()
        link_box = page.locator(".genai-link textarea").filter(visible=True)
        expect(link_box).to_have_value(re.compile(r"model=image%2Fvae&seed=7&num_images=3&label=5&temperature=0.6"))
        link = link_box.input_value()
        assert "lang=ko" in link

        again = context.new_page()
        again.goto(link)
        expect(again.get_by_label("이미지 수", exact=True)).to_have_value("3")
        again.get_by_role("button", name="생성", exact=True).filter(visible=True).click()
        expect(again.locator(".genai-info").get_by_test_id("markdown").first).to_contain_text(
            "image/vae · 시드 7 · 이미지 3장", timeout=FIRST_GENERATION_TIMEOUT_MS)
        assert gallery_pixels(again) == first

        # The switch: English at once, and the address keeps it.
        again.get_by_label("English").check()
        expect(again.get_by_role("button", name="Generate", exact=True).filter(visible=True)).to_be_visible()
        expect(again.get_by_role("tab", name="Text")).to_be_visible()
        assert "lang=en" in again.url

        # A hand-edited link: defaults and one notice, never an error page.
        bad = context.new_page()
        bad.goto(f"{app_url}?model=image/nope&num_images=999")
        expect(bad.locator("#genai-notice")).to_contain_text("unknown model 'image/nope'")
        expect(bad.get_by_role("radio", name="GAN: image/gan")).to_be_checked()
        expect(bad.get_by_label("Number of images", exact=True).filter(visible=True)).to_have_value("16")

        # A downloaded image dropped onto the page brings its model and settings back.
        src = page.locator(".genai-gallery").filter(visible=True).first.locator("img").first.get_attribute("src")
        png = page.request.get(src).body()
        assert b"genai_demo" in png and b"AI-generated" in png
        bad.get_by_text("Restore settings from a PNG").click()
        bad.locator("#png-drop input[type=file]").set_input_files(
            files=[{"name": "digit.png", "mimeType": "image/png", "buffer": png}])
        expect(bad.locator("#genai-notice")).to_contain_text("Restored image/vae with seed 7 from the PNG")
        expect(bad.get_by_role("radio", name="VAE: image/vae")).to_be_checked()
        expect(bad.get_by_label("Number of images", exact=True).filter(visible=True)).to_have_value("3")
        # Generate writes the settings into the address bar: the browser's own address is a share link too.
        bad.get_by_role("button", name="Generate", exact=True).filter(visible=True).click()
        expect(bad).to_have_url(re.compile(r"\?tab=image&model=image%2Fvae&seed=7&num_images=3&label=5&temperature=0\.6$"))
    finally:
        context.close()


def gallery_pixels(page) -> list[bytes]:
    """The output gallery's images as the browser got them, decoded to pixels."""
    images = page.locator(".genai-gallery").filter(visible=True).first.locator("img")
    out = []
    for i in range(images.count()):
        src = images.nth(i).get_attribute("src")
        body = page.request.get(src).body()
        out.append(Image.open(io.BytesIO(body)).tobytes())
    return out


from tests.test_browser import browser  # noqa: E402,F401 (fixture)
