"""The GAN lab's limits and sessions: what a visitor's runs may cost, and the pictures they stream.

Bounded so that a class cannot starve the server: each run trains for at most ``BUDGET_SECONDS`` (then Reset starts
a new one), a visitor has one run training at a time (``LabSession``), and all runs together use at most ``SHARE``
of one core (``ComputeShare``), so more visitors make each run slower, never the rest of the app. Nothing here
imports gradio.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from genai_demo.refusal import Refusal
from genai_demo.lab import STRUCTURE, LabRun, validate

BUDGET_SECONDS = 60.0  # training time one run may use; then Reset starts a new one
SHARE = 0.5  # of one core, for all lab runs together (ComputeShare)
CHUNK = 10  # training steps between two checks of Pause, the budget and divergence
FRAME_EVERY = 50  # a picture is drawn at every 50th step (so the same step always gives the same picture)
MIN_FRAME_SECONDS = 0.25  # ...but at most four a second are sent to one visitor
STEP_SIZE = 50  # what the Step button trains


@dataclass
class LabFrame:
    """One picture of a run and its numbers; ``state`` is ready, training, paused, spent (the time is up) or
    diverged."""

    png: bytes
    step: int
    d_loss: float | None
    g_loss: float | None
    modes_covered: int | None
    modes: int | None
    trained_seconds: float
    state: str

    def numbers(self) -> dict:
        """Everything but the picture, for the API and the tests."""
        return {"step": self.step, "d_loss": self.d_loss, "g_loss": self.g_loss, "modes_covered": self.modes_covered,
                "modes": self.modes, "trained_seconds": round(self.trained_seconds, 2),
                "budget_seconds": BUDGET_SECONDS, "state": self.state}


def frame_of(run: LabRun, state: str) -> LabFrame:
    from genai_demo.lab_draw import draw

    def last(losses):
        return losses[-1] if losses and math.isfinite(losses[-1]) else None

    png = draw(run)
    return LabFrame(png, run.steps, last(run.d_losses), last(run.g_losses), run.coverage(),
                    len(run.toy.centres) or None, run.trained_seconds, "diverged" if run.diverged else state)


class ComputeShare:
    """All lab runs together use at most ``share`` of one core: a run computes only while it holds the slot, and
    after computing for d seconds it keeps the slot, idle, for d * (1 - share) / share more. The rest of the app
    (and the other cores) never wait for the lab."""

    def __init__(self, share: float = SHARE):
        self.share = share
        self._lock = threading.Lock()

    @contextmanager
    def slot(self):
        with self._lock:
            start = time.perf_counter()
            try:
                yield
            finally:
                time.sleep((time.perf_counter() - start) * (1 - self.share) / self.share)


GATE = ComputeShare()


class LabSession:
    """One visitor's lab: at most one run, and at most one thing training it at a time."""

    def __init__(self, gate: ComputeShare = GATE, budget: float = BUDGET_SECONDS):
        self.gate, self.budget = gate, budget
        self.run: LabRun | None = None
        self._busy = threading.Lock()
        self._pause = threading.Event()
        self.used = time.monotonic()

    @contextmanager
    def _hold(self):
        if not self._busy.acquire(blocking=False):
            raise Refusal("lab:busy")
        self.used = time.monotonic()
        try:
            yield
        finally:
            self._busy.release()

    @property
    def training(self) -> bool:
        return self._busy.locked()

    def _run_for(self, values: dict) -> LabRun:
        """The current run, retuned to ``values``, or a new one if a setting of its structure changed."""
        if self.run is None or any(self.run.values[k] != values[k] for k in STRUCTURE):
            self.run = LabRun(values)
        else:
            self.run.retune(values)
        return self.run

    def _ready(self, run: LabRun) -> None:
        if run.diverged:
            raise Refusal("lab:diverged", step=run.steps)
        if run.trained_seconds >= self.budget:
            raise Refusal("lab:spent", seconds=round(self.budget))

    def reset(self, values: dict) -> LabFrame:
        """A new run at step 0 (also after a divergence or a spent budget)."""
        values = validate(values)
        with self._hold():
            self.run = LabRun(values)
            with self.gate.slot():
                return frame_of(self.run, "ready")

    def step(self, values: dict, n: int = STEP_SIZE) -> LabFrame:
        """Train ``n`` steps, then show the run paused."""
        values = validate(values)
        with self._hold():
            run = self._run_for(values)
            self._ready(run)
            start = time.monotonic()
            try:
                for done in range(0, n, CHUNK):
                    with self.gate.slot():
                        run.train(min(CHUNK, n - done))
                    if run.diverged:
                        break
            finally:
                run.trained_seconds += time.monotonic() - start
            with self.gate.slot():
                return frame_of(run, "paused")

    def play(self, values: dict) -> Iterator[LabFrame]:
        """Train until Pause, the end of the budget or a divergence, yielding a picture every ``FRAME_EVERY`` steps
        (at most one every ``MIN_FRAME_SECONDS``), then a last one saying why it stopped. Closing the generator (the
        visitor left) stops it too."""
        values = validate(values)
        with self._hold():
            run = self._run_for(values)
            self._ready(run)
            self._pause.clear()
            sent, state = 0.0, "paused"
            before, start = run.trained_seconds, time.monotonic()
            try:
                while not self._pause.is_set():
                    if before + time.monotonic() - start >= self.budget:
                        state = "spent"
                        break
                    with self.gate.slot():
                        run.train(CHUNK - run.steps % CHUNK)
                        picture = run.steps % FRAME_EVERY == 0 and time.monotonic() - sent >= MIN_FRAME_SECONDS
                        frame = frame_of(run, "training") if picture and not run.diverged else None
                    if run.diverged:
                        break
                    if frame is not None:
                        sent = time.monotonic()
                        frame.trained_seconds = before + sent - start
                        yield frame
            finally:
                run.trained_seconds = before + time.monotonic() - start
            with self.gate.slot():
                yield frame_of(run, state)

    def pause(self) -> bool:
        """Ask a training run to stop at its next check; False if nothing is training."""
        self._pause.set()
        return self.training


class LabSessions:
    """Every visitor's lab, by an opaque key (the page's session), the least recently used dropped past ``limit``."""

    def __init__(self, limit: int = 500):
        self.limit = limit
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, LabSession] = OrderedDict()

    def get(self, key: str) -> LabSession:
        with self._lock:
            session = self._sessions.pop(key, None) or LabSession()
            self._sessions[key] = session
            for old in list(self._sessions):
                if len(self._sessions) <= self.limit:
                    break
                if not self._sessions[old].training:
                    del self._sessions[old]
            return session

    def training(self) -> int:
        with self._lock:
            return sum(s.training for s in self._sessions.values())


SESSIONS = LabSessions()
