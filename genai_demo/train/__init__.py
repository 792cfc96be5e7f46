"""Training commands for the models the playground trains from scratch.

``TRAINERS`` maps a target name to the module whose ``train`` function makes its weights: every registered model
that declares a ``trainer``, ``image/diffusion-student`` (the few-step student the diffusion model samples with),
and ``mnist-classifier``, the benchmarks' judge, which is not a model of the page.
Modules are imported only when a target is trained, so listing them costs nothing.
"""

from __future__ import annotations

import importlib

from genai_demo.registry import ADAPTERS

TRAINERS = {**{cls.id: cls.trainer for cls in ADAPTERS if cls.trainer},
            "image/diffusion-student": "genai_demo.train.diffusion_student",
            "mnist-classifier": "genai_demo.train.classifier"}


# Where a target's weights go under the weights folder, where that is not its id with "/" as "-": the student is
# part of the diffusion model's folder, which loads it beside the teacher.
FOLDERS = {"image/diffusion-student": "image-diffusion/student"}


def weights_folder(target: str) -> str:
    return FOLDERS.get(target, target.replace("/", "-"))


def get_trainer(target: str):
    if target not in TRAINERS:
        raise KeyError(f"no training command for {target!r}; trainable: {', '.join(TRAINERS)}")
    return importlib.import_module(TRAINERS[target]).train
