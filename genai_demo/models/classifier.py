"""A small convolutional digit classifier (LeNet-style; LeCun et al., 1998).

It is the playground's judge: benchmarks ask it which digit a generated image
shows, and its penultimate-layer features give a Frechet distance between
generated and real digits (the idea of FID, Heusel et al., 2017, in a feature
space trained on MNIST instead of ImageNet).
"""

from __future__ import annotations

import torch
import torch.nn as nn
from huggingface_hub import PyTorchModelHubMixin

PRESETS = {
    "tiny": dict(channels=4, feature_dim=16),
    "base": dict(channels=32, feature_dim=128),
}


class DigitClassifier(nn.Module, PyTorchModelHubMixin, library_name="genai-playground", tags=["mnist"]):
    def __init__(self, channels: int = 32, feature_dim: int = 128, num_classes: int = 10):
        super().__init__()
        c = channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(2),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(2),  # (B, 2c, 7, 7)
            nn.Flatten(),
            nn.Linear(2 * c * 7 * 7, feature_dim), nn.ReLU(True),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features, (B, feature_dim); x in [0, 1], (B, 1, 28, 28)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))  # logits, (B, num_classes)
