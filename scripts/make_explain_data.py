"""Precompute, for the shipped weights, what the "How it works" views need from real MNIST digits.

    python scripts/make_explain_data.py [--data-dir ../shared/data/mnist] [--weights-dir weights]

Writes two small files (no images: MNIST itself is not redistributed here):
- ``weights/image-vae/latent_map.safetensors``: the VAE encoder's means mu(x, y) of 100 real test digits per class
  (float16), their labels, and the weights version they belong to; the latent map's PCA plane is fitted from them.
- ``weights/image-gan/discriminator_real.json``: the GAN discriminator's mean score of the same 1,000 real digits.

Each records the SHA-256 prefix of the weights it was computed with; the app ignores a file made for other weights
and computes the figures itself (from local MNIST if present, else from digits the model draws).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from genai_demo.data.mnist import load_mnist  # noqa: E402
from genai_demo.explain import gan, vae  # noqa: E402
from genai_demo.registry import Registry  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
    parser.add_argument("--weights-dir", default=None, help="weights root (default: the shipped weights/)")
    parser.add_argument("--per-class", type=int, default=100)
    args = parser.parse_args(argv)

    data = load_mnist(args.data_dir, split="test", download_missing=False)
    rng = np.random.default_rng(0)
    picks = np.concatenate([rng.permutation(np.flatnonzero(data.labels == d))[: args.per_class] for d in range(10)])
    images, labels = data.images[picks], data.labels[picks].astype(np.int64)
    registry = Registry(args.weights_dir)
    today = datetime.date.today().isoformat()

    adapter = registry.get("image/vae")
    model = adapter.load()
    codes = vae.encode_means(model, images, labels)
    path = adapter.weights_dir / vae.MAP_FILE
    vae.write_codes(path, codes.astype(np.float16), labels.astype(np.uint8), adapter.weights_version,
                    f"{len(labels):,} real MNIST test digits (precomputed)")
    fitted = vae.fit_map(codes, labels, "")
    print(f"{path}: {codes.shape} codes, {path.stat().st_size:,} bytes; the plane holds {fitted.explained:.0%} of "
          f"their variance")

    adapter = registry.get("image/gan")
    model = adapter.load()
    scores = gan.d_scores(model, [Image.fromarray(a, mode="L") for a in images], labels.tolist())
    per_digit = {str(d): round(float(np.mean([s for s, y in zip(scores, labels) if y == d])), 4) for d in range(10)}
    record = {"weights_version": adapter.weights_version, "count": len(scores),
              "mean_score": round(float(np.mean(scores)), 4), "per_digit": per_digit,
              "data": f"{args.per_class} real digits per class from the MNIST test split", "date": today,
              "command": "python scripts/make_explain_data.py"}
    path = adapter.weights_dir / gan.REAL_SCORES_FILE
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{path}: D's mean score of {len(scores):,} real digits {record['mean_score']:.3f}")


if __name__ == "__main__":
    main()
