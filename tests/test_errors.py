"""Errors in the learner's words: the page names the control as shown, in the page's language; the CLI and the API
keep the parameter's code name. Every model's every parameter, every reason."""

from __future__ import annotations

import re

import pytest

from genai_demo.contract import ParameterError
from genai_demo.registry import Registry
from genai_demo.ui import errors

HANGUL = re.compile(r"[\uac00-\ud7a3]")
BAD = {"integer": [10**30, "abc", 2.5, None], "slider": [1e9, "lots", float("nan")], "choice": ["no such", 3.5],
       "toggle": ["maybe"], "text": ["x" * 200_000, 12]}


@pytest.mark.parametrize("model_id", list(Registry().models))
def test_every_bad_value_names_the_control_as_the_page_shows_it(model_id):
    adapter = Registry().get(model_id)
    for p in adapter.params:
        for value in BAD[p.kind]:
            with pytest.raises(ParameterError) as caught:
                adapter.validate({p.name: value})
            e = caught.value
            assert e.param is p and e.reason in ParameterError.REASONS
            assert str(e).startswith(p.name)  # the CLI and the API keep the code name
            english, korean = errors.for_page(e, "en"), errors.for_page(e, "ko")
            assert english.startswith(p.display_label + ":") and "\n" not in english
            assert korean.startswith(p.translations["ko"][0] + ":") and HANGUL.search(korean) and "\n" not in korean
            if "_" in p.name:
                assert p.name not in english and p.name not in korean  # no code names on the page


def test_a_huge_seed_is_quoted_as_typed():
    adapter = Registry().get("image/gan")
    for typed in (99999999999999999999999, "99999999999999999999999"):
        with pytest.raises(ParameterError) as caught:
            adapter.validate({"seed": typed})
        assert "99999999999999999999999" in str(caught.value)
        assert "99999999999999999999999" in errors.for_page(caught.value, "ko")
    with pytest.raises(ParameterError) as caught:  # what a browser sends for it: a float that lost the digits
        adapter.validate({"seed": 1e23})
    assert "1e+23" in str(caught.value) and "99999999999999991611392" not in str(caught.value)


def test_other_errors_get_a_sentence_in_the_page_language():
    from genai_demo.contract import GenAIError, ModelUnavailable

    line = errors.for_page(ModelUnavailable("image/gan is unavailable: weights not found"), "ko")
    assert HANGUL.search(line) and "weights not found" in line
    assert errors.for_page(GenAIError("plain"), "en") == "plain"
    assert HANGUL.search(errors.for_page(RuntimeError("boom"), "ko")) and "RuntimeError: boom" in errors.for_page(
        RuntimeError("boom"), "ko")


def test_the_words_a_model_writes_into_its_results_are_declared_in_korean(tiny_weights):
    """Every ``Say`` in a result (captions, process labels, the names of process pictures) has a Korean template."""
    from genai_demo import i18n
    from genai_demo.words import Say, words_of

    registry = Registry(tiny_weights)
    cheap = {"num_images": 2, "num_inference_steps": 2, "max_new_tokens": 3, "num_bars": 1}
    for adapter in registry:
        if adapter.unavailable_reason():
            adapter = type(adapter)()  # the shipped weights (the chorale and text models have no tiny ones here)
        params = {k: v for k, v in {**cheap, "seed": 1}.items() if k in {p.name for p in adapter.params}}
        said = []
        for result in adapter.stream(**params):
            said += list(result.captions)
            for frame in result.process:
                said += [frame["label"], *frame.get("images", {})]
        table = words_of(adapter, "ko")
        i18n.register_model(adapter)
        for text in said:
            if isinstance(text, Say):
                assert text.template in table, (adapter.id, text.template)
                assert HANGUL.search(i18n.said(text, "ko")), (adapter.id, text)
            else:
                assert not re.search(r"[A-Za-z]{3,}", text), (adapter.id, text)  # digits only, nothing to translate


def test_a_stopped_worker_or_ray_node_is_one_line_in_the_pages_language():
    from genai_demo.worker import WorkerError

    detail = "the Ray node running image/diffusion stopped or could not be reached (ActorDiedError); please try again"
    english, korean = errors.for_page(WorkerError(detail), "en"), errors.for_page(WorkerError(detail), "ko")
    assert english.startswith("The part of the server that runs this model stopped") and detail in english
    assert korean.startswith("이 모델을 실행하는 서버의 한 부분이") and HANGUL.search(korean) and detail in korean
    assert "\n" not in english + korean
