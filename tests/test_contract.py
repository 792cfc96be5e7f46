"""The declared parameters validate input the same way for the UI, the CLI and the API."""

import math

import pytest

from genai_demo.contract import ModelUnavailable, Param, ParameterError, UnknownModel
from genai_demo.registry import MODALITIES, Registry

INT = Param("num_images", "integer", 4, "help", minimum=1, maximum=64)
NUM = Param("temperature", "slider", 1.0, "help", minimum=0.0, maximum=3.0, step=0.05)
CHOICE = Param("label", "choice", "any", "help", choices=("any", "0", "1"))
TOGGLE = Param("do_sample", "toggle", True, "help")
TEXT = Param("prompt", "text", "", "help", max_length=10)


@pytest.mark.parametrize("param,value,expected", [
    (INT, 5, 5), (INT, 5.0, 5), (INT, "7", 7), (INT, 64, 64),
    (NUM, 0, 0.0), (NUM, "2.5", 2.5), (NUM, 3, 3.0),
    (CHOICE, "0", "0"), (CHOICE, 1, "1"), (CHOICE, "any", "any"),
    (TOGGLE, False, False), (TOGGLE, "true", True), (TOGGLE, "0", False),
    (TEXT, "héllo 🙂", "héllo 🙂"),
])
def test_valid_values_are_converted(param, value, expected):
    got = param.validate(value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("param,value,fragment", [
    (INT, 0, "out of range"), (INT, 65, "out of range"), (INT, 2.5, "not a whole number"),
    (INT, "abc", "not a number"), (INT, True, "wrong type"), (INT, [1], "wrong type"), (INT, None, "missing"),
    (NUM, math.nan, "not a finite number"), (NUM, math.inf, "not a finite number"), (NUM, -0.01, "out of range"),
    (NUM, "nan", "not a finite number"), (NUM, {"a": 1}, "wrong type"),
    (CHOICE, "7", "not a known choice"), (CHOICE, 1.5, "wrong type"),
    (TOGGLE, "maybe", "not true or false"), (TOGGLE, 2, "not true or false"),
    (TEXT, "x" * 11, "characters long"), (TEXT, 5, "wrong type"),
])
def test_bad_values_name_the_parameter_and_the_allowed_range(param, value, fragment):
    with pytest.raises(ParameterError) as e:
        param.validate(value)
    message = str(e.value)
    assert fragment in message
    assert message.startswith(param.name)
    assert param.describe_range() in message
    assert "\n" not in message


def test_adapter_fills_defaults_and_rejects_unknown_parameters(tiny_weights):
    gan = Registry(tiny_weights).get("image/gan")
    values = gan.validate({"num_images": "3"})
    assert values == {"seed": 0, "num_images": 3, "label": "any", "truncation": 1.0}
    with pytest.raises(ParameterError, match="has no parameter temprature"):
        gan.validate({"temprature": 1})


def test_every_parameter_is_declared_completely():
    for model in Registry():
        names = [p.name for p in model.params]
        assert len(names) == len(set(names)), model.id
        assert "seed" in names or getattr(model, "deterministic", False), model.id  # a model that draws at random takes a seed
        for p in model.params:
            assert p.help and p.help.endswith("."), (model.id, p.name)
            p.validate(p.default)  # every default is itself valid
        assert model.title and len(model.description) > 80 and model.family and model.modality in MODALITIES


def test_unknown_model_id_is_a_clear_error():
    with pytest.raises(UnknownModel) as e:
        Registry().get("image/gann")
    assert str(e.value) == ("unknown model 'image/gann'; known models: "
                            "image/gan, image/vae, image/diffusion, image/autoregressive, text/shakespeare, text/score, "
                            "audio/chorale, audio/harmonise")


def test_missing_weights_make_only_that_model_unavailable(tmp_path, tiny_weights):
    import shutil

    shutil.copytree(tiny_weights / "image-vae", tmp_path / "image-vae")  # nothing else
    registry = Registry(tmp_path)
    gan, vae = registry.get("image/gan"), registry.get("image/vae")
    reason = gan.unavailable_reason()
    assert "weights not found" in reason and "python -m genai_demo train image/gan" in reason
    with pytest.raises(ModelUnavailable, match="image/gan is unavailable: weights not found"):
        gan.generate(seed=0)
    assert vae.unavailable_reason() is None
    assert len(vae.generate(seed=0, num_images=2).images) == 2


def test_a_long_choice_list_is_named_in_part_so_the_message_stays_one_short_line():
    p = Param("continue_from", "choice", "a", "Which opening.", choices=tuple("abcdefghij"))
    with pytest.raises(ParameterError) as e:
        p.validate("z")
    assert str(e.value) == "continue_from='z' is not a known choice: expected one of a, b, c, d and 6 more"
