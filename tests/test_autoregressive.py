"""The PixelCNN: causality, exact fast sampling, streaming row by row."""

import pytest
import torch

from genai_demo.contract import ParameterError
from genai_demo.models.pixelcnn import PRESETS, PixelCNN, nll_loss, quantize
from genai_demo.registry import Registry


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return PixelCNN(**PRESETS["tiny"]).eval()


@pytest.mark.parametrize("pixel", [(0, 0), (5, 5), (10, 27), (27, 0)])
def test_a_pixel_never_influences_itself_or_earlier_pixels(model, pixel):
    x = torch.randint(0, 4, (1, 28, 28))
    y = torch.tensor([3])
    changed = x.clone()
    changed[0][pixel] = (changed[0][pixel] + 1) % 4
    diff = (model(changed, y) - model(x, y)).abs().sum(1)[0].flatten()
    index = pixel[0] * 28 + pixel[1]
    assert diff[: index + 1].max() == 0  # raster order: nothing at or before the changed pixel moves
    assert diff[index + 1 :].max() > 0  # and it does inform later pixels


def test_fast_sampling_matches_the_full_network(model):
    """Greedy sampling (temperature 0) with the row-by-row shortcut must pick the full network's argmax everywhere."""
    y = torch.tensor([2, 9])
    *_, (_, canvas, _) = model.sample(y, torch.Generator().manual_seed(0), temperature=0)
    assert torch.equal(model(canvas, y).argmax(1), canvas)


@pytest.mark.parametrize("first_row", [0, 11])
def test_row_by_row_column_by_column_probabilities_are_the_full_networks(model, first_row):
    """Each pixel's probabilities, computed from the rows above and the columns to its left kept from earlier steps,
    equal what the whole network gives on the finished picture (pixels never see later ones, so the final canvas
    is what each saw); also when the top rows are given (a drawing's completion)."""
    y = torch.tensor([0, 7, 3])
    prefix = torch.randint(0, 4, (3, 28, 28), generator=torch.Generator().manual_seed(1))
    rows = list(model.sample(y, torch.Generator().manual_seed(4), temperature=1.0, prefix=prefix, first_row=first_row))
    canvas = rows[-1][1]
    assert [r[0] for r in rows] == list(range(first_row, 28)) and torch.equal(canvas[:, :first_row], prefix[:, :first_row])
    sampled = torch.stack([probs for _, _, probs in rows], dim=1)  # (B, rows drawn, W, levels)
    full = torch.softmax(model(canvas, y), dim=1).permute(0, 2, 3, 1)[:, first_row:]
    assert torch.allclose(sampled, full, atol=1e-5)


def test_sampling_is_seeded_and_yields_every_row(model):
    def draw(seed):
        rows = list(model.sample(torch.tensor([1, 4]), torch.Generator().manual_seed(seed)))
        return rows

    a, b, c = draw(0), draw(0), draw(1)
    assert [r[0] for r in a] == list(range(28))
    assert a[-1][2].shape == (2, 28, 4) and torch.allclose(a[-1][2].sum(-1), torch.ones(2, 28))
    assert torch.equal(a[-1][1], b[-1][1]) and not torch.equal(a[-1][1], c[-1][1])


def test_training_steps_lower_the_nll(mnist_dir):
    from genai_demo.train.common import mnist_tensors

    torch.manual_seed(0)
    x, y, _ = mnist_tensors(mnist_dir, limit=32)
    levels = quantize(x, 4)
    assert levels.min() >= 0 and levels.max() == 3
    net = PixelCNN(**PRESETS["tiny"])
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    before = nll_loss(net, levels, y).item()
    for _ in range(10):
        loss = nll_loss(net, levels, y)
        opt.zero_grad(); loss.backward(); opt.step()
    assert nll_loss(net, levels, y).item() < before


def test_adapter_streams_rows_and_returns_the_confidence_view(tiny_weights):
    ar = Registry(tiny_weights).get("image/autoregressive")
    results = list(ar.stream(seed=2, num_images=2, label="7", temperature=0.8))
    assert len(results) == 28 and [r.done for r in results] == [False] * 27 + [True]
    assert results[0].captions == ["row 1 of 28", "row 1 of 28"]
    final = results[-1]
    assert final.labels == [7, 7] and final.images[0].size == (28, 28)
    assert len(final.process) == 14 and final.process[-1]["label"] == "rows 1-28 of 28"
    assert set(final.process[-1]["images"]) == {"drawn so far", "probability of each chosen shade (dark: a surprising choice)"}
    with pytest.raises(ParameterError, match="temperature=-1 is out of range"):
        ar.generate(temperature=-1)
