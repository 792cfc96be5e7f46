"""Adapters: the contract's generate() on tiny checkpoints, and what happens when weights are missing or broken."""

import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from genai_demo.contract import ModelUnavailable, ParameterError
from genai_demo.registry import Registry


@pytest.fixture
def registry(tiny_weights):
    return Registry(tiny_weights)


@pytest.mark.parametrize("model_id,knob", [("image/gan", "truncation"), ("image/vae", "temperature")])
def test_generate_returns_digits_and_an_info_record(registry, model_id, knob):
    result = registry.get(model_id).generate(seed=7, num_images=5, label="3", **{knob: 0.5})
    assert len(result.images) == 5
    assert all(isinstance(im, Image.Image) and im.size == (28, 28) and im.mode == "L" for im in result.images)
    assert result.labels == [3] * 5 and result.captions == ["3"] * 5
    info = result.info
    assert info["model"] == model_id and info["seed"] == 7 and info["done"] is True
    assert info["params"] == {"seed": 7, "num_images": 5, "label": "3", knob: 0.5}
    assert info["seconds"] > 0 and info["parameters"] > 1000 and len(info["weights_version"]) == 12


@pytest.mark.parametrize("model_id", ["image/gan", "image/vae"])
def test_same_seed_same_bytes_other_seed_other_images(registry, model_id):
    model = registry.get(model_id)
    a = [im.tobytes() for im in model.generate(seed=11, num_images=8).images]
    b = [im.tobytes() for im in model.generate(seed=11, num_images=8).images]
    c = [im.tobytes() for im in model.generate(seed=12, num_images=8).images]
    assert a == b and a != c


def test_label_any_draws_random_digits_and_reports_none_requested(registry):
    result = registry.get("image/gan").generate(seed=3, num_images=64, label="any")
    assert result.labels == [-1] * 64
    drawn = {c.split()[0] for c in result.captions}
    assert len(drawn) >= 8 and all(c.endswith("(random)") for c in result.captions)


def test_loading_happens_once_even_when_requests_arrive_together(registry, monkeypatch):
    vae = registry.get("image/vae")
    calls = []
    original = type(vae)._load

    def counting_load(self, weights_dir):
        calls.append(1)
        return original(self, weights_dir)

    monkeypatch.setattr(type(vae), "_load", counting_load)
    results, barrier = [], threading.Barrier(6)

    def worker(seed):
        barrier.wait()
        results.append(vae.generate(seed=seed, num_images=2).images[0].tobytes())

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 6 and len(set(results)) == 6


def test_corrupt_weights_make_the_model_unavailable_with_the_reason(tmp_path, tiny_weights):
    shutil.copytree(tiny_weights, tmp_path, dirs_exist_ok=True)
    (tmp_path / "image-gan" / "model.safetensors").write_bytes(b"\x00garbage, not a safetensors file")
    registry = Registry(tmp_path)
    gan = registry.get("image/gan")
    reason = gan.unavailable_reason()  # found without loading: the safetensors header does not parse
    assert "are broken (model.safetensors" in reason and "python -m genai_demo train image/gan" in reason
    with pytest.raises(ModelUnavailable) as e:
        gan.generate(seed=0)
    assert str(e.value) == f"image/gan is unavailable: {reason}" and "\n" not in str(e.value)
    assert gan.describe()["available"] is False
    assert registry.get("image/vae").generate(seed=0, num_images=1).images  # the other model still works


def test_mismatched_config_is_reported_not_crashed(tmp_path, tiny_weights):
    shutil.copytree(tiny_weights, tmp_path, dirs_exist_ok=True)
    (tmp_path / "image-vae" / "config.json").write_text('{"latent_dim": 99}')
    with pytest.raises(ModelUnavailable, match="image/vae is unavailable: weights in .* could not be loaded"):
        Registry(tmp_path).get("image/vae").generate(seed=0)


def test_bad_parameters_are_refused_before_any_work(registry):
    gan = registry.get("image/gan")
    for bad in ({"num_images": 0}, {"num_images": 65}, {"truncation": float("nan")}, {"label": "10"}, {"seed": 2**32}):
        with pytest.raises(ParameterError):
            gan.generate(**bad)


def test_shipped_weights_load_and_draw():
    """The committed checkpoints in weights/ are complete and loadable, offline."""
    registry = Registry()
    for model in registry:
        assert model.unavailable_reason() is None, model.id
    for model in registry.by_modality("image"):  # the text model's shipped weights: tests/test_text.py
        result = model.generate(seed=0, num_images=4, label="5")
        arr = np.stack([np.asarray(im) for im in result.images])
        assert arr.shape == (4, 28, 28) and arr.max() > 200 and arr.mean() < 100  # white ink on black, like MNIST
