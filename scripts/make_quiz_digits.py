"""Write the quiz's real digits: 30 of each class from the MNIST test split, as one PNG sheet plus where they came
from. ``python scripts/make_quiz_digits.py [MNIST_DIR]`` (default ``$GENAI_MNIST_DIR``).

The sheet (``genai_demo/data/real_digits.png``) has one row per digit, 0 at the top, 30 digits of 28x28 each; the
JSON beside it lists each digit's index in the test split (its credit is in docs/credits.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genai_demo.data.mnist import load_mnist  # noqa: E402
from genai_demo.quiz import PER_CLASS, SHEET, SHEET_INFO  # noqa: E402


def main(data_dir: str | None = None) -> None:
    data = load_mnist(data_dir, split="test", download_missing=False)
    rng = np.random.default_rng(16)  # issue 16
    picks = [sorted(rng.choice(np.flatnonzero(data.labels == d), PER_CLASS, replace=False).tolist()) for d in range(10)]
    sheet = np.concatenate([np.concatenate([data.images[i] for i in row], axis=1) for row in picks], axis=0)
    Image.fromarray(sheet, mode="L").save(SHEET, optimize=True)
    SHEET_INFO.write_text(json.dumps({
        "source": "MNIST test split (t10k-images-idx3-ubyte), LeCun, Cortes and Burges; CC BY-SA 3.0",
        "layout": f"one row per digit 0-9, {PER_CLASS} digits of 28x28 per row",
        "test_indices": picks}, indent=1) + "\n")
    print(f"{SHEET}: {SHEET.stat().st_size:,} bytes; {SHEET_INFO}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
