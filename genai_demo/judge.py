"""The digit classifier as a judge: which digit does a generated image show, and how sure is it?

It is trained by ``python -m genai_demo train mnist-classifier`` and ships in ``weights/mnist-classifier``.
The compare view and the benchmarks use it; it loads lazily, once, like a model adapter.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from genai_demo.contract import DEFAULT_WEIGHTS_ROOT, ModelUnavailable


@dataclass
class Verdict:
    predicted: list[int]  # the classifier's digit for each image
    confidence: list[float]  # its probability for the digit that was asked for
    accuracy: float  # share of images classified as the digit asked for


class DigitJudge:
    def __init__(self, weights_root: str | Path | None = None):
        self.weights_dir = Path(weights_root or DEFAULT_WEIGHTS_ROOT) / "mnist-classifier"
        self._lock = threading.Lock()
        self._model = None

    def load(self):
        with self._lock:
            if self._model is None:
                from genai_demo.models.classifier import DigitClassifier

                try:
                    self._model = DigitClassifier.from_pretrained(self.weights_dir).eval()
                except Exception as e:
                    raise ModelUnavailable(
                        f"the digit classifier could not be loaded from {self.weights_dir} ({type(e).__name__}); "
                        f"train it with: python -m genai_demo train mnist-classifier --data-dir DATA_DIR"
                    ) from None
        return self._model

    def judge(self, images: list, asked: list[int]) -> Verdict:
        """Classify grayscale PIL images (28x28); ``asked`` is the requested digit per image."""
        import numpy as np
        import torch

        model = self.load()
        x = torch.from_numpy(np.stack([np.asarray(im, dtype=np.float32) / 255 for im in images])).unsqueeze(1)
        with torch.no_grad():
            probs = model(x).softmax(1)
        predicted = probs.argmax(1).tolist()
        confidence = [probs[i, d].item() for i, d in enumerate(asked)]
        return Verdict(predicted, confidence, sum(p == a for p, a in zip(predicted, asked)) / max(1, len(asked)))
