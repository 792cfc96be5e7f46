"""Continuous batching: requests for the same step-by-step model share its steps.

Why: the text GPT, the chorale GPT and the PixelCNN run a small network hundreds of times per request, and on a CPU
each of those passes costs mostly fixed overhead (Python, the framework, memory traffic), not arithmetic: eight
sequences advance by one token in little more than the time of one (``bench/batching.py`` has the figures). So
when a class asks for text at once, one pass per step for everyone beats one pass per step per student.

How: each request's sampling loop is written as a coroutine (a generator) that yields what it needs from the
network (``Need``: "the logits after these tokens", "the next row of pixels") and, between needs, its own outputs
(a drawn token, a finished row). One thread per model and process (``Batcher``) runs steps: at each step it admits
the requests that arrived (continuous batching: no gathering window; a newcomer joins at the very next step; a
PixelCNN step is a whole row), drops those whose visitor left (Stop, a closed tab:
their slot is free at the next step), computes every remaining request's need in one batched call
(``Engine.compute``, written next to the model) and sends each request its answer. The request's own thread
reads its outputs as a plain iterator (``Batcher.stream``), so an adapter's code does not change: a request
alone is a batch of one.

Each request keeps its own everything: its validated parameters, its prompt and length (a request ends when its
own loop ends), and its private ``torch.Generator``: its draws come from that generator only (inside its own
coroutine; the PixelCNN's step draws each request's pixels with the generator its need carries), never from the
global RNG and never from another request's generator. A request that fails inside its own loop ends with its
error and the others go on; bad parameters never get this far (the contract refuses them before a request
joins).

Same bytes alone or in any batch: a CPU matrix product rounds differently for different numbers of rows (one row
takes another kernel than two, and sixteen another blocking than four), so an engine never runs a batch of
whatever size it has: it computes in chunks of exactly ``Engine.width`` rows, padding the last one, and on this
CPU a row's result at a fixed width does not depend on the other rows or on its place among them
(``tests/test_batching.py`` checks every batched model alone and inside batches of other sizes and
compositions).

The entry point for the serving layer, the CLI or a Ray deployment is unchanged: ``adapter.stream(**values)``
from as many threads as there are requests; requests that run at once in one process batch by themselves.
"""

from __future__ import annotations

import queue
import threading
import weakref
from typing import Any, Callable, Generator, Iterator


class Need:
    """What a request's coroutine asks of the network at one step (subclassed next to each model)."""


class Engine:
    """A model's batched step: computes every active request's ``Need`` at once. Subclassed next to the model."""

    width: int = 8  # rows per chunk: every batched call runs exactly this many rows (padded), whatever the load

    def compute(self, work: list[tuple[object, Need]]) -> list[Any]:
        """The answer to each (request, need), in order. ``request`` is an opaque key for per-request state."""
        raise NotImplementedError

    def leave(self, request: object) -> None:
        """Forget a request's state (its cache slot): it finished, failed or was cancelled."""


class _Request:
    def __init__(self, coroutine: Generator):
        self.coroutine = coroutine
        self.outbox: queue.Queue = queue.Queue()
        self.cancelled = threading.Event()
        self.need: Need | None = None


_END = object()


class Batcher:
    """Runs the steps of every request for one model in one thread; ``stream`` is how a request takes part."""

    def __init__(self, engine: Engine, name: str = "batch"):
        self.engine = engine
        self.name = name
        self._lock = threading.Lock()
        self._arrived: list[_Request] = []
        self._running = False
        self.steps = 0  # batched steps run (for the benchmark and the tests)
        self.rows_stepped = 0  # requests advanced, summed over steps: rows_stepped / steps is the mean batch
        self.largest = 0  # the most requests in one step

    def stream(self, coroutine: Generator) -> Iterator:
        """Run ``coroutine`` with the others and yield its outputs as they come; closing this iterator (the
        visitor left) drops the request at the next step. Raises the request's own error."""
        request = _Request(coroutine)
        with self._lock:
            self._arrived.append(request)
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name=f"batch-{self.name}", daemon=True).start()
        finished = False
        try:
            while True:
                kind, value = request.outbox.get()
                if kind is _END:
                    finished = True
                    return
                if kind == "error":
                    finished = True
                    raise value
                yield value
        finally:
            if not finished:
                request.cancelled.set()

    # -- the loop -------------------------------------------------------------------------------------------------

    def _advance(self, request: _Request, answer: Any) -> bool:
        """Send the answer into the request's loop and collect its outputs up to its next need; False once it ended."""
        try:
            value = request.coroutine.send(answer)
            while not isinstance(value, Need):
                request.outbox.put(("item", value))
                value = next(request.coroutine)
            request.need = value
            return True
        except StopIteration:
            request.outbox.put((_END, None))
        except Exception as e:  # its own error (its loop failed): the others go on
            request.outbox.put(("error", e))
        return False

    def _loop(self) -> None:
        active: list[_Request] = []
        try:
            while True:
                with self._lock:
                    if not active and not self._arrived:
                        self._running = False
                        return
                    joining, self._arrived = self._arrived, []
                active += [r for r in joining if not r.cancelled.is_set() and self._advance(r, None)]
                for r in [r for r in active if r.cancelled.is_set()]:  # the visitor left: free the slot now
                    active.remove(r)
                    self._end(r)
                if not active:
                    continue
                try:
                    answers = self.engine.compute([(r, r.need) for r in active])
                except Exception as e:  # the batched call itself failed: every request in it gets the error
                    for r in active:
                        r.outbox.put(("error", e))
                        self._end(r)
                    active = []
                    continue
                self.steps += 1
                self.rows_stepped += len(active)
                self.largest = max(self.largest, len(active))
                still = []
                for r, answer in zip(active, answers):
                    if self._advance(r, answer):
                        still.append(r)
                    else:
                        self.engine.leave(r)
                active = still
        except BaseException as e:  # a bug in the loop itself: nobody may wait forever
            with self._lock:
                stranded, self._arrived, self._running = active + self._arrived, [], False
            for r in stranded:
                r.outbox.put(("error", e))
            raise

    def _end(self, request: _Request) -> None:
        self.engine.leave(request)
        request.coroutine.close()


_SHARED: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared(model: object, key: Any, make_engine: Callable[[], Engine], name: str = "batch") -> Batcher:
    """The one ``Batcher`` of this process for ``model`` (and ``key``: the engine's settings), made on first use;
    every request for that model in this process joins it."""
    with _SHARED_LOCK:
        batchers = _SHARED.setdefault(model, {})
        if key not in batchers:
            batchers[key] = Batcher(make_engine(), name)
        return batchers[key]


def batchers(model: object) -> list[Batcher]:
    """This process's batchers for a loaded model (for a loaded text model, its network's): their counters show
    how many requests shared each step (the tests and ``bench/batching.py`` read them)."""
    for candidate in (model, getattr(model, "model", None)):
        try:
            if candidate in _SHARED:
                return list(_SHARED[candidate].values())
        except TypeError:  # unhashable (a loaded text model's record): its network is the key
            continue
    return []
