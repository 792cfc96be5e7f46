"""``image/vae``: the class-conditional convolutional VAE trained by ``python -m genai_demo train image/vae``."""

from __future__ import annotations

from genai_demo.adapters.digits import DigitAdapter, digit_params
from genai_demo.contract import Param


class VAEAdapter(DigitAdapter):
    id = "image/vae"
    family = "VAE"
    concurrency = 1  # one pass through a small network: a request is mostly the server's own Python work, so one
    # at a time (a burst of 30 clicks finishes in turn, not all late together: bench/load.py)
    title = "VAE: compress to a few numbers, then draw back"
    description = (
        "A variational autoencoder learns to squeeze every digit into a handful of numbers (its latent code) and to "
        "draw the digit back from them. Training keeps those codes spread like a bell curve, so any random code "
        "decodes to a plausible digit. Its drawings are smooth and a little blurry: it draws the average of what "
        "the code could mean."
    )
    params = digit_params() + (
        Param("temperature", "slider", 1.0, "Scales the random latent code: low gives the typical, tidy digit; high "
              "gives unusual and sometimes broken ones.", minimum=0.0, maximum=3.0, step=0.05),
    )

    def _load(self, weights_dir):
        from genai_demo.models.vae import ConditionalVAE

        return ConditionalVAE.from_pretrained(weights_dir).eval()

    def _sample(self, model, labels, generator, *, temperature: float):
        return model.generate(labels, generator, temperature=temperature)
