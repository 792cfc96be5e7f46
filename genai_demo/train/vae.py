"""Train the convolutional class-conditional VAE on MNIST (after pytorch/examples vae/main.py)."""

from __future__ import annotations

from pathlib import Path

import torch

from genai_demo.models.vae import PRESETS, ConditionalVAE, vae_loss
from genai_demo.train.common import invocation, TrainRun, mnist_tensors, save_grid, write_summary

DESCRIPTION = (
    "A convolutional class-conditional VAE: an encoder squeezes each digit into 16 numbers (a point in latent space), "
    "a decoder draws a digit back from such a point and a label; sampling decodes random points."
)


def train(data_dir, out_dir, *, preset: str = "base", epochs: int = 40, batch_size: int = 64, lr: float = 1e-3,
          seed: int = 0, time_budget: float | None = None, max_steps: int | None = None, limit: int | None = None,
          sample_every: int = 5) -> dict:
    torch.manual_seed(seed)
    images, labels, splits = mnist_tensors(data_dir, limit)
    model = ConditionalVAE(**PRESETS[preset])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = max(1, len(images) // batch_size)
    total = min(epochs * steps_per_epoch, max_steps or 10**12)
    run = TrainRun(out_dir, total, time_budget, desc="image/vae")
    fixed_gen = torch.Generator().manual_seed(1234)
    fixed_labels = torch.arange(10).repeat_interleave(10)
    fixed_z = torch.randn(100, model.latent_dim, generator=fixed_gen)
    history = []
    for epoch in run.epochs():
        model.train()
        history = []
        for idx in run.batches(len(images), batch_size):
            x, y = images[idx], labels[idx]
            logits, mu, logvar = model(x, y)
            loss, recon, kl = vae_loss(logits, x, mu, logvar)  # negative ELBO, nats per image
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses = {"loss": loss.item(), "reconstruction": recon.item(), "kl": kl.item()}
            history.append(losses)
            run.advance(epoch, **losses)
        if (epoch + 1) % sample_every == 0 or run.finished:
            model.eval()
            with torch.no_grad():
                save_grid(torch.sigmoid(model.decode(fixed_z, fixed_labels)), Path(out_dir) / "samples" / f"epoch_{epoch + 1:03d}.png")
    run.close()
    model.eval()
    model.save_pretrained(out_dir)
    final = {k: sum(h[k] for h in history) / max(1, len(history)) for k in ("loss", "reconstruction", "kl")} if history else {}
    summary = {
        "id": "image/vae", "title": "Conditional convolutional VAE on MNIST", "description": DESCRIPTION,
        "tags": ["vae", "mnist", "image-generation"],
        "data": f"MNIST, {len(images):,} images from the {'+'.join(splits)} split(s), pixels in [0, 1] as Bernoulli targets",
        "command": invocation(),
        "config": PRESETS[preset], "parameters": sum(p.numel() for p in model.parameters()),
        "steps": run.step, "epochs": run.epochs_done, "batch_size": batch_size, "seed": seed,
        "minutes": run.elapsed / 60, "final_losses": final,
        "limits": "Draws 28x28 grayscale digits 0-9 only. VAE samples are the decoder's mean image, so they look "
                  "smoother and blurrier than real ink; the loss is in nats per image.",
    }
    write_summary(out_dir, summary)
    return summary
