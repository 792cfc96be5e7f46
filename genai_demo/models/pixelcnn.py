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
        self.margin = dilation * (kernel // 2)  # rows above, and columns either side, that its convolutions read
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
        same time advance row by row together, each with its own generator, and get what they would alone."""
        batcher = batching.shared(self, ("pixels", size), lambda: PixelEngine(self, size), "pixelcnn")
        return batcher.stream(self.sample_rows(labels, generator, temperature, size, prefix, first_row))

    @torch.no_grad()
    def sample_rows(self, labels: torch.Tensor, generator: torch.Generator, temperature: float = 1.0,
                    size: int = 28, prefix: torch.Tensor | None = None, first_row: int = 0) -> Generator:
        """``sample`` as a coroutine: for each row it yields a ``NextRow`` (its own vertical stack, temperature and
        generator) and receives the row's pixels (B, W) and their probabilities (B, W, levels), drawn by
        ``PixelEngine``; then it yields (row, canvas, probabilities).

        Exact, but cheap ("Fast Generation for Convolutional Autoregressive Models", Ramachandran et al., 2017):
        nothing is computed twice. Once a row is drawn, the vertical stack computes that row only, from its
        layers' outputs at the rows above, kept from earlier rows (``VerticalRows``); then each pixel of the next
        row computes the horizontal stack at its own column only, from the layers' outputs at the columns to its
        left, kept from earlier pixels of the row (drawn pixels never change).
        With ``prefix`` (integer levels, (B, H, W)) its rows above ``first_row`` are kept and the model continues
        from there: p(rest | top) is just the same product of conditionals, started later.
        """
        canvas = torch.zeros(len(labels), size, size, dtype=torch.long, device=labels.device)
        if prefix is not None:
            canvas[:, :first_row] = prefix[:, :first_row]
        vertical = VerticalRows(self, labels, size, kept=self.to_input(canvas[:, :first_row]).squeeze(1))
        for i in range(first_row, size):
            pixels, probs = yield NextRow(vertical, temperature, generator)
            canvas[:, i] = pixels
            yield i, canvas, probs


class VerticalRows:
    """One request's vertical stack, a row at a time (computed by ``PixelEngine.add_rows``, for every request of a
    step at once): each layer's input at the rows drawn so far, zero-padded as the layer's convolution reads it
    (rows above the picture, columns at either side), and what the last drawn row tells each layer's horizontal
    stack in the row below (``biases``)."""

    def __init__(self, model: PixelCNN, labels: torch.Tensor, size: int, kept: torch.Tensor | None = None):
        self.images, self.row = len(labels), 0  # rows drawn so far
        conds = [layer.cond(labels).chunk(2, dim=1) for layer in model.layers]  # the label's bias, (B, 2ch) each
        self.cond_v = torch.stack([v for v, _ in conds], 1)  # (B, layers, 2ch)
        self.cond_h = cond_h = torch.stack([h for _, h in conds], 1)
        self.inputs = [cond_h.new_zeros(len(labels), layer.v_conv.in_channels, layer.margin + size,
                                        size + 2 * layer.margin) for layer in model.layers]
        # Row 0 has nothing above: its horizontal stacks get only the 1x1 convolution's bias and the label's.
        v_to_h = torch.stack([layer.v_to_h.bias for layer in model.layers])  # (layers, 2ch)
        self.biases = (v_to_h[None, :, None] + cond_h[:, :, None]).expand(-1, -1, size, -1)  # (B, layers, W, 2ch)
        self.kept = kept if kept is not None and kept.shape[1] else None  # a prefix's rows, not yet in the stack

    def window(self, layer: int, margin: int, dilation: int) -> torch.Tensor:
        """Layer ``layer``'s input at the rows its convolution reads for the next row: (B, C, rows, W + 2 margin)."""
        return self.inputs[layer][:, :, self.row : self.row + margin + 1 : dilation]


class NextRow(Need):
    """One request's next row: its vertical stack (what the rows above tell the row), and how to draw its pixels
    (its temperature, its own generator)."""

    def __init__(self, vertical: VerticalRows, temperature: float, generator: torch.Generator):
        self.vertical, self.temperature, self.generator = vertical, temperature, generator


class PixelEngine(Engine):
    """Continuous batching for the PixelCNN (``genai_demo.batching``): a step draws the next row of every request's
    images: pixel by pixel, each pixel one pass of the horizontal stack at its column for all of them, then the
    vertical stack at that row for all of them. Every pass runs in chunks of exactly ``width`` images (padded with
    blank ones), so an image's numbers never depend on which others share its step. A new request joins at the
    next row, after at most 28 pixels. Everything is batched but the draw itself, from each request's generator.

    One column of a layer is two small matrix products: the horizontal convolution over columns ``j - dilation``
    and ``j`` (the first layer: the 4 pixels left of j) and the 1x1 output, the convolutions' weights laid out as
    matrices once, here."""

    # Images per chunk: four default requests (16 images each) share a pass; a lone one pays for the padding.
    width = 64

    def __init__(self, model: PixelCNN, size: int = 28):
        self.model, self.size = model, size
        first, *rest = model.layers
        self.reach = first.kernel // 2 + 1  # the first layer reads the 4 pixels left of the one it predicts
        self.first = (first.h_conv.weight.flatten(1).t().contiguous(), first.h_conv.bias)  # (reach, 2ch)
        # Kernel column 0 reads column j - dilation (``past``), column 1 reads column j: stacked as [past, now].
        self.rest = [(torch.cat([layer.h_conv.weight[..., 0, 0], layer.h_conv.weight[..., 0, 1]], 1).t().contiguous(),
                      layer.h_conv.bias) for layer in rest]
        self.outs = [(layer.h_out.weight.flatten(1).t().contiguous(), layer.h_out.bias) for layer in model.layers]
        _, one, _, two = model.head
        self.head = [(one.weight.flatten(1).t().contiguous(), one.bias), (two.weight.flatten(1).t().contiguous(), two.bias)]
        self.v_to_h = [(layer.v_to_h.weight.flatten(1).t().contiguous(), layer.v_to_h.bias) for layer in model.layers]
        self.pad = max(layer.dilation for layer in model.layers)  # columns of zeros left of each layer's outputs
        self.channels = first.h_out.out_channels
        self.device = first.h_out.weight.device
        self.shades = model.to_input(torch.arange(model.levels, device=self.device)[None, None]).flatten()  # -> input
        # Layer l (after the first) reads its input, layer l-1's output, at columns j - dilation and j: where column
        # j - dilation of each layer but the last lies in a row's outputs laid out flat, one index per j.
        behind = torch.tensor([k * (self.pad + size) + self.pad - layer.dilation for k, layer in enumerate(rest)],
                              device=self.device)
        self.past_at = [behind + j for j in range(size)]

    @torch.no_grad()
    def column(self, j: int, left: torch.Tensor, past: torch.Tensor, biases: torch.Tensor):
        """Logits of pixel j (N, levels) and every layer's output at column j (layers, N, ch), from the first layer's
        ``left`` pixels (N, reach), the later layers' inputs at column j - dilation (``past``, (layers - 1, N, ch))
        and each layer's vertical bias at column j (layers, N, 2ch)."""
        gate = GatedLayer.gate
        w, bias = self.first
        feat = torch.addmm(bias, left, w) if j > 0 else left.new_zeros(len(left), w.shape[1])  # mask "A": shifted
        h = torch.addmm(self.outs[0][1], gate(feat + biases[0]), self.outs[0][0])
        outputs = [h]
        for k, ((w, bias), (w_out, b_out)) in enumerate(zip(self.rest, self.outs[1:])):
            feat = torch.addmm(bias, torch.cat([past[k], h], 1), w)
            h = h + torch.addmm(b_out, gate(feat + biases[k + 1]), w_out)  # the residual
            outputs.append(h)
        (w1, b1), (w2, b2) = self.head
        logits = torch.addmm(b2, torch.relu(torch.addmm(b1, torch.relu(h), w1)), w2)
        return logits, torch.stack(outputs)

    def chunked(self, f, x: torch.Tensor) -> torch.Tensor:
        """``f`` on ``x``'s images in chunks of exactly ``width`` (the last one padded with zeros), joined."""
        n, width = len(x), self.width
        x = torch.cat([x, x.new_zeros(-n % width, *x.shape[1:])])
        return torch.cat([f(x[c : c + width]) for c in range(0, len(x), width)])[:n]

    @torch.no_grad()
    def add_rows(self, stacks: list[VerticalRows], rows: list[torch.Tensor]) -> None:
        """Each stack's next row is drawn (``rows``: its network input, (B, W)): compute every layer's vertical
        output there, and what it tells the row below (``VerticalRows.biases``), for all the stacks at once."""
        sizes, layers = [stack.images for stack in stacks], self.model.layers
        cond_v = torch.cat([stack.cond_v for stack in stacks])
        cond_h = torch.cat([stack.cond_h for stack in stacks])
        size = self.size
        for stack, row in zip(stacks, rows):
            stack.inputs[0][:, 0, layers[0].margin + stack.row, layers[0].margin : layers[0].margin + size] = row
        biases = []
        for n, layer in enumerate(layers):
            window = torch.cat([stack.window(n, layer.margin, layer.dilation) for stack in stacks])  # (B, C, rows, W+)
            feat = self.chunked(lambda x: F.conv2d(x, layer.v_conv.weight, layer.v_conv.bias,
                                                   dilation=(1, layer.dilation)), window)[:, :, 0]  # (B, 2ch, W)
            if n + 1 < len(layers):  # the next layer's input at this row
                m = layers[n + 1].margin
                out = GatedLayer.gate(feat + cond_v[:, n, :, None])
                for stack, part in zip(stacks, out.split(sizes)):
                    stack.inputs[n + 1][:, :, m + stack.row, m : m + size] = part
            # What this row tells the horizontal stack of the row below: a 1x1 convolution, a matrix per column.
            w, bias = self.v_to_h[n]
            biases.append(self.chunked(lambda x: torch.addmm(bias, x.flatten(0, 1), w).view(x.shape),
                                       feat.transpose(1, 2)) + cond_h[:, n, None])  # (B, W, 2ch)
        for stack, part in zip(stacks, torch.stack(biases, 1).split(sizes)):
            stack.biases, stack.row = part, stack.row + 1

    @torch.no_grad()
    def compute(self, work):
        """Draw the next row of every request's images: (pixels (B, W), probabilities (B, W, levels)) each."""
        needs = [need for _, need in work]
        stacks = [need.vertical for need in needs]
        for stack in stacks:  # a prefix's kept rows go into its stack first (alone: a request's first step)
            if stack.kept is not None:
                kept, stack.kept = stack.kept, None
                for r in range(kept.shape[1]):
                    self.add_rows([stack], [kept[:, r]])
        sizes = [stack.images for stack in stacks]
        n, layers, size = sum(sizes), len(self.model.layers), self.size
        rows = -(-n // self.width) * self.width  # whole chunks: the padding rows compute from zeros, unread
        biases = torch.cat([stack.biases for stack in stacks]).permute(2, 1, 0, 3)  # (W, layers, B, 2ch)
        biases = F.pad(biases, (0, 0, 0, rows - n)).contiguous()
        # Each layer's output at every column of the row, zeros left of it, laid out so that a layer's column for a
        # chunk of images is one contiguous matrix: (layers, pad + W, images, ch).
        outputs = biases.new_zeros(layers, self.pad + size, rows, self.channels)
        flat = outputs.view(layers * (self.pad + size), rows, self.channels)
        drawn = biases.new_zeros(rows, self.reach + size)  # the row as network input, zeros left of it
        levels = self.model.levels
        temperatures = torch.tensor([need.temperature or 1.0 for need in needs for _ in range(need.vertical.images)],
                                    device=self.device)
        starts = [sum(sizes[:k]) for k in range(len(sizes))]
        greedy = [slice(start, start + b) for need, start, b in zip(needs, starts, sizes) if need.temperature == 0]
        pixels = biases.new_zeros(n, size, dtype=torch.long)
        probs = biases.new_zeros(n, size, levels)
        for j in range(size):
            left, past = drawn[:, j : j + self.reach], flat.index_select(0, self.past_at[j])
            logits = []
            for c in range(0, rows, self.width):
                chunk = slice(c, c + self.width)
                chunk_logits, outputs[:, self.pad + j, chunk] = self.column(
                    j, left[chunk].contiguous(), past[:, chunk], biases[j, :, chunk])
                logits.append(chunk_logits)
            logits = torch.cat(logits)[:n]
            probs[:, j] = p = F.softmax(logits / temperatures[:, None], dim=1)
            # Each request's draw, from its own generator: the pixel's level is argmax(p / q) with q ~ Exp(1) per
            # level, a categorical draw (what ``torch.multinomial`` does for one sample: the same numbers).
            noise = [p.new_empty(b, levels).exponential_(generator=need.generator) if need.temperature else
                     p.new_ones(b, levels) for need, b in zip(needs, sizes)]
            pixels[:, j] = (p / torch.cat(noise)).argmax(1)
            for mine in greedy:  # temperature 0: the likeliest level, for sure
                pixels[mine, j] = logits[mine].argmax(1)
                probs[mine, j] = F.one_hot(pixels[mine, j], levels).float()
            drawn[:n, self.reach + j] = self.shades[pixels[:, j]]
        self.add_rows(stacks, list(drawn[:n, self.reach :].split(sizes)))
        return list(zip(pixels.split(sizes), probs.split(sizes)))


def quantize(images: torch.Tensor, levels: int) -> torch.Tensor:
    """Floats in [0, 1], (B, 1, H, W) -> integer grey levels (B, H, W)."""
    return (images.squeeze(1) * (levels - 1)).round().long()


def nll_loss(model: PixelCNN, levels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood in nats per pixel: cross-entropy of each pixel's softmax with its true level."""
    return F.cross_entropy(model(levels, labels), levels)
