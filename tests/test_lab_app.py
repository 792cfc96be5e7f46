"""The GAN lab and the quiz through the launched app (gradio_client): the same runs as the page, the same bytes for
the same seed, one line for each bad input, and class totals that survive 30 visitors answering at once."""

from __future__ import annotations

import re
import threading
import time

import pytest
from gradio_client import Client

from genai_demo import lab

LAB = dict(seed=3, distribution="ring", lr_g=0.001, lr_d=0.001, d_steps=1, noise_size=2, width=16, optimizer="adam")


@pytest.fixture(scope="module")
def client(app_url):
    return visitor(app_url)


def lab_args(values: dict) -> list:
    """The lab's endpoints are not listed in the API page (they are not models), so they are called by position."""
    return [values[p.name] for p in lab.PARAMS]


def visitor(app_url: str) -> Client:
    return Client(app_url, verbose=False, download_files=False, ssl_verify=False)


def test_the_endpoints_are_callable_but_not_listed_beside_the_models(client):
    listed = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert not [name for name in listed if name.startswith(("/lab_", "/quiz_"))]


def test_reset_step_train_and_pause_drive_one_run(client):
    picture, status, numbers = client.predict(*lab_args(LAB), api_name="/lab_reset")
    assert numbers["step"] == 0 and numbers["state"] == "ready" and numbers["modes"] == 8
    assert picture.startswith('<img src="data:image/png;base64,') and "Ready" in status
    _, _, numbers = client.predict(*lab_args(LAB), api_name="/lab_step")
    assert numbers["step"] == 50 and numbers["state"] == "paused" and numbers["d_loss"] > 0
    job = client.submit(*lab_args(LAB), api_name="/lab_train")
    deadline = time.time() + 60
    while len(job.outputs()) < 1 and time.time() < deadline:  # a first picture while training
        time.sleep(0.1)
    assert job.outputs() and job.outputs()[0][2]["state"] == "training"
    with pytest.raises(Exception, match="already training: press Pause first"):  # one run at a time
        client.predict(*lab_args(LAB), api_name="/lab_step")
    assert client.predict(api_name="/lab_pause") is True
    final = job.result(timeout=60)[2]
    assert final["state"] == "paused" and final["step"] > 50 and final["step"] % 10 == 0
    assert client.predict(api_name="/lab_pause") is False  # nothing is training now


def test_the_same_seed_gives_the_same_picture_in_two_sessions(app_url, client):
    other = visitor(app_url)
    settings = {**LAB, "seed": 11}
    pictures = []
    for c in (client, other):
        c.predict(*lab_args(settings), api_name="/lab_reset")
        pictures.append(c.predict(*lab_args(settings), api_name="/lab_step")[0])
    assert pictures[0] == pictures[1]
    assert client.predict(*lab_args({**settings, "seed": 12}), api_name="/lab_reset")[0] != \
        client.predict(*lab_args(settings), api_name="/lab_reset")[0]


@pytest.mark.parametrize("name,value", [("lr_g", 0), ("lr_d", -0.01), ("lr_g", 1e9)])
def test_a_bad_learning_rate_is_one_line(client, name, value):
    with pytest.raises(Exception) as caught:
        client.predict(*lab_args({**LAB, name: value}), api_name="/lab_step")
    assert re.search(rf"{name}=\S+ is out of range: expected a number from 0.0001 to 1$", str(caught.value))


def test_a_diverging_run_says_so_and_reset_starts_again(client):
    broken = {**LAB, "lr_g": 1.0, "lr_d": 1.0, "optimizer": "sgd"}
    client.predict(*lab_args(broken), api_name="/lab_reset")
    _, status, numbers = client.predict(*lab_args(broken), api_name="/lab_train")
    assert numbers["state"] == "diverged" and "The training diverged" in status and "Reset" in status
    with pytest.raises(Exception, match="The training diverged at step"):
        client.predict(*lab_args(broken), api_name="/lab_step")
    assert client.predict(*lab_args(LAB), api_name="/lab_reset")[2]["state"] == "ready"


def test_the_quiz_through_the_api(client):
    line, tiles, verdict, totals, numbers = client.predict(5, "image/gan", api_name="/quiz_start")
    assert "Round 1 of 10" in line and len(tiles) == 4 and numbers["round"] == 1 and verdict == ""
    answer = client.predict(1, 1, api_name="/quiz_answer")
    assert answer["answered"] == 1 and answer["choice"] == 1 and 1 <= answer["real_choice"] <= 4
    if not answer["right"]:  # a miss says what gave it away
        assert "What gave it away: the digit classifier was" in answer["verdict"] and "critic" in answer["verdict"]
    for (round_number, choice), message in [((1, 2), "Round 1 is already answered: only the first answer counts."),
                                            ((12, 1), "There is no round 12: the quiz has rounds 1 to 10."),
                                            ((1, 9), "There is no digit 9 to pick: choose 1 to 4.")]:
        with pytest.raises(Exception) as caught:
            client.predict(round_number, choice, api_name="/quiz_answer")
        assert str(caught.value).endswith(message)
    with pytest.raises(Exception, match="is not a known choice"):
        client.predict(5, "image/nothing", api_name="/quiz_start")
    line, tiles, _, numbers = client.predict(api_name="/quiz_next")
    assert "Round 2 of 10" in line and len(tiles) == 4 and numbers["round"] == 2


def test_class_totals_with_visitors_answering_at_once_each_twice(app_url):
    """Through the server, 10 visitors (tests/test_quiz.py has 30, model side: each client costs seconds here)."""
    visitors = [visitor(app_url) for _ in range(10)]
    for v in visitors:
        v.predict(21, "image/gan", api_name="/quiz_start")
    first = visitors[0].predict(1, 1, api_name="/quiz_answer")
    before = answers_so_far(first)
    start = threading.Barrier(18)
    accepted, refused = [], []

    def answer(v: int) -> None:
        start.wait()
        try:
            accepted.append(visitors[v].predict(1, 2, api_name="/quiz_answer"))
        except Exception as e:
            refused.append(str(e))

    threads = [threading.Thread(target=answer, args=(v,)) for v in list(range(1, 10)) * 2]  # each sends twice
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert len(accepted) == 9 and len(refused) == 9
    assert all(r.endswith("Round 1 is already answered: only the first answer counts.") for r in refused)
    assert "Round 2 of 10" in visitors[1].predict(api_name="/quiz_next")[0]  # and the quiz goes on
    after = visitors[1].predict(2, 1, api_name="/quiz_answer")
    assert answers_so_far(after) == before + 9 + 1  # none lost, none counted twice


def answers_so_far(answer: dict) -> int:
    """The GAN's answers in the class totals line."""
    return int(re.search(r"GAN: the real digit found in \d+ of (\d+) answers", answer["totals"]).group(1))
