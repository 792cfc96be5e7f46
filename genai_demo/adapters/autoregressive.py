"""``image/autoregressive``: the Gated PixelCNN trained by ``python -m genai_demo train image/autoregressive``."""

from __future__ import annotations

from typing import Iterator

from genai_demo.adapters.digits import DigitAdapter, digit_params, strip, to_pil
from genai_demo.contract import Param, Result


class AutoregressiveAdapter(DigitAdapter):
    id = "image/autoregressive"
    family = "autoregressive"
    heavy = True  # many network passes per image
    slow = True
    title = "Autoregressive: one pixel at a time, each chosen from the pixels before it"
    description = (
        "An autoregressive model writes its output one piece at a time, like GPT writes one word at a time. This "
        "PixelCNN reads pixels left to right, top to bottom, and for each next pixel predicts how likely each shade "
        "is, given every pixel already drawn and the digit you asked for. Drawing picks each pixel at random from "
        "that prediction: watch the digit fill in row by row."
    )
    params = digit_params() + (
        Param("temperature", "slider", 1.0, "Sharpens or flattens each pixel's probabilities: 0 always takes the most "
              "likely shade, 1 samples as trained, higher adds speckles and broken strokes.",
              minimum=0.0, maximum=2.0, step=0.05),
    )

    def _load(self, weights_dir):
        from genai_demo.models.pixelcnn import PixelCNN

        return PixelCNN.from_pretrained(weights_dir).eval()

    def _generate(self, model, *, seed: int, num_images: int, label: str, temperature: float) -> Iterator[Result]:
        generator, labels, requested, captions = self._labels(seed, num_images, label)
        process = []
        confidence = None
        for row, canvas, probs in model.sample(labels, generator, temperature=temperature):
            images = canvas.unsqueeze(1).float() / (model.levels - 1)
            # How likely the model thought each pixel it drew was (first 8 images): dark = a surprising choice.
            chosen = probs[:8].gather(2, canvas[:8, row].unsqueeze(2)).squeeze(2)  # (8, W)
            if confidence is None:
                confidence = images.new_zeros(len(chosen), 1, *canvas.shape[1:])
            confidence[:, 0, row] = chosen
            shown = images.clone()
            shown[:, :, row + 1 :, :] = 0.25  # not yet drawn: mid-grey, so the page shows how far it has got
            if row % 2 == 1 or row == canvas.shape[1] - 1:
                process.append({"label": f"rows 1-{row + 1} of 28", "images": {
                    "drawn so far": strip(to_pil(shown[:8])),
                    "probability of each chosen shade": strip(to_pil(confidence.clone())),
                }})
            if row < canvas.shape[1] - 1:
                yield Result(images=to_pil(shown), labels=requested, done=False, captions=[f"row {row + 1}/28"] * num_images)
        yield Result(images=to_pil(images), labels=requested, captions=captions, process=process)
