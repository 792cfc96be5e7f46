"""The app as people use it: launched with ``python app.py`` on 127.0.0.1 and called through gradio_client."""

import os
import subprocess
import sys
import time

import pytest
from gradio_client import Client
from PIL import Image

from tests.conftest import ROOT, free_port, wait_for_http


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_importing_the_app_loads_no_heavy_library():
    code = "import sys, app; print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_model_has_a_named_endpoint_with_its_parameter_names(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/image_gan", "/image_vae", "/image_diffusion", "/image_autoregressive", "/image_compare",
                              "/text_shakespeare", "/text_score", "/text_attention", "/audio_chorale",
                              "/audio_harmonise", "/audio_melody_from_midi", "/draw_read", "/draw_vae", "/draw_sdedit",
                              "/draw_inpaint", "/draw_complete", "/draw_gan_search"}
    names = [p["parameter_name"] for p in endpoints["/image_gan"]["parameters"]]
    assert names == ["seed", "num_images", "label", "truncation"]


@pytest.mark.parametrize("api_name,knob", [("/image_gan", "truncation"), ("/image_vae", "temperature")])
def test_generate_through_the_api_returns_upscaled_images_and_info(client, api_name, knob):
    gallery, info = client.predict(seed=42, num_images=5, label="8", api_name=api_name, **{knob: 0.9})
    assert len(gallery) == 5
    image = Image.open(gallery[0]["image"])
    assert image.size == (112, 112)  # 28x28 shown 4x, nearest-neighbour
    model = api_name.strip("/").replace("_", "/")
    assert gallery[0]["caption"] == f"Generated digit 8, {model.split('/')[1].upper()}, seed 42"  # also its alt text
    assert info.startswith(f"**{model}** · seed 42 · 5 images · ") and info.endswith(" parameters · on cpu") and "weights" not in info


def test_same_seed_through_the_api_gives_the_same_pixels(client):
    a, _ = client.predict(seed=9, num_images=3, label="any", truncation=1.0, api_name="/image_gan")
    b, _ = client.predict(seed=9, num_images=3, label="any", truncation=1.0, api_name="/image_gan")
    assert [Image.open(x["image"]).tobytes() for x in a] == [Image.open(x["image"]).tobytes() for x in b]


@pytest.mark.parametrize("kwargs,message", [
    ({"num_images": 1000}, "num_images=1000 is out of range: expected an integer from 1 to 64"),
    ({"num_images": -1}, "num_images=-1 is out of range"),
    ({"num_images": 2.5}, "num_images=2.5 is not a whole number"),
    ({"truncation": "lots"}, "truncation='lots' is not a number: expected a number from 0 to 2"),
    ({"truncation": 1e308 * 10}, "truncation"),  # JSON has no infinity: refused by the client or the server
    ({"label": "eleven"}, "label='eleven' is not a known choice"),
    ({"seed": None}, "seed is missing"),
    ({"seed": [1, 2]}, "seed=[1, 2] has the wrong type"),
    ({"label": "x" * 100000}, "is not a known choice"),
])
def test_bad_input_through_the_api_is_a_clear_error_and_the_server_keeps_serving(client, kwargs, message):
    params = {"seed": 1, "num_images": 2, "label": "any", "truncation": 1.0, **kwargs}
    with pytest.raises(Exception) as e:
        client.predict(**params, api_name="/image_gan")
    # gradio_client itself refuses to encode an infinity ("Out of range float values are not JSON compliant")
    assert message in str(e.value) or (kwargs.get("truncation") == float("inf") and "JSON" in str(e.value))
    gallery, _ = client.predict(seed=1, num_images=2, label="any", truncation=1.0, api_name="/image_gan")
    assert len(gallery) == 2


def test_a_model_with_missing_weights_is_shown_unavailable_and_the_others_work(tmp_path, tiny_weights):
    import shutil

    shutil.copytree(tiny_weights / "image-vae", tmp_path / "image-vae")  # no GAN weights at all
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--no-warmup"], cwd=ROOT,
                            env={**os.environ, "GENAI_WEIGHTS_DIR": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", proc)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        with pytest.raises(Exception, match="image/gan is unavailable: weights not found.*python -m genai_demo train"):
            client.predict(seed=1, num_images=2, label="any", truncation=1.0, api_name="/image_gan")
        gallery, _ = client.predict(seed=1, num_images=2, label="any", temperature=1.0, api_name="/image_vae")
        assert len(gallery) == 2
        page = __import__("urllib.request").request.urlopen(f"http://127.0.0.1:{port}/config").read().decode()
        assert "Unavailable:" in page and "weights not found" in page
    finally:
        proc.terminate()
        proc.wait(10)


def test_share_without_internet_says_so_in_one_line_and_serves_locally():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--share", "--no-warmup"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", proc)
        deadline, lines = time.time() + 60, []
        while time.time() < deadline:
            lines.append(proc.stdout.readline())
            if "share link" in lines[-1] or "Public link" in lines[-1]:
                break
        assert any("Could not create a public share link" in line and "serving locally" in line for line in lines) \
            or any("Public link: https://" in line for line in lines), lines
        assert not any("Traceback" in line for line in lines)
    finally:
        proc.terminate()
        proc.wait(10)


def test_auth_is_required_when_set():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--auth", "teacher:s3cret", "--no-warmup"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", proc)
        with pytest.raises(Exception):
            Client(f"http://127.0.0.1:{port}/", verbose=False).predict(seed=1, api_name="/image_gan")
        client = Client(f"http://127.0.0.1:{port}/", auth=("teacher", "s3cret"), verbose=False)
        assert "/image_gan" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_diffusion_streams_through_the_api(client):
    job = client.submit(seed=5, num_images=2, label="2", scheduler="DDIM", num_inference_steps=6, guidance_scale=3.0,
                        eta=0.0, api_name="/image_diffusion")
    outputs = list(job)
    assert len(outputs) >= 3  # intermediate galleries, then the final one
    gallery, info = job.result()
    assert [g["caption"] for g in gallery] == ["Generated digit 2, diffusion, seed 5"] * 2
    assert info.startswith("**image/diffusion** · seed 5 · 2 images")
    assert outputs[0][0][0]["caption"] == "step 1 of 6"


def test_the_diffusion_default_is_the_distilled_student_and_named_settings_get_what_they_always_got(client):
    """A caller that names nothing gets the student's 4 steps (the same pixels as naming them); a caller that names
    DPM-Solver++ with 20 steps and guidance 1.5, the default before, gets exactly what that sampler draws."""
    import numpy as np

    from genai_demo.registry import Registry
    from genai_demo.ui.image_tab import image_outputs

    parameters = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/image_diffusion"]
    defaults = {p["parameter_name"]: p["parameter_default"] for p in parameters["parameters"]}
    assert (defaults["scheduler"], defaults["num_inference_steps"], defaults["guidance_scale"]) == ("Distilled", 4, 1.5)
    steps = next(p for p in parameters["parameters"] if p["parameter_name"] == "num_inference_steps")
    assert "Each scheduler has its own: Distilled 4 (1-4), DPM-Solver++ 20, DDIM 50, DDPM 200" in str(steps)

    def pixels(gallery) -> list:
        return [np.asarray(Image.open(g["image"] if isinstance(g, dict) else g[0])).tobytes() for g in gallery]

    plain, _ = client.predict(seed=9, num_images=2, label="4", api_name="/image_diffusion")
    named, _ = client.predict(seed=9, num_images=2, label="4", scheduler="Distilled", num_inference_steps=4,
                              api_name="/image_diffusion")
    assert pixels(plain) == pixels(named)
    teacher = dict(seed=9, num_images=2, label="4", scheduler="DPM-Solver++", num_inference_steps=20,
                   guidance_scale=1.5, eta=0.0)
    served, _ = client.predict(**teacher, api_name="/image_diffusion")
    here, _, _ = image_outputs(Registry().get("image/diffusion").generate(**teacher))  # the same shipped weights
    assert pixels(served) == pixels(here) != pixels(plain)


def test_compare_returns_every_family_judged(client):
    out = client.predict(seed=3, label="7", num_images=2, api_name="/image_compare")
    galleries, notes = out[:4], out[4:]
    assert all(len(g) == 2 for g in galleries)
    assert all(" ms per image · recognised " in n and " · confidence " in n for n in notes)
