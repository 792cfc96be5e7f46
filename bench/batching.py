"""Throughput against batch size for every batched model: N requests at once against the same N one after another.

    python bench/batching.py [--sizes 1,2,4,8,16] [--repeats 3] [--models text/shakespeare,audio/chorale,...]
                             [--transformers-step] [--forward]

For each batched model of the registry (``adapter.shares_steps``: the Shakespeare GPT, the chorale GPT, the
PixelCNN, and an operator's hub text model when ``$GENAI_TEXT_MODEL`` names one) and each N, sends N requests with
different seeds, all at once from N threads (they share the model's steps, ``genai_demo/batching.py``), and the
same N one after another. Prints the wall time of each (the median of ``--repeats``), requests per second, the
speed-up of running them together, the wall time of a batched step when they run together (ms/step: the step's
network pass, the sampling of each request and the batcher's bookkeeping), and the mean number of requests per
batched step. Also checks that every request's output is the same either way. In-process, shipped weights;
``GENAI_THREADS`` applies.

``--transformers-step`` runs the text and chorale GPTs' one-token steps through transformers' forward instead of
the lean step (``genai_demo/models/lean_decode.py``), to compare. ``--forward`` adds a table of one decode step
alone (``SlotDecoder.compute`` for N sequences advancing one token), lean and transformers alternately in the same
run, the median of 60 steps each.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: genai_demo from this checkout

REQUESTS = {  # a typical classroom request of each model (seeds are added per request)
    "text/shakespeare": dict(max_new_tokens=100),
    "text/hf": dict(max_new_tokens=40),
    "audio/chorale": dict(num_bars=4),
    "image/autoregressive": dict(num_images=4),  # the comparison's size; 16 (the default) fills a chunk alone
}


def fingerprint(result) -> str:
    h = hashlib.sha256()
    for im in result.images:
        h.update(im.tobytes())
    h.update((result.text or "").encode())
    if result.audio is not None:
        h.update(result.audio[1].tobytes())
    return h.hexdigest()


def at_once(adapter, requests: list[dict]) -> list:
    out = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def one(i):
        start.wait()
        out[i] = adapter.generate(**requests[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,2,4,8,16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", help="comma-separated model ids (default: every batched model available)")
    parser.add_argument("--num-images", type=int, help="the PixelCNN's images per request (default 4)")
    parser.add_argument("--transformers-step", action="store_true",
                        help="the GPTs' one-token steps through transformers' forward, not the lean step")
    parser.add_argument("--forward", action="store_true", help="also time one decode step, lean and transformers")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from genai_demo.models.charlm import SlotDecoder
    from genai_demo.registry import Registry

    SlotDecoder.lean = not args.transformers_step

    registry = Registry(text_model=os.environ.get("GENAI_TEXT_MODEL") or None)
    chosen = args.models.split(",") if args.models else None
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.num_images:
        REQUESTS["image/autoregressive"] = dict(num_images=args.num_images)
    import torch

    print(f"torch {torch.__version__}, {os.cpu_count()} cores; each figure the median of {args.repeats} runs")
    print(f"one-token steps of the GPTs: {'transformers forward' if args.transformers_step else 'lean step'}")
    header = (f"{'model':<22} {'N':>3} {'together':>9} {'one by one':>10} {'req/s':>7} {'req/s':>7} {'speed-up':>8} "
              f"{'ms/step':>7} {'rows/step':>9} {'same':>5}\n"
              f"{'':<22} {'':>3} {'(s)':>9} {'(s)':>10} {'together':>7} {'alone':>7}")
    print(header + "\n" + "-" * len(header.splitlines()[0]))
    forward_rows = []
    for adapter in registry:
        if not adapter.shares_steps or (chosen and adapter.id not in chosen) or adapter.id not in REQUESTS:
            continue
        if adapter.unavailable_reason():
            print(f"{adapter.id:<22} unavailable: {adapter.unavailable_reason()[:80]}")
            continue
        adapter.generate(seed=0, **REQUESTS[adapter.id])  # load and warm up
        for n in sizes:
            requests = [dict(REQUESTS[adapter.id], seed=1000 + i) for i in range(n)]
            together, alone, stats, per_step = [], [], [], []
            same = True
            for _ in range(args.repeats):
                batchers = _batchers(adapter)
                before = [(b.steps, b.rows_stepped) for b in batchers]
                t = time.perf_counter()
                batched = at_once(adapter, requests)
                together.append(time.perf_counter() - t)
                batchers = _batchers(adapter)
                steps = sum(b.steps for b in batchers) - sum(s for s, _ in before)
                rows = sum(b.rows_stepped for b in batchers) - sum(r for _, r in before)
                stats.append(rows / max(1, steps))
                per_step.append(together[-1] / max(1, steps))
                t = time.perf_counter()
                single = [adapter.generate(**r) for r in requests]
                alone.append(time.perf_counter() - t)
                same &= [fingerprint(r) for r in batched] == [fingerprint(r) for r in single]
            tt, ta = statistics.median(together), statistics.median(alone)
            print(f"{adapter.id:<22} {n:>3} {tt:>9.2f} {ta:>10.2f} {n / tt:>7.2f} {n / ta:>7.2f} {ta / tt:>7.1f}x "
                  f"{statistics.median(per_step) * 1000:>7.2f} {statistics.median(stats):>9.1f} "
                  f"{'yes' if same else 'NO':>5}", flush=True)
        if args.forward and adapter.id in ("text/shakespeare", "audio/chorale"):
            forward_rows += [(adapter.id, n, *forward_times(adapter, n)) for n in sizes]
    if forward_rows:
        print(f"\none decode step alone (SlotDecoder.compute, N sequences, chunks of 8), median of {FORWARD_STEPS}\n"
              f"{'model':<22} {'N':>3} {'transformers':>12} {'lean':>8} {'ratio':>6}\n{'':<22} {'':>3} {'(ms)':>12} "
              f"{'(ms)':>8}\n" + "-" * 55)
        for model_id, n, plain, lean in forward_rows:
            print(f"{model_id:<22} {n:>3} {plain * 1000:>12.2f} {lean * 1000:>8.2f} {lean / plain:>6.2f}")


FORWARD_STEPS = 60


def forward_times(adapter, n: int) -> tuple[float, float]:
    """The median time of one decode step for ``n`` sequences (transformers' forward, the lean step), measured
    alternately: a step of each, ``FORWARD_STEPS`` times."""
    from genai_demo.models.charlm import NextToken, Prefill, SlotDecoder, context_length

    loaded = adapter.load()
    model = getattr(loaded, "model", loaded)
    engines = [SlotDecoder(model, 8, context_length(model), lean=lean) for lean in (False, True)]
    requests = [object() for _ in range(n)]
    for engine in engines:
        engine.compute([(r, Prefill([1, 2, 3])) for r in requests])
    times = ([], [])
    for _ in range(FORWARD_STEPS):
        for engine, spent in zip(engines, times):
            t = time.perf_counter()
            engine.compute([(r, NextToken(1)) for r in requests])
            spent.append(time.perf_counter() - t)
    return statistics.median(times[0]), statistics.median(times[1])


def _batchers(adapter) -> list:
    from genai_demo.batching import batchers

    return batchers(adapter.load())


if __name__ == "__main__":
    main()
