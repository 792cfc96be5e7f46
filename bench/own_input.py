"""A visitor's own digit: what each family does with real digits given as drawings.

    python bench/own_input.py --data-dir ../shared/data/mnist [--n 500] [--timing-repeats 3]

Targets (issue 15), each on the last ``--n`` digits of the MNIST test split (the 500 that the PixelCNN and the
classifier held out while training; the GAN, the VAE and the diffusion model trained on all 10,000):

- SDEdit at noise 0.5 (DDIM, 20 steps, so 10 run: the app's default) keeps the classifier's reading of a digit for at least 80% of
  them; shown with the app's default (the model is told the digit the classifier reads, guidance 2) and without any
  label (guidance 0: the model alone);
- PixelCNN completion of the top 14 rows is read as the original digit at least 70% of the time; shown with the
  app's default label (the classifier's reading of the whole drawing) and with the classifier's reading of the top
  half alone (the bottom blanked);
- GAN latent search (the app's defaults: 150 steps, 8 starts) reaches a mean squared pixel error on the real digits
  below that of the GAN's own samples (truncation 1) to their nearest real digit among all 10,000.

The figures use the batched model functions that the app's tasks call one drawing at a time
(``genai_demo/models/own_digit.py``); seconds per drawing through the app's own path (``Registry.tasks``, one
drawing, default settings) are medians of ``--timing-repeats`` calls after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see genai_demo.runtime.prefer_passive_waiting

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genai_demo.adapters.drawing import encode_digit  # noqa: E402
from genai_demo.adapters.drawing_tasks import DRAWING_TASKS  # noqa: E402
from genai_demo.data.mnist import load_mnist  # noqa: E402
from genai_demo.models.diffusion import make_scheduler  # noqa: E402
from genai_demo.models.own_digit import gan_search, sdedit  # noqa: E402
from genai_demo.models.pixelcnn import quantize  # noqa: E402
from genai_demo.registry import Registry  # noqa: E402
from genai_demo.runtime import configure_torch  # noqa: E402

BATCH = 100


def classify(judge, images: torch.Tensor) -> torch.Tensor:
    """The classifier's digit for each image (B, 1, 28, 28) in [0, 1]."""
    with torch.no_grad():
        return torch.cat([judge.load()(chunk.cpu()).argmax(1) for chunk in images.split(BATCH)])


def sdedit_kept(unet, judge, digits, readings, guidance_scale: float, seed: int = 0) -> float:
    """Share of digits whose reading after SDEdit at noise 0.5 is their reading before."""
    after = []
    for i in range(0, len(digits), BATCH):
        x, y = digits[i : i + BATCH], readings[i : i + BATCH]
        scheduler = make_scheduler("DDIM", unet.noise_scheduler_config)
        generator = torch.Generator().manual_seed(seed + i)
        for *_, xt, _ in sdedit(unet, scheduler, x, y, generator, strength=0.5, num_inference_steps=20,
                                guidance_scale=guidance_scale):
            last = xt
        after.append(classify(judge, (last.clamp(-1, 1) + 1) / 2))
    return float((torch.cat(after) == readings).float().mean())


def completion_read(pixelcnn, judge, digits, labels, conditioned_on, seed: int = 0) -> float:
    """Share of completions of the top 14 rows read as ``labels`` (the true digits), the model told ``conditioned_on``."""
    hits = []
    for i in range(0, len(digits), BATCH):
        x = digits[i : i + BATCH]
        prefix = quantize(x, pixelcnn.levels)
        generator = torch.Generator().manual_seed(seed + i)
        with torch.no_grad():
            for _, canvas, _ in pixelcnn.sample(conditioned_on[i : i + BATCH], generator, prefix=prefix, first_row=14):
                pass
        done = canvas.unsqueeze(1).float() / (pixelcnn.levels - 1)
        hits.append(classify(judge, done) == labels[i : i + BATCH])
    return float(torch.cat(hits).float().mean())


def gan_errors(gan, digits, readings, all_real, seed: int = 0) -> tuple[float, float, float, float]:
    """(search MSE, search MAE, samples' MSE to the nearest real digit, the same MAE) per pixel, means."""
    search_mse, search_mae = [], []
    for i in range(0, len(digits), BATCH):
        x = digits[i : i + BATCH]
        generator = torch.Generator().manual_seed(seed + i)
        for _, best, errors in gan_search(gan, x, readings[i : i + BATCH], generator, num_steps=150, num_starts=8):
            pass
        search_mse.append(errors)
        search_mae.append((best - x).abs().flatten(1).mean(1))
    generator = torch.Generator().manual_seed(seed + 1)
    labels = torch.randint(0, 10, (len(digits),), generator=generator)
    samples = gan.generate(labels, generator).flatten(1)  # (N, 784) in [0, 1], truncation 1
    real = all_real.flatten(1)
    # Squared distances to every real digit: |a|^2 - 2 a.b + |b|^2; the nearest by squared error.
    d2 = (samples.pow(2).sum(1, keepdim=True) - 2 * samples @ real.T + real.pow(2).sum(1)).clamp_min(0)
    nearest = d2.argmin(1)
    sample_mse = (samples - real[nearest]).pow(2).mean(1)
    sample_mae = (samples - real[nearest]).abs().mean(1)
    return (float(torch.cat(search_mse).mean()), float(torch.cat(search_mae).mean()), float(sample_mse.mean()),
            float(sample_mae.mean()))


def task_seconds(registry: Registry, digit, repeats: int) -> dict:
    """Median seconds of one drawing through each task at its default settings (the app's path, in-process)."""
    out = {}
    code = encode_digit(digit)
    for cls in DRAWING_TASKS:
        task = registry.get(cls.id)
        task.generate(digit=code, seed=0)  # warm-up: loads the model
        times = []
        for r in range(repeats):
            started = time.perf_counter()
            task.generate(digit=code, seed=r + 1)
            times.append(time.perf_counter() - started)
        out[cls.id] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True, help="MNIST folder (the test split is enough)")
    parser.add_argument("--n", type=int, default=500, help="how many digits, from the end of the test split")
    parser.add_argument("--timing-repeats", type=int, default=3)
    parser.add_argument("--weights-dir")
    parser.add_argument("--only", default="sdedit,pixelcnn,gan,timing",
                        help="which parts to run, comma-separated (each prints its figures as soon as they are known)")
    parser.add_argument("--unguided", action="store_true", help="also SDEdit with no label (guidance 0)")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    configure_torch()
    data = load_mnist(args.data_dir, download_missing=False)
    all_real = torch.from_numpy(data.images).float().unsqueeze(1) / 255
    digits, labels = all_real[-args.n :], torch.from_numpy(data.labels[-args.n :]).long()
    registry = Registry(args.weights_dir)
    judge = registry.get("draw/sdedit").judge
    readings = classify(judge, digits)
    print(f"{args.n} real MNIST test digits (the last {args.n}); the classifier reads "
          f"{float((readings == labels).float().mean()):.1%} of them correctly", flush=True)

    def report(name: str, value: str, target: str = "", met: bool | None = None) -> None:
        verdict = f"  (target {target}: {'met' if met else 'NOT met'})" if target else ""
        print(f"{name}: {value}{verdict}", flush=True)

    if "sdedit" in parts:
        started = time.perf_counter()
        unet = registry.get("image/diffusion").load()
        kept = sdedit_kept(unet, judge, digits, readings, guidance_scale=2.0)
        report("SDEdit at noise 0.5 keeps the classifier's reading (told the reading, guidance 2: the app's default)",
               f"{kept:.1%}", ">= 80%", kept >= 0.8)
        if args.unguided:
            alone = sdedit_kept(unet, judge, digits, readings, guidance_scale=0.0)
            report("SDEdit at noise 0.5 keeps the classifier's reading (no label, guidance 0)", f"{alone:.1%}")
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    if "pixelcnn" in parts:
        started = time.perf_counter()
        pixelcnn = registry.get("image/autoregressive").load()
        read = completion_read(pixelcnn, judge, digits, labels, readings)
        report("PixelCNN's completion of the top 14 rows read as the original digit (told the reading of the whole "
               "drawing: the app's default)", f"{read:.1%}", ">= 70%", read >= 0.7)
        top_only = digits.clone()
        top_only[:, :, 14:] = 0
        read_top = completion_read(pixelcnn, judge, digits, labels, classify(judge, top_only))
        report("... told the classifier's reading of the top half alone", f"{read_top:.1%}")
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    if "gan" in parts:
        started = time.perf_counter()
        gan = registry.get("image/gan").load()
        search_mse, search_mae, sample_mse, sample_mae = gan_errors(gan, digits, readings, all_real)
        report("GAN latent search (150 steps, 8 starts): mean squared pixel error to the real digit", f"{search_mse:.4f}",
               f"< {sample_mse:.4f}", search_mse < sample_mse)
        report("GAN's own samples: mean squared pixel error to the nearest of the 10,000 real digits", f"{sample_mse:.4f}")
        report("GAN latent search: mean absolute pixel error", f"{search_mae:.4f}", f"< {sample_mae:.4f}",
               search_mae < sample_mae)
        report("GAN's own samples: mean absolute pixel error to that nearest real digit", f"{sample_mae:.4f}")
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    if "timing" in parts:
        for task_id, seconds in task_seconds(registry, digits[0, 0].numpy(), args.timing_repeats).items():
            report(f"{task_id}: seconds for one drawing at the default settings (median)", f"{seconds:.2f}")


if __name__ == "__main__":
    main()
