"""A visitor's own digit (genai_demo/adapters/drawing.py, genai_demo/models/own_digit.py): centring like MNIST, the
checks on a picture, and each family's task on tiny random models (CPU, a few steps)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from genai_demo.adapters.drawing import MAX_BYTES, DrawingError, decode_digit, digit_from_image, encode_digit, ink_of
from genai_demo.adapters.drawing_tasks import DRAWING_TASKS, drawing_tasks
from genai_demo.contract import ParameterError
from genai_demo.models.own_digit import center_like_mnist
from genai_demo.registry import Registry


def sketch(size=280, box=(60, 40, 100, 220), ink="black", paper="white", mode="RGB") -> Image.Image:
    """A tall stroke (a "1") off-centre on a canvas, like the sketchpad's."""
    image = Image.new(mode, (size, size), paper)
    ImageDraw.Draw(image).rectangle(box, fill=ink)
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_drawing_is_centred_the_way_mnist_digits_are():
    digit = digit_from_image(sketch())
    assert digit.shape == (28, 28) and digit.dtype == np.float32 and 0 <= digit.min() and digit.max() <= 1
    rows, cols = np.flatnonzero(digit.max(1) > 0.05), np.flatnonzero(digit.max(0) > 0.05)
    assert rows[-1] - rows[0] + 1 == 20  # the longer side fills the 20-pixel box
    assert 3 <= cols[-1] - cols[0] + 1 <= 6  # the aspect ratio is kept: 41 x 181 -> about 5 x 20
    ys, xs = np.indices(digit.shape)
    cy, cx = (ys * digit).sum() / digit.sum(), (xs * digit).sum() / digit.sum()
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5  # centre of mass at the field's centre


def test_light_on_dark_dark_on_light_and_a_transparent_layer_give_the_same_digit():
    dark_on_light = digit_from_image(sketch())
    light_on_dark = digit_from_image(sketch(ink="white", paper="black"))
    layer = digit_from_image(sketch(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA"))  # the pad's composite
    assert np.abs(dark_on_light - light_on_dark).max() < 1e-6
    assert np.abs(dark_on_light - layer).max() < 1e-6
    assert center_like_mnist(np.zeros((50, 50))) is None


def test_a_digit_already_centred_like_mnist_stays_itself():
    image = Image.new("L", (28, 28))
    ImageDraw.Draw(image).ellipse((8, 4, 19, 23), outline=255, width=2)  # a "0", 20 rows tall, in the middle
    original = np.asarray(image, dtype=np.float32) / 255
    assert np.abs(digit_from_image(image) - original).mean() < 0.03


@pytest.mark.parametrize("source, key", [
    (None, "empty"),
    (b"", "empty"),
    (sketch(box=(0, 0, 0, 0), ink="white"), "blank"),  # white on white
    (b"not a picture at all" * 100, "not_image"),
    (b"%PDF-1.4 " + b"x" * 500, "not_image"),
])
def test_a_bad_picture_is_one_line(source, key):
    with pytest.raises(DrawingError) as caught:
        digit_from_image(png_bytes(source) if isinstance(source, Image.Image) else source)
    assert caught.value.key == key and "\n" not in str(caught.value)


def test_a_picture_over_10_mb_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png_bytes(sketch()) + b"\0" * (20 * 1024 * 1024))  # a 20 MB file
    with pytest.raises(DrawingError) as caught:
        digit_from_image(big)
    assert caught.value.key == "too_large" and "20.0 MB" in str(caught.value)
    assert MAX_BYTES == 10 * 1024 * 1024


def test_a_picture_with_too_many_pixels_is_refused_from_its_header():
    huge = png_bytes(Image.new("1", (5000, 5000)))  # a few kB on disk, 25 million pixels
    with pytest.raises(DrawingError) as caught:
        ink_of(huge)
    assert caught.value.key == "too_many_pixels" and "5000x5000" in str(caught.value)


def test_the_digit_parameter_round_trips_and_refuses_garbage():
    digit = digit_from_image(sketch())
    code = encode_digit(digit)
    assert len(code) == 1568 and np.abs(decode_digit(code) - digit).max() <= 0.5 / 255 + 1e-6
    for bad in ("", "zz" * 784, "00" * 100):
        with pytest.raises(ParameterError):
            decode_digit(bad)
    with pytest.raises(DrawingError) as caught:
        decode_digit("00" * 784)
    assert caught.value.key == "blank"


# -- the tasks, on tiny random models -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def registry(tiny_weights):
    return Registry(tiny_weights)


@pytest.fixture(scope="module")
def drawn():
    return encode_digit(digit_from_image(sketch()))


FAST = {"draw/vae": {"num_frames": 3}, "draw/sdedit": {"num_inference_steps": 8, "strength": 0.5},
        "draw/inpaint": {"num_inference_steps": 4}, "draw/complete": {"num_images": 2, "keep_rows": 24},
        "draw/gan_search": {"num_steps": 6, "num_starts": 2}}


def test_every_task_is_in_the_registry_and_uses_its_models_adapter(registry):
    assert sorted(registry.tasks) == sorted(cls.id for cls in DRAWING_TASKS)
    for task in registry.tasks.values():
        assert registry.get(task.id) is task and task.base is registry.get(task.base.id)
        assert task.unavailable_reason() is None and task.modality == "image"
    assert [t.id for t in drawing_tasks(registry.by_modality("image"))] == [cls.id for cls in DRAWING_TASKS]
    assert all(not m.id.startswith("draw/") for m in registry)  # not in any model picker


@pytest.mark.parametrize("task_id", sorted(FAST))
def test_each_task_streams_and_ends_with_the_readings_and_is_deterministic(registry, drawn, task_id):
    task = registry.get(task_id)
    results = list(task.stream(digit=drawn, seed=3, **FAST[task_id]))
    final = results[-1]
    assert final.done and all(not r.done for r in results[:-1])
    assert final.info["reading"]["digit"] in range(10) and len(final.info["reading"]["probabilities"]) == 10
    assert final.info["label_used"] == final.info["reading"]["digit"]  # "auto": what the classifier read
    assert len(final.captions) == len(final.images)
    again = task.generate(digit=drawn, seed=3, **FAST[task_id])
    assert [im.tobytes() for im in again.images] == [im.tobytes() for im in final.images]
    if task_id != "draw/vae":
        assert final.process and len(results) > 1  # it shows its steps, and streams them


def test_a_chosen_label_is_what_the_model_is_told(registry, drawn):
    result = registry.get("draw/gan_search").generate(digit=drawn, label="4", seed=0, **FAST["draw/gan_search"])
    assert result.info["label_used"] == 4 and result.labels == [4, 4]


def test_completion_keeps_the_rows_it_was_given(registry, drawn):
    from genai_demo.models.pixelcnn import quantize

    import torch

    result = registry.get("draw/complete").generate(digit=drawn, seed=1, **FAST["draw/complete"])
    given = quantize(torch.as_tensor(decode_digit(drawn)).reshape(1, 1, 28, 28), 4)[0].numpy()
    for image in result.images[1:]:
        kept = np.round(np.asarray(image, dtype=np.float32) / 255 * 3)
        assert (kept[:24] == given[:24]).all()


def test_inpainting_changes_only_the_erased_region(registry, drawn):
    result = registry.get("draw/inpaint").generate(digit=drawn, seed=2, region="bottom half", **FAST["draw/inpaint"])
    original, filled = (np.asarray(im, dtype=np.int16) for im in (result.images[0], result.images[2]))
    assert np.abs(original[:14] - filled[:14]).max() <= 1  # the top half, as drawn (rounding only)
    assert np.abs(original[14:] - filled[14:]).max() > 10  # the bottom half, redrawn by the (random) model


def test_the_gan_search_gets_closer(registry, drawn):
    result = registry.get("draw/gan_search").generate(digit=drawn, seed=0, num_steps=20, num_starts=2)
    history = result.info["error_history"]
    assert len(history) == 21 and history[-1] < history[0] and result.info["pixel_error"] == history[-1]


def test_the_vae_marks_the_drawing_on_the_latent_map(registry, drawn):
    from genai_demo.explain.vae import MAP_PIXELS

    result = registry.get("draw/vae").generate(digit=drawn, seed=0, morph_to="8", num_frames=3)
    assert result.images[0].size == (MAP_PIXELS, MAP_PIXELS)  # the map, with the ring
    assert [im.size for im in result.images[1:]] == [(28, 28)] * 5  # reconstruction, generated 8, three frames
    assert result.labels[2] == 8 and len(result.info["map_point"]) == 2


def test_bad_settings_and_a_blank_drawing_are_refused_before_anything_runs(registry, drawn):
    task = registry.get("draw/sdedit")
    with pytest.raises(ParameterError, match="strength=2 is out of range"):
        task.validate({"digit": drawn, "strength": 2})
    with pytest.raises(DrawingError, match="blank"):
        task.validate({"digit": "00" * 784})
    with pytest.raises(ParameterError, match="digit is not a 28x28 drawing"):
        list(task.stream(seed=1))


# -- links and teacher mode -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(registry):
    from genai_demo.ui.page import build_demo

    return build_demo(registry).genai_page


def test_a_link_restores_the_drawing_settings_and_opens_the_section(page):
    from tests.test_links import request

    section = next(s for s in page.sections if s.target.id == "image/draw")
    target, controls, box = section.target, section.controls, section.box
    assert target.id == "image/draw" and [p.name for p in target.params] == [
        "label", "seed", "morph_to", "strength", "region", "num_images", "num_steps"]  # never the drawing
    updates = page.from_link(request({"tab": "image", "model": "image/draw", "strength": "0.7", "region": "middle",
                                      "seed": "9", "label": "4"}))
    values = {p.name: updates[c].get("value") for p, c in zip(target.params, controls)}
    assert values == {"label": "4", "seed": 9, "morph_to": "same", "strength": 0.7, "region": "middle",
                      "num_images": 4, "num_steps": 150}
    assert updates[box].get("open") is True and not updates[page.notice].get("visible")
    bad = page.from_link(request({"model": "image/draw", "strength": "5"}, lang="ko"))
    assert "strength=5" in bad[page.notice]["value"] and "strength" in bad[page.notice]["value"]
    assert updates[controls[0]] is not None and "open" not in page.from_link(request({}))[box]


def test_teacher_mode_hides_the_drawing_sections_advanced_settings(page, registry):
    from tests.test_links import request

    updates = page.from_link(request({"teacher": "1"}))
    advanced = [p.name for task in registry.tasks.values() for p in task.params if p.advanced]
    hidden = [c for c in page.teacher_hidden if updates[c].get("visible") is False]
    assert len(advanced) >= 6 and len(hidden) >= len(advanced) + 1  # and the PNG drop
