"""``image/gan``: the class-conditional DCGAN trained by ``python -m genai_demo train image/gan``."""

from __future__ import annotations

from genai_demo.adapters.digits import DigitAdapter, digit_params
from genai_demo.contract import Param


class GANAdapter(DigitAdapter):
    id = "image/gan"
    family = "GAN"
    concurrency = 1  # one pass through a small network: a request is mostly the server's own Python work, so one
    # at a time (a burst of 30 clicks finishes in turn, not all late together: bench/load.py)
    title = "GAN: a generator trained against a critic"
    description = (
        "A generative adversarial network is two networks in a contest. The generator turns random noise into a "
        "picture; the discriminator looks at real and generated digits and guesses which is which. Each learns "
        "from the other's mistakes until the generator's digits fool the discriminator. Drawing is one pass "
        "through the generator, so it is very fast."
    )
    params = digit_params() + (
        Param("truncation", "slider", 1.0, "Scales the random noise fed to the generator: lower gives cleaner, more "
              "alike digits, 0 gives the same digit every time, higher gives wilder ones.",
              minimum=0.0, maximum=2.0, step=0.05),
    )

    def _load(self, weights_dir):
        from genai_demo.models.gan import ConditionalGAN

        return ConditionalGAN.from_pretrained(weights_dir).eval()

    def _sample(self, model, labels, generator, *, truncation: float):
        return model.generate(labels, generator, truncation=truncation)
