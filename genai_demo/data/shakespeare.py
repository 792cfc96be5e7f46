"""Tiny Shakespeare: 40,000 lines of Shakespeare's plays in one 1.1 MB text file (Karpathy's char-rnn copy).

``load_shakespeare`` reads ``tinyshakespeare.txt`` (or char-rnn's name, ``input.txt``) from a folder; when it
is missing and the machine is online, it downloads the canonical public copy and checks its SHA-256 first.
``split`` cuts the text as nanoGPT does: the first 90% of the characters to train on, the last 10% held out.

Only the standard library is needed: the data layer imports no torch.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from genai_demo.contract import GenAIError

ENV_VAR = "GENAI_SHAKESPEARE_DIR"
HUB_ID = "karpathy/tiny_shakespeare"  # the same text on the Hugging Face Hub, for model cards
FILE_NAMES = ("tinyshakespeare.txt", "input.txt")
URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TRAIN_FRACTION = 0.9  # nanoGPT's split: the first 90% trains, the last 10% validates


class ShakespeareError(GenAIError):
    """The text could not be found or fetched; the message says what to do."""


def default_data_dir() -> Path:
    """``$GENAI_SHAKESPEARE_DIR`` if set, else the team's shared data folder beside the repository, else a cache."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    if any((shared / name).is_file() for name in FILE_NAMES):
        return shared
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "genai_demo" / "shakespeare"


def download(target: Path, timeout: float = 20.0) -> None:
    """Fetch the canonical copy to ``target``, refusing it unless its SHA-256 matches the published one."""
    try:
        with urllib.request.urlopen(URL, timeout=timeout) as r:
            blob = r.read()
    except OSError as e:
        raise ShakespeareError(f"could not download {URL}: {e}") from None
    if hashlib.sha256(blob).hexdigest() != SHA256:
        raise ShakespeareError(f"{URL} did not match its published SHA-256; not using it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(blob)
    tmp.replace(target)


def load_shakespeare(data_dir: str | Path | None = None, download_missing: bool = True) -> str:
    """The whole text; ``data_dir`` may be the folder or the file itself."""
    path = Path(data_dir) if data_dir else default_data_dir()
    if path.is_file():
        return path.read_text(encoding="utf-8")
    for name in FILE_NAMES:
        if (path / name).is_file():
            return (path / name).read_text(encoding="utf-8")
    if not download_missing or os.environ.get("GENAI_OFFLINE", "") not in ("", "0"):
        raise ShakespeareError(f"no {' or '.join(FILE_NAMES)} in {path}; pass --data-dir or set {ENV_VAR}")
    try:
        download(path / FILE_NAMES[0])
    except ShakespeareError as e:
        raise ShakespeareError(f"no {FILE_NAMES[0]} in {path} and the download failed: {e}. "
                               f"Put the file there or pass --data-dir.") from None
    return (path / FILE_NAMES[0]).read_text(encoding="utf-8")


def split(text: str, train_fraction: float = TRAIN_FRACTION) -> tuple[str, str]:
    """(train, validation): the first ``train_fraction`` of the characters, and the rest."""
    n = int(len(text) * train_fraction)
    return text[:n], text[n:]
