"""Classroom load: 30 students clicking Generate at once, for a minute, against one app on 127.0.0.1.

    python bench/load.py [--users 30] [--seconds 60] [--max-queue 64] [--client-processes 6]
                         [--endpoints /image_gan,/image_vae] [--no-worker] [--cold-clients]

Launches ``python app.py`` on a free loopback port (``GENAI_THREADS`` passes through), loads the models the mix uses,
measures a single user's GAN latency, then runs ``--users`` concurrent gradio_client users, spread over
``--client-processes`` processes, who all click at the same moment and go on for ``--seconds`` (bounded: no new
request starts after that, and each waits at most 120 s), mixing every tab the way a class would (mostly the fast
GAN and VAE, some diffusion, PixelCNN, Shakespeare text and chorales, a few comparisons), each looking at a result
for 0.2-1 s before clicking again. Prints per endpoint: requests, failures, p50 and p95 latency; the GAN's p95 as a
multiple of its single-user latency, for the whole run and split into the first second and after; its slowest
requests; the resident memory of the server and its worker process after warm-up, at its peak and at the end; the
CPU time the server, its worker and the clients used.
Only loopback traffic; it stops by itself.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the app and its worker for the slow models)."""
    total = 0.0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:  # it ended while we looked
            pass
    return total


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


def run_students(url: str, ids: list[int], start_at: float, seconds: float, mix: list, cold: bool) -> tuple[dict, dict]:
    """Students ``ids`` in threads of this process, who all click first at ``start_at`` (wall-clock time, the same
    in every client process) and go on for ``seconds``: per endpoint, each request's (start in seconds from the
    first click, latency), and the failures.

    Unless ``cold``, each student's client first makes one small request before the clock starts, as a browser
    has loaded the page and run its start-up events before anyone clicks: a fresh gradio_client's first request
    costs the server about twice the CPU of the next ones (55-60 ms instead of 30 for 16 GAN images).
    """
    from gradio_client import Client

    latencies: dict[str, list[tuple[float, float]]] = defaultdict(list)
    failures: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    clients = {n: Client(url, verbose=False, download_files=False, ssl_verify=False) for n in ids}
    if not cold:
        for c in clients.values():
            c.predict(seed=0, num_images=1, label="any", truncation=1.0, api_name="/image_gan")
    if time.time() > start_at:
        print(f"warning: students {ids} were ready {time.time() - start_at:.1f} s after the first click", flush=True)
    time.sleep(max(0.0, start_at - time.time()))
    end_at = start_at + seconds

    def student(n: int):
        rng = random.Random(n)
        client = clients[n]
        while time.time() < end_at:
            api, _, kwargs = rng.choices(mix, weights=[m[1] for m in mix])[0]
            t, start = time.perf_counter(), time.time()
            try:
                job = client.submit(seed=rng.randrange(10**6), **kwargs, api_name=api)
                job.result(timeout=120)
                with lock:
                    latencies[api].append((start - (end_at - seconds), time.perf_counter() - t))
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                with lock:
                    failures[api].append(f"{type(e).__name__}: {str(e)[:120]}")
            time.sleep(rng.uniform(0.2, 1.0))  # a student looks at the result before clicking again

    threads = [threading.Thread(target=student, args=(n,)) for n in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=end_at - time.time() + 240)
    return dict(latencies), dict(failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-queue", type=int, default=64)
    parser.add_argument("--client-processes", type=int, default=6, help="client processes the users are spread "
                                                                       "over (default 6, 5 users each)")
    parser.add_argument("--cold-clients", action="store_true",
                        help="start the clock right after connecting, before each client's first request")
    parser.add_argument("--no-worker", action="store_true", help="start the app with --no-worker: the slow models "
                                                                  "in the server's own process, for comparison")
    parser.add_argument("--endpoints", help="comma-separated endpoints to mix (default: all of them), e.g. "
                                            "/image_gan,/image_vae to see the fast models' latency alone")
    args = parser.parse_args()
    from gradio_client import Client

    mix = [m for m in MIX if not args.endpoints or m[0] in args.endpoints.split(",")]
    if not any(m[0] == "/image_gan" for m in mix):
        sys.exit("the mix must include /image_gan: its single-user latency is the reference")

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    # --no-warmup: the app would otherwise load every model in the background, during the single-user reference;
    # the warm-up calls below load the models the mix uses.
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--max-queue", str(args.max_queue),
                             "--no-warmup", *(["--no-worker"] if args.no_worker else [])],
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
        for api, _, kwargs in mix:  # load every model once, so the load test measures serving, not loading
            warm.predict(seed=0, **kwargs, api_name=api)
        single = []
        for i in range(10):
            t = time.perf_counter()
            warm.predict(seed=i, **MIX[0][2], api_name="/image_gan")
            single.append(time.perf_counter() - t)
        single_p50 = statistics.median(single)
        rss_start = rss_mb(proc.pid)
        peak = [rss_start]
        stop = threading.Event()

        def watch_memory():
            while not stop.is_set():
                peak.append(rss_mb(proc.pid))
                time.sleep(0.25)

        watcher = threading.Thread(target=watch_memory, daemon=True)
        watcher.start()
        # The students run in several client processes: 30 gradio_client threads in one Python process wait for
        # its GIL, and that wait would be counted as the server's latency.
        groups = [list(range(args.users))[i :: args.client_processes] for i in range(args.client_processes)]
        timed: dict[str, list[tuple[float, float]]] = defaultdict(list)  # per endpoint: (latency, sent at)
        failures: dict[str, list[str]] = defaultdict(list)
        start_at = time.time() + 20 + 3 * len(groups)  # after every client process has started and connected
        cpu_before = {p: cpu_seconds(p) for p in tree(proc.pid)}
        with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context("spawn")) as pool:
            for lat, fail in pool.map(run_students, [url] * len(groups), groups, [start_at] * len(groups),
                                      [args.seconds] * len(groups),
                                      [mix] * len(groups), [args.cold_clients] * len(groups)):
                for api, values in lat.items():
                    timed[api] += [(latency, start) for start, latency in values]
                for api, values in fail.items():
                    failures[api] += values
        stop.set()
        elapsed = time.time() - start_at
        server_cpu = cpu_seconds(proc.pid) - cpu_before[proc.pid]
        others_cpu = sum(cpu_seconds(p) - cpu_before.get(p, 0.0) for p in tree(proc.pid)[1:])
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the client processes, which have ended
        clients_cpu = usage.ru_utime + usage.ru_stime
        rss_end = rss_mb(proc.pid)
        latencies = {api: [latency for latency, _ in values] for api, values in timed.items()}

        print(f"\n{args.users} users for {args.seconds:.0f} s (all done after {elapsed:.0f} s), queue max size "
              f"{args.max_queue}; {'cold' if args.cold_clients else 'warm'} clients; slow models "
              f"{'in the server' if args.no_worker else 'in a worker process'}; "
              f"single-user GAN (16 images) p50 {single_p50 * 1000:.0f} ms")
        header = f"{'endpoint':<22} {'requests':>8} {'failed':>6} {'p50 (s)':>8} {'p95 (s)':>8}"
        print(header + "\n" + "-" * len(header))
        for api, _, _ in mix:
            lat = latencies.get(api, [])
            p50 = statistics.median(lat) if lat else float("nan")
            p95 = percentile(lat, 0.95) if lat else float("nan")
            print(f"{api:<22} {len(lat) + len(failures[api]):>8} {len(failures[api]):>6} {p50:>8.2f} {p95:>8.2f}")
        gan = latencies.get("/image_gan", [])
        if gan:
            print(f"\nGAN p95 under load / single-user p50: {percentile(gan, 0.95) / single_p50:.1f}x")
            first = [lat for lat, at in timed["/image_gan"] if at < 1.0]
            later = [lat for lat, at in timed["/image_gan"] if at >= 1.0]
            if first and later:
                print(f"  sent in the first second (everyone clicks at once): {len(first)} requests, p95 "
                      f"{percentile(first, 0.95):.2f} s; sent later: {len(later)}, p95 {percentile(later, 0.95):.2f} s "
                      f"({percentile(later, 0.95) / single_p50:.1f}x)")
            slowest = sorted(timed["/image_gan"], reverse=True)[:5]
            print("GAN's slowest requests: " + ", ".join(f"{lat:.2f} s (sent at {at:.1f} s)" for lat, at in slowest))
        print(f"server memory (with its worker): {rss_start:.0f} MB after warm-up, peak {max(peak):.0f} MB, "
              f"end {rss_end:.0f} MB (growth {rss_end - rss_start:+.0f} MB, peak {max(peak) - rss_start:+.0f} MB)")
        print(f"CPU used during the run: server {server_cpu:.0f} s, its worker {others_cpu:.0f} s, the clients "
              f"{clients_cpu:.0f} s, of {elapsed * (os.cpu_count() or 1):.0f} s on {os.cpu_count()} cores")
        for api, errs in failures.items():
            for e in sorted(set(errs))[:3]:
                print(f"  {api} failure: {e}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
