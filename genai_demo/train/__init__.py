"""Training commands for the models the playground trains from scratch.

``TRAINERS`` maps a target name (a model id, or ``mnist-classifier`` for the
benchmarks' judge) to its module's ``train`` function. Modules are imported
only when a target is trained, so listing them costs nothing.
"""

from __future__ import annotations

import importlib

TRAINERS = {
    "image/gan": "genai_demo.train.gan",
    "image/vae": "genai_demo.train.vae",
    "image/diffusion": "genai_demo.train.diffusion",
    "image/autoregressive": "genai_demo.train.pixelcnn",
    "text/shakespeare": "genai_demo.train.charlm",
    "audio/chorale": "genai_demo.train.chorale",
    "mnist-classifier": "genai_demo.train.classifier",
}


def get_trainer(target: str):
    if target not in TRAINERS:
        raise KeyError(f"no training command for {target!r}; trainable: {', '.join(TRAINERS)}")
    return importlib.import_module(TRAINERS[target]).train
