"""The slow models run in a second process at a lower priority, so the fast ones stay fast when a class is busy.

Why: on a 2-core machine, a classroom's diffusion, PixelCNN, Shakespeare and chorale requests kept both cores and
the server's interpreter lock busy: in ``bench/load.py`` a GAN request (55 ms alone) took 18-23 times as long at
p95 once the class was busy. In their own process, at a low priority (``NICE``; a thread that computes one request
alone, such as a diffusion run, lower still: ``SHORT_NICE``, or ``ALONE_NICE`` for a long one), the slow models get
the CPU that the server and the fast models leave over: the web server, the GAN and the VAE answer first, and the
slow requests still run whenever a core is free.

The server (``genai_demo/server.py``) starts one ``Worker`` and hands it to the serving layer, which sends here the
requests of every model its plan puts in the worker (``serving.plan``: anything slower than a fraction of a
second) as validated parameters, and yields the results that come back. The worker builds its own registry from the same
settings (weights folder, operator-chosen hub models), so it loads only what visitors could already reach. Each
request runs in its own thread, as it would in the server; the server's queue (one slot for the heavy models, a
lane per batched model: ``serving.plan``) still decides how many run at once, and the requests of a batched model
that run here at once share its steps (``genai_demo/batching.py``).

Messages are pickled over a private socket pair that only the two processes hold:

    server -> worker: ("run", id, model_id, values) | ("load", id, model_id) | ("cancel", id) | ("running", id)
    worker -> server: ("result", id, Result, first new frame) | ("result", id, number) | ("error", id, kind, message)
                      | ("end", id)

(a result carries only the process frames added since the previous one: ``FrameDeltas``).

If the worker dies (killed, out of memory), the requests it was running end with one clear line, and the next
request starts a new worker.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Iterator

from genai_demo import contract
from genai_demo.contract import GenAIError

log = logging.getLogger("genai_demo.worker")

# The worker's priority, below the web server's. Linux weighs every thread by its own nice level (nice 12: about a
# fifteenth of a normal thread's weight; 15: a 28th; 19: a seventieth), so the server, the GAN and the VAE answer
# first. Within the worker, a thread that steps a batch for many requests (``genai_demo/batching.py``: text,
# chorales, the PixelCNN) keeps that level, while a thread that computes one request alone for long
# (``serving.runs_long``: a teacher sampler's 20 diffusion steps, a hub pipeline) drops to ALONE_NICE: at one weight
# for all, a class's six diffusion threads left the text batch a seventh of the CPU, and 13 texts that share every
# step waited 25-29 s for their 300 steps (bench/load.py). A short request computed alone (the default diffusion
# request: 4 steps, 0.4 s) runs at SHORT_NICE, about half a batch thread's weight (or at its worker's level where that
# is lower: the image models' worker runs at 16, ``serving.worker_nices``): at ALONE_NICE its students waited 4.5-8.6
# s at the median in a class; now about 2 s (docs/serving.md).
NICE = 12
SHORT_NICE = 15
ALONE_NICE = 19
# Seconds between the intermediate results of one generation sent to the server, per generation running (the first
# and the last always go): 0.05 s for one visitor; with five at once, 0.25 s each, so the server, which turns every
# update into images and messages, spends about the same time on streaming however busy the worker is.
MIN_INTERVAL = 0.05
ERRORS = {cls.__name__: cls for cls in (contract.ParameterError, contract.ModelUnavailable, contract.UnknownModel)}


class WorkerError(GenAIError):
    """The worker failed a request, or stopped while running it."""


class Worker:
    """The server's end: starts the worker process (at ``start()`` or on first use, and again after it dies) and
    talks to it."""

    def __init__(self, settings: dict | None = None, nice: int = NICE):
        """``settings``: the keyword arguments of the worker's ``Registry`` (weights_root, image_pipeline, ...)."""
        self.settings = {k: (str(v) if v is not None else None) for k, v in (settings or {}).items()}
        self.nice = nice
        self._lock = threading.Lock()  # starting the process, and sending
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._inboxes: dict[int, tuple[queue.Queue, subprocess.Popen]] = {}  # per request: its replies, its process
        self._ids = itertools.count(1)
        self._closing = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def stream(self, model_id: str, values: dict) -> Iterator:
        """Run one generation in the worker: yield its results as they come; stopping early cancels it there."""
        return self._call("run", model_id, values)

    def load(self, model_id: str) -> None:
        """Load a model in the worker (the app's warm-up); raises its error if it cannot be loaded."""
        for _ in self._call("load", model_id):
            pass

    def running(self) -> int:
        """How many generations the worker is running now."""
        return list(self._call("running"))[0]

    def _call(self, kind: str, *args) -> Iterator:
        """Send one request; yield its results until its end; raise its error as the server's own error class."""
        ended = False
        rid, inbox = self._send_new(kind, *args)
        frames = FrameDeltas()
        try:
            while (message := inbox.get())[0] != "end":
                if message[0] == "error":
                    ended = True
                    raise ERRORS.get(message[2], WorkerError)(message[3])
                yield frames.unpack(*message[2:])
            ended = True
        finally:
            self._inboxes.pop(rid, None)
            if not ended:  # the visitor left or pressed Stop: the worker stops that generation at its next step
                self._send("cancel", rid)

    def _send_new(self, kind: str, *args) -> tuple[int, queue.Queue]:
        rid, inbox = next(self._ids), queue.Queue()
        with self._lock:
            self._start()
            self._inboxes[rid] = (inbox, self._proc)
            try:
                self._conn.send((kind, rid, *args))
            except OSError:  # it died a moment ago; the reader is ending every request
                inbox.put(("error", rid, "WorkerError", self._death_notice()))
        return rid, inbox

    def _send(self, *message) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(message)
                except OSError:
                    pass

    def start(self) -> None:
        """Start the process now (it imports torch and loads models only when asked)."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parent.parent)  # importable whatever the app's working folder
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH"))))}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "genai_demo.worker", str(theirs.fileno()), json.dumps(self.settings), str(self.nice)],
            pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        self._conn = Connection(ours.detach())
        log.info("started the worker for slow models (pid %d, nice +%d)", self._proc.pid, self.nice)
        threading.Thread(target=self._read, args=(self._conn, self._proc), name="worker-reader", daemon=True).start()

    def _read(self, conn: Connection, proc: subprocess.Popen) -> None:
        """Hand each message to the request waiting for it; when the worker dies, end every request it had."""
        try:
            while True:
                message = conn.recv()
                inbox, _ = self._inboxes.get(message[1], (None, None))
                if inbox is not None:
                    inbox.put(message)
        except (EOFError, OSError):
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        conn.close()
        notice = self._death_notice(proc)
        if proc.returncode not in (0, None) and not self._closing:
            log.warning("%s", notice)
        for rid, (inbox, sent_to) in list(self._inboxes.items()):
            if sent_to is proc:  # not the requests already sent to its successor
                inbox.put(("error", rid, "WorkerError", notice))

    def _death_notice(self, proc=None) -> str:
        code = (proc or self._proc).poll()
        return f"the process running the slow models stopped (exit code {code}); please try again"

    def close(self) -> None:
        self._closing = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


class WorkerPool:
    """Several workers, each running its own share of the slow models (a model always in the same one), behind the
    one ``Worker``'s interface the serving layer uses.

    Why: one worker process ran every slow model's Python (the transformers forward of each text and chorale step,
    the PixelCNN's pixel loop, the diffusion loop) under one interpreter lock, so a class kept it at about one core
    (84 s of CPU in 70 s in ``bench/load.py``); with two workers the class completed 203-214 requests in the minute
    instead of 144. ``group`` (from the serving layer) says
    which worker runs a model; anything it does not know goes to the first.
    """

    def __init__(self, settings: dict | None, group: dict[str, int], processes: int, nices: list[int] | None = None):
        """``nices``: each worker's priority (``serving.worker_nices``); by default all at ``NICE``."""
        self.workers = [Worker(settings, nice) for nice in (nices or [NICE] * processes)]
        self.group = group

    def _for(self, model_id: str) -> Worker:
        return self.workers[self.group.get(model_id, 0) % len(self.workers)]

    @property
    def pids(self) -> list[int | None]:
        return [w.pid for w in self.workers]

    def stream(self, model_id: str, values: dict) -> Iterator:
        return self._for(model_id).stream(model_id, values)

    def load(self, model_id: str) -> None:
        self._for(model_id).load(model_id)

    def running(self) -> int:
        return sum(w.running() for w in self.workers)

    def start(self) -> None:
        for w in self.workers:
            w.start()

    def close(self) -> None:
        for w in self.workers:
            w.close()


class FrameDeltas:
    """A generation's process frames cross the socket once each, not once per update.

    A model appends to one list of frames as it goes (a text's next-token view: one frame per character) and every
    intermediate result carries that list; sent whole, the worker pickled and the server unpickled a 300-character
    text's frames about 150 times over. ``pack`` (in the worker) sends only the frames added since the last update,
    with where they start; ``unpack`` (in the server) puts the list back together. A result with another list than
    the last one's is sent whole."""

    def __init__(self):
        self.frames: list = []  # the server's copy, or the worker's last list sent
        self.sent = 0

    def pack(self, result) -> tuple:
        """(result with only the new frames, where they start) for the message."""
        frames = result.process
        start = self.sent if frames is self.frames and len(frames) >= self.sent else 0
        self.frames, self.sent = frames, len(frames)
        return dataclasses.replace(result, process=frames[start:]), start

    def unpack(self, result, start: int | None = None):
        """The result with all its frames (``start`` None: a reply that is not a result)."""
        if start is None:
            return result
        del self.frames[start:]
        self.frames.extend(result.process)
        result.process = list(self.frames)
        return result


def lower_this_thread(nice: int) -> None:
    """Run the calling thread at ``nice`` (only ever lower than the process: raising needs privileges); a thread it
    starts inherits it. Linux only: elsewhere the thread keeps the process's level."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(nice, os.getpriority(os.PRIO_PROCESS, 0)))
    except (AttributeError, OSError):
        pass


def thread_nice(adapter, values: dict) -> int | None:
    """The level a request's thread drops to in the worker: a batched model's keeps the worker's (``NICE``, None
    here); one computed alone, ``ALONE_NICE`` if it runs long (``serving.runs_long``), else ``SHORT_NICE``."""
    from genai_demo.serving import runs_long

    if adapter.shares_steps:
        return None
    return ALONE_NICE if runs_long(adapter, values) else SHORT_NICE


def serve(conn: Connection, settings: dict) -> None:
    """The worker's loop: one thread per request, every reply through the one connection."""
    from genai_demo.registry import Registry

    registry = Registry(**settings)
    send_lock = threading.Lock()
    cancelled: dict[int, threading.Event] = {}  # per generation running here: set when its visitor left

    def send(*message) -> None:
        with send_lock:
            conn.send(message)

    def run(rid: int, kind: str, args: tuple) -> None:
        try:
            if kind == "run":
                model_id, values = args
                adapter = registry.get(model_id)
                if (nice := thread_nice(adapter, values)) is not None:
                    lower_this_thread(nice)
                last = -float("inf")
                frames = FrameDeltas()
                for result in adapter.stream(**values):
                    if cancelled[rid].is_set():
                        log.info("%s cancelled: the visitor left or pressed Stop", model_id)
                        break
                    if result.done or time.perf_counter() - last >= MIN_INTERVAL * len(cancelled):
                        last = time.perf_counter()
                        send("result", rid, *frames.pack(result))
            elif kind == "load":
                registry.get(args[0]).load()
            elif kind == "running":
                send("result", rid, len(cancelled))  # generations still computing, cancelled or not
        except GenAIError as e:
            send("error", rid, type(e).__name__, str(e))
        except Exception as e:  # a bug: the operator sees the traceback here, the visitor one line
            log.exception("request %d failed", rid)
            model = args[0] if args else kind
            send("error", rid, "WorkerError", f"{model} failed: {type(e).__name__}: {str(e)[:200]}")
        finally:
            cancelled.pop(rid, None)
            try:
                send("end", rid)
            except OSError:
                pass

    while True:
        try:
            kind, rid, *args = conn.recv()
        except (EOFError, OSError):  # the server is gone: so is every visitor waiting for these results
            os._exit(0)
        if kind == "cancel":
            if rid in cancelled:
                cancelled[rid].set()
            continue
        if kind == "run":
            cancelled[rid] = threading.Event()
        threading.Thread(target=run, args=(rid, kind, tuple(args)), name=f"request-{rid}", daemon=True).start()


def main(argv: list[str]) -> None:
    fd, settings, nice = int(argv[0]), json.loads(argv[1]), int(argv[2])
    os.nice(nice)
    from genai_demo.runtime import configure_for_serving

    configure_for_serving()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s (worker): %(message)s")
    serve(Connection(fd), settings)


if __name__ == "__main__":
    main(sys.argv[1:])
