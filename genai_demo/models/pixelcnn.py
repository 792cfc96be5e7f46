"""A class-conditional Gated PixelCNN that draws 28x28 digits one pixel at a time.

Autoregressive image models factor p(x) = prod_i p(x_i | x_1..x_{i-1}) over pixels in raster order
(PixelRNN/PixelCNN, van den Oord, Kalchbrenner and Kavukcuoglu, 2016). Masked convolutions make the
network see only pixels above and to the left. The gated version ("Conditional Image Generation with
PixelCNN Decoders", van den Oord et al., 2016) splits each layer into a vertical stack (rows above) and a
horizontal stack (pixels to the left in the same row), which removes the plain PixelCNN's blind spot,
and adds the class label as a bias inside every gate, eq. (4): y = tanh(W_f * x + V_f h) . sigmoid(W_g * x + V_g h).

Each pixel is one of ``levels`` grey levels (4: background, two greys, ink) and the network outputs a
softmax over them, so sampling is "pick the next pixel's colour from a categorical distribution".
"""

from __future__ import annotations

from typing import Generator, Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin

from genai_demo import batching
from genai_demo.batching import Engine, Need

PRESETS = {
    "tiny": dict(channels=8, num_layers=3, levels=4, num_classes=10, dilations=[1, 2]),
    "base": dict(channels=32, num_layers=8, levels=4, num_classes=10, dilations=[1, 2, 4, 8, 1, 2, 4]),
}


class GatedLayer(nn.Module):
    def __init__(self, in_ch: int, ch: int, kernel: int, num_classes: int, first: bool, dilation: int = 1):
        super().__init__()
        self.kernel, self.first, self.dilation = kernel, first, dilation
        k, d = kernel, dilation
        # Rows i - d*(k//2) .. i (every d-th), within d*(k//2) columns; dilation widens the view at no extra cost.
        self.v_conv = nn.Conv2d(in_ch, 2 * ch, (k // 2 + 1, k), dilation=d)
        self.v_to_h = nn.Conv2d(2 * ch, 2 * ch, 1)
        self.h_conv = nn.Conv2d(in_ch, 2 * ch, (1, k // 2 + 1), dilation=d)  # columns j - d*(k//2) .. j of row i
        self.h_out = nn.Conv2d(ch, ch, 1)
        self.cond = nn.Embedding(num_classes, 4 * ch)  # the label's bias for both gates, V h in eq. (4)

    @staticmethod
    def gate(x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return torch.tanh(a) * torch.sigmoid(b)

    def forward(self, v: torch.Tensor, h: torch.Tensor, labels: torch.Tensor):
        v_out, h_bias = self.vertical(v, labels)
        return v_out, self.horizontal(h, h_bias)

    def vertical(self, v: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The vertical stack's output, and what it tells the horizontal stack (from rows strictly above) plus the label."""
        r = self.dilation * (self.kernel // 2)
        cond_v, cond_h = self.cond(labels)[:, :, None, None].chunk(2, dim=1)
        v_feat = self.v_conv(F.pad(v, (r, r, r, 0)))  # (B, 2ch, H, W)
        # The horizontal stack may only see rows strictly above through the vertical one: shift down a row.
        v_above = F.pad(v_feat, (0, 0, 1, 0))[:, :, :-1, :]
        return self.gate(v_feat + cond_v), self.v_to_h(v_above) + cond_h

    def horizontal(self, h: torch.Tensor, h_bias: torch.Tensor) -> torch.Tensor:
        """The horizontal stack: within a row, each pixel sees only the pixels to its left."""
        h_feat = self.h_conv(F.pad(h, (self.dilation * (self.kernel // 2), 0, 0, 0)))  # (B, 2ch, H, W)
        if self.first:  # mask "A": the first layer must not see the pixel it predicts, shift right a column
            h_feat = F.pad(h_feat, (1, 0, 0, 0))[:, :, :, :-1]
        h_out = self.h_out(self.gate(h_feat + h_bias))
        return h_out if self.first else h + h_out  # residual on the horizontal stack after layer 1


class PixelCNN(nn.Module, PyTorchModelHubMixin, library_name="genai-playground", tags=["pixelcnn", "autoregressive", "mnist"]):
    def __init__(self, channels: int = 32, num_layers: int = 6, levels: int = 4, num_classes: int = 10,
                 dilations: list[int] | None = None):
        super().__init__()
        self.levels = levels  # grey levels per pixel: the size of each pixel's softmax
        self.num_classes = num_classes
        # Dilation of each layer after the first (default all 1): doubling dilations let the bottom of a digit
        # see its top, which plain 3x3 layers reach only one row per layer.
        dilations = list(dilations or [1] * (num_layers - 1))
        assert len(dilations) == num_layers - 1, "one dilation per layer after the first"
        layers = [GatedLayer(1, channels, 7, num_classes, first=True)]
        layers += [GatedLayer(channels, channels, 3, num_classes, first=False, dilation=d) for d in dilations]
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, levels, 1))
        # Rows above a pixel that can influence it: 7//2 for the first layer, d for each other, +1 for the shift.
        self.receptive_rows = 3 + sum(dilations) + 1

    def to_input(self, levels: torch.Tensor) -> torch.Tensor:
        """Integer grey levels (B, H, W) -> network input in [-1, 1], (B, 1, H, W)."""
        return (levels.float() / (self.levels - 1) * 2 - 1).unsqueeze(1)

    def forward(self, levels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Logits over grey levels for every pixel, (B, levels, H, W); pixel (i, j) sees only pixels before it."""
        x = self.to_input(levels)
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h, labels)
        return self.head(h)

    @torch.no_grad()
    def sample(self, labels: torch.Tensor, generator: torch.Generator, temperature: float = 1.0,
               size: int = 28, prefix: torch.Tensor | None = None,
               first_row: int = 0) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """Draw pixels in raster order. After each row yields (row, levels so far (B, H, W), the row's probabilities).

        Computed in this process's shared batch for the model (``genai_demo.batching``): requests drawing at the
        same time advance pixel by pixel together, each with its own generator, and get what they would alone."""
        batcher = batching.shared(self, ("pixels", size), lambda: PixelEngine(self), "pixelcnn")
        return batcher.stream(self.sample_rows(labels, generator, temperature, size, prefix, first_row))

    @torch.no_grad()
    def sample_rows(self, labels: torch.Tensor, generator: torch.Generator, temperature: float = 1.0,
                    size: int = 28, prefix: torch.Tensor | None = None, first_row: int = 0) -> Generator:
        """``sample`` as a coroutine: it yields a ``NextPixel`` (what the horizontal stack reads for pixel j of row
        i) and receives that pixel's logits (B, levels); after each row it yields (row, canvas, probabilities).

        Exact, but cheap: the vertical stack (rows above) runs once per row, on only the rows that can reach
        the current one; then each pixel reruns just the horizontal stack over the row up to that pixel.
        (Batched, a request keeps its own rows: the requests of one step share only their column.)
        With ``prefix`` (integer levels, (B, H, W)) its rows above ``first_row`` are kept and the model continues
        from there: p(rest | top) is just the same product of conditionals, started later.
        """
        b = len(labels)
        canvas = torch.zeros(b, size, size, dtype=torch.long, device=labels.device)
        if prefix is not None:
            canvas[:, :first_row] = prefix[:, :first_row]
        for i in range(first_row, size):
            top = max(0, i - self.receptive_rows)
            v = self.to_input(canvas[:, top : i + 1])
            row_biases = []
            for layer in self.layers:
                v, h_bias = layer.vertical(v, labels)
                row_biases.append(h_bias[:, :, -1:, :])  # row i only, (B, 2ch, 1, W); uses rows < i
            row_probs = []
            for j in range(size):
                h = self.to_input(canvas[:, i : i + 1, : j + 1])
                logits = yield NextPixel(j, h, [h_bias[..., : j + 1] for h_bias in row_biases])  # (B, levels)
                if temperature == 0:
                    pixel = logits.argmax(1)
                    probs = F.one_hot(pixel, self.levels).float()
                else:
                    probs = F.softmax(logits / temperature, dim=1)
                    pixel = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # this request's generator
                canvas[:, i, j] = pixel
                row_probs.append(probs)
            yield i, canvas, torch.stack(row_probs, dim=1)  # (B, W, levels)

    def horizontal_logits(self, h: torch.Tensor, row_biases: list[torch.Tensor], j: int) -> torch.Tensor:
        """Logits of pixel j from the horizontal stack over its row up to j, (B, levels)."""
        for layer, h_bias in zip(self.layers, row_biases):
            h = layer.horizontal(h, h_bias)
        return self.head(h)[:, :, 0, j]


class NextPixel(Need):
    """Pixel ``j`` of one request's current row: the row so far (B, 1, 1, j+1) and each layer's vertical bias."""

    def __init__(self, j: int, h: torch.Tensor, biases: list[torch.Tensor]):
        self.j, self.h, self.biases = j, h, biases


class PixelEngine(Engine):
    """Continuous batching for the PixelCNN (``genai_demo.batching``): every request's images draw their next pixel
    in one pass of the horizontal stack, in chunks of exactly ``width`` images (padded with blank rows), so an
    image's numbers never depend on which others share its step. The requests move through their rows in step
    (all at the same column), so a new request joins at the start of the next row of pixels: after at most 28
    pixel steps. Each request's vertical stack, once per row, runs in its own loop at its own size."""

    width = 16  # images per chunk: the default request's own size, which then computes exactly as it did alone

    def __init__(self, model: PixelCNN):
        self.model = model

    def admits(self, needs: list[Need]) -> bool:
        return all(need.j == 0 for need in needs)  # between two rows (or nothing running)

    @torch.no_grad()
    def compute(self, work):
        needs = [need for _, need in work]
        j = needs[0].j
        assert all(need.j == j for need in needs), "requests joined in the middle of a row"
        h = torch.cat([need.h for need in needs])  # (N, 1, 1, j+1)
        biases = [torch.cat(parts) for parts in zip(*(need.biases for need in needs))]  # per layer (N, 2ch, 1, j+1)
        logits = []
        for rows in batching.chunks(len(h), self.width):
            pad = self.width - len(rows)
            padded = [F.pad(x[rows.start : rows.stop], (0, 0, 0, 0, 0, 0, 0, pad)) for x in (h, *biases)]
            logits.append(self.model.horizontal_logits(padded[0], padded[1:], j)[: len(rows)])  # (width, levels)
        logits = torch.cat(logits)
        sizes = [len(need.h) for need in needs]
        return list(logits.split(sizes))


def quantize(images: torch.Tensor, levels: int) -> torch.Tensor:
    """Floats in [0, 1], (B, 1, H, W) -> integer grey levels (B, H, W)."""
    return (images.squeeze(1) * (levels - 1)).round().long()


def nll_loss(model: PixelCNN, levels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood in nats per pixel: cross-entropy of each pixel's softmax with its true level."""
    return F.cross_entropy(model(levels, labels), levels)
