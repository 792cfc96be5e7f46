"""The Ray Serve backend (``python app.py --ray ADDRESS``) on a local cluster of two simulated nodes.

A head node and a worker node (``ray.cluster_utils.Cluster``), each with 2 Ray CPUs, a 100 MB object store and no
dashboard (``include_dashboard=False``), on this machine; the app, launched on tiny weights, runs its slow models there as Serve deployments
(diffusion with 2 replicas, so one on each node). Through gradio_client: the same seed gives the same pixels as the
built-in backend, Stop cancels the Ray call, and killing the worker node in the middle of two requests ends the
one it ran with one clear line while the other goes on, and the next request succeeds. Without ``--ray`` the app
imports no Ray; Ray missing or unreachable at start is one line and exit status 1. Every Ray process is stopped at the
end, even when a test fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

from genai_demo.export import to_gallery
from genai_demo.registry import Registry
from genai_demo.serving import worker_processes
from tests.conftest import ROOT, free_port, running_app

NODE = dict(num_cpus=2, object_store_memory=100 * 1024 * 1024)  # Ray's CPUs are slots, not cores: 2 per node
# The head notices a dead node after 3 missed health checks 1 s apart, not Ray's default 5 at 3 s, so that the
# killed-node test does not depend on how busy the machine is for longer than it has to.
FAST_DEATH = {"health_check_period_ms": 1000, "health_check_failure_threshold": 3}
SLOW = dict(seed=0, num_images=4, label="any", scheduler="DDPM", num_inference_steps=1000, guidance_scale=3.0, eta=0.0)
LOST = "the Ray node running image/diffusion stopped or could not be reached"


def ray_processes(temp_dir: str) -> set[int]:
    """The pids of this cluster's processes: those naming its folder (GCS, raylets, monitors) and their children."""
    ours, children = set(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, set()).add(int(entry.name))
        if temp_dir in cmdline:
            ours.add(int(entry.name))
    found, todo = set(), list(ours)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def replica_pids(model_id: str) -> list[int]:
    title = f"ray::ServeReplica:genai-{model_id.replace('/', '-')}"
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(title.encode()):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture(scope="module")
def cluster():
    """Two Ray nodes on this machine; everything they started is stopped afterwards, even after a failure."""
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    # Ray also notes the newest cluster's address in $RAY_TMPDIR/ray (default /tmp/ray): here, in ours.
    saved = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp_dir
    os.makedirs(os.path.join(temp_dir, "ray"))
    started = None
    try:
        started = Cluster(initialize_head=True, shutdown_at_exit=True,
                          head_node_args=dict(NODE, include_dashboard=False, temp_dir=temp_dir,
                                              _system_config=FAST_DEATH))
        worker = started.add_node(wait=False, **NODE)  # it joins while the app starts (ray_app waits for it)
        yield started, worker, temp_dir
    finally:
        pids = ray_processes(temp_dir)
        try:
            if started is not None:
                started.shutdown()
        finally:
            deadline = time.time() + 20
            while (left := ray_processes(temp_dir) & pids) and time.time() < deadline:
                time.sleep(0.2)
            for pid in left:  # only what this cluster started
                os.kill(pid, signal.SIGKILL)
            shutil.rmtree(temp_dir, ignore_errors=True)
            os.environ.pop("RAY_TMPDIR") if saved is None else os.environ.update(RAY_TMPDIR=saved)
        assert not left, f"Ray processes outlived the cluster: {sorted(left)}"


@pytest.fixture(scope="module")
def ray_app(cluster, tiny_weights, tmp_path_factory):
    """The app on tiny weights, its slow models on the cluster (diffusion: 2 replicas of 1 CPU): (client, log)."""
    started, _, _ = cluster
    log = tmp_path_factory.mktemp("ray_app") / "app.log"
    os.environ["GENAI_WEIGHTS_DIR"] = str(tiny_weights)  # for the app and, through it, its replicas
    try:
        with running_app(log, "--no-warmup", "--ray", started.address, "--ray-replicas", "image/diffusion=2",
                         "--ray-cpus", "1") as url:
            started.wait_for_nodes(60)  # both nodes, before the first request deploys the model's replicas
            yield Client(url, verbose=False), log
    finally:
        del os.environ["GENAI_WEIGHTS_DIR"]
    # Stopped (SIGTERM), the app took its applications off the cluster: their replicas do not outlive it.
    assert "removed image/diffusion from the Ray cluster" in log.read_text()


def first_output(job, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while not job.outputs() and not job.done() and time.time() < deadline:
        time.sleep(0.05)
    assert job.outputs(), f"no streamed output arrived: {job.status()}"


def test_the_same_seed_gives_the_same_pixels_as_the_built_in_backend(ray_app, tiny_weights):
    client, log = ray_app
    local = Registry(tiny_weights)
    params = dict(seed=7, num_images=3, label="4", scheduler="DDIM", num_inference_steps=4, guidance_scale=3.0, eta=0.0)
    gallery, info = client.predict(**params, api_name="/image_diffusion")
    expected = to_gallery(local.get("image/diffusion").generate(**params))
    assert len(gallery) == len(expected) == 3
    for shown, (big, _) in zip(gallery, expected):
        assert np.array_equal(np.asarray(Image.open(shown["image"]).convert(big.mode)), np.asarray(big))
    assert "deployed image/diffusion on the Ray cluster: 2 replicas of 1.0 CPU" in log.read_text()


def replica_logs(temp_dir: str) -> str:
    """What the replicas logged (Ray writes each worker's stderr to its session's logs folder)."""
    return "".join(p.read_text(errors="replace") for p in Path(temp_dir).glob("session_*/logs/worker-*.err"))


def test_stop_cancels_the_ray_call_and_the_replica_stops_computing(ray_app, cluster):
    client, log = ray_app
    job = client.submit(**SLOW, api_name="/image_diffusion")
    first_output(job)
    job.cancel()
    deadline = time.time() + 60
    while "image/diffusion cancelled: the visitor left or pressed Stop" not in replica_logs(cluster[2]) \
            and time.time() < deadline:
        time.sleep(0.2)
    assert "image/diffusion cancelled: the visitor left or pressed Stop" in replica_logs(cluster[2])
    assert "image/diffusion stopped after" in log.read_text()  # the server's side of the same Stop


def test_a_killed_worker_node_ends_only_its_own_request_with_one_line_and_the_next_succeeds(ray_app, cluster):
    client, log = ray_app
    started, worker, _ = cluster
    replicas = replica_pids("image/diffusion")
    raylets = {started.head_node.all_processes["raylet"][0].process.pid, worker.all_processes["raylet"][0].process.pid}
    assert {parent(p) for p in replicas} == raylets, "Serve did not spread the two replicas over the two nodes"
    # Each replica takes one request at a time, so two requests at once run one on each node.
    jobs = [client.submit(**{**SLOW, "seed": s}, api_name="/image_diffusion") for s in (1, 2)]
    for job in jobs:
        first_output(job)
    worker_raylet = worker.all_processes["raylet"][0].process.pid
    on_worker = [p for p in replicas if parent(p) == worker_raylet]
    # The machine is switched off: the replica it ran and Ray's processes there, all at once. The replica goes
    # first: killed alone, the raylet leaves its workers to notice and exit in their own time (at the lowest priority
    # on a busy machine), and while ``remove_node`` waits for Ray's processes to end, the replica streams on to the
    # app directly and can finish its request (a CI run: both requests ended well).
    for pid in on_worker:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    started.remove_node(worker, allow_graceful=False)
    errors = {}
    deadline = time.time() + 120
    while not errors and time.time() < deadline:
        for i, job in enumerate(jobs):
            if job.done():
                try:
                    job.result()
                except Exception as e:
                    errors[i] = str(e)
        time.sleep(0.1)
    assert len(errors) == 1, (f"expected the request on the dead node to fail, got {errors}; the jobs: "
                              f"{[job.status().code for job in jobs]}; the app's log ends: {log.read_text()[-2000:]}")
    (failed, message), = errors.items()
    assert LOST in message and "\n" not in message.strip() and "please try again" in message
    survivor = jobs[1 - failed]
    assert not survivor.done(), "the request on the live node ended too"
    seen = len(survivor.outputs())
    deadline = time.time() + 30
    while len(survivor.outputs()) == seen and time.time() < deadline:
        time.sleep(0.1)
    assert len(survivor.outputs()) > seen  # still streaming from the head node
    survivor.cancel()
    gallery, info = client.predict(seed=5, num_images=2, label="any", scheduler="DDIM", num_inference_steps=2,
                                   guidance_scale=3.0, eta=0.0, api_name="/image_diffusion")
    assert len(gallery) == 2 and info.startswith("**image/diffusion** · seed 5")


def test_ray_unreachable_at_start_is_one_line_and_exit_status_1():
    port = free_port()  # nothing listens there
    out = subprocess.run([sys.executable, "-m", "genai_demo", "serve", "--port", str(free_port()), "--ray",
                          f"127.0.0.1:{port}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith(f"error: no Ray cluster at --ray 127.0.0.1:{port}: nothing "
                                                          f"answers at 127.0.0.1:{port}")


def test_ray_missing_at_start_is_one_line_that_says_how_to_install_it(monkeypatch):
    from genai_demo import server, serving_ray

    monkeypatch.setattr(serving_ray, "ray", None)  # as if the extra were not installed
    monkeypatch.setattr(serving_ray, "_IMPORT_ERROR", ImportError("No module named 'ray'"), raising=False)
    monkeypatch.setattr(server, "build_demo", lambda *a: pytest.fail("the page was built without its backend"))
    with pytest.raises(SystemExit) as stopped:
        server.main(["--port", str(free_port()), "--ray", "auto"])
    assert stopped.value.code == ('error: --ray needs Ray Serve, which is not installed (No module named \'ray\'): '
                                  'pip install "genai-playground[ray]" (or pip install -r requirements-ray.txt)')


def test_the_replicas_option_takes_n_or_model_n_and_refuses_anything_else(capsys):
    from genai_demo import server

    args = server.parse_args(["--ray", "auto", "--ray-replicas", "2", "--ray-replicas", "image/diffusion=3"])
    assert args.ray == "auto" and dict(args.ray_replicas) == {"*": 2, "image/diffusion": 3} and args.ray_cpus == 1.0
    for bad in ("0", "image/diffusion=", "many", "image/diffusion=-1"):
        with pytest.raises(SystemExit):
            server.parse_args(["--ray-replicas", bad])
        assert "expected N or MODEL=N with N a whole number from 1" in capsys.readouterr().err


def test_without_ray_the_app_and_its_worker_import_no_ray(app_server):
    url, _ = app_server
    port = url.rsplit(":", 1)[1].strip("/")
    Client(url, verbose=False).predict(seed=1, num_bars=1, api_name="/audio_chorale")  # runs in the worker
    server = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and _cmdline(e).endswith(
        f"app.py --port {port}")]
    assert len(server) == 1
    worker = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and "genai_demo.worker" in
              _cmdline(e) and parent(int(e.name)) == server[0]]
    assert len(worker) == worker_processes()  # the image worker, and the text and sound one
    for pid in server + worker:
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "/torch/" in maps  # the check sees the libraries a process imported
        assert "/ray/" not in maps and "_raylet" not in maps, f"process {pid} imported Ray"
    code = "import sys, app; from genai_demo import server, serving; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


def _cmdline(entry: Path) -> str:
    try:
        return (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""
