"""Comparing the four families, judged by the digit classifier."""

import shutil

import pytest

from genai_demo import compare
from genai_demo.contract import GenAIError
from genai_demo.judge import DigitJudge
from genai_demo.registry import Registry


def test_compare_draws_the_same_digit_with_every_family(tiny_weights):
    records = list(compare.compare(Registry(tiny_weights), DigitJudge(tiny_weights), seed=4, label="6", num_images=2))
    assert sorted(r["model"] for r in records) == sorted(compare.compared(Registry(tiny_weights))) == sorted(
        m.id for m in Registry(tiny_weights) if m.modality == "image" and m.compared)
    assert len(records) == 4  # the four families
    for r in records:
        assert len(r["images"]) == 2 and len(r["predicted"]) == 2
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["confidence"] <= 1 and r["seconds_per_image"] > 0
        assert r["info"]["params"]["label"] == "6" and r["info"]["seed"] == 4


def test_an_unavailable_model_is_reported_and_the_others_still_run(tmp_path, tiny_weights):
    shutil.copytree(tiny_weights, tmp_path, dirs_exist_ok=True)
    shutil.rmtree(tmp_path / "image-diffusion")
    records = {r["model"]: r for r in compare.compare(Registry(tmp_path), DigitJudge(tmp_path), label="1", num_images=1)}
    assert "weights not found" in records["image/diffusion"]["error"]
    assert len(records["image/gan"]["images"]) == 1


def test_every_model_is_asked_at_once_and_reported_as_it_finishes(tiny_weights):
    """The comparison waits for its slowest model, not for the sum of all: every model's run starts before any has
    finished (each stand-in run waits until all have started; one after the other, the first would wait in vain),
    and a model that finishes first is reported first."""
    import threading

    registry = Registry(tiny_weights)
    models = compare.compared(registry)
    everyone_asked = threading.Barrier(len(models), timeout=20)
    last = models[-1]
    last_done = threading.Event()

    def run(adapter, values):
        everyone_asked.wait()  # raises BrokenBarrierError unless every model was asked at the same time
        if adapter.id != last:
            last_done.wait(timeout=20)  # the registry's last model finishes first
        result = adapter.generate(**values)
        if adapter.id == last:
            last_done.set()
        return result

    records = list(compare.compare(registry, DigitJudge(tiny_weights), run, seed=5, label="3", num_images=1))
    assert records[0]["model"] == last and sorted(r["model"] for r in records) == sorted(models)


def test_the_judge_agrees_with_itself_on_real_looking_input(tiny_weights):
    from PIL import Image

    verdict = DigitJudge(tiny_weights).judge([Image.new("L", (28, 28))] * 3, [0, 1, 2])
    assert len(verdict.predicted) == 3 and len(set(verdict.predicted)) == 1  # the same image, the same answer
    assert verdict.accuracy in (0, 1 / 3)


def test_missing_classifier_is_a_clear_error(tmp_path):
    with pytest.raises(GenAIError, match="train it with: python -m genai_demo train mnist-classifier"):
        DigitJudge(tmp_path).load()


@pytest.mark.parametrize("bad", [{"label": "any"}, {"num_images": 17}, {"seed": -3}, {"model": "image/gan"}])
def test_compare_refuses_bad_input(tiny_weights, bad):
    with pytest.raises(GenAIError):
        list(compare.compare(Registry(tiny_weights), DigitJudge(tiny_weights), **bad))


def test_through_the_serving_layer_each_model_runs_where_its_own_requests_run(tiny_weights):
    """The app's comparison asks the serving layer: the slow models go to the worker (here a stand-in that runs them
    and notes them), the quick ones stay in the server, and the images are those of a plain run."""
    from genai_demo.serving import SharedResults, plan

    registry = Registry(tiny_weights)

    class Worker:
        ran = []

        def stream(self, model_id, values):
            self.ran.append(model_id)
            return registry.get(model_id).stream(**values)

    shared = SharedResults()
    shared.use_worker(Worker())
    records = list(compare.compare(registry, DigitJudge(tiny_weights), shared.generate, seed=3, label="2", num_images=2))
    plain = list(compare.compare(registry, DigitJudge(tiny_weights), seed=3, label="2", num_images=2))
    slow = [m for m in compare.compared(registry) if plan(registry.get(m)).in_worker]
    assert sorted(Worker.ran) == sorted(slow) and "image/autoregressive" in slow and "image/gan" not in slow
    by_model = {r["model"]: r for r in plain}
    for served in records:
        alone = by_model[served["model"]]
        assert [im.tobytes() for im in served["images"]] == [im.tobytes() for im in alone["images"]]
