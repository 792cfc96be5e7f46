"""A digit someone drew, given to every family: read it, encode it, noise and denoise it, complete it, search for it.

The page's sketchpad (or an uploaded picture) becomes a 28x28 digit here (``digit_from_image``: checked, then
centred the way MNIST digits are, ``models.own_digit.center_like_mnist``). That digit travels as a parameter,
``digit``: 784 grey levels as 1,568 hex characters, row by row. So each family's work on a drawing is an ordinary
model request (a ``ModelAdapter`` with declared parameters, validation, a private seeded generator, streaming,
an info record): the serving layer caches it, runs the slow ones in the worker process and cancels them when the
visitor leaves, like any generation. These tasks are not in the model picker: the registry keeps them in
``Registry.tasks`` (``drawing_tasks.DRAWING_TASKS``: the five families' tasks), beside the models they use.

The classifier's reading of a drawing (``read_digit``) is one pass of a small network: no request of its own.
"""

from __future__ import annotations

import io
from pathlib import Path

from genai_demo.contract import GenAIError, ModelAdapter, ModelUnavailable, Param, ParameterError, Result, seed_param
from genai_demo.words import Say

MAX_BYTES = 10 * 1024 * 1024  # the largest picture accepted (the app's own upload limit, server.MAX_FILE_SIZE)
MAX_PIXELS = 4096 * 4096  # the most pixels a picture may have: checked from its header, before it is decoded
INK = 0.2  # a pixel with less ink than this (after removing the background's level) is paper, not stroke
DIGIT_CHARS = 28 * 28 * 2
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
MAX_SECONDS = 60.0  # a drawing request stops after this long, whatever its settings, and returns what it has


class DrawingError(GenAIError):
    """A drawing or picture that cannot be used: ``key`` names the page's line (``draw:error:<key>``)."""

    def __init__(self, key: str, message: str, **values):
        super().__init__(message)
        self.key, self.values = key, values


# -- a picture -> a 28x28 digit ------------------------------------------------------------------------------------

def _open(source):
    """A PIL image from a path, bytes, a PIL image or an array; every check before decoding the pixels."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if source is None:
        raise DrawingError("empty", "the drawing is empty: draw a digit or upload a picture of one")
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        if source.ndim not in (2, 3) or source.size == 0:
            raise DrawingError("not_image", "the array is not an image: expected (height, width) or (height, width, "
                                            "channels)")
        image = Image.fromarray(source.astype(np.uint8) if source.dtype != np.uint8 else source)
    else:
        if isinstance(source, (str, Path)):
            path = Path(source)
            size = path.stat().st_size if path.is_file() else -1
            if size < 0:
                raise DrawingError("empty", "the drawing is empty: draw a digit or upload a picture of one")
            if size > MAX_BYTES:
                raise _too_large(size)
            data = path.read_bytes()
        else:
            data = bytes(source)
        if not data:
            raise DrawingError("empty", "the drawing is empty: draw a digit or upload a picture of one")
        if len(data) > MAX_BYTES:
            raise _too_large(len(data))
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise DrawingError("not_image", "the file is not a picture that can be read: expected PNG, JPEG, WebP, GIF "
                                            "or BMP") from None
    w, h = image.size
    if w * h > MAX_PIXELS:
        raise DrawingError("too_many_pixels", f"the picture is {w}x{h} pixels: the largest accepted is 4096x4096",
                           width=w, height=h)
    if w == 0 or h == 0:
        raise DrawingError("empty", "the drawing is empty: draw a digit or upload a picture of one")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise DrawingError("not_image", "the file is not a picture that can be read: expected PNG, JPEG, WebP, GIF "
                                        "or BMP") from None
    return image


def _too_large(size: int) -> DrawingError:
    mb = size / (1024 * 1024)
    return DrawingError("too_large", f"the picture is {mb:.1f} MB: the largest accepted is {MAX_BYTES // 2**20} MB",
                        mb=round(mb, 1), limit=MAX_BYTES // 2**20)


def ink_of(source):
    """The ink of a picture, (H, W) floats in [0, 1]: dark strokes on light paper or light strokes on dark (MNIST's
    way) alike, whichever the border says is the background; transparent pixels are paper."""
    import numpy as np
    from PIL import Image

    image = _open(source)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        rgba = np.asarray(image, dtype=np.float32)
        alpha = rgba[..., 3] / 255
        if alpha.min() < 0.5 and alpha.max() > 0.5 and np.median(_border(alpha)) < 0.5:
            # A layer drawn on a transparent canvas: what is opaque and dark is ink, whatever is under it.
            gray = rgba[..., :3].mean(2) / 255
            ink = np.clip(alpha * (1 - gray), 0, 1)
            return np.where(ink >= INK, ink, 0.0).astype(np.float32)
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255
    background = float(np.median(_border(gray)))
    if background > 0.5:  # light paper, dark ink
        ink = (background - gray) / max(background, 1e-3)
    else:  # dark background, light ink (an MNIST digit)
        ink = (gray - background) / max(1 - background, 1e-3)
    ink = np.clip(ink, 0, 1)
    return np.where(ink >= INK, ink, 0.0).astype(np.float32)


def _border(a):
    import numpy as np

    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def digit_from_image(source):
    """A picture (path, bytes, PIL image or array) -> (28, 28) float32 in [0, 1], centred as MNIST digits are.

    Raises ``DrawingError`` for no picture, a blank one, one too large, or a file that is not a picture."""
    from genai_demo.models.own_digit import center_like_mnist

    digit = center_like_mnist(ink_of(source))
    if digit is None:
        raise DrawingError("blank", "the drawing is blank: there is no stroke on it; draw a digit with the brush")
    return digit


def encode_digit(digit) -> str:
    """(28, 28) floats in [0, 1] -> the ``digit`` parameter: 1,568 hex characters, two per pixel, row by row."""
    import numpy as np

    return (np.clip(np.asarray(digit, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8).tobytes().hex()


def decode_digit(text: str):
    """The ``digit`` parameter -> (28, 28) float32 in [0, 1]; a ``ParameterError`` if it is not one."""
    import numpy as np

    try:
        raw = bytes.fromhex(text) if isinstance(text, str) and len(text) == DIGIT_CHARS else b""
    except ValueError:
        raw = b""
    if len(raw) != 28 * 28:
        raise ParameterError(f"digit is not a 28x28 drawing: expected {DIGIT_CHARS:,} hex characters (two per pixel, "
                             "row by row)", param=DIGIT_PARAM, reason="wrong_type", value=str(text)[:20])
    digit = np.frombuffer(raw, dtype=np.uint8).reshape(28, 28).astype(np.float32) / 255
    if digit.max() < INK:
        raise DrawingError("blank", "the drawing is blank: there is no stroke on it; draw a digit with the brush")
    return digit


def read_digit(judge, digit) -> dict:
    """What the classifier reads: {"digit": d, "confidence": p, "probabilities": [10 floats]}."""
    import torch

    x = torch.as_tensor(digit, dtype=torch.float32).reshape(-1, 1, 28, 28).cpu()
    with torch.no_grad():
        probs = judge.load()(x).softmax(1)
    return [{"digit": int(p.argmax()), "confidence": round(float(p.max()), 4),
             "probabilities": [round(float(v), 4) for v in p]} for p in probs] if x.shape[0] > 1 else \
        {"digit": int(probs[0].argmax()), "confidence": round(float(probs[0].max()), 4),
         "probabilities": [round(float(v), 4) for v in probs[0]]}


# -- the tasks -----------------------------------------------------------------------------------------------------

DIGITS = tuple(str(d) for d in range(10))
DIGIT_PARAM = Param("digit", "text", "", "The drawing as the models see it: 28x28 grey levels, two hex digits per "
                    "pixel (00 paper, ff ink), row by row. The page and the API's picture endpoints fill it in.",
                    label="Drawing", max_length=DIGIT_CHARS,
                    translations={"ko": ("그림", "모델이 보는 그림: 28x28 회색 단계, 픽셀마다 16진수 두 자리, 한 줄씩.")})
LABEL_PARAM = Param("label", "choice", "auto", "Which digit the model is told the drawing is: 'auto' takes what the "
                    "classifier reads.", label="Treat it as", choices=("auto",) + DIGITS,
                    translations={"ko": ("어떤 숫자로 볼까", "모델에게 이 그림이 어떤 숫자라고 알려 줄지 고릅니다. "
                                                         "'자동'은 분류기가 읽은 숫자입니다.")},
                    choice_names={"en": {"auto": "auto (what the classifier reads)"}, "ko": {"auto": "자동(분류기가 읽은 숫자)"}})


class DrawingTask(ModelAdapter):
    """One family's work on a drawing: uses that family's model (``base``) and the digit classifier."""

    modality = "image"
    base_class: type[ModelAdapter] = ModelAdapter
    params: tuple[Param, ...] = (DIGIT_PARAM, LABEL_PARAM, seed_param())
    words = {"ko": {"your drawing, 28x28": "내 그림, 28x28", "read as {digit} ({confidence:.0%})":
                    "{digit}(으)로 읽음({confidence:.0%})"}}

    def __init__(self, weights_root=None, base: ModelAdapter | None = None):
        from genai_demo.judge import DigitJudge

        super().__init__(weights_root)
        self.base = base if base is not None else self.base_class(weights_root)
        self.weights_root = self.base.weights_root
        self.weights_files = self.base.weights_files
        self.judge = DigitJudge(self.weights_root)

    @property
    def weights_dir(self) -> Path:
        return self.base.weights_dir

    @property
    def family(self) -> str:
        return self.base.family

    def unavailable_reason(self) -> str | None:
        reason = self.base.unavailable_reason()
        if reason is None and not (self.judge.weights_dir / "model.safetensors").is_file():
            reason = (f"the digit classifier is missing ({self.judge.weights_dir}); train it with: "
                      "python -m genai_demo train mnist-classifier --data-dir DATA_DIR")
        return reason

    def validate(self, params: dict) -> dict:
        values = super().validate(params)
        if "digit" in params:  # a drawing, and not a blank one, before anything runs (plan() asks for the defaults)
            decode_digit(values["digit"])
        return values

    def _load(self, weights_dir):
        try:
            self.judge.load()
        except ModelUnavailable:
            raise
        return self.base.load()

    def _count_parameters(self, model) -> int | None:
        return self.base.num_parameters

    def _weights_version(self) -> str:
        return self.base.weights_version

    def prepare(self, model, digit: str, label: str, seed: int):
        """The drawing as a tensor (1, 1, 28, 28) on the model's device, the label to condition on, a private
        generator, and the classifier's reading of the drawing."""
        import torch

        x = torch.as_tensor(decode_digit(digit), device=self.device).reshape(1, 1, 28, 28)
        reading = read_digit(self.judge, x)
        used = reading["digit"] if label == "auto" else int(label)
        generator = torch.Generator(self.device or "cpu").manual_seed(seed)
        return x, torch.tensor([used], device=self.device), generator, reading

    def readings(self, images) -> list[dict]:
        """The classifier's reading of each image (B, 1, 28, 28) in [0, 1]."""
        out = read_digit(self.judge, images)
        return out if isinstance(out, list) else [out]

    @staticmethod
    def final(images: list, captions: list, process: list, used: int, reading: dict, **info) -> Result:
        """The final result: pictures, their captions, the process frames, and in the record the classifier's reading
        of the drawing, the digit the model was told it is, and what the task adds."""
        return Result(images=images, captions=captions, process=process, labels=[used] * len(images),
                      info={"reading": reading, "label_used": used, **info})

    @staticmethod
    def read_caption(reading: dict) -> Say:
        return Say("read as {digit} ({confidence:.0%})", digit=reading["digit"], confidence=reading["confidence"])
