"""Past one machine: the slow models as Ray Serve deployments (``python app.py --ray auto|ADDRESS``).

The serving layer (``genai_demo/serving.py``) sends every model its plan puts outside the web server (diffusion,
PixelCNN, the text and music models, hub pipelines) to a backend with two calls, ``stream(model_id, values)`` and
``load(model_id)``. By default that backend is the worker process (``genai_demo/worker.py``); with ``--ray`` it is
``RayBackend``: each such model is a Ray Serve application of its own (``genai-image-diffusion``, ...) whose replicas
run on the cluster's nodes, and the Gradio server calls them through deployment handles:

- streaming: a replica yields each intermediate result (at most every ``worker.MIN_INTERVAL`` seconds times the
  generations it is running, as the worker does) and the handle hands them on as they come;
- cancellable: a visitor who presses Stop or leaves closes the page's generator, which cancels the Ray call; the
  replica stops that generation at its next step;
- replicas: ``--ray-replicas`` per model (``--ray-cpus`` CPUs each), and each takes as many requests at once as
  ``serving.plan`` gives that model's lane (1 for the heavy models, 2 for the step-by-step ones); Serve queues the
  rest and sends each to the least busy replica;
- batching: a replica runs its requests through its own ``serving.SharedResults``, the same layer as the built-in
  backend: identical requests on one replica are computed once, and the serving layer's batching across requests
  happens there too. Serve's ``@serve.batch`` is not used: it hands a method one list of whole calls that start and
  end together, while the step-by-step models need requests to join and leave a running batch at any step (a Stop,
  another length), which is the serving layer's own scheduler (docs/scaling.md).

Faults: Ray not installed, or no cluster at the address, is one line (``RayUnavailable``) and the app exits non-zero:
an operator who asked for a cluster is told so at once rather than finding a class squeezed onto one machine. A
node that dies ends only the requests its replicas were running, each with one line (``WorkerError``); Serve starts
replacement replicas where there is room, and the next request goes to a replica that is alive.

This module imports Ray at import time; nothing else in the package imports it, so the app without ``--ray`` needs
no Ray (tests/test_ray.py checks both).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

try:
    import ray
    from ray import serve
except ImportError as e:  # the optional extra is not installed
    ray = serve = None
    _IMPORT_ERROR = e

from genai_demo import contract
from genai_demo.contract import GenAIError

log = logging.getLogger("genai_demo.ray")

NAMESPACE = "genai-playground"
APP_PREFIX = "genai-"  # one Serve application per model: genai-image-diffusion, genai-text-shakespeare, ...
# What a replica needs from the server's environment: the same threads, device, offline mode and hub cache, so the
# same seed gives the same bytes there as here (floats round differently on 1 and 2 threads).
PASSED_ENV = ("GENAI_THREADS", "GENAI_DEVICE", "GENAI_WEIGHTS_DIR", "GENAI_OFFLINE", "OMP_WAIT_POLICY",
              "HF_HUB_OFFLINE", "HF_HOME", "HF_HUB_CACHE")
PROBE_SECONDS = 5.0  # how long the head node's port may take to accept a connection at start-up
ERRORS = {cls.__name__: cls for cls in (contract.ParameterError, contract.ModelUnavailable, contract.UnknownModel)}


class RayUnavailable(GenAIError):
    """Ray is not installed, or there is no cluster at the address: the app does not start."""


def app_name(model_id: str) -> str:
    return APP_PREFIX + model_id.replace("/", "-")


class ModelReplica:
    """One replica of one model, on whichever node Serve places it (deployed by ``RayBackend``)."""

    def __init__(self, settings: dict, model_id: str):
        from genai_demo.registry import Registry
        from genai_demo.runtime import prefer_passive_waiting
        from genai_demo.serving import SharedResults
        from genai_demo.worker import ALONE_NICE

        prefer_passive_waiting()
        # The lowest priority, as a worker's thread that computes alone (worker.ALONE_NICE): where a node also runs
        # the app (the head node, or one machine), the page and the quick models answer first; elsewhere it changes
        # nothing.
        os.nice(max(0, ALONE_NICE - os.nice(0)))
        ours = logging.getLogger("genai_demo")  # into the replica's log on its node (Ray's logs/worker-*.err)
        if not ours.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s (replica): %(message)s"))
            ours.addHandler(handler)
            ours.setLevel(logging.INFO)
        self.adapter = Registry(**settings).get(model_id)
        self.shared = SharedResults()  # this replica's serving layer: identical requests once, batching
        self.running = 0
        try:  # every replica loads its weights before Serve sends it a request
            self.adapter.load()
        except GenAIError:  # remembered by the adapter: each request (and load()) gets its one line
            pass

    def load(self) -> tuple:
        try:
            self.adapter.load()
            return ("end",)
        except GenAIError as e:
            return ("error", type(e).__name__, str(e))

    async def stream(self, values: dict):
        """Yield ("result", Result) for each step sent, then ("end",); or ("error", kind, line). A cancelled call
        (the visitor left) stops the generation at its next step."""
        from genai_demo.worker import MIN_INTERVAL

        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def put(item) -> None:
            loop.call_soon_threadsafe(inbox.put_nowait, item)

        def work() -> None:
            stream = self.shared.stream(self.adapter, values)
            last = -math.inf
            try:
                for result in stream:
                    if stop.is_set():
                        log.info("%s cancelled: the visitor left or pressed Stop", self.adapter.id)
                        break
                    if result.done or time.perf_counter() - last >= MIN_INTERVAL * max(1, self.running):
                        last = time.perf_counter()
                        put(("result", result))
                put(("end",))
            except GenAIError as e:
                put(("error", type(e).__name__, str(e)))
            except Exception as e:  # a bug: the operator sees the traceback in the replica's log, the visitor one line
                log.exception("%s failed", self.adapter.id)
                put(("error", "WorkerError", f"{self.adapter.id} failed: {type(e).__name__}: {str(e)[:200]}"))
            finally:
                stream.close()

        self.running += 1
        threading.Thread(target=work, name="generation", daemon=True).start()
        try:
            while True:
                item = await inbox.get()
                yield item
                if item[0] != "result":
                    return
        finally:  # ended, or cancelled by the caller (asyncio.CancelledError here)
            stop.set()
            self.running -= 1


class RayBackend:
    """The server's end: connects to the cluster, deploys each slow model on first use, streams its results."""

    schedules = True  # Serve queues and routes the requests: the server lets them all through (serving.queue)

    def __init__(self, address: str, settings: dict | None = None, *, replicas: dict[str, int] | None = None,
                 cpus: float = 1.0, concurrency: dict[str, int] | None = None):
        """``address``: ``auto`` (the cluster this machine belongs to, as ``ray start`` left it) or a head node's
        ``HOST:PORT``; ``settings``: the replicas' ``Registry`` arguments; ``replicas``: per model id, or ``*`` for
        every model, how many replicas (default 1); ``cpus``: Ray CPUs per replica; ``concurrency``: per model, the
        requests one replica takes at once (``serving.plan``'s lane; 1 if not given)."""
        self.address = address
        self.settings = {k: (str(v) if v is not None else None) for k, v in (settings or {}).items()}
        self.replicas, self.cpus = dict(replicas or {}), cpus
        self.concurrency = dict(concurrency or {})
        self._lock = threading.Lock()
        self._handles: dict[str, object] = {}

    def connect(self) -> "RayBackend":
        """Join the cluster as a driver and start Serve there (no HTTP proxy: only this server calls it)."""
        if ray is None:
            raise RayUnavailable(f'--ray needs Ray Serve, which is not installed ({_IMPORT_ERROR}): '
                                 f'pip install "genai-playground[ray]" (or pip install -r requirements-ray.txt)')
        silent = self._silent_reason()
        if silent:  # Ray itself would retry for minutes
            raise RayUnavailable(f"no Ray cluster at --ray {self.address}: {silent} (start one with `ray start "
                                 f"--head`, see docs/scaling.md)")
        try:
            ray.init(address=self.address, namespace=NAMESPACE, logging_level=logging.WARNING,
                     log_to_driver=False, include_dashboard=False)
            serve.start(proxy_location="Disabled")
        except Exception as e:  # ConnectionError, a timeout, a version mismatch: one line, then the app exits
            if ray.is_initialized():
                ray.shutdown()
            reason = " ".join(str(e).split())[:300]
            raise RayUnavailable(f"no Ray cluster at --ray {self.address}: {reason} (start one with `ray start "
                                 f"--head`, see docs/scaling.md)") from None
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        log.info("connected to the Ray cluster at %s: %d node%s, %s CPUs", self.address, len(nodes),
                 "s" if len(nodes) != 1 else "", ray.cluster_resources().get("CPU", 0))
        return self

    def _silent_reason(self) -> str | None:
        """Why nothing can answer at the address (its head node's port does not take a connection), or None."""
        resolved = self.address
        if resolved == "auto":  # the cluster that `ray start` on this machine last joined, as ray.init finds it
            try:
                resolved = ray._private.services.find_bootstrap_address(None)
            except Exception:
                return None
        if not resolved or resolved.startswith("ray://") or ":" not in resolved:  # ray.init says what is wrong
            return None
        host, _, port = resolved.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
        except (OSError, ValueError) as e:
            return f"nothing answers at {resolved} ({getattr(e, 'strerror', None) or e})"
        return None

    def _env(self) -> dict:
        package_root = str(Path(__file__).resolve().parent.parent)  # where a node on this machine finds the package
        env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
        env.setdefault("GENAI_THREADS", str(max(1, math.ceil(self.cpus))))
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH"))))
        return env

    def _handle(self, model_id: str):
        """The model's deployment handle, deploying it on first use (waits until its replicas are up)."""
        with self._lock:
            handle = self._handles.get(model_id)
            if handle is None:
                replicas = self.replicas.get(model_id, self.replicas.get("*", 1))
                deployment = serve.deployment(ModelReplica).options(
                    name=app_name(model_id), num_replicas=replicas,
                    max_ongoing_requests=max(1, self.concurrency.get(model_id, 1)),
                    ray_actor_options={"num_cpus": self.cpus, "runtime_env": {"env_vars": self._env()}})
                handle = serve.run(deployment.bind(self.settings, model_id), name=app_name(model_id),
                                   route_prefix=None)
                self._handles[model_id] = handle
                log.info("deployed %s on the Ray cluster: %d replica%s of %s CPU", model_id, replicas,
                         "s" if replicas != 1 else "", self.cpus)
            return handle

    def load(self, model_id: str) -> None:
        """Deploy the model and load its weights in its replicas (the app's warm-up)."""
        reply = self._call(model_id, "load")
        if reply[0] == "error":
            raise ERRORS.get(reply[1], contract.GenAIError)(reply[2])

    def _call(self, model_id: str, method: str, *args):
        try:
            return getattr(self._handle(model_id), method).remote(*args).result()
        except ray.exceptions.RayError as e:
            raise self._lost(model_id, e) from None

    def stream(self, model_id: str, values: dict) -> Iterator:
        """Run one generation on the cluster: yield its results as they come; stopping early cancels the call."""
        from genai_demo.worker import WorkerError

        ended = False
        try:
            response = self._handle(model_id).options(stream=True).stream.remote(values)
        except ray.exceptions.RayError as e:
            raise self._lost(model_id, e) from None
        try:
            for item in response:
                if item[0] == "result":
                    yield item[1]
                    continue
                ended = True
                if item[0] == "error":
                    raise ERRORS.get(item[1], WorkerError)(item[2])
                return
        except ray.exceptions.RayError as e:
            ended = True
            raise self._lost(model_id, e) from None
        finally:
            if not ended:  # the visitor left or pressed Stop: the replica stops at its next step
                response.cancel()

    @staticmethod
    def _lost(model_id: str, error: Exception) -> GenAIError:
        from genai_demo.worker import WorkerError

        log.warning("a Ray call for %s failed: %s", model_id, " ".join(str(error).split())[:300])
        return WorkerError(f"the Ray node running {model_id} stopped or could not be reached "
                           f"({type(error).__name__}); please try again")

    def close(self) -> None:
        """Remove this server's applications from the cluster and leave it (the cluster itself keeps running)."""
        if ray is None or not ray.is_initialized():
            return
        for model_id in list(self._handles):
            try:
                serve.delete(app_name(model_id))
                log.info("removed %s from the Ray cluster", model_id)
            except Exception as e:  # the cluster is already gone
                log.warning("could not remove %s from the Ray cluster: %s", model_id, e)
        self._handles.clear()
        ray.shutdown()
