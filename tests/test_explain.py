"""The "How it works" views: GAN critic and latent walk, VAE latent map and morph, process GIF, training curves.

CPU only, offline, tiny randomly initialised checkpoints (``tiny_weights``); a few seconds in all.
"""

from __future__ import annotations

import json
import string

import numpy as np
import pytest
from PIL import Image

from genai_demo.contract import ParameterError
from genai_demo.explain import frames, gan, training, vae
from genai_demo.registry import Registry
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def registry(tiny_weights):
    return Registry(tiny_weights)


@pytest.fixture(scope="module")
def gan_adapter(registry):
    return registry.get("image/gan")


@pytest.fixture(scope="module")
def vae_adapter(registry):
    return registry.get("image/vae")


# -- GAN ----------------------------------------------------------------------------------------------------------

def test_discriminator_scores_the_very_digits_the_gan_panel_draws(gan_adapter):
    scored = gan.score_generated(gan_adapter, seed=4, num_images=5, label="any", truncation=0.8)
    panel = gan_adapter.generate(seed=4, num_images=5, label="any", truncation=0.8)
    assert [im.tobytes() for im in scored.images] == [im.tobytes() for im in panel.images]
    assert scored.labels == [int(c.split()[0]) for c in panel.captions]  # judged as the digit it was drawn as
    assert len(scored.scores) == 5 and all(0 <= p <= 1 for p in scored.scores)
    assert 0 <= scored.noise_score <= 1
    assert scored.real_score is None or 0 <= scored.real_score <= 1
    assert scored.real_source


def test_discriminator_score_refuses_bad_settings_with_the_contract_message(gan_adapter):
    with pytest.raises(ParameterError, match="num_images=100 is out of range: expected an integer from 1 to 32"):
        gan.score_generated(gan_adapter, seed=1, num_images=100, label="any", truncation=1.0)


def test_latent_walk_starts_and_ends_at_the_seeds_first_digits_and_animates(gan_adapter):
    walk = gan.latent_walk(gan_adapter, seed_a=3, seed_b=8, label="5", num_frames=7)
    assert len(walk.frames) == len(walk.scores) == 7 and walk.frames[0].size == (28, 28)
    for seed, frame in ((3, walk.frames[0]), (8, walk.frames[-1])):
        first = gan_adapter.generate(seed=seed, num_images=1, label="5", truncation=1.0).images[0]
        assert np.abs(np.asarray(first, int) - np.asarray(frame, int)).max() <= 1  # same z, up to rounding
    gif = frames.save_gif([frames.upscale(f, 2) for f in walk.frames])
    with Image.open(gif) as im:
        assert im.n_frames == 7 and im.size == (56, 56) and im.info.get("loop") == 0
    with Image.open(frames.save_gif(walk.frames, bounce=True)) as im:
        assert im.n_frames == 12  # there and back, without repeating the ends


def test_slerp_keeps_the_ends_and_the_length_of_the_codes():
    import torch

    a, b = torch.randn(64, generator=torch.Generator().manual_seed(0)), torch.randn(64, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(gan.slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(gan.slerp(a, b, 1.0), b, atol=1e-5)
    middle = gan.slerp(a, b, 0.5)
    assert middle.norm() > 0.9 * min(a.norm(), b.norm())  # a straight line's midpoint would be ~0.7 as long


# -- VAE ----------------------------------------------------------------------------------------------------------

def test_latent_map_renders_and_a_click_decodes_the_point_under_it(vae_adapter):
    import torch

    image = vae.render_map(vae_adapter, "4", "all digits", marker=(0.5, -1.0))
    assert image.size == (vae.MAP_PIXELS, vae.MAP_PIXELS) and image.mode == "RGB"
    decoded = vae.decode_pixel(vae_adapter, "4", 600, 100)  # right of centre, above it
    assert decoded.x > 0 and decoded.y > 0 and decoded.image.size == (28, 28)
    lmap = vae.latent_map(vae_adapter)
    expected = lmap.to_latent(decoded.x, decoded.y)
    assert np.allclose(decoded.code, expected)
    model = vae_adapter.load()
    with torch.no_grad():
        direct = torch.sigmoid(model.decode(torch.from_numpy(expected)[None], torch.tensor([4])))
    assert np.abs(np.asarray(decoded.image, int) - (direct[0, 0].numpy() * 255).round()).max() <= 1
    px, py = vae.point_to_pixel(decoded.x, decoded.y)
    assert abs(px - 600) <= 3 and abs(py - 100) <= 3  # the ring is drawn where the click was


@pytest.mark.parametrize("call,message", [
    (lambda a: vae.decode_point(a, label="3", x=5, y=0), "x=5 is out of range: expected a number from -3 to 3"),
    (lambda a: vae.decode_point(a, label="12", x=0, y=0), "label='12' is not a known choice"),
    (lambda a: vae.decode_pixel(a, "3", 5000, 10), "outside the map"),
    (lambda a: vae.decode_pixel(a, "3", None, None), "not a pair of pixel coordinates"),
    (lambda a: vae.render_map(a, "3", "sideways"), "show='sideways' is not a known choice"),
])
def test_latent_map_bad_input_is_a_clear_message(vae_adapter, call, message):
    with pytest.raises(ParameterError, match=message):
        call(vae_adapter)


def test_latent_map_without_data_uses_digits_the_vae_draws(vae_adapter, monkeypatch):
    import genai_demo.explain.real as real

    monkeypatch.setattr(real, "real_digits", lambda *a, **k: None)
    lmap = vae.fit_map(*vae.compute_codes(vae_adapter.load(), per_class=5))
    assert "drew itself" in lmap.source and lmap.codes.shape == (50, 2) and sorted(set(lmap.labels)) == list(range(10))
    assert np.allclose(lmap.points.std(0), 1, atol=1e-3)  # coordinates in standard deviations


def test_precomputed_codes_are_used_only_for_the_weights_they_were_made_with(vae_adapter, tmp_path):
    import shutil

    folder = tmp_path / "image-vae"
    shutil.copytree(vae_adapter.weights_dir, folder)
    adapter = Registry(tmp_path).get("image/vae")
    adapter.load()
    codes = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float16)
    labels = np.arange(20) % 10
    for version, expected in (("not-these-weights", False), (adapter.weights_version, True)):
        vae._maps.clear()
        vae.write_codes(folder / vae.MAP_FILE, codes, labels.astype(np.uint8), version, "20 test codes")
        assert (vae.latent_map(adapter).source == "20 test codes") is expected
    vae._maps.clear()


def test_morph_goes_from_one_digit_to_the_other(vae_adapter):
    m = vae.morph(vae_adapter, digit_a="2", digit_b="6", seed=1, num_frames=5)
    assert len(m.frames) == 5 and m.ts[0] == 0 and m.ts[-1] == 1
    lmap = vae.latent_map(vae_adapter)
    assert lmap.labels[m.ends[0]] == 2 and lmap.labels[m.ends[1]] == 6
    start = vae.decode(vae_adapter.load(), lmap.codes[m.ends[0]][None], np.array([2]))
    assert np.abs(np.asarray(m.frames[0], int) - (start[0, 0].numpy() * 255).round()).max() <= 1


# -- the process --------------------------------------------------------------------------------------------------

def test_process_frames_become_a_gif_with_one_frame_per_step(registry):
    result = registry.get("image/diffusion").generate(seed=1, num_images=2, label="3", num_inference_steps=4,
                                                      scheduler="DDIM", guidance_scale=1.0, eta=0.0)
    assert len(result.process) == 4
    with Image.open(frames.process_animation(result.process)) as im:
        assert im.n_frames == 4
    with pytest.raises(ValueError, match="no process frames"):
        frames.process_animation([])


def test_the_autoregressive_process_shows_each_chosen_shades_probability(registry):
    result = registry.get("image/autoregressive").generate(seed=0, num_images=1, label="1", temperature=1.0)
    assert result.process and "probability of each chosen shade (dark: a surprising choice)" in result.process[-1]["images"]
    assert frames.process_animation(result.process).stat().st_size > 0


# -- training -----------------------------------------------------------------------------------------------------

def test_loss_log_is_parsed_into_curves_and_bad_lines_are_counted(tmp_path):
    log = tmp_path / "train_log.jsonl"
    log.write_text("\n".join([
        json.dumps({"step": 25, "seconds": 1.0, "epoch": 0, "d_loss": 1.5, "g_loss": 3.0, "lr": 0.001}),
        "{not json",
        json.dumps({"step": 50, "seconds": 2.0, "epoch": 0, "d_loss": 1.2, "g_loss": float("nan")}),
        json.dumps({"seconds": 3.0, "d_loss": 1.0}),  # no step
        json.dumps({"step": 60, "val_loss": 2.5, "note": "text is ignored"}),
    ]) + "\n")
    parsed = training.read_log(log)
    assert parsed.series == ["d_loss", "g_loss", "val_loss"]
    assert {(r["step"], r["series"]) for r in parsed.rows} == {(25, "d_loss"), (25, "g_loss"), (50, "d_loss"),
                                                                (60, "val_loss")}
    assert parsed.skipped == 2 and not parsed.problem and "2 lines" in parsed.message


def test_a_missing_or_empty_log_is_a_message_not_a_crash(tmp_path):
    missing = training.read_log(tmp_path / "nope.jsonl")
    assert missing.problem == "missing" and not missing.rows and "does not exist" in missing.message
    (tmp_path / "empty.jsonl").write_text("\n")
    assert training.read_log(tmp_path / "empty.jsonl").problem == "empty"


def test_training_samples_are_in_order_with_their_step(tmp_path):
    folder = tmp_path / "image-gan"
    (folder / "samples").mkdir(parents=True)
    for name in ("epoch_010.png", "epoch_002.png"):
        Image.new("L", (4, 4)).save(folder / "samples" / name)
    (folder / "samples" / "notes.md").write_text("not a sample")
    (folder / "training.json").write_text(json.dumps({"steps": 1000, "epochs": 10}))
    samples = training.training_samples(folder)
    assert [s.caption for s in samples] == ["epoch 2 (about step 200)", "epoch 10 (about step 1,000)"]
    assert training.training_samples(tmp_path / "absent") == []


def test_shipped_logs_of_every_model_are_found_text_included():
    names = training.logged_models(ROOT / "weights")
    assert {"image-gan", "image-vae", "image-diffusion", "image-autoregressive", "text-shakespeare"} <= set(names)
    assert training.model_id("image-gan") == "image/gan" and training.model_id("mnist-classifier") == "mnist-classifier"


# -- the Gradio section -------------------------------------------------------------------------------------------

def test_ui_handlers_return_images_of_the_right_size_and_plain_messages(registry, gan_adapter, vae_adapter):
    from genai_demo.ui import explain as ui

    items, summary = ui.score_view(gan_adapter, 1, 3, "7", 1.0)
    assert len(items) == 3 and items[0][0].size == (112, 112) and items[0][1].startswith("7 · D ")
    assert "D's score of these 3 digits" in summary and "random static" in summary
    gif, strip, note = ui.walk_view(gan_adapter, 1, 2, "3", 6)
    with Image.open(gif) as im:
        assert im.n_frames == 10 and im.size == (28 * ui.GIF_SCALE,) * 2
    assert strip.height == 28 * 3 + 18 and "lowest" in note
    the_map, decoded, where = ui.map_view(vae_adapter, "3", "this digit", 1.0, -2.0)
    assert the_map.size == (vae.MAP_PIXELS,) * 2 and decoded.size == (224, 224) and "across +1.0, up -2.0" in where
    *_, x, y = ui.map_click(vae_adapter, "3", "none", [0, vae.MAP_PIXELS - 1])
    assert x == pytest.approx(-3, abs=0.01) and y == pytest.approx(-3, abs=0.01)
    preview, download, note = ui.process_export([])
    assert preview is None and download is None and "Nothing to animate yet" in note


def test_training_view_reads_only_folders_it_listed(tmp_path):
    from genai_demo.ui import explain as ui

    about, table, images, texts = ui.training_data(ROOT / "weights", "image-gan")
    assert set(table["series"]) == {"d_loss", "g_loss"} and len(images) == 10 and not texts
    assert "Trained for 7,800 steps" in about and images[0][1] == "epoch 5 (about step 780)"
    about, table, images, texts = ui.training_data(ROOT / "weights", "text-shakespeare")
    assert "val_loss" in set(table["series"]) and not images and "── step 250 ──" in texts
    about, table, images, _ = ui.training_data(ROOT / "weights", "../../etc")
    assert "pick a model from the list" in about and table.empty and not images
    (tmp_path / "image-gan").mkdir()
    (tmp_path / "image-gan" / "train_log.jsonl").write_text("garbage\n")
    about, table, *_ = ui.training_data(tmp_path, "image-gan")
    assert "holds no loss values" in about and "No training summary" in about and table.empty


def test_section_builds_with_private_events_only(registry):
    import gradio as gr

    from genai_demo.ui.explain import explain_section

    with gr.Blocks() as demo:
        explain_section("image", registry.by_modality("image"), gr.State([]))
    assert demo.fns and all(fn.api_visibility == "private" for fn in demo.fns.values())


def test_every_string_is_in_english_and_korean_with_the_same_placeholders():
    import tomllib

    from genai_demo import i18n

    raw = {lang: tomllib.loads((i18n.LOCALES / f"{lang}.toml").read_text(encoding="utf-8")) for lang in i18n.LANGUAGES}
    tables = {lang: {part: {} for part in ("page", "messages")} for lang in raw}
    for lang, data in raw.items():  # the shared tables and each feature's own ([draw.page], [page.textmusic])
        for table in [data] + [v for k, v in data.items() if k not in ("page", "messages") and isinstance(v, dict)]:
            for part in ("page", "messages"):
                tables[lang][part].update(i18n._flat(table.get(part, {})))
    for part in ("page", "messages"):
        assert set(tables["en"][part]) == set(tables["ko"][part]) and all(tables["ko"][part].values())
        assert any(key.startswith("explain:") for key in tables["en"][part])
    assert not any("{" in v or "}" in v for table in tables.values() for v in table["page"].values())

    def fields(text):
        return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)

    for key, text in tables["en"]["messages"].items():
        assert fields(text) == fields(tables["ko"]["messages"][key]), key
