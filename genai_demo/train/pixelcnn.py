"""Train the class-conditional Gated PixelCNN on MNIST: maximise the likelihood of every pixel given those before it."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from genai_demo.models.pixelcnn import PRESETS, PixelCNN, nll_loss, quantize
from genai_demo.train.common import TrainRun, invocation, mnist_tensors, save_grid, write_summary

DESCRIPTION = (
    "A class-conditional Gated PixelCNN: it reads a digit in raster order and predicts the grey level of each next "
    "pixel from all pixels before it and the label; drawing samples the 784 pixels one at a time."
)


def train(data_dir, out_dir, *, preset: str = "base", epochs: int | None = None, max_steps: int | None = 3000,
          batch_size: int = 32, lr: float = 2e-3, seed: int = 0, time_budget: float | None = None,
          limit: int | None = None, val_fraction: float = 0.05, sample_every: int = 1000) -> dict:
    torch.manual_seed(seed)
    images, labels, splits = mnist_tensors(data_dir, limit)
    model = PixelCNN(**PRESETS[preset])
    levels = quantize(images, model.levels)
    n_val = max(1, int(len(levels) * val_fraction))  # held out, to report a validation NLL
    train_x, train_y, val_x, val_y = levels[:-n_val], labels[:-n_val], levels[-n_val:], labels[-n_val:]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = max(1, len(train_x) // batch_size)
    total = epochs * steps_per_epoch if epochs else max_steps
    if epochs and max_steps:
        total = min(total, max_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    run = TrainRun(out_dir, total, time_budget, desc="image/autoregressive", log_every=25)

    def validation_nll() -> float:
        model.eval()
        with torch.no_grad():
            return sum(nll_loss(model, val_x[i : i + 100], val_y[i : i + 100]).item() * len(val_x[i : i + 100])
                       for i in range(0, len(val_x), 100)) / len(val_x)

    history = []
    for epoch in run.epochs():
        model.train()
        for idx in run.batches(len(train_x), batch_size):
            loss = nll_loss(model, train_x[idx], train_y[idx])  # nats per pixel
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            history = (history + [loss.item()])[-steps_per_epoch:]
            run.advance(epoch, loss=loss.item())
            if run.step % sample_every == 0 or run.step == total:
                run.log(epoch=epoch, val_nll=validation_nll())
                model.eval()
                gen = torch.Generator().manual_seed(1234)
                *_, (_, canvas, _) = model.sample(torch.arange(10).repeat_interleave(4), gen)
                save_grid(canvas.unsqueeze(1).float() / (model.levels - 1), Path(out_dir) / "samples" / f"step_{run.step:05d}.png")
                model.train()
    run.close()
    model.eval()
    model.save_pretrained(out_dir)
    val = validation_nll()
    summary = {
        "id": "image/autoregressive", "title": "Class-conditional Gated PixelCNN on MNIST", "description": DESCRIPTION,
        "tags": ["pixelcnn", "autoregressive", "mnist", "image-generation"],
        "data": f"MNIST, {len(train_x):,} training and {len(val_x):,} held-out images from the {'+'.join(splits)} "
                f"split(s), quantised to {model.levels} grey levels",
        "command": invocation(), "config": PRESETS[preset], "parameters": sum(p.numel() for p in model.parameters()),
        "steps": run.step, "epochs": run.epochs_done, "batch_size": batch_size, "seed": seed, "minutes": run.elapsed / 60,
        "final_losses": {"train_nll_nats_per_pixel": sum(history) / max(1, len(history)), "val_nll_nats_per_pixel": val},
        "limits": f"Draws 28x28 digits in {model.levels} grey levels. Drawing is sequential, 784 network passes per "
                  "image, so it is the slowest of the four families; an early bad pixel cannot be undone.",
    }
    write_summary(out_dir, summary)
    return summary
