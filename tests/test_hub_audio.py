"""Hugging Face text-to-audio models named by the operator (``audio/hf``): a tiny random MusicGen and a tiny random
VITS built offline in a temporary folder, a hub id while offline, bad parameters, and a non-safetensors checkpoint."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from genai_demo.contract import GenAIError, ModelUnavailable, ParameterError
from genai_demo.registry import Registry

WORDS = "a calm organ chorale in four voices the of and music piano drum fast slow".split()
SAMPLE_RATE = 3200  # the tiny codec: hop length 8 x 8 = 64 samples, so 50 frames per second like MusicGen's


def build_tiny_musicgen(folder, safetensors: bool = True):
    """A MusicGen of 28 k parameters: 1-layer T5 text encoder, 1-layer decoder over 4 codebooks of 64 codes,
    a small EnCodec at 3.2 kHz; and a T5 (unigram) tokenizer built from a word list, saved as the hub saves."""
    from transformers import (EncodecConfig, GenerationConfig, MusicgenConfig, MusicgenDecoderConfig,
                              MusicgenForConditionalGeneration, T5Config, T5Tokenizer)

    vocab = ([("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
             + [("\u2581" + w, -1.0 - i / 100) for i, w in enumerate(WORDS)]
             + [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz"])
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    text = T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2)
    codec = EncodecConfig(sampling_rate=SAMPLE_RATE, upsampling_ratios=[8, 8], hidden_size=16, num_filters=4,
                          num_lstm_layers=1, codebook_size=64, target_bandwidths=[1.2])  # 1.2 kb/s = 4 codebooks
    decoder = MusicgenDecoderConfig(vocab_size=64, pad_token_id=64, bos_token_id=64, hidden_size=16, ffn_dim=32,
                                    num_hidden_layers=1, num_attention_heads=2, num_codebooks=4)
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(MusicgenConfig(text_encoder=text, audio_encoder=codec,
                                                            decoder=decoder)).eval()
    with torch.no_grad():  # a fresh codec's codebooks are all zero, so every code would sound the same
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    model.generation_config = GenerationConfig(do_sample=True, guidance_scale=3.0, max_length=1500,
                                               decoder_start_token_id=64, pad_token_id=64, bos_token_id=64)
    tokenizer.save_pretrained(folder)
    if safetensors:
        model.save_pretrained(folder)
    else:  # the old format, which can run arbitrary code when read: the adapter must refuse it
        model.config.save_pretrained(folder)
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return folder


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory):
    return build_tiny_musicgen(tmp_path_factory.mktemp("tiny-musicgen"))


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory):
    """A VITS text-to-speech model of 1 layer and 16 dims at 1.6 kHz, with a character vocabulary."""
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder = tmp_path_factory.mktemp("tiny-vits")
    chars = list(" abcdefghijklmnopqrstuvwxyz")
    (folder / "vocab.json").write_text(json.dumps({c: i for i, c in enumerate(["<pad>"] + chars)}))
    tokenizer = VitsTokenizer(vocab_file=str(folder / "vocab.json"), pad_token="<pad>", unk_token="<pad>",
                              add_blank=True, normalize=True, phonemize=False)
    config = VitsConfig(vocab_size=len(chars) + 1, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        ffn_dim=32, flow_size=16, spectrogram_bins=17, upsample_initial_channel=16,
                        upsample_rates=[4, 4], upsample_kernel_sizes=[8, 8], resblock_kernel_sizes=[3],
                        resblock_dilation_sizes=[[1, 3]], prior_encoder_num_flows=1,
                        prior_encoder_num_wavenet_layers=1, posterior_encoder_num_wavenet_layers=1,
                        duration_predictor_num_flows=1, duration_predictor_filter_channels=16,
                        depth_separable_num_layers=1, sampling_rate=1600)
    torch.manual_seed(0)
    VitsModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def musicgen(tiny_musicgen):
    return Registry(audio_model=str(tiny_musicgen)).get("audio/hf")


def test_a_local_musicgen_makes_seeded_audio_of_the_asked_duration(musicgen, tiny_musicgen):
    from genai_demo.serving import plan

    assert musicgen.modality == "audio" and plan(musicgen).concurrency_id == "heavy" and musicgen.family == "hub pipeline"
    assert [p.name for p in musicgen.params] == ["prompt", "duration", "guidance_scale", "seed"]
    assert musicgen.param("guidance_scale").advanced and "MusicLM" in musicgen.description
    assert musicgen.unavailable_reason() is None
    musicgen.load()
    rng = torch.get_rng_state()
    a = musicgen.generate(prompt="a calm organ chorale", duration=1, seed=5)
    assert torch.equal(rng, torch.get_rng_state())  # the global generator is seeded per call, then restored
    b = musicgen.generate(prompt="a calm organ chorale", duration=1, seed=5)
    c = musicgen.generate(prompt="a calm organ chorale", duration=1, seed=6)
    rate, samples = a.audio
    assert rate == SAMPLE_RATE and samples.dtype == np.float32 and samples.shape == (SAMPLE_RATE,)
    assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0 and np.abs(samples).max() > 0
    assert np.array_equal(samples, b.audio[1]) and not np.array_equal(samples, c.audio[1])
    assert a.images == [] and a.info["sample_rate"] == SAMPLE_RATE and a.info["audio_seconds"] == 1.0
    assert a.info["frame_rate"] == 50 and a.info["new_tokens"] == 50 + 3 and a.info["notes"] == []
    assert a.info["weights_version"] == tiny_musicgen.name and a.info["parameters"] > 10000
    longer = musicgen.generate(prompt="piano music", duration=3, guidance_scale=1, seed=5)
    assert longer.audio[1].shape == (3 * SAMPLE_RATE,) and longer.info["new_tokens"] == 153


def test_a_speech_model_ignores_duration_and_says_so(tiny_vits):
    vits = Registry(audio_model=str(tiny_vits)).get("audio/hf")
    assert vits.unavailable_reason() is None
    a = vits.generate(prompt="hello world", duration=7, seed=1)
    b = vits.generate(prompt="hello world", duration=2, seed=1)
    rate, samples = a.audio
    assert rate == 1600 and samples.ndim == 1 and samples.dtype == np.float32 and 0 < samples.size < 30 * rate
    assert np.isfinite(samples).all() and np.array_equal(samples, b.audio[1])
    assert any("duration was ignored" in n for n in a.info["notes"])


@pytest.mark.parametrize("params, message", [
    ({"duration": 0}, "duration=0 is out of range: expected a number from 1 to 30"),
    ({"duration": 31}, "duration=31 is out of range"),
    ({"duration": "long"}, "duration='long' is not a number"),
    ({"guidance_scale": 50}, "guidance_scale=50 is out of range"),
    ({"prompt": ""}, "prompt is empty"),
    ({"prompt": "   \n "}, "prompt is empty"),
    ({"prompt": "x" * 100_000}, "prompt is 100,000 characters long: expected text of at most 500 characters"),
    ({"seed": -1}, "seed=-1 is out of range"),
    ({"voice": "alto"}, "audio/hf has no parameter voice"),
])
def test_bad_parameters_get_a_one_line_message_before_anything_loads(params, message):
    adapter = Registry(audio_model="someone/never-loaded-audio-model").get("audio/hf")
    with pytest.raises(ParameterError) as error:
        adapter.generate(**params)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert adapter._model is None


def test_a_hub_id_offline_is_unavailable_at_once_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    adapter = Registry(audio_model="someone/not-cached-audio-model").get("audio/hf")
    reason = adapter.unavailable_reason()
    assert "not in the local Hugging Face cache and the hub is offline" in reason and "\n" not in reason
    assert adapter.describe()["available"] is False
    with pytest.raises(ModelUnavailable, match="audio/hf is unavailable: 'someone/not-cached-audio-model'") as error:
        adapter.generate(prompt="a cat purring")
    assert isinstance(error.value, GenAIError) and "\n" not in str(error.value)
    assert time.perf_counter() - started < 5


def test_a_checkpoint_that_is_not_safetensors_is_refused(tmp_path):
    folder = build_tiny_musicgen(tmp_path, safetensors=False)
    assert (folder / "pytorch_model.bin").is_file() and not list(folder.glob("*.safetensors"))
    adapter = Registry(audio_model=str(folder)).get("audio/hf")
    assert "has no safetensors weights (found only pytorch_model.bin)" in adapter.unavailable_reason()
    with pytest.raises(ModelUnavailable, match="no safetensors weights"):
        adapter.generate(prompt="a calm organ chorale", duration=1)
    with pytest.raises(OSError, match="no file named model.safetensors"):  # past that check, loading refuses too
        adapter._load(folder)


def test_folders_that_are_not_text_to_audio_models_are_unavailable(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    assert "not a transformers model folder" in Registry(audio_model=str(tmp_path)).get("audio/hf").unavailable_reason()
    GPT2LMHeadModel(GPT2Config(vocab_size=10, n_embd=8, n_layer=1, n_head=2, n_positions=8)).save_pretrained(tmp_path)
    adapter = Registry(audio_model=str(tmp_path)).get("audio/hf")
    with pytest.raises(ModelUnavailable, match="'gpt2' is not a text-to-waveform model"):
        adapter.generate(prompt="hello")
    assert "not a text-to-waveform model" in adapter.unavailable_reason()


def test_no_audio_model_unless_the_operator_names_one(monkeypatch, tiny_musicgen):
    monkeypatch.delenv("GENAI_AUDIO_MODEL", raising=False)
    assert "audio/hf" not in Registry().models
    monkeypatch.setenv("GENAI_AUDIO_MODEL", str(tiny_musicgen))
    assert Registry().get("audio/hf").source == str(tiny_musicgen)
    assert Registry(audio_model="other/model").get("audio/hf").source == "other/model"  # the keyword wins
