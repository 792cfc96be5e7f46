"""A class-conditional DCGAN for 28x28 digits.

Generator and discriminator follow DCGAN (Radford, Metz and Chintala, 2015,
"Unsupervised Representation Learning with Deep Convolutional GANs"):
transposed convolutions with batch norm and ReLU in G, strided convolutions
with LeakyReLU in D, Adam with beta1 = 0.5. Class conditioning follows the
conditional GAN (Mirza and Osindero, 2014): G sees the digit's label next to
its noise, and D sees it as extra input planes next to the image, so D judges
"is this a real 3?" rather than "is this real?".

The discriminator ships with the generator so that the playground can show
how real D thinks each generated image is.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin

# Named sizes; the tests use "tiny", the shipped weights "base".
PRESETS = {
    "tiny": dict(latent_dim=8, num_classes=10, g_channels=8, d_channels=8),
    "base": dict(latent_dim=64, num_classes=10, g_channels=64, d_channels=64),
}


class Generator(nn.Module):
    def __init__(self, latent_dim: int, num_classes: int, channels: int):
        super().__init__()
        c = channels
        self.label_embedding = nn.Embedding(num_classes, num_classes)
        self.project = nn.Sequential(  # (z, y) -> (B, 2c, 7, 7)
            nn.Linear(latent_dim + num_classes, 2 * c * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * c * 7 * 7),
            nn.ReLU(True),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False),  # (B, c, 14, 14)
            nn.BatchNorm2d(c),
            nn.ReLU(True),
            nn.ConvTranspose2d(c, 1, 4, 2, 1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )
        self.channels = c

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([z, self.label_embedding(labels)], dim=1))
        return self.upsample(h.view(len(z), 2 * self.channels, 7, 7))  # in [-1, 1]


class Discriminator(nn.Module):
    def __init__(self, num_classes: int, channels: int):
        super().__init__()
        c = channels
        self.num_classes = num_classes
        self.features = nn.Sequential(
            nn.Conv2d(1 + num_classes, c, 4, 2, 1),  # (B, c, 14, 14); no batch norm on D's input layer (DCGAN)
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False),  # (B, 2c, 7, 7)
            nn.BatchNorm2d(2 * c),
            nn.LeakyReLU(0.2, True),
        )
        self.classify = nn.Linear(2 * c * 7 * 7, 1)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Logit of "this is a real digit of this class", one per image."""
        planes = F.one_hot(labels, self.num_classes).float()[:, :, None, None].expand(-1, -1, *images.shape[2:])
        h = self.features(torch.cat([images, planes], dim=1))
        return self.classify(h.flatten(1)).squeeze(1)


class ConditionalGAN(nn.Module, PyTorchModelHubMixin, library_name="genai-playground", tags=["gan", "mnist"]):
    """Generator and discriminator saved together (config.json + model.safetensors)."""

    def __init__(self, latent_dim: int = 64, num_classes: int = 10, g_channels: int = 64, d_channels: int = 64):
        super().__init__()
        self.latent_dim = latent_dim  # size of the noise vector z
        self.num_classes = num_classes  # digits 0-9
        self.generator = Generator(latent_dim, num_classes, g_channels)
        self.discriminator = Discriminator(num_classes, d_channels)

    @torch.no_grad()
    def generate(self, labels: torch.Tensor, generator: torch.Generator, truncation: float = 1.0) -> torch.Tensor:
        """Images in [0, 1], (B, 1, 28, 28). ``truncation`` scales z ~ N(0, I): 0 gives each class's "average" digit."""
        z = torch.randn(len(labels), self.latent_dim, generator=generator, device=generator.device) * truncation
        return (self.generator(z, labels) + 1) / 2


def discriminator_loss(model: ConditionalGAN, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(1) Update D: maximise log D(x) + log(1 - D(G(z))) (Goodfellow et al., 2014, eq. 1), as a BCE to minimise."""
    real_logits = model.discriminator(real, labels)
    fake_logits = model.discriminator(fake.detach(), labels)  # no gradient into G here
    return F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
        F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss(model: ConditionalGAN, fake: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(2) Update G: maximise log D(G(z)), the non-saturating loss (Goodfellow et al., 2014, sec. 3)."""
    fake_logits = model.discriminator(fake, labels)
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
