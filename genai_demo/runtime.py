"""Process-wide torch settings, applied once, lazily, by whoever first needs torch."""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_done = False


def configure_torch() -> None:
    """Fix torch's thread count once (``GENAI_THREADS``, default: all cores) so timings are comparable."""
    global _done
    with _lock:
        if _done:
            return
        import torch

        threads = int(os.environ.get("GENAI_THREADS", "0")) or os.cpu_count() or 1
        torch.set_num_threads(threads)
        _done = True
