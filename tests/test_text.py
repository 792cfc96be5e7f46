"""The text tab's models: the character-level GPT (tiny, random, saved the shipped way), a tiny hub-style model, the
sampling loop, the CLI, and the shipped Shakespeare model through the launched app."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import torch

from genai_demo.contract import ModelUnavailable, ParameterError
from genai_demo.models import charlm
from genai_demo.registry import Registry
from tests.conftest import ROOT

TEXT = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n"
) * 4  # 40 distinct characters: no 'z', no digits, no accents
SHIPPED = ROOT / "weights" / "text-shakespeare"


@pytest.fixture(scope="module")
def text_root(tmp_path_factory):
    """A weights root holding a randomly initialised tiny text/shakespeare (2 layers, 32 dims, 32-token context)."""
    root = tmp_path_factory.mktemp("text-weights")
    torch.manual_seed(0)
    tokenizer = charlm.build_tokenizer(TEXT, 32)
    model = charlm.make_model(len(tokenizer), "tiny").eval()
    model.save_pretrained(root / "text-shakespeare")
    tokenizer.save_pretrained(root / "text-shakespeare")
    return root


@pytest.fixture(scope="module")
def shakespeare(text_root):
    return Registry(text_root).get("text/shakespeare")


@pytest.fixture(scope="module")
def tiny_hub_model(tmp_path_factory):
    """A GPT-2 of 2 layers and 32 dims with a byte-level BPE tokenizer and a chat template, saved as the hub saves."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([TEXT], trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                        unk_token="<|endoftext|>")
    tokenizer.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                               "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=0,
                        eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def ids_of(adapter, **params) -> list[int]:
    return [f["token"] for f in adapter.generate(**params).process]


# -- tokenizer and checkpoint --------------------------------------------------------------------------------------


def test_the_tokenizer_is_one_token_per_character_and_maps_unseen_characters_to_unk(tmp_path):
    from transformers import AutoTokenizer

    tokenizer = charlm.build_tokenizer(TEXT, 32)
    assert len(tokenizer) == len(set(TEXT)) + 1 and tokenizer.convert_ids_to_tokens(0) == "<unk>"
    ids = tokenizer("Speak, speak.\n")["input_ids"]
    assert len(ids) == 14 and tokenizer.decode(ids) == "Speak, speak.\n"
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert loaded("All: fé🙂")["input_ids"] == tokenizer("All: fe")["input_ids"] + [0]  # accent stripped; 🙂 unknown
    assert loaded.decode(loaded("hear me")["input_ids"]) == "hear me"


def test_the_saved_folder_loads_with_auto_classes_and_runs_in_a_pipeline(text_root):
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    folder = text_root / "text-shakespeare"
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json"}
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    out = pipeline("text-generation", model=model, tokenizer=tokenizer)("All:", max_new_tokens=12, do_sample=False)
    assert out[0]["generated_text"].startswith("All:") and len(out[0]["generated_text"]) == 16


# -- the sampling loop ----------------------------------------------------------------------------------------------


def test_the_attention_cache_gives_the_same_tokens_and_probabilities_as_recomputing(shakespeare):
    lm = shakespeare.load()
    prompt = lm.tokenizer("First Citizen:\n")["input_ids"]
    settings = dict(max_new_tokens=70, temperature=1.3, top_k=20, top_p=0.95, repetition_penalty=1.1)  # 85 > 32
    cached = list(charlm.generate_stream(lm.model, prompt, torch.Generator().manual_seed(4), **settings))
    full = list(charlm.generate_stream(lm.model, prompt, torch.Generator().manual_seed(4), use_cache=False, **settings))
    assert [s.token_id for s in cached] == [s.token_id for s in full]
    assert sum(s.recomputed for s in cached) >= 2  # ran past the 32-token context: the window slid
    for a, b in zip(cached, full):
        assert a.p_model == pytest.approx(b.p_model, abs=1e-5) and a.kept == b.kept


def test_greedy_decoding_matches_transformers_generate(shakespeare):
    lm = shakespeare.load()
    prompt = lm.tokenizer("All:\n")["input_ids"]
    ours = [s.token_id for s in charlm.generate_stream(lm.model, prompt, None, max_new_tokens=20, do_sample=False)]
    theirs = lm.model.generate(torch.tensor([prompt]), max_new_tokens=20, do_sample=False)[0, len(prompt):].tolist()
    assert ours == theirs


def test_temperature_top_k_and_top_p_reshape_the_distribution(shakespeare):
    lm = shakespeare.load()
    prompt = lm.tokenizer("All:\n")["input_ids"]

    def first(**settings):
        return next(charlm.generate_stream(lm.model, prompt, torch.Generator().manual_seed(0), max_new_tokens=1,
                                           **settings))

    plain, cold, hot = first(), first(temperature=0.2), first(temperature=2.0)
    top = max(plain.candidates, key=lambda c: c[1])
    assert all(abs(pm - ps) < 1e-4 for _, pm, ps in plain.candidates)  # temperature 1: sampled as predicted
    assert max(c[2] for c in cold.candidates) > top[1] > max(c[2] for c in hot.candidates)
    assert first(top_k=3).kept == 3 and first(top_k=1).kept == 1
    nucleus = first(top_p=0.5)
    assert 1 <= nucleus.kept < len(lm.tokenizer)
    kept = [ps > 0 for _, _, ps in sorted(nucleus.candidates, key=lambda c: -c[1])]
    assert kept == sorted(kept, reverse=True)  # the nucleus is the most likely tokens: a prefix of the ranking
    greedy = first(do_sample=False)
    assert greedy.token_id == top[0] and greedy.p_sampled == 1.0


# -- the adapter ----------------------------------------------------------------------------------------------------


def test_same_seed_same_text_and_another_seed_other_text(shakespeare):
    a = shakespeare.generate(prompt="All:\n", max_new_tokens=60, seed=3)
    b = shakespeare.generate(prompt="All:\n", max_new_tokens=60, seed=3)
    c = shakespeare.generate(prompt="All:\n", max_new_tokens=60, seed=4)
    assert a.text == b.text and a.text != c.text
    assert a.text.startswith("All:\n") and len(a.text) == 5 + 60
    assert a.info["params"]["seed"] == 3 and a.info["new_tokens"] == 60 and a.info["notes"] == []


def test_text_streams_token_by_token_with_the_next_token_view(shakespeare):
    results = list(shakespeare.stream(prompt="All:", max_new_tokens=12, seed=1))
    assert [r.done for r in results] == [False] * 11 + [True]
    assert [len(r.text) for r in results] == list(range(5, 17))
    final = results[-1]
    assert len(final.process) == 12 and final.text == "All:" + "".join(f["token"] for f in final.process)
    frame = final.process[0]
    assert len(frame["candidates"]) in (10, 11) and sum(c["chosen"] for c in frame["candidates"]) == 1
    chosen = next(c for c in frame["candidates"] if c["chosen"])
    assert chosen["token"] == frame["token"] and chosen["p_model"] == frame["p_model"] > 0
    assert frame["vocab_size"] == len(set(TEXT)) + 1 and frame["label"].startswith("token 1: ")
    assert "<unk>" not in final.text


@pytest.mark.parametrize("params,message", [
    ({"max_new_tokens": 10**9}, "max_new_tokens=1000000000 is out of range: expected an integer from 1 to 1000"),
    ({"temperature": 0}, "temperature=0 is out of range: expected a number from 0.05 to 3 (for always the most "
                         "likely token, turn do_sample off)"),
    ({"temperature": -1}, "temperature=-1 is out of range"),
    ({"top_p": 2}, "top_p=2 is out of range: expected a number from 0 to 1"),
    ({"top_k": -5}, "top_k=-5 is out of range: expected an integer from 0 to 200"),
    ({"repetition_penalty": 0}, "repetition_penalty=0 is out of range"),
    ({"do_sample": "maybe"}, "do_sample='maybe' is not true or false"),
    ({"prompt": "x" * 2001}, "prompt is 2,001 characters long: expected text of at most 2,000 characters"),
    ({"prompt": None}, "prompt is missing"),
])
def test_bad_settings_are_refused_with_one_clear_message(shakespeare, params, message):
    with pytest.raises(ParameterError) as e:
        shakespeare.generate(**params)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_an_empty_prompt_starts_from_a_new_line(shakespeare):
    result = shakespeare.generate(prompt="", max_new_tokens=10, seed=0)
    assert len(result.text) == 10 and result.info["prompt_tokens"] == 1 and result.info["notes"] == []


def test_unseen_characters_are_left_out_with_a_note(shakespeare):
    prompt = "Zebra 7 🙂 café:"
    result = shakespeare.generate(prompt=prompt, max_new_tokens=5, seed=0)
    assert result.text.startswith(prompt) and len(result.text) == len(prompt) + 5
    (note,) = result.info["notes"]
    assert note.startswith("left out") and "the model never saw" in note and "🙂" in note and "Z" in note
    only_unseen = shakespeare.generate(prompt="🙂🙂", max_new_tokens=5, seed=0)
    assert only_unseen.text.startswith("🙂🙂") and "starting from a new line" in only_unseen.info["notes"][-1]


def test_a_prompt_longer_than_the_context_is_cut_to_fit_with_a_note(shakespeare):
    prompt = "First Citizen:\nBefore we proceed any further, hear me speak.\n"  # 61 characters, context 32
    result = shakespeare.generate(prompt=prompt, max_new_tokens=8, seed=2)
    assert result.text.startswith(prompt) and len(result.text) == 61 + 8
    assert result.info["prompt_tokens"] == 32
    assert result.info["notes"] == ["the prompt is 61 tokens long but the model reads at most 32: it sees only the "
                                    "last 32"]
    tail = shakespeare.generate(prompt=prompt[-32:], max_new_tokens=8, seed=2)
    assert tail.text[-8:] == result.text[-8:]  # it really read the last 32 characters only


def test_the_text_models_declare_their_controls_by_transformers_names(shakespeare):
    assert [p.name for p in shakespeare.params] == ["prompt", "max_new_tokens", "do_sample", "temperature", "top_k",
                                                    "top_p", "repetition_penalty", "seed"]
    assert shakespeare.modality == "text" and shakespeare.family == "autoregressive"


def test_missing_weights_name_the_training_command(tmp_path):
    adapter = Registry(tmp_path).get("text/shakespeare")
    with pytest.raises(ModelUnavailable, match="weights not found.*python -m genai_demo train text/shakespeare"):
        adapter.generate()


# -- Hugging Face models (text/hf) -----------------------------------------------------------------------------------


def test_a_local_hub_style_model_runs_through_the_same_adapter(tiny_hub_model):
    hub = Registry(text_model=str(tiny_hub_model)).get("text/hf")
    assert hub.unavailable_reason() is None and hub.chat
    assert [p.name for p in hub.params][:2] == ["prompt", "apply_chat_template"]
    a = hub.generate(prompt="Speak, speak.", max_new_tokens=15, seed=5, apply_chat_template=False)
    b = hub.generate(prompt="Speak, speak.", max_new_tokens=15, seed=5, apply_chat_template=False)
    assert a.text == b.text and a.text.startswith("Speak, speak.") and 1 <= a.info["new_tokens"] <= 15
    assert a.info["weights_version"] == tiny_hub_model.name and a.info["parameters"] > 10000
    chat = hub.generate(prompt="Speak", max_new_tokens=5, seed=5)
    assert chat.text.startswith("Speak\n\n") and chat.info["prompt_tokens"] > len(hub.load().tokenizer("Speak")["input_ids"])
    empty = hub.generate(prompt="", max_new_tokens=5, seed=5, apply_chat_template=False)
    assert empty.info["prompt_tokens"] == 1  # the tokenizer's beginning-of-text token
    long = hub.generate(prompt="hear me speak " * 40, max_new_tokens=3, seed=5, apply_chat_template=False)
    assert "reads at most 64" in long.info["notes"][0]
    lm, prompt = hub.load(), [5, 6, 7]  # GPT-2's cache too gives what recomputing gives, past its 64-token context
    cached = [s.token_id for s in charlm.generate_stream(lm.model, prompt, torch.Generator().manual_seed(1),
                                                         max_new_tokens=100)]
    full = [s.token_id for s in charlm.generate_stream(lm.model, prompt, torch.Generator().manual_seed(1),
                                                       max_new_tokens=100, use_cache=False)]
    assert cached == full


def test_generation_stops_at_end_of_text(tiny_hub_model):
    hub = Registry(text_model=str(tiny_hub_model)).get("text/hf")
    lm = hub.load()
    assert hub.eos_token_id(lm) == lm.tokenizer.eos_token_id == 0 and hub.suppress_ids(lm) == []
    prompt = lm.tokenizer("hear me")["input_ids"]
    free = [s.token_id for s in charlm.generate_stream(lm.model, prompt, None, max_new_tokens=6, do_sample=False)]
    stopped = list(charlm.generate_stream(lm.model, prompt, None, max_new_tokens=6, do_sample=False,
                                          eos_token_id=free[2]))
    assert [s.token_id for s in stopped] == free[: free.index(free[2]) + 1]


def test_a_hub_id_offline_fails_fast_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub = Registry(text_model="someone/not-cached-model").get("text/hf")
    started = time.perf_counter()
    with pytest.raises(ModelUnavailable, match="not in the local Hugging Face cache and the hub is offline"):
        hub.generate(prompt="hello")
    assert time.perf_counter() - started < 5


def test_no_hub_text_model_unless_the_operator_names_one(monkeypatch, tmp_path):
    monkeypatch.delenv("GENAI_TEXT_MODEL", raising=False)
    assert "text/hf" not in Registry().models
    assert "not a transformers model folder" in Registry(text_model=str(tmp_path)).get("text/hf").unavailable_reason()


# -- command line and training ------------------------------------------------------------------------------------


def test_cli_generate_writes_the_text_and_is_reproducible(tmp_path, text_root):
    texts = []
    for name in ("a", "b"):
        out = subprocess.run([sys.executable, "-m", "genai_demo", "--weights-dir", str(text_root), "generate",
                              "text/shakespeare", "--seed", "9", "--set", "prompt=All:", "--set", "max_new_tokens=40",
                              "--set", "temperature=1.2", "--out", str(tmp_path / name)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "text/shakespeare: 2 file(s)" in out.stdout and "seed 9" in out.stdout
        texts.append((tmp_path / name / "text.txt").read_text(encoding="utf-8"))
    assert texts[0] == texts[1] and texts[0].startswith("All:") and len(texts[0]) == 44
    frames = json.loads((tmp_path / "a" / "next_tokens.json").read_text(encoding="utf-8"))
    assert len(frames) == 40 and "".join(f["token"] for f in frames) == texts[0][4:]
    info = json.loads((tmp_path / "a" / "info.json").read_text(encoding="utf-8"))
    assert info["params"]["temperature"] == 1.2 and info["new_tokens"] == 40


def test_cli_refuses_a_bad_setting_in_one_line(text_root):
    out = subprocess.run([sys.executable, "-m", "genai_demo", "--weights-dir", str(text_root), "generate",
                          "text/shakespeare", "--set", "top_p=2"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.strip() == "error: top_p=2 is out of range: expected a number from 0 to 1"


def test_training_dry_run_saves_a_loadable_model_log_and_card(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tinyshakespeare.txt").write_text(TEXT * 3)
    out = subprocess.run([sys.executable, "-m", "genai_demo", "train", "text/shakespeare", "--data-dir",
                          str(tmp_path / "data"), "--out", str(tmp_path / "w"), "--preset", "tiny", "--max-steps", "4"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "saved text/shakespeare" in out.stdout and "after 4 steps" in out.stdout
    records = [json.loads(line) for line in (tmp_path / "w" / "train_log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in records) and "val_loss" in records[-1] and "train_eval_loss" in records[-1]
    card = (tmp_path / "w" / "README.md").read_text()
    assert "pipeline_tag: text-generation" in card and "nats/char" in card and "train text/shakespeare" in card
    adapter = Registry(tmp_path).get("text/shakespeare")
    assert adapter.unavailable_reason() is not None  # the weights root has no text-shakespeare folder
    (tmp_path / "w").rename(tmp_path / "text-shakespeare")
    assert len(Registry(tmp_path).get("text/shakespeare").generate(max_new_tokens=5).text) > 0


def test_training_without_data_offline_is_one_line(tmp_path):
    import os

    out = subprocess.run([sys.executable, "-m", "genai_demo", "train", "text/shakespeare", "--data-dir",
                          str(tmp_path / "none"), "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env={**os.environ, "GENAI_OFFLINE": "1"})
    assert out.returncode == 2 and "no tinyshakespeare.txt" in out.stderr and "Traceback" not in out.stderr


# -- the shipped model ------------------------------------------------------------------------------------------------


def test_the_shipped_model_is_a_transformers_folder_with_its_card():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(SHIPPED)
    tokenizer = AutoTokenizer.from_pretrained(SHIPPED)
    assert len(tokenizer) == 66 and model.config.max_position_embeddings == 256
    training = json.loads((SHIPPED / "training.json").read_text())
    assert training["final_losses"]["val_loss_nats_per_char"] <= 1.60
    card = (SHIPPED / "README.md").read_text()
    assert "validation" in card and "nats/char" in card
    # It has learned English as Shakespeare spells it: a passage it never trained on costs far under the
    # 4.19 nats/char (ln 66) of a uniform guess.
    passage = ("HAMLET:\nTo be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
               "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles\n")
    ids = torch.tensor(tokenizer(passage)["input_ids"])
    assert charlm.nats_per_char(model, ids, len(passage), 256) < 2.2


# -- through the launched app (the shipped weights) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_the_text_endpoint_takes_the_transformers_names(client):
    endpoint = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/text_shakespeare"]
    assert [p["parameter_name"] for p in endpoint["parameters"]] == [
        "prompt", "max_new_tokens", "do_sample", "temperature", "top_k", "top_p", "repetition_penalty", "seed"]


def test_text_streams_through_the_api_and_the_same_seed_gives_the_same_text(client):
    job = client.submit(prompt="ROMEO:\n", max_new_tokens=400, seed=11, api_name="/text_shakespeare")
    outputs = list(job)
    text, info = job.result()
    assert len(outputs) >= 3  # streamed: intermediate texts, then the final one
    assert outputs[0][0].startswith("ROMEO:\n") and len(outputs[0][0]) < len(text)
    assert text.startswith("ROMEO:\n") and len(text) == 7 + 400
    assert info.startswith("**text/shakespeare** · seed 11 · 400 tokens · ") and " tokens/s · " in info
    again, _ = client.predict(prompt="ROMEO:\n", max_new_tokens=400, seed=11, api_name="/text_shakespeare")
    other, _ = client.predict(prompt="ROMEO:\n", max_new_tokens=400, seed=12, api_name="/text_shakespeare")
    assert again == text and other != text


def test_bad_text_settings_through_the_api_are_one_clear_message(client):
    with pytest.raises(Exception) as e:
        client.predict(prompt="Hi", temperature=-1, api_name="/text_shakespeare")
    assert "temperature=-1 is out of range: expected a number from 0.05 to 3" in str(e.value)
    text, info = client.predict(prompt="🙂" * 3 + "x" * 400, max_new_tokens=5, api_name="/text_shakespeare")
    assert len(text) == 3 + 400 + 5
    assert "Note: left out 1 character the model never saw: 🙂" in info and "it sees only the last 256" in info


def test_a_hub_model_of_unknown_cost_is_checked_without_a_time_estimate(tiny_hub_model):
    """Its cost is unknown (None): the page's check says nothing about time, and it runs in the worker, in a lane of
    its own where requests batch."""
    from types import SimpleNamespace

    from genai_demo.adapters.hub_text import HubTextAdapter
    from genai_demo.serving import plan
    from genai_demo.ui.panel import check

    adapter = HubTextAdapter(str(tiny_hub_model))
    assert adapter.estimate_seconds(adapter.validate({})) is None
    assert plan(adapter).in_worker and plan(adapter).concurrency_id == "batch:text/hf"
    assert plan(adapter).concurrency_limit == 2 * adapter.shares_steps == 8
    update = check(adapter)(*[p.default for p in adapter.params],
                            SimpleNamespace(query_params={}, headers={"accept-language": "en"}))
    assert update["visible"] is False
