"""What every class-conditional MNIST generator shares: seed, number of images, which digit, and PIL output."""

from __future__ import annotations

from typing import Iterator

from genai_demo.contract import ModelAdapter, Param, Result, seed_param
from genai_demo.words import Say

LABEL_CHOICES = ("any",) + tuple(str(d) for d in range(10))


def digit_params() -> tuple[Param, ...]:
    return (
        seed_param(),
        Param("num_images", "integer", 16, "How many digits to draw at once.", label="Number of images",
              minimum=1, maximum=64, step=1, translations={"ko": ("이미지 수", "한 번에 그릴 숫자의 개수입니다.")}),
        Param("label", "choice", "any", "Which digit to draw; 'any' picks a random digit for each image.",
              label="Digit", choices=LABEL_CHOICES,
              translations={"ko": ("숫자", "그릴 숫자입니다. '아무 숫자'는 이미지마다 숫자를 무작위로 고릅니다.")},
              choice_names={"en": {"any": "any"}, "ko": {"any": "아무 숫자"}}),
    )


class DigitAdapter(ModelAdapter):
    """A model that draws 28x28 digits given labels; subclasses implement ``_sample``."""

    modality = "image"
    words = {"ko": {"{digit} (random)": "{digit}(무작위)"}}

    def _labels(self, seed: int, num_images: int, label: str):
        """A private generator seeded for this request, the digit for each image, and what to record and show."""
        import torch

        # Private: two students generating at once never share random state.
        generator = torch.Generator(self.device or "cpu").manual_seed(seed)  # on the model's device
        if label == "any":
            labels = torch.randint(0, 10, (num_images,), generator=generator, device=generator.device)
        else:
            labels = torch.full((num_images,), int(label), dtype=torch.long, device=generator.device)
        requested = [-1 if label == "any" else int(label)] * num_images
        captions = [Say("{digit} (random)", digit=d) if label == "any" else str(d) for d in labels.tolist()]
        return generator, labels, requested, captions

    def _generate(self, model, *, seed: int, num_images: int, label: str, **extra) -> Iterator[Result]:
        generator, labels, requested, captions = self._labels(seed, num_images, label)
        images = self._sample(model, labels, generator, **extra)  # (B, 1, 28, 28) in [0, 1]
        yield Result(images=to_pil(images), labels=requested, captions=captions)

    def _sample(self, model, labels, generator, **extra):
        raise NotImplementedError


def to_pil(images) -> list:
    """(B, 1, H, W) floats in [0, 1] -> list of grayscale PIL images."""
    import torch
    from PIL import Image

    arr = (images.clamp(0, 1).squeeze(1) * 255).round().to(torch.uint8).cpu().numpy()
    return [Image.fromarray(a, mode="L") for a in arr]


def strip(images: list, scale: int = 3):
    """Images side by side in one picture, upscaled without blur, for the process view."""
    from PIL import Image

    w, h = images[0].size
    out = Image.new("L", (w * len(images) + 2 * (len(images) - 1), h), color=40)
    for i, im in enumerate(images):
        out.paste(im, (i * (w + 2), 0))
    return out.resize((out.width * scale, out.height * scale), Image.NEAREST)
