"""Shared fixtures: offline, CPU only, tiny models, synthetic MNIST files."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # a failed hub call would otherwise hang for ~50 s
os.environ.setdefault("GENAI_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format, gzipped: magic 0x0000 0x08 ndim, then big-endian sizes."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Crude but learnable 28x28 'digits': a bright bar whose position depends on the label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 30, (n, 28, 28))
    for i, y in enumerate(labels):
        images[i, 4 + 2 * y : 6 + 2 * y, 4:24] = 255
    return images.astype(np.uint8), labels.astype(np.uint8)


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory) -> Path:
    """A folder holding only the test split, like this machine's copy of MNIST."""
    d = tmp_path_factory.mktemp("mnist")
    images, labels = synthetic_digits(300)
    write_idx(d / "t10k-images-idx3-ubyte.gz", images)
    write_idx(d / "t10k-labels-idx1-ubyte.gz", labels)
    return d


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A weights root with randomly initialised tiny checkpoints of every model, saved the shipped way."""
    import torch

    from genai_demo.models import chorale, diffusion, pixelcnn
    from genai_demo.models.classifier import PRESETS as CLF_PRESETS, DigitClassifier
    from genai_demo.models.gan import PRESETS as GAN_PRESETS, ConditionalGAN
    from genai_demo.models.vae import PRESETS as VAE_PRESETS, ConditionalVAE

    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    ConditionalGAN(**GAN_PRESETS["tiny"]).eval().save_pretrained(root / "image-gan")
    ConditionalVAE(**VAE_PRESETS["tiny"]).eval().save_pretrained(root / "image-vae")
    diffusion.make_unet("tiny").save_pretrained(root / "image-diffusion" / "unet")
    diffusion.make_train_scheduler().save_pretrained(root / "image-diffusion" / "scheduler")
    with torch.random.fork_rng():  # the few-step student, without moving the random state the other models start from
        teacher = diffusion.UNet2DModel.from_pretrained(root / "image-diffusion" / "unet")
        diffusion.make_student(teacher).save_pretrained(root / "image-diffusion" / "student" / "unet")
    pixelcnn.PixelCNN(**pixelcnn.PRESETS["tiny"]).save_pretrained(root / "image-autoregressive")
    DigitClassifier(**CLF_PRESETS["tiny"]).eval().save_pretrained(root / "mnist-classifier")
    chorale.make_model("tiny").eval().save_pretrained(root / "audio-chorale")
    opening = ["<s>", "minor", *(["bar"] + ["69", "64", "60", "45"] + ["hold"] * 28) * 2]  # two bars of one A-minor chord
    (root / "audio-chorale" / "openings.json").write_text(json.dumps(
        [{"label": "BWV 0.1 (A minor)", "name": "bwv0.1", "mode": "minor", "original_key": "A minor", "tokens": opening}]))
    return root


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory) -> Path:
    """A randomly initialised unconditional diffusers pipeline (UNet of 4 and 8 channels on 8x8 images)."""
    import torch
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    folder = tmp_path_factory.mktemp("pipeline")
    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=8, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(4, 8),
                       norm_num_groups=4, down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D"))
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler(num_train_timesteps=50)).save_pretrained(folder)
    return folder


def at_once(calls: list, first_late: float = 0.0, timeout: float = 120) -> list:
    """Each function in its own thread, all released together (the first ``first_late`` seconds after the others);
    what each returned, or the exception it raised."""
    import threading

    out = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def one(i, call):
        start.wait()
        if i == 0:
            time.sleep(first_late)
        try:
            out[i] = call()
        except Exception as e:  # noqa: BLE001 - handed to the test
            out[i] = e

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def running_app(log: Path, *args: str):
    """``python app.py ARGS`` on 127.0.0.1 and a free port, its output in ``log``: yields its URL, then stops it."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *args], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The real app (``python app.py``) on 127.0.0.1 with the shipped weights: (url, path of its log)."""
    log = tmp_path_factory.mktemp("app") / "app.log"
    with running_app(log) as url:
        yield url, log


@pytest.fixture(scope="session")
def app_url(app_server) -> str:
    """The URL of the shared app, for gradio_client and the browser."""
    return app_server[0]
