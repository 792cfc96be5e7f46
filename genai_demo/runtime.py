"""Process-wide torch settings, applied once, lazily, by whoever first needs torch."""

from __future__ import annotations

import os
import re
import threading
import time

_lock = threading.Lock()
_done = False
_serving = False


def configure_torch() -> None:
    """Fix torch's thread count once (``GENAI_THREADS``; default: all cores, one in a serving process) so timings
    are comparable."""
    global _done
    with _lock:
        if _done:
            return
        import torch

        threads = int(os.environ.get("GENAI_THREADS", "0")) or (1 if _serving else os.cpu_count() or 1)
        torch.set_num_threads(threads)
        _done = True


DEVICE_ENV = "GENAI_DEVICE"
_CUDA = re.compile(r"cuda(:\d+)?")


def device():
    """The ``torch.device`` the models run on: ``$GENAI_DEVICE`` is ``auto`` (the default: the first CUDA GPU if
    there is one, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``. A value it does not know, or a GPU that is not
    there, raises ``GenAIError`` with one line naming the variable. Its ``str`` is what the info record shows
    ("cpu", "cuda:0")."""
    import torch

    from genai_demo.contract import GenAIError, shown_value

    raw = os.environ.get(DEVICE_ENV, "")
    wanted = raw.strip().lower() or "auto"
    if wanted == "auto":
        return torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    if wanted == "cpu":
        return torch.device("cpu")
    if not _CUDA.fullmatch(wanted):
        raise GenAIError(f"{DEVICE_ENV}={shown_value(raw)} is not a device: expected auto, cpu, cuda or cuda:N")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(wanted.partition(":")[2] or 0)
    if index >= count:
        have = f"this machine has {count} CUDA GPU{'s' if count != 1 else ''}" if count else \
            f"no CUDA GPU is available here (torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'})"
        raise GenAIError(f"{DEVICE_ENV}={wanted} asks for a GPU, but {have}; set {DEVICE_ENV}=cpu or auto")
    return torch.device("cuda", index)


def prefer_passive_waiting() -> None:
    """Ask OpenMP to sleep, not spin, while its threads wait; call before torch is first imported.

    Spinning threads fight with everything else on the machine: with two training jobs running, 16 diffusion
    samples took 72 s with torch's default (spinning) and 4.3 s with passive waiting, on 2 threads of 2 cores.
    An operator's own OMP_WAIT_POLICY wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# Events between two recomputations of Gradio's queue summary (its monitoring page's table): an operator's
# ``$GRADIO_ANALYTICS_CACHE_FREQUENCY`` wins.
GRADIO_SUMMARY_EVERY = 100


def quiet_gradio_analytics() -> None:
    """Have Gradio's queue recompute its summary of past events every ``GRADIO_SUMMARY_EVERY`` events instead of
    after every one; call before the app's queue is made.

    Why: Gradio 6 builds a pandas table of up to 10,000 past events and groups it by endpoint each time an event
    ends, holding the server's interpreter: 2.1-2.4 ms per event with 50-300 events on record, 8.3 ms with 10,000
    (this machine), against 26 ms of server CPU for a whole GAN request. Only Gradio's monitoring page reads it.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(GRADIO_SUMMARY_EVERY))


def configure_for_serving() -> None:
    """A process that serves a class (the web server, its workers): OpenMP sleeps rather than spins, torch runs
    each operation on one thread unless ``GENAI_THREADS`` says otherwise, and malloc keeps few pools and hands
    free memory back regularly; call before torch is first imported.

    Why one thread: a class's requests already run side by side, each in its own thread (and the batched models
    in theirs), so they fill the cores between them; two threads per operation only add a hand-over to every one
    of the small networks' many small operations, and on a busy machine a wait for the other core. On this 2-core
    machine a 16x64 matrix product took 4 us on one thread and 13 us on two (passive waiting) while another
    program ran, and 30 students with random seeds completed 78 requests in 60 s with one thread against 60 with
    two, the GAN's p95 9.0x its single-user latency against 19.2x (docs/serving.md). Even the one big network
    did not miss the second thread there: 16 digits of the old 40-call diffusion default took 3.5-3.7 s on one
    thread and 4.2-4.3 s on two (medians of 3). Only a lone visitor on an idle machine could gain from two.
    """
    global _serving
    prefer_passive_waiting()
    quiet_gradio_analytics()
    limit_malloc_arenas()
    release_memory_regularly()
    _serving = True


SERVING_ARENAS = 2


def limit_malloc_arenas(arenas: int = SERVING_ARENAS) -> None:
    """Let glibc's malloc keep at most ``arenas`` memory pools in this process (an operator's MALLOC_ARENA_MAX wins).

    glibc gives threads that allocate at the same time pools of their own, up to 8 per core, and a pool keeps the
    memory it once held: a class's requests, each in its own thread, left the served app 297 MB larger than after
    warm-up with the default and 148 MB with two pools, at the same throughput (docs/serving.md). Not glibc (macOS,
    musl): nothing to do.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    libc = _glibc()
    if libc is not None:
        libc.mallopt(-8, arenas)  # M_ARENA_MAX


RELEASE_EVERY = 2.0  # seconds between two hand-backs of free memory in a serving process


def release_memory_regularly(every: float = RELEASE_EVERY) -> None:
    """Every ``every`` seconds, hand the memory that glibc's malloc holds free back to the system (``malloc_trim``),
    from a thread of its own. A class's requests leave their pictures, buffers and messages freed but inside
    malloc's pools, where the process's size counts them for good: in random-seed classroom runs the app grew
    +478 MB before the workers handed memory back and +270 to +343 MB after, the workers themselves -5 and +45 MB
    (docs/serving.md). A call took 0.1 ms here."""
    libc = _glibc()
    if libc is None:
        return

    def loop():
        while True:
            time.sleep(every)
            libc.malloc_trim(0)

    threading.Thread(target=loop, name="release-memory", daemon=True).start()


def _glibc():
    """glibc, where this process has it (Linux); else None (macOS, musl: nothing to do)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


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
