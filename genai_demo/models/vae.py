"""A convolutional class-conditional variational autoencoder for 28x28 digits.

The VAE (Kingma and Welling, 2013, "Auto-Encoding Variational Bayes") learns an
encoder q(z | x, y) and a decoder p(x | z, y). Training maximises the evidence
lower bound, ELBO = E_q[log p(x | z, y)] - KL(q(z | x, y) || N(0, I)); the
reparameterisation trick z = mu + sigma * eps makes it differentiable.
Conditioning on the label y (Sohn, Lee and Yan, 2015, "Learning Structured
Output Representation using Deep Conditional Generative Models") lets the
sampler choose which digit to draw, so z only has to hold the style.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin

PRESETS = {
    "tiny": dict(latent_dim=2, num_classes=10, channels=4, hidden_dim=16),
    "base": dict(latent_dim=16, num_classes=10, channels=32, hidden_dim=256),
}


class ConditionalVAE(nn.Module, PyTorchModelHubMixin, library_name="genai-playground", tags=["vae", "mnist"]):
    def __init__(self, latent_dim: int = 16, num_classes: int = 10, channels: int = 32, hidden_dim: int = 256):
        super().__init__()
        c = channels
        self.latent_dim = latent_dim  # size of z; 2 makes the latent space drawable as a map
        self.num_classes = num_classes
        self.channels = c
        self.encoder_conv = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1), nn.ReLU(True),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(True),  # (B, 2c, 7, 7)
        )
        self.encoder_fc = nn.Sequential(nn.Linear(2 * c * 7 * 7 + num_classes, hidden_dim), nn.ReLU(True))
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder_fc = nn.Sequential(
            nn.Linear(latent_dim + num_classes, hidden_dim), nn.ReLU(True),
            nn.Linear(hidden_dim, 2 * c * 7 * 7), nn.ReLU(True),
        )
        self.decoder_conv = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(True),  # (B, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, 2, 1),  # (B, 1, 28, 28) Bernoulli logits
        )

    def encode(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | x, y); x in [0, 1], (B, 1, 28, 28)."""
        y = F.one_hot(labels, self.num_classes).float()
        h = self.encoder_fc(torch.cat([self.encoder_conv(x).flatten(1), y], dim=1))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Logits of p(x | z, y), (B, 1, 28, 28); sigmoid gives the mean image."""
        y = F.one_hot(labels, self.num_classes).float()
        h = self.decoder_fc(torch.cat([z, y], dim=1))
        return self.decoder_conv(h.view(len(z), 2 * self.channels, 7, 7))

    def forward(self, x: torch.Tensor, labels: torch.Tensor):
        mu, logvar = self.encode(x, labels)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # reparameterisation trick
        return self.decode(z, labels), mu, logvar

    @torch.no_grad()
    def generate(self, labels: torch.Tensor, generator: torch.Generator, temperature: float = 1.0) -> torch.Tensor:
        """Images in [0, 1], (B, 1, 28, 28): decode z ~ N(0, temperature^2 I)."""
        z = torch.randn(len(labels), self.latent_dim, generator=generator, device=generator.device) * temperature
        return torch.sigmoid(self.decode(z, labels))


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor):
    """Negative ELBO per image (Kingma and Welling, eq. 10): reconstruction + KL, both in nats.

    Returns (loss, reconstruction, kl). KL(N(mu, sigma^2) || N(0, 1)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2).
    """
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
    return recon + kl, recon, kl
