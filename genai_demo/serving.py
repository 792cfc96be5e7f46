"""Serving: where and when a request runs, and the same request computed once.

Scheduling is this module's business, not the model's: a model declares what a request costs
(``ModelAdapter.estimate_seconds``, and ``shares_steps`` for a model whose requests share the network's passes),
and ``plan`` decides from it which process runs it (the server, or the lower-priority worker process for anything
slower than ``WORKER_SECONDS``) and which queue lane (models slower than ``HEAVY_SECONDS`` share one slot, so a
class's diffusion requests cannot starve the quick GAN; a batched model gets a lane of its own, wide enough for its
requests to batch). The batching itself happens where the model runs, in ``genai_demo/batching.py``: requests of
one model that run at once in one process (the worker's threads, the CLI's, a Ray replica's) step together.

An output is a pure function of (model, weights, parameters, seed). So when a teacher says "everyone press Generate
now", the server computes once: identical requests that arrive while one runs follow that run (they see its
intermediate steps and get its final result), and recent final results are kept in a bounded cache, counted in
bytes. A request that differs in any value (another seed) runs on its own.

The page's handlers call ``SHARED.stream(adapter, params)`` instead of ``adapter.stream(**params)``; the model
contract knows nothing of it, nor of the worker. A run whose first visitor leaves (Stop, a closed tab) is not
abandoned by the others: the next one in line takes it over from the start.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterator

from genai_demo.contract import GenAIError, ModelAdapter, Result, shown_value


WORKER_SECONDS = 0.3  # a request estimated slower than this runs in the worker process (genai_demo/worker.py)
QUICK_AT_ONCE = 8  # quick requests (one pass of a small network: GAN, VAE) running at once in the server
# Seconds at most that any other request waits, before it starts, for the quick requests running in this process to
# finish: when a class clicks at once, the GAN's and the VAE's answers go first (bench/load.py: their p95 was 12-16x
# a lone request's, all of it from the first second's burst), and the slow requests, seconds long, hardly notice.
QUICK_FIRST_WAIT = 0.5
HEAVY_SECONDS = 2.0  # slower than this: the heavy lane, one request at a time for all such models
BATCH_CHUNKS = 2  # a batched model's lane: this many chunks' worth of its default requests run at once
# ... but one chunk's worth for a batched model whose default request is longer than this (the text GPT: 300 steps).
# A step costs a whole chunk (every row of it, used or not), so a second chunk opened for a 17th text doubled every
# text's steps for as long as it held a few: in a random-seed class (bench/load.py) text's p95 was 22-28 s with two
# chunks and 13.4-16.2 s with one (a 17th text waits for the first slot to free; first characters' p95 0.3-0.8 s).
# Shorter requests (the PixelCNN's 28 rows, a chorale) drain a second chunk quickly.
LONG_BATCHED_SECONDS = 1.0
# Seconds between two intermediate results for a visitor who follows another's identical run (its first visitor
# gets every one): each update is pictures and a message that the server prepares for each visitor, so with a
# whole class following one run, updates at the leader's pace cost more than the run (bench/load.py --mode same).
FOLLOW_INTERVAL = 0.25


@dataclass(frozen=True)
class Plan:
    """How the server runs one model's requests."""

    in_worker: bool  # in the worker process (when the app has one), so the server's own Python stays free
    concurrency_limit: int  # requests of this lane running at once; the rest wait in Gradio's queue
    concurrency_id: str | None = None  # a lane shared by several models ("heavy")

    @property
    def quick(self) -> bool:
        return not self.in_worker and self.concurrency_id is None

    def queue(self) -> dict:
        """The Gradio event settings for this plan."""
        return {"concurrency_limit": self.concurrency_limit,
                **({"concurrency_id": self.concurrency_id} if self.concurrency_id else {})}


def plan(adapter: ModelAdapter) -> Plan:
    """Where and in which lane a model runs, from the cost it declares for its default request.

    - quick (a GAN or VAE: one pass through a small network): in the server, ``QUICK_AT_ONCE`` at a time, and first:
      any other request lets the quick ones running finish before it starts (``SharedResults.quick_first``), so a
      burst of 30 clicks is answered quick ones first instead of in the order Gradio happens to start them;
    - batched (text, chorales, the PixelCNN, an operator's hub text model: ``adapter.shares_steps`` requests step
      together for about the price of one, ``genai_demo/batching.py``): in the worker, in a lane of their own
      that lets two chunks' worth run at once, so that requests arriving together share the model's passes
      instead of queueing for one slot (one chunk's worth for a model whose default request runs longer than
      ``LONG_BATCHED_SECONDS``: the text GPT);
    - slow (a pass per token, not batched): in the worker, two at a time;
    - heavy (diffusion, a hub pipeline: many passes per image): in the worker, one slot for all of them;
    - unknown (not batched, cost unknown): in the worker, two at a time.
    """
    seconds = adapter.estimate_seconds(adapter.validate({}))
    if seconds is not None and seconds < WORKER_SECONDS:
        return Plan(in_worker=False, concurrency_limit=QUICK_AT_ONCE)
    if adapter.shares_steps:
        chunks = 1 if seconds is not None and seconds > LONG_BATCHED_SECONDS else BATCH_CHUNKS
        return Plan(in_worker=True, concurrency_limit=chunks * adapter.shares_steps,
                    concurrency_id=f"batch:{adapter.id}")
    if seconds is not None and seconds >= HEAVY_SECONDS:
        return Plan(in_worker=True, concurrency_limit=1, concurrency_id="heavy")
    return Plan(in_worker=True, concurrency_limit=2)


def runs_long(adapter: ModelAdapter, values: dict) -> bool:
    """Whether a request of a model that does not batch (``worker.thread_nice`` asks only for those) computes for
    long: its estimate for these values (not its default's) is at least ``HEAVY_SECONDS`` or unknown (a teacher
    sampler's 20 steps, a hub pipeline). The worker runs such a request at its lowest priority (``worker.ALONE_NICE``),
    behind the batches that many students share; a short one (the default diffusion request, 0.4 s) runs just below
    them (``worker.SHORT_NICE``).

    Why the difference: at the lowest priority for every diffusion request, a class's diffusion students waited
    4.5-8.6 s at the median for 0.4 s of work, 16.5 s at p95 in one run (bench/load.py, docs/serving.md)."""
    seconds = adapter.estimate_seconds(values)
    return seconds is None or seconds >= HEAVY_SECONDS


def result_bytes(result: Result) -> int:
    """About how much memory a result holds: its pictures (and the process frames'), sound and files."""

    def image_bytes(im) -> int:
        return im.width * im.height * len(im.getbands())

    total = sum(image_bytes(im) for im in result.images) + sum(len(b) for b in result.files.values())
    if result.audio is not None:
        total += getattr(result.audio[1], "nbytes", 0)
    for frame in result.process or ():
        total += sum(image_bytes(im) for im in (frame.get("images") or {}).values()) + 512
    return total + 1024


class _Run:
    """One computation that several identical requests follow."""

    def __init__(self):
        self.changed = threading.Condition()
        self.latest: Result | None = None  # the newest result so far
        self.version = 0
        self.error: BaseException | None = None
        self.finished = False  # the final result is in ``latest``
        self.abandoned = False  # its visitor left before the end: a follower takes over
        self.followers = 0

    def publish(self, result: Result) -> None:
        with self.changed:
            self.latest, self.version = result, self.version + 1
            self.changed.notify_all()

    def end(self, *, error: BaseException | None = None, abandoned: bool = False) -> None:
        with self.changed:
            self.error, self.abandoned, self.finished = error, abandoned, not abandoned and error is None
            self.changed.notify_all()

    def follow(self) -> Iterator[Result]:
        """Each newer result as it comes, until the run ends (raises its error; returns early if abandoned)."""
        seen = 0
        with self.changed:
            self.followers += 1
        while True:
            with self.changed:
                while self.version == seen and not (self.finished or self.error or self.abandoned):
                    self.changed.wait(timeout=1.0)
                latest, seen = self.latest, self.version
                finished, error, abandoned = self.finished, self.error, self.abandoned
            if error is not None:
                raise error
            if abandoned:
                return
            if latest is not None and (not latest.done or finished):
                yield latest
            if finished:
                return


class SharedResults:
    """Identical requests computed once; at most ``max_items`` recent results, ``max_bytes`` in all, kept."""

    def __init__(self, max_items: int = 128, max_bytes: int = 16 * 1024 * 1024):
        self.max_items, self.max_bytes = max_items, max_bytes
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, tuple[Result, int]] = OrderedDict()
        self._bytes = 0
        self._runs: dict[tuple, _Run] = {}
        self._quick = 0  # quick requests running (``quick_first``)
        self._quick_ended = threading.Condition(self._lock)
        self.computed = 0  # runs started (for tests and the benchmark)
        self.served_from_cache = 0
        # where the models whose plan says so run (``start_backend``): a worker.Worker, a serving_ray.RayBackend, or
        # None: everything runs here
        self.worker = None

    def use_worker(self, worker) -> None:
        self.worker = worker

    def runs_in_worker(self, adapter: ModelAdapter) -> bool:
        return self.worker is not None and plan(adapter).in_worker

    def queue(self, adapter: ModelAdapter) -> dict:
        """The Gradio event settings of a model's requests: its plan's lane, unless the backend running it schedules
        them itself (a Ray cluster: its replicas and Serve's queue decide how many run at once)."""
        if self.runs_in_worker(adapter) and getattr(self.worker, "schedules", False):
            return {"concurrency_limit": None}
        return plan(adapter).queue()

    def load(self, adapter: ModelAdapter) -> None:
        """Load a model where its requests will run (the warm-up after start)."""
        self.worker.load(adapter.id) if self.runs_in_worker(adapter) else adapter.load()

    @staticmethod
    def key(adapter: ModelAdapter, values: dict) -> tuple:
        source = getattr(adapter, "source", None)  # an operator's hub model: its id or folder
        return adapter.id, source, adapter.weights_stamp(), json.dumps(values, sort_keys=True, default=str)

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def stream(self, adapter: ModelAdapter, params: dict) -> Iterator[Result]:
        """The request's results: from the cache, by following an identical run, or by running it (and sharing).
        A quick model's request goes first; any other's waits for those running (``quick_first``)."""
        values = adapter.validate(params)  # a bad request is refused before it joins anything
        if not plan(adapter).quick:
            self.quick_first()
            yield from self._shared(adapter, values)
            return
        with self._lock:
            self._quick += 1
        try:
            yield from self._shared(adapter, values)
        finally:  # (its page work included: Gradio turns a result into the page's values between two steps)
            with self._quick_ended:
                self._quick -= 1
                if not self._quick:
                    self._quick_ended.notify_all()

    def quick_first(self) -> None:
        """Wait until no quick model's request runs here, ``QUICK_FIRST_WAIT`` seconds at most: what a request that
        is not quick (a slow model, the comparison) calls before it starts its own work in this process.

        Why: when 30 students click at once, Gradio starts every lane's requests together, and the server's one
        interpreter (its event loop, its threads) then does all their starting work at once, in no order: the last
        of 8 GAN requests of the first second came back after 0.6-0.9 s (12-16x a lone request, bench/load.py),
        behind the comparisons' and the slow models' start. Letting the quick ones finish first: 0.45-0.52 s."""
        deadline = time.monotonic() + QUICK_FIRST_WAIT
        with self._quick_ended:
            while self._quick and (left := deadline - time.monotonic()) > 0:
                self._quick_ended.wait(left)

    def _shared(self, adapter: ModelAdapter, values: dict) -> Iterator[Result]:
        while True:
            key = self.key(adapter, values)
            with self._lock:  # (never held across a yield: the visitor's page work happens between two)
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    self.served_from_cache += 1
                run = self._runs.get(key)
                leading = cached is None and run is None
                if leading:
                    run = self._runs[key] = _Run()
                    self.computed += 1
            if cached is not None:
                yield cached[0]
                return
            if leading:
                yield from self._lead(adapter, values, key, run)
                return
            ended, last = False, -float("inf")
            for result in run.follow():
                ended = result.done
                if ended or time.monotonic() - last >= FOLLOW_INTERVAL:
                    last = time.monotonic()
                    yield result
            if ended:
                return
            # the run was abandoned by its visitor: try again (this request may lead the next run)

    def generate(self, adapter: ModelAdapter, params: dict) -> Result:
        """``stream``'s final result (what the comparison and the quiz ask of a model): the worker for a slow model,
        the cache, an identical run in flight."""
        result = None
        for result in self.stream(adapter, params):
            pass
        return result

    def _lead(self, adapter: ModelAdapter, values: dict, key: tuple, run: _Run) -> Iterator[Result]:
        result, finished = None, False
        stream = self.worker.stream(adapter.id, values) if self.runs_in_worker(adapter) else adapter.stream(**values)
        try:
            for result in stream:
                run.publish(result)
                yield result
            finished = result is not None
        except BaseException as e:  # an error for every follower; a visitor who left hands the run on
            with self._lock:
                self._runs.pop(key, None)
            run.end(abandoned=True) if isinstance(e, GeneratorExit) else run.end(error=e)
            raise
        finally:
            stream.close()  # stops the model's work at its next step (in the worker too)
        with self._lock:
            self._runs.pop(key, None)
            if finished and result.done:
                self._keep(key, result)
        run.end() if finished else run.end(abandoned=True)

    def _keep(self, key: tuple, result: Result) -> None:
        size = result_bytes(result)
        if size > self.max_bytes:
            return
        self._cache[key] = (result, size)
        self._bytes += size
        while len(self._cache) > self.max_items or self._bytes > self.max_bytes:
            _, (_, dropped) = self._cache.popitem(last=False)
            self._bytes -= dropped


SHARED = SharedResults()  # the app's one instance: every page handler shares it


WORKERS_ENV = "GENAI_WORKERS"


def worker_processes() -> int:
    """How many worker processes run the slow models: ``$GENAI_WORKERS``, else one per core up to two (the image
    models in one, the text and sound models in the other)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise GenAIError(f"{WORKERS_ENV}={shown_value(raw)} is not a whole number of worker processes") from None
    return max(1, min(2, os.cpu_count() or 1))


def worker_groups(registry) -> dict[str, int]:
    """Which worker runs each model the plan keeps out of the server: the image models (and the drawing tasks
    that use them) in the first, text and sound in the second, so that each worker loads only its own models."""
    return {a.id: 0 if a.modality == "image" else 1 for a in (*registry, *registry.tasks.values()) if plan(a).in_worker}


# Each worker's priority (nice), by group (``worker_groups``): the image models' worker four levels below the text
# and sound models' (weights 29 and 70). In a class the image models' requests finish well inside the 15 s target
# (the PixelCNN's 28 row steps: p95 5-6 s, the comparison 8-9 s, with both at 12) while text's 300 steps are the
# slowest; with the default diffusion request above the lowest level (``worker.SHORT_NICE``), text's p95 was
# 14.2-17.2 s in five runs with both workers at 12, 12.9-16.0 s in three with the image worker at 14, and 12.2-14.7
# s in six at 16 (the PixelCNN 7.5-8.9 s, the comparison 10.5-11.7 s; docs/serving.md).
WORKER_NICES = (16, 12)


def worker_nices(processes: int) -> list[int]:
    """The nice level of each of ``processes`` workers: ``WORKER_NICES`` by group; a lone worker (one core), or any
    beyond the groups, at the text worker's."""
    from genai_demo.worker import NICE

    if processes == 1:
        return [NICE]
    return [WORKER_NICES[i] if i < len(WORKER_NICES) else NICE for i in range(processes)]


def start_backend(registry, *, worker: bool = True, ray: str | None = None, ray_replicas: dict | None = None,
                  ray_cpus: float = 1.0):
    """Choose where the models that ``plan`` keeps out of the server run, for the app's ``SHARED``: a Ray cluster
    (``ray``: ``auto`` or a head node's address; genai_demo/serving_ray.py), else the worker process (``worker``),
    else the server itself. Returns the backend (None: the server); raises ``GenAIError`` if Ray is unreachable."""
    import atexit

    if ray:
        from genai_demo.serving_ray import RayBackend

        slow = [a for a in registry if plan(a).in_worker]
        backend = RayBackend(ray, registry.settings, replicas=ray_replicas, cpus=ray_cpus,
                             concurrency={a.id: plan(a).concurrency_limit for a in slow}).connect()
    elif worker:
        from genai_demo.worker import WorkerPool

        processes = worker_processes()
        backend = WorkerPool(registry.settings, worker_groups(registry), processes, worker_nices(processes))
        backend.start()
    else:
        return None
    atexit.register(backend.close)
    SHARED.use_worker(backend)
    return backend
