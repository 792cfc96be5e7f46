"""Start-up: how soon the page is served, and how soon after that the first generation returns.

    python bench/startup.py [--runs 3]

Launches ``python app.py`` on a free 127.0.0.1 port several times and prints, per run and as medians:
seconds until the page answers HTTP 200, and seconds until a first ``/image_gan`` call (64 images) returns
(the model is warmed up in the background after the page is served).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run() -> tuple[float, float, float]:
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                if time.perf_counter() - started > 120:
                    raise TimeoutError("the page did not come up in 120 s")
                time.sleep(0.05)
        page = time.perf_counter() - started
        client = Client(url, verbose=False, download_files=False)
        t = time.perf_counter()
        client.predict(seed=0, num_images=64, label="any", truncation=1.0, api_name="/image_gan")
        first = time.perf_counter() - started
        t = time.perf_counter()
        client.predict(seed=1, num_images=64, label="any", truncation=1.0, api_name="/image_gan")
        warm = time.perf_counter() - t
        return page, first, warm
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = [one_run() for _ in range(args.runs)]
    print(f"{'run':>3} {'page served (s)':>16} {'first 64 GAN images (s)':>24} {'next call, round trip (s)':>26}")
    for i, (page, first, warm) in enumerate(rows):
        print(f"{i:>3} {page:>16.2f} {first:>24.2f} {warm:>26.3f}")
    med = [statistics.median(c) for c in zip(*rows)]
    print(f"{'med':>3} {med[0]:>16.2f} {med[1]:>24.2f} {med[2]:>26.3f}")


if __name__ == "__main__":
    main()
