"""The diffusion model: diffusers UNet + schedulers, classifier-free guidance, streaming and the trajectory."""

import json

import pytest
import torch

from genai_demo.contract import ParameterError
from genai_demo.models.diffusion import NULL_CLASS, SCHEDULERS, guided_noise, make_scheduler, make_train_scheduler, make_unet, sample
from genai_demo.registry import Registry


@pytest.fixture
def diffusion(tiny_weights):
    return Registry(tiny_weights).get("image/diffusion")


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_every_scheduler_samples_in_range_and_is_seeded(name):
    torch.manual_seed(0)
    unet = make_unet("tiny").eval()
    config = make_train_scheduler().config

    def run(seed):
        steps = list(sample(unet, make_scheduler(name, config), torch.tensor([1, 7]), torch.Generator().manual_seed(seed),
                            num_inference_steps=2, guidance_scale=2.0, eta=0.5))
        return steps

    a, b, c = run(0), run(0), run(1)
    assert len(a) == 2 and [s[0] for s in a] == [0, 1]
    x, x0 = a[-1][2], a[-1][3]
    assert x.shape == x0.shape == (2, 1, 28, 28)
    assert x0.min() >= -1 and x0.max() <= 1
    assert torch.equal(x, b[-1][2]) and not torch.equal(x, c[-1][2])
    assert a[0][1] > a[1][1]  # timesteps run from noisy to clean


def test_guidance_mixes_conditional_and_null_predictions():
    torch.manual_seed(0)
    unet = make_unet("tiny").eval()
    x, t, y = torch.randn(2, 1, 28, 28), torch.tensor(500), torch.tensor([3, 4])
    with torch.no_grad():
        cond = unet(x, t, class_labels=y).sample
        null = unet(x, t, class_labels=torch.full_like(y, NULL_CLASS)).sample
        assert torch.allclose(guided_noise(unet, x, t, y, 0.0), null, atol=1e-5)
        assert torch.allclose(guided_noise(unet, x, t, y, 1.0), cond, atol=1e-5)
        assert torch.allclose(guided_noise(unet, x, t, y, 3.0), null + 3 * (cond - null), atol=1e-4)


def test_training_step_lowers_the_denoising_loss(mnist_dir):
    from genai_demo.train.common import mnist_tensors

    torch.manual_seed(0)
    x, y, _ = mnist_tensors(mnist_dir, limit=16)
    x = x * 2 - 1
    unet, sched = make_unet("tiny"), make_train_scheduler()
    noise, t = torch.randn_like(x), torch.randint(0, 1000, (16,))
    x_t = sched.add_noise(x, noise, t)
    opt = torch.optim.Adam(unet.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        loss = torch.nn.functional.mse_loss(unet(x_t, t, class_labels=y).sample, noise)
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_checkpoint_is_a_diffusers_folder(tiny_weights):
    from diffusers import DDPMScheduler, UNet2DModel

    folder = tiny_weights / "image-diffusion"
    unet = UNet2DModel.from_pretrained(folder, subfolder="unet")
    assert unet.config.num_class_embeds == NULL_CLASS + 1
    assert DDPMScheduler.from_pretrained(folder, subfolder="scheduler").config.num_train_timesteps == 1000
    assert json.loads((folder / "unet" / "config.json").read_text())["_class_name"] == "UNet2DModel"


def test_adapter_streams_intermediate_images_then_the_result_with_its_trajectory(diffusion):
    results = list(diffusion.stream(seed=3, num_images=3, label="5", scheduler="DDIM", num_inference_steps=4,
                                    guidance_scale=2.0, eta=0.0))
    assert [r.done for r in results] == [False, False, False, True]
    final = results[-1]
    assert len(final.images) == 3 and final.images[0].size == (28, 28) and final.labels == [5, 5, 5]
    assert [f["label"] for f in final.process] == [f"step {i} of 4 (t = {t})" for i, t in
                                                   zip(range(1, 5), (750, 500, 250, 0))]
    assert set(final.process[0]["images"]) == {"noisy image x_t", "predicted clean image x_0"}
    again = diffusion.generate(seed=3, num_images=3, label="5", scheduler="DDIM", num_inference_steps=4,
                               guidance_scale=2.0, eta=0.0)
    assert [im.tobytes() for im in again.images] == [im.tobytes() for im in final.images]


def test_many_steps_stream_a_bounded_number_of_frames(diffusion, monkeypatch):
    # (On a busy machine slow steps add a frame every STREAM_INTERVAL: out of the count here.)
    monkeypatch.setattr("genai_demo.adapters.diffusion.STREAM_INTERVAL", 3600.0)
    results = list(diffusion.stream(seed=0, num_images=1, scheduler="DDPM", num_inference_steps=60))
    assert 10 < len(results) <= 26 and len(results[-1].process) == 21


@pytest.mark.parametrize("bad,message", [
    ({"num_inference_steps": 0}, "num_inference_steps=0 is out of range: expected an integer from 1 to 1000"),
    ({"num_inference_steps": 100000}, "num_inference_steps=100000 is out of range"),
    ({"guidance_scale": -5}, "guidance_scale=-5 is out of range: expected a number from 0 to 15"),
    ({"guidance_scale": float("nan")}, "guidance_scale=nan is not a finite number"),
    ({"scheduler": "Euler"}, "scheduler='Euler' is not a known choice: expected one of DPM-Solver++, DDIM, DDPM"),
    ({"eta": 2}, "eta=2 is out of range"),
])
def test_bad_input_is_refused_with_a_clear_message(diffusion, bad, message):
    with pytest.raises(ParameterError) as e:
        diffusion.generate(**bad)
    assert str(e.value) == message or str(e.value).startswith(message)


# -- the few-step student (issue 13) ------------------------------------------------------------------------------

class CallCounter:
    """Counts a UNet's calls and the images they carry (a guided step sends each image twice)."""

    def __init__(self, unet, monkeypatch):
        self.calls = self.images = 0
        forward = unet.forward

        def counted(x, *args, **kwargs):
            self.calls += 1
            self.images += len(x)
            return forward(x, *args, **kwargs)

        monkeypatch.setattr(unet, "forward", counted)


def test_the_adapter_and_the_model_name_the_student_alike():
    from genai_demo.adapters import diffusion as adapter
    from genai_demo.models import diffusion as model

    assert (adapter.STUDENT, adapter.STUDENT_MAX_STEPS) == (model.STUDENT, model.STUDENT_MAX_STEPS)
    assert adapter.STUDENT in adapter.DiffusionAdapter.params[3].choices


def test_student_starts_as_the_teacher_and_has_one_more_output_channel():
    from genai_demo.models.diffusion import make_student

    torch.manual_seed(0)
    teacher = make_unet("tiny").eval()
    student = make_student(teacher).eval()
    x, t, y = torch.randn(2, 1, 28, 28), torch.tensor(300), torch.tensor([3, 4])
    with torch.no_grad():
        out = student(x, t, class_labels=y).sample
        assert out.shape == (2, 2, 28, 28)
        assert torch.allclose(out[:, :1], teacher(x, t, class_labels=y).sample, atol=1e-5)
        assert torch.equal(out[:, 1:], torch.zeros_like(out[:, 1:]))  # the direct x_0 guess starts at nothing


@pytest.mark.parametrize("steps,timesteps", [(1, [999]), (2, [999, 499]), (3, [999, 666, 333]),
                                             (4, [999, 749, 499, 249])])
def test_student_timesteps_run_from_pure_noise(steps, timesteps):
    from genai_demo.models.diffusion import student_timesteps

    assert student_timesteps(steps) == timesteps


@pytest.mark.parametrize("steps", [1, 4])
def test_the_distilled_sampler_through_the_adapter_is_seeded_and_streams_its_steps(diffusion, steps):
    results = list(diffusion.stream(seed=3, num_images=3, label="5", scheduler="Distilled", num_inference_steps=steps))
    assert [r.done for r in results] == [False] * (steps - 1) + [True]
    final = results[-1]
    assert len(final.images) == 3 and final.images[0].size == (28, 28) and final.labels == [5, 5, 5]
    assert [f["label"] for f in final.process] == [f"step {i + 1} of {steps} (t = {t})" for i, t in
                                                   enumerate([999, 749, 499, 249][:steps] if steps == 4 else [999])]
    again = diffusion.generate(seed=3, num_images=3, label="5", scheduler="Distilled", num_inference_steps=steps)
    other = diffusion.generate(seed=4, num_images=3, label="5", scheduler="Distilled", num_inference_steps=steps)
    assert [im.tobytes() for im in again.images] == [im.tobytes() for im in final.images]
    assert [im.tobytes() for im in other.images] != [im.tobytes() for im in final.images]
    # The guidance slider does not reach the student: its guidance is built in.
    other_guidance = diffusion.generate(seed=3, num_images=3, label="5", scheduler="Distilled",
                                        num_inference_steps=steps, guidance_scale=7.0)
    assert [im.tobytes() for im in other_guidance.images] == [im.tobytes() for im in final.images]


@pytest.mark.parametrize("scheduler,steps,guidance", [("Distilled", 4, 1.5), ("Distilled", 1, 3.0),
                                                      ("DPM-Solver++", 5, 1.5), ("DDIM", 3, 1.0)])
def test_network_calls_are_what_the_bench_and_the_lesson_claim(diffusion, monkeypatch, scheduler, steps, guidance):
    from bench.diffusion_samplers import network_calls

    unet = diffusion.load()
    teacher, student = CallCounter(unet, monkeypatch), CallCounter(unet.student, monkeypatch)
    diffusion.generate(seed=0, num_images=3, label="2", scheduler=scheduler, num_inference_steps=steps,
                       guidance_scale=guidance)
    used, unused = (student, teacher) if scheduler == "Distilled" else (teacher, student)
    assert unused.calls == 0 and used.calls == steps
    assert used.images / 3 == network_calls(scheduler, steps, guidance)  # network evaluations per image
    assert network_calls("Distilled", 4, 1.5) * 10 == network_calls("DPM-Solver++", 20, 1.5) == 40
    # The serving layer's estimate counts the same calls: the default (the student's 4 steps) costs a tenth of
    # DPM-Solver++'s 20 with guidance, the default before it.
    teacher = diffusion.validate({"scheduler": "DPM-Solver++"})
    assert teacher["num_inference_steps"] == 20 and teacher["guidance_scale"] == 1.5
    assert diffusion.estimate_seconds(diffusion.validate({})) * 10 == pytest.approx(diffusion.estimate_seconds(teacher))


def test_the_default_request_is_the_students_4_steps_and_the_same_seed_gives_the_same_bytes(diffusion, monkeypatch):
    unet = diffusion.load()
    teacher, student = CallCounter(unet, monkeypatch), CallCounter(unet.student, monkeypatch)
    first = diffusion.generate(seed=11, num_images=3)  # everything else at its default
    assert first.info["params"]["scheduler"] == "Distilled" and first.info["params"]["num_inference_steps"] == 4
    assert (teacher.calls, student.calls) == (0, 4)  # 4 network calls per image, none of the teacher's
    again = diffusion.generate(seed=11, num_images=3)
    named = diffusion.generate(seed=11, num_images=3, scheduler="Distilled", num_inference_steps=4)
    other = diffusion.generate(seed=12, num_images=3)
    assert [im.tobytes() for im in again.images] == [im.tobytes() for im in first.images]
    assert [im.tobytes() for im in named.images] == [im.tobytes() for im in first.images]
    assert [im.tobytes() for im in other.images] != [im.tobytes() for im in first.images]


def test_the_students_default_leaves_the_heavy_lane(diffusion, tiny_weights, tmp_path):
    """The serving layer plans from the default request's cost: the student's 4 calls per image (16 images about
    0.34 s) run in the worker, two at a time in the model's own lane; DPM-Solver++'s 40 (about 3.4 s) took the one
    heavy slot that the PixelCNN and the comparison share."""
    import shutil

    from genai_demo.serving import plan

    assert diffusion.estimate_seconds(diffusion.validate({})) == pytest.approx(0.336)
    assert plan(diffusion) == type(plan(diffusion))(in_worker=True, concurrency_limit=2)
    shutil.copytree(tiny_weights / "image-diffusion", tmp_path / "image-diffusion", ignore=shutil.ignore_patterns("student"))
    without_student = Registry(tmp_path).get("image/diffusion")  # its default: DPM-Solver++, 20 steps
    assert plan(without_student).concurrency_id == "heavy"


@pytest.mark.parametrize("given,steps,guidance", [
    ({}, 4, 1.5), ({"scheduler": "DPM-Solver++"}, 20, 1.5), ({"scheduler": "DDIM"}, 50, 1.5),
    ({"scheduler": "DDPM"}, 200, 1.5), ({"scheduler": "DPM-Solver++", "num_inference_steps": 7}, 7, 1.5),
    ({"scheduler": "Distilled", "guidance_scale": 3.0}, 4, 3.0),  # accepted, and ignored: built into the student
])
def test_steps_left_out_are_the_chosen_samplers_own(diffusion, given, steps, guidance):
    values = diffusion.validate(given)
    assert (values["num_inference_steps"], values["guidance_scale"]) == (steps, guidance)


def test_a_caller_naming_dpm_solver_and_20_steps_gets_the_teachers_sampler_unchanged(diffusion):
    """What an API caller asked for before the student became the default: the teacher's own DPM-Solver++ path."""
    from genai_demo.adapters.digits import to_pil

    params = dict(seed=4, num_images=2, label="6", scheduler="DPM-Solver++", num_inference_steps=20, guidance_scale=1.5)
    result = diffusion.generate(**params)
    unet = diffusion.load()
    generator, labels, _, _ = diffusion._labels(4, 2, "6")
    *_, (_, _, x, _) = sample(unet, make_scheduler("DPM-Solver++", unet.noise_scheduler_config), labels, generator,
                              20, 1.5, 0.0)
    assert [im.tobytes() for im in result.images] == [im.tobytes() for im in to_pil((x.clamp(-1, 1) + 1) / 2)]


@pytest.mark.parametrize("steps", [5, 20, 1000])
def test_too_many_steps_for_the_student_are_refused_in_one_line_in_both_languages(diffusion, steps):
    from genai_demo.ui.errors import for_page

    with pytest.raises(ParameterError) as e:
        diffusion.generate(scheduler="Distilled", num_inference_steps=steps)
    assert str(e.value) == (f"num_inference_steps={steps} is too many for the Distilled sampler: expected an integer "
                            "from 1 to 4")
    assert for_page(e.value, "en") == f"Denoising steps: {steps} is outside the range; choose a whole number from 1 to 4."
    assert for_page(e.value, "ko").startswith(f"노이즈 제거 단계 수: {steps}") and "1" in for_page(e.value, "ko")


def test_without_the_student_only_the_distilled_sampler_is_refused(tiny_weights, tmp_path):
    import shutil

    from genai_demo.contract import ModelUnavailable

    shutil.copytree(tiny_weights / "image-diffusion", tmp_path / "image-diffusion", ignore=shutil.ignore_patterns("student"))
    adapter = Registry(tmp_path).get("image/diffusion")
    assert adapter.unavailable_reason() is None
    # Its default is the teacher's DPM-Solver++ with 20 steps (the student's 4 where the student is there).
    assert {k: adapter.validate({})[k] for k in ("scheduler", "num_inference_steps")} == {
        "scheduler": "DPM-Solver++", "num_inference_steps": 20}
    assert len(adapter.generate(seed=1, num_images=2, num_inference_steps=2).images) == 2
    with pytest.raises(ModelUnavailable) as e:
        adapter.generate(seed=1, num_images=2, scheduler="Distilled", num_inference_steps=2)
    assert "\n" not in str(e.value) and "train image/diffusion-student" in str(e.value)


def test_the_student_counts_in_the_weights_version(tiny_weights, tmp_path):
    import shutil

    shutil.copytree(tiny_weights / "image-diffusion", tmp_path / "image-diffusion")
    with_student = Registry(tmp_path).get("image/diffusion")
    with_student.load()
    shutil.rmtree(tmp_path / "image-diffusion" / "student")
    without = Registry(tmp_path).get("image/diffusion")
    without.load()
    assert with_student.weights_version != without.weights_version


def test_distilling_lowers_the_students_error_and_saves_a_loadable_student(tmp_path):
    from genai_demo.models.diffusion import make_student, make_train_scheduler
    from genai_demo.train import get_trainer
    from genai_demo.train.diffusion_student import rollout_loss, teacher_digits

    # A few steps on one batch: the error of the student's few-step path to the teacher's digits goes down.
    torch.manual_seed(0)
    teacher, sched = make_unet("tiny").eval(), make_train_scheduler()
    z, y, x0 = teacher_digits(teacher, sched, 8, torch.Generator().manual_seed(0), steps=3, guidance=1.5)
    student = make_student(teacher)
    opt = torch.optim.Adam(student.parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        loss = rollout_loss(student, z, y, x0, 2, sched.alphas_cumprod)
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]

    # The training command end to end, into the teacher's folder, where the adapter finds the student.
    root = tmp_path / "weights"
    make_unet("tiny").save_pretrained(root / "image-diffusion" / "unet")
    sched.save_pretrained(root / "image-diffusion" / "scheduler")
    out = root / "image-diffusion" / "student"
    summary = get_trainer("image/diffusion-student")(None, out, preset="tiny", teacher_dir=root / "image-diffusion",
                                                     max_steps=3, batch_size=4, limit=8, teacher_steps=2)
    assert summary["steps"] == 3 and summary["guidance_scale"] == 1.5
    for name in ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "train_log.jsonl", "training.json",
                 "README.md", "samples/final_4step.png"):
        assert (out / name).is_file(), name
    assert "3 steps" in (out / "README.md").read_text()
    adapter = Registry(root).get("image/diffusion")
    assert len(adapter.generate(seed=1, num_images=2, scheduler="Distilled", num_inference_steps=2).images) == 2
