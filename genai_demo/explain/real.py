"""Real MNIST digits for the explanations, when a copy is on this machine; never downloaded from here."""

from __future__ import annotations

import os
import re
from pathlib import Path

from genai_demo import i18n
from genai_demo.data.mnist import ENV_VAR, FILES

# The project's shared data folder, beside the checkout (where the shipped weights were trained from).
SHARED_MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"


def mnist_dir() -> Path | None:
    """``$GENAI_MNIST_DIR`` or the shared data folder, whichever holds a split (images and labels); else None."""
    for folder in (os.environ.get(ENV_VAR), SHARED_MNIST):
        if folder and any(all((Path(folder) / name).is_file() for name in pair) for pair in FILES.values()):
            return Path(folder)
    return None


def real_digits(per_class: int = 100, seed: int = 0):
    """Up to ``per_class`` real digits of each class, (N, 28, 28) uint8 and (N,) labels, or None if there is no data."""
    import numpy as np

    from genai_demo.data.mnist import MNISTError, load_mnist

    folder = mnist_dir()
    if folder is None:
        return None
    try:
        data = load_mnist(folder, download_missing=False)
    except (MNISTError, OSError, ValueError):
        return None
    rng = np.random.default_rng(seed)
    picks = np.concatenate([rng.permutation(np.flatnonzero(data.labels == d))[:per_class] for d in range(10)])
    return data.images[picks], data.labels[picks]


_SOURCES = ((re.compile(r"^([\d,]+) real MNIST test digits"), "explain:source:real_test"),
            (re.compile(r"^([\d,]+) real MNIST digits"), "explain:source:real"),
            (re.compile(r"^([\d,]+) digits the VAE drew itself"), "explain:source:drawn"),
            (re.compile(r"^no real digits on this machine"), "explain:source:none"))


def source_text(source: str, request=None) -> str:
    """Where a view's real digits came from ("1,000 real MNIST test digits"), in the visitor's language."""
    for pattern, key in _SOURCES:
        found = pattern.match(source or "")
        if found:
            return i18n.message_for(key, request, n=found.group(1) if found.groups() else "")
    return source
