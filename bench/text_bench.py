"""The text model's figures: validation loss, decoding speed with and without the attention cache, first-token latency.

    python bench/text_bench.py [--data-dir ../shared/data] [--runs 5] [--latency-runs 15] [--write-card]

1. Validation loss of the shipped ``text/shakespeare`` on the held-out last 10% of Tiny Shakespeare, in nats per
   character (nanoGPT's measure: non-overlapping windows of the full 256-character context, every position counted).
2. Tokens per second of the same sampling loop with the attention cache and recomputing the whole context at every
   step, same model, same prompt, same seed, in the same run (median of ``--runs``): inside one context (249 new
   characters after a 7-character prompt) and past it (1,000, where the window slides).
3. Time to the first streamed token: ``python app.py`` is launched on a free port, one call warms it, then each run
   submits ``/text_shakespeare`` through gradio_client and times until the first partial text arrives (median).

``--write-card`` saves the figures to ``weights/text-shakespeare/scores.json`` and rewrites its model card.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.startup import free_port  # noqa: E402


def validation_loss(adapter, data_dir) -> tuple[float, int]:
    import torch

    from genai_demo.data.shakespeare import load_shakespeare, split
    from genai_demo.models.charlm import context_length, nats_per_char

    lm = adapter.load()
    _, val_text = split(load_shakespeare(data_dir))
    ids = torch.tensor(lm.tokenizer(val_text, verbose=False)["input_ids"])
    return nats_per_char(lm.model, ids, len(val_text), context_length(lm.model)), len(val_text)


def decode_speed(adapter, new_tokens: int, use_cache: bool, runs: int) -> float:
    import torch

    from genai_demo.models.charlm import generate_stream

    lm = adapter.load()
    prompt = lm.tokenizer("ROMEO:\n")["input_ids"]
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        n = sum(1 for _ in generate_stream(lm.model, prompt, torch.Generator().manual_seed(0),
                                           max_new_tokens=new_tokens, temperature=0.8, use_cache=use_cache))
        rates.append(n / (time.perf_counter() - started))
    return statistics.median(rates)


def first_token_latency(runs: int) -> tuple[float, list[float]]:
    from gradio_client import Client

    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        deadline = time.time() + 120
        while True:  # until the page answers
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.2)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict(prompt="ROMEO:\n", max_new_tokens=20, api_name="/text_shakespeare")  # loaded and warm
        times = []
        for seed in range(runs):
            started = time.perf_counter()
            job = client.submit(prompt="ROMEO:\n", max_new_tokens=300, seed=seed, api_name="/text_shakespeare")
            for _ in job:  # the first partial output
                times.append(time.perf_counter() - started)
                break
            job.result()  # let it finish, so runs do not overlap
        return statistics.median(times), times
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="folder with tinyshakespeare.txt (default: $GENAI_SHAKESPEARE_DIR or "
                                           "../shared/data)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency-runs", type=int, default=15)
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()

    import torch

    from genai_demo.registry import Registry
    from genai_demo.runtime import configure_torch

    configure_torch()
    adapter = Registry().get("text/shakespeare")
    loss, chars = validation_loss(adapter, args.data_dir)
    print(f"validation loss: {loss:.4f} nats/char ({loss / 0.693147:.4f} bits/char) on the last {chars:,} characters")

    speed = {}
    print(f"\n{'new tokens':>10} {'with cache (tok/s)':>19} {'recomputing (tok/s)':>20} {'speed-up':>9}")
    for n in (249, 1000):
        cached = decode_speed(adapter, n, True, args.runs)
        full = decode_speed(adapter, n, False, args.runs)
        speed[n] = (cached, full)
        print(f"{n:>10} {cached:>19.0f} {full:>20.0f} {cached / full:>8.1f}x")

    latency, times = first_token_latency(args.latency_runs)
    print(f"\nfirst streamed token through the app: median {latency * 1000:.0f} ms over {len(times)} runs "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
    print(f"(torch {torch.__version__}, {torch.get_num_threads()} threads)")

    if args.write_card:
        from genai_demo.train.charlm import write_card
        from genai_demo.train.common import write_scores

        figures = {
            "validation loss (held-out last 10%, nats/char)": round(loss, 4),
            "tokens/s with the attention cache, 249 new characters": round(speed[249][0]),
            "tokens/s recomputing the context, 249 new characters": round(speed[249][1]),
            "cache speed-up, 249 / 1,000 new characters": f"{speed[249][0] / speed[249][1]:.1f}x / "
                                                           f"{speed[1000][0] / speed[1000][1]:.1f}x",
            "first streamed token through the app (median)": f"{latency * 1000:.0f} ms",
        }
        write_scores(adapter.weights_dir, "python bench/text_bench.py --write-card", figures,
                     threads=torch.get_num_threads())
        write_card(adapter.weights_dir)
        print(f"wrote {adapter.weights_dir / 'scores.json'} and the model card")


if __name__ == "__main__":
    main()
