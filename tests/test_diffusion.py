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


def test_many_steps_stream_a_bounded_number_of_frames(diffusion):
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
