"""The worker process that runs the slow models: same results as in the server, the same clear errors, a visitor
who leaves stops the work there, a killed worker ends its requests with one line and is replaced, lower priority."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from genai_demo.contract import GenAIError, ModelUnavailable, ParameterError, UnknownModel
from genai_demo.registry import Registry
from genai_demo.serving import SharedResults
from genai_demo.worker import ALONE_NICE, NICE, SHORT_NICE, Worker, WorkerError, thread_nice
from tests.conftest import ROOT

SLOW_DIFFUSION = dict(seed=0, num_images=2, label="any", scheduler="DDPM", num_inference_steps=1000)


class Served:
    """A registry whose slow models the serving layer runs in a worker (no cache: every request runs)."""

    def __init__(self, registry, worker):
        self.registry, self.shared = registry, SharedResults(max_items=0)
        self.shared.use_worker(worker)

    def get(self, model_id):
        return Through(self.registry.get(model_id), self.shared)

    def __iter__(self):
        return iter(self.registry)


class Through:
    """An adapter as the page's handlers reach it: through the serving layer."""

    def __init__(self, adapter, shared):
        self.adapter, self.shared = adapter, shared

    def stream(self, **params):
        return self.shared.stream(self.adapter, params)

    def generate(self, **params):
        result = None
        for result in self.stream(**params):
            pass
        return result


@pytest.fixture(scope="module")
def served(tiny_weights):
    """The served registry, the worker, and a plain registry on the same weights."""
    worker = Worker(Registry(tiny_weights).settings)
    yield Served(Registry(tiny_weights), worker), worker, Registry(tiny_weights)
    worker.close()


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_only_the_slow_models_are_sent_to_the_worker(served):
    registry, worker, _ = served
    sent = {a.id for a in registry if registry.shared.runs_in_worker(a)}
    assert sent == {"image/diffusion", "image/autoregressive", "audio/chorale", "audio/harmonise", "text/shakespeare"}
    assert not registry.shared.runs_in_worker(registry.registry.get("image/gan"))


@pytest.mark.parametrize("model_id, params", [
    ("image/diffusion", dict(seed=3, num_images=2, label="5", num_inference_steps=4)),
    ("image/autoregressive", dict(seed=3, num_images=1, label="2")),
    ("audio/chorale", dict(seed=3, num_bars=2, mode="minor")),
])
def test_the_worker_gives_what_the_server_would(served, model_id, params):
    registry, _, local = served
    there, here = registry.get(model_id).generate(**params), local.get(model_id).generate(**params)
    assert len(there.images) == len(here.images)
    for a, b in zip(there.images, here.images):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert there.files == here.files
    assert (there.audio is None) == (here.audio is None)
    if there.audio is not None:
        assert there.audio[0] == here.audio[0] and np.array_equal(there.audio[1], here.audio[1])
    assert [f["label"] for f in there.process] == [f["label"] for f in here.process]
    assert there.info["params"] == here.info["params"] and there.info["model"] == model_id
    assert there.info["parameters"] == here.info["parameters"] > 0


def test_streaming_through_the_worker_yields_steps_then_the_final_result(served):
    registry, _, _ = served
    results = list(registry.get("image/diffusion").stream(seed=1, num_images=1, scheduler="DPM-Solver++",
                                                       num_inference_steps=20))
    assert results[-1].done and all(not r.done for r in results[:-1])
    assert len(results) >= 2  # the first step is sent at once, the rest at most every 0.05 s


def test_errors_in_the_worker_reach_the_server_as_the_same_one_line_errors(served):
    registry, worker, _ = served
    with pytest.raises(ParameterError, match=r"num_bars=0 is out of range: expected an integer from 1 to 24"):
        next(worker.stream("audio/chorale", {"num_bars": 0}))  # what the server checks, checked again there
    with pytest.raises(UnknownModel, match="unknown model 'image/nope'"):
        next(worker.stream("image/nope", {}))
    with pytest.raises(ParameterError, match="num_images=99"):
        registry.get("image/diffusion").generate(num_images=99)  # the server's own check: nothing is sent
    assert registry.get("audio/chorale").generate(num_bars=1).info["model"] == "audio/chorale"


def test_broken_weights_in_the_worker_are_one_line_with_the_fix(tiny_weights, tmp_path):
    root = tmp_path / "weights"
    shutil.copytree(tiny_weights / "audio-chorale", root / "audio-chorale")
    (root / "audio-chorale" / "model.safetensors").write_bytes(b"not a checkpoint")
    worker = Worker(dict(weights_root=str(root)))
    try:
        with pytest.raises(ModelUnavailable, match="audio/chorale is unavailable: .*broken.*retrain them with"):
            worker.load("audio/chorale")
        with pytest.raises(ModelUnavailable):
            next(worker.stream("audio/chorale", {"num_bars": 1}))
    finally:
        worker.close()


def test_a_visitor_who_leaves_stops_the_work_in_the_worker(served):
    registry, worker, _ = served
    stream = registry.get("image/diffusion").stream(**SLOW_DIFFUSION)
    first = next(stream)
    assert not first.done and worker.running() == 1
    stream.close()  # what Gradio does when the visitor disconnects or presses Stop
    assert wait_until(lambda: worker.running() == 0), "the worker went on computing for nobody"
    assert registry.get("image/diffusion").generate(seed=1, num_images=1, num_inference_steps=2).done


def test_a_killed_worker_ends_its_requests_with_one_line_and_the_next_request_starts_a_new_one(served):
    registry, worker, _ = served
    stream = registry.get("image/diffusion").stream(**SLOW_DIFFUSION)
    next(stream)
    pid = worker.pid
    os.kill(pid, 9)
    with pytest.raises(WorkerError, match=r"the process running the slow models stopped \(exit code -9\); please try "
                                          "again") as caught:
        for _ in stream:
            pass
    assert isinstance(caught.value, GenAIError)  # the UI shows it as one line
    result = registry.get("audio/chorale").generate(seed=0, num_bars=1)
    assert result.done and worker.pid not in (None, pid)


def test_the_worker_runs_below_the_servers_priority(served):
    _, worker, _ = served
    worker.running()  # started and answering: it has set its priority
    assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICE)


def thread_nices(pid: int) -> dict[int, int]:
    """The nice level of each thread of a process, by thread id (field 19 of /proc/PID/task/TID/stat)."""
    nices = {}
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            nices[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[16])
        except (OSError, IndexError, ValueError):  # the thread ended meanwhile
            continue
    return nices


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread priorities are Linux's")
def test_a_request_computed_alone_runs_below_the_batches(served):
    """In the worker, a thread that computes one request alone (diffusion) drops to the lowest priority, while a
    batched model's threads (the chorale's: one thread steps every piece) keep the worker's."""
    registry, worker, _ = served
    base = min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICE)
    alone = max(base, ALONE_NICE)
    stream = registry.get("image/diffusion").stream(**SLOW_DIFFUSION)
    next(stream)  # the first step is back: the request's thread is computing the second
    during_diffusion = thread_nices(worker.pid)
    stream.close()
    chorale = registry.get("audio/chorale").stream(seed=3, num_bars=8)
    next(chorale)
    during_chorale = thread_nices(worker.pid)
    chorale.close()
    assert alone > base and alone in during_diffusion.values() and base in during_diffusion.values()
    new = {tid: nice for tid, nice in during_chorale.items() if tid not in during_diffusion}
    assert len(new) >= 2 and set(new.values()) == {base}  # the chorale request's thread and its batch's
    deadline = time.time() + 30
    while worker.running() and time.time() < deadline:  # both cancelled requests have ended there
        time.sleep(0.05)


def test_a_short_request_computed_alone_runs_between_the_batches_and_a_long_one():
    """The default diffusion request (4 steps, 0.4 s) runs just below the batches; the teacher's 20 steps with
    guidance (3.4 s), DDPM's 1,000 and a request of unknown cost at the lowest level; batched models keep the
    worker's."""
    registry = Registry()
    diffusion = registry.get("image/diffusion")
    assert NICE < SHORT_NICE < ALONE_NICE
    assert thread_nice(diffusion, diffusion.validate({})) == SHORT_NICE
    assert thread_nice(diffusion, diffusion.validate({"num_images": 4})) == SHORT_NICE  # a comparison's part
    assert thread_nice(diffusion, diffusion.validate(diffusion.TEACHER_SETTINGS)) == ALONE_NICE
    assert thread_nice(diffusion, diffusion.validate(SLOW_DIFFUSION)) == ALONE_NICE
    for batched in ("text/shakespeare", "audio/chorale", "image/autoregressive"):
        adapter = registry.get(batched)
        assert thread_nice(adapter, adapter.validate({})) is None

    class Unknown:
        shares_steps = 0

        def estimate_seconds(self, values):
            return None

    assert thread_nice(Unknown(), {}) == ALONE_NICE


def test_the_worker_ends_when_the_server_is_killed(tiny_weights):
    server = subprocess.Popen([sys.executable, "-c", "import sys, time; from genai_demo.worker import Worker; "
                               f"w = Worker(dict(weights_root={str(tiny_weights)!r})); w.start(); print(w.pid, flush=True); "
                               "time.sleep(600)"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pid = int(server.stdout.readline())
        assert Path(f"/proc/{pid}").exists()
        server.kill()  # no clean-up code runs: the worker only sees its connection end
        server.wait(10)
        assert wait_until(lambda: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
                          .rsplit(")", 1)[1].split()[0]), "the worker outlived the server"
    finally:
        server.kill()


def test_loading_a_model_puts_the_long_lived_heap_out_of_the_collectors_reach(tiny_weights):
    import gc

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    adapter = Registry(tiny_weights).get("image/gan")
    adapter.load()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the model, torch and everything imported so far
    assert adapter.generate(num_images=2).done
    gc.collect()  # later garbage is still collected, and the frozen objects stay frozen
    # (a few frozen objects may meanwhile lose their last reference, held by an earlier test's threads as they end;
    # a collection that unfroze them would leave none)
    assert frozen - 100 <= gc.get_freeze_count() <= frozen


def test_a_pool_runs_the_image_models_in_one_worker_and_text_and_sound_in_another(tiny_weights, monkeypatch):
    """Two worker processes, each starting with its first request and loading only its own models: the image
    models in the first, text and sound in the second; what comes back is what the model gives here."""
    from genai_demo.serving import worker_groups, worker_nices, worker_processes
    from genai_demo.worker import WorkerPool

    registry = Registry(tiny_weights)
    groups = worker_groups(registry)
    assert groups["image/diffusion"] == groups["image/autoregressive"] == groups["draw/complete"] == 0
    assert groups["audio/chorale"] == 1 and "image/gan" not in groups  # the GAN stays in the server
    monkeypatch.setenv("GENAI_WORKERS", "3")
    assert worker_processes() == 3
    monkeypatch.setenv("GENAI_WORKERS", "two")
    with pytest.raises(GenAIError, match="GENAI_WORKERS='two' is not a whole number"):
        worker_processes()
    nices = worker_nices(2)
    assert nices[0] > nices[1] == NICE and worker_nices(1) == [NICE]  # the image worker below text and sound's
    pool = WorkerPool(dict(weights_root=str(tiny_weights)), groups, 2, nices)
    try:
        values = registry.get("image/autoregressive").validate(dict(seed=3, num_images=2))
        *_, final = pool.stream("image/autoregressive", values)
        assert pool.pids[0] is not None and pool.pids[1] is None  # the sound worker has not started
        assert [im.tobytes() for im in final.images] == \
            [im.tobytes() for im in registry.get("image/autoregressive").generate(**values).images]
        chorale = registry.get("audio/chorale").validate(dict(seed=1, num_bars=1))
        *_, piece = pool.stream("audio/chorale", chorale)
        assert None not in pool.pids and pool.pids[0] != pool.pids[1]
        base = os.getpriority(os.PRIO_PROCESS, 0)
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pool.pids] == [min(19, base + n) for n in nices]
        assert np.array_equal(piece.audio[1], registry.get("audio/chorale").generate(**chorale).audio[1])
        assert pool.running() == 0
    finally:
        pool.close()
    assert pool.pids == [None, None]


def test_process_frames_cross_once_and_arrive_whole():
    """The worker sends each process frame once (only those added since the last update); the server rebuilds the
    whole list for every update; a result with another list is sent whole."""
    from genai_demo.contract import Result
    from genai_demo.worker import FrameDeltas

    frames, worker_side, server_side = [], FrameDeltas(), FrameDeltas()
    shipped, rebuilt = 0, []
    for n in range(1, 8):
        frames.append({"label": f"token {n}"})
        result, start = worker_side.pack(Result(text="x" * n, process=frames, done=n == 7))
        shipped += len(result.process)
        rebuilt.append(server_side.unpack(result, start).process)
    assert shipped == 7 and rebuilt[-1] == frames and [len(r) for r in rebuilt] == list(range(1, 8))
    assert rebuilt[2] == frames[:3]  # an earlier update keeps the frames it had
    other = [{"label": "summary"}]
    result, start = worker_side.pack(Result(process=other))
    assert start == 0 and server_side.unpack(result, start).process == other
    assert server_side.unpack(5) == 5  # a reply that is not a result


def test_a_piece_through_the_worker_has_every_frame_of_a_local_run(served):
    registry, _, plain = served
    params = dict(seed=4, num_bars=4)
    streamed = list(registry.get("audio/chorale").stream(**params))
    local = plain.get("audio/chorale").generate(**params)

    def frames(result) -> list:
        return [(str(f["label"]), [im.tobytes() for im in f["images"].values()]) for f in result.process]

    assert len(streamed) >= 2 and len(local.process) >= 2
    assert frames(streamed[-1]) == frames(local)
    for update in streamed:  # each update has all its frames so far
        assert frames(update) == frames(local)[:len(update.process)]
