"""The GAN lab's and the quiz's targets (issue 16), each a table.

    python bench/lab_bench.py coverage [--seeds 3] [--seconds 30]
    python bench/lab_bench.py load [--visitors 5] [--requests 20] [--rounds 3]
    python bench/lab_bench.py quiz [--families image/gan,image/vae,...]

- ``coverage``: the lab on the ring of 8 Gaussians, trained exactly as one visitor's Train does it (the shared compute
  slot included, ``genai_demo.lab_sessions``), for ``--seconds`` of wall time at the default settings and with the
  mode-collapse preset, one run per seed. Prints, per run, the steps reached and the modes covered at 10, 20 and 30 s
  (a mode is covered when at least 5% of 1,000 generated points lie within 2 standard deviations of its centre),
  and the first pictured step (every 50th, at most four a second) with 6 or more: the machine's own load changes how
  many steps 30 s buy, not how many steps the ring needs.
  Target: the defaults cover at least 6 of 8 within 30 s; the preset at most 2.
- ``load``: launches ``python app.py`` on a free loopback port, measures the GAN tab's latency (``/image_gan`` at its
  default settings, a fresh seed each time: no cache) alone and while ``--visitors`` gradio_client visitors train in
  the lab at once (each Reset, then Train), in ``--rounds`` alternating windows of ``--requests`` requests (the
  machine's other load drifts: both sides see it). Prints p50 and p95 both ways and their ratio, in the same run.
  Target: p95 with 5 visitors training within 3x the single-user p95.
- ``quiz``: launches the app and plays ten rounds through the API per family (start, then answer and next ten
  times), timing the whole quiz. Target: ten rounds in under a minute at the default settings (the GAN).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: genai_demo from this checkout
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app and the other benchmarks


def coverage(seeds: int, seconds: float) -> None:
    from genai_demo import lab
    from genai_demo.lab_sessions import LabSession
    from genai_demo.runtime import configure_torch

    configure_torch()
    collapse = next(p for p in lab.PRESETS if p.name == "collapse").values
    print(f"| settings | seed | steps in {seconds:.0f} s | modes at 10 s | at 20 s | at {seconds:.0f} s (of 8) | "
          f"first step with 6 or more |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    finals = {"defaults": [], "mode collapse": []}
    for name, values in (("defaults", {}), ("mode collapse", collapse)):
        for seed in range(seeds):
            session = LabSession(budget=seconds)
            marks, last, six = {}, None, None
            start = time.monotonic()
            for frame in session.play({**values, "seed": seed}):
                last = frame
                if six is None and (frame.modes_covered or 0) >= 6:
                    six = frame.step
                for mark in (10, 20):
                    if mark not in marks and time.monotonic() - start >= mark:
                        marks[mark] = frame.modes_covered
            covered = session.run.coverage()
            finals[name].append(covered)
            print(f"| {name} | {seed} | {last.step:,} | {marks.get(10, '-')} | {marks.get(20, '-')} | {covered} | "
                  f"{six if six is not None else '-'} |", flush=True)
    for name, values in finals.items():
        print(f"{name}: modes covered within {seconds:.0f} s: {values} (min {min(values)}, median "
              f"{statistics.median(values)})")


def launch() -> tuple[subprocess.Popen, str]:
    from bench.load import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--no-warmup"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return proc, url
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the app did not start")
            time.sleep(0.5)


def client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, ssl_verify=False)


def gan_latencies(c, n: int, first_seed: int) -> list[float]:
    times = []
    for i in range(n):
        t = time.perf_counter()
        c.predict(seed=first_seed + i, num_images=16, label="any", truncation=1.0, api_name="/image_gan")
        times.append(time.perf_counter() - t)
    return times


def load(visitors: int, requests: int, rounds: int) -> None:
    """Alternating windows, alone then with the visitors training, ``rounds`` times: the machine's own load drifts
    (other jobs), so both sides see the same drift."""
    from bench.load import percentile
    from genai_demo import lab

    proc, url = launch()
    training, stop = threading.Event(), threading.Event()
    steps: list[int] = []
    alone, busy = [], []
    try:
        c = client(url)
        gan_latencies(c, 3, 10_000)  # load the GAN
        settings = {p.name: p.default for p in lab.PARAMS}

        def visitor(v: int) -> None:
            me = client(url)
            while not stop.is_set():
                if not training.wait(0.2):
                    continue
                values = [{**settings, "seed": v}[p.name] for p in lab.PARAMS]  # by position: not listed in the API
                me.predict(*values, api_name="/lab_reset")
                job = me.submit(*values, api_name="/lab_train")
                while not job.done() and training.is_set():
                    time.sleep(0.1)
                me.predict(api_name="/lab_pause")
                steps.append(job.result(timeout=120)[2]["step"])

        threads = [threading.Thread(target=visitor, args=(v,), daemon=True) for v in range(visitors)]
        for th in threads:
            th.start()
        for r in range(rounds):
            alone += gan_latencies(c, requests, 20_000 + 1000 * r)
            training.set()
            time.sleep(5)  # every visitor training
            busy += gan_latencies(c, requests, 30_000 + 1000 * r)
            training.clear()
            time.sleep(3)  # every run paused
        stop.set()
        for th in threads:
            th.join(120)
    finally:
        proc.terminate()
        proc.wait(30)
    p95_alone, p95_busy = percentile(alone, 0.95), percentile(busy, 0.95)
    print(f"| /image_gan, {len(alone)} requests each way | p50 | p95 |")
    print("| --- | --- | --- |")
    print(f"| alone | {statistics.median(alone) * 1000:.0f} ms | {p95_alone * 1000:.0f} ms |")
    print(f"| {visitors} visitors training in the lab | {statistics.median(busy) * 1000:.0f} ms | "
          f"{p95_busy * 1000:.0f} ms |")
    print(f"p95 with {visitors} training / alone: {p95_busy / p95_alone:.2f}x, p50: "
          f"{statistics.median(busy) / statistics.median(alone):.2f}x (target: p95 at most 3x); steps each run "
          f"reached per window: {sorted(steps)}")


def quiz(families: list[str]) -> None:
    proc, url = launch()
    rows = []
    try:
        for family in families:
            c = client(url)
            t = time.perf_counter()
            c.predict(1, family, api_name="/quiz_start")  # seed, family: by position (not listed in the API)
            started = time.perf_counter() - t
            for n in range(1, 11):
                c.predict(n, 1, api_name="/quiz_answer")
                if n < 10:
                    c.predict(api_name="/quiz_next")
            rows.append((family, started, time.perf_counter() - t))
    finally:
        proc.terminate()
        proc.wait(30)
    print("| family | first round shown | ten rounds (start, 10 answers, 9 next) |")
    print("| --- | --- | --- |")
    for family, started, total in rows:
        print(f"| {family} | {started:.1f} s | {total:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("coverage", "load", "quiz"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--visitors", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="load: GAN requests per window")
    parser.add_argument("--rounds", type=int, default=3, help="load: windows alone and with visitors training")
    parser.add_argument("--families", default="image/gan,image/vae,image/diffusion,image/autoregressive")
    args = parser.parse_args()
    if args.what == "coverage":
        coverage(args.seeds, args.seconds)
    elif args.what == "load":
        load(args.visitors, args.requests, args.rounds)
    else:
        quiz(args.families.split(","))


if __name__ == "__main__":
    main()
