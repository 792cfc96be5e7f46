"""The networks themselves, in their tiny presets: shapes, ranges, determinism, save/load, learning."""

import json

import pytest
import torch

from genai_demo.models.classifier import PRESETS as CLF_PRESETS, DigitClassifier
from genai_demo.models.gan import PRESETS as GAN_PRESETS, ConditionalGAN, discriminator_loss, generator_loss
from genai_demo.models.vae import PRESETS as VAE_PRESETS, ConditionalVAE, vae_loss
from genai_demo.train.common import mnist_tensors

LABELS = torch.tensor([0, 3, 9, 3])


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("make,kw", [
    (lambda: ConditionalGAN(**GAN_PRESETS["tiny"]), {"truncation": 1.0}),
    (lambda: ConditionalVAE(**VAE_PRESETS["tiny"]), {"temperature": 1.0}),
])
def test_generate_shapes_ranges_and_determinism(make, kw):
    torch.manual_seed(0)
    model = make().eval()
    a = model.generate(LABELS, seeded(1), **kw)
    b = model.generate(LABELS, seeded(1), **kw)
    c = model.generate(LABELS, seeded(2), **kw)
    assert a.shape == (4, 1, 28, 28) and a.dtype == torch.float32
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_gan_truncation_zero_removes_the_noise():
    torch.manual_seed(0)
    gan = ConditionalGAN(**GAN_PRESETS["tiny"]).eval()
    images = gan.generate(torch.tensor([5, 5, 2]), seeded(0), truncation=0.0)
    # Equal up to float rounding (rows of one batch may take different SIMD paths).
    assert torch.allclose(images[0], images[1], atol=1e-6) and not torch.allclose(images[0], images[2], atol=1e-2)


@pytest.mark.parametrize("cls,preset", [(ConditionalGAN, GAN_PRESETS), (ConditionalVAE, VAE_PRESETS),
                                        (DigitClassifier, CLF_PRESETS)])
def test_save_and_load_round_trip(tmp_path, cls, preset):
    torch.manual_seed(0)
    model = cls(**preset["tiny"]).eval()
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {**model._hub_mixin_config}
    assert (tmp_path / "model.safetensors").is_file()
    loaded = cls.from_pretrained(tmp_path).eval()
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    x = torch.rand(2, 1, 28, 28)
    if cls is DigitClassifier:
        assert torch.equal(model(x), loaded(x)) and model.features(x).shape == (2, preset["tiny"]["feature_dim"])


def test_gan_training_steps_lower_each_players_loss(mnist_dir):
    torch.manual_seed(0)
    images, labels, _ = mnist_tensors(mnist_dir, limit=32)
    real = images * 2 - 1
    gan = ConditionalGAN(**GAN_PRESETS["tiny"])
    z = torch.randn(32, gan.latent_dim)
    fake = gan.generator(z, labels).detach()
    opt_d = torch.optim.Adam(gan.discriminator.parameters(), lr=1e-2)
    before = discriminator_loss(gan, real, fake, labels).item()
    for _ in range(5):  # D alone, on a fixed batch: it must learn to tell these apart
        loss = discriminator_loss(gan, real, fake, labels)
        opt_d.zero_grad(); loss.backward(); opt_d.step()
    assert discriminator_loss(gan, real, fake, labels).item() < before
    gan.discriminator.eval()  # G alone, against a frozen D: it must learn to fool it
    opt_g = torch.optim.Adam(gan.generator.parameters(), lr=1e-2)
    before = generator_loss(gan, gan.generator(z, labels), labels).item()
    for _ in range(5):
        loss = generator_loss(gan, gan.generator(z, labels), labels)
        opt_g.zero_grad(); loss.backward(); opt_g.step()
    assert generator_loss(gan, gan.generator(z, labels), labels).item() < before


def test_vae_training_steps_lower_the_negative_elbo(mnist_dir):
    torch.manual_seed(0)
    x, y, _ = mnist_tensors(mnist_dir, limit=32)
    vae = ConditionalVAE(**VAE_PRESETS["tiny"])
    opt = torch.optim.Adam(vae.parameters(), lr=1e-2)

    def loss():
        mu, logvar = vae.encode(x, y)
        return vae_loss(vae.decode(mu, y), x, mu, logvar)[0]  # the mean code: a noise-free measure

    before = loss().item()
    for _ in range(10):
        logits, mu, logvar = vae(x, y)
        total = vae_loss(logits, x, mu, logvar)[0]
        opt.zero_grad(); total.backward(); opt.step()
    assert loss().item() < 0.9 * before


def test_vae_loss_is_reconstruction_plus_kl():
    x = torch.rand(3, 1, 28, 28)
    logits = torch.randn(3, 1, 28, 28)
    mu, logvar = torch.zeros(3, 2), torch.zeros(3, 2)
    total, recon, kl = vae_loss(logits, x, mu, logvar)
    assert kl.item() == 0.0 and torch.isclose(total, recon)
    _, _, kl = vae_loss(logits, x, torch.ones(3, 2), torch.zeros(3, 2))
    assert torch.isclose(kl, torch.tensor(1.0))  # 1/2 * sum(mu^2) = 1/2 * 2 per image
