"""Training commands for the models the playground trains from scratch.

``TRAINERS`` maps a target name to the module whose ``train`` function makes its weights: every registered model
that declares a ``trainer``, and ``mnist-classifier``, the benchmarks' judge, which is not a model of the page.
Modules are imported only when a target is trained, so listing them costs nothing.
"""

from __future__ import annotations

import importlib

from genai_demo.registry import ADAPTERS

TRAINERS = {**{cls.id: cls.trainer for cls in ADAPTERS if cls.trainer},
            "mnist-classifier": "genai_demo.train.classifier"}


def get_trainer(target: str):
    if target not in TRAINERS:
        raise KeyError(f"no training command for {target!r}; trainable: {', '.join(TRAINERS)}")
    return importlib.import_module(TRAINERS[target]).train
