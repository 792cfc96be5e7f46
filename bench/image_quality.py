"""Image models: how often the digit classifier sees the digit that was asked for, how varied and how
real-looking the samples are, and how long 64 images take.

    python bench/image_quality.py --data-dir ../shared/data/mnist [--per-digit 100] [--write-cards]

Figures per model:
- accuracy: share of samples the classifier labels as the requested digit (1,000 samples: 100 per digit);
- confidence: the classifier's mean probability for the requested digit;
- FD: Frechet distance between the classifier's features of the samples and of real MNIST digits
  (FID's formula, Heusel et al. 2017, in an MNIST-trained feature space); lower is closer to real;
- diversity: mean pixel distance between two samples of the same digit, as a ratio of the same figure for
  real digits (1.0 = as varied as real handwriting, 0 = one image repeated);
- seconds for 16 and for 64 images: medians of repeated calls through the adapter (the app's own path), after a
  warm-up; ms/image is the 64-image time divided by 64.
With --write-cards the figures go into each model's scores.json and model card.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see genai_demo.runtime.prefer_passive_waiting

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genai_demo.data.mnist import load_mnist  # noqa: E402
from genai_demo.models.classifier import DigitClassifier  # noqa: E402
from genai_demo.registry import Registry  # noqa: E402
from genai_demo.runtime import configure_torch  # noqa: E402
from genai_demo.train.common import write_model_card, write_scores  # noqa: E402

MODELS = ("image/gan", "image/vae", "image/diffusion", "image/autoregressive")


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2), via the eigenvalues of S_a S_b."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(s_a @ s_b)
    sqrt_trace = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * sqrt_trace)


def diversity(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, pairs: int = 2000) -> float:
    """Mean RMS pixel distance between random pairs of images of the same digit."""
    dists = []
    for d in range(10):
        group = images[labels == d].reshape(-1, 28 * 28) / 255.0
        i, j = rng.integers(0, len(group), (2, pairs // 10))
        keep = i != j
        dists.append(np.sqrt(((group[i[keep]] - group[j[keep]]) ** 2).mean(1)))
    return float(np.concatenate(dists).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="MNIST folder, for the real-digit reference")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--per-digit", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per model and batch size (median reported)")
    parser.add_argument("--weights-dir")
    parser.add_argument("--write-cards", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="MODEL:NAME=VALUE",
                        help="override a default, e.g. image/vae:temperature=0.8")
    args = parser.parse_args()
    configure_torch()
    registry = Registry(args.weights_dir)
    clf_dir = registry.get("image/gan").weights_root / "mnist-classifier"
    clf = DigitClassifier.from_pretrained(clf_dir).eval()

    real = load_mnist(args.data_dir)
    real_x = torch.from_numpy(real.images[-2000:].astype(np.float32) / 255).unsqueeze(1)
    with torch.no_grad():
        real_feats = clf.features(real_x).numpy()
    rng = np.random.default_rng(0)
    real_div = diversity(real.images, real.labels, rng)

    overrides: dict[str, dict] = {}
    for item in args.set:
        model_id, _, kv = item.partition(":")
        name, _, value = kv.partition("=")
        overrides.setdefault(model_id, {})[name] = value

    rows = []
    for model_id in args.models:
        adapter = registry.get(model_id)
        extra = overrides.get(model_id, {})
        images, asked = [], []
        for digit in range(10):
            for start in range(0, args.per_digit, 50):  # num_images is capped at 64 a call
                r = adapter.generate(seed=1000 + 100 * digit + start, num_images=min(50, args.per_digit - start),
                                     label=str(digit), **extra)
                images += [np.asarray(im) for im in r.images]
                asked += r.labels
        images, asked = np.stack(images), np.asarray(asked)
        x = torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)
        with torch.no_grad():
            logits = clf(x)
            feats = clf.features(x).numpy()
        probs = logits.softmax(1)
        acc = (logits.argmax(1).numpy() == asked).mean()
        conf = probs[torch.arange(len(asked)), torch.from_numpy(asked)].mean().item()
        per_digit = [(logits.argmax(1).numpy()[asked == d] == d).mean() for d in range(10)]

        adapter.generate(seed=0, num_images=16, **extra)  # warm-up
        timings = {}
        for n in (16, 64):
            times = []
            for i in range(args.repeats):
                t = time.perf_counter()
                adapter.generate(seed=i, num_images=n, **extra)
                times.append(time.perf_counter() - t)
            timings[n] = statistics.median(times)
        rows.append({
            "model": model_id, "settings": {**adapter.validate(extra)},
            "accuracy": acc, "confidence": conf, "worst_digit": int(np.argmin(per_digit)), "worst_accuracy": min(per_digit),
            "fd": frechet_distance(feats, real_feats), "diversity": diversity(images, asked, rng) / real_div,
            "s_16": timings[16], "s_64": timings[64],
        })

    print(f"\nclassifier judge: {clf_dir} · real digits' diversity {real_div:.3f} · FD of real vs real (2 halves): "
          f"{frechet_distance(real_feats[:1000], real_feats[1000:]):.2f}")
    header = (f"{'model':<21} {'accuracy':>8} {'confidence':>10} {'worst digit':>11} {'FD':>7} {'diversity':>9} "
              f"{'16 img (s)':>10} {'64 img (s)':>10} {'ms/image':>8}")
    print(header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['model']:<21} {r['accuracy']:>8.1%} {r['confidence']:>10.3f} "
              f"{r['worst_digit']:>3} ({r['worst_accuracy']:>4.0%}) {r['fd']:>7.2f} {r['diversity']:>9.2f} "
              f"{r['s_16']:>10.3f} {r['s_64']:>10.3f} {r['s_64'] / 64 * 1000:>8.2f}")
    print(f"\n{args.per_digit * 10} samples per model at the settings shown; times are medians of {args.repeats} calls "
          f"on {torch.get_num_threads()} threads.")

    if args.write_cards:
        for r in rows:
            out = registry.get(r["model"]).weights_dir
            figures = {
                "settings": json.dumps({k: v for k, v in r["settings"].items() if k not in ("seed", "num_images", "label")}),
                "classifier accuracy on the requested digit": f"{r['accuracy']:.1%} ({args.per_digit * 10} samples)",
                "mean classifier confidence": f"{r['confidence']:.3f}",
                "worst digit": f"{r['worst_digit']} ({r['worst_accuracy']:.0%})",
                "Frechet distance in classifier features (lower is better)": f"{r['fd']:.2f}",
                "diversity relative to real digits": f"{r['diversity']:.2f}",
                "seconds for 16 images (median)": f"{r['s_16']:.3f}",
                "seconds for 64 images (median)": f"{r['s_64']:.3f}",
            }
            write_scores(out, "python bench/image_quality.py --write-cards", figures)
            write_model_card(out)
        print("wrote scores.json and README.md for", ", ".join(r["model"] for r in rows))


if __name__ == "__main__":
    main()
