"""MNIST in the standard IDX format (LeCun, Cortes and Burges).

The loader reads whichever of the four standard ``.gz`` files are in a folder:
the full set is 60,000 training and 10,000 test images, but any subset works
(this machine's copy has only the test split). When no file is there and
``download=True``, it fetches the full set from a public mirror and checks each
file's MD5 against the published checksums before using it.

Only numpy is needed: the data layer imports no torch.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "GENAI_MNIST_DIR"
HUB_ID = "ylecun/mnist"  # the same data on the Hugging Face Hub, for model cards

# (split, images file, labels file); the names every mirror serves.
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# Published MD5 of the gzipped files (the same table torchvision checks).
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


class MNISTError(RuntimeError):
    """The data could not be found, fetched or parsed; the message says what to do."""


@dataclass
class MNIST:
    images: np.ndarray  # (N, 28, 28) uint8, 0 = background
    labels: np.ndarray  # (N,) int64, 0-9
    splits: tuple[str, ...]  # which standard splits were found, e.g. ("test",)

    def __len__(self) -> int:
        return len(self.labels)


def default_data_dir() -> Path:
    """``$GENAI_MNIST_DIR`` if set, else a per-user cache folder."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "genai_demo" / "mnist"


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (gzipped or not): magic, dimension sizes, then raw bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise MNISTError(f"{path} is not a readable IDX file: {e}") from None
    if len(data) < 4:
        raise MNISTError(f"{path} is too short to be an IDX file")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:  # 0x08 = unsigned byte, the only type MNIST uses
        raise MNISTError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise MNISTError(f"{path} holds {body.size} bytes, but its header says {dims}")
    return body.reshape(dims)


def download(data_dir: Path, timeout: float = 15.0) -> None:
    """Fetch the four files into ``data_dir``, checking each MD5; raise MNISTError if every mirror fails."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, md5 in MD5.items():
        target = data_dir / name
        if target.exists():
            continue
        errors = []
        for mirror in MIRRORS:
            try:
                with urllib.request.urlopen(mirror + name, timeout=timeout) as r:
                    blob = r.read()
            except OSError as e:
                errors.append(f"{mirror}: {e}")
                continue
            if hashlib.md5(blob).hexdigest() != md5:
                errors.append(f"{mirror}: checksum mismatch")
                continue
            tmp = target.with_suffix(".part")
            tmp.write_bytes(blob)
            tmp.replace(target)
            break
        else:
            raise MNISTError(f"could not download {name} ({'; '.join(errors)})")


def load_mnist(data_dir: str | Path | None = None, split: str = "all", download_missing: bool = True) -> MNIST:
    """Load the images and labels of ``split`` ("train", "test" or "all" that are present) from ``data_dir``."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    wanted = ("train", "test") if split == "all" else (split,)
    if any(s not in FILES for s in wanted):
        raise MNISTError(f"unknown split {split!r}; use train, test or all")

    def present() -> list[str]:
        return [s for s in wanted if all((data_dir / f).exists() for f in FILES[s])]

    found = present()
    if not found and download_missing and os.environ.get("GENAI_OFFLINE", "") not in ("", "0"):
        raise MNISTError(f"no MNIST files in {data_dir}, and GENAI_OFFLINE is set so nothing is downloaded; pass --data-dir")
    if not found and download_missing:
        try:
            download(data_dir)
        except MNISTError as e:
            raise MNISTError(
                f"no MNIST files in {data_dir} and the download failed: {e}. "
                f"Put the standard .gz files there or pass --data-dir."
            ) from None
        found = present()
    if not found:
        names = ", ".join(f for s in wanted for f in FILES[s])
        raise MNISTError(f"no MNIST files in {data_dir} (looked for {names}); pass --data-dir or set {ENV_VAR}")
    images, labels = [], []
    for s in found:
        img = read_idx(data_dir / FILES[s][0])
        lab = read_idx(data_dir / FILES[s][1])
        if img.ndim != 3 or lab.ndim != 1 or len(img) != len(lab):
            raise MNISTError(f"{data_dir}: {s} images {img.shape} and labels {lab.shape} do not match")
        images.append(img)
        labels.append(lab.astype(np.int64))
    return MNIST(np.concatenate(images), np.concatenate(labels), tuple(found))
