"""The lean decode step (genai_demo/models/lean_decode.py) gives bit for bit the logits and cache writes of
transformers' forward, for a Llama and a GPT-2 network, a chunk of eight slots filled to different levels (some
idle), step after step; and with the shipped weights, generation writes the same tokens with it and without it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from genai_demo.batching import Batcher
from genai_demo.models import chorale, charlm
from genai_demo.models.charlm import NextToken, Prefill, SlotDecoder
from genai_demo.models.lean_decode import gpt2_step, lean_step, llama_step
from tests.conftest import at_once

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


def tiny_llama():
    torch.manual_seed(0)
    return charlm.make_model(40, "tiny").eval()


def tiny_gpt2():
    torch.manual_seed(0)
    return chorale.make_model("tiny").eval()


# The tiny presets have 16-dim heads, so the attention scale 1/4 is a power of two and commutes exactly with the
# products: these have 12-dim heads (and the Llama shares one key/value head between two query heads), so that
# scaling the query before the product instead of the scores after it would show.
def odd_llama():
    torch.manual_seed(0)
    return charlm.make_model(40, "tiny", hidden_size=24, num_key_value_heads=1).eval()


def odd_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=32, n_embd=24, n_layer=2, n_head=2)).eval()


def run_side_by_side(model, length: int, steps: int = 6):
    """The same work for a lean and a transformers ``SlotDecoder``: requests joining (prompts of 1 to 11 tokens) and
    leaving at different steps, so the eight slots sit at different positions and some are idle. Every answer
    (next-token logits) and every cache buffer must be equal; returns how many answers were compared."""
    lean, plain = SlotDecoder(model, 8, length, lean=True), SlotDecoder(model, 8, length, lean=False)
    assert lean.lean_step is not None and plain.lean_step is None
    g = torch.Generator().manual_seed(1)
    vocab = model.config.vocab_size
    joining = {0: [1, 4, 11], 2: [3, 7], 4: [1]}  # step -> prompt lengths of the requests that join then
    leaving = {3: 1, 5: 0}  # step -> which active request leaves then
    active, compared = [], 0
    for step in range(steps):
        if step in leaving:
            gone = active.pop(leaving[step])
            lean.leave(gone)
            plain.leave(gone)
        work = [(r, NextToken(int(torch.randint(vocab, (1,), generator=g)))) for r in active]
        for n in joining.get(step, []):
            r = object()
            work.append((r, Prefill(torch.randint(vocab, (n,), generator=g).tolist())))
            active.append(r)
        for a, b in zip(lean.compute(work), plain.compute(work)):
            assert torch.equal(a, b), f"other logits at step {step}"
            compared += 1
        for mine, theirs in zip(lean.caches[0].layers, plain.caches[0].layers):
            assert torch.equal(mine.keys, theirs.keys) and torch.equal(mine.values, theirs.values)
    assert sum(s is not None for s in lean.chunks[0]) < 8  # some slots were idle
    return compared


@pytest.mark.parametrize("make", [tiny_llama, odd_llama, tiny_gpt2, odd_gpt2])
def test_the_lean_step_gives_the_transformers_logits_bit_for_bit(make):
    model = make()
    assert run_side_by_side(model, length=24) > 15


def test_the_lean_step_sees_a_wrong_rotary_embedding_or_mask(monkeypatch):
    """The comparison above can fail: a lean step that rotates keys by the wrong position, or lets a row see the
    empty places of its slot, gives other logits."""
    from genai_demo.models import lean_decode

    def shifted_positions(model, input_ids, position_ids, mask, layers):
        return llama_step(model, input_ids, position_ids + 1, mask, layers)

    def no_mask(model, input_ids, position_ids, mask, layers):
        return gpt2_step(model, input_ids, position_ids, torch.zeros_like(mask), layers)

    for make, wrong in [(tiny_llama, shifted_positions), (tiny_gpt2, no_mask)]:
        monkeypatch.setattr(lean_decode, "lean_step", lambda model: wrong)
        with pytest.raises(AssertionError, match="other logits"):
            run_side_by_side(make(), length=24)


def test_other_networks_and_attention_keep_the_transformers_forward():
    from transformers import GPT2Config, GPT2LMHeadModel, MistralConfig, MistralForCausalLM

    for make, step in [(tiny_llama, llama_step), (tiny_gpt2, gpt2_step)]:
        model = make()
        model.set_attn_implementation("sdpa")
        assert lean_step(model) is None
        assert SlotDecoder(model, 8, 16).lean_step is step  # the decoder switches it to eager attention first
        assert lean_step(model) is step
    other = MistralForCausalLM(MistralConfig(vocab_size=40, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                             num_key_value_heads=2, intermediate_size=64))
    assert lean_step(other) is None
    upcast = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_embd=32, n_layer=1, n_head=2, reorder_and_upcast_attn=True))
    assert lean_step(upcast) is None


def shipped(folder: str):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(WEIGHTS / folder, local_files_only=True, use_safetensors=True,
                                                dtype=torch.float32).eval()


def test_the_shipped_text_model_writes_the_same_tokens_with_the_lean_step_and_without():
    model = shipped("text-shakespeare")
    window = charlm.context_length(model)

    def texts(lean: bool):
        batcher = Batcher(SlotDecoder(model, 8, window, lean=lean))
        prompts = [[5, 6, 7], [9], list(range(1, 40))]

        def one(i):
            steps = charlm.sample_tokens(prompts[i], torch.Generator().manual_seed(i), window=window,
                                         max_new_tokens=24, temperature=0.8)
            return [(s.token_id, s.p_model) for s in batcher.stream(steps)]

        return at_once([lambda i=i: one(i) for i in range(len(prompts))])

    with_lean = texts(True)
    assert with_lean == texts(False) and all(len(t) == 24 for t in with_lean)


def test_the_shipped_chorale_model_writes_the_same_notes_with_the_lean_step_and_without():
    from genai_demo.data.chorales import BOS, MAJOR, MINOR

    model = shipped("audio-chorale")

    def pieces(lean: bool):
        batcher = Batcher(SlotDecoder(model, 8, chorale.window_tokens(), lean=lean))

        def one(i):
            steps = chorale.sample_steps(model, [BOS, (MAJOR, MINOR)[i % 2]], 1, torch.Generator().manual_seed(i))
            return [(s.token_id, s.p_model) for s in batcher.stream(steps)]

        return at_once([lambda i=i: one(i) for i in range(3)])

    with_lean = pieces(True)
    assert with_lean == pieces(False) and all(len(p) == 33 for p in with_lean)
