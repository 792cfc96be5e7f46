"""Diffusion samplers compared on the shipped model: quality against DDPM's full 1,000 steps, and speed.

    python bench/diffusion_samplers.py --data-dir ../shared/data/mnist [--per-digit 20]

For each sampler setting, the same digits from the same seeds (``per-digit`` per digit) are judged by the digit
classifier: accuracy on the requested digit, and the Frechet distance of their classifier features to real
digits. Ratios are taken against DDPM with 1,000 steps measured in the same run. Times are per image, in a batch
of 50 (the samplers' cost scales with steps x batch).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see genai_demo.runtime.prefer_passive_waiting

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.image_quality import frechet_distance  # noqa: E402
from genai_demo.data.mnist import load_mnist  # noqa: E402
from genai_demo.models.classifier import DigitClassifier  # noqa: E402
from genai_demo.registry import Registry  # noqa: E402
from genai_demo.runtime import configure_torch  # noqa: E402

SETTINGS = (  # (scheduler, steps); the first is the app's default
    ("DPM-Solver++", 20), ("DPM-Solver++", 10), ("DDIM", 50), ("DDIM", 20), ("DDPM", 50), ("DDPM", 1000),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--per-digit", type=int, default=20)
    parser.add_argument("--guidance-scale", type=float)
    args = parser.parse_args()
    configure_torch()
    registry = Registry()
    adapter = registry.get("image/diffusion")
    guidance = args.guidance_scale if args.guidance_scale is not None else adapter.param("guidance_scale").default
    clf = DigitClassifier.from_pretrained(adapter.weights_root / "mnist-classifier").eval()
    real = load_mnist(args.data_dir)
    with torch.no_grad():
        real_feats = clf.features(torch.from_numpy(real.images[-2000:].astype(np.float32) / 255).unsqueeze(1)).numpy()

    rows = []
    for scheduler, steps in SETTINGS:
        images, asked, seconds = [], [], 0.0
        for digit in range(10):
            for start in range(0, args.per_digit, 50):
                n = min(50, args.per_digit - start)
                t = time.perf_counter()
                r = adapter.generate(seed=5000 + 100 * digit + start, num_images=n, label=str(digit), scheduler=scheduler,
                                     num_inference_steps=steps, guidance_scale=guidance)
                seconds += time.perf_counter() - t
                images += [np.asarray(im) for im in r.images]
                asked += r.labels
        x = torch.from_numpy(np.stack(images).astype(np.float32) / 255).unsqueeze(1)
        with torch.no_grad():
            logits, feats = clf(x), clf.features(x).numpy()
        acc = (logits.argmax(1).numpy() == np.asarray(asked)).mean()
        rows.append((scheduler, steps, acc, frechet_distance(feats, real_feats), seconds / len(images)))
        print(f"  done: {scheduler} {steps} steps", file=sys.stderr)

    ref = next(r for r in rows if r[0] == "DDPM" and r[1] == 1000)
    print(f"\nguidance_scale {guidance}, {args.per_digit * 10} samples per setting, same seeds; FD to real MNIST digits "
          f"in the classifier's features")
    header = f"{'sampler':<14} {'steps':>5} {'accuracy':>8} {'vs DDPM-1000':>12} {'FD':>7} {'FD ratio':>8} {'ms/image':>9}"
    print(header + "\n" + "-" * len(header))
    for scheduler, steps, acc, fd, spi in rows:
        print(f"{scheduler:<14} {steps:>5} {acc:>8.1%} {(acc - ref[2]) * 100:>+11.1f}p {fd:>7.2f} {fd / ref[3]:>8.2f} "
              f"{spi * 1000:>9.1f}")


if __name__ == "__main__":
    main()
