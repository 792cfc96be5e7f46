"""Train the class-conditional DCGAN on MNIST (after pytorch/examples dcgan/main.py)."""

from __future__ import annotations

from pathlib import Path

import torch

from genai_demo.models.gan import PRESETS, ConditionalGAN, discriminator_loss, generator_loss
from genai_demo.train.common import invocation, TrainRun, mnist_tensors, save_grid, write_summary

DESCRIPTION = (
    "A DCGAN-style class-conditional GAN: a generator that turns 64 numbers of noise plus a digit label "
    "into a 28x28 image, trained against a discriminator that sees the label too."
)


def train(data_dir, out_dir, *, preset: str = "base", epochs: int = 40, batch_size: int = 64, lr: float = 2e-4,
          seed: int = 0, time_budget: float | None = None, max_steps: int | None = None, limit: int | None = None,
          sample_every: int = 5) -> dict:
    torch.manual_seed(seed)
    images, labels, splits = mnist_tensors(data_dir, limit)
    real_all = images * 2 - 1  # G ends in tanh, so real digits go to [-1, 1] too
    model = ConditionalGAN(**PRESETS[preset])
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=lr, betas=(0.5, 0.999))  # DCGAN's Adam settings
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    steps_per_epoch = max(1, len(images) // batch_size)
    total = min(epochs * steps_per_epoch, max_steps or 10**12)
    run = TrainRun(out_dir, total, time_budget, desc="image/gan")
    # Fixed noise: one row per digit, so the saved grids show the same samples improving.
    fixed_gen = torch.Generator().manual_seed(1234)
    fixed_labels = torch.arange(10).repeat_interleave(10)
    fixed_z = torch.randn(100, model.latent_dim, generator=fixed_gen)
    history = []
    for epoch in run.epochs():
        model.train()
        history = []
        for idx in run.batches(len(images), batch_size):
            real, y = real_all[idx], labels[idx]
            fake = model.generator(torch.randn(len(idx), model.latent_dim), y)
            # (1) Update D: maximise log D(x|y) + log(1 - D(G(z|y)|y))
            d_loss = discriminator_loss(model, real, fake, y)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            # (2) Update G: maximise log D(G(z|y)|y)
            g_loss = generator_loss(model, fake, y)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            losses = {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
            history.append(losses)
            run.advance(epoch, **losses)
        if (epoch + 1) % sample_every == 0 or run.finished:
            model.eval()
            with torch.no_grad():
                save_grid((model.generator(fixed_z, fixed_labels) + 1) / 2, Path(out_dir) / "samples" / f"epoch_{epoch + 1:03d}.png")
    run.close()
    model.eval()
    model.save_pretrained(out_dir)
    final = {k: sum(h[k] for h in history) / max(1, len(history)) for k in ("d_loss", "g_loss")} if history else {}
    summary = {
        "id": "image/gan", "title": "Conditional DCGAN on MNIST", "description": DESCRIPTION,
        "tags": ["gan", "dcgan", "mnist", "image-generation"],
        "data": f"MNIST, {len(images):,} images from the {'+'.join(splits)} split(s), pixels scaled to [-1, 1]",
        "command": invocation(),
        "config": PRESETS[preset], "parameters": sum(p.numel() for p in model.parameters()),
        "steps": run.step, "epochs": run.epochs_done, "batch_size": batch_size, "seed": seed,
        "minutes": run.elapsed / 60, "final_losses": final,
        "limits": "Draws 28x28 grayscale digits 0-9 only. GANs can collapse onto a few styles per digit; "
                  "D's score is a training signal, not a calibrated probability.",
    }
    write_summary(out_dir, summary)
    return summary
