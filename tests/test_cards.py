"""Model cards: every shipped ``weights/<id>/README.md`` parses with huggingface_hub, carries the Hub's metadata,
holds every figure of its ``scores.json`` in ``model-index`` with the same value, and is what the card writer
makes from the files beside it (so a benchmark run that rewrites the card keeps it in sync)."""

from __future__ import annotations

import importlib
import json
import re
import shutil

import pytest
from huggingface_hub import ModelCard

from tests.conftest import ROOT

WEIGHTS = sorted(p for p in (ROOT / "weights").iterdir() if (p / "README.md").exists())
SCORED = [p for p in WEIGHTS if (p / "scores.json").exists()]

# A measured number in a figure as the benchmarks write it: one with a unit (96.8%, 4.9x, 128 ms, 0.47 s,
# 2.4270 nats) or standing alone (0.917, "0.7873 / ...", "(ratio 0.324)"). A number followed by a noun
# ("1000 samples", "first 8 bars") says how the figure was measured; "per 100 notes" is a unit.
MEASURED = re.compile(r"(?<![\w.,])(?<!per )(-?\d[\d,]*(?:\.\d+)?)(?=%|x\b| ?ms\b| s\b| nats\b|\s*[/);,(]|$)")


def number(text: str) -> float:
    return float(text.replace(",", ""))


def figure_results(card: ModelCard, figure: str) -> list:
    """The model-index results of one scores.json figure: "notes in the key, generated / real" gives
    "notes in the key, generated [%]" and "notes in the key, real [%]"."""
    head, _, tail = figure.rpartition(", ")
    base = head if head and " / " in tail else figure
    return [r for r in card.data.eval_results if r.metric_name.startswith(base)]


@pytest.mark.parametrize("folder", WEIGHTS, ids=lambda p: p.name)
def test_card_carries_the_hub_metadata(folder):
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name and card.data.pipeline_tag and card.data.license == "mit"
    assert card.data.model_name == folder.name
    if not card.data.datasets:  # the Bach chorales: music21's corpus, not a Hub dataset
        assert "no Hugging Face Hub dataset id" in card.text
    assert card.data.eval_results, "no figures in model-index"
    for r in card.data.eval_results:
        assert type(r.metric_value) in (int, float), (r.metric_name, r.metric_value)
        assert r.task_type == card.data.pipeline_tag


@pytest.mark.parametrize("folder", SCORED, ids=lambda p: p.name)
def test_every_figure_of_scores_json_is_in_model_index(folder):
    card = ModelCard.load(folder / "README.md")
    scores = json.loads((folder / "scores.json").read_text())
    for figure, value in scores["figures"].items():
        try:
            settings = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            settings = None
        if isinstance(settings, dict):  # the sampler settings go with every figure
            for r in card.data.eval_results:
                assert {k: r.metric_args.get(k) for k in settings} == settings, r.metric_name
            continue
        values = [r.metric_value for r in figure_results(card, figure)]
        if isinstance(value, (int, float)):
            assert value in values, (figure, value, values)
            continue
        expected = {number(m) for m in MEASURED.findall(value)}
        expected.add(number(re.match(r"-?\d[\d,]*(?:\.\d+)?", value)[0]))  # the headline ("40 generated")
        missing = {x for x in expected if x not in values}
        assert not missing, f"{folder.name}: {figure!r} = {value!r}: {sorted(missing)} not in model-index {values}"


def test_the_classifier_card_reports_its_training_figure_only():
    folder = ROOT / "weights" / "mnist-classifier"
    card = ModelCard.load(folder / "README.md")
    val = json.loads((folder / "training.json").read_text())["final_losses"]["val_accuracy"]
    assert [(r.metric_name, r.metric_value) for r in card.data.eval_results] == [("validation accuracy", round(val, 4))]


@pytest.mark.parametrize("folder", WEIGHTS, ids=lambda p: p.name)
def test_shipped_card_is_what_the_card_writer_makes(folder, tmp_path):
    from genai_demo.train import TRAINERS
    from genai_demo.train.common import write_model_card

    copy = tmp_path / folder.name
    copy.mkdir()
    for name in ("training.json", "scores.json"):
        if (folder / name).exists():
            shutil.copy(folder / name, copy / name)
    trainer = importlib.import_module(TRAINERS[json.loads((folder / "training.json").read_text())["id"]])
    getattr(trainer, "write_card", write_model_card)(copy)
    assert (copy / "README.md").read_text() == (folder / "README.md").read_text()
