"""The model contract: how every model describes itself, validates input and returns output.

A model is one ``ModelAdapter`` subclass. Everything the UI, the command line
and the API need is declared on it as data (``id``, ``family``, ``params``...),
so a parameter is declared once and checked once, the same way everywhere.
Importing this module costs nothing: no torch, no gradio.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

# The parameters' part of the contract, re-exported so that models import everything from here.
from genai_demo.params import (KINDS, MAX_SEED, Follows, GenAIError, Param, ParameterError, Preset,  # noqa: F401
                               filled, seed_param, shown_value)

# One load at a time in a process: transformers' lazy imports are not safe when two threads first touch the same
# name at once (two models loading together got "cannot import name 'GPT2LMHeadModel'"), and a failed load is kept.
LOADING = threading.RLock()

__all__ = ["KINDS", "MAX_SEED", "Follows", "GenAIError", "ModelAdapter", "ModelUnavailable", "Param", "ParameterError", "Preset",
           "Result", "UnknownModel", "seed_param", "shown_value"]

WEIGHTS_ENV = "GENAI_WEIGHTS_DIR"
# The weights: inside the package when it was installed with pip (``genai_demo/weights``, package data), else the
# repository's ``weights/`` beside the package; ``$GENAI_WEIGHTS_DIR`` or ``--weights-dir`` name another folder.
_PACKAGED_WEIGHTS = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS_ROOT = _PACKAGED_WEIGHTS if _PACKAGED_WEIGHTS.is_dir() else _PACKAGED_WEIGHTS.parent.parent / "weights"


class ModelUnavailable(GenAIError):
    """A model's weights are missing or broken; the message says how to get them."""


class UnknownModel(GenAIError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass
class Result:
    """What one generation returns: plain data, plus the info record that reproduces it."""

    images: list = field(default_factory=list)  # PIL images
    text: str | None = None
    audio: tuple[int, Any] | None = None  # (sample_rate, numpy array)
    files: dict[str, bytes] = field(default_factory=dict)  # downloads by file name: {"chorale.mid": b"MThd..."}
    labels: list[int] = field(default_factory=list)  # per image: the digit asked for, -1 where none
    captions: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)  # model, seed, params, seconds, parameters, weights_version, device
    done: bool = True  # False for intermediate states while streaming
    # Frames of the generating process for the "how it was drawn" view, each
    # {"label": "step 3/20 (t = 700)", "images": {"noisy image x_t": PIL, "predicted clean image": PIL}};
    # empty for models that draw in one pass. Text models give one frame per generated token instead:
    # {"label": ..., "token": "e", "p_model": 0.41, "p_sampled": 0.63, "kept": 12, "vocab_size": 66,
    #  "context_cut": False, "candidates": [{"token": "e", "p_model": 0.41, "p_sampled": 0.63, "chosen": True}, ...]}
    # (p_model: the model's probability; p_sampled: after temperature, top-k and top-p).
    process: list[dict] = field(default_factory=list)


class ModelAdapter:
    """Base of every model. Subclasses declare the class attributes and implement ``_load`` and ``_generate``."""

    id: str = ""  # "image/gan"
    modality: str = ""  # image, text, audio
    family: str = ""  # GAN, VAE, autoregressive, diffusion, hub pipeline
    title: str = ""
    description: str = ""  # a few plain sentences for students
    params: tuple[Param, ...] = ()
    weights_files: tuple[str, ...] = ("config.json", "model.safetensors")
    # -- what the page, the CLI and the tests read besides the parameters (docs/adding-a-model.md) --
    # Other languages' title and description (and family, if the page does not know it): {"ko": {"title": ...}}
    translations: dict = {}
    presets: tuple[Preset, ...] = ()  # good and broken settings, each with its commentary in every language
    explain_views: tuple[str, ...] = ()  # the "How it works" views that show this model (genai_demo/ui/explain.py)
    compared: bool = False  # drawn beside the other digit models in the Image tab's comparison (genai_demo/compare.py)
    trainer: str | None = None  # the module whose ``train`` function makes its weights (python -m genai_demo train ID)
    words: dict = {}  # the words it writes into results (``words.Say`` templates), translated: {"ko": {template: ...}}

    def estimate_seconds(self, values: dict) -> float | None:
        """About how long a request with these (validated) values takes on a 2-core CPU, or None if unknown (an
        operator's hub model): what the page warns of before a slow run, and what the serving layer schedules by
        (``genai_demo/serving.py``: which process, which queue). Quick models keep the default, 0."""
        return 0.0

    # How many of its default requests run together at about the cost of one, because requests running at once in
    # one process share the network's passes (genai_demo/batching.py); 0: each request runs on its own. What the
    # serving layer sizes the model's queue lane by.
    shares_steps: int = 0

    def __init__(self, weights_root: str | Path | None = None):
        self.weights_root = Path(weights_root or os.environ.get(WEIGHTS_ENV) or DEFAULT_WEIGHTS_ROOT)
        self._lock = threading.Lock()
        self._model = None
        self._load_error: str | None = None
        self.num_parameters: int | None = None
        self.weights_version: str | None = None
        self.device = None  # the torch.device it is loaded on (runtime.device(), $GENAI_DEVICE), once loaded

    # -- description ---------------------------------------------------------
    @property
    def weights_dir(self) -> Path:
        return self.weights_root / self.id.replace("/", "-")

    @property
    def train_command(self) -> str:
        return f"python -m genai_demo train {self.id} --data-dir DATA_DIR --out {self.weights_dir}"

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def unavailable_reason(self) -> str | None:
        """Why this model cannot run (cheap: looks at files, loads nothing), or None if it looks ready."""
        if self._load_error:
            return self._load_error
        if not self.weights_root.is_dir():
            return (f"no weights folder at {self.weights_root}; set ${WEIGHTS_ENV} to the folder that holds "
                    f"{self.weights_dir.name}/, or train them with: {self.train_command}")
        missing = [f for f in self._weights_paths() if not (self.weights_dir / f).is_file()]
        if missing:
            return f"weights not found ({', '.join(missing)} missing in {self.weights_dir}); train them with: {self.train_command}"
        return self._check_files()

    def _weights_paths(self) -> list[str]:
        """``weights_files``, with a safetensors file that was saved in shards (``model.safetensors.index.json``
        beside it, as ``save_pretrained(max_shard_size=...)`` writes) replaced by its index and its shards."""
        paths = []
        for name in self.weights_files:
            index = self.weights_dir / f"{name}.index.json"
            if name.endswith(".safetensors") and not (self.weights_dir / name).exists() and index.is_file():
                try:
                    shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
                except Exception:  # reported as broken by _check_files, which reads the index again
                    shards = []
                folder = str(Path(name).parent)
                paths += [f"{name}.index.json", *(s if folder == "." else f"{folder}/{s}" for s in shards)]
            else:
                paths.append(name)
        return paths

    def weights_stamp(self) -> tuple:
        """Which weights files are on disk now (names, sizes and times; no file is read): cheap, and known before
        the model loads, unlike ``weights_version``."""
        stamp = []
        for name in self._weights_paths():
            try:
                info = (self.weights_dir / name).stat()
                stamp.append((name, info.st_size, info.st_mtime_ns))
            except OSError:
                stamp.append((name, None, None))
        return tuple(stamp)

    def _check_files(self) -> str | None:
        """Parse each config's JSON and each safetensors header (cheap: no tensors are read), once per file version."""
        stamp = self.weights_stamp()
        files = [name for name, *_ in stamp]
        if getattr(self, "_checked", (None,))[0] != stamp:
            problem = None
            for name in files:
                path = self.weights_dir / name
                try:
                    if name.endswith(".index.json"):
                        if not json.loads(path.read_text())["weight_map"]:
                            raise ValueError("the index lists no shards")
                    elif name.endswith(".json"):
                        json.loads(path.read_text())
                    elif name.endswith(".safetensors"):
                        from safetensors import safe_open

                        with safe_open(path, framework="np") as f:
                            f.keys()
                except Exception as e:  # whatever a truncated or foreign file raises
                    problem = (f"weights in {self.weights_dir} are broken ({name}: {_first_line(e)}); "
                               f"retrain them with: {self.train_command}")
                    break
            self._checked = (stamp, problem)
        return self._checked[1]

    def describe(self) -> dict:
        reason = self.unavailable_reason()
        return {
            "id": self.id, "modality": self.modality, "family": self.family, "title": self.title,
            "description": self.description, "available": reason is None, "reason": reason,
            "params": [p.to_dict() for p in self.params],
        }

    # -- validation ----------------------------------------------------------
    def validate(self, params: dict) -> dict:
        """Fill defaults, convert and range-check every parameter; unknown names are an error."""
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ParameterError(f"{self.id} has no parameter {', '.join(unknown)}; its parameters are {', '.join(sorted(known))}")
        values = filled(self.params, params)  # a follower left out takes its choice's value (Param.follows)
        return {p.name: p.validate(values[p.name]) for p in self.params}

    # -- loading -------------------------------------------------------------
    def load(self):
        """Load the model once, on first use; two requests arriving together wait for the same load."""
        if self._model is not None:
            return self._model
        with self._lock, LOADING:
            if self._model is None:
                reason = self.unavailable_reason()
                if reason:
                    raise ModelUnavailable(f"{self.id} is unavailable: {reason}")
                from genai_demo.runtime import configure_torch, device, freeze_heap

                configure_torch()
                self.device = device()  # before the try: a bad $GENAI_DEVICE is its own line, not "broken weights"
                try:
                    model = self._load(self.weights_dir)
                except Exception as e:  # a corrupt or mismatched checkpoint, of whatever kind
                    self._load_error = (
                        f"weights in {self.weights_dir} could not be loaded ({type(e).__name__}: {_first_line(e)}); "
                        f"retrain them with: {self.train_command}"
                    )
                    raise ModelUnavailable(f"{self.id} is unavailable: {self._load_error}") from None
                self.num_parameters = self._count_parameters(model)
                self.weights_version = self._weights_version()
                self._model = model
                freeze_heap()  # what the load imported and built lives as long as the process
        return self._model

    def _load(self, weights_dir: Path):
        """The model from its weights, on ``self.device``."""
        raise NotImplementedError

    def _count_parameters(self, model) -> int | None:
        return sum(p.numel() for p in model.parameters())

    def _weights_version(self) -> str:
        """First 12 hex digits of the SHA-256 of the weights files: names the exact checkpoint in share links."""
        h = hashlib.sha256()
        for name in self._weights_paths():
            with open(self.weights_dir / name, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()[:12]

    # -- generation ----------------------------------------------------------
    def stream(self, **params) -> Iterator[Result]:
        """Yield intermediate results (``done=False``) and then the final one, stamped with its info record."""
        values = self.validate(params)
        model = self.load()
        started = time.perf_counter()
        result = None
        for result in self._generate(model, **values):
            # The standard record, plus anything the adapter added (a text model's token count and notes).
            result.info = {**self._info(values, time.perf_counter() - started, result.done), **result.info}
            yield result

    def generate(self, **params) -> Result:
        """Run one generation to the end and return its final result."""
        result = None
        for result in self.stream(**params):
            pass
        return result

    def _generate(self, model, **values) -> Iterator[Result]:
        raise NotImplementedError

    def _info(self, values: dict, seconds: float, done: bool) -> dict:
        return {
            "model": self.id, "seed": values.get("seed"), "params": values, "seconds": round(seconds, 4),
            "parameters": self.num_parameters, "weights_version": self.weights_version,
            "device": str(self.device) if self.device is not None else None, "done": done,
        }


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else "no details"
