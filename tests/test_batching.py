"""Requests that run at once share a model's steps (genai_demo/batching.py), and each gets the bytes it gets alone.

For every batched model (the Shakespeare GPT, an operator's hub text model, the chorale GPT, the PixelCNN), one
request is run alone, then inside batches of other sizes and compositions (other seeds, prompts, lengths, settings,
more rows than one chunk), and every byte it shows must be the same (``tests.test_device.digest``). The batcher
itself: late arrivals join the next step, a request that fails ends alone, a cancelled one leaves its slot at the
next step, a bad one never joins.
"""

from __future__ import annotations

import threading
import time

import pytest

from genai_demo import batching
from genai_demo.batching import Batcher, Engine, Need
from genai_demo.contract import ParameterError
from genai_demo.registry import Registry
from tests.conftest import at_once
from tests.test_device import digest
from tests.test_text import text_root, tiny_hub_model  # noqa: F401 - fixtures: a tiny Shakespeare GPT and GPT-2


def together(adapter, requests: list[dict], late: bool = False) -> list:
    """Each request in its own thread, all released at once (``late``: the first one a moment after the others, so
    that it joins them mid-way, in a later slot); the final result of each (or its exception)."""
    return at_once([lambda p=p: adapter.generate(**p) for p in requests], first_late=0.1 if late else 0.0)


def batcher_of(adapter):
    """The batchers of this adapter's model, in this process."""
    return batching.batchers(adapter.load())


def assert_same_alone_and_in_batches(adapter, probe: dict, batches: list[list[dict]], min_largest: int):
    alone = digest(adapter.generate(**probe))
    assert digest(adapter.generate(**probe)) == alone  # (and alone twice)
    for companions, late in [(c, late) for c in batches for late in (False, True)]:
        results = together(adapter, [probe, *companions], late)
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors
        assert digest(results[0]) == alone, (f"{adapter.id}: other bytes beside {len(companions)} other requests"
                                             f"{', joining late' if late else ''}")
        # Each companion too got what it gets alone (its own seed, length and settings).
        assert digest(results[-1]) == digest(adapter.generate(**companions[-1]))
    assert max(b.largest for b in batcher_of(adapter)) >= min_largest  # they did share steps


def test_shakespeare_gives_the_same_bytes_alone_and_in_any_batch(text_root):  # noqa: F811
    adapter = Registry(text_root).get("text/shakespeare")
    probe = dict(seed=3, prompt="All:\n", max_new_tokens=50, temperature=0.9)  # past its 32-token context: it slides
    others = [dict(seed=s, prompt="First Citizen:\nBefore" if s % 2 else "", max_new_tokens=10 + 9 * s,
                   temperature=0.5 + 0.1 * s, top_k=s % 5, top_p=1.0 - 0.05 * s, repetition_penalty=1.0 + 0.05 * s,
                   do_sample=s != 4) for s in range(1, 18)]  # with the probe, more than one chunk of 16
    assert_same_alone_and_in_batches(adapter, probe, [others[:1], others[:4], others], min_largest=6)


def test_a_hub_text_model_gives_the_same_bytes_alone_and_in_any_batch(tiny_hub_model):  # noqa: F811
    adapter = Registry(text_model=str(tiny_hub_model)).get("text/hf")
    probe = dict(seed=5, prompt="Speak", max_new_tokens=30)  # as a chat (the default of an instruct model)
    others = [dict(seed=s, prompt="hear me " * s, max_new_tokens=5 + 7 * s, apply_chat_template=bool(s % 2))
              for s in range(1, 7)]  # more than one chunk of 4
    assert_same_alone_and_in_batches(adapter, probe, [others[:2], others], min_largest=4)


def test_the_chorale_model_gives_the_same_bytes_alone_and_in_any_batch(tiny_weights):
    adapter = Registry(tiny_weights).get("audio/chorale")
    probe = dict(seed=1, num_bars=2)
    others = [dict(seed=s, num_bars=1 + s % 3, temperature=0.5 + 0.15 * s, forbid_parallels=bool(s % 2),
                   mode="minor" if s % 2 else "major", continue_from="BWV 0.1 (A minor)" if s == 3 else
                   "none: compose from the first bar") for s in range(2, 11)]  # nine others: two chunks of 8
    assert_same_alone_and_in_batches(adapter, probe, [others[:3], others], min_largest=5)


def test_harmonising_gives_the_same_bytes_alone_and_in_any_batch(tiny_weights):
    """A harmonised melody shares the chorale model's steps too (the soprano's slots written, not drawn)."""
    adapter = Registry(tiny_weights).get("audio/harmonise")
    probe = dict(seed=1, melody="G4 G4 A4 B4:2 A4:0.5 R:0.5 F#4 G4:3", forbid_parallels=True)
    others = [dict(seed=s, melody="C4 D4 E4:2 " * (1 + s % 3), temperature=0.5 + 0.1 * s, forbid_parallels=bool(s % 2))
              for s in range(2, 11)]  # nine others: two chunks of 8
    assert_same_alone_and_in_batches(adapter, probe, [others[:3], others], min_largest=5)


def test_the_pixelcnn_gives_the_same_bytes_alone_and_in_any_batch(tiny_weights):
    adapter = Registry(tiny_weights).get("image/autoregressive")
    probe = dict(seed=2, num_images=3, label="any")
    others = [dict(seed=9, num_images=14, label="7"), dict(seed=4, num_images=1, label="0", temperature=0.0),
              dict(seed=8, num_images=5, label="any", temperature=1.5)] + \
        [dict(seed=20 + s, num_images=16, label=str(s)) for s in range(3)]  # 68 images: two chunks of 64
    assert_same_alone_and_in_batches(adapter, probe, [others[:3], others], min_largest=3)


# -- the batcher ------------------------------------------------------------------------------------------------


class Double(Need):
    def __init__(self, x):
        self.x = x


class Doubler(Engine):
    """A toy engine: answers every need with twice its number, and remembers which requests each step held."""

    def __init__(self, delay: float = 0.005):
        self.delay, self.seen, self.left = delay, [], []

    def compute(self, work):
        time.sleep(self.delay)
        self.seen.append(len(work))
        return [need.x * 2 for _, need in work]

    def leave(self, request):
        self.left.append(request)


def count(n: int, fail_at: int | None = None):
    """A request's loop: asks for 2 * i at each step and yields it; fails at ``fail_at``."""
    for i in range(n):
        if i == fail_at:
            raise ValueError(f"request failed at step {i}")
        doubled = yield Double(i)
        yield doubled


def test_requests_join_the_next_step_and_one_failure_ends_only_its_own_request():
    batcher = Batcher(Doubler(), "toy")
    out, errors = {}, {}

    def run(name, steps):
        try:
            out[name] = list(batcher.stream(steps))
        except ValueError as e:
            errors[name] = str(e)

    threads = [threading.Thread(target=run, args=("long", count(60)))]
    threads[0].start()
    time.sleep(0.05)  # the long one is running: the others join it mid-way
    threads += [threading.Thread(target=run, args=(name, steps))
                for name, steps in (("short", count(5)), ("failing", count(30, fail_at=10)))]
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(10)
    assert out["long"] == [2 * i for i in range(60)] and out["short"] == [0, 2, 4, 6, 8]
    assert errors == {"failing": "request failed at step 10"}
    assert batcher.largest == 3 and max(batcher.engine.seen) == 3 and batcher.engine.seen[0] == 1
    assert not batcher._running  # nothing left running once every request ended


def test_a_cancelled_request_leaves_its_slot_at_the_next_step():
    engine = Doubler(delay=0.01)
    batcher = Batcher(engine, "toy")
    kept = []
    keeper = threading.Thread(target=lambda: kept.extend(batcher.stream(count(80))))
    keeper.start()
    leaving = batcher.stream(count(1000))
    assert next(leaving) == 0
    steps_before = len(engine.seen)
    leaving.close()  # Stop, or a closed tab
    for _ in range(200):
        if engine.left:
            break
        time.sleep(0.005)
    assert len(engine.left) == 1 and len(engine.seen) - steps_before <= 2  # gone at the next step
    keeper.join(10)
    assert kept == [2 * i for i in range(80)]  # the other request went on, undisturbed


def test_a_bad_request_is_refused_before_it_joins(text_root):  # noqa: F811
    adapter = Registry(text_root).get("text/shakespeare")
    adapter.generate(seed=0, max_new_tokens=2)
    before = [(b.steps, b.rows_stepped) for b in batcher_of(adapter)]
    with pytest.raises(ParameterError, match="max_new_tokens=5000 is out of range"):
        adapter.generate(seed=0, max_new_tokens=5000)
    with pytest.raises(ParameterError, match="temperature"):
        adapter.generate(seed=0, temperature=-1)
    assert [(b.steps, b.rows_stepped) for b in batcher_of(adapter)] == before


def test_a_pixelcnn_step_draws_a_whole_row_of_every_request(tiny_weights):
    """A step of the PixelCNN's batch is one row of every request's images (28 steps for a picture, not 784), and
    requests that arrive together share steps (one that comes while another draws joins it at the next row)."""
    adapter = Registry(tiny_weights).get("image/autoregressive")
    adapter.generate(seed=1, num_images=2, label="3")
    (batcher,) = batcher_of(adapter)
    steps, rows = batcher.steps, batcher.rows_stepped
    adapter.generate(seed=1, num_images=2, label="3")
    assert (batcher.steps - steps, batcher.rows_stepped - rows) == (28, 28)
    steps, rows = batcher.steps, batcher.rows_stepped
    results = together(adapter, [dict(seed=2, num_images=2, label="3"), dict(seed=3, num_images=5, label="4")])
    assert not [r for r in results if isinstance(r, Exception)]
    shared = batcher.rows_stepped - rows - (batcher.steps - steps)  # steps that both requests took part in
    assert 28 <= batcher.steps - steps < 56 and shared > 0


def test_through_the_app_students_writing_at_once_get_what_each_gets_alone(app_url):
    """Four students ask the launched app for text at the same moment: the worker runs them in one batch, and each
    text is the one the model writes for that request alone (here, in this process)."""
    from gradio_client import Client

    requests = [dict(prompt=prompt, max_new_tokens=60, seed=seed, temperature=0.8)
                for prompt, seed in (("ROMEO:\n", 41), ("JULIET:\n", 42), ("", 43), ("KING", 44))]
    clients = [Client(app_url, verbose=False) for _ in requests]
    texts = at_once([lambda c=c, r=r: c.predict(**r, api_name="/text_shakespeare")[0]
                     for c, r in zip(clients, requests)])
    shipped = Registry().get("text/shakespeare")
    assert texts == [shipped.generate(**r).text for r in requests]
