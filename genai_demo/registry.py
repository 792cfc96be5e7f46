"""The explicit list of models. Adding a model = writing one adapter and adding one line here.

Importing this module is cheap: adapters import torch and friends only when used.
"""

from __future__ import annotations

from pathlib import Path

from genai_demo.adapters.gan import GANAdapter
from genai_demo.adapters.vae import VAEAdapter
from genai_demo.contract import ModelAdapter, UnknownModel

ADAPTERS: tuple[type[ModelAdapter], ...] = (
    GANAdapter,
    VAEAdapter,
)

MODALITIES = ("image", "text", "audio")


class Registry:
    """The adapters of one app or CLI process, each created once and shared by every request."""

    def __init__(self, weights_root: str | Path | None = None, adapters=ADAPTERS):
        self.models: dict[str, ModelAdapter] = {cls.id: cls(weights_root) for cls in adapters}

    def get(self, model_id: str) -> ModelAdapter:
        try:
            return self.models[model_id]
        except (KeyError, TypeError):
            raise UnknownModel(f"unknown model {str(model_id)[:60]!r}; known models: {', '.join(self.models)}") from None

    def by_modality(self, modality: str) -> list[ModelAdapter]:
        return [m for m in self.models.values() if m.modality == modality]

    def __iter__(self):
        return iter(self.models.values())
