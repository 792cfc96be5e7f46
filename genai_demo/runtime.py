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


def prefer_passive_waiting() -> None:
    """Ask OpenMP to sleep, not spin, while its threads wait; call before torch is first imported.

    Spinning threads fight with everything else on the machine: with two training jobs running, 16 diffusion
    samples took 72 s with torch's default (spinning) and 4.3 s with passive waiting, on 2 threads of 2 cores.
    An operator's own OMP_WAIT_POLICY wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def freeze_heap() -> None:
    """Put every object alive now out of the garbage collector's reach, so its full collections stay short.

    A launched app holds hundreds of thousands of long-lived objects (Gradio's blocks, torch, diffusers,
    transformers, the models). Each full collection walked them all and held the interpreter lock for 200-300 ms,
    stalling every request in flight: in a burst of 30 clicks, the GAN requests then waited 0.4 s more. Called once
    the page is built and after each model loads; frozen objects live as long as the process anyway, and garbage
    made later is still collected.
    """
    import gc

    gc.collect()
    gc.freeze()
