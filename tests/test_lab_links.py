"""Links and teacher mode for the GAN lab and the quiz, through the page's own load handler (``demo.genai_page``)."""

from __future__ import annotations

from genai_demo import lab
from tests.test_links import demo, notice_of, page, registry, request  # noqa: F401 (fixtures)


def section(page, target_id: str):  # noqa: F811
    return next(s for s in page.sections if s.target.id == target_id)


def values_of(page, updates: dict, target_id: str) -> dict:  # noqa: F811
    s = section(page, target_id)
    return {p.name: updates[c].get("value") for p, c in zip(s.target.params, s.controls)}


def test_a_lab_link_restores_its_settings_and_names_a_bad_one(page):  # noqa: F811
    updates = page.from_link(request({"tab": "lab", "model": "lab/gan", "seed": "5", "distribution": "moons",
                                      "lr_g": "0", "lr_d": "0.0001", "width": "16"}))
    assert updates[page.tabs].selected == "lab"
    values = values_of(page, updates, "lab/gan")
    assert values["seed"] == 5 and values["distribution"] == "moons" and values["width"] == 16
    assert values["lr_d"] == 0.0001 and values["lr_g"] == 0.002  # the bad one falls back to its default...
    assert "lr\\_g=0 is out of range" in notice_of(page, updates)  # ...and the notice says so (Markdown-escaped)


def test_teacher_mode_hides_the_labs_advanced_settings_and_a_quiz_link_names_its_family(page):  # noqa: F811
    updates = page.from_link(request({"tab": "lab", "teacher": "1"}))
    s = section(page, "lab/gan")
    hidden = {p.name for p, c in zip(s.target.params, s.controls) if updates[c].get("visible") is False}
    assert hidden == {p.name for p in lab.PARAMS if p.advanced} == {"d_steps", "optimizer"}
    updates = page.from_link(request({"tab": "quiz", "model": "quiz/digits", "seed": "7", "family": "image/vae"}))
    assert updates[page.tabs].selected == "quiz"
    assert values_of(page, updates, "quiz/digits") == {"seed": 7, "family": "image/vae"}
    assert notice_of(page, updates) == ""
