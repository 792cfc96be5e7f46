"""What the adapters for operator-named Hugging Face models share: offline mode and local look-ups only."""

from __future__ import annotations

import os
from pathlib import Path


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def cached_file(source: str, filename: str) -> Path | None:
    """``filename`` of ``source`` (a folder or a hub id) if it is on this machine, without any network call."""
    local = Path(source) / filename
    if local.is_file():
        return local
    if Path(source).exists():
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, filename)
    except Exception:  # not a valid repo id, no cache
        return None
    return Path(cached) if isinstance(cached, str) else None


def source_problem(source: str, marker: str, what: str) -> str | None:
    """Why a hub id or folder cannot be used now (checked on this machine only), or None.

    ``marker`` is the file every such folder has (``model_index.json``, ``config.json``); ``what`` names the kind.
    """
    local = Path(source)
    if local.is_dir() and not (local / marker).is_file():
        return f"{local} is not a {what} folder (no {marker})"
    if not local.exists() and hub_offline() and cached_file(source, marker) is None:
        return (f"'{source}' is not in the local Hugging Face cache and the hub is offline "
                f"(HF_HUB_OFFLINE=1); connect and unset it, or give a local {what} folder")
    return None


class HubSource:
    """Mixin for an adapter whose model is a hub id or folder the operator named (``self.source``), not weights
    trained here: its "weights folder" is that source, and there is nothing to retrain."""

    source: str
    kind = "model"  # what the source holds, for messages: "pipeline", "model"

    @property
    def weights_dir(self) -> Path:
        return Path(self.source)

    @property
    def train_command(self) -> str:
        return f"not trained here: it is a pretrained {self.kind}"

