"""Links to the diffusion model: its sampler's steps and guidance follow the sampler (``Param.follows``), through
the page's own load handler and the sampling method's handlers."""

from __future__ import annotations

import pytest

from genai_demo import lessons
from tests.test_links import (demo, diffusion_controls, notice_of, page, registry, request,  # noqa: F401
                              restored)  # (demo, page, registry: fixtures)


@pytest.mark.parametrize("query,scheduler,steps,maximum,guidance_movable", [
    ({"scheduler": "DPM-Solver++", "num_inference_steps": "20"}, "DPM-Solver++", 20, 1000, True),  # as before
    ({"scheduler": "DPM-Solver++"}, "DPM-Solver++", 20, 1000, True),  # its own 20, not the student's 4
    ({"scheduler": "DDIM", "num_inference_steps": "35"}, "DDIM", 35, 1000, True),
    ({}, "Distilled", 4, 4, False),  # a link from before the student was the default: the new default
    ({"scheduler": "Distilled", "num_inference_steps": "2"}, "Distilled", 2, 4, False),
])
def test_a_diffusion_link_opens_its_sampler_with_its_own_steps_and_guidance(page, query, scheduler, steps, maximum,
                                                                           guidance_movable):
    updates = page.from_link(request({"model": "image/diffusion", "seed": "5", "label": "3", **query}))
    assert notice_of(page, updates) == ""
    values = restored(page, updates, "image/diffusion")
    assert (values["scheduler"], values["num_inference_steps"], values["guidance_scale"]) == (scheduler, steps, 1.5)
    controls = diffusion_controls(page)
    assert updates[controls["num_inference_steps"]]["maximum"] == maximum
    assert updates[controls["guidance_scale"]]["interactive"] is guidance_movable
    assert ("fixed" in str(updates[controls["guidance_scale"]]["info"])) is not guidance_movable


def test_an_old_link_with_20_steps_and_no_sampler_gets_the_students_4_and_one_line(page):
    updates = page.from_link(request({"model": "image/diffusion", "seed": "5", "num_inference_steps": "20"}))
    values = restored(page, updates, "image/diffusion")
    assert (values["scheduler"], values["num_inference_steps"]) == ("Distilled", 4)
    notice = notice_of(page, updates)
    assert "\n" not in notice and "num\\_inference\\_steps=20 is too many for the Distilled sampler" in notice, notice
    assert "using the default, 4" in notice


def test_picking_a_sampler_moves_the_steps_and_guidance_controls(demo, page):
    """The page's own handlers behind the sampling-method dropdown: a pick (``input``) sets the steps to that
    sampler's own number and its range; any change (a preset, a link) sets the range and the guidance's state."""
    controls = diffusion_controls(page)
    sampler, steps, guidance = controls["scheduler"], controls["num_inference_steps"], controls["guidance_scale"]
    assert (steps.value, steps.maximum, guidance.interactive) == (4, 4, False)  # as the page is built: the student
    handlers = {trigger: fn.fn for fn in demo.fns.values() if [c._id for c in fn.inputs] == [sampler._id]
                for _, trigger in fn.targets}
    assert set(handlers) == {"input", "change"}
    for fn in demo.fns.values():
        if [c._id for c in fn.inputs] == [sampler._id]:
            assert [c._id for c in fn.outputs] == [steps._id, guidance._id]
    picked = {name: handlers["input"](name) for name in ("DPM-Solver++", "DDIM", "DDPM", "Distilled")}
    assert {name: (s["value"], s["minimum"], s["maximum"]) for name, (s, _) in picked.items()} == {
        "DPM-Solver++": (20, 1, 1000), "DDIM": (50, 1, 1000), "DDPM": (200, 1, 1000), "Distilled": (4, 1, 4)}
    assert {name: g["interactive"] for name, (_, g) in picked.items()} == {
        "DPM-Solver++": True, "DDIM": True, "DDPM": True, "Distilled": False}
    assert picked["Distilled"][1]["value"] == 1.5 and "value" not in picked["DPM-Solver++"][1]  # guidance kept
    changed_steps, changed_guidance = handlers["change"]("DPM-Solver++")
    assert "value" not in changed_steps and changed_steps["maximum"] == 1000 and changed_guidance["interactive"]
    # Every preset's values pass the model's own check (the student's presets within its 4 steps).
    adapter = page.registry.get("image/diffusion")
    for preset in adapter.presets:
        adapter.validate(lessons.preset_values(adapter, preset))
