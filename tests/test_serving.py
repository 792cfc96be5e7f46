"""The same request is computed once: identical requests in flight share one run; recent results come from a cache."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from genai_demo.contract import ModelAdapter, Param, ParameterError, Result, seed_param
from genai_demo import serving
from genai_demo.serving import SharedResults, plan, result_bytes
from tests.conftest import at_once


class CountingAdapter(ModelAdapter):
    """A model with no weights that takes ``steps`` x 20 ms, streams each step, and counts its runs."""

    id = "image/counting"
    modality = "image"
    weights_files = ()
    params = (seed_param(), Param("steps", "integer", 5, "How many steps.", minimum=1, maximum=50),
              Param("fail", "toggle", False, "Raise an error half-way."))

    def __init__(self):
        super().__init__()
        self.runs = 0
        self.lock = threading.Lock()

    def _load(self, weights_dir):
        import torch

        return torch.nn.Linear(1, 1)

    def _generate(self, model, *, seed: int, steps: int, fail: bool):
        from PIL import Image

        with self.lock:
            self.runs += 1
        for i in range(steps):
            time.sleep(0.02)
            if fail and i == steps // 2:
                raise ParameterError("it failed half-way")
            yield Result(images=[Image.new("L", (4, 4), (seed * 7 + i) % 256)], done=False)
        yield Result(images=[Image.new("L", (4, 4), seed % 256)], text=f"seed {seed}")


def wait_for_followers(shared, n: int) -> None:
    for _ in range(1000):
        if any(run.followers >= n for run in list(shared._runs.values())):
            return
        time.sleep(0.01)
    raise AssertionError("nobody followed the run")


def run_together(shared, adapter, requests: list[dict]) -> list:
    """Each request in its own thread, all at once; what each got at the end (a Result or an exception)."""

    def last(params):
        result = None
        for result in shared.stream(adapter, params):
            pass
        return result

    return at_once([lambda p=p: last(p) for p in requests], timeout=30)


def test_thirty_identical_requests_are_computed_once_and_get_the_same_bytes():
    shared, adapter = SharedResults(), CountingAdapter()
    results = run_together(shared, adapter, [{"seed": 3, "steps": 10}] * 30)
    assert adapter.runs == 1 and shared.computed == 1
    assert all(isinstance(r, Result) and r.done for r in results)
    assert {r.images[0].tobytes() for r in results} == {adapter.generate(seed=3, steps=10).images[0].tobytes()}
    # Afterwards, the same request is served from the cache without running the model.
    before = adapter.runs
    assert list(shared.stream(adapter, {"seed": 3, "steps": 10}))[-1].text == "seed 3"
    assert adapter.runs == before and shared.served_from_cache == 1


def test_followers_see_the_intermediate_steps_too():
    shared, adapter = SharedResults(), CountingAdapter()
    seen = []
    leader = shared.stream(adapter, {"seed": 1, "steps": 20})
    next(leader)  # the leader has started
    follower = threading.Thread(target=lambda: seen.extend(shared.stream(adapter, {"seed": 1, "steps": 20})))
    follower.start()
    wait_for_followers(shared, 1)
    for _ in leader:
        pass
    follower.join(10)
    assert adapter.runs == 1 and len(seen) >= 2 and not seen[0].done and seen[-1].done


def test_followers_get_intermediate_steps_at_their_own_slower_pace(monkeypatch):
    """A follower gets an intermediate result at most every FOLLOW_INTERVAL (the server prepares each update for
    each visitor), then always the final one; the leader gets every step."""
    from genai_demo import serving

    monkeypatch.setattr(serving, "FOLLOW_INTERVAL", 60.0)
    shared, adapter = SharedResults(), CountingAdapter()
    leader = shared.stream(adapter, {"seed": 2, "steps": 20})
    led = [next(leader)]
    seen = []
    follower = threading.Thread(target=lambda: seen.extend(shared.stream(adapter, {"seed": 2, "steps": 20})))
    follower.start()
    wait_for_followers(shared, 1)
    led += list(leader)
    follower.join(10)
    assert len(led) == 21 and [r.done for r in seen] == [False, True] and seen[-1] is led[-1]


def test_different_seeds_or_settings_run_separately():
    shared, adapter = SharedResults(), CountingAdapter()
    results = run_together(shared, adapter, [{"seed": s, "steps": 3} for s in range(5)] + [{"seed": 0, "steps": 4}])
    assert adapter.runs == 6 and len({r.text for r in results}) == 5


def test_an_error_reaches_every_follower_and_is_not_cached():
    shared, adapter = SharedResults(), CountingAdapter()
    results = run_together(shared, adapter, [{"seed": 2, "steps": 10, "fail": True}] * 5)
    assert adapter.runs == 1 and all(isinstance(r, ParameterError) and "half-way" in str(r) for r in results)
    run_together(shared, adapter, [{"seed": 2, "steps": 10, "fail": True}])
    assert adapter.runs == 2  # tried again, not served from a cache


def test_a_bad_request_is_refused_before_it_joins_anything():
    shared, adapter = SharedResults(), CountingAdapter()
    with pytest.raises(ParameterError, match="steps=500 is out of range"):
        next(shared.stream(adapter, {"steps": 500}))
    assert shared.computed == 0 and adapter.runs == 0


def test_a_visitor_who_leaves_hands_the_run_on():
    shared, adapter = SharedResults(), CountingAdapter()
    leader = shared.stream(adapter, {"seed": 4, "steps": 25})
    next(leader)
    got = []
    follower = threading.Thread(target=lambda: got.append(list(shared.stream(adapter, {"seed": 4, "steps": 25}))[-1]))
    follower.start()
    wait_for_followers(shared, 1)
    leader.close()  # Stop, or a closed tab
    follower.join(20)
    assert got and got[0].done and got[0].text == "seed 4"
    assert adapter.runs == 2  # the follower ran it again from the start


def test_the_cache_is_bounded_in_entries_and_bytes():
    adapter = CountingAdapter()
    shared = SharedResults(max_items=3)
    for seed in range(6):
        list(shared.stream(adapter, {"seed": seed, "steps": 1}))
    assert len(shared._cache) == 3
    one = result_bytes(adapter.generate(seed=0, steps=1))
    shared = SharedResults(max_bytes=2 * one + one // 2)
    for seed in range(6):
        list(shared.stream(adapter, {"seed": seed, "steps": 1}))
    assert len(shared._cache) == 2 and shared.cached_bytes <= shared.max_bytes


class HeldAdapter(CountingAdapter):
    """A quick model (the default estimate, 0 s) whose requests wait for ``release`` before they draw."""

    id = "image/held"

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def _generate(self, model, **values):
        self.release.wait(20)
        yield from super()._generate(model, **values)


class SlowCountingAdapter(CountingAdapter):
    """Declared slow: what the serving layer plans as not quick."""

    id = "image/slow-counting"

    def estimate_seconds(self, values: dict) -> float:
        return 5.0


def quick_one_running(shared, quick) -> threading.Thread:
    """A quick request running in a thread of its own, held before it draws until ``quick.release`` is set."""
    thread = threading.Thread(target=lambda: list(shared.stream(quick, {"seed": 1, "steps": 1})))
    thread.start()
    for _ in range(1000):
        if shared._quick == 1:
            return thread
        time.sleep(0.01)
    raise AssertionError("the quick request never started")


def test_a_slower_request_starts_after_the_quick_ones_running(monkeypatch):
    """When a class clicks at once, the GAN's and VAE's requests go first: any other request waits for those running
    in the process before it starts (and then runs as usual)."""
    monkeypatch.setattr(serving, "QUICK_FIRST_WAIT", 20.0)
    shared, quick, slow = SharedResults(), HeldAdapter(), SlowCountingAdapter()
    assert plan(quick).quick and not plan(slow).quick
    assert plan(quick).concurrency_limit == serving.QUICK_AT_ONCE
    running = quick_one_running(shared, quick)
    got = []
    waiting = threading.Thread(target=lambda: got.append(list(shared.stream(slow, {"seed": 2, "steps": 1}))[-1]))
    waiting.start()
    time.sleep(0.5)
    assert slow.runs == 0 and not got  # still waiting for the quick one
    assert list(shared.stream(CountingAdapter(), {"seed": 3, "steps": 1}))[-1].done  # a quick one does not wait
    quick.release.set()
    running.join(20)
    waiting.join(20)
    assert slow.runs == 1 and got and got[0].done and got[0].text == "seed 2"
    assert shared._quick == 0


def test_a_slower_request_waits_for_quick_ones_only_so_long(monkeypatch):
    """A steady stream of quick requests never starves the others: they start after QUICK_FIRST_WAIT at most."""
    monkeypatch.setattr(serving, "QUICK_FIRST_WAIT", 0.3)
    shared, quick, slow = SharedResults(), HeldAdapter(), SlowCountingAdapter()
    running = quick_one_running(shared, quick)
    try:
        started = time.monotonic()
        result = list(shared.stream(slow, {"seed": 4, "steps": 1}))[-1]
        waited = time.monotonic() - started
        assert result.done and slow.runs == 1 and quick.runs == 0  # the quick one is still held
        assert 0.3 <= waited < 10
    finally:
        quick.release.set()
        running.join(20)
    assert quick.runs == 1 and shared._quick == 0


def test_a_quick_request_that_fails_or_is_left_still_lets_the_others_start(monkeypatch):
    """The count of quick requests running comes back down when one raises or its visitor leaves."""
    monkeypatch.setattr(serving, "QUICK_FIRST_WAIT", 20.0)
    shared, quick = SharedResults(), CountingAdapter()
    with pytest.raises(ParameterError):
        list(shared.stream(quick, {"seed": 5, "steps": 4, "fail": True}))
    left = shared.stream(quick, {"seed": 6, "steps": 25})
    next(left)
    assert shared._quick == 1
    left.close()
    assert shared._quick == 0
    started = time.monotonic()
    assert list(shared.stream(SlowCountingAdapter(), {"seed": 7, "steps": 1}))[-1].done
    assert time.monotonic() - started < 5


def test_a_batched_model_with_long_requests_gets_a_lane_of_one_chunk():
    """A batched step costs a whole chunk, used or not: the text GPT's requests (300 steps) run one chunk's worth at
    once, so a 17th text waits for a slot instead of doubling every text's steps in a second chunk; the shorter
    PixelCNN and chorale requests get two chunks' worth."""
    from genai_demo.registry import Registry

    registry = Registry()
    text, pixels, chorale = (registry.get(m) for m in ("text/shakespeare", "image/autoregressive", "audio/chorale"))
    assert text.estimate_seconds(text.validate({})) > serving.LONG_BATCHED_SECONDS
    assert plan(text).concurrency_limit == text.shares_steps == 16
    for adapter in (pixels, chorale):
        assert adapter.estimate_seconds(adapter.validate({})) <= serving.LONG_BATCHED_SECONDS
        assert plan(adapter).concurrency_limit == serving.BATCH_CHUNKS * adapter.shares_steps


def test_shared_results_are_byte_identical_to_running_alone(tiny_weights):
    """A real model: what a crowd gets from one shared run is what one visitor alone gets."""
    from genai_demo.registry import Registry

    gan = Registry(tiny_weights).get("image/gan")
    alone = [im.tobytes() for im in gan.generate(seed=9, num_images=4).images]
    shared = SharedResults()
    results = run_together(shared, gan, [{"seed": 9, "num_images": 4}] * 8)
    assert shared.computed == 1
    assert all([im.tobytes() for im in r.images] == alone for r in results)


def test_a_serving_process_runs_torch_on_one_thread_unless_told():
    """The served app's processes default to one torch thread (the class's requests fill the cores side by side);
    GENAI_THREADS still wins, and the CLI's default (every core) is unchanged."""
    import subprocess

    probe = ("from genai_demo import runtime; {}; runtime.configure_torch(); import torch; "
             "print(torch.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if k != "GENAI_THREADS"}

    def threads(setup: str, **extra) -> int:
        out = subprocess.run([sys.executable, "-c", probe.format(setup)], env={**env, **extra}, capture_output=True,
                             text=True, timeout=120, check=True)
        return int(out.stdout.strip())

    assert threads("runtime.configure_for_serving()") == 1
    assert threads("runtime.configure_for_serving()", GENAI_THREADS="2") == 2
    assert threads("pass") == (os.cpu_count() or 1)


def test_a_serving_process_has_gradio_summarise_its_queue_rarely():
    """Gradio recomputes its queue's summary (a pandas table of past events) after every event unless told: 2-8 ms of
    the server's interpreter per request. A serving process asks for it every ``GRADIO_SUMMARY_EVERY`` events; an
    operator's own setting wins."""
    import subprocess

    probe = ("from genai_demo import runtime; runtime.configure_for_serving(); import gradio as gr; "
             "demo = gr.Blocks(); demo.queue(); print(demo._queue.ANAYLTICS_CACHE_FREQUENCY)")
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_ANALYTICS_CACHE_FREQUENCY"}

    def every(**extra) -> int:
        out = subprocess.run([sys.executable, "-c", probe], env={**env, **extra}, capture_output=True, text=True,
                             timeout=120, check=True)
        return int(out.stdout.strip().splitlines()[-1])

    from genai_demo.runtime import GRADIO_SUMMARY_EVERY

    assert GRADIO_SUMMARY_EVERY > 1 and every() == GRADIO_SUMMARY_EVERY
    assert every(GRADIO_ANALYTICS_CACHE_FREQUENCY="7") == 7


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc pools")
def test_a_serving_process_keeps_few_malloc_pools(tmp_path):
    """Threads allocating at once in a serving process share at most two of glibc's pools (a class's requests left
    the app 297 MB larger with the default, up to 16 pools here, and 148 MB with two)."""
    import subprocess

    probe = f"""
import ctypes, sys, threading
from genai_demo import runtime
if sys.argv[1] == "serving":
    runtime.configure_for_serving()
together = threading.Barrier(8)
def churn():
    blocks = [bytearray(100_000) for _ in range(20)]
    together.wait()  # all eight alive at once, whatever the machine's load (an ended thread hands its pool on)
threads = [threading.Thread(target=churn) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
f = libc.fopen(b"{tmp_path}/" + sys.argv[1].encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(f)); libc.fclose(ctypes.c_void_p(f))
"""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    for mode in ("serving", "plain"):
        subprocess.run([sys.executable, "-c", probe, mode], env=env, check=True, timeout=120)
    pools = {mode: (tmp_path / mode).read_text().count("<heap nr=") for mode in ("serving", "plain")}
    assert pools["serving"] <= 2 < pools["plain"], pools
