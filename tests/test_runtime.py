"""The low-priority lane that runs the heavy models' work."""

from __future__ import annotations

import os
import threading
import time

import pytest

from genai_demo.contract import ParameterError
from genai_demo.runtime import Lane


def test_lane_yields_in_order_on_its_own_lower_priority_thread():
    lane = Lane("test-lane", nice=5)
    seen = []

    def work():
        for i in range(5):
            seen.append((threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
            yield i

    assert list(lane.stream(work)) == [0, 1, 2, 3, 4]
    assert {name for name, _ in seen} == {"test-lane"}
    if lane.reniced:
        assert {nice for _, nice in seen} == {os.getpriority(os.PRIO_PROCESS, 0) + 5}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.getpriority(os.PRIO_PROCESS, 0)


def test_lane_raises_the_works_errors_and_goes_on_serving():
    lane = Lane("test-lane-errors")

    def bad():
        yield 1
        raise ParameterError("seed=-1 is out of range")

    with pytest.raises(ParameterError, match="seed=-1"):
        list(lane.stream(bad))
    assert list(lane.stream(lambda: iter([7]))) == [7]


def test_closing_the_stream_stops_the_work_at_its_next_item():
    lane = Lane("test-lane-cancel")
    produced, closed = [], threading.Event()

    def slow():
        try:
            for i in range(100):
                produced.append(i)
                time.sleep(0.02)
                yield i
        finally:
            closed.set()

    stream = lane.stream(slow)
    assert next(stream) == 0
    stream.close()
    assert closed.wait(5)
    assert len(produced) < 10
