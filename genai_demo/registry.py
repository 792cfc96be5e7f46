"""The explicit list of models. Adding a model = writing its files and adding one line here
(docs/adding-a-model.md walks through an example).

Importing this module is cheap: adapters import torch and friends only when used.
"""

from __future__ import annotations

import os
from pathlib import Path

from genai_demo.adapters.autoregressive import AutoregressiveAdapter
from genai_demo.adapters.chorale import ChoraleAdapter
from genai_demo.adapters.diffusion import DiffusionAdapter
from genai_demo.adapters.drawing_tasks import DRAWING_TASKS
from genai_demo.adapters.gan import GANAdapter
from genai_demo.adapters.harmonise import HarmoniseAdapter
from genai_demo.adapters.score import TextScoreAdapter
from genai_demo.adapters.text import ShakespeareAdapter
from genai_demo.adapters.vae import VAEAdapter
from genai_demo.contract import ModelAdapter, UnknownModel

ADAPTERS: tuple[type[ModelAdapter], ...] = (
    GANAdapter,
    VAEAdapter,
    DiffusionAdapter,
    AutoregressiveAdapter,
    ShakespeareAdapter,
    TextScoreAdapter,
    ChoraleAdapter,
    HarmoniseAdapter,
)

MODALITIES = ("image", "text", "audio")


class Registry:
    """The adapters of one app or CLI process, each created once and shared by every request."""

    def __init__(self, weights_root: str | Path | None = None, adapters=None, *,
                 image_pipeline: str | None = None, image_pipeline_task: str = "auto", text_model: str | None = None,
                 audio_model: str | None = None):
        """``image_pipeline``: a diffusers pipeline (hub id or folder) chosen by the operator, shown as ``image/hf``;
        by default ``$GENAI_IMAGE_PIPELINE``, and none if that is unset. ``text_model``: likewise a transformers
        causal language model, shown as ``text/hf``; by default ``$GENAI_TEXT_MODEL``. ``audio_model``: likewise a
        transformers text-to-audio model (e.g. MusicGen), shown as ``audio/hf``; by default ``$GENAI_AUDIO_MODEL``."""
        self.models: dict[str, ModelAdapter] = {cls.id: cls(weights_root) for cls in (adapters or ADAPTERS)}
        image_pipeline = image_pipeline or os.environ.get("GENAI_IMAGE_PIPELINE")
        text_model = text_model or os.environ.get("GENAI_TEXT_MODEL")
        audio_model = audio_model or os.environ.get("GENAI_AUDIO_MODEL")
        # What a worker process needs to build the same registry (adapters=ADAPTERS: a worker serves the app's).
        self.settings = dict(weights_root=weights_root, image_pipeline=image_pipeline,
                             image_pipeline_task=image_pipeline_task, text_model=text_model, audio_model=audio_model)
        if image_pipeline:
            from genai_demo.adapters.hub_image import HubImageAdapter

            self.models["image/hf"] = HubImageAdapter(image_pipeline, image_pipeline_task, weights_root)
        if text_model:
            from genai_demo.adapters.hub_text import HubTextAdapter

            self.models["text/hf"] = HubTextAdapter(text_model, weights_root)
        if audio_model:
            from genai_demo.adapters.hub_audio import HubAudioAdapter

            self.models["audio/hf"] = HubAudioAdapter(audio_model, weights_root)
        # What each family does with a visitor's drawing (genai_demo/adapters/drawing.py): requests like a model's,
        # served the same way (cache, worker, cancelling), but not models of their own: they use the ones above.
        base_of = {type(m): m for m in self.models.values()}
        self.tasks = {cls.id: cls(weights_root, base=base_of.get(cls.base_class)) for cls in DRAWING_TASKS}
        # (a registry without a task's model still runs it, on a model of its own: the worker's registry has them all)

    def get(self, model_id: str) -> ModelAdapter:
        """A model, or a drawing task (``draw/...``), by id."""
        try:
            return self.models[model_id] if model_id in self.models else self.tasks[model_id]
        except (KeyError, TypeError):
            raise UnknownModel(f"unknown model {str(model_id)[:60]!r}; known models: {', '.join(self.models)}") from None

    def by_modality(self, modality: str) -> list[ModelAdapter]:
        return [m for m in self.models.values() if m.modality == modality]

    def __iter__(self):
        return iter(self.models.values())
