"""Classroom load: a class of students clicking Generate against one app on 127.0.0.1, three ways.

    python bench/load.py [--mode mix|random|same] [--users 30] [--seconds 60] [--grace 90] [--max-queue 64]
                         [--client-processes 6] [--endpoints /image_gan,/image_vae] [--no-worker] [--cold-clients]
                         [--ray auto|ADDRESS [--ray-replicas [MODEL=]N] [--ray-cpus C]]

Launches ``python app.py`` on a free loopback port (``GENAI_THREADS`` passes through), loads the models the bench
uses, measures single-user latencies, then runs ``--users`` concurrent gradio_client users, spread over
``--client-processes`` processes, who all click at the same moment. Only loopback traffic; it stops by itself.

- ``--mode mix`` (the default): they go on for ``--seconds`` (no new request starts after that, and each waits at
  most 120 s), mixing small requests the way a class would (mostly the fast GAN and VAE, some diffusion, PixelCNN,
  Shakespeare text and chorales, a few comparisons), each looking at a result for 0.2-1 s before clicking again.
  Prints per endpoint: requests, failures, p50 and p95 latency; the GAN's p95 as a multiple of its single-user
  latency, for the whole run and split into the first second and after; its slowest requests.
- ``--mode random``: every tab at its default settings (``--endpoints`` to choose), each student going through them
  in an order of their own, reshuffled every round, with a fresh random seed for every request, so that no two
  requests are the same and a cache of results cannot make it fast. No request starts after ``--seconds``; each
  waits until ``--grace`` seconds after the end at most. Prints per endpoint: requests sent, completed within the
  window and after it, errors, requests still unfinished 30 s and ``--grace`` s after the end, p50 and p95 latency
  (an unfinished request counts as longer than it waited) and the single-user p50; for text, the time to the first
  streamed character.
- ``--mode same``: the whole class presses Generate on the same settings at once: every student sends one
  identical request (the first of ``--endpoints``, default ``/image_diffusion``, at its default settings and one
  seed) at the same moment. Prints how many were served within 30 s, still waiting 30 s and ``--grace`` s after
  the click, p50 and p95 latency against the single-user latency of the same settings (other seeds).

Every mode also prints the resident memory of the server and its worker process (and their children) after
warm-up, at its peak and at the end, and the CPU time the server, its worker and the clients used. With ``--ray``
the app runs its slow models on that Ray cluster (docs/scaling.md) and the figures add the Serve replicas running on
this machine (``ray::ServeReplica:genai-*`` processes).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: genai_demo from this checkout

MIX = (  # (endpoint, weight, arguments); small requests, as a class would send
    ("/image_gan", 40, dict(num_images=16, label="any", truncation=1.0)),
    ("/image_vae", 30, dict(num_images=16, label="any", temperature=1.0)),
    ("/image_diffusion", 15, dict(num_images=4, label="3", scheduler="DPM-Solver++", num_inference_steps=10,
                                  guidance_scale=3.0, eta=0.0)),
    ("/image_autoregressive", 10, dict(num_images=2, label="7", temperature=1.0)),
    ("/image_compare", 5, dict(label="5", num_images=1)),
    ("/text_shakespeare", 15, dict(prompt="ROMEO:\n", max_new_tokens=100, do_sample=True, temperature=0.8, top_k=0,
                                   top_p=1.0, repetition_penalty=1.0)),
    ("/audio_chorale", 10, dict(num_bars=4, mode="major", temperature=0.9, tempo=80)),
)
MIX_WAIT = 120  # seconds a request of the mix waits at most
SERVED_WITHIN = 30  # seconds: "served within 30 s", "still unfinished 30 s after the end"
MAX_SEED = 2**32 - 1


def default_endpoints() -> list[tuple[str, dict, bool]]:
    """Every tab at its default settings, as the app serves it: (endpoint, arguments without the seed, streams text).

    Read from the registry (what the app's own ``Registry`` offers, hub models included when their variables are
    set and they are available) and the comparison's parameters, so the bench follows the models' declarations."""
    from genai_demo import compare
    from genai_demo.registry import Registry

    endpoints = []
    for adapter in Registry():  # what a class generates: the models drawn from a seed (not text/score's reading)
        if adapter.unavailable_reason() is None and any(p.name == "seed" for p in adapter.params):
            defaults = {p.name: p.default for p in adapter.params if p.name != "seed"}
            endpoints.append(("/" + adapter.id.replace("/", "_"), defaults, adapter.modality == "text"))
    at = max((i for i, (api, _, _) in enumerate(endpoints) if api.startswith("/image_")), default=-1) + 1
    endpoints.insert(at, ("/" + compare.LINK_ID.replace("/", "_"),
                          {p.name: p.default for p in compare.PARAMS if p.name != "seed"}, False))
    return endpoints


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replicas() -> list[int]:
    """The app's Ray Serve replicas running on this machine (with ``--ray``), by their process titles."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::ServeReplica:genai-"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def rss_mb(pid: int, extra: list[int] = ()) -> float:
    """Resident memory of a process and all its descendants (the app and its worker for the slow models), and of
    the ``extra`` processes (Ray's replicas)."""
    return sum(own_rss_mb(p) for p in [*tree(pid), *extra])


def own_rss_mb(pid: int) -> float:
    """Resident memory of one process, without its descendants."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids += tree(int(child))
    except OSError:
        pass
    return pids


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_students(url: str, ids: list[int], start_at: float, seconds: float, plan: dict, cold: bool) -> list[dict]:
    """Students ``ids`` in threads of this process, who all click first at ``start_at`` (wall-clock time, the same
    in every client process) and go on for ``seconds``: one record per request, {"api", "sent" (seconds from the
    first click), "latency" (None: unfinished when its wait ended), "first" (seconds to the first streamed update,
    text only), "error", "seed"}.

    ``plan``: {"mode", "endpoints": [(api, weight, arguments, streams)], "seed" (same mode: the class's seed),
    "salt" (random mode), "grace"}. Unless ``cold``, each student's client first makes one small request before the
    clock starts, as a browser has loaded the page and run its start-up events before anyone clicks: a fresh
    gradio_client's first request costs the server about twice the CPU of the next ones (55-60 ms instead of 30
    for 16 GAN images).
    """
    from gradio_client import Client

    records: list[dict] = []
    lock = threading.Lock()
    clients = {n: Client(url, verbose=False, download_files=False, ssl_verify=False) for n in ids}
    if not cold:
        for c in clients.values():
            c.predict(seed=0, num_images=1, label="any", truncation=1.0, api_name="/image_gan")
    if time.time() > start_at:
        print(f"warning: students {ids} were ready {time.time() - start_at:.1f} s after the first click", flush=True)
    time.sleep(max(0.0, start_at - time.time()))
    mode, endpoints = plan["mode"], plan["endpoints"]
    end_at = start_at + seconds

    def requests(n: int, rng: random.Random):
        """What student ``n`` sends, in turn: (api, arguments with the seed, streams)."""
        if mode == "mix":
            while True:
                api, _, kwargs, streams = rng.choices(endpoints, weights=[e[1] for e in endpoints])[0]
                yield api, dict(seed=rng.randrange(10**6), **kwargs), streams
        elif mode == "random":
            while True:
                for api, _, kwargs, streams in rng.sample(endpoints, len(endpoints)):
                    yield api, dict(kwargs, seed=rng.randrange(MAX_SEED + 1)), streams
        else:  # same: one click, the class's request
            api, _, kwargs, streams = endpoints[0]
            yield api, dict(kwargs, seed=plan["seed"]), streams

    def student(n: int):
        rng = random.Random(n if mode == "mix" else f"{plan['salt']}:{n}")
        client = clients[n]
        for api, kwargs, streams in requests(n, rng):
            t, start = time.perf_counter(), time.time()
            record = {"api": api, "sent": start - start_at, "latency": None, "first": None, "error": None,
                      "seed": kwargs.get("seed")}
            deadline = start + MIX_WAIT if mode == "mix" else end_at + plan["grace"]
            try:
                job = client.submit(**kwargs, api_name=api)
                if streams:  # the first streamed update of a text is its first character
                    while not job.done() and not job.outputs() and time.time() < deadline:
                        time.sleep(0.02)
                    if job.outputs():
                        record["first"] = time.perf_counter() - t
                job.result(timeout=max(0.0, deadline - time.time()))
                record["latency"] = time.perf_counter() - t
            except FutureTimeout:
                if mode == "mix":
                    record["error"] = f"TimeoutError: no result after {MIX_WAIT} s"
                try:
                    job.cancel()
                except Exception:  # noqa: BLE001 - best effort: the server is stopped at the end anyway
                    pass
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                record["error"] = f"{type(e).__name__}: {str(e)[:120]}"
            with lock:
                records.append(record)
            if mode == "same" or time.time() >= end_at:
                break
            time.sleep(rng.uniform(0.2, 1.0))  # a student looks at the result before clicking again
            if time.time() >= end_at:
                break

    threads = [threading.Thread(target=student, args=(n,)) for n in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=end_at - time.time() + max(MIX_WAIT, plan["grace"]) + 60)
    return records


def single_user(client, endpoints: list, seeds: range, runs_fast: int = 10, runs_slow: int = 3) -> dict:
    """Each endpoint alone, one request at a time: {api: (p50 latency, p50 time to the first update or None)}.
    ``runs_fast`` runs for an endpoint whose first run took under a second, else ``runs_slow``."""
    alone = {}
    for api, _, kwargs, streams in endpoints:
        times, firsts = [], []
        for i, seed in enumerate(seeds):
            if i >= (runs_fast if times and times[0] < 1.0 else runs_slow):
                break
            t = time.perf_counter()
            job = client.submit(**kwargs, seed=seed, api_name=api)
            if streams:
                while not job.done() and not job.outputs():
                    time.sleep(0.005)
                firsts.append(time.perf_counter() - t)
            job.result(timeout=600)
            times.append(time.perf_counter() - t)
        alone[api] = (statistics.median(times), statistics.median(firsts) if firsts else None)
    return alone


def seconds_text(values: list[float], unfinished: list[float], q: float) -> str:
    """The ``q`` quantile of latencies, with each ``unfinished`` request counted as the time it waited, which is less
    than its latency: where one of those sorts at or below the quantile, the true quantile may be higher, and the
    figure is written as a lower bound, ">W"."""
    items = sorted([(v, False) for v in values] + [(w, True) for w in unfinished])
    if not items:
        return "-"
    index = min(len(items) - 1, int(round(q * (len(items) - 1))))
    if any(censored for _, censored in items[: index + 1]):
        return f">{items[index][0]:.0f}"
    return f"{items[index][0]:.2f}"


def first_second(timed: list[tuple[float, float]], single: float) -> str | None:
    """From (latency, sent) pairs: the p95 of the requests sent in the first second, when the whole class clicks at
    once, apart from the later ones', those against the single-user latency; None if either part is empty."""
    first = [latency for latency, at in timed if at < 1.0]
    later = [latency for latency, at in timed if at >= 1.0]
    if not (first and later):
        return None
    return (f"sent in the first second (everyone clicks at once): {len(first)}, p95 {percentile(first, 0.95):.2f} s; "
            f"sent later: {len(later)}, p95 {percentile(later, 0.95):.2f} s ({percentile(later, 0.95) / single:.1f}x "
            f"alone)")


def report_mix(records: list[dict], endpoints: list, single_p50: float) -> None:
    timed = defaultdict(list)  # per endpoint: (latency, sent at)
    failures = defaultdict(list)
    for r in records:
        if r["error"]:
            failures[r["api"]].append(r["error"])
        else:
            timed[r["api"]].append((r["latency"], r["sent"]))
    latencies = {api: [latency for latency, _ in values] for api, values in timed.items()}
    header = f"{'endpoint':<22} {'requests':>8} {'failed':>6} {'p50 (s)':>8} {'p95 (s)':>8}"
    print(header + "\n" + "-" * len(header))
    for api, _, _, _ in endpoints:
        lat = latencies.get(api, [])
        p50 = statistics.median(lat) if lat else float("nan")
        p95 = percentile(lat, 0.95) if lat else float("nan")
        print(f"{api:<22} {len(lat) + len(failures[api]):>8} {len(failures[api]):>6} {p50:>8.2f} {p95:>8.2f}")
    gan = latencies.get("/image_gan", [])
    if gan:
        print(f"\nGAN p95 under load / single-user p50: {percentile(gan, 0.95) / single_p50:.1f}x")
        line = first_second(timed["/image_gan"], single_p50)
        if line:
            print("  " + line)
        slowest = sorted(timed["/image_gan"], reverse=True)[:5]
        print("GAN's slowest requests: " + ", ".join(f"{lat:.2f} s (sent at {at:.1f} s)" for lat, at in slowest))
    for api, errs in failures.items():
        for e in sorted(set(errs))[:3]:
            print(f"  {api} failure: {e}")


def waits(records: list[dict], end: float, grace: float) -> tuple[list[float], list[float], int, int]:
    """Finished latencies, unfinished requests' waits, and how many were still unfinished ``SERVED_WITHIN`` s and
    ``grace`` s after ``end`` (seconds from the first click)."""
    done = [r["latency"] for r in records if r["latency"] is not None]
    unfinished = [end + grace - r["sent"] for r in records if r["latency"] is None and not r["error"]]
    open_at = [sum(1 for r in records if not r["error"] and r["sent"] < end + after
                   and (r["latency"] is None or r["sent"] + r["latency"] > end + after))
               for after in (SERVED_WITHIN, grace)]
    return done, unfinished, *open_at


def report_random(records: list[dict], endpoints: list, alone: dict, seconds: float, grace: float) -> None:
    header = (f"{'endpoint':<22} {'sent':>5} {'done in':>7} {'done':>5} {'errors':>6} {'open at':>7} {'open at':>7} "
              f"{'p50':>6} {'p95':>6} {'alone':>6} {'p95/':>6}\n"
              f"{'':<22} {'':>5} {f'{seconds:.0f} s':>7} {'later':>5} {'':>6} {f'+{SERVED_WITHIN} s':>7} "
              f"{f'+{grace:.0f} s':>7} {'(s)':>6} {'(s)':>6} {'p50 (s)':>6} {'alone':>6}")
    print(header + "\n" + "-" * len(header.splitlines()[0]))
    for api, _, _, _ in [*endpoints, ("all", None, None, None)]:
        mine = [r for r in records if api in ("all", r["api"])]
        done, unfinished, open_30, open_grace = waits(mine, seconds, grace)
        in_window = sum(1 for r in mine if r["latency"] is not None and r["sent"] + r["latency"] <= seconds)
        errors = sum(1 for r in mine if r["error"])
        p95 = seconds_text(done, unfinished, 0.95)
        single = alone.get(api, (None,))[0]
        ratio = f"{float(p95) / single:.1f}x" if single and not p95.startswith((">", "-")) else "-"
        print(f"{api:<22} {len(mine):>5} {in_window:>7} {len(done) - in_window:>5} {errors:>6} {open_30:>7} "
              f"{open_grace:>7} {seconds_text(done, unfinished, 0.5):>6} {p95:>6} "
              f"{(f'{single:.2f}' if single else '-'):>6} {ratio:>6}")
    for api in ("/image_gan", "/image_vae"):  # the quick models: their tail is the class's first click
        timed = [(r["latency"], r["sent"]) for r in records if r["api"] == api and r["latency"] is not None]
        line = first_second(timed, alone[api][0]) if alone.get(api) else None
        if line:
            print(f"{api} {line}")
    for api, _, _, streams in endpoints:
        if streams:
            firsts = [r["first"] for r in records if r["api"] == api and r["first"] is not None]
            never = sum(1 for r in records if r["api"] == api and r["first"] is None and not r["error"])
            if firsts or never:
                print(f"{api} time to the first streamed character: p50 {seconds_text(firsts, [grace] * never, 0.5)}"
                      f" s, p95 {seconds_text(firsts, [grace] * never, 0.95)} s over {len(firsts) + never} requests"
                      f"{f' ({never} without any)' if never else ''}; alone p50 {alone[api][1]:.2f} s")
    for r in sorted({r["api"]: r for r in records if r["error"]}.values(), key=lambda r: r["api"]):
        print(f"  {r['api']} error: {r['error']}")


def report_same(records: list[dict], api: str, alone: dict, grace: float, users: int) -> None:
    done, unfinished, open_30, open_grace = waits(records, 0.0, grace)
    served = sum(1 for latency in done if latency <= SERVED_WITHIN)
    errors = [r["error"] for r in records if r["error"]]
    single = alone[api][0]
    print(f"served within {SERVED_WITHIN} s of the click: {served} of {users}; still waiting {SERVED_WITHIN} s after "
          f"the click: {open_30}, {grace:.0f} s after: {open_grace}; errors: {len(errors)}")
    for q, name in ((0.5, "p50"), (0.95, "p95")):
        text = seconds_text(done, unfinished, q)
        ratio = f" ({float(text) / single:.1f}x single-user)" if not text.startswith((">", "-")) else ""
        print(f"latency {name}: {text} s{ratio}")
    print(f"single-user latency of the same settings (other seeds), p50: {single:.2f} s")
    if done:
        print(f"first served after {min(done):.2f} s, last after {max(done):.2f} s")
    for e in sorted(set(errors))[:3]:
        print(f"  error: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("mix", "random", "same"), default="mix",
                        help="mix (default): small requests of every tab, weighted as a class mixes them; random: "
                             "every tab at default settings, a fresh random seed each request; same: everyone sends "
                             "one identical request at once")
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60, help="how long students keep clicking (mix, random)")
    parser.add_argument("--grace", type=float, default=90, help="random and same: how long after the end (same: "
                                                                 "after the click) a request may still finish")
    parser.add_argument("--seed", type=int, default=0, help="random: the students' seeds are drawn from this; "
                                                            "same: the class's seed is drawn from it")
    parser.add_argument("--max-queue", type=int, default=64)
    parser.add_argument("--client-processes", type=int, default=6, help="client processes the users are spread "
                                                                       "over (default 6, 5 users each)")
    parser.add_argument("--cold-clients", action="store_true",
                        help="start the clock right after connecting, before each client's first request")
    parser.add_argument("--no-worker", action="store_true", help="start the app with --no-worker: the slow models "
                                                                  "in the server's own process, for comparison")
    parser.add_argument("--ray", metavar="auto|ADDRESS", help="start the app with --ray ADDRESS: the slow models on "
                                                             "that Ray cluster (started beforehand: docs/scaling.md)")
    parser.add_argument("--ray-replicas", action="append", default=[], help="passed to the app (with --ray)")
    parser.add_argument("--ray-cpus", help="passed to the app (with --ray)")
    parser.add_argument("--profile", metavar="FILE", help="record the server and its workers with py-spy "
                        "(installed separately) while the students click, into FILE (py-spy's raw format: one stack "
                        "and its count a line; 200 samples a second in same mode, 20 otherwise: py-spy itself takes "
                        "most of a core at 200)")
    parser.add_argument("--records", metavar="FILE", help="write every request's record (endpoint, seed, when it was "
                        "sent after the first click, latency, error) to FILE as JSON, to look at a tail")
    parser.add_argument("--endpoints", help="comma-separated endpoints (default: every one; same mode: "
                                            "/image_diffusion), e.g. /image_gan,/image_vae to see the fast models "
                                            "alone")
    args = parser.parse_args()
    from gradio_client import Client

    chosen = args.endpoints.split(",") if args.endpoints else None
    if args.mode == "mix":
        endpoints = [(api, weight, kwargs, api.startswith("/text_")) for api, weight, kwargs in MIX]
        endpoints = [e for e in endpoints if not chosen or e[0] in chosen]
        if not any(e[0] == "/image_gan" for e in endpoints):
            sys.exit("the mix must include /image_gan: its single-user latency is the reference")
    else:
        known = default_endpoints()
        chosen = chosen or ([api for api, _, _ in known] if args.mode == "random" else ["/image_diffusion"])
        unknown = sorted(set(chosen) - {api for api, _, _ in known})
        if unknown:
            sys.exit(f"unknown or unavailable endpoint {', '.join(unknown)}; known: "
                     + ", ".join(api for api, _, _ in known))
        endpoints = [(api, 1, kwargs, streams) for api, kwargs, streams in known if api in chosen]
        if args.mode == "same":
            endpoints = [e for e in endpoints if e[0] == chosen[0]]
    rng = random.Random(args.seed)
    plan = {"mode": args.mode, "endpoints": endpoints, "grace": args.grace, "salt": rng.randrange(MAX_SEED + 1),
            "seed": rng.randrange(MAX_SEED + 1)}
    seconds = args.seconds if args.mode != "same" else 0.0

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    # --no-warmup: the app would otherwise load every model in the background, during the single-user reference;
    # the warm-up calls below load the models the bench uses.
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--max-queue", str(args.max_queue),
                             "--no-warmup", *(["--no-worker"] if args.no_worker else []),
                             *(["--ray", args.ray] if args.ray else []),
                             *(a for r in args.ray_replicas for a in ("--ray-replicas", r)),
                             *(["--ray-cpus", args.ray_cpus] if args.ray_cpus else [])],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        # download_files=False: latency is the time until the result is ready; gradio_client would otherwise fetch
        # each image in turn (0.85 s for 16 GAN images instead of 0.07 s), which a browser does in parallel.
        # ssl_verify=False: this is plain HTTP to 127.0.0.1, there is no certificate to check; with it on,
        # gradio_client builds a verifying SSL context (loads the CA bundle) for every HTTP call it makes: 35 ms of
        # client CPU per request, taken here from the server's own cores (a browser does nothing of the kind).
        warm = Client(url, verbose=False, download_files=False, ssl_verify=False)
        for api, _, kwargs, _ in endpoints:  # load every model once, so the load test measures serving, not loading
            warm.predict(seed=0, **kwargs, api_name=api)
        if args.mode == "mix":
            single = []
            for i in range(10):
                t = time.perf_counter()
                warm.predict(seed=i, **MIX[0][2], api_name="/image_gan")
                single.append(time.perf_counter() - t)
            single_p50 = statistics.median(single)
        else:  # seeds 1, 2, ...: never the class's own request, so a cache of results would not serve them
            alone = single_user(warm, endpoints, range(1, 100) if plan["seed"] >= 100 else range(100, 200))
        remote = replicas() if args.ray else []  # deployed by the warm-up calls above
        rss_start = rss_mb(proc.pid, remote)
        each_start = {p: own_rss_mb(p) for p in tree(proc.pid)}
        peak = [rss_start]
        stop = threading.Event()

        def watch_memory():
            while not stop.is_set():
                peak.append(rss_mb(proc.pid, remote))
                time.sleep(0.25)

        watcher = threading.Thread(target=watch_memory, daemon=True)
        watcher.start()
        # The students run in several client processes: 30 gradio_client threads in one Python process wait for
        # its GIL, and that wait would be counted as the server's latency.
        groups = [list(range(args.users))[i :: args.client_processes] for i in range(args.client_processes)]
        groups = [g for g in groups if g]
        records: list[dict] = []
        start_at = time.time() + 20 + 3 * len(groups)  # after every client process has started and connected
        cpu_before = {p: cpu_seconds(p) for p in tree(proc.pid) + remote}
        if args.profile:  # from just before the first click to the end of the grace period (same) or the minute
            threading.Timer(max(0.0, start_at - time.time() - 1), subprocess.Popen, [[
                "py-spy", "record", "--pid", str(proc.pid), "--rate", "200" if args.mode == "same" else "20",
                "--format", "raw", "--nonblocking", "--threads", "--subprocesses",
                "--duration", str(int(seconds + (5 if args.mode == "same" else 10))), "--output", args.profile]],
                {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}).start()
        with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context("spawn")) as pool:
            for part in pool.map(run_students, [url] * len(groups), groups, [start_at] * len(groups),
                                 [seconds] * len(groups), [plan] * len(groups), [args.cold_clients] * len(groups)):
                records += part
        stop.set()
        if args.records:
            Path(args.records).write_text(json.dumps({"first_click": start_at, "records": records}))
        elapsed = time.time() - start_at
        server_cpu = cpu_seconds(proc.pid) - cpu_before[proc.pid]
        others_cpu = sum(cpu_seconds(p) - cpu_before.get(p, 0.0) for p in tree(proc.pid)[1:] + remote)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the client processes, which have ended
        clients_cpu = usage.ru_utime + usage.ru_stime
        rss_end = rss_mb(proc.pid, remote)
        each_end = {p: own_rss_mb(p) for p in tree(proc.pid)}

        where = f"slow models {'in the server' if args.no_worker else 'in a worker process'}"
        if args.ray:
            where = (f"slow models on the Ray cluster at {args.ray} ({len(remote)} Serve replicas on this machine, "
                     f"counted as the worker below)")
        clients = f"{'cold' if args.cold_clients else 'warm'} clients"
        if args.mode == "mix":
            print(f"\n{args.users} users for {args.seconds:.0f} s (all done after {elapsed:.0f} s), queue max size "
                  f"{args.max_queue}; {clients}; {where}; single-user GAN (16 images) p50 {single_p50 * 1000:.0f} ms")
            report_mix(records, endpoints, single_p50)
        elif args.mode == "random":
            print(f"\n{args.users} students for {args.seconds:.0f} s, every tab at default settings, a random seed "
                  f"each request (all done after {elapsed:.0f} s; each waited until {args.grace:.0f} s after the end "
                  f"at most), queue max size {args.max_queue}; {clients}; {where}")
            report_random(records, endpoints, alone, args.seconds, args.grace)
        else:
            api, _, kwargs, _ = endpoints[0]
            settings = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            print(f"\n{args.users} students press Generate at the same moment, the same request: {api} seed "
                  f"{plan['seed']}, {settings} (all done after {elapsed:.0f} s; each waited {args.grace:.0f} s at "
                  f"most), queue max size {args.max_queue}; {clients}; {where}")
            report_same(records, api, alone, args.grace, args.users)
        print(f"server memory (with its workers): {rss_start:.0f} MB after warm-up, peak {max(peak):.0f} MB, "
              f"end {rss_end:.0f} MB (growth {rss_end - rss_start:+.0f} MB, peak {max(peak) - rss_start:+.0f} MB)")
        print("growth by process: " + ", ".join(
            f"{'server' if p == proc.pid else f'worker {p}'} {each_end[p] - each_start.get(p, 0.0):+.0f} MB "
            f"(of {each_end[p]:.0f})" for p in each_end))
        print(f"CPU used during the run: server {server_cpu:.0f} s, its worker {others_cpu:.0f} s, the clients "
              f"{clients_cpu:.0f} s, of {elapsed * (os.cpu_count() or 1):.0f} s on {os.cpu_count()} cores")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


if __name__ == "__main__":
    main()
