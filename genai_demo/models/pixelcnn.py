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
        i) and receives that pixel's logits (B, levels) and each layer's output there; after each row it yields
        (row, canvas, probabilities).

        Exact, but cheap ("Fast Generation for Convolutional Autoregressive Models", Ramachandran et al., 2017):
        nothing is computed twice. Once a row is drawn, the vertical stack computes that row only, from its
        layers' outputs at the rows above, kept from earlier rows (``VerticalRows``); then each pixel of the next
        row computes the horizontal stack at its own column only, from the layers' outputs at the columns to its
        left, kept from earlier pixels of the row (drawn pixels never change).
        (Batched, a request keeps its own rows: the requests of one step share only their column.)
        With ``prefix`` (integer levels, (B, H, W)) its rows above ``first_row`` are kept and the model continues
        from there: p(rest | top) is just the same product of conditionals, started later.
        """
        b, n = len(labels), len(self.layers)
        canvas = torch.zeros(b, size, size, dtype=torch.long, device=labels.device)
        if prefix is not None:
            canvas[:, :first_row] = prefix[:, :first_row]
        reach = self.layers[0].kernel // 2 + 1  # the first layer reads the 4 pixels left of the one it predicts
        pad = max(layer.dilation for layer in self.layers)  # columns of zeros left of each layer's outputs
        channels = self.layers[0].h_out.out_channels
        # Layer l (after the first) reads its input, layer l-1's output, at columns j - dilation and j: where
        # column j - dilation of each layer but the last lies in a row's outputs laid out flat, one index per j.
        behind = torch.tensor([k * (pad + size) + pad - layer.dilation for k, layer in enumerate(self.layers[1:])],
                              device=labels.device)
        past_at = [behind + j for j in range(size)]
        shades = self.to_input(torch.arange(self.levels, device=labels.device)[None, None]).flatten()  # level -> input
        vertical = VerticalRows(self, labels, size)
        for r in range(first_row):  # the kept rows of a prefix: only their vertical stack is needed
            vertical.add_row(self.to_input(canvas[:, r]))
        for i in range(first_row, size):
            row_biases = vertical.biases()  # what the rows above tell row i, per layer (B, 2ch, W)
            biases = torch.stack(row_biases, dim=1).transpose(2, 3).contiguous()  # (B, layers, W, 2ch)
            outputs = labels.new_zeros(b, n, pad + size, channels, dtype=torch.float)  # each layer's, by column
            flat = outputs.view(b, n * (pad + size), channels)
            drawn = labels.new_zeros(b, reach + size, dtype=torch.float)  # the row as network input, zeros left of it
            row_probs = []
            for j in range(size):
                # The first layer reads the ``reach`` pixels left of j (B, reach), the others their ``past`` columns.
                logits, column = yield NextPixel(j, drawn[:, j : j + reach], flat.index_select(1, past_at[j]),
                                                 biases[:, :, j])
                outputs[:, :, pad + j] = column
                if temperature == 0:
                    pixel = logits.argmax(1)
                    probs = F.one_hot(pixel, self.levels).float()
                else:
                    probs = F.softmax(logits / temperature, dim=1)
                    pixel = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # this request's generator
                canvas[:, i, j] = pixel
                drawn[:, reach + j] = shades[pixel]
                row_probs.append(probs)
            vertical.add_row(drawn[:, None, reach:])
            yield i, canvas, torch.stack(row_probs, dim=1)  # (B, W, levels)


class VerticalRows:
    """One request's vertical stack, a row at a time: each layer's gated output at every drawn row (what the next
    layer reads), and what the last drawn row tells the horizontal stack of the row below it."""

    def __init__(self, model: PixelCNN, labels: torch.Tensor, size: int):
        self.layers, self.size = model.layers, size
        conds = [layer.cond(labels).chunk(2, dim=1) for layer in self.layers]  # the label's bias, (B, 2ch) each
        self.cond_v = [v[:, :, None, None] for v, _ in conds]
        self.cond_h = [h[:, :, None] for _, h in conds]
        self.inputs: list[torch.Tensor] = []  # the picture's drawn rows, (B, 1, W) each, in [-1, 1]
        self.outputs: list[list[torch.Tensor]] = [[] for _ in self.layers]  # per layer, per row: (B, ch, W)
        self.feats: list[torch.Tensor] | None = None  # per layer, the last row's features before the gate

    def _window(self, rows: list[torch.Tensor], r: int, height: int, step: int) -> torch.Tensor:
        """Rows r - step*(height-1) .. r (every ``step``-th) of a layer's input, zeros above the picture: (B, C, height, W)."""
        picked = [rows[k] if k >= 0 else torch.zeros_like(rows[r]) for k in range(r - step * (height - 1), r + 1, step)]
        return torch.stack(picked, dim=2)

    def add_row(self, pixels: torch.Tensor) -> None:
        """Row r is drawn ((B, 1, W) network input): compute every layer's vertical output at row r."""
        self.inputs.append(pixels)
        r, feats, below = len(self.inputs) - 1, [], self.inputs
        for layer, cond_v, outputs in zip(self.layers, self.cond_v, self.outputs):
            k, d = layer.kernel, layer.dilation
            window = self._window(below, r, k // 2 + 1, d)
            feat = F.conv2d(F.pad(window, (d * (k // 2),) * 2), layer.v_conv.weight, layer.v_conv.bias,
                            dilation=(1, d))  # (B, 2ch, 1, W): row r only
            outputs.append(layer.gate(feat + cond_v)[:, :, 0])
            feats.append(feat[:, :, 0])
            below = outputs
        self.feats = feats

    def biases(self) -> list[torch.Tensor]:
        """Per layer, the horizontal stack's bias for the next row: the row above's features (none above row 0)
        through the 1x1 convolution, plus the label's bias; (B, 2ch, W) each."""
        out = []
        for n, (layer, cond_h) in enumerate(zip(self.layers, self.cond_h)):
            if self.feats is None:
                out.append((layer.v_to_h.bias[None, :, None] + cond_h).expand(-1, -1, self.size))
            else:
                out.append(F.conv2d(self.feats[n][:, :, None], layer.v_to_h.weight, layer.v_to_h.bias)[:, :, 0] + cond_h)
        return out


class NextPixel(Need):
    """Pixel ``j`` of one request's current row: the row's ``left`` pixels (B, 4), each later layer's input at its
    column ``j - dilation`` (``past``, (B, layers - 1, ch)), and each layer's vertical bias at column j (B, layers, 2ch)."""

    def __init__(self, j: int, left: torch.Tensor | None, past: torch.Tensor | None = None,
                 biases: torch.Tensor | None = None):
        self.j, self.left, self.past, self.biases = j, left, past, biases


class PixelEngine(Engine):
    """Continuous batching for the PixelCNN (``genai_demo.batching``): every request's images draw their next pixel
    in one pass of the horizontal stack at that pixel's column, in chunks of exactly ``width`` images (padded with
    blank rows), so an image's numbers never depend on which others share its step. The requests move through
    their rows in step (all at the same column), so a new request joins at the start of the next row of pixels:
    after at most 28 pixel steps. Each request's vertical stack, once per row, runs in its own loop at its own size.

    One column of a layer is two small matrix products: the horizontal convolution over columns ``j - dilation``
    and ``j`` (the first layer: the 4 pixels left of j) and the 1x1 output, the convolutions' weights laid out as
    matrices once, here."""

    # Images per chunk: four default requests (16 images each) share a step; a lone one pays ~15% for the padding
    # (16 images: 0.58 s at width 64, 0.50 s at 16; four such requests at once: 0.9 s and 1.5 s; one thread).
    width = 64

    def __init__(self, model: PixelCNN):
        self.model = model
        first, *rest = model.layers
        self.first = (first.h_conv.weight.flatten(1).t().contiguous(), first.h_conv.bias)  # (reach, 2ch)
        # Kernel column 0 reads column j - dilation (``past``), column 1 reads column j: stacked as [past, now].
        self.rest = [(torch.cat([layer.h_conv.weight[..., 0, 0], layer.h_conv.weight[..., 0, 1]], 1).t().contiguous(),
                      layer.h_conv.bias) for layer in rest]
        self.outs = [(layer.h_out.weight.flatten(1).t().contiguous(), layer.h_out.bias) for layer in model.layers]
        _, one, _, two = model.head
        self.head = [(one.weight.flatten(1).t().contiguous(), one.bias), (two.weight.flatten(1).t().contiguous(), two.bias)]

    def admits(self, needs: list[Need]) -> bool:
        return all(need.j == 0 for need in needs)  # between two rows (or nothing running)

    @torch.no_grad()
    def column(self, j: int, left: torch.Tensor, past: torch.Tensor, biases: torch.Tensor):
        """Logits of pixel j (N, levels) and every layer's output at column j (N, layers, ch)."""
        gate = GatedLayer.gate
        w, bias = self.first
        feat = torch.addmm(bias, left, w) if j > 0 else left.new_zeros(len(left), w.shape[1])  # mask "A": shifted
        h = torch.addmm(self.outs[0][1], gate(feat + biases[:, 0]), self.outs[0][0])
        outputs = [h]
        for k, ((w, bias), (w_out, b_out)) in enumerate(zip(self.rest, self.outs[1:])):
            feat = torch.addmm(bias, torch.cat([past[:, k], h], 1), w)
            h = h + torch.addmm(b_out, gate(feat + biases[:, k + 1]), w_out)  # the residual
            outputs.append(h)
        (w1, b1), (w2, b2) = self.head
        logits = torch.addmm(b2, torch.relu(torch.addmm(b1, torch.relu(h), w1)), w2)
        return logits, torch.stack(outputs, 1)

    @torch.no_grad()
    def compute(self, work):
        needs = [need for _, need in work]
        j = needs[0].j
        assert all(need.j == j for need in needs), "requests joined in the middle of a row"
        parts = [torch.cat(tensors) for tensors in zip(*((n.left, n.past, n.biases) for n in needs))]
        logits, columns = [], []
        for rows in batching.chunks(len(parts[0]), self.width):
            pad = self.width - len(rows)
            padded = [F.pad(x[rows.start : rows.stop], (0, 0) * (x.dim() - 1) + (0, pad)) for x in parts]
            chunk_logits, chunk_columns = self.column(j, *padded)
            logits.append(chunk_logits[: len(rows)])
            columns.append(chunk_columns[: len(rows)])
        sizes = [len(need.left) for need in needs]
        return list(zip(torch.cat(logits).split(sizes), torch.cat(columns).split(sizes)))


def quantize(images: torch.Tensor, levels: int) -> torch.Tensor:
    """Floats in [0, 1], (B, 1, H, W) -> integer grey levels (B, H, W)."""
    return (images.squeeze(1) * (levels - 1)).round().long()


def nll_loss(model: PixelCNN, levels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood in nats per pixel: cross-entropy of each pixel's softmax with its true level."""
    return F.cross_entropy(model(levels, labels), levels)
