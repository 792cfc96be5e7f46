"""Text you write: ``text/score`` colours each character by the model's surprise, and the attention view.

Tiny models (2 layers, 32 dims, a 32-token context) on the CPU; the shipped weights only where the shipped figure is
checked.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from genai_demo.adapters.score import TextScoreAdapter
from genai_demo.contract import ParameterError
from genai_demo.models import charlm, charlm_read
from genai_demo.registry import Registry
from genai_demo.ui.text_tab import LIKELIHOOD, attention_table, coloured_text, format_text_info, likelihood
from tests.test_text import ROOT, text_root  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def scorer(text_root):  # noqa: F811
    return Registry(text_root).get("text/score")


def full_pass_logp(model, ids: list[int]) -> list[float]:
    """log p of each token after the first, from one pass over the whole sequence (it must fit the context)."""
    logits = model(input_ids=torch.tensor([ids])).logits.float()[0]
    return F.log_softmax(logits, -1)[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].tolist()


def test_scores_inside_one_context_are_one_forward_pass():
    torch.manual_seed(0)
    model = charlm.make_model(20, "tiny").eval()
    ids = torch.randint(0, 20, (32,)).tolist()  # exactly the 32-token context
    scored = charlm_read.score_ids(model, ids)
    assert scored.logp == pytest.approx(full_pass_logp(model, ids), abs=1e-5)
    assert scored.nats_per_token == pytest.approx(-sum(scored.logp) / 31)
    assert all(c[0][1] >= c[-1][1] for c in scored.candidates)  # likeliest first


def test_a_long_text_is_scored_in_overlapping_windows_each_token_with_half_a_window_of_context():
    torch.manual_seed(0)
    model = charlm.make_model(20, "tiny").eval()
    ids = torch.randint(0, 20, (100,)).tolist()
    scored = charlm_read.score_ids(model, ids, batch_size=2)  # several batches
    assert len(scored.logp) == 99
    # Token 70 is predicted in the window starting at 48 (it covers 48..79 and scores from 64 on).
    assert scored.logp[69] == pytest.approx(full_pass_logp(model, ids[48:80])[70 - 48 - 1], abs=1e-5)
    assert scored.logp[:31] == pytest.approx(full_pass_logp(model, ids[:32]), abs=1e-5)


def test_attention_maps_match_transformers_eager_attention(tmp_path):
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    model = charlm.make_model(20, "tiny").eval()
    model.save_pretrained(tmp_path)
    eager = LlamaForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    ids = torch.randint(0, 20, (25,)).tolist()
    with torch.no_grad():
        expected = torch.stack(eager(input_ids=torch.tensor([ids]), output_attentions=True).attentions)[:, 0]
    maps = charlm_read.attention_maps(model, ids)
    assert maps.shape == (2, 2, 25, 25)
    assert torch.allclose(maps, expected, atol=1e-5)
    assert torch.allclose(maps.sum(-1), torch.ones(2, 2, 25))
    assert maps.triu(1).abs().max() == 0  # no position looks ahead
    assert model.config._attn_implementation != "eager"  # the model's own setting is untouched


def test_scoring_does_not_change_what_the_text_model_writes(text_root, scorer):  # noqa: F811
    writer = Registry(text_root).get("text/shakespeare")
    before = writer.generate(seed=3, prompt="All:\n", max_new_tokens=20).text
    scorer.generate(text="Speak, speak.")
    scorer.attention("Speak, speak.", 5)
    assert writer.generate(seed=3, prompt="All:\n", max_new_tokens=20).text == before


def test_a_scored_text_has_a_frame_per_character_and_its_perplexity(scorer):
    text = "Speak, speak. qé!"  # "q" and "!" never occur in the tiny model's text; "é" reads as "e"
    result = scorer.generate(text=text)
    assert result.text == text and len(result.process) == len(text)
    unscored = [f["token"] for f in result.process if f["p_model"] is None]
    assert unscored == ["q", "!"]
    scored = [f for f in result.process if f["p_model"] is not None]
    assert all(0 < f["p_model"] <= 1 and f["candidates"] for f in scored)
    ppl = math.exp(-sum(math.log(f["p_model"]) for f in scored) / len(scored))
    assert result.info["perplexity"] == pytest.approx(ppl, rel=1e-3)
    assert result.info["scored_chars"] == len(text) - 2 and result.info["seed"] is None
    assert "left out 2 characters the model never saw: q !" in result.info["notes"]
    # The coloured text: one span per character, unscored ones uncoloured.
    spans = coloured_text({"prompt": "", "frames": result.process})
    assert "".join(s for s, _ in spans) == text
    assert [s for s, c in spans if c is None] == ["q", "!"]
    # The info line: the perplexity, and no seed (nothing was drawn at random).
    line = format_text_info({**result.info, "heldout_perplexity": 4.38}, "en")
    assert "perplexity" in line and "held-out Shakespeare, which the model never read: perplexity 4.38" in line
    assert "seed" not in line
    assert "퍼플렉서티" in format_text_info(result.info, "ko")


def test_the_surprise_scale_is_in_bits_with_four_levels():
    assert [likelihood(p) for p in (0.9, 0.5, 0.2, 0.125, 0.05, 1 / 64, 0.001, None)] == [
        "expected", "expected", "possible", "possible", "surprising", "surprising", "very_surprising", None]
    assert len(LIKELIHOOD) == 4


@pytest.mark.parametrize("text, message", [
    ("x" * 100_000, "text is 100,000 characters long: expected text of at most 2,000 characters"),
    ("   \n", "text is empty"),
    (None, "text is missing"),
])
def test_bad_text_is_one_line(scorer, text, message):
    with pytest.raises(ParameterError, match=message):
        scorer.generate(text=text)


def test_the_attention_view_at_a_position(scorer):
    view = scorer.attention("Speak, speak.", 4)
    assert view["chars"] == ["\n", "S", "p", "e", "a"] and view["position"] == 4 and not view["cut"]
    weights = torch.tensor(view["weights"])
    assert weights.shape == (2, 2, 5)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 2), atol=1e-4)
    page = attention_table(view, "en")
    assert page.count("<tr>") == 1 + 4 and "layer 2, head 2" in page and "Looking from character 4 ('a')" in page
    assert "2층 2번 헤드" in attention_table(view, "ko")
    long = scorer.attention("Speak, speak. " * 10, 100)  # beyond the 32-token context
    assert long["cut"] and len(long["chars"]) == 32


@pytest.mark.parametrize("args, message", [
    (("Speak", 6), "position=6 is out of range: expected an integer from 1 to 5"),
    (("Speak", 0), "position=0 is out of range"),
    (("x" * 100_000, 1), "text is 100,000 characters long"),
    (("qqq", 2), "the model reads none of the characters up to there"),
])
def test_bad_attention_requests_are_one_line(scorer, args, message):
    with pytest.raises(ParameterError, match=message):
        scorer.attention(*args)


def test_the_shipped_held_out_figure_is_what_the_page_shows():
    shipped = TextScoreAdapter(ROOT / "weights")
    assert shipped.heldout is not None and 3.0 < shipped.heldout["perplexity"] < 6.0
    assert shipped.heldout["chars"] > 100_000
