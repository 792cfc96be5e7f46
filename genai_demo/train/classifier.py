"""Train the digit classifier that judges generated samples (cross-entropy, Adam)."""

from __future__ import annotations


import torch
import torch.nn.functional as F

from genai_demo.models.classifier import PRESETS, DigitClassifier
from genai_demo.train.common import invocation, TrainRun, mnist_tensors, write_summary

DESCRIPTION = (
    "A small LeNet-style convolutional classifier. It is not a generator: the benchmarks use it to check that a "
    "generated digit is the one that was asked for, and its features to measure how close samples are to real digits."
)


def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        preds = torch.cat([model(images[i : i + 1000]).argmax(1) for i in range(0, len(images), 1000)])
    return (preds == labels).float().mean().item()


def train(data_dir, out_dir, *, preset: str = "base", epochs: int = 8, batch_size: int = 64, lr: float = 1e-3,
          seed: int = 0, time_budget: float | None = None, max_steps: int | None = None, limit: int | None = None,
          val_fraction: float = 0.1) -> dict:
    torch.manual_seed(seed)
    images, labels, splits = mnist_tensors(data_dir, limit)
    n_val = max(1, int(len(images) * val_fraction))  # the last 10% are held out
    train_x, train_y, val_x, val_y = images[:-n_val], labels[:-n_val], images[-n_val:], labels[-n_val:]
    model = DigitClassifier(**PRESETS[preset])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = max(1, len(train_x) // batch_size)
    total = min(epochs * steps_per_epoch, max_steps or 10**12)
    run = TrainRun(out_dir, total, time_budget, desc="mnist-classifier")
    history = []
    for epoch in run.epochs():
        model.train()
        history = []
        for idx in run.batches(len(train_x), batch_size):
            x = train_x[idx]
            # Random shifts of up to 2 pixels: cheap augmentation for a 9,000-image training set.
            dx, dy = torch.randint(-2, 3, (2,)).tolist()
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            history.append({"loss": loss.item()})
            run.advance(epoch, loss=loss.item())
        run.log(epoch=epoch + 1, val_accuracy=accuracy(model, val_x, val_y))
    run.close()
    model.eval()
    model.save_pretrained(out_dir)
    val_acc = accuracy(model, val_x, val_y)
    summary = {
        "id": "mnist-classifier", "title": "MNIST digit classifier (the benchmarks' judge)", "description": DESCRIPTION,
        "tags": ["image-classification", "mnist"],
        "data": f"MNIST, {len(train_x):,} training and {len(val_x):,} held-out images from the {'+'.join(splits)} split(s)",
        "command": invocation(),
        "config": PRESETS[preset], "parameters": sum(p.numel() for p in model.parameters()),
        "steps": run.step, "epochs": run.epochs_done, "batch_size": batch_size, "seed": seed,
        "minutes": run.elapsed / 60,
        "final_losses": {"train_loss": sum(h["loss"] for h in history) / max(1, len(history)), "val_accuracy": val_acc},
        "val_accuracy": val_acc,
        "limits": "Trained on real digits only; on generated images its confidence is a yardstick, not ground truth.",
    }
    write_summary(out_dir, summary)
    return summary
