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


class Lane:
    """One long-lived worker thread, at a lower OS scheduling priority, for the heavy models' work.

    Heavy models (many network passes per request) share one queue slot; running that slot's work here, at
    ``nice`` +10, lets the scheduler give the cores to quick requests (a GAN's 16 digits take 0.07 s) first
    whenever both want them, instead of slicing time evenly. The thread and the OpenMP threads it starts inherit
    the lower priority; the rest of the process keeps its own. Where the OS refuses, work runs at normal priority.
    ``$GENAI_HEAVY_NICE`` sets the step (0: no change).
    """

    def __init__(self, name: str = "heavy-lane", nice: int | None = None):
        import queue

        self.name = name
        self.nice = int(os.environ.get("GENAI_HEAVY_NICE", "10")) if nice is None else nice
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.reniced = False

    def _run(self) -> None:
        try:
            if self.nice:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                               os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + self.nice)
                self.reniced = True
        except (AttributeError, OSError):  # not Linux, or not allowed: normal priority
            pass
        while True:
            self._jobs.get()()

    def stream(self, make_iterator):
        """Iterate ``make_iterator()`` on the lane's thread, yielding its items here, in order.

        Exceptions are raised here. When this generator is closed early (the visitor left or pressed Stop), the
        work stops before its next item.
        """
        import queue

        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        out: queue.Queue = queue.Queue()
        cancelled = threading.Event()

        def job() -> None:
            try:
                iterator = make_iterator()
                try:
                    for item in iterator:
                        if cancelled.is_set():
                            break
                        out.put(("item", item))
                finally:
                    close = getattr(iterator, "close", None)
                    if close:
                        close()
                out.put(("end", None))
            except BaseException as e:  # noqa: BLE001 - handed to the caller, which raises it
                out.put(("error", e))

        self._jobs.put(job)
        try:
            while True:
                kind, value = out.get()
                if kind == "item":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            cancelled.set()


HEAVY_LANE = Lane()
