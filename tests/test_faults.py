"""Faults: a visitor who leaves in the middle of a stream, a full queue, a full disk when saving, broken weights;
and the app's worker process for the slow models (its priority, and the app without it)."""

import errno
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from bench.load import cpu_seconds
from genai_demo import cli
from tests.conftest import ROOT, free_port, wait_for_http


@pytest.fixture(scope="module")
def tiny_app(tiny_weights, tmp_path_factory):
    """The app on tiny weights with a queue of 2, so that slow requests and a full queue are cheap to make."""
    port = free_port()
    log = tmp_path_factory.mktemp("tiny_app") / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--no-warmup", "--max-queue", "2"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "GENAI_WEIGHTS_DIR": str(tiny_weights)})
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        proc.wait(10)


SLOW = dict(seed=0, num_images=4, label="any", scheduler="DDPM", num_inference_steps=1000, guidance_scale=3.0, eta=0.0)


def test_a_cancelled_stream_stops_the_work(tiny_app):
    url, log = tiny_app
    client = Client(url, verbose=False)
    job = client.submit(**SLOW, api_name="/image_diffusion")
    deadline = time.time() + 60
    while not job.outputs() and time.time() < deadline:  # wait for the first denoising steps to arrive
        time.sleep(0.05)
    assert job.outputs(), "no streamed output arrived"
    try:
        job.cancel()
    except httpx.TimeoutException:  # the server answers once the current step is done; the cancel still happens
        pass
    deadline = time.time() + 60
    while "image/diffusion stopped after" not in log.read_text() and time.time() < deadline:
        time.sleep(0.1)
    assert "image/diffusion stopped after" in log.read_text()
    # The server told the worker process, which stopped computing at its next step.
    while "image/diffusion cancelled" not in log.read_text() and time.time() < deadline:
        time.sleep(0.1)
    assert "image/diffusion cancelled: the visitor left or pressed Stop" in log.read_text()
    gallery, _ = client.predict(seed=1, num_images=2, label="any", truncation=1.0, api_name="/image_gan")
    assert len(gallery) == 2  # and the server is free for the next visitor


def test_the_app_runs_the_slow_models_in_a_lower_priority_worker(tiny_app):
    url, log = tiny_app
    found = re.findall(r"started the worker for slow models \(pid (\d+), nice \+(\d+)\)", log.read_text())
    assert len(found) >= 2, "the app did not start its two workers (image models; text and sound)"
    workers = {int(pid): int(nice) for pid, nice in found[-2:]}
    for pid, nice in workers.items():
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice)

    before = {pid: cpu_seconds(pid) for pid in workers}
    client = Client(url, verbose=False)
    client.predict(**{**SLOW, "num_inference_steps": 20}, api_name="/image_diffusion")
    assert any(cpu_seconds(pid) > before[pid] for pid in workers)  # the diffusion model ran in one of them
    gallery, _ = client.predict(seed=1, num_images=2, label="any", truncation=1.0, api_name="/image_gan")
    assert len(gallery) == 2


def test_a_full_queue_says_busy_instead_of_hanging(tiny_app):
    url, _ = tiny_app
    clients = [Client(url, verbose=False) for _ in range(6)]
    slow = {**SLOW, "num_inference_steps": 150}
    jobs = [c.submit(**slow, api_name="/image_diffusion") for c in clients]  # 1 runs, 2 wait, the rest are turned away
    outcomes = []
    for job in jobs:
        try:
            job.result(timeout=120)
            outcomes.append("done")
        except Exception as e:  # noqa: BLE001
            outcomes.append(str(e))
    refused = [o for o in outcomes if o != "done"]
    assert refused and len(refused) < len(jobs), outcomes
    assert all("busy" in o.lower() or "queue is full" in o.lower() for o in refused), refused


def test_a_full_disk_when_saving_is_one_clear_line(tmp_path, tiny_weights, monkeypatch, capsys):
    from PIL import Image

    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", no_space)
    code = cli.main(["--weights-dir", str(tiny_weights), "generate", "image/gan", "--num", "2", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == "error: [Errno 28] No space left on device"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("weights", ["missing", "corrupt"])
def test_broken_weights_are_listed_as_unavailable_with_the_fix(tmp_path, tiny_weights, weights, capsys):
    import shutil

    shutil.copytree(tiny_weights, tmp_path, dirs_exist_ok=True)
    if weights == "missing":
        (tmp_path / "image-vae" / "model.safetensors").unlink()
    else:
        (tmp_path / "image-vae" / "model.safetensors").write_bytes(b"\x00" * 100)
    assert cli.main(["--weights-dir", str(tmp_path), "generate", "image/vae", "--out", str(tmp_path / "o")]) == 2
    assert cli.main(["--weights-dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    status = lines[next(i for i, line in enumerate(lines) if line.startswith("image/vae ")) + 1]
    assert status.strip().startswith("UNAVAILABLE:") and "python -m genai_demo train image/vae" in status


def test_without_the_worker_the_app_runs_every_model_itself(tiny_weights, tmp_path):
    port = free_port()
    log = tmp_path / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--no-warmup", "--no-worker"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "GENAI_WEIGHTS_DIR": str(tiny_weights)})
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", proc)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        gallery, _ = client.predict(**{**SLOW, "num_inference_steps": 5}, api_name="/image_diffusion")
        assert len(gallery) == SLOW["num_images"]
        assert "started the worker" not in log.read_text()
        assert not [c for task in Path(f"/proc/{proc.pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]  # no child process
    finally:
        proc.terminate()
        proc.wait(10)
