"""The training commands end to end on tiny data: files written, loss logged, model loadable."""

import json

import pytest

from genai_demo.registry import Registry
from genai_demo.train import get_trainer


# 96 images in batches of 32 for 2 epochs; the classifier holds 10% out, leaving 87 (2 batches an epoch).
@pytest.mark.parametrize("target,steps", [("image/gan", 6), ("image/vae", 6), ("mnist-classifier", 4)])
def test_training_writes_a_loadable_checkpoint_with_log_and_card(tmp_path, mnist_dir, target, steps):
    out = tmp_path / target.replace("/", "-")
    summary = get_trainer(target)(mnist_dir, out, preset="tiny", epochs=2, batch_size=32, limit=96)
    assert summary["steps"] == steps and summary["epochs"] == 2
    for name in ("config.json", "model.safetensors", "train_log.jsonl", "training.json", "README.md"):
        assert (out / name).is_file(), name
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert log and all("step" in r and "seconds" in r for r in log)
    card = (out / "README.md").read_text()
    assert f"{steps} steps" in card and f"{summary['parameters']:,} parameters" in card and "## Scores" in card
    if target != "mnist-classifier":
        assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_002.png"]
        adapter = Registry(tmp_path).get(target)
        assert adapter.unavailable_reason() is None
        assert len(adapter.generate(seed=1, num_images=3).images) == 3


def test_time_budget_stops_early_and_still_saves(tmp_path, mnist_dir):
    out = tmp_path / "gan"
    summary = get_trainer("image/gan")(mnist_dir, out, preset="tiny", epochs=1000, batch_size=32, time_budget=0.5)
    assert 0 < summary["steps"] < 1000 * 9
    assert (out / "model.safetensors").is_file()


def test_unknown_training_target():
    with pytest.raises(KeyError, match="no training command for 'image/gann'"):
        get_trainer("image/gann")


def test_best_weights_go_back_only_when_the_end_was_worse():
    import torch

    from genai_demo.train.common import BestWeights

    model = torch.nn.Linear(2, 1)
    best = BestWeights()
    best.offer(model, 1.0, step=100)
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    best.offer(model, 1.5, step=200)  # worse: not kept
    assert best.restore_if_better(model, final_loss=0.9, final_step=300) == 300  # the end is better: stays
    assert not torch.equal(model.weight, kept["weight"])
    assert best.restore_if_better(model, final_loss=1.2, final_step=300) == 100  # the end is worse: back to 100
    assert torch.equal(model.weight, kept["weight"]) and torch.equal(model.bias, kept["bias"])
