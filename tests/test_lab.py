"""The GAN lab, model side: toy data and mode counting, the same bytes for the same seed, bad settings, divergence,
the time budget, one run at a time, Pause, and the shared compute slot. Tiny: a few hundred steps in all."""

from __future__ import annotations

import io
import threading
import time

import pytest
import torch
from PIL import Image

from genai_demo import i18n, lab, lessons
from genai_demo.contract import ParameterError
from genai_demo.lab_sessions import ComputeShare, LabSession, LabSessions
from genai_demo.refusal import Refusal

FAST = ComputeShare(share=1.0)  # no idle time in tests: the share itself is tested on its own below


def session(budget: float = 60.0) -> LabSession:
    return LabSession(gate=FAST, budget=budget)


def small(**values) -> dict:
    return {"width": 8, **values}


def test_the_toys_and_how_modes_are_counted():
    g = torch.Generator().manual_seed(0)
    ring = lab.TOYS["ring"]
    assert len(ring.centres) == 8 and ring.sample(64, g).shape == (64, 2)
    centres = torch.tensor(ring.centres)
    # 1,000 points: 100 exactly on each of three modes, the rest far away; 40 (4%) on a fourth do not count.
    points = torch.cat([centres[0].repeat(100, 1), centres[1].repeat(100, 1), centres[2].repeat(100, 1),
                        centres[3].repeat(40, 1), torch.full((660, 2), 9.0)])
    assert lab.modes_covered(points, ring) == 3
    near = centres[4] + torch.tensor([[2 * ring.std * 0.99, 0.0]])  # just inside 2 standard deviations
    assert lab.modes_covered(torch.cat([near.repeat(50, 1), torch.full((950, 2), 9.0)]), ring) == 1
    assert lab.modes_covered(points, lab.TOYS["moons"]) is None
    real = lab.TOYS["grid"].sample(1000, g)
    assert lab.modes_covered(real, lab.TOYS["grid"]) == 25  # the real data covers every mode


def test_the_same_seed_gives_the_same_bytes_however_the_steps_are_split():
    a, b, c = session(), session(), session()
    a.reset(small(seed=7))
    first = a.step(small(seed=7), 60)
    b.step(small(seed=7), 20)
    b.step(small(seed=7), 40)
    second = b.step(small(seed=7), 0)
    assert first.png == second.png and first.step == second.step == 60
    assert first.numbers() | {"trained_seconds": 0} == second.numbers() | {"trained_seconds": 0}
    for p, q in zip(a.run.G.state_dict().values(), b.run.G.state_dict().values()):
        assert torch.equal(p, q)
    assert c.step(small(seed=8), 60).png != first.png  # another seed, another run
    picture = Image.open(io.BytesIO(first.png))
    assert picture.size == (488, 240) and picture.mode == "P" and len(first.png) < 30_000


@pytest.mark.parametrize("value", [0, -0.001, 1e9, float("nan"), "fast"])
def test_a_bad_learning_rate_is_one_line_naming_it(value):
    with pytest.raises(ParameterError) as caught:
        session().step(small(lr_g=value), 10)
    line = str(caught.value)
    assert line.startswith("lr_g=") and "\n" not in line and "expected a number from 0.0001 to 1" in line
    with pytest.raises(ParameterError, match="lr_d="):
        session().reset(small(lr_d=value))
    with pytest.raises(ParameterError, match="no setting speed"):
        lab.validate({"speed": 2})


def test_a_diverging_run_says_so_and_only_reset_goes_on():
    s = session()
    diverge = next(p for p in lab.PRESETS if p.name == "diverge").values
    frame = s.step(small(**diverge), 200)
    assert frame.state == "diverged" and s.run.diverged and frame.step < 200  # it stopped where it broke
    assert frame.d_loss is None or frame.g_loss is None or not all(map(abs, (frame.d_loss, frame.g_loss)))
    with pytest.raises(Refusal) as caught:
        s.step(small(**diverge), 10)
    assert "diverged" in str(caught.value) and "Reset" in str(caught.value)
    assert "발산" in caught.value.message("ko")
    with pytest.raises(Refusal, match="diverged"):
        next(s.play(small(**diverge)))
    assert not s.training  # nothing left running
    fresh = s.reset(small(**diverge))
    assert fresh.state == "ready" and fresh.step == 0
    Image.open(io.BytesIO(frame.png)).verify()  # the diverged run's picture is still a picture


def test_a_run_trains_for_its_budget_then_stops_and_says_so():
    s = session(budget=0.3)
    frames = list(s.play(small()))
    assert frames[-1].state == "spent" and frames[-1].step > 0 and not s.training
    assert 0.3 <= s.run.trained_seconds < 5
    with pytest.raises(Refusal, match="used its 0 seconds|used its"):
        next(s.play(small()))
    assert s.reset(small()).step == 0  # Reset starts a new run with a new budget
    assert [f.step for f in s.play(small())][-1] > 0


def test_one_thing_trains_a_run_at_a_time_and_leaving_stops_it():
    s = session()
    playing = s.play(small())
    next(playing)  # training, and holding the run
    assert s.training
    with pytest.raises(Refusal) as caught:
        s.step(small(), 10)
    assert str(caught.value) == i18n.message("lab:busy", "en")
    with pytest.raises(Refusal):
        next(s.play(small()))
    playing.close()  # the visitor left: Gradio closes the generator
    assert not s.training
    assert s.step(small(), 10).state == "paused"


def test_pause_stops_training_at_the_next_check():
    s = session()
    frames, done = [], threading.Event()

    def train():
        for f in s.play(small()):
            frames.append(f)
        done.set()

    threading.Thread(target=train, daemon=True).start()
    deadline = time.time() + 30
    while not frames and time.time() < deadline:
        time.sleep(0.01)
    assert s.pause() is True
    assert done.wait(30) and frames[-1].state == "paused" and not s.training
    assert s.pause() is False  # nothing is training now


def test_new_learning_rates_keep_the_run_and_new_structure_starts_a_new_one():
    s = session()
    s.step(small(), 20)
    run = s.run
    s.step(small(lr_g=0.01), 10)
    assert s.run is run and run.opt_g.param_groups[0]["lr"] == 0.01 and run.steps == 30
    s.step(small(width=9), 10)
    assert s.run is not run and s.run.steps == 10


def test_the_compute_share_leaves_the_rest_of_the_time_idle():
    gate = ComputeShare(share=0.5)
    start = time.perf_counter()
    with gate.slot():
        busy_until = time.perf_counter() + 0.05
        while time.perf_counter() < busy_until:
            pass
    assert time.perf_counter() - start >= 0.1  # 0.05 s of work, then as long idle, holding the slot


def test_sessions_are_kept_per_visitor_and_bounded():
    sessions = LabSessions(limit=2)
    a = sessions.get("a")
    assert sessions.get("a") is a
    sessions.get("b"), sessions.get("c")
    assert sessions.get("a") is not a  # the least recently used was dropped


def test_the_presets_fit_and_speak_both_languages():
    target = type("Lab", (), {"params": lab.PARAMS, "presets": lab.PRESETS})
    assert {p.name for p in lessons.presets_for(target)} == {"default", "collapse", "diverge"}
    for preset in lab.PRESETS:
        assert set(preset.texts) == set(i18n.LANGUAGES)
    collapse = next(p for p in lab.PRESETS if p.name == "collapse")
    assert "mode collapse" in collapse.texts["en"][0] and "모드 붕괴" in collapse.texts["ko"][0]
